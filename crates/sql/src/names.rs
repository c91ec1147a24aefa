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
