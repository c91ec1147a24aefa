//! Freshet's PostgreSQL wire protocol adapter (protocol version 3.0).
//!
//! This crate owns everything between a TCP socket and the engine's
//! [`SessionApi`](freshet_session::SessionApi): framing and strict decoding
//! of client messages, the startup handshake (TLS when configured, GSS
//! refusal, protocol negotiation, trust or SCRAM-SHA-256 authentication, CancelRequest), the
//! simple and extended query protocols with prepared statements and
//! row-limited portals, COPY FROM STDIN / TO STDOUT, and turning engine
//! results and errors into RowDescription/DataRow/CommandComplete and
//! ErrorResponse messages. It is also where an engine panic is contained: it
//! becomes SQLSTATE XX000 for that statement and never takes the server
//! down.
//!
//! It deliberately does not own SQL parsing, planning, transactions or value
//! formatting: statements go to the session untouched, and values are
//! printed and parsed by `freshet_common::io`. It does not implement
//! GSSAPI, client certificates, the fast-path function call protocol, replication, or
//! NOTICE/NOTIFY messages (the session API has no way to produce them).
//!
//! From the `pgwire` crate it uses the backend message types and their
//! encoding (`pgwire::messages`) and the sans-IO SCRAM-SHA-256 verifier. It
//! does not use pgwire's handler traits or its connection loop, because the
//! state machine here needs full control (panic containment around every
//! engine call, COPY inside multi-statement queries, row-limited portals),
//! and it decodes frontend messages itself because malformed input must
//! become an error with a SQLSTATE, never a panic or a lossy conversion.
//!
//! Most important types: [`WireConfig`] (limits of one listener),
//! `protocol::Protocol` (the sans-IO per-connection state machine) and
//! `frontend::FrontendMessage` (a decoded client message).

mod backend;
mod connection;
mod frontend;
mod protocol;
mod startup;
mod tls;
mod values;

pub use tls::TlsConfig;

use std::sync::Arc;
use std::time::Duration;

use freshet_session::ServerApi;
use tokio::net::TcpListener;
use tracing::warn;

/// Limits of the wire protocol, per listener.
#[derive(Clone, Debug)]
pub struct WireConfig {
    /// Largest body of a Query, Parse, Bind, CopyData or CopyFail message.
    /// PostgreSQL's limit is 1 GiB - 1 (`PQ_LARGE_MESSAGE_LIMIT`); a larger
    /// message is a protocol violation that closes the connection.
    pub message_bytes_max: usize,
    /// Largest total COPY FROM STDIN payload of one statement. The data is
    /// accumulated in memory before [`SessionApi::copy_in`] sees it, so this
    /// bounds that memory per connection.
    ///
    /// [`SessionApi::copy_in`]: freshet_session::SessionApi::copy_in
    pub copy_in_bytes_max: usize,
    /// Time a client has to finish startup and authentication
    /// (PostgreSQL's `authentication_timeout`, 60 s by default).
    pub startup_timeout_ms: u64,
    /// Answer SSLRequest with `S` and encrypt the connection with this
    /// configuration; without it, SSLRequest is answered `N` (plain TCP).
    pub tls: Option<TlsConfig>,
}

impl Default for WireConfig {
    fn default() -> WireConfig {
        WireConfig {
            message_bytes_max: 0x3fff_ffff - 1,
            copy_in_bytes_max: 0x3fff_ffff - 1,
            startup_timeout_ms: 60_000,
            tls: None,
        }
    }
}

/// Why a connection ended abnormally. Logged, never returned to callers of
/// [`serve`]: one connection's failure does not concern the listener.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// The client's socket failed (operator/network).
    #[error("socket error")]
    Io(#[from] std::io::Error),
    /// The connection was refused or ended with a FATAL ErrorResponse
    /// already sent (user: bad password, protocol violation, unknown
    /// database, ...).
    #[error("connection rejected: {}", .0.message)]
    Rejected(freshet_common::Error),
    /// The blocking task running the session was lost (runtime shutdown).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Serves PostgreSQL clients on `listener` with [`WireConfig::default`]
/// limits. Runs until the process ends; see [`serve_with_config`].
pub async fn serve(listener: TcpListener, server: Arc<dyn ServerApi>) -> std::io::Result<()> {
    serve_with_config(listener, server, WireConfig::default()).await
}

/// Serves PostgreSQL clients on `listener`: one tokio task per connection,
/// one [`SessionApi`](freshet_session::SessionApi) per authenticated client,
/// engine calls on the blocking pool. Nothing is shared between connections
/// except `server` (and a cache of SCRAM keys), so hundreds of concurrent
/// connections only cost a task and a socket each while idle.
///
/// Never returns under normal operation: a failed accept (e.g. too many
/// open files) is logged and retried after a short pause.
pub async fn serve_with_config(
    listener: TcpListener,
    server: Arc<dyn ServerApi>,
    config: WireConfig,
) -> std::io::Result<()> {
    const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(100);
    let shared = Arc::new(connection::Shared::new(server, config));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(connection::serve_connection(stream, peer, shared.clone()));
            }
            Err(e) => {
                warn!(error = %e, "accept failed; retrying");
                tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
            }
        }
    }
}
