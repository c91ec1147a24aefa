//! Joins: hash join on the equi-conjuncts of the condition, nested loops
//! otherwise; residual predicates evaluated on each candidate pair.

use std::collections::HashMap;

use freshet_common::{Datum, Result, Row};
use freshet_expr::{BinaryOp, EvalContext, JoinKind, ScalarExpr};

use crate::batch::passes;

/// Splits `on` into equi-join key pairs (left expr, right expr over the
/// right row alone) and residual predicates over the concatenated row.
pub(crate) fn analyze(on: &ScalarExpr, left_arity: usize) -> (Vec<(ScalarExpr, ScalarExpr)>, Vec<ScalarExpr>) {
    let conjuncts = match on {
        ScalarExpr::And(items) => items.clone(),
        ScalarExpr::Literal(Datum::Bool(true)) => vec![],
        other => vec![other.clone()],
    };
    let side = |e: &ScalarExpr| -> Option<bool> {
        // Some(true): only left columns; Some(false): only right; None: mixed/none.
        let mut left = false;
        let mut right = false;
        let mut other = false;
        e.visit(&mut |n| match n {
            ScalarExpr::Column(i) if *i < left_arity => left = true,
            ScalarExpr::Column(_) => right = true,
            ScalarExpr::Subquery(_) | ScalarExpr::Outer { .. } | ScalarExpr::Param(_) => other = true,
            ScalarExpr::Call { func: freshet_expr::Func::Random, .. } => other = true,
            _ => {}
        });
        match (left, right, other) {
            (true, false, false) => Some(true),
            (false, true, false) => Some(false),
            _ => None,
        }
    };
    let shift = |e: ScalarExpr| -> ScalarExpr {
        e.rewrite(&mut |n| {
            Ok(match n {
                ScalarExpr::Column(i) => ScalarExpr::Column(i - left_arity),
                other => other,
            })
        })
        .expect("shifting columns cannot fail")
    };
    let mut keys = Vec::new();
    let mut residual = Vec::new();
    for c in conjuncts {
        if let ScalarExpr::Binary { op: BinaryOp::Eq, left, right } = &c {
            match (side(left), side(right)) {
                (Some(true), Some(false)) => {
                    keys.push(((**left).clone(), shift((**right).clone())));
                    continue;
                }
                (Some(false), Some(true)) => {
                    keys.push(((**right).clone(), shift((**left).clone())));
                    continue;
                }
                _ => {}
            }
        }
        residual.push(c);
    }
    (keys, residual)
}

fn key_of(exprs: impl Iterator<Item = Result<Datum>>) -> Result<Option<Vec<Datum>>> {
    let mut key = Vec::new();
    for d in exprs {
        let d = d?;
        if d.is_null() {
            return Ok(None);
        }
        key.push(d);
    }
    Ok(Some(key))
}

/// The most values a join's materialized output may hold (rows times
/// columns; about 2 GB): past it the statement fails with 54000 instead of
/// exhausting the server's memory (an unconstrained cross join of large
/// relations).
const OUTPUT_DATUMS_MAX: usize = 50_000_000;

fn too_large(rows: usize, arity: usize) -> freshet_common::Error {
    freshet_common::Error::new(
        freshet_common::SqlState::ProgramLimitExceeded,
        format!("join result too large: more than {rows} rows of {arity} columns"),
    )
    .with_hint("Add join conditions, or filter the joined relations.")
}

/// Joins `left` and `right` rows.
pub(crate) fn join(
    left: Vec<Row>,
    right: Vec<Row>,
    left_arity: usize,
    right_arity: usize,
    kind: JoinKind,
    on: &ScalarExpr,
    ctx: &EvalContext<'_>,
) -> Result<Vec<Row>> {
    let (keys, residual) = analyze(on, left_arity);
    let rows_max = OUTPUT_DATUMS_MAX / (left_arity + right_arity).max(1);
    let mut right_matched = vec![false; right.len()];
    let mut out = Vec::new();
    let null_right = || vec![Datum::Null; right_arity];
    let null_left = || vec![Datum::Null; left_arity];

    // Candidate right rows for each left row.
    let index: Option<HashMap<Vec<Datum>, Vec<usize>>> = if keys.is_empty() {
        None
    } else {
        let mut map: HashMap<Vec<Datum>, Vec<usize>> = HashMap::new();
        for (i, r) in right.iter().enumerate() {
            if let Some(k) = key_of(keys.iter().map(|(_, re)| re.eval(r, ctx)))? {
                map.entry(k).or_default().push(i);
            }
        }
        Some(map)
    };
    let all_right: Vec<usize> = if index.is_none() { (0..right.len()).collect() } else { vec![] };
    for l in left {
        let candidates: &[usize] = match &index {
            None => &all_right,
            Some(map) => match key_of(keys.iter().map(|(le, _)| le.eval(&l, ctx)))? {
                Some(k) => map.get(&k).map(Vec::as_slice).unwrap_or(&[]),
                None => &[],
            },
        };
        let mut matched = false;
        for &ri in candidates {
            let mut combined = Vec::with_capacity(left_arity + right_arity);
            combined.extend_from_slice(&l);
            combined.extend_from_slice(&right[ri]);
            if !passes(&residual, &combined, ctx)? {
                continue;
            }
            matched = true;
            right_matched[ri] = true;
            match kind {
                JoinKind::Semi | JoinKind::Anti => break,
                _ => {
                    if out.len() >= rows_max {
                        return Err(too_large(rows_max, left_arity + right_arity));
                    }
                    out.push(combined)
                }
            }
        }
        match kind {
            JoinKind::Semi if matched => out.push(l),
            JoinKind::Anti if !matched => out.push(l),
            JoinKind::Left | JoinKind::Full if !matched => {
                let mut row = l;
                row.extend(null_right());
                out.push(row);
            }
            _ => {}
        }
    }
    if matches!(kind, JoinKind::Right | JoinKind::Full) {
        for (ri, r) in right.into_iter().enumerate() {
            if !right_matched[ri] {
                let mut row = null_left();
                row.extend(r);
                out.push(row);
            }
        }
    }
    Ok(out)
}
