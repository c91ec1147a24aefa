//! Window functions (`RelExpr::Window`).
//!
//! A window function's value for a row depends on the row's whole
//! partition, so the operator is a reduction keyed by the partition key:
//! whenever a partition changes, differential's `reduce` hands it the
//! partition's current multiset and the closure recomputes every row's
//! window values with the batch executor's evaluator
//! (`freshet_expr::window::evaluate`), emitting `row ++ values`;
//! differential diffs that against the previous output, so only the rows
//! whose values changed flow downstream. Duplicate rows are expanded
//! (`row_number()` numbers each copy). Ties under the window's ORDER BY are
//! broken by row value in both engines, so the two agree exactly.
//!
//! Calls with the same PARTITION BY share one reduction; calls with
//! different ones are chained (each appends its column and passes the row
//! on; later calls only read the input's columns, which stay in place).
//! Without PARTITION BY the whole input is one partition on one worker.
//!
//! Cost: O(partition size × log) per changed partition and timestamp.
//! That makes the common Top-N-per-group shape
//! (`row_number() OVER (PARTITION BY g ORDER BY x) <= n`) cheap for small
//! groups; a single huge partition re-sorts on every change.

use std::rc::Rc;

use freshet_common::{Datum, Result};
use freshet_expr::window::{evaluate, WindowExpr};
use freshet_expr::ScalarExpr;

use super::operators::flat_map_fallible;
use super::reduce::{negative_multiplicity, split_results};
use super::render::{RenderContext, Rendered};
use super::row::{DataRow, RowResult};
use super::Diff;

/// Renders the window calls `exprs` over `input`: the output rows are the
/// input rows extended with one column per call, in order.
pub(crate) fn render_window<'scope>(
    ctx: &mut RenderContext<'scope, '_>,
    input: Rendered<'scope>,
    exprs: &[WindowExpr],
) -> Rendered<'scope> {
    // Runs of consecutive calls with the same PARTITION BY. Each run
    // appends its columns after those of the runs before it, so the
    // columns come out in the node's order; a later run's expressions only
    // read input columns, which stay in place.
    let mut runs: Vec<(Vec<ScalarExpr>, Vec<WindowExpr>)> = Vec::new();
    for w in exprs {
        match runs.last_mut() {
            Some((partition, calls)) if *partition == w.partition_by => calls.push(w.clone()),
            _ => runs.push((w.partition_by.clone(), vec![w.clone()])),
        }
    }
    runs.into_iter().fold(input, |current, (partition, calls)| render_run(ctx, current, partition, calls))
}

/// One reduction computing `calls` (which share `partition`) and appending
/// their values.
fn render_run<'scope>(
    ctx: &mut RenderContext<'scope, '_>,
    input: Rendered<'scope>,
    partition: Vec<ScalarExpr>,
    calls: Vec<WindowExpr>,
) -> Rendered<'scope> {
    let env = Rc::clone(&ctx.env);
    let (keyed, key_errs) = flat_map_fallible(input.oks, "WindowPartition", move |row: DataRow, out| {
        let ctx = env.ctx();
        let key = partition.iter().map(|e| e.eval(&row, &ctx)).collect::<Result<Vec<Datum>>>()?;
        out.push((DataRow(key), row));
        Ok(())
    });
    let env = Rc::clone(&ctx.env);
    let results = keyed
        .reduce_named("Window", move |_key: &DataRow, vals: &[(&DataRow, Diff)], out: &mut Vec<(RowResult, Diff)>| {
            if let Some((_, count)) = vals.iter().find(|(_, count)| *count < 0) {
                out.push((Err(negative_multiplicity("a window function", *count)), 1));
                return;
            }
            let rows: Vec<&[Datum]> =
                vals.iter().flat_map(|(row, count)| std::iter::repeat_n(row.0.as_slice(), *count as usize)).collect();
            let ctx = env.ctx();
            let mut columns = Vec::with_capacity(calls.len());
            for call in &calls {
                match evaluate(call, &rows, &ctx) {
                    Ok(values) => columns.push(values),
                    Err(e) => {
                        out.push((Err(super::row::EvalError(e)), 1));
                        return;
                    }
                }
            }
            for (i, row) in rows.iter().enumerate() {
                let mut extended = row.to_vec();
                extended.extend(columns.iter().map(|c| c[i].clone()));
                out.push((Ok(DataRow(extended)), 1));
            }
        })
        .map(|(_key, result)| result);
    let (oks, errs) = split_results(results, "WindowOutput");
    Rendered { oks, errs: input.errs.concat(key_errs).concat(errs) }
}
