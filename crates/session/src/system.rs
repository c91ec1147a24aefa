//! System relations: `pg_catalog` and `information_schema`, computed from
//! the catalog when read.
//!
//! Each relation is declared once (schema, name, PostgreSQL's OID, columns
//! in PostgreSQL 15's order) in [`RELATIONS`] and produced by one function
//! over a [`SystemContext`]. Catalogs for features Freshet does not have
//! (triggers, policies, publications, ...) exist and are empty, because
//! clients join them unconditionally.
//!
//! OIDs: relations, indexes and schemas use their catalog OIDs; a PRIMARY
//! KEY or UNIQUE constraint uses the OID of the index behind it; column
//! defaults (`pg_attrdef`), which Freshet does not store as objects, get
//! synthetic OIDs at and above 2^31 ([`attrdef_oid`]). Role 10, the owner of
//! everything, is named after the session's user.
//!
//! Also builds the [`CatalogSnapshot`] that catalog functions evaluated at
//! run time read ([`catalog_snapshot`]), and formats view definitions as
//! `pg_get_viewdef` does ([`view_definition`]).

use std::collections::{BTreeMap, BTreeSet};

use freshet_common::{DataType, Datum, Result, Row, F32};
use freshet_expr::catalog_func::{
    builtin_type, format_type, index_key_text, index_statement, quote_ident, CatalogSnapshot, IndexFacts, IndexShape,
    RelationFacts, TypeFacts, BUILTIN_TYPES,
};
use freshet_sql::{ColumnInfo, RelationInfo, RelationKind};
use sqlparser::ast;

use freshet_common::types::Identity;

use crate::catalog::{
    KeyPart,
    CatalogState, IndexDef, RelKind, RelationDef, INFORMATION_SCHEMA_OID, PG_CATALOG_OID,
};

/// What a system relation is computed from.
pub struct SystemContext<'a> {
    pub catalog: &'a CatalogState,
    pub database: &'a str,
    pub user: &'a str,
    pub settings: &'a [(String, String)],
    /// Materialized views' backfill jobs (`freshet_jobs`); empty when the
    /// relation being read is another one.
    pub jobs: &'a [crate::views::ViewJob],
    /// The session's open cursors (`pg_cursors`).
    pub cursors: &'a [CursorInfo],
    /// The sink tasks' status (`freshet_sinks`); empty when the relation
    /// being read is another one.
    pub sinks: &'a [crate::sinks::SinkStatus],
    /// The connectors' status (`freshet_sources`); empty when the
    /// relation being read is another one.
    pub sources: &'a [crate::sources::StatusRow],
}

/// An open cursor of the session, for `pg_cursors`.
pub struct CursorInfo {
    pub name: String,
    pub options: freshet_sql::plan::CursorOptions,
    pub created: freshet_common::datetime::TimestampTz,
}

type Producer = fn(&SystemContext<'_>) -> Result<Vec<Row>>;

/// One system relation.
pub struct SystemRelation {
    pub schema: &'static str,
    pub name: &'static str,
    pub oid: u32,
    /// `pg_class.relkind`: `r` for catalogs PostgreSQL stores, `v` for views.
    pub relkind: char,
    /// Columns as `name:type` separated by spaces, types as in
    /// `SysType::parse` (e.g. `"oid:oid relname:name"`).
    pub columns: &'static str,
    pub rows: Producer,
}

/// Column types of system relations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysType {
    Oid,
    Name,
    Text,
    Varchar,
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Char,
    RegProc,
    RegType,
    TextArray,
    OidArray,
    Int2Array,
    CharArray,
    Int2Vector,
    OidVector,
    Timestamptz,
    Bytea,
}

impl SysType {
    /// Parses a type name of a column spec. `xid` is stored as an `oid`
    /// (both are unsigned 32-bit), `pg_node_tree` as text (Freshet keeps
    /// expressions as SQL text), `aclitem[]` as `text[]`, the vector types
    /// as arrays.
    fn parse(name: &str) -> Option<SysType> {
        Some(match name {
            "oid" | "xid" => SysType::Oid,
            "name" => SysType::Name,
            "text" | "pg_node_tree" | "anyarray" => SysType::Text,
            "varchar" => SysType::Varchar,
            "bool" => SysType::Bool,
            "int2" => SysType::Int2,
            "int4" => SysType::Int4,
            "int8" => SysType::Int8,
            "float4" => SysType::Float4,
            "float8" => SysType::Float8,
            "char" => SysType::Char,
            "regproc" => SysType::RegProc,
            "regtype" => SysType::RegType,
            "text[]" | "aclitem[]" => SysType::TextArray,
            "oid[]" => SysType::OidArray,
            "oidvector" => SysType::OidVector,
            "int2[]" => SysType::Int2Array,
            "int2vector" => SysType::Int2Vector,
            "char[]" => SysType::CharArray,
            "timestamptz" => SysType::Timestamptz,
            "bytea" => SysType::Bytea,
            _ => return None,
        })
    }

    fn data_type(self) -> DataType {
        match self {
            SysType::Oid => DataType::Oid,
            SysType::Name => DataType::Name,
            SysType::Text => DataType::Text,
            SysType::Varchar => DataType::Varchar(None),
            SysType::Bool => DataType::Bool,
            SysType::Int2 => DataType::Int2,
            SysType::Int4 => DataType::Int4,
            SysType::Int8 => DataType::Int8,
            SysType::Float4 => DataType::Float4,
            SysType::Float8 => DataType::Float8,
            SysType::Char => DataType::InternalChar,
            SysType::RegProc => DataType::RegProc,
            SysType::RegType => DataType::RegType,
            SysType::TextArray => DataType::Array(Box::new(DataType::Text)),
            SysType::OidArray => DataType::Array(Box::new(DataType::Oid)),
            SysType::Int2Array => DataType::Array(Box::new(DataType::Int2)),
            SysType::CharArray => DataType::Array(Box::new(DataType::InternalChar)),
            SysType::Int2Vector => DataType::Int2Vector,
            SysType::OidVector => DataType::OidVector,
            SysType::Timestamptz => DataType::TimestampTz,
            SysType::Bytea => DataType::Bytea,
        }
    }
}

impl SystemRelation {
    /// The columns, parsed from the spec. Panics on a malformed spec: the
    /// specs are constants, checked by a unit test.
    pub fn column_types(&self) -> Vec<(&'static str, SysType)> {
        self.columns
            .split_whitespace()
            .map(|c| {
                let (name, ty) = c
                    .split_once(':')
                    .unwrap_or_else(|| panic!("column spec {c} of {} has no type", self.name));
                let ty = SysType::parse(ty)
                    .unwrap_or_else(|| panic!("unknown type in column spec {c} of {}", self.name));
                (name, ty)
            })
            .collect()
    }
}

macro_rules! rel {
    ($schema:expr, $name:expr, $oid:expr, $kind:expr, $rows:expr, $columns:expr) => {
        SystemRelation {
            schema: $schema,
            name: $name,
            oid: $oid,
            relkind: $kind,
            columns: $columns,
            rows: $rows,
        }
    };
}

const PG: &str = "pg_catalog";
const IS: &str = "information_schema";

/// Every system relation Freshet provides.
#[rustfmt::skip]
pub static RELATIONS: &[SystemRelation] = &[
    rel!(PG, "pg_namespace", 2615, 'r', pg_namespace, "oid:oid nspname:name nspowner:oid nspacl:aclitem[]"),
    rel!(PG, "pg_database", 1262, 'r', pg_database,
        "oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char datistemplate:bool datallowconn:bool \
         datconnlimit:int4 datfrozenxid:xid datminmxid:xid dattablespace:oid datcollate:text datctype:text \
         daticulocale:text datcollversion:text datacl:aclitem[]"),
    rel!(PG, "pg_class", 1259, 'r', pg_class,
        "oid:oid relname:name relnamespace:oid reltype:oid reloftype:oid relowner:oid relam:oid relfilenode:oid \
         reltablespace:oid relpages:int4 reltuples:float4 relallvisible:int4 reltoastrelid:oid relhasindex:bool \
         relisshared:bool relpersistence:char relkind:char relnatts:int2 relchecks:int2 relhasrules:bool \
         relhastriggers:bool relhassubclass:bool relrowsecurity:bool relforcerowsecurity:bool relispopulated:bool \
         relreplident:char relispartition:bool relrewrite:oid relfrozenxid:xid relminmxid:xid relacl:aclitem[] \
         reloptions:text[] relpartbound:pg_node_tree"),
    rel!(PG, "pg_attribute", 1249, 'r', pg_attribute,
        "attrelid:oid attname:name atttypid:oid attstattarget:int4 attlen:int2 attnum:int2 attndims:int4 \
         attcacheoff:int4 atttypmod:int4 attbyval:bool attalign:char attstorage:char attcompression:char \
         attnotnull:bool atthasdef:bool atthasmissing:bool attidentity:char attgenerated:char attisdropped:bool \
         attislocal:bool attinhcount:int4 attcollation:oid attacl:aclitem[] attoptions:text[] attfdwoptions:text[] \
         attmissingval:anyarray"),
    rel!(PG, "pg_type", 1247, 'r', pg_type,
        "oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typbyval:bool typtype:char typcategory:char \
         typispreferred:bool typisdefined:bool typdelim:char typrelid:oid typsubscript:regproc typelem:oid \
         typarray:oid typinput:regproc typoutput:regproc typreceive:regproc typsend:regproc typmodin:regproc \
         typmodout:regproc typanalyze:regproc typalign:char typstorage:char typnotnull:bool typbasetype:oid \
         typtypmod:int4 typndims:int4 typcollation:oid typdefaultbin:pg_node_tree typdefault:text typacl:aclitem[]"),
    rel!(PG, "pg_index", 2610, 'r', pg_index,
        "indexrelid:oid indrelid:oid indnatts:int2 indnkeyatts:int2 indisunique:bool indnullsnotdistinct:bool \
         indisprimary:bool indisexclusion:bool indimmediate:bool indisclustered:bool indisvalid:bool \
         indcheckxmin:bool indisready:bool indislive:bool indisreplident:bool indkey:int2vector \
         indcollation:oidvector indclass:oidvector indoption:int2vector indexprs:pg_node_tree indpred:pg_node_tree"),
    rel!(PG, "pg_constraint", 2606, 'r', pg_constraint,
        "oid:oid conname:name connamespace:oid contype:char condeferrable:bool condeferred:bool convalidated:bool \
         conrelid:oid contypid:oid conindid:oid conparentid:oid confrelid:oid confupdtype:char confdeltype:char \
         confmatchtype:char conislocal:bool coninhcount:int4 connoinherit:bool conkey:int2[] confkey:int2[] \
         conpfeqop:oid[] conppeqop:oid[] conffeqop:oid[] confdelsetcols:int2[] conexclop:oid[] conbin:pg_node_tree"),
    rel!(PG, "pg_attrdef", 2604, 'r', pg_attrdef, "oid:oid adrelid:oid adnum:int2 adbin:pg_node_tree"),
    rel!(PG, "pg_description", 2609, 'r', pg_description, "objoid:oid classoid:oid objsubid:int4 description:text"),
    rel!(PG, "pg_shdescription", 2396, 'r', empty, "objoid:oid classoid:oid description:text"),
    rel!(PG, "pg_settings", 12104, 'v', pg_settings,
        "name:text setting:text unit:text category:text short_desc:text extra_desc:text context:text vartype:text \
         source:text min_val:text max_val:text enumvals:text[] boot_val:text reset_val:text sourcefile:text \
         sourceline:int4 pending_restart:bool"),
    rel!(PG, "pg_roles", 12000, 'v', pg_roles,
        "rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool \
         rolreplication:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz rolbypassrls:bool \
         rolconfig:text[] oid:oid"),
    rel!(PG, "pg_authid", 1260, 'r', pg_authid,
        "oid:oid rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool \
         rolreplication:bool rolbypassrls:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz"),
    rel!(PG, "pg_user", 12014, 'v', pg_user,
        "usename:name usesysid:oid usecreatedb:bool usesuper:bool userepl:bool usebypassrls:bool passwd:text \
         valuntil:timestamptz useconfig:text[]"),
    rel!(PG, "pg_auth_members", 1261, 'r', empty, "roleid:oid member:oid grantor:oid admin_option:bool"),
    rel!(PG, "pg_am", 2601, 'r', pg_am, "oid:oid amname:name amhandler:regproc amtype:char"),
    rel!(PG, "pg_opclass", 2616, 'r', pg_opclass,
        "oid:oid opcmethod:oid opcname:name opcnamespace:oid opcowner:oid opcfamily:oid opcintype:oid \
         opcdefault:bool opckeytype:oid"),
    rel!(PG, "pg_collation", 3456, 'r', pg_collation,
        "oid:oid collname:name collnamespace:oid collowner:oid collprovider:char collisdeterministic:bool \
         collencoding:int4 collcollate:text collctype:text colliculocale:text collversion:text"),
    rel!(PG, "pg_inherits", 2611, 'r', empty, "inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool"),
    rel!(PG, "pg_sequence", 2224, 'r', pg_sequence,
        "seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 seqcache:int8 \
         seqcycle:bool"),
    rel!(PG, "pg_sequences", 12048, 'v', pg_sequences,
        "schemaname:name sequencename:name sequenceowner:name data_type:regtype start_value:int8 min_value:int8 \
         max_value:int8 increment_by:int8 cycle:bool cache_size:int8 last_value:int8"),
    rel!(PG, "pg_tables", 12033, 'v', pg_tables,
        "schemaname:name tablename:name tableowner:name tablespace:name hasindexes:bool hasrules:bool \
         hastriggers:bool rowsecurity:bool"),
    rel!(PG, "pg_views", 12028, 'v', pg_views, "schemaname:name viewname:name viewowner:name definition:text"),
    rel!(PG, "pg_matviews", 12038, 'v', pg_matviews,
        "schemaname:name matviewname:name matviewowner:name tablespace:name hasindexes:bool ispopulated:bool \
         definition:text"),
    rel!(PG, "pg_stat_activity", 12222, 'v', empty,
        "datid:oid datname:name pid:int4 leader_pid:int4 usesysid:oid usename:name application_name:text \
         client_hostname:text client_port:int4 backend_start:timestamptz xact_start:timestamptz \
         query_start:timestamptz state_change:timestamptz wait_event_type:text wait_event:text state:text \
         backend_xid:xid backend_xmin:xid query_id:int8 query:text backend_type:text"),
    rel!(PG, "pg_cursors", 12_100, 'v', pg_cursors,
        "name:text statement:text is_holdable:bool is_binary:bool is_scrollable:bool creation_time:timestamptz"),
    rel!(PG, "freshet_jobs", 15_990, 'v', freshet_jobs,
        "job_id:int8 schema_name:name name:name kind:text status:text progress:float8 backfill_rows:int8 \
         started_at:timestamptz backfilled_at:timestamptz backfill_ms:int8"),
    rel!(PG, "freshet_subscriptions", 15_992, 'v', freshet_subscriptions,
        "oid:oid schema_name:name name:name relation_schema:name relation_name:name retention_seconds:int8"),
    rel!(PG, "freshet_sinks", 15_991, 'v', freshet_sinks,
        "sink_id:int8 schema_name:name name:name view_name:name connector:text sink_type:text status:text \
         delivered_ts:int8 snapshots:int8 batches:int8 rows_delivered:int8 retries:int8 \
         last_delivery_at:timestamptz last_error:text"),
    rel!(PG, "freshet_sources", 15_993, 'v', freshet_sources,
        "source_id:int8 schema_name:name name:name kind:text connector:text status:text rows:int8 errors:int8 \
         last_error:text"),
    rel!(PG, "pg_indexes", 12043, 'v', pg_indexes,
        "schemaname:name tablename:name indexname:name tablespace:name indexdef:text"),
    rel!(PG, "pg_proc", 1255, 'r', empty,
        "oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4 prorows:float4 \
         provariadic:oid prosupport:regproc prokind:char prosecdef:bool proleakproof:bool proisstrict:bool \
         proretset:bool provolatile:char proparallel:char pronargs:int2 pronargdefaults:int2 prorettype:oid \
         proargtypes:oidvector proallargtypes:oid[] proargmodes:char[] proargnames:text[] \
         proargdefaults:pg_node_tree protrftypes:oid[] prosrc:text probin:text prosqlbody:pg_node_tree \
         proconfig:text[] proacl:aclitem[]"),
    rel!(PG, "pg_tablespace", 1213, 'r', pg_tablespace,
        "oid:oid spcname:name spcowner:oid spcacl:aclitem[] spcoptions:text[]"),
    rel!(PG, "pg_trigger", 2620, 'r', empty,
        "oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid tgtype:int2 tgenabled:char tgisinternal:bool \
         tgconstrrelid:oid tgconstrindid:oid tgconstraint:oid tgdeferrable:bool tginitdeferred:bool tgnargs:int2 \
         tgattr:int2vector tgargs:bytea tgqual:pg_node_tree tgoldtable:name tgnewtable:name"),
    rel!(PG, "pg_rewrite", 2618, 'r', empty,
        "oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool ev_qual:pg_node_tree \
         ev_action:pg_node_tree"),
    rel!(PG, "pg_policy", 3256, 'r', empty,
        "oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:oid[] polqual:pg_node_tree \
         polwithcheck:pg_node_tree"),
    rel!(PG, "pg_publication", 6104, 'r', empty,
        "oid:oid pubname:name pubowner:oid puballtables:bool pubinsert:bool pubupdate:bool pubdelete:bool \
         pubtruncate:bool pubviaroot:bool"),
    rel!(PG, "pg_publication_rel", 6106, 'r', empty,
        "oid:oid prpubid:oid prrelid:oid prqual:pg_node_tree prattrs:int2vector"),
    rel!(PG, "pg_publication_namespace", 6237, 'r', empty, "oid:oid pnpubid:oid pnnspid:oid"),
    rel!(PG, "pg_statistic_ext", 3381, 'r', empty,
        "oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid stxstattarget:int4 stxkeys:int2vector \
         stxkind:char[] stxexprs:pg_node_tree"),
    rel!(PG, "pg_foreign_table", 3118, 'r', empty, "ftrelid:oid ftserver:oid ftoptions:text[]"),
    rel!(PG, "pg_foreign_server", 1417, 'r', empty,
        "oid:oid srvname:name srvowner:oid srvfdw:oid srvtype:text srvversion:text srvacl:aclitem[] \
         srvoptions:text[]"),
    rel!(PG, "pg_foreign_data_wrapper", 2328, 'r', empty,
        "oid:oid fdwname:name fdwowner:oid fdwhandler:oid fdwvalidator:oid fdwacl:aclitem[] fdwoptions:text[]"),
    rel!(PG, "pg_partitioned_table", 3350, 'r', empty,
        "partrelid:oid partstrat:char partnatts:int2 partdefid:oid partattrs:int2vector partclass:oidvector \
         partcollation:oidvector partexprs:pg_node_tree"),
    rel!(PG, "pg_extension", 3079, 'r', pg_extension,
        "oid:oid extname:name extowner:oid extnamespace:oid extrelocatable:bool extversion:text extconfig:oid[] \
         extcondition:text[]"),
    rel!(PG, "pg_enum", 3501, 'r', pg_enum, "oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name"),
    rel!(PG, "pg_range", 3541, 'r', empty,
        "rngtypid:oid rngsubtype:oid rngmultitypid:oid rngcollation:oid rngsubopc:oid rngcanonical:regproc \
         rngsubdiff:regproc"),
    rel!(PG, "pg_depend", 2608, 'r', pg_depend,
        "classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 deptype:char"),
    rel!(PG, "pg_event_trigger", 3466, 'r', empty,
        "oid:oid evtname:name evtevent:name evtowner:oid evtfoid:oid evtenabled:char evttags:text[]"),
    rel!(PG, "pg_language", 2612, 'r', empty,
        "oid:oid lanname:name lanowner:oid lanispl:bool lanpltrusted:bool lanplcallfoid:oid laninline:oid \
         lanvalidator:oid lanacl:aclitem[]"),
    rel!(IS, "schemata", 13382, 'v', is_schemata,
        "catalog_name:name schema_name:name schema_owner:name default_character_set_catalog:name \
         default_character_set_schema:name default_character_set_name:name sql_path:varchar"),
    rel!(IS, "tables", 13425, 'v', is_tables,
        "table_catalog:name table_schema:name table_name:name table_type:varchar self_referencing_column_name:name \
         reference_generation:varchar user_defined_type_catalog:name user_defined_type_schema:name \
         user_defined_type_name:name is_insertable_into:varchar is_typed:varchar commit_action:varchar"),
    rel!(IS, "columns", 13295, 'v', is_columns,
        "table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 \
         column_default:varchar is_nullable:varchar data_type:varchar character_maximum_length:int4 \
         character_octet_length:int4 numeric_precision:int4 numeric_precision_radix:int4 numeric_scale:int4 \
         datetime_precision:int4 interval_type:varchar interval_precision:int4 character_set_catalog:name \
         character_set_schema:name character_set_name:name collation_catalog:name collation_schema:name \
         collation_name:name domain_catalog:name domain_schema:name domain_name:name udt_catalog:name \
         udt_schema:name udt_name:name scope_catalog:name scope_schema:name scope_name:name \
         maximum_cardinality:int4 dtd_identifier:name is_self_referencing:varchar is_identity:varchar \
         identity_generation:varchar identity_start:varchar identity_increment:varchar identity_maximum:varchar \
         identity_minimum:varchar identity_cycle:varchar is_generated:varchar generation_expression:varchar \
         is_updatable:varchar"),
    rel!(IS, "views", 13483, 'v', is_views,
        "table_catalog:name table_schema:name table_name:name view_definition:varchar check_option:varchar \
         is_updatable:varchar is_insertable_into:varchar is_trigger_updatable:varchar \
         is_trigger_deletable:varchar is_trigger_insertable_into:varchar"),
    rel!(IS, "table_constraints", 13411, 'v', is_table_constraints,
        "constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name \
         table_name:name constraint_type:varchar is_deferrable:varchar initially_deferred:varchar \
         enforced:varchar nulls_distinct:varchar"),
    rel!(IS, "key_column_usage", 13329, 'v', is_key_column_usage,
        "constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name table_schema:name \
         table_name:name column_name:name ordinal_position:int4 position_in_unique_constraint:int4"),
    rel!(IS, "constraint_column_usage", 13300, 'v', is_constraint_column_usage,
        "table_catalog:name table_schema:name table_name:name column_name:name constraint_catalog:name \
         constraint_schema:name constraint_name:name"),
    rel!(IS, "check_constraints", 13260, 'v', is_check_constraints,
        "constraint_catalog:name constraint_schema:name constraint_name:name check_clause:varchar"),
    rel!(IS, "referential_constraints", 13339, 'v', empty,
        "constraint_catalog:name constraint_schema:name constraint_name:name unique_constraint_catalog:name \
         unique_constraint_schema:name unique_constraint_name:name match_option:varchar update_rule:varchar \
         delete_rule:varchar"),
    rel!(IS, "sequences", 13386, 'v', is_sequences,
        "sequence_catalog:name sequence_schema:name sequence_name:name data_type:varchar numeric_precision:int4 \
         numeric_precision_radix:int4 numeric_scale:int4 start_value:varchar minimum_value:varchar \
         maximum_value:varchar increment:varchar cycle_option:varchar"),
];

/// The binder's view of the system relation `schema.name`, if it exists.
pub fn relation(schema: &str, name: &str) -> Option<RelationInfo> {
    RELATIONS
        .iter()
        .find(|r| r.schema == schema && r.name == name)
        .map(info)
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
            .column_types()
            .into_iter()
            .map(|(n, t)| ColumnInfo {
                name: n.to_string(),
                ty: t.data_type(),
                not_null: false,
                default: None,
                generated: None,
                identity: None,
                collation: None,
            })
            .collect(),
        primary_key: vec![],
        unique_keys: vec![],
    }
}

/// The rows of the system relation named `schema.name`.
pub fn rows(qualified: &str, ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let (schema, name) = qualified
        .split_once('.')
        .unwrap_or(("pg_catalog", qualified));
    match RELATIONS
        .iter()
        .find(|r| r.schema == schema && r.name == name)
    {
        Some(r) => {
            let rows = (r.rows)(ctx)?;
            let width = r.column_types().len();
            assert!(
                rows.iter().all(|row| row.len() == width),
                "system relation {qualified} produced a row that does not have its {width} columns"
            );
            Ok(rows)
        }
        None => Err(freshet_common::Error::undefined_table(qualified)),
    }
}

// ---------------------------------------------------------------------------
// Datum helpers and fixed OIDs.

/// The bootstrap superuser, owner of every object.
const OWNER_OID: u32 = 10;
/// `pg_database_owner`, owner of each database's `public` schema.
const DATABASE_OWNER_OID: u32 = 6171;
const PG_CLASS_OID: u32 = 1259;
const PG_CONSTRAINT_OID: u32 = 2606;
const PG_ATTRDEF_OID: u32 = 2604;
const HEAP_AM_OID: u32 = 2;
const BTREE_AM_OID: u32 = 403;
const DEFAULT_COLLATION_OID: u32 = 100;

fn text(s: &str) -> Datum {
    Datum::Text(s.to_string())
}

fn oid(o: u32) -> Datum {
    Datum::Oid(o)
}

fn ch(c: char) -> Datum {
    Datum::Text(c.to_string())
}

fn yes_no(b: bool) -> Datum {
    text(if b { "YES" } else { "NO" })
}

fn null() -> Datum {
    Datum::Null
}

fn empty(_: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(vec![])
}

/// Synthetic OID of a column default (Freshet stores defaults as column
/// text, not as objects): at or above 2^31, unique per (relation, column)
/// for relation OIDs below about 1.3 million.
pub fn attrdef_oid(relation: u32, attnum: usize) -> u32 {
    0x8000_0000u32
        .wrapping_add(relation.wrapping_mul(1600))
        .wrapping_add(attnum as u32)
}

/// OID of a schema visible in the session's database.
pub fn namespace_oid(ctx: &SystemContext<'_>, schema: &str) -> u32 {
    ctx.catalog.schema_oid(ctx.database, schema).unwrap_or(0)
}

/// The relations of the session's database, in OID order.
fn user_relations<'a>(ctx: &'a SystemContext<'a>) -> impl Iterator<Item = &'a RelationDef> + 'a {
    ctx.catalog.relations_in(ctx.database).filter(|r| !ctx.catalog.is_sink_view(r.oid))
}

/// `pg_class.relkind` of a stored relation.
pub fn relkind(kind: &RelKind) -> char {
    match kind {
        RelKind::Table => 'r',
        RelKind::View { .. } => 'v',
        RelKind::Sequence { .. } => 'S',
        RelKind::MaterializedView { .. } => 'm',
    }
}

/// Whether an index implements a constraint (PRIMARY KEY or UNIQUE), as
/// opposed to one made by CREATE UNIQUE INDEX.
fn is_constraint(index: &IndexDef) -> bool {
    index.primary || (index.unique && !index.standalone)
}

/// The type facts of a column type (falling back to `text`'s for a type
/// missing from the table, which would be a bug in [`BUILTIN_TYPES`]).
/// An enum type's storage facts are those of `oid` (4 bytes, by value,
/// int-aligned, no collation), its array type's those of `oid[]`.
fn type_facts(ty: &DataType) -> &'static freshet_expr::catalog_func::BuiltinType {
    let oid = match ty {
        DataType::Enum(_) => DataType::Oid.oid(),
        DataType::Array(e) if matches!(**e, DataType::Enum(_)) => DataType::Array(Box::new(DataType::Oid)).oid(),
        other => other.oid(),
    };
    builtin_type(oid)
        .or_else(|| builtin_type(25))
        .expect("the builtin type table has text")
}

/// `format_type(oid, -1)` of a column type, user-defined types included
/// (printed by name, as PostgreSQL prints a visible type).
fn type_text(ty: &DataType) -> String {
    match ty {
        DataType::Enum(_) => ty.to_string(),
        DataType::Array(e) if matches!(**e, DataType::Enum(_)) => ty.to_string(),
        _ => format_type(ty.oid(), Some(-1)),
    }
}

/// `pg_type` OIDs of the functions of enum types (`enum_in`, `enum_out`,
/// `enum_recv`, `enum_send`), as in PostgreSQL 15.
const ENUM_IO_PROCS: [u32; 4] = [3506, 3507, 3532, 3533];

/// The user-defined types of `database` and their array types, with what
/// `format_type` prints for them and whether `search_path` finds them by
/// name (a type is visible when no schema before its own on the path has
/// a type of that name; `pg_catalog`'s built-in names count).
pub fn user_types(catalog: &CatalogState, database: &str, search_path: &[String]) -> BTreeMap<u32, TypeFacts> {
    let builtin = |name: &str| BUILTIN_TYPES.iter().any(|t| t.typname == name);
    let visible = |schema: &str, name: &str| {
        for s in search_path {
            if s == "pg_catalog" && builtin(name) {
                return false;
            }
            if catalog.types_in(database).any(|t| t.ty.schema() == s && (t.ty.name() == name || t.array_name == name)) {
                return s == schema;
            }
        }
        false
    };
    let mut out = BTreeMap::new();
    for t in catalog.types_in(database) {
        let schema = t.ty.schema().to_string();
        let shown = if visible(&schema, t.ty.name()) {
            quote_ident(t.ty.name())
        } else {
            format!("{}.{}", quote_ident(&schema), quote_ident(t.ty.name()))
        };
        out.insert(
            t.ty.oid(),
            TypeFacts { schema: schema.clone(), name: t.ty.name().to_string(), display: shown.clone(), visible: visible(&schema, t.ty.name()) },
        );
        out.insert(
            t.ty.array_oid(),
            TypeFacts { schema: schema.clone(), name: t.array_name.clone(), display: format!("{shown}[]"), visible: visible(&schema, &t.array_name) },
        );
    }
    out
}

/// What `format_type(oid, NULL)` and `regtype` output print for a
/// user-defined type (or its array type) of `database`.
pub fn user_type_name(catalog: &CatalogState, database: &str, search_path: &[String], oid: u32) -> Option<String> {
    user_types(catalog, database, search_path).remove(&oid).map(|t| t.display)
}

// ---------------------------------------------------------------------------
// pg_catalog producers.

fn pg_namespace(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = vec![
        vec![
            oid(PG_CATALOG_OID),
            text("pg_catalog"),
            oid(OWNER_OID),
            null(),
        ],
        vec![
            oid(INFORMATION_SCHEMA_OID),
            text("information_schema"),
            oid(OWNER_OID),
            null(),
        ],
    ];
    for s in ctx
        .catalog
        .schemas
        .values()
        .filter(|s| s.database == ctx.database)
    {
        if s.name == "public" {
            // As initdb leaves it in PostgreSQL 15.
            let acl = vec![
                text("pg_database_owner=UC/pg_database_owner"),
                text("=U/pg_database_owner"),
            ];
            rows.push(vec![
                oid(s.oid),
                text(&s.name),
                oid(DATABASE_OWNER_OID),
                Datum::Array(acl),
            ]);
        } else {
            rows.push(vec![oid(s.oid), text(&s.name), oid(OWNER_OID), null()]);
        }
    }
    Ok(rows)
}

fn pg_database(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(ctx
        .catalog
        .databases
        .values()
        .map(|d| {
            vec![
                oid(d.oid),
                text(&d.name),
                oid(OWNER_OID),
                Datum::Int4(6),
                ch('c'),
                Datum::Bool(false),
                Datum::Bool(true),
                Datum::Int4(-1),
                oid(0),
                oid(1),
                oid(1663),
                text("C.UTF-8"),
                text("C.UTF-8"),
                null(),
                null(),
                null(),
            ]
        })
        .collect())
}

/// One `pg_class` row.
fn class_row(
    rel_oid: u32,
    name: &str,
    namespace: u32,
    kind: char,
    natts: usize,
    has_index: bool,
) -> Row {
    class_row_with_persistence(rel_oid, name, namespace, kind, natts, has_index, 'p')
}

/// A pg_class row; `persistence` is `relpersistence` ('p', or 't' for a
/// temporary relation).
fn class_row_with_persistence(
    rel_oid: u32,
    name: &str,
    namespace: u32,
    kind: char,
    natts: usize,
    has_index: bool,
    persistence: char,
) -> Row {
    let (am, filenode, pages, tuples, replident) = match kind {
        'r' => (HEAP_AM_OID, rel_oid, 0, -1.0, 'd'),
        'i' => (BTREE_AM_OID, rel_oid, 1, 0.0, 'n'),
        'S' => (0, rel_oid, 1, 1.0, 'n'),
        _ => (0, 0, 0, -1.0, 'n'),
    };
    vec![
        oid(rel_oid),
        text(name),
        oid(namespace),
        oid(0),
        oid(0),
        oid(OWNER_OID),
        oid(am),
        oid(filenode),
        oid(0),
        Datum::Int4(pages),
        Datum::Float4(F32(tuples)),
        Datum::Int4(0),
        oid(0),
        Datum::Bool(has_index),
        Datum::Bool(false),
        ch(persistence),
        ch(kind),
        Datum::Int2(natts as i16),
        Datum::Int2(0),
        Datum::Bool(kind == 'v'),
        Datum::Bool(false),
        Datum::Bool(false),
        Datum::Bool(false),
        Datum::Bool(false),
        Datum::Bool(true),
        ch(replident),
        Datum::Bool(false),
        oid(0),
        oid(0),
        oid(0),
        null(),
        null(),
        null(),
    ]
}

fn pg_class(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        let ns = namespace_oid(ctx, &r.schema);
        let persistence = if r.schema.starts_with("pg_temp_") { 't' } else { 'p' };
        let mut row =
            class_row_with_persistence(r.oid, &r.name, ns, relkind(&r.kind), r.columns.len(), !r.indexes.is_empty(), persistence);
        // relchecks counts CHECK constraints; foreign keys are implemented
        // with triggers in PostgreSQL, so relhastriggers marks both ends.
        row[18] = Datum::Int2(r.checks.len() as i16);
        let referenced = ctx.catalog.relations_in(ctx.database).any(|o| o.foreign_keys.iter().any(|f| f.ref_table == r.oid));
        row[20] = Datum::Bool(!r.foreign_keys.is_empty() || referenced);
        rows.push(row);
        for i in &r.indexes {
            rows.push(class_row_with_persistence(i.oid, &i.name, ns, 'i', i.key_len() + i.include.len(), false, persistence));
        }
    }
    for s in RELATIONS {
        let ns = if s.schema == PG {
            PG_CATALOG_OID
        } else {
            INFORMATION_SCHEMA_OID
        };
        rows.push(class_row(
            s.oid,
            s.name,
            ns,
            s.relkind,
            s.column_types().len(),
            false,
        ));
    }
    Ok(rows)
}

/// What a `pg_attribute` row says about one column (attnum 1-based).
struct Attribute<'a> {
    rel_oid: u32,
    name: &'a str,
    ty: &'a DataType,
    attnum: usize,
    not_null: bool,
    has_default: bool,
    generated: bool,
    identity: Option<Identity>,
    /// `attcollation` when not the type's default.
    collation: Option<u32>,
}

impl<'a> Attribute<'a> {
    /// A plain column: nullable, no default, no collation of its own.
    fn plain(rel_oid: u32, name: &'a str, ty: &'a DataType, attnum: usize) -> Attribute<'a> {
        Attribute { rel_oid, name, ty, attnum, not_null: false, has_default: false, generated: false, identity: None, collation: None }
    }
}

/// The OID of a code-point collation by name (pg_collation's).
fn collation_oid(name: &str) -> Option<u32> {
    match name {
        "C" => Some(950),
        "POSIX" => Some(951),
        "ucs_basic" => Some(12_340),
        _ => None,
    }
}

fn attribute_row(a: Attribute<'_>) -> Row {
    let Attribute { rel_oid, name, ty, attnum, not_null, has_default, generated, identity, collation } = a;
    let t = type_facts(ty);
    // Columns of type `name` in catalogs use the C collation, as in PostgreSQL.
    vec![
        oid(rel_oid),
        text(name),
        oid(ty.oid()),
        Datum::Int4(-1),
        Datum::Int2(t.typlen),
        Datum::Int2(attnum as i16),
        Datum::Int4(matches!(ty, DataType::Array(_)) as i32),
        Datum::Int4(-1),
        Datum::Int4(ty.typmod()),
        Datum::Bool(t.typbyval),
        ch(t.typalign),
        ch(t.typstorage),
        text(""),
        Datum::Bool(not_null),
        Datum::Bool(has_default),
        Datum::Bool(false),
        text(&identity.map(|i| i.code().to_string()).unwrap_or_default()),
        text(if generated { "s" } else { "" }),
        Datum::Bool(false),
        Datum::Bool(true),
        Datum::Int4(0),
        oid(collation.unwrap_or(t.typcollation)),
        null(),
        null(),
        null(),
        null(),
    ]
}

fn pg_attribute(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        for (i, c) in r.columns.iter().enumerate() {
            // An identity column has no default in PostgreSQL's catalogs.
            let has_default = (default_expression(c.default.as_deref(), &c.ty).is_some() && c.identity.is_none())
                || c.generated.is_some();
            rows.push(attribute_row(Attribute {
                rel_oid: r.oid,
                name: &c.name,
                ty: &c.ty,
                attnum: i + 1,
                not_null: c.not_null,
                has_default,
                generated: c.generated.is_some(),
                identity: c.identity,
                collation: c.collation.as_deref().and_then(collation_oid),
            }));
        }
        for index in &r.indexes {
            let mut parts = index.key_parts();
            parts.extend(index.include.iter().map(|c| KeyPart::Column(*c)));
            for (i, part) in parts.into_iter().enumerate() {
                // An expression part is named after its function, else
                // "expr", as PostgreSQL names it.
                let (name, ty) = match part {
                    KeyPart::Column(col) => match r.columns.get(col) {
                        Some(c) => (c.name.clone(), c.ty.clone()),
                        None => continue,
                    },
                    KeyPart::Expression(e) => {
                        let function = e.split('(').next().filter(|f| e.contains('(') && !f.is_empty() && f.chars().all(|c| c.is_alphanumeric() || c == '_'));
                        (function.unwrap_or("expr").to_lowercase(), DataType::Text)
                    }
                };
                rows.push(attribute_row(Attribute::plain(index.oid, &name, &ty, i + 1)));
            }
        }
    }
    for s in RELATIONS {
        for (i, (name, ty)) in s.column_types().into_iter().enumerate() {
            let ty = ty.data_type();
            rows.push(attribute_row(Attribute::plain(s.oid, name, &ty, i + 1)));
        }
    }
    Ok(rows)
}

fn pg_type(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = builtin_type_rows();
    for t in ctx.catalog.types_in(ctx.database) {
        let namespace = namespace_oid(ctx, t.ty.schema());
        let [input, output, receive, send] = ENUM_IO_PROCS;
        // typname, typlen, typbyval, typtype, typcategory, typelem,
        // typarray, I/O functions, typstorage.
        let shapes = [
            (t.ty.oid(), t.ty.name(), 4, true, 'e', 'E', 0, t.ty.array_oid(), [input, output, receive, send], 'p'),
            (t.ty.array_oid(), t.array_name.as_str(), -1, false, 'b', 'A', t.ty.oid(), 0, [750, 751, 2400, 2401], 'x'),
        ];
        for (type_oid, name, len, byval, typtype, category, elem, array, procs, storage) in shapes {
            rows.push(vec![
                oid(type_oid),
                text(name),
                oid(namespace),
                oid(OWNER_OID),
                Datum::Int2(len),
                Datum::Bool(byval),
                ch(typtype),
                ch(category),
                Datum::Bool(false),
                Datum::Bool(true),
                ch(','),
                oid(0),
                oid(0),
                oid(elem),
                oid(array),
                oid(procs[0]),
                oid(procs[1]),
                oid(procs[2]),
                oid(procs[3]),
                oid(0),
                oid(0),
                oid(0),
                ch('i'),
                ch(storage),
                Datum::Bool(false),
                oid(0),
                Datum::Int4(-1),
                Datum::Int4(0),
                oid(0),
                null(),
                null(),
                null(),
            ]);
        }
    }
    Ok(rows)
}

/// `pg_enum`: the labels of the database's enum types.
fn pg_enum(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in ctx.catalog.types_in(ctx.database) {
        for l in t.ty.labels() {
            rows.push(vec![oid(l.oid), oid(t.ty.oid()), Datum::Float4(F32(l.sort_order)), text(&l.label)]);
        }
    }
    Ok(rows)
}

/// The `pg_type` rows of the built-in types.
fn builtin_type_rows() -> Vec<Row> {
    BUILTIN_TYPES
        .iter()
        .map(|t| {
            let [input, output, receive, send] = freshet_expr::catalog_func::type_io_procs(t);
            vec![
                oid(t.oid),
                text(t.typname),
                oid(PG_CATALOG_OID),
                oid(OWNER_OID),
                Datum::Int2(t.typlen),
                Datum::Bool(t.typbyval),
                ch(t.typtype),
                ch(t.typcategory),
                Datum::Bool(t.typispreferred),
                Datum::Bool(true),
                ch(','),
                oid(0),
                oid(0),
                oid(t.typelem),
                oid(t.typarray),
                oid(input),
                oid(output),
                oid(receive),
                oid(send),
                oid(0),
                oid(0),
                oid(0),
                ch(t.typalign),
                ch(t.typstorage),
                Datum::Bool(false),
                oid(0),
                Datum::Int4(-1),
                Datum::Int4(0),
                oid(t.typcollation),
                null(),
                null(),
                null(),
            ]
        })
        .collect()
}

fn pg_index(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        for i in &r.indexes {
            // The key parts, then the INCLUDE columns.
            let mut parts = i.key_parts();
            let n_key = parts.len();
            parts.extend(i.include.iter().map(|c| KeyPart::Column(*c)));
            let n = parts.len();
            // indkey: the column's number, 0 for an expression.
            let keys = parts
                .iter()
                .map(|p| Datum::Int2(match p {
                    KeyPart::Column(c) => *c as i16 + 1,
                    KeyPart::Expression(_) => 0,
                }))
                .collect();
            let collations = parts
                .iter()
                .map(|p| {
                    let collatable = match p {
                        KeyPart::Column(c) => r.columns.get(*c).is_some_and(|c| type_facts(&c.ty).typcollation != 0),
                        KeyPart::Expression(_) => false,
                    };
                    oid(if collatable { DEFAULT_COLLATION_OID } else { 0 })
                })
                .collect();
            let classes = parts[..n_key].iter().enumerate().map(|(k, p)| oid(opclass_oid(r, i, k, p))).collect();
            let options = (0..n_key).map(|k| Datum::Int2(i.options.get(k).copied().unwrap_or(0))).collect();
            let expressions: Vec<&str> = i.expressions.iter().map(|(_, e)| e.as_str()).collect();
            rows.push(vec![
                oid(i.oid),
                oid(r.oid),
                Datum::Int2(n as i16),
                Datum::Int2(n_key as i16),
                Datum::Bool(i.unique || i.primary),
                Datum::Bool(i.nulls_not_distinct),
                Datum::Bool(i.primary),
                Datum::Bool(false),
                Datum::Bool(true),
                Datum::Bool(false),
                Datum::Bool(true),
                Datum::Bool(false),
                Datum::Bool(true),
                Datum::Bool(true),
                Datum::Bool(false),
                Datum::Array(keys),
                Datum::Array(collations),
                Datum::Array(classes),
                Datum::Array(options),
                if expressions.is_empty() { null() } else { text(&expressions.join(", ")) },
                i.predicate.as_deref().map(text).unwrap_or(Datum::Null),
            ]);
        }
    }
    Ok(rows)
}

fn pg_constraint(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        let ns = namespace_oid(ctx, &r.schema);
        for i in r.indexes.iter().filter(|i| is_constraint(i)) {
            let keys = i
                .columns
                .iter()
                .map(|c| Datum::Int2(*c as i16 + 1))
                .collect();
            rows.push(vec![
                oid(i.oid),
                text(&i.name),
                oid(ns),
                ch(if i.primary { 'p' } else { 'u' }),
                Datum::Bool(false),
                Datum::Bool(false),
                Datum::Bool(true),
                oid(r.oid),
                oid(0),
                oid(i.oid),
                oid(0),
                oid(0),
                ch(' '),
                ch(' '),
                ch(' '),
                Datum::Bool(true),
                Datum::Int4(0),
                Datum::Bool(true),
                Datum::Array(keys),
                null(),
                null(),
                null(),
                null(),
                null(),
                null(),
                null(),
            ]);
        }
        for fk in &r.foreign_keys {
            let action = |a: crate::catalog::FkAction| {
                use crate::catalog::FkAction::*;
                ch(match a {
                    NoAction => 'a',
                    Restrict => 'r',
                    Cascade => 'c',
                    SetNull => 'n',
                    SetDefault => 'd',
                })
            };
            let parent_index = ctx
                .catalog
                .relations
                .get(&fk.ref_table)
                .and_then(|p| {
                    let mut want = fk.ref_columns.clone();
                    want.sort_unstable();
                    p.indexes.iter().find(|i| {
                        let mut c = i.columns.clone();
                        c.sort_unstable();
                        (i.unique || i.primary) && c == want
                    })
                })
                .map(|i| i.oid)
                .unwrap_or(0);
            rows.push(vec![
                oid(fk.oid),
                text(&fk.name),
                oid(ns),
                ch('f'),
                Datum::Bool(fk.deferrable),
                Datum::Bool(fk.initially_deferred),
                Datum::Bool(true),
                oid(r.oid),
                oid(0),
                oid(parent_index),
                oid(0),
                oid(fk.ref_table),
                action(fk.on_update),
                action(fk.on_delete),
                ch('s'),
                Datum::Bool(true),
                Datum::Int4(0),
                Datum::Bool(true),
                Datum::Array(fk.columns.iter().map(|c| Datum::Int2(*c as i16 + 1)).collect()),
                Datum::Array(fk.ref_columns.iter().map(|c| Datum::Int2(*c as i16 + 1)).collect()),
                null(),
                null(),
                null(),
                null(),
                null(),
                null(),
            ]);
        }
        for c in &r.checks {
            // conkey lists the columns the expression mentions.
            let lower = c.expr.to_lowercase();
            let keys: Vec<Datum> = r
                .columns
                .iter()
                .enumerate()
                .filter(|(_, col)| lower.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')).any(|w| w == col.name))
                .map(|(i, _)| Datum::Int2(i as i16 + 1))
                .collect();
            rows.push(vec![
                oid(c.oid),
                text(&c.name),
                oid(ns),
                ch('c'),
                Datum::Bool(false),
                Datum::Bool(false),
                Datum::Bool(true),
                oid(r.oid),
                oid(0),
                oid(0),
                oid(0),
                oid(0),
                ch(' '),
                ch(' '),
                ch(' '),
                Datum::Bool(true),
                Datum::Int4(0),
                Datum::Bool(false),
                Datum::Array(keys),
                null(),
                null(),
                null(),
                null(),
                null(),
                null(),
                text(&c.expr),
            ]);
        }
    }
    Ok(rows)
}

/// A column default as `pg_get_expr` prints it, or `None` when the column
/// has none (a `DEFAULT NULL` is no default, as in PostgreSQL).
///
/// Freshet keeps the default's SQL text; PostgreSQL prints the parsed
/// expression, which differs for literals: a string literal shows the type
/// it is coerced to (`'x'::text`) and a negative number its type
/// (`'-1'::integer`). Other expressions print as written.
pub fn default_expression(default: Option<&str>, ty: &DataType) -> Option<String> {
    default_expression_as(default, &type_text(ty))
}

/// [`default_expression`] in a session: a user-defined type is qualified
/// with its schema unless the search path finds it, as `format_type` does.
fn default_expression_in(ctx: &SystemContext<'_>, default: Option<&str>, ty: &DataType) -> Option<String> {
    let named = match ty {
        DataType::Enum(t) => Some(t.oid()),
        DataType::Array(e) => e.as_enum().map(|t| t.array_oid()),
        _ => None,
    };
    let shown = named.and_then(|oid| user_type_name(ctx.catalog, ctx.database, &search_path(ctx), oid));
    default_expression_as(default, &shown.unwrap_or_else(|| type_text(ty)))
}

/// [`default_expression`] with the type printed as `type_name`.
fn default_expression_as(default: Option<&str>, type_name: &str) -> Option<String> {
    let d = default?.trim();
    if d.eq_ignore_ascii_case("null") {
        return None;
    }
    let is_string_literal = d.len() >= 2
        && d.starts_with('\'')
        && d.ends_with('\'')
        && !d[1..d.len() - 1].replace("''", "").contains('\'');
    if is_string_literal {
        return Some(format!("{d}::{type_name}"));
    }
    if let Some(digits) = d.strip_prefix('-') {
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let ty = if d.parse::<i32>().is_ok() {
                "integer"
            } else {
                "bigint"
            };
            return Some(format!("'{d}'::{ty}"));
        }
        if digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') && digits.contains('.') {
            return Some(format!("'{d}'::numeric"));
        }
    }
    Some(d.to_string())
}

/// The default of column `col` of `r` as `pg_attrdef.adbin` holds it: as
/// [`default_expression`], with the sequence of a serial column named with
/// its schema (`pg_get_expr` drops the schema again when it is on the
/// search path, as `regclass` output does).
fn attrdef_text(ctx: &SystemContext<'_>, r: &RelationDef, col: usize) -> Option<String> {
    let c = r.columns.get(col)?;
    if let Some(generated) = &c.generated {
        return Some(generated.clone());
    }
    if c.identity.is_some() {
        return None;
    }
    let expr = default_expression_in(ctx, c.default.as_deref(), &c.ty)?;
    let owned = user_relations(ctx).find(|s| matches!(&s.kind, RelKind::Sequence { owner: Some((t, k)), .. } if *t == r.oid && *k == col));
    Some(match owned {
        Some(seq) => expr.replace(
            &format!("'{}'::regclass", seq.name.replace('\'', "''")),
            &format!(
                "'{}'::regclass",
                format!("{}.{}", quote_ident(&seq.schema), quote_ident(&seq.name))
                    .replace('\'', "''")
            ),
        ),
        None => expr,
    })
}

/// The session's effective search path (`$user` resolved), for output
/// that depends on visibility.
fn search_path(ctx: &SystemContext<'_>) -> Vec<String> {
    let raw = ctx
        .settings
        .iter()
        .find(|(k, _)| k == "search_path")
        .map(|(_, v)| v.as_str())
        .unwrap_or("public");
    let mut path = vec!["pg_catalog".to_string()];
    for part in raw.split(',') {
        let p = part.trim().trim_matches('"');
        let p = if p == "$user" { ctx.user } else { p };
        if !p.is_empty() && !path.iter().any(|x| x == p) {
            path.push(p.to_string());
        }
    }
    path
}

fn pg_attrdef(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        for i in 0..r.columns.len() {
            if let Some(expr) = attrdef_text(ctx, r, i) {
                rows.push(vec![
                    oid(attrdef_oid(r.oid, i + 1)),
                    oid(r.oid),
                    Datum::Int2(i as i16 + 1),
                    text(&expr),
                ]);
            }
        }
    }
    Ok(rows)
}

/// OID of the `plpgsql` extension row.
const PLPGSQL_OID: u32 = 13559;

/// Comments on objects, as (catalog OID, object OID, column, text): the
/// ones PostgreSQL's initdb creates for objects Freshet also has.
fn descriptions(catalog: &CatalogState, database: &str) -> Vec<(u32, u32, i32, String)> {
    let mut out = vec![(
        3079,
        PLPGSQL_OID,
        0,
        "PL/pgSQL procedural language".to_string(),
    )];
    let public = catalog.schema(database, "public").map(|s| s.oid);
    let has_own_comment = |oid: u32| catalog.comments.iter().any(|c| c.classoid == 2615 && c.objoid == oid);
    if let Some(public) = public.filter(|p| !has_own_comment(*p)) {
        out.push((2615, public, 0, "standard public schema".to_string()));
    }
    for c in &catalog.comments {
        let in_db = |oid: u32| catalog.relations.get(&oid).filter(|r| r.database == database);
        let live = match c.classoid {
            2615 => catalog.schemas.get(&c.objoid).is_some_and(|s| s.database == database),
            1247 => catalog.types.get(&c.objoid).is_some_and(|t| t.database == database),
            2606 => in_db(c.relation).is_some_and(|r| {
                r.indexes.iter().any(|i| i.oid == c.objoid)
                    || r.foreign_keys.iter().any(|f| f.oid == c.objoid)
                    || r.checks.iter().any(|k| k.oid == c.objoid)
            }),
            _ => match in_db(c.objoid) {
                Some(r) => c.subid == 0 || (c.subid as usize) <= r.columns.len(),
                None => in_db(c.relation).is_some_and(|r| r.indexes.iter().any(|i| i.oid == c.objoid)),
            },
        };
        if live {
            out.push((c.classoid, c.objoid, c.subid, c.text.clone()));
        }
    }
    out
}

fn pg_description(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(descriptions(ctx.catalog, ctx.database)
        .into_iter()
        .map(|(class, object, sub, d)| vec![oid(object), oid(class), Datum::Int4(sub), text(&d)])
        .collect())
}

fn pg_settings(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(ctx
        .settings
        .iter()
        .map(|(name, value)| {
            vec![
                text(name),
                text(value),
                null(),
                text("Ungrouped"),
                text(""),
                null(),
                text("user"),
                text("string"),
                text("default"),
                null(),
                null(),
                null(),
                text(value),
                text(value),
                null(),
                null(),
                Datum::Bool(false),
            ]
        })
        .collect())
}

/// (oid, name, superuser and can log in) of each role.
fn roles(ctx: &SystemContext<'_>) -> Vec<(u32, String, bool)> {
    vec![
        (OWNER_OID, ctx.user.to_string(), true),
        (DATABASE_OWNER_OID, "pg_database_owner".to_string(), false),
    ]
}

fn pg_roles(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(roles(ctx)
        .into_iter()
        .map(|(o, name, su)| {
            let b = Datum::Bool(su);
            vec![
                text(&name),
                b.clone(),
                Datum::Bool(true),
                b.clone(),
                b.clone(),
                b.clone(),
                b.clone(),
                Datum::Int4(-1),
                text("********"),
                null(),
                b,
                null(),
                oid(o),
            ]
        })
        .collect())
}

fn pg_authid(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(roles(ctx)
        .into_iter()
        .map(|(o, name, su)| {
            let b = Datum::Bool(su);
            vec![
                oid(o),
                text(&name),
                b.clone(),
                Datum::Bool(true),
                b.clone(),
                b.clone(),
                b.clone(),
                b.clone(),
                b,
                Datum::Int4(-1),
                null(),
                null(),
            ]
        })
        .collect())
}

fn pg_user(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(roles(ctx)
        .into_iter()
        .filter(|(_, _, login)| *login)
        .map(|(o, name, su)| {
            let b = Datum::Bool(su);
            vec![
                text(&name),
                oid(o),
                b.clone(),
                b.clone(),
                b.clone(),
                b,
                text("********"),
                null(),
                null(),
            ]
        })
        .collect())
}

fn pg_am(_: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(vec![
        vec![oid(HEAP_AM_OID), text("heap"), oid(0), ch('t')],
        vec![oid(BTREE_AM_OID), text("btree"), oid(0), ch('i')],
        vec![oid(405), text("hash"), oid(0), ch('i')],
    ])
}

fn pg_collation(_: &SystemContext<'_>) -> Result<Vec<Row>> {
    let row = |o: u32, name: &str, provider: char, locale: Option<&str>| {
        let locale = locale.map(text).unwrap_or(Datum::Null);
        vec![
            oid(o),
            text(name),
            oid(PG_CATALOG_OID),
            oid(OWNER_OID),
            ch(provider),
            Datum::Bool(true),
            Datum::Int4(-1),
            locale.clone(),
            locale,
            null(),
            null(),
        ]
    };
    Ok(vec![
        row(DEFAULT_COLLATION_OID, "default", 'd', None),
        row(950, "C", 'c', Some("C")),
        row(951, "POSIX", 'c', Some("POSIX")),
        row(12_340, "ucs_basic", 'c', Some("C")),
    ])
}

/// (type, minimum, maximum) of a sequence: its owning column's type for
/// serial and identity columns, else bigint.
fn sequence_bounds(
    ctx: &SystemContext<'_>,
    owner: Option<(u32, usize)>,
    increment: i64,
    limits: &freshet_common::types::SequenceLimits,
) -> (DataType, i64, i64) {
    let ty = owner
        .and_then(|(table, col)| {
            ctx.catalog
                .relations
                .get(&table)
                .and_then(|t| t.columns.get(col))
                .map(|c| c.ty.clone())
        })
        .filter(DataType::is_integer)
        .unwrap_or(DataType::Int8);
    let (lo, hi) = match ty {
        DataType::Int2 => (i16::MIN as i64, i16::MAX as i64),
        DataType::Int4 => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    };
    let (min, max) = limits.bounds(increment, lo, hi);
    (ty, min, max)
}

fn pg_sequence(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        if let RelKind::Sequence {
            start,
            increment,
            owner,
            limits,
        } = &r.kind
        {
            let (ty, min, max) = sequence_bounds(ctx, *owner, *increment, limits);
            rows.push(vec![
                oid(r.oid),
                oid(ty.oid()),
                Datum::Int8(*start),
                Datum::Int8(*increment),
                Datum::Int8(max),
                Datum::Int8(min),
                Datum::Int8(limits.cache.unwrap_or(1)),
                Datum::Bool(limits.cycle),
            ]);
        }
    }
    Ok(rows)
}

fn pg_sequences(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        if let RelKind::Sequence {
            start,
            increment,
            owner,
            limits,
        } = &r.kind
        {
            let (ty, min, max) = sequence_bounds(ctx, *owner, *increment, limits);
            rows.push(vec![
                text(&r.schema),
                text(&r.name),
                text(ctx.user),
                oid(ty.oid()),
                Datum::Int8(*start),
                Datum::Int8(min),
                Datum::Int8(max),
                Datum::Int8(*increment),
                Datum::Bool(limits.cycle),
                Datum::Int8(limits.cache.unwrap_or(1)),
                null(),
            ]);
        }
    }
    Ok(rows)
}

fn pg_tables(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let row = |schema: &str, name: &str, has_indexes: bool| {
        vec![
            text(schema),
            text(name),
            text(ctx.user),
            null(),
            Datum::Bool(has_indexes),
            Datum::Bool(false),
            Datum::Bool(false),
            Datum::Bool(false),
        ]
    };
    for r in user_relations(ctx).filter(|r| r.kind == RelKind::Table) {
        rows.push(row(&r.schema, &r.name, !r.indexes.is_empty()));
    }
    for s in RELATIONS.iter().filter(|s| s.relkind == 'r') {
        rows.push(row(s.schema, s.name, false));
    }
    Ok(rows)
}

fn pg_views(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        if let RelKind::View { sql } = &r.kind {
            rows.push(vec![
                text(&r.schema),
                text(&r.name),
                text(ctx.user),
                text(&view_definition(sql, &column_names(r))),
            ]);
        }
    }
    for s in RELATIONS.iter().filter(|s| s.relkind == 'v') {
        rows.push(vec![text(s.schema), text(s.name), text(ctx.user), null()]);
    }
    Ok(rows)
}

fn pg_matviews(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        if let RelKind::MaterializedView { sql, .. } = &r.kind {
            rows.push(vec![
                text(&r.schema),
                text(&r.name),
                text(ctx.user),
                null(),
                Datum::Bool(false),
                Datum::Bool(true),
                text(&view_definition(sql, &column_names(r))),
            ]);
        }
    }
    Ok(rows)
}

/// `freshet_jobs`: one row per materialized view, with the progress of its
/// backfill (its first computation over the rows that existed when it was
/// created, or when the server started). `progress` is the fraction of
/// compute workers that have finished their share: a worker processes its
/// share of a backfill as one batch, so progress moves in steps of
/// 1/workers.
fn freshet_jobs(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for job in ctx.jobs {
        let Some(r) = ctx.catalog.relations.get(&job.oid) else { continue };
        if r.database != ctx.database {
            continue;
        }
        let p = &job.progress;
        let stamp = |t: std::time::SystemTime| Datum::TimestampTz(freshet_common::TimestampTz::from_system_time(t));
        let elapsed = p.finished.and_then(|f| f.duration_since(p.started).ok()).map(|d| d.as_millis() as i64);
        rows.push(vec![
            Datum::Int8(job.oid as i64),
            text(&r.schema),
            text(&r.name),
            text("materialized view"),
            text(if p.finished.is_some() { "running" } else { "backfilling" }),
            Datum::Float8(freshet_common::F64(if p.workers == 0 { 1.0 } else { p.workers_done as f64 / p.workers as f64 })),
            Datum::Int8(job.backfill_rows as i64),
            stamp(p.started),
            p.finished.map(stamp).unwrap_or(Datum::Null),
            elapsed.map(Datum::Int8).unwrap_or(Datum::Null),
        ]);
    }
    Ok(rows)
}

/// `freshet_subscriptions`: the database's subscriptions (CREATE
/// SUBSCRIPTION) with the materialized view each follows.
fn freshet_subscriptions(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(ctx
        .catalog
        .subscriptions
        .values()
        .filter(|s| s.database == ctx.database)
        .map(|s| {
            let view = ctx.catalog.relations.get(&s.from);
            vec![
                Datum::Oid(s.oid),
                text(&s.schema),
                text(&s.name),
                view.map(|v| text(&v.schema)).unwrap_or(Datum::Null),
                view.map(|v| text(&v.name)).unwrap_or(Datum::Null),
                s.retention_secs.map(|r| Datum::Int8(r as i64)).unwrap_or(Datum::Null),
            ]
        })
        .collect())
}

/// `freshet_sinks`: one row per sink of the database with what its task
/// has done (`crate::sinks::SinkStatus`); a sink whose task is not
/// running (it failed to start) shows status `stopped`. Options other
/// than the connector and type (passwords among them) are not shown.
fn freshet_sinks(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for sink in ctx.catalog.sinks.values().filter(|s| s.database == ctx.database) {
        let status = ctx.sinks.iter().find(|s| s.oid == sink.oid);
        let option = |key: &str| sink.options.iter().rev().find(|(k, _)| k == key).map(|(_, v)| text(v)).unwrap_or(Datum::Null);
        let view = ctx.catalog.relations.get(&sink.from).map(|r| text(&r.name)).unwrap_or(Datum::Null);
        let int = |v: Option<u64>| v.map(|v| Datum::Int8(v as i64)).unwrap_or(Datum::Null);
        rows.push(vec![
            Datum::Int8(sink.oid as i64),
            text(&sink.schema),
            text(&sink.name),
            view,
            option("connector"),
            option("type"),
            text(status.map(|s| s.state).unwrap_or("stopped")),
            int(status.and_then(|s| s.delivered_ts)),
            int(status.map(|s| s.snapshots)),
            int(status.map(|s| s.batches)),
            int(status.map(|s| s.rows)),
            int(status.map(|s| s.retries)),
            status
                .and_then(|s| s.last_delivery)
                .map(|t| Datum::TimestampTz(freshet_common::TimestampTz::from_system_time(t)))
                .unwrap_or(Datum::Null),
            status.and_then(|s| s.last_error.as_deref()).map(text).unwrap_or(Datum::Null),
        ]);
    }
    Ok(rows)
}

/// `freshet_sources`: one row per source or connector table of the
/// database, with what its connector did since the server started.
fn freshet_sources(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (oid, def) in &ctx.catalog.sources {
        let Some(r) = ctx.catalog.relations.get(oid) else { continue };
        if r.database != ctx.database {
            continue;
        }
        let status = ctx.sources.iter().find(|s| s.oid == *oid);
        rows.push(vec![
            Datum::Int8(*oid as i64),
            text(&r.schema),
            text(&r.name),
            text(if def.append_only { "source" } else { "table" }),
            text(&def.connector()),
            text(status.map(|s| s.state.as_str()).unwrap_or("starting")),
            Datum::Int8(status.map(|s| s.rows as i64).unwrap_or(0)),
            Datum::Int8(status.map(|s| s.errors as i64).unwrap_or(0)),
            status.and_then(|s| s.last_error.as_deref()).map(text).unwrap_or(Datum::Null),
        ]);
    }
    Ok(rows)
}

/// The (start, increment) of the sequence owned by column `col` of `r`.
fn owned_sequence(ctx: &SystemContext<'_>, r: &RelationDef, col: usize) -> Option<(i64, i64)> {
    user_relations(ctx).find_map(|s| match s.kind {
        RelKind::Sequence { start, increment, owner: Some((t, k)), .. } if t == r.oid && k == col => Some((start, increment)),
        _ => None,
    })
}

/// An index's key parts as `pg_get_indexdef(oid, column)` prints them.
fn index_key_texts(r: &RelationDef, i: &IndexDef) -> Vec<String> {
    i.key_parts()
        .into_iter()
        .map(|p| match p {
            KeyPart::Column(c) => quote_ident(r.columns.get(c).map(|c| c.name.as_str()).unwrap_or("?")),
            KeyPart::Expression(e) => index_key_text(e),
        })
        .collect()
}

/// An index's key parts with operator class and ordering, as the whole
/// `pg_get_indexdef` prints them.
fn index_key_definitions(r: &RelationDef, i: &IndexDef) -> Vec<String> {
    index_key_texts(r, i)
        .into_iter()
        .enumerate()
        .map(|(k, mut text)| {
            if let Some(Some(opclass)) = i.opclasses.get(k) {
                text.push(' ');
                text.push_str(&quote_ident(opclass));
            }
            let option = i.options.get(k).copied().unwrap_or(0);
            let (descending, nulls_first) = (option & 1 != 0, option & 2 != 0);
            if descending {
                text.push_str(" DESC");
            }
            if nulls_first != descending {
                text.push_str(if nulls_first { " NULLS FIRST" } else { " NULLS LAST" });
            }
            text
        })
        .collect()
}

/// An index's INCLUDE columns, quoted.
fn index_include_texts(r: &RelationDef, i: &IndexDef) -> Vec<String> {
    i.include.iter().map(|c| quote_ident(r.columns.get(*c).map(|c| c.name.as_str()).unwrap_or("?"))).collect()
}

/// The btree operator classes (PostgreSQL's OIDs): (oid, name, family,
/// input type, default for it).
const BTREE_OPCLASSES: &[(u32, &str, u32, u32, bool)] = &[
    (1978, "int4_ops", 1976, 23, true),
    (1979, "int2_ops", 1976, 21, true),
    (1981, "oid_ops", 1989, 26, true),
    (3122, "date_ops", 434, 1082, true),
    (3123, "float8_ops", 1970, 701, true),
    (3124, "int8_ops", 1976, 20, true),
    (3125, "numeric_ops", 1988, 1700, true),
    (3126, "text_ops", 1994, 25, true),
    (3127, "timestamptz_ops", 434, 1184, true),
    (3128, "timestamp_ops", 434, 1114, true),
    (4217, "text_pattern_ops", 2095, 25, false),
    (4218, "varchar_pattern_ops", 2095, 25, false),
    (4219, "bpchar_pattern_ops", 2097, 1042, false),
    (10003, "bool_ops", 424, 16, true),
    (10004, "bpchar_ops", 426, 1042, true),
    (10006, "bytea_ops", 428, 17, true),
    (10012, "float4_ops", 1970, 700, true),
    (10022, "interval_ops", 1982, 1186, true),
    (10028, "name_ops", 1994, 19, true),
    (10038, "time_ops", 1996, 1083, true),
    (10044, "varchar_ops", 1994, 25, false),
    (10065, "uuid_ops", 2968, 2950, true),
    (10088, "jsonb_ops", 4033, 3802, true),
];

fn pg_opclass(_: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(BTREE_OPCLASSES
        .iter()
        .map(|(o, name, family, input, default)| {
            vec![
                oid(*o),
                oid(BTREE_AM_OID),
                text(name),
                oid(PG_CATALOG_OID),
                oid(OWNER_OID),
                oid(*family),
                oid(*input),
                Datum::Bool(*default),
                oid(0),
            ]
        })
        .collect())
}

/// The operator class OID of key part `k` of index `i` (`indclass`): the
/// one named, else the default for the column's type, else 0.
fn opclass_oid(r: &RelationDef, i: &IndexDef, k: usize, part: &KeyPart<'_>) -> u32 {
    if let Some(Some(name)) = i.opclasses.get(k) {
        return BTREE_OPCLASSES.iter().find(|c| c.1 == name).map(|c| c.0).unwrap_or(0);
    }
    let type_oid = match part {
        KeyPart::Column(c) => r.columns.get(*c).map(|c| c.ty.oid()).unwrap_or(0),
        KeyPart::Expression(_) => return 0,
    };
    // varchar and char use the text family's classes.
    let type_oid = if type_oid == 1043 { 25 } else { type_oid };
    BTREE_OPCLASSES.iter().find(|c| c.3 == type_oid && c.4).map(|c| c.0).unwrap_or(0)
}

fn pg_indexes(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        for i in &r.indexes {
            let key = index_key_definitions(r, i);
            let include = index_include_texts(r, i);
            let def = index_statement(&IndexShape {
                name: &i.name,
                unique: i.unique || i.primary,
                schema: &r.schema,
                table: &r.name,
                key: &key,
                include: &include,
                predicate: i.predicate.as_deref(),
                nulls_not_distinct: i.nulls_not_distinct,
            });
            rows.push(vec![
                text(&r.schema),
                text(&r.name),
                text(&i.name),
                null(),
                text(&def),
            ]);
        }
    }
    Ok(rows)
}

fn pg_tablespace(_: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(vec![
        vec![
            oid(1663),
            text("pg_default"),
            oid(OWNER_OID),
            null(),
            null(),
        ],
        vec![oid(1664), text("pg_global"), oid(OWNER_OID), null(), null()],
    ])
}

fn pg_cursors(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(ctx
        .cursors
        .iter()
        .map(|c| {
            vec![
                Datum::Text(c.name.clone()),
                Datum::Text(c.options.statement.clone()),
                Datum::Bool(c.options.hold),
                Datum::Bool(c.options.binary),
                Datum::Bool(c.options.scroll),
                Datum::TimestampTz(c.created),
            ]
        })
        .collect())
}

fn pg_extension(_: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(vec![vec![
        oid(PLPGSQL_OID),
        text("plpgsql"),
        oid(OWNER_OID),
        oid(PG_CATALOG_OID),
        Datum::Bool(false),
        text("1.0"),
        null(),
        null(),
    ]])
}

fn pg_depend(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let dep = |classid: u32,
               objid: u32,
               refclassid: u32,
               refobjid: u32,
               refobjsubid: usize,
               deptype: char| {
        vec![
            oid(classid),
            oid(objid),
            Datum::Int4(0),
            oid(refclassid),
            oid(refobjid),
            Datum::Int4(refobjsubid as i32),
            ch(deptype),
        ]
    };
    for r in user_relations(ctx) {
        if let RelKind::Sequence {
            owner: Some((table, col)),
            ..
        } = &r.kind
        {
            // Serial and identity sequences are owned by their column ('a').
            rows.push(dep(PG_CLASS_OID, r.oid, PG_CLASS_OID, *table, col + 1, 'a'));
        }
        for (i, c) in r.columns.iter().enumerate() {
            if default_expression(c.default.as_deref(), &c.ty).is_some() {
                rows.push(dep(
                    PG_ATTRDEF_OID,
                    attrdef_oid(r.oid, i + 1),
                    PG_CLASS_OID,
                    r.oid,
                    i + 1,
                    'a',
                ));
            }
        }
        for index in &r.indexes {
            if is_constraint(index) {
                for col in &index.columns {
                    rows.push(dep(
                        PG_CONSTRAINT_OID,
                        index.oid,
                        PG_CLASS_OID,
                        r.oid,
                        col + 1,
                        'a',
                    ));
                }
                rows.push(dep(
                    PG_CLASS_OID,
                    index.oid,
                    PG_CONSTRAINT_OID,
                    index.oid,
                    0,
                    'i',
                ));
            } else {
                for col in &index.columns {
                    rows.push(dep(
                        PG_CLASS_OID,
                        index.oid,
                        PG_CLASS_OID,
                        r.oid,
                        col + 1,
                        'a',
                    ));
                }
            }
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------
// information_schema producers.

/// The schemas of the session's database, built-in ones first.
fn schema_names(ctx: &SystemContext<'_>) -> Vec<String> {
    let mut names = vec!["pg_catalog".to_string(), "information_schema".to_string()];
    names.extend(
        ctx.catalog
            .schemas
            .values()
            .filter(|s| s.database == ctx.database)
            .map(|s| s.name.clone()),
    );
    names
}

fn is_schemata(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(schema_names(ctx)
        .into_iter()
        .map(|s| {
            let owner = if s == "public" {
                "pg_database_owner"
            } else {
                ctx.user
            };
            vec![
                text(ctx.database),
                text(&s),
                text(owner),
                null(),
                null(),
                null(),
                null(),
            ]
        })
        .collect())
}

/// Tables and views as information_schema lists them:
/// (schema, name, is a view, columns as (name, type, not null, default)).
/// A column as information_schema describes it.
struct IsColumn {
    name: String,
    ty: DataType,
    not_null: bool,
    default: Option<String>,
    generated: Option<String>,
    /// An identity column's kind and its sequence's (start, increment).
    identity: Option<(Identity, i64, i64)>,
    /// A collation other than the default.
    collation: Option<String>,
}

fn is_relations<'a>(
    ctx: &'a SystemContext<'a>,
) -> Vec<(
    String,
    String,
    bool,
    Vec<IsColumn>,
)> {
    let mut out = Vec::new();
    let path = search_path(ctx);
    for r in user_relations(ctx) {
        let view = match r.kind {
            RelKind::Table => false,
            RelKind::View { .. } => true,
            RelKind::Sequence { .. } | RelKind::MaterializedView { .. } => continue,
        };
        let columns = r
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let default = if c.generated.is_some() || c.identity.is_some() {
                    None
                } else if path.contains(&r.schema) {
                    default_expression_in(ctx, c.default.as_deref(), &c.ty)
                } else {
                    attrdef_text(ctx, r, i)
                };
                let identity = c.identity.map(|kind| {
                    let (start, increment) = owned_sequence(ctx, r, i).unwrap_or((1, 1));
                    (kind, start, increment)
                });
                IsColumn {
                    name: c.name.clone(),
                    ty: c.ty.clone(),
                    not_null: c.not_null,
                    default,
                    generated: c.generated.clone(),
                    identity,
                    collation: c.collation.clone(),
                }
            })
            .collect();
        out.push((r.schema.clone(), r.name.clone(), view, columns));
    }
    for s in RELATIONS {
        let columns = s
            .column_types()
            .into_iter()
            .map(|(n, t)| IsColumn { name: n.to_string(), ty: t.data_type(), not_null: false, default: None, generated: None, identity: None, collation: None })
            .collect();
        out.push((
            s.schema.to_string(),
            s.name.to_string(),
            s.relkind == 'v',
            columns,
        ));
    }
    out
}

fn is_tables(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    Ok(is_relations(ctx)
        .into_iter()
        .map(|(schema, name, view, _)| {
            vec![
                text(ctx.database),
                text(&schema),
                text(&name),
                text(if view {
                    "VIEW"
                } else if schema.starts_with("pg_temp_") {
                    "LOCAL TEMPORARY"
                } else {
                    "BASE TABLE"
                }),
                null(),
                null(),
                null(),
                null(),
                null(),
                yes_no(!view),
                yes_no(false),
                null(),
            ]
        })
        .collect())
}

/// information_schema's numeric facts of a type: (character_maximum_length,
/// character_octet_length, numeric_precision, numeric_precision_radix,
/// numeric_scale, datetime_precision).
fn is_type_facts(ty: &DataType) -> [Datum; 6] {
    let int = |v: i32| Datum::Int4(v);
    match ty {
        DataType::Varchar(Some(n)) | DataType::Char(Some(n)) => [
            int(*n as i32),
            int(*n as i32 * 4),
            null(),
            null(),
            null(),
            null(),
        ],
        DataType::Varchar(None) | DataType::Char(None) | DataType::Text => {
            [null(), int(1073741824), null(), null(), null(), null()]
        }
        DataType::Int2 => [null(), null(), int(16), int(2), int(0), null()],
        DataType::Int4 => [null(), null(), int(32), int(2), int(0), null()],
        DataType::Int8 => [null(), null(), int(64), int(2), int(0), null()],
        DataType::Float4 => [null(), null(), int(24), int(2), null(), null()],
        DataType::Float8 => [null(), null(), int(53), int(2), null(), null()],
        DataType::Numeric(Some((p, s))) => [
            null(),
            null(),
            int(*p as i32),
            int(10),
            int(*s as i32),
            null(),
        ],
        DataType::Numeric(None) => [null(), null(), null(), int(10), null(), null()],
        DataType::Date => [null(), null(), null(), null(), null(), int(0)],
        DataType::Time | DataType::Timestamp | DataType::TimestampTz | DataType::Interval => {
            [null(), null(), null(), null(), null(), int(6)]
        }
        _ => [null(), null(), null(), null(), null(), null()],
    }
}

fn is_columns(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (schema, name, view, columns) in is_relations(ctx) {
        for (i, IsColumn { name: column, ty, not_null, default, generated, identity, collation }) in columns.into_iter().enumerate() {
            let data_type = match &ty {
                DataType::Array(_) => "ARRAY".to_string(),
                DataType::Enum(_) => "USER-DEFINED".to_string(),
                t => format_type(t.oid(), None),
            };
            // The type's schema and pg_type name (user-defined types live
            // in a user schema; an array's is its element's).
            let (udt_schema, udt_name) = match &ty {
                DataType::Enum(t) => (t.schema().to_string(), t.name().to_string()),
                DataType::Array(e) => match e.as_enum() {
                    Some(t) => (
                        t.schema().to_string(),
                        ctx.catalog.types.get(&t.oid()).map(|d| d.array_name.clone()).unwrap_or_else(|| ty.typname()),
                    ),
                    None => ("pg_catalog".to_string(), ty.typname()),
                },
                _ => ("pg_catalog".to_string(), ty.typname()),
            };
            let [char_len, octet_len, precision, radix, scale, dt_precision] = is_type_facts(&ty);
            let mut row = vec![
                text(ctx.database),
                text(&schema),
                text(&name),
                text(&column),
                Datum::Int4(i as i32 + 1),
                default.map(|d| text(&d)).unwrap_or(Datum::Null),
                yes_no(!not_null),
                text(&data_type),
                char_len,
                octet_len,
                precision,
                radix,
                scale,
                dt_precision,
                null(),
                null(),
                null(),
                null(),
                null(),
            ];
            // Collation columns: NULL for the default collation.
            match &collation {
                Some(c) => row.extend([text(ctx.database), text("pg_catalog"), text(c)]),
                None => row.extend([null(), null(), null()]),
            }
            row.extend([
                null(),
                null(),
                null(),
                text(ctx.database),
                text(&udt_schema),
                text(&udt_name),
                null(),
                null(),
                null(),
                null(),
                text(&(i + 1).to_string()),
                yes_no(false),
                yes_no(identity.is_some()),
            ]);
            match identity {
                Some((kind, start, increment)) => {
                    let (type_min, type_max) = match ty {
                        DataType::Int2 => (i16::MIN as i64, i16::MAX as i64),
                        DataType::Int4 => (i32::MIN as i64, i32::MAX as i64),
                        _ => (i64::MIN, i64::MAX),
                    };
                    let (min, max) = if increment > 0 { (1, type_max) } else { (type_min, -1) };
                    row.extend([
                        text(if kind == Identity::Always { "ALWAYS" } else { "BY DEFAULT" }),
                        text(&start.to_string()),
                        text(&increment.to_string()),
                        text(&max.to_string()),
                        text(&min.to_string()),
                    ]);
                }
                None => row.extend([null(), null(), null(), null(), null()]),
            }
            row.extend([
                yes_no(false),
                text(if generated.is_some() { "ALWAYS" } else { "NEVER" }),
                generated.map(|g| text(&g)).unwrap_or(Datum::Null),
                yes_no(!view),
            ]);
            rows.push(row);
        }
    }
    Ok(rows)
}

fn is_views(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        if let RelKind::View { sql } = &r.kind {
            rows.push(vec![
                text(ctx.database),
                text(&r.schema),
                text(&r.name),
                text(&view_definition(sql, &column_names(r))),
                text("NONE"),
                yes_no(false),
                yes_no(false),
                yes_no(false),
                yes_no(false),
                yes_no(false),
            ]);
        }
    }
    Ok(rows)
}

fn is_table_constraints(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx).filter(|r| r.kind == RelKind::Table) {
        let ns = namespace_oid(ctx, &r.schema);
        let row = |name: &str, kind: &str, nulls_distinct: Datum| {
            vec![
                text(ctx.database),
                text(&r.schema),
                text(name),
                text(ctx.database),
                text(&r.schema),
                text(&r.name),
                text(kind),
                yes_no(false),
                yes_no(false),
                yes_no(true),
                nulls_distinct,
            ]
        };
        let mut out = Vec::new();
        for i in r.indexes.iter().filter(|i| is_constraint(i)) {
            out.push(row(
                &i.name,
                if i.primary { "PRIMARY KEY" } else { "UNIQUE" },
                yes_no(true),
            ));
        }
        // PostgreSQL 15 lists NOT NULL columns as CHECK constraints.
        for (i, c) in r.columns.iter().enumerate() {
            if c.not_null {
                out.push(row(
                    &format!("{ns}_{}_{}_not_null", r.oid, i + 1),
                    "CHECK",
                    null(),
                ));
            }
        }
        rows.extend(out);
    }
    Ok(rows)
}

fn is_check_constraints(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx).filter(|r| r.kind == RelKind::Table) {
        let ns = namespace_oid(ctx, &r.schema);
        for (i, c) in r.columns.iter().enumerate().filter(|(_, c)| c.not_null) {
            rows.push(vec![
                text(ctx.database),
                text(&r.schema),
                text(&format!("{ns}_{}_{}_not_null", r.oid, i + 1)),
                text(&format!("{} IS NOT NULL", quote_ident(&c.name))),
            ]);
        }
    }
    Ok(rows)
}

fn is_key_column_usage(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        for i in r.indexes.iter().filter(|i| is_constraint(i)) {
            for (pos, col) in i.columns.iter().enumerate() {
                let Some(c) = r.columns.get(*col) else {
                    continue;
                };
                rows.push(vec![
                    text(ctx.database),
                    text(&r.schema),
                    text(&i.name),
                    text(ctx.database),
                    text(&r.schema),
                    text(&r.name),
                    text(&c.name),
                    Datum::Int4(pos as i32 + 1),
                    null(),
                ]);
            }
        }
    }
    Ok(rows)
}

fn is_constraint_column_usage(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        for i in r.indexes.iter().filter(|i| is_constraint(i)) {
            for col in &i.columns {
                let Some(c) = r.columns.get(*col) else {
                    continue;
                };
                rows.push(vec![
                    text(ctx.database),
                    text(&r.schema),
                    text(&r.name),
                    text(&c.name),
                    text(ctx.database),
                    text(&r.schema),
                    text(&i.name),
                ]);
            }
        }
    }
    Ok(rows)
}

fn is_sequences(ctx: &SystemContext<'_>) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for r in user_relations(ctx) {
        if let RelKind::Sequence {
            start,
            increment,
            owner,
            limits,
        } = &r.kind
        {
            let (ty, min, max) = sequence_bounds(ctx, *owner, *increment, limits);
            let precision = match ty {
                DataType::Int2 => 16,
                DataType::Int4 => 32,
                _ => 64,
            };
            rows.push(vec![
                text(ctx.database),
                text(&r.schema),
                text(&r.name),
                text(&ty.pg_name()),
                Datum::Int4(precision),
                Datum::Int4(2),
                Datum::Int4(0),
                text(&start.to_string()),
                text(&min.to_string()),
                text(&max.to_string()),
                text(&increment.to_string()),
                yes_no(limits.cycle),
            ]);
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------
// The run-time catalog snapshot.

/// The facts catalog functions need at run time (see
/// [`freshet_expr::catalog_func::CatalogSnapshot`]) for a session of `user`
/// on `database` with the effective `search_path`.
pub fn catalog_snapshot(
    catalog: &CatalogState,
    database: &str,
    search_path: &[String],
    user: &str,
) -> CatalogSnapshot {
    let mut relations = BTreeMap::new();
    // Sequences owned by a column, by the owning table.
    let mut owned: BTreeMap<u32, Vec<(usize, u32)>> = BTreeMap::new();
    for s in catalog.relations_in(database) {
        if let RelKind::Sequence {
            owner: Some((table, col)),
            ..
        } = &s.kind
        {
            owned.entry(*table).or_default().push((*col, s.oid));
        }
    }
    for r in catalog.relations_in(database) {
        let owned_sequences = owned.remove(&r.oid).unwrap_or_default();
        let view_definition = match &r.kind {
            RelKind::View { sql } | RelKind::MaterializedView { sql, .. } => Some(view_definition(sql, &column_names(r))),
            _ => None,
        };
        relations.insert(
            r.oid,
            RelationFacts {
                schema: r.schema.clone(),
                name: r.name.clone(),
                relkind: relkind(&r.kind),
                columns: r.columns.iter().map(|c| c.name.clone()).collect(),
                visible: false,
                index: None,
                view_definition,
                owned_sequences,
            },
        );
        for i in &r.indexes {
            relations.insert(
                i.oid,
                RelationFacts {
                    schema: r.schema.clone(),
                    name: i.name.clone(),
                    relkind: 'i',
                    columns: i
                        .columns
                        .iter()
                        .filter_map(|c| r.columns.get(*c))
                        .map(|c| c.name.clone())
                        .collect(),
                    visible: false,
                    index: Some(IndexFacts {
                        table: r.oid,
                        columns: i.columns.clone(),
                        unique: i.unique || i.primary,
                        primary: i.primary,
                        constraint: is_constraint(i),
                        key: index_key_texts(r, i),
                        key_definitions: index_key_definitions(r, i),
                        include: index_include_texts(r, i),
                        predicate: i.predicate.clone(),
                        nulls_not_distinct: i.nulls_not_distinct,
                    }),
                    view_definition: None,
                    owned_sequences: vec![],
                },
            );
        }
    }
    for s in RELATIONS {
        relations.insert(
            s.oid,
            RelationFacts {
                schema: s.schema.to_string(),
                name: s.name.to_string(),
                relkind: s.relkind,
                columns: s
                    .column_types()
                    .into_iter()
                    .map(|(n, _)| n.to_string())
                    .collect(),
                visible: false,
                index: None,
                view_definition: None,
                owned_sequences: vec![],
            },
        );
    }
    // A relation is visible when its schema is the first on the search path
    // that has a relation of that name.
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for schema in search_path {
        let mut found = Vec::new();
        for (o, r) in relations.iter().filter(|(_, r)| &r.schema == schema) {
            if !taken.contains(&r.name) {
                found.push((*o, r.name.clone()));
            }
        }
        for (o, name) in found {
            if let Some(r) = relations.get_mut(&o) {
                r.visible = true;
            }
            taken.insert(name);
        }
    }
    let mut schemas = BTreeMap::new();
    schemas.insert(PG_CATALOG_OID, "pg_catalog".to_string());
    schemas.insert(INFORMATION_SCHEMA_OID, "information_schema".to_string());
    for s in catalog.schemas.values().filter(|s| s.database == database) {
        schemas.insert(s.oid, s.name.clone());
    }
    let mut roles = BTreeMap::new();
    roles.insert(OWNER_OID, user.to_string());
    roles.insert(DATABASE_OWNER_OID, "pg_database_owner".to_string());
    let descriptions = descriptions(catalog, database)
        .into_iter()
        .map(|(c, o, sub, d)| ((c, o, sub), d))
        .collect();
    let catalogs = RELATIONS
        .iter()
        .filter(|r| r.schema == PG)
        .map(|r| (r.name.to_string(), r.oid))
        .collect();
    let mut constraint_definitions = BTreeMap::new();
    for r in catalog.relations_in(database) {
        for fk in &r.foreign_keys {
            // The referenced table is schema-qualified unless the search
            // path finds it by name, as PostgreSQL prints it.
            let visible = relations.get(&fk.ref_table).is_some_and(|p| p.visible);
            constraint_definitions.insert(fk.oid, foreign_key_definition(catalog, r, fk, visible));
        }
        for c in &r.checks {
            constraint_definitions.insert(c.oid, format!("CHECK (({}))", c.expr));
        }
    }
    CatalogSnapshot {
        relations,
        schemas,
        roles,
        search_path: search_path.to_vec(),
        descriptions,
        catalogs,
        constraint_definitions,
        types: user_types(catalog, database, search_path),
    }
}

/// `pg_get_constraintdef` of a foreign key, as PostgreSQL prints it.
fn foreign_key_definition(
    catalog: &CatalogState,
    rel: &RelationDef,
    fk: &crate::catalog::ForeignKeyDef,
    parent_visible: bool,
) -> String {
    use crate::catalog::FkAction;
    let quote = |n: &str| {
        if n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') && !n.starts_with(|c: char| c.is_ascii_digit()) {
            n.to_string()
        } else {
            format!("\"{}\"", n.replace('"', "\"\""))
        }
    };
    let cols: Vec<String> = fk.columns.iter().filter_map(|c| rel.columns.get(*c)).map(|c| quote(&c.name)).collect();
    let parent = catalog.relations.get(&fk.ref_table);
    let parent_name = match parent {
        Some(p) if parent_visible => quote(&p.name),
        Some(p) => format!("{}.{}", quote(&p.schema), quote(&p.name)),
        None => fk.ref_table.to_string(),
    };
    let ref_cols: Vec<String> = fk
        .ref_columns
        .iter()
        .filter_map(|c| parent.and_then(|p| p.columns.get(*c)))
        .map(|c| quote(&c.name))
        .collect();
    let mut def = format!("FOREIGN KEY ({}) REFERENCES {parent_name}({})", cols.join(", "), ref_cols.join(", "));
    let action = |a: FkAction| match a {
        FkAction::NoAction => None,
        FkAction::Restrict => Some("RESTRICT"),
        FkAction::Cascade => Some("CASCADE"),
        FkAction::SetNull => Some("SET NULL"),
        FkAction::SetDefault => Some("SET DEFAULT"),
    };
    if let Some(a) = action(fk.on_update) {
        def.push_str(&format!(" ON UPDATE {a}"));
    }
    if let Some(a) = action(fk.on_delete) {
        def.push_str(&format!(" ON DELETE {a}"));
    }
    if fk.deferrable {
        def.push_str(" DEFERRABLE");
        if fk.initially_deferred {
            def.push_str(" INITIALLY DEFERRED");
        }
    }
    def
}

// ---------------------------------------------------------------------------
// View definitions.

/// A view's defining query as `pg_get_viewdef(oid, true)` prints it in
/// PostgreSQL 15: one clause per line, select-list items one per line,
/// column references qualified by their table when the query reads a
/// single table, and a closing semicolon. Expressions keep Freshet's
/// (sqlparser's) spelling, which can differ from PostgreSQL's for casts and
/// operators; queries other than a plain SELECT print on one line.
pub fn view_definition(sql: &str, columns: &[String]) -> String {
    let Ok(mut statements) = freshet_sql::parse_statements(sql) else {
        return format!(" {sql};");
    };
    let Some(ast::Statement::Query(query)) = statements.pop() else {
        return format!(" {sql};");
    };
    let ast::SetExpr::Select(select) = query.body.as_ref() else {
        return format!(" {sql};");
    };
    let mut select = (**select).clone();
    // Qualify bare column names when exactly one table is read.
    if let [ast::TableWithJoins {
        relation:
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            },
        joins,
    }] = select.from.as_slice()
    {
        if joins.is_empty() {
            let qualifier = alias
                .as_ref()
                .map(|a| a.name.clone())
                .or_else(|| name.0.last().and_then(|p| p.as_ident().cloned()));
            if let Some(q) = qualifier {
                for item in &mut select.projection {
                    match item {
                        ast::SelectItem::UnnamedExpr(e) => {
                            // Keep the output name: `id` becomes `users.id`, still named `id`.
                            qualify(e, &q);
                        }
                        ast::SelectItem::ExprWithAlias { expr, .. } => qualify(expr, &q),
                        _ => {}
                    }
                }
                if let Some(w) = &mut select.selection {
                    qualify(w, &q);
                }
                if let ast::GroupByExpr::Expressions(exprs, _) = &mut select.group_by {
                    exprs.iter_mut().for_each(|e| qualify(e, &q));
                }
                if let Some(h) = &mut select.having {
                    qualify(h, &q);
                }
            }
        }
    }
    let mut out = String::from(" SELECT ");
    if let Some(ast::Distinct::Distinct) = select.distinct {
        out.push_str("DISTINCT ");
    }
    // Name each item after the view's column when its own name differs.
    let items: Vec<String> = select
        .projection
        .iter()
        .enumerate()
        .map(|(i, item)| match (item, columns.get(i)) {
            (ast::SelectItem::UnnamedExpr(e), Some(c)) if output_name(e) != *c => {
                format!("{e} AS {}", quote_ident(c))
            }
            (ast::SelectItem::ExprWithAlias { expr, .. }, Some(c)) => {
                if output_name(expr) == *c {
                    expr.to_string()
                } else {
                    format!("{expr} AS {}", quote_ident(c))
                }
            }
            _ => item.to_string(),
        })
        .collect();
    out.push_str(&items.join(",\n    "));
    if !select.from.is_empty() {
        let from: Vec<String> = select.from.iter().map(ToString::to_string).collect();
        out.push_str("\n   FROM ");
        out.push_str(&from.join(",\n    "));
    }
    if let Some(w) = &select.selection {
        out.push_str(&format!("\n  WHERE {w}"));
    }
    if let ast::GroupByExpr::Expressions(exprs, _) = &select.group_by {
        if !exprs.is_empty() {
            let g: Vec<String> = exprs.iter().map(ToString::to_string).collect();
            out.push_str(&format!("\n  GROUP BY {}", g.join(", ")));
        }
    }
    if let Some(h) = &select.having {
        out.push_str(&format!("\n HAVING {h}"));
    }
    if let Some(order) = &query.order_by {
        out.push_str(&format!("\n  {order}"));
    }
    if let Some(limit) = &query.limit_clause {
        out.push_str(&format!("\n {}", limit.to_string().trim()));
    }
    out.push(';');
    out
}

/// The column names of a relation.
fn column_names(r: &RelationDef) -> Vec<String> {
    r.columns.iter().map(|c| c.name.clone()).collect()
}

/// The name PostgreSQL gives an unaliased select-list expression (enough
/// for deciding whether a view column needs an `AS`).
fn output_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(id) => freshet_sql::names::ident(id),
        ast::Expr::CompoundIdentifier(parts) => parts
            .last()
            .map(freshet_sql::names::ident)
            .unwrap_or_default(),
        ast::Expr::Function(f) => freshet_sql::names::object_name(&f.name)
            .pop()
            .unwrap_or_default(),
        ast::Expr::Nested(inner) | ast::Expr::Cast { expr: inner, .. } => output_name(inner),
        _ => "?column?".to_string(),
    }
}

/// Qualifies bare column references in `e` with `q` (for the common
/// expression forms; others are left as written).
fn qualify(e: &mut ast::Expr, q: &ast::Ident) {
    use ast::Expr as E;
    match e {
        E::Identifier(id) => *e = E::CompoundIdentifier(vec![q.clone(), id.clone()]),
        E::BinaryOp { left, right, .. } => {
            qualify(left, q);
            qualify(right, q);
        }
        E::UnaryOp { expr, .. }
        | E::Nested(expr)
        | E::IsNull(expr)
        | E::IsNotNull(expr)
        | E::IsTrue(expr)
        | E::IsFalse(expr)
        | E::IsNotTrue(expr)
        | E::IsNotFalse(expr)
        | E::Cast { expr, .. }
        | E::Collate { expr, .. } => qualify(expr, q),
        E::Between {
            expr, low, high, ..
        } => {
            qualify(expr, q);
            qualify(low, q);
            qualify(high, q);
        }
        E::In {
            expr,
            target: ast::InTarget::List(list),
            ..
        } => {
            qualify(expr, q);
            list.iter_mut().for_each(|x| qualify(x, q));
        }
        E::Like { expr, pattern, .. } | E::ILike { expr, pattern, .. } => {
            qualify(expr, q);
            qualify(pattern, q);
        }
        E::Function(f) => {
            if let ast::FunctionArguments::List(list) = &mut f.args {
                for a in &mut list.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = a {
                        qualify(x, q);
                    }
                }
            }
        }
        E::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                qualify(o, q);
            }
            for c in conditions {
                qualify(&mut c.condition, q);
                qualify(&mut c.result, q);
            }
            if let Some(x) = else_result {
                qualify(x, q);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_specs_parse() {
        for r in RELATIONS {
            let columns = r.column_types();
            assert!(!columns.is_empty(), "{} has no columns", r.name);
            let names: BTreeSet<&str> = columns.iter().map(|(n, _)| *n).collect();
            assert_eq!(names.len(), columns.len(), "{} repeats a column", r.name);
        }
        let oids: BTreeSet<u32> = RELATIONS.iter().map(|r| r.oid).collect();
        assert_eq!(
            oids.len(),
            RELATIONS.len(),
            "system relation OIDs are unique"
        );
    }

    /// A catalog with one of each kind of relation: a table with a serial
    /// primary key, a unique and a plain index, a view and a sequence.
    fn sample_catalog() -> CatalogState {
        use crate::catalog::ColumnDef;
        let mut c = CatalogState::bootstrap();
        let column = |name: &str, ty: DataType, default: Option<&str>| ColumnDef {
            name: name.into(),
            ty,
            not_null: default.is_some(),
            default: default.map(str::to_string),
            generated: None,
            identity: None,
            collation: None,
        };
        let table = c.allocate_oid();
        let (pkey, unique, plain, seq, view) = (
            c.allocate_oid(),
            c.allocate_oid(),
            c.allocate_oid(),
            c.allocate_oid(),
            c.allocate_oid(),
        );
        let index = |oid, name: &str, columns: Vec<usize>, unique, primary| IndexDef {
            oid,
            name: name.into(),
            columns,
            unique,
            primary,
            ..Default::default()
        };
        c.relations.insert(
            table,
            RelationDef {
                oid: table,
                database: "dev".into(),
                schema: "public".into(),
                name: "t".into(),
                kind: RelKind::Table,
                columns: vec![
                    column("id", DataType::Int4, Some("nextval('t_id_seq'::regclass)")),
                    column("name", DataType::Varchar(Some(20)), Some("'x'")),
                    column("tags", DataType::Array(Box::new(DataType::Text)), None),
                ],
                indexes: vec![
                    index(pkey, "t_pkey", vec![0], true, true),
                    index(unique, "t_name_key", vec![1], true, false),
                    index(plain, "t_tags_idx", vec![2], false, false),
                ],
                foreign_keys: vec![],
                checks: vec![],
            },
        );
        c.relations.insert(
            seq,
            RelationDef {
                oid: seq,
                database: "dev".into(),
                schema: "public".into(),
                name: "t_id_seq".into(),
                kind: RelKind::Sequence {
                    start: 1,
                    increment: 1,
                    owner: Some((table, 0)),
                    limits: Default::default(),
                },
                columns: vec![],
                indexes: vec![],
                foreign_keys: vec![],
                checks: vec![],
            },
        );
        c.relations.insert(
            view,
            RelationDef {
                oid: view,
                database: "dev".into(),
                schema: "public".into(),
                name: "v".into(),
                kind: RelKind::View {
                    sql: "SELECT id FROM t".into(),
                },
                columns: vec![column("id", DataType::Int4, None)],
                indexes: vec![],
                foreign_keys: vec![],
                checks: vec![],
            },
        );
        c
    }

    #[test]
    fn every_relation_produces_rows_of_its_width() {
        let catalog = sample_catalog();
        let settings = vec![("search_path".to_string(), "\"$user\", public".to_string())];
        let ctx = SystemContext {
            catalog: &catalog,
            database: "dev",
            user: "root",
            settings: &settings,
            jobs: &[],
            cursors: &[],
            sinks: &[],
            sources: &[],
        };
        for r in RELATIONS {
            // `rows` asserts the width of every row.
            rows(&format!("{}.{}", r.schema, r.name), &ctx)
                .expect("system relations are computable");
        }
        let attrdef = rows("pg_catalog.pg_attrdef", &ctx).expect("pg_attrdef");
        let adbin: Vec<&Datum> = attrdef.iter().map(|r| &r[3]).collect();
        assert_eq!(
            adbin,
            [
                &text("nextval('public.t_id_seq'::regclass)"),
                &text("'x'::character varying")
            ]
        );
    }

    #[test]
    fn snapshot_marks_visibility_and_ownership() {
        let catalog = sample_catalog();
        let path = vec!["pg_catalog".to_string(), "public".to_string()];
        let s = catalog_snapshot(&catalog, "dev", &path, "root");
        let by_name = |n: &str| {
            s.relations
                .values()
                .find(|r| r.name == n)
                .expect("relation exists")
        };
        assert!(by_name("t").visible && by_name("t_pkey").visible && by_name("pg_class").visible);
        assert_eq!(by_name("t").owned_sequences.len(), 1);
        assert!(by_name("t_name_key")
            .index
            .as_ref()
            .is_some_and(|i| i.constraint && !i.primary));
        let hidden = catalog_snapshot(&catalog, "dev", &path[..1], "root");
        assert!(!hidden
            .relations
            .values()
            .any(|r| r.name == "t" && r.visible));
    }

    #[test]
    fn defaults_print_like_postgres() {
        let d = |s: &str, t: DataType| default_expression(Some(s), &t);
        assert_eq!(d("5", DataType::Int4).as_deref(), Some("5"));
        assert_eq!(d("-1", DataType::Int4).as_deref(), Some("'-1'::integer"));
        assert_eq!(d("'x'", DataType::Text).as_deref(), Some("'x'::text"));
        assert_eq!(
            d("'y'", DataType::Varchar(Some(10))).as_deref(),
            Some("'y'::character varying")
        );
        assert_eq!(
            d("'it''s'", DataType::Text).as_deref(),
            Some("'it''s'::text")
        );
        assert_eq!(
            d("'ab'", DataType::Char(Some(3))).as_deref(),
            Some("'ab'::bpchar")
        );
        assert_eq!(d("now()", DataType::TimestampTz).as_deref(), Some("now()"));
        assert_eq!(d("NULL", DataType::Uuid), None);
        assert_eq!(
            d("-1.5", DataType::Numeric(None)).as_deref(),
            Some("'-1.5'::numeric")
        );
    }

    #[test]
    fn view_definitions_print_like_postgres() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            view_definition(
                "SELECT id, name FROM users WHERE active",
                &cols(&["id", "name"])
            ),
            " SELECT users.id,\n    users.name\n   FROM users\n  WHERE users.active;"
        );
        assert_eq!(
            view_definition(
                "SELECT sku, title AS t FROM inventory.items",
                &cols(&["sku_code", "t"])
            ),
            " SELECT items.sku AS sku_code,\n    items.title AS t\n   FROM inventory.items;"
        );
    }
}
