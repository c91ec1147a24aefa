//! Decorrelation: rewrites subqueries inside expressions into joins, so a
//! view that uses them can be maintained as a dataflow.
//!
//! The batch executor runs a subquery per row (nested loops, with
//! enclosing-row references); a dataflow cannot, so before rendering every
//! supported subquery becomes a join over collections:
//!
//! - `EXISTS (q)` / `x IN (q)` / `x op ANY (q)` as a conjunct of a WHERE
//!   clause: a semi join of the filtered rows with `q`, on `q`'s
//!   correlation predicates (and `x op q.col`).
//! - `NOT EXISTS (q)`, `x NOT IN (q)`, `x op ALL (q)`: an anti join. NOT IN
//!   drops a row when any subquery value compares equal *or unknown* (a
//!   NULL on either side), and `op ALL` when any comparison is not true,
//!   which is exactly SQL's three-valued result filtered by WHERE.
//! - A scalar subquery (`(SELECT agg(...) FROM ... WHERE inner = outer)`)
//!   anywhere in a select list or WHERE clause: the aggregate is grouped by
//!   the correlation keys and left-joined on them; a row without a match
//!   gets the aggregate's value over no rows (`count` 0, others NULL), not
//!   NULL, which avoids the classic COUNT bug. An uncorrelated scalar
//!   subquery that returns at most one row by construction (a global
//!   aggregate or `LIMIT 1`) is left-joined on `true`.
//! - Any other scalar subquery correlated by equalities (or uncorrelated):
//!   its rows are counted per correlation key and left-joined; more than
//!   one row for a key yields 21000, as the batch executor raises.
//!
//! Correlation is supported where it appears as predicates in the
//! subquery's WHERE clause (above which only projections may sit; for
//! scalar subqueries, equalities under a global aggregate). Anything else
//! (correlation inside a join, a nested subquery, EXISTS under OR, a
//! scalar subquery that may return several rows) is left in place, and
//! `check::check_plan` refuses it with 0A000 naming the construct.
//!
//! The rewritten plan returns the same rows as the original, which the
//! view tests check by comparing each view against the batch executor
//! running the original (correlated) plan.

use freshet_common::io::TextContext;
use freshet_common::{DataType, Datum, Result, TimestampTz};
use freshet_expr::agg::Accumulator;
use freshet_expr::{AggregateExpr, AggregateFunc, BinaryOp, EvalContext, JoinKind, RelExpr, ScalarExpr, SubqueryExpr, SubqueryKind};

/// Rewrites every supported subquery of `plan` into joins (recursively).
pub fn decorrelate(plan: RelExpr) -> Result<RelExpr> {
    let plan = map_inputs(plan, &mut decorrelate)?;
    Ok(match plan {
        RelExpr::Filter { input, predicates } => decorrelate_filter(*input, predicates)?,
        RelExpr::Map { input, exprs } if exprs.iter().any(has_scalar_subquery) => {
            let arity = input.arity();
            let (input, exprs) = lift_scalar_subqueries(*input, exprs)?;
            // Keep the original layout: input columns, then the expressions.
            let widened = input.arity();
            let n = exprs.len();
            let mut columns: Vec<usize> = (0..arity).collect();
            columns.extend(widened..widened + n);
            input.map(exprs).project(columns)
        }
        other => other,
    })
}

/// Applies `f` to every direct input of `plan`.
fn map_inputs(plan: RelExpr, f: &mut dyn FnMut(RelExpr) -> Result<RelExpr>) -> Result<RelExpr> {
    let b = |r: Box<RelExpr>, f: &mut dyn FnMut(RelExpr) -> Result<RelExpr>| -> Result<Box<RelExpr>> { Ok(Box::new(f(*r)?)) };
    Ok(match plan {
        leaf @ (RelExpr::Get { .. } | RelExpr::Values { .. } | RelExpr::System { .. } | RelExpr::WorkTable { .. }) => leaf,
        RelExpr::Apply { left, right, kind, on } => RelExpr::Apply { left: b(left, f)?, right: b(right, f)?, kind, on },
        RelExpr::Recursive { id, base, step, distinct } => RelExpr::Recursive { id, base: b(base, f)?, step: b(step, f)?, distinct },
        RelExpr::Map { input, exprs } => RelExpr::Map { input: b(input, f)?, exprs },
        RelExpr::FlatMap { input, funcs, ordinality, outer } => {
            RelExpr::FlatMap { input: b(input, f)?, funcs, ordinality, outer }
        }
        RelExpr::Project { input, columns } => RelExpr::Project { input: b(input, f)?, columns },
        RelExpr::Filter { input, predicates } => RelExpr::Filter { input: b(input, f)?, predicates },
        RelExpr::Join { left, right, kind, on } => RelExpr::Join { left: b(left, f)?, right: b(right, f)?, kind, on },
        RelExpr::Reduce { input, group_key, aggregates } => RelExpr::Reduce { input: b(input, f)?, group_key, aggregates },
        RelExpr::Distinct { input } => RelExpr::Distinct { input: b(input, f)? },
        RelExpr::DistinctOn { input, keys, order_by } => RelExpr::DistinctOn { input: b(input, f)?, keys, order_by },
        RelExpr::Union { inputs } => RelExpr::Union { inputs: inputs.into_iter().map(&mut *f).collect::<Result<_>>()? },
        RelExpr::SetOp { left, right, op, all } => RelExpr::SetOp { left: b(left, f)?, right: b(right, f)?, op, all },
        RelExpr::TopK { input, order_by, limit, offset } => RelExpr::TopK { input: b(input, f)?, order_by, limit, offset },
        RelExpr::DynamicTopK { input, order_by, limit, offset } => {
            RelExpr::DynamicTopK { input: b(input, f)?, order_by, limit, offset }
        }
        RelExpr::Window { input, exprs } => RelExpr::Window { input: b(input, f)?, exprs },
    })
}

fn has_scalar_subquery(e: &ScalarExpr) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        if let ScalarExpr::Subquery(s) = n {
            if matches!(s.kind, SubqueryKind::Scalar) {
                found = true;
            }
        }
    });
    found
}

/// Whether `test` holds for any expression of any node of `plan`
/// (descending into the plans of subqueries, as `RelExpr::visit` does).
fn any_plan_expression(plan: &RelExpr, test: &dyn Fn(&ScalarExpr) -> bool) -> bool {
    let mut found = false;
    plan.visit(&mut |node| {
        let mut check = |e: &ScalarExpr| found |= test(e);
        match node {
            RelExpr::Map { exprs, .. } => exprs.iter().for_each(&mut check),
            RelExpr::Filter { predicates, .. } => predicates.iter().for_each(&mut check),
            RelExpr::Join { on, .. } | RelExpr::Apply { on, .. } => check(on),
            RelExpr::Values { rows, .. } => rows.iter().flatten().for_each(&mut check),
            RelExpr::FlatMap { funcs, .. } => funcs.iter().flat_map(|(_, a)| a).for_each(&mut check),
            RelExpr::Reduce { group_key, aggregates, .. } => {
                group_key.iter().for_each(&mut check);
                aggregates.iter().flat_map(|a| a.args.iter().chain(a.filter.iter())).for_each(&mut check);
            }
            RelExpr::Window { exprs, .. } => exprs.iter().for_each(|w| w.for_each_child(&mut check)),
            RelExpr::DynamicTopK { limit, offset, .. } => limit.iter().chain(offset.iter()).for_each(&mut check),
            _ => {}
        }
    });
    found
}

/// Whether `plan` (a subquery's plan) contains subqueries of its own.
fn has_nested_subquery(plan: &RelExpr) -> bool {
    any_plan_expression(plan, &|e| {
        let mut found = false;
        e.visit(&mut |n| found |= matches!(n, ScalarExpr::Subquery(_)));
        found
    })
}

/// Whether `e` refers to an enclosing row at any level.
fn has_outer(e: &ScalarExpr) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        if matches!(n, ScalarExpr::Outer { .. }) {
            found = true;
        }
    });
    found
}

/// Whether `e` reads a column of its own row.
fn has_column(e: &ScalarExpr) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        if matches!(n, ScalarExpr::Column(_)) {
            found = true;
        }
    });
    found
}

/// Whether any expression of `plan` refers to an enclosing row.
fn plan_has_outer(plan: &RelExpr) -> bool {
    any_plan_expression(plan, &has_outer)
}

/// Splits a subquery plan into an uncorrelated plan and the correlation
/// predicates pulled out of its WHERE clauses. The returned plan keeps the
/// original output columns as a prefix (it may add columns after them);
/// the predicates refer to its columns (`Column`) and to the enclosing
/// row (`Outer { level: 1 }`). `None` when correlation appears anywhere
/// else.
fn pull_correlation(plan: RelExpr) -> Option<(RelExpr, Vec<ScalarExpr>)> {
    match plan {
        RelExpr::Filter { input, predicates } => {
            let (input, mut pulled) = pull_correlation(*input)?;
            let (correlated, local): (Vec<ScalarExpr>, Vec<ScalarExpr>) =
                predicates.into_iter().partition(has_outer);
            pulled.extend(correlated);
            Some((input.filter(local), pulled))
        }
        RelExpr::Project { input, columns } => {
            let (input, pulled) = pull_correlation(*input)?;
            if pulled.is_empty() {
                return Some((RelExpr::Project { input: Box::new(input), columns }, pulled));
            }
            // Keep every input column after the projected ones, so the
            // predicates can still read them.
            let offset = columns.len();
            let mut widened = columns;
            widened.extend(0..input.arity());
            let pulled = pulled.into_iter().map(|p| shift_columns(p, 0, offset)).collect::<Option<Vec<_>>>()?;
            Some((RelExpr::Project { input: Box::new(input), columns: widened }, pulled))
        }
        RelExpr::Map { input, exprs } => {
            let original = input.arity();
            let (input, pulled) = pull_correlation(*input)?;
            if exprs.iter().any(has_outer) {
                return None;
            }
            if pulled.is_empty() {
                return Some((input.map(exprs), pulled));
            }
            // Map appends after the (possibly widened) input; move the
            // mapped columns right after the original input columns.
            let widened = input.arity();
            let n = exprs.len();
            let mut columns: Vec<usize> = (0..original).collect();
            columns.extend(widened..widened + n);
            columns.extend(original..widened);
            let pulled = pulled.into_iter().map(|p| shift_columns(p, original, n)).collect::<Option<Vec<_>>>()?;
            Some((input.map(exprs).project(columns), pulled))
        }
        other => (!plan_has_outer(&other)).then_some((other, Vec::new())),
    }
}

/// Adds `by` to every column reference `>= from`.
fn shift_columns(e: ScalarExpr, from: usize, by: usize) -> Option<ScalarExpr> {
    e.rewrite(&mut |n| {
        Ok(match n {
            ScalarExpr::Column(c) if c >= from => ScalarExpr::Column(c + by),
            other => other,
        })
    })
    .ok()
}

/// Rewrites a pulled predicate into a join condition over
/// `left ++ right`: the enclosing row's columns are the left side (width
/// `left_arity`), the subquery's columns follow.
fn join_condition(e: ScalarExpr, left_arity: usize) -> Option<ScalarExpr> {
    let mut ok = true;
    let out = e
        .rewrite(&mut |n| {
            Ok(match n {
                ScalarExpr::Column(c) => ScalarExpr::Column(left_arity + c),
                ScalarExpr::Outer { level: 1, index } => ScalarExpr::Column(index),
                ScalarExpr::Outer { level, index } => {
                    ok = false;
                    ScalarExpr::Outer { level, index }
                }
                other => other,
            })
        })
        .ok()?;
    ok.then_some(out)
}

fn and(mut conjuncts: Vec<ScalarExpr>) -> ScalarExpr {
    match conjuncts.len() {
        0 => ScalarExpr::bool(true),
        1 => conjuncts.remove(0),
        _ => ScalarExpr::And(conjuncts),
    }
}

/// A WHERE conjunct that becomes a semi or anti join.
struct JoinPredicate {
    kind: JoinKind,
    subquery: SubqueryExpr,
}

fn as_join_predicate(p: &ScalarExpr) -> Option<JoinPredicate> {
    let (negated, sub) = match p {
        ScalarExpr::Subquery(s) => (false, s),
        ScalarExpr::Not(inner) => match inner.as_ref() {
            ScalarExpr::Subquery(s) => (true, s),
            _ => return None,
        },
        _ => return None,
    };
    let kind = match (&sub.kind, negated) {
        (SubqueryKind::Exists, false) | (SubqueryKind::Quantified { all: false, .. }, false) => JoinKind::Semi,
        (SubqueryKind::Exists, true) | (SubqueryKind::Quantified { all: false, .. }, true) => JoinKind::Anti,
        (SubqueryKind::Quantified { all: true, .. }, false) => JoinKind::Anti,
        _ => return None,
    };
    Some(JoinPredicate { kind, subquery: (**sub).clone() })
}

/// Turns the subquery conjuncts of a WHERE clause into semi/anti joins
/// and lifts scalar subqueries out of the remaining predicates.
fn decorrelate_filter(input: RelExpr, predicates: Vec<ScalarExpr>) -> Result<RelExpr> {
    let mut plan = input;
    let mut rest = Vec::new();
    for p in predicates {
        match as_join_predicate(&p).and_then(|jp| subquery_join(&plan, jp)) {
            Some((kind, right, on)) => {
                plan = RelExpr::Join { left: Box::new(plan), right: Box::new(right), kind, on };
            }
            None => rest.push(p),
        }
    }
    if !rest.iter().any(has_scalar_subquery) {
        return Ok(plan.filter(rest));
    }
    let arity = plan.arity();
    let (widened, rest) = lift_scalar_subqueries(plan, rest)?;
    Ok(widened.filter(rest).project((0..arity).collect()))
}

/// The join replacing one EXISTS / IN / ANY / ALL conjunct over `left`:
/// its kind, right side and condition. `None` when unsupported.
fn subquery_join(left: &RelExpr, jp: JoinPredicate) -> Option<(JoinKind, RelExpr, ScalarExpr)> {
    if has_nested_subquery(&jp.subquery.plan) {
        return None;
    }
    let left_arity = left.arity();
    let (right, pulled) = pull_correlation(jp.subquery.plan)?;
    let mut conditions = pulled.into_iter().map(|p| join_condition(p, left_arity)).collect::<Option<Vec<_>>>()?;
    if let SubqueryKind::Quantified { expr, op, all } = jp.subquery.kind {
        if has_outer(&expr) {
            return None;
        }
        let compare = ScalarExpr::Binary { op, left: Box::new(expr), right: Box::new(ScalarExpr::Column(left_arity)) };
        conditions.push(match (all, jp.kind) {
            // IN / op ANY: a match is a true comparison.
            (false, JoinKind::Semi) => compare,
            // NOT IN / NOT op ANY: a row survives only if every comparison
            // is false, so a true or unknown one excludes it.
            (false, _) => ScalarExpr::Or(vec![compare.clone(), ScalarExpr::IsNull(Box::new(compare))]),
            // op ALL: a row survives only if every comparison is true.
            (true, _) => {
                ScalarExpr::Or(vec![ScalarExpr::Not(Box::new(compare.clone())), ScalarExpr::IsNull(Box::new(compare))])
            }
        });
    }
    Some((jp.kind, right, and(conditions)))
}

/// Replaces the scalar subqueries in `exprs` (expressions over `input`'s
/// rows) by columns of left joins appended to `input`. Subqueries that
/// cannot be decorrelated are left in place (and refused later).
fn lift_scalar_subqueries(input: RelExpr, exprs: Vec<ScalarExpr>) -> Result<(RelExpr, Vec<ScalarExpr>)> {
    let mut plan = input;
    let mut out = Vec::with_capacity(exprs.len());
    for e in exprs {
        let rewritten = e.replace_top_down(&mut |n| {
            let ScalarExpr::Subquery(sub) = n else { return None };
            if !matches!(sub.kind, SubqueryKind::Scalar) {
                return None;
            }
            let (joined, value) = scalar_join(&plan, sub)?;
            plan = joined;
            Some(value)
        })?;
        out.push(rewritten);
    }
    Ok((plan, out))
}

/// Left-joins a scalar subquery's value to `left`; returns the widened
/// plan and the expression (over it) that yields the subquery's value.
fn scalar_join(left: &RelExpr, sub: &SubqueryExpr) -> Option<(RelExpr, ScalarExpr)> {
    if has_nested_subquery(&sub.plan) {
        return None;
    }
    let left_arity = left.arity();
    // The subquery's output column as an expression over the node below
    // its top projections and maps.
    let (base, value) = peel_projections(&sub.plan, 0)?;
    if !plan_has_outer(&sub.plan) && at_most_one_row(&sub.plan) {
        let right = sub.plan.clone().project(vec![0]);
        let joined = RelExpr::Join { left: Box::new(left.clone()), right: Box::new(right), kind: JoinKind::Left, on: ScalarExpr::bool(true) };
        return Some((joined, ScalarExpr::Column(left_arity)));
    }
    // Correlated: a global aggregate over a filter with equality correlation.
    let RelExpr::Reduce { input, group_key, aggregates } = base else {
        return single_row_join(left, &sub.plan);
    };
    if !group_key.is_empty() || aggregates.iter().any(|a| a.args.iter().chain(a.filter.iter()).any(has_outer)) {
        return None;
    }
    let (inner, pulled) = pull_correlation((**input).clone())?;
    let (keys, outer_keys) = equality_keys(pulled, left_arity)?;
    let k = keys.len();
    let m = aggregates.len();
    let grouped = RelExpr::Reduce { input: Box::new(inner), group_key: keys, aggregates: aggregates.clone() }
        .map(vec![ScalarExpr::bool(true)]);
    let on = keys_match(outer_keys, left_arity);
    let joined = RelExpr::Join { left: Box::new(left.clone()), right: Box::new(grouped), kind: JoinKind::Left, on };
    // Aggregate j of the original Reduce is column `left_arity + k + j`;
    // without a match it takes its value over no rows.
    let marker = ScalarExpr::Column(left_arity + k + m);
    let empty_values = empty_aggregate_values(aggregates)?;
    let value = value
        .rewrite(&mut |n| {
            Ok(match n {
                ScalarExpr::Column(j) => ScalarExpr::Case {
                    whens: vec![(ScalarExpr::IsNull(Box::new(marker.clone())), ScalarExpr::Literal(empty_values[j].clone()))],
                    otherwise: Box::new(ScalarExpr::Column(left_arity + k + j)),
                },
                other => other,
            })
        })
        .ok()?;
    Some((joined, value))
}

/// A scalar subquery that is not an aggregate (`(SELECT name FROM items i
/// WHERE i.id = o.item)`, or uncorrelated and not provably one row): its
/// rows are grouped by the correlation keys (none when uncorrelated) into
/// their count and value, left-joined on the keys; more than one row for
/// a key makes the value an error (21000), as the batch executor raises.
fn single_row_join(left: &RelExpr, plan: &RelExpr) -> Option<(RelExpr, ScalarExpr)> {
    let left_arity = left.arity();
    let (base, value) = peel_projections(plan, 0)?;
    if has_outer(&value) {
        return None;
    }
    let (inner, pulled) = pull_correlation(base.clone())?;
    let (keys, outer_keys) = equality_keys(pulled, left_arity)?;
    let k = keys.len();
    let arity = inner.arity();
    let aggregate = |func: AggregateFunc, args: Vec<ScalarExpr>, output_type: DataType| AggregateExpr {
        func,
        args,
        distinct: false,
        filter: None,
        order_by: vec![],
        input_type: DataType::Unknown,
        output_type,
    };
    let grouped = RelExpr::Reduce {
        input: Box::new(inner.map(vec![value])),
        group_key: keys,
        aggregates: vec![
            aggregate(AggregateFunc::CountStar, vec![], DataType::Int8),
            aggregate(AggregateFunc::Max, vec![ScalarExpr::Column(arity)], DataType::Unknown),
        ],
    };
    let on = keys_match(outer_keys, left_arity);
    let joined = RelExpr::Join { left: Box::new(left.clone()), right: Box::new(grouped), kind: JoinKind::Left, on };
    let count = ScalarExpr::Column(left_arity + k);
    let too_many = ScalarExpr::Binary {
        op: BinaryOp::Gt,
        left: Box::new(count),
        right: Box::new(ScalarExpr::Literal(Datum::Int8(1))),
    };
    let value = ScalarExpr::Case {
        whens: vec![(too_many, ScalarExpr::Call { func: freshet_expr::Func::SubqueryTooManyRows, args: vec![] })],
        otherwise: Box::new(ScalarExpr::Column(left_arity + k + 1)),
    };
    Some((joined, value))
}

/// Splits correlation predicates that are all `inner = outer` equalities
/// into the inner key expressions (over the subquery's rows) and the outer
/// ones (rewritten over the left side of a join of width `left_arity`).
fn equality_keys(pulled: Vec<ScalarExpr>, left_arity: usize) -> Option<(Vec<ScalarExpr>, Vec<ScalarExpr>)> {
    let mut keys = Vec::new();
    let mut outer_keys = Vec::new();
    for p in pulled {
        let ScalarExpr::Binary { op: BinaryOp::Eq, left: a, right: b } = p else { return None };
        let (inner_side, outer_side) = match (has_outer(&a), has_outer(&b)) {
            (false, true) if !has_column(&b) => (*a, *b),
            (true, false) if !has_column(&a) => (*b, *a),
            _ => return None,
        };
        keys.push(inner_side);
        outer_keys.push(join_condition(outer_side, left_arity)?);
    }
    Some((keys, outer_keys))
}

/// The join condition matching the outer keys with a grouped right side
/// whose key columns come first (`true` without keys).
fn keys_match(outer_keys: Vec<ScalarExpr>, left_arity: usize) -> ScalarExpr {
    and(outer_keys
        .into_iter()
        .enumerate()
        .map(|(i, outer)| ScalarExpr::Binary {
            op: BinaryOp::Eq,
            left: Box::new(outer),
            right: Box::new(ScalarExpr::Column(left_arity + i)),
        })
        .collect())
}

/// The value of each aggregate over no rows.
fn empty_aggregate_values(aggregates: &[freshet_expr::AggregateExpr]) -> Option<Vec<Datum>> {
    let text = TextContext::default();
    let ctx = EvalContext { params: &[], outer: &[], text: &text, subqueries: None, now: TimestampTz(0), sequences: None };
    aggregates.iter().map(|a| Accumulator::new(a).finish(&ctx).ok()).collect()
}

/// Follows output column `col` of `plan` down through projections and
/// maps; returns the node below them and the column as an expression over
/// that node's columns.
fn peel_projections(plan: &RelExpr, col: usize) -> Option<(&RelExpr, ScalarExpr)> {
    match plan {
        RelExpr::Project { input, columns } => peel_projections(input, *columns.get(col)?),
        RelExpr::Map { input, exprs } => {
            let arity = input.arity();
            if col < arity {
                return peel_projections(input, col);
            }
            let e = exprs.get(col - arity)?.clone();
            if has_outer(&e) {
                return None;
            }
            // The expression reads the map's input: expand each column it reads.
            let mut failed = false;
            let mut below: Option<&RelExpr> = None;
            let expanded = e
                .rewrite(&mut |n| {
                    Ok(match n {
                        ScalarExpr::Column(c) => match peel_projections(input, c) {
                            Some((node, expr)) => {
                                if below.is_some_and(|b| !std::ptr::eq(b, node)) {
                                    failed = true;
                                }
                                below = Some(node);
                                expr
                            }
                            None => {
                                failed = true;
                                ScalarExpr::Column(c)
                            }
                        },
                        other => other,
                    })
                })
                .ok()?;
            if failed {
                return None;
            }
            Some((below.unwrap_or(input), expanded))
        }
        other => Some((other, ScalarExpr::Column(col))),
    }
}

/// Whether `plan` returns at most one row whatever its input.
fn at_most_one_row(plan: &RelExpr) -> bool {
    match plan {
        RelExpr::Project { input, .. } | RelExpr::Map { input, .. } | RelExpr::Filter { input, .. } => {
            at_most_one_row(input)
        }
        RelExpr::Reduce { group_key, .. } => group_key.is_empty(),
        RelExpr::TopK { limit: Some(l), .. } => *l <= 1,
        RelExpr::Values { rows, .. } => rows.len() <= 1,
        _ => false,
    }
}
