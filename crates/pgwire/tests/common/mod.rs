//! Test support: a fake engine behind `ServerApi`/`SessionApi` with canned
//! results, a server on an ephemeral port, and a raw protocol client for
//! the cases real drivers cannot produce (malformed messages, exact
//! message sequences).
//!
//! Values are printed and parsed by `freshet_common::io`, as with the real
//! engine, except that the fake's `format_special` prints the text value
//! `special` as `SPECIAL` (to check that the hook takes precedence).

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use freshet_common::{DataType, Datum, Error, SqlState};
use freshet_session::{
    CancelHandle, Column, ConnectParams, CopyFormat, CopyInRequest, ExecuteResult, Prepared,
    ServerApi, SessionApi, TransactionStatus,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Upper bound on any single wait in these tests.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// What the fake engine observed, for assertions.
#[derive(Default)]
pub struct Journal {
    /// SQL of every executed statement, in order.
    pub executed: Vec<String>,
    /// Payload of every completed COPY FROM STDIN.
    pub copied: Vec<Vec<u8>>,
    /// Messages of every CopyFail.
    pub copy_failures: Vec<String>,
    /// ConnectParams of every session.
    pub connects: Vec<ConnectParams>,
}

/// The fake engine. Statements are recognized by their first word:
///
/// - `select`: columns `id int4, name text`, rows (1, 'one'), (2, 'two'), (3, NULL);
/// - `special`: one text column, one row with the value `special`;
/// - `series N`: one int4 column `n`, rows 1..=N;
/// - `nulls N`: one int4 column `n`, N NULL rows;
/// - `echo`: one row echoing the parameters; parameter types are the
///   client's OIDs, else int4 if the SQL mentions `int4`, else text;
/// - `fail`: anywhere in the SQL, a 42601 error at prepare time;
/// - `boom`: a 22012 error at execution;
/// - `panic`: panics at execution;
/// - `sleep`: runs until cancelled (57014) or 10 s pass;
/// - `copy ... from stdin` / `copy ... to stdout`: COPY in/out, text format, 2 columns;
/// - `begin`/`start`/`commit`/`rollback`: transaction status;
/// - `set`: changes the reported `application_name` to `changed`;
/// - `big`: tag `INSERT 0 <length of the SQL>`;
/// - anything else: tag `OK`.
pub struct FakeServer {
    password: Option<String>,
    next_process_id: AtomicI32,
    cancel_flags: Mutex<HashMap<i32, (i32, CancelFlag)>>,
    disconnects: mpsc::UnboundedSender<i32>,
    pub journal: Arc<Mutex<Journal>>,
}

/// Set by a CancelRequest; the running (or next) `sleep` statement waits on
/// it and clears it.
type CancelFlag = Arc<(Mutex<bool>, Condvar)>;

pub struct FakeSession {
    process_id: i32,
    secret_key: i32,
    cancel: CancelFlag,
    status: TransactionStatus,
    application_name: String,
    journal: Arc<Mutex<Journal>>,
}

/// The engine's form of a fake statement.
#[derive(Debug)]
enum Plan {
    Select,
    Special,
    Series(i32),
    Nulls(i32),
    Echo,
    Boom,
    Panic,
    Sleep,
    CopyIn,
    CopyOut,
    Begin,
    Commit,
    Set,
    Big,
    Other,
}

impl ServerApi for FakeServer {
    fn connect(&self, params: &ConnectParams) -> Result<Box<dyn SessionApi>, Error> {
        self.journal.lock().unwrap().connects.push(params.clone());
        if params.database != "dev" {
            return Err(Error::new(
                SqlState::InvalidCatalogName,
                format!("database \"{}\" does not exist", params.database),
            ));
        }
        let process_id = self.next_process_id.fetch_add(1, Ordering::SeqCst);
        let secret_key = process_id.wrapping_mul(7919) ^ 0x5a5a;
        let cancel: CancelFlag = Arc::new((Mutex::new(false), Condvar::new()));
        self.cancel_flags
            .lock()
            .unwrap()
            .insert(process_id, (secret_key, cancel.clone()));
        Ok(Box::new(FakeSession {
            process_id,
            secret_key,
            cancel,
            status: TransactionStatus::Idle,
            application_name: params
                .options
                .iter()
                .find(|(k, _)| k == "application_name")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            journal: self.journal.clone(),
        }))
    }

    fn password_for(&self, _user: &str) -> Option<String> {
        self.password.clone()
    }

    fn cancel(&self, process_id: i32, secret_key: i32) {
        if let Some((secret, flag)) = self.cancel_flags.lock().unwrap().get(&process_id) {
            if *secret == secret_key {
                let (cancelled, wakeup) = &**flag;
                *cancelled.lock().unwrap() = true;
                wakeup.notify_all();
            }
        }
    }

    fn disconnect(&self, process_id: i32) {
        self.cancel_flags.lock().unwrap().remove(&process_id);
        let _ = self.disconnects.send(process_id);
    }
}

fn two_columns() -> Vec<Column> {
    vec![
        Column {
            name: "id".into(),
            ty: DataType::Int4,
            table_oid: 16384,
            column_id: 1,
        },
        Column {
            name: "name".into(),
            ty: DataType::Text,
            table_oid: 16384,
            column_id: 2,
        },
    ]
}

fn int_column() -> Vec<Column> {
    vec![Column {
        name: "n".into(),
        ty: DataType::Int4,
        table_oid: 0,
        column_id: 0,
    }]
}

fn text_column() -> Vec<Column> {
    vec![Column {
        name: "t".into(),
        ty: DataType::Text,
        table_oid: 0,
        column_id: 0,
    }]
}

fn count_arg(sql: &str) -> i32 {
    sql.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl SessionApi for FakeSession {
    fn parameter_status(&self) -> Vec<(String, String)> {
        vec![
            ("server_version".into(), "13.0.0".into()),
            ("server_encoding".into(), "UTF8".into()),
            ("client_encoding".into(), "UTF8".into()),
            ("DateStyle".into(), "ISO, MDY".into()),
            ("TimeZone".into(), "UTC".into()),
            ("integer_datetimes".into(), "on".into()),
            ("standard_conforming_strings".into(), "on".into()),
            ("application_name".into(), self.application_name.clone()),
        ]
    }

    fn backend_key(&self) -> (i32, i32) {
        (self.process_id, self.secret_key)
    }

    fn prepare_simple(&mut self, sql: &str) -> Result<Vec<Prepared>, Error> {
        sql.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| self.prepare(s, &[]))
            .collect()
    }

    fn prepare(&mut self, sql: &str, param_types: &[u32]) -> Result<Prepared, Error> {
        let lower = sql.trim().to_lowercase();
        if let Some(at) = lower.find("fail") {
            let mut error = Error::syntax("syntax error at or near \"fail\"");
            error.position = Some(at as u32 + 1);
            error.hint = Some("Do not write fail.".into());
            return Err(error);
        }
        let word = lower.split_whitespace().next().unwrap_or("");
        let plan = match word {
            "select" => Plan::Select,
            "special" => Plan::Special,
            "series" => Plan::Series(count_arg(&lower)),
            "nulls" => Plan::Nulls(count_arg(&lower)),
            "echo" => Plan::Echo,
            "boom" => Plan::Boom,
            "panic" => Plan::Panic,
            "sleep" => Plan::Sleep,
            "copy" if lower.contains("from stdin") => Plan::CopyIn,
            "copy" => Plan::CopyOut,
            "begin" | "start" => Plan::Begin,
            "commit" | "rollback" => Plan::Commit,
            "set" => Plan::Set,
            "big" => Plan::Big,
            _ => Plan::Other,
        };
        let dollars = (1..=16)
            .take_while(|i| lower.contains(&format!("${i}")))
            .count();
        let params: Vec<DataType> = (0..param_types.len().max(dollars))
            .map(
                |i| match param_types.get(i).copied().and_then(DataType::from_oid) {
                    Some(ty) if ty != DataType::Unknown => ty,
                    _ if lower.contains("int4") => DataType::Int4,
                    _ => DataType::Text,
                },
            )
            .collect();
        let columns = match plan {
            Plan::Select => Some(two_columns()),
            Plan::Series(_) | Plan::Nulls(_) => Some(int_column()),
            Plan::Special => Some(text_column()),
            Plan::Echo => Some(
                params
                    .iter()
                    .enumerate()
                    .map(|(i, ty)| Column {
                        name: format!("p{}", i + 1),
                        ty: ty.clone(),
                        table_oid: 0,
                        column_id: 0,
                    })
                    .collect(),
            ),
            _ => None,
        };
        Ok(Prepared {
            sql: sql.to_owned(),
            param_types: params,
            columns,
            plan: Arc::new(plan),
        })
    }

    fn execute(&mut self, stmt: &Prepared, params: &[Datum]) -> Result<ExecuteResult, Error> {
        self.journal.lock().unwrap().executed.push(stmt.sql.clone());
        let plan = stmt
            .plan
            .downcast_ref::<Plan>()
            .expect("the fake prepared this statement");
        let command = |tag: &str| {
            Ok(ExecuteResult::Command {
                tag: tag.to_owned(),
            })
        };
        match plan {
            Plan::Select => Ok(ExecuteResult::Rows {
                columns: two_columns(),
                rows: vec![
                    vec![Datum::Int4(1), Datum::Text("one".into())],
                    vec![Datum::Int4(2), Datum::Text("two".into())],
                    vec![Datum::Int4(3), Datum::Null],
                ],
                tag: "SELECT 3".into(),
            }),
            Plan::Special => Ok(ExecuteResult::Rows {
                columns: text_column(),
                rows: vec![vec![Datum::Text("special".into())]],
                tag: "SELECT 1".into(),
            }),
            Plan::Series(n) => Ok(ExecuteResult::Rows {
                columns: int_column(),
                rows: (1..=*n).map(|i| vec![Datum::Int4(i)]).collect(),
                tag: format!("SELECT {n}"),
            }),
            Plan::Nulls(n) => Ok(ExecuteResult::Rows {
                columns: int_column(),
                rows: (0..*n).map(|_| vec![Datum::Null]).collect(),
                tag: format!("SELECT {n}"),
            }),
            Plan::Echo => Ok(ExecuteResult::Rows {
                columns: stmt.columns.clone().expect("echo has columns"),
                rows: vec![params.to_vec()],
                tag: "SELECT 1".into(),
            }),
            Plan::Boom => Err(Error::division_by_zero()),
            Plan::Panic => panic!("fake engine panic"),
            Plan::Sleep => {
                let (cancelled, wakeup) = &*self.cancel;
                let guard = cancelled.lock().unwrap();
                let (mut guard, _) = wakeup
                    .wait_timeout_while(guard, Duration::from_secs(10), |c| !*c)
                    .unwrap();
                if std::mem::take(&mut *guard) {
                    return Err(Error::new(
                        SqlState::QueryCanceled,
                        "canceling statement due to user request",
                    ));
                }
                command("SLEPT")
            }
            Plan::CopyIn => Ok(ExecuteResult::CopyIn(CopyInRequest {
                format: CopyFormat::Text,
                columns: 2,
                spec: Arc::new(()),
            })),
            Plan::CopyOut => Ok(ExecuteResult::CopyOut {
                format: CopyFormat::Text,
                columns: 2,
                data: b"1\tone\n2\ttwo\n".to_vec(),
                tag: "COPY 2".into(),
            }),
            Plan::Begin => {
                self.status = TransactionStatus::InBlock;
                command("BEGIN")
            }
            Plan::Commit => {
                self.status = TransactionStatus::Idle;
                command("COMMIT")
            }
            Plan::Set => {
                self.application_name = "changed".into();
                command("SET")
            }
            Plan::Big => command(&format!("INSERT 0 {}", stmt.sql.len())),
            Plan::Other => command("OK"),
        }
    }

    fn copy_in(&mut self, _request: &CopyInRequest, data: &[u8]) -> Result<String, Error> {
        if data.starts_with(b"bad") {
            return Err(Error::invalid_text("integer", "bad"));
        }
        self.journal.lock().unwrap().copied.push(data.to_vec());
        Ok(format!(
            "COPY {}",
            data.iter().filter(|&&b| b == b'\n').count()
        ))
    }

    fn copy_fail(&mut self, message: &str) -> Error {
        self.journal
            .lock()
            .unwrap()
            .copy_failures
            .push(message.to_owned());
        Error::new(
            SqlState::QueryCanceled,
            format!("COPY from stdin failed: {message}"),
        )
    }

    fn transaction_status(&self) -> TransactionStatus {
        self.status
    }

    fn sync(&mut self, _aborted: bool) -> Result<(), Error> {
        Ok(())
    }

    fn text_context(&self) -> freshet_common::io::TextContext {
        freshet_common::io::TextContext::default()
    }

    fn format_special(&self, datum: &Datum, _ty: &DataType) -> Option<String> {
        match datum {
            Datum::Text(s) if s == "special" => Some("SPECIAL".into()),
            _ => None,
        }
    }

    fn cancel_handle(&self) -> CancelHandle {
        unreachable!("the wire layer cancels through ServerApi::cancel")
    }
}

/// A fake server listening on an ephemeral loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub journal: Arc<Mutex<Journal>>,
    disconnects: mpsc::UnboundedReceiver<i32>,
}

impl TestServer {
    /// Starts a server; `password` enables SCRAM-SHA-256.
    pub async fn start(password: Option<&str>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let (tx, rx) = mpsc::unbounded_channel();
        let journal = Arc::new(Mutex::new(Journal::default()));
        let server = Arc::new(FakeServer {
            password: password.map(str::to_owned),
            next_process_id: AtomicI32::new(1000),
            cancel_flags: Mutex::new(HashMap::new()),
            disconnects: tx,
            journal: journal.clone(),
        });
        tokio::spawn(async move {
            freshet_pgwire::serve(listener, server)
                .await
                .expect("serve runs until the test ends");
        });
        TestServer {
            addr,
            journal,
            disconnects: rx,
        }
    }

    pub fn config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.addr.port())
            .user("root")
            .dbname("dev");
        config
    }

    /// Connects with tokio-postgres and drives the connection in a task.
    pub async fn connect(&self) -> tokio_postgres::Client {
        connect_with(self.config())
            .await
            .expect("connect to the fake server")
    }

    /// Waits until the server reports a session's disconnect; returns its
    /// process id.
    pub async fn next_disconnect(&mut self) -> i32 {
        tokio::time::timeout(DEADLINE, self.disconnects.recv())
            .await
            .expect("a disconnect within the deadline")
            .expect("the server is alive")
    }
}

pub async fn connect_with(
    config: tokio_postgres::Config,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// SQLSTATE of a tokio-postgres error that came from the server.
pub fn sqlstate(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .unwrap_or_else(|| panic!("expected a server error, got {error}"))
        .code()
        .code()
        .to_owned()
}

// ---- raw protocol client ------------------------------------------------

/// A backend message: type byte and body.
#[derive(Debug, Clone)]
pub struct Msg {
    pub tag: u8,
    pub body: Vec<u8>,
}

impl Msg {
    /// Fields of an ErrorResponse/NoticeResponse by code.
    pub fn fields(&self) -> HashMap<u8, String> {
        assert!(
            self.tag == b'E' || self.tag == b'N',
            "not an error/notice: {self:?}"
        );
        let mut fields = HashMap::new();
        let mut rest = &self.body[..];
        while let Some((&code, tail)) = rest.split_first() {
            if code == 0 {
                break;
            }
            let end = tail
                .iter()
                .position(|&b| b == 0)
                .expect("field is NUL-terminated");
            fields.insert(
                code,
                String::from_utf8(tail[..end].to_vec()).expect("UTF-8 field"),
            );
            rest = &tail[end + 1..];
        }
        fields
    }

    pub fn sqlstate(&self) -> String {
        self.fields().get(&b'C').cloned().expect("error has a code")
    }

    /// Values of a DataRow, NULL as `None`.
    pub fn data_row(&self) -> Vec<Option<Vec<u8>>> {
        assert_eq!(self.tag, b'D', "not a DataRow: {self:?}");
        let count = i16::from_be_bytes([self.body[0], self.body[1]]) as usize;
        let mut at = 2;
        let mut values = Vec::new();
        for _ in 0..count {
            let len = i32::from_be_bytes(self.body[at..at + 4].try_into().unwrap());
            at += 4;
            if len < 0 {
                values.push(None);
            } else {
                values.push(Some(self.body[at..at + len as usize].to_vec()));
                at += len as usize;
            }
        }
        values
    }

    /// The tag of a CommandComplete.
    pub fn command_tag(&self) -> String {
        assert_eq!(self.tag, b'C', "not a CommandComplete: {self:?}");
        String::from_utf8(self.body[..self.body.len() - 1].to_vec()).unwrap()
    }
}

pub struct RawConn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

pub fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

impl RawConn {
    pub async fn open(addr: SocketAddr) -> RawConn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Opens a connection and completes a trust startup as root/dev;
    /// returns the messages up to and including the first ReadyForQuery.
    pub async fn startup(addr: SocketAddr) -> (RawConn, Vec<Msg>) {
        let mut conn = RawConn::open(addr).await;
        conn.send_startup(196_608, &[("user", "root"), ("database", "dev")])
            .await;
        let greeting = conn.until_ready().await;
        (conn, greeting)
    }

    pub async fn send_startup(&mut self, version: i32, params: &[(&str, &str)]) {
        let mut body = version.to_be_bytes().to_vec();
        for (k, v) in params {
            body.extend(cstr(k));
            body.extend(cstr(v));
        }
        body.push(0);
        let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
        packet.extend(body);
        self.write(&packet).await;
    }

    pub async fn write(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("write to the server");
    }

    pub async fn send(&mut self, tag: u8, body: &[u8]) {
        let mut message = vec![tag];
        message.extend(((body.len() + 4) as i32).to_be_bytes());
        message.extend(body);
        self.write(&message).await;
    }

    pub async fn query(&mut self, sql: &str) {
        self.send(b'Q', &cstr(sql)).await;
    }

    pub async fn parse(&mut self, name: &str, sql: &str, oids: &[u32]) {
        let mut body = cstr(name);
        body.extend(cstr(sql));
        body.extend((oids.len() as i16).to_be_bytes());
        for oid in oids {
            body.extend(oid.to_be_bytes());
        }
        self.send(b'P', &body).await;
    }

    pub async fn bind(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[i16],
        params: &[Option<&[u8]>],
        result_formats: &[i16],
    ) {
        let mut body = cstr(portal);
        body.extend(cstr(statement));
        body.extend((param_formats.len() as i16).to_be_bytes());
        for f in param_formats {
            body.extend(f.to_be_bytes());
        }
        body.extend((params.len() as i16).to_be_bytes());
        for p in params {
            match p {
                None => body.extend((-1i32).to_be_bytes()),
                Some(bytes) => {
                    body.extend((bytes.len() as i32).to_be_bytes());
                    body.extend(*bytes);
                }
            }
        }
        body.extend((result_formats.len() as i16).to_be_bytes());
        for f in result_formats {
            body.extend(f.to_be_bytes());
        }
        self.send(b'B', &body).await;
    }

    pub async fn describe(&mut self, kind: u8, name: &str) {
        let mut body = vec![kind];
        body.extend(cstr(name));
        self.send(b'D', &body).await;
    }

    pub async fn execute(&mut self, portal: &str, max_rows: i32) {
        let mut body = cstr(portal);
        body.extend(max_rows.to_be_bytes());
        self.send(b'E', &body).await;
    }

    pub async fn close(&mut self, kind: u8, name: &str) {
        let mut body = vec![kind];
        body.extend(cstr(name));
        self.send(b'C', &body).await;
    }

    pub async fn sync(&mut self) {
        self.send(b'S', &[]).await;
    }

    /// Reads one backend message; `None` at end of stream.
    pub async fn recv(&mut self) -> Option<Msg> {
        tokio::time::timeout(DEADLINE, self.recv_inner())
            .await
            .expect("a message within the deadline")
    }

    async fn recv_inner(&mut self) -> Option<Msg> {
        loop {
            if self.buf.len() >= 5 {
                let len = i32::from_be_bytes(self.buf[1..5].try_into().unwrap()) as usize;
                if self.buf.len() > len {
                    let tag = self.buf[0];
                    let body = self.buf[5..1 + len].to_vec();
                    self.buf.drain(..1 + len);
                    return Some(Msg { tag, body });
                }
            }
            self.buf.reserve(64 * 1024);
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Reads one raw byte (the answer to SSLRequest/GSSENCRequest).
    pub async fn recv_byte(&mut self) -> u8 {
        if !self.buf.is_empty() {
            return self.buf.remove(0);
        }
        let mut byte = [0u8; 1];
        tokio::time::timeout(DEADLINE, self.stream.read_exact(&mut byte))
            .await
            .expect("a byte within the deadline")
            .expect("read a byte");
        byte[0]
    }

    /// Reads messages up to and including ReadyForQuery.
    pub async fn until_ready(&mut self) -> Vec<Msg> {
        let mut messages = Vec::new();
        loop {
            let message = self
                .recv()
                .await
                .unwrap_or_else(|| panic!("connection closed; got {messages:?}"));
            let done = message.tag == b'Z';
            messages.push(message);
            if done {
                return messages;
            }
        }
    }

    /// Reads until the server closes the connection.
    pub async fn until_closed(&mut self) -> Vec<Msg> {
        let mut messages = Vec::new();
        while let Some(message) = self.recv().await {
            messages.push(message);
        }
        messages
    }
}

/// The type bytes of `messages`, as a string, for compact assertions.
pub fn tags(messages: &[Msg]) -> String {
    messages.iter().map(|m| m.tag as char).collect()
}
