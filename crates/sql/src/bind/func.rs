//! Function calls: aggregates and built-in scalar functions, with
//! PostgreSQL's overload choices.

use freshet_common::cast::CastContext;
use freshet_common::{DataType, Datum, Error, Result, SqlState};
use freshet_expr::func::{DateTimeFunc, Func};
use freshet_expr::jsonb_ops::JsonFunc;
use freshet_expr::{AggregateExpr, AggregateFunc, ScalarExpr};
use sqlparser::ast::{self, Expr, FunctionArg, FunctionArgExpr, FunctionArguments};

use super::scope::Scope;
use super::Binder;
use crate::names;

type Bound = (ScalarExpr, DataType);

/// Whether `name` is an aggregate function.
pub(crate) fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count" | "sum" | "avg" | "min" | "max" | "string_agg" | "array_agg" | "bool_and" | "bool_or" | "every"
            | "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop"
            | "jsonb_agg" | "json_agg" | "jsonb_object_agg" | "json_object_agg"
    )
}

/// Parameter names of the built-in functions that accept named arguments
/// (`make_interval(days => 10)`), and whether a missing one defaults to 0.
fn parameter_names(function: &str) -> Option<(&'static [&'static str], bool)> {
    Some(match function {
        "make_interval" => (&["years", "months", "weeks", "days", "hours", "mins", "secs"], true),
        "make_date" => (&["year", "month", "day"], false),
        "make_time" => (&["hour", "min", "sec"], false),
        "make_timestamp" => (&["year", "month", "mday", "hour", "min", "sec"], false),
        "make_timestamptz" => (&["year", "month", "mday", "hour", "min", "sec", "timezone"], false),
        _ => return None,
    })
}

/// Positional and named arguments of `function` in parameter order; 42883
/// for a function without named parameters, an unknown or repeated name,
/// or a missing argument without a default.
fn named_arguments(function: &str, positional: Vec<Expr>, named: Vec<(String, Expr)>) -> Result<Vec<Expr>> {
    let signature = || {
        let mut parts: Vec<String> = positional.iter().map(|_| "...".to_string()).collect();
        parts.extend(named.iter().map(|(n, _)| format!("{n} => ...")));
        parts.join(", ")
    };
    let no_such = || {
        Error::new(SqlState::UndefinedFunction, format!("function {function}({}) does not exist", signature()))
            .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
    };
    let Some((params, zero_default)) = parameter_names(function) else { return Err(no_such()) };
    if positional.len() > params.len() {
        return Err(no_such());
    }
    let mut slots: Vec<Option<Expr>> = vec![None; params.len()];
    for (slot, e) in slots.iter_mut().zip(positional.iter().cloned()) {
        *slot = Some(e);
    }
    for (k, (arg_name, _)) in named.iter().enumerate() {
        if named[..k].iter().any(|(other, _)| other == arg_name) {
            return Err(Error::syntax(format!("argument name \"{arg_name}\" used more than once")));
        }
    }
    for (arg_name, e) in &named {
        let Some(i) = params.iter().position(|p| p == arg_name) else { return Err(no_such()) };
        if slots[i].is_some() {
            return Err(no_such());
        }
        slots[i] = Some(e.clone());
    }
    // Trailing parameters may be left out where they default (and make_timestamptz's time zone).
    let last_given = slots.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
    let mut out = Vec::with_capacity(last_given);
    for slot in slots.into_iter().take(last_given) {
        out.push(match slot {
            Some(e) => e,
            None if zero_default => Expr::Value(ast::Value::Number("0".into(), false).into()),
            None => return Err(no_such()),
        });
    }
    Ok(out)
}

impl Binder<'_> {
    /// Binds `f(...)`.
    pub(crate) fn bind_function(&mut self, f: &ast::Function, scope: &Scope) -> Result<Bound> {
        let parts = names::object_name(&f.name);
        let name = parts.last().cloned().unwrap_or_default();
        let (arg_exprs, distinct, star, order_by): (Vec<Expr>, bool, bool, Vec<ast::OrderByExpr>) = match &f.args {
            FunctionArguments::None => (vec![], false, false, vec![]),
            FunctionArguments::Subquery(_) => return Err(Error::unsupported("subquery as a function argument")),
            FunctionArguments::List(list) => {
                let distinct = matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct));
                let mut exprs = Vec::new();
                let mut named: Vec<(String, Expr)> = Vec::new();
                let mut star = false;
                for a in &list.args {
                    match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if named.is_empty() => exprs.push(e.clone()),
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                        FunctionArg::Unnamed(_) => {
                            return Err(Error::syntax("positional argument cannot follow named argument"))
                        }
                        FunctionArg::Named { name: arg_name, arg: FunctionArgExpr::Expr(e), .. } => {
                            named.push((names::ident(arg_name), e.clone()))
                        }
                        FunctionArg::ExprNamed { name: Expr::Identifier(arg_name), arg: FunctionArgExpr::Expr(e), .. } => {
                            named.push((names::ident(arg_name), e.clone()))
                        }
                        _ => return Err(Error::unsupported(format!("argument form in {}", f.name))),
                    }
                }
                if !named.is_empty() {
                    exprs = named_arguments(&name, exprs, named)?;
                }
                let mut order_by = Vec::new();
                for c in &list.clauses {
                    match c {
                        ast::FunctionArgumentClause::OrderBy(items) => order_by.extend(items.iter().cloned()),
                        other => return Err(Error::unsupported(format!("{other} in a function call"))),
                    }
                }
                (exprs, distinct, star, order_by)
            }
        };
        if f.over.is_some() && !f.within_group.is_empty() {
            return Err(Error::new(SqlState::FeatureNotSupported, format!("OVER is not supported for ordered-set aggregate {name}")));
        }
        if let Some(over) = &f.over {
            return self.bind_window_call(
                &name,
                over,
                &arg_exprs,
                distinct,
                star,
                !order_by.is_empty(),
                f.filter.as_deref(),
                scope,
            );
        }
        if name == "row" && parts.len() == 1 && f.over.is_none() {
            // `ROW(a, b)`: sqlparser reads it as a call; PostgreSQL's row
            // constructor, a record with fields f1, f2, ...
            let items: Vec<&Expr> = arg_exprs.iter().collect();
            return self.bind_row_constructor(&items, scope);
        }
        if name == "grouping" && parts.len() <= 2 {
            let mut args = Vec::with_capacity(arg_exprs.len());
            for e in &arg_exprs {
                args.push(self.bind_expr(e, scope)?.0);
            }
            if args.is_empty() || args.len() > 31 {
                return Err(Error::new(SqlState::ProgramLimitExceeded, "GROUPING must have fewer than 32 arguments"));
            }
            let agg = AggregateExpr {
                func: AggregateFunc::Grouping,
                args,
                distinct: false,
                filter: None,
                order_by: vec![],
                input_type: DataType::Int4,
                output_type: DataType::Int4,
            };
            return Ok((ScalarExpr::Aggregate(Box::new(agg)), DataType::Int4));
        }
        if matches!(name.as_str(), "percentile_cont" | "percentile_disc") && parts.len() <= 2 {
            return self.bind_percentile(&name, &arg_exprs, &f.within_group, f.filter.as_deref(), scope);
        }
        if name == "mode" && parts.len() <= 2 && !f.within_group.is_empty() {
            return self.bind_mode(&arg_exprs, &f.within_group, f.filter.as_deref(), scope);
        }
        if !f.within_group.is_empty() {
            return Err(Error::new(
                SqlState::WrongObjectType,
                format!("WITHIN GROUP is required for ordered-set aggregate {name}"),
            )
            .with_hint("only percentile_cont, percentile_disc and mode are ordered-set aggregates here"));
        }
        if is_aggregate(&name) && parts.len() <= 2 {
            let (bound, ty) =
                self.bind_aggregate_call(&name, &arg_exprs, distinct, star, f.filter.as_deref(), scope, false)?;
            let bound = match bound {
                ScalarExpr::Aggregate(mut agg) if !order_by.is_empty() => {
                    // An explicit ORDER BY replaces the DISTINCT sort.
                    agg.order_by.clear();
                    for item in &order_by {
                        let (e, _) = self.bind_expr(&item.expr, scope)?;
                        let descending = matches!(item.options.sort, Some(ast::OrderBySort::Desc));
                        agg.order_by.push(freshet_expr::AggOrder {
                            expr: e,
                            descending,
                            nulls_first: item.options.nulls_first.unwrap_or(descending),
                        });
                    }
                    ScalarExpr::Aggregate(agg)
                }
                other => other,
            };
            return Ok((bound, ty));
        }
        if !order_by.is_empty() {
            return Err(Error::syntax(format!("ORDER BY specified, but {name} is not an aggregate function")));
        }
        if f.filter.is_some() {
            return Err(Error::new(
                SqlState::WrongObjectType,
                format!("FILTER specified, but {name} is not an aggregate function"),
            ));
        }
        if star {
            return Err(Error::syntax(format!("{name}(*) is only valid for aggregates")));
        }
        if distinct {
            return Err(Error::syntax(format!("DISTINCT specified, but {name} is not an aggregate function")));
        }
        let mut args = Vec::new();
        for e in &arg_exprs {
            args.push(self.bind_expr(e, scope)?);
        }
        self.call_function(&name, args)
    }

    /// `percentile_cont(f) / percentile_disc(f) WITHIN GROUP (ORDER BY x)`:
    /// an aggregate over the sorted values of `x` (NULLs ignored).
    /// percentile_cont interpolates (double precision or interval);
    /// percentile_disc returns the first value whose position reaches the
    /// fraction (the type of `x`).
    fn bind_percentile(
        &mut self,
        name: &str,
        args: &[Expr],
        within_group: &[ast::OrderByExpr],
        filter: Option<&Expr>,
        scope: &Scope,
    ) -> Result<Bound> {
        let ([fraction], [item]) = (args, within_group) else {
            return Err(Error::new(
                SqlState::UndefinedFunction,
                format!("function {name} requires one argument and WITHIN GROUP (ORDER BY one expression)"),
            ));
        };
        let (f, ft) = self.bind_expr(fraction, scope)?;
        if matches!(ft, DataType::Array(_)) {
            return Err(Error::unsupported(format!("{name} with an array of fractions")));
        }
        let f = self.coerce(f, &ft, &DataType::Float8, CastContext::Implicit)?;
        let (x, xt) = self.bind_expr(&item.expr, scope)?;
        if super::contains_aggregate(&x) || super::contains_aggregate(&f) {
            return Err(Error::new(SqlState::GroupingError, "aggregate function calls cannot be nested"));
        }
        let cont = name == "percentile_cont";
        let (x, input_type) = if cont {
            let target = if xt == DataType::Interval { DataType::Interval } else { DataType::Float8 };
            (self.coerce(x, &xt, &target, CastContext::Implicit)?, target)
        } else {
            let t = if xt == DataType::Unknown { DataType::Text } else { xt.clone() };
            (x, t)
        };
        let filter = match filter {
            Some(e) => Some(self.bind_condition(e, scope, "FILTER")?),
            None => None,
        };
        let descending = matches!(item.options.sort, Some(ast::OrderBySort::Desc));
        let agg = AggregateExpr {
            func: if cont { AggregateFunc::PercentileCont } else { AggregateFunc::PercentileDisc },
            args: vec![x.clone(), f],
            distinct: false,
            filter,
            order_by: vec![freshet_expr::AggOrder { expr: x, descending, nulls_first: item.options.nulls_first.unwrap_or(descending) }],
            input_type: input_type.clone(),
            output_type: input_type.clone(),
        };
        Ok((ScalarExpr::Aggregate(Box::new(agg)), input_type))
    }

    /// `mode() WITHIN GROUP (ORDER BY x)`: the most frequent non-NULL
    /// value of `x`, the first in the WITHIN GROUP order among ties.
    fn bind_mode(&mut self, args: &[Expr], within_group: &[ast::OrderByExpr], filter: Option<&Expr>, scope: &Scope) -> Result<Bound> {
        let [item] = within_group else {
            return Err(Error::new(SqlState::UndefinedFunction, "function mode requires WITHIN GROUP (ORDER BY one expression)"));
        };
        if !args.is_empty() {
            let mut types = Vec::new();
            for a in args {
                types.push(self.bind_expr(a, scope)?.1.pg_name());
            }
            types.push(self.bind_expr(&item.expr, scope)?.1.pg_name());
            return Err(Error::new(SqlState::UndefinedFunction, format!("function mode({}) does not exist", types.join(", ")))
                .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."));
        }
        let (x, xt) = self.bind_expr(&item.expr, scope)?;
        if super::contains_aggregate(&x) {
            return Err(Error::new(SqlState::GroupingError, "aggregate function calls cannot be nested"));
        }
        let (x, xt) = if xt == DataType::Unknown {
            (self.coerce(x, &xt, &DataType::Text, CastContext::Implicit)?, DataType::Text)
        } else {
            (x, xt)
        };
        let filter = match filter {
            Some(e) => Some(self.bind_condition(e, scope, "FILTER")?),
            None => None,
        };
        let descending = matches!(item.options.sort, Some(ast::OrderBySort::Desc));
        let agg = AggregateExpr {
            func: AggregateFunc::Mode,
            args: vec![x.clone()],
            distinct: false,
            filter,
            order_by: vec![freshet_expr::AggOrder { expr: x, descending, nulls_first: item.options.nulls_first.unwrap_or(descending) }],
            input_type: xt.clone(),
            output_type: xt.clone(),
        };
        Ok((ScalarExpr::Aggregate(Box::new(agg)), xt))
    }

    /// Binds a call where the first arguments are already bound and the last
    /// comes from an expression (EXTRACT(field FROM expr)).
    pub(crate) fn bind_named_call(&mut self, name: &str, mut args: Vec<Bound>, last: Option<&Expr>, scope: &Scope) -> Result<Bound> {
        if let Some(e) = last {
            args.push(self.bind_expr(e, scope)?);
        }
        self.call_function(name, args)
    }

    /// Binds an aggregate call. Its arguments may contain neither window
    /// calls nor, unless `windowed` (an aggregate used as a window
    /// function, which runs over grouped rows), other aggregates.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn bind_aggregate_call(
        &mut self,
        name: &str,
        args: &[Expr],
        distinct: bool,
        star: bool,
        filter: Option<&Expr>,
        scope: &Scope,
        windowed: bool,
    ) -> Result<Bound> {
        let mut bound = Vec::new();
        for a in args {
            let b = self.bind_expr(a, scope)?;
            if !windowed && super::contains_aggregate(&b.0) {
                return Err(Error::new(SqlState::GroupingError, "aggregate function calls cannot be nested"));
            }
            if super::window::contains_window(&b.0) {
                return Err(if windowed {
                    Error::new(SqlState::WindowingError, "window function calls cannot be nested")
                } else {
                    Error::new(SqlState::GroupingError, "aggregate function calls cannot contain window function calls")
                });
            }
            bound.push(b);
        }
        let filter = match filter {
            Some(f) => Some(self.bind_condition(f, scope, "FILTER")?),
            None => None,
        };
        let wrong_args = || {
            Error::new(SqlState::UndefinedFunction, format!("function {name} with these arguments does not exist"))
        };
        // DISTINCT aggregates whose result shows their input's order see
        // it sorted by the (unconverted) arguments, as PostgreSQL sorts
        // to remove duplicates.
        let mut distinct_keys: Vec<ScalarExpr> = Vec::new();
        let (func, args, input_type) = match name {
            "count" if star || bound.is_empty() => (AggregateFunc::CountStar, vec![], DataType::Int8),
            "count" => {
                let (e, t) = bound.into_iter().next().ok_or_else(wrong_args)?;
                let t = if t == DataType::Unknown { DataType::Text } else { t };
                (AggregateFunc::Count, vec![e], t)
            }
            "sum" | "avg" => {
                let (e, t) = bound.into_iter().next().ok_or_else(wrong_args)?;
                let target = match &t {
                    DataType::Unknown => DataType::Float8,
                    t if t.is_numeric() || *t == DataType::Interval => t.without_modifiers(),
                    other => {
                        return Err(Error::new(
                            SqlState::UndefinedFunction,
                            format!("function {name}({}) does not exist", other.pg_name()),
                        )
                        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."))
                    }
                };
                let e = self.coerce(e, &t, &target, CastContext::Implicit)?;
                (if name == "sum" { AggregateFunc::Sum } else { AggregateFunc::Avg }, vec![e], target)
            }
            "min" | "max" => {
                let (e, t) = bound.into_iter().next().ok_or_else(wrong_args)?;
                let target = if t == DataType::Unknown { DataType::Text } else { t };
                (if name == "min" { AggregateFunc::Min } else { AggregateFunc::Max }, vec![e], target)
            }
            "string_agg" => {
                if bound.len() != 2 {
                    return Err(wrong_args());
                }
                let mut it = bound.into_iter();
                let (v, vt) = it.next().ok_or_else(wrong_args)?;
                let (d, dt) = it.next().ok_or_else(wrong_args)?;
                let v = self.coerce(v, &vt, &DataType::Text, CastContext::Implicit)?;
                let d = self.coerce(d, &dt, &DataType::Text, CastContext::Implicit)?;
                distinct_keys = vec![v.clone(), d.clone()];
                (AggregateFunc::StringAgg, vec![v, d], DataType::Text)
            }
            "jsonb_agg" | "json_agg" => {
                let (e, t) = bound.into_iter().next().ok_or_else(wrong_args)?;
                let (e, t) = if t == DataType::Unknown {
                    (self.coerce(e, &DataType::Unknown, &DataType::Text, CastContext::Implicit)?, DataType::Text)
                } else {
                    (e, t)
                };
                distinct_keys = vec![e.clone()];
                if name == "json_agg" {
                    self.refuse_zoned_json(name, &[&t])?;
                    // The values are kept as they are and printed as json
                    // text at the end, by the input type, which also
                    // decides the separator (`json_agg_transfn`).
                    (AggregateFunc::JsonAgg { json: true }, vec![e], t)
                } else {
                    self.refuse_zoned_json(name, &[&t])?;
                    let value = ScalarExpr::Call { func: Func::Json(JsonFunc::ToJsonb, vec![t.clone()]), args: vec![e] };
                    (AggregateFunc::JsonAgg { json: false }, vec![value], DataType::Jsonb)
                }
            }
            "jsonb_object_agg" | "json_object_agg" => {
                let mut it = bound.into_iter();
                let (k, kt) = it.next().ok_or_else(wrong_args)?;
                let (v, vt) = it.next().ok_or_else(wrong_args)?;
                let (v, vt) = if vt == DataType::Unknown {
                    (self.coerce(v, &DataType::Unknown, &DataType::Text, CastContext::Implicit)?, DataType::Text)
                } else {
                    (v, vt)
                };
                distinct_keys = vec![k.clone(), v.clone()];
                if name == "json_object_agg" {
                    self.refuse_zoned_json(name, &[&kt, &vt])?;
                    let (k, kt) = if kt == DataType::Unknown {
                        (self.coerce(k, &DataType::Unknown, &DataType::Text, CastContext::Implicit)?, DataType::Text)
                    } else {
                        (k, kt)
                    };
                    let key = ScalarExpr::Call { func: Func::Json(JsonFunc::JsonKey, vec![kt]), args: vec![k] };
                    let value = ScalarExpr::Call { func: Func::Json(JsonFunc::ToJson, vec![vt]), args: vec![v] };
                    (AggregateFunc::JsonObjectAgg { json: true }, vec![key, value], DataType::Text)
                } else {
                    self.refuse_zoned_json(name, &[&kt, &vt])?;
                    let (k, kt) = if kt == DataType::Unknown {
                        (self.coerce(k, &DataType::Unknown, &DataType::Text, CastContext::Implicit)?, DataType::Text)
                    } else {
                        (k, kt)
                    };
                    let key = ScalarExpr::Call { func: Func::Json(JsonFunc::JsonbKey, vec![kt]), args: vec![k] };
                    let value = ScalarExpr::Call { func: Func::Json(JsonFunc::ToJsonb, vec![vt]), args: vec![v] };
                    (AggregateFunc::JsonObjectAgg { json: false }, vec![key, value], DataType::Text)
                }
            }
            "array_agg" => {
                let (e, t) = bound.into_iter().next().ok_or_else(wrong_args)?;
                let t = if t == DataType::Unknown { DataType::Text } else { t };
                distinct_keys = vec![e.clone()];
                (AggregateFunc::ArrayAgg, vec![e], t)
            }
            "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
                use freshet_expr::agg::SpreadKind;
                let kind = match name {
                    "stddev" | "stddev_samp" => SpreadKind::StddevSamp,
                    "stddev_pop" => SpreadKind::StddevPop,
                    "variance" | "var_samp" => SpreadKind::VarSamp,
                    _ => SpreadKind::VarPop,
                };
                let (e, t) = bound.into_iter().next().ok_or_else(wrong_args)?;
                let target = match &t {
                    DataType::Unknown | DataType::Float4 | DataType::Float8 => DataType::Float8,
                    t if t.is_numeric() => t.without_modifiers(),
                    other => {
                        return Err(Error::new(
                            SqlState::UndefinedFunction,
                            format!("function {name}({}) does not exist", other.pg_name()),
                        )
                        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."))
                    }
                };
                let e = self.coerce(e, &t, &target, CastContext::Implicit)?;
                (AggregateFunc::Spread { kind }, vec![e], target)
            }
            "bool_and" | "bool_or" | "every" => {
                let (e, t) = bound.into_iter().next().ok_or_else(wrong_args)?;
                let e = self.coerce(e, &t, &DataType::Bool, CastContext::Implicit)?;
                (if name == "bool_or" { AggregateFunc::BoolOr } else { AggregateFunc::BoolAnd }, vec![e], DataType::Bool)
            }
            _ => return Err(wrong_args()),
        };
        let output_type = func.output_type(&input_type);
        let order_by = if distinct {
            distinct_keys
                .into_iter()
                .map(|expr| freshet_expr::AggOrder { expr, descending: false, nulls_first: false })
                .collect()
        } else {
            vec![]
        };
        let agg = AggregateExpr { func, args, distinct, filter, order_by, input_type, output_type: output_type.clone() };
        Ok((ScalarExpr::Aggregate(Box::new(agg)), output_type))
    }

    /// A row constructor (`ROW(a, b)`, `(a, b)`): a record whose fields
    /// are named f1, f2, ... as PostgreSQL names them; untyped literals
    /// become text.
    pub(crate) fn bind_row_constructor(&mut self, items: &[&Expr], scope: &Scope) -> Result<Bound> {
        let mut args = Vec::with_capacity(items.len());
        let mut fields = Vec::with_capacity(items.len());
        for (i, e) in items.iter().enumerate() {
            let (b, t) = self.bind_expr(e, scope)?;
            let (b, t) = if t == DataType::Unknown {
                (self.coerce(b, &t, &DataType::Text, CastContext::Implicit)?, DataType::Text)
            } else {
                (b, t)
            };
            args.push(b);
            fields.push((format!("f{}", i + 1), t));
        }
        Ok((ScalarExpr::Call { func: Func::ArrayConstruct, args }, DataType::Record(fields)))
    }

    /// The arguments of the jsonpath functions: `(jsonb, path [, vars
    /// jsonb [, silent bool]])`. Paths are text (Freshet has no jsonpath
    /// type); a constant path is parsed here so a malformed one fails
    /// while binding (42601), as PostgreSQL's jsonpath input does.
    pub(crate) fn jsonpath_arguments(&mut self, name: &str, args: Vec<Bound>) -> Result<Vec<ScalarExpr>> {
        let types: Vec<DataType> = args.iter().map(|(_, t)| t.clone()).collect();
        let fits = matches!(types[0], DataType::Jsonb | DataType::Unknown)
            && (types[1].is_string() || types[1] == DataType::Unknown)
            && types.get(2).is_none_or(|t| matches!(t, DataType::Jsonb | DataType::Unknown))
            && types.get(3).is_none_or(|t| matches!(t, DataType::Bool | DataType::Unknown));
        if !fits {
            let names: Vec<String> = types.iter().map(|t| t.pg_name()).collect();
            let shown = name.trim_end_matches("_opr");
            return Err(Error::new(SqlState::UndefinedFunction, format!("function {shown}({}) does not exist", names.join(", ")))
                .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."));
        }
        if let ScalarExpr::Literal(Datum::Text(path)) = &args[1].0 {
            freshet_expr::jsonpath::parse(path)?;
        }
        let targets = [DataType::Jsonb, DataType::Text, DataType::Jsonb, DataType::Bool];
        let mut out = Vec::with_capacity(4);
        for ((e, t), target) in args.into_iter().zip(targets.iter()) {
            out.push(self.coerce(e, &t, target, CastContext::Implicit)?);
        }
        // The functions' defaults: vars '{}' and silent false (the
        // operators keep two arguments).
        if !name.ends_with("_opr") {
            if out.len() < 3 {
                out.push(ScalarExpr::Literal(Datum::Jsonb(freshet_common::json::Jsonb::Object(vec![]))));
            }
            if out.len() < 4 {
                out.push(ScalarExpr::Literal(Datum::Bool(false)));
            }
        }
        Ok(out)
    }

    /// The arguments of a function that turns values into JSON, each
    /// coerced to its own type (an unknown literal, a key among them, is
    /// text), except the one at `bool_at` (a `pretty` flag), which is
    /// boolean. Returns the expressions and their types.
    fn json_value_args<I>(&mut self, args: I, bool_at: Option<usize>) -> Result<(Vec<ScalarExpr>, Vec<DataType>)>
    where
        I: IntoIterator<Item = (ScalarExpr, DataType)>,
    {
        let mut out = Vec::new();
        let mut types = Vec::new();
        for (i, (e, t)) in args.into_iter().enumerate() {
            let target = if bool_at == Some(i) {
                DataType::Bool
            } else if t == DataType::Unknown {
                DataType::Text
            } else {
                t.clone()
            };
            out.push(self.coerce(e, &t, &target, CastContext::Implicit)?);
            types.push(target);
        }
        Ok((out, types))
    }

    /// Refuses (0A000) JSON built from timestamptz values in a materialized
    /// view: their text depends on the session time zone, as to_char's does.
    fn refuse_zoned_json(&self, name: &str, types: &[&DataType]) -> Result<()> {
        if self.for_view && types.iter().any(|t| freshet_expr::json_text::depends_on_time_zone(t)) {
            return Err(Error::unsupported(format!("{name}() of timestamp with time zone in a materialized view"))
                .with_hint("The result depends on the session time zone. Cast the value to timestamp without time zone."));
        }
        Ok(())
    }

    /// Coerces an argument implicitly.
    fn arg(&mut self, (e, t): Bound, to: &DataType) -> Result<ScalarExpr> {
        self.coerce(e, &t, to, CastContext::Implicit)
    }

    /// Resolves and binds a scalar function call by name.
    pub(crate) fn call_function(&mut self, name: &str, args: Vec<Bound>) -> Result<Bound> {
        let n = args.len();
        let arg_types: Vec<DataType> = args.iter().map(|(_, t)| t.clone()).collect();
        let no_such = |name: &str| {
            let types: Vec<String> = arg_types.iter().map(|t| t.pg_name()).collect();
            Error::new(SqlState::UndefinedFunction, format!("function {name}({}) does not exist", types.join(", ")))
                .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
        };
        let text = DataType::Text;
        let int4 = DataType::Int4;
        let call = |func: Func, args: Vec<ScalarExpr>, ty: DataType| Ok((ScalarExpr::Call { func, args }, ty));
        let mut args = args;
        macro_rules! coerce_all {
            ($($ty:expr),*) => {{
                let tys: Vec<DataType> = vec![$($ty.clone()),*];
                if args.len() != tys.len() {
                    return Err(no_such(name));
                }
                let mut out = Vec::new();
                for (a, t) in args.drain(..).zip(tys.iter()) {
                    // An argument no implicit cast reaches means no such
                    // function (42883), as PostgreSQL resolves overloads.
                    out.push(self.arg(a, t).map_err(|e| {
                        if e.state == SqlState::DatatypeMismatch && e.message.starts_with("argument of type") {
                            no_such(name)
                        } else {
                            e
                        }
                    })?);
                }
                out
            }};
        }
        // The float-or-numeric overloads: numeric stays numeric, everything
        // else goes to double precision (the preferred numeric type).
        let float_or_numeric = |t: &DataType| match t {
            DataType::Numeric(_) => DataType::Numeric(None),
            _ => DataType::Float8,
        };
        match name {
            "coalesce" | "greatest" | "least" => {
                if n == 0 {
                    return Err(no_such(name));
                }
                let (coerced, ty) = self.unify(args, &name.to_uppercase())?;
                let func = match name {
                    "coalesce" => Func::Coalesce,
                    "greatest" => Func::Greatest,
                    _ => Func::Least,
                };
                call(func, coerced, ty)
            }
            "nullif" => {
                if n != 2 {
                    return Err(no_such(name));
                }
                let ty = super::expr::comparison_type(&arg_types[0], &arg_types[1]).ok_or_else(|| no_such(name))?;
                let out = coerce_all!(ty, ty);
                call(Func::NullIf, out, ty)
            }
            "length" | "char_length" | "character_length" if n == 1 && arg_types[0] == DataType::Bytea => {
                let out = coerce_all!(DataType::Bytea);
                call(Func::Length, out, int4)
            }
            "length" | "char_length" | "character_length" => {
                let out = coerce_all!(text);
                call(Func::Length, out, int4)
            }
            "octet_length" => {
                let t = match arg_types.first() {
                    Some(DataType::Bytea) => DataType::Bytea,
                    // bpchar counts its padding.
                    Some(t @ DataType::Char(_)) => t.clone(),
                    _ => text.clone(),
                };
                let out = coerce_all!(t);
                call(Func::OctetLength, out, int4)
            }
            "lower" | "upper" | "initcap" | "reverse" => {
                let out = coerce_all!(text);
                let func = match name {
                    "lower" => Func::Lower,
                    "upper" => Func::Upper,
                    "initcap" => Func::Initcap,
                    _ => Func::Reverse,
                };
                call(func, out, text)
            }
            "md5" => {
                let t = if arg_types.first() == Some(&DataType::Bytea) { DataType::Bytea } else { text.clone() };
                let out = coerce_all!(t);
                call(Func::Md5, out, text)
            }
            // pgcrypto's digest(); CREATE EXTENSION pgcrypto is a no-op.
            "digest" => {
                let t = if arg_types.first() == Some(&DataType::Bytea) { DataType::Bytea } else { text.clone() };
                let out = coerce_all!(t, text);
                call(Func::Digest, out, DataType::Bytea)
            }
            "encode" => {
                let out = coerce_all!(DataType::Bytea, text);
                call(Func::Encode, out, text)
            }
            "decode" => {
                let out = coerce_all!(text, text);
                call(Func::Decode, out, DataType::Bytea)
            }
            "sha224" | "sha256" | "sha384" | "sha512" => {
                let mut out = coerce_all!(DataType::Bytea);
                out.push(ScalarExpr::Literal(Datum::Text(name.into())));
                call(Func::Digest, out, DataType::Bytea)
            }
            "substring" | "substr" => {
                let out = match n {
                    2 => coerce_all!(text, int4),
                    3 => coerce_all!(text, int4, int4),
                    _ => return Err(no_such(name)),
                };
                call(Func::Substring, out, text)
            }
            "btrim" | "ltrim" | "rtrim" | "trim" => {
                let out = match n {
                    1 => coerce_all!(text),
                    2 => coerce_all!(text, text),
                    _ => return Err(no_such(name)),
                };
                let (leading, trailing) = match name {
                    "ltrim" => (true, false),
                    "rtrim" => (false, true),
                    _ => (true, true),
                };
                call(Func::Trim { leading, trailing }, out, text)
            }
            "format" if n >= 1 => {
                let mut it = args.into_iter();
                let (f, ft) = it.next().ok_or_else(|| no_such(name))?;
                let mut out = vec![self.coerce(f, &ft, &text, CastContext::Implicit)?];
                for (e, t) in it {
                    out.push(self.to_text(e, &t)?);
                }
                call(Func::Format, out, text)
            }
            "quote_literal" | "quote_nullable" if n == 1 => {
                let mut out = Vec::new();
                for (e, t) in args {
                    out.push(self.to_text(e, &t)?);
                }
                call(if name == "quote_literal" { Func::QuoteLiteral } else { Func::QuoteNullable }, out, text)
            }
            "concat" | "concat_ws" => {
                let mut out = Vec::new();
                for (e, t) in args {
                    out.push(self.to_text(e, &t)?);
                }
                call(if name == "concat" { Func::Concat } else { Func::ConcatWs }, out, text)
            }
            "string_to_array" if n == 2 || n == 3 => {
                let out = if n == 2 { coerce_all!(text, text) } else { coerce_all!(text, text, text) };
                call(Func::StringToArray, out, DataType::Array(Box::new(DataType::Text)))
            }
            "regexp_split_to_array" if n == 2 || n == 3 => {
                let out = if n == 2 { coerce_all!(text, text) } else { coerce_all!(text, text, text) };
                call(Func::RegexpSplitToArray, out, DataType::Array(Box::new(DataType::Text)))
            }
            "translate" => {
                let out = coerce_all!(text, text, text);
                call(Func::Translate, out, text)
            }
            "replace" => {
                let out = coerce_all!(text, text, text);
                call(Func::Replace, out, text)
            }
            "strpos" | "position" => {
                let out = coerce_all!(text, text);
                call(Func::Position, out, int4)
            }
            "left" | "right" => {
                let out = coerce_all!(text, int4);
                call(if name == "left" { Func::Left } else { Func::Right }, out, text)
            }
            "lpad" | "rpad" => {
                let out = match n {
                    2 => coerce_all!(text, int4),
                    3 => coerce_all!(text, int4, text),
                    _ => return Err(no_such(name)),
                };
                call(if name == "lpad" { Func::Lpad } else { Func::Rpad }, out, text)
            }
            "repeat" => {
                let out = coerce_all!(text, int4);
                call(Func::Repeat, out, text)
            }
            "regexp_replace" => {
                let out = match args.len() {
                    3 => coerce_all!(text, text, text),
                    _ => coerce_all!(text, text, text, text),
                };
                call(Func::RegexpReplace, out, text)
            }
            "split_part" => {
                let out = coerce_all!(text, text, int4);
                call(Func::SplitPart, out, text)
            }
            "starts_with" => {
                let out = coerce_all!(text, text);
                call(Func::StartsWith, out, DataType::Bool)
            }
            "ascii" => {
                let out = coerce_all!(text);
                call(Func::Ascii, out, int4)
            }
            "chr" => {
                let out = coerce_all!(int4);
                call(Func::Chr, out, text)
            }
            "to_hex" => {
                let t = if arg_types.first() == Some(&DataType::Int8) { DataType::Int8 } else { int4.clone() };
                let out = coerce_all!(t);
                call(Func::ToHex, out, text)
            }
            "abs" => {
                let t = match arg_types.first() {
                    Some(t @ (DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Float4 | DataType::Float8)) => t.clone(),
                    Some(DataType::Numeric(_)) => DataType::Numeric(None),
                    Some(DataType::Unknown) => DataType::Float8,
                    _ => return Err(no_such(name)),
                };
                let out = coerce_all!(t);
                call(Func::Abs, out, t)
            }
            "round" | "trunc" if n == 2 => {
                let num = DataType::Numeric(None);
                let out = coerce_all!(num, int4);
                call(if name == "round" { Func::Round } else { Func::Trunc }, out, num)
            }
            "round" | "trunc" | "ceil" | "ceiling" | "floor" | "sign" | "sqrt" | "exp" | "ln" | "log10" => {
                let t = match arg_types.first() {
                    Some(t) if t.is_numeric() || *t == DataType::Unknown => float_or_numeric(t),
                    _ => return Err(no_such(name)),
                };
                let out = coerce_all!(t);
                let func = match name {
                    "round" => Func::Round,
                    "trunc" => Func::Trunc,
                    "ceil" | "ceiling" => Func::Ceil,
                    "floor" => Func::Floor,
                    "sign" => Func::Sign,
                    "sqrt" => Func::Sqrt,
                    "exp" => Func::Exp,
                    "ln" => Func::Ln,
                    _ => Func::Log10,
                };
                call(func, out, t)
            }
            "log" if n == 1 => {
                let t = float_or_numeric(&arg_types[0]);
                let out = coerce_all!(t);
                call(Func::Log10, out, t)
            }
            "log" => {
                let num = DataType::Numeric(None);
                let out = coerce_all!(num, num);
                call(Func::Log, out, num)
            }
            "cbrt" | "degrees" | "radians" | "sin" | "cos" | "tan" | "cot" | "asin" | "acos" | "atan" => {
                let f8 = DataType::Float8;
                let out = coerce_all!(f8);
                let func = match name {
                    "cbrt" => Func::Cbrt,
                    "degrees" => Func::Degrees,
                    "radians" => Func::Radians,
                    "sin" => Func::Sin,
                    "cos" => Func::Cos,
                    "tan" => Func::Tan,
                    "cot" => Func::Cot,
                    "asin" => Func::Asin,
                    "acos" => Func::Acos,
                    _ => Func::Atan,
                };
                call(func, out, f8)
            }
            "atan2" => {
                let f8 = DataType::Float8;
                let out = coerce_all!(f8, f8);
                call(Func::Atan2, out, f8)
            }
            "power" | "pow" => {
                let t = if arg_types.iter().any(|t| matches!(t, DataType::Numeric(_))) {
                    DataType::Numeric(None)
                } else {
                    DataType::Float8
                };
                let out = coerce_all!(t, t);
                call(Func::Power, out, t)
            }
            "mod" | "div" => {
                let t = match (arg_types.first(), arg_types.get(1)) {
                    (Some(a), Some(b)) => crate::typing::common_type(a, b).ok_or_else(|| no_such(name))?,
                    _ => return Err(no_such(name)),
                };
                let t = if name == "div" || !t.is_integer() { DataType::Numeric(None) } else { t };
                let out = coerce_all!(t, t);
                call(if name == "mod" { Func::Mod } else { Func::Div }, out, t)
            }
            "pi" => call(Func::Pi, coerce_all!(), DataType::Float8),
            "random" => {
                if self.for_view {
                    return Err(Error::unsupported("random() in a materialized view"));
                }
                call(Func::Random, coerce_all!(), DataType::Float8)
            }
            "now" | "current_timestamp" | "transaction_timestamp" | "statement_timestamp" | "clock_timestamp" => {
                if self.for_view {
                    return Err(Error::unsupported(format!("{name}() in a materialized view")));
                }
                call(Func::DateTime(DateTimeFunc::Now), coerce_all!(), DataType::TimestampTz)
            }
            "localtimestamp" => {
                let now = (ScalarExpr::Call { func: Func::DateTime(DateTimeFunc::Now), args: vec![] }, DataType::TimestampTz);
                let e = self.coerce(now.0, &now.1, &DataType::Timestamp, CastContext::Explicit)?;
                Ok((e, DataType::Timestamp))
            }
            "current_date" => {
                let now = ScalarExpr::Call { func: Func::DateTime(DateTimeFunc::Now), args: vec![] };
                let e = self.coerce(now, &DataType::TimestampTz, &DataType::Date, CastContext::Explicit)?;
                Ok((e, DataType::Date))
            }
            "current_time" | "localtime" => {
                let now = ScalarExpr::Call { func: Func::DateTime(DateTimeFunc::Now), args: vec![] };
                let ts = self.coerce(now, &DataType::TimestampTz, &DataType::Timestamp, CastContext::Explicit)?;
                let e = self.coerce(ts, &DataType::Timestamp, &DataType::Time, CastContext::Explicit)?;
                Ok((e, DataType::Time))
            }
            "extract" | "date_part" => {
                if n != 2 {
                    return Err(no_such(name));
                }
                let source = match &arg_types[1] {
                    DataType::Unknown => DataType::TimestampTz,
                    t @ (DataType::Date | DataType::Time | DataType::Timestamp | DataType::TimestampTz | DataType::Interval) => t.clone(),
                    _ => return Err(no_such(name)),
                };
                let out = coerce_all!(text, source);
                if name == "extract" {
                    call(Func::DateTime(DateTimeFunc::Extract), out, DataType::Numeric(None))
                } else {
                    call(Func::DateTime(DateTimeFunc::DatePart), out, DataType::Float8)
                }
            }
            "timezone" => {
                if n != 2 {
                    return Err(no_such(name));
                }
                let zone = match &arg_types[0] {
                    DataType::Interval => DataType::Interval,
                    _ => text.clone(),
                };
                let (source, out_ty) = match &arg_types[1] {
                    DataType::Unknown | DataType::Date | DataType::TimestampTz => (DataType::TimestampTz, DataType::Timestamp),
                    DataType::Timestamp => (DataType::Timestamp, DataType::TimestampTz),
                    _ => return Err(no_such(name)),
                };
                let out = coerce_all!(zone, source);
                call(Func::DateTime(DateTimeFunc::AtTimeZone), out, out_ty)
            }
            "date_trunc" => {
                if n != 2 {
                    return Err(no_such(name));
                }
                let source = match &arg_types[1] {
                    DataType::Unknown => DataType::TimestampTz,
                    DataType::Date => DataType::TimestampTz,
                    // time has no date_trunc of its own; PostgreSQL reaches
                    // the interval one through the implicit time -> interval cast.
                    DataType::Time => DataType::Interval,
                    t @ (DataType::Timestamp | DataType::TimestampTz | DataType::Interval) => t.clone(),
                    _ => return Err(no_such(name)),
                };
                let out = coerce_all!(text, source);
                call(Func::DateTime(DateTimeFunc::DateTrunc), out, source)
            }
            "date_bin" => {
                if n != 3 {
                    return Err(no_such(name));
                }
                let t = if arg_types[1..].iter().any(|t| *t == DataType::TimestampTz) || arg_types[1] == DataType::Date {
                    DataType::TimestampTz
                } else {
                    DataType::Timestamp
                };
                let iv = DataType::Interval;
                let out = coerce_all!(iv, t, t);
                call(Func::DateTime(DateTimeFunc::DateBin), out, t)
            }
            "age" => {
                let t = if arg_types.iter().any(|t| *t == DataType::TimestampTz) { DataType::TimestampTz } else { DataType::Timestamp };
                let out = match n {
                    2 => coerce_all!(t, t),
                    _ => return Err(Error::unsupported("age() with one argument")),
                };
                call(Func::DateTime(DateTimeFunc::Age), out, DataType::Interval)
            }
            "make_date" => {
                let out = coerce_all!(int4, int4, int4);
                call(Func::DateTime(DateTimeFunc::MakeDate), out, DataType::Date)
            }
            "make_interval" => {
                // Trailing parameters default to 0, as in PostgreSQL.
                let f8 = DataType::Float8;
                let params = [&int4, &int4, &int4, &int4, &int4, &int4, &f8];
                if n > params.len() {
                    return Err(no_such(name));
                }
                let mut out = Vec::with_capacity(params.len());
                for (i, ty) in params.iter().enumerate() {
                    out.push(match args.get(i) {
                        Some(_) => {
                            let (e, t) = args[i].clone();
                            self.coerce(e, &t, ty, CastContext::Implicit).map_err(|_| no_such(name))?
                        }
                        None => ScalarExpr::Literal(if i == 6 { Datum::Float8(freshet_common::datum::F64(0.0)) } else { Datum::Int4(0) }),
                    });
                }
                call(Func::DateTime(DateTimeFunc::MakeInterval), out, DataType::Interval)
            }
            "make_time" => {
                let f8 = DataType::Float8;
                let out = coerce_all!(int4, int4, f8);
                call(Func::DateTime(DateTimeFunc::MakeTime), out, DataType::Time)
            }
            "make_timestamp" => {
                let f8 = DataType::Float8;
                let out = coerce_all!(int4, int4, int4, int4, int4, f8);
                call(Func::DateTime(DateTimeFunc::MakeTimestamp), out, DataType::Timestamp)
            }
            "make_timestamptz" => {
                let f8 = DataType::Float8;
                let out = match n {
                    6 => coerce_all!(int4, int4, int4, int4, int4, f8),
                    _ => coerce_all!(int4, int4, int4, int4, int4, f8, text),
                };
                if self.for_view && n == 6 {
                    return Err(Error::unsupported("make_timestamptz() without a time zone in a materialized view"));
                }
                call(Func::DateTime(DateTimeFunc::MakeTimestampTz), out, DataType::TimestampTz)
            }
            "to_char" => {
                use freshet_expr::formatting::FormattingFunc;
                if n != 2 || !is_text_argument(&arg_types[1]) {
                    return Err(no_such(name));
                }
                let (source, func) = match &arg_types[0] {
                    DataType::Timestamp => (DataType::Timestamp, FormattingFunc::TimestampToChar),
                    // PostgreSQL resolves date to the timestamptz overload
                    // (timestamptz is the preferred date/time type).
                    DataType::TimestampTz | DataType::Date => (DataType::TimestampTz, FormattingFunc::TimestampTzToChar),
                    // time reaches the interval overload by the implicit cast.
                    DataType::Interval | DataType::Time => (DataType::Interval, FormattingFunc::IntervalToChar),
                    DataType::Int2 | DataType::Int4 => (int4.clone(), FormattingFunc::NumberToChar),
                    t @ (DataType::Int8 | DataType::Float4 | DataType::Float8) => (t.clone(), FormattingFunc::NumberToChar),
                    DataType::Numeric(_) => (DataType::Numeric(None), FormattingFunc::NumberToChar),
                    DataType::Unknown => {
                        let types: Vec<String> = arg_types.iter().map(|t| t.pg_name()).collect();
                        return Err(Error::new(
                            SqlState::AmbiguousFunction,
                            format!("function {name}({}) is not unique", types.join(", ")),
                        )
                        .with_hint("Could not choose a best candidate function. You might need to add explicit type casts."));
                    }
                    _ => return Err(no_such(name)),
                };
                if self.for_view && func == FormattingFunc::TimestampTzToChar {
                    return Err(Error::unsupported(format!(
                        "to_char({}, text) in a materialized view",
                        arg_types[0].pg_name()
                    ))
                    .with_hint("The result depends on the session time zone. Cast the argument to timestamp without time zone."));
                }
                let out = coerce_all!(source, text);
                call(Func::Formatting(func), out, text)
            }
            "to_timestamp" | "to_date" | "to_number" if n == 2 => {
                use freshet_expr::formatting::FormattingFunc;
                if !arg_types.iter().all(is_text_argument) {
                    return Err(no_such(name));
                }
                let (func, ty) = match name {
                    "to_timestamp" => (FormattingFunc::ToTimestamp, DataType::TimestampTz),
                    "to_date" => (FormattingFunc::ToDate, DataType::Date),
                    _ => (FormattingFunc::ToNumber, DataType::Numeric(None)),
                };
                if self.for_view && func == FormattingFunc::ToTimestamp {
                    return Err(Error::unsupported("to_timestamp(text, text) in a materialized view").with_hint(
                        "The result depends on the session time zone unless the input gives an offset.",
                    ));
                }
                let out = coerce_all!(text, text);
                call(Func::Formatting(func), out, ty)
            }
            "to_timestamp" if n == 1 => {
                let f8 = DataType::Float8;
                let out = coerce_all!(f8);
                call(Func::DateTime(DateTimeFunc::ToTimestamp), out, DataType::TimestampTz)
            }
            "array_length" => {
                let arr = array_arg(&arg_types, 0).ok_or_else(|| no_such(name))?;
                let out = coerce_all!(arr, int4);
                call(Func::ArrayLength, out, int4)
            }
            "cardinality" => {
                let arr = array_arg(&arg_types, 0).ok_or_else(|| no_such(name))?;
                let out = coerce_all!(arr);
                call(Func::Cardinality, out, int4)
            }
            "array_position" => {
                let arr = array_arg(&arg_types, 0).ok_or_else(|| no_such(name))?;
                let elem = arr.element().cloned().unwrap_or(DataType::Text);
                let out = coerce_all!(arr, elem);
                call(Func::ArrayPosition, out, int4)
            }
            "array_prepend" if n == 2 => {
                let arr = array_arg(&arg_types, 1).ok_or_else(|| no_such(name))?;
                let elem = arr.element().cloned().unwrap_or(DataType::Text);
                let out = coerce_all!(elem, arr);
                call(Func::ArrayPrepend, out, arr)
            }
            "array_remove" | "array_replace" => {
                let arr = array_arg(&arg_types, 0).ok_or_else(|| no_such(name))?;
                let elem = arr.element().cloned().unwrap_or(DataType::Text);
                let out = if name == "array_remove" { coerce_all!(arr, elem) } else { coerce_all!(arr, elem, elem) };
                call(if name == "array_remove" { Func::ArrayRemove } else { Func::ArrayReplace }, out, arr)
            }
            "array_append" => {
                let arr = array_arg(&arg_types, 0).ok_or_else(|| no_such(name))?;
                let elem = arr.element().cloned().unwrap_or(DataType::Text);
                let out = coerce_all!(arr, elem);
                call(Func::ArrayAppend, out, arr)
            }
            "array_cat" => {
                let arr = array_arg(&arg_types, 0).or_else(|| array_arg(&arg_types, 1)).ok_or_else(|| no_such(name))?;
                let out = coerce_all!(arr, arr);
                call(Func::ArrayCat, out, arr)
            }
            // Session facts, constant for the statement.
            "version" => Ok(self.constant_text(format!(
                "PostgreSQL 15.0 (Freshet {}) on x86_64-pc-linux-gnu, a streaming database",
                env!("CARGO_PKG_VERSION")
            ), n, no_such(name))?),
            "current_database" | "current_catalog" => {
                let db = self.catalog.database().to_string();
                self.constant_name(db, n, no_such(name))
            }
            "current_schema" => {
                let schema = self.catalog.search_path().into_iter().find(|s| s != "pg_catalog" && self.catalog.schema_exists(s));
                match schema {
                    Some(s) => self.constant_name(s, n, no_such(name)),
                    None => Ok((ScalarExpr::Literal(Datum::Null), DataType::Name)),
                }
            }
            "current_user" | "session_user" | "user" | "current_role" => {
                let user = self.catalog.user().to_string();
                self.constant_name(user, n, no_such(name))
            }
            "pg_backend_pid" => {
                if n != 0 {
                    return Err(no_such(name));
                }
                Ok((ScalarExpr::Literal(Datum::Int4(self.catalog.backend_pid())), int4))
            }
            "current_setting" => {
                let Some((ScalarExpr::Literal(Datum::Text(setting)), _)) = args.first() else {
                    let b = DataType::Bool;
                    let out = match args.len() {
                        1 => coerce_all!(text),
                        _ => coerce_all!(text, b),
                    };
                    return call(Func::CurrentSetting, out, text);
                };
                let missing_ok = matches!(args.get(1), Some((ScalarExpr::Literal(Datum::Bool(true)), _)));
                match self.catalog.setting(&setting.to_lowercase()) {
                    Some(v) => Ok((ScalarExpr::Literal(Datum::Text(v)), text)),
                    None if missing_ok => Ok((ScalarExpr::Literal(Datum::Null), text)),
                    None => Err(Error::new(
                        SqlState::UndefinedObject,
                        format!("unrecognized configuration parameter \"{setting}\""),
                    )),
                }
            }
            "width_bucket" if n == 4 => {
                use freshet_expr::misc_func::MiscFunc;
                if !arg_types[..3].iter().all(|t| t.is_numeric() || *t == DataType::Unknown) {
                    return Err(no_such(name));
                }
                // numeric when every bound is numeric or integer and one is
                // numeric; otherwise double precision, the preferred type.
                let numeric = arg_types[..3].iter().any(|t| matches!(t, DataType::Numeric(_)))
                    && !arg_types[..3].iter().any(|t| matches!(t, DataType::Float4 | DataType::Float8));
                let (f, ty) = if numeric {
                    (MiscFunc::WidthBucketNumeric, DataType::Numeric(None))
                } else {
                    (MiscFunc::WidthBucketFloat, DataType::Float8)
                };
                let out = coerce_all!(ty, ty, ty, int4);
                call(Func::Misc(f), out, int4)
            }
            "width_bucket" if n == 2 => {
                use freshet_expr::misc_func::MiscFunc;
                let arr = array_arg(&arg_types, 1).ok_or_else(|| no_such(name))?;
                let mut elem = arr.element().cloned().unwrap_or(DataType::Text);
                // A multidimensional array's type nests; its thresholds are refused when run.
                while let DataType::Array(inner) = elem {
                    elem = *inner;
                }
                let out = coerce_all!(elem, arr);
                call(Func::Misc(MiscFunc::WidthBucketArray), out, int4)
            }
            "array_ndims" | "array_dims" => {
                use freshet_expr::misc_func::MiscFunc;
                if arg_types.first() == Some(&DataType::Unknown) {
                    return Err(Error::new(
                        SqlState::DatatypeMismatch,
                        "could not determine polymorphic type because input has type unknown",
                    ));
                }
                let arr = array_arg(&arg_types, 0).ok_or_else(|| no_such(name))?;
                let out = coerce_all!(arr);
                let (f, ty) = if name == "array_ndims" { (MiscFunc::ArrayNdims, int4) } else { (MiscFunc::ArrayDims, text) };
                call(Func::Misc(f), out, ty)
            }
            "array_fill" if n == 2 || n == 3 => {
                use freshet_expr::misc_func::MiscFunc;
                let elem = arg_types[0].clone();
                if elem == DataType::Unknown {
                    return Err(Error::new(
                        SqlState::DatatypeMismatch,
                        "could not determine polymorphic type because input has type unknown",
                    ));
                }
                if matches!(elem, DataType::Array(_)) {
                    return Err(no_such(name));
                }
                let ints = DataType::Array(Box::new(DataType::Int4));
                let out = if n == 2 { coerce_all!(elem, ints) } else { coerce_all!(elem, ints, ints) };
                call(Func::Misc(MiscFunc::ArrayFill), out, DataType::Array(Box::new(elem)))
            }
            "justify_days" | "justify_hours" | "justify_interval" => {
                use freshet_expr::misc_func::MiscFunc;
                let iv = DataType::Interval;
                let out = coerce_all!(iv);
                let f = match name {
                    "justify_days" => MiscFunc::JustifyDays,
                    "justify_hours" => MiscFunc::JustifyHours,
                    _ => MiscFunc::JustifyInterval,
                };
                call(Func::Misc(f), out, iv)
            }
            // The _tz variants differ only in .datetime(), which is not supported.
            "jsonb_path_exists" | "jsonb_path_match" | "jsonb_path_query_array" | "jsonb_path_query_first"
            | "jsonb_path_exists_tz" | "jsonb_path_match_tz" | "jsonb_path_query_array_tz"
            | "jsonb_path_query_first_tz"
                if (2..=4).contains(&n) =>
            {
                let out = self.jsonpath_arguments(name, args)?;
                let (f, ty) = match name.trim_end_matches("_tz") {
                    "jsonb_path_exists" => (JsonFunc::PathExists, DataType::Bool),
                    "jsonb_path_match" => (JsonFunc::PathMatch, DataType::Bool),
                    "jsonb_path_query_array" => (JsonFunc::PathQueryArray, DataType::Jsonb),
                    _ => (JsonFunc::PathQueryFirst, DataType::Jsonb),
                };
                call(Func::Json(f, vec![DataType::Jsonb]), out, ty)
            }
            // `jsonb @? jsonpath` and `jsonb @@ jsonpath`: silent, no variables.
            "jsonb_path_exists_opr" | "jsonb_path_match_opr" if n == 2 => {
                // Two arguments only: the operators pass no variables and
                // are silent (jsonb_ops::call).
                let out = self.jsonpath_arguments(name, args)?;
                let f = if name == "jsonb_path_exists_opr" { JsonFunc::PathExists } else { JsonFunc::PathMatch };
                call(Func::Json(f, vec![DataType::Jsonb]), out, DataType::Bool)
            }
            "json_object" | "jsonb_object" if n == 1 || n == 2 => {
                let texts = DataType::Array(Box::new(DataType::Text));
                let out = if n == 1 { coerce_all!(texts) } else { coerce_all!(texts, texts) };
                let jsonb = name == "jsonb_object";
                call(
                    Func::Json(JsonFunc::JsonObject { jsonb }, vec![]),
                    out,
                    if jsonb { DataType::Jsonb } else { DataType::Json },
                )
            }
            "jsonb_set_lax" if (3..=5).contains(&n) => {
                let j = DataType::Jsonb;
                let path = DataType::Array(Box::new(DataType::Text));
                let b = DataType::Bool;
                let out = match n {
                    3 => coerce_all!(j, path, j),
                    4 => coerce_all!(j, path, j, b),
                    _ => coerce_all!(j, path, j, b, text),
                };
                call(Func::Json(JsonFunc::SetLax, vec![DataType::Jsonb]), out, DataType::Jsonb)
            }
            "jsonb_insert" if n == 3 || n == 4 => {
                let j = DataType::Jsonb;
                let path = DataType::Array(Box::new(DataType::Text));
                let b = DataType::Bool;
                let out = if n == 3 { coerce_all!(j, path, j) } else { coerce_all!(j, path, j, b) };
                call(Func::Json(JsonFunc::Insert, vec![DataType::Jsonb]), out, DataType::Jsonb)
            }
            "jsonb_delete_path" => {
                let j = DataType::Jsonb;
                let path = DataType::Array(Box::new(DataType::Text));
                let out = coerce_all!(j, path);
                call(Func::Json(JsonFunc::DeletePath, vec![DataType::Jsonb]), out, DataType::Jsonb)
            }
            "jsonb_pretty" => {
                let j = DataType::Jsonb;
                let out = coerce_all!(j);
                call(Func::Json(JsonFunc::Pretty, vec![DataType::Jsonb]), out, text)
            }
            "json_typeof" | "json_array_length" | "json_strip_nulls" => {
                if !matches!(arg_types.first(), Some(DataType::Json | DataType::Unknown)) {
                    return Err(no_such(name));
                }
                let j = DataType::Json;
                let out = coerce_all!(j);
                let (f, ty) = match name {
                    "json_typeof" => (JsonFunc::JsonTypeOf, DataType::Text),
                    "json_array_length" => (JsonFunc::JsonArrayLength, DataType::Int4),
                    _ => (JsonFunc::JsonStripNulls, DataType::Json),
                };
                call(Func::Json(f, vec![DataType::Json]), out, ty)
            }
            "json_extract_path" | "json_extract_path_text" => {
                if n < 2 || !matches!(arg_types[0], DataType::Json | DataType::Unknown) {
                    return Err(no_such(name));
                }
                let mut it = args.into_iter();
                let (j, jt) = it.next().ok_or_else(|| no_such(name))?;
                let mut out = vec![self.coerce(j, &jt, &DataType::Json, CastContext::Implicit)?];
                for (e, t) in it {
                    if !is_text_argument(&t) {
                        return Err(no_such(name));
                    }
                    out.push(self.coerce(e, &t, &DataType::Text, CastContext::Implicit)?);
                }
                let text_out = name.ends_with("_text");
                call(
                    Func::Json(JsonFunc::ExtractPath { text: text_out }, vec![]),
                    out,
                    if text_out { DataType::Text } else { DataType::Json },
                )
            }
            "to_json" | "array_to_json" | "row_to_json" | "json_build_array" | "json_build_object" => {
                let fits = match name {
                    "to_json" => n == 1,
                    "array_to_json" => {
                        (n == 1 || n == 2) && matches!(arg_types[0], DataType::Array(_) | DataType::Int2Vector | DataType::OidVector)
                    }
                    "row_to_json" => (n == 1 || n == 2) && matches!(arg_types[0], DataType::Record(_)),
                    _ => true,
                };
                if !fits {
                    return Err(no_such(name));
                }
                if name == "to_json" && arg_types[0] == DataType::Unknown {
                    return Err(Error::new(
                        SqlState::DatatypeMismatch,
                        "could not determine polymorphic type because input has type unknown",
                    ));
                }
                self.refuse_zoned_json(name, &arg_types.iter().collect::<Vec<_>>())?;
                let variadic = matches!(name, "json_build_array" | "json_build_object");
                // The second argument of to_json/array_to_json/row_to_json is `pretty`.
                let (out, types) = self.json_value_args(args, (!variadic).then_some(1))?;
                let f = match name {
                    "to_json" => JsonFunc::ToJson,
                    "array_to_json" => JsonFunc::ArrayToJson,
                    "row_to_json" => JsonFunc::RowToJson,
                    "json_build_array" => JsonFunc::JsonBuildArray,
                    _ => JsonFunc::JsonBuildObject,
                };
                call(Func::Json(f, types), out, DataType::Json)
            }
            "jsonb_typeof" | "jsonb_array_length" | "jsonb_strip_nulls" => {
                let j = DataType::Jsonb;
                let out = coerce_all!(j);
                let (f, ty) = match name {
                    "jsonb_typeof" => (JsonFunc::TypeOf, DataType::Text),
                    "jsonb_array_length" => (JsonFunc::ArrayLength, DataType::Int4),
                    _ => (JsonFunc::StripNulls, DataType::Jsonb),
                };
                call(Func::Json(f, vec![DataType::Jsonb]), out, ty)
            }
            "jsonb_set" if n == 3 || n == 4 => {
                let j = DataType::Jsonb;
                let path = DataType::Array(Box::new(DataType::Text));
                let b = DataType::Bool;
                let out = if n == 3 { coerce_all!(j, path, j) } else { coerce_all!(j, path, j, b) };
                call(Func::Json(JsonFunc::Set, vec![DataType::Jsonb]), out, DataType::Jsonb)
            }
            "jsonb_build_object" | "jsonb_build_array" | "to_jsonb" => {
                if name == "to_jsonb" && n != 1 {
                    return Err(no_such(name));
                }
                self.refuse_zoned_json(name, &arg_types.iter().collect::<Vec<_>>())?;
                if name == "to_jsonb" && arg_types[0] == DataType::Unknown {
                    return Err(Error::new(
                        SqlState::DatatypeMismatch,
                        "could not determine polymorphic type because input has type unknown",
                    ));
                }
                let (out, types) = self.json_value_args(args, None)?;
                let f = match name {
                    "jsonb_build_object" => JsonFunc::BuildObject,
                    "jsonb_build_array" => JsonFunc::BuildArray,
                    _ => JsonFunc::ToJsonb,
                };
                call(Func::Json(f, types), out, DataType::Jsonb)
            }
            "jsonb_extract_path" | "jsonb_extract_path_text" => {
                if n < 2 {
                    return Err(no_such(name));
                }
                let mut it = args.into_iter();
                let (j, jt) = it.next().ok_or_else(|| no_such(name))?;
                let mut out = vec![self.coerce(j, &jt, &DataType::Jsonb, CastContext::Implicit)?];
                for (e, t) in it {
                    out.push(self.coerce(e, &t, &DataType::Text, CastContext::Implicit)?);
                }
                let text_out = name.ends_with("_text");
                call(
                    Func::Json(JsonFunc::ExtractPath { text: text_out }, vec![]),
                    out,
                    if text_out { DataType::Text } else { DataType::Jsonb },
                )
            }
            "set_config" => {
                let b = DataType::Bool;
                let out = coerce_all!(text, text, b);
                call(Func::SetConfig, out, text)
            }
            "enum_first" | "enum_last" | "enum_range" => {
                use freshet_expr::func::EnumFunc;
                // anyenum: the type comes from the arguments; an unknown
                // argument takes the other's type.
                let ty = match arg_types.iter().find(|t| **t != DataType::Unknown) {
                    Some(DataType::Enum(t)) => t.clone(),
                    Some(_) => return Err(no_such(name)),
                    None if n > 0 => {
                        return Err(Error::new(
                            SqlState::DatatypeMismatch,
                            "could not determine polymorphic type because input has type unknown",
                        ))
                    }
                    None => return Err(no_such(name)),
                };
                let enum_type = DataType::Enum(ty.clone());
                let (f, result, arity) = match name {
                    "enum_first" => (EnumFunc::First, enum_type.clone(), 1),
                    "enum_last" => (EnumFunc::Last, enum_type.clone(), 1),
                    _ if n == 1 => (EnumFunc::All, DataType::Array(Box::new(enum_type.clone())), 1),
                    _ => (EnumFunc::Range, DataType::Array(Box::new(enum_type.clone())), 2),
                };
                if n != arity {
                    return Err(no_such(name));
                }
                let mut out = Vec::with_capacity(n);
                for a in args.drain(..) {
                    if a.1 != DataType::Unknown && a.1 != enum_type {
                        return Err(no_such(name));
                    }
                    out.push(self.arg(a, &enum_type)?);
                }
                // Only enum_range(lower, upper) looks at its arguments.
                if f != EnumFunc::Range {
                    out.clear();
                }
                call(Func::Enum(ty, f), out, result)
            }
            "pg_typeof" => {
                if n != 1 {
                    return Err(no_such(name));
                }
                let t = if arg_types[0] == DataType::Unknown { DataType::Unknown } else { arg_types[0].clone() };
                Ok((ScalarExpr::Literal(Datum::Oid(t.oid())), DataType::RegType))
            }
            "nextval" | "currval" | "setval" => {
                if n == 0 || (name != "setval" && n != 1) || (name == "setval" && !(2..=3).contains(&n)) {
                    return Err(no_such(name));
                }
                let mut it = args.into_iter();
                let (seq, seq_ty) = it.next().ok_or_else(|| no_such(name))?;
                let constant = match &seq {
                    ScalarExpr::Literal(Datum::Text(s)) => Some(self.regclass_literal(s)?),
                    ScalarExpr::Literal(Datum::Oid(o)) => Some(*o),
                    _ => None,
                };
                let seq_arg = match constant {
                    Some(oid) => {
                        match self.catalog.relation_by_oid(oid) {
                            Some(r) if r.kind == crate::catalog::RelationKind::Sequence => {}
                            Some(r) => {
                                return Err(Error::new(SqlState::WrongObjectType, format!("\"{}\" is not a sequence", r.name)))
                            }
                            None => return Err(Error::undefined_table(&oid.to_string())),
                        }
                        ScalarExpr::Literal(Datum::Oid(oid))
                    }
                    // A sequence named at run time (setval(pg_get_serial_sequence(...), ...)).
                    None if seq_ty.is_string() || seq_ty == DataType::Unknown => {
                        let text = self.coerce(seq, &seq_ty, &DataType::Text, CastContext::Implicit)?;
                        self.regclass_in(text)
                    }
                    None if seq_ty.is_oid_like() => seq,
                    None => return Err(no_such(name)),
                };
                let mut out = vec![seq_arg];
                let rest: Vec<Bound> = it.collect();
                let mut rest = rest.into_iter();
                if let Some(v) = rest.next() {
                    out.push(self.arg(v, &DataType::Int8)?);
                }
                if let Some(b) = rest.next() {
                    out.push(self.arg(b, &DataType::Bool)?);
                }
                let func = match name {
                    "nextval" => Func::NextVal,
                    "currval" => Func::CurrVal,
                    _ => Func::SetVal,
                };
                call(func, out, DataType::Int8)
            }
            "gen_random_uuid" => {
                if self.for_view {
                    return Err(Error::unsupported("gen_random_uuid() in a materialized view"));
                }
                call(Func::GenRandomUuid, coerce_all!(), DataType::Uuid)
            }
            _ => match self.call_catalog_function(name, args)? {
                Some(bound) => Ok(bound),
                None => Err(no_such(name)),
            },
        }
    }

    fn constant_text(&self, value: String, n: usize, err: Error) -> Result<Bound> {
        if n != 0 {
            return Err(err);
        }
        Ok((ScalarExpr::Literal(Datum::Text(value)), DataType::Text))
    }

    fn constant_name(&self, value: String, n: usize, err: Error) -> Result<Bound> {
        if n != 0 {
            return Err(err);
        }
        Ok((ScalarExpr::Literal(Datum::Text(value)), DataType::Name))
    }
}

/// Whether an argument reaches a `text` parameter by an implicit cast (a
/// string type or an untyped literal).
fn is_text_argument(t: &DataType) -> bool {
    t.is_string() || *t == DataType::Unknown
}

fn array_arg(types: &[DataType], i: usize) -> Option<DataType> {
    match types.get(i)? {
        t @ DataType::Array(_) => Some(t.clone()),
        _ => None,
    }
}
