//! Encoding of the messages the server sends, on top of pgwire's message
//! types.
//!
//! Every helper appends whole messages to an output buffer: a helper either
//! writes a complete message or nothing, so a panic caught between two
//! helpers never leaves half a message on the wire.

use bytes::{BufMut, Bytes, BytesMut};
use freshet_common::Error;
use freshet_session::{Column, CopyFormat, TransactionStatus};
use pgwire::messages::copy::{CopyData, CopyDone, CopyInResponse, CopyOutResponse};
use pgwire::messages::data::{FieldDescription, NoData, ParameterDescription, RowDescription};
use pgwire::messages::extendedquery::{
    BindComplete, CloseComplete, ParseComplete, PortalSuspended,
};
use pgwire::messages::response::{
    self, CommandComplete, EmptyQueryResponse, ErrorResponse, ReadyForQuery,
};
use pgwire::messages::startup::{
    Authentication, BackendKeyData, NegotiateProtocolVersion, ParameterStatus, SecretKey,
};
use pgwire::messages::Message;

/// Severity of an ErrorResponse: `Error` ends the statement, `Fatal` ends
/// the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    Fatal,
}

/// Appends `message`, or nothing if pgwire refuses to encode it.
///
/// pgwire only refuses messages over its size limits (e.g. a 30 kB
/// CommandComplete tag), which the engine never produces; that is a broken
/// invariant, reported as a panic that the caller turns into XX000.
fn put<M: Message + std::fmt::Debug>(out: &mut BytesMut, message: M) {
    let mark = out.len();
    if let Err(e) = message.encode(out) {
        out.truncate(mark);
        panic!("cannot encode backend message {message:?}: {e}");
    }
}

/// ErrorResponse with the fields libpq reads: severity (`S` and the
/// untranslated `V`), SQLSTATE, message, detail, hint and position.
pub(crate) fn error(out: &mut BytesMut, severity: Severity, error: &Error) {
    let severity = match severity {
        Severity::Error => "ERROR",
        Severity::Fatal => "FATAL",
    };
    let mut fields = vec![
        (b'S', severity.to_owned()),
        (b'V', severity.to_owned()),
        (b'C', error.state.code().to_owned()),
        (b'M', error.message.clone()),
    ];
    if let Some(detail) = &error.detail {
        fields.push((b'D', detail.clone()));
    }
    if let Some(hint) = &error.hint {
        fields.push((b'H', hint.clone()));
    }
    if let Some(position) = error.position {
        fields.push((b'P', position.to_string()));
    }
    // ErrorResponse fields are C strings: an interior NUL would end the
    // field early and desynchronize the client.
    for (_, value) in &mut fields {
        if value.contains('\0') {
            *value = value.replace('\0', "\\0");
        }
    }
    put(out, ErrorResponse::new(fields));
}

pub(crate) fn ready_for_query(out: &mut BytesMut, status: TransactionStatus) {
    let status = match status {
        TransactionStatus::Idle => response::TransactionStatus::Idle,
        TransactionStatus::InBlock => response::TransactionStatus::Transaction,
        TransactionStatus::Failed => response::TransactionStatus::Error,
    };
    put(out, ReadyForQuery::new(status));
}

pub(crate) fn command_complete(out: &mut BytesMut, tag: &str) {
    put(out, CommandComplete::new(tag.to_owned()));
}

pub(crate) fn empty_query(out: &mut BytesMut) {
    put(out, EmptyQueryResponse::new());
}

pub(crate) fn parse_complete(out: &mut BytesMut) {
    put(out, ParseComplete::new());
}

pub(crate) fn bind_complete(out: &mut BytesMut) {
    put(out, BindComplete::new());
}

pub(crate) fn close_complete(out: &mut BytesMut) {
    put(out, CloseComplete::new());
}

pub(crate) fn portal_suspended(out: &mut BytesMut) {
    put(out, PortalSuspended::new());
}

pub(crate) fn no_data(out: &mut BytesMut) {
    put(out, NoData::new());
}

pub(crate) fn parameter_description(out: &mut BytesMut, oids: Vec<u32>) {
    put(out, ParameterDescription::new(oids));
}

/// The format code (0 text, 1 binary) of column `index` under the Bind
/// message's result format rule: none means all text, one applies to all
/// columns, otherwise one per column.
pub(crate) fn format_of(formats: &[i16], index: usize) -> i16 {
    match formats {
        [] => 0,
        [one] => *one,
        many => many.get(index).copied().unwrap_or(0),
    }
}

/// RowDescription for `columns`, each with its format code from `formats`
/// (see [`format_of`]).
pub(crate) fn row_description(out: &mut BytesMut, columns: &[Column], formats: &[i16]) {
    let fields = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            FieldDescription::new(
                column.name.clone(),
                // OIDs are unsigned; the wire carries their bits as Int32.
                column.table_oid as i32,
                column.column_id,
                column.ty.oid(),
                column.ty.typlen(),
                column.ty.typmod(),
                format_of(formats, i),
            )
        })
        .collect();
    put(out, RowDescription::new(fields));
}

/// Appends a DataRow whose field bytes were already encoded into `fields`
/// (each as Int32 length, -1 for NULL, then the bytes).
pub(crate) fn data_row(out: &mut BytesMut, field_count: usize, fields: &[u8]) {
    let field_count = i16::try_from(field_count)
        .expect("a row has at most 32767 columns (RowDescription's Int16)");
    let length = i32::try_from(4 + 2 + fields.len()).expect("a DataRow is smaller than 2 GiB");
    out.reserve(1 + length as usize);
    out.put_u8(b'D');
    out.put_i32(length);
    out.put_i16(field_count);
    out.put_slice(fields);
}

fn copy_format_code(format: CopyFormat) -> i16 {
    match format {
        CopyFormat::Text | CopyFormat::Csv => 0,
        CopyFormat::Binary => 1,
    }
}

pub(crate) fn copy_in_response(out: &mut BytesMut, format: CopyFormat, columns: usize) {
    let code = copy_format_code(format);
    let count = i16::try_from(columns).expect("a COPY target has at most 32767 columns");
    put(
        out,
        CopyInResponse::new(code as i8, count, vec![code; columns]),
    );
}

pub(crate) fn copy_out_response(out: &mut BytesMut, format: CopyFormat, columns: usize) {
    let code = copy_format_code(format);
    let count = i16::try_from(columns).expect("a COPY source has at most 32767 columns");
    put(
        out,
        CopyOutResponse::new(code as i8, count, vec![code; columns]),
    );
}

pub(crate) fn copy_data(out: &mut BytesMut, data: Bytes) {
    put(out, CopyData::new(data));
}

pub(crate) fn copy_done(out: &mut BytesMut) {
    put(out, CopyDone::new());
}

pub(crate) fn authentication(out: &mut BytesMut, message: Authentication) {
    put(out, message);
}

pub(crate) fn parameter_status(out: &mut BytesMut, name: &str, value: &str) {
    put(out, ParameterStatus::new(name.to_owned(), value.to_owned()));
}

pub(crate) fn backend_key_data(out: &mut BytesMut, process_id: i32, secret_key: i32) {
    put(
        out,
        BackendKeyData::new(process_id, SecretKey::I32(secret_key)),
    );
}

pub(crate) fn negotiate_protocol_version(
    out: &mut BytesMut,
    newest_version: i32,
    unsupported: Vec<String>,
) {
    put(
        out,
        NegotiateProtocolVersion::new(newest_version, unsupported),
    );
}

/// Splits COPY TO output into CopyData messages. PostgreSQL sends one row
/// per message and clients rely on it (psycopg parses each binary message
/// as one row), so text output is split after each newline (text format
/// escapes newlines inside values), CSV after each newline outside double
/// quotes, and binary output after the header and first row, then per
/// row, then the trailer (`binary_copy_ends`); binary data that does not
/// parse goes in 64 KiB chunks.
pub(crate) fn copy_out_data(out: &mut BytesMut, format: CopyFormat, data: Vec<u8>) {
    const CHUNK_BYTES: usize = 64 * 1024;
    let data = Bytes::from(data);
    let mut start = 0;
    match format {
        CopyFormat::Binary => match binary_copy_ends(&data) {
            Some(ends) => {
                for end in ends {
                    copy_data(out, data.slice(start..end));
                    start = end;
                }
            }
            None => {
                while start < data.len() {
                    let end = (start + CHUNK_BYTES).min(data.len());
                    copy_data(out, data.slice(start..end));
                    start = end;
                }
            }
        },
        CopyFormat::Text | CopyFormat::Csv => {
            let csv = format == CopyFormat::Csv;
            let mut quoted = false;
            for (i, &byte) in data.iter().enumerate() {
                if csv && byte == b'"' {
                    quoted = !quoted;
                } else if byte == b'\n' && !quoted {
                    copy_data(out, data.slice(start..i + 1));
                    start = i + 1;
                }
            }
            if start < data.len() {
                copy_data(out, data.slice(start..));
            }
        }
    }
}

/// Where PostgreSQL ends each CopyData message of binary COPY output: after
/// the header and first row, after each further row, after the trailer.
/// `None` when `data` is not well-formed binary COPY output.
fn binary_copy_ends(data: &[u8]) -> Option<Vec<usize>> {
    const SIGNATURE_BYTES: usize = 11;
    let i32_at = |at: usize| -> Option<i32> { Some(i32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?)) };
    let i16_at = |at: usize| -> Option<i16> { Some(i16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?)) };
    let extension = usize::try_from(i32_at(SIGNATURE_BYTES + 4)?).ok()?;
    let mut at = SIGNATURE_BYTES + 8 + extension;
    let mut ends = Vec::new();
    loop {
        let count = i16_at(at)?;
        at += 2;
        if count == -1 {
            ends.push(at);
            break;
        }
        for _ in 0..count {
            let len = i32_at(at)?;
            at += 4;
            if len > 0 {
                at += len as usize;
            }
        }
        ends.push(at);
    }
    if at != data.len() {
        return None;
    }
    // The header travels with the first row (or the trailer).
    Some(ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payloads of the CopyData messages in `out`.
    fn copy_payloads(out: &BytesMut) -> Vec<Vec<u8>> {
        let mut payloads = Vec::new();
        let mut rest = &out[..];
        while !rest.is_empty() {
            assert_eq!(rest[0], b'd');
            let length = i32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            payloads.push(rest[5..1 + length].to_vec());
            rest = &rest[1 + length..];
        }
        payloads
    }

    #[test]
    fn copy_out_sends_one_row_per_message() {
        let mut out = BytesMut::new();
        copy_out_data(&mut out, CopyFormat::Text, b"1\ta\\nb\n2\tc\n3".to_vec());
        assert_eq!(
            copy_payloads(&out),
            vec![b"1\ta\\nb\n".to_vec(), b"2\tc\n".to_vec(), b"3".to_vec()]
        );

        let mut out = BytesMut::new();
        copy_out_data(
            &mut out,
            CopyFormat::Csv,
            b"1,\"x\ny\"\n2,\"\"\"\"\n".to_vec(),
        );
        assert_eq!(
            copy_payloads(&out),
            vec![b"1,\"x\ny\"\n".to_vec(), b"2,\"\"\"\"\n".to_vec()]
        );

        // Well-formed binary COPY: header with the first row, one row per
        // message, the trailer alone, as PostgreSQL sends them.
        let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
        data.extend_from_slice(&[0; 8]);
        for value in [b'a', b'b'] {
            data.extend_from_slice(&1i16.to_be_bytes());
            data.extend_from_slice(&1i32.to_be_bytes());
            data.push(value);
        }
        data.extend_from_slice(&(-1i16).to_be_bytes());
        let mut out = BytesMut::new();
        copy_out_data(&mut out, CopyFormat::Binary, data);
        let payloads = copy_payloads(&out);
        assert_eq!(payloads.iter().map(Vec::len).collect::<Vec<_>>(), vec![19 + 7, 7, 2]);

        let mut out = BytesMut::new();
        copy_out_data(&mut out, CopyFormat::Binary, vec![7; 100 * 1024]);
        let payloads = copy_payloads(&out);
        assert_eq!(
            payloads.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![65536, 36864]
        );
    }

    #[test]
    fn error_response_fields() {
        let mut error = Error::syntax("syntax error at or near \"x\"").with_hint("Fix it.");
        error.position = Some(8);
        let mut out = BytesMut::new();
        super::error(&mut out, Severity::Error, &error);
        let body = &out[5..];
        assert_eq!(
            body,
            &b"SERROR\0VERROR\0C42601\0Msyntax error at or near \"x\"\0HFix it.\0P8\0\0"[..]
        );
    }
}
