//! Enforcing CHECK and FOREIGN KEY constraints.
//!
//! CHECK constraints are bound once per statement ([`CheckSet`]) and
//! evaluated on every row stored. Foreign keys are verified from the
//! transaction's write log against its working state: immediate ones at the
//! end of each statement, deferrable-initially-deferred ones at COMMIT
//! (which is how Django declares them). ON DELETE CASCADE / SET NULL /
//! SET DEFAULT are applied while the parent rows are deleted.

use std::collections::{HashMap, HashSet};

use freshet_common::{Datum, Error, Result, Row, SqlState};
use freshet_expr::{EvalContext, ScalarExpr};
use freshet_sql::plan::ForeignKeyPlan;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::catalog::{FkAction, ForeignKeyDef, RelationDef};
use crate::session::{BindCatalog, Session};
use crate::state::{key_of, DbState};
use crate::txn::{Txn, Write};

/// The stored form of a foreign key created by `plan` on table `table`.
pub fn fk_def(oid: u32, plan: &ForeignKeyPlan, table: u32) -> ForeignKeyDef {
    ForeignKeyDef {
        oid,
        name: plan.name.clone().unwrap_or_else(|| format!("fkey_{oid}")),
        columns: plan.columns.clone(),
        ref_table: plan.ref_table.unwrap_or(table),
        ref_columns: plan.ref_columns.clone(),
        on_delete: plan.on_delete.into(),
        on_update: plan.on_update.into(),
        deferrable: plan.deferrable,
        initially_deferred: plan.initially_deferred,
    }
}

/// A table's generated columns and CHECK constraints, bound for one
/// statement.
pub struct CheckSet {
    checks: Vec<(String, ScalarExpr)>,
    /// (column, expression over the row) for each generated column.
    generated: Vec<(usize, ScalarExpr)>,
}

impl CheckSet {
    /// Binds `rel`'s generated columns and CHECK constraints over its row.
    pub fn bind(session: &Session, state: &DbState, rel: &RelationDef) -> Result<CheckSet> {
        let mut checks = Vec::new();
        let mut generated = Vec::new();
        if rel.checks.is_empty() && rel.columns.iter().all(|c| c.generated.is_none()) {
            return Ok(CheckSet { checks, generated });
        }
        let catalog = BindCatalog { state, session };
        let mut binder = freshet_sql::Binder::new(&catalog, vec![], session.settings.text_context());
        let info = rel.info();
        for (i, c) in info.columns.iter().enumerate() {
            if c.generated.is_some() {
                generated.push((i, binder.bind_generated(&info.columns, i)?));
            }
        }
        for c in &rel.checks {
            let expr = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(&c.expr)
                .and_then(|mut p| p.parse_expr())
                .map_err(|e| Error::internal(format!("stored CHECK constraint \"{}\" does not parse: {e}", c.name)))?;
            let bound = binder.bind_table_condition(&expr, &info)?;
            checks.push((c.name.clone(), bound));
        }
        Ok(CheckSet { checks, generated })
    }

    /// Computes the generated columns of `row` from its other columns.
    pub fn generate(&self, mut row: Row, ctx: &EvalContext<'_>) -> Result<Row> {
        for (i, expr) in &self.generated {
            let value = expr.eval(&row, ctx)?;
            if let Some(slot) = row.get_mut(*i) {
                *slot = value;
            }
        }
        Ok(row)
    }

    /// 23514 when `row` fails a check (a NULL result passes, as in SQL).
    pub fn check(&self, rel: &RelationDef, row: &[Datum], ctx: &EvalContext<'_>) -> Result<()> {
        for (name, expr) in &self.checks {
            if expr.eval(row, ctx)? == Datum::Bool(false) {
                return Err(Error::new(
                    SqlState::CheckViolation,
                    format!("new row for relation \"{}\" violates check constraint \"{name}\"", rel.name),
                )
                .with_detail(format!("Failing row contains ({}).", show_row(rel, row))));
            }
        }
        Ok(())
    }
}

fn show_row(rel: &RelationDef, row: &[Datum]) -> String {
    let ctx = freshet_common::io::TextContext::default();
    row.iter()
        .zip(&rel.columns)
        .map(|(d, c)| {
            if d.is_null() {
                "null".to_string()
            } else {
                let mut s = String::new();
                freshet_common::io::format_text(d, &c.ty, &ctx, &mut s);
                s
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_key(rel: &RelationDef, columns: &[usize], key: &[Datum]) -> (String, String) {
    let ctx = freshet_common::io::TextContext::default();
    let names: Vec<&str> = columns.iter().map(|c| rel.columns[*c].name.as_str()).collect();
    let values: Vec<String> = key
        .iter()
        .zip(columns)
        .map(|(d, c)| {
            let mut s = String::new();
            freshet_common::io::format_text(d, &rel.columns[*c].ty, &ctx, &mut s);
            s
        })
        .collect();
    (names.join(", "), values.join(", "))
}

/// Whether the parent table has a row whose `ref_columns` equal `key`.
fn parent_has(state: &DbState, parent: &RelationDef, ref_columns: &[usize], key: &[Datum]) -> bool {
    let constraints = parent.unique_constraints();
    let mut sorted_ref: Vec<usize> = ref_columns.to_vec();
    sorted_ref.sort_unstable();
    if let Some((k, c)) = constraints.iter().enumerate().find(|(_, c)| {
        if !c.is_plain() {
            return false;
        }
        let mut cols = c.columns.clone();
        cols.sort_unstable();
        cols == sorted_ref
    }) {
        // Key values in the index's column order.
        let ordered: Vec<Datum> = c
            .columns
            .iter()
            .map(|col| key[ref_columns.iter().position(|r| r == col).unwrap_or(0)].clone())
            .collect();
        return state.table(parent.oid).and_then(|t| t.keys.get(k)).is_some_and(|idx| idx.contains_key(&ordered));
    }
    state
        .table(parent.oid)
        .is_some_and(|t| t.rows.values().any(|r| key_of(r, ref_columns).as_deref() == Some(key)))
}

/// Checks every existing row of `rel` against a new foreign key.
pub fn validate_existing_fk(state: &DbState, rel: &RelationDef, fk: &ForeignKeyDef) -> Result<()> {
    let Some(parent) = state.catalog.relations.get(&fk.ref_table) else {
        return Err(Error::undefined_table(&fk.ref_table.to_string()));
    };
    if let Some(data) = state.table(rel.oid) {
        for row in data.rows.values() {
            if let Some(key) = key_of(row, &fk.columns) {
                if !parent_has(state, parent, &fk.ref_columns, &key) {
                    let (cols, vals) = show_key(rel, &fk.columns, &key);
                    return Err(Error::new(
                        SqlState::ForeignKeyViolation,
                        format!("insert or update on table \"{}\" violates foreign key constraint \"{}\"", rel.name, fk.name),
                    )
                    .with_detail(format!("Key ({cols})=({vals}) is not present in table \"{}\".", parent.name)));
                }
            }
        }
    }
    Ok(())
}

/// Verifies the foreign keys touched by `writes` in `state`. With
/// `deferred`, deferred constraints are checked too (COMMIT).
pub fn verify_foreign_keys(state: &DbState, writes: &[Write], deferred: bool) -> Result<()> {
    let catalog = &state.catalog;
    // Most writes touch tables in no foreign key at all: find out per table
    // first, so a bulk load into such a table costs one lookup per table.
    let mut relevant: HashMap<u32, bool> = HashMap::new();
    let mut any = false;
    for w in writes {
        let r = *relevant.entry(w.table).or_insert_with(|| {
            catalog.relations.get(&w.table).is_some_and(|rel| !rel.foreign_keys.is_empty())
                || catalog.relations.values().any(|o| o.foreign_keys.iter().any(|f| f.ref_table == w.table))
        });
        any |= r;
    }
    if !any {
        return Ok(());
    }
    let due = |fk: &ForeignKeyDef| deferred || !fk.initially_deferred;
    let mut child_tables: HashMap<u32, bool> = HashMap::new();
    let mut parent_refs: HashMap<u32, Vec<(u32, ForeignKeyDef)>> = HashMap::new();
    let mut seen: HashSet<(u32, u64)> = HashSet::new();
    // Keys that vanished from parent tables: (parent, fk oid) -> keys.
    let mut vanished: Vec<(u32, u32, ForeignKeyDef, Vec<Datum>)> = Vec::new();
    for w in writes.iter().rev() {
        if !relevant.get(&w.table).copied().unwrap_or(false) || !seen.insert((w.table, w.row)) {
            continue;
        }
        let Some(rel) = catalog.relations.get(&w.table) else { continue };
        let has_fks = *child_tables.entry(w.table).or_insert_with(|| !rel.foreign_keys.is_empty());
        let current = state.table(w.table).and_then(|t| t.rows.get(&w.row));
        if has_fks {
            if let Some(row) = current {
                for fk in rel.foreign_keys.iter().filter(|fk| due(fk)) {
                    let Some(key) = key_of(row, &fk.columns) else { continue };
                    let Some(parent) = catalog.relations.get(&fk.ref_table) else { continue };
                    if !parent_has(state, parent, &fk.ref_columns, &key) {
                        let (cols, vals) = show_key(rel, &fk.columns, &key);
                        return Err(Error::new(
                            SqlState::ForeignKeyViolation,
                            format!("insert or update on table \"{}\" violates foreign key constraint \"{}\"", rel.name, fk.name),
                        )
                        .with_detail(format!("Key ({cols})=({vals}) is not present in table \"{}\".", parent.name)));
                    }
                }
            }
        }
        let refs = parent_refs.entry(w.table).or_insert_with(|| catalog.referencing(w.table));
        if refs.is_empty() {
            continue;
        }
        // Earliest old version of this row in the log: the key it had before.
        let Some(old) = writes.iter().find(|x| x.table == w.table && x.row == w.row).and_then(|x| x.old.clone()) else {
            continue;
        };
        for (child, fk) in refs.iter().filter(|(_, fk)| due(fk)) {
            let Some(old_key) = key_of(&old, &fk.ref_columns) else { continue };
            if current.and_then(|r| key_of(r, &fk.ref_columns)).as_deref() == Some(&old_key[..]) {
                continue;
            }
            if parent_has(state, rel, &fk.ref_columns, &old_key) {
                continue;
            }
            vanished.push((w.table, *child, fk.clone(), old_key));
        }
    }
    // One scan per (child table, constraint) for all vanished keys.
    let mut by_child: HashMap<(u32, u32), (u32, ForeignKeyDef, HashSet<Vec<Datum>>)> = HashMap::new();
    for (parent, child, fk, key) in vanished {
        by_child.entry((child, fk.oid)).or_insert_with(|| (parent, fk, HashSet::new())).2.insert(key);
    }
    for ((child, _), (parent, fk, keys)) in by_child {
        let (Some(child_rel), Some(parent_rel)) = (catalog.relations.get(&child), catalog.relations.get(&parent)) else {
            continue;
        };
        if let Some(data) = state.table(child) {
            for row in data.rows.values() {
                if let Some(k) = key_of(row, &fk.columns) {
                    if keys.contains(&k) {
                        let (cols, vals) = show_key(parent_rel, &fk.ref_columns, &k);
                        return Err(Error::new(
                            SqlState::ForeignKeyViolation,
                            format!(
                                "update or delete on table \"{}\" violates foreign key constraint \"{}\" on table \"{}\"",
                                parent_rel.name, fk.name, child_rel.name
                            ),
                        )
                        .with_detail(format!("Key ({cols})=({vals}) is still referenced from table \"{}\".", child_rel.name)));
                    }
                }
            }
        }
    }
    Ok(())
}

impl Session {
    /// Applies ON DELETE actions of foreign keys referencing `rel` for its
    /// `deleted` rows (recursively for cascades). NO ACTION / RESTRICT are
    /// left to [`verify_foreign_keys`].
    pub(crate) fn cascade_deletes(&mut self, txn: &mut Txn, rel: &RelationDef, deleted: Vec<Row>, depth: usize) -> Result<()> {
        if deleted.is_empty() {
            return Ok(());
        }
        if depth > 64 {
            return Err(Error::new(SqlState::ProgramLimitExceeded, "foreign key cascades nest too deeply"));
        }
        let refs = txn.work.catalog.referencing(rel.oid);
        for (child, fk) in refs {
            if !matches!(fk.on_delete, FkAction::Cascade | FkAction::SetNull | FkAction::SetDefault) {
                continue;
            }
            let keys: HashSet<Vec<Datum>> = deleted.iter().filter_map(|r| key_of(r, &fk.ref_columns)).collect();
            if keys.is_empty() {
                continue;
            }
            let Some(child_rel) = txn.work.catalog.relations.get(&child).cloned() else { continue };
            let targets: Vec<(u64, Row)> = txn
                .work
                .table(child)
                .map(|t| {
                    t.rows
                        .iter()
                        .filter(|(_, r)| key_of(r, &fk.columns).is_some_and(|k| keys.contains(&k)))
                        .map(|(id, r)| (*id, r.to_vec()))
                        .collect()
                })
                .unwrap_or_default();
            if targets.is_empty() {
                continue;
            }
            match fk.on_delete {
                FkAction::Cascade => {
                    let mut removed = Vec::new();
                    for (id, _) in &targets {
                        if let Some(old) = txn.delete(&child_rel, *id)? {
                            removed.push(old.to_vec());
                        }
                    }
                    self.cascade_deletes(txn, &child_rel, removed, depth + 1)?;
                }
                _ => {
                    let defaults: Vec<Datum> = if fk.on_delete == FkAction::SetDefault {
                        let info = child_rel.info();
                        let catalog = BindCatalog { state: &txn.work, session: self };
                        let mut binder = freshet_sql::Binder::new(&catalog, vec![], self.settings.text_context());
                        let mut out = Vec::new();
                        for c in &fk.columns {
                            let e = binder.bind_default(&info.columns[*c])?;
                            out.push(match e {
                                ScalarExpr::Literal(d) => d,
                                _ => return Err(Error::unsupported("ON DELETE SET DEFAULT with a non-constant default")),
                            });
                        }
                        out
                    } else {
                        vec![Datum::Null; fk.columns.len()]
                    };
                    let updates: Vec<(u64, Row)> = targets
                        .into_iter()
                        .map(|(id, mut r)| {
                            for (c, d) in fk.columns.iter().zip(&defaults) {
                                r[*c] = d.clone();
                            }
                            (id, r)
                        })
                        .collect();
                    let mut checked = Vec::with_capacity(updates.len());
                    for (id, r) in updates {
                        checked.push((id, crate::exec::check_row(&child_rel, r)?));
                    }
                    txn.update_many(&child_rel, checked)?;
                }
            }
        }
        Ok(())
    }
}
