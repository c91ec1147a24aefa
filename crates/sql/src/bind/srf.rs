//! Set-returning functions: in FROM (implicitly LATERAL) and in the select
//! list, bound into `RelExpr::FlatMap`.

use freshet_common::cast::CastContext;
use freshet_common::{DataType, Error, Result, SqlState};
use freshet_expr::{RelExpr, ScalarExpr, TableFunc};
use sqlparser::ast::{self, Expr, TableFactor};

use super::scope::{Scope, ScopeItem};
use super::Binder;
use crate::names;

type Bound = (ScalarExpr, DataType);

/// Whether `name` is a set-returning function Freshet knows.
pub(crate) fn is_set_returning(name: &str) -> bool {
    if matches!(name, "tumble" | "hop") {
        return true;
    }
    matches!(
        name,
        "unnest"
            | "generate_series"
            | "generate_subscripts"
            | "pg_partition_ancestors"
            | "_pg_expandarray"
            | "jsonb_array_elements"
            | "jsonb_array_elements_text"
            | "jsonb_each"
            | "jsonb_each_text"
            | "jsonb_object_keys"
            | "json_array_elements"
            | "json_array_elements_text"
            | "json_each"
            | "json_each_text"
            | "json_object_keys"
            | "jsonb_path_query"
            | "jsonb_path_query_tz"
            | "json_to_record"
            | "json_to_recordset"
            | "jsonb_to_record"
            | "jsonb_to_recordset"
            | "regexp_split_to_table"
            | "string_to_table"
            | "regexp_matches"
    )
}

impl Binder<'_> {
    /// Resolves a set-returning call: the function, its coerced arguments
    /// and its output column types.
    pub(crate) fn bind_srf(&mut self, name: &str, args: Vec<Bound>) -> Result<(TableFunc, Vec<ScalarExpr>, Vec<DataType>)> {
        let no_such = |args: &[Bound]| {
            let types: Vec<String> = args.iter().map(|(_, t)| t.pg_name()).collect();
            Error::new(SqlState::UndefinedFunction, format!("function {name}({}) does not exist", types.join(", ")))
                .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
        };
        match name {
            "unnest" if !args.is_empty() => {
                let mut out = Vec::new();
                let mut types = Vec::new();
                let arrays = args.len();
                for (e, t) in args {
                    let (target, elem) = match &t {
                        DataType::Array(el) => (t.clone(), (**el).clone()),
                        DataType::Int2Vector | DataType::OidVector => (t.clone(), t.element().cloned().unwrap_or(DataType::Int2)),
                        DataType::Unknown => (DataType::Array(Box::new(DataType::Text)), DataType::Text),
                        _ => return Err(no_such(&[(e, t)])),
                    };
                    out.push(self.coerce(e, &t, &target, CastContext::Implicit)?);
                    types.push(elem);
                }
                Ok((TableFunc::Unnest { arrays }, out, types))
            }
            "generate_series" if args.len() == 2 || args.len() == 3 => {
                let is_time = |t: &DataType| matches!(t, DataType::Timestamp | DataType::TimestampTz | DataType::Date);
                if args.len() == 3 && args[..2].iter().any(|(_, t)| is_time(t)) {
                    let known: Vec<&DataType> = args[..2].iter().map(|(_, t)| t).filter(|t| **t != DataType::Unknown).collect();
                    if !known.iter().all(|t| is_time(t)) || !matches!(args[2].1, DataType::Interval | DataType::Unknown) {
                        return Err(no_such(&args));
                    }
                    // timestamp only when every typed bound is one; dates and
                    // mixes resolve to timestamptz, the preferred type.
                    let tz = !known.iter().all(|t| **t == DataType::Timestamp);
                    let ty = if tz { DataType::TimestampTz } else { DataType::Timestamp };
                    let mut out = Vec::new();
                    for (i, (e, t)) in args.into_iter().enumerate() {
                        let target = if i == 2 { DataType::Interval } else { ty.clone() };
                        out.push(self.coerce(e, &t, &target, CastContext::Implicit)?);
                    }
                    return Ok((TableFunc::GenerateSeriesTime { tz }, out, vec![ty]));
                }
                if !args.iter().all(|(_, t)| t.is_integer() || *t == DataType::Unknown) {
                    if args.iter().all(|(_, t)| t.is_numeric() || *t == DataType::Unknown) {
                        return Err(Error::unsupported("generate_series over numeric or floating-point values"));
                    }
                    return Err(no_such(&args));
                }
                let bigint = args.iter().any(|(_, t)| *t == DataType::Int8);
                let ty = if bigint { DataType::Int8 } else { DataType::Int4 };
                let mut out = Vec::new();
                for (e, t) in args {
                    out.push(self.coerce(e, &t, &ty, CastContext::Implicit)?);
                }
                Ok((TableFunc::GenerateSeriesInt { bigint }, out, vec![ty]))
            }
            "generate_subscripts" if args.len() == 2 => {
                let mut it = args.into_iter();
                let (a, at) = it.next().ok_or_else(|| no_such(&[]))?;
                let (d, dt) = it.next().ok_or_else(|| no_such(&[]))?;
                if at.element().is_none() {
                    return Err(no_such(&[(a, at), (d, dt)]));
                }
                let d = self.coerce(d, &dt, &DataType::Int4, CastContext::Implicit)?;
                let zero_based = matches!(at, DataType::Int2Vector | DataType::OidVector);
                Ok((TableFunc::GenerateSubscripts { zero_based }, vec![a, d], vec![DataType::Int4]))
            }
            "_pg_expandarray" if args.len() == 1 => {
                let mut it = args.into_iter();
                let (a, at) = it.next().ok_or_else(|| no_such(&[]))?;
                let Some(elem) = at.element().cloned() else { return Err(no_such(&[(a, at)])) };
                Ok((TableFunc::ExpandArray, vec![a], vec![elem, DataType::Int4]))
            }
            "jsonb_array_elements" | "jsonb_array_elements_text" | "jsonb_each" | "jsonb_each_text" | "jsonb_object_keys"
                if args.len() == 1 =>
            {
                let mut it = args.into_iter();
                let (a, at) = it.next().ok_or_else(|| no_such(&[]))?;
                if !matches!(at, DataType::Jsonb | DataType::Unknown) {
                    return Err(no_such(&[(a, at)]));
                }
                let a = self.coerce(a, &at, &DataType::Jsonb, CastContext::Implicit)?;
                let text = name.ends_with("_text");
                let (func, types) = match name {
                    "jsonb_array_elements" | "jsonb_array_elements_text" => {
                        (TableFunc::JsonbArrayElements { text }, vec![if text { DataType::Text } else { DataType::Jsonb }])
                    }
                    "jsonb_each" | "jsonb_each_text" => {
                        (TableFunc::JsonbEach { text }, vec![DataType::Text, if text { DataType::Text } else { DataType::Jsonb }])
                    }
                    _ => (TableFunc::JsonbObjectKeys, vec![DataType::Text]),
                };
                Ok((func, vec![a], types))
            }
            "json_array_elements" | "json_array_elements_text" | "json_each" | "json_each_text" | "json_object_keys"
                if args.len() == 1 =>
            {
                let mut it = args.into_iter();
                let (a, at) = it.next().ok_or_else(|| no_such(&[]))?;
                if !matches!(at, DataType::Json | DataType::Unknown) {
                    return Err(no_such(&[(a, at)]));
                }
                let a = self.coerce(a, &at, &DataType::Json, CastContext::Implicit)?;
                let text = name.ends_with("_text");
                let value = if text { DataType::Text } else { DataType::Json };
                let (func, types) = match name {
                    "json_array_elements" | "json_array_elements_text" => (TableFunc::JsonArrayElements { text }, vec![value]),
                    "json_each" | "json_each_text" => (TableFunc::JsonEach { text }, vec![DataType::Text, value]),
                    _ => (TableFunc::JsonObjectKeys, vec![DataType::Text]),
                };
                Ok((func, vec![a], types))
            }
            "json_to_record" | "json_to_recordset" | "jsonb_to_record" | "jsonb_to_recordset" if args.len() == 1 => {
                // Only in FROM with a column definition list
                // (`bind_record_function`); elsewhere the row type is unknown.
                Err(Error::new(SqlState::FeatureNotSupported, format!("could not determine row type for result of {name}"))
                    .with_hint("Provide a non-null record argument, or call the function in the FROM clause using a column definition list."))
            }
            "jsonb_path_query" | "jsonb_path_query_tz" if (2..=4).contains(&args.len()) => {
                let out = self.jsonpath_arguments(name, args)?;
                Ok((TableFunc::JsonbPathQuery, out, vec![DataType::Jsonb]))
            }
            "regexp_split_to_table" | "string_to_table" | "regexp_matches" if args.len() == 2 || args.len() == 3 => {
                let mut out = Vec::new();
                for (e, t) in args {
                    out.push(self.coerce(e, &t, &DataType::Text, CastContext::Implicit)?);
                }
                let (func, ty) = match name {
                    "regexp_split_to_table" => (TableFunc::RegexpSplit, DataType::Text),
                    "string_to_table" => (TableFunc::StringToTable, DataType::Text),
                    _ => (TableFunc::RegexpMatches, DataType::Array(Box::new(DataType::Text))),
                };
                Ok((func, out, vec![ty]))
            }
            "pg_partition_ancestors" if args.len() == 1 => {
                let mut it = args.into_iter();
                let (a, at) = it.next().ok_or_else(|| no_such(&[]))?;
                let a = self.coerce(a, &at, &DataType::RegClass, CastContext::Implicit)?;
                Ok((TableFunc::PartitionAncestors, vec![a], vec![DataType::RegClass]))
            }
            _ => Err(no_such(&args)),
        }
    }

    /// Binds a function in FROM as a lateral FlatMap over `left`.
    pub(crate) fn bind_function_factor(
        &mut self,
        factor: &TableFactor,
        left: (RelExpr, Scope),
        outer: bool,
    ) -> Result<(RelExpr, Scope)> {
        let (name, args, ordinality, alias): (String, Vec<&Expr>, bool, Option<&ast::TableAlias>) = match factor {
            TableFactor::Table { name, args: Some(args), with_ordinality, alias, .. } => (
                names::object_name(name).pop().unwrap_or_default(),
                super::query::function_arg_exprs(&args.args)?,
                *with_ordinality,
                alias.as_ref(),
            ),
            TableFactor::Function { name, args, with_ordinality, alias, .. } => (
                names::object_name(name).pop().unwrap_or_default(),
                super::query::function_arg_exprs(args)?,
                *with_ordinality,
                alias.as_ref(),
            ),
            TableFactor::UNNEST { alias, array_exprs, with_offset: false, with_ordinality, .. } => {
                ("unnest".to_string(), array_exprs.iter().collect(), *with_ordinality, alias.as_ref())
            }
            other => return Err(Error::unsupported(format!("FROM item {other}"))),
        };
        if name == "tumble" || name == "hop" {
            return self.bind_window(&name, &args, alias, left);
        }
        let (plan, scope) = left;
        let mut bound = Vec::with_capacity(args.len());
        for e in args {
            bound.push(self.bind_expr(e, &scope)?);
        }
        if !is_set_returning(&name) {
            // A scalar function in FROM yields one row with its value.
            let (e, t) = self.call_function(&name, bound)?;
            let qualifier = alias.map(|a| names::ident(&a.name)).unwrap_or(name.clone());
            let column = alias.and_then(|a| a.columns.first()).map(|c| names::ident(&c.name)).unwrap_or(qualifier.clone());
            let mut items = vec![(column, t)];
            let mut exprs = vec![e];
            if ordinality {
                items.push(("ordinality".into(), DataType::Int8));
                exprs.push(ScalarExpr::Literal(freshet_common::Datum::Int8(1)));
            }
            let new_scope = scope.concat(Scope::from_columns(Some(&qualifier), items));
            return Ok((plan.map(exprs), new_scope));
        }
        let (func, args, types) = match name.as_str() {
            "json_to_record" | "json_to_recordset" | "jsonb_to_record" | "jsonb_to_recordset" => {
                self.bind_record_function(&name, bound, alias)?
            }
            _ => self.bind_srf(&name, bound)?,
        };
        let qualifier = alias.map(|a| names::ident(&a.name)).unwrap_or(name.clone());
        // A one-column function's column is named after the alias (or the
        // function); several columns are all named after the function.
        let mut columns: Vec<(String, DataType)> = match func.column_names() {
            Some(names) => names.iter().zip(&types).map(|(n, t)| (n.to_string(), t.clone())).collect(),
            None if types.len() == 1 => vec![(qualifier.clone(), types[0].clone())],
            None => types.iter().map(|t| (name.clone(), t.clone())).collect(),
        };
        if ordinality {
            columns.push(("ordinality".into(), DataType::Int8));
        }
        if let Some(a) = alias {
            if a.columns.len() > columns.len() {
                return Err(Error::new(
                    SqlState::InvalidColumnReference,
                    format!("too many column aliases specified for function {name}"),
                ));
            }
            for (c, alias_column) in columns.iter_mut().zip(&a.columns) {
                c.0 = names::ident(&alias_column.name);
            }
        }
        let plan = RelExpr::FlatMap { input: Box::new(plan), funcs: vec![(func, args)], ordinality, outer };
        Ok((plan, scope.concat(Scope::from_columns(Some(&qualifier), columns))))
    }

    /// `json[b]_to_record[set](value) AS t(col type, ...)`: the column
    /// definition list gives the output columns (42601 without one).
    fn bind_record_function(
        &mut self,
        name: &str,
        args: Vec<Bound>,
        alias: Option<&ast::TableAlias>,
    ) -> Result<(TableFunc, Vec<ScalarExpr>, Vec<DataType>)> {
        let definitions: Vec<&ast::TableAliasColumnDef> = alias.map(|a| a.columns.iter().collect()).unwrap_or_default();
        if definitions.is_empty() || definitions.iter().any(|c| c.data_type.is_none()) {
            return Err(Error::syntax("a column definition list is required for functions returning \"record\""));
        }
        let jsonb = name.starts_with("jsonb");
        let input = if jsonb { DataType::Jsonb } else { DataType::Json };
        let [(a, at)] = <[Bound; 1]>::try_from(args).map_err(|args| {
            let types: Vec<String> = args.iter().map(|(_, t)| t.pg_name()).collect();
            Error::new(SqlState::UndefinedFunction, format!("function {name}({}) does not exist", types.join(", ")))
        })?;
        if at != input && at != DataType::Unknown {
            return Err(Error::new(SqlState::UndefinedFunction, format!("function {name}({}) does not exist", at.pg_name()))
                .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."));
        }
        let a = self.coerce(a, &at, &input, CastContext::Implicit)?;
        let mut columns = Vec::with_capacity(definitions.len());
        for c in definitions {
            let ty = self.resolve_type(c.data_type.as_ref().expect("checked above"))?;
            if self.for_view && freshet_expr::json_text::depends_on_time_zone(&ty) {
                // Text without an offset reads in the session time zone.
                return Err(Error::unsupported(format!("{name}() with a timestamp with time zone column in a materialized view")));
            }
            columns.push((names::ident(&c.name), ty));
        }
        let types = columns.iter().map(|(_, t)| t.clone()).collect();
        Ok((TableFunc::JsonToRecord { set: name.ends_with("set"), jsonb, columns }, vec![a], types))
    }

    /// `TUMBLE(rel, time_col, size)` and `HOP(rel, time_col, slide, size)`:
    /// the relation's rows with `window_start` and `window_end` added (one
    /// row per window for HOP), windows aligned on the Unix epoch.
    fn bind_window(
        &mut self,
        name: &str,
        args: &[&Expr],
        alias: Option<&ast::TableAlias>,
        left: (RelExpr, Scope),
    ) -> Result<(RelExpr, Scope)> {
        let expected = if name == "tumble" { 3 } else { 4 };
        if args.len() != expected {
            return Err(Error::new(
                SqlState::UndefinedFunction,
                format!("{} takes {expected} arguments: a relation, a time column and {}", name.to_uppercase(), if name == "tumble" { "a window size" } else { "a slide and a window size" }),
            ));
        }
        let relation_name = match args[0] {
            Expr::Identifier(id) => ast::ObjectName::from(vec![id.clone()]),
            Expr::CompoundIdentifier(ids) => ast::ObjectName::from(ids.clone()),
            other => return Err(Error::syntax(format!("the first argument of {} must name a relation, not {other}", name.to_uppercase()))),
        };
        let factor = TableFactor::Table {
            name: relation_name,
            alias: alias.cloned(),
            args: None,
            with_hints: vec![],
            version: None,
            with_ordinality: false,
            partitions: vec![],
            json_path: None,
            sample: None,
            index_directives: vec![],
            inheritance: None,
        };
        let (rel_plan, rel_scope) = self.bind_table_factor_pub(&factor)?;
        let (time, time_ty) = self.bind_expr(args[1], &rel_scope)?;
        if !matches!(time_ty, DataType::Timestamp | DataType::TimestampTz) {
            return Err(Error::new(
                SqlState::DatatypeMismatch,
                format!("the time column of {} must be a timestamp, not {}", name.to_uppercase(), time_ty.pg_name()),
            ));
        }
        let mut intervals = Vec::new();
        for a in &args[2..] {
            let (e, t) = self.bind_expr(a, &rel_scope)?;
            let e = self.coerce(e, &t, &DataType::Interval, CastContext::Implicit)?;
            if !e.is_constant() {
                return Err(Error::unsupported("window sizes that are not constants"));
            }
            intervals.push(e);
        }
        let qualifier = rel_scope.items.first().and_then(|i| i.qualifier.clone());
        let width = rel_scope.len();
        let (plan, extra) = if name == "tumble" {
            let size = intervals.remove(0);
            let start = ScalarExpr::Call {
                func: freshet_expr::Func::DateTime(freshet_expr::func::DateTimeFunc::WindowStart),
                args: vec![time, size.clone()],
            };
            let end = ScalarExpr::Binary {
                op: freshet_expr::BinaryOp::Add,
                left: Box::new(ScalarExpr::Column(width)),
                right: Box::new(size),
            };
            // window_end is computed from window_start (column `width`).
            let plan = rel_plan.map(vec![start]).map(vec![end]);
            (plan, 2)
        } else {
            let mut args_hop = vec![time];
            args_hop.extend(intervals);
            let plan = RelExpr::FlatMap { input: Box::new(rel_plan), funcs: vec![(TableFunc::HopWindows, args_hop)], ordinality: false, outer: false };
            (plan, 2)
        };
        let _ = extra;
        let mut window_scope = rel_scope;
        for col in ["window_start", "window_end"] {
            window_scope.items.push(ScopeItem {
                qualifier: qualifier.clone(),
                name: col.to_string(),
                ty: time_ty.clone(),
                table_oid: 0,
                column_id: 0,
                hidden: false,
                internal: false,
            });
        }
        // Lateral over what came before, like any function in FROM.
        let (left_plan, left_scope) = left;
        let combined = if left_scope.is_empty() && matches!(&left_plan, RelExpr::Values { rows, column_types } if rows.len() == 1 && column_types.is_empty()) {
            (plan, window_scope)
        } else {
            (
                RelExpr::Join {
                    left: Box::new(left_plan),
                    right: Box::new(plan),
                    kind: freshet_expr::JoinKind::Inner,
                    on: ScalarExpr::bool(true),
                },
                left_scope.concat(window_scope),
            )
        };
        Ok(combined)
    }

    /// A set-returning call of the select list with its arguments bound
    /// over `scope`: its name, function, arguments and column types.
    fn bind_srf_call(&mut self, f: &ast::Function, scope: &Scope) -> Result<(String, TableFunc, Vec<ScalarExpr>, Vec<DataType>)> {
        let name = names::object_name(&f.name).pop().unwrap_or_default();
        let ast::FunctionArguments::List(list) = &f.args else {
            return Err(Error::unsupported(format!("{name} without arguments")));
        };
        let mut bound = Vec::new();
        for a in super::query::function_arg_exprs(&list.args)? {
            bound.push(self.bind_expr(a, scope)?);
        }
        let (func, args, types) = self.bind_srf(&name, bound)?;
        Ok((name, func, args, types))
    }

    /// Plans the set-returning calls of a select list: every item that is
    /// such a call, or a field of one (`(_pg_expandarray(a)).n`), becomes
    /// columns of one zipped FlatMap over the FROM output. Returns the new
    /// plan, the scope with the function columns appended (internal), and
    /// for each select item its value over that scope, if it was such an
    /// item (a call of a multi-column function is a `record` of its
    /// columns).
    pub(crate) fn bind_select_srfs(
        &mut self,
        projection: &[ast::SelectItem],
        plan: RelExpr,
        scope: Scope,
    ) -> Result<(RelExpr, Scope, Vec<Option<Bound>>)> {
        let mut funcs = Vec::new();
        let mut values = Vec::new();
        let mut next = scope.len();
        let mut extra = Vec::new();
        for item in projection {
            let expr = match item {
                ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => {
                    values.push(None);
                    continue;
                }
            };
            let Some((f, field)) = srf_item(expr) else {
                // Calls nested deeper (`upper(unnest(a))`,
                // `jsonb_array_elements(j) ->> 'k'`) become columns too; the
                // item is then bound as usual, each call standing for its
                // column (`Binder::srf_calls`).
                let mut nested = Vec::new();
                nested_srf_calls(expr, &mut nested);
                for f in nested {
                    let (name, func, args, types) = self.bind_srf_call(f, &scope)?;
                    if types.len() != 1 {
                        return Err(Error::unsupported(format!("{name}() inside an expression")));
                    }
                    extra.push(ScopeItem {
                        qualifier: None,
                        name: format!("\u{0}srf{}_n{}", values.len(), funcs.len()),
                        ty: types[0].clone(),
                        table_oid: 0,
                        column_id: 0,
                        hidden: true,
                        internal: true,
                    });
                    let key = call_key(f).ok_or_else(|| Error::unsupported(format!("{name}() inside an expression")))?;
                    self.srf_calls.insert(key, (ScalarExpr::Column(next), types[0].clone()));
                    next += 1;
                    funcs.push((func, args));
                }
                values.push(None);
                continue;
            };
            let (name, func, args, types) = self.bind_srf_call(f, &scope)?;
            let first = next;
            next += types.len();
            for (k, ty) in types.iter().enumerate() {
                extra.push(ScopeItem {
                    qualifier: None,
                    name: format!("\u{0}srf{}_{k}", values.len()),
                    ty: ty.clone(),
                    table_oid: 0,
                    column_id: 0,
                    hidden: true,
                    internal: true,
                });
            }
            let names = func.column_names();
            let value = match (field, names) {
                (Some(field), Some(names)) => {
                    let k = names.iter().position(|n| *n == field).ok_or_else(|| {
                        Error::new(SqlState::UndefinedColumn, format!("column \"{field}\" not found in data type record"))
                    })?;
                    (ScalarExpr::Column(first + k), types[k].clone())
                }
                (Some(field), None) => {
                    return Err(Error::new(
                        SqlState::UndefinedColumn,
                        format!("column \"{field}\" not found in data type {}", types[0].pg_name()),
                    ))
                }
                (None, _) if types.len() == 1 => (ScalarExpr::Column(first), types[0].clone()),
                (None, Some(names)) => {
                    let record = DataType::Record(names.iter().zip(&types).map(|(n, t)| (n.to_string(), t.clone())).collect());
                    // A record value is the array of its fields.
                    let fields = (first..next).map(ScalarExpr::Column).collect();
                    (ScalarExpr::Call { func: freshet_expr::Func::ArrayConstruct, args: fields }, record)
                }
                (None, None) => return Err(Error::unsupported(format!("{name} with several arrays in the select list"))),
            };
            values.push(Some(value));
            funcs.push((func, args));
        }
        if funcs.is_empty() {
            return Ok((plan, scope, values));
        }
        let mut scope = scope;
        scope.items.extend(extra);
        let plan = RelExpr::FlatMap { input: Box::new(plan), funcs, ordinality: false, outer: false };
        Ok((plan, scope, values))
    }
}

/// A select-list item that is a set-returning call (`f(...)`), or one of
/// its fields (`(f(...)).name`): the call and the field's name.
fn srf_item(expr: &Expr) -> Option<(&ast::Function, Option<String>)> {
    match expr {
        Expr::Function(_) | Expr::Nested(_) => srf_call(expr).map(|f| (f, None)),
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.as_slice() {
            [ast::AccessExpr::Dot(Expr::Identifier(id))] => srf_call(root).map(|f| (f, Some(names::ident(id)))),
            _ => None,
        },
        _ => None,
    }
}

/// Where a call starts in the statement text (line, column), which tells
/// calls apart even when the binder works on copies of the tree; `None`
/// for a call without a source position.
pub(crate) fn call_key(f: &ast::Function) -> Option<(u64, u64)> {
    let start = sqlparser::ast::Spanned::span(f.name.0.first()?).start;
    (start.line > 0).then_some((start.line, start.column))
}

/// The set-returning calls inside `expr` (not inside subqueries, and not
/// inside other set-returning calls), outermost first.
fn nested_srf_calls<'e>(expr: &'e Expr, out: &mut Vec<&'e ast::Function>) {
    freshet_common::stack::grow(|| match expr {
        Expr::Function(f) if srf_call(expr).is_some() => out.push(f),
        // PostgreSQL refuses set-returning calls in COALESCE and CASE
        // (they are conditional); they are left to fail when bound.
        Expr::Function(f) if names::object_name(&f.name).last().is_some_and(|n| n == "coalesce") => {}
        Expr::Function(f) => {
            if let ast::FunctionArguments::List(list) = &f.args {
                for arg in &list.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))
                    | ast::FunctionArg::Named { arg: ast::FunctionArgExpr::Expr(e), .. } = arg
                    {
                        nested_srf_calls(e, out);
                    }
                }
            }
        }
        Expr::BinaryOp { left, right, .. } => {
            nested_srf_calls(left, out);
            nested_srf_calls(right, out);
        }
        Expr::UnaryOp { expr, .. }
        | Expr::Nested(expr)
        | Expr::Cast { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::Collate { expr, .. } => nested_srf_calls(expr, out),
        Expr::CompoundFieldAccess { root, .. } => nested_srf_calls(root, out),
        _ => {}
    })
}

/// `expr`, inside any parentheses, if it is a set-returning call.
fn srf_call(mut expr: &Expr) -> Option<&ast::Function> {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    match expr {
        Expr::Function(f) if f.over.is_none() && is_set_returning(&names::object_name(&f.name).pop().unwrap_or_default()) => {
            Some(f)
        }
        _ => None,
    }
}
