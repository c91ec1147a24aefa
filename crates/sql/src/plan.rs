//! Statement-level plans: what the session executes.

use crate::streaming::{CursorStart, StreamingObjectKind};
use freshet_common::DataType;
use freshet_expr::{RelExpr, ScalarExpr};

use crate::catalog::ColumnInfo;

/// A result column of a query.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputColumn {
    pub name: String,
    pub ty: DataType,
    /// Source table OID and attribute number for plain column references.
    pub table_oid: u32,
    pub column_id: i16,
}

/// A bound query: its plan and result columns.
#[derive(Clone, Debug)]
pub struct QueryPlan {
    pub expr: RelExpr,
    pub columns: Vec<OutputColumn>,
}

/// RETURNING: expressions over the statement's row layout and their columns.
#[derive(Clone, Debug)]
pub struct Returning {
    pub exprs: Vec<ScalarExpr>,
    pub columns: Vec<OutputColumn>,
}

/// INSERT ... ON CONFLICT.
#[derive(Clone, Debug)]
pub enum OnConflict {
    /// DO NOTHING, optionally only for conflicts on `key` (column positions).
    DoNothing { key: Option<Vec<usize>> },
    /// DO UPDATE SET ...: assignments and predicate evaluated over the
    /// existing row followed by the proposed (EXCLUDED) row.
    DoUpdate { key: Vec<usize>, assignments: Vec<(usize, ScalarExpr)>, predicate: Option<ScalarExpr> },
}

/// INSERT.
#[derive(Clone, Debug)]
pub struct InsertPlan {
    pub table: u32,
    /// Produces complete rows of the table (defaults filled, values coerced).
    pub source: RelExpr,
    pub on_conflict: Option<OnConflict>,
    /// Over the inserted row.
    pub returning: Option<Returning>,
}

/// UPDATE.
#[derive(Clone, Debug)]
pub struct UpdatePlan {
    pub table: u32,
    /// Rows to update: the table's columns, its row id, then FROM columns.
    pub source: RelExpr,
    /// New values, evaluated over a `source` row.
    pub assignments: Vec<(usize, ScalarExpr)>,
    /// Over the source row layout with the table's columns replaced by
    /// their new values.
    pub returning: Option<Returning>,
}

/// DELETE.
#[derive(Clone, Debug)]
pub struct DeletePlan {
    pub table: u32,
    /// Rows to delete: the table's columns, its row id, then USING columns.
    pub source: RelExpr,
    pub returning: Option<Returning>,
}

/// A referential action (ON DELETE / ON UPDATE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FkAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

/// A FOREIGN KEY constraint being created.
#[derive(Clone, Debug)]
pub struct ForeignKeyPlan {
    pub name: Option<String>,
    pub columns: Vec<usize>,
    /// Referenced table; `None` for the table being created (self-reference).
    pub ref_table: Option<u32>,
    pub ref_columns: Vec<usize>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
    pub deferrable: bool,
    pub initially_deferred: bool,
}

/// A CHECK constraint being created: its name and expression text.
#[derive(Clone, Debug)]
pub struct CheckPlan {
    pub name: Option<String>,
    pub expr: String,
}

/// CREATE TABLE.
#[derive(Clone, Debug)]
pub struct CreateTablePlan {
    pub schema: String,
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    pub primary_key: Vec<usize>,
    pub primary_key_name: Option<String>,
    /// UNIQUE constraints: optional name and columns.
    pub unique_keys: Vec<(Option<String>, Vec<usize>)>,
    /// UNIQUE NULLS NOT DISTINCT constraints (NULLs conflict with NULLs).
    pub unique_nulls_not_distinct: Vec<(Option<String>, Vec<usize>)>,
    pub foreign_keys: Vec<ForeignKeyPlan>,
    pub checks: Vec<CheckPlan>,
    pub if_not_exists: bool,
    /// Sequences to create for serial/identity columns: (sequence name, column).
    /// Sequences behind serial/identity columns, with the column index.
    pub sequences: Vec<(SerialSequence, usize)>,
    /// CREATE TABLE ... AS query: rows to insert.
    pub as_query: Option<RelExpr>,
}

/// CREATE SOURCE, or CREATE TABLE ... WITH (connector = ...): a stored
/// table plus the connector that fills it. The connector's options are
/// checked by the session (`freshet-connectors`), which knows connectors;
/// the binder only checks the table part.
#[derive(Clone, Debug)]
pub struct CreateSourcePlan {
    pub table: CreateTablePlan,
    /// CREATE SOURCE: append-only, DML refused (42809). CREATE TABLE with
    /// a connector accepts DML.
    pub append_only: bool,
    /// The WITH options, `connector` among them (keys lower-cased).
    pub options: Vec<(String, String)>,
    /// `FORMAT f ENCODE e` (lower-cased); its own options are refused.
    pub format: Option<(String, String)>,
}

/// ALTER TABLE actions.
#[derive(Clone, Debug)]
pub enum AlterTableAction {
    AddColumn { column: ColumnInfo, if_not_exists: bool, sequence: Option<SerialSequence> },
    DropColumn { name: String, if_exists: bool },
    RenameColumn { old: String, new: String },
    RenameTable { new: String },
    SetDefault { column: String, default: Option<String> },
    SetNotNull { column: String, not_null: bool },
    /// ADD GENERATED ... AS IDENTITY: create `sequence`, owned by the
    /// column, and make `default` (its nextval) the column's default.
    AddIdentity { column: String, sequence: SerialSequence, default: String, identity: freshet_common::types::Identity },
    /// ALTER COLUMN ... TYPE ty [COLLATE c]: the column's collation becomes
    /// `collation` (the default when `None`), as in PostgreSQL.
    AlterType { column: String, ty: DataType, collation: Option<String> },
    AddPrimaryKey { name: Option<String>, columns: Vec<usize> },
    AddUnique { name: Option<String>, columns: Vec<usize>, nulls_not_distinct: bool },
    AddForeignKey(ForeignKeyPlan),
    AddCheck(CheckPlan),
    DropConstraint { name: String, if_exists: bool },
}

/// A transaction isolation level, as SQL names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// Runs as READ COMMITTED (PostgreSQL does the same) but is reported
    /// as asked.
    ReadUncommitted,
    #[default]
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl IsolationLevel {
    /// The setting's spelling (`transaction_isolation`).
    pub fn name(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "read uncommitted",
            IsolationLevel::ReadCommitted => "read committed",
            IsolationLevel::RepeatableRead => "repeatable read",
            IsolationLevel::Serializable => "serializable",
        }
    }

    /// Parses the setting's spelling (any case).
    pub fn parse(text: &str) -> Option<IsolationLevel> {
        match text.trim().to_lowercase().as_str() {
            "read uncommitted" => Some(IsolationLevel::ReadUncommitted),
            "read committed" => Some(IsolationLevel::ReadCommitted),
            "repeatable read" => Some(IsolationLevel::RepeatableRead),
            "serializable" => Some(IsolationLevel::Serializable),
            _ => None,
        }
    }

    /// Whether every statement sees the snapshot of the transaction's
    /// first statement (REPEATABLE READ and SERIALIZABLE) rather than the
    /// latest commits.
    pub fn fixed_snapshot(self) -> bool {
        matches!(self, IsolationLevel::RepeatableRead | IsolationLevel::Serializable)
    }
}

/// The modes of BEGIN / SET TRANSACTION (those not given are `None`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TransactionModes {
    pub isolation: Option<IsolationLevel>,
    pub read_only: Option<bool>,
}

/// Transaction control.
#[derive(Clone, Debug, PartialEq)]
pub enum TransactionPlan {
    Begin(TransactionModes),
    /// SET TRANSACTION (this transaction) or, with `session`, SET SESSION
    /// CHARACTERISTICS AS TRANSACTION (the defaults of later ones).
    SetModes { modes: TransactionModes, session: bool },
    Commit,
    Rollback,
    Savepoint(String),
    Release(String),
    RollbackTo(String),
}

/// Kinds of objects DROP handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    Table,
    View,
    MaterializedView,
    Index,
    Sequence,
    Schema,
    /// A user-defined type (DROP TYPE).
    Type,
}

/// COPY direction and target.
#[derive(Clone, Debug)]
pub enum CopyPlan {
    /// COPY table [(cols)] FROM STDIN: data columns map to these table columns.
    From { table: u32, columns: Vec<usize>, options: CopyOptions },
    /// COPY table|query TO STDOUT.
    To { query: QueryPlan, options: CopyOptions },
}

/// COPY format options.
#[derive(Clone, Debug)]
pub struct CopyOptions {
    pub csv: bool,
    pub binary: bool,
    pub delimiter: char,
    pub null: String,
    pub header: bool,
    pub quote: char,
    pub escape: char,
}

/// How a locking SELECT treats rows another transaction has locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockWait {
    /// Wait for the other transaction to end (the default).
    Block,
    /// `NOWAIT`: fail with 55P03 instead of waiting.
    NoWait,
    /// `SKIP LOCKED`: leave such rows out of the result.
    SkipLocked,
}

/// SELECT ... FOR UPDATE / FOR SHARE: the rows it returns are locked until
/// the transaction ends. The query's plan has, after its visible columns,
/// one row-id column (NULL on the null side of an outer join) per table in
/// `tables`.
#[derive(Clone, Debug)]
pub struct RowLocking {
    pub tables: Vec<u32>,
    pub wait: LockWait,
}

/// DECLARE's options, as `pg_cursors` shows them.
#[derive(Clone, Debug)]
pub struct CursorOptions {
    /// WITH HOLD: the cursor outlives its transaction.
    pub hold: bool,
    /// BINARY.
    pub binary: bool,
    /// SCROLL. Without it a cursor is not scrollable: Freshet's cursors
    /// only move forward (PostgreSQL lets some plans scroll anyway).
    pub scroll: bool,
    /// The DECLARE statement's text.
    pub statement: String,
}

/// CREATE [UNIQUE] INDEX.
#[derive(Clone, Debug)]
pub struct CreateIndexPlan {
    pub name: Option<String>,
    pub table: u32,
    /// The key's column positions, in key order, skipping expressions.
    pub columns: Vec<usize>,
    /// The key's expression parts: (position in the key, SQL text).
    pub expressions: Vec<(usize, String)>,
    pub unique: bool,
    pub if_not_exists: bool,
    /// A partial index's WHERE, as SQL text.
    pub predicate: Option<String>,
    pub nulls_not_distinct: bool,
    /// Per key part, PostgreSQL's `indoption` bits: 1 DESC, 2 NULLS FIRST.
    pub options: Vec<i16>,
    /// Per key part, the operator class named (`varchar_pattern_ops`).
    pub opclasses: Vec<Option<String>>,
    /// INCLUDE (...) columns: stored, not part of the key.
    pub include: Vec<usize>,
}

/// A bound statement.
#[derive(Clone, Debug)]
pub enum Plan {
    Query(QueryPlan),
    /// A SELECT with FOR UPDATE / FOR SHARE clauses.
    LockingQuery { query: QueryPlan, locking: RowLocking },
    Insert(InsertPlan),
    Update(UpdatePlan),
    Delete(DeletePlan),
    CreateTable(CreateTablePlan),
    AlterTable { table: u32, actions: Vec<AlterTableAction> },
    Drop { kind: ObjectKind, names: Vec<(Option<String>, String)>, if_exists: bool, cascade: bool },
    /// ALTER INDEX old RENAME TO new.
    RenameIndex { name: String, new_name: String },
    /// TRUNCATE; with `cascade`, tables referencing them by foreign key too.
    /// With `restart_identity`, the sequences their columns own restart.
    Truncate { tables: Vec<u32>, cascade: bool, restart_identity: bool },
    /// CREATE DATABASE; `template` names a database to copy.
    CreateDatabase { name: String, if_not_exists: bool, template: Option<String> },
    DropDatabase { name: String, if_exists: bool },
    CreateSchema { name: String, if_not_exists: bool },
    CreateView { schema: String, name: String, sql: String, columns: Vec<OutputColumn>, or_replace: bool },
    CreateSequence { schema: String, name: String, if_not_exists: bool, sequence: SerialSequence },
    /// CREATE MATERIALIZED VIEW: the defining query's text, plan and columns.
    CreateMaterializedView {
        schema: String,
        name: String,
        sql: String,
        plan: RelExpr,
        columns: Vec<OutputColumn>,
        if_not_exists: bool,
    },
    CreateIndex(CreateIndexPlan),
    Transaction(TransactionPlan),
    Set { name: String, value: Option<String>, local: bool },
    Show { name: String },
    Reset { name: Option<String> },
    Copy(CopyPlan),
    /// EXPLAIN: the rows of its output (one per line of a text plan, one
    /// document for JSON, XML or YAML).
    Explain(Vec<String>),
    Deallocate { name: Option<String> },
    /// DECLARE name CURSOR [WITH HOLD] FOR query.
    DeclareCursor { name: String, query: QueryPlan, options: CursorOptions },
    /// FETCH/MOVE: `count` rows forward (None = ALL); `move_only` for MOVE.
    Fetch { name: String, count: Option<u64>, move_only: bool },
    /// CLOSE name / CLOSE ALL.
    CloseCursor { name: Option<String> },
    /// A statement accepted and ignored (e.g. SET TRANSACTION ISOLATION
    /// LEVEL, COMMENT ON, ANALYZE, GRANT), answered with `tag`.
    NoOp { tag: String },
    /// `COMMENT ON ... IS 'text' | NULL`.
    Comment { object: CommentOn, comment: Option<String> },
    /// `CREATE TYPE schema.name AS ENUM (labels)`.
    CreateEnum { schema: String, name: String, labels: Vec<String> },
    /// `ALTER TYPE` of the enum type with OID `type_oid`.
    AlterEnum { type_oid: u32, action: AlterEnumAction },
    /// CREATE SUBSCRIPTION to the materialized view `from`, keeping its
    /// changes for `retention` (RisingWave's option; `None`: the default).
    CreateSubscription { schema: String, name: String, from: u32, retention: Option<std::time::Duration>, if_not_exists: bool },
    /// CREATE SINK from a materialized view or a query: the `WITH` options
    /// (keys lower-cased) and the FORMAT clause as (format, encode,
    /// options), checked by the session against the connector.
    CreateSink {
        schema: String,
        name: String,
        from: SinkFrom,
        options: Vec<(String, String)>,
        format: Option<SinkFormat>,
        if_not_exists: bool,
    },
    /// CREATE SOURCE / CREATE TABLE ... WITH (connector = ...).
    CreateSource(CreateSourcePlan),
    /// DROP SOURCE | SINK | SUBSCRIPTION.
    DropStreaming { kind: StreamingObjectKind, names: Vec<(Option<String>, String)>, if_exists: bool, cascade: bool },
    /// DECLARE name SUBSCRIPTION CURSOR FOR subscription.
    DeclareSubscriptionCursor { name: String, subscription: (Option<String>, String), start: CursorStart },
    /// FETCH count FROM a subscription cursor, waiting up to `timeout` for
    /// `count` rows.
    FetchSubscription { cursor: String, count: u64, timeout: std::time::Duration },
}

/// What a sink sends.
#[derive(Clone, Debug, PartialEq)]
pub enum SinkFrom {
    /// `FROM mv`: the materialized view with this OID.
    View(u32),
    /// `AS query`: a materialized view of the query, created with the sink
    /// and owned by it (its SQL text, bound plan and columns, as
    /// [`Plan::CreateMaterializedView`] has them).
    Query { sql: String, plan: RelExpr, columns: Vec<OutputColumn> },
}

/// A sink's `FORMAT f ENCODE e (options)` clause: (format, encode,
/// options), names lower-cased.
pub type SinkFormat = (String, String, Vec<(String, String)>);

/// What an `ALTER TYPE` of an enum type does.
#[derive(Clone, Debug, PartialEq)]
pub enum AlterEnumAction {
    /// `ADD VALUE [IF NOT EXISTS] 'label' [BEFORE|AFTER 'neighbour']`;
    /// `neighbour` is (label, after).
    AddValue { label: String, if_not_exists: bool, neighbour: Option<(String, bool)> },
    /// `RENAME VALUE 'from' TO 'to'`.
    RenameValue { from: String, to: String },
    /// `RENAME TO name`.
    Rename { new_name: String },
}

impl Plan {
    /// Whether the statement only reads (allowed in a read-only snapshot).
    pub fn is_read_only(&self) -> bool {
        matches!(self, Plan::Query(_) | Plan::Show { .. } | Plan::Explain(_))
    }
}

/// The sequence a serial or identity column draws its values from.
#[derive(Clone, Debug, PartialEq)]
pub struct SerialSequence {
    pub name: String,
    pub start: i64,
    pub increment: i64,
    pub limits: freshet_common::types::SequenceLimits,
}

/// The object a COMMENT applies to, as far as the binder resolves it.
#[derive(Clone, Debug, PartialEq)]
pub enum CommentOn {
    /// A table, view, materialized view, index or sequence, by OID.
    Relation(u32),
    /// A column: relation OID and attribute number (1-based).
    Column(u32, i32),
    Schema(String),
    /// A table's constraint, by name.
    Constraint { table: u32, name: String },
    /// A user-defined type, by OID.
    Type(u32),
}
