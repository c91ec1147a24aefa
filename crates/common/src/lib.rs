//! Freshet's common vocabulary: SQL types, values, rows, errors and the scalar
//! function library shared by every layer.
//!
//! This crate owns:
//! - [`DataType`]: the SQL types Freshet supports, with their PostgreSQL OIDs
//!   (user-defined enum types carry their labels: [`enum_type`]);
//! - [`Datum`] and [`Row`]: runtime values, totally ordered and hashable so
//!   that both the batch executor and differential dataflow can use them;
//! - [`Error`] and [`SqlState`]: every user-visible failure, carrying its
//!   SQLSTATE from the point it is raised;
//! - the text and binary I/O of values (`io`), casts (`cast`) and the
//!   date/time, JSON and numeric helpers those need.
//!
//! It deliberately does not own SQL parsing, planning, storage or the wire
//! protocol: those live in `freshet-sql`, `freshet-storage` and
//! `freshet-pgwire`, which all depend on this crate and never the reverse.

pub mod cast;
pub mod datetime;
pub mod datetime_io;
pub mod datum;
pub mod enum_type;
pub mod error;
pub mod float_fmt;
pub mod ident;
pub mod io;
pub mod json;
pub mod numeric;
pub mod row_codec;
pub mod stack;
pub mod types;

pub use datum::{Datum, Row, F32, F64};
pub use enum_type::EnumType;
pub use datetime::{Date, Interval, Time, Timestamp, TimestampTz};
pub use error::{Error, Result, SqlState};
pub use json::Jsonb;
pub use numeric::Numeric;
pub use types::DataType;
