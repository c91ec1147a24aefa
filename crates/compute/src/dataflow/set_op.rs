//! INTERSECT and EXCEPT, with and without ALL (`RelExpr::SetOp`).
//!
//! Each distinct row is a group whose values are the side it came from; the
//! reduction counts the row's copies on each side (`l`, `r`) and emits the
//! row with the multiplicity SQL prescribes (rows compare as equal when all
//! columns are equal, NULLs included, as in the batch executor):
//!
//! | operation       | copies            |
//! |-----------------|-------------------|
//! | INTERSECT ALL   | min(l, r)         |
//! | EXCEPT ALL      | max(l - r, 0)     |
//! | INTERSECT       | 1 if l > 0, r > 0 |
//! | EXCEPT          | 1 if l > 0, r = 0 |
//!
//! O(distinct rows) state per worker; a change to a row costs O(1).

use freshet_expr::SetOpKind;

use super::reduce::{negative_multiplicity, split_results};
use super::render::{RenderContext, Rendered};
use super::row::{DataRow, RowResult};
use super::Diff;

/// Renders `left op [ALL] right`.
pub(crate) fn render_set_op<'scope>(
    _ctx: &mut RenderContext<'scope, '_>,
    left: Rendered<'scope>,
    right: Rendered<'scope>,
    op: SetOpKind,
    all: bool,
) -> Rendered<'scope> {
    let sided = left.oks.map(|row| (row, true)).concat(right.oks.map(|row| (row, false)));
    let results = sided
        .reduce_named("SetOp", move |row: &DataRow, vals: &[(&bool, Diff)], out: &mut Vec<(RowResult, Diff)>| {
            let (mut l, mut r) = (0, 0);
            for (from_left, count) in vals {
                if **from_left {
                    l += count;
                } else {
                    r += count;
                }
            }
            if l < 0 || r < 0 {
                out.push((Err(negative_multiplicity("a set operation", l.min(r))), 1));
                return;
            }
            let copies = match (op, all) {
                (SetOpKind::Intersect, true) => l.min(r),
                (SetOpKind::Except, true) => (l - r).max(0),
                (SetOpKind::Intersect, false) => (l > 0 && r > 0) as Diff,
                (SetOpKind::Except, false) => (l > 0 && r == 0) as Diff,
            };
            if copies > 0 {
                out.push((Ok(row.clone()), copies));
            }
        })
        .map(|(_row, result)| result);
    let (oks, errs) = split_results(results, "SetOpOutput");
    Rendered { oks, errs: left.errs.concat(right.errs).concat(errs) }
}
