//! The interface `freshet-pgwire` uses: [`Server`], [`Session`] and their
//! result types. Implementation lives in sibling modules.

use std::path::PathBuf;
use std::sync::Arc;

use freshet_common::{DataType, Datum, Error, Row};

/// How the server is started (from the CLI).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The data directory; created if absent; locked exclusively.
    pub data_dir: PathBuf,
    /// Number of dataflow workers.
    pub workers: usize,
    /// Password required for every user when set (SCRAM-SHA-256); `None`
    /// means trust authentication.
    pub password: Option<String>,
}

/// Failure to start the server (data directory locked, corrupt, ...).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StartupError {
    pub message: String,
}

/// What the client sent in its StartupMessage.
#[derive(Clone, Debug, Default)]
pub struct ConnectParams {
    pub user: String,
    pub database: String,
    /// Other startup parameters (application_name, options, client_encoding, DateStyle, ...).
    pub options: Vec<(String, String)>,
}

/// Transaction status reported in ReadyForQuery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionStatus {
    /// 'I'
    Idle,
    /// 'T'
    InBlock,
    /// 'E'
    Failed,
}

/// A result column as RowDescription describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
    /// OID of the table the column comes from, or 0.
    pub table_oid: u32,
    /// Attribute number in that table, or 0.
    pub column_id: i16,
}

/// A statement parsed once and executable many times (extended protocol's
/// prepared statement, or one statement of a simple Query).
#[derive(Clone)]
pub struct Prepared {
    /// The statement's text.
    pub sql: String,
    /// Types of the `$n` parameters, inferred where the client left them unspecified.
    pub param_types: Vec<DataType>,
    /// Result columns, or `None` if the statement returns no rows.
    pub columns: Option<Vec<Column>>,
    /// The engine's own form of the statement, opaque to the wire layer.
    pub plan: Arc<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("sql", &self.sql)
            .field("param_types", &self.param_types)
            .field("columns", &self.columns)
            .finish()
    }
}

/// Format of a COPY data stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyFormat {
    Text,
    Csv,
    Binary,
}

/// What executing one statement produced.
#[derive(Debug)]
pub enum ExecuteResult {
    /// A query's rows (SELECT, VALUES, SHOW, ... RETURNING).
    Rows { columns: Vec<Column>, rows: Vec<Row>, tag: String },
    /// A command's completion tag, e.g. `INSERT 0 3`, `CREATE TABLE`.
    Command { tag: String },
    /// `COPY ... FROM STDIN`: the client must now send the data, which is
    /// passed to [`SessionApi::copy_in`] whole.
    CopyIn(CopyInRequest),
    /// `COPY ... TO STDOUT`: send these bytes as CopyData, then CopyDone
    /// and CommandComplete with `tag`.
    CopyOut { format: CopyFormat, columns: usize, data: Vec<u8>, tag: String },
    /// An empty query string.
    Empty,
}

/// A pending `COPY FROM STDIN`, carried back to [`SessionApi::copy_in`].
#[derive(Clone)]
pub struct CopyInRequest {
    pub format: CopyFormat,
    /// Number of columns the data must have.
    pub columns: usize,
    /// The engine's own description of the target, opaque to the wire layer.
    pub spec: Arc<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for CopyInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyInRequest").field("format", &self.format).field("columns", &self.columns).finish()
    }
}

/// A handle that can cancel the session's running statement from another
/// connection (CancelRequest).
#[derive(Clone, Debug)]
pub struct CancelHandle {
    pub(crate) flag: Arc<std::sync::atomic::AtomicBool>,
}

impl CancelHandle {
    /// Asks the running statement, if any, to stop with 57014.
    pub fn cancel(&self) {
        self.flag.store(true, std::sync::atomic::Ordering::SeqCst)
    }
}

/// The process-wide server as the wire layer sees it.
pub trait ServerApi: Send + Sync + 'static {
    /// Opens a session for an authenticated client; 3D000 if the database
    /// does not exist.
    fn connect(&self, params: &ConnectParams) -> Result<Box<dyn SessionApi>, Error>;
    /// The password required for `user`, or `None` for trust authentication.
    fn password_for(&self, user: &str) -> Option<String>;
    /// Cancels the running statement of the session with this backend key,
    /// if it exists (CancelRequest); unknown keys are ignored.
    fn cancel(&self, process_id: i32, secret_key: i32);
    /// Called when a session's connection ends, to release its resources.
    fn disconnect(&self, process_id: i32);
}

/// Every session's public entry points. Sessions are `Send` and used from
/// one tokio task at a time; statement execution is synchronous (callers run
/// it on a blocking thread when it may take long).
pub trait SessionApi: Send {
    /// The ParameterStatus pairs to send after authentication
    /// (server_version, server_encoding, client_encoding, DateStyle,
    /// TimeZone, integer_datetimes, standard_conforming_strings, ...).
    fn parameter_status(&self) -> Vec<(String, String)>;
    /// This session's (process id, secret key) for BackendKeyData.
    fn backend_key(&self) -> (i32, i32);
    /// Splits and parses a simple Query's text into prepared statements
    /// (one per `;`-separated statement). Parse errors are returned at once.
    fn prepare_simple(&mut self, sql: &str) -> Result<Vec<Prepared>, Error>;
    /// Prepares one statement for the extended protocol (Parse). `param_types`
    /// are the OIDs the client gave (0 = infer).
    fn prepare(&mut self, sql: &str, param_types: &[u32]) -> Result<Prepared, Error>;
    /// Executes a prepared statement with bound parameter values
    /// (already decoded using `param_types`).
    fn execute(&mut self, stmt: &Prepared, params: &[Datum]) -> Result<ExecuteResult, Error>;
    /// Completes a COPY FROM STDIN with all the data the client sent;
    /// returns the `COPY n` tag.
    fn copy_in(&mut self, request: &CopyInRequest, data: &[u8]) -> Result<String, Error>;
    /// Called when the client sent CopyFail: aborts like an error would.
    fn copy_fail(&mut self, message: &str) -> Error;
    /// Transaction status for ReadyForQuery.
    fn transaction_status(&self) -> TransactionStatus;
    /// Executes a statement of the extended protocol (Execute). Outside a
    /// transaction block the statements up to the next Sync form one
    /// implicit transaction, committed by [`SessionApi::sync`]; when
    /// `sync_follows` (the client sent Sync right after this Execute) and
    /// no implicit transaction is open, the statement is alone and runs as
    /// an autocommit statement.
    fn execute_extended(&mut self, stmt: &Prepared, params: &[Datum], sync_follows: bool) -> Result<ExecuteResult, Error> {
        let _ = sync_follows;
        self.execute(stmt, params)
    }
    /// Called at each Sync of the extended protocol: commits the implicit
    /// transaction if one is open, or discards it when `aborted` (an error
    /// since the last Sync, which also fails an explicit transaction).
    /// A commit failure is returned for the client.
    fn sync(&mut self, aborted: bool) -> Result<(), Error>;
    /// Session settings used to print values (TimeZone, ...).
    fn text_context(&self) -> freshet_common::io::TextContext;
    /// Resolves OID-typed output (regclass/regtype) and other
    /// catalog-dependent text; `None` to use the default text output.
    fn format_special(&self, datum: &Datum, ty: &DataType) -> Option<String>;
    /// Handle for CancelRequest.
    fn cancel_handle(&self) -> CancelHandle;
    /// Result columns of a cursor opened with DECLARE (Describe of a portal
    /// the protocol layer does not know), if one has that name.
    fn cursor_columns(&self, name: &str) -> Option<Vec<Column>> {
        let _ = name;
        None
    }
}
