//! LIKE/ILIKE pattern matching and POSIX regular expressions (`~`).

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

/// Matches `s` against a POSIX regular expression (approximated with the
/// `regex` crate's syntax, which covers the common subset).
pub fn regex_match(s: &str, pattern: &str, case_insensitive: bool) -> Result<bool> {
    let re = regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .build()
        .map_err(|e| {
            Error::new(
                SqlState::InvalidRegularExpression,
                format!("invalid regular expression: {e}"),
            )
        })?;
    Ok(re.is_match(s))
}

#[cfg(test)]
mod tests {
    use super::*;

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
