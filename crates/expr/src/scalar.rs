//! Scalar expressions and their evaluation.
//!
//! A [`ScalarExpr`] is bound and typed: names are resolved to column
//! positions, overloads to a concrete [`Func`] or operator, and implicit
//! casts are explicit [`ScalarExpr::Cast`] nodes. Evaluation therefore needs
//! no catalog, only the input row and an [`EvalContext`].
//!
//! NULL semantics follow PostgreSQL: strict functions and operators return
//! NULL on any NULL input; AND/OR use three-valued logic; comparisons with
//! NULL are NULL.

use std::fmt;

use freshet_common::io::TextContext;
use freshet_common::{DataType, Datum, Error, Result, Row, SqlState, TimestampTz};

use crate::agg::AggregateExpr;
use crate::func::{self, BinaryOp, Func, UnaryOp};
use crate::relation::RelExpr;
use crate::window::WindowExpr;

/// A bound, typed scalar expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ScalarExpr {
    /// The `n`th column of the input row.
    Column(usize),
    /// A column of an enclosing query's row (correlated subquery):
    /// `level` 1 is the immediately enclosing query.
    Outer { level: usize, index: usize },
    /// A constant.
    Literal(Datum),
    /// The `n`th (0-based) bound parameter (`$n+1`).
    Param(usize),
    /// A cast between types, with PostgreSQL's semantics.
    Cast { expr: Box<ScalarExpr>, from: DataType, to: DataType },
    Unary { op: UnaryOp, expr: Box<ScalarExpr> },
    Binary { op: BinaryOp, left: Box<ScalarExpr>, right: Box<ScalarExpr> },
    /// A function call; arguments already coerced to the function's signature.
    Call { func: Func, args: Vec<ScalarExpr> },
    /// Three-valued AND of all operands.
    And(Vec<ScalarExpr>),
    /// Three-valued OR of all operands.
    Or(Vec<ScalarExpr>),
    Not(Box<ScalarExpr>),
    IsNull(Box<ScalarExpr>),
    /// Searched CASE; a simple CASE is bound into this form.
    Case { whens: Vec<(ScalarExpr, ScalarExpr)>, otherwise: Box<ScalarExpr> },
    /// `expr [NOT] IN (list)` with SQL NULL semantics.
    InList { expr: Box<ScalarExpr>, list: Vec<ScalarExpr>, negated: bool },
    /// A subquery used as a value.
    Subquery(Box<SubqueryExpr>),
    /// An aggregate call. Only exists while binding: the planner replaces it
    /// with a column of the aggregation's output before evaluation.
    Aggregate(Box<AggregateExpr>),
    /// A window function call. Only exists while binding: the planner
    /// replaces it with a column of a `RelExpr::Window` node's output.
    Window(Box<WindowExpr>),
}

/// How a subquery is used.
#[derive(Clone, Debug, PartialEq)]
pub enum SubqueryKind {
    /// `EXISTS (q)`.
    Exists,
    /// `(q)` returning at most one row of one column.
    Scalar,
    /// `expr op ANY (q)` (`IN` is `= ANY`); `all` for `op ALL (q)`.
    Quantified { expr: ScalarExpr, op: BinaryOp, all: bool },
}

/// A subquery inside a scalar expression.
#[derive(Clone, Debug, PartialEq)]
pub struct SubqueryExpr {
    pub kind: SubqueryKind,
    pub plan: RelExpr,
    /// Whether the plan refers to enclosing rows ([`ScalarExpr::Outer`]).
    /// Uncorrelated subqueries are evaluated once per statement.
    pub correlated: bool,
}

/// Runs subquery plans for the evaluator; implemented by the executor.
pub trait SubqueryRunner {
    /// Executes `plan` with `row` as the innermost enclosing row.
    fn run(&self, subquery: &SubqueryExpr, ctx: &EvalContext<'_>, row: &[Datum]) -> Result<Vec<Row>>;
}

/// Everything evaluation needs besides the row.
pub struct EvalContext<'a> {
    /// Bound parameter values.
    pub params: &'a [Datum],
    /// Enclosing rows, innermost first (for [`ScalarExpr::Outer`]).
    pub outer: &'a [Row],
    /// Session settings for printing and parsing values.
    pub text: &'a TextContext,
    /// Executes subqueries; `None` where subqueries cannot occur.
    pub subqueries: Option<&'a dyn SubqueryRunner>,
    /// Start time of the current transaction (`now()`).
    pub now: TimestampTz,
    /// Sequence access for nextval/currval/setval; `None` where sequences
    /// cannot be used.
    pub sequences: Option<&'a dyn SequenceAccess>,
}

/// Sequences as the evaluator sees them; implemented by the session.
/// Sequence operations are not transactional, as in PostgreSQL.
pub trait SequenceAccess {
    /// Advances the sequence and returns its new value.
    fn nextval(&self, oid: u32) -> Result<i64>;
    /// The value most recently returned by nextval in this session.
    fn currval(&self, oid: u32) -> Result<i64>;
    /// Sets the sequence's value; `is_called` false makes the next nextval return `value`.
    fn setval(&self, oid: u32, value: i64, is_called: bool) -> Result<i64>;
    /// `set_config(name, value, is_local)`: changes a session setting
    /// (applied when the statement completes) and returns the new value.
    fn set_config(&self, name: &str, value: &str, is_local: bool) -> Result<String> {
        let _ = (name, value, is_local);
        Err(Error::unsupported("set_config() in this context"))
    }
    /// `current_setting(name)`: the session's value, `None` when unknown.
    fn current_setting(&self, name: &str) -> Result<Option<String>> {
        let _ = name;
        Err(Error::unsupported("current_setting() in this context"))
    }
}

impl ScalarExpr {
    /// A boolean literal.
    pub fn bool(b: bool) -> ScalarExpr {
        ScalarExpr::Literal(Datum::Bool(b))
    }

    /// The NULL literal.
    pub fn null() -> ScalarExpr {
        ScalarExpr::Literal(Datum::Null)
    }

    /// Evaluates the expression over `row` (on a growable stack: trees
    /// can be deep, see `freshet_common::stack`).
    pub fn eval(&self, row: &[Datum], ctx: &EvalContext<'_>) -> Result<Datum> {
        freshet_common::stack::grow(|| self.eval_unguarded(row, ctx))
    }

    fn eval_unguarded(&self, row: &[Datum], ctx: &EvalContext<'_>) -> Result<Datum> {
        match self {
            ScalarExpr::Column(i) => Ok(row.get(*i).cloned().ok_or_else(|| {
                Error::internal(format!("column {i} out of range for a row of {} columns", row.len()))
            })?),
            ScalarExpr::Outer { level, index } => ctx
                .outer
                .get(level - 1)
                .and_then(|r| r.get(*index))
                .cloned()
                .ok_or_else(|| Error::internal(format!("outer reference {level}.{index} unavailable"))),
            ScalarExpr::Literal(d) => Ok(d.clone()),
            ScalarExpr::Param(i) => ctx.params.get(*i).cloned().ok_or_else(|| {
                Error::new(
                    SqlState::ProtocolViolation,
                    format!("there is no parameter ${}", i + 1),
                )
            }),
            ScalarExpr::Cast { expr, from, to } => {
                let v = expr.eval(row, ctx)?;
                if v.is_null() {
                    return Ok(Datum::Null);
                }
                freshet_common::cast::cast(v, from, to, ctx.text)
            }
            ScalarExpr::Unary { op, expr } => func::eval_unary(*op, expr.eval(row, ctx)?),
            ScalarExpr::Binary { op, left, right } => {
                let l = left.eval(row, ctx)?;
                let r = right.eval(row, ctx)?;
                func::eval_binary(*op, l, r, ctx)
            }
            ScalarExpr::Call { func, args } => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(a.eval(row, ctx)?);
                }
                func::eval_call(func, values, ctx)
            }
            ScalarExpr::And(items) => {
                let mut saw_null = false;
                for item in items {
                    match item.eval(row, ctx)? {
                        Datum::Bool(false) => return Ok(Datum::Bool(false)),
                        Datum::Null => saw_null = true,
                        _ => {}
                    }
                }
                Ok(if saw_null { Datum::Null } else { Datum::Bool(true) })
            }
            ScalarExpr::Or(items) => {
                let mut saw_null = false;
                for item in items {
                    match item.eval(row, ctx)? {
                        Datum::Bool(true) => return Ok(Datum::Bool(true)),
                        Datum::Null => saw_null = true,
                        _ => {}
                    }
                }
                Ok(if saw_null { Datum::Null } else { Datum::Bool(false) })
            }
            ScalarExpr::Not(e) => Ok(match e.eval(row, ctx)? {
                Datum::Bool(b) => Datum::Bool(!b),
                _ => Datum::Null,
            }),
            ScalarExpr::IsNull(e) => Ok(Datum::Bool(e.eval(row, ctx)?.is_null())),
            ScalarExpr::Case { whens, otherwise } => {
                for (cond, result) in whens {
                    if cond.eval(row, ctx)? == Datum::Bool(true) {
                        return result.eval(row, ctx);
                    }
                }
                otherwise.eval(row, ctx)
            }
            ScalarExpr::InList { expr, list, negated } => {
                let v = expr.eval(row, ctx)?;
                if v.is_null() {
                    return Ok(Datum::Null);
                }
                let mut saw_null = false;
                for item in list {
                    let w = item.eval(row, ctx)?;
                    if w.is_null() {
                        saw_null = true;
                    } else if func::datum_eq(&v, &w) {
                        return Ok(Datum::Bool(!negated));
                    }
                }
                Ok(if saw_null { Datum::Null } else { Datum::Bool(*negated) })
            }
            ScalarExpr::Subquery(sub) => eval_subquery(sub, row, ctx),
            ScalarExpr::Aggregate(_) => {
                Err(Error::internal("aggregate evaluated outside of an aggregation"))
            }
            ScalarExpr::Window(_) => Err(Error::internal("window function evaluated outside of a window")),
        }
    }

    /// Whether evaluating the expression can never depend on the row
    /// (no columns, no outer references, no subqueries).
    pub fn is_constant(&self) -> bool {
        let mut constant = true;
        self.visit(&mut |e| {
            if matches!(
                e,
                ScalarExpr::Column(_)
                    | ScalarExpr::Outer { .. }
                    | ScalarExpr::Subquery(_)
                    | ScalarExpr::Aggregate(_)
                    | ScalarExpr::Window(_)
            ) {
                constant = false;
            }
        });
        constant
    }

    /// Calls `f` on this expression and every sub-expression (pre-order),
    /// not descending into subquery plans.
    pub fn visit(&self, f: &mut dyn FnMut(&ScalarExpr)) {
        freshet_common::stack::grow(|| self.visit_unguarded(f))
    }

    fn visit_unguarded(&self, f: &mut dyn FnMut(&ScalarExpr)) {
        f(self);
        match self {
            ScalarExpr::Column(_)
            | ScalarExpr::Outer { .. }
            | ScalarExpr::Literal(_)
            | ScalarExpr::Param(_) => {}
            ScalarExpr::Cast { expr, .. } | ScalarExpr::Unary { expr, .. } => expr.visit(f),
            ScalarExpr::Binary { left, right, .. } => {
                left.visit(f);
                right.visit(f);
            }
            ScalarExpr::Call { args, .. } => args.iter().for_each(|a| a.visit(f)),
            ScalarExpr::And(items) | ScalarExpr::Or(items) => items.iter().for_each(|a| a.visit(f)),
            ScalarExpr::Not(e) | ScalarExpr::IsNull(e) => e.visit(f),
            ScalarExpr::Case { whens, otherwise } => {
                for (c, r) in whens {
                    c.visit(f);
                    r.visit(f);
                }
                otherwise.visit(f);
            }
            ScalarExpr::InList { expr, list, .. } => {
                expr.visit(f);
                list.iter().for_each(|a| a.visit(f));
            }
            ScalarExpr::Subquery(sub) => {
                if let SubqueryKind::Quantified { expr, .. } = &sub.kind {
                    expr.visit(f);
                }
            }
            ScalarExpr::Aggregate(agg) => {
                agg.args.iter().for_each(|a| a.visit(f));
                agg.order_by.iter().for_each(|o| o.expr.visit(f));
                if let Some(filter) = &agg.filter {
                    filter.visit(f);
                }
            }
            ScalarExpr::Window(w) => w.for_each_child(&mut |c| c.visit(f)),
        }
    }

    /// Rebuilds this node with each direct child replaced by `g(child)`.
    pub fn map_children(self, g: &mut dyn FnMut(ScalarExpr) -> Result<ScalarExpr>) -> Result<ScalarExpr> {
        Ok(match self {
            e @ (ScalarExpr::Column(_)
            | ScalarExpr::Outer { .. }
            | ScalarExpr::Literal(_)
            | ScalarExpr::Param(_)) => e,
            ScalarExpr::Cast { expr, from, to } => ScalarExpr::Cast { expr: Box::new(g(*expr)?), from, to },
            ScalarExpr::Unary { op, expr } => ScalarExpr::Unary { op, expr: Box::new(g(*expr)?) },
            ScalarExpr::Binary { op, left, right } => {
                ScalarExpr::Binary { op, left: Box::new(g(*left)?), right: Box::new(g(*right)?) }
            }
            ScalarExpr::Call { func, args } => {
                ScalarExpr::Call { func, args: args.into_iter().map(&mut *g).collect::<Result<_>>()? }
            }
            ScalarExpr::And(items) => ScalarExpr::And(items.into_iter().map(&mut *g).collect::<Result<_>>()?),
            ScalarExpr::Or(items) => ScalarExpr::Or(items.into_iter().map(&mut *g).collect::<Result<_>>()?),
            ScalarExpr::Not(e) => ScalarExpr::Not(Box::new(g(*e)?)),
            ScalarExpr::IsNull(e) => ScalarExpr::IsNull(Box::new(g(*e)?)),
            ScalarExpr::Case { whens, otherwise } => ScalarExpr::Case {
                whens: whens.into_iter().map(|(c, r)| Ok((g(c)?, g(r)?))).collect::<Result<_>>()?,
                otherwise: Box::new(g(*otherwise)?),
            },
            ScalarExpr::InList { expr, list, negated } => ScalarExpr::InList {
                expr: Box::new(g(*expr)?),
                list: list.into_iter().map(&mut *g).collect::<Result<_>>()?,
                negated,
            },
            ScalarExpr::Subquery(mut sub) => {
                if let SubqueryKind::Quantified { expr, op, all } = sub.kind {
                    sub.kind = SubqueryKind::Quantified { expr: g(expr)?, op, all };
                }
                ScalarExpr::Subquery(sub)
            }
            ScalarExpr::Aggregate(mut agg) => {
                agg.args = agg.args.into_iter().map(&mut *g).collect::<Result<_>>()?;
                for o in agg.order_by.iter_mut() {
                    let e = std::mem::replace(&mut o.expr, ScalarExpr::null());
                    o.expr = g(e)?;
                }
                if let Some(f) = agg.filter.take() {
                    agg.filter = Some(g(f)?);
                }
                ScalarExpr::Aggregate(agg)
            }
            ScalarExpr::Window(w) => ScalarExpr::Window(Box::new(w.map_children(g)?)),
        })
    }

    /// Rewrites the expression bottom-up with `f`, which may replace any node.
    pub fn rewrite(self, f: &mut dyn FnMut(ScalarExpr) -> Result<ScalarExpr>) -> Result<ScalarExpr> {
        freshet_common::stack::grow(|| {
            let rebuilt = self.map_children(&mut |c| c.rewrite(f))?;
            f(rebuilt)
        })
    }

    /// Rewrites top-down: where `f` returns a replacement, it is used and
    /// not descended into; elsewhere the children are rewritten.
    pub fn replace_top_down(self, f: &mut dyn FnMut(&ScalarExpr) -> Option<ScalarExpr>) -> Result<ScalarExpr> {
        if let Some(r) = f(&self) {
            return Ok(r);
        }
        self.map_children(&mut |c| c.replace_top_down(f))
    }
}

fn eval_subquery(sub: &SubqueryExpr, row: &[Datum], ctx: &EvalContext<'_>) -> Result<Datum> {
    let runner = ctx
        .subqueries
        .ok_or_else(|| Error::unsupported("subquery in this context"))?;
    match &sub.kind {
        SubqueryKind::Exists => {
            let rows = runner.run(sub, ctx, row)?;
            Ok(Datum::Bool(!rows.is_empty()))
        }
        SubqueryKind::Scalar => {
            let rows = runner.run(sub, ctx, row)?;
            match rows.len() {
                0 => Ok(Datum::Null),
                1 => Ok(rows.into_iter().next().and_then(|r| r.into_iter().next()).unwrap_or(Datum::Null)),
                _ => Err(Error::new(
                    SqlState::CardinalityViolation,
                    "more than one row returned by a subquery used as an expression",
                )),
            }
        }
        SubqueryKind::Quantified { expr, op, all } => {
            let left = expr.eval(row, ctx)?;
            let rows = runner.run(sub, ctx, row)?;
            // ANY: true if any comparison is true; NULL if none true but some NULL.
            // ALL: false if any comparison is false; NULL if none false but some NULL.
            let mut saw_null = false;
            for r in rows {
                let right = r.into_iter().next().unwrap_or(Datum::Null);
                match func::eval_binary(*op, left.clone(), right, ctx)? {
                    Datum::Bool(b) if b != *all => return Ok(Datum::Bool(b)),
                    Datum::Null => saw_null = true,
                    _ => {}
                }
            }
            Ok(if saw_null { Datum::Null } else { Datum::Bool(*all) })
        }
    }
}

impl fmt::Display for ScalarExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, items: &[ScalarExpr], sep: &str) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        }
        match self {
            ScalarExpr::Column(i) => write!(f, "#{i}"),
            ScalarExpr::Outer { level, index } => write!(f, "^{level}#{index}"),
            ScalarExpr::Literal(d) => write!(f, "{d:?}"),
            ScalarExpr::Param(i) => write!(f, "${}", i + 1),
            ScalarExpr::Cast { expr, to, .. } => write!(f, "({expr})::{to}"),
            ScalarExpr::Unary { op, expr } => write!(f, "{op:?}({expr})"),
            ScalarExpr::Binary { op, left, right } => write!(f, "({left} {op:?} {right})"),
            ScalarExpr::Call { func, args } => {
                write!(f, "{func:?}(")?;
                list(f, args, ", ")?;
                f.write_str(")")
            }
            ScalarExpr::And(items) => {
                f.write_str("(")?;
                list(f, items, " AND ")?;
                f.write_str(")")
            }
            ScalarExpr::Or(items) => {
                f.write_str("(")?;
                list(f, items, " OR ")?;
                f.write_str(")")
            }
            ScalarExpr::Not(e) => write!(f, "NOT {e}"),
            ScalarExpr::IsNull(e) => write!(f, "{e} IS NULL"),
            ScalarExpr::Case { whens, otherwise } => {
                f.write_str("CASE")?;
                for (c, r) in whens {
                    write!(f, " WHEN {c} THEN {r}")?;
                }
                write!(f, " ELSE {otherwise} END")
            }
            ScalarExpr::InList { expr, list: items, negated } => {
                write!(f, "{expr} {}IN (", if *negated { "NOT " } else { "" })?;
                list(f, items, ", ")?;
                f.write_str(")")
            }
            ScalarExpr::Subquery(sub) => write!(f, "{:?}(subquery)", sub.kind),
            ScalarExpr::Aggregate(agg) => write!(f, "{agg}"),
            ScalarExpr::Window(w) => write!(f, "{w}"),
        }
    }
}
