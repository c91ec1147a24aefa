//! Operators and built-in functions, evaluated on datums.
//!
//! Overload resolution happens in the binder (`freshet-sql`), which picks a
//! variant here and coerces arguments; evaluation dispatches on the datums'
//! variants and assumes both operands of an arithmetic or comparison
//! operator already share a type (mixed integer widths are still handled,
//! defensively).

use std::cmp::Ordering;

use freshet_common::numeric::MAX_RESULT_SCALE;
use freshet_common::{Datum, Error, Result, SqlState, F32, F64};

/// The numeric value type; `Datum::Numeric` shadows the plain name inside
/// functions that glob-import `Datum::*`.
type NumericValue = freshet_common::Numeric;

use crate::like;
use crate::scalar::EvalContext;

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    BitNot,
    IsTrue,
    IsNotTrue,
    IsFalse,
    IsNotFalse,
}

/// Infix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    IsDistinctFrom,
    IsNotDistinctFrom,
    Concat,
    BitAnd,
    BitOr,
    BitXor,
    ShiftLeft,
    ShiftRight,
    /// `LIKE` / `ILIKE` (with `NOT`): right operand is the pattern.
    Like { case_insensitive: bool, negated: bool },
    /// `~`, `~*`, `!~`, `!~*`.
    RegexMatch { case_insensitive: bool, negated: bool },
    /// Array `@>` (or, `contained_by`, `<@`): every non-NULL element of
    /// the contained array equals one of the other; NULLs never match.
    ArrayContains { contained_by: bool },
    /// Array `&&`: the arrays share a non-NULL element.
    ArrayOverlap,
    /// jsonb operators.
    Json(crate::jsonb_ops::JsonOp),
}

/// Built-in functions with a fixed, resolved signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    Coalesce,
    NullIf,
    Greatest,
    Least,
    // Strings.
    Length,
    OctetLength,
    Lower,
    Upper,
    Substring,
    Trim { leading: bool, trailing: bool },
    Concat,
    ConcatWs,
    Replace,
    Position,
    Left,
    Right,
    Lpad,
    Rpad,
    Repeat,
    Reverse,
    SplitPart,
    /// `regexp_replace(source, pattern, replacement [, flags])`.
    RegexpReplace,
    /// A LIKE pattern with a custom ESCAPE character (args: pattern,
    /// escape), rewritten into the backslash form at run time.
    LikeEscape,
    /// `similar_to_escape(pattern, escape)`: a SIMILAR TO pattern as a
    /// regular expression (see `like::similar_to_regex`); an empty escape
    /// means none.
    SimilarToEscape,
    StartsWith,
    Md5,
    /// `digest(data, algorithm)` (pgcrypto's; also `sha224(bytea)` ...
    /// `sha512(bytea)`): the hash of text or bytea as bytea.
    Digest,
    /// `encode(bytea, format)` -> text.
    Encode,
    /// `decode(text, format)` -> bytea.
    Decode,
    /// `gen_random_uuid()`: a version 4 UUID.
    GenRandomUuid,
    Initcap,
    /// `translate(string, from, to)`.
    Translate,
    /// `string_to_array(string, delimiter [, null_string])`.
    StringToArray,
    /// `regexp_split_to_array(string, pattern [, flags])`.
    RegexpSplitToArray,
    /// `format(formatstr, args...)` over text arguments (see `text_format`).
    Format,
    /// `quote_literal(text)`.
    QuoteLiteral,
    /// `quote_nullable(text)`: like quote_literal, NULL as `NULL`.
    QuoteNullable,
    Ascii,
    Chr,
    ToHex,
    // Math.
    Abs,
    Round,
    Ceil,
    Floor,
    Trunc,
    Sqrt,
    Cbrt,
    Power,
    Exp,
    Ln,
    Log10,
    Log,
    Sign,
    Pi,
    Random,
    /// Raises 21000 "more than one row returned by a subquery used as an
    /// expression": planted by decorrelation where a scalar subquery found
    /// several rows.
    SubqueryTooManyRows,
    Mod,
    Degrees,
    Radians,
    Sin,
    Cos,
    Tan,
    Atan,
    Asin,
    Acos,
    Cot,
    Atan2,
    Div,
    // Arrays.
    ArrayConstruct,
    ArrayLength,
    Cardinality,
    ArrayPosition,
    ArrayAppend,
    /// `array_prepend(elem, array)`.
    ArrayPrepend,
    /// `array_remove(array, elem)`: every element equal to `elem` (NULL
    /// removes NULLs) left out.
    ArrayRemove,
    /// `array_replace(array, from, to)`.
    ArrayReplace,
    ArrayCat,
    ArrayIndex,
    /// `x op ANY (array)` / `x op ALL (array)`.
    ArrayCompare { op: BinaryOp, all: bool },
    /// `nextval(seq)`, `currval(seq)`, `setval(seq, v [, is_called])`; the
    /// first argument is the sequence's OID.
    NextVal,
    CurrVal,
    SetVal,
    /// `set_config(name, value, is_local)`.
    SetConfig,
    /// `current_setting(name [, missing_ok])` with a name known only at run
    /// time (a constant name is resolved while binding).
    CurrentSetting,
    /// Evaluated by the binder-provided closure-free datetime library.
    DateTime(crate::func::DateTimeFunc),
    /// Data-type formatting functions (`to_char`, `to_date`,
    /// `to_timestamp(text, text)`, `to_number`).
    Formatting(crate::formatting::FormattingFunc),
    /// jsonb functions; the argument types decide how values convert.
    Json(crate::jsonb_ops::JsonFunc, Vec<freshet_common::DataType>),
    /// A value's text output (the type's output function), as `concat()`
    /// and `||` use it.
    OutputText(freshet_common::DataType),
    /// System-information and catalog functions (format_type, ...).
    Catalog(crate::catalog_func::CatalogFunc),
    /// A constant computed at plan time but kept for display (e.g. `version()`).
    Constant(String),
    /// `enum_first`, `enum_last` and `enum_range` of this enum type.
    Enum(freshet_common::EnumType, EnumFunc),
    /// width_bucket, array shape and interval justification functions.
    Misc(crate::misc_func::MiscFunc),
}

/// The enum support functions. They look at their arguments' type, not
/// their values (`enum_first(NULL::mood)` is the first label), except
/// `enum_range(a, b)`, whose NULL bounds mean "from the first" / "to the
/// last".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnumFunc {
    /// `enum_first(x)`: the first value (55000 for a type without labels).
    First,
    /// `enum_last(x)`: the last value.
    Last,
    /// `enum_range(x)`: every value in order.
    All,
    /// `enum_range(lower, upper)`.
    Range,
}

/// Date/time functions; implemented with `freshet_common::datetime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateTimeFunc {
    Now,
    Extract,
    DatePart,
    DateTrunc,
    Age,
    CurrentDate,
    MakeDate,
    /// `make_interval(years, months, weeks, days, hours, mins, secs)`.
    MakeInterval,
    /// `make_time(hour, min, sec)`.
    MakeTime,
    /// `make_timestamp(year, month, mday, hour, min, sec)`.
    MakeTimestamp,
    /// `make_timestamptz(year, month, mday, hour, min, sec [, timezone])`.
    MakeTimestampTz,
    ToTimestamp,
    /// `date_bin(stride, source, origin)`: the start of the stride-wide bin
    /// (counted from origin) that holds source.
    DateBin,
    /// `TUMBLE`'s window start: the timestamp floored to a multiple of a
    /// fixed interval since the epoch.
    WindowStart,
    /// `ts AT TIME ZONE zone` / `timezone(zone, ts)`: args are the zone
    /// (text or interval) and a timestamp or timestamptz; converts between
    /// the two as seen in that zone.
    AtTimeZone,
}

const INT2: &str = "smallint";
const INT4: &str = "integer";
const INT8: &str = "bigint";

/// SQL equality of two non-NULL datums of compatible types.
pub fn datum_eq(a: &Datum, b: &Datum) -> bool {
    compare(a, b) == Some(Ordering::Equal)
}

/// Orders two non-NULL datums; widens mixed numeric variants. `None` when
/// the variants are not comparable.
pub fn compare(a: &Datum, b: &Datum) -> Option<Ordering> {
    use Datum::*;
    if std::mem::discriminant(a) == std::mem::discriminant(b) {
        return Some(match (a, b) {
            // char(n) values compare without their trailing blanks.
            (Text(x), Text(y)) => x.as_bytes().cmp(y.as_bytes()),
            _ => a.cmp(b),
        });
    }
    match (a, b) {
        (Int2(_) | Int4(_) | Int8(_), Int2(_) | Int4(_) | Int8(_)) => {
            Some(a.as_i64()?.cmp(&b.as_i64()?))
        }
        (Numeric(x), _) if b.as_i64().is_some() => Some(x.cmp(&NumericValue::from(b.as_i64()?))),
        (_, Numeric(y)) if a.as_i64().is_some() => Some(NumericValue::from(a.as_i64()?).cmp(y)),
        (Float4(_) | Float8(_) | Numeric(_) | Int2(_) | Int4(_) | Int8(_), Float4(_) | Float8(_) | Numeric(_) | Int2(_) | Int4(_) | Int8(_)) => {
            Some(F64(a.as_f64()?).cmp(&F64(b.as_f64()?)))
        }
        (Oid(x), Int4(_) | Int8(_)) => Some((*x as i64).cmp(&b.as_i64()?)),
        (Int4(_) | Int8(_), Oid(y)) => Some(a.as_i64()?.cmp(&(*y as i64))),
        _ => None,
    }
}

/// Evaluates a prefix operator.
pub fn eval_unary(op: UnaryOp, v: Datum) -> Result<Datum> {
    use Datum::*;
    Ok(match op {
        UnaryOp::IsTrue => Bool(v == Bool(true)),
        UnaryOp::IsNotTrue => Bool(v != Bool(true)),
        UnaryOp::IsFalse => Bool(v == Bool(false)),
        UnaryOp::IsNotFalse => Bool(v != Bool(false)),
        _ if v.is_null() => Null,
        UnaryOp::Neg => match v {
            Int2(x) => Int2(x.checked_neg().ok_or_else(|| Error::out_of_range(INT2))?),
            Int4(x) => Int4(x.checked_neg().ok_or_else(|| Error::out_of_range(INT4))?),
            Int8(x) => Int8(x.checked_neg().ok_or_else(|| Error::out_of_range(INT8))?),
            Float4(x) => Float4(F32(-x.0)),
            Float8(x) => Float8(F64(-x.0)),
            Numeric(x) => Numeric(-x),
            Interval(mut iv) => {
                iv.months = iv.months.checked_neg().ok_or_else(interval_overflow)?;
                iv.days = iv.days.checked_neg().ok_or_else(interval_overflow)?;
                iv.micros = iv.micros.checked_neg().ok_or_else(interval_overflow)?;
                Interval(iv)
            }
            other => return Err(no_operator("-", &other, None)),
        },
        UnaryOp::BitNot => match v {
            Int2(x) => Int2(!x),
            Int4(x) => Int4(!x),
            Int8(x) => Int8(!x),
            other => return Err(no_operator("~", &other, None)),
        },
    })
}

fn interval_overflow() -> Error {
    Error::new(SqlState::DatetimeFieldOverflow, "interval out of range")
}

fn no_operator(op: &str, l: &Datum, r: Option<&Datum>) -> Error {
    match r {
        Some(r) => Error::new(
            SqlState::UndefinedFunction,
            format!("operator does not exist: {} {op} {}", variant_name(l), variant_name(r)),
        ),
        None => Error::new(
            SqlState::UndefinedFunction,
            format!("operator does not exist: {op} {}", variant_name(l)),
        ),
    }
}

/// A type name for a datum's variant, for error messages.
pub fn variant_name(d: &Datum) -> &'static str {
    match d {
        Datum::Null => "unknown",
        Datum::Bool(_) => "boolean",
        Datum::Int2(_) => "smallint",
        Datum::Int4(_) => "integer",
        Datum::Int8(_) => "bigint",
        Datum::Float4(_) => "real",
        Datum::Float8(_) => "double precision",
        Datum::Numeric(_) => "numeric",
        Datum::Text(_) => "text",
        Datum::Bytea(_) => "bytea",
        Datum::Date(_) => "date",
        Datum::Time(_) => "time without time zone",
        Datum::Timestamp(_) => "timestamp without time zone",
        Datum::TimestampTz(_) => "timestamp with time zone",
        Datum::Interval(_) => "interval",
        Datum::Json(_) => "json",
        Datum::Jsonb(_) => "jsonb",
        Datum::Uuid(_) => "uuid",
        Datum::Oid(_) => "oid",
        Datum::Array(_) => "anyarray",
        Datum::Enum(_) => "anyenum",
    }
}

fn float_check(v: f64, inputs_finite: bool) -> Result<f64> {
    if v.is_infinite() && inputs_finite {
        return Err(Error::new(SqlState::NumericValueOutOfRange, "value out of range: overflow"));
    }
    Ok(v)
}

macro_rules! int_arith {
    ($op:expr, $x:expr, $y:expr, $variant:ident, $name:expr) => {{
        let (x, y) = ($x, $y);
        let overflow = || Error::out_of_range($name);
        Datum::$variant(match $op {
            BinaryOp::Add => x.checked_add(y).ok_or_else(overflow)?,
            BinaryOp::Sub => x.checked_sub(y).ok_or_else(overflow)?,
            BinaryOp::Mul => x.checked_mul(y).ok_or_else(overflow)?,
            BinaryOp::Div => {
                if y == 0 {
                    return Err(Error::division_by_zero());
                }
                x.checked_div(y).ok_or_else(overflow)?
            }
            BinaryOp::Mod => {
                if y == 0 {
                    return Err(Error::division_by_zero());
                }
                x.checked_rem(y).unwrap_or(0)
            }
            BinaryOp::BitAnd => x & y,
            BinaryOp::BitOr => x | y,
            BinaryOp::BitXor => x ^ y,
            BinaryOp::ShiftLeft => x.wrapping_shl(y as u32),
            BinaryOp::ShiftRight => x.wrapping_shr(y as u32),
            _ => unreachable!("arithmetic operator"),
        })
    }};
}

/// Evaluates an infix operator.
pub fn eval_binary(op: BinaryOp, l: Datum, r: Datum, ctx: &EvalContext<'_>) -> Result<Datum> {
    use Datum::*;
    if let BinaryOp::Json(j) = op {
        return crate::jsonb_ops::eval(j, l, r);
    }
    match op {
        BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => {
            let same = match (&l, &r) {
                (Null, Null) => true,
                (Null, _) | (_, Null) => false,
                _ => datum_eq(&l, &r),
            };
            return Ok(Bool(same == (op == BinaryOp::IsNotDistinctFrom)));
        }
        _ => {}
    }
    if l.is_null() || r.is_null() {
        return Ok(Null);
    }
    match op {
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
            let ord = compare(&l, &r).ok_or_else(|| {
                no_operator(comparison_symbol(op), &l, Some(&r))
            })?;
            Ok(Bool(match op {
                BinaryOp::Eq => ord == Ordering::Equal,
                BinaryOp::NotEq => ord != Ordering::Equal,
                BinaryOp::Lt => ord == Ordering::Less,
                BinaryOp::LtEq => ord != Ordering::Greater,
                BinaryOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        BinaryOp::Concat => match (l, r) {
            (Text(mut a), Text(b)) => {
                a.push_str(&b);
                Ok(Text(a))
            }
            (Bytea(mut a), Bytea(b)) => {
                a.extend_from_slice(&b);
                Ok(Bytea(a))
            }
            (Array(mut a), Array(b)) => {
                a.extend(b);
                Ok(Array(a))
            }
            (Array(mut a), b) => {
                a.push(b);
                Ok(Array(a))
            }
            (a, Array(mut b)) => {
                b.insert(0, a);
                Ok(Array(b))
            }
            (a, b) => Err(no_operator("||", &a, Some(&b))),
        },
        BinaryOp::Like { case_insensitive, negated } => {
            let (Text(s), Text(p)) = (&l, &r) else {
                return Err(no_operator("~~", &l, Some(&r)));
            };
            let m = like::like_match(s, p, Some('\\'), case_insensitive)?;
            Ok(Bool(m != negated))
        }
        BinaryOp::ArrayContains { contained_by } => {
            let (Array(a), Array(b)) = (&l, &r) else { return Ok(Null) };
            let (outer, inner) = if contained_by { (b, a) } else { (a, b) };
            let found = |x: &Datum| !x.is_null() && outer.iter().any(|y| !y.is_null() && compare(x, y) == Some(Ordering::Equal));
            Ok(Bool(inner.iter().all(found)))
        }
        BinaryOp::ArrayOverlap => {
            let (Array(a), Array(b)) = (&l, &r) else { return Ok(Null) };
            Ok(Bool(a.iter().any(|x| !x.is_null() && b.iter().any(|y| !y.is_null() && compare(x, y) == Some(Ordering::Equal)))))
        }
        BinaryOp::RegexMatch { case_insensitive, negated } => {
            let (Text(s), Text(p)) = (&l, &r) else {
                return Err(no_operator("~", &l, Some(&r)));
            };
            let m = like::regex_match(s, p, case_insensitive)?;
            Ok(Bool(m != negated))
        }
        _ => arith(op, l, r, ctx),
    }
}

fn comparison_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Eq => "=",
        BinaryOp::NotEq => "<>",
        BinaryOp::Lt => "<",
        BinaryOp::LtEq => "<=",
        BinaryOp::Gt => ">",
        _ => ">=",
    }
}

fn arith_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Pow => "^",
        BinaryOp::BitAnd => "&",
        BinaryOp::BitOr => "|",
        BinaryOp::BitXor => "#",
        BinaryOp::ShiftLeft => "<<",
        BinaryOp::ShiftRight => ">>",
        _ => "?",
    }
}

fn arith(op: BinaryOp, l: Datum, r: Datum, ctx: &EvalContext<'_>) -> Result<Datum> {
    use Datum::*;
    let bitwise = matches!(
        op,
        BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor | BinaryOp::ShiftLeft | BinaryOp::ShiftRight
    );
    match (l, r) {
        (Int2(x), Int2(y)) if op != BinaryOp::Pow => Ok(int_arith!(op, x, y, Int2, INT2)),
        (Int4(x), Int4(y)) if op != BinaryOp::Pow => Ok(int_arith!(op, x, y, Int4, INT4)),
        (Int8(x), Int8(y)) if op != BinaryOp::Pow => Ok(int_arith!(op, x, y, Int8, INT8)),
        (Int4(x), Int2(y)) if !bitwise && op != BinaryOp::Pow => Ok(int_arith!(op, x, y as i32, Int4, INT4)),
        // Shifts take an integer count whatever the width of the value.
        (Int8(x), Int4(y)) if matches!(op, BinaryOp::ShiftLeft | BinaryOp::ShiftRight) => Ok(int_arith!(op, x, y as i64, Int8, INT8)),
        (Int2(x), Int4(y)) if matches!(op, BinaryOp::ShiftLeft | BinaryOp::ShiftRight) => Ok(int_arith!(op, x, y as i16, Int2, INT2)),
        (Int2(x), Int4(y)) if !bitwise && op != BinaryOp::Pow => Ok(int_arith!(op, x as i32, y, Int4, INT4)),
        (a @ (Int2(_) | Int4(_) | Int8(_)), b @ (Int2(_) | Int4(_) | Int8(_))) if op != BinaryOp::Pow && !bitwise => {
            let (x, y) = (a.as_i64().unwrap_or(0), b.as_i64().unwrap_or(0));
            Ok(int_arith!(op, x, y, Int8, INT8))
        }
        (Float8(x), Float8(y)) => Ok(Float8(F64(float_op(op, x.0, y.0)?))),
        (Float4(x), Float4(y)) => {
            let v = float_op(op, x.0 as f64, y.0 as f64)? as f32;
            if v.is_infinite() && x.0.is_finite() && y.0.is_finite() {
                return Err(Error::new(SqlState::NumericValueOutOfRange, "value out of range: overflow"));
            }
            if float_underflowed(op, x.0 as f64, y.0 as f64, v as f64) {
                return Err(float_underflow());
            }
            Ok(Float4(F32(v)))
        }
        (Numeric(x), Numeric(y)) => Ok(Numeric(numeric_op(op, x, y)?)),
        (l @ (Date(_) | Time(_) | Timestamp(_) | TimestampTz(_) | Interval(_)), r)
        | (l, r @ (Date(_) | Time(_) | Timestamp(_) | TimestampTz(_) | Interval(_))) => {
            crate::datetime_ops::arith(op, l, r, ctx)
        }
        (l, r) => Err(no_operator(arith_symbol(op), &l, Some(&r))),
    }
}

/// Whether `op` on nonzero finite inputs produced a zero that is an
/// underflow, as PostgreSQL's `float8_mul`/`float8_div` check it.
fn float_underflowed(op: BinaryOp, x: f64, y: f64, result: f64) -> bool {
    result == 0.0
        && match op {
            BinaryOp::Mul => x != 0.0 && y != 0.0,
            BinaryOp::Div => x != 0.0 && !y.is_infinite(),
            _ => false,
        }
}

fn float_underflow() -> Error {
    Error::new(SqlState::NumericValueOutOfRange, "value out of range: underflow")
}

fn float_op(op: BinaryOp, x: f64, y: f64) -> Result<f64> {
    let finite = x.is_finite() && y.is_finite();
    let v = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => {
            if y == 0.0 {
                return Err(Error::division_by_zero());
            }
            x / y
        }
        BinaryOp::Mod => {
            if y == 0.0 {
                return Err(Error::division_by_zero());
            }
            x % y
        }
        BinaryOp::Pow => {
            if x == 0.0 && y < 0.0 {
                return Err(Error::new(
                    SqlState::InvalidArgumentForPowerFunction,
                    "zero raised to a negative power is undefined",
                ));
            }
            if x < 0.0 && y.fract() != 0.0 {
                return Err(Error::new(
                    SqlState::InvalidArgumentForPowerFunction,
                    "a negative number raised to a non-integer power yields a complex result",
                ));
            }
            x.powf(y)
        }
        _ => return Err(Error::new(SqlState::UndefinedFunction, format!("operator does not exist: double precision {} double precision", arith_symbol(op)))),
    };
    if float_underflowed(op, x, y, v) {
        return Err(float_underflow());
    }
    float_check(v, finite)
}

/// `numeric` arithmetic with PostgreSQL's result scales: exact `+ - *`,
/// `/` at `select_div_scale`, `%` with the larger scale, `^` as
/// `numeric_power`.
fn numeric_op(op: BinaryOp, x: NumericValue, y: NumericValue) -> Result<NumericValue> {
    match op {
        BinaryOp::Add => x.checked_add(&y),
        BinaryOp::Sub => x.checked_sub(&y),
        BinaryOp::Mul => x.checked_mul(&y),
        BinaryOp::Div => x.checked_div(&y),
        BinaryOp::Mod => x.checked_rem(&y),
        BinaryOp::Pow => x.pow(&y),
        _ => Err(Error::new(
            SqlState::UndefinedFunction,
            format!("operator does not exist: numeric {} numeric", arith_symbol(op)),
        )),
    }
}

/// A numeric argument of a numeric-only function (`log(b, x)`), widening
/// integers exactly and floats as the float-to-numeric cast does.
fn numeric_arg(v: &Datum) -> Result<NumericValue> {
    match v {
        Datum::Numeric(x) => Ok(x.clone()),
        Datum::Float4(f) => freshet_common::cast::float_to_numeric(f.0 as f64, 6),
        Datum::Float8(f) => freshet_common::cast::float_to_numeric(f.0, 15),
        other => other.as_i64().map(NumericValue::from).ok_or_else(|| {
            Error::internal(format!("expected a numeric argument, got {}", variant_name(other)))
        }),
    }
}

fn text_arg(v: &Datum) -> &str {
    v.as_str().unwrap_or("")
}

fn int_arg(v: &Datum) -> Result<i64> {
    v.as_i64().ok_or_else(|| Error::internal(format!("expected an integer argument, got {}", variant_name(v))))
}

/// Evaluates a built-in function. Strict functions (most) return NULL when
/// any argument is NULL; the exceptions handle NULLs themselves.
pub fn eval_call(func: &Func, args: Vec<Datum>, ctx: &EvalContext<'_>) -> Result<Datum> {
    use Datum::*;
    match func {
        Func::Coalesce => return Ok(args.into_iter().find(|a| !a.is_null()).unwrap_or(Null)),
        Func::NullIf => {
            let mut it = args.into_iter();
            let a = it.next().unwrap_or(Null);
            let b = it.next().unwrap_or(Null);
            if !a.is_null() && !b.is_null() && datum_eq(&a, &b) {
                return Ok(Null);
            }
            return Ok(a);
        }
        Func::Greatest | Func::Least => {
            let want = if *func == Func::Greatest { Ordering::Greater } else { Ordering::Less };
            let mut best: Option<Datum> = None;
            for a in args.into_iter().filter(|a| !a.is_null()) {
                best = match best {
                    Some(b) if compare(&a, &b) != Some(want) => Some(b),
                    _ => Some(a),
                };
            }
            return Ok(best.unwrap_or(Null));
        }
        Func::Concat => {
            let mut out = String::new();
            for a in &args {
                if let Text(s) = a {
                    out.push_str(s);
                }
            }
            return Ok(Text(out));
        }
        Func::ConcatWs => {
            let mut it = args.iter();
            let Some(Text(sep)) = it.next() else { return Ok(Null) };
            let parts: Vec<&str> = it.filter_map(|a| a.as_str()).collect();
            return Ok(Text(parts.join(sep)));
        }
        Func::ArrayConstruct => return Ok(Array(args)),
        Func::ArrayCompare { op, all } => {
            let mut it = args.into_iter();
            let left = it.next().unwrap_or(Null);
            let Some(Array(items)) = it.next() else { return Ok(Null) };
            let mut saw_null = false;
            for item in items {
                match eval_binary(*op, left.clone(), item, ctx)? {
                    Bool(b) if b != *all => return Ok(Bool(b)),
                    Null => saw_null = true,
                    _ => {}
                }
            }
            return Ok(if saw_null { Null } else { Bool(*all) });
        }
        Func::Random => return Ok(Float8(F64(pseudo_random()))),
        Func::GenRandomUuid => return Ok(Datum::Uuid(uuid::Uuid::new_v4())),
        Func::SubqueryTooManyRows => {
            return Err(Error::new(
                SqlState::CardinalityViolation,
                "more than one row returned by a subquery used as an expression",
            ))
        }
        Func::Pi => return Ok(Float8(F64(std::f64::consts::PI))),
        Func::Format => return crate::text_format::format(&args),
        Func::QuoteNullable => {
            return Ok(match args.first() {
                Some(Text(s)) => Text(crate::text_format::quote_literal(s)),
                _ => Text("NULL".into()),
            })
        }
        Func::Constant(s) => return Ok(Text(s.clone())),
        Func::Enum(ty, f) => return eval_enum(ty, *f, &args),
        Func::Json(f, types) => return crate::jsonb_ops::call(*f, args, types, ctx.text),
        Func::Misc(f) => return crate::misc_func::call(*f, &args),
        Func::OutputText(ty) => {
            let v = args.into_iter().next().unwrap_or(Null);
            if v.is_null() {
                return Ok(Null);
            }
            let mut out = String::new();
            freshet_common::io::format_text(&v, ty, ctx.text, &mut out);
            return Ok(Text(out));
        }
        Func::CurrentSetting => {
            let session = ctx.sequences.ok_or_else(|| Error::unsupported("current_setting() in this context"))?;
            let Some(Text(name)) = args.first() else { return Ok(Null) };
            let missing_ok = args.get(1).and_then(|b| b.as_bool()).unwrap_or(false);
            return Ok(match session.current_setting(name)? {
                Some(v) => Text(v),
                None if missing_ok => Null,
                None => {
                    return Err(Error::new(
                        SqlState::UndefinedObject,
                        format!("unrecognized configuration parameter \"{name}\""),
                    ))
                }
            });
        }
        Func::SetConfig => {
            let seqs = ctx.sequences.ok_or_else(|| Error::unsupported("set_config() in this context"))?;
            let (Some(Text(name)), Some(value)) = (args.first(), args.get(1)) else { return Ok(Null) };
            let value = value.as_str().unwrap_or("");
            let local = args.get(2).and_then(|b| b.as_bool()).unwrap_or(false);
            return Ok(Text(seqs.set_config(name, value, local)?));
        }
        Func::NextVal | Func::CurrVal | Func::SetVal => {
            let seqs = ctx.sequences.ok_or_else(|| Error::unsupported("sequence functions in this context"))?;
            let Some(Oid(oid)) = args.first().cloned() else { return Ok(Null) };
            return Ok(Int8(match func {
                Func::NextVal => seqs.nextval(oid)?,
                Func::CurrVal => seqs.currval(oid)?,
                _ => {
                    let Some(v) = args.get(1).and_then(|v| v.as_i64()) else { return Ok(Null) };
                    let called = args.get(2).and_then(|b| b.as_bool()).unwrap_or(true);
                    seqs.setval(oid, v, called)?
                }
            }));
        }
        Func::DateTime(f) => return crate::datetime_ops::call(*f, args, ctx),
        Func::Formatting(f) => return crate::formatting::call(*f, args, ctx),
        Func::Catalog(f) => return crate::catalog_func::call(f, args, ctx),
        Func::StringToArray => {
            let Some(Text(source)) = args.first() else { return Ok(Null) };
            let delimiter = args.get(1).and_then(|d| d.as_str());
            let null_string = args.get(2).and_then(|d| d.as_str());
            return Ok(Array(
                crate::like::string_split(source, delimiter, null_string).into_iter().map(|p| p.map_or(Null, Text)).collect(),
            ));
        }
        Func::ArrayPrepend => {
            let mut it = args.into_iter();
            let elem = it.next().unwrap_or(Null);
            return Ok(match it.next().unwrap_or(Null) {
                Array(mut items) => {
                    items.insert(0, elem);
                    Array(items)
                }
                _ => Array(vec![elem]),
            });
        }
        Func::ArrayRemove | Func::ArrayReplace => {
            let mut it = args.into_iter();
            let Array(items) = it.next().unwrap_or(Null) else { return Ok(Null) };
            if items.iter().any(|i| matches!(i, Array(_))) {
                return Err(Error::new(SqlState::FeatureNotSupported, "removing elements from multidimensional arrays is not supported"));
            }
            let from = it.next().unwrap_or(Null);
            // IS NOT DISTINCT FROM: NULL matches NULL.
            let same = |item: &Datum| match (item, &from) {
                (Null, Null) => true,
                (Null, _) | (_, Null) => false,
                (a, b) => compare(a, b) == Some(Ordering::Equal),
            };
            return Ok(Array(if *func == Func::ArrayRemove {
                items.into_iter().filter(|i| !same(i)).collect()
            } else {
                let to = it.next().unwrap_or(Null);
                items.into_iter().map(|i| if same(&i) { to.clone() } else { i }).collect()
            }));
        }
        Func::ArrayAppend | Func::ArrayCat => {
            let mut it = args.into_iter();
            let a = it.next().unwrap_or(Null);
            let b = it.next().unwrap_or(Null);
            return Ok(match (a, b) {
                (Array(mut x), Array(y)) if *func == Func::ArrayCat => {
                    x.extend(y);
                    Array(x)
                }
                (Array(mut x), y) => {
                    x.push(y);
                    Array(x)
                }
                (Null, Array(y)) if *func == Func::ArrayCat => Array(y),
                (Null, y) if *func == Func::ArrayAppend => Array(vec![y]),
                (x, _) => x,
            });
        }
        _ => {}
    }
    if args.iter().any(|a| a.is_null()) {
        return Ok(Null);
    }
    let a0 = args.first().cloned().unwrap_or(Null);
    Ok(match func {
        Func::Length => match &a0 {
            Text(s) => Int4(s.chars().count() as i32),
            Bytea(b) => Int4(b.len() as i32),
            _ => Null,
        },
        Func::OctetLength => match &a0 {
            Text(s) => Int4(s.len() as i32),
            Bytea(b) => Int4(b.len() as i32),
            _ => Null,
        },
        Func::Lower => Text(text_arg(&a0).to_lowercase()),
        Func::Upper => Text(text_arg(&a0).to_uppercase()),
        Func::QuoteLiteral => Text(crate::text_format::quote_literal(text_arg(&a0))),
        Func::RegexpSplitToArray => {
            let flags = args.get(2).map(text_arg).unwrap_or("");
            Array(crate::like::regexp_split(text_arg(&a0), text_arg(&args[1]), flags)?.into_iter().map(Text).collect())
        }
        Func::Translate => {
            let from: Vec<char> = text_arg(&args[1]).chars().collect();
            let to: Vec<char> = text_arg(&args[2]).chars().collect();
            Text(
                text_arg(&a0)
                    .chars()
                    .filter_map(|c| match from.iter().position(|f| *f == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect(),
            )
        }
        Func::Initcap => {
            let mut out = String::new();
            let mut start = true;
            for c in text_arg(&a0).chars() {
                if c.is_alphanumeric() {
                    if start {
                        out.extend(c.to_uppercase());
                    } else {
                        out.extend(c.to_lowercase());
                    }
                    start = false;
                } else {
                    out.push(c);
                    start = true;
                }
            }
            Text(out)
        }
        Func::Substring => {
            let s: Vec<char> = text_arg(&a0).chars().collect();
            let start = int_arg(&args[1])?;
            let len = match args.get(2) {
                Some(v) => {
                    let l = int_arg(v)?;
                    if l < 0 {
                        return Err(Error::new(SqlState::InvalidParameterValue, "negative substring length not allowed"));
                    }
                    Some(l)
                }
                None => None,
            };
            let begin = start.max(1);
            let end = match len {
                Some(l) => (start.saturating_add(l)).max(begin),
                None => i64::MAX,
            };
            let from = (begin - 1).min(s.len() as i64) as usize;
            let to = (end - 1).clamp(from as i64, s.len() as i64) as usize;
            Text(s[from..to].iter().collect())
        }
        Func::Trim { leading, trailing } => {
            let s = text_arg(&a0);
            let chars: Vec<char> = match args.get(1) {
                Some(v) => text_arg(v).chars().collect(),
                None => vec![' '],
            };
            let mut t = s;
            if *leading {
                t = t.trim_start_matches(|c| chars.contains(&c));
            }
            if *trailing {
                t = t.trim_end_matches(|c| chars.contains(&c));
            }
            Text(t.to_string())
        }
        Func::Replace => {
            let from = text_arg(&args[1]);
            if from.is_empty() {
                a0
            } else {
                Text(text_arg(&a0).replace(from, text_arg(&args[2])))
            }
        }
        Func::Position => {
            let hay = text_arg(&a0);
            let needle = text_arg(&args[1]);
            Int4(match hay.find(needle) {
                Some(byte) => hay[..byte].chars().count() as i32 + 1,
                None => 0,
            })
        }
        Func::Left | Func::Right => {
            let s: Vec<char> = text_arg(&a0).chars().collect();
            let n = int_arg(&args[1])?;
            let len = s.len() as i64;
            let take = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
            Text(if *func == Func::Left {
                s[..take].iter().collect()
            } else {
                s[s.len() - take..].iter().collect()
            })
        }
        Func::Lpad | Func::Rpad => {
            let s: Vec<char> = text_arg(&a0).chars().collect();
            let n = int_arg(&args[1])?.max(0) as usize;
            let fill: Vec<char> = match args.get(2) {
                Some(v) => text_arg(v).chars().collect(),
                None => vec![' '],
            };
            if s.len() >= n || fill.is_empty() {
                Text(s[..n.min(s.len())].iter().collect())
            } else {
                let pad: String = fill.iter().cycle().take(n - s.len()).collect();
                let body: String = s.iter().collect();
                Text(if *func == Func::Lpad { pad + &body } else { body + &pad })
            }
        }
        Func::Repeat => {
            let n = int_arg(&args[1])?.max(0) as usize;
            let s = text_arg(&a0);
            if s.len().saturating_mul(n) > 1 << 30 {
                return Err(Error::new(SqlState::ProgramLimitExceeded, "requested length too large"));
            }
            Text(s.repeat(n))
        }
        Func::Reverse => Text(text_arg(&a0).chars().rev().collect()),
        Func::SplitPart => {
            let s = text_arg(&a0);
            let delim = text_arg(&args[1]);
            let n = int_arg(&args[2])?;
            if n == 0 {
                return Err(Error::new(SqlState::InvalidParameterValue, "field position must not be zero"));
            }
            let parts: Vec<&str> = if delim.is_empty() { vec![s] } else { s.split(delim).collect() };
            let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
            Text(parts.get(idx.max(-1) as usize).filter(|_| idx >= 0).map(|p| p.to_string()).unwrap_or_default())
        }
        Func::LikeEscape => {
            let esc = text_arg(&args[1]).chars().next();
            Text(crate::like::rewrite_escape(text_arg(&a0), esc))
        }
        Func::SimilarToEscape => {
            let esc = text_arg(&args[1]);
            if esc.chars().count() > 1 {
                return Err(Error::new(SqlState::InvalidEscapeSequence, "invalid escape string")
                    .with_hint("Escape string must be empty or one character."));
            }
            Text(crate::like::similar_to_regex(text_arg(&a0), esc.chars().next()))
        }
        Func::RegexpReplace => {
            let flags = args.get(3).map(text_arg).unwrap_or("");
            Text(crate::like::regexp_replace(text_arg(&a0), text_arg(&args[1]), text_arg(&args[2]), flags)?)
        }
        Func::StartsWith => Bool(text_arg(&a0).starts_with(text_arg(&args[1]))),
        Func::Md5 => Text(md5_hex(match &a0 {
            Bytea(b) => b.as_slice(),
            other => text_arg(other).as_bytes(),
        })),
        Func::Digest => {
            let data = match &a0 {
                Bytea(b) => b.as_slice(),
                other => text_arg(other).as_bytes(),
            };
            Bytea(digest(data, text_arg(&args[1]))?)
        }
        Func::Encode => match &a0 {
            Bytea(b) => Text(crate::encoding::encode(b, text_arg(&args[1]))?),
            other => return Err(Error::internal(format!("encode() of {other:?}"))),
        },
        Func::Decode => Bytea(crate::encoding::decode(text_arg(&a0), text_arg(&args[1]))?),
        Func::Ascii => Int4(text_arg(&a0).chars().next().map(|c| c as i32).unwrap_or(0)),
        Func::Chr => {
            let code = int_arg(&a0)?;
            match u32::try_from(code).ok().and_then(char::from_u32) {
                Some(c) if code != 0 => Text(c.to_string()),
                _ => return Err(Error::new(SqlState::ProgramLimitExceeded, "requested character too large for encoding")),
            }
        }
        Func::ToHex => Text(match a0 {
            Int4(x) => format!("{:x}", x as u32),
            Int8(x) => format!("{:x}", x as u64),
            other => format!("{:x}", other.as_i64().unwrap_or(0)),
        }),
        Func::Abs => match a0 {
            Int2(x) => Int2(x.checked_abs().ok_or_else(|| Error::out_of_range(INT2))?),
            Int4(x) => Int4(x.checked_abs().ok_or_else(|| Error::out_of_range(INT4))?),
            Int8(x) => Int8(x.checked_abs().ok_or_else(|| Error::out_of_range(INT8))?),
            Float4(x) => Float4(F32(x.0.abs())),
            Float8(x) => Float8(F64(x.0.abs())),
            Numeric(x) => Numeric(x.abs()),
            other => other,
        },
        Func::Round | Func::Trunc => {
            let digits = match args.get(1) {
                Some(v) => int_arg(v)?,
                None => 0,
            };
            match a0 {
                Float8(x) => {
                    if *func == Func::Round {
                        // PostgreSQL's float round() uses rint(): half to even.
                        Float8(F64(x.0.round_ties_even()))
                    } else {
                        Float8(F64(x.0.trunc()))
                    }
                }
                Numeric(x) => {
                    // PostgreSQL clamps the scale to +-NUMERIC_MAX_RESULT_SCALE.
                    let digits = digits.clamp(-MAX_RESULT_SCALE, MAX_RESULT_SCALE);
                    Numeric(if *func == Func::Round { x.round_to(digits)? } else { x.trunc_to(digits) })
                }
                other => other,
            }
        }
        Func::Ceil | Func::Floor => match a0 {
            Float8(x) => Float8(F64(if *func == Func::Ceil { x.0.ceil() } else { x.0.floor() })),
            Numeric(x) => Numeric(if *func == Func::Ceil { x.ceil()? } else { x.floor()? }),
            other => other,
        },
        Func::Sign => match a0 {
            Float8(x) => Float8(F64(if x.0 > 0.0 { 1.0 } else if x.0 < 0.0 { -1.0 } else { 0.0 })),
            Numeric(x) => Numeric(if x.is_nan() { x } else { NumericValue::from(x.signum()) }),
            other => other,
        },
        Func::Sqrt => match a0 {
            Float8(x) => {
                if x.0 < 0.0 {
                    return Err(Error::new(SqlState::InvalidArgumentForPowerFunction, "cannot take square root of a negative number"));
                }
                Float8(F64(x.0.sqrt()))
            }
            Numeric(x) => Numeric(x.sqrt()?),
            other => other,
        },
        Func::Cbrt => Float8(F64(a0.as_f64().unwrap_or(0.0).cbrt())),
        Func::Exp => match a0 {
            Numeric(x) => Numeric(x.exp()?),
            other => Float8(F64(float_check(other.as_f64().unwrap_or(0.0).exp(), true)?)),
        },
        Func::Ln | Func::Log10 => match &a0 {
            Numeric(x) => Numeric(if *func == Func::Ln { x.ln()? } else { x.log10()? }),
            _ => {
                let x = a0.as_f64().unwrap_or(0.0);
                if x == 0.0 {
                    return Err(Error::new(SqlState::InvalidArgumentForLogarithm, "cannot take logarithm of zero"));
                }
                if x < 0.0 {
                    return Err(Error::new(SqlState::InvalidArgumentForLogarithm, "cannot take logarithm of a negative number"));
                }
                Float8(F64(if *func == Func::Ln { x.ln() } else { x.log10() }))
            }
        },
        Func::Log => Numeric(NumericValue::log(&numeric_arg(&a0)?, &numeric_arg(&args[1])?)?),
        Func::Power => arith(BinaryOp::Pow, a0, args[1].clone(), ctx)?,
        Func::Mod => arith(BinaryOp::Mod, a0, args[1].clone(), ctx)?,
        Func::Div => match (a0, args[1].clone()) {
            (Numeric(x), Numeric(y)) => Numeric(x.div_trunc(&y)?),
            (x, y) => arith(BinaryOp::Div, x, y, ctx)?,
        },
        Func::Degrees => Float8(F64(a0.as_f64().unwrap_or(0.0).to_degrees())),
        Func::Radians => Float8(F64(a0.as_f64().unwrap_or(0.0).to_radians())),
        Func::Sin => Float8(F64(a0.as_f64().unwrap_or(0.0).sin())),
        Func::Cos => Float8(F64(a0.as_f64().unwrap_or(0.0).cos())),
        Func::Tan => Float8(F64(a0.as_f64().unwrap_or(0.0).tan())),
        Func::Atan => Float8(F64(a0.as_f64().unwrap_or(0.0).atan())),
        Func::Asin | Func::Acos => {
            let x = a0.as_f64().unwrap_or(0.0);
            if !(-1.0..=1.0).contains(&x) {
                return Err(Error::new(SqlState::NumericValueOutOfRange, "input is out of range"));
            }
            Float8(F64(if matches!(func, Func::Asin) { x.asin() } else { x.acos() }))
        }
        Func::Cot => Float8(F64(1.0 / a0.as_f64().unwrap_or(0.0).tan())),
        Func::Atan2 => Float8(F64(a0.as_f64().unwrap_or(0.0).atan2(args[1].as_f64().unwrap_or(0.0)))),
        Func::ArrayLength => match (&a0, int_arg(&args[1])?) {
            (Array(items), 1) if !items.is_empty() => Int4(items.len() as i32),
            _ => Null,
        },
        Func::Cardinality => match &a0 {
            Array(items) => Int4(items.len() as i32),
            _ => Null,
        },
        Func::ArrayPosition => match &a0 {
            Array(items) => items
                .iter()
                .position(|x| !x.is_null() && datum_eq(x, &args[1]))
                .map(|p| Int4(p as i32 + 1))
                .unwrap_or(Null),
            _ => Null,
        },
        Func::ArrayIndex => match &a0 {
            Array(items) => {
                let i = int_arg(&args[1])?;
                if i >= 1 && (i as usize) <= items.len() {
                    items[i as usize - 1].clone()
                } else {
                    Null
                }
            }
            _ => Null,
        },
        Func::Coalesce
        | Func::NullIf
        | Func::Greatest
        | Func::Least
        | Func::Concat
        | Func::ConcatWs
        | Func::ArrayConstruct
        | Func::ArrayCompare { .. }
        | Func::ArrayAppend
        | Func::ArrayPrepend
        | Func::StringToArray
        | Func::ArrayRemove
        | Func::ArrayReplace
        | Func::ArrayCat
        | Func::Random
        | Func::GenRandomUuid
        | Func::SubqueryTooManyRows
        | Func::Pi
        | Func::Format
        | Func::QuoteNullable
        | Func::Constant(_)
        | Func::Enum(..)
        | Func::NextVal
        | Func::SetConfig
        | Func::CurrentSetting
        | Func::CurrVal
        | Func::SetVal
        | Func::Catalog(_)
        | Func::OutputText(_)
        | Func::Json(..)
        | Func::Misc(_)
        | Func::DateTime(_)
        | Func::Formatting(_) => unreachable!("handled before the strictness check"),
    })
}

/// PostgreSQL's `enum_first`/`enum_last`/`enum_range` (`enum.c`).
fn eval_enum(ty: &freshet_common::EnumType, f: EnumFunc, args: &[Datum]) -> Result<Datum> {
    let empty = || {
        Error::new(SqlState::ObjectNotInPrerequisiteState, format!("enum {} contains no values", ty.display_name()))
    };
    // Values added by a transaction still open may not be used
    // (PostgreSQL's check_safe_enum_use).
    let labels = ty.labels();
    let check = |i: usize| labels.get(i).map_or(Ok(()), |l| ty.check_committed(l));
    Ok(match f {
        EnumFunc::First => {
            check(0)?;
            ty.value_at(0).ok_or_else(empty)?
        }
        EnumFunc::Last => {
            check(labels.len().wrapping_sub(1))?;
            ty.value_at(labels.len().wrapping_sub(1)).ok_or_else(empty)?
        }
        EnumFunc::All => {
            for i in 0..labels.len() {
                check(i)?;
            }
            Datum::Array(ty.values())
        }
        EnumFunc::Range => {
            let bound = |i: usize| args.get(i).filter(|d| !d.is_null());
            let (lower, upper) = (bound(0), bound(1));
            // From the lower bound (or the first value) up to and including
            // the upper one; nothing when the upper comes first.
            let mut out = Vec::new();
            let mut started = lower.is_none();
            for (i, v) in ty.values().into_iter().enumerate() {
                if !started && Some(&v) == lower {
                    started = true;
                }
                let last = Some(&v) == upper;
                if started {
                    check(i)?;
                    out.push(v);
                }
                if last {
                    break;
                }
            }
            Datum::Array(out)
        }
    })
}

fn pseudo_random() -> f64 {
    use std::cell::Cell;
    use std::time::{SystemTime, UNIX_EPOCH};
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0x9E37_79B9_7F4A_7C15) | 1
        );
    }
    STATE.with(|s| {
        // xorshift64*
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// The hash of `data` by pgcrypto's algorithm names (md5, sha1, sha224,
/// sha256, sha384, sha512; case-insensitive).
pub fn digest(data: &[u8], algorithm: &str) -> Result<Vec<u8>> {
    use sha2::Digest as _;
    Ok(match algorithm.to_ascii_lowercase().as_str() {
        "md5" => {
            let hex = md5_hex(data);
            (0..hex.len()).step_by(2).filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect()
        }
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha224" => sha2::Sha224::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        _ => {
            return Err(Error::new(
                SqlState::InvalidParameterValue,
                format!("Cannot use \"{algorithm}\": No such hash algorithm"),
            ))
        }
    })
}

/// MD5 of `data` as lowercase hex (RFC 1321).
pub fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
        14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
        21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64).map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32).collect();
    let (mut a0, mut b0, mut c0, mut d0) = (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk.chunks(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f2 = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f2.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    [a0, b0, c0, d0].iter().flat_map(|w| w.to_le_bytes()).map(|b| format!("{b:02x}")).collect()
}

/// Converts a float to numeric for casts and aggregates, as PostgreSQL
/// does (15 significant digits for float8).
pub fn f64_to_numeric(v: f64) -> Result<NumericValue> {
    freshet_common::cast::float_to_numeric(v, 15)
}

/// Numeric to f64 (correctly rounded; infinite beyond the f64 range).
pub fn numeric_to_f64(v: &NumericValue) -> f64 {
    v.to_f64()
}

/// A plain rendering of simple literal datums (numbers, text), used where
/// the binder needs a literal's text without session formatting.
pub fn datum_debug_text(d: &Datum) -> String {
    match d {
        Datum::Int2(v) => v.to_string(),
        Datum::Int4(v) => v.to_string(),
        Datum::Int8(v) => v.to_string(),
        Datum::Numeric(v) => v.to_string(),
        Datum::Float8(v) => v.0.to_string(),
        Datum::Text(s) => s.clone(),
        Datum::Bool(b) => if *b { "t".into() } else { "f".into() },
        other => format!("{other:?}"),
    }
}
