//! LIKE/ILIKE pattern matching, SIMILAR TO (translated to a regular
//! expression) and POSIX regular expressions (`~`).

use freshet_common::{Error, Result, SqlState};

/// Matches `s` against the LIKE `pattern` (`%` any run, `_` one character,
/// `escape` quoting the next character).
pub fn like_match(s: &str, pattern: &str, escape: Option<char>, case_insensitive: bool) -> Result<bool> {
    let (s, pattern) = if case_insensitive {
        (s.to_lowercase(), pattern.to_lowercase())
    } else {
        (s.to_string(), pattern.to_string())
    };
    let text: Vec<char> = s.chars().collect();
    // Compile the pattern into tokens.
    enum Tok {
        Lit(char),
        One,
        Any,
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            match chars.next() {
                Some(n) => toks.push(Tok::Lit(n)),
                None => {
                    return Err(Error::new(
                        SqlState::InvalidEscapeSequence,
                        "LIKE pattern must not end with escape character",
                    ))
                }
            }
        } else if c == '%' {
            toks.push(Tok::Any);
        } else if c == '_' {
            toks.push(Tok::One);
        } else {
            toks.push(Tok::Lit(c));
        }
    }
    // Iterative matcher with backtracking to the last `%`.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        match toks.get(pi) {
            Some(Tok::Lit(c)) if *c == text[ti] => {
                ti += 1;
                pi += 1;
            }
            Some(Tok::One) => {
                ti += 1;
                pi += 1;
            }
            Some(Tok::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return Ok(false),
            },
        }
    }
    while matches!(toks.get(pi), Some(Tok::Any)) {
        pi += 1;
    }
    Ok(pi == toks.len())
}

/// Rewrites a LIKE pattern written with escape character `esc` (none when
/// `None`) into the backslash-escaped form [`like_match`] reads.
pub fn rewrite_escape(pattern: &str, esc: Option<char>) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == esc {
            if let Some(n) = chars.next() {
                out.push('\\');
                out.push(n);
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

/// Matches `s` against a POSIX regular expression (approximated with the
/// `regex` crate's syntax, which covers the common subset).
pub fn regex_match(s: &str, pattern: &str, case_insensitive: bool) -> Result<bool> {
    let invalid = |e: &dyn std::fmt::Display| {
        Error::new(SqlState::InvalidRegularExpression, format!("invalid regular expression: {e}"))
    };
    match compiled(pattern, case_insensitive) {
        Ok(re) => Ok(re.is_match(s)),
        // Back-references (`(a)\1`), which the linear-time engine lacks,
        // go to a backtracking one.
        Err(_) if has_backreference(pattern) => {
            // Case-insensitively, a back-reference matches across case too:
            // match the lower-cased text with a case-insensitive pattern.
            let (flagged, subject) = if case_insensitive {
                (format!("(?i){pattern}"), s.to_lowercase())
            } else {
                (pattern.to_string(), s.to_string())
            };
            let re = fancy_regex::Regex::new(&flagged).map_err(|e| invalid(&e))?;
            re.is_match(&subject).map_err(|e| invalid(&e))
        }
        Err(e) => Err(invalid(&e)),
    }
}

/// The compiled form of a pattern, from a small per-thread cache: a
/// filter like `col ~ 'pattern'` compiles once, not once per row.
fn compiled(pattern: &str, case_insensitive: bool) -> std::result::Result<regex::Regex, regex::Error> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    /// Patterns kept per thread; the cache is emptied when full.
    const CACHED_MAX: usize = 64;
    thread_local! {
        static CACHE: RefCell<HashMap<(String, bool), regex::Regex>> = RefCell::new(HashMap::new());
    }
    let key = (pattern.to_string(), case_insensitive);
    if let Some(re) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let re = regex::RegexBuilder::new(pattern).case_insensitive(case_insensitive).build()?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHED_MAX {
            c.clear();
        }
        c.insert(key, re.clone());
    });
    Ok(re)
}

/// Whether a pattern has a back-reference `\1`..`\9` (outside a bracket
/// expression, roughly: a backslash followed by a nonzero digit).
fn has_backreference(pattern: &str) -> bool {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'\\' {
            if (b'1'..=b'9').contains(&bytes[i + 1]) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// `regexp_replace(source, pattern, replacement, flags)`: replaces the
/// first match (every match with flag `g`; `i` ignores case). In the
/// replacement, `\1`..`\9` insert capture groups, `\&` the whole match,
/// `\\` a backslash, as in PostgreSQL.
pub fn regexp_replace(source: &str, pattern: &str, replacement: &str, flags: &str) -> Result<String> {
    let (global, case_insensitive) = regexp_flags(flags)?;
    let re = compiled_or_error(pattern, case_insensitive)?;
    let expand = |caps: &regex::Captures<'_>| -> String {
        let mut out = String::new();
        let mut chars = replacement.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek().copied() {
                    Some(d @ '1'..='9') => {
                        chars.next();
                        let group = d as usize - '0' as usize;
                        out.push_str(caps.get(group).map(|m| m.as_str()).unwrap_or(""));
                    }
                    Some('&') => {
                        chars.next();
                        out.push_str(&caps[0]);
                    }
                    Some('\\') => {
                        chars.next();
                        out.push('\\');
                    }
                    _ => out.push('\\'),
                },
                other => out.push(other),
            }
        }
        out
    };
    let limit = if global { 0 } else { 1 };
    Ok(re.replacen(source, limit, |caps: &regex::Captures<'_>| expand(caps)).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexp_replace_like_postgres() {
        assert_eq!(regexp_replace("abcabc", "b", "x", "").unwrap(), "axcabc");
        assert_eq!(regexp_replace("abcabc", "B", "x", "gi").unwrap(), "axcaxc");
        assert_eq!(regexp_replace("john smith", "(\\w+) (\\w+)", "\\2, \\1", "").unwrap(), "smith, john");
        assert_eq!(regexp_replace("abc", "b", "[&]", "").unwrap(), "a[&]c");
        assert_eq!(regexp_replace("abc", "b", "[\\&]", "").unwrap(), "a[b]c");
        assert!(regexp_replace("abc", "(", "x", "").is_err());
    }

    #[test]
    fn back_references_match() {
        assert!(regex_match("abab", "(ab)\\1", false).unwrap());
        assert!(!regex_match("abac", "^(ab)\\1$", false).unwrap());
        assert!(regex_match("ABab", "(ab)\\1", true).unwrap());
        assert!(regex_match("a(b", "a\\(b", false).unwrap());
        assert!(regex_match("x(", "(", false).is_err());
    }

    #[test]
    fn like_basics() {
        assert!(like_match("hello", "h%o", Some('\\'), false).unwrap());
        assert!(like_match("hello", "h_llo", Some('\\'), false).unwrap());
        assert!(!like_match("hello", "h_lo", Some('\\'), false).unwrap());
        assert!(like_match("", "%", Some('\\'), false).unwrap());
        assert!(like_match("a%b", "a\\%b", Some('\\'), false).unwrap());
        assert!(!like_match("axb", "a\\%b", Some('\\'), false).unwrap());
        assert!(like_match("HeLLo", "hello", Some('\\'), true).unwrap());
        assert!(like_match("abcabc", "%abc", Some('\\'), false).unwrap());
        assert!(like_match("mississippi", "%iss%pi", Some('\\'), false).unwrap());
    }
}

/// PostgreSQL's `similar_to_escape(pattern [, escape])`: a SIMILAR TO
/// pattern as the anchored regular expression that matches the same
/// strings (`%` is `.*`, `_` is `.`, `(` does not capture, `.`, `^`, `$`
/// and `\\` are literal, `|`, `*`, `+`, `?`, `{m,n}` and bracket
/// expressions keep their regex meaning). `escape` is the escape
/// character, `None` for none (the default is a backslash).
pub fn similar_to_regex(pattern: &str, escape: Option<char>) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    out.push_str("^(?:");
    let mut after_escape = false;
    let mut in_class = false;
    for c in pattern.chars() {
        if after_escape {
            // An escaped character stands for itself.
            if c.is_alphanumeric() {
                out.push(c);
            } else {
                out.push('\\');
                out.push(c);
            }
            after_escape = false;
        } else if Some(c) == escape {
            after_escape = true;
        } else if in_class {
            if c == '\\' {
                out.push('\\');
            }
            out.push(c);
            if c == ']' {
                in_class = false;
            }
        } else {
            match c {
                '[' => {
                    out.push('[');
                    in_class = true;
                }
                '%' => out.push_str(".*"),
                '_' => out.push('.'),
                '(' => out.push_str("(?:"),
                '\\' | '.' | '^' | '$' => {
                    out.push('\\');
                    out.push(c);
                }
                other => out.push(other),
            }
        }
    }
    out.push_str(")$");
    out
}

/// The flags of the regexp_* functions: `g` (every match) and `i` or `c`
/// (ignore case or not); others are 22023 as in PostgreSQL.
fn regexp_flags(flags: &str) -> Result<(bool, bool)> {
    let (mut global, mut case_insensitive) = (false, false);
    for f in flags.chars() {
        match f {
            'g' => global = true,
            'i' => case_insensitive = true,
            'c' => case_insensitive = false,
            other => {
                return Err(Error::new(SqlState::InvalidParameterValue, format!("invalid regular expression option: \"{other}\"")))
            }
        }
    }
    Ok((global, case_insensitive))
}

fn compiled_or_error(pattern: &str, case_insensitive: bool) -> Result<regex::Regex> {
    compiled(pattern, case_insensitive)
        .map_err(|e| Error::new(SqlState::InvalidRegularExpression, format!("invalid regular expression: {e}")))
}

/// `regexp_split_to_array` / `regexp_split_to_table`: the pieces between
/// matches; as in PostgreSQL, an empty match at the start or end of the
/// string or right after the previous match does not split.
pub fn regexp_split(source: &str, pattern: &str, flags: &str) -> Result<Vec<String>> {
    let (global, case_insensitive) = regexp_flags(flags)?;
    if global {
        return Err(Error::new(SqlState::InvalidParameterValue, "regexp_split_to_array() does not support the \"global\" option"));
    }
    let re = compiled_or_error(pattern, case_insensitive)?;
    let mut pieces = Vec::new();
    let mut start = 0;
    for m in re.find_iter(source) {
        if m.start() == m.end() && (m.start() == 0 || m.start() == source.len() || m.start() == start) {
            continue;
        }
        pieces.push(source[start..m.start()].to_string());
        start = m.end();
    }
    pieces.push(source[start..].to_string());
    Ok(pieces)
}

/// `regexp_matches(source, pattern [, flags])`: for the first match (each
/// match with `g`), its capture groups (NULL for one that took no part),
/// or the whole match when the pattern has no groups.
pub fn regexp_matches(source: &str, pattern: &str, flags: &str) -> Result<Vec<Vec<Option<String>>>> {
    let (global, case_insensitive) = regexp_flags(flags)?;
    let re = compiled_or_error(pattern, case_insensitive)?;
    let mut out = Vec::new();
    for caps in re.captures_iter(source) {
        let row = if caps.len() > 1 {
            (1..caps.len()).map(|i| caps.get(i).map(|m| m.as_str().to_string())).collect()
        } else {
            vec![caps.get(0).map(|m| m.as_str().to_string())]
        };
        out.push(row);
        if !global {
            break;
        }
    }
    Ok(out)
}

/// `string_to_array(source, delimiter [, null_string])` /
/// `string_to_table`: a NULL delimiter splits into characters, an empty
/// one keeps the string whole; an empty source gives no elements; a piece
/// equal to `null_string` is NULL.
pub fn string_split(source: &str, delimiter: Option<&str>, null_string: Option<&str>) -> Vec<Option<String>> {
    if source.is_empty() {
        return Vec::new();
    }
    let pieces: Vec<String> = match delimiter {
        None => source.chars().map(|c| c.to_string()).collect(),
        Some("") => vec![source.to_string()],
        Some(d) => source.split(d).map(str::to_string).collect(),
    };
    pieces.into_iter().map(|p| if Some(p.as_str()) == null_string { None } else { Some(p) }).collect()
}
