//! Plan rewrites that keep a query's result and make it cheaper to run.
//!
//! [`push_down_predicates`] moves each conjunct of a WHERE (or of an inner
//! join's ON) to the lowest operator whose input has every column it
//! reads: a filter on one table is applied at that table's scan (where the
//! batch executor can answer it from an index), and a comma join
//! (`FROM a, b, c WHERE a.x = b.y AND b.z = c.w`), which the binder builds
//! as cross products under one filter, becomes a chain of equi-joins. The
//! binder applies it to every query it binds; both engines (the batch
//! executor and the dataflow renderer) then see the rewritten plan.
//!
//! Conjuncts that are volatile (`random()`, `nextval()`, ...) or contain a
//! subquery stay where they were written.

use freshet_expr::{Func, JoinKind, RelExpr, ScalarExpr};

/// The plan with its filter conjuncts pushed down (see the module doc).
pub fn push_down_predicates(plan: RelExpr) -> RelExpr {
    push(plan, Vec::new())
}

/// The input columns `e` reads.
fn columns_of(e: &ScalarExpr) -> Vec<usize> {
    let mut cols = Vec::new();
    e.visit(&mut |n| {
        if let ScalarExpr::Column(i) = n {
            cols.push(*i);
        }
    });
    cols
}

/// Whether `e` may be evaluated at another point of the plan (on fewer or
/// other rows) without changing the result.
fn movable(e: &ScalarExpr) -> bool {
    let mut ok = true;
    e.visit(&mut |n| match n {
        ScalarExpr::Subquery(_) | ScalarExpr::Aggregate(_) | ScalarExpr::Window(_) => ok = false,
        ScalarExpr::Call { func, .. } => {
            if matches!(
                func,
                Func::Random | Func::GenRandomUuid | Func::NextVal | Func::SetVal | Func::SetConfig | Func::SubqueryTooManyRows
            ) {
                ok = false;
            }
        }
        _ => {}
    });
    ok
}

/// `e`'s AND-ed parts (`a AND b AND c` -> `[a, b, c]`; `true` -> `[]`).
fn conjuncts(e: ScalarExpr, out: &mut Vec<ScalarExpr>) {
    match e {
        ScalarExpr::And(items) => items.into_iter().for_each(|i| conjuncts(i, out)),
        ScalarExpr::Literal(freshet_common::Datum::Bool(true)) => {}
        other => out.push(other),
    }
}

/// The conjunction of `preds` (`true` when empty).
fn and(mut preds: Vec<ScalarExpr>) -> ScalarExpr {
    match preds.len() {
        0 => ScalarExpr::bool(true),
        1 => preds.remove(0),
        _ => ScalarExpr::And(preds),
    }
}

/// `e` with every column reference renumbered by `f`.
fn renumber(e: ScalarExpr, f: &dyn Fn(usize) -> usize) -> ScalarExpr {
    e.rewrite(&mut |n| {
        Ok(match n {
            ScalarExpr::Column(i) => ScalarExpr::Column(f(i)),
            other => other,
        })
    })
    .unwrap_or_else(|e| unreachable!("renumbering columns cannot fail: {e}"))
}

/// Which side of a join of `left_arity` left columns a conjunct reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// No columns at all (a constant or parameter test).
    Neither,
    Left,
    Right,
    Both,
}

fn side(e: &ScalarExpr, left_arity: usize) -> Side {
    let cols = columns_of(e);
    let left = cols.iter().any(|c| *c < left_arity);
    let right = cols.iter().any(|c| *c >= left_arity);
    match (left, right) {
        (false, false) => Side::Neither,
        (true, false) => Side::Left,
        (false, true) => Side::Right,
        (true, true) => Side::Both,
    }
}

/// Pushes `preds` (conjuncts over `plan`'s output) as far down `plan` as
/// they can go, and does the same inside `plan`.
fn push(plan: RelExpr, preds: Vec<ScalarExpr>) -> RelExpr {
    // Conjuncts that cannot move stay above whatever this returns.
    let (preds, mut stay): (Vec<_>, Vec<_>) = preds.into_iter().partition(movable);
    let pushed = match plan {
        RelExpr::Filter { input, predicates } => {
            let mut all = preds;
            for p in predicates {
                conjuncts(p, &mut all);
            }
            let (movable_all, fixed): (Vec<_>, Vec<_>) = all.into_iter().partition(movable);
            stay.extend(fixed);
            push(*input, movable_all)
        }
        RelExpr::Join { left, right, kind: JoinKind::Inner, on } => {
            let left_arity = left.arity();
            let mut all = preds;
            conjuncts(on, &mut all);
            let (mut to_left, mut to_right, mut keep) = (Vec::new(), Vec::new(), Vec::new());
            for p in all {
                if !movable(&p) {
                    keep.push(p);
                    continue;
                }
                match side(&p, left_arity) {
                    Side::Left => to_left.push(p),
                    Side::Right => to_right.push(renumber(p, &|i| i - left_arity)),
                    Side::Neither | Side::Both => keep.push(p),
                }
            }
            RelExpr::Join {
                left: Box::new(push(*left, to_left)),
                right: Box::new(push(*right, to_right)),
                kind: JoinKind::Inner,
                on: and(keep),
            }
        }
        RelExpr::Join { left, right, kind, on } => {
            // Outer, semi and anti joins: conditions from above on the
            // preserved (left) side filter its rows before the join, and
            // ON conjuncts on the right side alone filter the right rows
            // that may match. (RIGHT and FULL joins are left alone.)
            let left_arity = left.arity();
            let mut to_left = Vec::new();
            if matches!(kind, JoinKind::Left | JoinKind::Semi | JoinKind::Anti) {
                for p in preds {
                    if side(&p, left_arity) == Side::Left {
                        to_left.push(p);
                    } else {
                        stay.push(p);
                    }
                }
            } else {
                stay.extend(preds);
            }
            let mut on_parts = Vec::new();
            conjuncts(on, &mut on_parts);
            let (mut to_right, mut keep) = (Vec::new(), Vec::new());
            for p in on_parts {
                let right_only = kind != JoinKind::Right && kind != JoinKind::Full && movable(&p) && side(&p, left_arity) == Side::Right;
                if right_only {
                    to_right.push(renumber(p, &|i| i - left_arity));
                } else {
                    keep.push(p);
                }
            }
            RelExpr::Join {
                left: Box::new(push(*left, to_left)),
                right: Box::new(push(*right, to_right)),
                kind,
                on: and(keep),
            }
        }
        RelExpr::Apply { left, right, kind, on } if matches!(kind, JoinKind::Inner | JoinKind::Left) => {
            let left_arity = left.arity();
            let (to_left, above): (Vec<_>, Vec<_>) = preds.into_iter().partition(|p| side(p, left_arity) == Side::Left);
            stay.extend(above);
            RelExpr::Apply { left: Box::new(push(*left, to_left)), right: Box::new(push(*right, Vec::new())), kind, on }
        }
        RelExpr::Map { input, exprs } => {
            let arity = input.arity();
            let (below, above): (Vec<_>, Vec<_>) = preds.into_iter().partition(|p| columns_of(p).iter().all(|c| *c < arity));
            stay.extend(above);
            RelExpr::Map { input: Box::new(push(*input, below)), exprs }
        }
        RelExpr::FlatMap { input, funcs, ordinality, outer } => {
            let arity = input.arity();
            let (below, above): (Vec<_>, Vec<_>) = preds.into_iter().partition(|p| columns_of(p).iter().all(|c| *c < arity));
            stay.extend(above);
            RelExpr::FlatMap { input: Box::new(push(*input, below)), funcs, ordinality, outer }
        }
        RelExpr::Project { input, columns } => {
            let below = preds.into_iter().map(|p| renumber(p, &|i| columns[i])).collect();
            RelExpr::Project { input: Box::new(push(*input, below)), columns }
        }
        other => {
            stay.extend(preds);
            other.map_inputs(&mut |input| push(input, Vec::new()))
        }
    };
    pushed.filter(stay)
}

#[cfg(test)]
mod tests {
    use freshet_common::{DataType, Datum};
    use freshet_expr::{BinaryOp, TableRef};

    use super::*;

    fn get(table: u32, arity: usize) -> RelExpr {
        RelExpr::Get { table: TableRef(table), column_types: vec![DataType::Int4; arity], with_row_id: false }
    }

    fn eq(a: ScalarExpr, b: ScalarExpr) -> ScalarExpr {
        ScalarExpr::Binary { op: BinaryOp::Eq, left: Box::new(a), right: Box::new(b) }
    }

    fn col(i: usize) -> ScalarExpr {
        ScalarExpr::Column(i)
    }

    fn lit(v: i32) -> ScalarExpr {
        ScalarExpr::Literal(Datum::Int4(v))
    }

    fn cross(l: RelExpr, r: RelExpr) -> RelExpr {
        RelExpr::Join { left: Box::new(l), right: Box::new(r), kind: JoinKind::Inner, on: ScalarExpr::bool(true) }
    }

    #[test]
    fn comma_join_becomes_equi_joins_with_filters_at_the_scans() {
        // FROM a(0,1), b(2,3), c(4,5) WHERE a.0 = b.2 AND b.3 = c.4 AND c.5 = 7 AND a.1 = 1
        let plan = cross(cross(get(1, 2), get(2, 2)), get(3, 2))
            .filter(vec![eq(col(0), col(2)), eq(col(3), col(4)), eq(col(5), lit(7)), eq(col(1), lit(1))]);
        let want = RelExpr::Join {
            left: Box::new(RelExpr::Join {
                left: Box::new(get(1, 2).filter(vec![eq(col(1), lit(1))])),
                right: Box::new(get(2, 2)),
                kind: JoinKind::Inner,
                on: eq(col(0), col(2)),
            }),
            right: Box::new(get(3, 2).filter(vec![eq(col(1), lit(7))])),
            kind: JoinKind::Inner,
            on: eq(col(3), col(4)),
        };
        assert_eq!(push_down_predicates(plan), want);
    }

    #[test]
    fn volatile_and_subquery_conjuncts_stay_put() {
        let random = ScalarExpr::Call { func: Func::Random, args: vec![] };
        let volatile = ScalarExpr::Binary { op: BinaryOp::Lt, left: Box::new(random), right: Box::new(col(0)) };
        let plan = cross(get(1, 1), get(2, 1)).filter(vec![volatile.clone(), eq(col(0), col(1))]);
        let want = RelExpr::Join { left: Box::new(get(1, 1)), right: Box::new(get(2, 1)), kind: JoinKind::Inner, on: eq(col(0), col(1)) }
            .filter(vec![volatile]);
        assert_eq!(push_down_predicates(plan), want);
    }

    #[test]
    fn left_join_keeps_conditions_on_the_nullable_side_above() {
        // a LEFT JOIN b ON a.0 = b.1 AND b.1 = 5 WHERE a.0 = 3 AND b.1 IS NULL
        let on = ScalarExpr::And(vec![eq(col(0), col(1)), eq(col(1), lit(5))]);
        let is_null = ScalarExpr::IsNull(Box::new(col(1)));
        let plan = RelExpr::Join { left: Box::new(get(1, 1)), right: Box::new(get(2, 1)), kind: JoinKind::Left, on }
            .filter(vec![eq(col(0), lit(3)), is_null.clone()]);
        let want = RelExpr::Join {
            left: Box::new(get(1, 1).filter(vec![eq(col(0), lit(3))])),
            right: Box::new(get(2, 1).filter(vec![eq(col(0), lit(5))])),
            kind: JoinKind::Left,
            on: eq(col(0), col(1)),
        }
        .filter(vec![is_null]);
        assert_eq!(push_down_predicates(plan), want);
    }

    #[test]
    fn conditions_pass_through_projections_and_maps() {
        // SELECT * FROM (SELECT a.1, a.0, a.0 + 1 FROM a) s WHERE s.0 = 1 AND s.2 = 2
        let inner = get(1, 2)
            .map(vec![ScalarExpr::Binary { op: BinaryOp::Add, left: Box::new(col(0)), right: Box::new(lit(1)) }])
            .project(vec![1, 0, 2]);
        let plan = inner.filter(vec![eq(col(0), lit(1)), eq(col(2), lit(2))]);
        let want = get(1, 2)
            .filter(vec![eq(col(1), lit(1))])
            .map(vec![ScalarExpr::Binary { op: BinaryOp::Add, left: Box::new(col(0)), right: Box::new(lit(1)) }])
            .filter(vec![eq(col(2), lit(2))])
            .project(vec![1, 0, 2]);
        assert_eq!(push_down_predicates(plan), want);
    }
}
