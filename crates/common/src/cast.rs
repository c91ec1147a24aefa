//! Casts between types with PostgreSQL's semantics and errors.
//!
//! [`cast_context`] is Freshet's copy of the relevant rows of PostgreSQL's
//! `pg_cast` (with `castcontext` i/a/e), plus the two automatic I/O
//! conversion rules: anything to a string type is an assignment cast, a
//! string type to anything else is explicit. [`cast_with_context`] performs
//! the conversion, raising PostgreSQL's errors (22003 range, 22001
//! truncation in assignment, 22P02 bad input ...).

use crate::io::text::{coerce_bpchar, coerce_varchar, truncate_name};
use crate::io::{format_text, parse_text, TextContext};
use crate::json::{self, Jsonb};
use crate::numeric::{apply_typmod, numeric_from_digits, Numeric};
use crate::{DataType, Datum, Error, Interval, Result, SqlState, Time, F32, F64};

/// Where a cast is applied; decides which casts are allowed without an
/// explicit `CAST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CastContext {
    /// Allowed silently inside expressions (e.g. int4 -> int8).
    Implicit,
    /// Allowed when storing into a column (e.g. numeric -> int4).
    Assignment,
    /// Only with CAST / `::`.
    Explicit,
}

fn is_text_like(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Text
            | DataType::Varchar(_)
            | DataType::Char(_)
            | DataType::Name
            | DataType::InternalChar
    )
}

fn is_reg(t: &DataType) -> bool {
    matches!(t, DataType::RegClass | DataType::RegType | DataType::RegProc)
}

/// The weakest context in which a cast from `from` to `to` exists
/// (`pg_cast.castcontext`), or `None` if there is no such cast.
pub fn cast_context(from: &DataType, to: &DataType) -> Option<CastContext> {
    use CastContext::*;
    use DataType::*;
    let f = from.without_modifiers();
    let t = to.without_modifiers();
    if f == t {
        // Same type: at most a length coercion, which is implicit.
        return Some(Implicit);
    }
    // The vector types are binary-coercible to and from their arrays.
    match (&f, &t) {
        (Int2Vector, Array(e)) | (Array(e), Int2Vector) if **e == Int2 => return Some(Implicit),
        (OidVector, Array(e)) | (Array(e), OidVector) if **e == Oid => return Some(Implicit),
        _ => {}
    }
    if f == Unknown {
        return Some(Implicit);
    }
    if t == Unknown {
        return None;
    }
    if let (Array(fe), Array(te)) = (&f, &t) {
        return cast_context(fe, te);
    }
    let table = match (&f, &t) {
        (Int2, Int4 | Int8 | Float4 | Float8 | Numeric(_)) => Some(Implicit),
        (Int4, Int8 | Float4 | Float8 | Numeric(_)) => Some(Implicit),
        (Int8, Float4 | Float8 | Numeric(_)) => Some(Implicit),
        (Int4, Int2) | (Int8, Int2 | Int4) => Some(Assignment),
        (Float4 | Float8, Int2 | Int4 | Int8 | Numeric(_)) => Some(Assignment),
        (Float4, Float8) => Some(Implicit),
        (Float8, Float4) => Some(Assignment),
        (Numeric(_), Int2 | Int4 | Int8) => Some(Assignment),
        (Numeric(_), Float4 | Float8) => Some(Implicit),
        (Int4, Bool) | (Bool, Int4) => Some(Explicit),
        (Int4, InternalChar) | (InternalChar, Int4) => Some(Explicit),
        (Int2 | Int4 | Int8, Oid) => Some(Implicit),
        (Int2 | Int4 | Int8, t) if is_reg(t) => Some(Implicit),
        (Oid, Int4 | Int8) => Some(Assignment),
        (f, Int4 | Int8) if is_reg(f) => Some(Assignment),
        (Oid, t) if is_reg(t) => Some(Implicit),
        (f, Oid) if is_reg(f) => Some(Implicit),
        (Text | Varchar(_), RegClass) => Some(Implicit),
        (Text, Varchar(_) | Char(_) | Name) => Some(Implicit),
        (Varchar(_), Text | Char(_) | Name) => Some(Implicit),
        (Char(_), Text | Varchar(_) | Name) => Some(Implicit),
        (Name, Text) => Some(Implicit),
        (Name, Char(_) | Varchar(_)) => Some(Assignment),
        (InternalChar, Text) => Some(Implicit),
        (InternalChar, Char(_) | Varchar(_)) => Some(Assignment),
        (Text | Char(_) | Varchar(_), InternalChar) => Some(Assignment),
        (Date, Timestamp | TimestampTz) => Some(Implicit),
        (Timestamp, TimestampTz) => Some(Implicit),
        (Timestamp | TimestampTz, Date | Time) => Some(Assignment),
        (TimestampTz, Timestamp) => Some(Assignment),
        (Time, Interval) => Some(Implicit),
        (Interval, Time) => Some(Assignment),
        (Json, Jsonb) | (Jsonb, Json) => Some(Assignment),
        (Jsonb, Bool | Numeric(_) | Int2 | Int4 | Int8 | Float4 | Float8) => Some(Explicit),
        _ => None,
    };
    if table.is_some() {
        return table;
    }
    // Automatic I/O conversion casts.
    if is_text_like(&t) && t != InternalChar {
        return Some(Assignment);
    }
    if is_text_like(&f) && f != InternalChar {
        return Some(Explicit);
    }
    None
}

/// Whether a value of type `from` may be cast to `to` in `context`.
pub fn can_cast(from: &DataType, to: &DataType, context: CastContext) -> bool {
    cast_context(from, to).map(|needed| needed <= context).unwrap_or(false)
}

/// Casts `datum` from type `from` to type `to` (NULL stays NULL), raising the
/// error PostgreSQL raises (22P02, 22003, 22001 ...). This is an explicit
/// cast (`CAST(x AS t)`, `x::t`): over-long strings are truncated.
pub fn cast(datum: Datum, from: &DataType, to: &DataType, ctx: &TextContext) -> Result<Datum> {
    cast_with_context(datum, from, to, ctx, CastContext::Explicit)
}

fn cannot_cast(from: &DataType, to: &DataType) -> Error {
    Error::new(SqlState::CannotCoerce, format!("cannot cast type {from} to {to}"))
}

/// Casts in the given context: checks that the cast exists there (42846
/// otherwise) and applies length coercion with that context's rules
/// (explicit truncates `varchar(n)`/`char(n)` silently, implicit and
/// assignment raise 22001 unless the excess is spaces).
pub fn cast_with_context(
    datum: Datum,
    from: &DataType,
    to: &DataType,
    ctx: &TextContext,
    context: CastContext,
) -> Result<Datum> {
    if datum.is_null() {
        return Ok(Datum::Null);
    }
    if !can_cast(from, to, context) {
        return Err(cannot_cast(from, to));
    }
    convert(datum, from, to, ctx, context == CastContext::Explicit)
}

fn int_range(v: i64, to: &DataType) -> Result<Datum> {
    Ok(match to {
        DataType::Int2 => {
            Datum::Int2(i16::try_from(v).map_err(|_| Error::out_of_range("smallint"))?)
        }
        DataType::Int4 => {
            Datum::Int4(i32::try_from(v).map_err(|_| Error::out_of_range("integer"))?)
        }
        DataType::Int8 => Datum::Int8(v),
        other => return Err(Error::internal(format!("int_range to {other}"))),
    })
}

fn int_name(to: &DataType) -> &'static str {
    match to {
        DataType::Int2 => "smallint",
        DataType::Int4 => "integer",
        _ => "bigint",
    }
}

/// float -> integer: round half to even (C `rint`), then range-check.
fn float_to_int(v: f64, to: &DataType) -> Result<Datum> {
    let r = v.round_ties_even();
    let (lo, hi) = match to {
        DataType::Int2 => (-32768.0, 32768.0),
        DataType::Int4 => (-2147483648.0, 2147483648.0),
        _ => (-9223372036854775808.0, 9223372036854775808.0),
    };
    if r.is_nan() || r < lo || r >= hi {
        return Err(Error::out_of_range(int_name(to)));
    }
    int_range(r as i64, to)
}

/// numeric -> integer: round half away from zero, then range-check.
fn numeric_to_int(d: &Numeric, to: &DataType) -> Result<Datum> {
    if !d.is_finite() {
        let what = if d.is_nan() { "NaN" } else { "infinity" };
        return Err(Error::new(
            SqlState::FeatureNotSupported,
            format!("cannot convert {what} to {}", int_name(to)),
        ));
    }
    let v = d.to_i64_rounded().ok_or_else(|| Error::out_of_range(int_name(to)))?;
    int_range(v, to).map_err(|_| Error::out_of_range(int_name(to)))
}

/// float -> numeric as PostgreSQL does it: print with `%.15g` (`%.6g` for
/// float4) and read the result back; NaN and the infinities map to
/// numeric's.
pub fn float_to_numeric(v: f64, significant_digits: usize) -> Result<Numeric> {
    if v.is_nan() {
        return Ok(Numeric::NAN);
    }
    if v.is_infinite() {
        return Ok(if v > 0.0 { Numeric::INFINITY } else { Numeric::NEG_INFINITY });
    }
    if v == 0.0 {
        return Ok(Numeric::ZERO);
    }
    let s = format!("{:.*e}", significant_digits - 1, v);
    let (mant, exp) = s.split_once('e').ok_or_else(|| Error::internal("float formatting"))?;
    let exp: i64 = exp.parse().map_err(|_| Error::internal("float exponent"))?;
    let neg = mant.starts_with('-');
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let scale = (digits.len() as i64 - 1 - exp).max(0);
    // digits * 10^(exp - (len - 1)); express with the chosen scale.
    let shift = exp - (digits.len() as i64 - 1) + scale;
    for _ in 0..shift.max(0) {
        digits.push('0');
    }
    numeric_from_digits(neg, &digits, scale)
}

/// numeric -> float8 as PostgreSQL's `numeric_float8` (`float8in` of the
/// text form): correctly rounded, 22003 when the value overflows or
/// underflows a double.
fn numeric_to_f64(d: &Numeric) -> Result<f64> {
    let v = d.to_f64();
    if d.is_finite() && (v.is_infinite() || (v == 0.0 && !d.is_zero())) {
        return Err(Error::new(
            SqlState::NumericValueOutOfRange,
            format!("\"{d}\" is out of range for type double precision"),
        ));
    }
    Ok(v)
}

/// numeric -> float4 as PostgreSQL's `numeric_float4` (`float4in` of the
/// text form).
fn numeric_to_f32(d: &Numeric) -> Result<f32> {
    if !d.is_finite() {
        return Ok(d.to_f64() as f32);
    }
    let text = d.to_string();
    let v = text.parse::<f32>().expect("numeric text parses as f32");
    if v.is_infinite() || (v == 0.0 && !d.is_zero()) {
        return Err(Error::new(
            SqlState::NumericValueOutOfRange,
            format!("\"{text}\" is out of range for type real"),
        ));
    }
    Ok(v)
}

fn to_number(datum: &Datum) -> Option<Num> {
    Some(match datum {
        Datum::Int2(v) => Num::Int(*v as i64),
        Datum::Int4(v) => Num::Int(*v as i64),
        Datum::Int8(v) => Num::Int(*v),
        Datum::Float4(v) => Num::F4(v.0),
        Datum::Float8(v) => Num::F8(v.0),
        Datum::Numeric(d) => Num::Dec(d.clone()),
        _ => return None,
    })
}

enum Num {
    Int(i64),
    F4(f32),
    F8(f64),
    Dec(Numeric),
}

fn convert_number(n: Num, to: &DataType) -> Result<Datum> {
    use DataType::*;
    Ok(match (n, to) {
        (Num::Int(v), Int2 | Int4 | Int8) => int_range(v, to)?,
        (Num::Int(v), Float4) => Datum::Float4(F32(v as f32)),
        (Num::Int(v), Float8) => Datum::Float8(F64(v as f64)),
        (Num::Int(v), Numeric(m)) => Datum::Numeric(typmod(crate::Numeric::from(v), m)?),
        (Num::F4(v), Int2 | Int4 | Int8) => float_to_int(v as f64, to)?,
        (Num::F8(v), Int2 | Int4 | Int8) => float_to_int(v, to)?,
        (Num::F4(v), Float4) => Datum::Float4(F32(v)),
        (Num::F4(v), Float8) => Datum::Float8(F64(v as f64)),
        (Num::F8(v), Float8) => Datum::Float8(F64(v)),
        (Num::F8(v), Float4) => {
            let r = v as f32;
            if r.is_infinite() && !v.is_infinite() {
                return Err(Error::new(
                    SqlState::NumericValueOutOfRange,
                    "value out of range: overflow",
                ));
            }
            if r == 0.0 && v != 0.0 {
                return Err(Error::new(
                    SqlState::NumericValueOutOfRange,
                    "value out of range: underflow",
                ));
            }
            Datum::Float4(F32(r))
        }
        (Num::F4(v), Numeric(m)) => Datum::Numeric(typmod(float_to_numeric(v as f64, 6)?, m)?),
        (Num::F8(v), Numeric(m)) => Datum::Numeric(typmod(float_to_numeric(v, 15)?, m)?),
        (Num::Dec(d), Int2 | Int4 | Int8) => numeric_to_int(&d, to)?,
        (Num::Dec(d), Float4) => Datum::Float4(F32(numeric_to_f32(&d)?)),
        (Num::Dec(d), Float8) => Datum::Float8(F64(numeric_to_f64(&d)?)),
        (Num::Dec(d), Numeric(m)) => Datum::Numeric(typmod(d, m)?),
        (_, other) => return Err(Error::internal(format!("numeric conversion to {other}"))),
    })
}

fn typmod(d: Numeric, m: &Option<(u32, u32)>) -> Result<Numeric> {
    match m {
        Some((p, s)) => apply_typmod(&d, *p, *s),
        None => Ok(d),
    }
}

/// Applies a string target type's modifier to text.
fn to_string_type(s: String, to: &DataType, explicit: bool) -> Result<Datum> {
    Ok(Datum::Text(match to {
        DataType::Varchar(n) => coerce_varchar(&s, *n, explicit)?,
        DataType::Char(n) => coerce_bpchar(&s, *n, explicit)?,
        DataType::Name => truncate_name(&s),
        DataType::InternalChar => s.chars().next().map(String::from).unwrap_or_default(),
        _ => s,
    }))
}

fn jsonb_kind(j: &Jsonb) -> &'static str {
    match j {
        Jsonb::Null => "null",
        Jsonb::Bool(_) => "boolean",
        Jsonb::Number(_) => "numeric",
        Jsonb::String(_) => "string",
        Jsonb::Array(_) => "array",
        Jsonb::Object(_) => "object",
    }
}

fn convert(
    datum: Datum,
    from: &DataType,
    to: &DataType,
    ctx: &TextContext,
    explicit: bool,
) -> Result<Datum> {
    use DataType::*;
    let f = from.without_modifiers();
    if matches!(f, Int2Vector | OidVector) && matches!(to.without_modifiers(), Text | Varchar(_) | Name) {
        // int2vector/oidvector text: the values space-separated.
        let mut out = String::new();
        crate::io::format_text(&datum, &f, ctx, &mut out);
        return Ok(Datum::Text(out));
    }
    if matches!(f, Int2Vector | OidVector) || matches!(to, Int2Vector | OidVector) {
        return Ok(datum);
    }
    // Arrays: element by element (nested arrays recurse).
    if let (Array(fe), Array(te), Datum::Array(items)) = (&f, to, &datum) {
        let fe = fe.as_ref().clone();
        let out: Result<Vec<Datum>> = items
            .iter()
            .map(|d| match d {
                Datum::Null => Ok(Datum::Null),
                Datum::Array(_) => {
                    convert(d.clone(), &Array(Box::new(fe.clone())), to, ctx, explicit)
                }
                other => convert(other.clone(), &fe, te, ctx, explicit),
            })
            .collect();
        return Ok(Datum::Array(out?));
    }
    if let (Datum::Int4(v), InternalChar) = (&datum, to) {
        let v = *v;
        if !(-128..=127).contains(&v) {
            return Err(Error::new(SqlState::NumericValueOutOfRange, "\"char\" out of range"));
        }
        return Ok(Datum::Text(if v == 0 {
            String::new()
        } else {
            char::from(v as i8 as u8).to_string()
        }));
    }
    // To string types: text form of the source.
    if is_text_like(to) {
        let s = match (&f, datum) {
            (Char(_), Datum::Text(s)) => s.trim_end_matches(' ').to_string(),
            (_, Datum::Text(s)) => s,
            (_, Datum::Bool(b)) => if b { "true" } else { "false" }.to_string(),
            (_, d) => {
                let mut s = String::new();
                format_text(&d, from, ctx, &mut s);
                s
            }
        };
        return to_string_type(s, to, explicit);
    }
    // From string types (and unknown literals): the input function.
    if is_text_like(&f) || f == Unknown {
        let s = match datum {
            Datum::Text(s) => s,
            other => return Err(Error::internal(format!("string type holding {other:?}"))),
        };
        if f == InternalChar && *to == Int4 {
            let b = s.as_bytes().first().copied().unwrap_or(0);
            return Ok(Datum::Int4(b as i8 as i32));
        }
        return parse_text(&s, to, ctx);
    }
    if let Some(n) = to_number(&datum) {
        match to {
            Int2 | Int4 | Int8 | Float4 | Float8 | Numeric(_) => return convert_number(n, to),
            _ => {}
        }
    }
    Ok(match (datum, to) {
        (Datum::Int4(v), Bool) => Datum::Bool(v != 0),
        (Datum::Bool(b), Int4) => Datum::Int4(b as i32),
        (Datum::Int2(v), Oid | RegClass | RegType | RegProc) => Datum::Oid(v as i32 as u32),
        (Datum::Int4(v), Oid | RegClass | RegType | RegProc) => Datum::Oid(v as u32),
        (Datum::Int8(v), Oid | RegClass | RegType | RegProc) => Datum::Oid(
            u32::try_from(v)
                .map_err(|_| Error::new(SqlState::NumericValueOutOfRange, "OID out of range"))?,
        ),
        (Datum::Oid(o), Int4) => Datum::Int4(o as i32),
        (Datum::Oid(o), Int8) => Datum::Int8(o as i64),
        (Datum::Oid(o), Oid | RegClass | RegType | RegProc) => Datum::Oid(o),
        (Datum::Date(d), Timestamp) => Datum::Timestamp(d.to_timestamp()?),
        (Datum::Date(d), TimestampTz) => Datum::TimestampTz(d.to_timestamptz(&ctx.time_zone)?),
        (Datum::Timestamp(t), Date) => Datum::Date(t.to_date()?),
        (Datum::Timestamp(t), Time) => Datum::Time(t.to_time()?),
        (Datum::Timestamp(t), TimestampTz) => Datum::TimestampTz(t.to_timestamptz(&ctx.time_zone)?),
        (Datum::TimestampTz(t), Date) => Datum::Date(t.to_date(&ctx.time_zone)?),
        (Datum::TimestampTz(t), Time) => Datum::Time(t.to_time(&ctx.time_zone)?),
        (Datum::TimestampTz(t), Timestamp) => Datum::Timestamp(t.to_local(&ctx.time_zone)?),
        (Datum::Time(t), Interval) => {
            Datum::Interval(crate::Interval { months: 0, days: 0, micros: t.0 })
        }
        (Datum::Interval(i), Time) => Datum::Time(interval_to_time(&i)),
        (Datum::Date(d), Date) => Datum::Date(d),
        (Datum::Time(t), Time) => Datum::Time(t),
        (Datum::Timestamp(t), Timestamp) => Datum::Timestamp(t),
        (Datum::TimestampTz(t), TimestampTz) => Datum::TimestampTz(t),
        (Datum::Interval(i), Interval) => Datum::Interval(i),
        (Datum::Json(s), Jsonb) => Datum::Jsonb(json::parse_json_text(&s)?),
        (Datum::Json(s), Json) => Datum::Json(s),
        (Datum::Jsonb(j), Json) => Datum::Json(j.to_string()),
        (Datum::Jsonb(j), Jsonb) => Datum::Jsonb(j),
        (Datum::Jsonb(j), target) => match (&j, target) {
            (json::Jsonb::Bool(b), Bool) => Datum::Bool(*b),
            (json::Jsonb::Number(d), Int2 | Int4 | Int8 | Float4 | Float8 | Numeric(_)) => {
                convert_number(Num::Dec(d.clone()), target)?
            }
            _ => {
                return Err(Error::new(
                    SqlState::InvalidParameterValue,
                    format!("cannot cast jsonb {} to type {}", jsonb_kind(&j), target.pg_name()),
                ))
            }
        },
        (d @ (Datum::Bool(_) | Datum::Bytea(_) | Datum::Uuid(_) | Datum::Enum(_)), _) if f == *to => d,
        (other, _) => {
            let _ = other;
            return Err(cannot_cast(from, to));
        }
    })
}

/// `interval::time`: the time part modulo one day (PostgreSQL's
/// `interval_time`).
fn interval_to_time(i: &Interval) -> Time {
    Time(i.micros.rem_euclid(crate::datetime::USECS_PER_DAY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::TimeZone;

    fn ctx() -> TextContext {
        TextContext::default()
    }

    fn c(d: Datum, from: DataType, to: DataType) -> Result<Datum> {
        cast(d, &from, &to, &ctx())
    }

    fn text_of(d: &Datum, ty: &DataType) -> String {
        crate::io::text::to_text(d, ty, &ctx())
    }

    #[test]
    fn cast_table_matches_pg_cast() {
        use CastContext::*;
        use DataType::*;
        assert!(can_cast(&Int4, &Int8, Implicit));
        assert!(!can_cast(&Int8, &Int4, Implicit));
        assert!(can_cast(&Int8, &Int4, Assignment));
        assert!(can_cast(&Numeric(None), &Float8, Implicit));
        assert!(!can_cast(&Float8, &Numeric(None), Implicit));
        assert!(can_cast(&Float8, &Numeric(Some((5, 2))), Assignment));
        assert!(can_cast(&Int4, &Text, Assignment));
        assert!(!can_cast(&Int4, &Text, Implicit));
        assert!(!can_cast(&Text, &Int4, Assignment));
        assert!(can_cast(&Text, &Int4, Explicit));
        assert!(can_cast(&Varchar(Some(3)), &Text, Implicit));
        assert!(can_cast(&Text, &Varchar(Some(3)), Implicit));
        assert!(can_cast(&Varchar(Some(3)), &Varchar(Some(5)), Implicit));
        assert!(!can_cast(&Int8, &Bool, Explicit));
        assert!(can_cast(&Int4, &Bool, Explicit));
        assert!(!can_cast(&Int4, &Bool, Assignment));
        assert!(can_cast(&Date, &TimestampTz, Implicit));
        assert!(can_cast(&TimestampTz, &Timestamp, Assignment));
        assert!(!can_cast(&Date, &Int4, Explicit));
        assert!(can_cast(&Json, &Jsonb, Explicit));
        assert!(can_cast(&Json, &Jsonb, Assignment));
        assert!(!can_cast(&Json, &Jsonb, Implicit));
        assert!(can_cast(&Jsonb, &Text, Assignment));
        assert!(can_cast(&Text, &Jsonb, Explicit));
        assert!(can_cast(&Int4, &Oid, Implicit));
        assert!(can_cast(&Oid, &Int8, Assignment));
        assert!(can_cast(&Text, &RegClass, Implicit));
        assert!(can_cast(&Unknown, &Date, Implicit));
        assert!(can_cast(&Array(Box::new(Int4)), &Array(Box::new(Int8)), Implicit));
        assert!(can_cast(&Array(Box::new(Int8)), &Array(Box::new(Int4)), Assignment));
        assert!(!can_cast(&Array(Box::new(Int8)), &Array(Box::new(Int4)), Implicit));
        assert!(can_cast(&Array(Box::new(Int4)), &Text, Assignment));
        assert!(can_cast(&Bytea, &Text, Assignment));
        assert!(can_cast(&Text, &Bytea, Explicit));
        assert!(!can_cast(&Bytea, &Uuid, Explicit));
    }

    #[test]
    fn casts_match_postgres() {
        use DataType::*;
        // Values from PostgreSQL 15 (see module docs for the queries).
        assert_eq!(c(Datum::Bool(true), Bool, Text).expect("ok"), Datum::text("true"));
        assert_eq!(c(Datum::Bool(true), Bool, Varchar(Some(2))).expect("ok"), Datum::text("tr"));
        assert_eq!(c(Datum::text("a    "), Char(Some(5)), Text).expect("ok"), Datum::text("a"));
        assert_eq!(
            c(Datum::text("abc  "), Char(Some(5)), Varchar(Some(2))).expect("ok"),
            Datum::text("ab")
        );
        let e = cast_with_context(
            Datum::text("abc"),
            &Text,
            &Varchar(Some(2)),
            &ctx(),
            CastContext::Assignment,
        )
        .expect_err("too long");
        assert_eq!(e.state.code(), "22001");
        let num = |d: Datum| text_of(&d, &Numeric(None));
        assert_eq!(num(c(Datum::Float8(F64(0.1)), Float8, Numeric(None)).expect("ok")), "0.1");
        assert_eq!(
            num(c(Datum::Float8(F64(1.0 / 3.0)), Float8, Numeric(None)).expect("ok")),
            "0.333333333333333"
        );
        assert_eq!(
            num(c(Datum::Float8(F64(1e20)), Float8, Numeric(None)).expect("ok")),
            "100000000000000000000"
        );
        assert_eq!(
            num(c(Datum::Float8(F64(1.5e-7)), Float8, Numeric(None)).expect("ok")),
            "0.00000015"
        );
        assert_eq!(num(c(Datum::Float4(F32(0.1)), Float4, Numeric(None)).expect("ok")), "0.1");
        assert_eq!(c(Datum::Float8(F64(2.5)), Float8, Int2).expect("ok"), Datum::Int2(2));
        assert_eq!(c(Datum::Float8(F64(3.5)), Float8, Int8).expect("ok"), Datum::Int8(4));
        assert_eq!(c(Datum::Float8(F64(-2.5)), Float8, Int4).expect("ok"), Datum::Int4(-2));
        let d25 = crate::numeric::parse_numeric("2.5").expect("ok");
        assert_eq!(c(Datum::Numeric(d25.clone()), Numeric(None), Int4).expect("ok"), Datum::Int4(3));
        assert_eq!(c(Datum::Numeric(-d25), Numeric(None), Int4).expect("ok"), Datum::Int4(-3));
        let e = c(Datum::Int4(32768), Int4, Int2).expect_err("range");
        assert_eq!((e.state.code(), e.message.as_str()), ("22003", "smallint out of range"));
        assert_eq!(
            c(Datum::Float8(F64(1e10)), Float8, Int4).expect_err("range").message,
            "integer out of range"
        );
        assert_eq!(
            c(Datum::Float8(F64(f64::NAN)), Float8, Int4).expect_err("nan").message,
            "integer out of range"
        );
        let big = crate::numeric::parse_numeric("1e19").expect("ok");
        assert_eq!(
            c(Datum::Numeric(big), Numeric(None), Int8).expect_err("range").message,
            "bigint out of range"
        );
        assert_eq!(
            c(Datum::Float8(F64(1e39)), Float8, Float4).expect_err("ovf").message,
            "value out of range: overflow"
        );
        assert_eq!(
            c(Datum::Float8(F64(1e-50)), Float8, Float4).expect_err("unf").message,
            "value out of range: underflow"
        );
        let e10 = crate::numeric::parse_numeric("1e10").expect("ok");
        assert_eq!(
            text_of(&c(Datum::Numeric(e10), Numeric(None), Float4).expect("ok"), &Float4),
            "1e+10"
        );
        assert_eq!(c(Datum::Int8(-1), Int8, Oid).expect_err("oid").message, "OID out of range");
        assert_eq!(c(Datum::Oid(4294967295), Oid, Int4).expect("ok"), Datum::Int4(-1));
        let j = |s: &str| Datum::Jsonb(json::parse_json_text(s).expect(s));
        assert_eq!(c(j("1"), Jsonb, Int4).expect("ok"), Datum::Int4(1));
        assert_eq!(c(j("1.5"), Jsonb, Int4).expect("ok"), Datum::Int4(2));
        assert_eq!(c(j("true"), Jsonb, Bool).expect("ok"), Datum::Bool(true));
        assert_eq!(
            c(j("\"a\""), Jsonb, Int4).expect_err("kind").message,
            "cannot cast jsonb string to type integer"
        );
        assert_eq!(
            c(j("[1]"), Jsonb, Numeric(None)).expect_err("kind").message,
            "cannot cast jsonb array to type numeric"
        );
        let t = |d: Datum, ty: DataType| text_of(&d, &ty);
        let iv = crate::datetime_io::parse_interval("25 hours").expect("ok");
        assert_eq!(t(c(Datum::Interval(iv), Interval, Time).expect("ok"), Time), "01:00:00");
        let iv = crate::datetime_io::parse_interval("-1 hour").expect("ok");
        assert_eq!(t(c(Datum::Interval(iv), Interval, Time).expect("ok"), Time), "23:00:00");
        assert_eq!(
            c(Datum::Int4(300), Int4, InternalChar).expect_err("range").message,
            "\"char\" out of range"
        );
        assert_eq!(c(Datum::text("abc"), InternalChar, Int4).expect("ok"), Datum::Int4(97));
        let arr = Datum::Array(vec![Datum::Float8(F64(1.5)), Datum::Float8(F64(2.5)), Datum::Null]);
        let r = c(arr, Array(Box::new(Float8)), Array(Box::new(Int4))).expect("ok");
        assert_eq!(r, Datum::Array(vec![Datum::Int4(2), Datum::Int4(2), Datum::Null]));
        assert_eq!(c(Datum::text("12"), Text, Int4).expect("ok"), Datum::Int4(12));
        assert_eq!(c(Datum::text("x"), Text, Int4).expect_err("bad").state.code(), "22P02");
        assert_eq!(c(Datum::Int4(1), Int4, Date).expect_err("no cast").state.code(), "42846");
        assert_eq!(c(Datum::Null, Int4, Date).expect("null"), Datum::Null);
    }

    #[test]
    fn datetime_casts_use_time_zone() {
        use DataType::*;
        let tz = TextContext { time_zone: TimeZone::Fixed(-5 * 3600) };
        let ts = parse_text("2020-06-25 12:00:00", &Timestamp, &tz).expect("ok");
        let tstz = cast(ts, &Timestamp, &TimestampTz, &tz).expect("ok");
        assert_eq!(crate::io::text::to_text(&tstz, &TimestampTz, &ctx()), "2020-06-25 17:00:00+00");
        let d = cast(tstz.clone(), &TimestampTz, &Date, &tz).expect("ok");
        assert_eq!(text_of(&d, &Date), "2020-06-25");
        let tm = cast(tstz.clone(), &TimestampTz, &Time, &tz).expect("ok");
        assert_eq!(text_of(&tm, &Time), "12:00:00");
        assert_eq!(
            cast(tstz, &TimestampTz, &Text, &tz).expect("ok"),
            Datum::text("2020-06-25 12:00:00-05")
        );
        let d = parse_text("2020-06-25", &Date, &tz).expect("ok");
        let t = cast(d, &Date, &TimestampTz, &tz).expect("ok");
        assert_eq!(crate::io::text::to_text(&t, &TimestampTz, &ctx()), "2020-06-25 05:00:00+00");
    }
}

#[cfg(test)]
mod pg_cast_table {
    use super::*;

    /// Every row of PostgreSQL 15's `pg_cast` among Freshet's types
    /// (`select castsource::regtype, casttarget::regtype, castcontext`).
    const PG_CAST: &str = include_str!("../testdata/pg15_pg_cast.tsv");

    fn ty(name: &str) -> DataType {
        match name {
            "bool" => DataType::Bool,
            "int2" => DataType::Int2,
            "int4" => DataType::Int4,
            "int8" => DataType::Int8,
            "float4" => DataType::Float4,
            "float8" => DataType::Float8,
            "numeric" => DataType::Numeric(None),
            "text" => DataType::Text,
            "varchar" => DataType::Varchar(None),
            "bpchar" => DataType::Char(None),
            "char" => DataType::InternalChar,
            "name" => DataType::Name,
            "bytea" => DataType::Bytea,
            "date" => DataType::Date,
            "time" => DataType::Time,
            "timestamp" => DataType::Timestamp,
            "timestamptz" => DataType::TimestampTz,
            "interval" => DataType::Interval,
            "json" => DataType::Json,
            "jsonb" => DataType::Jsonb,
            "uuid" => DataType::Uuid,
            "oid" => DataType::Oid,
            "regclass" => DataType::RegClass,
            "regtype" => DataType::RegType,
            "regproc" => DataType::RegProc,
            other => panic!("unknown type {other}"),
        }
    }

    #[test]
    fn matches_pg_cast() {
        let mut checked = 0;
        let mut bad = Vec::new();
        for line in PG_CAST.lines().filter(|l| !l.is_empty()) {
            let parts: Vec<&str> = line.split('|').collect();
            let (from, to) = (ty(parts[0]), ty(parts[1]));
            let want = match parts[2] {
                "i" => CastContext::Implicit,
                "a" => CastContext::Assignment,
                _ => CastContext::Explicit,
            };
            if cast_context(&from, &to) != Some(want) {
                bad.push(format!(
                    "{from} -> {to}: want {want:?}, got {:?}",
                    cast_context(&from, &to)
                ));
            }
            checked += 1;
        }
        assert!(checked > 50, "too few pg_cast rows: {checked}");
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
