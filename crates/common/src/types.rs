//! SQL data types and their PostgreSQL identities (OIDs, names, sizes).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A SQL type as Freshet understands it. Type modifiers (varchar length,
/// numeric precision/scale) are part of the type because they change
/// assignment behaviour and what `\d` shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DataType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// `numeric(precision, scale)`; `None` for unconstrained `numeric`.
    Numeric(Option<(u32, u32)>),
    Text,
    /// `varchar(n)`; `None` for unbounded `varchar`.
    Varchar(Option<u32>),
    /// `char(n)` (blank-padded), `bpchar` when `None`.
    Char(Option<u32>),
    /// The single-byte internal `"char"` type used by pg_catalog.
    InternalChar,
    /// `name`, the 63-byte identifier type of pg_catalog.
    Name,
    Bytea,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Json,
    Jsonb,
    Uuid,
    /// Object identifier and its alias types used by pg_catalog.
    Oid,
    RegClass,
    RegType,
    RegProc,
    /// A one-dimensional (in practice) array of the element type.
    Array(Box<DataType>),
    /// `int2vector` (pg_index.indkey): int2 values printed space-separated,
    /// subscripted from 0. Values are `Datum::Array` of `Int2`.
    Int2Vector,
    /// `oidvector` (pg_index.indclass, pg_proc.proargtypes), like int2vector.
    OidVector,
    /// `inet`: an IPv4 or IPv6 host address with optional netmask, stored
    /// as its canonical text (`Datum::Text`).
    Inet,
    /// Type of an untyped literal or parameter not yet resolved.
    Unknown,
}

impl DataType {
    /// PostgreSQL's OID for this type (pg_type.oid).
    pub fn oid(&self) -> u32 {
        use DataType::*;
        match self {
            Bool => 16,
            Bytea => 17,
            InternalChar => 18,
            Name => 19,
            Int8 => 20,
            Int2 => 21,
            Int4 => 23,
            RegProc => 24,
            Text => 25,
            Oid => 26,
            Json => 114,
            Float4 => 700,
            Float8 => 701,
            Unknown => 705,
            Char(_) => 1042,
            Varchar(_) => 1043,
            Date => 1082,
            Time => 1083,
            Timestamp => 1114,
            TimestampTz => 1184,
            Interval => 1186,
            Numeric(_) => 1700,
            RegClass => 2205,
            RegType => 2206,
            Uuid => 2950,
            Jsonb => 3802,
            Array(elem) => elem.array_oid().unwrap_or(0),
            Int2Vector => 22,
            OidVector => 30,
            Inet => 869,
        }
    }

    /// OID of the array type whose elements are of this type.
    pub fn array_oid(&self) -> Option<u32> {
        use DataType::*;
        Some(match self {
            Bool => 1000,
            Bytea => 1001,
            InternalChar => 1002,
            Name => 1003,
            Int2 => 1005,
            Int4 => 1007,
            RegProc => 1008,
            Text => 1009,
            Oid => 1028,
            Char(_) => 1014,
            Varchar(_) => 1015,
            Int8 => 1016,
            Float4 => 1021,
            Float8 => 1022,
            Json => 199,
            Timestamp => 1115,
            Date => 1182,
            Time => 1183,
            TimestampTz => 1185,
            Interval => 1187,
            Numeric(_) => 1231,
            RegClass => 2210,
            RegType => 2211,
            Uuid => 2951,
            Jsonb => 3807,
            Int2Vector => 1006,
            OidVector => 1013,
            Inet => 1041,
            Array(_) | Unknown => return None,
        })
    }

    /// The type whose OID is `oid`, with no modifiers; `None` if unknown.
    pub fn from_oid(oid: u32) -> Option<DataType> {
        use DataType::*;
        let scalar = [
            Bool, Bytea, InternalChar, Name, Int8, Int2, Int4, RegProc, Text, Oid, Json, Float4,
            Float8, Unknown, Char(None), Varchar(None), Date, Time, Timestamp, TimestampTz,
            Interval, Numeric(None), RegClass, RegType, Uuid, Jsonb, Int2Vector, OidVector, Inet,
        ];
        for ty in scalar {
            if ty.oid() == oid {
                return Some(ty);
            }
            if ty.array_oid() == Some(oid) {
                return Some(Array(Box::new(ty)));
            }
        }
        None
    }

    /// The name `format_type` prints, without modifiers (e.g. `character varying`).
    pub fn pg_name(&self) -> String {
        use DataType::*;
        match self {
            Bool => "boolean".into(),
            Int2 => "smallint".into(),
            Int4 => "integer".into(),
            Int8 => "bigint".into(),
            Float4 => "real".into(),
            Float8 => "double precision".into(),
            Numeric(_) => "numeric".into(),
            Text => "text".into(),
            Varchar(_) => "character varying".into(),
            Char(_) => "character".into(),
            InternalChar => "\"char\"".into(),
            Name => "name".into(),
            Bytea => "bytea".into(),
            Date => "date".into(),
            Time => "time without time zone".into(),
            Timestamp => "timestamp without time zone".into(),
            TimestampTz => "timestamp with time zone".into(),
            Interval => "interval".into(),
            Json => "json".into(),
            Jsonb => "jsonb".into(),
            Uuid => "uuid".into(),
            Oid => "oid".into(),
            RegClass => "regclass".into(),
            RegType => "regtype".into(),
            RegProc => "regproc".into(),
            Array(elem) => format!("{}[]", elem.pg_name()),
            Int2Vector => "int2vector".into(),
            OidVector => "oidvector".into(),
            Inet => "inet".into(),
            Unknown => "unknown".into(),
        }
    }

    /// The internal name in pg_type.typname (e.g. `int4`, `_int4`).
    pub fn typname(&self) -> String {
        use DataType::*;
        match self {
            Bool => "bool".into(),
            Int2 => "int2".into(),
            Int4 => "int4".into(),
            Int8 => "int8".into(),
            Float4 => "float4".into(),
            Float8 => "float8".into(),
            Numeric(_) => "numeric".into(),
            Text => "text".into(),
            Varchar(_) => "varchar".into(),
            Char(_) => "bpchar".into(),
            InternalChar => "char".into(),
            Name => "name".into(),
            Bytea => "bytea".into(),
            Date => "date".into(),
            Time => "time".into(),
            Timestamp => "timestamp".into(),
            TimestampTz => "timestamptz".into(),
            Interval => "interval".into(),
            Json => "json".into(),
            Jsonb => "jsonb".into(),
            Uuid => "uuid".into(),
            Oid => "oid".into(),
            RegClass => "regclass".into(),
            RegType => "regtype".into(),
            RegProc => "regproc".into(),
            Array(elem) => format!("_{}", elem.typname()),
            Int2Vector => "int2vector".into(),
            OidVector => "oidvector".into(),
            Inet => "inet".into(),
            Unknown => "unknown".into(),
        }
    }

    /// pg_attribute.atttypmod for this type (-1 when unconstrained).
    pub fn typmod(&self) -> i32 {
        match self {
            DataType::Varchar(Some(n)) | DataType::Char(Some(n)) => *n as i32 + 4,
            DataType::Numeric(Some((p, s))) => (((*p as i32) << 16) | *s as i32) + 4,
            _ => -1,
        }
    }

    /// pg_type.typlen: the fixed size in bytes, or -1 for variable length.
    pub fn typlen(&self) -> i16 {
        use DataType::*;
        match self {
            Bool | InternalChar => 1,
            Int2 => 2,
            Int4 | Float4 | Date | Oid | RegClass | RegType | RegProc => 4,
            Int8 | Float8 | Time | Timestamp | TimestampTz => 8,
            Interval | Uuid => 16,
            Name => 64,
            _ => -1,
        }
    }

    /// Whether values of this type are text-like (text, varchar, char, name).
    pub fn is_string(&self) -> bool {
        matches!(self, DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Name)
    }

    /// Whether this is one of the integer types.
    pub fn is_integer(&self) -> bool {
        matches!(self, DataType::Int2 | DataType::Int4 | DataType::Int8)
    }

    /// Whether this is a numeric type (integers, floats, numeric).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            DataType::Int2
                | DataType::Int4
                | DataType::Int8
                | DataType::Float4
                | DataType::Float8
                | DataType::Numeric(_)
        )
    }

    /// Whether this is an OID-like type (oid, regclass, regtype, regproc).
    pub fn is_oid_like(&self) -> bool {
        matches!(self, DataType::Oid | DataType::RegClass | DataType::RegType | DataType::RegProc)
    }

    /// The element type of an array type.
    pub fn element(&self) -> Option<&DataType> {
        match self {
            DataType::Array(e) => Some(e),
            DataType::Int2Vector => Some(&DataType::Int2),
            DataType::OidVector => Some(&DataType::Oid),
            _ => None,
        }
    }

    /// The same type without modifiers (`varchar(10)` -> `varchar`).
    pub fn without_modifiers(&self) -> DataType {
        match self {
            DataType::Varchar(_) => DataType::Varchar(None),
            DataType::Char(_) => DataType::Char(None),
            DataType::Numeric(_) => DataType::Numeric(None),
            DataType::Array(e) => DataType::Array(Box::new(e.without_modifiers())),
            other => other.clone(),
        }
    }

    /// pg_type.typcategory.
    pub fn category(&self) -> char {
        use DataType::*;
        match self {
            Bool => 'B',
            Int2 | Int4 | Int8 | Float4 | Float8 | Numeric(_) | Oid | RegClass | RegType
            | RegProc => 'N',
            Text | Varchar(_) | Char(_) | Name | InternalChar => 'S',
            Date | Time | Timestamp | TimestampTz => 'D',
            Interval => 'T',
            Array(_) | Int2Vector | OidVector => 'A',
            Unknown => 'X',
            Bytea | Json | Jsonb | Uuid => 'U',
            Inet => 'I',
        }
    }
}

impl fmt::Display for DataType {
    /// Prints the type as `format_type(oid, typmod)` would, e.g.
    /// `character varying(20)` or `numeric(10,2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            DataType::Char(Some(n)) => write!(f, "character({n})"),
            DataType::Char(None) => write!(f, "bpchar"),
            DataType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            DataType::Array(e) => write!(f, "{e}[]"),
            other => f.write_str(&other.pg_name()),
        }
    }
}
