//! Conversion between wire values and [`Datum`]s: Bind parameters in, and
//! DataRow fields out, in text or binary format.
//!
//! The conversions themselves are `freshet_common::io` (PostgreSQL's
//! typinput/typoutput and typreceive/typsend); this module applies the
//! protocol's format-code rules and the NULL convention (length -1).

use bytes::{BufMut, Bytes, BytesMut};
use freshet_common::io::{decode_binary, encode_binary, format_text, parse_text, TextContext};
use freshet_common::{DataType, Datum, Error, SqlState};
use freshet_session::{Column, SessionApi};

use crate::backend::format_of;
use crate::frontend::utf8;

/// Checks a list of format codes: each must be 0 (text) or 1 (binary).
pub(crate) fn check_formats(formats: &[i16]) -> Result<(), Error> {
    match formats.iter().find(|&&f| f != 0 && f != 1) {
        Some(bad) => Err(Error::new(
            SqlState::InvalidParameterValue,
            format!("unsupported format code: {bad}"),
        )),
        None => Ok(()),
    }
}

/// Decodes Bind parameter values of the given types. `formats` follows the
/// 0/1/N rule (none: all text; one: applies to all; else one per value).
pub(crate) fn decode_params(
    values: &[Option<Bytes>],
    formats: &[i16],
    types: &[DataType],
    ctx: &TextContext,
) -> Result<Vec<Datum>, Error> {
    assert_eq!(
        values.len(),
        types.len(),
        "the caller checked the parameter count"
    );
    values
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (value, ty))| {
            let Some(bytes) = value else {
                return Ok(Datum::Null);
            };
            if format_of(formats, i) == 1 {
                decode_binary(bytes, ty).map_err(|e| {
                    if e.state == SqlState::InvalidBinaryRepresentation {
                        let detail = e.message.clone();
                        Error::new(
                            SqlState::InvalidBinaryRepresentation,
                            format!("incorrect binary data format in bind parameter {}", i + 1),
                        )
                        .with_detail(capitalize_sentence(&detail))
                    } else {
                        e
                    }
                })
            } else {
                let text = utf8(bytes)
                    .map_err(|e| Error::new(SqlState::CharacterNotInRepertoire, e.message))?;
                parse_text(text, ty, ctx)
            }
        })
        .collect()
}

/// Turns an error message into a full sentence for a detail field.
fn capitalize_sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut sentence = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

/// Encodes rows as DataRow messages. Holds scratch buffers reused across
/// rows so that encoding allocates per result, not per value.
pub(crate) struct RowEncoder<'a> {
    session: &'a dyn SessionApi,
    columns: &'a [Column],
    formats: &'a [i16],
    ctx: TextContext,
    fields: BytesMut,
    text: String,
    binary: Vec<u8>,
}

impl<'a> RowEncoder<'a> {
    pub(crate) fn new(
        session: &'a dyn SessionApi,
        columns: &'a [Column],
        formats: &'a [i16],
    ) -> RowEncoder<'a> {
        RowEncoder {
            ctx: session.text_context(),
            session,
            columns,
            formats,
            fields: BytesMut::new(),
            text: String::new(),
            binary: Vec::new(),
        }
    }

    /// Appends one DataRow for `row` to `out`, or nothing on error (a value
    /// with no binary form for its type).
    pub(crate) fn write(&mut self, out: &mut BytesMut, row: &[Datum]) -> Result<(), Error> {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "a result row must have as many values as its RowDescription has columns"
        );
        self.fields.clear();
        for (i, (datum, column)) in row.iter().zip(self.columns).enumerate() {
            if datum.is_null() {
                self.fields.put_i32(-1);
                continue;
            }
            let bytes: &[u8] = if format_of(self.formats, i) == 1 {
                self.binary.clear();
                encode_binary(datum, &column.ty, &mut self.binary)?;
                &self.binary
            } else {
                self.text.clear();
                match self.session.format_special(datum, &column.ty) {
                    Some(special) => self.text = special,
                    None => format_text(datum, &column.ty, &self.ctx, &mut self.text),
                }
                self.text.as_bytes()
            };
            let length = i32::try_from(bytes.len()).expect("a value is smaller than 2 GiB");
            self.fields.put_i32(length);
            self.fields.put_slice(bytes);
        }
        crate::backend::data_row(out, row.len(), &self.fields);
        Ok(())
    }
}
