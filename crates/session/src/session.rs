//! One client session: settings, the open transaction, and statement
//! execution from a parsed statement to its result.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use freshet_common::io::TextContext;
use freshet_common::{DataType, Datum, Error, Result, Row, SqlState, TimestampTz};
use freshet_compute::{DataSource, Executor};
use freshet_expr::{SequenceAccess, TableRef};
use freshet_sql::plan::{IsolationLevel, OutputColumn, TransactionModes, TransactionPlan};
use freshet_sql::{Binder, Catalog, Command, Plan, RelationInfo, Statement};
use tracing::debug;

use crate::api::{CancelHandle, Column, ConnectParams, CopyInRequest, ExecuteResult, Prepared, SessionApi, TransactionStatus};
use crate::server::Server;
use crate::settings::Settings;
use crate::state::DbState;
use crate::system::{self, SystemContext};
use crate::txn::Txn;

/// A statement as stored in a [`Prepared`].
pub(crate) struct PreparedStatement {
    pub ast: Option<Command>,
}

/// A client session.
pub struct Session {
    pub(crate) server: Arc<Server>,
    pub(crate) database: String,
    pub(crate) user: String,
    pid: i32,
    secret: i32,
    pub(crate) settings: Settings,
    /// The open transaction, if any: explicit (BEGIN ... COMMIT) or
    /// implicit (`!txn.explicit`: the statements of a multi-statement
    /// simple query, or of the extended protocol up to the next Sync).
    pub(crate) txn: Option<Txn>,
    /// Whether the explicit transaction failed (25P02 until ROLLBACK).
    failed: bool,
    pub(crate) cancel: Arc<AtomicBool>,
    /// Last nextval result per sequence (currval).
    currval: parking_lot::Mutex<std::collections::HashMap<u32, i64>>,
    /// Statements left in the implicit transaction of a multi-statement
    /// simple query (PostgreSQL runs them as one transaction).
    implicit_remaining: usize,
    /// set_config() calls of the running statement, applied when it ends.
    pending_settings: parking_lot::Mutex<Vec<(String, String)>>,
    /// Open cursors (DECLARE), materialized when declared.
    cursors: std::collections::HashMap<String, Cursor>,
    /// Open subscription cursors (DECLARE ... SUBSCRIPTION CURSOR).
    pub(crate) subscription_cursors: std::collections::HashMap<String, crate::subscriptions::SubscriptionCursor>,
    /// The tables (and materialized views) the open transaction has read,
    /// recorded by `StateSource`; a SERIALIZABLE transaction checks them
    /// at commit.
    reads: parking_lot::Mutex<std::collections::BTreeSet<u32>>,
    /// Whether `reads` is being kept (the transaction is SERIALIZABLE).
    reads_wanted: AtomicBool,
}

/// An open cursor: its remaining rows.
struct Cursor {
    columns: Vec<Column>,
    rows: std::collections::VecDeque<Row>,
    options: freshet_sql::plan::CursorOptions,
    /// When DECLARE ran.
    created: TimestampTz,
}

impl Session {
    /// Opens a session on `params.database`.
    pub fn connect(server: Arc<Server>, params: &ConnectParams) -> Result<Session> {
        let database = if params.database.is_empty() { params.user.clone() } else { params.database.clone() };
        if !server.snapshot().catalog.databases.contains_key(&database) {
            return Err(Error::new(SqlState::InvalidCatalogName, format!("database \"{database}\" does not exist")));
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let (pid, secret) = server.register_session(CancelHandle { flag: cancel.clone() });
        let mut settings = Settings::new(&params.user);
        for (k, v) in &params.options {
            match k.as_str() {
                "user" | "database" | "replication" => {}
                "options" => {
                    // `-c name=value` pairs.
                    for part in v.split_whitespace().collect::<Vec<_>>().windows(2) {
                        if part[0] == "-c" {
                            if let Some((name, value)) = part[1].split_once('=') {
                                let _ = settings.set(name, Some(value.to_string()));
                            }
                        }
                    }
                }
                other => {
                    // Unknown startup parameters are ignored, as PostgreSQL
                    // ignores none but clients send many harmless ones.
                    let _ = settings.set(other, Some(v.clone()));
                }
            }
        }
        Ok(Session {
            server,
            database,
            user: params.user.clone(),
            pid,
            secret,
            settings,
            txn: None,
            failed: false,
            cancel,
            currval: parking_lot::Mutex::new(Default::default()),
            cursors: Default::default(),
            subscription_cursors: Default::default(),
            pending_settings: Default::default(),
            implicit_remaining: 0,
            reads: Default::default(),
            reads_wanted: AtomicBool::new(false),
        })
    }

    /// A new transaction with the session's default modes
    /// (default_transaction_isolation, default_transaction_read_only).
    pub(crate) fn begin_txn(&self, explicit: bool) -> Txn {
        let mut txn = self.server.begin(explicit);
        txn.isolation = self
            .settings
            .get("default_transaction_isolation")
            .and_then(IsolationLevel::parse)
            .unwrap_or_default();
        txn.read_only = self.settings.get("default_transaction_read_only") == Some("on");
        self.reads.lock().clear();
        self.want_reads(txn.isolation);
        txn
    }

    /// `transaction_isolation` / `transaction_read_only` as SHOW and
    /// current_setting() see them: the open transaction's modes, else the
    /// defaults the next one gets.
    pub(crate) fn transaction_setting(&self, key: &str) -> Option<String> {
        let txn = self.txn.as_ref();
        match key {
            "transaction_isolation" => Some(match txn {
                Some(t) => t.isolation.name().to_string(),
                None => self.settings.get("default_transaction_isolation")?.to_string(),
            }),
            "transaction_read_only" => Some(match txn {
                Some(t) => if t.read_only { "on" } else { "off" }.to_string(),
                None => self.settings.get("default_transaction_read_only")?.to_string(),
            }),
            _ => None,
        }
    }

    /// Records that the running statement read `oid` (a table or view),
    /// when the transaction is SERIALIZABLE (the only level that checks
    /// its reads); other statements pay one relaxed load.
    pub(crate) fn note_read(&self, oid: u32) {
        if self.reads_wanted.load(Ordering::Relaxed) {
            self.reads.lock().insert(oid);
        }
    }

    /// Whether scans should record their reads: set whenever a transaction
    /// begins or its level changes.
    fn want_reads(&self, isolation: IsolationLevel) {
        self.reads_wanted.store(isolation == IsolationLevel::Serializable, Ordering::Relaxed);
    }

    /// SET TRANSACTION's modes for the open transaction block (outside one
    /// PostgreSQL only warns, and nothing changes).
    fn set_transaction_modes(&mut self, modes: &TransactionModes) -> Result<()> {
        if let Some(txn) = self.txn.as_mut().filter(|t| t.explicit) {
            apply_modes(txn, modes)?;
            let isolation = txn.isolation;
            self.want_reads(isolation);
        }
        Ok(())
    }

    /// The state statements read: the transaction's working copy or the
    /// latest committed state.
    pub(crate) fn read_state(&self) -> DbState {
        match &self.txn {
            Some(t) => t.work.clone(),
            None => self.server.snapshot(),
        }
    }

    fn statement_time(&self) -> TimestampTz {
        match &self.txn {
            Some(t) => t.start,
            None => freshet_common::datetime::now(),
        }
    }

    /// Binds `stmt` against `state`.
    pub(crate) fn bind(&self, stmt: &Command, state: &DbState, params: &[DataType]) -> Result<(Plan, Vec<DataType>)> {
        let catalog = BindCatalog { state, session: self };
        let mut binder = Binder::new(&catalog, params.to_vec(), self.settings.text_context());
        let plan = binder.bind_command(stmt)?;
        Ok((plan, binder.param_types()))
    }

    /// Whether a (query) cursor called `name` is open.
    pub(crate) fn has_cursor(&self, name: &str) -> bool {
        self.cursors.contains_key(name)
    }

    /// A materialized view's defining query bound over `state`.
    pub(crate) fn bind_view_plan(&self, sql: &str, state: &DbState) -> Result<freshet_expr::RelExpr> {
        let mut statements = freshet_sql::parse_statements(sql)?;
        let (Some(stmt), true) = (statements.pop(), statements.is_empty()) else {
            return Err(Error::internal("a materialized view's definition is not one statement"));
        };
        match self.bind(&Command::Sql(stmt), state, &[])?.0 {
            Plan::Query(q) => Ok(q.expr),
            _ => Err(Error::internal("a materialized view's definition is not a query")),
        }
    }

    /// A materialized view's defining query evaluated over `state` (for a
    /// view whose dataflow is not running yet).
    pub(crate) fn evaluate_view_query(&self, sql: &str, state: &DbState) -> Result<Vec<Row>> {
        let mut statements = freshet_sql::parse_statements(sql)?;
        let (Some(stmt), true) = (statements.pop(), statements.is_empty()) else {
            return Err(Error::internal("a materialized view's definition is not one statement"));
        };
        match self.bind(&Command::Sql(stmt), state, &[])?.0 {
            Plan::Query(q) => self.run_query(&q.expr, state, &[]),
            _ => Err(Error::internal("a materialized view's definition is not a query")),
        }
    }

    /// Runs a read-only query plan over `state`.
    pub(crate) fn run_query(&self, plan: &freshet_expr::RelExpr, state: &DbState, params: &[Datum]) -> Result<Vec<Row>> {
        let text = self.settings.text_context();
        let source = StateSource { state, session: self };
        let seqs = SessionSequences { session: self };
        let exec = Executor::new(&source, params, &text, self.statement_time())
            .with_cancel(&self.cancel)
            .with_sequences(&seqs);
        exec.run(plan)
    }

    /// Executes one statement with its parameters.
    fn execute_statement(&mut self, command: &Command, params: &[Datum], param_types: &[DataType]) -> Result<ExecuteResult> {
        if self.failed {
            let allowed = matches!(command.sql(), Some(Statement::Rollback { .. } | Statement::Commit { .. }));
            if !allowed {
                return Err(Error::new(
                    SqlState::InFailedSqlTransaction,
                    "current transaction is aborted, commands ignored until end of transaction block",
                ));
            }
        }
        self.cancel.store(false, Ordering::SeqCst);
        // Transaction control, SET and SHOW take no snapshot (SET
        // TRANSACTION ISOLATION LEVEL may follow them).
        let controls_transaction = matches!(
            command.sql(),
            Some(
                Statement::Rollback { .. }
                    | Statement::Commit { .. }
                    | Statement::Savepoint { .. }
                    | Statement::ReleaseSavepoint { .. }
                    | Statement::StartTransaction { .. }
                    | Statement::Set(_)
                    | Statement::ShowVariable { .. }
            )
        );
        if !controls_transaction {
            if let Some(mut txn) = self.txn.take() {
                let refreshed = self.refresh(&mut txn);
                self.txn = Some(txn);
                refreshed?;
            }
        }
        let state = self.read_state();
        let (plan, _) = self.bind(command, &state, param_types)?;
        if self.txn.as_ref().is_some_and(|t| t.read_only) {
            if let Some(command) = write_command(&plan) {
                return Err(Error::new(
                    SqlState::ReadOnlySqlTransaction,
                    format!("cannot execute {command} in a read-only transaction"),
                ));
            }
        }
        debug!(pid = self.pid, "executing");
        let result = match plan {
            Plan::Query(q) => {
                let rows = self.run_query(&q.expr, &state, params)?;
                if self.txn.is_none() {
                    self.server.flush_sequences()?;
                }
                let tag = format!("SELECT {}", rows.len());
                Ok(ExecuteResult::Rows { columns: columns(&q.columns), rows, tag })
            }
            Plan::Transaction(t) => self.transaction(t),
            Plan::Set { name, value, .. } if name == freshet_sql::parse::SET_CONSTRAINTS_SETTING => {
                // SET CONSTRAINTS ... IMMEDIATE checks what was deferred so far.
                if value.as_deref() == Some("immediate") {
                    if let Some(txn) = &self.txn {
                        crate::constraints::verify_foreign_keys(&txn.work, &txn.writes, true)?;
                    }
                }
                Ok(ExecuteResult::Command { tag: "SET CONSTRAINTS".into() })
            }
            Plan::Set { name, .. } if name == "freshet.flush" => Ok(ExecuteResult::Command { tag: "FLUSH".into() }),
            Plan::Set { name, value, .. } if name == freshet_sql::parse::ALTER_SEQUENCE_TYPE_SETTING => {
                // ALTER SEQUENCE ... AS type: sequences are 64-bit, so only
                // the sequence's existence is checked.
                let value = value.unwrap_or_default();
                let (if_exists, name) = match value.strip_prefix("if_exists:") {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, value),
                };
                let parts: Vec<String> = name
                    .split('.')
                    .map(|p| if p.starts_with('"') { p.trim_matches('"').replace("\"\"", "\"") } else { p.to_lowercase() })
                    .collect();
                let (schema, seq) = match parts.as_slice() {
                    [s, n] => (s.clone(), n.clone()),
                    [n] => ("public".to_string(), n.clone()),
                    _ => return Err(Error::syntax(format!("improper sequence name: {name}"))),
                };
                let exists = state.catalog.relation(&self.database, &schema, &seq).is_some();
                if !exists && !if_exists {
                    return Err(Error::undefined_table(&seq));
                }
                Ok(ExecuteResult::Command { tag: "ALTER SEQUENCE".into() })
            }
            Plan::Set { name, value, .. } if matches!(name.as_str(), "transaction_isolation" | "transaction_read_only") => {
                // SET transaction_isolation = ... is SET TRANSACTION.
                let value = value.unwrap_or_default();
                let modes = if name == "transaction_isolation" {
                    let level = IsolationLevel::parse(&value).ok_or_else(|| {
                        Error::new(SqlState::InvalidParameterValue, format!("invalid value for parameter \"transaction_isolation\": \"{value}\""))
                    })?;
                    TransactionModes { isolation: Some(level), read_only: None }
                } else {
                    let on = freshet_common::io::text::parse_bool(&value).map_err(|_| {
                        Error::new(SqlState::InvalidParameterValue, "parameter \"transaction_read_only\" requires a Boolean value")
                    })?;
                    TransactionModes { isolation: None, read_only: Some(on) }
                };
                self.set_transaction_modes(&modes)?;
                Ok(ExecuteResult::Command { tag: "SET".into() })
            }
            Plan::Set { name, value, .. } => {
                self.settings.set(&name, value)?;
                Ok(ExecuteResult::Command { tag: "SET".into() })
            }
            Plan::Reset { name } => {
                self.settings.reset(name.as_deref())?;
                Ok(ExecuteResult::Command { tag: "RESET".into() })
            }
            Plan::Show { name } => self.show(&name),
            Plan::Explain(lines) => Ok(ExecuteResult::Rows {
                columns: vec![Column { name: "QUERY PLAN".into(), ty: DataType::Text, table_oid: 0, column_id: 0 }],
                rows: lines.into_iter().map(|l| vec![Datum::Text(l)]).collect(),
                tag: "EXPLAIN".into(),
            }),
            Plan::Deallocate { .. } => Ok(ExecuteResult::Command { tag: "DEALLOCATE".into() }),
            Plan::NoOp { tag } => Ok(ExecuteResult::Command { tag }),
            Plan::CreateDatabase { name, if_not_exists, template } => self.create_database(&name, if_not_exists, template.as_deref()),
            Plan::DropDatabase { name, if_exists } => self.drop_database(&name, if_exists),
            Plan::Copy(copy) => self.copy(copy, params),
            Plan::DeclareCursor { name, query, options } => {
                if self.txn.is_none() && !options.hold {
                    return Err(Error::new(
                        SqlState::NoActiveSqlTransaction,
                        "DECLARE CURSOR can only be used in transaction blocks",
                    ));
                }
                if self.cursors.contains_key(&name) {
                    return Err(Error::new(SqlState::DuplicateObject, format!("cursor \"{name}\" already exists")));
                }
                let rows = self.run_query(&query.expr, &state, params)?;
                let created = freshet_common::datetime::now();
                self.cursors.insert(name, Cursor { columns: columns(&query.columns), rows: rows.into(), options, created });
                Ok(ExecuteResult::Command { tag: "DECLARE CURSOR".into() })
            }
            Plan::Fetch { name, count, move_only: false } if self.subscription_cursors.contains_key(&name) => {
                self.fetch_subscription(&name, count.unwrap_or(u64::MAX), std::time::Duration::ZERO)
            }
            Plan::FetchSubscription { cursor, count, timeout } => self.fetch_subscription(&cursor, count, timeout),
            Plan::DeclareSubscriptionCursor { name, subscription, start } => self.declare_subscription_cursor(name, subscription, start),
            Plan::Fetch { name, count, move_only } => {
                let cursor = self.cursors.get_mut(&name).ok_or_else(|| {
                    Error::new(SqlState::InvalidCursorName, format!("cursor \"{name}\" does not exist"))
                })?;
                let n = count.map(|c| c as usize).unwrap_or(cursor.rows.len()).min(cursor.rows.len());
                let rows: Vec<Row> = cursor.rows.drain(..n).collect();
                if move_only {
                    return Ok(ExecuteResult::Command { tag: format!("MOVE {}", rows.len()) });
                }
                Ok(ExecuteResult::Rows { columns: cursor.columns.clone(), tag: format!("FETCH {}", rows.len()), rows })
            }
            Plan::CloseCursor { name } => {
                match name {
                    None => {
                        self.cursors.clear();
                        self.subscription_cursors.clear();
                    }
                    Some(n) => {
                        if self.cursors.remove(&n).is_none() && self.subscription_cursors.remove(&n).is_none() {
                            return Err(Error::new(SqlState::InvalidCursorName, format!("cursor \"{n}\" does not exist")));
                        }
                    }
                }
                Ok(ExecuteResult::Command { tag: "CLOSE CURSOR".into() })
            }
            other => self.in_transaction(|session, txn| session.execute_write(txn, other.clone(), params)),
        };
        result
    }

    /// Runs `f` inside the explicit transaction, or in an autocommit
    /// transaction committed right after (holding the commit lock so that
    /// autocommit statements never conflict).
    pub(crate) fn in_transaction<F>(&mut self, mut f: F) -> Result<ExecuteResult>
    where
        F: FnMut(&mut Session, &mut Txn) -> Result<ExecuteResult>,
    {
        if let Some(mut txn) = self.txn.take() {
            let result = self.run_statement(&mut txn, &mut f);
            self.txn = Some(txn);
            return result;
        }
        // An autocommit statement whose commit meets a concurrent change it
        // cannot be replayed over (another session's DDL) runs again on
        // the new state: nothing of it was committed, and a client of an
        // autocommit statement never sees 40001 from PostgreSQL for that.
        const ATTEMPTS_MAX: usize = 20;
        let mut attempt = 0;
        loop {
            let mut txn = self.begin_txn(false);
            let result = self.run_statement(&mut txn, &mut f)?;
            match self.commit_txn(txn) {
                Ok(()) => return Ok(result),
                Err(e) if e.state == SqlState::SerializationFailure && attempt + 1 < ATTEMPTS_MAX => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs one write statement in `txn` on the latest committed state,
    /// re-running it when it had to wait for another transaction's row
    /// locks (it must then see the rows as that transaction left them).
    fn run_statement(
        &mut self,
        txn: &mut Txn,
        f: &mut dyn FnMut(&mut Session, &mut Txn) -> Result<ExecuteResult>,
    ) -> Result<ExecuteResult> {
        const ATTEMPTS_MAX: usize = 1000;
        for _ in 0..ATTEMPTS_MAX {
            self.refresh(txn)?;
            let saved = (txn.work.clone(), txn.writes.len(), txn.structural, txn.truncated.len());
            let result = f(self, txn).and_then(|r| {
                // DDL may have shortened the log (DROP TABLE forgets its writes).
                let since = saved.1.min(txn.writes.len());
                crate::constraints::verify_foreign_keys(&txn.work, &txn.writes[since..], false)?;
                Ok(r)
            });
            match result {
                Err(e) if crate::exec::is_retry(&e) => {
                    txn.work = saved.0;
                    txn.writes.truncate(saved.1);
                    txn.structural = saved.2;
                    txn.truncated.truncate(saved.3);
                }
                other => return other,
            }
        }
        Err(Error::new(SqlState::SerializationFailure, "could not serialize access due to concurrent update")
            .with_detail("The statement was retried too many times after waiting for row locks."))
    }

    /// Commits `txn` after checking its deferred constraints.
    pub(crate) fn commit_txn(&self, txn: Txn) -> Result<()> {
        crate::constraints::verify_foreign_keys(&txn.work, &txn.writes, true)?;
        if txn.isolation == IsolationLevel::Serializable {
            let reads = std::mem::take(&mut *self.reads.lock());
            return self.server.commit_serializable(txn, &reads);
        }
        self.server.commit(txn)
    }

    /// Moves `txn` onto the latest committed state, replaying its own
    /// writes (READ COMMITTED: each statement sees the latest commits).
    pub(crate) fn refresh(&self, txn: &mut Txn) -> Result<()> {
        // REPEATABLE READ and SERIALIZABLE keep their first snapshot.
        if txn.isolation.fixed_snapshot() && txn.snapshot_taken {
            return Ok(());
        }
        txn.snapshot_taken = true;
        if self.server.current_ts() == txn.base_ts {
            return Ok(());
        }
        let current = self.server.snapshot();
        let ts = current.ts;
        txn.work = crate::txn::rebase(txn, current.clone())?;
        txn.base_ts = ts;
        txn.base = current;
        Ok(())
    }

    fn transaction(&mut self, t: TransactionPlan) -> Result<ExecuteResult> {
        let cmd = |tag: &str| Ok(ExecuteResult::Command { tag: tag.into() });
        match t {
            TransactionPlan::Begin(modes) => {
                if let Some(txn) = &mut self.txn {
                    // Inside a transaction block PostgreSQL warns and
                    // carries on; an implicit transaction (statements
                    // pipelined before this BEGIN) becomes the block.
                    txn.explicit = true;
                    return cmd("BEGIN");
                }
                let mut txn = self.begin_txn(true);
                apply_modes(&mut txn, &modes)?;
                self.want_reads(txn.isolation);
                self.txn = Some(txn);
                cmd("BEGIN")
            }
            TransactionPlan::SetModes { modes, session: true } => {
                // SET SESSION CHARACTERISTICS AS TRANSACTION: the defaults.
                if let Some(level) = modes.isolation {
                    self.settings.set("default_transaction_isolation", Some(level.name().to_string()))?;
                }
                if let Some(read_only) = modes.read_only {
                    self.settings.set("default_transaction_read_only", Some(if read_only { "on" } else { "off" }.to_string()))?;
                }
                cmd("SET")
            }
            TransactionPlan::SetModes { modes, session: false } => {
                // Outside a block PostgreSQL only warns (25P01).
                self.set_transaction_modes(&modes)?;
                cmd("SET")
            }
            TransactionPlan::Commit => {
                self.cursors.retain(|_, c| c.options.hold);
                let failed = std::mem::take(&mut self.failed);
                match self.txn.take() {
                    None => cmd("COMMIT"),
                    Some(_) if failed => {
                        self.server.flush_sequences()?;
                        cmd("ROLLBACK")
                    }
                    Some(txn) => {
                        self.commit_txn(txn)?;
                        cmd("COMMIT")
                    }
                }
            }
            TransactionPlan::Rollback => {
                self.cursors.retain(|_, c| c.options.hold);
                self.failed = false;
                self.txn = None;
                self.server.flush_sequences()?;
                cmd("ROLLBACK")
            }
            TransactionPlan::Savepoint(name) => {
                let txn = self.txn.as_mut().ok_or_else(|| {
                    Error::new(SqlState::NoActiveSqlTransaction, "SAVEPOINT can only be used in transaction blocks")
                })?;
                txn.savepoint(name);
                cmd("SAVEPOINT")
            }
            TransactionPlan::Release(name) => {
                let txn = self.txn.as_mut().ok_or_else(|| {
                    Error::new(SqlState::NoActiveSqlTransaction, "RELEASE SAVEPOINT can only be used in transaction blocks")
                })?;
                txn.release(&name)?;
                cmd("RELEASE")
            }
            TransactionPlan::RollbackTo(name) => {
                let txn = self.txn.as_mut().ok_or_else(|| {
                    Error::new(SqlState::NoActiveSqlTransaction, "ROLLBACK TO SAVEPOINT can only be used in transaction blocks")
                })?;
                txn.rollback_to(&name)?;
                self.failed = false;
                cmd("ROLLBACK")
            }
        }
    }

    fn show(&self, name: &str) -> Result<ExecuteResult> {
        let lower = name.to_lowercase();
        if lower == "all" {
            let rows = self
                .settings
                .all()
                .into_iter()
                .map(|(k, v)| vec![Datum::Text(k), Datum::Text(v), Datum::Text(String::new())])
                .collect();
            return Ok(ExecuteResult::Rows {
                columns: vec![
                    Column { name: "name".into(), ty: DataType::Text, table_oid: 0, column_id: 0 },
                    Column { name: "setting".into(), ty: DataType::Text, table_oid: 0, column_id: 0 },
                    Column { name: "description".into(), ty: DataType::Text, table_oid: 0, column_id: 0 },
                ],
                rows,
                tag: "SHOW".into(),
            });
        }
        let key = match lower.as_str() {
            "time zone" => "timezone".to_string(),
            "transaction isolation level" => "transaction_isolation".to_string(),
            _ => lower.clone(),
        };
        let value = match self.transaction_setting(&key) {
            Some(value) => value,
            None => self
                .settings
                .get(&key)
                .ok_or_else(|| Error::new(SqlState::UndefinedObject, format!("unrecognized configuration parameter \"{name}\"")))?
                .to_string(),
        };
        let column_name = crate::settings::REPORTED
            .iter()
            .find(|r| r.to_lowercase() == key)
            .map(|r| r.to_string())
            .unwrap_or(key.clone());
        Ok(ExecuteResult::Rows {
            columns: vec![Column { name: column_name, ty: DataType::Text, table_oid: 0, column_id: 0 }],
            rows: vec![vec![Datum::Text(value.to_string())]],
            tag: "SHOW".into(),
        })
    }

    fn create_database(&mut self, name: &str, if_not_exists: bool, template: Option<&str>) -> Result<ExecuteResult> {
        if self.txn.is_some() {
            return Err(Error::new(SqlState::ActiveSqlTransaction, "CREATE DATABASE cannot run inside a transaction block"));
        }
        self.in_transaction(|session, txn| {
            if txn.work.catalog.databases.contains_key(name) {
                if if_not_exists {
                    return Ok(ExecuteResult::Command { tag: "CREATE DATABASE".into() });
                }
                return Err(Error::new(SqlState::DuplicateDatabase, format!("database \"{name}\" already exists")));
            }
            match template {
                None => {
                    txn.work.catalog_mut().create_database(name);
                }
                Some(template) => session.clone_database(txn, template, name)?,
            }
            txn.structural = true;
            Ok(ExecuteResult::Command { tag: "CREATE DATABASE".into() })
        })
    }

    /// CREATE DATABASE `to` TEMPLATE `from`: the catalog objects (see
    /// `CatalogState::clone_database`), every table's rows and every
    /// sequence's state, in this transaction. PostgreSQL refuses while
    /// other sessions use the template (it copies files); Freshet copies a
    /// consistent snapshot, so it does not need to.
    fn clone_database(&mut self, txn: &mut Txn, from: &str, to: &str) -> Result<()> {
        if !txn.work.catalog.databases.contains_key(from) {
            return Err(Error::new(SqlState::InvalidCatalogName, format!("template database \"{from}\" does not exist")));
        }
        let map = txn.work.catalog_mut().clone_database(from, to)?;
        for (old, new) in &map {
            let Some(rel) = txn.work.catalog.relations.get(new).cloned() else { continue };
            let rows: Vec<(u64, Row)> = txn
                .work
                .table(*old)
                .map(|t| t.rows.iter().map(|(id, row)| (*id, row.to_vec())).collect())
                .unwrap_or_default();
            if matches!(rel.kind, crate::catalog::RelKind::Table) || txn.work.table(*old).is_some() {
                txn.work.tables.insert(*new, crate::state::TableData::new(&rel));
            }
            for (id, row) in rows {
                txn.insert(&rel, id, row)?;
            }
        }
        let mut sequences = self.server.sequences.lock();
        let copies: Vec<(u32, crate::server::SequenceState)> =
            map.iter().filter_map(|(old, new)| sequences.get(old).map(|s| (*new, s.clone()))).collect();
        if !copies.is_empty() {
            sequences.extend(copies);
            drop(sequences);
            self.server.mark_sequences_dirty();
        }
        Ok(())
    }

    fn drop_database(&mut self, name: &str, if_exists: bool) -> Result<ExecuteResult> {
        if self.txn.is_some() {
            return Err(Error::new(SqlState::ActiveSqlTransaction, "DROP DATABASE cannot run inside a transaction block"));
        }
        if name == self.database {
            return Err(Error::new(SqlState::ObjectInUse, "cannot drop the currently open database"));
        }
        self.in_transaction(|_, txn| {
            if !txn.work.catalog.databases.contains_key(name) {
                if if_exists {
                    return Ok(ExecuteResult::Command { tag: "DROP DATABASE".into() });
                }
                return Err(Error::new(SqlState::InvalidCatalogName, format!("database \"{name}\" does not exist")));
            }
            let cat = txn.work.catalog_mut();
            cat.databases.remove(name);
            cat.schemas.retain(|_, s| s.database != name);
            cat.relations.retain(|_, r| r.database != name);
            cat.types.retain(|_, t| t.database != name);
            cat.subscriptions.retain(|_, s| s.database != name);
            let relations = &cat.relations;
            cat.comments.retain(|c| c.relation == 0 || relations.contains_key(&c.relation));
            cat.drop_orphan_sinks();
            txn.structural = true;
            Ok(ExecuteResult::Command { tag: "DROP DATABASE".into() })
        })
    }

    /// Records a failure: it aborts the open transaction, an explicit one
    /// until ROLLBACK (25P02 meanwhile), an implicit one at once.
    fn note_error(&mut self) {
        match &self.txn {
            Some(txn) if txn.explicit => self.failed = true,
            Some(_) => {
                self.txn = None;
                self.implicit_remaining = 0;
            }
            None => {}
        }
    }

    /// Commits the implicit transaction of the extended protocol, if one
    /// is open (at Sync, or when a simple Query interrupts the sequence).
    fn commit_implicit(&mut self) -> Result<()> {
        if self.implicit_remaining > 0 || self.txn.as_ref().is_none_or(|t| t.explicit) {
            return Ok(());
        }
        self.cursors.retain(|_, c| c.options.hold);
        match self.txn.take() {
            Some(txn) => self.commit_txn(txn),
            None => Ok(()),
        }
    }

    /// The flag CancelRequest sets for this session.
    pub(crate) fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    pub(crate) fn sequences(&self) -> SessionSequences<'_> {
        SessionSequences { session: self }
    }
}

/// Converts planner columns to wire columns.
pub(crate) fn columns(cols: &[OutputColumn]) -> Vec<Column> {
    cols.iter()
        .map(|c| Column { name: c.name.clone(), ty: c.ty.clone(), table_oid: c.table_oid, column_id: c.column_id })
        .collect()
}

impl SessionApi for Session {
    fn parameter_status(&self) -> Vec<(String, String)> {
        self.settings.reported()
    }

    fn backend_key(&self) -> (i32, i32) {
        (self.pid, self.secret)
    }

    fn prepare_simple(&mut self, sql: &str) -> Result<Vec<Prepared>, Error> {
        self.commit_implicit()?;
        let stmts = freshet_sql::parse_commands(sql).inspect_err(|_| self.note_error())?;
        // Several statements outside a transaction block form one implicit
        // transaction, unless they manage transactions themselves.
        self.implicit_remaining = 0;
        if stmts.len() > 1 && self.txn.is_none() && !stmts.iter().any(controls_transactions) {
            self.implicit_remaining = stmts.len();
            self.txn = Some(self.begin_txn(false));
        }
        Ok(stmts
            .into_iter()
            .map(|s| Prepared {
                sql: s.to_string(),
                param_types: vec![],
                columns: None,
                plan: Arc::new(PreparedStatement { ast: Some(s) }),
            })
            .collect())
    }

    fn prepare(&mut self, sql: &str, param_types: &[u32]) -> Result<Prepared, Error> {
        let result = (|| {
            let mut stmts = freshet_sql::parse_commands(sql)?;
            if stmts.len() > 1 {
                return Err(Error::syntax("cannot insert multiple commands into a prepared statement"));
            }
            let state = self.read_state();
            // Built-in types by OID, then the database's enum types (and
            // their array types); an OID nobody knows leaves the type to
            // inference, as before.
            let declared: Vec<DataType> = param_types
                .iter()
                .map(|oid| match oid {
                    0 => DataType::Unknown,
                    oid => DataType::from_oid(*oid)
                        .or_else(|| state.catalog.type_by_oid(&self.database, *oid))
                        .unwrap_or(DataType::Unknown),
                })
                .collect();
            let Some(stmt) = stmts.pop() else {
                return Ok(Prepared { sql: sql.to_string(), param_types: vec![], columns: None, plan: Arc::new(PreparedStatement { ast: None }) });
            };
            if self.failed {
                return Ok(Prepared { sql: sql.to_string(), param_types: declared, columns: None, plan: Arc::new(PreparedStatement { ast: Some(stmt) }) });
            }
            let (plan, types) = self.bind(&stmt, &state, &declared)?;
            let cols = match &plan {
                Plan::Query(q) | Plan::LockingQuery { query: q, .. } => Some(columns(&q.columns)),
                Plan::Insert(i) => i.returning.as_ref().map(|r| columns(&r.columns)),
                Plan::Update(u) => u.returning.as_ref().map(|r| columns(&r.columns)),
                Plan::Delete(d) => d.returning.as_ref().map(|r| columns(&r.columns)),
                Plan::Show { name } => Some(vec![Column { name: name.clone(), ty: DataType::Text, table_oid: 0, column_id: 0 }]),
                Plan::Explain(_) => Some(vec![Column { name: "QUERY PLAN".into(), ty: DataType::Text, table_oid: 0, column_id: 0 }]),
                Plan::Fetch { name, move_only: false, .. } => self
                    .cursors
                    .get(name)
                    .map(|c| c.columns.clone())
                    .or_else(|| self.subscription_cursors.get(name).map(|c| c.columns().to_vec())),
                Plan::FetchSubscription { cursor, .. } => self.subscription_cursors.get(cursor).map(|c| c.columns().to_vec()),
                _ => None,
            };
            Ok(Prepared { sql: sql.to_string(), param_types: types, columns: cols, plan: Arc::new(PreparedStatement { ast: Some(stmt) }) })
        })();
        result.inspect_err(|_| self.note_error())
    }

    fn execute(&mut self, stmt: &Prepared, params: &[Datum]) -> Result<ExecuteResult, Error> {
        let Some(prepared) = stmt.plan.downcast_ref::<PreparedStatement>() else {
            return Err(Error::internal("foreign prepared statement"));
        };
        let Some(ast) = &prepared.ast else { return Ok(ExecuteResult::Empty) };
        let mut result = self.execute_statement(ast, params, &stmt.param_types);
        let pending = std::mem::take(&mut *self.pending_settings.lock());
        if result.is_ok() {
            for (name, value) in pending {
                if let Err(e) = self.settings.set(&name, Some(value)) {
                    result = Err(e);
                    break;
                }
            }
        }
        if self.implicit_remaining > 0 {
            self.implicit_remaining -= 1;
            if result.is_err() {
                self.implicit_remaining = 0;
                self.txn = None;
                return result;
            }
            if self.implicit_remaining == 0 {
                if let Some(txn) = self.txn.take() {
                    self.commit_txn(txn)?;
                }
            }
            return result;
        }
        if result.is_err() {
            self.note_error();
        }
        result
    }

    fn copy_in(&mut self, request: &CopyInRequest, data: &[u8]) -> Result<String, Error> {
        let result = crate::copy::copy_in(self, request, data);
        if result.is_err() {
            self.note_error();
        }
        result
    }

    fn copy_fail(&mut self, message: &str) -> Error {
        self.note_error();
        Error::new(SqlState::QueryCanceled, format!("COPY from stdin failed: {message}"))
    }

    fn transaction_status(&self) -> TransactionStatus {
        match (&self.txn, self.failed) {
            (Some(_), true) => TransactionStatus::Failed,
            (Some(_), false) => TransactionStatus::InBlock,
            (None, _) => TransactionStatus::Idle,
        }
    }

    fn execute_extended(&mut self, stmt: &Prepared, params: &[Datum], sync_follows: bool) -> Result<ExecuteResult, Error> {
        // PostgreSQL runs the Executes up to Sync in one transaction: a
        // failing statement undoes the ones before it. A statement alone
        // before its Sync runs as an autocommit statement, which keeps its
        // retry on a concurrent DDL commit (see `in_transaction`).
        if self.txn.is_none() && !sync_follows {
            let controls_transactions = stmt
                .plan
                .downcast_ref::<PreparedStatement>()
                .and_then(|p| p.ast.as_ref())
                .is_some_and(controls_transactions);
            if !controls_transactions {
                self.txn = Some(self.begin_txn(false));
            }
        }
        self.execute(stmt, params)
    }

    fn sync(&mut self, aborted: bool) -> Result<(), Error> {
        if aborted {
            self.note_error();
            return Ok(());
        }
        self.commit_implicit()
    }

    fn text_context(&self) -> TextContext {
        self.settings.text_context()
    }

    fn format_special(&self, datum: &Datum, ty: &DataType) -> Option<String> {
        let Datum::Oid(oid) = datum else { return None };
        match ty {
            DataType::RegClass => {
                // As PostgreSQL prints it: quoted as needed, qualified
                // unless the search path finds this relation by its name.
                let state = self.server.snapshot();
                let quote = freshet_expr::catalog_func::quote_ident;
                if let Some(r) = state.catalog.relations.get(oid) {
                    let catalog = BindCatalog { state: &state, session: self };
                    let visible = freshet_sql::Catalog::relation(&catalog, None, &r.name).is_some_and(|found| found.oid == *oid);
                    return Some(if visible { quote(&r.name) } else { format!("{}.{}", quote(&r.schema), quote(&r.name)) });
                }
                system::relation_by_oid(*oid).map(|r| quote(&r.name))
            }
            DataType::RegType => Some(match DataType::from_oid(*oid) {
                Some(t) => t.to_string(),
                None => {
                    let state = self.read_state();
                    let catalog = BindCatalog { state: &state, session: self };
                    let search_path = freshet_sql::Catalog::search_path(&catalog);
                    system::user_type_name(&state.catalog, &self.database, &search_path, *oid).unwrap_or_else(|| oid.to_string())
                }
            }),
            DataType::RegProc => Some(freshet_expr::catalog_func::regproc_text(*oid)),
            _ => None,
        }
    }

    fn cancel_handle(&self) -> CancelHandle {
        CancelHandle { flag: self.cancel.clone() }
    }

    fn cursor_columns(&self, name: &str) -> Option<Vec<Column>> {
        self.cursors.get(name).map(|c| c.columns.clone())
    }
}

impl Session {
    /// The session's schema for temporary objects.
    pub(crate) fn temp_schema_name(&self) -> String {
        format!("pg_temp_{}", self.pid)
    }

    /// Drops the session's temporary objects (at disconnect).
    fn drop_temp_objects(&mut self) {
        let schema = self.temp_schema_name();
        if self.server.snapshot().catalog.schema_oid(&self.database, &schema).is_none() {
            return;
        }
        // An open transaction is rolled back first, releasing its locks.
        self.txn = None;
        // Under the commit lock, on the latest state: this cannot conflict
        // with another session's DDL.
        let server = self.server.clone();
        let guard = server.lock_commits();
        let mut txn = Txn::new(server.snapshot(), freshet_common::datetime::now(), false);
        crate::exec::drop_schema_contents(&mut txn, &self.database, &schema);
        if let Err(e) = server.commit_locked(&guard, txn) {
            tracing::warn!(pid = self.pid, error = %e.message, "could not drop the session's temporary objects");
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        use crate::api::ServerApi;
        self.drop_temp_objects();
        crate::server::ServerHandle(self.server.clone()).disconnect(self.pid);
    }
}

/// The binder's catalog over one state, for one session.
pub(crate) struct BindCatalog<'a> {
    pub state: &'a DbState,
    pub session: &'a Session,
}

impl Catalog for BindCatalog<'_> {
    fn database(&self) -> &str {
        &self.session.database
    }

    fn search_path(&self) -> Vec<String> {
        let raw = self.session.settings.get("search_path").unwrap_or("public");
        let mut path = vec!["pg_catalog".to_string()];
        // The session's temporary schema, once it exists, is searched first
        // (PostgreSQL's implicit pg_temp, for relations).
        let temp = self.session.temp_schema_name();
        if self.state.catalog.schema_oid(&self.session.database, &temp).is_some() {
            path.insert(0, temp);
        }
        for part in raw.split(',') {
            let p = part.trim().trim_matches('"');
            let p = if p == "$user" { self.session.user.as_str() } else { p };
            if !p.is_empty() && !path.iter().any(|x| x == p) {
                path.push(p.to_string());
            }
        }
        path
    }

    fn temp_schema(&self) -> Option<String> {
        Some(self.session.temp_schema_name())
    }

    fn relation(&self, schema: Option<&str>, name: &str) -> Option<RelationInfo> {
        let temp = self.session.temp_schema_name();
        let schema = match schema {
            Some("pg_temp") => Some(temp.as_str()),
            other => other,
        };
        let lookup = |schema: &str| -> Option<RelationInfo> {
            if schema == "pg_catalog" || schema == "information_schema" {
                return system::relation(schema, name);
            }
            self.state.catalog.relation(&self.session.database, schema, name).map(|r| r.info())
        };
        match schema {
            Some(s) => lookup(s),
            None => self.search_path().iter().find_map(|s| lookup(s)),
        }
    }

    fn relation_by_oid(&self, oid: u32) -> Option<RelationInfo> {
        match self.state.catalog.relations.get(&oid) {
            Some(r) => Some(r.info()),
            None => system::relation_by_oid(oid),
        }
    }

    fn schema_exists(&self, name: &str) -> bool {
        self.state.catalog.schema_oid(&self.session.database, name).is_some()
    }

    fn user_type(&self, schema: Option<&str>, name: &str) -> Option<DataType> {
        let temp = self.session.temp_schema_name();
        let schema = match schema {
            Some("pg_temp") => Some(temp.as_str()),
            other => other,
        };
        self.state.catalog.find_type(&self.session.database, &self.search_path(), schema, name)
    }

    fn user_type_by_oid(&self, oid: u32) -> Option<DataType> {
        self.state.catalog.type_by_oid(&self.session.database, oid)
    }

    fn setting(&self, name: &str) -> Option<String> {
        self.session.transaction_setting(name).or_else(|| self.session.settings.get(name).map(str::to_string))
    }

    fn user(&self) -> &str {
        &self.session.user
    }

    fn backend_pid(&self) -> i32 {
        self.session.pid
    }

    fn catalog_snapshot(&self) -> Arc<freshet_expr::catalog_func::CatalogSnapshot> {
        Arc::new(system::catalog_snapshot(&self.state.catalog, &self.session.database, &self.search_path(), &self.session.user))
    }
}

/// Table rows and system relations for the executor.
pub(crate) struct StateSource<'a> {
    pub state: &'a DbState,
    pub session: &'a Session,
}

impl DataSource for StateSource<'_> {
    fn scan(&self, table: TableRef, f: &mut dyn FnMut(u64, &[Datum]) -> Result<()>) -> Result<()> {
        self.session.note_read(table.0);
        if let Some(rel) = self.state.catalog.relations.get(&table.0) {
            if let crate::catalog::RelKind::MaterializedView { sql, .. } = &rel.kind {
                let rows = if self.session.server.views.is_installed(rel.oid) {
                    self.session.server.views.read(rel.oid, &rel.name, self.state.ts)?
                } else {
                    // Created by this (uncommitted) transaction: its
                    // dataflow starts at commit, so compute it here.
                    self.session.evaluate_view_query(sql, self.state)?
                };
                for (i, row) in rows.iter().enumerate() {
                    f(i as u64, row)?;
                }
                return Ok(());
            }
        }
        if let Some(data) = self.state.table(table.0) {
            for (id, row) in data.rows.iter() {
                f(*id, &row[..])?;
            }
        }
        Ok(())
    }

    fn lookup(
        &self,
        table: TableRef,
        columns: &[usize],
        values: &[Datum],
        f: &mut dyn FnMut(u64, &[Datum]) -> Result<()>,
    ) -> Result<bool> {
        self.session.note_read(table.0);
        let Some(rel) = self.state.catalog.relations.get(&table.0) else { return Ok(false) };
        if matches!(rel.kind, crate::catalog::RelKind::MaterializedView { .. }) {
            // A view's contents are ordered by row value: equalities on its
            // leading columns select a contiguous range (the view's "key"
            // is its leading columns, e.g. the GROUP BY columns listed
            // first). Only types whose stored form is canonical qualify, so
            // that value equality is SQL equality.
            let mut prefix = Vec::new();
            while let Some(pos) = columns.iter().position(|c| *c == prefix.len()) {
                let v = &values[pos];
                if !ordered_like_sql(v) {
                    break;
                }
                prefix.push(v.clone());
            }
            if prefix.is_empty() || !self.session.server.views.is_installed(rel.oid) {
                return Ok(false);
            }
            let rows = self.session.server.views.read_prefix(rel.oid, &rel.name, self.state.ts, &prefix)?;
            for (i, row) in rows.iter().enumerate() {
                f(i as u64, row)?;
            }
            return Ok(true);
        }
        let constraints = rel.unique_constraints();
        // Only a plain unique index holds every row under its columns' values.
        let Some((k, constraint)) = constraints.iter().enumerate().find(|(_, c)| {
            c.is_plain() && c.columns.len() == columns.len() && c.columns.iter().all(|col| columns.contains(col))
        }) else {
            return Ok(false);
        };
        // Key values in the constraint's column order.
        let mut key = Vec::with_capacity(columns.len());
        for col in &constraint.columns {
            let Some(pos) = columns.iter().position(|c| c == col) else { return Ok(false) };
            key.push(values[pos].clone());
        }
        let Some(data) = self.state.table(table.0) else { return Ok(true) };
        if let Some(id) = data.keys.get(k).and_then(|idx| idx.get(&key)) {
            if let Some(row) = data.rows.get(id) {
                f(*id, &row[..])?;
            }
        }
        Ok(true)
    }

    fn lookup_first_between(
        &self,
        table: TableRef,
        low: Option<&Datum>,
        high: Option<&Datum>,
        f: &mut dyn FnMut(u64, &[Datum]) -> Result<()>,
    ) -> Result<bool> {
        self.session.note_read(table.0);
        let Some(rel) = self.state.catalog.relations.get(&table.0) else { return Ok(false) };
        if !matches!(rel.kind, crate::catalog::RelKind::MaterializedView { .. })
            || !low.into_iter().chain(high).all(ordered_like_sql)
            || !self.session.server.views.is_installed(rel.oid)
        {
            return Ok(false);
        }
        let rows = self.session.server.views.read_first_between(rel.oid, &rel.name, self.state.ts, low, high)?;
        for (i, row) in rows.iter().enumerate() {
            f(i as u64, row)?;
        }
        Ok(true)
    }

    fn system(&self, name: &str) -> Result<Vec<Row>> {
        let settings = self.session.settings.all();
        let jobs = if name.ends_with("freshet_jobs") { self.session.server.views.jobs() } else { Vec::new() };
        let sinks = if name.ends_with("freshet_sinks") { self.session.server.sinks.statuses() } else { Vec::new() };
        let sources = if name.ends_with("freshet_sources") { self.session.server.sources.statuses() } else { Vec::new() };
        let cursors: Vec<system::CursorInfo> = self
            .session
            .cursors
            .iter()
            .map(|(name, c)| system::CursorInfo { name: name.clone(), options: c.options.clone(), created: c.created })
            .collect();
        let ctx = SystemContext {
            catalog: &self.state.catalog,
            database: &self.session.database,
            user: &self.session.user,
            settings: &settings,
            jobs: &jobs,
            cursors: &cursors,
            sinks: &sinks,
            sources: &sources,
        };
        system::rows(name, &ctx)
    }
}

/// Whether values of `d`'s type are stored canonically and ordered by
/// `Datum`'s order as SQL orders them, so equality and range lookups over a
/// view's ordered contents find exactly the SQL matches.
fn ordered_like_sql(d: &Datum) -> bool {
    matches!(
        d,
        Datum::Bool(_) | Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_) | Datum::Oid(_) | Datum::Text(_)
            | Datum::Date(_) | Datum::Timestamp(_) | Datum::TimestampTz(_) | Datum::Uuid(_)
    )
}

/// Sequence functions for one session.
pub(crate) struct SessionSequences<'a> {
    session: &'a Session,
}

impl SessionSequences<'_> {
    /// A sequence's name for messages.
    fn sequence_name(&self, oid: u32) -> String {
        let state = self.session.read_state();
        state.catalog.relations.get(&oid).map(|r| r.name.clone()).unwrap_or_else(|| oid.to_string())
    }
}

impl SequenceAccess for SessionSequences<'_> {
    fn nextval(&self, oid: u32) -> Result<i64> {
        let server = &self.session.server;
        let value = {
            let mut seqs = server.sequences.lock();
            let st = seqs.get_mut(&oid).ok_or_else(|| Error::undefined_table(&oid.to_string()))?;
            if st.called {
                let (min, max) = st.limits.bounds(st.increment, i64::MIN, i64::MAX);
                st.value = match st.value.checked_add(st.increment) {
                    Some(next) if (min..=max).contains(&next) => next,
                    _ if st.limits.cycle => if st.increment > 0 { min } else { max },
                    _ => {
                        let (which, limit) = if st.increment > 0 { ("maximum", max) } else { ("minimum", min) };
                        drop(seqs);
                        return Err(Error::new(
                            SqlState::SequenceGeneratorLimitExceeded,
                            format!("nextval: reached {which} value of sequence \"{}\" ({limit})", self.sequence_name(oid)),
                        ));
                    }
                };
            } else {
                st.called = true;
            }
            st.value
        };
        server.mark_sequences_dirty();
        self.session.currval.lock().insert(oid, value);
        Ok(value)
    }

    fn current_setting(&self, name: &str) -> Result<Option<String>> {
        let key = name.to_lowercase();
        if let Some(value) = self.session.transaction_setting(&key) {
            return Ok(Some(value));
        }
        Ok(self.session.settings.get(&key).map(str::to_string))
    }

    fn set_config(&self, name: &str, value: &str, _is_local: bool) -> Result<String> {
        // Validate now (unknown names fail the statement), apply at its end.
        let mut probe = self.session.settings.clone();
        probe.set(name, Some(value.to_string()))?;
        let applied = probe.get(name).unwrap_or(value).to_string();
        self.session.pending_settings.lock().push((name.to_string(), value.to_string()));
        Ok(applied)
    }

    fn currval(&self, oid: u32) -> Result<i64> {
        self.session.currval.lock().get(&oid).copied().ok_or_else(|| {
            Error::new(SqlState::ObjectInUse, "currval of sequence is not yet defined in this session")
        })
    }

    fn setval(&self, oid: u32, value: i64, is_called: bool) -> Result<i64> {
        let server = &self.session.server;
        let mut seqs = server.sequences.lock();
        let st = seqs.get_mut(&oid).ok_or_else(|| Error::undefined_table(&oid.to_string()))?;
        let (min, max) = st.limits.bounds(st.increment, i64::MIN, i64::MAX);
        if !(min..=max).contains(&value) {
            drop(seqs);
            return Err(Error::new(
                SqlState::NumericValueOutOfRange,
                format!("setval: value {value} is out of bounds for sequence \"{}\" ({min}..{max})", self.sequence_name(oid)),
            ));
        }
        st.value = value;
        st.called = is_called;
        drop(seqs);
        server.mark_sequences_dirty();
        Ok(value)
    }
}

/// Whether `stmt` manages transactions itself (or cannot run inside one),
/// so that it must not be wrapped in an implicit transaction.
fn controls_transactions(command: &Command) -> bool {
    let Some(stmt) = command.sql() else { return false };
    matches!(
        stmt,
        Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
            | Statement::CreateDatabase { .. }
    ) || matches!(stmt, Statement::Drop { object_type: sqlparser::ast::ObjectType::Database, .. })
}

/// Applies BEGIN's or SET TRANSACTION's modes to `txn`. The isolation level
/// can change only before the transaction's first statement (25001), as in
/// PostgreSQL.
fn apply_modes(txn: &mut Txn, modes: &TransactionModes) -> Result<()> {
    if let Some(level) = modes.isolation {
        if txn.snapshot_taken && level != txn.isolation {
            return Err(Error::new(
                SqlState::ActiveSqlTransaction,
                "SET TRANSACTION ISOLATION LEVEL must be called before any query",
            ));
        }
        txn.isolation = level;
    }
    if let Some(read_only) = modes.read_only {
        txn.read_only = read_only;
    }
    Ok(())
}

/// The command name PostgreSQL's read-only check reports for a plan that
/// writes (DML, SELECT ... FOR UPDATE, DDL), or `None` for one that does not.
fn write_command(plan: &Plan) -> Option<&'static str> {
    Some(match plan {
        Plan::Insert(_) => "INSERT",
        Plan::Update(_) => "UPDATE",
        Plan::Delete(_) => "DELETE",
        Plan::LockingQuery { .. } => "SELECT FOR UPDATE",
        Plan::Truncate { .. } => "TRUNCATE TABLE",
        Plan::CreateTable(_) => "CREATE TABLE",
        Plan::CreateSource(p) if p.append_only => "CREATE SOURCE",
        Plan::CreateSource(_) => "CREATE TABLE",
        Plan::AlterTable { .. } => "ALTER TABLE",
        Plan::Drop { .. } => "DROP",
        Plan::RenameIndex { .. } => "ALTER INDEX",
        Plan::CreateSchema { .. } => "CREATE SCHEMA",
        Plan::CreateView { .. } => "CREATE VIEW",
        Plan::CreateSequence { .. } => "CREATE SEQUENCE",
        Plan::CreateMaterializedView { .. } => "CREATE MATERIALIZED VIEW",
        Plan::CreateIndex(_) => "CREATE INDEX",
        Plan::Comment { .. } => "COMMENT",
        Plan::Copy(freshet_sql::plan::CopyPlan::From { .. }) => "COPY FROM",
        Plan::CreateSink { .. } => "CREATE SINK",
        Plan::CreateSubscription { .. } => "CREATE SUBSCRIPTION",
        Plan::DropStreaming { kind, .. } => match kind {
            freshet_sql::streaming::StreamingObjectKind::Sink => "DROP SINK",
            freshet_sql::streaming::StreamingObjectKind::Source => "DROP SOURCE",
            freshet_sql::streaming::StreamingObjectKind::Subscription => "DROP SUBSCRIPTION",
        },
        _ => return None,
    })
}
