//! The `jsonb` value: parsed, with object keys deduplicated (last wins) and
//! sorted in jsonb order (shorter keys first, then bytewise), as PostgreSQL
//! stores it.

use std::cmp::Ordering;

use crate::numeric::Numeric;

/// A decomposed jsonb document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Jsonb {
    /// JSON `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, kept exactly as a decimal (`1.0` stays `1.0`).
    Number(Numeric),
    /// A string, de-escaped.
    String(String),
    /// An array, in input order.
    Array(Vec<Jsonb>),
    /// Keys unique and sorted by [`jsonb_key_cmp`].
    Object(Vec<(String, Jsonb)>),
}

/// jsonb's key order: by length, then bytewise.
pub fn jsonb_key_cmp(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

impl Jsonb {
    /// Rank of the kind in PostgreSQL's jsonb btree order:
    /// Object > Array > Boolean > Number > String > Null.
    fn rank(&self) -> u8 {
        match self {
            Jsonb::Null => 0,
            Jsonb::String(_) => 1,
            Jsonb::Number(_) => 2,
            Jsonb::Bool(_) => 3,
            Jsonb::Array(_) => 4,
            Jsonb::Object(_) => 5,
        }
    }
}

impl PartialOrd for Jsonb {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Jsonb {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Jsonb::Null, Jsonb::Null) => Ordering::Equal,
            (Jsonb::String(a), Jsonb::String(b)) => a.cmp(b),
            (Jsonb::Number(a), Jsonb::Number(b)) => a.cmp(b),
            (Jsonb::Bool(a), Jsonb::Bool(b)) => a.cmp(b),
            // Larger containers sort after smaller ones, then element-wise.
            (Jsonb::Array(a), Jsonb::Array(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Jsonb::Object(a), Jsonb::Object(b)) => a.len().cmp(&b.len()).then_with(|| {
                for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
                    let ord = jsonb_key_cmp(ka, kb).then_with(|| va.cmp(vb));
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                Ordering::Equal
            }),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing (a port of the structure of PostgreSQL's src/common/jsonapi.c:
// a lazy lexer and a recursive-descent parser with the same error texts).

use crate::{Error, Result, SqlState};

/// Deepest nesting accepted, to bound recursion on hostile input.
pub const MAX_JSON_DEPTH: usize = 1_000;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    ObjectStart,
    ObjectEnd,
    ArrayStart,
    ArrayEnd,
    Comma,
    Colon,
    /// A string; the payload is the de-escaped value when requested.
    String(Option<String>),
    Number,
    True,
    False,
    Null,
    End,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    /// Start and end of the current token in `input`.
    tok_start: usize,
    tok_end: usize,
    tok: Tok,
    /// Whether strings are de-escaped (jsonb) or only validated (json).
    de_escape: bool,
    /// The first number that could not be converted to a numeric; reported
    /// only if the document is otherwise well-formed, because PostgreSQL
    /// would have accepted the number and reported the syntax error.
    number_error: Option<Error>,
}

fn json_error(detail: impl Into<String>) -> Error {
    Error::new(SqlState::InvalidTextRepresentation, "invalid input syntax for type json")
        .with_detail(detail.into())
}

fn is_json_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str, de_escape: bool) -> Lexer<'a> {
        Lexer {
            input,
            pos: 0,
            tok_start: 0,
            tok_end: 0,
            tok: Tok::End,
            de_escape,
            number_error: None,
        }
    }

    fn token_text(&self) -> &str {
        self.input.get(self.tok_start..self.tok_end).unwrap_or("")
    }

    fn invalid_token(&mut self, end: usize) -> Error {
        self.tok_end = end;
        if self.tok_start >= self.input.len() && end == self.tok_start {
            return json_error("The input string ended unexpectedly.");
        }
        json_error(format!("Token \"{}\" is invalid.", self.token_text()))
    }

    /// Advances to the next token.
    fn lex(&mut self) -> Result<()> {
        let b = self.input.as_bytes();
        let mut p = self.pos;
        while p < b.len() && matches!(b[p], b' ' | b'\t' | b'\n' | b'\r') {
            p += 1;
        }
        self.tok_start = p;
        if p >= b.len() {
            self.tok = Tok::End;
            self.tok_end = p;
            self.pos = p;
            return Ok(());
        }
        let single = match b[p] {
            b'{' => Some(Tok::ObjectStart),
            b'}' => Some(Tok::ObjectEnd),
            b'[' => Some(Tok::ArrayStart),
            b']' => Some(Tok::ArrayEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            _ => None,
        };
        if let Some(t) = single {
            self.tok = t;
            self.tok_end = p + 1;
            self.pos = p + 1;
            return Ok(());
        }
        match b[p] {
            b'"' => self.lex_string(p),
            b'-' | b'0'..=b'9' => self.lex_number(p),
            _ => {
                let mut q = p;
                while q < b.len() && is_json_alnum(b[q]) {
                    q += 1;
                }
                if q == p {
                    // A single (possibly multibyte) character.
                    let len = self.input[p..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
                    return Err(self.invalid_token(p + len));
                }
                let word = &self.input[p..q];
                self.tok = match word {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" => Tok::Null,
                    _ => return Err(self.invalid_token(q)),
                };
                self.tok_end = q;
                self.pos = q;
                Ok(())
            }
        }
    }

    fn lex_number(&mut self, start: usize) -> Result<()> {
        let b = self.input.as_bytes();
        let mut s = start;
        let mut error = false;
        if b[s] == b'-' {
            s += 1;
        }
        if s < b.len() && b[s] == b'0' {
            s += 1;
        } else if s < b.len() && b[s].is_ascii_digit() {
            while s < b.len() && b[s].is_ascii_digit() {
                s += 1;
            }
        } else {
            error = true;
        }
        if s < b.len() && b[s] == b'.' {
            s += 1;
            if s == b.len() || !b[s].is_ascii_digit() {
                error = true;
            } else {
                while s < b.len() && b[s].is_ascii_digit() {
                    s += 1;
                }
            }
        }
        if s < b.len() && (b[s] == b'e' || b[s] == b'E') {
            s += 1;
            if s < b.len() && (b[s] == b'+' || b[s] == b'-') {
                s += 1;
            }
            if s == b.len() || !b[s].is_ascii_digit() {
                error = true;
            } else {
                while s < b.len() && b[s].is_ascii_digit() {
                    s += 1;
                }
            }
        }
        while s < b.len() && is_json_alnum(b[s]) {
            s += 1;
            error = true;
        }
        if error {
            return Err(self.invalid_token(s));
        }
        self.tok = Tok::Number;
        self.tok_end = s;
        self.pos = s;
        Ok(())
    }

    fn lex_string(&mut self, start: usize) -> Result<()> {
        let b = self.input.as_bytes();
        let mut s = start + 1;
        let mut out = if self.de_escape { Some(String::new()) } else { None };
        let mut hi_surrogate: Option<u32> = None;
        let mut run_start = s;
        let low_surrogate_err =
            || json_error("Unicode low surrogate must follow a high surrogate.");
        loop {
            if s >= b.len() {
                return Err(self.invalid_token(s));
            }
            let c = b[s];
            if c == b'"' {
                if hi_surrogate.is_some() {
                    return Err(low_surrogate_err());
                }
                if let Some(o) = out.as_mut() {
                    o.push_str(&self.input[run_start..s]);
                }
                break;
            }
            if c == b'\\' {
                if let Some(o) = out.as_mut() {
                    o.push_str(&self.input[run_start..s]);
                }
                s += 1;
                if s >= b.len() {
                    return Err(self.invalid_token(s));
                }
                if b[s] == b'u' {
                    let mut ch: u32 = 0;
                    for _ in 0..4 {
                        s += 1;
                        if s >= b.len() {
                            return Err(self.invalid_token(s));
                        }
                        let d = (b[s] as char).to_digit(16).ok_or_else(|| {
                            json_error("\"\\u\" must be followed by four hexadecimal digits.")
                        })?;
                        ch = ch * 16 + d;
                    }
                    s += 1;
                    if out.is_none() {
                        // Plain json only validates the escape's syntax.
                        run_start = s;
                        continue;
                    }
                    if (0xD800..=0xDBFF).contains(&ch) {
                        if hi_surrogate.is_some() {
                            return Err(json_error(
                                "Unicode high surrogate must not follow a high surrogate.",
                            ));
                        }
                        hi_surrogate = Some(ch);
                        run_start = s;
                        continue;
                    } else if (0xDC00..=0xDFFF).contains(&ch) {
                        let hi = hi_surrogate.take().ok_or_else(low_surrogate_err)?;
                        ch = ((hi & 0x3FF) << 10) + 0x10000 + (ch & 0x3FF);
                    } else if hi_surrogate.is_some() {
                        return Err(low_surrogate_err());
                    }
                    if let Some(o) = out.as_mut() {
                        if ch == 0 {
                            return Err(Error::new(
                                SqlState::UntranslatableCharacter,
                                "unsupported Unicode escape sequence",
                            )
                            .with_detail("\\u0000 cannot be converted to text."));
                        }
                        o.push(char::from_u32(ch).ok_or_else(low_surrogate_err)?);
                    }
                    run_start = s;
                    continue;
                }
                if hi_surrogate.is_some() {
                    return Err(low_surrogate_err());
                }
                let esc = match b[s] {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    _ => {
                        let ch = self.input[s..].chars().next().unwrap_or('?');
                        return Err(json_error(format!("Escape sequence \"\\{ch}\" is invalid.")));
                    }
                };
                if let Some(o) = out.as_mut() {
                    o.push(esc);
                }
                s += 1;
                run_start = s;
                continue;
            }
            if hi_surrogate.is_some() {
                return Err(low_surrogate_err());
            }
            if c < 0x20 {
                return Err(json_error(format!("Character with value 0x{c:02x} must be escaped.")));
            }
            s += 1;
        }
        self.tok = Tok::String(out);
        self.tok_end = s + 1;
        self.pos = s + 1;
        Ok(())
    }

    fn found(&self) -> String {
        self.token_text().to_string()
    }

    fn unexpected(&self, expected: &str) -> Error {
        if self.tok == Tok::End {
            return json_error("The input string ended unexpectedly.");
        }
        json_error(format!("Expected {expected}, but found \"{}\".", self.found()))
    }
}

/// Parses a value starting at the current token; builds a [`Jsonb`] when
/// `build` is set, otherwise only validates.
fn parse_value(lex: &mut Lexer<'_>, build: bool, depth: usize) -> Result<Option<Jsonb>> {
    if depth > MAX_JSON_DEPTH {
        return Err(Error::new(SqlState::ProgramLimitExceeded, "stack depth limit exceeded"));
    }
    let tok = std::mem::replace(&mut lex.tok, Tok::End);
    let value = match tok {
        Tok::String(s) => {
            lex.lex()?;
            s.map(Jsonb::String)
        }
        Tok::Number => {
            let v = if build {
                let text = lex.token_text();
                match crate::numeric::parse_numeric(text) {
                    Ok(d) => Some(Jsonb::Number(d)),
                    Err(e) => {
                        lex.number_error.get_or_insert(e);
                        Some(Jsonb::Null)
                    }
                }
            } else {
                None
            };
            lex.lex()?;
            v
        }
        Tok::True => {
            lex.lex()?;
            Some(Jsonb::Bool(true))
        }
        Tok::False => {
            lex.lex()?;
            Some(Jsonb::Bool(false))
        }
        Tok::Null => {
            lex.lex()?;
            Some(Jsonb::Null)
        }
        Tok::ObjectStart => {
            lex.lex()?;
            let mut pairs: Vec<(String, Jsonb)> = Vec::new();
            if lex.tok == Tok::ObjectEnd {
                lex.lex()?;
            } else {
                loop {
                    let key = match std::mem::replace(&mut lex.tok, Tok::End) {
                        Tok::String(k) => k,
                        other => {
                            lex.tok = other;
                            return Err(lex.unexpected("string or \"}\""));
                        }
                    };
                    lex.lex()?;
                    if lex.tok != Tok::Colon {
                        return Err(lex.unexpected("\":\""));
                    }
                    lex.lex()?;
                    let v = parse_value(lex, build, depth + 1)?;
                    if let (Some(k), Some(v)) = (key, v) {
                        pairs.push((k, v));
                    }
                    match lex.tok {
                        Tok::Comma => {
                            lex.lex()?;
                            if !matches!(lex.tok, Tok::String(_)) {
                                return Err(lex.unexpected("string"));
                            }
                        }
                        Tok::ObjectEnd => {
                            lex.lex()?;
                            break;
                        }
                        _ => return Err(lex.unexpected("\",\" or \"}\"")),
                    }
                }
            }
            build.then(|| make_object(pairs))
        }
        Tok::ArrayStart => {
            lex.lex()?;
            let mut items = Vec::new();
            if lex.tok == Tok::ArrayEnd {
                lex.lex()?;
            } else {
                loop {
                    if let Some(v) = parse_value(lex, build, depth + 1)? {
                        items.push(v);
                    }
                    match lex.tok {
                        Tok::Comma => lex.lex()?,
                        Tok::ArrayEnd => {
                            lex.lex()?;
                            break;
                        }
                        _ => return Err(lex.unexpected("\",\" or \"]\"")),
                    }
                }
            }
            build.then_some(Jsonb::Array(items))
        }
        other => {
            lex.tok = other;
            return Err(lex.unexpected("JSON value"));
        }
    };
    Ok(value)
}

/// Builds an object with jsonb's key order; on duplicate keys the last
/// value wins, as in PostgreSQL.
pub fn make_object(mut pairs: Vec<(String, Jsonb)>) -> Jsonb {
    // Stable sort keeps input order among equal keys; keep the last one.
    pairs.sort_by(|a, b| jsonb_key_cmp(&a.0, &b.0));
    let mut out: Vec<(String, Jsonb)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if let Some(last) = out.last_mut() {
            if last.0 == k {
                last.1 = v;
                continue;
            }
        }
        out.push((k, v));
    }
    Jsonb::Object(out)
}

fn parse_document(input: &str, build: bool) -> Result<Option<Jsonb>> {
    let mut lex = Lexer::new(input, build);
    lex.lex()?;
    let v = parse_value(&mut lex, build, 0)?;
    if lex.tok != Tok::End {
        return Err(json_error(format!("Expected end of input, but found \"{}\".", lex.found())));
    }
    if let Some(e) = lex.number_error {
        return Err(e);
    }
    Ok(v)
}

/// Parses `jsonb` input: validates as PostgreSQL does (same error texts,
/// SQLSTATE 22P02) and builds the decomposed value; numbers become exact
/// decimals (`1.0` stays `1.0`, `1e2` becomes `100`).
pub fn parse_json_text(input: &str) -> Result<Jsonb> {
    parse_document(input, true)?.ok_or_else(|| Error::internal("jsonb parser built no value"))
}

/// Validates `json` input without building a value (the text is kept
/// verbatim by the caller).
pub fn validate_json_text(input: &str) -> Result<()> {
    parse_document(input, false).map(|_| ())
}

// ---------------------------------------------------------------------------
// Output

/// Appends `s` as a JSON string literal, escaping as PostgreSQL's
/// `escape_json` does.
pub fn escape_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends the PostgreSQL text form of a jsonb value:
/// `{"a": 1, "b": [1, 2]}`.
pub fn format_jsonb(v: &Jsonb, out: &mut String) {
    match v {
        Jsonb::Null => out.push_str("null"),
        Jsonb::Bool(true) => out.push_str("true"),
        Jsonb::Bool(false) => out.push_str("false"),
        Jsonb::Number(d) => crate::numeric::format_numeric(d, out),
        Jsonb::String(s) => escape_json_string(s, out),
        Jsonb::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                format_jsonb(item, out);
            }
            out.push(']');
        }
        Jsonb::Object(pairs) => {
            out.push('{');
            for (i, (k, val)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                escape_json_string(k, out);
                out.push_str(": ");
                format_jsonb(val, out);
            }
            out.push('}');
        }
    }
}

impl std::fmt::Display for Jsonb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        format_jsonb(self, &mut s);
        f.write_str(&s)
    }
}

// ---------------------------------------------------------------------------
// Operator helpers

/// `jsonb -> 'key'`: the value of `key` in an object (binary search on the
/// sorted keys); `None` for missing keys and non-objects.
pub fn get_field<'a>(v: &'a Jsonb, key: &str) -> Option<&'a Jsonb> {
    match v {
        Jsonb::Object(pairs) => {
            pairs.binary_search_by(|(k, _)| jsonb_key_cmp(k, key)).ok().map(|i| &pairs[i].1)
        }
        _ => None,
    }
}

/// `jsonb -> n`: the n-th array element, counting from the end when `n`
/// is negative; `None` when out of range or not an array.
pub fn get_index(v: &Jsonb, index: i64) -> Option<&Jsonb> {
    match v {
        Jsonb::Array(items) => {
            let len = items.len() as i64;
            let i = if index < 0 { len + index } else { index };
            if (0..len).contains(&i) {
                items.get(i as usize)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `jsonb ->> ...` on an extracted value: strings unquoted, JSON null as
/// SQL NULL (`None`), everything else in its jsonb text form.
pub fn to_text(v: &Jsonb) -> Option<String> {
    match v {
        Jsonb::Null => None,
        Jsonb::String(s) => Some(s.clone()),
        other => {
            let mut s = String::new();
            format_jsonb(other, &mut s);
            Some(s)
        }
    }
}

/// `jsonb_typeof`: `object`, `array`, `string`, `number`, `boolean`, `null`.
pub fn type_of(v: &Jsonb) -> &'static str {
    match v {
        Jsonb::Null => "null",
        Jsonb::Bool(_) => "boolean",
        Jsonb::Number(_) => "number",
        Jsonb::String(_) => "string",
        Jsonb::Array(_) => "array",
        Jsonb::Object(_) => "object",
    }
}

fn is_scalar(v: &Jsonb) -> bool {
    !matches!(v, Jsonb::Array(_) | Jsonb::Object(_))
}

/// Array containment as in PostgreSQL's `JsonbDeepContains`: every element
/// of `b` is equal to (scalars) or contained in (containers of the same
/// kind) some element of `a`.
fn array_contains(a: &[Jsonb], b: &[Jsonb]) -> bool {
    b.iter().all(|bv| {
        if is_scalar(bv) {
            a.iter().any(|av| av == bv)
        } else {
            a.iter().any(|av| {
                std::mem::discriminant(av) == std::mem::discriminant(bv) && deep_contains(av, bv)
            })
        }
    })
}

fn deep_contains(a: &Jsonb, b: &Jsonb) -> bool {
    match (a, b) {
        (Jsonb::Object(ap), Jsonb::Object(bp)) => {
            if bp.len() > ap.len() {
                return false;
            }
            bp.iter().all(|(k, bv)| match get_field(a, k) {
                None => false,
                Some(av) => {
                    if is_scalar(bv) {
                        av == bv
                    } else {
                        std::mem::discriminant(av) == std::mem::discriminant(bv)
                            && deep_contains(av, bv)
                    }
                }
            })
        }
        (Jsonb::Array(ai), Jsonb::Array(bi)) => array_contains(ai, bi),
        _ => a == b,
    }
}

/// `a @> b`: whether `a` contains `b`. A top-level array may contain a
/// bare scalar (`'[1,2]' @> '1'`), but not the reverse.
pub fn contains(a: &Jsonb, b: &Jsonb) -> bool {
    match (a, b) {
        (Jsonb::Array(ai), b) if is_scalar(b) => ai.iter().any(|x| x == b),
        _ => deep_contains(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pj(s: &str) -> String {
        parse_json_text(s).expect(s).to_string()
    }

    fn err(s: &str) -> Error {
        parse_json_text(s).expect_err(s)
    }

    #[test]
    fn jsonb_output_matches_postgres() {
        assert_eq!(
            pj(r#"{"a":1,"a":2, "b": [1,2,{}], "aa": null, "": "x\ty"}"#),
            r#"{"": "x\ty", "a": 2, "b": [1, 2, {}], "aa": null}"#
        );
        assert_eq!(
            pj(r#"[1e2, 1.0, -0, 1E-2, "\u00e9\n", true]"#),
            "[100, 1.0, 0, 0.01, \"é\\n\", true]"
        );
        assert_eq!(pj("  {\"a\" : [ 1 , 2 ] }  "), "{\"a\": [1, 2]}");
        assert_eq!(pj("\"\\ud83d\\ude00\""), "\"😀\"");
        assert_eq!(pj("[]"), "[]");
        assert_eq!(pj("{}"), "{}");
        assert_eq!(pj("\"a\\u0001b\""), "\"a\\u0001b\"");
        assert_eq!(pj("\"\\/\""), "\"/\"");
    }

    #[test]
    fn json_errors_match_postgres() {
        let cases = [
            ("01", "Token \"01\" is invalid."),
            ("1abc", "Token \"1abc\" is invalid."),
            ("{\"a\" 1}", "Expected \":\", but found \"1\"."),
            ("{1:2}", "Expected string or \"}\", but found \"1\"."),
            ("[1 2]", "Expected \",\" or \"]\", but found \"2\"."),
            ("\"a\\x\"", "Escape sequence \"\\x\" is invalid."),
            ("\"a\nb\"", "Character with value 0x0a must be escaped."),
            ("[1,2] x", "Token \"x\" is invalid."),
            ("", "The input string ended unexpectedly."),
            ("{\"a\":1,}", "Expected string, but found \"}\"."),
            ("tru", "Token \"tru\" is invalid."),
            ("\"\\ud800\"", "Unicode low surrogate must follow a high surrogate."),
            ("-", "Token \"-\" is invalid."),
            ("1.", "Token \"1.\" is invalid."),
            (".5", "Token \".\" is invalid."),
            ("\"\\u00\"", "\"\\u\" must be followed by four hexadecimal digits."),
            ("\"\\u00", "Token \"\"\\u00\" is invalid."),
            ("{\"a\":1", "The input string ended unexpectedly."),
            ("[1,2,]", "Expected JSON value, but found \"]\"."),
            ("[1] [2]", "Expected end of input, but found \"[\"."),
        ];
        for (input, detail) in cases {
            let e = err(input);
            assert_eq!(e.message, "invalid input syntax for type json", "{input}");
            assert_eq!(e.detail.as_deref(), Some(detail), "{input}");
            assert_eq!(e.state.code(), "22P02");
            // Plain json does not check surrogate pairing (PostgreSQL only
            // does when de-escaping), so "\ud800" is valid json.
            assert_eq!(validate_json_text(input).is_err(), !input.contains("\\ud8"), "{input}");
        }
        let e = err("\"\\u0000\"");
        assert_eq!(e.message, "unsupported Unicode escape sequence");
        assert_eq!(e.state.code(), "22P05");
        assert!(validate_json_text("\"\\u0000\"").is_ok());
    }

    #[test]
    fn helpers() {
        let v = parse_json_text(r#"{"a": {"b": [1, 2, {"c": true}]}, "s": "x", "n": null}"#)
            .expect("ok");
        let a = get_field(&v, "a").expect("a");
        let arr = get_field(a, "b").expect("b");
        assert_eq!(get_index(arr, -1).map(|x| x.to_string()), Some("{\"c\": true}".into()));
        assert_eq!(get_index(arr, 3), None);
        assert_eq!(to_text(get_field(&v, "s").expect("s")), Some("x".into()));
        assert_eq!(to_text(get_field(&v, "n").expect("n")), None);
        assert_eq!(to_text(arr), Some("[1, 2, {\"c\": true}]".into()));
        assert_eq!(type_of(arr), "array");
        let p = |s: &str| parse_json_text(s).expect(s);
        assert!(contains(&v, &p(r#"{"a": {"b": [2]}}"#)));
        assert!(contains(&v, &p(r#"{"a": {"b": [{"c": true}]}}"#)));
        assert!(!contains(&v, &p(r#"{"a": {"b": [3]}}"#)));
        assert!(contains(&p("[1, 2, [3]]"), &p("[[3], 1]")));
        assert!(!contains(&p("[1, 2, [3]]"), &p("[3]")));
        assert!(contains(&p(r#"["foo", "bar"]"#), &p(r#""foo""#)));
        assert!(!contains(&p(r#""foo""#), &p(r#"["foo"]"#)));
        assert!(contains(&p("{}"), &p("{}")));
        assert!(!contains(&p("{\"a\": 1}"), &p("[]")));
        assert!(contains(&p("1"), &p("1")));
    }
}
