//! Joins: inner, left/right/full outer, semi and anti.
//!
//! The condition is split like the batch executor's hash join
//! (`crates/compute/src/join.rs: analyze`): conjuncts `l = r` with `l` over
//! the left row only and `r` over the right row only become the equi-join
//! key, every other conjunct is a residual predicate evaluated on each
//! candidate pair. A row whose key contains NULL matches nothing (SQL `=`
//! is never true on NULL) but still counts as an unmatched row for outer
//! and anti joins. Without equi conjuncts every row gets the empty key (a
//! cross product filtered by the residual, all on one worker).
//!
//! Outer, semi and anti joins are built from the inner join, as in
//! Materialize's rendering of outer joins: `matched` is the set of distinct
//! left (or right) rows that have at least one partner passing the
//! residual; a side's unmatched rows are that side's collection minus its
//! rows in `matched` (an antijoin keyed by the whole row), padded with
//! NULLs. Identical rows behave identically, so all copies of a row are
//! matched or none are, and every step is a linear or arranged operator that
//! differential maintains under insertions and retractions alike.
//!
//! Errors: key expressions are evaluated on every row of both sides and the
//! residual on every candidate pair, as the batch executor does for inner
//! and outer joins. For semi and anti joins the batch executor stops at a
//! row's first match, so a residual that fails only on a later candidate
//! fails the view but not the batch query (SQL does not fix the order in
//! which a condition is evaluated over candidates either).

use std::rc::Rc;

use freshet_common::{Datum, Result};
use freshet_expr::{JoinKind, ScalarExpr};

use super::operators::flat_map_fallible;
use super::render::{passes, Env, RenderContext, Rendered};
use super::row::DataRow;
use super::Collection;

/// The equi-key / residual split shared with the batch executor, so both
/// engines pick the same keys.
pub(crate) use crate::join::analyze;

/// Evaluates the key expressions over `row`; `None` when any part is NULL.
fn key_of(exprs: &[ScalarExpr], row: &[Datum], env: &Env) -> Result<Option<DataRow>> {
    let ctx = env.ctx();
    let mut key = Vec::with_capacity(exprs.len());
    for e in exprs {
        let d = e.eval(row, &ctx)?;
        if d.is_null() {
            return Ok(None);
        }
        key.push(d);
    }
    Ok(Some(DataRow(key)))
}

/// Keys every row of `rows` by `exprs` (rows with a NULL key part are
/// dropped: they cannot match). Named `name`.
fn keyed<'scope>(
    rows: Collection<'scope, DataRow>,
    exprs: Vec<ScalarExpr>,
    env: Rc<Env>,
    name: &str,
) -> (Collection<'scope, (DataRow, DataRow)>, Collection<'scope, super::row::EvalError>) {
    flat_map_fallible(rows, name, move |row: DataRow, out| {
        if let Some(key) = key_of(&exprs, &row, &env)? {
            out.push((key, row));
        }
        Ok(())
    })
}

/// Concatenates two rows.
fn concat(left: &[Datum], right: &[Datum]) -> DataRow {
    let mut row = Vec::with_capacity(left.len() + right.len());
    row.extend_from_slice(left);
    row.extend_from_slice(right);
    DataRow(row)
}

/// Renders `left JOIN right ON on` of the given kind.
pub(crate) fn render_join<'scope>(
    ctx: &mut RenderContext<'scope, '_>,
    left: Rendered<'scope>,
    right: Rendered<'scope>,
    left_arity: usize,
    right_arity: usize,
    kind: JoinKind,
    on: &ScalarExpr,
) -> Rendered<'scope> {
    let (keys, residual) = analyze(on, left_arity);
    let (left_exprs, right_exprs): (Vec<ScalarExpr>, Vec<ScalarExpr>) = keys.into_iter().unzip();
    let env = Rc::clone(&ctx.env);

    let (left_keyed, left_key_errs) = keyed(left.oks.clone(), left_exprs, Rc::clone(&env), "JoinLeftKey");
    let (right_keyed, right_key_errs) = keyed(right.oks.clone(), right_exprs, Rc::clone(&env), "JoinRightKey");
    let left_arranged = left_keyed.arrange_by_key_named("Arrange: JoinLeft");
    let right_arranged = right_keyed.arrange_by_key_named("Arrange: JoinRight");
    let candidates: Collection<'scope, (DataRow, DataRow)> =
        left_arranged.join_core(right_arranged, |_key, l: &DataRow, r: &DataRow| Some((l.clone(), r.clone())));

    // Pairs whose residual predicates hold.
    let residual_env = Rc::clone(&env);
    let (matched, residual_errs) = if residual.is_empty() {
        (candidates, ctx.empty())
    } else {
        flat_map_fallible(candidates, "JoinResidual", move |(l, r): (DataRow, DataRow), out| {
            if passes(&residual, &concat(&l, &r), &residual_env)? {
                out.push((l, r));
            }
            Ok(())
        })
    };

    let errs = left.errs.concat(right.errs).concat(left_key_errs).concat(right_key_errs).concat(residual_errs);

    // The rows of `side` without a partner in `matched`, all copies.
    let unmatched = |side: Collection<'scope, DataRow>, matched_side: Collection<'scope, DataRow>| {
        side.map(|row| (row, ())).antijoin(matched_side.distinct()).map(|(row, ())| row)
    };
    let inner = || matched.clone().map(|(l, r)| concat(&l, &r));
    let null_left = vec![Datum::Null; left_arity];
    let null_right = vec![Datum::Null; right_arity];

    let oks = match kind {
        JoinKind::Inner => inner(),
        JoinKind::Left => {
            let padded = unmatched(left.oks, matched.clone().map(|(l, _)| l)).map(move |l| concat(&l, &null_right));
            inner().concat(padded)
        }
        JoinKind::Right => {
            let padded = unmatched(right.oks, matched.clone().map(|(_, r)| r)).map(move |r| concat(&null_left, &r));
            inner().concat(padded)
        }
        JoinKind::Full => {
            let left_padded =
                unmatched(left.oks, matched.clone().map(|(l, _)| l)).map(move |l| concat(&l, &null_right));
            let right_padded =
                unmatched(right.oks, matched.clone().map(|(_, r)| r)).map(move |r| concat(&null_left, &r));
            inner().concat(left_padded).concat(right_padded)
        }
        JoinKind::Semi => {
            let matched_left = matched.map(|(l, _)| l).distinct();
            left.oks.map(|row| (row, ())).semijoin(matched_left).map(|(row, ())| row)
        }
        JoinKind::Anti => unmatched(left.oks, matched.map(|(l, _)| l)),
    };
    Rendered { oks, errs }
}
