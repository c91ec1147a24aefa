//! The `json` type's functions. `json` is text: values keep their input
//! verbatim, and functions build their text the way PostgreSQL 15's
//! `src/backend/utils/adt/json.c` does (`datum_to_json`,
//! `array_to_json_internal`, `composite_to_json`): arrays and rows compact
//! (`[1,2]`, `{"f1":1,"f2":"a"}`), `json_build_array` with `", "`,
//! `json_build_object` with `" : "`. Reading (`json_each`, `json_typeof`,
//! ...) slices the member texts out of the input as PostgreSQL's
//! `jsonfuncs.c` does, keeping duplicate keys and their spacing.

use freshet_common::io::{format_text, TextContext};
use freshet_common::json::{self, escape_json_string, format_jsonb};
use freshet_common::{DataType, Datum, Error, Result, SqlState};

/// PostgreSQL's `JsonTypeCategory` of a SQL type: how its values print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonCategory {
    /// `true` / `false` (quoted as object keys).
    Bool,
    /// Bare numbers; NaN and infinities as strings.
    Numeric,
    /// `"2020-01-01"`.
    Date,
    /// `"2020-01-01T10:00:00"`.
    Timestamp,
    /// `"2020-01-01T10:00:00+00:00"`, in the session time zone.
    TimestampTz,
    /// `json` (verbatim) and `jsonb` (its text form).
    Json,
    /// `[1,2]`, nested per dimension.
    Array,
    /// A row: `{"f1":1,"f2":"a"}`.
    Composite,
    /// Anything else: its text output as a JSON string.
    Other,
}

/// The category of `ty` (`json_categorize_type`).
pub fn category(ty: &DataType) -> JsonCategory {
    match ty {
        DataType::Bool => JsonCategory::Bool,
        DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Float4 | DataType::Float8 | DataType::Numeric(_) => {
            JsonCategory::Numeric
        }
        DataType::Date => JsonCategory::Date,
        DataType::Timestamp => JsonCategory::Timestamp,
        DataType::TimestampTz => JsonCategory::TimestampTz,
        DataType::Json | DataType::Jsonb => JsonCategory::Json,
        DataType::Array(_) | DataType::Int2Vector | DataType::OidVector => JsonCategory::Array,
        DataType::Record(_) => JsonCategory::Composite,
        _ => JsonCategory::Other,
    }
}

/// Whether a value of `ty` prints differently in another session time zone
/// (a timestamptz anywhere inside it): such JSON is refused in materialized
/// views, as `to_char(timestamptz)` is.
pub fn depends_on_time_zone(ty: &DataType) -> bool {
    match ty {
        DataType::TimestampTz => true,
        DataType::Array(e) => depends_on_time_zone(e),
        DataType::Record(fields) => fields.iter().any(|(_, t)| depends_on_time_zone(t)),
        _ => false,
    }
}

/// A date, timestamp or timestamptz as PostgreSQL's `JsonEncodeDateTime`
/// prints it: ISO 8601 with a `T` (XSD style) and the offset as `+HH:MM`.
pub fn datetime_text(d: &Datum, ty: &DataType, ctx: &TextContext) -> String {
    let mut s = String::new();
    format_text(d, ty, ctx, &mut s);
    if matches!(d, Datum::Date(_)) || s.ends_with("infinity") {
        return s;
    }
    let (body, era) = match s.strip_suffix(" BC") {
        Some(b) => (b.to_string(), " BC"),
        None => (s.clone(), ""),
    };
    let mut body = body.replacen(' ', "T", 1);
    if matches!(d, Datum::TimestampTz(_)) {
        // ISO prints "+05:30" or "+00"; XSD always gives the minutes.
        if let Some(sign) = body.rfind(['+', '-']) {
            if body.len() - sign == 3 {
                body.push_str(":00");
            }
        }
    }
    body + era
}

fn is_json_number(s: &str) -> bool {
    s.starts_with(|c: char| c == '-' || c.is_ascii_digit()) && json::validate_json_text(s).is_ok()
}

/// Appends `d` (of type `ty`) as JSON text (`datum_to_json`). With
/// `key`, the value is an object key: every scalar becomes a string, and
/// arrays, rows and json are refused (22023).
pub fn datum_to_json(d: &Datum, ty: &DataType, ctx: &TextContext, key: bool, out: &mut String) -> Result<()> {
    let cat = category(ty);
    if key && matches!(cat, JsonCategory::Array | JsonCategory::Composite | JsonCategory::Json) {
        return Err(Error::new(SqlState::InvalidParameterValue, "key value must be scalar, not array, composite, or json"));
    }
    if d.is_null() {
        out.push_str("null");
        return Ok(());
    }
    match cat {
        JsonCategory::Bool => {
            let text = if d.as_bool() == Some(true) { "true" } else { "false" };
            if key {
                escape_json_string(text, out);
            } else {
                out.push_str(text);
            }
        }
        JsonCategory::Numeric => {
            let mut s = String::new();
            format_text(d, ty, ctx, &mut s);
            if !key && is_json_number(&s) {
                out.push_str(&s);
            } else {
                escape_json_string(&s, out);
            }
        }
        JsonCategory::Date | JsonCategory::Timestamp | JsonCategory::TimestampTz => {
            escape_json_string(&datetime_text(d, ty, ctx), out);
        }
        JsonCategory::Json => match d {
            Datum::Json(s) => out.push_str(s),
            Datum::Jsonb(j) => format_jsonb(j, out),
            other => format_text(other, ty, ctx, out),
        },
        JsonCategory::Array => array_to_json(d, ty, ctx, false, out)?,
        JsonCategory::Composite => composite_to_json(d, ty, ctx, false, out)?,
        JsonCategory::Other => {
            let mut s = String::new();
            format_text(d, ty, ctx, &mut s);
            escape_json_string(&s, out);
        }
    }
    Ok(())
}

/// An object key's text as jsonb's builders take it (`datum_to_jsonb`
/// with a key): booleans as `true`/`false`, dates and timestamps in ISO
/// 8601, other scalars as their text output; arrays, rows and json are
/// refused (22023).
pub fn key_text(d: &Datum, ty: &DataType, ctx: &TextContext) -> Result<String> {
    Ok(match category(ty) {
        JsonCategory::Array | JsonCategory::Composite | JsonCategory::Json => {
            return Err(Error::new(
                SqlState::InvalidParameterValue,
                "key value must be scalar, not array, composite, or json",
            ))
        }
        JsonCategory::Bool => (if d.as_bool() == Some(true) { "true" } else { "false" }).to_string(),
        JsonCategory::Date | JsonCategory::Timestamp | JsonCategory::TimestampTz => datetime_text(d, ty, ctx),
        JsonCategory::Numeric | JsonCategory::Other => {
            let mut s = String::new();
            format_text(d, ty, ctx, &mut s);
            s
        }
    })
}

/// `array_to_json(anyarray [, pretty])`: `[1,2]`, nested for more
/// dimensions; `pretty` puts `",\n "` between the outermost elements.
pub fn array_to_json(d: &Datum, ty: &DataType, ctx: &TextContext, pretty: bool, out: &mut String) -> Result<()> {
    let elem = ty.element().cloned().unwrap_or(DataType::Text);
    let Datum::Array(items) = d else {
        return datum_to_json(d, &elem, ctx, false, out);
    };
    array_level(items, &elem, ctx, if pretty { ",\n " } else { "," }, out)
}

fn array_level(items: &[Datum], elem: &DataType, ctx: &TextContext, separator: &str, out: &mut String) -> Result<()> {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        match item {
            // A nested array is the next dimension, unless the elements
            // themselves are arrays of records.
            Datum::Array(sub) if !matches!(elem, DataType::Record(_)) => array_level(sub, elem, ctx, ",", out)?,
            other => datum_to_json(other, elem, ctx, false, out)?,
        }
    }
    out.push(']');
    Ok(())
}

/// `row_to_json(record [, pretty])`: `{"f1":1,"f2":"a"}`; `pretty` puts
/// `",\n "` between the fields.
pub fn composite_to_json(d: &Datum, ty: &DataType, ctx: &TextContext, pretty: bool, out: &mut String) -> Result<()> {
    let (Datum::Array(values), DataType::Record(fields)) = (d, ty) else {
        return Err(Error::new(SqlState::DatatypeMismatch, "argument of row_to_json must be a row"));
    };
    out.push('{');
    for (i, ((name, field_ty), value)) in fields.iter().zip(values).enumerate() {
        if i > 0 {
            out.push_str(if pretty { ",\n " } else { "," });
        }
        escape_json_string(name, out);
        out.push(':');
        datum_to_json(value, field_ty, ctx, false, out)?;
    }
    out.push('}');
    Ok(())
}

/// The JSON text of one value.
pub fn to_json_text(d: &Datum, ty: &DataType, ctx: &TextContext) -> Result<String> {
    let mut out = String::new();
    datum_to_json(d, ty, ctx, false, &mut out)?;
    Ok(out)
}

/// `json_build_array(VARIADIC "any")`: `[1, "a", null]`.
pub fn build_array(args: &[Datum], types: &[DataType], ctx: &TextContext) -> Result<String> {
    let mut out = String::from("[");
    for (i, (d, t)) in args.iter().zip(types).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        datum_to_json(d, t, ctx, false, &mut out)?;
    }
    out.push(']');
    Ok(out)
}

/// `json_build_object(VARIADIC "any")`: `{"a" : 1, "b" : 2}`.
pub fn build_object(args: &[Datum], types: &[DataType], ctx: &TextContext) -> Result<String> {
    if !args.len().is_multiple_of(2) {
        return Err(Error::new(SqlState::InvalidParameterValue, "argument list must have even number of elements")
            .with_hint("The arguments of json_build_object() must consist of alternating keys and values."));
    }
    let mut out = String::from("{");
    for (i, pair) in args.chunks(2).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if pair[0].is_null() {
            return Err(Error::new(SqlState::InvalidParameterValue, format!("argument {} cannot be null", 2 * i + 1))
                .with_hint("Object keys should be text."));
        }
        datum_to_json(&pair[0], &types[2 * i], ctx, true, &mut out)?;
        out.push_str(" : ");
        datum_to_json(&pair[1], &types[2 * i + 1], ctx, false, &mut out)?;
    }
    out.push('}');
    Ok(out)
}

/// `json_object(text[])` / `json_object(keys text[], values text[])`
/// (and jsonb_object's pairs): a flat array of alternating keys and
/// values, a two-column array of pairs, or two parallel arrays.
pub fn object_pairs(args: &[Datum]) -> Result<Vec<(String, Option<String>)>> {
    let subscript_error = |m: &str| Error::new(SqlState::ArraySubscriptError, m.to_string());
    let depth = |d: &Datum| -> usize {
        let mut n = 0;
        let mut cur = d;
        while let Datum::Array(items) = cur {
            if items.is_empty() {
                break;
            }
            n += 1;
            cur = &items[0];
        }
        n
    };
    let text = |d: &Datum| d.as_str().map(str::to_string);
    let key = |d: &Datum| {
        text(d).ok_or_else(|| Error::new(SqlState::NullValueNotAllowed, "null value not allowed for object key"))
    };
    let items = |d: &Datum| match d {
        Datum::Array(items) => items.clone(),
        _ => vec![],
    };
    let mut pairs = Vec::new();
    match args {
        [both] => match depth(both) {
            0 => {}
            1 => {
                let flat = items(both);
                if !flat.len().is_multiple_of(2) {
                    return Err(subscript_error("array must have even number of elements"));
                }
                for pair in flat.chunks(2) {
                    pairs.push((key(&pair[0])?, text(&pair[1])));
                }
            }
            2 => {
                for row in items(both) {
                    let row = items(&row);
                    if row.len() != 2 {
                        return Err(subscript_error("array must have two columns"));
                    }
                    pairs.push((key(&row[0])?, text(&row[1])));
                }
            }
            _ => return Err(subscript_error("wrong number of array subscripts")),
        },
        [keys, values] => {
            let (kd, vd) = (depth(keys), depth(values));
            if kd > 1 || kd != vd {
                return Err(subscript_error("wrong number of array subscripts"));
            }
            let (keys, values) = (items(keys), items(values));
            if keys.len() != values.len() {
                return Err(subscript_error("mismatched array dimensions"));
            }
            for (k, v) in keys.iter().zip(&values) {
                pairs.push((key(k)?, text(v)));
            }
        }
        _ => {}
    }
    Ok(pairs)
}

/// `json_object(...)`'s text: `{"a" : "1", "b" : null}`.
pub fn object_text(pairs: &[(String, Option<String>)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        escape_json_string(k, &mut out);
        out.push_str(" : ");
        match v {
            Some(v) => escape_json_string(v, &mut out),
            None => out.push_str("null"),
        }
    }
    out.push('}');
    out
}

// ---------------------------------------------------------------------------
// json[b]_to_record[set]: JSON objects as rows of declared column types.

/// One object's members as `json[b]_to_record` sees them: the value
/// and, for `json` input, its text as typed; the last of duplicate keys.
pub struct RecordSource<'a> {
    members: Vec<(String, Option<&'a str>, json::Jsonb)>,
}

impl<'a> RecordSource<'a> {
    /// From a `json` object's text.
    pub fn from_json_pairs(pairs: Vec<(String, &'a str)>) -> Result<RecordSource<'a>> {
        let mut members = Vec::with_capacity(pairs.len());
        for (k, text) in pairs {
            members.push((k, Some(text), json::parse_json_text(text)?));
        }
        Ok(RecordSource { members })
    }

    /// From a jsonb object's fields.
    pub fn from_jsonb_fields(fields: &[(String, json::Jsonb)]) -> RecordSource<'a> {
        RecordSource { members: fields.iter().map(|(k, v)| (k.clone(), None, v.clone())).collect() }
    }

    /// The row: each named column's value converted to its type
    /// (`populate_record`); missing keys and JSON nulls are NULL.
    pub fn row(&self, columns: &[(String, DataType)], ctx: &TextContext) -> Result<Vec<Datum>> {
        columns
            .iter()
            .map(|(name, ty)| match self.members.iter().rev().find(|(k, _, _)| k == name) {
                Some((_, text, value)) => populate_value(*text, value, ty, ctx),
                None => Ok(Datum::Null),
            })
            .collect()
    }
}

/// A JSON value as a SQL value of `ty` (PostgreSQL's `populate_record_field`):
/// json and jsonb columns take the value itself, array columns a JSON
/// array (element by element) or an array literal string, other types
/// read the string's contents or the value's text with their input
/// function.
fn populate_value(text: Option<&str>, value: &json::Jsonb, ty: &DataType, ctx: &TextContext) -> Result<Datum> {
    let value_text = || match text {
        Some(t) => t.to_string(),
        None => value.to_string(),
    };
    Ok(match (value, ty) {
        (json::Jsonb::Null, _) => Datum::Null,
        (_, DataType::Json) => Datum::Json(value_text()),
        (_, DataType::Jsonb) => Datum::Jsonb(value.clone()),
        (json::Jsonb::Array(items), DataType::Array(elem)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(match item {
                    // Nested JSON arrays are the array's inner dimensions.
                    json::Jsonb::Array(_) => populate_value(None, item, ty, ctx)?,
                    other => populate_value(None, other, elem, ctx)?,
                });
            }
            Datum::Array(out)
        }
        (json::Jsonb::String(s), _) => freshet_common::io::parse_text(s, ty, ctx)?,
        (_, _) => freshet_common::io::parse_text(&value_text(), ty, ctx)?,
    })
}

// ---------------------------------------------------------------------------
// Reading json text.

/// A `json` document's outermost value, with the verbatim text of its
/// members (`jsonfuncs.c` keeps them as they were typed).
pub enum TopLevel<'a> {
    /// Keys (de-escaped) and value texts, duplicates kept, in input order.
    Object(Vec<(String, &'a str)>),
    /// The element texts, in order.
    Array(Vec<&'a str>),
    /// A scalar's text (a string keeps its quotes and escapes).
    Scalar(&'a str),
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The end (exclusive) of the value that starts at `i` in valid JSON text.
fn value_end(b: &[u8], i: usize) -> usize {
    let mut i = i;
    match b.get(i) {
        Some(b'"') => {
            i += 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            b.len()
        }
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = value_end(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r' | b':') {
                i += 1;
            }
            i
        }
    }
}

/// Splits a valid `json` text into its outermost value's members.
pub fn top_level(text: &str) -> Result<TopLevel<'_>> {
    // Values built by functions are valid; input was validated on the way
    // in. Validate again anyway: this is the boundary where text becomes
    // structure.
    json::validate_json_text(text)?;
    let b = text.as_bytes();
    let start = skip_space(b, 0);
    let open = b.get(start).copied();
    if !matches!(open, Some(b'{' | b'[')) {
        let end = value_end(b, start);
        return Ok(TopLevel::Scalar(&text[start..end]));
    }
    let mut i = skip_space(b, start + 1);
    let mut pairs = Vec::new();
    let mut items = Vec::new();
    while i < b.len() && !matches!(b[i], b'}' | b']') {
        if open == Some(b'{') {
            let key_end = value_end(b, i);
            let key = match json::parse_json_text(&text[i..key_end])? {
                json::Jsonb::String(k) => k,
                _ => return Err(Error::internal("json object key is not a string")),
            };
            i = skip_space(b, key_end);
            i = skip_space(b, i + 1); // the colon
            let end = value_end(b, i);
            pairs.push((key, &text[i..end]));
            i = end;
        } else {
            let end = value_end(b, i);
            items.push(&text[i..end]);
            i = end;
        }
        i = skip_space(b, i);
        if b.get(i) == Some(&b',') {
            i = skip_space(b, i + 1);
        }
    }
    Ok(if open == Some(b'{') { TopLevel::Object(pairs) } else { TopLevel::Array(items) })
}

/// `json_typeof`: by the first token.
pub fn type_of(text: &str) -> &'static str {
    match text.trim_start_matches([' ', '\t', '\n', '\r']).as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// A member's text as `->>` gives it: strings de-escaped, JSON null as
/// SQL NULL, anything else verbatim.
pub fn member_text(text: &str) -> Result<Datum> {
    Ok(match text.as_bytes().first() {
        Some(b'"') => match json::parse_json_text(text)? {
            json::Jsonb::String(s) => Datum::Text(s),
            _ => Datum::Null,
        },
        Some(b'n') if text == "null" => Datum::Null,
        _ => Datum::Text(text.to_string()),
    })
}

/// `json_strip_nulls`: the document without object fields whose value is
/// null, rebuilt without whitespace; strings are re-escaped, numbers kept
/// as typed.
pub fn strip_nulls(text: &str, out: &mut String) -> Result<()> {
    match top_level(text)? {
        TopLevel::Object(pairs) => {
            out.push('{');
            let mut first = true;
            for (k, v) in pairs {
                if v == "null" {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                escape_json_string(&k, out);
                out.push(':');
                strip_nulls(v, out)?;
            }
            out.push('}');
        }
        TopLevel::Array(items) => {
            out.push('[');
            for (i, v) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                strip_nulls(v, out)?;
            }
            out.push(']');
        }
        TopLevel::Scalar(s) if s.starts_with('"') => match json::parse_json_text(s)? {
            json::Jsonb::String(v) => escape_json_string(&v, out),
            _ => out.push_str(s),
        },
        TopLevel::Scalar(s) => out.push_str(s),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_text_as_postgres_does() {
        let ctx = TextContext::default();
        let row = DataType::Record(vec![("f1".into(), DataType::Int4), ("f2".into(), DataType::Text)]);
        let value = Datum::Array(vec![Datum::Int4(1), Datum::Text("a".into())]);
        assert_eq!(to_json_text(&value, &row, &ctx).expect("row"), r#"{"f1":1,"f2":"a"}"#);
        let arr = DataType::Array(Box::new(DataType::Int4));
        let nested = Datum::Array(vec![Datum::Array(vec![Datum::Int4(1), Datum::Int4(5)]), Datum::Array(vec![Datum::Int4(9), Datum::Null])]);
        let mut out = String::new();
        array_to_json(&nested, &arr, &ctx, true, &mut out).expect("array");
        assert_eq!(out, "[[1,5],\n [9,null]]");
        assert_eq!(
            build_array(&[Datum::Int4(1), Datum::Text("a".into()), Datum::Null], &[DataType::Int4, DataType::Text, DataType::Text], &ctx)
                .expect("array"),
            r#"[1, "a", null]"#
        );
        let nan = Datum::Float8(freshet_common::F64(f64::NAN));
        assert_eq!(to_json_text(&nan, &DataType::Float8, &ctx).expect("nan"), r#""NaN""#);
    }

    #[test]
    fn reads_members_verbatim() {
        let TopLevel::Object(pairs) = top_level(r#" {"a" : [1,  2], "a": "x\ny", "b":null} "#).expect("object") else {
            panic!("not an object")
        };
        assert_eq!(pairs, vec![("a".to_string(), "[1,  2]"), ("a".to_string(), r#""x\ny""#), ("b".to_string(), "null")]);
        let mut out = String::new();
        strip_nulls(r#"{"a": 1, "b": null, "c": [1, null, {"d": null, "e" : "\u00e9"}]}"#, &mut out).expect("strip");
        assert_eq!(out, r#"{"a":1,"c":[1,null,{"e":"é"}]}"#);
        assert_eq!(type_of("  [1]"), "array");
        assert_eq!(type_of("-1"), "number");
    }
}
