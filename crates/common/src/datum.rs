//! Runtime values ([`Datum`]) and rows ([`Row`]).
//!
//! A datum does not carry its SQL type: the schema of the relation it lives
//! in does. Variants are chosen so that operators can dispatch on the value
//! alone (e.g. `Int4` vs `Int8`), while types that share a representation
//! share a variant (`text`, `varchar` and `char` are all [`Datum::Text`]).
//!
//! Datums are totally ordered and hashable, consistently with SQL equality
//! where that matters for grouping: `-0.0 = 0.0`, `NaN = NaN` and NaN sorts
//! above every other float (PostgreSQL's rule), numerics compare by value
//! (`1.0 = 1.00`), intervals compare by their normalized length.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use crate::datetime::{Date, Interval, Time, Timestamp, TimestampTz};
use crate::json::Jsonb;
use crate::numeric::Numeric;

/// A row: one datum per column of the relation's schema.
pub type Row = Vec<Datum>;

/// A single SQL value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Datum {
    /// SQL NULL. Sorts before every value; SQL-level NULL ordering
    /// (NULLS LAST by default) is applied by the sort operator, not here.
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Float4(F32),
    Float8(F64),
    Numeric(Numeric),
    /// `text`, `varchar`, `char(n)` (stored padded) and `name`.
    Text(String),
    Bytea(Vec<u8>),
    Date(Date),
    Time(Time),
    Timestamp(Timestamp),
    TimestampTz(TimestampTz),
    Interval(Interval),
    /// `json`: the input text, kept verbatim as PostgreSQL does.
    Json(String),
    Jsonb(Jsonb),
    Uuid(uuid::Uuid),
    /// `oid` and its alias types (regclass, regtype, regproc).
    Oid(u32),
    /// An array; elements are datums of the element type (or NULL).
    Array(Vec<Datum>),
    /// A value of an enum type: its label's `pg_enum.enumsortorder`,
    /// which identifies it within its type and orders it (see
    /// [`crate::enum_type`]); the label is in the type.
    Enum(F32),
}

impl Datum {
    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Datum::Null)
    }

    /// The boolean value, `None` for NULL or a non-boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Datum::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text value of a string datum.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Datum::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Any integer datum widened to i64.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Datum::Int2(v) => Some(*v as i64),
            Datum::Int4(v) => Some(*v as i64),
            Datum::Int8(v) => Some(*v),
            Datum::Oid(v) => Some(*v as i64),
            _ => None,
        }
    }

    /// Any numeric datum as f64 (lossy for numeric).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Datum::Int2(v) => Some(*v as f64),
            Datum::Int4(v) => Some(*v as f64),
            Datum::Int8(v) => Some(*v as f64),
            Datum::Float4(v) => Some(v.0 as f64),
            Datum::Float8(v) => Some(v.0),
            Datum::Numeric(d) => Some(d.to_f64()),
            _ => None,
        }
    }

    /// Convenience constructor for text.
    pub fn text(s: impl Into<String>) -> Datum {
        Datum::Text(s.into())
    }
}

/// An `f64` with PostgreSQL's total order: NaN equals NaN and is greater than
/// every other value; `-0.0` equals `0.0`.
#[derive(Clone, Copy, Debug, Default)]
pub struct F64(pub f64);

/// An `f32` with the same total order as [`F64`].
#[derive(Clone, Copy, Debug, Default)]
pub struct F32(pub f32);

macro_rules! total_float {
    ($name:ident, $bits:ty, $nan:expr) => {
        impl $name {
            fn key(self) -> $bits {
                // Canonicalise so Hash agrees with Eq: one NaN, one zero.
                if self.0.is_nan() {
                    $nan
                } else if self.0 == 0.0 {
                    0.0
                } else {
                    self.0
                }
            }
        }
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == Ordering::Equal
            }
        }
        impl Eq for $name {}
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                match (self.0.is_nan(), other.0.is_nan()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => self.0.partial_cmp(&other.0).expect("non-NaN floats compare"),
                }
            }
        }
        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.key().to_bits().hash(state)
            }
        }
    };
}

total_float!(F64, f64, f64::NAN);
total_float!(F32, f32, f32::NAN);
