//! Binding scalar expressions: names, literals, operators, CASE, casts,
//! subqueries.

use freshet_common::cast::CastContext;
use freshet_common::{DataType, Datum, Error, Result, SqlState};
use freshet_expr::func::Func;
use freshet_expr::jsonb_ops::JsonOp;
use freshet_expr::{BinaryOp, ScalarExpr, SubqueryExpr, SubqueryKind, UnaryOp};
use sqlparser::ast::{self, Expr};

use super::scope::{Lookup, Scope};
use super::Binder;
use crate::names;
use crate::typing::{self, common_type};

type Bound = (ScalarExpr, DataType);

impl Binder<'_> {
    /// Binds a scalar expression over `scope`. Nesting is limited to
    /// `stack::EXPRESSION_DEPTH_MAX` (54001) and runs on a growable stack.
    pub(crate) fn bind_expr(&mut self, e: &Expr, scope: &Scope) -> Result<Bound> {
        if self.expression_depth >= freshet_common::stack::EXPRESSION_DEPTH_MAX {
            return Err(freshet_common::stack::depth_exceeded());
        }
        self.expression_depth += 1;
        let bound = freshet_common::stack::grow(|| self.bind_expr_unguarded(e, scope));
        self.expression_depth -= 1;
        bound
    }

    fn bind_expr_unguarded(&mut self, e: &Expr, scope: &Scope) -> Result<Bound> {
        match e {
            Expr::Identifier(id) => self.bind_column(None, &names::ident(id), scope, id.quote_style.is_none()),
            Expr::CompoundIdentifier(parts) => {
                let parts: Vec<String> = parts.iter().map(names::ident).collect();
                match parts.as_slice() {
                    [q, c] => self.bind_column(Some(q), c, scope, false),
                    [_schema, q, c] => self.bind_column(Some(q), c, scope, false),
                    [_db, _schema, q, c] => self.bind_column(Some(q), c, scope, false),
                    _ => Err(Error::syntax(format!("improper qualified name: {e}"))),
                }
            }
            Expr::Value(v) => self.bind_value(&v.value),
            Expr::TypedString(ts) => {
                let ty = self.resolve_type(&ts.data_type)?;
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => s.clone(),
                    other => other.to_string(),
                };
                let d = freshet_common::io::parse_text(&text, &ty, &self.text)?;
                Ok((ScalarExpr::Literal(d), ty))
            }
            Expr::Nested(inner) => self.bind_expr(inner, scope),
            Expr::Cast { expr, data_type, .. } => {
                if let Some(bound) = self.bind_catalog_cast(expr, data_type, scope)? {
                    return Ok(bound);
                }
                if is_jsonpath_type(data_type) {
                    // Freshet has no jsonpath type: a path stays text, checked
                    // here when constant so a bad one fails as PostgreSQL's
                    // jsonpath input does (42601).
                    let (bound, from) = self.bind_expr(expr, scope)?;
                    if !(from.is_string() || from == DataType::Unknown) {
                        return Err(Error::new(
                            SqlState::CannotCoerce,
                            format!("cannot cast type {} to jsonpath", from.pg_name()),
                        ));
                    }
                    let bound = self.coerce(bound, &from, &DataType::Text, CastContext::Explicit)?;
                    if let ScalarExpr::Literal(Datum::Text(path)) = &bound {
                        freshet_expr::jsonpath::parse(path)?;
                    }
                    return Ok((bound, DataType::Text));
                }
                let target = self.resolve_type(data_type)?;
                if let (Expr::Array(arr), DataType::Array(_)) = (expr.as_ref(), &target) {
                    if arr.elem.is_empty() {
                        return Ok((ScalarExpr::Literal(Datum::Array(vec![])), target));
                    }
                }
                let (bound, from) = self.bind_expr(expr, scope)?;
                let cast = self.coerce(bound, &from, &target, CastContext::Explicit)?;
                Ok((cast, target))
            }
            Expr::Collate { expr, collation } => {
                names::check_collation(collation)?;
                self.bind_expr(expr, scope)
            }
            Expr::BinaryOp { left, op, right } => match (row_items(left), row_items(right)) {
                (Some(l), Some(r)) => self.bind_row_comparison(&l, op, &r, scope),
                _ => self.bind_binary_op(left, op, right, scope),
            },
            Expr::UnaryOp { op, expr } => self.bind_unary(op, expr, scope),
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                let negated = matches!(e, Expr::IsNotNull(_));
                let (b, ty) = self.bind_expr(x, scope)?;
                let test = |v: ScalarExpr| {
                    let is_null = ScalarExpr::IsNull(Box::new(v));
                    if negated {
                        ScalarExpr::Not(Box::new(is_null))
                    } else {
                        is_null
                    }
                };
                // A row is NULL when every field is, and NOT NULL when no
                // field is (so a row can be neither), as in PostgreSQL.
                if let DataType::Record(fields) = &ty {
                    let tests = (0..fields.len())
                        .map(|k| {
                            test(ScalarExpr::Call {
                                func: Func::ArrayIndex,
                                args: vec![b.clone(), ScalarExpr::Literal(Datum::Int4(k as i32 + 1))],
                            })
                        })
                        .collect();
                    return Ok((ScalarExpr::And(tests), DataType::Bool));
                }
                Ok((test(b), DataType::Bool))
            }
            Expr::IsTrue(x) => self.bind_is(x, UnaryOp::IsTrue, scope),
            Expr::IsNotTrue(x) => self.bind_is(x, UnaryOp::IsNotTrue, scope),
            Expr::IsFalse(x) => self.bind_is(x, UnaryOp::IsFalse, scope),
            Expr::IsNotFalse(x) => self.bind_is(x, UnaryOp::IsNotFalse, scope),
            Expr::IsUnknown(x) => {
                let (b, ty) = self.bind_expr(x, scope)?;
                let b = self.coerce(b, &ty, &DataType::Bool, CastContext::Implicit)?;
                Ok((ScalarExpr::IsNull(Box::new(b)), DataType::Bool))
            }
            Expr::IsNotUnknown(x) => {
                let (b, ty) = self.bind_expr(x, scope)?;
                let b = self.coerce(b, &ty, &DataType::Bool, CastContext::Implicit)?;
                Ok((ScalarExpr::Not(Box::new(ScalarExpr::IsNull(Box::new(b)))), DataType::Bool))
            }
            Expr::IsDistinctFrom(a, b) => self.bind_comparison(a, b, BinaryOp::IsDistinctFrom, scope),
            Expr::IsNotDistinctFrom(a, b) => self.bind_comparison(a, b, BinaryOp::IsNotDistinctFrom, scope),
            Expr::Between { expr, negated, low, high } => {
                let ge = self.bind_comparison(expr, low, BinaryOp::GtEq, scope)?.0;
                let le = self.bind_comparison(expr, high, BinaryOp::LtEq, scope)?.0;
                let both = ScalarExpr::And(vec![ge, le]);
                Ok((if *negated { ScalarExpr::Not(Box::new(both)) } else { both }, DataType::Bool))
            }
            Expr::Like { negated, expr, pattern, escape_char, any, .. } => {
                self.bind_like(expr, pattern, escape_char.as_deref(), *negated, false, *any, scope)
            }
            Expr::ILike { negated, expr, pattern, escape_char, any, .. } => {
                self.bind_like(expr, pattern, escape_char.as_deref(), *negated, true, *any, scope)
            }
            Expr::SimilarTo { negated, expr, pattern, escape_char } => {
                // expr ~ similar_to_escape(pattern, escape), as PostgreSQL
                // plans it; the default escape is a backslash.
                let l = self.bind_expr(expr, scope)?;
                let (p, pt) = self.bind_expr(pattern, scope)?;
                let p = self.coerce(p, &pt, &DataType::Text, CastContext::Implicit)?;
                let escape = match escape_char {
                    Some(e) => {
                        let (e, et) = self.bind_expr(e, scope)?;
                        self.coerce(e, &et, &DataType::Text, CastContext::Implicit)?
                    }
                    None => ScalarExpr::Literal(Datum::Text("\\".into())),
                };
                let regex = (ScalarExpr::Call { func: Func::SimilarToEscape, args: vec![p, escape] }, DataType::Text);
                self.resolve_binary(BinaryOp::RegexMatch { case_insensitive: false, negated: *negated }, l, regex)
            }
            Expr::In { expr, target, negated, .. } => self.bind_in(expr, target, *negated, scope),
            Expr::Case { operand, conditions, else_result, .. } => {
                self.bind_case(operand.as_deref(), conditions, else_result.as_deref(), scope)
            }
            Expr::Exists { subquery, negated } => {
                let plan = self.bind_subquery_plan(subquery, scope)?;
                let e = ScalarExpr::Subquery(Box::new(SubqueryExpr {
                    kind: SubqueryKind::Exists,
                    plan: plan.0,
                    correlated: plan.1,
                }));
                Ok((if *negated { ScalarExpr::Not(Box::new(e)) } else { e }, DataType::Bool))
            }
            Expr::Subquery(q) => {
                let (query, correlated) = self.bind_subquery(q, scope)?;
                if query.columns.len() != 1 {
                    return Err(Error::new(SqlState::SyntaxError, "subquery must return only one column"));
                }
                let ty = query.columns[0].ty.clone();
                Ok((
                    ScalarExpr::Subquery(Box::new(SubqueryExpr { kind: SubqueryKind::Scalar, plan: query.expr, correlated })),
                    ty,
                ))
            }
            Expr::AnyOp { left, compare_op, right, .. } => self.bind_quantified(left, compare_op, right, false, scope),
            Expr::AllOp { left, compare_op, right } => self.bind_quantified(left, compare_op, right, true, scope),
            Expr::Function(f) if super::srf::call_key(f).is_some_and(|k| self.srf_calls.contains_key(&k)) => {
                let bound = super::srf::call_key(f).and_then(|k| self.srf_calls.get(&k).cloned());
                bound.ok_or_else(|| Error::internal("a set-returning call lost its column"))
            }
            Expr::Function(f) => match &f.args {
                // `ARRAY(SELECT ...)` parses as a function call.
                ast::FunctionArguments::Subquery(q) if names::object_name(&f.name) == ["array"] => {
                    self.bind_array_subquery(q, scope)
                }
                _ => self.bind_function(f, scope),
            },
            Expr::Extract { field, expr, .. } => {
                let field_name = datetime_field_name(field);
                self.bind_named_call("extract", vec![(ScalarExpr::Literal(Datum::Text(field_name)), DataType::Text)], Some(expr), scope)
            }
            Expr::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.bind_expr(expr, scope)?];
                match substring_from {
                    Some(from) => args.push(self.bind_expr(from, scope)?),
                    None => args.push((ScalarExpr::Literal(Datum::Int4(1)), DataType::Int4)),
                }
                if let Some(len) = substring_for {
                    args.push(self.bind_expr(len, scope)?);
                }
                self.call_function("substring", args)
            }
            Expr::Trim { expr, trim_where, trim_what, trim_characters } => {
                let (leading, trailing) = match trim_where {
                    Some(ast::TrimWhereField::Leading) => (true, false),
                    Some(ast::TrimWhereField::Trailing) => (false, true),
                    _ => (true, true),
                };
                let mut args = vec![self.bind_expr(expr, scope)?];
                if let Some(what) = trim_what {
                    args.push(self.bind_expr(what, scope)?);
                } else if let Some(chars) = trim_characters.as_ref().and_then(|c| c.first()) {
                    args.push(self.bind_expr(chars, scope)?);
                }
                let mut coerced = Vec::new();
                for (e, t) in args {
                    coerced.push(self.coerce(e, &t, &DataType::Text, CastContext::Implicit)?);
                }
                Ok((ScalarExpr::Call { func: Func::Trim { leading, trailing }, args: coerced }, DataType::Text))
            }
            Expr::Position { expr, r#in } => {
                let needle = self.bind_expr(expr, scope)?;
                let hay = self.bind_expr(r#in, scope)?;
                self.call_function("strpos", vec![hay, needle])
            }
            Expr::Ceil { expr, .. } => {
                let a = self.bind_expr(expr, scope)?;
                self.call_function("ceil", vec![a])
            }
            Expr::Floor { expr, .. } => {
                let a = self.bind_expr(expr, scope)?;
                self.call_function("floor", vec![a])
            }
            Expr::Interval(iv) => self.bind_interval(iv, scope),
            Expr::Array(arr) => {
                let mut items = Vec::new();
                for e in &arr.elem {
                    items.push(self.bind_expr(e, scope)?);
                }
                self.bind_array_constructor(items)
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                // `t.col[1]` parses as root `t` with `.col` then `[1]`: fold
                // leading `.name` steps back into the column reference.
                let mut parts: Vec<ast::Ident> = match root.as_ref() {
                    Expr::Identifier(id) => vec![id.clone()],
                    Expr::CompoundIdentifier(ids) => ids.clone(),
                    _ => vec![],
                };
                let mut rest = access_chain.as_slice();
                while let (false, Some(ast::AccessExpr::Dot(Expr::Identifier(id)))) = (parts.is_empty(), rest.first()) {
                    parts.push(id.clone());
                    rest = &rest[1..];
                }
                let (mut cur, mut ty) = if rest.len() < access_chain.len() {
                    self.bind_expr(&Expr::CompoundIdentifier(parts), scope)?
                } else {
                    self.bind_expr(root, scope)?
                };
                for access in rest {
                    match access {
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            // int2vector/oidvector subscripts count from 0.
                            let zero_based = matches!(ty, DataType::Int2Vector | DataType::OidVector);
                            let elem = match &ty {
                                DataType::Array(e) => (**e).clone(),
                                DataType::Int2Vector => DataType::Int2,
                                DataType::OidVector => DataType::Oid,
                                other => {
                                    return Err(Error::new(
                                        SqlState::DatatypeMismatch,
                                        format!("cannot subscript type {} because it does not support subscripting", other.pg_name()),
                                    ))
                                }
                            };
                            let (i, it) = self.bind_expr(index, scope)?;
                            let mut i = self.coerce(i, &it, &DataType::Int4, CastContext::Implicit)?;
                            if zero_based {
                                i = ScalarExpr::Binary {
                                    op: BinaryOp::Add,
                                    left: Box::new(i),
                                    right: Box::new(ScalarExpr::Literal(Datum::Int4(1))),
                                };
                            }
                            cur = ScalarExpr::Call { func: Func::ArrayIndex, args: vec![cur, i] };
                            ty = elem;
                        }
                        ast::AccessExpr::Dot(Expr::Identifier(id)) => {
                            // `(record).field`: a record value is the array
                            // of its fields.
                            let field = names::ident(id);
                            let DataType::Record(fields) = &ty else {
                                return Err(Error::new(
                                    SqlState::WrongObjectType,
                                    format!("column notation .{field} applied to type {}, which is not a composite type", ty.pg_name()),
                                ));
                            };
                            let k = fields.iter().position(|(n, _)| *n == field).ok_or_else(|| {
                                Error::new(SqlState::UndefinedColumn, format!("column \"{field}\" not found in data type record"))
                            })?;
                            let field_ty = fields[k].1.clone();
                            cur = ScalarExpr::Call { func: Func::ArrayIndex, args: vec![cur, ScalarExpr::Literal(Datum::Int4(k as i32 + 1))] };
                            ty = field_ty;
                        }
                        _ => return Err(Error::unsupported("this kind of field access")),
                    }
                }
                Ok((cur, ty))
            }
            Expr::Tuple(items) => {
                let items: Vec<&Expr> = items.iter().collect();
                self.bind_row_constructor(&items, scope)
            }
            Expr::AtTimeZone { timestamp, time_zone } => {
                let zone = self.bind_expr(time_zone, scope)?;
                let ts = self.bind_expr(timestamp, scope)?;
                self.call_function("timezone", vec![zone, ts])
            }
            other => Err(Error::unsupported(format!("expression {other}"))),
        }
    }

    fn bind_is(&mut self, x: &Expr, op: UnaryOp, scope: &Scope) -> Result<Bound> {
        let (b, ty) = self.bind_expr(x, scope)?;
        let b = self.coerce(b, &ty, &DataType::Bool, CastContext::Implicit)?;
        Ok((ScalarExpr::Unary { op, expr: Box::new(b) }, DataType::Bool))
    }

    /// Resolves a column reference through the current and enclosing scopes.
    fn bind_column(&mut self, qualifier: Option<&str>, name: &str, scope: &Scope, bare: bool) -> Result<Bound> {
        if let Lookup::Found(i) = scope.lookup(qualifier, name)? {
            return Ok((ScalarExpr::Column(i), scope.items[i].ty.clone()));
        }
        for depth in (0..self.outer.len()).rev() {
            if let Lookup::Found(i) = self.outer[depth].lookup(qualifier, name)? {
                let level = self.outer.len() - depth;
                self.min_outer_ref = self.min_outer_ref.min(depth);
                let ty = self.outer[depth].items[i].ty.clone();
                return Ok((ScalarExpr::Outer { level, index: i }, ty));
            }
        }
        if bare && qualifier.is_none() {
            if let Some(b) = self.bind_bare_keyword(name)? {
                return Ok(b);
            }
        }
        if qualifier.is_none() && scope.has_qualifier(name) {
            return Ok(whole_row(name, scope));
        }
        match qualifier {
            Some(q) if !scope.has_qualifier(q) && !self.outer.iter().any(|s| s.has_qualifier(q)) => Err(Error::new(
                SqlState::UndefinedTable,
                format!("missing FROM-clause entry for table \"{q}\""),
            )),
            Some(q) => Err(Error::undefined_column(&format!("{q}.{name}"))),
            None => Err(Error::undefined_column(name)),
        }
    }

    /// SQL keywords that look like column names (`current_date`, `user`).
    fn bind_bare_keyword(&mut self, name: &str) -> Result<Option<Bound>> {
        Ok(match name {
            "current_date" | "current_timestamp" | "localtimestamp" | "current_time" | "localtime"
            | "current_user" | "session_user" | "user" | "current_role" | "current_schema"
            | "current_catalog" => Some(self.call_function(name, vec![])?),
            _ => None,
        })
    }

    /// Binds a literal.
    pub(crate) fn bind_value(&mut self, v: &ast::Value) -> Result<Bound> {
        use ast::Value as V;
        Ok(match v {
            V::Number(n, _) => number_literal(n)?,
            V::SingleQuotedString(s)
            | V::EscapedStringLiteral(s)
            | V::UnicodeStringLiteral(s)
            | V::NationalStringLiteral(s)
            | V::TripleSingleQuotedString(s) => (ScalarExpr::Literal(Datum::Text(s.clone())), DataType::Unknown),
            V::DollarQuotedString(d) => (ScalarExpr::Literal(Datum::Text(d.value.clone())), DataType::Unknown),
            V::HexStringLiteral(h) => {
                let bytes = decode_hex(h)?;
                (ScalarExpr::Literal(Datum::Bytea(bytes)), DataType::Bytea)
            }
            V::SingleQuotedByteStringLiteral(s) => (ScalarExpr::Literal(Datum::Text(s.clone())), DataType::Unknown),
            V::Boolean(b) => (ScalarExpr::Literal(Datum::Bool(*b)), DataType::Bool),
            V::Null => (ScalarExpr::Literal(Datum::Null), DataType::Unknown),
            V::Placeholder(p) => {
                let n: usize = p
                    .strip_prefix('$')
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| Error::syntax(format!("syntax error at or near \"{p}\"")))?;
                self.param(n)?
            }
            other => return Err(Error::unsupported(format!("literal {other}"))),
        })
    }

    fn bind_unary(&mut self, op: &ast::UnaryOperator, expr: &Expr, scope: &Scope) -> Result<Bound> {
        use ast::UnaryOperator as U;
        match op {
            U::Not => {
                let e = self.bind_condition(expr, scope, "NOT")?;
                Ok((ScalarExpr::Not(Box::new(e)), DataType::Bool))
            }
            U::Plus => self.bind_expr(expr, scope),
            U::Minus => {
                // Fold negative numeric literals so -2147483648 is an integer.
                if let Expr::Value(v) = expr {
                    if let ast::Value::Number(n, _) = &v.value {
                        return number_literal(&format!("-{n}"));
                    }
                }
                let (e, ty) = self.bind_expr(expr, scope)?;
                let (e, ty) = if ty == DataType::Unknown {
                    (self.coerce(e, &ty, &DataType::Numeric(None), CastContext::Implicit)?, DataType::Numeric(None))
                } else {
                    (e, ty)
                };
                if !(ty.is_numeric() || ty == DataType::Interval) {
                    return Err(Error::new(
                        SqlState::UndefinedFunction,
                        format!("operator does not exist: - {}", ty.pg_name()),
                    ));
                }
                if let ScalarExpr::Literal(d) = &e {
                    let folded = freshet_expr::func::eval_unary(UnaryOp::Neg, d.clone())?;
                    return Ok((ScalarExpr::Literal(folded), ty));
                }
                Ok((ScalarExpr::Unary { op: UnaryOp::Neg, expr: Box::new(e) }, ty))
            }
            U::BitwiseNot => {
                let (e, ty) = self.bind_expr(expr, scope)?;
                Ok((ScalarExpr::Unary { op: UnaryOp::BitNot, expr: Box::new(e) }, ty))
            }
            U::PGAbs => {
                let a = self.bind_expr(expr, scope)?;
                self.call_function("abs", vec![a])
            }
            U::PGSquareRoot => {
                let a = self.bind_expr(expr, scope)?;
                self.call_function("sqrt", vec![a])
            }
            other => Err(Error::unsupported(format!("operator {other}"))),
        }
    }

    fn bind_binary_op(&mut self, left: &Expr, op: &ast::BinaryOperator, right: &Expr, scope: &Scope) -> Result<Bound> {
        use ast::BinaryOperator as B;
        let simple = match op {
            B::And | B::Or => {
                let mut items = Vec::new();
                let is_and = matches!(op, B::And);
                let clause = if is_and { "AND" } else { "OR" };
                for side in [left, right] {
                    let e = self.bind_condition(side, scope, clause)?;
                    match e {
                        ScalarExpr::And(inner) if is_and => items.extend(inner),
                        ScalarExpr::Or(inner) if !is_and => items.extend(inner),
                        other => items.push(other),
                    }
                }
                return Ok((if is_and { ScalarExpr::And(items) } else { ScalarExpr::Or(items) }, DataType::Bool));
            }
            B::Eq => BinaryOp::Eq,
            B::NotEq => BinaryOp::NotEq,
            B::Lt => BinaryOp::Lt,
            B::LtEq => BinaryOp::LtEq,
            B::Gt => BinaryOp::Gt,
            B::GtEq => BinaryOp::GtEq,
            B::Plus => BinaryOp::Add,
            B::Minus => BinaryOp::Sub,
            B::Multiply => BinaryOp::Mul,
            B::Divide => BinaryOp::Div,
            B::Modulo => BinaryOp::Mod,
            B::PGExp => BinaryOp::Pow,
            B::StringConcat => BinaryOp::Concat,
            B::BitwiseAnd => BinaryOp::BitAnd,
            B::BitwiseOr => BinaryOp::BitOr,
            B::PGBitwiseXor => BinaryOp::BitXor,
            B::PGBitwiseShiftLeft => BinaryOp::ShiftLeft,
            B::PGBitwiseShiftRight => BinaryOp::ShiftRight,
            B::PGLikeMatch => BinaryOp::Like { case_insensitive: false, negated: false },
            B::PGILikeMatch => BinaryOp::Like { case_insensitive: true, negated: false },
            B::PGNotLikeMatch => BinaryOp::Like { case_insensitive: false, negated: true },
            B::PGNotILikeMatch => BinaryOp::Like { case_insensitive: true, negated: true },
            B::PGRegexMatch => BinaryOp::RegexMatch { case_insensitive: false, negated: false },
            B::PGRegexIMatch => BinaryOp::RegexMatch { case_insensitive: true, negated: false },
            B::PGRegexNotMatch => BinaryOp::RegexMatch { case_insensitive: false, negated: true },
            B::PGRegexNotIMatch => BinaryOp::RegexMatch { case_insensitive: true, negated: true },
            B::Arrow => BinaryOp::Json(JsonOp::Get),
            B::LongArrow => BinaryOp::Json(JsonOp::GetText),
            B::HashArrow => BinaryOp::Json(JsonOp::Path),
            B::HashLongArrow => BinaryOp::Json(JsonOp::PathText),
            B::AtArrow => BinaryOp::Json(JsonOp::Contains),
            B::ArrowAt => BinaryOp::Json(JsonOp::ContainedBy),
            B::Question => BinaryOp::Json(JsonOp::HasKey),
            B::QuestionPipe => BinaryOp::Json(JsonOp::HasAnyKey),
            B::QuestionAnd => BinaryOp::Json(JsonOp::HasAllKeys),
            B::AtQuestion | B::AtAt => {
                let l = self.bind_expr(left, scope)?;
                let r = self.bind_expr(right, scope)?;
                let symbol = if matches!(op, B::AtQuestion) { "@?" } else { "@@" };
                if !matches!(l.1, DataType::Jsonb | DataType::Unknown) || !(r.1.is_string() || r.1 == DataType::Unknown) {
                    return Err(Error::new(
                        SqlState::UndefinedFunction,
                        format!("operator does not exist: {} {symbol} {}", l.1.pg_name(), r.1.pg_name()),
                    )
                    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts."));
                }
                let name = if matches!(op, B::AtQuestion) { "jsonb_path_exists_opr" } else { "jsonb_path_match_opr" };
                return self.call_function(name, vec![l, r]);
            }
            B::HashMinus => {
                let l = self.bind_expr(left, scope)?;
                let r = self.bind_expr(right, scope)?;
                if !matches!(l.1, DataType::Jsonb | DataType::Unknown)
                    || !matches!(&r.1, DataType::Unknown | DataType::Array(_))
                {
                    return Err(Error::new(
                        SqlState::UndefinedFunction,
                        format!("operator does not exist: {} #- {}", l.1.pg_name(), r.1.pg_name()),
                    )
                    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts."));
                }
                return self.call_function("jsonb_delete_path", vec![l, r]);
            }
            B::PGOverlap => BinaryOp::ArrayOverlap,
            B::PGCustomBinaryOperator(parts) => {
                // OPERATOR(pg_catalog.~) and friends.
                let symbol = parts.last().map(String::as_str).unwrap_or("");
                let inner = match symbol {
                    "~" => B::PGRegexMatch,
                    "~*" => B::PGRegexIMatch,
                    "!~" => B::PGRegexNotMatch,
                    "!~*" => B::PGRegexNotIMatch,
                    "=" => B::Eq,
                    "<>" | "!=" => B::NotEq,
                    "<" => B::Lt,
                    ">" => B::Gt,
                    "<=" => B::LtEq,
                    ">=" => B::GtEq,
                    "~~" => B::PGLikeMatch,
                    "!~~" => B::PGNotLikeMatch,
                    "~~*" => B::PGILikeMatch,
                    "||" => B::StringConcat,
                    "+" => B::Plus,
                    "-" => B::Minus,
                    other => return Err(Error::unsupported(format!("operator {other}"))),
                };
                return self.bind_binary_op(left, &inner, right, scope);
            }
            other => return Err(Error::unsupported(format!("operator {other}"))),
        };
        let l = self.bind_expr(left, scope)?;
        let r = self.bind_expr(right, scope)?;
        self.resolve_binary(simple, l, r)
    }

    fn bind_comparison(&mut self, a: &Expr, b: &Expr, op: BinaryOp, scope: &Scope) -> Result<Bound> {
        let l = self.bind_expr(a, scope)?;
        let r = self.bind_expr(b, scope)?;
        self.resolve_binary(op, l, r)
    }

    /// Resolves an operator's operand types, inserting implicit casts.
    pub(crate) fn resolve_binary(&mut self, op: BinaryOp, (l, lt): Bound, (r, rt): Bound) -> Result<Bound> {
        use DataType as T;
        let symbol = op_symbol(op);
        let undefined = |lt: &T, rt: &T| {
            Error::new(
                SqlState::UndefinedFunction,
                format!("operator does not exist: {} {symbol} {}", lt.pg_name(), rt.pg_name()),
            )
            .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
        };
        // jsonb operators, and || / - on jsonb.
        let jsonish = |t: &T| matches!(t, T::Jsonb | T::Json);
        let json_op = match op {
            BinaryOp::Json(j) => Some(j),
            BinaryOp::Concat if jsonish(&lt) || jsonish(&rt) => Some(JsonOp::Concat),
            BinaryOp::Sub if jsonish(&lt) => Some(JsonOp::Delete),
            _ => None,
        };
        // Array containment and overlap: both sides of one array type.
        let array_op = match op {
            BinaryOp::Json(JsonOp::Contains) => Some(BinaryOp::ArrayContains { contained_by: false }),
            BinaryOp::Json(JsonOp::ContainedBy) => Some(BinaryOp::ArrayContains { contained_by: true }),
            BinaryOp::ArrayOverlap => Some(BinaryOp::ArrayOverlap),
            _ => None,
        };
        if let Some(array_op) = array_op.filter(|_| matches!(lt, T::Array(_)) || matches!(rt, T::Array(_)) || op == BinaryOp::ArrayOverlap) {
            let target = match (&lt, &rt) {
                (T::Array(_), T::Unknown) => lt.clone(),
                (T::Unknown, T::Array(_)) => rt.clone(),
                (T::Array(_), T::Array(_)) => comparison_type(&lt, &rt).ok_or_else(|| undefined(&lt, &rt))?,
                _ => return Err(undefined(&lt, &rt)),
            };
            let l = self.coerce(l, &lt, &target, CastContext::Implicit)?;
            let r = self.coerce(r, &rt, &target, CastContext::Implicit)?;
            return Ok((ScalarExpr::Binary { op: array_op, left: Box::new(l), right: Box::new(r) }, T::Bool));
        }
        if let Some(j) = json_op {
            if !(jsonish(&lt) || lt == T::Unknown) {
                return Err(undefined(&lt, &rt));
            }
            // json has only the extraction operators; they work on its text
            // (keeping the input's spacing, as PostgreSQL does), and -> / #>
            // give json back.
            let json_input = lt == T::Json;
            if json_input && !matches!(j, JsonOp::Get | JsonOp::GetText | JsonOp::Path | JsonOp::PathText) {
                return Err(undefined(&lt, &rt));
            }
            let l = if json_input { l } else { self.coerce(l, &lt, &T::Jsonb, CastContext::Implicit)? };
            let (rtarget, result) = match j {
                JsonOp::Get | JsonOp::Delete => (if rt.is_integer() { T::Int4 } else { T::Text }, T::Jsonb),
                JsonOp::GetText => (if rt.is_integer() { T::Int4 } else { T::Text }, T::Text),
                JsonOp::Path => (T::Array(Box::new(T::Text)), T::Jsonb),
                JsonOp::PathText => (T::Array(Box::new(T::Text)), T::Text),
                JsonOp::Contains | JsonOp::ContainedBy => (T::Jsonb, T::Bool),
                JsonOp::HasKey => (T::Text, T::Bool),
                JsonOp::HasAnyKey | JsonOp::HasAllKeys => (T::Array(Box::new(T::Text)), T::Bool),
                JsonOp::Concat => (T::Jsonb, T::Jsonb),
            };
            let r = self.coerce(r, &rt, &rtarget, CastContext::Implicit)?;
            let e = ScalarExpr::Binary { op: BinaryOp::Json(j), left: Box::new(l), right: Box::new(r) };
            if json_input && result == T::Jsonb {
                return Ok((e, T::Json));
            }
            return Ok((e, result));
        }
        match op {
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq
            | BinaryOp::IsDistinctFrom
            | BinaryOp::IsNotDistinctFrom => {
                let target = comparison_type(&lt, &rt).ok_or_else(|| undefined(&lt, &rt))?;
                let l = self.coerce(l, &lt, &target, CastContext::Implicit)?;
                let r = self.coerce(r, &rt, &target, CastContext::Implicit)?;
                Ok((ScalarExpr::Binary { op, left: Box::new(l), right: Box::new(r) }, T::Bool))
            }
            BinaryOp::Like { .. } | BinaryOp::RegexMatch { .. } => {
                if !(lt.is_string() || lt == T::Unknown) || !(rt.is_string() || rt == T::Unknown) {
                    return Err(undefined(&lt, &rt));
                }
                let l = self.coerce(l, &lt, &T::Text, CastContext::Implicit)?;
                let r = self.coerce(r, &rt, &T::Text, CastContext::Implicit)?;
                Ok((ScalarExpr::Binary { op, left: Box::new(l), right: Box::new(r) }, T::Bool))
            }
            BinaryOp::Concat => {
                match (&lt, &rt) {
                    (T::Array(e), _) | (_, T::Array(e)) => {
                        let arr = T::Array(e.clone());
                        let (l, r) = if matches!(lt, T::Array(_)) {
                            let r = if matches!(rt, T::Array(_)) { self.coerce(r, &rt, &arr, CastContext::Implicit)? } else { self.coerce(r, &rt, e, CastContext::Implicit)? };
                            (l, r)
                        } else {
                            (self.coerce(l, &lt, e, CastContext::Implicit)?, r)
                        };
                        Ok((ScalarExpr::Binary { op, left: Box::new(l), right: Box::new(r) }, arr))
                    }
                    (T::Bytea, T::Bytea) => Ok((ScalarExpr::Binary { op, left: Box::new(l), right: Box::new(r) }, T::Bytea)),
                    (T::Jsonb, T::Jsonb) => Err(Error::unsupported("jsonb || jsonb")),
                    _ => {
                        if !(lt.is_string() || lt == T::Unknown) && !(rt.is_string() || rt == T::Unknown) {
                            return Err(undefined(&lt, &rt));
                        }
                        let l = self.cast_to_text(l, &lt)?;
                        let r = self.cast_to_text(r, &rt)?;
                        Ok((ScalarExpr::Binary { op, left: Box::new(l), right: Box::new(r) }, T::Text))
                    }
                }
            }
            _ => {
                let (lt2, rt2, result) = arithmetic_types(op, &lt, &rt).ok_or_else(|| undefined(&lt, &rt))?;
                let l = self.coerce(l, &lt, &lt2, CastContext::Implicit)?;
                let r = self.coerce(r, &rt, &rt2, CastContext::Implicit)?;
                let e = ScalarExpr::Binary { op, left: Box::new(l), right: Box::new(r) };
                Ok((e, result))
            }
        }
    }

    /// Converts any value to text with a cast, as `||` does.
    pub(crate) fn cast_to_text(&mut self, e: ScalarExpr, ty: &DataType) -> Result<ScalarExpr> {
        if ty.is_string() && !matches!(ty, DataType::Char(_)) {
            return Ok(e);
        }
        self.coerce(e, ty, &DataType::Text, CastContext::Explicit)
    }

    /// Converts any value to text with its output function, as concat() does.
    pub(crate) fn to_text(&mut self, e: ScalarExpr, ty: &DataType) -> Result<ScalarExpr> {
        if ty.is_string() && !matches!(ty, DataType::Char(_)) {
            return Ok(e);
        }
        if *ty == DataType::Unknown || matches!(ty, DataType::Char(_)) {
            return self.coerce(e, ty, &DataType::Text, CastContext::Explicit);
        }
        // The type's output function, as concat() and || use it.
        Ok(ScalarExpr::Call { func: Func::OutputText(ty.clone()), args: vec![e] })
    }

    #[allow(clippy::too_many_arguments)]
    fn bind_like(
        &mut self,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<&Expr>,
        negated: bool,
        case_insensitive: bool,
        any: bool,
        scope: &Scope,
    ) -> Result<Bound> {
        if any {
            return Err(Error::unsupported("LIKE ANY"));
        }
        let l = self.bind_expr(expr, scope)?;
        let mut r = self.bind_expr(pattern, scope)?;
        if let Some(esc) = escape {
            // Rewrite the pattern so that the custom escape becomes a backslash.
            let (esc_e, _) = self.bind_expr(esc, scope)?;
            let esc_char = match esc_e {
                ScalarExpr::Literal(Datum::Text(s)) => s,
                _ => return Err(Error::unsupported("non-constant LIKE escape")),
            };
            if esc_char.chars().count() > 1 {
                return Err(Error::new(SqlState::InvalidEscapeSequence, "invalid escape string")
                    .with_hint("Escape string must be empty or one character."));
            }
            let esc = esc_char.chars().next();
            r.0 = match &r.0 {
                ScalarExpr::Literal(Datum::Text(p)) => {
                    ScalarExpr::Literal(Datum::Text(freshet_expr::like::rewrite_escape(p, esc)))
                }
                // A pattern known only at run time is rewritten then.
                _ => {
                    let pattern = self.coerce(r.0.clone(), &r.1, &DataType::Text, CastContext::Implicit)?;
                    r.1 = DataType::Text;
                    ScalarExpr::Call {
                        func: freshet_expr::Func::LikeEscape,
                        args: vec![pattern, ScalarExpr::Literal(Datum::Text(esc_char.clone()))],
                    }
                }
            };
        }
        self.resolve_binary(BinaryOp::Like { case_insensitive, negated }, l, r)
    }

    /// `(a, b) op (c, d)`: = and <> compare element-wise (AND / OR of the
    /// pairs, with SQL's NULL logic); <, <=, >, >= compare lexicographically.
    fn bind_row_comparison(&mut self, left: &[&Expr], op: &ast::BinaryOperator, right: &[&Expr], scope: &Scope) -> Result<Bound> {
        use ast::BinaryOperator as B;
        if left.len() != right.len() {
            return Err(Error::new(SqlState::SyntaxError, "unequal number of entries in row expressions"));
        }
        let mut pairs = Vec::with_capacity(left.len());
        for (l, r) in left.iter().zip(right) {
            let eq = self.bind_binary_op(l, &B::Eq, r, scope)?.0;
            pairs.push((l, r, eq));
        }
        let bool_ty = DataType::Bool;
        Ok(match op {
            B::Eq => (ScalarExpr::And(pairs.into_iter().map(|(_, _, eq)| eq).collect()), bool_ty),
            B::NotEq => (
                ScalarExpr::Or(pairs.into_iter().map(|(_, _, eq)| ScalarExpr::Not(Box::new(eq))).collect()),
                bool_ty,
            ),
            B::Lt | B::LtEq | B::Gt | B::GtEq => {
                // (a, b) < (c, d)  ==  a < c OR (a = c AND b < d), the last
                // pair with the operator itself.
                let strict = match op {
                    B::Lt | B::LtEq => B::Lt,
                    _ => B::Gt,
                };
                let n = pairs.len();
                let mut result: Option<ScalarExpr> = None;
                for i in (0..n).rev() {
                    let (l, r, eq) = &pairs[i];
                    let last_op = if i == n - 1 { op } else { &strict };
                    let cmp = self.bind_binary_op(l, last_op, r, scope)?.0;
                    result = Some(match result {
                        None => cmp,
                        Some(rest) => ScalarExpr::Or(vec![cmp, ScalarExpr::And(vec![eq.clone(), rest])]),
                    });
                }
                (result.unwrap_or_else(|| ScalarExpr::bool(true)), bool_ty)
            }
            B::Spaceship => return Err(Error::unsupported("<=> on row constructors")),
            other => {
                return Err(Error::new(
                    SqlState::UndefinedFunction,
                    format!("operator {other} is not supported for row constructors"),
                ))
            }
        })
    }

    fn bind_in(&mut self, expr: &Expr, target: &ast::InTarget, negated: bool, scope: &Scope) -> Result<Bound> {
        if let (Some(row), ast::InTarget::List(list)) = (row_items(expr), target) {
            // (a, b) IN ((1, 2), (3, 4)): OR of row equalities.
            let mut alternatives = Vec::with_capacity(list.len());
            for item in list {
                let Some(other) = row_items(item) else {
                    return Err(Error::new(SqlState::DatatypeMismatch, "IN list items must be row constructors of the same width"));
                };
                alternatives.push(self.bind_row_comparison(&row, &ast::BinaryOperator::Eq, &other, scope)?.0);
            }
            let any = ScalarExpr::Or(alternatives);
            return Ok((if negated { ScalarExpr::Not(Box::new(any)) } else { any }, DataType::Bool));
        }
        match target {
            ast::InTarget::List(list) => {
                let (e, et) = self.bind_expr(expr, scope)?;
                let mut items = Vec::new();
                let mut ty = et.clone();
                for item in list {
                    let (b, bt) = self.bind_expr(item, scope)?;
                    ty = comparison_type(&ty, &bt).ok_or_else(|| {
                        Error::new(
                            SqlState::UndefinedFunction,
                            format!("operator does not exist: {} = {}", et.pg_name(), bt.pg_name()),
                        )
                    })?;
                    items.push((b, bt));
                }
                let e = self.coerce(e, &et, &ty, CastContext::Implicit)?;
                let mut coerced = Vec::new();
                for (b, bt) in items {
                    coerced.push(self.coerce(b, &bt, &ty, CastContext::Implicit)?);
                }
                Ok((ScalarExpr::InList { expr: Box::new(e), list: coerced, negated }, DataType::Bool))
            }
            ast::InTarget::Subquery(q) => {
                let (e, et) = self.bind_expr(expr, scope)?;
                let (query, correlated) = self.bind_subquery(q, scope)?;
                if query.columns.len() != 1 {
                    return Err(Error::new(SqlState::SyntaxError, "subquery has too many columns"));
                }
                let qt = query.columns[0].ty.clone();
                let ty = comparison_type(&et, &qt).ok_or_else(|| {
                    Error::new(
                        SqlState::UndefinedFunction,
                        format!("operator does not exist: {} = {}", et.pg_name(), qt.pg_name()),
                    )
                })?;
                let e = self.coerce(e, &et, &ty, CastContext::Implicit)?;
                let plan = self.cast_single_column(query.expr, &qt, &ty)?;
                let sub = ScalarExpr::Subquery(Box::new(SubqueryExpr {
                    kind: SubqueryKind::Quantified { expr: e, op: BinaryOp::Eq, all: false },
                    plan,
                    correlated,
                }));
                Ok((if negated { ScalarExpr::Not(Box::new(sub)) } else { sub }, DataType::Bool))
            }
            _ => Err(Error::unsupported("this form of IN")),
        }
    }

    /// Wraps a one-column plan so its column has type `to`.
    fn cast_single_column(&mut self, plan: freshet_expr::RelExpr, from: &DataType, to: &DataType) -> Result<freshet_expr::RelExpr> {
        if from == to {
            return Ok(plan);
        }
        let cast = self.coerce(ScalarExpr::Column(0), from, to, CastContext::Implicit)?;
        Ok(plan.map(vec![cast]).project(vec![1]))
    }

    fn bind_quantified(&mut self, left: &Expr, op: &ast::BinaryOperator, right: &Expr, all: bool, scope: &Scope) -> Result<Bound> {
        let op = match op {
            ast::BinaryOperator::Eq => BinaryOp::Eq,
            ast::BinaryOperator::NotEq => BinaryOp::NotEq,
            ast::BinaryOperator::Lt => BinaryOp::Lt,
            ast::BinaryOperator::LtEq => BinaryOp::LtEq,
            ast::BinaryOperator::Gt => BinaryOp::Gt,
            ast::BinaryOperator::GtEq => BinaryOp::GtEq,
            other => return Err(Error::unsupported(format!("{other} ANY/ALL"))),
        };
        let (e, et) = self.bind_expr(left, scope)?;
        let sub_query = match right {
            Expr::Subquery(q) => Some(q),
            Expr::Nested(inner) => match inner.as_ref() {
                Expr::Subquery(q) => Some(q),
                _ => None,
            },
            _ => None,
        };
        if let Some(q) = sub_query {
            let (query, correlated) = self.bind_subquery(q, scope)?;
            let qt = query.columns.first().map(|c| c.ty.clone()).unwrap_or(DataType::Unknown);
            let ty = comparison_type(&et, &qt).ok_or_else(|| {
                Error::new(SqlState::UndefinedFunction, format!("operator does not exist: {} = {}", et.pg_name(), qt.pg_name()))
            })?;
            let e = self.coerce(e, &et, &ty, CastContext::Implicit)?;
            let plan = self.cast_single_column(query.expr, &qt, &ty)?;
            return Ok((
                ScalarExpr::Subquery(Box::new(SubqueryExpr { kind: SubqueryKind::Quantified { expr: e, op, all }, plan, correlated })),
                DataType::Bool,
            ));
        }
        // `x op ANY (array)`: unnest the array through a VALUES-free plan is
        // not available yet; evaluate as a function over the array.
        let (arr, at) = self.bind_expr(right, scope)?;
        let elem = match &at {
            DataType::Array(e) => (**e).clone(),
            DataType::Int2Vector | DataType::OidVector => at.element().cloned().unwrap_or(DataType::Int2),
            DataType::Unknown => et.clone(),
            other => return Err(Error::new(SqlState::DatatypeMismatch, format!("op ANY/ALL (array) requires array on right side, not {}", other.pg_name()))),
        };
        let arr_ty = DataType::Array(Box::new(elem.clone()));
        let arr = if matches!(at, DataType::Int2Vector | DataType::OidVector) {
            arr
        } else {
            self.coerce(arr, &at, &arr_ty, CastContext::Implicit)?
        };
        let ty = comparison_type(&et, &elem).ok_or_else(|| {
            Error::new(SqlState::UndefinedFunction, format!("operator does not exist: {} = {}", et.pg_name(), elem.pg_name()))
        })?;
        let e = self.coerce(e, &et, &ty, CastContext::Implicit)?;
        let arr = if ty != elem { self.coerce(arr, &arr_ty, &DataType::Array(Box::new(ty.clone())), CastContext::Implicit)? } else { arr };
        let plan = freshet_expr::RelExpr::Values { rows: vec![], column_types: vec![ty.clone()] };
        let _ = plan;
        Ok((
            ScalarExpr::Call {
                func: Func::ArrayCompare { op, all },
                args: vec![e, arr],
            },
            DataType::Bool,
        ))
    }

    fn bind_case(
        &mut self,
        operand: Option<&Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&Expr>,
        scope: &Scope,
    ) -> Result<Bound> {
        let operand = match operand {
            Some(o) => Some(self.bind_expr(o, scope)?),
            None => None,
        };
        let mut whens = Vec::new();
        let mut results = Vec::new();
        for cw in conditions {
            let cond = match &operand {
                Some(op) => {
                    let r = self.bind_expr(&cw.condition, scope)?;
                    self.resolve_binary(BinaryOp::Eq, op.clone(), r)?.0
                }
                None => self.bind_condition(&cw.condition, scope, "CASE")?,
            };
            whens.push(cond);
            results.push(self.bind_expr(&cw.result, scope)?);
        }
        let otherwise = match else_result {
            Some(e) => self.bind_expr(e, scope)?,
            None => (ScalarExpr::null(), DataType::Unknown),
        };
        results.push(otherwise);
        let (mut coerced, ty) = self.unify(results, "CASE")?;
        let otherwise = coerced.pop().unwrap_or_else(ScalarExpr::null);
        Ok((
            ScalarExpr::Case { whens: whens.into_iter().zip(coerced).collect(), otherwise: Box::new(otherwise) },
            ty,
        ))
    }

    /// Coerces several expressions to their common type (`context` names
    /// the construct in the error, e.g. "CASE", "UNION").
    pub(crate) fn unify(&mut self, items: Vec<Bound>, context: &str) -> Result<(Vec<ScalarExpr>, DataType)> {
        let mut ty = DataType::Unknown;
        for (_, t) in &items {
            ty = common_type(&ty, t).ok_or_else(|| typing::mismatch(context, &ty, t))?;
        }
        if ty == DataType::Unknown {
            ty = DataType::Text;
        }
        let mut out = Vec::new();
        for (e, t) in items {
            out.push(self.coerce(e, &t, &ty, CastContext::Implicit)?);
        }
        Ok((out, ty))
    }

    fn bind_interval(&mut self, iv: &ast::Interval, scope: &Scope) -> Result<Bound> {
        let (value, vt) = self.bind_expr(&iv.value, scope)?;
        let text = match (&value, &vt) {
            (ScalarExpr::Literal(Datum::Text(s)), _) => s.clone(),
            (ScalarExpr::Literal(d), _) => freshet_expr::func::datum_debug_text(d),
            _ => return Err(Error::unsupported("INTERVAL with a non-constant value")),
        };
        let text = match &iv.leading_field {
            Some(field) if iv.last_field.is_none() && text.trim().parse::<f64>().is_ok() => {
                format!("{} {}", text.trim(), datetime_field_name(field))
            }
            _ => text,
        };
        let d = freshet_common::io::parse_text(&text, &DataType::Interval, &self.text)?;
        Ok((ScalarExpr::Literal(d), DataType::Interval))
    }

    /// `ARRAY[...]`.
    pub(crate) fn bind_array_constructor(&mut self, items: Vec<Bound>) -> Result<Bound> {
        if items.is_empty() {
            return Err(Error::new(SqlState::IndeterminateDatatype, "cannot determine type of empty array")
                .with_hint("Explicitly cast to the desired type, for example ARRAY[]::integer[]."));
        }
        let (coerced, ty) = self.unify(items, "ARRAY")?;
        Ok((ScalarExpr::Call { func: Func::ArrayConstruct, args: coerced }, DataType::Array(Box::new(ty))))
    }

    /// Binds a subquery used as an expression; returns its plan and whether
    /// it is correlated.
    pub(crate) fn bind_subquery(&mut self, q: &ast::Query, scope: &Scope) -> Result<(crate::plan::QueryPlan, bool)> {
        let saved = self.min_outer_ref;
        self.min_outer_ref = usize::MAX;
        self.outer.push(scope.clone());
        let threshold = self.outer.len();
        let result = self.bind_query(q);
        self.outer.pop();
        let correlated = self.min_outer_ref < threshold;
        self.min_outer_ref = self.min_outer_ref.min(saved);
        Ok((result?, correlated))
    }

    fn bind_subquery_plan(&mut self, q: &ast::Query, scope: &Scope) -> Result<(freshet_expr::RelExpr, bool)> {
        let (plan, correlated) = self.bind_subquery(q, scope)?;
        Ok((plan.expr, correlated))
    }
}

/// The operand type two values are compared at.
pub(crate) fn comparison_type(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType as T;
    match (a, b) {
        (T::Unknown, T::Unknown) => Some(T::Text),
        // `"char"` meets other strings as text (its implicit cast), as in
        // `pg_class.relkind = ANY (ARRAY['r'::varchar])`.
        (T::InternalChar, t) | (t, T::InternalChar) if t.is_string() => Some(T::Text),
        // bpchar compares without trailing blanks: compare as text.
        (T::Char(_), T::Char(_) | T::Unknown | T::Text | T::Varchar(_)) | (T::Unknown | T::Text | T::Varchar(_), T::Char(_)) => {
            Some(T::Text)
        }
        // A string literal compared with a number takes the number's type.
        _ => common_type(a, b),
    }
}

/// Operand and result types of an arithmetic operator, or `None`.
fn arithmetic_types(op: BinaryOp, lt: &DataType, rt: &DataType) -> Option<(DataType, DataType, DataType)> {
    use BinaryOp as O;
    use DataType as T;
    let datetime = |t: &T| matches!(t, T::Date | T::Time | T::Timestamp | T::TimestampTz | T::Interval);
    if datetime(lt) || datetime(rt) {
        // Resolve an unknown side from the known one.
        let lt = if *lt == T::Unknown { unknown_partner(rt, op) } else { lt.clone() };
        let rt = if *rt == T::Unknown { unknown_partner(&lt, op) } else { rt.clone() };
        let int = |t: &T| t.is_integer();
        let num = |t: &T| t.is_numeric();
        let result = match (op, &lt, &rt) {
            (O::Add, T::Date, t) | (O::Add, t, T::Date) if int(t) => return Some((if lt == T::Date { T::Date } else { T::Int4 }, if rt == T::Date { T::Date } else { T::Int4 }, T::Date)),
            (O::Sub, T::Date, t) if int(t) => return Some((T::Date, T::Int4, T::Date)),
            (O::Sub, T::Date, T::Date) => T::Int4,
            (O::Add, T::Date, T::Interval) | (O::Add, T::Interval, T::Date) | (O::Sub, T::Date, T::Interval) => T::Timestamp,
            (O::Add, T::Date, T::Time) | (O::Add, T::Time, T::Date) => T::Timestamp,
            (O::Add | O::Sub, T::Timestamp, T::Interval) | (O::Add, T::Interval, T::Timestamp) => T::Timestamp,
            (O::Add | O::Sub, T::TimestampTz, T::Interval) | (O::Add, T::Interval, T::TimestampTz) => T::TimestampTz,
            (O::Sub, T::Timestamp, T::Timestamp) | (O::Sub, T::TimestampTz, T::TimestampTz) => T::Interval,
            (O::Sub, T::Timestamp, T::TimestampTz) | (O::Sub, T::TimestampTz, T::Timestamp) => {
                return Some((T::TimestampTz, T::TimestampTz, T::Interval))
            }
            (O::Sub, T::Date, T::Timestamp) => return Some((T::Timestamp, T::Timestamp, T::Interval)),
            (O::Sub, T::Timestamp, T::Date) => return Some((T::Timestamp, T::Timestamp, T::Interval)),
            (O::Add | O::Sub, T::Interval, T::Interval) => T::Interval,
            (O::Add | O::Sub, T::Time, T::Interval) | (O::Add, T::Interval, T::Time) => T::Time,
            (O::Sub, T::Time, T::Time) => T::Interval,
            (O::Mul, T::Interval, t) if num(t) => return Some((T::Interval, T::Float8, T::Interval)),
            (O::Mul, t, T::Interval) if num(t) => return Some((T::Float8, T::Interval, T::Interval)),
            (O::Div, T::Interval, t) if num(t) => return Some((T::Interval, T::Float8, T::Interval)),
            _ => return None,
        };
        return Some((lt, rt, result));
    }
    let lt = if *lt == T::Unknown { rt.clone() } else { lt.clone() };
    let rt = if *rt == T::Unknown { lt.clone() } else { rt.clone() };
    if lt == T::Unknown && rt == T::Unknown {
        return None;
    }
    if !lt.is_numeric() || !rt.is_numeric() {
        return None;
    }
    let bitwise = matches!(op, O::BitAnd | O::BitOr | O::BitXor | O::ShiftLeft | O::ShiftRight);
    if bitwise {
        if !lt.is_integer() || !rt.is_integer() {
            return None;
        }
        if matches!(op, O::ShiftLeft | O::ShiftRight) {
            return Some((lt.clone(), T::Int4, lt));
        }
    }
    let common = common_type(&lt, &rt)?;
    // real with any other numeric type resolves to the real/double
    // operators (float48pl, ...), whose result is double: PostgreSQL
    // prefers float8, the numeric category's preferred type.
    let common = if common == T::Float4 && lt != rt { T::Float8 } else { common };
    let common = match (op, &common) {
        // Exponentiation is defined for float8 and numeric only.
        (O::Pow, t) if t.is_integer() => T::Float8,
        (O::Pow, T::Float4) => T::Float8,
        _ => common,
    };
    Some((common.clone(), common.clone(), common))
}

/// The type an unknown operand (a string literal, NULL) takes beside a
/// date/time operand: as in PostgreSQL, the known type itself when the
/// operator exists for two of it (`date - date`, `timestamp - timestamp`),
/// else the usual partner (`date + integer`, `timestamp + interval`).
fn unknown_partner(known: &DataType, op: BinaryOp) -> DataType {
    use DataType as T;
    match (known, op) {
        (T::Date | T::Timestamp | T::TimestampTz, BinaryOp::Sub) => known.clone(),
        (T::Date, _) => T::Int4,
        (T::Interval, BinaryOp::Mul | BinaryOp::Div) => T::Float8,
        _ => T::Interval,
    }
}

fn op_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Pow => "^",
        BinaryOp::Eq => "=",
        BinaryOp::NotEq => "<>",
        BinaryOp::Lt => "<",
        BinaryOp::LtEq => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::GtEq => ">=",
        BinaryOp::IsDistinctFrom => "IS DISTINCT FROM",
        BinaryOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
        BinaryOp::Concat => "||",
        BinaryOp::BitAnd => "&",
        BinaryOp::BitOr => "|",
        BinaryOp::BitXor => "#",
        BinaryOp::ShiftLeft => "<<",
        BinaryOp::ShiftRight => ">>",
        BinaryOp::Like { negated: false, case_insensitive: false } => "~~",
        BinaryOp::Like { negated: true, case_insensitive: false } => "!~~",
        BinaryOp::Like { negated: false, case_insensitive: true } => "~~*",
        BinaryOp::Like { negated: true, case_insensitive: true } => "!~~*",
        BinaryOp::RegexMatch { .. } => "~",
        BinaryOp::ArrayContains { contained_by: false } => "@>",
        BinaryOp::ArrayContains { contained_by: true } => "<@",
        BinaryOp::ArrayOverlap => "&&",
        BinaryOp::Json(j) => match j {
            JsonOp::Get => "->",
            JsonOp::GetText => "->>",
            JsonOp::Path => "#>",
            JsonOp::PathText => "#>>",
            JsonOp::Contains => "@>",
            JsonOp::ContainedBy => "<@",
            JsonOp::HasKey => "?",
            JsonOp::HasAnyKey => "?|",
            JsonOp::HasAllKeys => "?&",
            JsonOp::Concat => "||",
            JsonOp::Delete => "-",
        },
    }
}

/// Types a numeric literal as PostgreSQL does: integer if it fits, then
/// bigint, otherwise numeric.
pub(crate) fn number_literal(text: &str) -> Result<Bound> {
    let is_integer = text.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'+');
    if is_integer {
        if let Ok(v) = text.parse::<i32>() {
            return Ok((ScalarExpr::Literal(Datum::Int4(v)), DataType::Int4));
        }
        if let Ok(v) = text.parse::<i64>() {
            return Ok((ScalarExpr::Literal(Datum::Int8(v)), DataType::Int8));
        }
    }
    // Every other literal is an exact numeric, whatever its length, as in
    // PostgreSQL (`1e300` is numeric too); 22003 beyond numeric's limits.
    let d = freshet_common::numeric::parse_numeric(text)?;
    Ok((ScalarExpr::Literal(Datum::Numeric(d)), DataType::Numeric(None)))
}

fn decode_hex(h: &str) -> Result<Vec<u8>> {
    if h.len() % 2 != 0 {
        return Err(Error::invalid_text("bytea", h));
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).map_err(|_| Error::invalid_text("bytea", h)))
        .collect()
}

/// Rewrites a LIKE pattern written with escape `esc` into one using `\`.
/// The lowercase name of an EXTRACT / INTERVAL field.
pub(crate) fn datetime_field_name(field: &ast::DateTimeField) -> String {
    use ast::DateTimeField as F;
    match field {
        F::Year | F::Years => "year".into(),
        F::Month | F::Months => "month".into(),
        F::Week(_) | F::Weeks => "week".into(),
        F::Day | F::Days => "day".into(),
        F::DayOfWeek | F::Dow => "dow".into(),
        F::DayOfYear | F::Doy => "doy".into(),
        F::Hour | F::Hours => "hour".into(),
        F::Minute | F::Minutes => "minute".into(),
        F::Second | F::Seconds => "second".into(),
        F::Century => "century".into(),
        F::Decade => "decade".into(),
        F::Epoch => "epoch".into(),
        F::Isodow => "isodow".into(),
        F::Isoyear => "isoyear".into(),
        F::Julian => "julian".into(),
        F::Microsecond | F::Microseconds => "microseconds".into(),
        F::Millenium | F::Millennium => "millennium".into(),
        F::Millisecond | F::Milliseconds => "milliseconds".into(),
        F::Quarter => "quarter".into(),
        F::Timezone => "timezone".into(),
        F::TimezoneHour => "timezone_hour".into(),
        F::TimezoneMinute => "timezone_minute".into(),
        F::Custom(id) => names::ident(id),
        other => other.to_string().to_lowercase(),
    }
}

/// Whether a cast's target is `jsonpath` (or `pg_catalog.jsonpath`).
fn is_jsonpath_type(ty: &ast::DataType) -> bool {
    matches!(ty, ast::DataType::Custom(name, modifiers)
        if modifiers.is_empty() && names::object_name(name).last().map(String::as_str) == Some("jsonpath"))
}

/// The items of a row constructor: `(a, b, ...)` with two or more items,
/// or `ROW(...)`.
fn row_items(e: &Expr) -> Option<Vec<&Expr>> {
    match e {
        Expr::Tuple(items) if items.len() >= 2 => Some(items.iter().collect()),
        Expr::Nested(inner) => row_items(inner),
        Expr::Function(f) if crate::names::object_name(&f.name).last().map(String::as_str) == Some("row") && f.over.is_none() => {
            match &f.args {
                ast::FunctionArguments::List(list) => list
                    .args
                    .iter()
                    .map(|a| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A whole-row reference, a FROM item's alias used as a value: its
/// columns as a record, or, for an item with a single column (a function
/// returning a scalar, as `jsonb_array_elements_text(...) AS t`), that
/// column's value, as PostgreSQL gives them.
fn whole_row(alias: &str, scope: &Scope) -> Bound {
    let columns: Vec<usize> = scope
        .items
        .iter()
        .enumerate()
        .filter(|(_, it)| it.qualifier.as_deref() == Some(alias) && !it.internal && !it.hidden)
        .map(|(i, _)| i)
        .collect();
    if let [only] = columns.as_slice() {
        return (ScalarExpr::Column(*only), scope.items[*only].ty.clone());
    }
    let fields = columns.iter().map(|i| (scope.items[*i].name.clone(), scope.items[*i].ty.clone())).collect();
    // A record value is the array of its fields.
    (ScalarExpr::Call { func: Func::ArrayConstruct, args: columns.into_iter().map(ScalarExpr::Column).collect() }, DataType::Record(fields))
}
