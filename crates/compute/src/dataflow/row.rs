//! The data that flows through view dataflows: rows ([`DataRow`]) and
//! evaluation errors ([`EvalError`]).
//!
//! Timely requires exchanged data to implement serde's traits so that it can
//! cross process boundaries. `Datum` does not (and `freshet-common` should
//! not grow a second encoding), so rows are wrapped in [`DataRow`], which
//! serializes through the storage row codec
//! (`freshet_common::row_codec`). Within one process (`Config::process(n)`)
//! timely moves rows between worker threads by ownership and never calls the
//! codec.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;

use freshet_common::{row_codec, Datum, Error, Row};
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One row of a collection. Ordered, compared and hashed exactly as the
/// wrapped `Vec<Datum>` (so grouping and set operations use `Datum`'s
/// equality, as the batch executor's hash tables do).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataRow(pub Row);

impl DataRow {
    /// Unwraps the row.
    pub fn into_row(self) -> Row {
        self.0
    }
}

impl Deref for DataRow {
    type Target = [Datum];
    fn deref(&self) -> &[Datum] {
        &self.0
    }
}

impl From<Row> for DataRow {
    fn from(row: Row) -> DataRow {
        DataRow(row)
    }
}

impl Serialize for DataRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        row_codec::encode_row(&self.0, &mut bytes);
        serializer.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for DataRow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DataRow, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = DataRow;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a row encoded by freshet_common::row_codec")
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<DataRow, E> {
                row_codec::decode_row(bytes).map(DataRow).map_err(|e| E::custom(e.message))
            }
            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<DataRow, E> {
                self.visit_bytes(&bytes)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DataRow, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                self.visit_bytes(&bytes)
            }
        }
        deserializer.deserialize_byte_buf(RowVisitor)
    }
}

/// An error raised while maintaining a view (evaluating an expression over
/// some input row, or finishing an aggregate), kept as data.
///
/// Errors travel in a collection of their own beside the rows, with the
/// multiplicity of the input that caused them: when that input is retracted,
/// so is the error. A view whose error collection is non-empty at a time
/// reports an error when read at that time, as the batch executor would fail
/// the same query. Ordered by SQLSTATE code then message, detail and hint so
/// that errors can be consolidated and the reported one is deterministic.
///
/// Errors never leave the worker that produced them (the reader accumulates
/// them from every worker), so this type needs no serde implementation.
#[derive(Clone, Debug)]
pub struct EvalError(pub Error);

impl EvalError {
    fn sort_key(&self) -> (&'static str, &str, Option<&str>, Option<&str>, Option<u32>) {
        let e = &self.0;
        (e.state.code(), &e.message, e.detail.as_deref(), e.hint.as_deref(), e.position)
    }
}

impl From<Error> for EvalError {
    fn from(e: Error) -> EvalError {
        EvalError(e)
    }
}

impl PartialEq for EvalError {
    fn eq(&self, other: &Self) -> bool {
        self.sort_key() == other.sort_key()
    }
}

impl Eq for EvalError {}

impl PartialOrd for EvalError {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EvalError {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

/// The result of one reduction: the output row, or the error that
/// prevented computing it.
pub type RowResult = Result<DataRow, EvalError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_row_round_trips_through_serde_bytes() {
        let row = DataRow(vec![Datum::Null, Datum::Int4(-3), Datum::Text("x".into()), Datum::Bool(true)]);
        let mut bytes = Vec::new();
        row_codec::encode_row(&row.0, &mut bytes);
        let back = row_codec::decode_row(&bytes).expect("a freshly encoded row decodes");
        assert_eq!(DataRow(back), row);
    }
}
