//! Type names and PostgreSQL's implicit coercion rules.
//!
//! Covers: turning a SQL type name into a [`DataType`], the common type of
//! a set of branches (UNION, CASE, COALESCE, VALUES), and which operand
//! types an operator resolves to.

use freshet_common::{DataType, Error, Result, SqlState};
use sqlparser::ast::{self, ArrayElemTypeDef, CharacterLength, ExactNumberInfo, TimezoneInfo};

use crate::names;

/// Resolves a type name written in SQL.
pub fn data_type(ty: &ast::DataType) -> Result<DataType> {
    use ast::DataType as A;
    let len = |l: &Option<CharacterLength>| match l {
        Some(CharacterLength::IntegerLength { length, .. }) => Some(*length as u32),
        _ => None,
    };
    Ok(match ty {
        A::Bool | A::Boolean => DataType::Bool,
        A::SmallInt(_) | A::Int2(_) => DataType::Int2,
        A::Int(_) | A::Integer(_) | A::Int4(_) => DataType::Int4,
        A::BigInt(_) | A::Int8(_) => DataType::Int8,
        A::Real | A::Float4 => DataType::Float4,
        A::Float8 | A::DoublePrecision | A::Double(_) => DataType::Float8,
        A::Float(info) => match info {
            ExactNumberInfo::Precision(p) if *p <= 24 => DataType::Float4,
            _ => DataType::Float8,
        },
        A::Numeric(info) | A::Decimal(info) | A::Dec(info) => match info {
            ExactNumberInfo::None => DataType::Numeric(None),
            ExactNumberInfo::Precision(p) => numeric_type(*p, 0)?,
            ExactNumberInfo::PrecisionAndScale(p, s) => numeric_type(*p, *s)?,
        },
        A::Text => DataType::Text,
        A::Varchar(l) | A::CharacterVarying(l) | A::CharVarying(l) => DataType::Varchar(len(l)),
        A::Char(l) | A::Character(l) => DataType::Char(Some(len(l).unwrap_or(1))),
        A::Bytea => DataType::Bytea,
        A::Date => DataType::Date,
        A::Time(_, tz) => match tz {
            TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => {
                return Err(Error::unsupported("type time with time zone"))
            }
            _ => DataType::Time,
        },
        A::Timestamp(_, tz) => match tz {
            TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => DataType::TimestampTz,
            _ => DataType::Timestamp,
        },
        A::Interval { .. } => DataType::Interval,
        A::JSON => DataType::Json,
        A::JSONB => DataType::Jsonb,
        A::Uuid => DataType::Uuid,
        A::Regclass => DataType::RegClass,
        A::Array(def) => match def {
            ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::Parenthesis(inner)
            | ArrayElemTypeDef::Qualified(inner, _) => {
                let elem = data_type(inner)?;
                match elem {
                    // int[][] is still an int array in PostgreSQL.
                    DataType::Array(_) => elem,
                    _ => DataType::Array(Box::new(elem)),
                }
            }
            _ => return Err(Error::unsupported("array type without element type")),
        },
        A::Custom(name, modifiers) => {
            let parts = names::object_name(name);
            let last = parts.last().map(String::as_str).unwrap_or("");
            let mods: Vec<u32> = modifiers.iter().filter_map(|m| m.to_string().trim().parse().ok()).collect();
            named_type(last, &mods)?
        }
        other => {
            return Err(Error::new(
                SqlState::UndefinedObject,
                format!("type \"{}\" does not exist", other.to_string().to_lowercase()),
            ))
        }
    })
}

fn numeric_type(precision: u64, scale: i64) -> Result<DataType> {
    if precision < 1 || precision > 1000 {
        return Err(Error::new(
            SqlState::InvalidParameterValue,
            format!("NUMERIC precision {precision} must be between 1 and 1000"),
        ));
    }
    // PostgreSQL 15 allows a scale above the precision (numeric(2,3)
    // holds 0.001) and a negative one (rounding to tens, hundreds, ...).
    if !(-1000..=1000).contains(&scale) {
        return Err(Error::new(
            SqlState::InvalidParameterValue,
            format!("NUMERIC scale {scale} must be between -1000 and 1000"),
        ));
    }
    if scale < 0 {
        return Err(Error::unsupported("NUMERIC with a negative scale"));
    }
    Ok(DataType::Numeric(Some((precision as u32, scale as u32))))
}

/// Resolves a type given by a bare name (`int4`, `timestamptz`, ...).
pub fn named_type(name: &str, modifiers: &[u32]) -> Result<DataType> {
    let (base, array) = match name.strip_suffix("[]") {
        Some(b) => (b, true),
        None => match name.strip_prefix('_') {
            Some(b) if !b.is_empty() => (b, true),
            _ => (name, false),
        },
    };
    let ty = match base {
        "bool" | "boolean" => DataType::Bool,
        "int2" | "smallint" => DataType::Int2,
        "int" | "int4" | "integer" => DataType::Int4,
        "int8" | "bigint" => DataType::Int8,
        "float4" | "real" => DataType::Float4,
        "float8" | "double precision" | "float" => DataType::Float8,
        "numeric" | "decimal" => match modifiers {
            [p] => numeric_type(*p as u64, 0)?,
            [p, s] => numeric_type(*p as u64, *s as i64)?,
            _ => DataType::Numeric(None),
        },
        "text" => DataType::Text,
        "varchar" => DataType::Varchar(modifiers.first().copied()),
        "bpchar" | "char" | "character" => {
            if base == "char" && name.starts_with('"') {
                DataType::InternalChar
            } else {
                DataType::Char(modifiers.first().copied())
            }
        }
        "\"char\"" => DataType::InternalChar,
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
        "inet" => DataType::Inet,
        "oid" => DataType::Oid,
        "regclass" => DataType::RegClass,
        "regtype" => DataType::RegType,
        "regproc" | "regprocedure" => DataType::RegProc,
        "serial" | "serial4" => DataType::Int4,
        "bigserial" | "serial8" => DataType::Int8,
        "smallserial" | "serial2" => DataType::Int2,
        other => {
            return Err(Error::new(
                SqlState::UndefinedObject,
                format!("type \"{other}\" does not exist"),
            ))
        }
    };
    Ok(if array { DataType::Array(Box::new(ty)) } else { ty })
}

/// Whether a type name is one of the serial pseudo-types, and its width.
pub fn serial_type(ty: &ast::DataType) -> Option<DataType> {
    if let ast::DataType::Custom(name, _) = ty {
        let parts = names::object_name(name);
        return match parts.last().map(String::as_str) {
            Some("serial" | "serial4") => Some(DataType::Int4),
            Some("bigserial" | "serial8") => Some(DataType::Int8),
            Some("smallserial" | "serial2") => Some(DataType::Int2),
            _ => None,
        };
    }
    None
}

/// Precedence of numeric types for implicit widening.
fn numeric_rank(ty: &DataType) -> Option<u8> {
    Some(match ty {
        DataType::Int2 => 1,
        DataType::Int4 => 2,
        DataType::Int8 => 3,
        DataType::Numeric(_) => 4,
        DataType::Float4 => 5,
        DataType::Float8 => 6,
        _ => return None,
    })
}

/// The type values of `a` and `b` are both converted to when they meet in
/// one expression (UNION branch, CASE result, comparison operands), or
/// `None` when PostgreSQL would report a mismatch.
pub fn common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Unknown, other) | (other, Unknown) => Some(if *other == Unknown { Text } else { other.clone() }),
        _ if numeric_rank(a).is_some() && numeric_rank(b).is_some() => {
            let ra = numeric_rank(a)?;
            let rb = numeric_rank(b)?;
            Some(if ra >= rb { a.without_modifiers() } else { b.without_modifiers() })
        }
        _ if a.is_string() && b.is_string() => Some(match (a, b) {
            (Varchar(_), Varchar(_)) => Varchar(None),
            (Char(_), Char(_)) => Char(None),
            _ => Text,
        }),
        (Date, Timestamp) | (Timestamp, Date) => Some(Timestamp),
        (Date | Timestamp, TimestampTz) | (TimestampTz, Date | Timestamp) => Some(TimestampTz),
        (Json, Jsonb) | (Jsonb, Json) => Some(Jsonb),
        (Oid | RegClass | RegType | RegProc, Int4 | Int8 | Int2)
        | (Int4 | Int8 | Int2, Oid | RegClass | RegType | RegProc) => Some(Oid),
        (Oid | RegClass | RegType | RegProc, Oid | RegClass | RegType | RegProc) => Some(Oid),
        (Name, _) | (_, Name) if a.is_string() || b.is_string() => Some(Text),
        (Array(x), Array(y)) => common_type(x, y).map(|t| Array(Box::new(t))),
        _ => None,
    }
}

/// 42804 for values of two types that cannot be matched in `context`
/// (e.g. "UNION", "CASE").
pub fn mismatch(context: &str, a: &DataType, b: &DataType) -> Error {
    Error::new(
        SqlState::DatatypeMismatch,
        format!("{context} types {} and {} cannot be matched", a.pg_name(), b.pg_name()),
    )
}
