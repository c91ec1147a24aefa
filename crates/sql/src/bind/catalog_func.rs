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
                self.catalog_call(name, F::FormatType(self.snapshot()), args, &[&oid, &int4], DataType::Text)?
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
                self.catalog_call(name, F::TypeIsVisible(self.snapshot()), args, &[&oid], DataType::Bool)?
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
                self.catalog_call(name, F::ToRegType(self.snapshot()), args, &[&text], DataType::RegType)?
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
                    Some((_, t @ (DataType::Array(_) | DataType::Int2Vector | DataType::OidVector))) => t.clone(),
                    _ => return Err(no_such(name, &args)),
                };
                let f = F::ArrayBound {
                    upper: name == "array_upper",
                    zero_based: matches!(arr, DataType::Int2Vector | DataType::OidVector),
                };
                self.catalog_call(name, f, args, &[&arr, &int4], DataType::Int4)?
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
    /// A run-time `text::regclass` conversion of `e`.
    pub(crate) fn regclass_in(&self, e: ScalarExpr) -> ScalarExpr {
        ScalarExpr::Call { func: Func::Catalog(CatalogFunc::RegClassIn(self.snapshot())), args: vec![e] }
    }

    /// The statement's catalog snapshot, shared by its catalog functions.
    fn snapshot(&self) -> SnapshotRef {
        self.snapshot.get_or_init(|| SnapshotRef(self.catalog.catalog_snapshot())).clone()
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
            DataType::RegType => CatalogFunc::RegTypeText(self.snapshot()),
            DataType::RegProc => CatalogFunc::RegProcText,
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
        let Ok(target) = self.resolve_type(data_type) else {
            return Ok(None);
        };
        if target == DataType::RegType || target == DataType::RegProc {
            // `'int4'::regtype`, `'array_in'::regproc`: a name, resolved now.
            if let ast::Expr::Value(v) = expr {
                if let ast::Value::SingleQuotedString(name) = &v.value {
                    let oid = match name.trim().parse::<u32>() {
                        Ok(oid) => oid,
                        Err(_) if target == DataType::RegType => {
                            freshet_expr::catalog_func::regtype_by_name(name).or_else(|| self.user_type_oid(name)).ok_or_else(|| {
                                Error::new(
                                    SqlState::UndefinedObject,
                                    format!("type \"{name}\" does not exist"),
                                )
                            })?
                        }
                        Err(_) => freshet_expr::catalog_func::regproc_by_name(name).ok_or_else(|| {
                            Error::new(
                                SqlState::UndefinedFunction,
                                format!("function \"{name}\" does not exist"),
                            )
                        })?,
                    };
                    return Ok(Some((ScalarExpr::Literal(Datum::Oid(oid)), target)));
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

impl Binder<'_> {
    /// The OID of the user-defined type named like `regtype` input
    /// (`mood`, `public.mood`, `mood[]`), if the catalog has it.
    fn user_type_oid(&self, text: &str) -> Option<u32> {
        let text = text.trim();
        let (text, array) = match text.strip_suffix("[]") {
            Some(t) => (t.trim_end(), true),
            None => (text, false),
        };
        let parts = freshet_expr::catalog_func::split_qualified_name(text)?;
        let ty = match parts.as_slice() {
            [name] => self.catalog.user_type(None, name),
            [schema, name] => self.catalog.user_type(Some(schema), name),
            _ => None,
        }?;
        Some(if array { DataType::Array(Box::new(ty)).oid() } else { ty.oid() })
    }
}
