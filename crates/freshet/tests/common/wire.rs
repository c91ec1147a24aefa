//! A minimal, blocking PostgreSQL wire-protocol (v3) frontend for tests.
//!
//! Why not only `tokio-postgres`: it always asks for binary results on the
//! extended protocol and never sends a malformed message. This client asks
//! for text results (as psycopg and JDBC do by default), so results can be
//! compared as text across servers, and it can send arbitrary bytes.
//!
//! Scope: trust authentication only, no TLS, no COPY, no parameters. See
//! <https://www.postgresql.org/docs/15/protocol-message-formats.html>.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The protocol version 3.0 code sent in a StartupMessage.
pub const PROTOCOL_V3: i32 = 196_608;

/// Upper bound on a backend message the client accepts (1 GiB, as the
/// backend's own limit), so a corrupt length cannot make it allocate forever.
const MESSAGE_LEN_MAX: usize = 1 << 30;

/// An ErrorResponse (or NoticeResponse) with its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// Field `S`: ERROR, FATAL, PANIC...
    pub severity: String,
    /// Field `C`: the SQLSTATE code, if the server sent one.
    pub code: Option<String>,
    /// Field `M`: the primary message.
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "db error: {}: {}", self.severity, self.message)?;
        if let Some(code) = &self.code {
            write!(f, " (SQLSTATE {code})")?;
        }
        Ok(())
    }
}

/// What went wrong in a round trip: the server said no, or the transport or
/// protocol broke.
#[derive(Debug)]
pub enum WireError {
    Server(ServerError),
    Io(std::io::Error),
    Protocol(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Server(e) => write!(f, "{e}"),
            WireError::Io(e) => write!(f, "i/o error: {e}"),
            WireError::Protocol(m) => write!(f, "protocol error: {m}"),
        }
    }
}

impl std::error::Error for WireError {}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        WireError::Io(e)
    }
}

/// One column of a RowDescription.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub type_oid: u32,
}

/// The outcome of one statement.
#[derive(Debug, Clone, Default)]
pub struct StatementResult {
    /// Columns, when the statement returns rows (RowDescription).
    pub columns: Option<Vec<Column>>,
    /// Rows in text format; `None` is SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// The CommandComplete tag, e.g. `INSERT 0 3`; empty for an empty query.
    pub tag: String,
}

impl StatementResult {
    /// The row count at the end of the command tag (`INSERT 0 3` -> 3).
    pub fn tag_count(&self) -> u64 {
        self.tag
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// A backend message: its type byte and body (without the length).
#[derive(Debug, Clone)]
pub struct Message {
    pub tag: u8,
    pub body: Vec<u8>,
}

/// A blocking connection speaking the frontend side of the protocol.
pub struct RawConn {
    stream: TcpStream,
    /// Backend parameters reported at startup (ParameterStatus).
    pub parameters: Vec<(String, String)>,
}

impl RawConn {
    /// Opens a TCP connection without sending anything (for raw tests).
    pub fn connect_tcp(addr: SocketAddr, timeout: Duration) -> std::io::Result<RawConn> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(RawConn {
            stream,
            parameters: Vec::new(),
        })
    }

    /// Connects and completes the startup handshake (trust auth only).
    pub fn connect(
        addr: SocketAddr,
        user: &str,
        database: &str,
        timeout: Duration,
    ) -> Result<RawConn, WireError> {
        let mut conn = RawConn::connect_tcp(addr, timeout)?;
        conn.send_raw(&startup_message(&[("user", user), ("database", database)]))?;
        loop {
            let msg = conn.read_message()?;
            match msg.tag {
                b'R' => {
                    let code = read_i32(&msg.body, 0)?;
                    if code != 0 {
                        return Err(WireError::Protocol(format!(
                            "authentication method {code} requested; only trust is supported"
                        )));
                    }
                }
                b'S' => {
                    let mut pos = 0;
                    let name = read_cstr(&msg.body, &mut pos)?;
                    let value = read_cstr(&msg.body, &mut pos)?;
                    conn.parameters.push((name, value));
                }
                b'K' | b'N' => {}
                b'E' => return Err(WireError::Server(parse_error_fields(&msg.body))),
                b'Z' => return Ok(conn),
                other => {
                    return Err(WireError::Protocol(format!(
                        "unexpected message {:?} during startup",
                        other as char
                    )))
                }
            }
        }
    }

    /// Sends bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Reads one backend message. An EOF is an `Io(UnexpectedEof)` error.
    pub fn read_message(&mut self) -> Result<Message, WireError> {
        let mut header = [0u8; 5];
        self.stream.read_exact(&mut header)?;
        let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        if len < 4 || len as usize > MESSAGE_LEN_MAX {
            return Err(WireError::Protocol(format!(
                "message {:?} has invalid length {len}",
                header[0] as char
            )));
        }
        let mut body = vec![0u8; len as usize - 4];
        self.stream.read_exact(&mut body)?;
        Ok(Message {
            tag: header[0],
            body,
        })
    }

    /// Reads messages until ReadyForQuery, returning all of them (including
    /// the final `Z`). Bounded by the read timeout of the socket.
    pub fn read_until_ready(&mut self) -> Result<Vec<Message>, WireError> {
        let mut messages = Vec::new();
        loop {
            let msg = self.read_message()?;
            let done = msg.tag == b'Z';
            messages.push(msg);
            if done {
                return Ok(messages);
            }
        }
    }

    /// Runs a simple-protocol Query (which may hold several statements) and
    /// returns one result per statement, or the first error.
    pub fn simple_query(&mut self, sql: &str) -> Result<Vec<StatementResult>, WireError> {
        self.send_raw(&query_message(sql.as_bytes()))?;
        let messages = self.read_until_ready()?;
        collect_results(&messages)
    }

    /// Runs one statement over the extended protocol: Parse (unnamed, no
    /// parameter types), Bind (no parameters, all results in text),
    /// Describe portal, Execute (no row limit), Sync.
    pub fn extended_query(&mut self, sql: &str) -> Result<StatementResult, WireError> {
        let mut buf = Vec::new();
        // Parse: statement name, query, number of parameter types.
        let mut body = Vec::new();
        put_cstr(&mut body, "");
        put_cstr_bytes(&mut body, sql.as_bytes());
        body.extend_from_slice(&0i16.to_be_bytes());
        put_message(&mut buf, b'P', &body);
        // Bind: portal, statement, parameter formats, parameters, result formats.
        let mut body = Vec::new();
        put_cstr(&mut body, "");
        put_cstr(&mut body, "");
        body.extend_from_slice(&0i16.to_be_bytes());
        body.extend_from_slice(&0i16.to_be_bytes());
        body.extend_from_slice(&1i16.to_be_bytes());
        body.extend_from_slice(&0i16.to_be_bytes());
        put_message(&mut buf, b'B', &body);
        // Describe the unnamed portal.
        let mut body = vec![b'P'];
        put_cstr(&mut body, "");
        put_message(&mut buf, b'D', &body);
        // Execute the unnamed portal without a row limit.
        let mut body = Vec::new();
        put_cstr(&mut body, "");
        body.extend_from_slice(&0i32.to_be_bytes());
        put_message(&mut buf, b'E', &body);
        put_message(&mut buf, b'S', &[]);
        self.send_raw(&buf)?;
        let messages = self.read_until_ready()?;
        let mut results = collect_results(&messages)?;
        match results.len() {
            1 => Ok(results.remove(0)),
            n => Err(WireError::Protocol(format!(
                "extended query produced {n} results"
            ))),
        }
    }

    /// Sends Terminate and closes the socket.
    pub fn terminate(mut self) {
        let mut buf = Vec::new();
        put_message(&mut buf, b'X', &[]);
        let _ = self.send_raw(&buf);
    }
}

/// Folds a response sequence into per-statement results. The first
/// ErrorResponse wins.
fn collect_results(messages: &[Message]) -> Result<Vec<StatementResult>, WireError> {
    let mut results = Vec::new();
    let mut current = StatementResult::default();
    for msg in messages {
        match msg.tag {
            b'T' => current.columns = Some(parse_row_description(&msg.body)?),
            b'D' => current.rows.push(parse_data_row(&msg.body)?),
            b'C' => {
                let mut pos = 0;
                current.tag = read_cstr(&msg.body, &mut pos)?;
                results.push(std::mem::take(&mut current));
            }
            b'I' => results.push(std::mem::take(&mut current)),
            b'E' => return Err(WireError::Server(parse_error_fields(&msg.body))),
            // ParseComplete, BindComplete, NoData, notices, parameter status,
            // PortalSuspended (cannot happen without a row limit), ReadyForQuery.
            b'1' | b'2' | b'3' | b'n' | b'N' | b'S' | b's' | b'Z' | b'A' => {}
            other => {
                return Err(WireError::Protocol(format!(
                    "unexpected message {:?}",
                    other as char
                )))
            }
        }
    }
    Ok(results)
}

fn parse_row_description(body: &[u8]) -> Result<Vec<Column>, WireError> {
    let count = read_i16(body, 0)?;
    let mut pos = 2;
    let mut columns = Vec::with_capacity(count.max(0) as usize);
    for _ in 0..count {
        let name = read_cstr(body, &mut pos)?;
        // table oid (4), column number (2), type oid (4), size (2), modifier (4), format (2)
        let type_oid = read_i32(body, pos + 6)? as u32;
        pos += 18;
        columns.push(Column { name, type_oid });
    }
    Ok(columns)
}

fn parse_data_row(body: &[u8]) -> Result<Vec<Option<String>>, WireError> {
    let count = read_i16(body, 0)?;
    let mut pos = 2;
    let mut row = Vec::with_capacity(count.max(0) as usize);
    for _ in 0..count {
        let len = read_i32(body, pos)?;
        pos += 4;
        if len < 0 {
            row.push(None);
            continue;
        }
        let end = pos + len as usize;
        let bytes = body
            .get(pos..end)
            .ok_or_else(|| WireError::Protocol("DataRow value past the end".into()))?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| WireError::Protocol("DataRow value is not UTF-8".into()))?;
        row.push(Some(text));
        pos = end;
    }
    Ok(row)
}

/// Parses the fields of an ErrorResponse or NoticeResponse body.
pub fn parse_error_fields(body: &[u8]) -> ServerError {
    let mut error = ServerError {
        severity: String::new(),
        code: None,
        message: String::new(),
    };
    let mut pos = 0;
    while pos < body.len() && body[pos] != 0 {
        let field = body[pos];
        pos += 1;
        let Ok(value) = read_cstr(body, &mut pos) else {
            break;
        };
        match field {
            b'S' => error.severity = value,
            b'C' => error.code = Some(value),
            b'M' => error.message = value,
            _ => {}
        }
    }
    error
}

/// Builds a StartupMessage (protocol 3.0) with the given parameters.
pub fn startup_message(params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&PROTOCOL_V3.to_be_bytes());
    for (k, v) in params {
        put_cstr(&mut body, k);
        put_cstr(&mut body, v);
    }
    body.push(0);
    let mut buf = Vec::with_capacity(body.len() + 4);
    buf.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    buf.extend_from_slice(&body);
    buf
}

/// Builds a Query message from raw bytes (which need not be UTF-8).
pub fn query_message(sql: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(sql.len() + 1);
    put_cstr_bytes(&mut body, sql);
    let mut buf = Vec::new();
    put_message(&mut buf, b'Q', &body);
    buf
}

/// Appends a typed message (type byte, length, body).
pub fn put_message(buf: &mut Vec<u8>, tag: u8, body: &[u8]) {
    buf.push(tag);
    buf.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    buf.extend_from_slice(body);
}

fn put_cstr(buf: &mut Vec<u8>, s: &str) {
    put_cstr_bytes(buf, s.as_bytes());
}

fn put_cstr_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    buf.extend_from_slice(s);
    buf.push(0);
}

fn read_i16(body: &[u8], pos: usize) -> Result<i16, WireError> {
    body.get(pos..pos + 2)
        .map(|b| i16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| WireError::Protocol("message too short".into()))
}

fn read_i32(body: &[u8], pos: usize) -> Result<i32, WireError> {
    body.get(pos..pos + 4)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| WireError::Protocol("message too short".into()))
}

fn read_cstr(body: &[u8], pos: &mut usize) -> Result<String, WireError> {
    let rest = body
        .get(*pos..)
        .ok_or_else(|| WireError::Protocol("string past the end".into()))?;
    let nul = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| WireError::Protocol("unterminated string".into()))?;
    let s = String::from_utf8_lossy(&rest[..nul]).into_owned();
    *pos += nul + 1;
    Ok(s)
}
