//! PostgreSQL's `format(formatstr, args...)` and the quoting functions it
//! shares with SQL: `quote_literal` and `quote_nullable` (`quote_ident` is
//! in `catalog_func`, beside the keyword list it needs).
//!
//! A format string is parsed into [`Spec`]s as PostgreSQL's `text_format`
//! reads it: `%[position$][flags][width]type` with type `s` (the value as
//! text, NULL as nothing), `I` (an identifier, quoted as needed; NULL is
//! 22004) or `L` (a literal, quoted; NULL as `NULL`), `%%` for `%`, the
//! `-` flag to left-align, and `*` / `*n$` to take the width from an
//! argument. Arguments arrive already converted to text (the binder applies
//! each one's output function), so `%L` of 42 is `'42'` as in PostgreSQL.

use freshet_common::{Datum, Error, Result, SqlState};

use crate::catalog_func::quote_ident;

/// Where a width comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Width {
    None,
    Fixed(usize),
    /// `*` (next argument) or `*n$` (argument n, 1-based).
    FromArg(Option<usize>),
}

/// The conversion of one `%` specifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conversion {
    /// `%s`
    Text,
    /// `%I`
    Identifier,
    /// `%L`
    Literal,
}

/// One `%...` specifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Spec {
    /// `n$`: argument n (1-based); otherwise the next one.
    position: Option<usize>,
    left_align: bool,
    width: Width,
    conversion: Conversion,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(SqlState::InvalidParameterValue, message)
}

fn unterminated() -> Error {
    invalid("unterminated format() type specifier")
        .with_hint("For a single \"%\" use \"%%\".")
}

/// Reads a decimal number at `chars[*i..]`; `None` when there is none.
fn number(chars: &[char], i: &mut usize) -> Result<Option<usize>> {
    let start = *i;
    let mut value: usize = 0;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(d as usize))
            .filter(|v| *v <= i32::MAX as usize)
            .ok_or_else(|| invalid("number is out of range"))?;
        *i += 1;
    }
    Ok((*i > start).then_some(value))
}

/// Parses the specifier after a `%` at `chars[*i..]` (PostgreSQL's
/// `text_format_parse_format`).
fn parse_spec(chars: &[char], i: &mut usize) -> Result<Spec> {
    let mut spec = Spec { position: None, left_align: false, width: Width::None, conversion: Conversion::Text };
    // A leading number is a position if `$` follows, else a width.
    if let Some(n) = number(chars, i)? {
        if chars.get(*i) == Some(&'$') {
            *i += 1;
            if n == 0 {
                return Err(invalid("format specifies argument 0, but arguments are numbered from 1"));
            }
            spec.position = Some(n);
        } else {
            spec.width = Width::Fixed(n);
            return finish_spec(chars, i, spec);
        }
    }
    while chars.get(*i) == Some(&'-') {
        spec.left_align = true;
        *i += 1;
    }
    if chars.get(*i) == Some(&'*') {
        *i += 1;
        let arg = match number(chars, i)? {
            Some(n) => {
                if chars.get(*i) != Some(&'$') {
                    return Err(unterminated());
                }
                *i += 1;
                if n == 0 {
                    return Err(invalid("format specifies argument 0, but arguments are numbered from 1"));
                }
                Some(n)
            }
            None => None,
        };
        spec.width = Width::FromArg(arg);
    } else if let Some(n) = number(chars, i)? {
        spec.width = Width::Fixed(n);
    }
    finish_spec(chars, i, spec)
}

fn finish_spec(chars: &[char], i: &mut usize, mut spec: Spec) -> Result<Spec> {
    let Some(&c) = chars.get(*i) else { return Err(unterminated()) };
    *i += 1;
    spec.conversion = match c {
        's' => Conversion::Text,
        'I' => Conversion::Identifier,
        'L' => Conversion::Literal,
        other => return Err(invalid(format!("unrecognized format() type specifier \"{other}\""))
            .with_hint("For a single \"%\" use \"%%\".")),
    };
    Ok(spec)
}

/// `quote_literal(text)`: single quotes doubled; a string with
/// backslashes doubles them too and gets an `E` prefix.
pub fn quote_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    if s.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `format(formatstr, args...)` over arguments already converted to text
/// (NULL stays NULL). A NULL format string gives NULL.
pub fn format(args: &[Datum]) -> Result<Datum> {
    let Some(Datum::Text(template)) = args.first() else { return Ok(Datum::Null) };
    let values = &args[1..];
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::with_capacity(template.len());
    // The argument the next unnumbered specifier (or `*`) takes, 0-based.
    let mut next = 0usize;
    let arg = |n: usize| -> Result<&Datum> { values.get(n).ok_or_else(|| invalid("too few arguments for format()")) };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let spec = parse_spec(&chars, &mut i)?;
        let mut left_align = spec.left_align;
        let width = match spec.width {
            Width::None => None,
            Width::Fixed(w) => Some(w),
            Width::FromArg(position) => {
                let index = match position {
                    Some(n) => n - 1,
                    None => next,
                };
                next = index + 1;
                match arg(index)? {
                    Datum::Null => None,
                    v => {
                        let text = v.as_str().unwrap_or("");
                        let w: i64 = text.trim().parse().map_err(|_| {
                            Error::new(SqlState::InvalidTextRepresentation, format!("invalid input syntax for type integer: \"{text}\""))
                        })?;
                        if w < 0 {
                            left_align = true;
                        }
                        let w = w.unsigned_abs();
                        if w > i32::MAX as u64 {
                            return Err(invalid("number is out of range"));
                        }
                        Some(w as usize)
                    }
                }
            }
        };
        let index = match spec.position {
            Some(n) => n - 1,
            None => next,
        };
        next = index + 1;
        let value = arg(index)?;
        let text = match (spec.conversion, value) {
            (Conversion::Text, Datum::Null) => String::new(),
            (Conversion::Literal, Datum::Null) => "NULL".to_string(),
            (Conversion::Identifier, Datum::Null) => {
                return Err(Error::new(SqlState::NullValueNotAllowed, "null values cannot be formatted as an SQL identifier"))
            }
            (Conversion::Text, v) => v.as_str().unwrap_or("").to_string(),
            (Conversion::Identifier, v) => quote_ident(v.as_str().unwrap_or("")),
            (Conversion::Literal, v) => quote_literal(v.as_str().unwrap_or("")),
        };
        let len = text.chars().count();
        match width {
            Some(w) if w > len && left_align => {
                out.push_str(&text);
                out.extend(std::iter::repeat_n(' ', w - len));
            }
            Some(w) if w > len => {
                out.extend(std::iter::repeat_n(' ', w - len));
                out.push_str(&text);
            }
            _ => out.push_str(&text),
        }
    }
    Ok(Datum::Text(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(template: &str, args: &[Option<&str>]) -> Result<String> {
        let mut all = vec![Datum::Text(template.into())];
        all.extend(args.iter().map(|a| a.map_or(Datum::Null, |s| Datum::Text(s.into()))));
        match format(&all)? {
            Datum::Text(s) => Ok(s),
            other => panic!("format returned {other:?}"),
        }
    }

    #[test]
    fn specifiers_positions_and_widths() {
        assert_eq!(run("Hello %s, %1$s %%", &[Some("World")]).unwrap(), "Hello World, World %");
        assert_eq!(run("|%10s|%-10s|", &[Some("a"), Some("b")]).unwrap(), "|         a|b         |");
        assert_eq!(run("|%*s|%-*s|", &[Some("4"), Some("a"), Some("-4"), Some("b")]).unwrap(), "|   a|b   |");
        assert_eq!(run("|%*s|", &[Some("-3"), Some("x")]).unwrap(), "|x  |");
        assert_eq!(run("%I.%I %L %L", &[Some("Tab"), Some("ok"), None, Some("it's")]).unwrap(), "\"Tab\".ok NULL 'it''s'");
        assert_eq!(run("%s|%L", &[None, Some("a\\b")]).unwrap(), "|E'a\\\\b'");
        // An unnumbered specifier takes the argument after the last one used.
        assert_eq!(run("%2$s %1$s %s", &[Some("a"), Some("b")]).unwrap(), "b a b");
        assert_eq!(run("%s %s", &[Some("a")]).unwrap_err().message, "too few arguments for format()");
    }

    #[test]
    fn bad_templates_are_errors_not_panics() {
        for t in ["%", "%1", "%-", "%*", "%*1", "%q", "%0$s", "%99999999999s", "%1$"] {
            let e = run(t, &[Some("x"), Some("1")]).unwrap_err();
            assert!(matches!(e.state, SqlState::InvalidParameterValue), "{t}: {e:?}");
        }
        assert_eq!(run("%I", &[None]).unwrap_err().state, SqlState::NullValueNotAllowed);
    }
}
