//! One client connection: the async task that owns the socket and drives
//! the startup phase and then the [`Protocol`] state machine.
//!
//! The task only does I/O. Everything that calls into the engine runs
//! where it may block, via [`blocking`] (`block_in_place`, or the blocking
//! pool), inside `catch_unwind`, so a slow statement never stalls other
//! connections and a panicking statement
//! becomes an XX000 error instead of a dead server. Messages that arrive
//! together (a pipelined Parse/Bind/Execute/Sync) are handled in one
//! blocking call.

use std::any::Any;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use freshet_session::ServerApi;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{debug, error, info};

use crate::backend::{self, Severity};
use crate::frontend::{self, FrontendMessage};
use crate::protocol::{Next, Protocol};
use crate::startup::{authenticate, open_session, ScramKeyCache};
use crate::{WireConfig, WireError};

/// State shared by every connection of one [`crate::serve`] call.
pub(crate) struct Shared {
    pub(crate) server: Arc<dyn ServerApi>,
    pub(crate) config: WireConfig,
    pub(crate) scram_keys: ScramKeyCache,
}

impl Shared {
    pub(crate) fn new(server: Arc<dyn ServerApi>, config: WireConfig) -> Shared {
        Shared {
            server,
            config,
            scram_keys: ScramKeyCache::default(),
        }
    }
}

/// A byte stream to a client: the TCP socket, or TLS over it.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// The socket and its read buffer.
pub(crate) struct Io {
    stream: Box<dyn Transport>,
    pub(crate) read: BytesMut,
    /// Whether the stream is encrypted.
    pub(crate) tls: bool,
}

impl Io {
    /// Runs the TLS handshake on the stream (after `S` was sent for an
    /// SSLRequest); afterwards everything read and written is encrypted.
    pub(crate) async fn start_tls(&mut self, config: &crate::TlsConfig) -> std::io::Result<()> {
        let placeholder: Box<dyn Transport> = Box::new(tokio::io::join(tokio::io::empty(), tokio::io::sink()));
        let plain = std::mem::replace(&mut self.stream, placeholder);
        self.stream = Box::new(config.acceptor.accept(plain).await?);
        self.tls = true;
        Ok(())
    }

    /// Reads more bytes into the read buffer, reserving room for up to
    /// `hint` bytes (capped, so a bogus length cannot force a huge
    /// allocation before the bytes arrive). Returns `false` at end of stream.
    pub(crate) async fn fill(&mut self, hint: usize) -> std::io::Result<bool> {
        const RESERVE_BYTES_MIN: usize = 16 * 1024;
        const RESERVE_BYTES_MAX: usize = 64 * 1024 * 1024;
        self.read
            .reserve(hint.clamp(RESERVE_BYTES_MIN, RESERVE_BYTES_MAX));
        Ok(self.stream.read_buf(&mut self.read).await? > 0)
    }

    pub(crate) async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if !bytes.is_empty() {
            self.stream.write_all(bytes).await?;
        }
        Ok(())
    }
}

/// Runs `f` where it may block, turning a panic into its message: in
/// place on a multi-threaded runtime (`block_in_place`: this worker hands
/// its other tasks to another thread, which saves handing every statement
/// to a blocking-pool thread and back; measured +28% single-row INSERTs
/// per second), else on the blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let flavor = tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor());
    if matches!(flavor, Ok(tokio::runtime::RuntimeFlavor::MultiThread)) {
        return tokio::task::block_in_place(move || catch_unwind(AssertUnwindSafe(f))).map_err(|payload| panic_message(&*payload));
    }
    match tokio::task::spawn_blocking(move || catch_unwind(AssertUnwindSafe(f))).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(payload)) => Err(panic_message(&*payload)),
        Err(join_error) => Err(join_error.to_string()),
    }
}

/// The message a panic was raised with (`panic!("...")` payloads are
/// `&str` or `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Serves one accepted connection until it ends. Never fails: errors end
/// this connection only and are logged.
pub(crate) async fn serve_connection(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut io = Io {
        stream: Box::new(stream),
        read: BytesMut::with_capacity(8 * 1024),
        tls: false,
    };
    let timeout = Duration::from_millis(shared.config.startup_timeout_ms);
    let (connect, pending) =
        match tokio::time::timeout(timeout, authenticate(&mut io, &shared)).await {
            Ok(Ok(Some(authenticated))) => authenticated,
            Ok(Ok(None)) => return,
            Ok(Err(e)) => {
                debug!(%peer, error = %e, "connection ended during startup");
                return;
            }
            Err(_elapsed) => {
                let mut out = BytesMut::new();
                let error = freshet_common::Error::new(
                    freshet_common::SqlState::QueryCanceled,
                    "canceling authentication due to timeout",
                );
                backend::error(&mut out, Severity::Fatal, &error);
                let _ = io.write(&out).await;
                debug!(%peer, "startup timed out");
                return;
            }
        };
    let (protocol, process_id, greeting) =
        match open_session(&mut io, &shared, connect, pending).await {
            Ok(opened) => opened,
            Err(e) => {
                debug!(%peer, error = %e, "session could not be opened");
                return;
            }
        };
    debug!(%peer, process_id, "session started");
    let mut protocol = Some(protocol);
    let served = match io.write(&greeting).await {
        Ok(()) => run(&mut io, &mut protocol, &shared).await,
        Err(e) => Err(WireError::Io(e)),
    };
    match served {
        Ok(()) => debug!(%peer, process_id, "session ended"),
        Err(e) => debug!(%peer, process_id, error = %e, "session ended with an error"),
    }
    drop(io);
    // Drop the session (and whatever it holds) off the async threads.
    if let Some(state) = protocol.take() {
        if let Err(panic) = blocking(move || drop(state)).await {
            error!(process_id, panic = %panic, "dropping the session panicked");
        }
    }
    let server = shared.server.clone();
    if let Err(panic) = blocking(move || server.disconnect(process_id)).await {
        error!(process_id, panic = %panic, "disconnect panicked");
    }
}

/// The message loop after startup: decode every complete message that has
/// arrived, step the protocol through them on a blocking thread, write the
/// responses, read more.
///
/// `protocol` is `None` only while a batch runs (and after a batch was
/// lost to runtime shutdown); the caller disposes of the state.
async fn run(
    io: &mut Io,
    protocol: &mut Option<Protocol>,
    shared: &Shared,
) -> Result<(), WireError> {
    let large_bytes_max = shared.config.message_bytes_max;
    loop {
        let mut messages = Vec::new();
        let mut fatal = None;
        loop {
            match frontend::split_frame(&mut io.read, large_bytes_max) {
                Ok(Some((tag, body))) => match frontend::decode(tag, body) {
                    Ok(message) => messages.push(message),
                    Err(error) => {
                        fatal = Some(error);
                        break;
                    }
                },
                Ok(None) => break,
                Err(error) => {
                    fatal = Some(error);
                    break;
                }
            }
        }

        let mut out = BytesMut::new();
        let mut close = false;
        if !messages.is_empty() {
            let state = protocol
                .take()
                .expect("the protocol state is returned after every batch");
            match blocking(move || step_all(state, messages)).await {
                Ok((state, batch_out, batch_close)) => {
                    *protocol = Some(state);
                    out = batch_out;
                    close = batch_close;
                }
                Err(panic) => {
                    // step_all catches panics itself; this is the runtime
                    // shutting down. The session is gone with the thread.
                    return Err(WireError::Internal(panic));
                }
            }
        }
        if let Some(error) = &fatal {
            if !close {
                info!(error = %error.message, "closing connection after a protocol violation");
                backend::error(&mut out, Severity::Fatal, error);
                close = true;
            }
        }
        io.write(&out).await?;
        drop(out);
        if close {
            return match fatal {
                Some(error) => Err(WireError::Rejected(error)),
                None => Ok(()),
            };
        }
        let hint = frontend::missing_bytes(&io.read).unwrap_or(0);
        if !io.fill(hint).await? {
            return Ok(());
        }
    }
}

/// Steps the protocol through `messages`, catching a panic per message.
/// Returns the state, the output and whether to close the connection.
fn step_all(mut protocol: Protocol, messages: Vec<FrontendMessage>) -> (Protocol, BytesMut, bool) {
    let mut out = BytesMut::new();
    let mut messages = messages.into_iter().peekable();
    while let Some(message) = messages.next() {
        let simple = protocol.simple_context(&message);
        let sync_follows = matches!(messages.peek(), Some(FrontendMessage::Sync));
        match catch_unwind(AssertUnwindSafe(|| protocol.step(message, sync_follows, &mut out))) {
            Ok(Next::Continue) => {}
            Ok(Next::Close) => return (protocol, out, true),
            Err(payload) => {
                let message = panic_message(&*payload);
                error!(panic = %message, "statement execution panicked");
                let recovered = catch_unwind(AssertUnwindSafe(|| {
                    protocol.recover_from_panic(simple, &message, &mut out)
                }));
                if recovered.is_err() {
                    error!("session panicked again while recovering; closing the connection");
                    return (protocol, out, true);
                }
            }
        }
    }
    (protocol, out, false)
}
