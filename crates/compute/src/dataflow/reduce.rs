//! Grouped and global aggregation (`RelExpr::Reduce`).
//!
//! Each input row is keyed by its group key and reduced to the values the
//! aggregates need (per aggregate: whether its FILTER passed, its
//! arguments, its ORDER BY keys), evaluated once per row so that an
//! evaluation error is raised, and retracted, with that row. Differential's
//! `reduce` then recomputes a group's output row from the group's whole
//! current multiset whenever the group changes, feeding each distinct value
//! as many times as it occurs into the shared `freshet_expr::agg`
//! accumulators. Recomputing from the multiset is what makes retractions
//! correct for every aggregate, including min/max when the extreme is
//! deleted and DISTINCT aggregates; it costs O(group size) per change of a
//! group (Materialize's hierarchical and accumulable reductions are a later
//! optimization).
//!
//! Values reach the accumulators in `Datum` order, not in the input's
//! arrival order, so order-sensitive aggregates without an ORDER BY
//! (`string_agg`, `array_agg`, float `sum`/`avg` rounding) are deterministic
//! but may differ from the batch executor's scan order; PostgreSQL leaves
//! that order unspecified as well.
//!
//! A global aggregate (no GROUP BY) has exactly one output row even over
//! empty input (`count` 0, others NULL). The renderer adds the default row
//! as a constant and subtracts it again whenever the reduction produced a
//! row: `output = reduced + default - default × present`, where `present`
//! (0 or 1) is the number of rows the reduction emitted for the empty key.

use std::rc::Rc;

use freshet_common::{Datum, Error, Result};
use freshet_expr::agg::Accumulator;
use freshet_expr::{AggregateExpr, ScalarExpr};

use super::operators::flat_map_fallible;
use super::render::{Env, RenderContext, Rendered};
use super::row::{DataRow, EvalError, RowResult};
use super::{Collection, Diff};

/// The error for a negative accumulated multiplicity: the input deleted
/// rows it never inserted, a bug upstream (reported, not panicked on, as the
/// input comes from outside the dataflow).
pub(crate) fn negative_multiplicity(operator: &str, count: Diff) -> EvalError {
    EvalError(Error::internal(format!("negative multiplicity {count} in the input of {operator}")))
}

/// Splits a collection of results into rows and errors.
pub(crate) fn split_results<'scope>(
    results: Collection<'scope, RowResult>,
    name: &str,
) -> (Collection<'scope, DataRow>, Collection<'scope, EvalError>) {
    flat_map_fallible(results, name, |result: RowResult, out| {
        out.push(result.map_err(|e| e.0)?);
        Ok(())
    })
}

/// Per aggregate, the number of values kept for it in a reduction value:
/// the FILTER flag, the arguments, the ORDER BY keys.
fn width(agg: &AggregateExpr) -> usize {
    1 + agg.args.len() + agg.order_by.len()
}

/// Evaluates a row's group key and aggregate inputs.
fn prepare(
    row: &[Datum],
    group_key: &[ScalarExpr],
    aggregates: &[AggregateExpr],
    env: &Env,
) -> Result<(DataRow, DataRow)> {
    let ctx = env.ctx();
    let key = group_key.iter().map(|k| k.eval(row, &ctx)).collect::<Result<Vec<_>>>()?;
    let mut val = Vec::with_capacity(aggregates.iter().map(width).sum());
    for agg in aggregates {
        if let Some(filter) = &agg.filter {
            if filter.eval(row, &ctx)? != Datum::Bool(true) {
                val.push(Datum::Bool(false));
                val.extend(std::iter::repeat_n(Datum::Null, width(agg) - 1));
                continue;
            }
        }
        val.push(Datum::Bool(true));
        for a in &agg.args {
            val.push(a.eval(row, &ctx)?);
        }
        for o in &agg.order_by {
            val.push(o.expr.eval(row, &ctx)?);
        }
    }
    Ok((DataRow(key), DataRow(val)))
}

/// Computes one group's output row from its current multiset of prepared
/// values.
fn finish_group(key: &DataRow, vals: &[(&DataRow, Diff)], aggregates: &[AggregateExpr], env: &Env) -> RowResult {
    let ctx = env.ctx();
    let mut accumulators: Vec<Accumulator> = aggregates.iter().map(Accumulator::new).collect();
    feed(&mut accumulators, vals, aggregates, env)?;
    let mut row = key.0.clone();
    for acc in &accumulators {
        row.push(acc.finish(&ctx)?);
    }
    Ok(DataRow(row))
}

/// Feeds a multiset of prepared values to the accumulators.
fn feed(accumulators: &mut [Accumulator], vals: &[(&DataRow, Diff)], aggregates: &[AggregateExpr], env: &Env) -> Result<(), EvalError> {
    let ctx = env.ctx();
    for (val, count) in vals {
        if *count < 0 {
            return Err(negative_multiplicity("an aggregation", *count));
        }
        for _ in 0..*count {
            let mut pos = 0;
            for (acc, agg) in accumulators.iter_mut().zip(aggregates) {
                let slot = &val[pos..pos + width(agg)];
                pos += width(agg);
                if slot[0] != Datum::Bool(true) {
                    continue;
                }
                let args = &slot[1..1 + agg.args.len()];
                if agg.order_by.is_empty() {
                    acc.add(args, &ctx)?;
                } else {
                    acc.add_ordered(slot[1 + agg.args.len()..].to_vec(), args.to_vec(), &ctx)?;
                }
            }
        }
    }
    Ok(())
}

/// Buckets per group in the first stage of a two-stage reduction.
const BUCKETS: u64 = 256;

/// A two-stage reduction for decomposable aggregates (count, sum, avg,
/// min, max, bool_and/or without DISTINCT or ORDER BY): the first stage
/// reduces each group's values split into `BUCKETS` buckets by hash to
/// partial states, the second merges a group's partial states. A change
/// then recomputes one bucket (about 1/`BUCKETS` of the group's distinct
/// values) and merges `BUCKETS` partials, instead of recomputing the whole
/// group: Materialize's hierarchical reduction, one level deep.
fn render_two_stage<'scope>(
    ctx: &mut RenderContext<'scope, '_>,
    prepared: Collection<'scope, (DataRow, DataRow)>,
    key_len: usize,
    aggregates: &[AggregateExpr],
) -> (Collection<'scope, RowResult>, Collection<'scope, EvalError>) {
    let bucketed = prepared.map(|(key, val)| {
        use std::hash::{Hash, Hasher};
        // Fixed keys: every worker and every run buckets alike.
        let mut h = std::hash::DefaultHasher::new();
        val.hash(&mut h);
        let mut key = key.0;
        key.push(Datum::Int8((h.finish() % BUCKETS) as i64));
        (DataRow(key), val)
    });
    let env = Rc::clone(&ctx.env);
    let aggs = aggregates.to_vec();
    let partials = bucketed.reduce_named(
        "ReducePartial",
        move |_key: &DataRow, vals: &[(&DataRow, Diff)], out: &mut Vec<(RowResult, Diff)>| {
            out.push((partial_group(vals, &aggs, &env), 1));
        },
    );
    // A failed partial (e.g. an overflow) becomes the view's error.
    let (partials, errs) = split_results(
        partials.map(|(key, partial)| partial.map(|p| DataRow(key.0.into_iter().chain(p.0).collect()))),
        "ReducePartialOutput",
    );
    let regrouped = partials.map(move |mut row| {
        let partial = row.0.split_off(key_len + 1);
        row.0.pop(); // the bucket
        (row, DataRow(partial))
    });
    let env = Rc::clone(&ctx.env);
    let aggs = aggregates.to_vec();
    let merged = regrouped
        .reduce_named("ReduceMerge", move |key: &DataRow, vals: &[(&DataRow, Diff)], out: &mut Vec<(RowResult, Diff)>| {
            out.push((merge_group(key, vals, &aggs, &env), 1));
        })
        .map(|(_key, result)| result);
    (merged, errs)
}

/// One bucket's partial states (all aggregates' concatenated).
fn partial_group(vals: &[(&DataRow, Diff)], aggregates: &[AggregateExpr], env: &Env) -> RowResult {
    let mut accumulators: Vec<Accumulator> = aggregates.iter().map(Accumulator::new).collect();
    feed(&mut accumulators, vals, aggregates, env)?;
    let mut state = Vec::with_capacity(aggregates.len() * Accumulator::PARTIAL_WIDTH);
    for acc in &accumulators {
        state.extend(acc.partial());
    }
    Ok(DataRow(state))
}

/// A group's output row from its buckets' partial states.
fn merge_group(key: &DataRow, vals: &[(&DataRow, Diff)], aggregates: &[AggregateExpr], env: &Env) -> RowResult {
    let ctx = env.ctx();
    let mut accumulators: Vec<Accumulator> = aggregates.iter().map(Accumulator::new).collect();
    for (partial, count) in vals {
        if *count < 0 {
            return Err(negative_multiplicity("an aggregation", *count));
        }
        for _ in 0..*count {
            for (i, acc) in accumulators.iter_mut().enumerate() {
                let w = Accumulator::PARTIAL_WIDTH;
                acc.merge(&partial[i * w..(i + 1) * w], &ctx)?;
            }
        }
    }
    let mut row = key.0.clone();
    for acc in &accumulators {
        row.push(acc.finish(&ctx)?);
    }
    Ok(DataRow(row))
}

/// Renders a `Reduce` over `input`.
pub(crate) fn render_reduce<'scope>(
    ctx: &mut RenderContext<'scope, '_>,
    input: Rendered<'scope>,
    group_key: &[ScalarExpr],
    aggregates: &[AggregateExpr],
) -> Rendered<'scope> {
    let env = Rc::clone(&ctx.env);
    let (keys, aggs) = (group_key.to_vec(), aggregates.to_vec());
    let (prepared, prepare_errs) = flat_map_fallible(input.oks, "ReducePrepare", move |row: DataRow, out| {
        out.push(prepare(&row, &keys, &aggs, &env)?);
        Ok(())
    });

    let env = Rc::clone(&ctx.env);
    let aggs = aggregates.to_vec();
    let (reduced, partial_errs) = if !aggregates.is_empty() && aggregates.iter().all(AggregateExpr::is_decomposable) {
        render_two_stage(ctx, prepared, group_key.len(), aggregates)
    } else {
        let reduced = prepared
            .reduce_named("Reduce", move |key: &DataRow, vals: &[(&DataRow, Diff)], out: &mut Vec<(RowResult, Diff)>| {
                out.push((finish_group(key, vals, &aggs, &env), 1));
            })
            .map(|(_key, result)| result);
        (reduced, ctx.empty())
    };

    let results = if group_key.is_empty() {
        // PostgreSQL's rule: a global aggregate over no rows is one row.
        let env = ctx.env.ctx();
        let default: RowResult = aggregates
            .iter()
            .map(|agg| Accumulator::new(agg).finish(&env))
            .collect::<Result<Vec<Datum>>>()
            .map(DataRow)
            .map_err(EvalError);
        let present_default = default.clone();
        let present = reduced.clone().map(move |_| present_default.clone()).negate();
        reduced.concat(ctx.constant(vec![(default, 1)])).concat(present)
    } else {
        reduced
    };
    let (oks, errs) = split_results(results, "ReduceOutput");
    Rendered { oks, errs: input.errs.concat(prepare_errs).concat(partial_errs).concat(errs) }
}
