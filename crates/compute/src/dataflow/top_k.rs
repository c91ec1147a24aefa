//! ORDER BY ... LIMIT/OFFSET (`RelExpr::TopK`) and DISTINCT ON
//! (`RelExpr::DistinctOn`).
//!
//! Both are reductions: TopK groups every row under the empty key and keeps
//! the rows at positions `offset .. offset + limit` of the sorted multiset;
//! DISTINCT ON groups by its key columns and keeps the first row of each
//! group in `order_by` order. Rows are sorted with the batch executor's
//! comparison (`crate::sort::compare_rows`, SQL NULL placement); rows that
//! compare equal on the sort keys are taken in `Datum` order, so the
//! result is deterministic where SQL leaves it unspecified (the batch
//! executor breaks such ties by scan order instead).
//!
//! Scale: TopK keeps the whole input on one worker and re-sorts it on every
//! change, O(n log n) per changed timestamp; fine for the small views we
//! maintain today. Materialize's hierarchical top-k (a tower of reductions
//! over hash prefixes) is the known fix.

use freshet_expr::SortKey;

use super::reduce::{negative_multiplicity, split_results};
use super::render::{RenderContext, Rendered};
use super::row::{DataRow, RowResult};
use super::Diff;
use crate::sort::compare_rows;

/// Renders `ORDER BY order_by OFFSET offset LIMIT limit` over `input`. A
/// view's rows form a multiset, so sorting without a LIMIT or OFFSET keeps
/// every row and renders as the identity.
pub(crate) fn render_top_k<'scope>(
    _ctx: &mut RenderContext<'scope, '_>,
    input: Rendered<'scope>,
    order_by: &[SortKey],
    limit: Option<u64>,
    offset: u64,
) -> Rendered<'scope> {
    if limit.is_none() && offset == 0 {
        return input;
    }
    let order_by = order_by.to_vec();
    let results = input
        .oks
        .map(|row| (DataRow::default(), row))
        .reduce_named("TopK", move |_key: &DataRow, vals: &[(&DataRow, Diff)], out: &mut Vec<(RowResult, Diff)>| {
            if let Some((_, count)) = vals.iter().find(|(_, count)| *count < 0) {
                out.push((Err(negative_multiplicity("a top-k", *count)), 1));
                return;
            }
            // `vals` arrive in `Datum` order; the stable sort keeps it for ties.
            let mut rows: Vec<(&DataRow, Diff)> = vals.to_vec();
            rows.sort_by(|a, b| compare_rows(a.0, b.0, &order_by));
            let mut skip = offset;
            let mut remaining = limit;
            for (row, count) in rows {
                let mut take = count as u64;
                let skipped = skip.min(take);
                skip -= skipped;
                take -= skipped;
                if let Some(r) = remaining.as_mut() {
                    take = take.min(*r);
                    *r -= take;
                }
                if take > 0 {
                    out.push((Ok(row.clone()), take as Diff));
                }
                if remaining == Some(0) {
                    break;
                }
            }
        })
        .map(|(_key, result)| result);
    let (oks, errs) = split_results(results, "TopKOutput");
    Rendered { oks, errs: input.errs.concat(errs) }
}

/// Renders `DISTINCT ON (keys) ... ORDER BY order_by` over `input`.
pub(crate) fn render_distinct_on<'scope>(
    _ctx: &mut RenderContext<'scope, '_>,
    input: Rendered<'scope>,
    keys: &[usize],
    order_by: &[SortKey],
) -> Rendered<'scope> {
    let keys = keys.to_vec();
    let order_by = order_by.to_vec();
    let results = input
        .oks
        .map(move |row| (DataRow(keys.iter().map(|k| row[*k].clone()).collect()), row))
        .reduce_named(
            "DistinctOn",
            move |_key: &DataRow, vals: &[(&DataRow, Diff)], out: &mut Vec<(RowResult, Diff)>| {
                if let Some((_, count)) = vals.iter().find(|(_, count)| *count < 0) {
                    out.push((Err(negative_multiplicity("DISTINCT ON", *count)), 1));
                    return;
                }
                // The first minimum in `Datum` order wins ties.
                let first = vals
                    .iter()
                    .map(|(row, _)| *row)
                    .reduce(|best, row| if compare_rows(row, best, &order_by).is_lt() { row } else { best });
                if let Some(row) = first {
                    out.push((Ok(row.clone()), 1));
                }
            },
        )
        .map(|(_key, result)| result);
    let (oks, errs) = split_results(results, "DistinctOnOutput");
    Rendered { oks, errs: input.errs.concat(errs) }
}
