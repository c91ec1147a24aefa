//! Binding system information and catalog functions: the functions psql's
//! describe commands, drivers and ORMs call when they introspect
//! (`format_type`, `pg_get_indexdef`, `pg_table_is_visible`, ...).
//!
//! Functions that need catalog facts at run time get a snapshot of the
//! catalog taken now ([`Catalog::catalog_snapshot`]); a statement runs on
//! the state it was bound against, so the snapshot is current.
//!
//! Set-returning functions (`unnest`, `generate_series`) are not scalar
//! functions: in a select list they are rejected here, and in FROM they are
//! bound by [`Binder::bind_table_function`].

use freshet_common::cast::CastContext;
use freshet_common::{DataType, Datum, Error, Result, SqlState};
use freshet_expr::catalog_func::{CatalogFunc, SnapshotRef};
use freshet_expr::func::Func;
use freshet_expr::{AggregateExpr, AggregateFunc, RelExpr, ScalarExpr, SubqueryExpr, SubqueryKind};
use sqlparser::ast;

use super::scope::Scope;
use super::Binder;
use crate::names;

type Bound = (ScalarExpr, DataType);

/// 42883 for a call with no matching signature.
fn no_such(name: &str, args: &[Bound]) -> Error {
    let types: Vec<String> = args.iter().map(|(_, t)| t.pg_name()).collect();
    Error::new(SqlState::UndefinedFunction, format!("function {name}({}) does not exist", types.join(", ")))
        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

impl Binder<'_> {
    /// Resolves a catalog/system function by name; `None` if unknown.
    pub(crate) fn call_catalog_function(
        &mut self,
        name: &str,
        args: Vec<Bound>,
    ) -> Result<Option<Bound>> {
        use CatalogFunc as F;
        let n = args.len();
        let oid = DataType::Oid;
        let text = DataType::Text;
        let int4 = DataType::Int4;
        let bool_ = DataType::Bool;
        let bound = match name {
            "format_type" => {
                self.catalog_call(name, F::FormatType, args, &[&oid, &int4], DataType::Text)?
            }
            "pg_get_expr" => {
                let f = F::GetExpr(self.snapshot());
                match n {
                    2 => self.catalog_call(name, f, args, &[&text, &oid], DataType::Text)?,
                    _ => {
                        self.catalog_call(name, f, args, &[&text, &oid, &bool_], DataType::Text)?
                    }
                }
            }
            "obj_description" => {
                let f = F::Description {
                    snapshot: self.snapshot(),
                    column: false,
                };
                match n {
                    1 => self.catalog_call(name, f, args, &[&oid], DataType::Text)?,
                    _ => {
                        self.catalog_call(name, f, args, &[&oid, &DataType::Name], DataType::Text)?
                    }
                }
            }
            "col_description" => {
                let f = F::Description {
                    snapshot: self.snapshot(),
                    column: true,
                };
                self.catalog_call(name, f, args, &[&oid, &int4], DataType::Text)?
            }
            "pg_tablespace_location" => self.catalog_call(
                name,
                F::Constant(Datum::Text(String::new())),
                args,
                &[&oid],
                DataType::Text,
            )?,
            "pg_table_is_visible" => {
                let f = F::TableIsVisible(self.snapshot());
                self.catalog_call(name, f, args, &[&oid], DataType::Bool)?
            }
            "pg_type_is_visible" => {
                self.catalog_call(name, F::TypeIsVisible, args, &[&oid], DataType::Bool)?
            }
            "pg_collation_is_visible"
            | "pg_function_is_visible"
            | "pg_opclass_is_visible"
            | "pg_operator_is_visible"
            | "pg_conversion_is_visible" => self.catalog_call(
                name,
                F::Constant(Datum::Bool(true)),
                args,
                &[&oid],
                DataType::Bool,
            )?,
            "pg_get_userbyid" => {
                let f = F::UserById(self.snapshot());
                self.catalog_call(name, f, args, &[&oid], DataType::Name)?
            }
            "pg_get_indexdef" => {
                let f = F::IndexDef(self.snapshot());
                match n {
                    1 => self.catalog_call(name, f, args, &[&oid], DataType::Text)?,
                    _ => {
                        self.catalog_call(name, f, args, &[&oid, &int4, &bool_], DataType::Text)?
                    }
                }
            }
            "pg_get_constraintdef" => {
                let f = F::ConstraintDef(self.snapshot());
                match n {
                    1 => self.catalog_call(name, f, args, &[&oid], DataType::Text)?,
                    _ => self.catalog_call(name, f, args, &[&oid, &bool_], DataType::Text)?,
                }
            }
            "pg_get_viewdef" => {
                let f = F::ViewDef(self.snapshot());
                // An untyped literal is a view name, as PostgreSQL resolves it.
                let first = match args.first() {
                    Some((_, t)) if t.is_string() || *t == DataType::Unknown => text.clone(),
                    _ => oid.clone(),
                };
                match args.get(1).map(|(_, t)| t.clone()) {
                    None => self.catalog_call(name, f, args, &[&first], DataType::Text)?,
                    Some(t) if t.is_integer() => {
                        self.catalog_call(name, f, args, &[&first, &int4], DataType::Text)?
                    }
                    Some(_) => {
                        self.catalog_call(name, f, args, &[&first, &bool_], DataType::Text)?
                    }
                }
            }
            "pg_get_serial_sequence" => {
                let f = F::SerialSequence(self.snapshot());
                self.catalog_call(name, f, args, &[&text, &text], DataType::Text)?
            }
            "to_regclass" => {
                let f = F::ToRegClass(self.snapshot());
                self.catalog_call(name, f, args, &[&text], DataType::RegClass)?
            }
            "to_regtype" => {
                self.catalog_call(name, F::ToRegType, args, &[&text], DataType::RegType)?
            }
            "pg_encoding_to_char" => {
                self.catalog_call(name, F::EncodingToChar, args, &[&int4], DataType::Name)?
            }
            "quote_ident" => {
                self.catalog_call(name, F::QuoteIdent, args, &[&text], DataType::Text)?
            }
            "pg_size_pretty" => {
                let Some((e, t)) = args.into_iter().next().filter(|_| n == 1) else {
                    return Err(Error::new(
                        SqlState::UndefinedFunction,
                        "function pg_size_pretty() does not exist",
                    ));
                };
                let e = self.coerce(e, &t, &DataType::Int8, CastContext::Explicit)?;
                (
                    ScalarExpr::Call {
                        func: Func::Catalog(F::SizePretty),
                        args: vec![e],
                    },
                    DataType::Text,
                )
            }
            "array_to_string" => {
                let elem = match args.first() {
                    Some((_, DataType::Array(e))) => (**e).clone(),
                    _ => return Err(no_such(name, &args)),
                };
                let arr = DataType::Array(Box::new(elem.clone()));
                match n {
                    2 => self.catalog_call(
                        name,
                        F::ArrayToString(elem),
                        args,
                        &[&arr, &text],
                        DataType::Text,
                    )?,
                    _ => self.catalog_call(
                        name,
                        F::ArrayToString(elem),
                        args,
                        &[&arr, &text, &text],
                        DataType::Text,
                    )?,
                }
            }
            "array_upper" | "array_lower" => {
                let arr = match args.first() {
                    Some((_, t @ DataType::Array(_))) => t.clone(),
                    _ => return Err(no_such(name, &args)),
                };
                let f = F::ArrayBound {
                    upper: name == "array_upper",
                };
                self.catalog_call(name, f, args, &[&arr, &int4], DataType::Int4)?
            }
            "json_build_object" => {
                let mut types = Vec::with_capacity(n);
                let mut out = Vec::with_capacity(n);
                for (e, t) in args {
                    let target = if t == DataType::Unknown {
                        DataType::Text
                    } else {
                        t.clone()
                    };
                    out.push(self.coerce(e, &t, &target, CastContext::Implicit)?);
                    types.push(target);
                }
                (
                    ScalarExpr::Call {
                        func: Func::Catalog(F::JsonBuildObject(types)),
                        args: out,
                    },
                    DataType::Json,
                )
            }
            // Privileges: Freshet has no access control, so everything is allowed.
            "has_table_privilege"
            | "has_schema_privilege"
            | "has_database_privilege"
            | "has_column_privilege"
            | "has_sequence_privilege"
            | "has_any_column_privilege"
            | "has_function_privilege"
            | "pg_has_role" => {
                if !(2..=4).contains(&n) {
                    return Err(no_such(name, &args));
                }
                self.loose_call(F::Constant(Datum::Bool(true)), args, DataType::Bool)?
            }
            "pg_relation_size" | "pg_total_relation_size" | "pg_table_size" | "pg_indexes_size" => {
                if !(1..=2).contains(&n) {
                    return Err(no_such(name, &args));
                }
                self.loose_call(F::Constant(Datum::Int8(0)), args, DataType::Int8)?
            }
            "pg_relation_is_publishable" | "pg_is_other_temp_schema" => self.catalog_call(
                name,
                F::Constant(Datum::Bool(false)),
                args,
                &[&oid],
                DataType::Bool,
            )?,
            "pg_is_in_recovery" if n == 0 => {
                (ScalarExpr::Literal(Datum::Bool(false)), DataType::Bool)
            }
            "pg_my_temp_schema" if n == 0 => (ScalarExpr::Literal(Datum::Oid(0)), DataType::Oid),
            "pg_postmaster_start_time" if n == 0 => (
                ScalarExpr::Call {
                    func: Func::Catalog(F::PostmasterStartTime),
                    args: vec![],
                },
                DataType::TimestampTz,
            ),
            "txid_current" if n == 0 => (
                ScalarExpr::Call {
                    func: Func::Catalog(F::TxidCurrent),
                    args: vec![],
                },
                DataType::Int8,
            ),
            "current_schemas" => {
                let implicit = match args.first() {
                    Some((ScalarExpr::Literal(Datum::Bool(b)), _)) if n == 1 => *b,
                    _ if n == 1 => {
                        return Err(Error::unsupported(
                            "current_schemas() with a non-constant argument",
                        ))
                    }
                    _ => return Err(no_such(name, &args)),
                };
                let schemas: Vec<Datum> = self
                    .catalog
                    .search_path()
                    .into_iter()
                    .filter(|s| self.catalog.schema_exists(s) && (implicit || s != "pg_catalog"))
                    .map(Datum::Text)
                    .collect();
                (
                    ScalarExpr::Literal(Datum::Array(schemas)),
                    DataType::Array(Box::new(DataType::Name)),
                )
            }
            // Descriptions, rules, triggers, partitioning and extended
            // statistics: Freshet has none, so these are NULL.
            "shobj_description"
            | "pg_get_partkeydef"
            | "pg_get_statisticsobjdef_columns"
            | "pg_get_ruledef"
            | "pg_get_triggerdef"
            | "pg_get_function_arguments"
            | "pg_get_function_result"
            | "pg_get_functiondef" => {
                if !(1..=3).contains(&n) {
                    return Err(no_such(name, &args));
                }
                self.loose_call(F::Null, args, DataType::Text)?
            }
            "unnest" | "generate_series" | "generate_subscripts" => {
                return Err(Error::unsupported(format!(
                    "set-returning function {name}() outside of FROM"
                )))
            }
            _ => return Ok(None),
        };
        Ok(Some(bound))
    }

    /// A snapshot of the catalog for a function evaluated at run time.
    fn snapshot(&self) -> SnapshotRef {
        SnapshotRef(self.catalog.catalog_snapshot())
    }

    /// Binds `func(args)` with each argument implicitly coerced to
    /// `signature` (42883 when the count differs).
    fn catalog_call(
        &mut self,
        name: &str,
        func: CatalogFunc,
        args: Vec<Bound>,
        signature: &[&DataType],
        returns: DataType,
    ) -> Result<Bound> {
        if args.len() != signature.len() {
            return Err(no_such(name, &args));
        }
        let mut out = Vec::with_capacity(args.len());
        for ((e, t), target) in args.into_iter().zip(signature) {
            out.push(self.coerce(e, &t, target, CastContext::Implicit)?);
        }
        Ok((
            ScalarExpr::Call {
                func: Func::Catalog(func),
                args: out,
            },
            returns,
        ))
    }

    /// Binds `func(args)` for functions that accept any argument types:
    /// untyped literals become text, the rest stay as they are.
    fn loose_call(
        &mut self,
        func: CatalogFunc,
        args: Vec<Bound>,
        returns: DataType,
    ) -> Result<Bound> {
        let mut out = Vec::with_capacity(args.len());
        for (e, t) in args {
            out.push(if t == DataType::Unknown {
                self.coerce(e, &t, &DataType::Text, CastContext::Implicit)?
            } else {
                e
            });
        }
        Ok((
            ScalarExpr::Call {
                func: Func::Catalog(func),
                args: out,
            },
            returns,
        ))
    }

    /// `x::regclass::text` and friends: the name a `reg*` value prints as.
    /// `None` when `from` is not a `reg*` type with a catalog-dependent name.
    pub(crate) fn reg_to_text(&mut self, e: ScalarExpr, from: &DataType) -> Option<ScalarExpr> {
        let func = match from {
            DataType::RegClass => CatalogFunc::RegClassText(self.snapshot()),
            DataType::RegType => CatalogFunc::RegTypeText,
            _ => return None,
        };
        Some(ScalarExpr::Call {
            func: Func::Catalog(func),
            args: vec![e],
        })
    }

    /// The OID a name denotes as input of an OID alias type without a
    /// `DataType` (`'public'::regnamespace`, `'root'::regrole`); a number
    /// stands for itself.
    fn oid_alias_literal(&mut self, alias: &str, name: &str) -> Result<u32> {
        if let Ok(oid) = name.trim().parse::<u32>() {
            return Ok(oid);
        }
        let snapshot = self.catalog.catalog_snapshot();
        let unquoted = freshet_expr::catalog_func::split_qualified_name(name)
            .and_then(|mut parts| if parts.len() == 1 { parts.pop() } else { None });
        let found = unquoted.as_ref().and_then(|n| match alias {
            "regnamespace" => snapshot
                .schemas
                .iter()
                .find(|(_, s)| *s == n)
                .map(|(o, _)| *o),
            "regrole" => snapshot
                .roles
                .iter()
                .find(|(_, r)| *r == n)
                .map(|(o, _)| *o),
            _ => None,
        });
        found.ok_or_else(|| match alias {
            "regnamespace" => Error::new(
                SqlState::InvalidSchemaName,
                format!("schema \"{name}\" does not exist"),
            ),
            "regrole" => Error::new(
                SqlState::UndefinedObject,
                format!("role \"{name}\" does not exist"),
            ),
            other => Error::unsupported(format!("{other} input by name")),
        })
    }

    /// `x::regnamespace::text`: the schema name of a namespace OID.
    pub(crate) fn regnamespace_to_text(&mut self, e: ScalarExpr) -> ScalarExpr {
        ScalarExpr::Call {
            func: Func::Catalog(CatalogFunc::RegNamespaceText(self.snapshot())),
            args: vec![e],
        }
    }

    /// Binds a set-returning function in FROM (`generate_series(1, 3)`,
    /// `unnest(array[...])`) into a plan with one output column.
    ///
    /// With constant arguments the rows are computed now. Arguments that
    /// vary per row (a correlated reference, as in psql's `\d` queries)
    /// need a plan node Freshet does not have yet: the plan then yields no
    /// rows when the function would yield none (NULL or empty input) and
    /// fails with 0A000 when it would yield some.
    fn bind_table_function(
        &mut self,
        name: &str,
        args: Vec<Bound>,
        ordinality: bool,
    ) -> Result<(RelExpr, DataType)> {
        let n = args.len();
        let (args, elem, rows_exist) = match name {
            "unnest" if n == 1 => {
                let (e, t0) = args
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::internal("unnest without argument"))?;
                let (t, elem) = match &t0 {
                    DataType::Array(el) => (t0.clone(), (**el).clone()),
                    DataType::Unknown => {
                        (DataType::Array(Box::new(DataType::Text)), DataType::Text)
                    }
                    other => {
                        return Err(Error::new(
                            SqlState::UndefinedFunction,
                            format!("function unnest({}) does not exist", other.pg_name()),
                        ))
                    }
                };
                let e = self.coerce(e, &t0, &t, CastContext::Implicit)?;
                // Some rows exist when cardinality(array) > 0.
                let cond = ScalarExpr::Binary {
                    op: freshet_expr::BinaryOp::Gt,
                    left: Box::new(ScalarExpr::Call {
                        func: Func::Cardinality,
                        args: vec![ScalarExpr::Column(0)],
                    }),
                    right: Box::new(ScalarExpr::Literal(Datum::Int4(0))),
                };
                (vec![e], elem, cond)
            }
            "generate_series" if n == 2 || n == 3 => {
                let ty = if args.iter().any(|(_, t)| *t == DataType::Int8) {
                    DataType::Int8
                } else {
                    DataType::Int4
                };
                let mut out = Vec::new();
                for (e, t) in args {
                    if !(t.is_integer() || t == DataType::Unknown) {
                        return Err(Error::unsupported(format!(
                            "generate_series over {}",
                            t.pg_name()
                        )));
                    }
                    out.push(self.coerce(e, &t, &ty, CastContext::Implicit)?);
                }
                // Some rows exist when start <= stop (with the default step;
                // with an explicit one, assume some do).
                let cond = if n == 2 {
                    ScalarExpr::Binary {
                        op: freshet_expr::BinaryOp::LtEq,
                        left: Box::new(ScalarExpr::Column(0)),
                        right: Box::new(ScalarExpr::Column(1)),
                    }
                } else {
                    ScalarExpr::bool(true)
                };
                (out, ty, cond)
            }
            _ => return Err(Error::unsupported(format!("table function {name}"))),
        };
        let mut column_types = vec![elem.clone()];
        if ordinality {
            column_types.push(DataType::Int8);
        }
        let args: Vec<ScalarExpr> = args
            .into_iter()
            .map(|a| self.fold_constant(a))
            .collect::<Result<_>>()?;
        if let Some(values) = constant_rows(name, &args)? {
            let rows = values
                .into_iter()
                .enumerate()
                .map(|(i, d)| {
                    let mut row = vec![ScalarExpr::Literal(d)];
                    if ordinality {
                        row.push(ScalarExpr::Literal(Datum::Int8(i as i64 + 1)));
                    }
                    row
                })
                .collect();
            return Ok((RelExpr::Values { rows, column_types }, elem));
        }
        let arity = args.len();
        let types = args.iter().map(|_| elem.clone()).collect();
        let mut outputs = vec![ScalarExpr::Call {
            func: Func::Catalog(CatalogFunc::UnsupportedSetFunction(name.to_string())),
            args: vec![],
        }];
        if ordinality {
            outputs.push(ScalarExpr::Literal(Datum::Null));
        }
        let width = outputs.len();
        let plan = RelExpr::Values {
            rows: vec![args],
            column_types: types,
        }
        .filter(vec![rows_exist])
        .map(outputs)
        .project((arity..arity + width).collect());
        Ok((plan, elem))
    }

    /// Evaluates `e` now when it depends on nothing that can change before
    /// it runs (no columns, parameters, subqueries, sequences, clock or
    /// catalog), e.g. `ARRAY[1, 2]`; returns it unchanged otherwise.
    fn fold_constant(&mut self, e: ScalarExpr) -> Result<ScalarExpr> {
        if matches!(e, ScalarExpr::Literal(_)) || !e.is_constant() {
            return Ok(e);
        }
        let mut stable = true;
        e.visit(&mut |n| match n {
            ScalarExpr::Param(_) => stable = false,
            ScalarExpr::Call { func, .. } => {
                if matches!(
                    func,
                    Func::NextVal
                        | Func::CurrVal
                        | Func::SetVal
                        | Func::Random
                        | Func::DateTime(_)
                        | Func::Catalog(_)
                ) {
                    stable = false;
                }
            }
            _ => {}
        });
        if !stable {
            return Ok(e);
        }
        let ctx = freshet_expr::EvalContext {
            params: &[],
            outer: &[],
            text: &self.text,
            subqueries: None,
            now: freshet_common::datetime::now(),
            sequences: None,
        };
        Ok(ScalarExpr::Literal(e.eval(&[], &ctx)?))
    }

    /// Binds a function call in FROM: `name(args) [WITH ORDINALITY]
    /// [[AS] alias[(columns)]]`. The result's column is named after the
    /// alias (or the function), the ordinality column `ordinality`, unless
    /// the alias lists column names.
    pub(crate) fn bind_from_function(
        &mut self,
        name: &ast::ObjectName,
        args: &[&ast::Expr],
        ordinality: bool,
        alias: Option<&ast::TableAlias>,
    ) -> Result<(RelExpr, Scope)> {
        let function = names::object_name(name).pop().unwrap_or_default();
        let mut bound = Vec::with_capacity(args.len());
        for e in args {
            bound.push(self.bind_expr(e, &Scope::default())?);
        }
        let (plan, elem) = self.bind_table_function(&function, bound, ordinality)?;
        let qualifier = alias
            .map(|a| names::ident(&a.name))
            .unwrap_or_else(|| function.clone());
        let mut columns = vec![(qualifier.clone(), elem)];
        if ordinality {
            columns.push(("ordinality".to_string(), DataType::Int8));
        }
        if let Some(a) = alias {
            if a.columns.len() > columns.len() {
                return Err(Error::new(
                    SqlState::InvalidColumnReference,
                    format!("too many column aliases specified for function {function}"),
                ));
            }
            for (c, alias_column) in columns.iter_mut().zip(&a.columns) {
                c.0 = names::ident(&alias_column.name);
            }
        }
        Ok((plan, Scope::from_columns(Some(&qualifier), columns)))
    }

    /// `ARRAY(subquery)`: the subquery's single column collected into an
    /// array, in the subquery's order (empty, not NULL, for no rows).
    pub(crate) fn bind_array_subquery(&mut self, q: &ast::Query, scope: &Scope) -> Result<Bound> {
        let (query, correlated) = self.bind_subquery(q, scope)?;
        if query.columns.len() != 1 {
            return Err(Error::new(
                SqlState::SyntaxError,
                "subquery must return only one column",
            ));
        }
        let elem = match &query.columns[0].ty {
            DataType::Unknown => DataType::Text,
            t => t.clone(),
        };
        let func = AggregateFunc::ArrayAgg;
        let output_type = func.output_type(&elem);
        let agg = AggregateExpr {
            func,
            args: vec![ScalarExpr::Column(0)],
            distinct: false,
            filter: None,
            order_by: vec![],
            input_type: elem,
            output_type: output_type.clone(),
        };
        let plan = RelExpr::Reduce {
            input: Box::new(query.expr),
            group_key: vec![],
            aggregates: vec![agg],
        };
        let sub = ScalarExpr::Subquery(Box::new(SubqueryExpr {
            kind: SubqueryKind::Scalar,
            plan,
            correlated,
        }));
        let empty = ScalarExpr::Literal(Datum::Array(vec![]));
        Ok((
            ScalarExpr::Call {
                func: Func::Coalesce,
                args: vec![sub, empty],
            },
            output_type,
        ))
    }

    /// Casts that need the catalog or types the type system lacks:
    /// `x::regclass::text` (the relation's name), `x::regtype::text`,
    /// `x::regnamespace` (an OID) and `x::regnamespace::text` (the schema's
    /// name). `None` for every other cast.
    pub(crate) fn bind_catalog_cast(
        &mut self,
        expr: &ast::Expr,
        data_type: &ast::DataType,
        scope: &Scope,
    ) -> Result<Option<Bound>> {
        if let Some(alias) = oid_alias_type(data_type) {
            let (e, t) = self.bind_expr(expr, scope)?;
            if let (ScalarExpr::Literal(Datum::Text(name)), DataType::Unknown) = (&e, &t) {
                return Ok(Some((
                    ScalarExpr::Literal(Datum::Oid(self.oid_alias_literal(alias, name)?)),
                    DataType::Oid,
                )));
            }
            let e = self.coerce(e, &t, &DataType::Oid, CastContext::Explicit)?;
            return Ok(Some((e, DataType::Oid)));
        }
        let Ok(target) = crate::typing::data_type(data_type) else {
            return Ok(None);
        };
        if target == DataType::RegType {
            // `'int4'::regtype`: a type name, resolved now.
            if let ast::Expr::Value(v) = expr {
                if let ast::Value::SingleQuotedString(name) = &v.value {
                    let oid = match name.trim().parse::<u32>() {
                        Ok(oid) => oid,
                        Err(_) => {
                            freshet_expr::catalog_func::regtype_by_name(name).ok_or_else(|| {
                                Error::new(
                                    SqlState::UndefinedObject,
                                    format!("type \"{name}\" does not exist"),
                                )
                            })?
                        }
                    };
                    return Ok(Some((
                        ScalarExpr::Literal(Datum::Oid(oid)),
                        DataType::RegType,
                    )));
                }
            }
        }
        if !target.is_string() {
            return Ok(None);
        }
        let inner = match expr {
            ast::Expr::Nested(inner) => inner.as_ref(),
            other => other,
        };
        if let ast::Expr::Cast {
            expr: inner_expr,
            data_type: inner_type,
            ..
        } = inner
        {
            if oid_alias_type(inner_type) == Some("regnamespace") {
                let (e, t) = self.bind_expr(inner_expr, scope)?;
                let e = self.coerce(e, &t, &DataType::Oid, CastContext::Explicit)?;
                let name = self.regnamespace_to_text(e);
                let e = self.coerce(name, &DataType::Text, &target, CastContext::Explicit)?;
                return Ok(Some((e, target)));
            }
        }
        let (e, t) = self.bind_expr(expr, scope)?;
        let e = match self.reg_to_text(e.clone(), &t) {
            Some(name) => self.coerce(name, &DataType::Text, &target, CastContext::Explicit)?,
            None => self.coerce(e, &t, &target, CastContext::Explicit)?,
        };
        Ok(Some((e, target)))
    }
}

/// The rows of a set-returning function whose arguments are constants;
/// `None` when they are not.
fn constant_rows(name: &str, args: &[ScalarExpr]) -> Result<Option<Vec<Datum>>> {
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        match a {
            ScalarExpr::Literal(d) => values.push(d.clone()),
            _ => return Ok(None),
        }
    }
    if values.iter().any(Datum::is_null) {
        return Ok(Some(vec![]));
    }
    Ok(Some(match name {
        "unnest" => match values.into_iter().next() {
            Some(Datum::Array(items)) => items,
            _ => vec![],
        },
        _ => {
            let start = values[0].as_i64().unwrap_or(0);
            let stop = values[1].as_i64().unwrap_or(0);
            let step = values.get(2).and_then(Datum::as_i64).unwrap_or(1);
            if step == 0 {
                return Err(Error::new(
                    SqlState::InvalidParameterValue,
                    "step size cannot equal zero",
                ));
            }
            let int8 = matches!(values[0], Datum::Int8(_));
            let mut out = Vec::new();
            let mut i = start;
            while (step > 0 && i <= stop) || (step < 0 && i >= stop) {
                out.push(if int8 {
                    Datum::Int8(i)
                } else {
                    Datum::Int4(i as i32)
                });
                if out.len() > 10_000_000 {
                    return Err(Error::new(
                        SqlState::ProgramLimitExceeded,
                        "generate_series with constant arguments is limited to 10000000 rows",
                    ));
                }
                i = match i.checked_add(step) {
                    Some(v) => v,
                    None => break,
                };
            }
            out
        }
    }))
}

/// The name of an OID alias type the type system does not have
/// (`regnamespace`, `regrole`, ...), if `ty` is one.
fn oid_alias_type(ty: &ast::DataType) -> Option<&'static str> {
    let ast::DataType::Custom(name, _) = ty else {
        return None;
    };
    let last = names::object_name(name).pop()?;
    [
        "regnamespace",
        "regrole",
        "regprocedure",
        "regoper",
        "regoperator",
        "regconfig",
        "regdictionary",
        "regcollation",
    ]
    .into_iter()
    .find(|r| *r == last)
}
