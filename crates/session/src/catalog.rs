//! The durable catalog: databases, schemas, relations (tables, views,
//! sequences) with their columns, keys and indexes, and user-defined
//! (enum) types.
//!
//! The whole catalog is one immutable value shared by snapshots
//! (`Arc<CatalogState>`); DDL clones and edits it inside a transaction and
//! it is persisted whole, as JSON, in the commit that changes it.
//!
//! Enum types: [`CatalogState::types`] is the source of truth. A column
//! of an enum type stores a copy of the type's definition in its
//! `DataType` (see `freshet_common::enum_type` for why), so every change
//! of a type goes through [`CatalogState::replace_enum`], which replaces
//! that copy in every relation of the database, and a catalog read back
//! from storage is refreshed the same way ([`CatalogState::refresh_enums`]).

use std::collections::BTreeMap;

use freshet_common::enum_type::{EnumLabel, EnumType, EnumTypeDef};
use freshet_common::DataType;
use freshet_sql::{ColumnInfo, RelationInfo, RelationKind};
use serde::{Deserialize, Serialize};

/// First OID handed to user objects, as in PostgreSQL.
pub const FIRST_USER_OID: u32 = 16384;

/// OIDs of the built-in schemas (fixed, as PostgreSQL's).
pub const PG_CATALOG_OID: u32 = 11;
pub const PUBLIC_OID: u32 = 2200;
pub const INFORMATION_SCHEMA_OID: u32 = 13000;

/// A column of a stored relation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: String,
    pub ty: DataType,
    pub not_null: bool,
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (expr) STORED`: the expression's SQL text.
    #[serde(default)]
    pub generated: Option<String>,
    /// An identity column: `default` draws from its owned sequence.
    #[serde(default)]
    pub identity: Option<freshet_common::types::Identity>,
    /// COLLATE other than the default (a code-point collation).
    #[serde(default)]
    pub collation: Option<String>,
}

impl ColumnDef {
    /// A plain column: no default, nothing generated, the default collation.
    pub fn new(name: impl Into<String>, ty: DataType, not_null: bool) -> ColumnDef {
        ColumnDef { name: name.into(), ty, not_null, default: None, generated: None, identity: None, collation: None }
    }

    /// The stored form of a column the binder described.
    pub fn from_info(c: &ColumnInfo) -> ColumnDef {
        ColumnDef {
            name: c.name.clone(),
            ty: c.ty.clone(),
            not_null: c.not_null,
            default: c.default.clone(),
            generated: c.generated.clone(),
            identity: c.identity,
            collation: c.collation.clone(),
        }
    }

    /// The binder's view of this column.
    pub fn info(&self) -> ColumnInfo {
        ColumnInfo {
            name: self.name.clone(),
            ty: self.ty.clone(),
            not_null: self.not_null,
            default: self.default.clone(),
            generated: self.generated.clone(),
            identity: self.identity,
            collation: self.collation.clone(),
        }
    }
}

/// An index: a unique one enforces uniqueness (see `crate::index_key`);
/// point lookups use plain unique ones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexDef {
    pub oid: u32,
    pub name: String,
    /// The key's column positions, in key order, skipping its expression
    /// parts.
    pub columns: Vec<usize>,
    pub unique: bool,
    pub primary: bool,
    /// Expression key parts: (position in the key, SQL text over the
    /// table's columns). The key's other positions are `columns`, in order.
    #[serde(default)]
    pub expressions: Vec<(usize, String)>,
    /// A partial index's WHERE condition, as SQL text.
    #[serde(default)]
    pub predicate: Option<String>,
    /// UNIQUE NULLS NOT DISTINCT: NULL key parts are equal to each other.
    #[serde(default)]
    pub nulls_not_distinct: bool,
    /// Per key part, PostgreSQL's `indoption` bits (1 DESC, 2 NULLS
    /// FIRST); empty when every part is ascending.
    #[serde(default)]
    pub options: Vec<i16>,
    /// Per key part, the operator class named at CREATE INDEX, if any.
    #[serde(default)]
    pub opclasses: Vec<Option<String>>,
    /// INCLUDE columns: stored in the index, not part of its key.
    #[serde(default)]
    pub include: Vec<usize>,
    /// Made by CREATE INDEX, not by a PRIMARY KEY or UNIQUE constraint.
    /// (Catalogs written before this field existed read as false.)
    #[serde(default)]
    pub standalone: bool,
}

impl IndexDef {
    /// Whether the key is only columns, every row is indexed and NULLs
    /// never conflict: such a unique index can serve point lookups and
    /// ON CONFLICT on its columns.
    pub fn is_plain(&self) -> bool {
        self.expressions.is_empty() && self.predicate.is_none() && !self.nulls_not_distinct
    }

    /// Number of key parts (columns and expressions).
    pub fn key_len(&self) -> usize {
        self.columns.len() + self.expressions.len()
    }

    /// The key's parts in order: a column position or an expression's text.
    pub fn key_parts(&self) -> Vec<KeyPart<'_>> {
        let mut columns = self.columns.iter();
        (0..self.key_len())
            .filter_map(|pos| match self.expressions.iter().find(|(p, _)| *p == pos) {
                Some((_, text)) => Some(KeyPart::Expression(text)),
                None => columns.next().map(|c| KeyPart::Column(*c)),
            })
            .collect()
    }
}

/// One part of an index key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPart<'a> {
    Column(usize),
    Expression(&'a str),
}

/// A FOREIGN KEY constraint (on the referencing table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForeignKeyDef {
    pub oid: u32,
    pub name: String,
    pub columns: Vec<usize>,
    pub ref_table: u32,
    pub ref_columns: Vec<usize>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
    pub deferrable: bool,
    pub initially_deferred: bool,
}

/// A referential action, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl From<freshet_sql::plan::FkAction> for FkAction {
    fn from(a: freshet_sql::plan::FkAction) -> FkAction {
        use freshet_sql::plan::FkAction as P;
        match a {
            P::NoAction => FkAction::NoAction,
            P::Restrict => FkAction::Restrict,
            P::Cascade => FkAction::Cascade,
            P::SetNull => FkAction::SetNull,
            P::SetDefault => FkAction::SetDefault,
        }
    }
}

/// A CHECK constraint: its name and expression text (bound when enforced).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckDef {
    pub oid: u32,
    pub name: String,
    pub expr: String,
}

/// What kind of relation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RelKind {
    Table,
    View { sql: String },
    Sequence {
        start: i64,
        increment: i64,
        owner: Option<(u32, usize)>,
        #[serde(default)]
        limits: freshet_common::types::SequenceLimits,
    },
    /// A materialized view maintained by the dataflow engine; `depends_on`
    /// lists the tables and views its query reads.
    MaterializedView { sql: String, depends_on: Vec<u32> },
}

/// A table, view or sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelationDef {
    pub oid: u32,
    pub database: String,
    pub schema: String,
    pub name: String,
    pub kind: RelKind,
    pub columns: Vec<ColumnDef>,
    /// Index definitions; the primary key (if any) has `primary`, every
    /// unique constraint has `unique`.
    pub indexes: Vec<IndexDef>,
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKeyDef>,
    #[serde(default)]
    pub checks: Vec<CheckDef>,
}

impl RelationDef {
    /// Column positions of the primary key (empty if none).
    pub fn primary_key(&self) -> Vec<usize> {
        self.indexes.iter().find(|i| i.primary).map(|i| i.columns.clone()).unwrap_or_default()
    }

    /// Every uniqueness constraint, primary key first; table data keeps one
    /// key index per entry, in this order.
    pub fn unique_constraints(&self) -> Vec<&IndexDef> {
        let mut v: Vec<&IndexDef> = self.indexes.iter().filter(|i| i.primary).collect();
        v.extend(self.indexes.iter().filter(|i| i.unique && !i.primary));
        v
    }

    /// The binder's view of this relation.
    pub fn info(&self) -> RelationInfo {
        RelationInfo {
            oid: self.oid,
            schema: self.schema.clone(),
            name: self.name.clone(),
            kind: match &self.kind {
                RelKind::Table => RelationKind::Table,
                RelKind::View { sql } => RelationKind::View { sql: sql.clone() },
                RelKind::Sequence { .. } => RelationKind::Sequence,
                RelKind::MaterializedView { sql, .. } => RelationKind::MaterializedView { sql: sql.clone() },
            },
            columns: self.columns.iter().map(ColumnDef::info).collect(),
            primary_key: self.primary_key(),
            unique_keys: self.indexes.iter().filter(|i| i.unique && !i.primary && i.is_plain()).map(|i| i.columns.clone()).collect(),
        }
    }
}

/// A database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatabaseDef {
    pub oid: u32,
    pub name: String,
}

/// A schema within a database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaDef {
    pub oid: u32,
    pub database: String,
    pub name: String,
}

/// The whole catalog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogState {
    pub next_oid: u32,
    pub databases: BTreeMap<String, DatabaseDef>,
    /// By OID. `public` of each database is a user schema like any other.
    pub schemas: BTreeMap<u32, SchemaDef>,
    pub relations: BTreeMap<u32, RelationDef>,
    /// COMMENT ON texts (pg_description rows).
    #[serde(default)]
    pub comments: Vec<CommentDef>,
    /// User-defined types by OID (the type's, not its array type's).
    /// (Catalogs written before enum types existed read as empty.)
    #[serde(default)]
    pub types: BTreeMap<u32, TypeDef>,
    /// Subscriptions (CREATE SUBSCRIPTION) by OID.
    #[serde(default)]
    pub subscriptions: BTreeMap<u32, SubscriptionDef>,
    /// Sinks by OID (`crate::sinks`). (Catalogs written before sinks
    /// existed read as empty.)
    #[serde(default)]
    pub sinks: BTreeMap<u32, SinkDef>,
    /// Connector definitions of sources and connector tables, by the OID
    /// of the table (`RelKind::Table`) that stores their rows. An entry
    /// goes when its table goes (pruned at commit). (Catalogs written
    /// before sources existed read as empty.)
    #[serde(default)]
    pub sources: BTreeMap<u32, SourceDef>,
}

/// `ty` with every enum type of `types` (by old OID) replaced by its copy.
fn with_enum_copies(ty: &DataType, types: &BTreeMap<u32, EnumType>) -> DataType {
    match ty {
        DataType::Enum(old) => types.get(&old.oid()).map(|t| DataType::Enum(t.clone())).unwrap_or_else(|| ty.clone()),
        DataType::Array(e) => DataType::Array(Box::new(with_enum_copies(e, types))),
        DataType::Record(fields) => DataType::Record(fields.iter().map(|(n, f)| (n.clone(), with_enum_copies(f, types))).collect()),
        other => other.clone(),
    }
}

/// A subscription: a named change feed of a materialized view, read by
/// subscription cursors (`crate::subscriptions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionDef {
    pub oid: u32,
    pub database: String,
    pub schema: String,
    pub name: String,
    /// The materialized view whose changes it feeds.
    pub from: u32,
    /// RisingWave's `retention` option in seconds, as given (changes are
    /// kept for the last `HISTORY_COMMITS` commits whatever it says).
    pub retention_secs: Option<u64>,
}

/// A sink: where the changes of a materialized view go. Its task runs
/// while the definition is in the committed catalog (`crate::sinks`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SinkDef {
    pub oid: u32,
    pub database: String,
    pub schema: String,
    pub name: String,
    /// The materialized view whose changes it sends.
    pub from: u32,
    /// The `WITH` options as written (keys lower-cased), checked by
    /// `freshet_sinks::SinkConfig::parse` at CREATE and at every start.
    pub options: Vec<(String, String)>,
    /// `FORMAT f ENCODE e (options)`, if given.
    pub format: Option<freshet_sinks::FormatClause>,
    /// Whether `from` is the sink's own view (`CREATE SINK ... AS query`),
    /// dropped with it and left out of the catalog relations.
    #[serde(default)]
    pub owns_view: bool,
}

/// What fills a source or a connector table: RisingWave's WITH options
/// and FORMAT clause, checked by `freshet_connectors::ConnectorSpec` at
/// CREATE and again when the connector starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceDef {
    /// CREATE SOURCE: append-only, INSERT/UPDATE/DELETE/TRUNCATE/COPY
    /// refused with 42809. False for CREATE TABLE ... WITH (connector).
    pub append_only: bool,
    /// The WITH options, `connector` included, keys lower-cased. Stored
    /// as given: a `password` option is in the catalog in clear text.
    pub options: Vec<(String, String)>,
    /// `FORMAT f ENCODE e`, lower-cased.
    #[serde(default)]
    pub format: Option<(String, String)>,
}

impl SourceDef {
    /// The connector's name, lower-cased (`datagen`, `mqtt`).
    pub fn connector(&self) -> String {
        self.options.iter().rev().find(|(k, _)| k == "connector").map(|(_, v)| v.to_lowercase()).unwrap_or_default()
    }

    /// The checked connector definition for the columns of `rel`.
    pub fn spec(&self, rel: &RelationDef) -> freshet_common::Result<freshet_connectors::ConnectorSpec> {
        let format = self.format.as_ref().map(|(format, encode)| freshet_connectors::Format { format: format.clone(), encode: encode.clone() });
        let columns: Vec<freshet_connectors::ColumnSpec> = rel.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
        freshet_connectors::ConnectorSpec::parse(&self.options, format.as_ref(), &columns)
    }
}

/// A user-defined type of a database: an enum type. Its array type is
/// implied, with OID `ty.array_oid()` and name `array_name`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypeDef {
    /// The database the type belongs to (types are per database).
    pub database: String,
    /// The definition; columns of the type hold copies of it.
    pub ty: EnumType,
    /// `pg_type.typname` of the array type: `_mood`, or with more
    /// underscores when that name was taken (PostgreSQL's
    /// `makeArrayTypeName`).
    pub array_name: String,
}

/// One stored comment, keyed as PostgreSQL's `pg_description`: the
/// catalog holding the object (`pg_class` 1259, `pg_namespace` 2615,
/// `pg_constraint` 2606), its OID and the column number (0 for the object
/// itself). `relation` is the relation the object belongs to (0 for a
/// schema), so comments of dropped objects can be left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommentDef {
    pub classoid: u32,
    pub objoid: u32,
    pub subid: i32,
    pub relation: u32,
    pub text: String,
}

impl CatalogState {
    /// Sets (or with `None` removes) the comment on an object.
    pub fn set_comment(&mut self, classoid: u32, objoid: u32, subid: i32, relation: u32, text: Option<String>) {
        self.comments.retain(|c| !(c.classoid == classoid && c.objoid == objoid && c.subid == subid));
        if let Some(text) = text {
            self.comments.push(CommentDef { classoid, objoid, subid, relation, text });
        }
    }
}

/// The default database every new data directory has.
pub const DEFAULT_DATABASE: &str = "dev";

impl CatalogState {
    /// A fresh catalog with the default database (`dev`) and `postgres`.
    /// Whether relation `oid` is the view of a `CREATE SINK ... AS query`
    /// (internal: not listed in the catalogs).
    pub fn is_sink_view(&self, oid: u32) -> bool {
        self.sinks.values().any(|s| s.owns_view && s.from == oid)
    }

    /// Removes the sinks whose materialized view, schema or database is
    /// gone (what DROP SCHEMA / DROP DATABASE / DROP ... CASCADE leave
    /// behind); returns their names.
    pub fn drop_orphan_sinks(&mut self) -> Vec<String> {
        let orphans: Vec<u32> = self
            .sinks
            .values()
            .filter(|s| {
                !self.relations.contains_key(&s.from)
                    || !self.databases.contains_key(&s.database)
                    || self.schema_oid(&s.database, &s.schema).is_none()
            })
            .map(|s| s.oid)
            .collect();
        orphans.iter().filter_map(|oid| self.sinks.remove(oid)).map(|s| s.name).collect()
    }

    pub fn bootstrap() -> CatalogState {
        let mut c = CatalogState {
            next_oid: FIRST_USER_OID,
            databases: BTreeMap::new(),
            schemas: BTreeMap::new(),
            relations: BTreeMap::new(),
            comments: Vec::new(),
            types: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            sinks: BTreeMap::new(),
            sources: BTreeMap::new(),
        };
        c.create_database(DEFAULT_DATABASE);
        c.create_database("postgres");
        c
    }

    /// Allocates a fresh OID.
    pub fn allocate_oid(&mut self) -> u32 {
        let oid = self.next_oid;
        self.next_oid += 1;
        oid
    }

    /// Creates a database with its `public` schema.
    pub fn create_database(&mut self, name: &str) -> u32 {
        let oid = self.allocate_oid();
        self.databases.insert(name.to_string(), DatabaseDef { oid, name: name.to_string() });
        let schema_oid = self.allocate_oid();
        self.schemas.insert(schema_oid, SchemaDef { oid: schema_oid, database: name.to_string(), name: "public".into() });
        oid
    }

    /// Copies database `from` as a new database `to` (CREATE DATABASE ...
    /// TEMPLATE): its schemas, enum types, relations, comments and
    /// subscriptions (not its sinks), each with a fresh OID and every reference between
    /// them (foreign keys, owned sequences, view dependencies, enum column
    /// types) moved to the copies. Temporary schemas are not copied.
    /// Returns the relation OID map (old -> new); the caller copies the
    /// rows and sequence states.
    pub fn clone_database(&mut self, from: &str, to: &str) -> freshet_common::Result<BTreeMap<u32, u32>> {
        let oid = self.allocate_oid();
        self.databases.insert(to.to_string(), DatabaseDef { oid, name: to.to_string() });
        let mut map: BTreeMap<u32, u32> = BTreeMap::new();
        let schemas: Vec<SchemaDef> =
            self.schemas.values().filter(|s| s.database == from && !s.name.starts_with("pg_temp_")).cloned().collect();
        for schema in schemas {
            let oid = self.allocate_oid();
            map.insert(schema.oid, oid);
            self.schemas.insert(oid, SchemaDef { oid, database: to.to_string(), name: schema.name });
        }
        let copied_schema = |name: &str| !name.starts_with("pg_temp_");
        // Enum types first: columns take the copies.
        let mut types: BTreeMap<u32, EnumType> = BTreeMap::new();
        let old_types: Vec<TypeDef> = self.types.values().filter(|t| t.database == from && copied_schema(t.ty.schema())).cloned().collect();
        for t in old_types {
            let old = t.ty.def().clone();
            let labels = old
                .labels
                .iter()
                .map(|l| EnumLabel { oid: self.allocate_oid(), ..l.clone() })
                .collect();
            let def = EnumTypeDef { oid: self.allocate_oid(), array_oid: self.allocate_oid(), labels, ..old.clone() };
            let ty = EnumType::new(def)?;
            map.insert(old.oid, ty.oid());
            map.insert(old.array_oid, ty.array_oid());
            types.insert(old.oid, ty.clone());
            self.types.insert(ty.oid(), TypeDef { database: to.to_string(), ty, array_name: t.array_name });
        }
        // Sinks are not copied (two would deliver the same changes), nor
        // the views that only sinks own.
        let sink_views: Vec<u32> = self.sinks.values().filter(|s| s.owns_view).map(|s| s.from).collect();
        let relations: Vec<RelationDef> = self
            .relations
            .values()
            .filter(|r| r.database == from && copied_schema(&r.schema) && !sink_views.contains(&r.oid))
            .cloned()
            .collect();
        for r in &relations {
            map.insert(r.oid, self.allocate_oid());
            for i in &r.indexes {
                map.insert(i.oid, self.allocate_oid());
            }
            for f in &r.foreign_keys {
                map.insert(f.oid, self.allocate_oid());
            }
            for c in &r.checks {
                map.insert(c.oid, self.allocate_oid());
            }
        }
        let moved = |oid: u32| map.get(&oid).copied().unwrap_or(oid);
        for mut r in relations {
            r.oid = moved(r.oid);
            r.database = to.to_string();
            for c in &mut r.columns {
                c.ty = with_enum_copies(&c.ty, &types);
            }
            for i in &mut r.indexes {
                i.oid = moved(i.oid);
            }
            for f in &mut r.foreign_keys {
                f.oid = moved(f.oid);
                f.ref_table = moved(f.ref_table);
            }
            for c in &mut r.checks {
                c.oid = moved(c.oid);
            }
            match &mut r.kind {
                RelKind::Sequence { owner: Some((table, _)), .. } => *table = moved(*table),
                RelKind::MaterializedView { depends_on, .. } => depends_on.iter_mut().for_each(|d| *d = moved(*d)),
                _ => {}
            }
            self.relations.insert(r.oid, r);
        }
        let comments: Vec<CommentDef> = self
            .comments
            .iter()
            .filter(|c| map.contains_key(&c.objoid) && (c.relation == 0 || map.contains_key(&c.relation)))
            .map(|c| CommentDef { objoid: moved(c.objoid), relation: if c.relation == 0 { 0 } else { moved(c.relation) }, ..c.clone() })
            .collect();
        self.comments.extend(comments);
        let subscriptions: Vec<SubscriptionDef> =
            self.subscriptions.values().filter(|s| s.database == from && map.contains_key(&s.from)).cloned().collect();
        for s in subscriptions {
            let oid = self.allocate_oid();
            self.subscriptions.insert(oid, SubscriptionDef { oid, database: to.to_string(), from: moved(s.from), ..s });
        }
        Ok(map.into_iter().filter(|(old, _)| self.relations.get(old).is_some_and(|r| r.database == from)).collect())
    }

    /// The schema named `name` in `database`.
    pub fn schema(&self, database: &str, name: &str) -> Option<&SchemaDef> {
        self.schemas.values().find(|s| s.database == database && s.name == name)
    }

    /// OID of a schema (built-in ones included).
    pub fn schema_oid(&self, database: &str, name: &str) -> Option<u32> {
        match name {
            "pg_catalog" => Some(PG_CATALOG_OID),
            "information_schema" => Some(INFORMATION_SCHEMA_OID),
            _ => self.schema(database, name).map(|s| s.oid),
        }
    }

    /// The relation `schema.name` in `database`.
    pub fn relation(&self, database: &str, schema: &str, name: &str) -> Option<&RelationDef> {
        self.relations.values().find(|r| r.database == database && r.schema == schema && r.name == name)
    }

    /// Foreign keys (with their referencing table) that reference `table`.
    pub fn referencing(&self, table: u32) -> Vec<(u32, ForeignKeyDef)> {
        self.relations
            .values()
            .flat_map(|r| r.foreign_keys.iter().filter(|fk| fk.ref_table == table).map(move |fk| (r.oid, fk.clone())))
            .collect()
    }

    /// Relations of a database.
    pub fn relations_in<'a>(&'a self, database: &'a str) -> impl Iterator<Item = &'a RelationDef> + 'a {
        self.relations.values().filter(move |r| r.database == database)
    }
}

impl CatalogState {
    /// The user-defined type `schema.name` of `database`.
    pub fn type_named(&self, database: &str, schema: &str, name: &str) -> Option<&TypeDef> {
        self.types.values().find(|t| t.database == database && t.ty.schema() == schema && t.ty.name() == name)
    }

    /// Whether a type (a user-defined type or the array type of one) of
    /// that name exists in `schema` of `database`.
    pub fn type_name_taken(&self, database: &str, schema: &str, name: &str) -> bool {
        self.types_in(database).any(|t| t.ty.schema() == schema && (t.ty.name() == name || t.array_name == name))
    }

    /// A name for the array type of the type `name` in `schema`: `_name`,
    /// with more underscores until no type has it, truncated to 63 bytes
    /// (PostgreSQL's `makeArrayTypeName`). `None` when no such name fits.
    pub fn array_type_name(&self, database: &str, schema: &str, name: &str) -> Option<String> {
        (1..freshet_common::enum_type::LABEL_BYTES_MAX).find_map(|underscores| {
            let mut candidate = "_".repeat(underscores);
            for c in name.chars() {
                if candidate.len() + c.len_utf8() > freshet_common::enum_type::LABEL_BYTES_MAX {
                    break;
                }
                candidate.push(c);
            }
            (!self.type_name_taken(database, schema, &candidate)).then_some(candidate)
        })
    }

    /// The user-defined type `name` (an enum type, or its array type by
    /// the array's name) of `database` in `schema`, else in the first
    /// schema of `search_path` that has one of that name.
    pub fn find_type(&self, database: &str, search_path: &[String], schema: Option<&str>, name: &str) -> Option<DataType> {
        let lookup = |schema: &str| {
            self.types_in(database).filter(|t| t.ty.schema() == schema).find_map(|t| {
                if t.ty.name() == name {
                    Some(DataType::Enum(t.ty.clone()))
                } else if t.array_name == name {
                    Some(DataType::Array(Box::new(DataType::Enum(t.ty.clone()))))
                } else {
                    None
                }
            })
        };
        match schema {
            Some(s) => lookup(s),
            None => search_path.iter().find_map(|s| lookup(s)),
        }
    }

    /// The user-defined types of a database, in OID order.
    pub fn types_in<'a>(&'a self, database: &'a str) -> impl Iterator<Item = &'a TypeDef> + 'a {
        self.types.values().filter(move |t| t.database == database)
    }

    /// The user-defined type, or array of one, whose `pg_type` OID is
    /// `oid`, in `database`.
    pub fn type_by_oid(&self, database: &str, oid: u32) -> Option<DataType> {
        self.types_in(database).find_map(|t| {
            if t.ty.oid() == oid {
                Some(DataType::Enum(t.ty.clone()))
            } else if t.ty.array_oid() == oid {
                Some(DataType::Array(Box::new(DataType::Enum(t.ty.clone()))))
            } else {
                None
            }
        })
    }

    /// Every (relation, column position) of `database` whose column is of
    /// the type `oid` or an array of it.
    pub fn columns_using_type(&self, database: &str, oid: u32) -> Vec<(u32, usize)> {
        self.relations_in(database)
            .flat_map(|r| {
                r.columns
                    .iter()
                    .enumerate()
                    .filter(move |(_, c)| c.ty.uses_enum(oid))
                    .map(move |(i, _)| (r.oid, i))
            })
            .collect()
    }

    /// Records a new definition of an existing enum type (labels added or
    /// renamed, type renamed) and puts it into every column that stores
    /// the type. Panics if the type is unknown: callers look it up first.
    pub fn replace_enum(&mut self, ty: EnumType) {
        let def = self.types.get_mut(&ty.oid()).unwrap_or_else(|| panic!("replace_enum: no type with OID {}", ty.oid()));
        def.ty = ty.clone();
        let database = def.database.clone();
        for r in self.relations.values_mut().filter(|r| r.database == database) {
            for c in &mut r.columns {
                if c.ty.uses_enum(ty.oid()) {
                    c.ty = c.ty.with_enum(&ty);
                }
            }
        }
    }

    /// The enum types of `self` whose labels have other sort orders in
    /// `later` (PostgreSQL renumbered them to make room for a new label):
    /// stored values of these types written against `self` are stale.
    pub fn renumbered_enums(&self, later: &CatalogState) -> Vec<u32> {
        self.types
            .values()
            .filter(|t| {
                later.types.get(&t.ty.oid()).is_some_and(|l| {
                    t.ty.labels().iter().any(|old| {
                        l.ty.labels().iter().any(|new| new.oid == old.oid && new.sort_order != old.sort_order)
                    })
                })
            })
            .map(|t| t.ty.oid())
            .collect()
    }

    /// Marks every enum label as committed (see
    /// `freshet_common::enum_type::EnumLabel::uncommitted`): the catalog
    /// of a transaction that is committing.
    pub fn commit_enum_labels(&mut self) {
        let pending: Vec<EnumType> =
            self.types.values().filter(|t| t.ty.has_uncommitted()).map(|t| t.ty.committed()).collect();
        for t in pending {
            self.replace_enum(t);
        }
    }

    /// Whether some enum label was added by the transaction owning this
    /// catalog.
    pub fn has_uncommitted_enum_labels(&self) -> bool {
        self.types.values().any(|t| t.ty.has_uncommitted())
    }

    /// Puts the current definition of every enum type into the columns
    /// that store it (after reading the catalog back: the copies in
    /// columns are then just what was written, the type is the truth).
    /// Fails when a column refers to a type the catalog does not have.
    pub fn refresh_enums(&mut self) -> std::result::Result<(), String> {
        let types: Vec<EnumType> = self.types.values().map(|t| t.ty.clone()).collect();
        for t in types {
            self.replace_enum(t);
        }
        for r in self.relations.values() {
            for c in &r.columns {
                if let Some(missing) = enum_types_in(&c.ty).into_iter().find(|t| !self.types.contains_key(&t.oid())) {
                    return Err(format!(
                        "column \"{}\" of relation \"{}\" has type {} (OID {}), which the catalog does not have",
                        c.name,
                        r.name,
                        missing.name(),
                        missing.oid()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The enum types a type mentions (itself, its elements, record fields).
pub fn enum_types_in(ty: &DataType) -> Vec<EnumType> {
    match ty {
        DataType::Enum(t) => vec![t.clone()],
        DataType::Array(e) => enum_types_in(e),
        DataType::Record(fields) => fields.iter().flat_map(|(_, t)| enum_types_in(t)).collect(),
        _ => Vec::new(),
    }
}
