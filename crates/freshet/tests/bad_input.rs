//! Raw TCP robustness tests: malformed and hostile input must never take the
//! server down or wedge it.
//!
//! Each test sends one kind of bad input on a raw socket, reads whatever the
//! server answers until it closes the connection or goes quiet (bounded),
//! checks that every ErrorResponse carries a SQLSTATE (field `C`), and then
//! checks the server is healthy: a new normal connection runs `SELECT 1`.
//!
//! By default each test starts its own Freshet server. With
//! `FRESHET_BAD_INPUT_URL` set they run against that server instead, which is
//! how the tests themselves are validated against PostgreSQL:
//! `FRESHET_BAD_INPUT_URL=$FRESHET_TEST_PG_URL cargo test -p freshet --test bad_input`.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::rng::SplitMix64;
use common::wire::{self, Message, RawConn, ServerError, WireError};

/// Bound on waiting for the server's reaction to bad input. Silence until
/// then is acceptable (a server may wait for the rest of a message).
const REACTION_DEADLINE: Duration = Duration::from_secs(5);

/// The server under test: our own, or an external one.
struct Target {
    server: Option<common::TestServer>,
    url: String,
}

impl Target {
    fn start() -> Target {
        match std::env::var("FRESHET_BAD_INPUT_URL") {
            Ok(url) if !url.trim().is_empty() => Target { server: None, url },
            _ => {
                let server = common::TestServer::start();
                let url = server.url();
                Target {
                    server: Some(server),
                    url,
                }
            }
        }
    }

    fn addr(&self) -> SocketAddr {
        common::parse_url(&self.url).0
    }

    fn user_and_database(&self) -> (String, String) {
        let (_, user, database) = common::parse_url(&self.url);
        (user, database)
    }

    /// A raw socket with nothing sent yet.
    fn raw(&self) -> RawConn {
        RawConn::connect_tcp(self.addr(), REACTION_DEADLINE).expect("open a TCP connection")
    }

    /// A raw connection past the startup handshake.
    fn session(&self) -> RawConn {
        let (user, database) = self.user_and_database();
        RawConn::connect(self.addr(), &user, &database, REACTION_DEADLINE)
            .unwrap_or_else(|e| panic!("normal startup failed: {e}{}", self.stderr_note()))
    }

    fn stderr_note(&self) -> String {
        match &self.server {
            Some(server) => format!("\n--- server stderr ---\n{}", server.stderr()),
            None => String::new(),
        }
    }

    /// A new, normal connection (tokio-postgres) runs `SELECT 1`.
    fn assert_healthy(&self) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build a tokio runtime");
        let url = self.url.clone();
        let outcome = runtime.block_on(async move {
            let client = common::try_connect(&url).await?;
            match tokio::time::timeout(REACTION_DEADLINE, client.simple_query("SELECT 1")).await {
                Ok(Ok(rows)) => Ok(rows),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("SELECT 1 timed out after {REACTION_DEADLINE:?}")),
            }
        });
        let rows = match outcome {
            Ok(rows) => rows,
            Err(e) => panic!(
                "server unhealthy after bad input: {e}{}",
                self.stderr_note()
            ),
        };
        let value = rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        });
        assert_eq!(value.as_deref(), Some("1"), "SELECT 1 returned {value:?}");
        // Also over the raw client, to check the server still speaks the
        // protocol byte for byte.
        let mut conn = self.session();
        let results = conn.simple_query("SELECT 1").expect("raw SELECT 1");
        assert_eq!(results[0].rows, vec![vec![Some("1".to_string())]]);
        conn.terminate();
    }
}

/// What the server did with the bad input.
#[derive(Debug, Default)]
struct Reaction {
    messages: Vec<Message>,
    /// The server closed the connection.
    closed: bool,
}

impl Reaction {
    fn errors(&self) -> Vec<ServerError> {
        self.messages
            .iter()
            .filter(|m| m.tag == b'E')
            .map(|m| wire::parse_error_fields(&m.body))
            .collect()
    }

    /// Every ErrorResponse must carry a well-formed SQLSTATE.
    fn assert_errors_have_sqlstate(&self) {
        for error in self.errors() {
            let code = error
                .code
                .as_deref()
                .unwrap_or_else(|| panic!("ErrorResponse without SQLSTATE: {error:?}"));
            assert!(
                code.len() == 5
                    && code
                        .chars()
                        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
                "malformed SQLSTATE {code:?} in {error:?}"
            );
        }
    }
}

/// Reads messages until the server closes the connection, sends
/// ReadyForQuery (when `until_ready`), or the deadline passes. The deadline
/// is not a failure: a server may legitimately wait for more bytes.
fn read_reaction(conn: &mut RawConn, until_ready: bool) -> Reaction {
    let mut reaction = Reaction::default();
    let started = Instant::now();
    while started.elapsed() < REACTION_DEADLINE {
        match conn.read_message() {
            Ok(message) => {
                let ready = message.tag == b'Z';
                reaction.messages.push(message);
                if ready && until_ready {
                    break;
                }
            }
            Err(WireError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            Err(_) => {
                reaction.closed = true;
                break;
            }
        }
    }
    reaction
}

/// Reads raw bytes until EOF or the deadline (for replies that are not
/// framed messages, such as the single byte answering SSLRequest).
fn read_exact_bytes(conn: &mut std::net::TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    conn.set_read_timeout(Some(REACTION_DEADLINE))
        .expect("set a read timeout");
    conn.read_exact(&mut buf).expect("read the reply");
    buf
}

#[test]
fn malformed_startup_packets() {
    let target = Target::start();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("length shorter than the header", vec![0, 0, 0, 4]),
        ("length of 8 with a bogus protocol 1.0", {
            let mut b = 8i32.to_be_bytes().to_vec();
            b.extend_from_slice(&0x0001_0000i32.to_be_bytes());
            b
        }),
        ("protocol 9.9", {
            let mut b = wire::startup_message(&[("user", "root")]);
            b[4..8].copy_from_slice(&0x0009_0009i32.to_be_bytes());
            b
        }),
        (
            "no user parameter",
            wire::startup_message(&[("database", "dev")]),
        ),
        ("parameters without the final NUL", {
            let mut body = wire::PROTOCOL_V3.to_be_bytes().to_vec();
            body.extend_from_slice(b"user\0root");
            let mut b = ((body.len() + 4) as i32).to_be_bytes().to_vec();
            b.extend_from_slice(&body);
            b
        }),
        ("negative length", (-1i32).to_be_bytes().to_vec()),
        ("huge length, then silence", i32::MAX.to_be_bytes().to_vec()),
        ("length past the bytes sent, then close", {
            let mut b = 100i32.to_be_bytes().to_vec();
            b.extend_from_slice(&wire::PROTOCOL_V3.to_be_bytes());
            b
        }),
    ];
    for (name, bytes) in cases {
        println!("startup case: {name}");
        let mut conn = target.raw();
        conn.send_raw(&bytes).expect("send");
        let reaction = if name.ends_with("then close") {
            drop(conn);
            Reaction::default()
        } else {
            read_reaction(&mut conn, true)
        };
        reaction.assert_errors_have_sqlstate();
        assert!(
            !reaction.messages.iter().any(|m| m.tag == b'Z'),
            "{name}: the server accepted a malformed startup packet"
        );
        target.assert_healthy();
    }
}

#[test]
fn ssl_and_gss_requests_are_declined_then_startup_works() {
    let target = Target::start();
    // SSLRequest (80877103) and GSSENCRequest (80877104): libpq sends these
    // first by default. Without TLS the server answers a single 'N' and the
    // client continues with a normal StartupMessage on the same socket.
    for code in [80_877_103i32, 80_877_104] {
        let mut stream = std::net::TcpStream::connect(target.addr()).expect("connect");
        let mut request = 8i32.to_be_bytes().to_vec();
        request.extend_from_slice(&code.to_be_bytes());
        std::io::Write::write_all(&mut stream, &request).expect("send the request");
        let reply = read_exact_bytes(&mut stream, 1);
        match reply[0] {
            b'N' => {}
            // A server with TLS or GSSAPI support (PostgreSQL built with
            // GSSAPI answers 'G') would now expect that handshake; Freshet
            // supports neither and must answer 'N'.
            b'S' | b'G' if target.server.is_none() => continue,
            other => panic!("request {code}: expected 'N', got {:?}", other as char),
        }
        let (user, database) = target.user_and_database();
        std::io::Write::write_all(
            &mut stream,
            &wire::startup_message(&[("user", &user), ("database", &database)]),
        )
        .expect("send the startup message");
        let mut buf = [0u8; 1];
        stream.read_exact(&mut buf).expect("read the first reply");
        assert_eq!(
            buf[0], b'R',
            "request {code}: expected an Authentication message after the startup"
        );
    }
    target.assert_healthy();
}

#[test]
fn cancel_request_for_unknown_backend_is_ignored() {
    let target = Target::start();
    let mut conn = target.raw();
    let mut request = 16i32.to_be_bytes().to_vec();
    request.extend_from_slice(&80_877_102i32.to_be_bytes());
    request.extend_from_slice(&12345i32.to_be_bytes());
    request.extend_from_slice(&67890i32.to_be_bytes());
    conn.send_raw(&request).expect("send a CancelRequest");
    let reaction = read_reaction(&mut conn, false);
    assert!(
        reaction.messages.is_empty(),
        "a CancelRequest gets no reply: {reaction:?}"
    );
    target.assert_healthy();
}

#[test]
fn message_with_bogus_length() {
    let target = Target::start();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("Query with length 2 (below the minimum 4)", {
            let mut b = vec![b'Q'];
            b.extend_from_slice(&2i32.to_be_bytes());
            b
        }),
        ("Query with a negative length", {
            let mut b = vec![b'Q'];
            b.extend_from_slice(&(-5i32).to_be_bytes());
            b
        }),
        ("Query claiming 2 GiB", {
            let mut b = vec![b'Q'];
            b.extend_from_slice(&i32::MAX.to_be_bytes());
            b.extend_from_slice(b"SELECT 1\0");
            b
        }),
        ("unknown message type", {
            let mut b = Vec::new();
            wire::put_message(&mut b, b'!', b"junk");
            b
        }),
        ("Query without its NUL terminator", {
            let mut b = Vec::new();
            wire::put_message(&mut b, b'Q', b"SELECT 1");
            b
        }),
        ("Parse with a truncated body", {
            let mut b = Vec::new();
            wire::put_message(&mut b, b'P', b"\0SELECT 1\0\x00");
            wire::put_message(&mut b, b'S', b"");
            b
        }),
    ];
    for (name, bytes) in cases {
        println!("message case: {name}");
        let mut conn = target.session();
        conn.send_raw(&bytes).expect("send");
        let reaction = read_reaction(&mut conn, true);
        reaction.assert_errors_have_sqlstate();
        // Either the server reported an error or it dropped the connection;
        // it must not act as if a valid query arrived.
        assert!(
            !reaction
                .messages
                .iter()
                .any(|m| m.tag == b'D' || m.tag == b'C'),
            "{name}: the server executed something: {reaction:?}"
        );
        target.assert_healthy();
    }
}

#[test]
fn query_with_invalid_utf8() {
    let target = Target::start();
    let mut conn = target.session();
    conn.send_raw(&wire::query_message(b"SELECT '\xff\xfe\xfd'"))
        .expect("send");
    let reaction = read_reaction(&mut conn, true);
    reaction.assert_errors_have_sqlstate();
    let errors = reaction.errors();
    assert!(
        !errors.is_empty(),
        "invalid UTF-8 must be rejected with an error: {reaction:?}"
    );
    assert_eq!(
        errors[0].code.as_deref(),
        Some("22021"),
        "character_not_in_repertoire: {errors:?}"
    );
    // The error is not fatal: the same session goes on.
    assert!(
        reaction.messages.last().is_some_and(|m| m.tag == b'Z'),
        "the session should be ready for the next query: {reaction:?}"
    );
    let results = conn
        .simple_query("SELECT 2")
        .expect("the same session still works");
    assert_eq!(results[0].rows, vec![vec![Some("2".to_string())]]);

    // Invalid UTF-8 in a startup parameter value.
    let mut raw = target.raw();
    let mut startup = wire::startup_message(&[("user", "root"), ("application_name", "ab")]);
    let position = startup.len() - 3;
    startup[position] = 0xff;
    raw.send_raw(&startup).expect("send");
    read_reaction(&mut raw, true).assert_errors_have_sqlstate();
    target.assert_healthy();
}

#[test]
fn five_megabyte_statement() {
    let target = Target::start();
    let mut conn = target.session();
    let payload_len = 5 * 1024 * 1024;
    let sql = format!("SELECT length('{}')", "x".repeat(payload_len));
    match conn.simple_query(&sql) {
        Ok(results) => {
            assert_eq!(results[0].rows, vec![vec![Some(payload_len.to_string())]]);
        }
        Err(WireError::Server(error)) => {
            // A server may refuse statements this large, but must say so
            // properly.
            assert!(error.code.is_some(), "error without SQLSTATE: {error:?}");
        }
        Err(other) => panic!(
            "5 MB statement broke the connection: {other}{}",
            target.stderr_note()
        ),
    }
    // A large, flat IN list parses too (or fails with a SQLSTATE).
    let list: Vec<String> = (0..200_000).map(|i| i.to_string()).collect();
    let sql = format!("SELECT 199999 IN ({})", list.join(","));
    match conn.simple_query(&sql) {
        Ok(results) => assert_eq!(results[0].rows, vec![vec![Some("t".to_string())]]),
        Err(WireError::Server(error)) => {
            assert!(error.code.is_some(), "error without SQLSTATE: {error:?}")
        }
        Err(other) => panic!(
            "large IN list broke the connection: {other}{}",
            target.stderr_note()
        ),
    }
    target.assert_healthy();
}

#[test]
fn deeply_nested_expressions() {
    // Long operator chains parse into trees as deep as they are long; a
    // server must refuse them (PostgreSQL: 54001, stack depth limit
    // exceeded) rather than overflow its stack. Shorter ones must work.
    let target = Target::start();
    let mut conn = target.session();
    let sql = format!("SELECT {}", vec!["1"; 200_000].join("+"));
    match conn.simple_query(&sql) {
        Err(WireError::Server(error)) => {
            assert_eq!(error.code.as_deref(), Some("54001"), "stack depth: {error:?}")
        }
        other => panic!(
            "a 200000-term sum should fail with 54001, got {other:?}{}",
            target.stderr_note()
        ),
    }
    // PostgreSQL flattens AND/OR and runs this; Freshet may refuse it the
    // same way, but must not fall over.
    let sql = format!("SELECT 1 = {}", vec!["1"; 100_000].join(" OR 1 = "));
    match conn.simple_query(&sql) {
        Ok(results) => assert_eq!(results[0].rows, vec![vec![Some("t".to_string())]]),
        Err(WireError::Server(error)) => {
            assert_eq!(error.code.as_deref(), Some("54001"), "stack depth: {error:?}")
        }
        Err(other) => panic!("a long OR chain broke the connection: {other}{}", target.stderr_note()),
    }
    let sql = format!("SELECT {}", vec!["1"; 2_000].join("+"));
    match conn.simple_query(&sql) {
        Ok(results) => assert_eq!(results[0].rows, vec![vec![Some("2000".to_string())]]),
        other => panic!("a 2000-term sum should work, got {other:?}{}", target.stderr_note()),
    }
    target.assert_healthy();
}

#[test]
fn unknown_type_in_create_table() {
    let target = Target::start();
    let mut conn = target.session();
    let table = format!("bad_input_{}", std::process::id());
    match conn.simple_query(&format!("CREATE TABLE {table} (a int, b nosuchtype)")) {
        Err(WireError::Server(error)) => {
            assert_eq!(
                error.code.as_deref(),
                Some("42704"),
                "undefined_object: {error:?}"
            );
            assert!(
                error.message.contains("nosuchtype"),
                "the message names the type: {error:?}"
            );
        }
        other => panic!("CREATE TABLE with an unknown type should fail, got {other:?}"),
    }
    // Nothing was created.
    match conn.simple_query(&format!("SELECT * FROM {table}")) {
        Err(WireError::Server(error)) => assert_eq!(error.code.as_deref(), Some("42P01")),
        other => panic!("the table must not exist, got {other:?}"),
    }
    target.assert_healthy();
}

#[test]
fn garbage_bytes() {
    let target = Target::start();
    let mut rng = SplitMix64::new(0x6A7B_A6E0);
    let mut cases: Vec<(String, Vec<u8>, bool)> = vec![
        (
            "HTTP request".into(),
            b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
            false,
        ),
        (
            "TLS ClientHello prefix".into(),
            vec![
                0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
            ],
            false,
        ),
        ("all zeros".into(), vec![0u8; 4096], false),
        ("all 0xff".into(), vec![0xffu8; 4096], false),
    ];
    for round in 0..4 {
        let len = rng.range_i64(1, 8192) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        cases.push((
            format!("{len} random bytes before startup (round {round})"),
            bytes,
            false,
        ));
        let len = rng.range_i64(1, 8192) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        cases.push((
            format!("{len} random bytes after startup (round {round})"),
            bytes,
            true,
        ));
    }
    for (name, bytes, after_startup) in cases {
        let mut conn = if after_startup {
            target.session()
        } else {
            target.raw()
        };
        // The server may close the socket while we still write: fine.
        let _ = conn.send_raw(&bytes);
        let reaction = read_reaction(&mut conn, false);
        reaction.assert_errors_have_sqlstate();
        drop(conn);
        println!("garbage case done: {name}");
        target.assert_healthy();
    }
}

#[test]
fn many_connections_dropped_mid_handshake() {
    let target = Target::start();
    let startup = {
        let (user, database) = target.user_and_database();
        wire::startup_message(&[("user", &user), ("database", &database)])
    };
    for cut in [1usize, 4, 7, 8, 12, startup.len() - 1] {
        let mut conn = target.raw();
        conn.send_raw(&startup[..cut])
            .expect("send a partial startup");
        drop(conn);
    }
    // A burst of connections that close right after connecting.
    for _ in 0..50 {
        drop(target.raw());
    }
    target.assert_healthy();
}
