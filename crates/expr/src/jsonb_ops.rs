//! jsonb operators (`->`, `->>`, `#>`, `#>>`, `@>`, `<@`, `?`, `?|`, `?&`,
//! `||`, `-`) and functions, over `freshet_common::Jsonb`.

use freshet_common::json::{self, Jsonb};
use freshet_common::{Datum, Error, Result, SqlState};

use crate::json_text;

/// A jsonb operator, resolved by the binder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonOp {
    /// `->` with a text key or an integer index.
    Get,
    /// `->>`.
    GetText,
    /// `#>` with a text[] path.
    Path,
    /// `#>>`.
    PathText,
    /// `@>`.
    Contains,
    /// `<@`.
    ContainedBy,
    /// `?`.
    HasKey,
    /// `?|`.
    HasAnyKey,
    /// `?&`.
    HasAllKeys,
    /// `||` on jsonb.
    Concat,
    /// `-` with a text key or integer index.
    Delete,
}

fn jsonb(d: &Datum) -> Option<Jsonb> {
    match d {
        Datum::Jsonb(j) => Some(j.clone()),
        Datum::Json(s) => json::parse_json_text(s).ok(),
        _ => None,
    }
}

fn step<'a>(v: &'a Jsonb, key: &Datum) -> Option<&'a Jsonb> {
    match key {
        Datum::Text(k) => match v {
            Jsonb::Object(_) => json::get_field(v, k),
            // A path element into an array is an integer written as text.
            Jsonb::Array(_) => k.trim().parse::<i64>().ok().and_then(|i| json::get_index(v, i)),
            _ => None,
        },
        d => match v {
            Jsonb::Array(_) => d.as_i64().and_then(|i| json::get_index(v, i)),
            Jsonb::Object(_) => None,
            // A scalar behaves as a one-element array for integer subscripts.
            scalar => matches!(d.as_i64(), Some(0) | Some(-1)).then_some(scalar),
        },
    }
}

fn text_of(v: &Jsonb) -> Datum {
    match json::to_text(v) {
        Some(s) => Datum::Text(s),
        None => Datum::Null,
    }
}

fn keys(d: &Datum) -> Vec<String> {
    match d {
        Datum::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

fn has_key(v: &Jsonb, key: &str) -> bool {
    match v {
        Jsonb::Object(pairs) => pairs.iter().any(|(k, _)| k == key),
        Jsonb::Array(items) => items.iter().any(|i| matches!(i, Jsonb::String(s) if s == key)),
        Jsonb::String(s) => s == key,
        _ => false,
    }
}

/// One step into a `json` value's text: an object key or an array index.
enum TextStep<'a> {
    Key(&'a str),
    Index(i64),
}

/// The end (exclusive byte index) of the JSON value starting at `i`
/// (after whitespace), or `None` when the text is not well formed there.
fn scan_value(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    match *b.get(i)? {
        b'"' => {
            i += 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => return Some(i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        b'{' | b'[' => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = scan_value(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let start = i;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']') && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            (i > start).then_some(i)
        }
    }
}

/// The text of the member or element `step` selects in the `json` text
/// `text`, verbatim (PostgreSQL's json operators keep the input's
/// spacing); the last of duplicate keys, as PostgreSQL picks.
fn text_step<'a>(text: &'a str, step: &TextStep<'_>) -> Option<&'a str> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let open = *b.get(i)?;
    let mut members: Vec<(Option<String>, usize, usize)> = Vec::new();
    match (open, step) {
        (b'{', TextStep::Key(_)) | (b'[', TextStep::Index(_)) => {}
        _ => return None,
    }
    i += 1;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        match b.get(i)? {
            b'}' | b']' => break,
            _ => {}
        }
        let key = if open == b'{' {
            let end = scan_value(b, i)?;
            let key = match json::parse_json_text(&text[i..end]).ok()? {
                Jsonb::String(k) => k,
                _ => return None,
            };
            i = end;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            Some(key)
        } else {
            None
        };
        let end = scan_value(b, i)?;
        members.push((key, i, end));
        i = end;
    }
    let (_, start, end) = match step {
        TextStep::Key(k) => members.iter().rev().find(|(key, _, _)| key.as_deref() == Some(*k))?,
        TextStep::Index(n) => {
            let n = if *n < 0 { members.len() as i64 + n } else { *n };
            members.get(usize::try_from(n).ok()?)?
        }
    };
    Some(text[*start..*end].trim())
}

/// `->`, `->>`, `#>` and `#>>` on `json` (not jsonb): the selected part of
/// the text, verbatim; `None` for the other operators.
fn json_text_op(op: JsonOp, text: &str, right: &Datum) -> Option<Datum> {
    let path_op = matches!(op, JsonOp::Path | JsonOp::PathText);
    let steps: Vec<&Datum> = match (op, right) {
        (JsonOp::Get | JsonOp::GetText, d) => vec![d],
        (JsonOp::Path | JsonOp::PathText, Datum::Array(path)) => path.iter().collect(),
        _ => return None,
    };
    let mut cur = text;
    for d in steps {
        let step = match d {
            Datum::Null => return Some(Datum::Null),
            // A path element that names an array position is an integer
            // written as text.
            Datum::Text(k) if path_op && text_starts_array(cur) => match k.trim().parse::<i64>() {
                Ok(n) => TextStep::Index(n),
                Err(_) => return Some(Datum::Null),
            },
            Datum::Text(k) => TextStep::Key(k),
            other => match other.as_i64() {
                Some(n) => TextStep::Index(n),
                None => return Some(Datum::Null),
            },
        };
        match text_step(cur, &step) {
            Some(next) => cur = next,
            None => return Some(Datum::Null),
        }
    }
    Some(match op {
        JsonOp::Get | JsonOp::Path => Datum::Json(cur.to_string()),
        _ => match cur.as_bytes().first() {
            Some(b'"') => json::parse_json_text(cur).ok().map(|v| text_of(&v)).unwrap_or(Datum::Null),
            Some(b'n') if cur == "null" => Datum::Null,
            _ => Datum::Text(cur.to_string()),
        },
    })
}

fn text_starts_array(text: &str) -> bool {
    text.trim_start().starts_with('[')
}

/// Evaluates `left op right` (NULL in, NULL out).
pub fn eval(op: JsonOp, left: Datum, right: Datum) -> Result<Datum> {
    if left.is_null() || right.is_null() {
        return Ok(Datum::Null);
    }
    if let Datum::Json(text) = &left {
        if let Some(result) = json_text_op(op, text, &right) {
            return Ok(result);
        }
    }
    let Some(v) = jsonb(&left) else { return Ok(Datum::Null) };
    Ok(match op {
        JsonOp::Get => step(&v, &right).map(|r| Datum::Jsonb(r.clone())).unwrap_or(Datum::Null),
        JsonOp::GetText => step(&v, &right).map(text_of).unwrap_or(Datum::Null),
        JsonOp::Path | JsonOp::PathText => {
            let Datum::Array(path) = &right else { return Ok(Datum::Null) };
            let mut cur = &v;
            for p in path {
                if p.is_null() {
                    return Ok(Datum::Null);
                }
                match step(cur, p) {
                    Some(next) => cur = next,
                    None => return Ok(Datum::Null),
                }
            }
            if op == JsonOp::Path {
                Datum::Jsonb(cur.clone())
            } else {
                text_of(cur)
            }
        }
        JsonOp::Contains => Datum::Bool(json::contains(&v, &jsonb(&right).unwrap_or(Jsonb::Null))),
        JsonOp::ContainedBy => Datum::Bool(json::contains(&jsonb(&right).unwrap_or(Jsonb::Null), &v)),
        JsonOp::HasKey => Datum::Bool(has_key(&v, right.as_str().unwrap_or(""))),
        JsonOp::HasAnyKey => Datum::Bool(keys(&right).iter().any(|k| has_key(&v, k))),
        JsonOp::HasAllKeys => Datum::Bool(keys(&right).iter().all(|k| has_key(&v, k))),
        JsonOp::Concat => {
            let r = jsonb(&right).unwrap_or(Jsonb::Null);
            Datum::Jsonb(match (v, r) {
                (Jsonb::Object(mut a), Jsonb::Object(b)) => {
                    for (k, val) in b {
                        a.retain(|(x, _)| *x != k);
                        a.push((k, val));
                    }
                    json::make_object(a)
                }
                (Jsonb::Array(mut a), Jsonb::Array(b)) => {
                    a.extend(b);
                    Jsonb::Array(a)
                }
                (Jsonb::Array(mut a), other) => {
                    a.push(other);
                    Jsonb::Array(a)
                }
                (other, Jsonb::Array(mut b)) => {
                    b.insert(0, other);
                    Jsonb::Array(b)
                }
                (a, b) => Jsonb::Array(vec![a, b]),
            })
        }
        JsonOp::Delete => Datum::Jsonb(match (v, &right) {
            (Jsonb::Object(pairs), Datum::Text(k)) => Jsonb::Object(pairs.into_iter().filter(|(x, _)| x != k).collect()),
            (Jsonb::Array(items), Datum::Text(k)) => {
                Jsonb::Array(items.into_iter().filter(|i| !matches!(i, Jsonb::String(s) if s == k)).collect())
            }
            (Jsonb::Array(mut items), d) if d.as_i64().is_some() => {
                let len = items.len() as i64;
                let i = d.as_i64().unwrap_or(0);
                let i = if i < 0 { len + i } else { i };
                if i >= 0 && i < len {
                    items.remove(i as usize);
                }
                Jsonb::Array(items)
            }
            (Jsonb::Object(_), _) | (Jsonb::Array(_), _) => {
                return Err(Error::new(SqlState::InvalidParameterValue, "cannot delete from object using integer index"))
            }
            _ => return Err(Error::new(SqlState::InvalidParameterValue, "cannot delete from scalar")),
        }),
    })
}

/// A jsonb function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonFunc {
    TypeOf,
    ArrayLength,
    BuildObject,
    BuildArray,
    /// `to_jsonb(anyelement)`: the value's JSON form.
    ToJsonb,
    /// `jsonb_extract_path(jsonb, VARIADIC text[])`.
    ExtractPath { text: bool },
    /// `jsonb_strip_nulls`.
    StripNulls,
    /// `jsonb_set(target, path text[], new jsonb [, create_missing bool])`.
    Set,
    /// `jsonb_insert(target, path text[], new jsonb [, insert_after bool])`.
    Insert,
    /// `jsonb_set_lax(target, path, new [, create_missing [,
    /// null_value_treatment]])`: jsonb_set, with a rule for an SQL NULL `new`.
    SetLax,
    /// `jsonb #- text[]`: the document without the value at the path.
    DeletePath,
    /// `jsonb_pretty(jsonb)`: indented text.
    Pretty,
    /// `to_json(anyelement)`: the value's `json` text.
    ToJson,
    /// `array_to_json(anyarray [, pretty])`.
    ArrayToJson,
    /// `row_to_json(record [, pretty])`.
    RowToJson,
    /// `json_build_array(VARIADIC "any")`.
    JsonBuildArray,
    /// `json_build_object(VARIADIC "any")`.
    JsonBuildObject,
    /// An object key for `json_object_agg`: a scalar's text.
    JsonKey,
    /// An object key for `jsonb_object_agg`, as text.
    JsonbKey,
    /// `json_typeof(json)`.
    JsonTypeOf,
    /// `json_array_length(json)`.
    JsonArrayLength,
    /// `json_strip_nulls(json)`.
    JsonStripNulls,
    /// `json_object(text[] [, text[]])` (or, with `jsonb`, `jsonb_object`).
    JsonObject { jsonb: bool },
    /// `jsonb_path_exists(target, path [, vars [, silent]])`; `@?` is the
    /// silent form.
    PathExists,
    /// `jsonb_path_match(...)`; `@@` is the silent form.
    PathMatch,
    /// `jsonb_path_query_array(...)`.
    PathQueryArray,
    /// `jsonb_path_query_first(...)`.
    PathQueryFirst,
}

/// Converts a SQL value to jsonb (`to_jsonb`).
pub fn to_jsonb(d: &Datum, ty: &freshet_common::DataType, ctx: &freshet_common::io::TextContext) -> Result<Jsonb> {
    Ok(match d {
        Datum::Null => Jsonb::Null,
        Datum::Bool(b) => Jsonb::Bool(*b),
        Datum::Jsonb(j) => j.clone(),
        Datum::Json(s) => json::parse_json_text(s)?,
        Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_) | Datum::Numeric(_) | Datum::Float4(_) | Datum::Float8(_) => {
            let mut s = String::new();
            freshet_common::io::format_text(d, ty, ctx, &mut s);
            match json::parse_json_text(&s) {
                Ok(j @ Jsonb::Number(_)) => j,
                _ => Jsonb::String(s),
            }
        }
        Datum::Array(values) if matches!(ty, freshet_common::DataType::Record(_)) => {
            // A record is an object of its fields.
            let freshet_common::DataType::Record(fields) = ty else { unreachable!("matched above") };
            let mut object: Vec<(String, Jsonb)> = Vec::new();
            for ((name, field_ty), value) in fields.iter().zip(values) {
                let value = to_jsonb(value, field_ty, ctx)?;
                match object.iter_mut().find(|(k, _)| k == name) {
                    Some(slot) => slot.1 = value,
                    None => object.push((name.clone(), value)),
                }
            }
            object.sort_by(|a, b| json::jsonb_key_cmp(&a.0, &b.0));
            Jsonb::Object(object)
        }
        Datum::Array(items) => {
            let elem = ty.element().cloned().unwrap_or(freshet_common::DataType::Text);
            Jsonb::Array(items.iter().map(|i| to_jsonb(i, &elem, ctx)).collect::<Result<_>>()?)
        }
        Datum::Date(_) | Datum::Timestamp(_) | Datum::TimestampTz(_) => {
            Jsonb::String(json_text::datetime_text(d, ty, ctx))
        }
        other => {
            let mut s = String::new();
            freshet_common::io::format_text(other, ty, ctx, &mut s);
            Jsonb::String(s)
        }
    })
}

fn strip_nulls(v: Jsonb) -> Jsonb {
    match v {
        Jsonb::Object(pairs) => {
            Jsonb::Object(pairs.into_iter().filter(|(_, x)| *x != Jsonb::Null).map(|(k, x)| (k, strip_nulls(x))).collect())
        }
        Jsonb::Array(items) => Jsonb::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Evaluates a jsonb function; `types` are the argument types (for to_jsonb
/// and the build functions).
pub fn call(
    func: JsonFunc,
    args: Vec<Datum>,
    types: &[freshet_common::DataType],
    ctx: &freshet_common::io::TextContext,
) -> Result<Datum> {
    match func {
        JsonFunc::BuildObject => {
            if args.len() % 2 != 0 {
                return Err(Error::new(
                    SqlState::InvalidParameterValue,
                    "argument list must have even number of elements",
                )
                .with_hint("The arguments of jsonb_build_object() must consist of alternating keys and values."));
            }
            let mut pairs = Vec::new();
            for (i, pair) in args.chunks(2).enumerate() {
                let key = match &pair[0] {
                    Datum::Null => {
                        return Err(Error::new(SqlState::InvalidParameterValue, format!("argument {}: key must not be null", i * 2 + 1)))
                    }
                    d => json_text::key_text(d, &types[i * 2], ctx)?,
                };
                pairs.push((key, to_jsonb(&pair[1], &types[i * 2 + 1], ctx)?));
            }
            return Ok(Datum::Jsonb(json::make_object(pairs)));
        }
        JsonFunc::BuildArray => {
            let items = args.iter().zip(types).map(|(a, t)| to_jsonb(a, t, ctx)).collect::<Result<_>>()?;
            return Ok(Datum::Jsonb(Jsonb::Array(items)));
        }
        JsonFunc::ToJsonb => {
            let d = args.into_iter().next().unwrap_or(Datum::Null);
            if d.is_null() {
                return Ok(Datum::Null);
            }
            return Ok(Datum::Jsonb(to_jsonb(&d, &types[0], ctx)?));
        }
        JsonFunc::JsonBuildArray => return Ok(Datum::Json(json_text::build_array(&args, types, ctx)?)),
        JsonFunc::JsonBuildObject => return Ok(Datum::Json(json_text::build_object(&args, types, ctx)?)),
        JsonFunc::ToJson => {
            let d = args.into_iter().next().unwrap_or(Datum::Null);
            if d.is_null() {
                return Ok(Datum::Null);
            }
            return Ok(Datum::Json(json_text::to_json_text(&d, &types[0], ctx)?));
        }
        JsonFunc::JsonKey => {
            let d = args.into_iter().next().unwrap_or(Datum::Null);
            if d.is_null() {
                return Ok(Datum::Null);
            }
            let mut out = String::new();
            json_text::datum_to_json(&d, &types[0], ctx, true, &mut out)?;
            return Ok(Datum::Json(out));
        }
        JsonFunc::SetLax => {
            if !args.get(2).is_none_or(Datum::is_null) {
                return call(JsonFunc::Set, args.into_iter().take(4).collect(), types, ctx);
            }
            let treatment = match args.get(4) {
                None => "use_json_null",
                Some(Datum::Text(t)) => t.as_str(),
                Some(_) => "",
            };
            let bad_treatment = || {
                Error::new(
                    SqlState::InvalidParameterValue,
                    "null_value_treatment must be \"delete_key\", \"return_target\", \"use_json_null\", or \"raise_exception\"",
                )
            };
            if matches!(args.get(4), Some(Datum::Null)) {
                return Err(bad_treatment());
            }
            if args[0].is_null() || args[1].is_null() {
                return Ok(Datum::Null);
            }
            return match treatment {
                "raise_exception" => Err(Error::new(SqlState::NullValueNotAllowed, "JSON value must not be null")
                    .with_detail("Exception was raised because null_value_treatment is \"raise_exception\".")
                    .with_hint("To avoid, either change the null_value_treatment argument or ensure that an SQL NULL is not passed.")),
                "use_json_null" => {
                    let mut set_args = vec![args[0].clone(), args[1].clone(), Datum::Jsonb(Jsonb::Null)];
                    set_args.extend(args.get(3).cloned());
                    call(JsonFunc::Set, set_args, types, ctx)
                }
                "delete_key" => call(JsonFunc::DeletePath, vec![args[0].clone(), args[1].clone()], types, ctx),
                "return_target" => Ok(args[0].clone()),
                _ => Err(bad_treatment()),
            };
        }
        JsonFunc::JsonObject { jsonb } => {
            if args.iter().any(Datum::is_null) {
                return Ok(Datum::Null);
            }
            let pairs = json_text::object_pairs(&args)?;
            return Ok(if jsonb {
                Datum::Jsonb(json::make_object(
                    pairs.into_iter().map(|(k, v)| (k, v.map_or(Jsonb::Null, Jsonb::String))).collect(),
                ))
            } else {
                Datum::Json(json_text::object_text(&pairs))
            });
        }
        JsonFunc::JsonbKey => {
            let d = args.into_iter().next().unwrap_or(Datum::Null);
            if d.is_null() {
                return Ok(Datum::Null);
            }
            return Ok(Datum::Text(json_text::key_text(&d, &types[0], ctx)?));
        }
        JsonFunc::ArrayToJson | JsonFunc::RowToJson => {
            if args.iter().any(Datum::is_null) {
                return Ok(Datum::Null);
            }
            let pretty = args.get(1).and_then(Datum::as_bool).unwrap_or(false);
            let mut out = String::new();
            if func == JsonFunc::ArrayToJson {
                json_text::array_to_json(&args[0], &types[0], ctx, pretty, &mut out)?;
            } else {
                json_text::composite_to_json(&args[0], &types[0], ctx, pretty, &mut out)?;
            }
            return Ok(Datum::Json(out));
        }
        JsonFunc::JsonTypeOf | JsonFunc::JsonArrayLength | JsonFunc::JsonStripNulls => {
            let Some(Datum::Json(text)) = args.first() else { return Ok(Datum::Null) };
            return Ok(match func {
                JsonFunc::JsonTypeOf => Datum::Text(json_text::type_of(text).to_string()),
                JsonFunc::JsonArrayLength => match json_text::top_level(text)? {
                    json_text::TopLevel::Array(items) => Datum::Int4(items.len() as i32),
                    json_text::TopLevel::Object(_) => {
                        return Err(Error::new(SqlState::InvalidParameterValue, "cannot get array length of a non-array"))
                    }
                    json_text::TopLevel::Scalar(_) => {
                        return Err(Error::new(SqlState::InvalidParameterValue, "cannot get array length of a scalar"))
                    }
                },
                _ => {
                    let mut out = String::new();
                    json_text::strip_nulls(text, &mut out)?;
                    Datum::Json(out)
                }
            });
        }
        _ => {}
    }
    if args.iter().any(|a| a.is_null()) {
        return Ok(Datum::Null);
    }
    let Some(v) = args.first().and_then(jsonb) else { return Ok(Datum::Null) };
    Ok(match func {
        JsonFunc::TypeOf => Datum::Text(json::type_of(&v).to_string()),
        JsonFunc::ArrayLength => match &v {
            Jsonb::Array(items) => Datum::Int4(items.len() as i32),
            _ => return Err(Error::new(SqlState::InvalidParameterValue, "cannot get array length of a non-array")),
        },
        JsonFunc::ExtractPath { text } => {
            let path = Datum::Array(args[1..].to_vec());
            eval(if text { JsonOp::PathText } else { JsonOp::Path }, args[0].clone(), path)?
        }
        JsonFunc::StripNulls => Datum::Jsonb(strip_nulls(v)),
        JsonFunc::Set => {
            let path: Vec<Option<String>> = match &args[1] {
                Datum::Array(items) => items.iter().map(|d| d.as_str().map(str::to_string)).collect(),
                _ => vec![],
            };
            let Some(new) = args.get(2).and_then(jsonb) else { return Ok(Datum::Null) };
            let create_missing = args.get(3).and_then(Datum::as_bool).unwrap_or(true);
            if !matches!(v, Jsonb::Array(_) | Jsonb::Object(_)) {
                return Err(Error::new(SqlState::InvalidParameterValue, "cannot set path in scalar"));
            }
            let mut target = v;
            // An empty path changes nothing.
            if !path.is_empty() {
                set_path(&mut target, &path, 0, new, create_missing)?;
            }
            Datum::Jsonb(target)
        }
        JsonFunc::Insert | JsonFunc::DeletePath => {
            let path: Vec<Option<String>> = match &args[1] {
                Datum::Array(items) => items.iter().map(|d| d.as_str().map(str::to_string)).collect(),
                _ => vec![],
            };
            if !matches!(v, Jsonb::Array(_) | Jsonb::Object(_)) {
                let what = if func == JsonFunc::Insert { "cannot set path in scalar" } else { "cannot delete path in scalar" };
                return Err(Error::new(SqlState::InvalidParameterValue, what));
            }
            let edit = if func == JsonFunc::Insert {
                let Some(new) = args.get(2).and_then(jsonb) else { return Ok(Datum::Null) };
                let after = args.get(3).and_then(Datum::as_bool).unwrap_or(false);
                PathEdit::Insert { new, after }
            } else {
                PathEdit::Delete
            };
            let mut target = v;
            if !path.is_empty() {
                edit_path(&mut target, &path, 0, &edit)?;
            }
            Datum::Jsonb(target)
        }
        JsonFunc::PathExists | JsonFunc::PathMatch | JsonFunc::PathQueryArray | JsonFunc::PathQueryFirst => {
            let path = crate::jsonpath::parse(args[1].as_str().unwrap_or(""))?;
            // `@?` and `@@` come with two arguments: no variables, silent.
            let vars = args.get(2).and_then(jsonb);
            let silent = args.get(3).and_then(Datum::as_bool).unwrap_or(args.len() == 2);
            let Some(items) = crate::jsonpath::query(&path, &v, vars.as_ref(), silent)? else { return Ok(Datum::Null) };
            match func {
                JsonFunc::PathExists => Datum::Bool(!items.is_empty()),
                JsonFunc::PathMatch => match crate::jsonpath::single_boolean(items, silent)? {
                    Some(b) => Datum::Bool(b),
                    None => Datum::Null,
                },
                JsonFunc::PathQueryArray => Datum::Jsonb(Jsonb::Array(items)),
                _ => items.into_iter().next().map(Datum::Jsonb).unwrap_or(Datum::Null),
            }
        }
        JsonFunc::Pretty => {
            let mut out = String::new();
            pretty(&v, 0, &mut out);
            Datum::Text(out)
        }
        JsonFunc::BuildObject
        | JsonFunc::BuildArray
        | JsonFunc::ToJsonb
        | JsonFunc::ToJson
        | JsonFunc::ArrayToJson
        | JsonFunc::RowToJson
        | JsonFunc::JsonBuildArray
        | JsonFunc::JsonBuildObject
        | JsonFunc::JsonKey
        | JsonFunc::JsonbKey
        | JsonFunc::JsonObject { .. }
        | JsonFunc::SetLax
        | JsonFunc::JsonTypeOf
        | JsonFunc::JsonArrayLength
        | JsonFunc::JsonStripNulls => unreachable!("handled above"),
    })
}

/// `jsonb_set`'s walk: follows `path[at..]` into `target` (keys for
/// objects, integer indexes for arrays, negative from the end) and puts
/// `new` at its end. A missing step before the last leaves `target`
/// unchanged; a missing last step is created when `create_missing` (an
/// array index past either end adds at that end).
fn set_path(target: &mut Jsonb, path: &[Option<String>], at: usize, new: Jsonb, create_missing: bool) -> Result<()> {
    let Some(step) = path.get(at) else {
        *target = new;
        return Ok(());
    };
    let Some(step) = step else {
        return Err(Error::new(
            SqlState::NullValueNotAllowed,
            format!("path element at position {} is null", at + 1),
        ));
    };
    let last = at + 1 == path.len();
    match target {
        Jsonb::Object(fields) => {
            match fields.iter().position(|(k, _)| k == step) {
                Some(i) => set_path(&mut fields[i].1, path, at + 1, new, create_missing)?,
                None if last && create_missing => {
                    fields.push((step.clone(), new));
                    fields.sort_by(|a, b| json::jsonb_key_cmp(&a.0, &b.0));
                }
                None => {}
            }
        }
        Jsonb::Array(items) => {
            let index: i64 = step.trim().parse().map_err(|_| {
                Error::new(
                    SqlState::InvalidTextRepresentation,
                    format!("path element at position {} is not an integer: \"{step}\"", at + 1),
                )
            })?;
            let len = items.len() as i64;
            let resolved = if index < 0 { index + len } else { index };
            if (0..len).contains(&resolved) {
                set_path(&mut items[resolved as usize], path, at + 1, new, create_missing)?;
            } else if last && create_missing {
                if resolved < 0 {
                    items.insert(0, new);
                } else {
                    items.push(new);
                }
            }
        }
        // A scalar inside the path: nothing to descend into.
        _ => {}
    }
    Ok(())
}

/// What [`edit_path`] does at the end of the path.
enum PathEdit {
    /// `jsonb_insert`: a new array element before (or `after`) the one
    /// named, or a new object key (an existing key is an error).
    Insert { new: Jsonb, after: bool },
    /// `#-`: removes the value named.
    Delete,
}

/// The walk of PostgreSQL's `setPath` for `jsonb_insert` and `#-`: a
/// missing step before the last leaves `target` unchanged; an array index
/// counts from the end when negative, and for an insert one past either
/// end adds at that end.
fn edit_path(target: &mut Jsonb, path: &[Option<String>], at: usize, edit: &PathEdit) -> Result<()> {
    let Some(step) = path.get(at) else { return Ok(()) };
    let Some(step) = step else {
        return Err(Error::new(SqlState::NullValueNotAllowed, format!("path element at position {} is null", at + 1)));
    };
    let last = at + 1 == path.len();
    match target {
        Jsonb::Object(fields) => match (fields.iter().position(|(k, _)| k == step), last, edit) {
            (Some(i), false, _) => edit_path(&mut fields[i].1, path, at + 1, edit)?,
            (Some(_), true, PathEdit::Insert { .. }) => {
                return Err(Error::new(SqlState::InvalidParameterValue, "cannot replace existing key")
                    .with_hint("Try using the function jsonb_set to replace key value."))
            }
            (Some(i), true, PathEdit::Delete) => {
                fields.remove(i);
            }
            (None, true, PathEdit::Insert { new, .. }) => {
                fields.push((step.clone(), new.clone()));
                fields.sort_by(|a, b| json::jsonb_key_cmp(&a.0, &b.0));
            }
            (None, _, _) => {}
        },
        Jsonb::Array(items) => {
            let index: i64 = step.trim().parse().map_err(|_| {
                Error::new(
                    SqlState::InvalidTextRepresentation,
                    format!("path element at position {} is not an integer: \"{step}\"", at + 1),
                )
            })?;
            let len = items.len() as i64;
            let resolved = if index < 0 { index + len } else { index };
            let inside = (0..len).contains(&resolved);
            match edit {
                _ if !last => {
                    if inside {
                        edit_path(&mut items[resolved as usize], path, at + 1, edit)?;
                    }
                }
                PathEdit::Delete => {
                    if inside {
                        items.remove(resolved as usize);
                    }
                }
                PathEdit::Insert { new, after } => {
                    let position = if resolved < 0 {
                        0
                    } else if resolved >= len {
                        items.len()
                    } else {
                        resolved as usize + usize::from(*after)
                    };
                    items.insert(position, new.clone());
                }
            }
        }
        // A scalar inside the path: nothing to descend into.
        _ => {}
    }
    Ok(())
}

/// `jsonb_pretty`: four-space indentation, one member per line, as
/// PostgreSQL's `JsonbToCStringIndent` prints it.
fn pretty(v: &Jsonb, level: usize, out: &mut String) {
    let indent = |out: &mut String, level: usize| {
        out.push('\n');
        for _ in 0..level {
            out.push_str("    ");
        }
    };
    match v {
        Jsonb::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                pretty(item, level + 1, out);
            }
            indent(out, level);
            out.push(']');
        }
        Jsonb::Object(fields) => {
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                json::escape_json_string(k, out);
                out.push_str(": ");
                pretty(item, level + 1, out);
            }
            indent(out, level);
            out.push('}');
        }
        scalar => json::format_jsonb(scalar, out),
    }
}
