//! What the binder needs to know about stored objects, supplied by the
//! session layer.

use freshet_common::DataType;

/// The kind of a relation.
#[derive(Clone, Debug, PartialEq)]
pub enum RelationKind {
    /// A stored table.
    Table,
    /// A plain view: its defining query is bound in place of the reference.
    View { sql: String },
    /// A system relation computed on read (pg_catalog, information_schema).
    System,
    /// A sequence (only usable through nextval/currval/setval).
    Sequence,
    /// An incrementally maintained materialized view: read like a table
    /// (its rows come from the dataflow engine), never written directly.
    MaterializedView { sql: String },
}

/// One column of a relation.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub ty: DataType,
    pub not_null: bool,
    /// The DEFAULT expression's SQL text, bound when a row needs it.
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (expr) STORED`: the expression's SQL text, over
    /// the row's other columns, evaluated whenever the row is written.
    pub generated: Option<String>,
    /// An identity column (its DEFAULT draws from its sequence).
    pub identity: Option<freshet_common::types::Identity>,
    /// COLLATE of a text column other than the default (a code-point one).
    pub collation: Option<String>,
}

impl ColumnInfo {
    /// A nullable column without a default or anything else special.
    pub fn new(name: impl Into<String>, ty: DataType) -> ColumnInfo {
        ColumnInfo { name: name.into(), ty, not_null: false, default: None, generated: None, identity: None, collation: None }
    }
}

/// A relation the binder can reference.
#[derive(Clone, Debug, PartialEq)]
pub struct RelationInfo {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub kind: RelationKind,
    pub columns: Vec<ColumnInfo>,
    /// Column positions of the primary key (empty if none).
    pub primary_key: Vec<usize>,
    /// Column positions of each UNIQUE constraint.
    pub unique_keys: Vec<Vec<usize>>,
}

/// Name resolution and session facts for the binder.
pub trait Catalog {
    /// Name of the session's database.
    fn database(&self) -> &str;
    /// The effective search path (schemas tried in order for unqualified
    /// names, `pg_catalog` included where PostgreSQL puts it).
    fn search_path(&self) -> Vec<String>;
    /// Looks up a relation; `schema` None searches the search path.
    fn relation(&self, schema: Option<&str>, name: &str) -> Option<RelationInfo>;
    /// Looks up a relation by OID.
    fn relation_by_oid(&self, oid: u32) -> Option<RelationInfo>;
    /// Whether a schema of that name exists in the session's database.
    fn schema_exists(&self, name: &str) -> bool;
    /// The user-defined (enum) type `name` in `schema`, else the first
    /// along the search path. The default knows none.
    fn user_type(&self, schema: Option<&str>, name: &str) -> Option<DataType> {
        let _ = (schema, name);
        None
    }
    /// The user-defined type, or array of one, whose `pg_type` OID is
    /// `oid` (a parameter type a client declared). The default knows none.
    fn user_type_by_oid(&self, oid: u32) -> Option<DataType> {
        let _ = oid;
        None
    }
    /// The current value of a session setting (for `current_setting`).
    fn setting(&self, name: &str) -> Option<String>;
    /// The session user.
    fn user(&self) -> &str;
    /// The session's backend process id.
    fn backend_pid(&self) -> i32;
    /// The name of the session's schema for temporary objects
    /// (`pg_temp_N`), whether or not it exists yet; `None` where there is
    /// no session.
    fn temp_schema(&self) -> Option<String> {
        None
    }
    /// What catalog functions evaluated at run time (`pg_table_is_visible`,
    /// `pg_get_indexdef`, ...) need to know, taken from the same state the
    /// statement is bound against. The default knows nothing.
    fn catalog_snapshot(&self) -> std::sync::Arc<freshet_expr::catalog_func::CatalogSnapshot> {
        std::sync::Arc::default()
    }
    /// OID of the relation `rel` (in `schema`, else along the search path),
    /// as `regclass` input names it (`'orders'::regclass`), indexes included.
    fn regclass(&self, schema: Option<&str>, rel: &str) -> Option<u32> {
        if let Some(r) = self.relation(schema, rel) {
            return Some(r.oid);
        }
        // Indexes are relations too (`'orders_pkey'::regclass`): found
        // through the catalog snapshot, in the named schema or, unqualified,
        // the first on the search path.
        let snapshot = self.catalog_snapshot();
        let candidates = snapshot.relations.iter().filter(|(_, r)| r.relkind == 'i' && r.name == rel);
        match schema {
            Some(s) => candidates.filter(|(_, r)| r.schema == s).map(|(oid, _)| *oid).next(),
            None => {
                let found: Vec<(u32, &str)> = candidates.map(|(oid, r)| (*oid, r.schema.as_str())).collect();
                self.search_path().iter().find_map(|s| found.iter().find(|(_, fs)| fs == s).map(|(oid, _)| *oid))
            }
        }
    }
}
