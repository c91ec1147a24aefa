//! COPY FROM STDIN / COPY TO STDOUT in text, CSV and binary formats.
//!
//! The binary format is PostgreSQL's: the `PGCOPY\n\377\r\n\0` signature,
//! flags and a header extension, then per row a 16-bit field count and each
//! field as a 32-bit length (-1 for NULL) and the type's binary (send/recv)
//! form, then -1 as the trailer.

use std::sync::Arc;

use freshet_common::{Datum, Error, Result, Row, SqlState};
use freshet_sql::plan::{CopyOptions, CopyPlan};

use crate::api::{CopyFormat, CopyInRequest, ExecuteResult};
use crate::exec::{check_row, relation};
use crate::session::Session;

/// What a pending COPY FROM writes into.
pub(crate) struct CopyInSpec {
    table: u32,
    columns: Vec<usize>,
    options: CopyOptions,
}

impl Session {
    /// Starts a COPY (FROM: returns the request for data; TO: the data).
    pub(crate) fn copy(&mut self, plan: CopyPlan, params: &[Datum]) -> Result<ExecuteResult> {
        match plan {
            CopyPlan::From { table, columns, options } => Ok(ExecuteResult::CopyIn(CopyInRequest {
                format: wire_format(&options),
                columns: columns.len(),
                spec: Arc::new(CopyInSpec { table, columns, options }),
            })),
            CopyPlan::To { query, options } => {
                let state = self.read_state();
                let rows = self.run_query(&query.expr, &state, params)?;
                if options.binary {
                    let types: Vec<_> = query.columns.iter().map(|c| c.ty.clone()).collect();
                    return Ok(ExecuteResult::CopyOut {
                        format: CopyFormat::Binary,
                        columns: types.len(),
                        data: encode_binary_copy(&rows, &types)?,
                        tag: format!("COPY {}", rows.len()),
                    });
                }
                let text = self.settings.text_context();
                let mut out = String::new();
                if options.header && options.csv {
                    let names: Vec<String> = query.columns.iter().map(|c| csv_field(&c.name, &options, false)).collect();
                    out.push_str(&names.join(&options.delimiter.to_string()));
                    out.push('\n');
                }
                for row in &rows {
                    for (i, (d, col)) in row.iter().zip(&query.columns).enumerate() {
                        if i > 0 {
                            out.push(options.delimiter);
                        }
                        if d.is_null() {
                            out.push_str(&options.null);
                            continue;
                        }
                        let mut s = String::new();
                        match self.format_special_value(d, &col.ty) {
                            Some(v) => s = v,
                            None => freshet_common::io::format_text(d, &col.ty, &text, &mut s),
                        }
                        if options.csv {
                            out.push_str(&csv_field(&s, &options, s == options.null));
                        } else {
                            escape_text(&s, options.delimiter, &mut out);
                        }
                    }
                    out.push('\n');
                }
                Ok(ExecuteResult::CopyOut {
                    format: if options.csv { CopyFormat::Csv } else { CopyFormat::Text },
                    columns: query.columns.len(),
                    data: out.into_bytes(),
                    tag: format!("COPY {}", rows.len()),
                })
            }
        }
    }

    fn format_special_value(&self, d: &Datum, ty: &freshet_common::DataType) -> Option<String> {
        crate::api::SessionApi::format_special(self, d, ty)
    }
}

/// The wire format of a COPY with these options.
fn wire_format(o: &CopyOptions) -> CopyFormat {
    if o.binary {
        CopyFormat::Binary
    } else if o.csv {
        CopyFormat::Csv
    } else {
        CopyFormat::Text
    }
}

const BINARY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Rows in COPY's binary format.
fn encode_binary_copy(rows: &[Row], types: &[freshet_common::DataType]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + rows.len() * 16);
    out.extend_from_slice(BINARY_SIGNATURE);
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    for row in rows {
        out.extend_from_slice(&(row.len() as i16).to_be_bytes());
        for (d, ty) in row.iter().zip(types) {
            if d.is_null() {
                out.extend_from_slice(&(-1i32).to_be_bytes());
                continue;
            }
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            freshet_common::io::encode_binary(d, ty, &mut out)?;
            let len = (out.len() - at - 4) as i32;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

/// One COPY FROM record: text or CSV fields (`None` = NULL), or binary
/// field bytes.
enum Record<'a> {
    Text(Vec<Option<String>>),
    Binary(Vec<Option<&'a [u8]>>),
}

impl Record<'_> {
    fn len(&self) -> usize {
        match self {
            Record::Text(f) => f.len(),
            Record::Binary(f) => f.len(),
        }
    }
}

/// A reader of COPY's binary format; errors are 22P04 as in PostgreSQL.
struct BinaryCopyReader<'a> {
    data: &'a [u8],
    at: usize,
}

fn bad_copy(message: impl Into<String>) -> Error {
    Error::new(SqlState::BadCopyFileFormat, message)
}

impl<'a> BinaryCopyReader<'a> {
    /// Checks the signature and header; positions at the first row.
    fn new(data: &'a [u8]) -> Result<BinaryCopyReader<'a>> {
        let mut r = BinaryCopyReader { data, at: 0 };
        if r.take(BINARY_SIGNATURE.len()).ok() != Some(BINARY_SIGNATURE) {
            return Err(bad_copy("COPY file signature not recognized"));
        }
        let flags = r.i32().map_err(|_| bad_copy("invalid COPY file header (missing flags)"))?;
        if flags & (1 << 16) != 0 {
            return Err(bad_copy("invalid COPY file header (WITH OIDS)"));
        }
        if flags & !0xffff & !(1 << 16) != 0 {
            return Err(bad_copy("unrecognized critical flags in COPY file header"));
        }
        let extension = r.i32().map_err(|_| bad_copy("invalid COPY file header (missing length)"))?;
        let extension = usize::try_from(extension).map_err(|_| bad_copy("invalid COPY file header (missing length)"))?;
        r.take(extension).map_err(|_| bad_copy("invalid COPY file header (wrong length)"))?;
        Ok(r)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.data.len()).ok_or_else(|| bad_copy("unexpected EOF in COPY data"))?;
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn i32(&mut self) -> Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The next row's fields as raw bytes (`None` = NULL), or `None` at
    /// the trailer (or at the end of the data).
    fn next_row(&mut self, expected: usize) -> Result<Option<Vec<Option<&'a [u8]>>>> {
        if self.at == self.data.len() {
            return Ok(None);
        }
        let b = self.take(2)?;
        let count = i16::from_be_bytes([b[0], b[1]]);
        if count == -1 {
            return Ok(None);
        }
        if count as usize != expected || count < 0 {
            return Err(bad_copy(format!("row field count is {count}, expected {expected}")));
        }
        let mut fields = Vec::with_capacity(expected);
        for _ in 0..count {
            let len = self.i32()?;
            fields.push(match len {
                -1 => None,
                n if n < 0 => return Err(bad_copy(format!("invalid field size {n}"))),
                n => Some(self.take(n as usize)?),
            });
        }
        Ok(Some(fields))
    }
}

fn csv_field(s: &str, o: &CopyOptions, force: bool) -> String {
    let needs = force
        || s.is_empty() && !o.null.is_empty()
        || s.contains(o.delimiter)
        || s.contains(o.quote)
        || s.contains('\n')
        || s.contains('\r');
    if !needs {
        return s.to_string();
    }
    let mut out = String::new();
    out.push(o.quote);
    for c in s.chars() {
        if c == o.quote || c == o.escape {
            out.push(o.escape);
        }
        out.push(c);
    }
    out.push(o.quote);
    out
}

fn escape_text(s: &str, delimiter: char, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if delimiter == '\t' => out.push_str("\\t"),
            c if c == delimiter => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// Splits one text-format line into fields (None = NULL).
fn parse_text_line(line: &str, o: &CopyOptions) -> Result<Vec<Option<String>>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut raw = String::new();
    let mut chars = line.chars().peekable();
    let finish = |cur: &mut String, raw: &mut String, fields: &mut Vec<Option<String>>| {
        if *raw == o.null {
            fields.push(None);
        } else {
            fields.push(Some(std::mem::take(cur)));
        }
        cur.clear();
        raw.clear();
    };
    while let Some(c) = chars.next() {
        if c == o.delimiter {
            finish(&mut cur, &mut raw, &mut fields);
            continue;
        }
        raw.push(c);
        if c == '\\' {
            let Some(n) = chars.next() else {
                cur.push('\\');
                break;
            };
            raw.push(n);
            match n {
                'n' => cur.push('\n'),
                'r' => cur.push('\r'),
                't' => cur.push('\t'),
                'b' => cur.push('\u{8}'),
                'f' => cur.push('\u{c}'),
                'v' => cur.push('\u{b}'),
                'N' => cur.push_str("\\N"),
                d if d.is_digit(8) => {
                    let mut v = d.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.peek().and_then(|c| c.to_digit(8)) {
                            Some(x) => {
                                v = v * 8 + x;
                                raw.push(chars.next().unwrap_or('0'));
                            }
                            None => break,
                        }
                    }
                    cur.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                }
                'x' => {
                    let mut v = 0u32;
                    let mut n = 0;
                    while n < 2 {
                        match chars.peek().and_then(|c| c.to_digit(16)) {
                            Some(x) => {
                                v = v * 16 + x;
                                raw.push(chars.next().unwrap_or('0'));
                                n += 1;
                            }
                            None => break,
                        }
                    }
                    cur.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                }
                other => cur.push(other),
            }
        } else {
            cur.push(c);
        }
    }
    finish(&mut cur, &mut raw, &mut fields);
    Ok(fields)
}

/// Parses CSV records (fields may span lines when quoted).
fn parse_csv(data: &str, o: &CopyOptions) -> Result<Vec<Vec<Option<String>>>> {
    let mut records = Vec::new();
    let mut fields: Vec<Option<String>> = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut chars = data.chars().peekable();
    let mut any = false;
    let push_field = |fields: &mut Vec<Option<String>>, cur: &mut String, quoted: &mut bool| {
        let v = std::mem::take(cur);
        if !*quoted && v == o.null {
            fields.push(None);
        } else {
            fields.push(Some(v));
        }
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            if c == o.escape && chars.peek() == Some(&o.quote) {
                if o.escape == o.quote {
                    // Doubled quote inside quotes.
                    chars.next();
                    cur.push(o.quote);
                    continue;
                }
                chars.next();
                cur.push(o.quote);
            } else if c == o.quote {
                in_quotes = false;
            } else {
                cur.push(c);
            }
            continue;
        }
        if c == o.quote {
            in_quotes = true;
            quoted = true;
        } else if c == o.delimiter {
            push_field(&mut fields, &mut cur, &mut quoted);
        } else if c == '\n' || c == '\r' {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            push_field(&mut fields, &mut cur, &mut quoted);
            records.push(std::mem::take(&mut fields));
            any = false;
        } else {
            cur.push(c);
        }
    }
    if in_quotes {
        return Err(Error::new(SqlState::DataException, "unterminated CSV quoted field"));
    }
    if any {
        push_field(&mut fields, &mut cur, &mut quoted);
        records.push(fields);
    }
    Ok(records)
}

/// Completes a COPY FROM STDIN with the received data.
pub(crate) fn copy_in(session: &mut Session, request: &CopyInRequest, data: &[u8]) -> Result<String> {
    let spec = request
        .spec
        .downcast_ref::<CopyInSpec>()
        .ok_or_else(|| Error::internal("foreign COPY request"))?;
    let o = &spec.options;
    if o.binary {
        // A bad header fails before any work.
        BinaryCopyReader::new(data)?;
    }
    let text = if o.binary {
        ""
    } else {
        std::str::from_utf8(data).map_err(|e| {
            Error::new(SqlState::CharacterNotInRepertoire, format!("invalid byte sequence for encoding \"UTF8\" in COPY data: {e}"))
        })?
    };
    // CSV records may span lines, so CSV is split up front; text format is
    // parsed line by line inside the load loop.
    let csv_records: Option<Vec<Vec<Option<String>>>> = if o.csv {
        let mut r = parse_csv(text, o)?;
        if o.header && !r.is_empty() {
            r.remove(0);
        }
        Some(r)
    } else {
        None
    };
    let table = spec.table;
    let columns = spec.columns.clone();
    let ctx = session.settings.text_context();
    let mut count = 0u64;
    session.in_transaction(|session, txn| {
        // As PostgreSQL refuses COPY into a view: once the data is in.
        crate::exec::refuse_source_writes(&txn.work, table, "copy to")?;
        let rel = relation(&txn.work, table)?;
        // Defaults for columns the data does not supply.
        let info = rel.info();
        let mut defaults = Vec::new();
        {
            let catalog = crate::session::BindCatalog { state: &txn.work, session };
            let mut binder = freshet_sql::Binder::new(&catalog, vec![], ctx.clone());
            for (i, c) in info.columns.iter().enumerate() {
                defaults.push(if columns.contains(&i) { None } else { Some(binder.bind_default(c)?) });
            }
        }
        let snapshot = txn.work.clone();
        let source = crate::session::StateSource { state: &snapshot, session };
        let seqs = session.sequences();
        let exec = freshet_compute::Executor::new(&source, &[], &ctx, txn.start).with_sequences(&seqs);
        let ectx = exec.context(&[]);
        let checks = crate::constraints::CheckSet::bind(session, &snapshot, &rel)?;
        count = 0;
        let mut text_lines = text.split('\n').enumerate().peekable();
        let mut csv_iter = csv_records.iter().flatten().enumerate();
        let mut binary = if o.binary { Some(BinaryCopyReader::new(data)?) } else { None };
        loop {
            // The next record, as text fields or binary field bytes.
            let (line_no, record) = if let Some(reader) = binary.as_mut() {
                let Some(fields) = reader.next_row(columns.len())? else { break };
                (count as usize, Record::Binary(fields))
            } else if csv_records.is_some() {
                let Some((i, f)) = csv_iter.next() else { break };
                (i, Record::Text(f.clone()))
            } else {
                let Some((i, line)) = text_lines.next() else { break };
                let line = line.strip_suffix('\r').unwrap_or(line);
                if line == "\\." {
                    break;
                }
                if line.is_empty() && text_lines.peek().is_none() {
                    break;
                }
                if o.header && i == 0 {
                    continue;
                }
                (i, Record::Text(parse_text_line(line, o)?))
            };
            if record.len() != columns.len() {
                let what = if record.len() < columns.len() { "missing data for column" } else { "extra data after last expected column" };
                return Err(Error::new(SqlState::DataException, what).with_detail(format!("COPY {}, line {}", rel.name, line_no + 1)));
            }
            let mut row: Row = Vec::with_capacity(rel.columns.len());
            for (i, col) in rel.columns.iter().enumerate() {
                let ty = col.ty.without_modifiers();
                let v = match (columns.iter().position(|c| *c == i), &record) {
                    (Some(pos), Record::Text(fields)) => match &fields[pos] {
                        None => Datum::Null,
                        Some(s) => freshet_common::io::parse_text(s, &ty, &ctx).map_err(|mut e| {
                            e.detail = Some(format!("COPY {}, line {}, column {}: \"{}\"", rel.name, line_no + 1, col.name, s));
                            e
                        })?,
                    },
                    (Some(pos), Record::Binary(fields)) => match fields[pos] {
                        None => Datum::Null,
                        Some(bytes) => freshet_common::io::decode_binary(bytes, &ty).map_err(|mut e| {
                            e.detail = Some(format!("COPY {}, line {}, column {}", rel.name, line_no + 1, col.name));
                            e
                        })?,
                    },
                    (None, _) => match &defaults[i] {
                        Some(d) => d.eval(&[], &ectx)?,
                        None => Datum::Null,
                    },
                };
                row.push(v);
            }
            let row = check_row(&rel, checks.generate(row, &ectx)?)?;
            checks.check(&rel, &row, &ectx)?;
            let id = session.server.next_row_id();
            txn.insert(&rel, id, row)?;
            count += 1;
        }
        Ok(crate::api::ExecuteResult::Command { tag: String::new() })
    })?;
    Ok(format!("COPY {count}"))
}
