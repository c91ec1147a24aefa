//! The key a row has in a unique index, and whether it has one: plain
//! column keys, expression keys (`CREATE UNIQUE INDEX ON t (lower(name))`),
//! partial indexes (`... WHERE active`) and NULLS NOT DISTINCT.
//!
//! Expression parts and predicates are stored as SQL text; they are bound
//! once per index definition over the table's row (with no other catalog
//! objects in reach: index expressions may only use immutable functions)
//! and cached by index OID for as long as the table's columns and the
//! texts stay what they were bound against.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use freshet_common::io::TextContext;
use freshet_common::{DataType, Datum, Error, Result};
use freshet_expr::{EvalContext, ScalarExpr};
use freshet_sql::catalog::{Catalog, RelationInfo};
use parking_lot::Mutex;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::catalog::{IndexDef, KeyPart, RelationDef};
use crate::state::key_of;

/// An index's expression parts and predicate, bound over its table's row.
struct Compiled {
    /// One per key part: `None` for a column part.
    parts: Vec<Option<ScalarExpr>>,
    predicate: Option<ScalarExpr>,
    /// What the expressions were bound against: the table's columns and
    /// the texts. A cached entry serves only while these are unchanged.
    columns: Vec<(String, DataType)>,
    expressions: Vec<(usize, String)>,
    predicate_text: Option<String>,
}

impl Compiled {
    fn still_valid(&self, rel: &RelationDef, index: &IndexDef) -> bool {
        self.expressions == index.expressions
            && self.predicate_text == index.predicate
            && self.columns.len() == rel.columns.len()
            && self.columns.iter().zip(&rel.columns).all(|((name, ty), c)| *name == c.name && *ty == c.ty)
    }
}

/// Compiled indexes by index OID.
fn cache() -> &'static Mutex<HashMap<u32, Arc<Compiled>>> {
    static CACHE: OnceLock<Mutex<HashMap<u32, Arc<Compiled>>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// A catalog with nothing in it: index expressions see only their row.
struct RowOnly;

impl Catalog for RowOnly {
    fn database(&self) -> &str {
        ""
    }
    fn search_path(&self) -> Vec<String> {
        vec!["pg_catalog".into()]
    }
    fn relation(&self, _: Option<&str>, _: &str) -> Option<RelationInfo> {
        None
    }
    fn relation_by_oid(&self, _: u32) -> Option<RelationInfo> {
        None
    }
    fn schema_exists(&self, _: &str) -> bool {
        false
    }
    fn setting(&self, _: &str) -> Option<String> {
        None
    }
    fn user(&self) -> &str {
        ""
    }
    fn backend_pid(&self) -> i32 {
        0
    }
}

fn compile(rel: &RelationDef, index: &IndexDef) -> Result<Arc<Compiled>> {
    if let Some(found) = cache().lock().get(&index.oid).filter(|c| c.still_valid(rel, index)) {
        return Ok(found.clone());
    }
    let info = rel.info();
    let catalog = RowOnly;
    let mut binder = freshet_sql::Binder::new(&catalog, vec![], TextContext::default());
    let parse = |text: &str| {
        Parser::new(&PostgreSqlDialect {})
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| Error::internal(format!("stored expression of index \"{}\" does not parse: {e}", index.name)))
    };
    let mut parts = Vec::new();
    for part in index.key_parts() {
        parts.push(match part {
            KeyPart::Column(_) => None,
            KeyPart::Expression(text) => Some(binder.bind_table_expr(&parse(text)?, &info)?),
        });
    }
    let predicate = match &index.predicate {
        Some(text) => Some(binder.bind_table_condition(&parse(text)?, &info)?),
        None => None,
    };
    let compiled = Arc::new(Compiled {
        parts,
        predicate,
        columns: rel.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect(),
        expressions: index.expressions.clone(),
        predicate_text: index.predicate.clone(),
    });
    cache().lock().insert(index.oid, compiled.clone());
    Ok(compiled)
}

/// The key of `row` in unique index `index` of `rel`, or `None` when the
/// row is not indexed (outside a partial index's predicate) or cannot
/// conflict (a NULL key part, unless NULLS NOT DISTINCT).
pub fn index_key(rel: &RelationDef, index: &IndexDef, row: &[Datum]) -> Result<Option<Vec<Datum>>> {
    if index.is_plain() {
        return Ok(key_of(row, &index.columns));
    }
    let compiled = compile(rel, index)?;
    let text = TextContext::default();
    let ctx = EvalContext {
        params: &[],
        outer: &[],
        text: &text,
        subqueries: None,
        // Index expressions are immutable (CREATE INDEX refuses the rest),
        // so no clock is read per row.
        now: freshet_common::datetime::TimestampTz(0),
        sequences: None,
    };
    if let Some(p) = &compiled.predicate {
        if p.eval(row, &ctx)? != Datum::Bool(true) {
            return Ok(None);
        }
    }
    let mut key = Vec::with_capacity(compiled.parts.len());
    for (part, expr) in index.key_parts().into_iter().zip(&compiled.parts) {
        let value = match (part, expr) {
            (_, Some(e)) => e.eval(row, &ctx)?,
            (KeyPart::Column(c), None) => row.get(c).cloned().unwrap_or(Datum::Null),
            (KeyPart::Expression(_), None) => return Err(Error::internal("index expression was not compiled")),
        };
        if value.is_null() && !index.nulls_not_distinct {
            return Ok(None);
        }
        key.push(value);
    }
    Ok(Some(key))
}

/// How a key of `index` is shown in a 23505 message: its column names and
/// expressions, `(a, lower(b))`.
pub fn key_columns_text(rel: &RelationDef, index: &IndexDef) -> String {
    index
        .key_parts()
        .into_iter()
        .map(|p| match p {
            KeyPart::Column(c) => rel.columns.get(c).map(|c| c.name.clone()).unwrap_or_default(),
            KeyPart::Expression(e) => e.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
