//! Render-time refusal of plans the dataflow renderer cannot maintain
//! correctly.
//!
//! A maintained view must be a deterministic function of its inputs: an
//! update and its later retraction must produce exactly opposite changes.
//! Constructs that break this (volatile functions, session state, the
//! current time) or that the renderer does not implement yet (subqueries
//! inside expressions, which need decorrelation first; system relations;
//! parameterized LIMIT) are refused here with `0A000` naming the construct,
//! before any dataflow is built, so a view is never silently wrong.

use freshet_common::{Error, Result, SqlState};
use freshet_expr::catalog_func::CatalogFunc;
use freshet_expr::func::DateTimeFunc;
use freshet_expr::{Func, RelExpr, ScalarExpr};

/// Checks that every node and expression of `plan` can be rendered as an
/// incrementally maintained dataflow; the error names the first construct
/// that cannot.
pub fn check_plan(plan: &RelExpr) -> Result<()> {
    match plan {
        RelExpr::Get { with_row_id: true, .. } => {
            return Err(Error::unsupported("reading row ids in a materialized view"))
        }
        RelExpr::Get { .. } => {}
        RelExpr::System { name, .. } => {
            return Err(Error::unsupported(format!("system relation \"{name}\" in a materialized view")))
        }
        RelExpr::Recursive { .. } | RelExpr::WorkTable { .. } => {
            return Err(Error::unsupported("WITH RECURSIVE in a materialized view"))
        }
        RelExpr::Apply { .. } => return Err(Error::unsupported("a LATERAL subquery in a materialized view")),
        RelExpr::DynamicTopK { .. } => {
            return Err(Error::unsupported("parameterized LIMIT or OFFSET in a materialized view"))
        }
        RelExpr::Values { rows, .. } => rows.iter().flatten().try_for_each(check_expr)?,
        RelExpr::Map { input, exprs } => {
            exprs.iter().try_for_each(check_expr)?;
            check_plan(input)?;
        }
        RelExpr::FlatMap { input, funcs, .. } => {
            funcs.iter().flat_map(|(_, args)| args).try_for_each(check_expr)?;
            check_plan(input)?;
        }
        RelExpr::Filter { input, predicates } => {
            predicates.iter().try_for_each(check_expr)?;
            check_plan(input)?;
        }
        RelExpr::Project { input, .. }
        | RelExpr::Distinct { input }
        | RelExpr::DistinctOn { input, .. }
        | RelExpr::TopK { input, .. } => check_plan(input)?,
        RelExpr::Join { left, right, on, .. } => {
            check_expr(on)?;
            check_plan(left)?;
            check_plan(right)?;
        }
        RelExpr::Reduce { input, group_key, aggregates } => {
            group_key.iter().try_for_each(check_expr)?;
            for agg in aggregates {
                agg.args.iter().try_for_each(check_expr)?;
                agg.order_by.iter().try_for_each(|o| check_expr(&o.expr))?;
                agg.filter.iter().try_for_each(check_expr)?;
            }
            check_plan(input)?;
        }
        RelExpr::Window { input, exprs } => {
            for w in exprs {
                let mut result = Ok(());
                w.for_each_child(&mut |e| {
                    if result.is_ok() {
                        result = check_expr(e);
                    }
                });
                result?;
            }
            check_plan(input)?;
        }
        RelExpr::Union { inputs } => inputs.iter().try_for_each(check_plan)?,
        RelExpr::SetOp { left, right, .. } => {
            check_plan(left)?;
            check_plan(right)?;
        }
    }
    Ok(())
}

/// Checks one scalar expression (and its sub-expressions).
fn check_expr(expr: &ScalarExpr) -> Result<()> {
    let mut refusal: Option<Error> = None;
    expr.visit(&mut |e| {
        if refusal.is_some() {
            return;
        }
        refusal = match e {
            ScalarExpr::Subquery(_) | ScalarExpr::Outer { .. } => {
                Some(Error::new(
                    SqlState::FeatureNotSupported,
                    "this subquery form in a materialized view is not supported yet: views maintain [NOT] EXISTS, \
                     [NOT] IN, ANY and ALL subqueries as WHERE conditions and scalar subqueries correlated by \
                     equalities with the outer row",
                ))
            }
            ScalarExpr::Param(_) => Some(Error::unsupported("a parameter in a materialized view")),
            ScalarExpr::Aggregate(_) => {
                Some(Error::internal("aggregate call left in a plan: the planner should have replaced it"))
            }
            ScalarExpr::Window(_) => {
                Some(Error::internal("window call left in a plan: the planner should have replaced it"))
            }
            ScalarExpr::Call { func, .. } => volatile_function(func)
                .map(|name| Error::unsupported(format!("{name} in a materialized view"))),
            _ => None,
        };
    });
    refusal.map_or(Ok(()), Err)
}

/// The SQL name of `func` when its result is not a function of its
/// arguments alone (volatile, time-dependent, or reading session or catalog
/// state that a long-lived view would see frozen).
fn volatile_function(func: &Func) -> Option<&'static str> {
    Some(match func {
        Func::Random => "random()",
        Func::NextVal => "nextval()",
        Func::CurrVal => "currval()",
        Func::SetVal => "setval()",
        Func::SetConfig => "set_config()",
        Func::CurrentSetting => "current_setting()",
        Func::DateTime(DateTimeFunc::Now) => "the current time (now(), current_timestamp, age(x))",
        Func::DateTime(DateTimeFunc::CurrentDate) => "current_date",
        Func::Catalog(c) => match c {
            CatalogFunc::GetExpr(_)
            | CatalogFunc::TableIsVisible(_)
            | CatalogFunc::UserById(_)
            | CatalogFunc::IndexDef(_)
            | CatalogFunc::ConstraintDef(_)
            | CatalogFunc::ViewDef(_)
            | CatalogFunc::SerialSequence(_)
            | CatalogFunc::ToRegClass(_)
            | CatalogFunc::RegClassText(_)
            | CatalogFunc::RegNamespaceText(_)
            | CatalogFunc::Description { .. } => "a catalog lookup function",
            CatalogFunc::PostmasterStartTime => "pg_postmaster_start_time()",
            CatalogFunc::TxidCurrent => "txid_current()",
            _ => return None,
        },
        _ => return None,
    })
}
