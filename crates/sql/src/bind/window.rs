//! Window function calls: `f(...) OVER (PARTITION BY ... ORDER BY ...
//! frame)` and named windows (`WINDOW w AS (...)`).
//!
//! A call binds to a [`ScalarExpr::Window`] node inside the select list
//! (or ORDER BY); `bind_select` later lifts every such node into one
//! `RelExpr::Window` over the query's (possibly grouped) rows and replaces
//! it with a column reference. Validation and messages follow PostgreSQL
//! (`parse_agg.c` / `parse_clause.c`): nested calls and window calls in
//! WHERE, GROUP BY, HAVING, JOIN conditions and aggregate arguments are
//! refused with 42P20 / 42803.

use std::collections::HashMap;

use freshet_common::cast::CastContext;
use freshet_common::{DataType, Error, Result, SqlState};
use freshet_expr::window::{FrameBound, FrameUnits, RangeOffset, WindowExpr, WindowFrame, WindowFunc};
use freshet_expr::{AggOrder, BinaryOp, ScalarExpr};
use sqlparser::ast::{self, Expr};

use super::scope::Scope;
use super::Binder;
use crate::names;

type Bound = (ScalarExpr, DataType);

/// Named windows of the SELECT being bound, resolved to full specs.
pub(crate) type NamedWindows = HashMap<String, ast::WindowSpec>;

/// Whether `name` is a window-only function.
pub(crate) fn is_window_function(name: &str) -> bool {
    matches!(
        name,
        "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" | "ntile" | "lag" | "lead"
            | "first_value" | "last_value" | "nth_value"
    )
}

/// Whether an expression contains a window call (outside subqueries).
pub(crate) fn contains_window(e: &ScalarExpr) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        if matches!(n, ScalarExpr::Window(_)) {
            found = true;
        }
    });
    found
}

/// Refuses a window call in `clause` (WHERE, GROUP BY, ...).
pub(crate) fn refuse_window(e: &ScalarExpr, clause: &str) -> Result<()> {
    if contains_window(e) {
        return Err(Error::new(SqlState::WindowingError, format!("window functions are not allowed in {clause}")));
    }
    Ok(())
}

/// Resolves a SELECT's `WINDOW` clause: each definition may build on an
/// earlier one (`WINDOW w2 AS (w1 ORDER BY x)`).
pub(crate) fn resolve_named_windows(defs: &[ast::NamedWindowDefinition]) -> Result<NamedWindows> {
    let mut out = NamedWindows::new();
    for ast::NamedWindowDefinition(name, def) in defs {
        let name = names::ident(name);
        if out.contains_key(&name) {
            return Err(Error::new(SqlState::WindowingError, format!("window \"{name}\" is already defined")));
        }
        let spec = match def {
            ast::NamedWindowExpr::NamedWindow(other) => lookup(&out, &names::ident(other))?.clone(),
            ast::NamedWindowExpr::WindowSpec(spec) => inherit(&out, spec)?,
        };
        out.insert(name, spec);
    }
    Ok(out)
}

fn lookup<'a>(windows: &'a NamedWindows, name: &str) -> Result<&'a ast::WindowSpec> {
    windows
        .get(name)
        .ok_or_else(|| Error::new(SqlState::UndefinedObject, format!("window \"{name}\" does not exist")))
}

/// `(base ORDER BY ... frame)`: copies the base window's PARTITION BY and
/// ORDER BY, with PostgreSQL's restrictions on what may be overridden.
fn inherit(windows: &NamedWindows, spec: &ast::WindowSpec) -> Result<ast::WindowSpec> {
    let Some(base_name) = &spec.window_name else { return Ok(spec.clone()) };
    let base_name = names::ident(base_name);
    let base = lookup(windows, &base_name)?;
    if !spec.partition_by.is_empty() {
        return Err(Error::new(
            SqlState::WindowingError,
            format!("cannot override PARTITION BY clause of window \"{base_name}\""),
        ));
    }
    if !spec.order_by.is_empty() && !base.order_by.is_empty() {
        return Err(Error::new(
            SqlState::WindowingError,
            format!("cannot override ORDER BY clause of window \"{base_name}\""),
        ));
    }
    if base.window_frame.is_some() {
        return Err(Error::new(
            SqlState::WindowingError,
            format!("cannot copy window \"{base_name}\" because it has a frame clause"),
        ));
    }
    Ok(ast::WindowSpec {
        window_name: None,
        partition_by: base.partition_by.clone(),
        order_by: if spec.order_by.is_empty() { base.order_by.clone() } else { spec.order_by.clone() },
        window_frame: spec.window_frame.clone(),
    })
}

impl Binder<'_> {
    /// Binds `name(args) [FILTER (...)] OVER window`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn bind_window_call(
        &mut self,
        name: &str,
        over: &ast::WindowType,
        args: &[Expr],
        distinct: bool,
        star: bool,
        has_order_by: bool,
        filter: Option<&Expr>,
        scope: &Scope,
    ) -> Result<Bound> {
        let spec = match over {
            ast::WindowType::NamedWindow(id) => lookup(&self.named_windows, &names::ident(id))?.clone(),
            ast::WindowType::WindowSpec(spec) => inherit(&self.named_windows, spec)?,
        };
        let is_aggregate = super::func::is_aggregate(name);
        if !is_aggregate && !is_window_function(name) {
            return Err(Error::new(
                SqlState::WrongObjectType,
                format!("OVER specified, but {name} is not a window function nor an aggregate function"),
            ));
        }
        if distinct {
            return Err(Error::new(SqlState::FeatureNotSupported, "DISTINCT is not implemented for window functions"));
        }
        if has_order_by {
            return Err(Error::new(SqlState::FeatureNotSupported, "aggregate ORDER BY is not implemented for window functions"));
        }
        let (func, call_args, output_type) = if is_aggregate {
            let (bound, ty) = self.bind_aggregate_call(name, args, false, star, filter, scope, true)?;
            let ScalarExpr::Aggregate(agg) = bound else {
                return Err(Error::internal("aggregate binding returned a non-aggregate"));
            };
            (WindowFunc::Aggregate(*agg), Vec::new(), ty)
        } else {
            if filter.is_some() {
                return Err(Error::new(
                    SqlState::WrongObjectType,
                    "FILTER is not implemented for non-aggregate window functions",
                ));
            }
            if star {
                return Err(Error::syntax(format!("{name}(*) is only valid for aggregates")));
            }
            let mut bound = Vec::with_capacity(args.len());
            for a in args {
                bound.push(self.bind_window_operand(a, scope)?);
            }
            self.window_function(name, bound)?
        };
        let mut partition_by = Vec::with_capacity(spec.partition_by.len());
        for p in &spec.partition_by {
            partition_by.push(self.bind_window_operand(p, scope)?.0);
        }
        let mut order_by = Vec::with_capacity(spec.order_by.len());
        let mut order_types = Vec::with_capacity(spec.order_by.len());
        for item in &spec.order_by {
            let (e, t) = self.bind_window_operand(&item.expr, scope)?;
            let descending = matches!(item.options.sort, Some(ast::OrderBySort::Desc));
            order_by.push(AggOrder { expr: e, descending, nulls_first: item.options.nulls_first.unwrap_or(descending) });
            order_types.push(t);
        }
        let frame = match &spec.window_frame {
            None => WindowFrame::default(),
            Some(f) => self.bind_frame(f, &order_by, &order_types, scope)?,
        };
        let call = WindowExpr { func, args: call_args, partition_by, order_by, frame, output_type: output_type.clone() };
        Ok((ScalarExpr::Window(Box::new(call)), output_type))
    }

    /// Binds an operand of a window call (argument, PARTITION BY or ORDER
    /// BY expression): it may contain aggregates (the window runs over the
    /// grouped rows) but not another window call.
    fn bind_window_operand(&mut self, e: &Expr, scope: &Scope) -> Result<Bound> {
        let bound = self.bind_expr(e, scope)?;
        if contains_window(&bound.0) {
            return Err(Error::new(SqlState::WindowingError, "window function calls cannot be nested"));
        }
        Ok(bound)
    }

    /// Resolves a window-only function and its argument types.
    fn window_function(&mut self, name: &str, args: Vec<Bound>) -> Result<(WindowFunc, Vec<ScalarExpr>, DataType)> {
        let no_such = |args: &[Bound]| {
            let types: Vec<String> = args.iter().map(|(_, t)| t.pg_name()).collect();
            Error::new(SqlState::UndefinedFunction, format!("function {name}({}) does not exist", types.join(", ")))
                .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
        };
        let int_arg = |b: &mut Self, bound: Bound| -> Result<ScalarExpr> {
            if !(bound.1.is_integer() || bound.1 == DataType::Unknown) {
                return Err(no_such(std::slice::from_ref(&bound)));
            }
            b.coerce(bound.0, &bound.1, &DataType::Int4, CastContext::Implicit)
        };
        let value_type = |t: &DataType| if *t == DataType::Unknown { DataType::Text } else { t.clone() };
        Ok(match (name, args.len()) {
            ("row_number", 0) => (WindowFunc::RowNumber, vec![], DataType::Int8),
            ("rank", 0) => (WindowFunc::Rank, vec![], DataType::Int8),
            ("dense_rank", 0) => (WindowFunc::DenseRank, vec![], DataType::Int8),
            ("percent_rank", 0) => (WindowFunc::PercentRank, vec![], DataType::Float8),
            ("cume_dist", 0) => (WindowFunc::CumeDist, vec![], DataType::Float8),
            ("ntile", 1) => {
                let n = args.into_iter().next().ok_or_else(|| Error::internal("ntile argument"))?;
                (WindowFunc::Ntile, vec![int_arg(self, n)?], DataType::Int4)
            }
            ("first_value" | "last_value", 1) => {
                let (e, t) = args.into_iter().next().ok_or_else(|| Error::internal("value argument"))?;
                let ty = value_type(&t);
                let e = self.coerce(e, &t, &ty, CastContext::Implicit)?;
                let func = if name == "first_value" { WindowFunc::FirstValue } else { WindowFunc::LastValue };
                (func, vec![e], ty)
            }
            ("nth_value", 2) => {
                let mut it = args.into_iter();
                let (e, t) = it.next().ok_or_else(|| Error::internal("value argument"))?;
                let n = it.next().ok_or_else(|| Error::internal("nth argument"))?;
                let ty = value_type(&t);
                let e = self.coerce(e, &t, &ty, CastContext::Implicit)?;
                (WindowFunc::NthValue, vec![e, int_arg(self, n)?], ty)
            }
            ("lag" | "lead", 1..=3) => {
                let func = if name == "lag" { WindowFunc::Lag } else { WindowFunc::Lead };
                let mut it = args.into_iter();
                let value = it.next().ok_or_else(|| Error::internal("value argument"))?;
                let offset = it.next();
                let default = it.next();
                // lag(anycompatible, integer, anycompatible): the value and
                // the default share a type.
                let (mut values, ty) = match default {
                    Some(d) => self.unify(vec![value, d], name)?,
                    None => {
                        let ty = value_type(&value.1);
                        (vec![self.coerce(value.0, &value.1, &ty, CastContext::Implicit)?], ty)
                    }
                };
                let mut out = vec![values.remove(0)];
                match offset {
                    Some(o) => out.push(int_arg(self, o)?),
                    None if !values.is_empty() => out.push(ScalarExpr::Literal(freshet_common::Datum::Int4(1))),
                    None => {}
                }
                out.extend(values);
                (func, out, ty)
            }
            _ => return Err(no_such(&args)),
        })
    }

    /// Binds a frame clause and checks it as PostgreSQL does.
    fn bind_frame(
        &mut self,
        frame: &ast::WindowFrame,
        order_by: &[AggOrder],
        order_types: &[DataType],
        scope: &Scope,
    ) -> Result<WindowFrame> {
        let units = match frame.units {
            ast::WindowFrameUnits::Rows => FrameUnits::Rows,
            ast::WindowFrameUnits::Range => FrameUnits::Range,
            ast::WindowFrameUnits::Groups => FrameUnits::Groups,
        };
        let start_ast = &frame.start_bound;
        let end_ast = frame.end_bound.clone().unwrap_or(ast::WindowFrameBound::CurrentRow);
        use ast::WindowFrameBound as B;
        let refuse = |msg: &str| Err(Error::new(SqlState::WindowingError, msg.to_string()));
        match (start_ast, &end_ast) {
            (B::Following(None), _) => return refuse("frame start cannot be UNBOUNDED FOLLOWING"),
            (_, B::Preceding(None)) => return refuse("frame end cannot be UNBOUNDED PRECEDING"),
            (B::CurrentRow, B::Preceding(Some(_))) => {
                return refuse("frame starting from current row cannot have preceding rows")
            }
            (B::Following(Some(_)), B::Preceding(Some(_)) | B::CurrentRow) => {
                return refuse("frame starting from following row cannot have preceding rows")
            }
            _ => {}
        }
        if frame.end_bound.is_none() && matches!(start_ast, B::Following(Some(_))) {
            return refuse("frame starting from following row cannot end with current row");
        }
        let start = self.bind_frame_bound(start_ast, units, order_by, order_types, scope)?;
        let end = self.bind_frame_bound(&end_ast, units, order_by, order_types, scope)?;
        Ok(WindowFrame { units, start, end })
    }

    fn bind_frame_bound(
        &mut self,
        bound: &ast::WindowFrameBound,
        units: FrameUnits,
        order_by: &[AggOrder],
        order_types: &[DataType],
        scope: &Scope,
    ) -> Result<FrameBound> {
        let (offset_expr, preceding) = match bound {
            ast::WindowFrameBound::CurrentRow => return Ok(FrameBound::CurrentRow),
            ast::WindowFrameBound::Preceding(None) => return Ok(FrameBound::UnboundedPreceding),
            ast::WindowFrameBound::Following(None) => return Ok(FrameBound::UnboundedFollowing),
            ast::WindowFrameBound::Preceding(Some(e)) => (e.as_ref(), true),
            ast::WindowFrameBound::Following(Some(e)) => (e.as_ref(), false),
        };
        let units_name = match units {
            FrameUnits::Rows => "ROWS",
            FrameUnits::Range => "RANGE",
            FrameUnits::Groups => "GROUPS",
        };
        let (offset, offset_type) = self.bind_expr(offset_expr, scope)?;
        let mut has_columns = false;
        offset.visit(&mut |n| {
            if matches!(n, ScalarExpr::Column(_) | ScalarExpr::Outer { .. }) {
                has_columns = true;
            }
        });
        if has_columns {
            return Err(Error::new(
                SqlState::InvalidColumnReference,
                format!("argument of {units_name} must not contain variables"),
            ));
        }
        let range = match units {
            FrameUnits::Rows | FrameUnits::Groups => {
                if units == FrameUnits::Groups && order_by.is_empty() {
                    return Err(Error::new(SqlState::WindowingError, "GROUPS mode requires an ORDER BY clause"));
                }
                let offset = self.coerce(offset, &offset_type, &DataType::Int8, CastContext::Implicit)?;
                return Ok(if preceding {
                    FrameBound::Preceding { offset, range: None }
                } else {
                    FrameBound::Following { offset, range: None }
                });
            }
            FrameUnits::Range => {
                let ([key], [key_type]) = (order_by, order_types) else {
                    return Err(Error::new(
                        SqlState::WindowingError,
                        "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column",
                    ));
                };
                self.range_offset(key, key_type, (offset, offset_type), preceding)?
            }
        };
        let (range, offset) = range;
        Ok(if preceding {
            FrameBound::Preceding { offset, range: Some(Box::new(range)) }
        } else {
            FrameBound::Following { offset, range: Some(Box::new(range)) }
        })
    }

    /// Compiles a RANGE offset bound on an ORDER BY key of type `key_type`:
    /// the bound is `key - offset` when moving towards the start of the
    /// window's order (PRECEDING ascending, FOLLOWING descending), else
    /// `key + offset`.
    /// Returns the compiled bound and the offset coerced to its type.
    fn range_offset(
        &mut self,
        key: &AggOrder,
        key_type: &DataType,
        offset: Bound,
        preceding: bool,
    ) -> Result<(RangeOffset, ScalarExpr)> {
        let offset_type = match key_type {
            t if t.is_numeric() => t.without_modifiers(),
            DataType::Date
            | DataType::Time
            | DataType::Timestamp
            | DataType::TimestampTz
            | DataType::Interval => DataType::Interval,
            other => {
                return Err(Error::new(SqlState::FeatureNotSupported, format!(
                    "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {}",
                    other.pg_name()
                )))
            }
        };
        let offset = if offset.1 == offset_type {
            offset.0
        } else if offset.1 == DataType::Unknown || offset.1.is_numeric() == offset_type.is_numeric() {
            self.coerce(offset.0, &offset.1, &offset_type, CastContext::Implicit).map_err(|_| {
                Error::new(SqlState::FeatureNotSupported, format!(
                    "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {} and offset type {}",
                    key_type.pg_name(),
                    offset.1.pg_name()
                ))
            })?
        } else {
            return Err(Error::new(SqlState::FeatureNotSupported, format!(
                "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {} and offset type {}",
                key_type.pg_name(),
                offset.1.pg_name()
            )));
        };
        let toward_start = preceding != key.descending;
        let op = if toward_start { BinaryOp::Sub } else { BinaryOp::Add };
        let (target, target_type) =
            self.resolve_binary(op, (ScalarExpr::Column(0), key_type.clone()), (offset.clone(), offset_type))?;
        let (less, greater) = (BinaryOp::Lt, BinaryOp::Gt);
        let (before_op, after_op) = if key.descending { (greater, less) } else { (less, greater) };
        let key_col = (ScalarExpr::Column(0), key_type.clone());
        let target_col = (ScalarExpr::Column(1), target_type);
        let (before, _) = self.resolve_binary(before_op, key_col.clone(), target_col.clone())?;
        let (after, _) = self.resolve_binary(after_op, key_col, target_col)?;
        Ok((RangeOffset { target, before, after }, offset))
    }
}
