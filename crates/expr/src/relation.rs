//! Relational plans: the IR between the binder and the engines.
//!
//! Every node's output is a list of columns; expressions refer to input
//! columns by position. The same plan is executed as a batch over a
//! snapshot (`freshet-compute::batch`) and, for materialized views, will be
//! rendered as an incrementally maintained dataflow.

use std::fmt;

use freshet_common::DataType;

use crate::agg::AggregateExpr;
use crate::scalar::ScalarExpr;
use crate::window::WindowExpr;

/// Identifies a stored relation (table) by its catalog OID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableRef(pub u32);

/// Join flavours. `Semi`/`Anti` output only the left columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Semi,
    Anti,
}

/// One ORDER BY key: an output column and its direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub column: usize,
    pub descending: bool,
    pub nulls_first: bool,
}

/// A relational plan node.
#[derive(Clone, Debug, PartialEq)]
pub enum RelExpr {
    /// All rows of a stored table (every column, in catalog order), plus
    /// the row's id as a trailing `bigint` column when `with_row_id`
    /// (UPDATE and DELETE use it to address rows).
    Get { table: TableRef, column_types: Vec<DataType>, with_row_id: bool },
    /// Rows computed from constant expressions (VALUES, SELECT without FROM).
    Values { rows: Vec<Vec<ScalarExpr>>, column_types: Vec<DataType> },
    /// Appends one column per expression to each input row.
    Map { input: Box<RelExpr>, exprs: Vec<ScalarExpr> },
    /// Calls set-returning functions on each input row (arguments evaluated
    /// over it) and emits the row extended with each result row; several
    /// functions are zipped (shorter ones padded with NULL), an optional
    /// ordinality column counts from 1. With `outer`, a row for which the
    /// functions return nothing is kept once, extended with NULLs.
    FlatMap {
        input: Box<RelExpr>,
        funcs: Vec<(crate::TableFunc, Vec<ScalarExpr>)>,
        ordinality: bool,
        outer: bool,
    },
    /// Keeps the listed columns, in order (may repeat).
    Project { input: Box<RelExpr>, columns: Vec<usize> },
    /// Keeps rows for which every predicate is true.
    Filter { input: Box<RelExpr>, predicates: Vec<ScalarExpr> },
    /// Output is left columns then right columns (left only for Semi/Anti);
    /// `on` is evaluated over that concatenation.
    Join { left: Box<RelExpr>, right: Box<RelExpr>, kind: JoinKind, on: ScalarExpr },
    /// Groups by `group_key` and computes `aggregates`; output is the key
    /// columns then one column per aggregate. With an empty key, exactly one
    /// row is produced even for empty input.
    Reduce { input: Box<RelExpr>, group_key: Vec<ScalarExpr>, aggregates: Vec<AggregateExpr> },
    /// Removes duplicate rows.
    Distinct { input: Box<RelExpr> },
    /// DISTINCT ON: sorts by `order_by` and keeps the first row of each
    /// distinct combination of the `keys` columns.
    DistinctOn { input: Box<RelExpr>, keys: Vec<usize>, order_by: Vec<SortKey> },
    /// Concatenates inputs (UNION ALL); all have the same arity.
    Union { inputs: Vec<RelExpr> },
    /// INTERSECT / EXCEPT with or without ALL.
    SetOp { left: Box<RelExpr>, right: Box<RelExpr>, op: SetOpKind, all: bool },
    /// Sorts by `order_by`, then skips `offset` rows and keeps `limit` rows.
    TopK { input: Box<RelExpr>, order_by: Vec<SortKey>, limit: Option<u64>, offset: u64 },
    /// Parameterized LIMIT/OFFSET evaluated at execution (e.g. `LIMIT $1`).
    DynamicTopK { input: Box<RelExpr>, order_by: Vec<SortKey>, limit: Option<ScalarExpr>, offset: Option<ScalarExpr> },
    /// Appends one column per window function call, each computed over
    /// the input's rows (partitioned and ordered as the call says); see
    /// [`crate::window`].
    Window { input: Box<RelExpr>, exprs: Vec<WindowExpr> },
    /// A LATERAL join: `right` is evaluated once per `left` row, with that
    /// row as its innermost enclosing row (`Outer { level: 1 }`); output
    /// and `on` as for `Join` (`kind` is Inner or Left).
    Apply { left: Box<RelExpr>, right: Box<RelExpr>, kind: JoinKind, on: ScalarExpr },
    /// WITH RECURSIVE: `base`'s rows, then `step` evaluated repeatedly over
    /// the rows the previous round added (read by `step` through
    /// `WorkTable { id }`) until a round adds none. With `distinct`
    /// (UNION), rows already produced are not added again.
    Recursive { id: u32, base: Box<RelExpr>, step: Box<RelExpr>, distinct: bool },
    /// The working table of the enclosing `Recursive` with this `id`.
    WorkTable { id: u32, column_types: Vec<DataType> },
    /// A relation computed by the session at execution time (system
    /// catalogs); identified by name, with its column types.
    System { name: String, column_types: Vec<DataType> },
}

/// INTERSECT or EXCEPT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetOpKind {
    Intersect,
    Except,
}

impl RelExpr {
    /// Number of output columns.
    pub fn arity(&self) -> usize {
        match self {
            RelExpr::Get { column_types, with_row_id, .. } => column_types.len() + *with_row_id as usize,
            RelExpr::Values { column_types, .. }
            | RelExpr::System { column_types, .. }
            | RelExpr::WorkTable { column_types, .. } => column_types.len(),
            RelExpr::Recursive { base, .. } => base.arity(),
            RelExpr::Apply { left, right, .. } => left.arity() + right.arity(),
            RelExpr::Map { input, exprs } => input.arity() + exprs.len(),
            RelExpr::Window { input, exprs } => input.arity() + exprs.len(),
            RelExpr::FlatMap { input, funcs, ordinality, .. } => {
                input.arity() + funcs.iter().map(|(f, _)| f.width()).sum::<usize>() + *ordinality as usize
            }
            RelExpr::Project { columns, .. } => columns.len(),
            RelExpr::Filter { input, .. }
            | RelExpr::Distinct { input }
            | RelExpr::DistinctOn { input, .. }
            | RelExpr::TopK { input, .. }
            | RelExpr::DynamicTopK { input, .. } => input.arity(),
            RelExpr::Join { left, right, kind, .. } => match kind {
                JoinKind::Semi | JoinKind::Anti => left.arity(),
                _ => left.arity() + right.arity(),
            },
            RelExpr::Reduce { group_key, aggregates, .. } => group_key.len() + aggregates.len(),
            RelExpr::Union { inputs } => inputs.first().map(|i| i.arity()).unwrap_or(0),
            RelExpr::SetOp { left, .. } => left.arity(),
        }
    }

    /// Wraps `self` in a filter (no-op for no predicates).
    pub fn filter(self, predicates: Vec<ScalarExpr>) -> RelExpr {
        if predicates.is_empty() {
            self
        } else {
            RelExpr::Filter { input: Box::new(self), predicates }
        }
    }

    /// Wraps `self` in a map (no-op for no expressions).
    pub fn map(self, exprs: Vec<ScalarExpr>) -> RelExpr {
        if exprs.is_empty() {
            self
        } else {
            RelExpr::Map { input: Box::new(self), exprs }
        }
    }

    /// Wraps `self` in a projection (no-op when it keeps every column in order).
    pub fn project(self, columns: Vec<usize>) -> RelExpr {
        if columns.len() == self.arity() && columns.iter().enumerate().all(|(i, c)| i == *c) {
            self
        } else {
            RelExpr::Project { input: Box::new(self), columns }
        }
    }

    /// Rebuilds this node with each direct input replaced by `f(input)`
    /// (expressions, and plans of subqueries in them, are left alone).
    pub fn map_inputs(self, f: &mut dyn FnMut(RelExpr) -> RelExpr) -> RelExpr {
        let mut b = |r: Box<RelExpr>| Box::new(f(*r));
        match self {
            leaf @ (RelExpr::Get { .. } | RelExpr::Values { .. } | RelExpr::WorkTable { .. } | RelExpr::System { .. }) => leaf,
            RelExpr::Map { input, exprs } => RelExpr::Map { input: b(input), exprs },
            RelExpr::FlatMap { input, funcs, ordinality, outer } => RelExpr::FlatMap { input: b(input), funcs, ordinality, outer },
            RelExpr::Project { input, columns } => RelExpr::Project { input: b(input), columns },
            RelExpr::Filter { input, predicates } => RelExpr::Filter { input: b(input), predicates },
            RelExpr::Join { left, right, kind, on } => {
                let left = b(left);
                RelExpr::Join { left, right: b(right), kind, on }
            }
            RelExpr::Reduce { input, group_key, aggregates } => RelExpr::Reduce { input: b(input), group_key, aggregates },
            RelExpr::Distinct { input } => RelExpr::Distinct { input: b(input) },
            RelExpr::DistinctOn { input, keys, order_by } => RelExpr::DistinctOn { input: b(input), keys, order_by },
            RelExpr::Union { inputs } => RelExpr::Union { inputs: inputs.into_iter().map(&mut *f).collect() },
            RelExpr::SetOp { left, right, op, all } => {
                let left = b(left);
                RelExpr::SetOp { left, right: b(right), op, all }
            }
            RelExpr::TopK { input, order_by, limit, offset } => RelExpr::TopK { input: b(input), order_by, limit, offset },
            RelExpr::DynamicTopK { input, order_by, limit, offset } => {
                RelExpr::DynamicTopK { input: b(input), order_by, limit, offset }
            }
            RelExpr::Window { input, exprs } => RelExpr::Window { input: b(input), exprs },
            RelExpr::Apply { left, right, kind, on } => {
                let left = b(left);
                RelExpr::Apply { left, right: b(right), kind, on }
            }
            RelExpr::Recursive { id, base, step, distinct } => {
                let base = b(base);
                RelExpr::Recursive { id, base, step: b(step), distinct }
            }
        }
    }

    /// Calls `f` on every plan node (pre-order), including plans of
    /// subqueries nested in expressions.
    pub fn visit(&self, f: &mut dyn FnMut(&RelExpr)) {
        f(self);
        let visit_expr = |e: &ScalarExpr, f: &mut dyn FnMut(&RelExpr)| {
            e.visit(&mut |n| {
                if let ScalarExpr::Subquery(sub) = n {
                    sub.plan.visit(f);
                }
            })
        };
        match self {
            RelExpr::Get { .. } | RelExpr::System { .. } | RelExpr::WorkTable { .. } => {}
            RelExpr::Recursive { base, step, .. } => {
                base.visit(f);
                step.visit(f)
            }
            RelExpr::Apply { left, right, on, .. } => {
                visit_expr(on, f);
                left.visit(f);
                right.visit(f)
            }
            RelExpr::Values { rows, .. } => rows.iter().flatten().for_each(|e| visit_expr(e, f)),
            RelExpr::Map { input, exprs } => {
                exprs.iter().for_each(|e| visit_expr(e, f));
                input.visit(f)
            }
            RelExpr::FlatMap { input, funcs, .. } => {
                funcs.iter().flat_map(|(_, args)| args).for_each(|e| visit_expr(e, f));
                input.visit(f)
            }
            RelExpr::Window { input, exprs } => {
                for w in exprs {
                    w.for_each_child(&mut |e| visit_expr(e, f));
                }
                input.visit(f)
            }
            RelExpr::Filter { input, predicates } => {
                predicates.iter().for_each(|e| visit_expr(e, f));
                input.visit(f)
            }
            RelExpr::Project { input, .. }
            | RelExpr::Distinct { input }
            | RelExpr::DistinctOn { input, .. }
            | RelExpr::TopK { input, .. }
            | RelExpr::DynamicTopK { input, .. } => input.visit(f),
            RelExpr::Join { left, right, on, .. } => {
                visit_expr(on, f);
                left.visit(f);
                right.visit(f)
            }
            RelExpr::Reduce { input, group_key, aggregates } => {
                group_key.iter().for_each(|e| visit_expr(e, f));
                for a in aggregates {
                    a.args.iter().for_each(|e| visit_expr(e, f));
                }
                input.visit(f)
            }
            RelExpr::Union { inputs } => inputs.iter().for_each(|i| i.visit(f)),
            RelExpr::SetOp { left, right, .. } => {
                left.visit(f);
                right.visit(f)
            }
        }
    }

    fn fmt_indent(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        let list = |items: &[ScalarExpr]| items.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ");
        match self {
            RelExpr::Get { table, .. } => writeln!(f, "{pad}Get table={}", table.0),
            RelExpr::System { name, .. } => writeln!(f, "{pad}System {name}"),
            RelExpr::WorkTable { id, .. } => writeln!(f, "{pad}WorkTable {id}"),
            RelExpr::Apply { left, right, kind, on } => {
                writeln!(f, "{pad}Apply {kind:?} on={on}")?;
                left.fmt_indent(f, depth + 1)?;
                right.fmt_indent(f, depth + 1)
            }
            RelExpr::Recursive { id, base, step, distinct } => {
                writeln!(f, "{pad}Recursive {id} distinct={distinct}")?;
                base.fmt_indent(f, depth + 1)?;
                step.fmt_indent(f, depth + 1)
            }
            RelExpr::Values { rows, .. } => {
                writeln!(f, "{pad}Values rows={}", rows.len())
            }
            RelExpr::Map { input, exprs } => {
                writeln!(f, "{pad}Map {}", list(exprs))?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::FlatMap { input, funcs, ordinality, outer } => {
                let calls: Vec<String> = funcs.iter().map(|(func, args)| format!("{func:?}({})", list(args))).collect();
                writeln!(f, "{pad}FlatMap {} ordinality={ordinality} outer={outer}", calls.join(", "))?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::Window { input, exprs } => {
                let calls = exprs.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ");
                writeln!(f, "{pad}Window {calls}")?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::Project { input, columns } => {
                writeln!(f, "{pad}Project {columns:?}")?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::Filter { input, predicates } => {
                writeln!(f, "{pad}Filter {}", list(predicates))?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::Join { left, right, kind, on } => {
                writeln!(f, "{pad}Join {kind:?} on={on}")?;
                left.fmt_indent(f, depth + 1)?;
                right.fmt_indent(f, depth + 1)
            }
            RelExpr::Reduce { input, group_key, aggregates } => {
                let aggs = aggregates.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
                writeln!(f, "{pad}Reduce key=[{}] aggs=[{aggs}]", list(group_key))?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::Distinct { input } => {
                writeln!(f, "{pad}Distinct")?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::DistinctOn { input, keys, order_by } => {
                writeln!(f, "{pad}DistinctOn keys={keys:?} order={order_by:?}")?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::Union { inputs } => {
                writeln!(f, "{pad}Union")?;
                inputs.iter().try_for_each(|i| i.fmt_indent(f, depth + 1))
            }
            RelExpr::SetOp { left, right, op, all } => {
                writeln!(f, "{pad}{op:?} all={all}")?;
                left.fmt_indent(f, depth + 1)?;
                right.fmt_indent(f, depth + 1)
            }
            RelExpr::TopK { input, order_by, limit, offset } => {
                writeln!(f, "{pad}TopK order={order_by:?} limit={limit:?} offset={offset}")?;
                input.fmt_indent(f, depth + 1)
            }
            RelExpr::DynamicTopK { input, order_by, limit, offset } => {
                writeln!(f, "{pad}TopK order={order_by:?} limit={limit:?} offset={offset:?}")?;
                input.fmt_indent(f, depth + 1)
            }
        }
    }
}

impl fmt::Display for RelExpr {
    /// A stable indented tree: our EXPLAIN output and golden-test format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_indent(f, 0)
    }
}
