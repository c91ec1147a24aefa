//! System information and catalog functions (`format_type`,
//! `pg_get_expr`, `array_to_string`, ...) that psql, drivers and ORMs call
//! when they introspect.
//!
//! Evaluation has no catalog (see [`crate::scalar`]), so a function that
//! needs catalog facts at run time carries them: the binder takes a
//! [`CatalogSnapshot`] of the state the statement is bound against (which is
//! the state it runs on) and stores it in the [`CatalogFunc`] variant.
//!
//! Also home of [`BUILTIN_TYPES`], the `pg_type` facts of every built-in type
//! (shared by `format_type` here and by the `pg_type` system relation).

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use freshet_common::io::{format_text, TextContext};
use freshet_common::{DataType, Datum, Error, Result, TimestampTz};

use crate::scalar::EvalContext;

pub use freshet_common::ident::quote_ident;

/// The `pg_type` facts of one built-in type, as PostgreSQL 15 has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinType {
    pub oid: u32,
    /// `pg_type.typname` (`int4`, `_int4`).
    pub typname: &'static str,
    /// What `format_type(oid, NULL)` prints (`integer`, `integer[]`).
    pub display: &'static str,
    pub typlen: i16,
    pub typbyval: bool,
    /// `b` base, `p` pseudo.
    pub typtype: char,
    pub typcategory: char,
    pub typispreferred: bool,
    /// Element type of an array type, else 0.
    pub typelem: u32,
    /// The array type of this type, else 0.
    pub typarray: u32,
    pub typalign: char,
    pub typstorage: char,
    /// 100 (`default`) for collatable types, 950 (`C`) for `name`, else 0.
    pub typcollation: u32,
}

macro_rules! builtin {
    ($oid:expr, $name:expr, $display:expr, $len:expr, $byval:expr, $typtype:expr, $cat:expr, $pref:expr, $elem:expr, $array:expr, $align:expr, $storage:expr, $coll:expr) => {
        BuiltinType {
            oid: $oid,
            typname: $name,
            display: $display,
            typlen: $len,
            typbyval: $byval,
            typtype: $typtype,
            typcategory: $cat,
            typispreferred: $pref,
            typelem: $elem,
            typarray: $array,
            typalign: $align,
            typstorage: $storage,
            typcollation: $coll,
        }
    };
}

/// Every built-in type Freshet knows, with PostgreSQL 15's values (taken
/// from a PostgreSQL 15 `pg_type`). Types Freshet cannot store (`xid`,
/// `aclitem`, `pg_node_tree`, the vector types) are here because catalog
/// columns are declared with them.
#[rustfmt::skip]
pub static BUILTIN_TYPES: &[BuiltinType] = &[
    builtin!(16, "bool", "boolean", 1, true, 'b', 'B', true, 0, 1000, 'c', 'p', 0),
    builtin!(17, "bytea", "bytea", -1, false, 'b', 'U', false, 0, 1001, 'i', 'x', 0),
    builtin!(18, "char", "\"char\"", 1, true, 'b', 'Z', false, 0, 1002, 'c', 'p', 0),
    builtin!(19, "name", "name", 64, false, 'b', 'S', false, 18, 1003, 'c', 'p', 950),
    builtin!(20, "int8", "bigint", 8, true, 'b', 'N', false, 0, 1016, 'd', 'p', 0),
    builtin!(21, "int2", "smallint", 2, true, 'b', 'N', false, 0, 1005, 's', 'p', 0),
    builtin!(22, "int2vector", "int2vector", -1, false, 'b', 'A', false, 21, 1006, 'i', 'p', 0),
    builtin!(23, "int4", "integer", 4, true, 'b', 'N', false, 0, 1007, 'i', 'p', 0),
    builtin!(24, "regproc", "regproc", 4, true, 'b', 'N', false, 0, 1008, 'i', 'p', 0),
    builtin!(25, "text", "text", -1, false, 'b', 'S', true, 0, 1009, 'i', 'x', 100),
    builtin!(26, "oid", "oid", 4, true, 'b', 'N', true, 0, 1028, 'i', 'p', 0),
    builtin!(28, "xid", "xid", 4, true, 'b', 'U', false, 0, 1011, 'i', 'p', 0),
    builtin!(30, "oidvector", "oidvector", -1, false, 'b', 'A', false, 26, 1013, 'i', 'p', 0),
    builtin!(114, "json", "json", -1, false, 'b', 'U', false, 0, 199, 'i', 'x', 0),
    builtin!(194, "pg_node_tree", "pg_node_tree", -1, false, 'b', 'Z', false, 0, 0, 'i', 'x', 100),
    builtin!(199, "_json", "json[]", -1, false, 'b', 'A', false, 114, 0, 'i', 'x', 0),
    builtin!(700, "float4", "real", 4, true, 'b', 'N', false, 0, 1021, 'i', 'p', 0),
    builtin!(701, "float8", "double precision", 8, true, 'b', 'N', true, 0, 1022, 'd', 'p', 0),
    builtin!(705, "unknown", "unknown", -2, false, 'p', 'X', false, 0, 0, 'c', 'p', 0),
    builtin!(869, "inet", "inet", -1, false, 'b', 'I', true, 0, 1041, 'i', 'm', 0),
    builtin!(1000, "_bool", "boolean[]", -1, false, 'b', 'A', false, 16, 0, 'i', 'x', 0),
    builtin!(1001, "_bytea", "bytea[]", -1, false, 'b', 'A', false, 17, 0, 'i', 'x', 0),
    builtin!(1002, "_char", "\"char\"[]", -1, false, 'b', 'A', false, 18, 0, 'i', 'x', 0),
    builtin!(1003, "_name", "name[]", -1, false, 'b', 'A', false, 19, 0, 'i', 'x', 950),
    builtin!(1005, "_int2", "smallint[]", -1, false, 'b', 'A', false, 21, 0, 'i', 'x', 0),
    builtin!(1006, "_int2vector", "int2vector[]", -1, false, 'b', 'A', false, 22, 0, 'i', 'x', 0),
    builtin!(1007, "_int4", "integer[]", -1, false, 'b', 'A', false, 23, 0, 'i', 'x', 0),
    builtin!(1008, "_regproc", "regproc[]", -1, false, 'b', 'A', false, 24, 0, 'i', 'x', 0),
    builtin!(1009, "_text", "text[]", -1, false, 'b', 'A', false, 25, 0, 'i', 'x', 100),
    builtin!(1011, "_xid", "xid[]", -1, false, 'b', 'A', false, 28, 0, 'i', 'x', 0),
    builtin!(1013, "_oidvector", "oidvector[]", -1, false, 'b', 'A', false, 30, 0, 'i', 'x', 0),
    builtin!(1014, "_bpchar", "bpchar[]", -1, false, 'b', 'A', false, 1042, 0, 'i', 'x', 100),
    builtin!(1015, "_varchar", "character varying[]", -1, false, 'b', 'A', false, 1043, 0, 'i', 'x', 100),
    builtin!(1016, "_int8", "bigint[]", -1, false, 'b', 'A', false, 20, 0, 'd', 'x', 0),
    builtin!(1021, "_float4", "real[]", -1, false, 'b', 'A', false, 700, 0, 'i', 'x', 0),
    builtin!(1022, "_float8", "double precision[]", -1, false, 'b', 'A', false, 701, 0, 'd', 'x', 0),
    builtin!(1028, "_oid", "oid[]", -1, false, 'b', 'A', false, 26, 0, 'i', 'x', 0),
    builtin!(1033, "aclitem", "aclitem", 12, false, 'b', 'U', false, 0, 1034, 'i', 'p', 0),
    builtin!(1034, "_aclitem", "aclitem[]", -1, false, 'b', 'A', false, 1033, 0, 'i', 'x', 0),
    builtin!(1041, "_inet", "inet[]", -1, false, 'b', 'A', false, 869, 0, 'i', 'x', 0),
    builtin!(1042, "bpchar", "bpchar", -1, false, 'b', 'S', false, 0, 1014, 'i', 'x', 100),
    builtin!(1043, "varchar", "character varying", -1, false, 'b', 'S', false, 0, 1015, 'i', 'x', 100),
    builtin!(1082, "date", "date", 4, true, 'b', 'D', false, 0, 1182, 'i', 'p', 0),
    builtin!(1083, "time", "time without time zone", 8, true, 'b', 'D', false, 0, 1183, 'd', 'p', 0),
    builtin!(1114, "timestamp", "timestamp without time zone", 8, true, 'b', 'D', false, 0, 1115, 'd', 'p', 0),
    builtin!(1115, "_timestamp", "timestamp without time zone[]", -1, false, 'b', 'A', false, 1114, 0, 'd', 'x', 0),
    builtin!(1182, "_date", "date[]", -1, false, 'b', 'A', false, 1082, 0, 'i', 'x', 0),
    builtin!(1183, "_time", "time without time zone[]", -1, false, 'b', 'A', false, 1083, 0, 'd', 'x', 0),
    builtin!(1184, "timestamptz", "timestamp with time zone", 8, true, 'b', 'D', true, 0, 1185, 'd', 'p', 0),
    builtin!(1185, "_timestamptz", "timestamp with time zone[]", -1, false, 'b', 'A', false, 1184, 0, 'd', 'x', 0),
    builtin!(1186, "interval", "interval", 16, false, 'b', 'T', true, 0, 1187, 'd', 'p', 0),
    builtin!(1187, "_interval", "interval[]", -1, false, 'b', 'A', false, 1186, 0, 'd', 'x', 0),
    builtin!(1231, "_numeric", "numeric[]", -1, false, 'b', 'A', false, 1700, 0, 'i', 'x', 0),
    builtin!(1700, "numeric", "numeric", -1, false, 'b', 'N', false, 0, 1231, 'i', 'm', 0),
    builtin!(2205, "regclass", "regclass", 4, true, 'b', 'N', false, 0, 2210, 'i', 'p', 0),
    builtin!(2206, "regtype", "regtype", 4, true, 'b', 'N', false, 0, 2211, 'i', 'p', 0),
    builtin!(2210, "_regclass", "regclass[]", -1, false, 'b', 'A', false, 2205, 0, 'i', 'x', 0),
    builtin!(2211, "_regtype", "regtype[]", -1, false, 'b', 'A', false, 2206, 0, 'i', 'x', 0),
    builtin!(2249, "record", "record", -1, false, 'p', 'P', false, 0, 2287, 'd', 'x', 0),
    builtin!(2287, "_record", "record[]", -1, false, 'p', 'P', false, 2249, 0, 'd', 'x', 0),
    builtin!(2950, "uuid", "uuid", 16, false, 'b', 'U', false, 0, 2951, 'c', 'p', 0),
    builtin!(2951, "_uuid", "uuid[]", -1, false, 'b', 'A', false, 2950, 0, 'i', 'x', 0),
    builtin!(3802, "jsonb", "jsonb", -1, false, 'b', 'U', false, 0, 3807, 'i', 'x', 0),
    builtin!(3807, "_jsonb", "jsonb[]", -1, false, 'b', 'A', false, 3802, 0, 'i', 'x', 0),
    builtin!(4089, "regnamespace", "regnamespace", 4, true, 'b', 'N', false, 0, 4090, 'i', 'p', 0),
    builtin!(4090, "_regnamespace", "regnamespace[]", -1, false, 'b', 'A', false, 4089, 0, 'i', 'x', 0),
];

/// The built-in type with this OID.
pub fn builtin_type(oid: u32) -> Option<&'static BuiltinType> {
    BUILTIN_TYPES.iter().find(|t| t.oid == oid)
}

/// `format_type(oid, typmod)`: the SQL name of a type with its modifier
/// (`character varying(20)`, `numeric(10,2)`, `integer[]`). `typmod` is
/// `None` when the caller passed NULL, which PostgreSQL treats differently
/// from -1 for `bpchar` only. Unknown OIDs print as `???`, as in PostgreSQL.
pub fn format_type(oid: u32, typmod: Option<i32>) -> String {
    if oid == 0 {
        return "-".into();
    }
    let Some(t) = builtin_type(oid) else {
        return "???".into();
    };
    let (base, array) = match t.typcategory {
        'A' if t.typlen == -1 && t.typname.starts_with('_') => {
            (builtin_type(t.typelem).map(|e| e.oid).unwrap_or(0), true)
        }
        _ => (oid, false),
    };
    let mut out = match (base, typmod) {
        (1042, None) => "character".to_string(),
        (1042, Some(m)) if m >= 4 => format!("character({})", m - 4),
        (1043, Some(m)) if m >= 4 => format!("character varying({})", m - 4),
        (1700, Some(m)) if m >= 4 => {
            let m = m - 4;
            format!("numeric({},{})", (m >> 16) & 0xffff, m & 0xffff)
        }
        (1083, Some(m)) if m >= 0 => format!("time({m}) without time zone"),
        (1114, Some(m)) if m >= 0 => format!("timestamp({m}) without time zone"),
        (1184, Some(m)) if m >= 0 => format!("timestamp({m}) with time zone"),
        (b, Some(m)) if m >= 0 && !matches!(b, 1042 | 1043 | 1700) => {
            let name = builtin_type(b).map(|e| e.display).unwrap_or("???");
            format!("{name}({m})")
        }
        (b, _) => builtin_type(b)
            .map(|e| e.display)
            .unwrap_or("???")
            .to_string(),
    };
    if array {
        // The display names of array types already end in `[]`; rebuild
        // from the element so that a modifier lands before the brackets.
        if !out.ends_with("[]") {
            out.push_str("[]");
        }
    }
    out
}

/// What catalog functions evaluated at run time know about the session's
/// database: taken by the session when a statement is bound, from the
/// same state the statement then runs on. O(relations + columns) memory;
/// built once per function call site that needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CatalogSnapshot {
    /// Every relation (tables, views, sequences, indexes and system
    /// relations) by OID.
    pub relations: BTreeMap<u32, RelationFacts>,
    /// Schema names by OID (built-in schemas included).
    pub schemas: BTreeMap<u32, String>,
    /// Role names by OID.
    pub roles: BTreeMap<u32, String>,
    /// The effective search path, `pg_catalog` included where it is searched.
    pub search_path: Vec<String>,
    /// Comments (`pg_description`) by (catalog OID, object OID, column
    /// number or 0).
    pub descriptions: BTreeMap<(u32, u32, i32), String>,
    /// OIDs of the system catalogs by name (`pg_class` is 1259), for
    /// `obj_description(oid, 'pg_class')`.
    pub catalogs: BTreeMap<String, u32>,
    /// `pg_get_constraintdef` text of constraints that are not indexes
    /// (FOREIGN KEY, CHECK), by constraint OID.
    pub constraint_definitions: BTreeMap<u32, String>,
    /// User-defined types and their array types, by `pg_type` OID.
    pub types: BTreeMap<u32, TypeFacts>,
}

/// A user-defined type (or its array type) as [`CatalogSnapshot`]
/// records it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeFacts {
    /// The schema the type lives in.
    pub schema: String,
    /// `pg_type.typname` (`mood`, `_mood`).
    pub name: String,
    /// What `format_type(oid, NULL)` prints: the quoted name, qualified
    /// unless visible, with `[]` for the array type (`mood`, `s2.color[]`).
    pub display: String,
    /// `pg_type_is_visible`: the search path finds the type by its name.
    pub visible: bool,
}

/// One relation as [`CatalogSnapshot`] records it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelationFacts {
    pub schema: String,
    pub name: String,
    /// `pg_class.relkind`: `r`, `v`, `S` or `i`.
    pub relkind: char,
    /// Column names in attribute-number order.
    pub columns: Vec<String>,
    /// Whether an unqualified reference to the name finds this relation
    /// (`pg_table_is_visible`).
    pub visible: bool,
    /// For an index: its table and key.
    pub index: Option<IndexFacts>,
    /// For a view: the definition as `pg_get_viewdef` prints it.
    pub view_definition: Option<String>,
    /// For a table: (column position, sequence OID) of each column that owns
    /// a sequence (serial and identity columns).
    pub owned_sequences: Vec<(usize, u32)>,
}

/// An index as [`CatalogSnapshot`] records it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IndexFacts {
    /// OID of the indexed table.
    pub table: u32,
    /// Key column positions (0-based) in the table.
    pub columns: Vec<usize>,
    pub unique: bool,
    pub primary: bool,
    /// Whether the index implements a constraint (PRIMARY KEY or UNIQUE).
    /// Freshet gives such a constraint the OID of its index.
    pub constraint: bool,
    /// The key's parts as `pg_get_indexdef(oid, column)` prints them:
    /// quoted column names and expressions.
    pub key: Vec<String>,
    /// The key's parts with their operator class and ordering, as the
    /// whole `pg_get_indexdef` prints them (`name varchar_pattern_ops DESC`).
    pub key_definitions: Vec<String>,
    /// INCLUDE columns, quoted.
    pub include: Vec<String>,
    /// A partial index's condition (SQL text).
    pub predicate: Option<String>,
    pub nulls_not_distinct: bool,
}

impl CatalogSnapshot {
    /// `format_type(oid, typmod)` for built-in and user-defined types
    /// (the latter take no modifier).
    pub fn format_type(&self, oid: u32, typmod: Option<i32>) -> String {
        match self.types.get(&oid) {
            Some(t) if builtin_type(oid).is_none() => t.display.clone(),
            _ => format_type(oid, typmod),
        }
    }

    /// The user-defined type named like `regtype` input (`mood`,
    /// `public.mood`, `mood[]`, `_mood`), along the search path unless
    /// qualified.
    pub fn resolve_type(&self, text: &str) -> Option<u32> {
        let text = text.trim();
        let (text, array) = match text.strip_suffix("[]") {
            Some(t) => (t.trim_end(), true),
            None => (text, false),
        };
        let parts = split_qualified_name(text)?;
        let (schema, name) = match parts.as_slice() {
            [name] => (None, name.as_str()),
            [schema, name] => (Some(schema.as_str()), name.as_str()),
            _ => return None,
        };
        let find = |schema: &str, name: &str| {
            self.types.iter().find(|(_, t)| t.schema == schema && t.name == name).map(|(oid, _)| *oid)
        };
        let found = |name: &str| match schema {
            Some(s) => find(s, name),
            None => self.search_path.iter().find_map(|s| find(s, name)),
        };
        if array {
            // The element's array type: its display name plus `[]`.
            let element = found(name)?;
            let shown = format!("{}[]", self.types.get(&element)?.display);
            self.types.iter().find(|(_, t)| t.display == shown).map(|(oid, _)| *oid)
        } else {
            found(name)
        }
    }

    /// The relation named like `regclass` input (`users`, `public.users`,
    /// `"Mixed"`): qualified names look in that schema, others along the
    /// search path.
    pub fn resolve_relation(&self, text: &str) -> Option<u32> {
        let parts = split_qualified_name(text)?;
        let (schema, name) = match parts.as_slice() {
            [name] => (None, name.as_str()),
            [schema, name] => (Some(schema.as_str()), name.as_str()),
            [_db, schema, name] => (Some(schema.as_str()), name.as_str()),
            _ => return None,
        };
        let find = |schema: &str| {
            self.relations
                .iter()
                .find(|(_, r)| r.schema == schema && r.name == name)
                .map(|(oid, _)| *oid)
        };
        match schema {
            Some(s) => find(s),
            None => self.search_path.iter().find_map(|s| find(s)),
        }
    }

    /// `regclass` output: the name, schema-qualified unless visible, each
    /// part quoted as needed; the number for an unknown OID.
    pub fn regclass_name(&self, oid: u32) -> String {
        match self.relations.get(&oid) {
            Some(r) if r.visible => quote_ident(&r.name),
            Some(r) => format!("{}.{}", quote_ident(&r.schema), quote_ident(&r.name)),
            None => oid.to_string(),
        }
    }
}

/// Splits `schema.name` (with PostgreSQL's identifier quoting and case
/// folding) into parts; `None` when the text is not a valid name.
pub fn split_qualified_name(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
            part = part.trim().to_string();
        }
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

/// A shared [`CatalogSnapshot`] held by a function call. Compared and
/// hashed by identity (one snapshot per bound statement), and printed
/// without its contents so that plans stay readable.
#[derive(Clone)]
pub struct SnapshotRef(pub Arc<CatalogSnapshot>);

impl PartialEq for SnapshotRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SnapshotRef {}

impl Hash for SnapshotRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.0) as usize).hash(state);
    }
}

impl fmt::Debug for SnapshotRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "catalog({} relations)", self.0.relations.len())
    }
}

/// A catalog/system-information function. Arguments are already coerced
/// to the signature the binder chose (noted per variant).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CatalogFunc {
    /// `format_type(oid, int4)`; the modifier may be NULL. User-defined
    /// types are looked up in the snapshot.
    FormatType(SnapshotRef),
    /// `pg_get_expr(text, oid [, bool])`: catalog expressions are stored as
    /// SQL text already; this prints their `regclass` constants
    /// (`'public.s'::regclass`) the way `regclass` output does, qualified
    /// only when the relation is not visible.
    GetExpr(SnapshotRef),
    /// `pg_table_is_visible(oid)`.
    TableIsVisible(SnapshotRef),
    /// `pg_type_is_visible(oid)`: built-in types live in `pg_catalog`;
    /// user-defined ones are visible when the search path finds them by
    /// name.
    TypeIsVisible(SnapshotRef),
    /// `pg_get_userbyid(oid)`.
    UserById(SnapshotRef),
    /// `pg_get_indexdef(oid [, int4, bool])`.
    IndexDef(SnapshotRef),
    /// `pg_get_constraintdef(oid [, bool])`.
    ConstraintDef(SnapshotRef),
    /// `pg_get_viewdef(oid [, bool])`.
    ViewDef(SnapshotRef),
    /// `pg_get_serial_sequence(text, text)`.
    SerialSequence(SnapshotRef),
    /// `to_regclass(text)`.
    ToRegClass(SnapshotRef),
    /// `text::regclass` for a value known only at run time (a parameter or
    /// column): like `to_regclass` but 42P01 when the relation is missing.
    RegClassIn(SnapshotRef),
    /// `to_regtype(text)`: built-in type names, then user-defined ones.
    ToRegType(SnapshotRef),
    /// `regclass` to text: the relation's (possibly qualified) name.
    RegClassText(SnapshotRef),
    /// `regtype` to text: `format_type(oid, NULL)`.
    RegTypeText(SnapshotRef),
    /// `regproc` to text: the function's name.
    RegProcText,
    /// `regnamespace` to text: the schema's name.
    RegNamespaceText(SnapshotRef),
    /// `pg_encoding_to_char(int4)`.
    EncodingToChar,
    /// `array_to_string(array, text [, text])` over arrays of this element type.
    ArrayToString(DataType),
    /// `array_upper(array, int4)` / `array_lower(array, int4)`; arrays
    /// start at 1, int2vector/oidvector at 0 (`zero_based`).
    ArrayBound { upper: bool, zero_based: bool },
    /// `pg_size_pretty(int8)`.
    SizePretty,
    /// `quote_ident(text)`.
    QuoteIdent,
    /// A fixed result for non-NULL arguments (`has_table_privilege` is
    /// true, `pg_relation_size` is 0, ...); NULL when an argument is NULL.
    Constant(Datum),
    /// Always NULL (functions over catalogs Freshet keeps empty).
    Null,
    /// `obj_description(oid [, name])` and `col_description(oid, int4)`
    /// (`column` true).
    Description { snapshot: SnapshotRef, column: bool },
    /// `pg_postmaster_start_time()`: when this process first evaluated it.
    PostmasterStartTime,
    /// `txid_current()`: Freshet has no transaction ids; the transaction's
    /// start time in microseconds stands in (constant within a
    /// transaction, increasing between them).
    TxidCurrent,
    /// A set-returning function used where Freshet cannot run it yet
    /// (in FROM with arguments that change per row): reached only when the
    /// function would produce rows.
    UnsupportedSetFunction(String),
}

/// Evaluates a catalog function.
pub fn call(func: &CatalogFunc, args: Vec<Datum>, ctx: &EvalContext<'_>) -> Result<Datum> {
    use CatalogFunc as F;
    // Functions that look at NULL arguments themselves.
    match func {
        F::FormatType(s) => {
            return Ok(match args.first() {
                Some(Datum::Oid(oid)) => {
                    let typmod = match args.get(1) {
                        Some(Datum::Int4(m)) => Some(*m),
                        _ => None,
                    };
                    Datum::Text(s.0.format_type(*oid, typmod))
                }
                _ => Datum::Null,
            })
        }
        F::ArrayToString(elem) => return array_to_string(elem, &args, ctx.text),
        F::Null => return Ok(Datum::Null),
        F::PostmasterStartTime => {
            static START: OnceLock<TimestampTz> = OnceLock::new();
            return Ok(Datum::TimestampTz(
                *START.get_or_init(freshet_common::datetime::now),
            ));
        }
        F::TxidCurrent => return Ok(Datum::Int8(ctx.now.0)),
        F::UnsupportedSetFunction(name) => {
            return Err(Error::unsupported(format!(
                "set-returning function {name}() in FROM with arguments that vary per row"
            )))
        }
        _ => {}
    }
    if args.iter().any(Datum::is_null) {
        return Ok(Datum::Null);
    }
    let oid_arg = |i: usize| match args.get(i) {
        Some(Datum::Oid(o)) => *o,
        Some(d) => d.as_i64().unwrap_or(0) as u32,
        None => 0,
    };
    let text_arg = |i: usize| {
        args.get(i)
            .and_then(Datum::as_str)
            .unwrap_or("")
            .to_string()
    };
    Ok(match func {
        F::GetExpr(s) => {
            let printed = print_regclass_constants(&s.0, &text_arg(0));
            // Pretty printing drops the parentheses around the whole
            // expression, as PostgreSQL's does.
            let pretty = args.get(2).and_then(Datum::as_bool).unwrap_or(false);
            Datum::Text(if pretty { strip_outer_parens(&printed).to_string() } else { printed })
        }
        F::Description { snapshot, column } => {
            let objoid = oid_arg(0);
            let found = if *column {
                let attnum = args.get(1).and_then(Datum::as_i64).unwrap_or(0) as i32;
                snapshot
                    .0
                    .descriptions
                    .get(&(1259, objoid, attnum))
                    .cloned()
            } else {
                let class = match args.get(1) {
                    Some(Datum::Text(catalog)) => match snapshot.0.catalogs.get(catalog.as_str()) {
                        Some(c) => Some(*c),
                        None => return Ok(Datum::Null),
                    },
                    _ => None,
                };
                snapshot
                    .0
                    .descriptions
                    .iter()
                    .find(|((c, o, sub), _)| {
                        *o == objoid && *sub == 0 && class.is_none_or(|k| k == *c)
                    })
                    .map(|(_, d)| d.clone())
            };
            found.map(Datum::Text).unwrap_or(Datum::Null)
        }
        F::TableIsVisible(s) => match s.0.relations.get(&oid_arg(0)) {
            Some(r) => Datum::Bool(r.visible),
            None => Datum::Null,
        },
        F::TypeIsVisible(s) => match builtin_type(oid_arg(0)) {
            Some(_) => Datum::Bool(true),
            None => match s.0.types.get(&oid_arg(0)) {
                Some(t) => Datum::Bool(t.visible),
                None => Datum::Null,
            },
        },
        F::UserById(s) => {
            let oid = oid_arg(0);
            Datum::Text(
                s.0.roles
                    .get(&oid)
                    .cloned()
                    .unwrap_or_else(|| format!("unknown (OID={oid})")),
            )
        }
        F::IndexDef(s) => {
            let column = args.get(1).and_then(Datum::as_i64).unwrap_or(0);
            index_definition(&s.0, oid_arg(0), column)
                .map(Datum::Text)
                .unwrap_or(Datum::Null)
        }
        F::ConstraintDef(s) => constraint_definition(&s.0, oid_arg(0))
            .map(Datum::Text)
            .unwrap_or(Datum::Null),
        F::ViewDef(s) => {
            let oid = match args.first() {
                Some(Datum::Text(name)) => s.0.resolve_relation(name).unwrap_or(0),
                _ => oid_arg(0),
            };
            s.0.relations
                .get(&oid)
                .and_then(|r| r.view_definition.clone())
                .map(Datum::Text)
                .unwrap_or(Datum::Null)
        }
        F::SerialSequence(s) => serial_sequence(&s.0, &text_arg(0), &text_arg(1))?,
        F::RegClassIn(s) => {
            let name = text_arg(0);
            if let Ok(oid) = name.trim().parse::<u32>() {
                return Ok(Datum::Oid(oid));
            }
            Datum::Oid(s.0.resolve_relation(&name).ok_or_else(|| Error::undefined_table(&name))?)
        }
        F::ToRegClass(s) => {
            s.0.resolve_relation(&text_arg(0))
                .map(Datum::Oid)
                .unwrap_or(Datum::Null)
        }
        F::ToRegType(s) => regtype_by_name(&text_arg(0))
            .or_else(|| s.0.resolve_type(&text_arg(0)))
            .map(Datum::Oid)
            .unwrap_or(Datum::Null),
        F::RegClassText(s) => Datum::Text(s.0.regclass_name(oid_arg(0))),
        F::RegTypeText(s) => {
            let oid = oid_arg(0);
            Datum::Text(match (builtin_type(oid), s.0.types.get(&oid)) {
                (Some(_), _) => format_type(oid, None),
                (None, Some(t)) => t.display.clone(),
                (None, None) if oid == 0 => "-".to_string(),
                (None, None) => oid.to_string(),
            })
        }
        F::RegProcText => Datum::Text(regproc_text(oid_arg(0))),
        F::RegNamespaceText(s) => {
            let oid = oid_arg(0);
            Datum::Text(
                s.0.schemas
                    .get(&oid)
                    .map(|n| quote_ident(n))
                    .unwrap_or_else(|| oid.to_string()),
            )
        }
        F::EncodingToChar => Datum::Text(
            match args.first().and_then(Datum::as_i64) {
                Some(0) => "SQL_ASCII",
                Some(6) => "UTF8",
                Some(8) => "LATIN1",
                _ => "",
            }
            .to_string(),
        ),
        F::ArrayBound { upper, zero_based } => match args.first() {
            Some(Datum::Array(items))
                if !items.is_empty() && args.get(1).and_then(Datum::as_i64) == Some(1) =>
            {
                let lower = if *zero_based { 0 } else { 1 };
                Datum::Int4(if *upper { lower + items.len() as i32 - 1 } else { lower })
            }
            _ => Datum::Null,
        },
        F::SizePretty => Datum::Text(size_pretty(
            args.first().and_then(Datum::as_i64).unwrap_or(0),
        )),
        F::QuoteIdent => Datum::Text(quote_ident(&text_arg(0))),
        F::Constant(d) => d.clone(),
        F::FormatType(_)
        | F::ArrayToString(_)
        | F::Null
        | F::PostmasterStartTime
        | F::TxidCurrent
        | F::UnsupportedSetFunction(_) => unreachable!("handled before the strictness check"),
    })
}

/// Rewrites each `'name'::regclass` in a stored expression to print the
/// relation as `regclass` output would now (see [`CatalogSnapshot::regclass_name`]).
fn print_regclass_constants(snapshot: &CatalogSnapshot, expr: &str) -> String {
    const SUFFIX: &str = "'::regclass";
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(start) = rest.find('\'') {
        // Find the end of this string literal ('' is an escaped quote).
        let body_start = start + 1;
        let mut end = None;
        let bytes = rest.as_bytes();
        let mut i = body_start;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                end = Some(i);
                break;
            }
            i += 1;
        }
        let Some(end) = end else { break };
        out.push_str(&rest[..start]);
        let literal = &rest[body_start..end];
        if rest[end..].starts_with(SUFFIX) {
            let name = literal.replace("''", "'");
            let printed = match snapshot.resolve_relation(&name) {
                Some(oid) => snapshot.regclass_name(oid),
                None => name,
            };
            out.push('\'');
            out.push_str(&printed.replace('\'', "''"));
            out.push_str(SUFFIX);
            rest = &rest[end + SUFFIX.len()..];
        } else {
            out.push_str(&rest[start..=end]);
            rest = &rest[end + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// `pg_get_indexdef`: the whole `CREATE INDEX` statement for `column` 0,
/// else the name of key column `column` (1-based).
fn index_definition(snapshot: &CatalogSnapshot, oid: u32, column: i64) -> Option<String> {
    let index_rel = snapshot.relations.get(&oid)?;
    let index = index_rel.index.as_ref()?;
    let table = snapshot.relations.get(&index.table)?;
    if column > 0 {
        return index.key.get(column as usize - 1).cloned();
    }
    Some(index_statement(&IndexShape {
        name: &index_rel.name,
        unique: index.unique,
        schema: &table.schema,
        table: &table.name,
        key: &index.key_definitions,
        include: &index.include,
        predicate: index.predicate.as_deref(),
        nulls_not_distinct: index.nulls_not_distinct,
    }))
}

/// What `pg_get_indexdef` prints of a btree index.
pub struct IndexShape<'a> {
    pub name: &'a str,
    pub unique: bool,
    pub schema: &'a str,
    pub table: &'a str,
    /// Key parts as printed (see [`index_key_text`]), with their operator
    /// class and ordering.
    pub key: &'a [String],
    /// INCLUDE columns, quoted.
    pub include: &'a [String],
    pub predicate: Option<&'a str>,
    pub nulls_not_distinct: bool,
}

/// The `CREATE INDEX` statement `pg_get_indexdef` prints.
pub fn index_statement(index: &IndexShape<'_>) -> String {
    let mut out = format!(
        "CREATE {}INDEX {} ON {}.{} USING btree ({})",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(index.name),
        quote_ident(index.schema),
        quote_ident(index.table),
        index.key.join(", ")
    );
    if !index.include.is_empty() {
        out.push_str(&format!(" INCLUDE ({})", index.include.join(", ")));
    }
    if index.nulls_not_distinct {
        out.push_str(" NULLS NOT DISTINCT");
    }
    if let Some(p) = index.predicate {
        out.push_str(" WHERE ");
        out.push_str(&parenthesized(p));
    }
    out
}

/// An index key expression as PostgreSQL prints it: a function call bare,
/// anything else in parentheses.
pub fn index_key_text(expression: &str) -> String {
    let t = expression.trim();
    // name( ... ) where the first parenthesis closes at the very end.
    let call = t.find('(').is_some_and(|open| {
        let named = open > 0 && t[..open].chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '"');
        let mut depth = 0i32;
        let mut closes_at_end = false;
        for (i, c) in t.char_indices().skip_while(|(i, _)| *i < open) {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        closes_at_end = i == t.len() - 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        named && closes_at_end
    });
    if call {
        t.to_string()
    } else {
        format!("({t})")
    }
}

/// `text` in parentheses unless it is a bare name or already enclosed.
fn parenthesized(text: &str) -> String {
    let t = text.trim();
    if t.chars().all(|c| c.is_alphanumeric() || c == '_') || (t.starts_with('(') && t.ends_with(')')) {
        t.to_string()
    } else {
        format!("({t})")
    }
}

/// `pg_get_constraintdef` for PRIMARY KEY and UNIQUE constraints (whose
/// OID is their index's).
fn constraint_definition(snapshot: &CatalogSnapshot, oid: u32) -> Option<String> {
    if let Some(def) = snapshot.constraint_definitions.get(&oid) {
        return Some(def.clone());
    }
    let index = snapshot.relations.get(&oid)?.index.as_ref()?;
    if !index.constraint {
        return None;
    }
    let table = snapshot.relations.get(&index.table)?;
    let names: Vec<String> = index
        .columns
        .iter()
        .map(|c| quote_ident(table.columns.get(*c).map(String::as_str).unwrap_or("?")))
        .collect();
    Some(format!(
        "{} ({})",
        if index.primary {
            "PRIMARY KEY"
        } else if index.nulls_not_distinct {
            "UNIQUE NULLS NOT DISTINCT"
        } else {
            "UNIQUE"
        },
        names.join(", ")
    ))
}

/// `pg_get_serial_sequence(table, column)`: the qualified name of the
/// sequence the column owns, NULL if none; errors as PostgreSQL does for an
/// unknown table or column.
fn serial_sequence(snapshot: &CatalogSnapshot, table: &str, column: &str) -> Result<Datum> {
    let oid = snapshot
        .resolve_relation(table)
        .ok_or_else(|| Error::undefined_table(table))?;
    let rel = &snapshot.relations[&oid];
    let position = rel
        .columns
        .iter()
        .position(|c| c == column)
        .ok_or_else(|| {
            Error::new(
                freshet_common::SqlState::UndefinedColumn,
                format!(
                    "column \"{column}\" of relation \"{}\" does not exist",
                    rel.name
                ),
            )
        })?;
    Ok(
        match rel.owned_sequences.iter().find(|(c, _)| *c == position) {
            Some((_, seq)) => match snapshot.relations.get(seq) {
                Some(s) => Datum::Text(format!(
                    "{}.{}",
                    quote_ident(&s.schema),
                    quote_ident(&s.name)
                )),
                None => Datum::Null,
            },
            None => Datum::Null,
        },
    )
}

/// The functions a `regproc` value can name, with PostgreSQL's OIDs: the
/// I/O functions of array and enum types, which drivers compare `pg_type.typinput`
/// with (pgjdbc: `typinput = 'pg_catalog.array_in'::regproc`). Freshet has
/// no other functions in `pg_proc`.
const KNOWN_PROCS: &[(u32, &str)] = &[
    (750, "array_in"),
    (751, "array_out"),
    (2400, "array_recv"),
    (2401, "array_send"),
    (3506, "enum_in"),
    (3507, "enum_out"),
    (3532, "enum_recv"),
    (3533, "enum_send"),
];

/// The OID of the function named like `regproc` input (`array_in`,
/// `pg_catalog.array_in`), if Freshet knows it.
pub fn regproc_by_name(text: &str) -> Option<u32> {
    let name = text.trim().to_lowercase();
    let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
    KNOWN_PROCS.iter().find(|(_, n)| *n == name).map(|(oid, _)| *oid)
}

/// How a `regproc` value prints: the function's name, `-` for 0, else
/// the number.
pub fn regproc_text(oid: u32) -> String {
    match KNOWN_PROCS.iter().find(|(o, _)| *o == oid) {
        Some((_, name)) => (*name).to_string(),
        None if oid == 0 => "-".to_string(),
        None => oid.to_string(),
    }
}

/// `pg_type`'s typinput, typoutput, typreceive and typsend of a built-in
/// type: the array functions for array types (named `_elem`, unlike the
/// vector types), 0 (unknown) otherwise.
pub fn type_io_procs(t: &BuiltinType) -> [u32; 4] {
    if t.typelem != 0 && t.typname.starts_with('_') {
        [750, 751, 2400, 2401]
    } else {
        [0; 4]
    }
}

/// The OID of a built-in type named like `regtype` input (`int4`,
/// `integer`, `character varying(10)`, `text[]`).
pub fn regtype_by_name(text: &str) -> Option<u32> {
    let mut name = text.trim().to_lowercase();
    if let Some(rest) = name.strip_prefix("pg_catalog.") {
        name = rest.to_string();
    }
    let (base, array) = match name.strip_suffix("[]") {
        Some(b) => (b.trim().to_string(), true),
        None => (name.clone(), false),
    };
    // Drop a modifier: `varchar(10)`, `numeric(10,2)`.
    let base = match base.find('(') {
        Some(i) if base.ends_with(')') => base[..i].trim().to_string(),
        _ => base,
    };
    let alias = match base.as_str() {
        "int" | "integer" => "int4",
        "smallint" => "int2",
        "bigint" => "int8",
        "boolean" => "bool",
        "real" => "float4",
        "double precision" | "float" => "float8",
        "decimal" => "numeric",
        "character varying" => "varchar",
        "character" | "char" => "bpchar",
        "\"char\"" => "char",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        "time without time zone" => "time",
        other => other,
    };
    let t = BUILTIN_TYPES.iter().find(|t| t.typname == alias)?;
    if array {
        (t.typarray != 0).then_some(t.typarray)
    } else {
        Some(t.oid)
    }
}

/// `pg_size_pretty(int8)`, with PostgreSQL 15's rounding and units.
pub fn size_pretty(size: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    const LIMIT2: i64 = LIMIT * 2 - 1;
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    if size.abs() < LIMIT {
        return format!("{size} bytes");
    }
    let mut size = size >> 9;
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < LIMIT2 {
            return format!("{} {unit}", half_rounded(size));
        }
        size >>= 10;
    }
    format!("{} PB", half_rounded(size))
}

fn array_to_string(elem: &DataType, args: &[Datum], text: &TextContext) -> Result<Datum> {
    let (Some(Datum::Array(items)), Some(Datum::Text(sep))) = (args.first(), args.get(1)) else {
        return Ok(Datum::Null);
    };
    let null_text = match args.get(2) {
        Some(Datum::Text(s)) => Some(s.as_str()),
        _ => None,
    };
    let mut out = String::new();
    let mut first = true;
    for item in items {
        let piece = match item {
            Datum::Null => match null_text {
                Some(n) => n.to_string(),
                None => continue,
            },
            d => {
                let mut s = String::new();
                format_text(d, elem, text, &mut s);
                s
            }
        };
        if !first {
            out.push_str(sep);
        }
        out.push_str(&piece);
        first = false;
    }
    Ok(Datum::Text(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_type_matches_postgres() {
        assert_eq!(format_type(1042, None), "character");
        assert_eq!(format_type(1042, Some(-1)), "bpchar");
        assert_eq!(format_type(1042, Some(9)), "character(5)");
        assert_eq!(format_type(1043, Some(24)), "character varying(20)");
        assert_eq!(
            format_type(1700, Some(((10 << 16) | 2) + 4)),
            "numeric(10,2)"
        );
        assert_eq!(format_type(1015, Some(24)), "character varying(20)[]");
        assert_eq!(format_type(1014, Some(-1)), "bpchar[]");
        assert_eq!(format_type(18, Some(-1)), "\"char\"");
        assert_eq!(format_type(1002, Some(-1)), "\"char\"[]");
        assert_eq!(format_type(99999, Some(-1)), "???");
        assert_eq!(format_type(0, Some(-1)), "-");
        assert_eq!(format_type(25, Some(10)), "text(10)");
        assert_eq!(format_type(1184, None), "timestamp with time zone");
    }

    #[test]
    fn size_pretty_matches_postgres() {
        assert_eq!(size_pretty(123456789), "118 MB");
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
    }

    #[test]
    fn qualified_names_split_with_quoting() {
        assert_eq!(
            split_qualified_name("Public.Users"),
            Some(vec!["public".to_string(), "users".to_string()])
        );
        assert_eq!(
            split_qualified_name("\"My\"\"T\".x"),
            Some(vec!["My\"T".to_string(), "x".to_string()])
        );
        assert_eq!(split_qualified_name("a..b"), None);
        assert_eq!(regtype_by_name("varchar(10)"), Some(1043));
        assert_eq!(regtype_by_name("integer[]"), Some(1007));
        assert_eq!(regtype_by_name("nope"), None);
    }
}

/// `text` without one pair of parentheses that encloses all of it.
fn strip_outer_parens(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else { return text };
    // The first '(' must close at the very end (not "(a) + (b)"), outside
    // string literals.
    let mut depth = 0i32;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 && i != text.len() - 1 {
                    return text;
                }
            }
            _ => {}
        }
    }
    inner
}

#[cfg(test)]
mod builtin_type_tests {
    use super::builtin_type;
    use freshet_common::DataType;

    /// Every type a column can have is in pg_type (a missing row makes
    /// drivers' joins on `atttypid` drop the column).
    #[test]
    fn every_type_and_its_array_type_is_in_pg_type() {
        for oid in 0..5000u32 {
            let Some(ty) = DataType::from_oid(oid) else { continue };
            assert!(builtin_type(ty.oid()).is_some(), "{ty} ({}) missing from pg_type", ty.oid());
            if let Some(array) = ty.array_oid() {
                assert!(builtin_type(array).is_some(), "{ty}[] ({array}) missing from pg_type");
            }
        }
    }
}
