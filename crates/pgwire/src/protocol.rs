//! The per-connection protocol state machine after startup: simple query,
//! extended query (prepared statements and portals), COPY and the
//! error-recovery rules between them.
//!
//! [`Protocol`] is sans-IO: [`Protocol::step`] takes one decoded frontend
//! message and appends the response messages to an output buffer. It calls
//! the engine synchronously, so the connection task runs it on a blocking
//! thread inside `catch_unwind` (see `connection.rs`); after a caught panic
//! [`Protocol::recover_from_panic`] answers XX000 and resynchronizes.
//!
//! The rules follow PostgreSQL's `postgres.c` (PostgresMain and the
//! `exec_*_message` functions) and the protocol documentation
//! ("Message Flow").

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::BytesMut;
use freshet_common::{Datum, Error, Row, SqlState};
use freshet_session::{
    Column, CopyInRequest, ExecuteResult, Prepared, SessionApi, TransactionStatus,
};

use crate::backend::{self, Severity};
use crate::frontend::{protocol_violation, FrontendMessage, Target};
use crate::values::{check_formats, decode_params, RowEncoder};

/// What the connection should do after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Keep reading messages.
    Continue,
    /// Write the output and close the connection (Terminate, or a fatal
    /// protocol error already written as an ErrorResponse).
    Close,
}

/// Limits applied by the state machine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Largest COPY FROM STDIN payload accumulated for one statement.
    pub(crate) copy_in_bytes_max: usize,
}

/// Where a COPY FROM STDIN was started, which decides how its end and its
/// errors are reported.
enum CopyOrigin {
    /// From a simple Query: the statements after the COPY still run, then
    /// ReadyForQuery.
    Simple(VecDeque<Prepared>),
    /// From an Execute: an error makes the server skip to the next Sync.
    Extended,
}

struct CopyIn {
    request: CopyInRequest,
    data: Vec<u8>,
    origin: CopyOrigin,
}

/// The protocol mode, which decides how each message is treated.
enum Mode {
    /// Normal processing.
    Ready,
    /// An extended-protocol error happened: discard messages until Sync.
    SkipToSync,
    /// Inside COPY FROM STDIN: expecting CopyData, CopyDone or CopyFail.
    CopyIn(Box<CopyIn>),
}

/// Execution state of a portal.
enum PortalState {
    /// Bound, not executed yet.
    Unstarted,
    /// Executed; some rows may still have to be sent (row-limited Execute).
    Rows {
        columns: Vec<Column>,
        rows: VecDeque<Row>,
        tag: String,
        suspended: bool,
    },
    /// Executed to completion; a further Execute returns no rows.
    Done { tag: String },
}

/// A bound statement (extended protocol). Rows of a row-limited Execute
/// stay here until fetched: O(result rows) memory per open portal.
struct Portal {
    statement: Arc<Prepared>,
    params: Vec<Datum>,
    result_formats: Vec<i16>,
    state: PortalState,
}

/// The state of one client connection after startup.
pub(crate) struct Protocol {
    session: Box<dyn SessionApi>,
    statements: HashMap<String, Arc<Prepared>>,
    portals: HashMap<String, Portal>,
    mode: Mode,
    /// ParameterStatus values the client has been sent, to report changes.
    reported: Vec<(String, String)>,
    limits: Limits,
}

impl Protocol {
    pub(crate) fn new(session: Box<dyn SessionApi>, limits: Limits) -> Protocol {
        Protocol {
            session,
            statements: HashMap::new(),
            portals: HashMap::new(),
            mode: Mode::Ready,
            reported: Vec::new(),
            limits,
        }
    }

    /// The startup tail: ParameterStatus for every reported setting,
    /// BackendKeyData and the first ReadyForQuery.
    pub(crate) fn greet(&mut self, out: &mut BytesMut) {
        self.reported = self.session.parameter_status();
        for (name, value) in &self.reported {
            backend::parameter_status(out, name, value);
        }
        let (process_id, secret_key) = self.session.backend_key();
        backend::backend_key_data(out, process_id, secret_key);
        self.ready_for_query(out);
    }

    /// The session's process id, for `ServerApi::disconnect`.
    pub(crate) fn process_id(&self) -> i32 {
        self.session.backend_key().0
    }

    /// Whether the client expects a ReadyForQuery in answer to `message`
    /// (simple Query, FunctionCall, Sync, or COPY data of a COPY started by
    /// a simple Query), which decides how a panic while handling it is
    /// answered: with ReadyForQuery, or by skipping to the next Sync.
    /// Decided before the step runs, since the step may change the mode.
    pub(crate) fn simple_context(&self, message: &FrontendMessage) -> bool {
        match &self.mode {
            Mode::CopyIn(copy) => matches!(copy.origin, CopyOrigin::Simple(_)),
            Mode::Ready | Mode::SkipToSync => {
                matches!(message, FrontendMessage::Sync) || !message.extended()
            }
        }
    }

    /// Handles one message, appending the responses to `out`.
    /// `sync_follows` says the next message the client already sent is a
    /// Sync (an Execute right before it runs alone, as an autocommit
    /// statement, unless an implicit transaction is already open).
    pub(crate) fn step(&mut self, message: FrontendMessage, sync_follows: bool, out: &mut BytesMut) -> Next {
        match self.mode {
            Mode::CopyIn(_) => return self.step_copy_in(message, out),
            Mode::SkipToSync => {
                return match message {
                    FrontendMessage::Sync => {
                        self.mode = Mode::Ready;
                        self.sync(true, out);
                        Next::Continue
                    }
                    FrontendMessage::Terminate => Next::Close,
                    _ => Next::Continue,
                };
            }
            Mode::Ready => {}
        }
        let extended = message.extended();
        match message {
            FrontendMessage::Query { sql } => self.query(&sql, out),
            FrontendMessage::Parse {
                name,
                sql,
                param_oids,
            } => {
                let result = self.parse(name, &sql, &param_oids, out);
                self.extended_result(result, out)
            }
            FrontendMessage::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            } => {
                let result = self.bind(
                    portal,
                    &statement,
                    &param_formats,
                    &params,
                    result_formats,
                    out,
                );
                self.extended_result(result, out)
            }
            FrontendMessage::Describe { target, name } => {
                let result = self.describe(target, &name, out);
                self.extended_result(result, out)
            }
            FrontendMessage::Execute { portal, max_rows } => {
                let result = self.execute_portal(&portal, max_rows, sync_follows, out);
                self.extended_result(result, out)
            }
            FrontendMessage::Close { target, name } => {
                self.close(target, &name);
                backend::close_complete(out);
                Next::Continue
            }
            FrontendMessage::Sync => {
                self.sync(false, out);
                Next::Continue
            }
            // Output is written whenever the connection waits for input, so
            // Flush needs no action of its own.
            FrontendMessage::Flush => Next::Continue,
            FrontendMessage::Terminate => Next::Close,
            // PostgreSQL ignores stray COPY messages: they are what a client
            // still sends after a COPY failed.
            FrontendMessage::CopyData(_)
            | FrontendMessage::CopyDone
            | FrontendMessage::CopyFail { .. }
            | FrontendMessage::Invalid { tag: b'f', .. } => Next::Continue,
            FrontendMessage::FunctionCall => {
                let error = Error::new(
                    SqlState::FeatureNotSupported,
                    "function call protocol is not supported",
                );
                backend::error(out, Severity::Error, &error);
                self.ready_for_query(out);
                Next::Continue
            }
            FrontendMessage::Invalid { error, .. } => {
                backend::error(out, Severity::Error, &error);
                if extended {
                    self.mode = Mode::SkipToSync;
                } else {
                    self.ready_for_query(out);
                }
                Next::Continue
            }
            FrontendMessage::Password => {
                let error = protocol_violation("unexpected password message after authentication");
                backend::error(out, Severity::Fatal, &error);
                Next::Close
            }
        }
    }

    /// After a panic escaped `step` (caught by the caller): answers XX000
    /// and brings the protocol back to a state the client expects:
    /// ReadyForQuery in the simple protocol, skip-to-Sync in the extended
    /// one. `simple` is [`Protocol::simple_context`] of the message.
    pub(crate) fn recover_from_panic(
        &mut self,
        simple: bool,
        panic_message: &str,
        out: &mut BytesMut,
    ) {
        let error = Error::internal(format!("internal error: {panic_message}"));
        backend::error(out, Severity::Error, &error);
        if simple {
            self.mode = Mode::Ready;
            self.ready_for_query(out);
        } else {
            self.mode = Mode::SkipToSync;
        }
    }

    /// Sends ReadyForQuery with the session's transaction status. Portals
    /// live only as long as their transaction, so outside a transaction
    /// block they are all closed (PostgreSQL drops them at commit).
    fn ready_for_query(&mut self, out: &mut BytesMut) {
        let status = self.session.transaction_status();
        if status == TransactionStatus::Idle {
            self.portals.clear();
        }
        // The one place changed settings are reported, as PostgreSQL does
        // (ReportChangedGUCOptions before ReadyForQuery): this covers SET,
        // RESET, ROLLBACK of a SET and SELECT set_config() alike.
        self.report_parameter_changes(out);
        backend::ready_for_query(out, status);
    }

    /// Ends the extended-protocol sequence: the session commits (or, after
    /// an error, discards) its implicit transaction; then ReadyForQuery.
    fn sync(&mut self, aborted: bool, out: &mut BytesMut) {
        if let Err(error) = self.session.sync(aborted) {
            backend::error(out, Severity::Error, &error);
        }
        self.ready_for_query(out);
    }

    /// An extended-protocol message's outcome: on error, send it and skip
    /// to the next Sync.
    fn extended_result(&mut self, result: Result<(), Error>, out: &mut BytesMut) -> Next {
        if let Err(error) = result {
            backend::error(out, Severity::Error, &error);
            self.mode = Mode::SkipToSync;
        }
        Next::Continue
    }

    /// Sends ParameterStatus for every reported setting that changed (SET,
    /// RESET, ROLLBACK of a SET, ...), as PostgreSQL does for GUC_REPORT
    /// settings.
    fn report_parameter_changes(&mut self, out: &mut BytesMut) {
        let current = self.session.parameter_status();
        for (name, value) in &current {
            let known = self
                .reported
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v);
            if known != Some(value) {
                backend::parameter_status(out, name, value);
            }
        }
        self.reported = current;
    }

    // ---- simple query ------------------------------------------------

    fn query(&mut self, sql: &str, out: &mut BytesMut) -> Next {
        // A simple Query drops the unnamed statement and portal.
        self.statements.remove("");
        self.portals.remove("");
        match self.session.prepare_simple(sql) {
            Err(error) => {
                backend::error(out, Severity::Error, &error);
                self.ready_for_query(out);
            }
            Ok(statements) if statements.is_empty() => {
                backend::empty_query(out);
                self.ready_for_query(out);
            }
            Ok(statements) => self.run_simple(statements.into(), out),
        }
        Next::Continue
    }

    /// Runs the statements of a simple Query in order until one fails or
    /// starts a COPY FROM STDIN (which resumes the rest when it ends).
    fn run_simple(&mut self, mut statements: VecDeque<Prepared>, out: &mut BytesMut) {
        while let Some(statement) = statements.pop_front() {
            match self.session.execute(&statement, &[]) {
                Err(error) => {
                    backend::error(out, Severity::Error, &error);
                    break;
                }
                Ok(ExecuteResult::CopyIn(request)) => {
                    backend::copy_in_response(out, request.format, request.columns);
                    let origin = CopyOrigin::Simple(statements);
                    self.mode = Mode::CopyIn(Box::new(CopyIn {
                        request,
                        data: Vec::new(),
                        origin,
                    }));
                    return;
                }
                Ok(ExecuteResult::Rows { columns, rows, tag }) => {
                    backend::row_description(out, &columns, &[]);
                    let mut encoder = RowEncoder::new(&*self.session, &columns, &[]);
                    let mut failed = None;
                    for row in &rows {
                        if let Err(error) = encoder.write(out, row) {
                            failed = Some(error);
                            break;
                        }
                    }
                    if let Some(error) = failed {
                        backend::error(out, Severity::Error, &error);
                        break;
                    }
                    backend::command_complete(out, &tag);
                }
                Ok(result) => self.complete_without_rows(result, out),
            }
        }
        self.ready_for_query(out);
    }

    /// Sends the completion of a result that carries no rows for a
    /// RowDescription: a command, an empty query or COPY TO.
    fn complete_without_rows(&mut self, result: ExecuteResult, out: &mut BytesMut) {
        match result {
            ExecuteResult::Command { tag } => {
                backend::command_complete(out, &tag);
            }
            ExecuteResult::Empty => backend::empty_query(out),
            ExecuteResult::CopyOut {
                format,
                columns,
                data,
                tag,
            } => {
                backend::copy_out_response(out, format, columns);
                backend::copy_out_data(out, format, data);
                backend::copy_done(out);
                backend::command_complete(out, &tag);
            }
            ExecuteResult::Rows { .. } | ExecuteResult::CopyIn(_) => {
                unreachable!("rows and COPY FROM are handled by the caller")
            }
        }
    }

    // ---- COPY FROM STDIN ---------------------------------------------

    fn step_copy_in(&mut self, message: FrontendMessage, out: &mut BytesMut) -> Next {
        let Mode::CopyIn(copy) = &mut self.mode else {
            unreachable!("step_copy_in runs only in COPY mode")
        };
        match message {
            FrontendMessage::CopyData(data) => {
                if copy.data.len() + data.len() <= self.limits.copy_in_bytes_max {
                    copy.data.extend_from_slice(&data);
                } else {
                    let error = Error::new(
                        SqlState::ProgramLimitExceeded,
                        format!(
                            "COPY data exceeds the limit of {} bytes",
                            self.limits.copy_in_bytes_max
                        ),
                    );
                    self.fail_copy_in(error, out);
                }
                Next::Continue
            }
            FrontendMessage::CopyDone => {
                let copy = self.take_copy_in();
                let result = self.session.copy_in(&copy.request, &copy.data);
                self.end_copy_in(result, copy.origin, out);
                Next::Continue
            }
            FrontendMessage::CopyFail { message } => {
                let copy = self.take_copy_in();
                let error = self.session.copy_fail(&message);
                self.end_copy_in(Err(error), copy.origin, out);
                Next::Continue
            }
            FrontendMessage::Invalid { tag: b'f', error } => {
                self.fail_copy_in(error, out);
                Next::Continue
            }
            // libpq may send these without noticing that the command was a
            // COPY; PostgreSQL ignores them in COPY mode.
            FrontendMessage::Flush | FrontendMessage::Sync => Next::Continue,
            FrontendMessage::Terminate => Next::Close,
            other => {
                let error = protocol_violation(format!(
                    "unexpected message type 0x{:02X} during COPY from stdin",
                    message_type(&other)
                ));
                self.fail_copy_in(error, out);
                Next::Continue
            }
        }
    }

    /// Leaves COPY mode, returning the COPY's state.
    fn take_copy_in(&mut self) -> Box<CopyIn> {
        match std::mem::replace(&mut self.mode, Mode::Ready) {
            Mode::CopyIn(copy) => copy,
            _ => unreachable!("take_copy_in runs only in COPY mode"),
        }
    }

    /// Aborts the COPY with a server-detected `error`: the session aborts
    /// as for CopyFail, and the client gets `error`.
    fn fail_copy_in(&mut self, error: Error, out: &mut BytesMut) {
        let copy = self.take_copy_in();
        let _ = self.session.copy_fail(&error.message);
        self.end_copy_in(Err(error), copy.origin, out);
    }

    /// Reports the COPY's outcome and continues as its origin requires.
    fn end_copy_in(
        &mut self,
        result: Result<String, Error>,
        origin: CopyOrigin,
        out: &mut BytesMut,
    ) {
        match (result, origin) {
            (Ok(tag), CopyOrigin::Simple(rest)) => {
                backend::command_complete(out, &tag);
                self.run_simple(rest, out);
            }
            (Ok(tag), CopyOrigin::Extended) => backend::command_complete(out, &tag),
            (Err(error), CopyOrigin::Simple(_)) => {
                backend::error(out, Severity::Error, &error);
                self.ready_for_query(out);
            }
            (Err(error), CopyOrigin::Extended) => {
                backend::error(out, Severity::Error, &error);
                self.mode = Mode::SkipToSync;
            }
        }
    }

    // ---- extended query ----------------------------------------------

    fn parse(
        &mut self,
        name: String,
        sql: &str,
        param_oids: &[u32],
        out: &mut BytesMut,
    ) -> Result<(), Error> {
        if !name.is_empty() && self.statements.contains_key(&name) {
            return Err(Error::new(
                SqlState::DuplicatePreparedStatement,
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        let prepared = self.session.prepare(sql, param_oids)?;
        self.statements.insert(name, Arc::new(prepared));
        backend::parse_complete(out);
        Ok(())
    }

    fn statement(&self, name: &str) -> Result<Arc<Prepared>, Error> {
        self.statements.get(name).cloned().ok_or_else(|| {
            let message = if name.is_empty() {
                "unnamed prepared statement does not exist".to_owned()
            } else {
                format!("prepared statement \"{name}\" does not exist")
            };
            Error::new(SqlState::InvalidSqlStatementName, message)
        })
    }

    fn bind(
        &mut self,
        portal: String,
        statement_name: &str,
        param_formats: &[i16],
        params: &[Option<bytes::Bytes>],
        result_formats: Vec<i16>,
        out: &mut BytesMut,
    ) -> Result<(), Error> {
        let statement = self.statement(statement_name)?;
        if param_formats.len() > 1 && param_formats.len() != params.len() {
            return Err(protocol_violation(format!(
                "bind message has {} parameter formats but {} parameters",
                param_formats.len(),
                params.len()
            )));
        }
        if params.len() != statement.param_types.len() {
            return Err(protocol_violation(format!(
                "bind message supplies {} parameters, but prepared statement \"{}\" requires {}",
                params.len(),
                statement_name,
                statement.param_types.len()
            )));
        }
        check_formats(param_formats)?;
        check_formats(&result_formats)?;
        let column_count = statement.columns.as_ref().map_or(0, Vec::len);
        if result_formats.len() > 1 && result_formats.len() != column_count {
            return Err(protocol_violation(format!(
                "bind message has {} result formats but query has {} columns",
                result_formats.len(),
                column_count
            )));
        }
        if !portal.is_empty() && self.portals.contains_key(&portal) {
            return Err(Error::new(
                SqlState::DuplicateObject,
                format!("cursor \"{portal}\" already exists"),
            ));
        }
        let ctx = self.session.text_context();
        let params = decode_params(params, param_formats, &statement.param_types, &ctx)?;
        self.portals.insert(
            portal,
            Portal {
                statement,
                params,
                result_formats,
                state: PortalState::Unstarted,
            },
        );
        backend::bind_complete(out);
        Ok(())
    }

    fn describe(&mut self, target: Target, name: &str, out: &mut BytesMut) -> Result<(), Error> {
        match target {
            Target::Statement => {
                let statement = self.statement(name)?;
                backend::parameter_description(
                    out,
                    statement.param_types.iter().map(|t| t.oid()).collect(),
                );
                match &statement.columns {
                    Some(columns) => backend::row_description(out, columns, &[]),
                    None => backend::no_data(out),
                }
            }
            Target::Portal => {
                let Some(portal) = self.portals.get(name) else {
                    // A cursor opened with DECLARE is a portal too.
                    return match self.session.cursor_columns(name) {
                        Some(columns) => {
                            backend::row_description(out, &columns, &[]);
                            Ok(())
                        }
                        None => Err(missing_portal(name)),
                    };
                };
                let columns = match &portal.state {
                    PortalState::Rows { columns, .. } => Some(columns),
                    _ => portal.statement.columns.as_ref(),
                };
                match columns {
                    Some(columns) => backend::row_description(out, columns, &portal.result_formats),
                    None => backend::no_data(out),
                }
            }
        }
        Ok(())
    }

    fn execute_portal(
        &mut self,
        name: &str,
        max_rows: i32,
        sync_follows: bool,
        out: &mut BytesMut,
    ) -> Result<(), Error> {
        let portal = self
            .portals
            .get_mut(name)
            .ok_or_else(|| missing_portal(name))?;
        if let PortalState::Unstarted = portal.state {
            let statement = portal.statement.clone();
            let params = std::mem::take(&mut portal.params);
            // Mark the portal done first, so that an error leaves it closed
            // for further Executes rather than re-running the statement.
            portal.state = PortalState::Done { tag: String::new() };
            let result = self.session.execute_extended(&statement, &params, sync_follows)?;
            let portal = self
                .portals
                .get_mut(name)
                .expect("the portal was found above");
            match result {
                ExecuteResult::Rows { columns, rows, tag } => {
                    portal.state = PortalState::Rows {
                        columns,
                        rows: rows.into(),
                        tag,
                        suspended: false,
                    };
                }
                ExecuteResult::CopyIn(request) => {
                    backend::copy_in_response(out, request.format, request.columns);
                    let copy = CopyIn {
                        request,
                        data: Vec::new(),
                        origin: CopyOrigin::Extended,
                    };
                    self.mode = Mode::CopyIn(Box::new(copy));
                    return Ok(());
                }
                result => {
                    if let ExecuteResult::Command { tag } = &result {
                        portal.state = PortalState::Done { tag: tag.clone() };
                    }
                    self.complete_without_rows(result, out);
                    return Ok(());
                }
            }
        }
        let portal = self
            .portals
            .get_mut(name)
            .expect("the portal was found above");
        match &mut portal.state {
            PortalState::Unstarted => unreachable!("the portal was started above"),
            PortalState::Done { tag } => {
                // Re-executing a finished portal yields no more rows.
                let tag = if tag.starts_with("SELECT") || tag.is_empty() {
                    "SELECT 0".to_owned()
                } else {
                    tag.clone()
                };
                backend::command_complete(out, &tag);
            }
            PortalState::Rows {
                columns,
                rows,
                tag,
                suspended,
            } => {
                let limit = if max_rows > 0 {
                    max_rows as usize
                } else {
                    usize::MAX
                };
                let count = limit.min(rows.len());
                let mut encoder = RowEncoder::new(&*self.session, columns, &portal.result_formats);
                for row in rows.drain(..count) {
                    encoder.write(out, &row)?;
                }
                if !rows.is_empty() {
                    *suspended = true;
                    backend::portal_suspended(out);
                } else {
                    // After a row-limited fetch, PostgreSQL's tag counts the
                    // rows of the last Execute only.
                    let tag = if *suspended && tag.starts_with("SELECT ") {
                        format!("SELECT {count}")
                    } else {
                        tag.clone()
                    };
                    backend::command_complete(out, &tag);
                    portal.state = PortalState::Done { tag };
                }
            }
        }
        Ok(())
    }

    fn close(&mut self, target: Target, name: &str) {
        match target {
            Target::Statement => {
                // Closing a statement closes the portals made from it.
                if let Some(statement) = self.statements.remove(name) {
                    self.portals
                        .retain(|_, portal| !Arc::ptr_eq(&portal.statement, &statement));
                }
            }
            Target::Portal => {
                self.portals.remove(name);
            }
        }
    }
}

fn missing_portal(name: &str) -> Error {
    Error::new(
        SqlState::InvalidCursorName,
        format!("portal \"{name}\" does not exist"),
    )
}

/// The type byte of a frontend message, for error messages.
fn message_type(message: &FrontendMessage) -> u8 {
    match message {
        FrontendMessage::Query { .. } => b'Q',
        FrontendMessage::Parse { .. } => b'P',
        FrontendMessage::Bind { .. } => b'B',
        FrontendMessage::Describe { .. } => b'D',
        FrontendMessage::Execute { .. } => b'E',
        FrontendMessage::Close { .. } => b'C',
        FrontendMessage::Sync => b'S',
        FrontendMessage::Flush => b'H',
        FrontendMessage::Terminate => b'X',
        FrontendMessage::CopyData(_) => b'd',
        FrontendMessage::CopyDone => b'c',
        FrontendMessage::CopyFail { .. } => b'f',
        FrontendMessage::FunctionCall => b'F',
        FrontendMessage::Invalid { tag, .. } => *tag,
        FrontendMessage::Password => b'p',
    }
}
