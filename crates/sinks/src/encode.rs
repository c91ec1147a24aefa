//! Encoding a row for a target: a JSON object (RisingWave's `FORMAT PLAIN
//! ENCODE JSON`) or SQL literals (the postgres connector).
//!
//! JSON values: booleans and integers as JSON booleans and numbers,
//! `float4`/`float8` as numbers (NaN and infinities, which JSON lacks, as
//! strings), `jsonb`/`json` as the embedded JSON, arrays as JSON arrays,
//! NULL as `null`, and everything else (numeric, dates and times,
//! intervals, text, uuid, bytea, enums) as its PostgreSQL text output in
//! a string; `numeric` is a string so that no digit is lost.

use freshet_common::io::{format_text, TextContext};
use freshet_common::{DataType, Datum};
use serde_json::{Map, Number, Value};

use crate::Column;

/// A row as a JSON object keyed by column name, in column order.
pub fn row_to_json(row: &[Datum], columns: &[Column]) -> Value {
    assert_eq!(row.len(), columns.len(), "a sink row must have its relation's columns");
    let mut object = Map::new();
    for (datum, column) in row.iter().zip(columns) {
        object.insert(column.name.clone(), datum_to_json(datum, &column.ty));
    }
    Value::Object(object)
}

/// One value as JSON (see the module comment).
pub fn datum_to_json(datum: &Datum, ty: &DataType) -> Value {
    match datum {
        Datum::Null => Value::Null,
        Datum::Bool(b) => Value::Bool(*b),
        Datum::Int2(v) => Value::from(*v),
        Datum::Int4(v) => Value::from(*v),
        Datum::Int8(v) => Value::from(*v),
        Datum::Float4(v) => Number::from_f64(v.0 as f64).map(Value::Number).unwrap_or_else(|| Value::String(text(datum, ty))),
        Datum::Float8(v) => Number::from_f64(v.0).map(Value::Number).unwrap_or_else(|| Value::String(text(datum, ty))),
        Datum::Json(_) | Datum::Jsonb(_) => {
            let t = text(datum, ty);
            serde_json::from_str(&t).unwrap_or(Value::String(t))
        }
        Datum::Array(items) => {
            let element = match ty {
                DataType::Array(e) => e.as_ref().clone(),
                other => other.clone(),
            };
            Value::Array(items.iter().map(|d| datum_to_json(d, &element)).collect())
        }
        _ => Value::String(text(datum, ty)),
    }
}

/// PostgreSQL's text output of a non-NULL value.
pub fn text(datum: &Datum, ty: &DataType) -> String {
    let mut out = String::new();
    format_text(datum, ty, &TextContext::default(), &mut out);
    out
}

/// A value as an SQL literal of unknown type (`'text'`, or `NULL`), which
/// the target coerces to its column's type as it would a client's.
pub fn sql_literal(datum: &Datum, ty: &DataType) -> String {
    if datum.is_null() {
        return "NULL".into();
    }
    // Backslashes are plain characters: the targets keep PostgreSQL's
    // default standard_conforming_strings = on.
    format!("'{}'", text(datum, ty).replace('\'', "''"))
}

/// A double-quoted SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_common::F64;

    #[test]
    fn json_and_literals() {
        let columns = vec![
            Column { name: "k".into(), ty: DataType::Text },
            Column { name: "n".into(), ty: DataType::Int8 },
            Column { name: "f".into(), ty: DataType::Float8 },
        ];
        let row = vec![Datum::Text("a'b".into()), Datum::Int8(7), Datum::Float8(F64(f64::NAN))];
        assert_eq!(row_to_json(&row, &columns).to_string(), r#"{"k":"a'b","n":7,"f":"NaN"}"#);
        assert_eq!(sql_literal(&row[0], &DataType::Text), "'a''b'");
        assert_eq!(sql_literal(&Datum::Null, &DataType::Text), "NULL");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
