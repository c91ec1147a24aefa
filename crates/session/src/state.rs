//! Database state: the catalog plus every table's rows, as one cheaply
//! clonable value. A snapshot is a clone; a transaction edits its own clone
//! (persistent maps share structure, so a clone is O(1)).

use std::sync::Arc;

use freshet_common::{DataType, Datum, Error, Result, SqlState};
use imbl::{HashMap as PHashMap, OrdMap};

use crate::catalog::{CatalogState, IndexDef, KeyPart, RelationDef};
use crate::index_key::index_key;

/// A stored row: shared, so snapshots, transaction logs and scans never
/// copy it.
pub type StoredRow = Arc<[Datum]>;

/// One table's rows and its unique-key indexes.
#[derive(Clone, Debug, Default)]
pub struct TableData {
    /// Rows by row id.
    pub rows: OrdMap<u64, StoredRow>,
    /// One index per uniqueness constraint, in
    /// [`RelationDef::unique_constraints`] order: key values -> row id.
    /// Keys containing NULL are not indexed (NULLs never conflict).
    pub keys: Vec<PHashMap<Vec<Datum>, u64>>,
}

impl TableData {
    /// An empty table shaped for `rel`.
    pub fn new(rel: &RelationDef) -> TableData {
        TableData { rows: OrdMap::new(), keys: vec![PHashMap::new(); rel.unique_constraints().len()] }
    }

    /// Rebuilds the key indexes after the constraints changed; 23505 if
    /// existing rows violate a new constraint.
    pub fn rebuild_keys(&mut self, rel: &RelationDef) -> Result<()> {
        let constraints = rel.unique_constraints();
        let mut keys = vec![PHashMap::new(); constraints.len()];
        for (id, row) in self.rows.iter() {
            for (k, c) in constraints.iter().enumerate() {
                if let Some(key) = index_key(rel, c, row)? {
                    if keys[k].insert(key.clone(), *id).is_some() {
                        return Err(unique_violation(rel, c, &key));
                    }
                }
            }
        }
        self.keys = keys;
        Ok(())
    }
}

/// The key of `row` over `columns`, or `None` if any part is NULL.
pub fn key_of(row: &[Datum], columns: &[usize]) -> Option<Vec<Datum>> {
    let mut key = Vec::with_capacity(columns.len());
    for c in columns {
        let d = row.get(*c)?;
        if d.is_null() {
            return None;
        }
        key.push(d.clone());
    }
    Some(key)
}

/// 23505 with PostgreSQL's message and detail, for `key` in `index`.
pub fn unique_violation(rel: &RelationDef, index: &IndexDef, key: &[Datum]) -> Error {
    let ctx = freshet_common::io::TextContext::default();
    let values: Vec<String> = key
        .iter()
        .zip(index.key_parts())
        .map(|(d, part)| {
            let ty = match part {
                KeyPart::Column(c) => rel.columns.get(c).map(|c| c.ty.clone()).unwrap_or(DataType::Text),
                KeyPart::Expression(_) => natural_type(d),
            };
            let mut s = String::new();
            if d.is_null() {
                s.push_str("null");
            } else {
                freshet_common::io::format_text(d, &ty, &ctx, &mut s);
            }
            s
        })
        .collect();
    Error::new(
        SqlState::UniqueViolation,
        format!("duplicate key value violates unique constraint \"{}\"", index.name),
    )
    .with_detail(format!(
        "Key ({})=({}) already exists.",
        crate::index_key::key_columns_text(rel, index),
        values.join(", ")
    ))
}

/// The type a value of an expression key part prints as.
fn natural_type(d: &Datum) -> DataType {
    match d {
        Datum::Bool(_) => DataType::Bool,
        Datum::Int2(_) => DataType::Int2,
        Datum::Int4(_) => DataType::Int4,
        Datum::Int8(_) => DataType::Int8,
        Datum::Float4(_) => DataType::Float4,
        Datum::Float8(_) => DataType::Float8,
        Datum::Numeric(_) => DataType::Numeric(None),
        Datum::Bytea(_) => DataType::Bytea,
        Datum::Date(_) => DataType::Date,
        Datum::Time(_) => DataType::Time,
        Datum::Timestamp(_) => DataType::Timestamp,
        Datum::TimestampTz(_) => DataType::TimestampTz,
        Datum::Interval(_) => DataType::Interval,
        Datum::Json(_) => DataType::Json,
        Datum::Jsonb(_) => DataType::Jsonb,
        Datum::Uuid(_) => DataType::Uuid,
        Datum::Oid(_) => DataType::Oid,
        // An enum value's label is in its type, which an expression key
        // part does not record: it prints as its sort order.
        Datum::Null | Datum::Text(_) | Datum::Array(_) | Datum::Enum(_) => DataType::Text,
    }
}

/// The catalog and all table data at one commit timestamp.
#[derive(Clone, Debug)]
pub struct DbState {
    pub catalog: Arc<CatalogState>,
    pub tables: PHashMap<u32, TableData>,
    /// Timestamp of the commit that produced this state.
    pub ts: u64,
}

impl DbState {
    /// Rows of a table (empty if it has none).
    pub fn table(&self, oid: u32) -> Option<&TableData> {
        self.tables.get(&oid)
    }

    /// Mutable table data, created on first write.
    pub fn table_mut(&mut self, oid: u32) -> Result<&mut TableData> {
        if !self.tables.contains_key(&oid) {
            let rel = self
                .catalog
                .relations
                .get(&oid)
                .ok_or_else(|| Error::internal(format!("no relation with oid {oid}")))?;
            self.tables.insert(oid, TableData::new(rel));
        }
        self.tables.get_mut(&oid).ok_or_else(|| Error::internal("table vanished"))
    }

    /// Mutable catalog (copy on write).
    pub fn catalog_mut(&mut self) -> &mut CatalogState {
        Arc::make_mut(&mut self.catalog)
    }
}
