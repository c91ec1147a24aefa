//! The binder: resolves names and types in a parsed statement and produces
//! a [`Plan`].
//!
//! One [`Binder`] binds one statement. It keeps the types of `$n`
//! parameters as it learns them from context, a stack of enclosing scopes
//! for correlated subqueries, and the CTEs in scope.

mod catalog_func;
mod ddl;
mod dml;
mod explain;
mod expr;
mod func;
mod locking;
mod misc;
mod query;
mod srf;
mod streaming;
mod types;
mod window;
pub mod scope;

pub use misc::CONSTRAINT_COMMENT_MARKER;

use std::collections::HashMap;

use freshet_common::cast::CastContext;
use freshet_common::io::TextContext;
use freshet_common::{DataType, Datum, Error, Result, SqlState};
use freshet_expr::{RelExpr, ScalarExpr};
use sqlparser::ast;

use crate::catalog::Catalog;
use crate::plan::{OutputColumn, Plan};
use scope::Scope;

/// A bound CTE: its plan and columns, inlined at each reference.
#[derive(Clone, Debug)]
pub(crate) struct CteDef {
    pub plan: RelExpr,
    pub columns: Vec<OutputColumn>,
}

/// Binds one statement against a catalog.
pub struct Binder<'a> {
    pub(crate) catalog: &'a dyn Catalog,
    /// Types of `$1..$n`; `Unknown` until inferred.
    pub(crate) params: Vec<DataType>,
    /// Enclosing query scopes, outermost first.
    pub(crate) outer: Vec<Scope>,
    /// Smallest index into `outer` referenced so far (correlation tracking).
    pub(crate) min_outer_ref: usize,
    /// CTEs visible, innermost last.
    pub(crate) ctes: Vec<HashMap<String, CteDef>>,
    pub(crate) text: TextContext,
    /// Whether the statement is planned for a materialized view (restricts
    /// non-deterministic functions).
    pub(crate) for_view: bool,
    /// Set by INSERT for its source query: leave unknown-typed select
    /// outputs unresolved so the target columns decide their types.
    pub(crate) keep_unknown_outputs: bool,
    /// The `WINDOW` clause of the SELECT being bound.
    pub(crate) named_windows: window::NamedWindows,
    /// Next id for a WITH RECURSIVE working table.
    pub(crate) next_work_table: u32,
    /// Set while binding a SELECT ... FOR UPDATE: every table read gets its
    /// row id as a hidden `ctid` column, which the locking query selects.
    pub(crate) expose_row_ids: bool,
    /// How deeply the expression being bound nests (`bind_expr`).
    pub(crate) expression_depth: usize,
    /// Set-returning calls nested in select-list expressions, already
    /// planned as FlatMap columns: the call's position in the statement
    /// (`srf::call_key`) and the column expression that stands for it
    /// (`bind_select_srfs`).
    pub(crate) srf_calls: HashMap<(u64, u64), (ScalarExpr, DataType)>,
    /// The catalog snapshot catalog functions of this statement share,
    /// taken at the first one (O(relations) to build).
    pub(crate) snapshot: std::cell::OnceCell<freshet_expr::catalog_func::SnapshotRef>,
}

impl<'a> Binder<'a> {
    /// A binder for one statement; `param_types` are those the client
    /// declared (`Unknown` where it left them to the server).
    pub fn new(catalog: &'a dyn Catalog, param_types: Vec<DataType>, text: TextContext) -> Binder<'a> {
        Binder {
            catalog,
            params: param_types,
            outer: Vec::new(),
            min_outer_ref: usize::MAX,
            ctes: Vec::new(),
            text,
            for_view: false,
            keep_unknown_outputs: false,
            named_windows: window::NamedWindows::new(),
            next_work_table: 0,
            expose_row_ids: false,
            expression_depth: 0,
            srf_calls: HashMap::new(),
            snapshot: std::cell::OnceCell::new(),
        }
    }

    /// Parameter types after binding; undetermined ones default to text.
    pub fn param_types(&self) -> Vec<DataType> {
        self.params
            .iter()
            .map(|t| if *t == DataType::Unknown { DataType::Text } else { t.clone() })
            .collect()
    }

    /// Binds a statement into a plan.
    /// Binds a client's command: ordinary SQL or a streaming statement.
    pub fn bind_command(&mut self, command: &crate::Command) -> Result<Plan> {
        match command {
            crate::Command::Sql(stmt) => self.bind_statement(stmt),
            crate::Command::Streaming(stmt) => self.bind_streaming(stmt),
        }
    }

    pub fn bind_statement(&mut self, stmt: &ast::Statement) -> Result<Plan> {
        use ast::Statement as S;
        match stmt {
            S::Query(q) if matches!(q.body.as_ref(), ast::SetExpr::Insert(_) | ast::SetExpr::Update(_) | ast::SetExpr::Delete(_)) => {
                self.bind_with_dml(q)
            }
            S::Query(q) if !q.locks.is_empty() => self.bind_locking_query(q),
            S::Query(q) => Ok(Plan::Query(self.bind_query(q)?)),
            S::Insert(insert) => self.bind_insert(insert),
            S::Update(update) => self.bind_update(update),
            S::Delete(delete) => self.bind_delete(delete),
            S::CreateTable(create) => self.bind_create_table(create),
            S::AlterTable(alter) => self.bind_alter_table(alter),
            S::Drop { .. } => self.bind_drop(stmt),
            S::Truncate(t) => self.bind_truncate(t),
            S::CreateDatabase { .. } | S::CreateSchema { .. } | S::CreateView(_) | S::CreateIndex(_) => {
                self.bind_create_other(stmt)
            }
            S::CreateSequence { .. } => self.bind_create_other(stmt),
            S::CreateType { name, representation } => self.bind_create_type(name, representation.as_ref()),
            S::AlterType(alter) => self.bind_alter_type(alter),
            S::Copy { .. } => self.bind_copy(stmt),
            _ => self.bind_misc(stmt),
        }
    }

    /// Binds a materialized view's defining query (nested materialized
    /// views expanded, non-deterministic functions refused).
    pub fn bind_view_query(&mut self, q: &ast::Query) -> Result<RelExpr> {
        self.for_view = true;
        let bound = self.bind_query(q);
        self.for_view = false;
        Ok(bound?.expr)
    }

    /// Registers a use of `$n` (1-based), growing the parameter list.
    pub(crate) fn param(&mut self, n: usize) -> Result<(ScalarExpr, DataType)> {
        if n == 0 || n > 65535 {
            return Err(Error::new(SqlState::UndefinedParameter, format!("there is no parameter ${n}")));
        }
        if self.params.len() < n {
            self.params.resize(n, DataType::Unknown);
        }
        Ok((ScalarExpr::Param(n - 1), self.params[n - 1].clone()))
    }

    /// Converts `expr` of type `from` to type `to` as PostgreSQL would in
    /// `context`, resolving unknown literals and parameters.
    pub(crate) fn coerce(
        &mut self,
        expr: ScalarExpr,
        from: &DataType,
        to: &DataType,
        context: CastContext,
    ) -> Result<ScalarExpr> {
        if from == to || *to == DataType::Unknown {
            return Ok(expr);
        }
        if *from == DataType::Unknown {
            return match expr {
                ScalarExpr::Literal(Datum::Null) => Ok(ScalarExpr::Literal(Datum::Null)),
                ScalarExpr::Literal(Datum::Text(s)) if *to == DataType::RegClass => {
                    Ok(ScalarExpr::Literal(Datum::Oid(self.regclass_literal(&s)?)))
                }
                ScalarExpr::Literal(Datum::Text(s)) => {
                    let base = to.without_modifiers();
                    let d = freshet_common::io::parse_text(&s, &base, &self.text)?;
                    if context == CastContext::Explicit && base != *to {
                        // Explicit casts apply modifiers with truncation/rounding.
                        return Ok(ScalarExpr::Literal(freshet_common::cast::cast(d, &base, to, &self.text)?));
                    }
                    Ok(ScalarExpr::Literal(d))
                }
                ScalarExpr::Param(i) if *to == DataType::RegClass && self.params.get(i) == Some(&DataType::Unknown) => {
                    // Relation names are resolved at run time, against the
                    // statement's snapshot.
                    self.params[i] = DataType::Text;
                    Ok(self.regclass_in(ScalarExpr::Param(i)))
                }
                ScalarExpr::Param(i) => {
                    if self.params.get(i) == Some(&DataType::Unknown) {
                        self.params[i] = to.without_modifiers();
                        Ok(ScalarExpr::Param(i))
                    } else {
                        let actual = self.params[i].clone();
                        self.coerce(ScalarExpr::Param(i), &actual, to, context)
                    }
                }
                other => Ok(ScalarExpr::Cast { expr: Box::new(other), from: DataType::Text, to: to.clone() }),
            };
        }
        // Same representation, only modifiers differ: an explicit cast must
        // still apply them (truncation, rounding); implicit ones need not.
        if from.without_modifiers() == to.without_modifiers() && context != CastContext::Explicit {
            return Ok(expr);
        }
        if *to == DataType::RegClass && from.is_string() {
            if let ScalarExpr::Literal(Datum::Text(s)) = &expr {
                return Ok(ScalarExpr::Literal(Datum::Oid(self.regclass_literal(s)?)));
            }
            return Ok(self.regclass_in(expr));
        }
        if freshet_common::cast::can_cast(from, to, context) {
            if let ScalarExpr::Literal(d) = &expr {
                // Fold constant casts so errors surface at bind time, as in PostgreSQL.
                let folded = freshet_common::cast::cast(d.clone(), from, to, &self.text)?;
                return Ok(ScalarExpr::Literal(folded));
            }
            return Ok(ScalarExpr::Cast { expr: Box::new(expr), from: from.clone(), to: to.clone() });
        }
        Err(match context {
            CastContext::Explicit => Error::new(
                SqlState::CannotCoerce,
                format!("cannot cast type {} to {}", from.pg_name(), to.pg_name()),
            ),
            _ => Error::new(
                SqlState::DatatypeMismatch,
                format!("argument of type {} cannot be converted to {}", from.pg_name(), to.pg_name()),
            ),
        })
    }

    /// Resolves `'name'::regclass`.
    pub(crate) fn regclass_literal(&self, name: &str) -> Result<u32> {
        if let Ok(oid) = name.trim().parse::<u32>() {
            return Ok(oid);
        }
        // "schema"."name", with "" inside quotes and dots only between parts.
        let parts = freshet_expr::catalog_func::split_qualified_name(name).ok_or_else(|| {
            Error::new(SqlState::InvalidName, format!("invalid name syntax: \"{name}\""))
        })?;
        let (schema, rel) = match parts.as_slice() {
            [rel] => (None, rel.as_str()),
            [schema, rel] | [_, schema, rel] => (Some(schema.as_str()), rel.as_str()),
            _ => return Err(Error::new(SqlState::InvalidName, format!("improper relation name (too many dotted names): {name}"))),
        };
        self.catalog.regclass(schema, rel).ok_or_else(|| Error::undefined_table(&parts.join(".")))
    }

    /// Binds an expression that must be boolean (WHERE, ON, HAVING, CASE WHEN).
    pub(crate) fn bind_condition(&mut self, e: &ast::Expr, scope: &Scope, clause: &str) -> Result<ScalarExpr> {
        let (expr, ty) = self.bind_expr(e, scope)?;
        match ty {
            DataType::Bool => Ok(expr),
            DataType::Unknown => self.coerce(expr, &ty, &DataType::Bool, CastContext::Implicit),
            other => Err(Error::new(
                SqlState::DatatypeMismatch,
                format!("argument of {clause} must be type boolean, not type {}", other.pg_name()),
            )),
        }
    }
}

/// Whether an expression contains an aggregate call (outside subqueries).
pub(crate) fn contains_aggregate(e: &ScalarExpr) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        if matches!(n, ScalarExpr::Aggregate(_)) {
            found = true;
        }
    });
    found
}
