//! SELECT ... FOR UPDATE / FOR NO KEY UPDATE / FOR SHARE / FOR KEY SHARE:
//! which tables' rows a top-level SELECT locks, and a plan that returns
//! their row ids beside the visible columns (the session takes the locks).
//!
//! Every strength is taken as an exclusive row lock, the one kind the lock
//! table has: stricter than PostgreSQL for two FOR SHARE readers of one row
//! (the second waits), never weaker for a writer.

use freshet_common::{Error, Result, SqlState};
use sqlparser::ast::{self, Expr, SelectItem, SetExpr, TableFactor};

use super::Binder;
use crate::catalog::RelationKind;
use crate::names;
use crate::plan::{LockWait, Plan, QueryPlan, RowLocking};

/// A table in a locking SELECT's FROM clause.
struct FromTable {
    /// The name the query refers to it by (its alias, else its name).
    qualifier: String,
    oid: u32,
    /// On the null-extended side of an outer join.
    nullable: bool,
}

impl Binder<'_> {
    /// Binds a top-level query with FOR UPDATE/SHARE clauses.
    pub(crate) fn bind_locking_query(&mut self, q: &ast::Query) -> Result<Plan> {
        let strength = lock_name(&q.locks[0]);
        let SetExpr::Select(select) = q.body.as_ref() else {
            return Err(not_allowed(strength, "UNION/INTERSECT/EXCEPT"));
        };
        if select.distinct.is_some() {
            return Err(not_allowed(strength, "DISTINCT clause"));
        }
        let grouped = match &select.group_by {
            ast::GroupByExpr::All(_) => true,
            ast::GroupByExpr::Expressions(exprs, _) => !exprs.is_empty(),
        };
        if grouped {
            return Err(not_allowed(strength, "GROUP BY clause"));
        }
        if select.having.is_some() {
            return Err(not_allowed(strength, "HAVING clause"));
        }

        let mut from = Vec::new();
        for t in &select.from {
            self.collect_from_tables(t, false, &mut from);
        }
        let mut locked: Vec<&FromTable> = Vec::new();
        for clause in &q.locks {
            match &clause.of {
                None => locked.extend(from.iter()),
                Some(name) => {
                    let wanted = names::schema_and_name(name).1;
                    let table = from.iter().find(|t| t.qualifier == wanted).ok_or_else(|| {
                        Error::new(
                            SqlState::UndefinedTable,
                            format!("relation \"{wanted}\" in {} clause not found in FROM clause", lock_name(clause)),
                        )
                    })?;
                    locked.push(table);
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        locked.retain(|t| seen.insert(t.qualifier.clone()));
        if let Some(t) = locked.iter().find(|t| t.nullable) {
            return Err(Error::new(
                SqlState::FeatureNotSupported,
                format!("{strength} cannot be applied to the nullable side of an outer join"),
            )
            .with_detail(format!("Relation \"{}\" is on the nullable side.", t.qualifier)));
        }

        let wait = if q.locks.iter().any(|c| c.nonblock == Some(ast::NonBlock::Nowait)) {
            LockWait::NoWait
        } else if q.locks.iter().any(|c| c.nonblock == Some(ast::NonBlock::SkipLocked)) {
            LockWait::SkipLocked
        } else {
            LockWait::Block
        };

        // The same query, selecting each locked table's row id last.
        let mut with_ids = q.clone();
        with_ids.locks.clear();
        if let SetExpr::Select(s) = with_ids.body.as_mut() {
            for t in &locked {
                s.projection.push(SelectItem::UnnamedExpr(Expr::CompoundIdentifier(vec![
                    ast::Ident::with_quote('"', t.qualifier.clone()),
                    ast::Ident::new("ctid"),
                ])));
            }
        }
        self.expose_row_ids = true;
        let bound = self.bind_query(&with_ids);
        self.expose_row_ids = false;
        let mut bound = bound?;
        let visible = bound.columns.len() - locked.len();
        bound.columns.truncate(visible);
        let tables = locked.iter().map(|t| t.oid).collect();
        Ok(Plan::LockingQuery {
            query: QueryPlan { expr: bound.expr, columns: bound.columns },
            locking: RowLocking { tables, wait },
        })
    }

    /// The stored tables of a FROM item (not CTEs, views or subqueries,
    /// whose rows are not locked), with whether each can be null-extended.
    fn collect_from_tables(&self, t: &ast::TableWithJoins, nullable: bool, out: &mut Vec<FromTable>) {
        use ast::JoinOperator as J;
        let right_nullable = |op: &J| {
            matches!(op, J::Left(_) | J::LeftOuter(_) | J::FullOuter(_) | J::OuterApply)
        };
        let left_nullable = |op: &J| matches!(op, J::Right(_) | J::RightOuter(_) | J::FullOuter(_));
        let left_is_nullable = nullable || t.joins.iter().any(|j| left_nullable(&j.join_operator));
        self.collect_factor(&t.relation, left_is_nullable, out);
        for (i, join) in t.joins.iter().enumerate() {
            // A later RIGHT/FULL join null-extends everything to its left.
            let later_right = t.joins[i + 1..].iter().any(|j| left_nullable(&j.join_operator));
            self.collect_factor(&join.relation, nullable || right_nullable(&join.join_operator) || later_right, out);
        }
    }

    fn collect_factor(&self, factor: &TableFactor, nullable: bool, out: &mut Vec<FromTable>) {
        match factor {
            TableFactor::Table { name, alias, args: None, .. } => {
                let (schema, rel_name) = names::schema_and_name(name);
                if schema.is_none() && self.ctes.iter().any(|f| f.contains_key(&rel_name)) {
                    return;
                }
                let Some(rel) = self.catalog.relation(schema.as_deref(), &rel_name) else { return };
                if rel.kind != RelationKind::Table {
                    return;
                }
                let qualifier = alias.as_ref().map(|a| names::ident(&a.name)).unwrap_or(rel.name.clone());
                out.push(FromTable { qualifier, oid: rel.oid, nullable });
            }
            TableFactor::NestedJoin { table_with_joins, .. } => self.collect_from_tables(table_with_joins, nullable, out),
            _ => {}
        }
    }
}

/// `FOR UPDATE`, `FOR SHARE`: the clause as PostgreSQL names it in errors.
fn lock_name(clause: &ast::LockClause) -> &'static str {
    match clause.lock_type {
        ast::LockType::Share => "FOR SHARE",
        ast::LockType::Update => "FOR UPDATE",
    }
}

fn not_allowed(strength: &str, what: &str) -> Error {
    Error::new(SqlState::FeatureNotSupported, format!("{strength} is not allowed with {what}"))
}
