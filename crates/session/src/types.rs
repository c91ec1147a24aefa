//! Executing DDL on user-defined (enum) types inside a transaction:
//! `CREATE TYPE ... AS ENUM`, `ALTER TYPE ... ADD VALUE / RENAME VALUE /
//! RENAME TO` and `DROP TYPE`. Like all DDL here they edit the
//! transaction's copy of the catalog, so they commit or roll back with
//! it and are persisted with the catalog.
//!
//! Labels are added with PostgreSQL's sort-order rules
//! (`freshet_common::enum_type::place_label`); when PostgreSQL would
//! renumber the labels, the stored values of the type change too, and
//! every table column of the type is rewritten in the same transaction.

use std::collections::BTreeMap;

use freshet_common::enum_type::{place_label, EnumLabel, EnumType, EnumTypeDef, NewSortOrder, Placement};
use freshet_common::{DataType, Datum, Error, Result, Row, SqlState, F32};
use freshet_sql::plan::{AlterEnumAction, AlterTableAction};

use crate::catalog::{CatalogState, RelKind, RelationDef, TypeDef};
use crate::session::Session;
use crate::txn::Txn;

/// `pg_type`'s OID, the class of comments on types.
pub const PG_TYPE_OID: u32 = 1247;

impl Session {
    /// `CREATE TYPE schema.name AS ENUM (labels)`.
    pub(crate) fn create_enum(&mut self, txn: &mut Txn, schema: String, name: String, labels: Vec<String>) -> Result<()> {
        let database = self.database.clone();
        crate::exec::ensure_temp_schema(txn, &database, &schema);
        let catalog = &txn.work.catalog;
        let taken_by_type = catalog.types_in(&database).any(|t| t.ty.schema() == schema && t.ty.name() == name);
        if taken_by_type || has_row_type(catalog.relation(&database, &schema, &name)) {
            return Err(Error::new(SqlState::DuplicateObject, format!("type \"{name}\" already exists")));
        }
        let catalog = txn.work.catalog_mut();
        // A name held by an automatically named array type goes to the new
        // type; the array type is renamed (PostgreSQL's moveArrayTypeName).
        if let Some(owner) = catalog
            .types
            .values()
            .find(|t| t.database == database && t.ty.schema() == schema && t.array_name == name)
            .map(|t| t.ty.oid())
        {
            let element = catalog.types.get(&owner).map(|t| t.ty.name().to_string()).unwrap_or_default();
            let moved = array_name(catalog, &database, &schema, &element)?;
            if let Some(t) = catalog.types.get_mut(&owner) {
                t.array_name = moved;
            }
        }
        let oid = catalog.allocate_oid();
        let array_oid = catalog.allocate_oid();
        let mut defs = Vec::with_capacity(labels.len());
        for (i, label) in labels.into_iter().enumerate() {
            if defs.iter().any(|l: &EnumLabel| l.label == label) {
                // What PostgreSQL's unique index on pg_enum reports.
                return Err(Error::new(
                    SqlState::UniqueViolation,
                    "duplicate key value violates unique constraint \"pg_enum_typid_label_index\"",
                )
                .with_detail(format!("Key (enumtypid, enumlabel)=({oid}, {label}) already exists.")));
            }
            defs.push(EnumLabel { oid: catalog.allocate_oid(), sort_order: (i + 1) as f32, label, uncommitted: false });
        }
        let ty = EnumType::new(EnumTypeDef { oid, array_oid, schema: schema.clone(), name: name.clone(), labels: defs })?;
        let array_name = array_name(catalog, &database, &schema, &name)?;
        catalog.types.insert(oid, TypeDef { database, ty, array_name });
        txn.structural = true;
        Ok(())
    }

    /// `ALTER TYPE` of the enum type `oid`.
    pub(crate) fn alter_enum(&mut self, txn: &mut Txn, oid: u32, action: AlterEnumAction) -> Result<()> {
        let def = txn
            .work
            .catalog
            .types
            .get(&oid)
            .cloned()
            .ok_or_else(|| Error::new(SqlState::UndefinedObject, format!("type with OID {oid} does not exist")))?;
        let mut new = def.ty.def().clone();
        match action {
            AlterEnumAction::AddValue { label, if_not_exists, neighbour } => {
                if new.labels.iter().any(|l| l.label == label) {
                    if if_not_exists {
                        return Ok(());
                    }
                    return Err(Error::new(SqlState::DuplicateObject, format!("enum label \"{label}\" already exists")));
                }
                let placement = match &neighbour {
                    None => Placement::Last,
                    Some((n, false)) => Placement::Before(n),
                    Some((n, true)) => Placement::After(n),
                };
                let at = match place_label(&new.labels, placement)? {
                    NewSortOrder::At(at) => at,
                    NewSortOrder::Renumbered { new_orders, at } => {
                        let renumbering: BTreeMap<F32, F32> = new
                            .labels
                            .iter()
                            .zip(&new_orders)
                            .map(|(l, o)| (F32(l.sort_order), F32(*o)))
                            .collect();
                        for (l, o) in new.labels.iter_mut().zip(new_orders) {
                            l.sort_order = o;
                        }
                        self.install_enum(txn, EnumType::new(new.clone())?);
                        renumber_stored_values(txn, oid, &renumbering)?;
                        at
                    }
                };
                let label_oid = txn.work.catalog_mut().allocate_oid();
                let position = new.labels.iter().position(|l| l.sort_order > at).unwrap_or(new.labels.len());
                // Usable once the transaction commits, even in a type it
                // created (PostgreSQL 15's rule; see EnumLabel::uncommitted).
                new.labels.insert(position, EnumLabel { oid: label_oid, sort_order: at, label, uncommitted: true });
            }
            AlterEnumAction::RenameValue { from, to } => {
                let Some(index) = new.labels.iter().position(|l| l.label == from) else {
                    return Err(Error::new(
                        SqlState::InvalidParameterValue,
                        format!("\"{from}\" is not an existing enum label"),
                    ));
                };
                if new.labels.iter().any(|l| l.label == to) {
                    return Err(Error::new(SqlState::DuplicateObject, format!("enum label \"{to}\" already exists")));
                }
                new.labels[index].label = to;
            }
            AlterEnumAction::Rename { new_name } => {
                let catalog = &txn.work.catalog;
                let taken = catalog.types_in(&def.database).any(|t| t.ty.schema() == new.schema && t.ty.name() == new_name);
                if taken || has_row_type(catalog.relation(&def.database, &new.schema, &new_name)) {
                    return Err(Error::new(SqlState::DuplicateObject, format!("type \"{new_name}\" already exists")));
                }
                let array = array_name(catalog, &def.database, &new.schema, &new_name)?;
                if let Some(t) = txn.work.catalog_mut().types.get_mut(&oid) {
                    t.array_name = array;
                }
                new.name = new_name;
            }
        }
        self.install_enum(txn, EnumType::new(new)?);
        Ok(())
    }

    /// Records a new definition of an enum type in the transaction's
    /// catalog and in every column of the type.
    fn install_enum(&self, txn: &mut Txn, ty: EnumType) {
        txn.work.catalog_mut().replace_enum(ty);
        txn.structural = true;
    }

    /// `DROP TYPE [IF EXISTS] name [, ...] [CASCADE]`.
    pub(crate) fn drop_types(
        &mut self,
        txn: &mut Txn,
        names: Vec<(Option<String>, String)>,
        if_exists: bool,
        cascade: bool,
    ) -> Result<()> {
        for (schema, name) in names {
            let found = {
                let catalog = crate::session::BindCatalog { state: &txn.work, session: self };
                freshet_sql::Catalog::user_type(&catalog, schema.as_deref(), &name)
            };
            let ty = match found {
                Some(DataType::Enum(t)) => t,
                Some(DataType::Array(elem)) => {
                    return Err(Error::new(
                        SqlState::DependentObjectsStillExist,
                        format!("cannot drop type {elem}[] because type {elem} requires it"),
                    )
                    .with_hint(format!("You can drop type {elem} instead.")))
                }
                _ => {
                    if let Ok(builtin) = freshet_sql::typing::named_type(&name, &[]) {
                        if schema.as_deref().is_none_or(|s| s == "pg_catalog") {
                            return Err(Error::new(
                                SqlState::DependentObjectsStillExist,
                                format!("cannot drop type {builtin} because it is required by the database system"),
                            ));
                        }
                    }
                    let relation = {
                        let catalog = crate::session::BindCatalog { state: &txn.work, session: self };
                        freshet_sql::Catalog::relation(&catalog, schema.as_deref(), &name)
                    };
                    if let Some(r) = relation.filter(|r| !matches!(r.kind, freshet_sql::RelationKind::Sequence)) {
                        let kind = match r.kind {
                            freshet_sql::RelationKind::View { .. } => "view",
                            freshet_sql::RelationKind::MaterializedView { .. } => "materialized view",
                            _ => "table",
                        };
                        return Err(Error::new(
                            SqlState::DependentObjectsStillExist,
                            format!("cannot drop type {name} because {kind} {name} requires it"),
                        )
                        .with_hint(format!("You can drop {kind} {name} instead.")));
                    }
                    if if_exists {
                        continue;
                    }
                    return Err(Error::new(SqlState::UndefinedObject, format!("type \"{name}\" does not exist")));
                }
            };
            self.drop_enum(txn, &ty, cascade)?;
        }
        Ok(())
    }

    /// Drops one enum type: refused (2BP01) while columns use it, unless
    /// `cascade`, which drops those columns (and the views showing them).
    fn drop_enum(&mut self, txn: &mut Txn, ty: &EnumType, cascade: bool) -> Result<()> {
        let users = txn.work.catalog.columns_using_type(&self.database, ty.oid());
        if !users.is_empty() {
            let catalog = &txn.work.catalog;
            if !cascade {
                let detail: Vec<String> = users
                    .iter()
                    .filter_map(|(rel, col)| {
                        let r = catalog.relations.get(rel)?;
                        let c = r.columns.get(*col)?;
                        Some(match r.kind {
                            RelKind::Table => format!("column {} of table {} depends on type {}", c.name, r.name, c.ty),
                            _ => format!("{} {} depends on type {}", relation_kind(&r.kind), r.name, ty.display_name()),
                        })
                    })
                    .collect();
                return Err(Error::new(
                    SqlState::DependentObjectsStillExist,
                    format!("cannot drop type {} because other objects depend on it", ty.display_name()),
                )
                .with_detail(detail.join("\n"))
                .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
            }
            // Views and materialized views showing a value of the type go
            // whole; table columns of the type go, and with them the
            // materialized views reading those tables that mention a
            // dropped column (a view's query is kept as text, so a
            // mention is the dependency we can see).
            let mut dropped_views = Vec::new();
            let mut dropped_columns: BTreeMap<u32, Vec<String>> = BTreeMap::new();
            for (rel, col) in &users {
                let Some(r) = catalog.relations.get(rel) else { continue };
                match r.kind {
                    RelKind::Table => {
                        if let Some(c) = r.columns.get(*col) {
                            dropped_columns.entry(r.oid).or_default().push(c.name.clone());
                        }
                    }
                    _ => dropped_views.push(r.oid),
                }
            }
            for v in catalog.relations_in(&self.database) {
                let (sql, reads) = match &v.kind {
                    RelKind::View { sql } => (sql, None),
                    RelKind::MaterializedView { sql, depends_on } => (sql, Some(depends_on)),
                    _ => continue,
                };
                let mentioned = freshet_sql::names::identifiers_in(sql);
                let affected = dropped_columns.iter().any(|(table, columns)| {
                    let reads_table = match reads {
                        Some(depends_on) => depends_on.contains(table),
                        None => catalog.relations.get(table).is_some_and(|t| mentioned.contains(&t.name)),
                    };
                    reads_table && columns.iter().any(|c| mentioned.contains(c))
                });
                if affected && !dropped_views.contains(&v.oid) {
                    dropped_views.push(v.oid);
                }
            }
            let catalog = txn.work.catalog_mut();
            for v in &dropped_views {
                catalog.relations.remove(v);
            }
            for (table, columns) in dropped_columns {
                for name in columns {
                    self.alter_table(txn, table, AlterTableAction::DropColumn { name, if_exists: true })?;
                }
            }
        }
        let catalog = txn.work.catalog_mut();
        catalog.types.remove(&ty.oid());
        catalog.comments.retain(|c| !(c.classoid == PG_TYPE_OID && c.objoid == ty.oid()));
        txn.structural = true;
        Ok(())
    }
}

/// Whether a relation has a row type of its name, which a type name
/// cannot share (tables, views, materialized views; not sequences or
/// indexes).
fn has_row_type(rel: Option<&RelationDef>) -> bool {
    rel.is_some_and(|r| !matches!(r.kind, RelKind::Sequence { .. }))
}

fn relation_kind(kind: &RelKind) -> &'static str {
    match kind {
        RelKind::Table => "table",
        RelKind::View { .. } => "view",
        RelKind::MaterializedView { .. } => "materialized view",
        RelKind::Sequence { .. } => "sequence",
    }
}

/// The name of the array type of the type `name` (see
/// [`CatalogState::array_type_name`]); 42710 when none fits.
fn array_name(catalog: &CatalogState, database: &str, schema: &str, name: &str) -> Result<String> {
    catalog.array_type_name(database, schema, name).ok_or_else(|| {
        Error::new(SqlState::DuplicateObject, format!("could not form array type name for type \"{name}\""))
    })
}

/// After a renumbering of the enum type `oid`'s sort orders, rewrites
/// every stored value of the type (in table columns of the type or of
/// arrays of it) to its new sort order.
fn renumber_stored_values(txn: &mut Txn, oid: u32, renumbering: &BTreeMap<F32, F32>) -> Result<()> {
    let mut by_table: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for r in txn.work.catalog.relations.values().filter(|r| matches!(r.kind, RelKind::Table)) {
        for (i, c) in r.columns.iter().enumerate() {
            if c.ty.uses_enum(oid) {
                by_table.entry(r.oid).or_default().push(i);
            }
        }
    }
    for (table, columns) in by_table {
        let rel = crate::exec::relation(&txn.work, table)?;
        let rows: Vec<(u64, Row)> = txn
            .work
            .table(table)
            .map(|t| t.rows.iter().map(|(id, row)| (*id, row.to_vec())).collect())
            .unwrap_or_default();
        let updates: Vec<(u64, Row)> = rows
            .into_iter()
            .filter_map(|(id, mut row)| {
                let before = row.clone();
                for c in &columns {
                    if let Some(d) = row.get_mut(*c) {
                        *d = renumber(std::mem::replace(d, Datum::Null), renumbering);
                    }
                }
                (row != before).then_some((id, row))
            })
            .collect();
        if !updates.is_empty() {
            crate::exec::rewrite_rows(txn, &rel, updates)?;
        }
    }
    Ok(())
}

/// A value of the renumbered type (or an array of them) with its new sort
/// order.
fn renumber(d: Datum, renumbering: &BTreeMap<F32, F32>) -> Datum {
    match d {
        Datum::Enum(order) => Datum::Enum(renumbering.get(&order).copied().unwrap_or(order)),
        Datum::Array(items) => Datum::Array(items.into_iter().map(|i| renumber(i, renumbering)).collect()),
        other => other,
    }
}

/// The first column of `rel` whose value in `row` is not a value of the
/// column's enum type (or array of it), if any: checks rows read back
/// from storage against the catalog.
pub(crate) fn misfit_enum_value<'a>(rel: &'a RelationDef, row: &[Datum]) -> Option<&'a str> {
    fn fits(d: &Datum, ty: &DataType) -> bool {
        match (d, ty) {
            (Datum::Null, _) => true,
            (Datum::Enum(order), DataType::Enum(t)) => t.label_of(*order).is_some(),
            (_, DataType::Enum(_)) => false,
            (Datum::Array(items), DataType::Array(e)) if e.as_enum().is_some() => items.iter().all(|i| fits(i, ty) || fits(i, e)),
            _ => true,
        }
    }
    rel.columns.iter().zip(row).find(|(c, d)| !fits(d, &c.ty)).map(|(c, _)| c.name.as_str())
}

/// 42710 when a relation with a row type (a table, view or materialized
/// view) would take the name of a type in `schema`: PostgreSQL creates a
/// row type of the relation's name.
pub(crate) fn check_row_type_name(catalog: &CatalogState, database: &str, schema: &str, name: &str) -> Result<()> {
    if catalog.type_name_taken(database, schema, name) {
        return Err(Error::new(SqlState::DuplicateObject, format!("type \"{name}\" already exists")).with_hint(
            "A relation has an associated type of the same name, so you must use a name that doesn't conflict with any existing type.",
        ));
    }
    Ok(())
}
