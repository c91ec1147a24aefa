//! Binding INSERT, UPDATE and DELETE.

use freshet_common::cast::CastContext;
use freshet_common::types::Identity;
use freshet_common::{DataType, Datum, Error, Result, SqlState};
use freshet_expr::{JoinKind, RelExpr, ScalarExpr, TableRef};
use sqlparser::ast::{self, SelectItem, SetExpr};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::query::{column_name, split_conjuncts};
use super::scope::{Scope, ScopeItem};
use super::Binder;
use crate::catalog::{ColumnInfo, RelationInfo, RelationKind};
use crate::names;
use crate::plan::{DeletePlan, InsertPlan, OnConflict, OutputColumn, Plan, Returning, UpdatePlan};

impl Binder<'_> {
    /// Resolves a DML target, which must be a table.
    pub(crate) fn target_table(&self, name: &ast::ObjectName, action: &str) -> Result<RelationInfo> {
        let (schema, rel_name) = names::schema_and_name(name);
        let rel = self.catalog.relation(schema.as_deref(), &rel_name).ok_or_else(|| {
            Error::undefined_table(&match &schema {
                Some(s) => format!("{s}.{rel_name}"),
                None => rel_name.clone(),
            })
        })?;
        match rel.kind {
            RelationKind::Table => Ok(rel),
            RelationKind::MaterializedView { .. } => Err(Error::new(
                SqlState::WrongObjectType,
                format!("cannot {action} materialized view \"{}\"", rel.name),
            )
            .with_detail("Materialized views are maintained from the tables they are defined over.")),
            RelationKind::View { .. } => Err(Error::new(
                SqlState::WrongObjectType,
                format!("cannot {action} view \"{}\"", rel.name),
            )
            .with_detail("Views that are not automatically updatable are not supported.")),
            _ => Err(Error::new(
                SqlState::WrongObjectType,
                format!("cannot {action} relation \"{}\"", rel.name),
            )),
        }
    }

    /// The scope of a table's row, with its row id as a trailing internal column.
    pub(crate) fn table_scope(rel: &RelationInfo, qualifier: &str, with_row_id: bool) -> Scope {
        let mut items: Vec<ScopeItem> = rel
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| ScopeItem {
                qualifier: Some(qualifier.to_string()),
                name: c.name.clone(),
                ty: c.ty.clone(),
                table_oid: rel.oid,
                column_id: (i + 1) as i16,
                hidden: false,
                internal: false,
            })
            .collect();
        if with_row_id {
            items.push(ScopeItem {
                qualifier: Some(qualifier.to_string()),
                name: "ctid".into(),
                ty: DataType::Int8,
                table_oid: rel.oid,
                column_id: 0,
                hidden: true,
                internal: true,
            });
        }
        Scope { items }
    }

    /// Binds a column's DEFAULT (NULL when it has none).
    pub fn bind_default(&mut self, column: &ColumnInfo) -> Result<ScalarExpr> {
        let Some(text) = &column.default else { return Ok(ScalarExpr::null()) };
        let dialect = PostgreSqlDialect {};
        let expr = Parser::new(&dialect)
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| Error::internal(format!("stored default of column \"{}\" does not parse: {e}", column.name)))?;
        let (e, t) = self.bind_expr(&expr, &Scope::default())?;
        self.coerce(e, &t, &column.ty, CastContext::Assignment)
    }

    /// Binds a boolean condition over a row of `rel` (CHECK constraints).
    /// Binds an expression over a row of `rel` (an index expression).
    pub fn bind_table_expr(&mut self, e: &ast::Expr, rel: &RelationInfo) -> Result<ScalarExpr> {
        let scope = Self::table_scope(rel, &rel.name, false);
        Ok(self.bind_expr(e, &scope)?.0)
    }

    pub fn bind_table_condition(&mut self, e: &ast::Expr, rel: &RelationInfo) -> Result<ScalarExpr> {
        let scope = Self::table_scope(rel, &rel.name, false);
        self.bind_condition(e, &scope, "CHECK")
    }

    fn column_index(rel: &RelationInfo, name: &str) -> Result<usize> {
        rel.columns.iter().position(|c| c.name == name).ok_or_else(|| {
            Error::new(
                SqlState::UndefinedColumn,
                format!("column \"{name}\" of relation \"{}\" does not exist", rel.name),
            )
        })
    }

    pub(crate) fn bind_insert(&mut self, insert: &ast::Insert) -> Result<Plan> {
        let ast::TableObject::TableName(name) = &insert.table else {
            return Err(Error::unsupported("INSERT into a table function"));
        };
        let rel = self.target_table(name, "insert into")?;
        let qualifier = insert.table_alias.as_ref().map(|a| names::ident(&a.alias)).unwrap_or(rel.name.clone());
        // Target columns, in the order the source supplies them.
        let targets: Vec<usize> = if insert.columns.is_empty() {
            (0..rel.columns.len()).collect()
        } else {
            let mut v = Vec::new();
            for c in &insert.columns {
                let name = names::object_name(c).pop().unwrap_or_default();
                let idx = Self::column_index(&rel, &name)?;
                if v.contains(&idx) {
                    return Err(Error::new(
                        SqlState::DuplicateColumn,
                        format!("column \"{name}\" specified more than once"),
                    ));
                }
                v.push(idx);
            }
            v
        };
        let target_types: Vec<DataType> = targets.iter().map(|i| rel.columns[*i].ty.clone()).collect();
        let mut defaults = Vec::new();
        for c in rel.columns.clone() {
            defaults.push(self.bind_default(&c)?);
        }
        let source = match insert.source.as_deref() {
            None => RelExpr::Values { rows: vec![defaults.clone()], column_types: rel.columns.iter().map(|c| c.ty.clone()).collect() },
            Some(q) => match q.body.as_ref() {
                SetExpr::Values(values) if q.order_by.is_none() && q.limit_clause.is_none() && q.with.is_none() => {
                    if values.rows.iter().any(|r| r.len() > targets.len()) {
                        return Err(Error::new(SqlState::SyntaxError, "INSERT has more expressions than target columns"));
                    }
                    let (RelExpr::Values { rows, .. }, _) = self.bind_values(values, Some(&target_types))? else {
                        return Err(Error::internal("VALUES did not bind to Values"));
                    };
                    let mut full_rows = Vec::new();
                    for row in rows {
                        if row.len() < targets.len() && !insert.columns.is_empty() {
                            return Err(Error::new(SqlState::SyntaxError, "INSERT has more target columns than expressions"));
                        }
                        let mut full = defaults.clone();
                        for (e, col) in row.into_iter().zip(&targets) {
                            if !matches!(&e, ScalarExpr::Literal(Datum::Text(s)) if s == "\u{0}DEFAULT") {
                                if rel.columns[*col].generated.is_some() {
                                    return Err(generated_insert(&rel.columns[*col].name));
                                }
                                if !identity_takes_value(&rel.columns[*col], insert.overriding.as_ref())? {
                                    continue;
                                }
                                full[*col] = e;
                            }
                        }
                        full_rows.push(full);
                    }
                    RelExpr::Values { rows: full_rows, column_types: rel.columns.iter().map(|c| c.ty.clone()).collect() }
                }
                _ => {
                    self.keep_unknown_outputs = true;
                    let bound = self.bind_query(q);
                    self.keep_unknown_outputs = false;
                    let bound = bound?;
                    if bound.columns.len() > targets.len() {
                        return Err(Error::new(SqlState::SyntaxError, "INSERT has more expressions than target columns"));
                    }
                    if bound.columns.len() < targets.len() && !insert.columns.is_empty() {
                        return Err(Error::new(SqlState::SyntaxError, "INSERT has more target columns than expressions"));
                    }
                    let arity = bound.expr.arity();
                    let mut exprs = defaults.clone();
                    for (i, (col, out)) in targets.iter().zip(&bound.columns).enumerate() {
                        let target = &rel.columns[*col];
                        if target.generated.is_some() {
                            return Err(generated_insert(&target.name));
                        }
                        if !identity_takes_value(target, insert.overriding.as_ref())? {
                            continue;
                        }
                        exprs[*col] = self
                            .coerce(ScalarExpr::Column(i), &out.ty, &target.ty, CastContext::Assignment)
                            .map_err(|_| assignment_mismatch(&target.name, &target.ty, &out.ty))?;
                    }
                    let n = exprs.len();
                    bound.expr.map(exprs).project((arity..arity + n).collect())
                }
            },
        };
        let scope = Self::table_scope(&rel, &qualifier, false);
        let on_conflict = match &insert.on {
            None => None,
            Some(ast::OnInsert::OnConflict(oc)) => Some(self.bind_on_conflict(oc, &rel, &scope)?),
            Some(_) => return Err(Error::unsupported("ON DUPLICATE KEY UPDATE")),
        };
        let returning = match &insert.returning {
            Some(items) => Some(self.bind_returning(items, &scope)?),
            None => None,
        };
        Ok(Plan::Insert(InsertPlan { table: rel.oid, source, on_conflict, returning }))
    }

    fn bind_on_conflict(&mut self, oc: &ast::OnConflict, rel: &RelationInfo, scope: &Scope) -> Result<OnConflict> {
        let key = match &oc.conflict_target {
            None => None,
            Some(ast::ConflictTarget::Columns { columns, .. }) => {
                let mut cols = Vec::new();
                for c in columns {
                    cols.push(Self::column_index(rel, &names::ident(c))?);
                }
                let mut sorted = cols.clone();
                sorted.sort();
                let matches_key = |k: &Vec<usize>| {
                    let mut k = k.clone();
                    k.sort();
                    k == sorted
                };
                let key = if matches_key(&rel.primary_key) {
                    rel.primary_key.clone()
                } else if let Some(u) = rel.unique_keys.iter().find(|u| matches_key(u)) {
                    u.clone()
                } else {
                    return Err(Error::new(
                        SqlState::InvalidColumnReference,
                        "there is no unique or exclusion constraint matching the ON CONFLICT specification",
                    ));
                };
                Some(key)
            }
            Some(ast::ConflictTarget::OnConstraint(name)) => {
                let cname = names::object_name(name).pop().unwrap_or_default();
                if cname == format!("{}_pkey", rel.name) && !rel.primary_key.is_empty() {
                    Some(rel.primary_key.clone())
                } else {
                    return Err(Error::new(
                        SqlState::UndefinedObject,
                        format!("constraint \"{cname}\" for table \"{}\" does not exist", rel.name),
                    ));
                }
            }
        };
        match &oc.action {
            ast::OnConflictAction::DoNothing => Ok(OnConflict::DoNothing { key }),
            ast::OnConflictAction::DoUpdate(update) => {
                let key = key.ok_or_else(|| {
                    Error::new(
                        SqlState::SyntaxError,
                        "ON CONFLICT DO UPDATE requires inference specification or constraint name",
                    )
                    .with_hint("For example, ON CONFLICT (column_name).")
                })?;
                // Scope: existing row, then the proposed row as EXCLUDED.
                let mut excluded = Self::table_scope(rel, "excluded", false);
                for it in &mut excluded.items {
                    it.hidden = true;
                }
                let combined = scope.clone().concat(excluded);
                let assignments = self.bind_assignments(&update.assignments, rel, &combined)?;
                let predicate = match &update.selection {
                    Some(p) => Some(self.bind_condition(p, &combined, "WHERE")?),
                    None => None,
                };
                Ok(OnConflict::DoUpdate { key, assignments, predicate })
            }
        }
    }

    fn bind_assignments(&mut self, assignments: &[ast::Assignment], rel: &RelationInfo, scope: &Scope) -> Result<Vec<(usize, ScalarExpr)>> {
        let mut out: Vec<(usize, ScalarExpr)> = Vec::new();
        for a in assignments {
            let name = match &a.target {
                ast::AssignmentTarget::ColumnName(n) => names::object_name(n).pop().unwrap_or_default(),
                ast::AssignmentTarget::Tuple(_) => return Err(Error::unsupported("multiple-column assignment")),
            };
            let idx = Self::column_index(rel, &name)?;
            if out.iter().any(|(i, _)| *i == idx) {
                return Err(Error::new(
                    SqlState::SyntaxError,
                    format!("multiple assignments to same column \"{name}\""),
                ));
            }
            let column = &rel.columns[idx];
            if column.identity == Some(Identity::Always) && !super::query::is_default_keyword(&a.value) {
                return Err(Error::new(SqlState::GeneratedAlways, format!("column \"{name}\" can only be updated to DEFAULT"))
                    .with_detail(format!("Column \"{name}\" is an identity column defined as GENERATED ALWAYS.")));
            }
            if column.generated.is_some() && !super::query::is_default_keyword(&a.value) {
                return Err(Error::new(SqlState::GeneratedAlways, format!("column \"{name}\" can only be updated to DEFAULT"))
                    .with_detail(format!("Column \"{name}\" is a generated column.")));
            }
            let value = if super::query::is_default_keyword(&a.value) {
                self.bind_default(&column.clone())?
            } else {
                let (e, t) = self.bind_expr(&a.value, scope)?;
                if super::contains_aggregate(&e) {
                    return Err(Error::new(SqlState::GroupingError, "aggregate functions are not allowed in UPDATE"));
                }
                super::window::refuse_window(&e, "UPDATE")?;
                self.coerce(e, &t, &column.ty, CastContext::Assignment)
                    .map_err(|err| if err.state == SqlState::DatatypeMismatch { assignment_mismatch(&column.name, &column.ty, &t) } else { err })?
            };
            out.push((idx, value));
        }
        Ok(out)
    }

    /// Binds RETURNING items over `scope`.
    pub(crate) fn bind_returning(&mut self, items: &[SelectItem], scope: &Scope) -> Result<Returning> {
        let mut exprs = Vec::new();
        let mut columns = Vec::new();
        for item in items {
            match item {
                SelectItem::Wildcard(_) => {
                    for (i, it) in scope.items.iter().enumerate() {
                        if it.hidden || it.internal {
                            continue;
                        }
                        exprs.push(ScalarExpr::Column(i));
                        columns.push(OutputColumn { name: it.name.clone(), ty: it.ty.clone(), table_oid: it.table_oid, column_id: it.column_id });
                    }
                }
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    let (b, t) = self.bind_expr(e, scope)?;
                    let (b, t) = if t == DataType::Unknown {
                        (self.coerce(b, &t, &DataType::Text, CastContext::Implicit)?, DataType::Text)
                    } else {
                        (b, t)
                    };
                    let name = match item {
                        SelectItem::ExprWithAlias { alias, .. } => names::ident(alias),
                        _ => column_name(e),
                    };
                    let (table_oid, column_id) = match &b {
                        ScalarExpr::Column(i) => scope.items.get(*i).map(|it| (it.table_oid, it.column_id)).unwrap_or((0, 0)),
                        _ => (0, 0),
                    };
                    columns.push(OutputColumn { name, ty: t, table_oid, column_id });
                    exprs.push(b);
                }
                _ => return Err(Error::unsupported("this RETURNING item")),
            }
        }
        Ok(Returning { exprs, columns })
    }

    /// The scan of a DML target joined with FROM/USING tables and filtered.
    fn dml_source(
        &mut self,
        rel: &RelationInfo,
        qualifier: &str,
        extra: &[ast::TableWithJoins],
        selection: Option<&ast::Expr>,
    ) -> Result<(RelExpr, Scope)> {
        let mut plan = RelExpr::Get {
            table: TableRef(rel.oid),
            column_types: rel.columns.iter().map(|c| c.ty.clone()).collect(),
            with_row_id: true,
        };
        let mut scope = Self::table_scope(rel, qualifier, true);
        if !extra.is_empty() {
            let (fp, fs) = self.bind_from(extra)?;
            plan = RelExpr::Join { left: Box::new(plan), right: Box::new(fp), kind: JoinKind::Inner, on: ScalarExpr::bool(true) };
            scope = scope.concat(fs);
        }
        if let Some(sel) = selection {
            let pred = self.bind_condition(sel, &scope, "WHERE")?;
            if super::contains_aggregate(&pred) {
                return Err(Error::new(SqlState::GroupingError, "aggregate functions are not allowed in WHERE"));
            }
            super::window::refuse_window(&pred, "WHERE")?;
            plan = plan.filter(split_conjuncts(pred));
        }
        Ok((plan, scope))
    }

    pub(crate) fn bind_update(&mut self, update: &ast::Update) -> Result<Plan> {
        let ast::TableFactor::Table { name, alias, .. } = &update.table.relation else {
            return Err(Error::unsupported("UPDATE of this kind of target"));
        };
        if !update.table.joins.is_empty() {
            return Err(Error::unsupported("UPDATE with joins in the target"));
        }
        let rel = self.target_table(name, "update")?;
        let qualifier = alias.as_ref().map(|a| names::ident(&a.name)).unwrap_or(rel.name.clone());
        let from: Vec<ast::TableWithJoins> = match &update.from {
            Some(ast::UpdateTableFromKind::BeforeSet(f)) | Some(ast::UpdateTableFromKind::AfterSet(f)) => f.clone(),
            None => vec![],
        };
        let (source, scope) = self.dml_source(&rel, &qualifier, &from, update.selection.as_ref())?;
        let assignments = self.bind_assignments(&update.assignments, &rel, &scope)?;
        let returning = match &update.returning {
            Some(items) => Some(self.bind_returning(items, &scope)?),
            None => None,
        };
        Ok(Plan::Update(UpdatePlan { table: rel.oid, source, assignments, returning }))
    }

    pub(crate) fn bind_delete(&mut self, delete: &ast::Delete) -> Result<Plan> {
        let tables = match &delete.from {
            ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
        };
        let [target] = tables.as_slice() else {
            return Err(Error::unsupported("DELETE from several tables"));
        };
        let ast::TableFactor::Table { name, alias, .. } = &target.relation else {
            return Err(Error::unsupported("DELETE from this kind of target"));
        };
        let rel = self.target_table(name, "delete from")?;
        let qualifier = alias.as_ref().map(|a| names::ident(&a.name)).unwrap_or(rel.name.clone());
        let using = delete.using.clone().unwrap_or_default();
        let (source, scope) = self.dml_source(&rel, &qualifier, &using, delete.selection.as_ref())?;
        let returning = match &delete.returning {
            Some(items) => Some(self.bind_returning(items, &scope)?),
            None => None,
        };
        Ok(Plan::Delete(DeletePlan { table: rel.oid, source, returning }))
    }
}

/// Whether an INSERT's explicit value goes into `column`: not for an
/// identity column under OVERRIDING USER VALUE (its sequence supplies
/// it), and 428C9 for a GENERATED ALWAYS identity column without
/// OVERRIDING SYSTEM VALUE.
fn identity_takes_value(column: &ColumnInfo, overriding: Option<&ast::InsertOverriding>) -> Result<bool> {
    let Some(identity) = column.identity else { return Ok(true) };
    match overriding {
        Some(ast::InsertOverriding::User) => Ok(false),
        Some(ast::InsertOverriding::System) => Ok(true),
        None if identity == Identity::Always => Err(Error::new(
            SqlState::GeneratedAlways,
            format!("cannot insert a non-DEFAULT value into column \"{}\"", column.name),
        )
        .with_detail(format!("Column \"{}\" is an identity column defined as GENERATED ALWAYS.", column.name))
        .with_hint("Use OVERRIDING SYSTEM VALUE to override.")),
        None => Ok(true),
    }
}

/// 428C9: a value other than DEFAULT for a generated column.
fn generated_insert(column: &str) -> Error {
    Error::new(SqlState::GeneratedAlways, format!("cannot insert a non-DEFAULT value into column \"{column}\""))
        .with_detail(format!("Column \"{column}\" is a generated column."))
}

fn assignment_mismatch(column: &str, column_ty: &DataType, expr_ty: &DataType) -> Error {
    Error::new(
        SqlState::DatatypeMismatch,
        format!(
            "column \"{column}\" is of type {} but expression is of type {}",
            column_ty.pg_name(),
            expr_ty.pg_name()
        ),
    )
    .with_hint("You will need to rewrite or cast the expression.")
}
