//! Identifier normalisation: PostgreSQL folds unquoted identifiers to lower
//! case and keeps quoted ones verbatim.

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

/// The normalised name of one identifier.
pub fn ident(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// The normalised parts of a possibly qualified name.
pub fn object_name(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(id) => ident(id),
            other => other.to_string().to_lowercase(),
        })
        .collect()
}

/// Splits a possibly qualified name into (schema, name); a three-part name
/// drops its database part.
pub fn schema_and_name(name: &ObjectName) -> (Option<String>, String) {
    let mut parts = object_name(name);
    let last = parts.pop().unwrap_or_default();
    (parts.pop(), last)
}

/// Collations whose order is Freshet's text order (by code point).
const CODE_POINT_COLLATIONS: &[&str] = &["default", "C", "POSIX", "ucs_basic"];

/// Accepts a COLLATE name whose order Freshet implements (text compares by
/// code point: `C`, `POSIX`, `ucs_basic`, `default`) and returns it (`None`
/// for `default`); any other collation would be ignored silently, so it is
/// refused (0A000).
pub fn check_collation(name: &ObjectName) -> freshet_common::Result<Option<String>> {
    let parts = object_name(name);
    let (schema, collation) = match parts.as_slice() {
        [c] => (None, c.as_str()),
        [s, c] => (Some(s.as_str()), c.as_str()),
        _ => return Err(freshet_common::Error::syntax(format!("improper qualified name: {name}"))),
    };
    if CODE_POINT_COLLATIONS.contains(&collation) && schema.is_none_or(|s| s == "pg_catalog") {
        return Ok((collation != "default").then(|| collation.to_string()));
    }
    Err(freshet_common::Error::new(
        freshet_common::SqlState::FeatureNotSupported,
        format!("collation \"{collation}\" is not supported"),
    )
    .with_hint("Freshet compares text by code point, as the \"C\" collation does; use COLLATE \"C\" or no COLLATE."))
}

/// `name` as an SQL identifier: bare when PostgreSQL would print it bare,
/// else double-quoted.
pub fn quote_ident(name: &str) -> String {
    let bare = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && sqlparser::keywords::ALL_KEYWORDS.binary_search(&name.to_ascii_uppercase().as_str()).is_err();
    if bare {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The column names an expression's text refers to (every identifier, as
/// normalised names), read from its tokens.
pub fn identifiers_in(expr: &str) -> Vec<String> {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, expr).tokenize() else { return vec![] };
    tokens
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) if w.quote_style.is_some() => Some(w.value),
            Token::Word(w) => Some(w.value.to_lowercase()),
            _ => None,
        })
        .collect()
}

/// An expression's text with every identifier naming column `old` renamed
/// to `new` (stored CHECK and generation expressions after RENAME COLUMN).
/// A function or type that happens to share the name is left alone when it
/// is followed by `(`; text that does not tokenize is returned unchanged.
pub fn rename_identifier(expr: &str, old: &str, new: &str) -> String {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, expr).tokenize() else { return expr.to_string() };
    let mut out = String::with_capacity(expr.len());
    for (i, t) in tokens.iter().enumerate() {
        let names_old = match t {
            Token::Word(w) if w.quote_style.is_some() => w.value == old,
            Token::Word(w) => w.value.to_lowercase() == old,
            _ => false,
        };
        let called = tokens[i + 1..].iter().find(|t| !matches!(t, Token::Whitespace(_))) == Some(&Token::LParen);
        if names_old && !called {
            out.push_str(&quote_ident(new));
        } else {
            out.push_str(&t.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{identifiers_in, quote_ident, rename_identifier};

    #[test]
    fn renames_only_the_column() {
        assert_eq!(rename_identifier("(a * 2) + \"a\"", "a", "b"), "(b * 2) + b");
        assert_eq!(rename_identifier("lower(name) || 'name'", "name", "Full Name"), "lower(\"Full Name\") || 'name'");
        assert_eq!(rename_identifier("lower(x)", "lower", "y"), "lower(x)");
        assert_eq!(identifiers_in("(\"A\" + b)"), vec!["A".to_string(), "b".to_string()]);
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("ok_1"), "ok_1");
    }
}
