//! The `freshet` command: starts a Freshet server.
//!
//! `freshet serve` opens (and exclusively locks) the data directory through
//! `freshet_session::open_server`, then serves PostgreSQL clients on the
//! listen address with `freshet_pgwire::serve` until SIGINT or SIGTERM.
//!
//! Exit status: 0 after a signal-initiated shutdown, 1 when the server
//! cannot start (data directory unusable or locked by another server,
//! listen address unavailable), 2 for command-line usage errors (clap).
//!
//! This binary owns only process concerns: arguments, logging, signals and
//! exit codes. It owns no protocol or engine logic.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use freshet_session::ServerConfig;
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;

/// Freshet: a streaming SQL database that speaks the PostgreSQL wire
/// protocol.
#[derive(Debug, Parser)]
#[command(name = "freshet", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server and serve PostgreSQL clients until SIGINT/SIGTERM.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Data directory; created if absent and locked exclusively while the
    /// server runs.
    #[arg(long, value_name = "DIR", default_value = "./freshet-data")]
    data_dir: PathBuf,

    /// Address to listen on for PostgreSQL clients (host:port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4566")]
    listen: String,

    /// Number of timely dataflow worker threads maintaining materialized views.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    workers: u32,

    /// Require this password from every user (SCRAM-SHA-256). Without it,
    /// clients are trusted.
    #[arg(
        long,
        value_name = "PW",
        env = "FRESHET_PASSWORD",
        hide_env_values = true
    )]
    password: Option<String>,

    /// Serve TLS with this certificate chain (PEM, the server's certificate
    /// first): clients that ask for encryption (sslmode=require, prefer)
    /// get it. Requires --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Stack size of every runtime thread, including the blocking threads that
/// run statements: deeply nested SQL recurses in the parser and planner, and
/// a stack overflow aborts the whole process rather than failing one
/// statement. Only touched pages are committed, so this costs address space.
const THREAD_STACK_BYTES: usize = 16 * 1024 * 1024;

/// How long in-flight statements may run after a shutdown signal before the
/// process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Serve(args) => serve(args),
    }
}

/// Logs to stderr; `RUST_LOG` overrides the default `info` level.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn serve(args: ServeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("freshet")
        .thread_stack_size(THREAD_STACK_BYTES)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("freshet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(args));
    // Statements still running on blocking threads get a grace period;
    // anything committed was made durable before it was acknowledged.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    code
}

/// The TLS configuration from `--tls-cert`/`--tls-key`, if given.
fn tls_config(args: &ServeArgs) -> Result<Option<freshet_pgwire::TlsConfig>, String> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else { return Ok(None) };
    let read = |path: &PathBuf| std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let config = freshet_pgwire::TlsConfig::from_pem(&read(cert)?, &read(key)?)
        .map_err(|e| format!("{} / {}: {e}", cert.display(), key.display()))?;
    Ok(Some(config))
}

async fn run(args: ServeArgs) -> ExitCode {
    info!(data_dir = %args.data_dir.display(), listen = %args.listen, workers = args.workers, "starting freshet");
    let tls = match tls_config(&args) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("freshet: TLS: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = ServerConfig {
        data_dir: args.data_dir.clone(),
        workers: args.workers as usize,
        password: args.password.clone(),
    };
    let server =
        match tokio::task::spawn_blocking(move || freshet_session::open_server(config)).await {
            Ok(Ok(server)) => server,
            Ok(Err(e)) => {
                eprintln!(
                    "freshet: cannot open data directory {}: {e}",
                    args.data_dir.display()
                );
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!(
                    "freshet: opening data directory {} failed: {e}",
                    args.data_dir.display()
                );
                return ExitCode::FAILURE;
            }
        };
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("freshet: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let local: Option<SocketAddr> = listener.local_addr().ok();
    info!(
        listen = %local.map_or_else(|| args.listen.clone(), |a| a.to_string()),
        data_dir = %args.data_dir.display(),
        tls = args.tls_cert.is_some(),
        "listening for PostgreSQL connections"
    );

    tokio::select! {
        result = freshet_pgwire::serve_with_config(listener, server, freshet_pgwire::WireConfig { tls, ..Default::default() }) => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                error!(error = %e, "server stopped");
                eprintln!("freshet: server stopped: {e}");
                ExitCode::FAILURE
            }
        },
        signal = shutdown_signal() => {
            info!(signal, "shutting down");
            ExitCode::SUCCESS
        }
    }
}

/// Resolves with the name of the first SIGINT or SIGTERM received.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = match signal(SignalKind::terminate()) {
            Ok(stream) => stream,
            Err(e) => {
                warn!(error = %e, "cannot install the SIGTERM handler; only SIGINT stops the server");
                let _ = tokio::signal::ctrl_c().await;
                return "SIGINT";
            }
        };
        tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
