//! Shared helpers for Freshet's integration tests.
//!
//! Owns: starting and stopping a real `freshet` server process on a private
//! data directory and a free loopback port ([`TestServer`]), finding the
//! PostgreSQL oracle ([`pg_oracle_url`]), connecting with `tokio-postgres`
//! ([`connect`]), and a minimal raw wire-protocol client ([`wire::RawConn`])
//! for tests that must control every byte or need text-format results over
//! the extended protocol.
//!
//! Does not own: any assertion about SQL semantics. Those live in the test
//! files that use these helpers.
//!
//! Each integration test binary compiles this module separately and uses only
//! part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod rng;
pub mod wire;

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take from spawn until it accepts TCP connections.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// The interval between two readiness probes. Polling a condition, not a
/// synchronisation sleep.
const PROBE_INTERVAL: Duration = Duration::from_millis(20);

/// Environment variable naming the PostgreSQL oracle (set by `.ci/run`).
pub const PG_ORACLE_ENV: &str = "FRESHET_TEST_PG_URL";

/// Path of the `freshet` binary that Cargo built for this test run.
pub fn freshet_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_freshet"))
}

/// Returns the URL of the PostgreSQL oracle from `FRESHET_TEST_PG_URL`.
///
/// Panics when it is unset: a test that needs the oracle must fail loudly
/// rather than pass without checking anything. `.ci/run` always sets it;
/// by hand, run `scripts/pg-oracle.sh start` and
/// `export FRESHET_TEST_PG_URL=$(scripts/pg-oracle.sh url)`.
pub fn pg_oracle_url() -> String {
    match std::env::var(PG_ORACLE_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{PG_ORACLE_ENV} is not set: this test compares against a PostgreSQL oracle. \
             Start one with `scripts/pg-oracle.sh start` and \
             `export {PG_ORACLE_ENV}=$(scripts/pg-oracle.sh url)` (.ci/run does both)"
        ),
    }
}

/// Picks a loopback port that is free right now by binding port 0 and
/// dropping the listener. Another process may take it before the server
/// binds it; the startup probe then fails with the server's stderr.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("a bound listener has a local address")
        .port()
}

/// Connects with `tokio-postgres` (no TLS) and drives the connection on a
/// background task. Panics on failure, naming the URL.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    try_connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// Bound on connecting, including the startup handshake.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(30);

/// Like [`connect`] but returns the error (as text), for tests that expect
/// failures. Fails after [`CONNECT_DEADLINE`] if the server does not finish
/// the handshake.
pub async fn try_connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let connecting = tokio_postgres::connect(url, tokio_postgres::NoTls);
    let (client, connection) = match tokio::time::timeout(CONNECT_DEADLINE, connecting).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => {
            return Err(format!(
                "connecting to {url} timed out after {CONNECT_DEADLINE:?}"
            ))
        }
    };
    tokio::spawn(async move {
        // The connection ends with an error when the server is killed; the
        // client sees that on its next call, so nothing to report here.
        let _ = connection.await;
    });
    Ok(client)
}

/// Returns the SQLSTATE code of a `tokio-postgres` error, if the server sent one.
pub fn sqlstate(error: &tokio_postgres::Error) -> Option<String> {
    error.code().map(|code| code.code().to_string())
}

/// A `freshet serve` process on a private data directory and port.
///
/// The command line is
/// `freshet serve --data-dir <dir> --listen 127.0.0.1:<port> --workers 1`.
/// The data directory exists and is empty at the first start. The child's
/// stdout and stderr go to files beside (not inside) the data directory, so
/// a failure can show them. The process is killed (SIGKILL) on drop, and the
/// directory removed.
pub struct TestServer {
    /// Owns the scratch directory: `data/` is the data directory and
    /// `logs/` holds one stdout/stderr pair per start.
    scratch: tempfile::TempDir,
    data_dir: PathBuf,
    port: u16,
    child: Option<Child>,
    /// Number of times the server was started; names the log files.
    starts: u32,
    /// `--workers` for the dataflow engine.
    workers: usize,
    /// Further `freshet serve` arguments (e.g. `--tls-cert`).
    extra_args: Vec<String>,
}

impl TestServer {
    /// Starts a server on a fresh data directory and a free port and waits
    /// until it accepts TCP connections. Panics with the server's stderr if it
    /// exits early or is not ready within [`STARTUP_DEADLINE`].
    pub fn start() -> TestServer {
        TestServer::start_with_workers(1)
    }

    /// Like [`TestServer::start`] with `--workers workers`.
    #[allow(dead_code)]
    pub fn start_with_workers(workers: usize) -> TestServer {
        TestServer::start_with(workers, Vec::new())
    }

    /// Like [`TestServer::start`] with further `freshet serve` arguments.
    #[allow(dead_code)]
    pub fn start_with_args(args: &[&str]) -> TestServer {
        TestServer::start_with(1, args.iter().map(|a| a.to_string()).collect())
    }

    fn start_with(workers: usize, extra_args: Vec<String>) -> TestServer {
        let scratch = tempfile::Builder::new()
            .prefix("freshet-test-")
            .tempdir()
            .expect("create a scratch directory for the test server");
        let data_dir = scratch.path().join("data");
        fs::create_dir_all(&data_dir).expect("create the data directory");
        fs::create_dir_all(scratch.path().join("logs")).expect("create the log directory");
        let mut server = TestServer {
            scratch,
            data_dir,
            port: free_port(),
            child: None,
            starts: 0,
            workers,
            extra_args,
        };
        server.spawn_and_wait();
        server
    }

    /// The libpq-style URL for the default database and user.
    pub fn url(&self) -> String {
        format!("postgresql://root@127.0.0.1:{}/dev", self.port)
    }

    /// The TCP port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Connects with `tokio-postgres` as `root` to `dev`.
    pub async fn connect(&self) -> tokio_postgres::Client {
        connect(&self.url()).await
    }

    /// Kills the server with SIGKILL (no shutdown hooks run) and reaps it.
    /// A no-op when it is not running.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` sends SIGKILL on Unix. It fails only when the
            // process was already reaped, which `take()` rules out.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data directory and port and waits
    /// until it is ready. If it is still running it is first killed with
    /// SIGKILL, so this is also "crash and recover".
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn_and_wait();
    }

    /// Returns whether the child process is still running.
    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The server's stderr from its latest start, for failure messages.
    pub fn stderr(&self) -> String {
        read_lossy(&self.log_path("stderr", self.starts))
    }

    /// Runs a second `freshet serve` on this server's data directory (on
    /// another free port) and waits at most `deadline` for it to exit.
    /// Returns its exit status (None if it was still running at the
    /// deadline and had to be killed) and its stderr.
    pub fn start_second_on_same_data_dir(
        &self,
        deadline: Duration,
    ) -> (Option<ExitStatus>, String) {
        let stderr_path = self.scratch.path().join("logs").join("second.stderr");
        let stderr =
            fs::File::create(&stderr_path).expect("create the second server's stderr file");
        let mut child = Command::new(freshet_bin())
            .args(serve_args(&self.data_dir, free_port()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn a second freshet process");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll the second freshet process") {
                break Some(status);
            }
            if started.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(PROBE_INTERVAL);
        };
        (status, read_lossy(&stderr_path))
    }

    fn log_path(&self, stream: &str, start: u32) -> PathBuf {
        self.scratch
            .path()
            .join("logs")
            .join(format!("server-{start}.{stream}"))
    }

    fn spawn_and_wait(&mut self) {
        assert!(self.child.is_none(), "spawn_and_wait with a live child");
        self.starts += 1;
        let stdout = fs::File::create(self.log_path("stdout", self.starts))
            .expect("create the server's stdout file");
        let stderr = fs::File::create(self.log_path("stderr", self.starts))
            .expect("create the server's stderr file");
        let child = Command::new(freshet_bin())
            .args(serve_args(&self.data_dir, self.port))
            .args(["--workers".to_string(), self.workers.to_string()])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", freshet_bin().display()));
        self.child = Some(child);
        self.wait_ready();
    }

    /// Polls until the port accepts a TCP connection, the child exits
    /// (panic with its stderr) or the deadline passes (panic).
    fn wait_ready(&mut self) {
        let started = Instant::now();
        let addr = self.addr();
        loop {
            let child = self.child.as_mut().expect("wait_ready with a child");
            if let Some(status) = child.try_wait().expect("poll the freshet process") {
                self.child = None;
                panic!(
                    "freshet exited during startup with {status} (port {}, data dir {})\n--- stderr ---\n{}",
                    self.port,
                    self.data_dir.display(),
                    self.stderr()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if started.elapsed() > STARTUP_DEADLINE {
                let stderr = self.stderr();
                self.kill9();
                panic!(
                    "freshet did not accept connections on {addr} within {STARTUP_DEADLINE:?}\n--- stderr ---\n{stderr}"
                );
            }
            std::thread::sleep(PROBE_INTERVAL);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The `freshet` command-line arguments every harness uses.
pub fn serve_args(data_dir: &Path, port: u16) -> Vec<String> {
    vec![
        "serve".to_string(),
        "--data-dir".to_string(),
        data_dir.display().to_string(),
        "--listen".to_string(),
        format!("127.0.0.1:{port}"),
    ]
}

fn read_lossy(path: &Path) -> String {
    let mut bytes = Vec::new();
    match fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)) {
        Ok(_) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("<cannot read {}: {e}>", path.display()),
    }
}

/// Parses a libpq-style URL `postgresql://user@host:port/dbname` into its
/// parts, for the raw wire client. Only the forms the harnesses use are
/// supported (no password, no query parameters).
pub fn parse_url(url: &str) -> (SocketAddr, String, String) {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .unwrap_or_else(|| {
            panic!("unsupported URL {url:?}: expected postgresql://user@host:port/db")
        });
    let rest = rest
        .split('?')
        .next()
        .expect("split yields at least one item");
    let (authority, dbname) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, hostport) = authority.split_once('@').unwrap_or(("root", authority));
    let user = user
        .split(':')
        .next()
        .expect("split yields at least one item");
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .unwrap_or_else(|e| panic!("URL {url:?}: bad host:port: {e}"));
    let dbname = if dbname.is_empty() { user } else { dbname };
    (addr, user.to_string(), dbname.to_string())
}

/// Replaces the database name in a libpq-style URL.
pub fn url_with_dbname(url: &str, dbname: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL has a scheme");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest
        .split('/')
        .next()
        .expect("split yields at least one item");
    format!("{scheme}://{authority}/{dbname}{query}")
}
