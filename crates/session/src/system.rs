//! System relations: `pg_catalog` and `information_schema`, computed from
//! the catalog when read.
//!
//! Each relation is declared once (name, OID, columns) in [`RELATIONS`] and
//! produced by one function over a [`SystemContext`].

use freshet_common::{DataType, Datum, Result, Row};
use freshet_sql::{ColumnInfo, RelationInfo, RelationKind};

use crate::catalog::{CatalogState, RelKind, INFORMATION_SCHEMA_OID, PG_CATALOG_OID, PUBLIC_OID};

/// What a system relation is computed from.
pub struct SystemContext<'a> {
    pub catalog: &'a CatalogState,
    pub database: &'a str,
    pub user: &'a str,
    pub settings: &'a [(String, String)],
}

type Producer = fn(&SystemContext<'_>) -> Result<Vec<Row>>;

/// One system relation.
pub struct SystemRelation {
    pub schema: &'static str,
    pub name: &'static str,
    pub oid: u32,
    pub columns: &'static [(&'static str, SysType)],
    pub rows: Producer,
}

/// Column types of system relations (a `const`-friendly subset).
#[derive(Clone, Copy, Debug)]
pub enum SysType {
    Oid,
    Name,
    Text,
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Char,
    RegProc,
    TextArray,
    OidArray,
    Int2Vector,
    Timestamptz,
}

impl SysType {
    fn data_type(self) -> DataType {
        match self {
            SysType::Oid => DataType::Oid,
            SysType::Name => DataType::Name,
            SysType::Text => DataType::Text,
            SysType::Bool => DataType::Bool,
            SysType::Int2 => DataType::Int2,
            SysType::Int4 => DataType::Int4,
            SysType::Int8 => DataType::Int8,
            SysType::Float4 => DataType::Float4,
            SysType::Char => DataType::InternalChar,
            SysType::RegProc => DataType::RegProc,
            SysType::TextArray => DataType::Array(Box::new(DataType::Text)),
            SysType::OidArray => DataType::Array(Box::new(DataType::Oid)),
            SysType::Int2Vector => DataType::Array(Box::new(DataType::Int2)),
            SysType::Timestamptz => DataType::TimestampTz,
        }
    }
}

/// Every system relation Freshet provides.
pub static RELATIONS: &[SystemRelation] = &[
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_namespace",
        oid: 2615,
        columns: &[("oid", SysType::Oid), ("nspname", SysType::Name), ("nspowner", SysType::Oid), ("nspacl", SysType::TextArray)],
        rows: pg_namespace,
    },
    SystemRelation {
        schema: "pg_catalog",
        name: "pg_database",
        oid: 1262,
        columns: &[
            ("oid", SysType::Oid),
            ("datname", SysType::Name),
            ("datdba", SysType::Oid),
            ("encoding", SysType::Int4),
            ("datcollate", SysType::Name),
            ("datctype", SysType::Name),
            ("datistemplate", SysType::Bool),
            ("datallowconn", SysType::Bool),
            ("datconnlimit", SysType::Int4),
            ("dattablespace", SysType::Oid),
            ("datacl", SysType::TextArray),
        ],
        rows: pg_database,
    },
];

/// The binder's view of the system relation `schema.name`, if it exists.
pub fn relation(schema: &str, name: &str) -> Option<RelationInfo> {
    RELATIONS.iter().find(|r| r.schema == schema && r.name == name).map(info)
}

/// The binder's view of the system relation with this OID.
pub fn relation_by_oid(oid: u32) -> Option<RelationInfo> {
    RELATIONS.iter().find(|r| r.oid == oid).map(info)
}

fn info(r: &SystemRelation) -> RelationInfo {
    RelationInfo {
        oid: r.oid,
        schema: r.schema.to_string(),
        name: r.name.to_string(),
        kind: RelationKind::System,
        columns: r
            .columns
            .iter()
            .map(|(n, t)| ColumnInfo { name: n.to_string(), ty: t.data_type(), not_null: false, default: None })
            .collect(),
        primary_key: vec![],
        unique_keys: vec![],
    }
}

/// The rows of the system relation named `schema.name`.
pub fn rows(qualified: &str, ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let (schema, name) = qualified.split_once('.').unwrap_or(("pg_catalog", qualified));
    match RELATIONS.iter().find(|r| r.schema == schema && r.name == name) {
        Some(r) => (r.rows)(ctx),
        None => Err(freshet_common::Error::undefined_table(qualified)),
    }
}

fn text(s: &str) -> Datum {
    Datum::Text(s.to_string())
}

/// OID of a schema visible in the session's database.
pub fn namespace_oid(ctx: &SystemContext<'_>, schema: &str) -> u32 {
    ctx.catalog.schema_oid(ctx.database, schema).unwrap_or(0)
}

fn pg_namespace(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = vec![
        vec![Datum::Oid(PG_CATALOG_OID), text("pg_catalog"), Datum::Oid(10), Datum::Null],
        vec![Datum::Oid(INFORMATION_SCHEMA_OID), text("information_schema"), Datum::Oid(10), Datum::Null],
    ];
    for s in ctx.catalog.schemas.values().filter(|s| s.database == ctx.database) {
        rows.push(vec![Datum::Oid(s.oid), text(&s.name), Datum::Oid(10), Datum::Null]);
    }
    let _ = PUBLIC_OID;
    Ok(rows)
}

fn pg_database(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(ctx
        .catalog
        .databases
        .values()
        .map(|d| {
            vec![
                Datum::Oid(d.oid),
                text(&d.name),
                Datum::Oid(10),
                Datum::Int4(6),
                text("C.UTF-8"),
                text("C.UTF-8"),
                Datum::Bool(false),
                Datum::Bool(true),
                Datum::Int4(-1),
                Datum::Oid(1663),
                Datum::Null,
            ]
        })
        .collect())
}

/// Whether a relation kind is a table for `pg_class.relkind`.
pub fn relkind(kind: &RelKind) -> &'static str {
    match kind {
        RelKind::Table => "r",
        RelKind::View { .. } => "v",
        RelKind::Sequence { .. } => "S",
    }
}
