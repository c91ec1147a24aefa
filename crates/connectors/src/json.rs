//! `FORMAT PLAIN ENCODE JSON`: one message is one JSON object, one row.
//!
//! Fields map to columns by name, case-insensitively as in RisingWave (an
//! exact match wins over a case-insensitive one); a missing field or JSON
//! `null` is SQL NULL; other fields are ignored. A value converts as
//! `(message ->> 'field')::type` would in SQL: the message is parsed by
//! the server's own jsonb parser, strings are taken unquoted and other
//! values in their jsonb text, then read with the column type's input
//! function (`freshet_common::io::text::parse_text`); `json`/`jsonb`
//! columns take the value itself.

use freshet_common::io::text::{parse_text, TextContext};
use freshet_common::json::{format_jsonb, parse_json_text, to_text, Jsonb};
use freshet_common::{DataType, Datum, Error, Result, Row, SqlState};

use crate::ColumnSpec;

/// Decodes messages into rows of the given columns.
#[derive(Clone, Debug)]
pub struct JsonDecoder {
    columns: Vec<ColumnSpec>,
    ctx: TextContext,
}

/// Whether a JSON value can fill a column of type `ty` (every type with a
/// text input function can; arrays and records are refused at CREATE).
pub fn check_type(ty: &DataType) -> Result<()> {
    match ty {
        DataType::Array(_) | DataType::Record(_) | DataType::Int2Vector | DataType::OidVector => {
            Err(Error::new(
                SqlState::FeatureNotSupported,
                format!("ENCODE JSON cannot fill a column of type {ty}"),
            ))
        }
        _ => Ok(()),
    }
}

impl JsonDecoder {
    /// A decoder filling `columns`, in order.
    pub fn new(columns: Vec<ColumnSpec>) -> JsonDecoder {
        JsonDecoder {
            columns,
            ctx: TextContext::default(),
        }
    }

    /// The row of one message, or why it is not one (the caller skips it).
    pub fn decode(&self, payload: &[u8]) -> std::result::Result<Row, String> {
        let text = std::str::from_utf8(payload)
            .map_err(|_| "the message is not valid UTF-8".to_string())?;
        let value =
            parse_json_text(text).map_err(|e| format!("the message is not JSON: {}", e.message))?;
        let Jsonb::Object(fields) = value else {
            return Err("the message is not a JSON object".into());
        };
        let mut row = Vec::with_capacity(self.columns.len());
        for (name, ty) in &self.columns {
            let field = fields
                .iter()
                .find(|(k, _)| k == name)
                .or_else(|| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .map(|(_, v)| v);
            let datum = match field {
                None | Some(Jsonb::Null) => Datum::Null,
                Some(v) => self
                    .convert(v, ty)
                    .map_err(|e| format!("field \"{name}\": {}", e.message))?,
            };
            row.push(datum);
        }
        Ok(row)
    }

    fn convert(&self, value: &Jsonb, ty: &DataType) -> Result<Datum> {
        match ty {
            DataType::Jsonb => Ok(Datum::Jsonb(value.clone())),
            DataType::Json => {
                let mut text = String::new();
                format_jsonb(value, &mut text);
                Ok(Datum::Json(text))
            }
            _ => {
                let text = to_text(value).unwrap_or_default();
                parse_text(&text, ty, &self.ctx)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_map_by_name_and_bad_messages_are_reported() {
        let d = JsonDecoder::new(vec![
            ("id".into(), DataType::Int4),
            ("Name".into(), DataType::Text),
            ("ok".into(), DataType::Bool),
            ("doc".into(), DataType::Jsonb),
        ]);
        let row = d
            .decode(br#"{"ID": 7, "name": "x", "extra": 1, "doc": {"a": [1]}}"#)
            .expect("decodes");
        assert_eq!(row[0], Datum::Int4(7));
        assert_eq!(row[1], Datum::Text("x".into()));
        assert_eq!(row[2], Datum::Null);
        assert!(matches!(row[3], Datum::Jsonb(Jsonb::Object(_))));
        assert_eq!(
            d.decode(br#"{"id": "12"}"#).expect("string to int")[0],
            Datum::Int4(12)
        );
        assert!(d.decode(b"not json").is_err());
        assert!(d.decode(b"[1, 2]").is_err());
        assert!(d
            .decode(br#"{"id": "twelve"}"#)
            .unwrap_err()
            .contains("\"id\""));
        assert!(d.decode(br#"{"id": 1.5}"#).is_err());
        assert!(d.decode(&[0xff, 0xfe]).is_err());
    }
}
