//! The startup phase of a connection: SSL negotiation (TLS when the
//! listener has a certificate, else refused), GSS encryption (refused),
//! CancelRequest, the StartupMessage,
//! authentication (trust or SCRAM-SHA-256) and session creation.
//!
//! Follows PostgreSQL's `ProcessStartupPacket` (backend_startup.c) and
//! SCRAM-SHA-256 as in RFC 5802/7677 and PostgreSQL's `auth-scram.c`, using
//! pgwire's sans-IO SCRAM verifier. Channel binding is not implemented, so
//! only `SCRAM-SHA-256` is offered, never `SCRAM-SHA-256-PLUS`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use freshet_common::{Error, SqlState};
use freshet_session::ConnectParams;
use pgwire::api::auth::sasl::scram::{
    gen_salted_password, ScramSecret, ScramServerAuth, SCRAM_ITERATIONS,
};
use pgwire::error::PgWireError;
use pgwire::messages::startup::Authentication;
use tracing::debug;

use crate::backend::{self, Severity};
use crate::connection::{blocking, Io, Shared};
use crate::frontend::{
    self, decode_startup, protocol_violation, split_startup_packet, Reader, StartupPacket,
};
use crate::protocol::{Limits, Protocol};
use crate::WireError;

/// The only protocol version Freshet speaks: 3.0.
const PROTOCOL_VERSION_3_0: i32 = 196_608;

/// The SASL mechanism offered when a password is required.
const SCRAM_SHA_256: &str = "SCRAM-SHA-256";

/// How many SSLRequest/GSSENCRequest packets a client may send before its
/// StartupMessage (libpq sends at most one of each).
const NEGOTIATIONS_MAX: usize = 2;

/// Which encryption a negotiation packet asks for.
enum NegotiationKind {
    Ssl,
    Gss,
}

/// A salted password and its salt, derived once per distinct password:
/// deriving costs 4096 HMAC-SHA-256 rounds.
pub(crate) struct ScramKeys {
    salt: Vec<u8>,
    salted_password: Vec<u8>,
}

/// Cache of [`ScramKeys`] by password. Holds at most
/// [`ScramKeyCache::ENTRIES_MAX`] entries (the engine has one password).
#[derive(Default)]
pub(crate) struct ScramKeyCache {
    keys: Mutex<HashMap<String, Arc<ScramKeys>>>,
}

impl ScramKeyCache {
    const ENTRIES_MAX: usize = 64;

    /// The keys for `password`, derived on first use. Blocking (CPU-bound).
    fn get(&self, password: &str) -> Arc<ScramKeys> {
        if let Some(keys) = self
            .keys
            .lock()
            .expect("the key cache lock is never poisoned")
            .get(password)
        {
            return keys.clone();
        }
        let salt: [u8; 16] = rand::random();
        let salted_password = gen_salted_password(password, &salt, SCRAM_ITERATIONS);
        let keys = Arc::new(ScramKeys {
            salt: salt.to_vec(),
            salted_password,
        });
        let mut cache = self
            .keys
            .lock()
            .expect("the key cache lock is never poisoned");
        if cache.len() >= Self::ENTRIES_MAX {
            cache.clear();
        }
        cache.entry(password.to_owned()).or_insert(keys).clone()
    }
}

/// Runs the startup phase up to successful authentication. Returns the
/// parameters to open a session with and the messages still to send
/// (NegotiateProtocolVersion, AuthenticationOk), or `None` when the
/// connection ends normally during startup (CancelRequest, or the client
/// hung up, as psql does after learning a password is needed).
///
/// Holds no engine resources, so the caller may abandon it at a timeout.
pub(crate) async fn authenticate(
    io: &mut Io,
    shared: &Arc<Shared>,
) -> Result<Option<(ConnectParams, BytesMut)>, WireError> {
    let mut negotiations = 0;
    let (major, minor, params) = loop {
        let Some(packet) = read_startup_packet(io).await? else {
            return Ok(None);
        };
        match decode_startup(packet) {
            Err(error) => return Err(reject(io, error).await),
            Ok(request @ (StartupPacket::SslRequest | StartupPacket::GssEncRequest)) => {
                let packet_kind = if matches!(request, StartupPacket::SslRequest) { NegotiationKind::Ssl } else { NegotiationKind::Gss };
                negotiations += 1;
                if negotiations > NEGOTIATIONS_MAX {
                    return Err(
                        reject(io, protocol_violation("too many encryption requests")).await,
                    );
                }
                if !io.read.is_empty() {
                    // Bytes after an SSLRequest would have to be TLS data
                    // the client sent before our answer (CVE-2021-23214).
                    return Err(reject(
                        io,
                        protocol_violation("received unencrypted data after SSL request"),
                    )
                    .await);
                }
                match (&packet_kind, &shared.config.tls) {
                    (NegotiationKind::Ssl, Some(tls)) if !io.tls => {
                        io.write(b"S").await?;
                        io.start_tls(tls).await?;
                    }
                    (NegotiationKind::Ssl, Some(_)) => {
                        return Err(reject(io, protocol_violation("SSL request on an encrypted connection")).await);
                    }
                    _ => io.write(b"N").await?,
                }
            }
            Ok(StartupPacket::Cancel {
                process_id,
                secret_key,
            }) => {
                if let Some(secret_key) = secret_key {
                    let server = shared.server.clone();
                    let _ = blocking(move || server.cancel(process_id, secret_key)).await;
                }
                return Ok(None);
            }
            Ok(StartupPacket::Startup {
                major,
                minor,
                params,
            }) => break (major, minor, params),
        }
    };

    if major != 3 {
        let error = Error::new(
            SqlState::FeatureNotSupported,
            format!("unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.0"),
        );
        return Err(reject(io, error).await);
    }
    let mut out = BytesMut::new();
    let unsupported: Vec<String> = params
        .iter()
        .filter(|(k, _)| k.starts_with("_pq_."))
        .map(|(k, _)| k.clone())
        .collect();
    if minor > 0 || !unsupported.is_empty() {
        backend::negotiate_protocol_version(&mut out, PROTOCOL_VERSION_3_0, unsupported);
    }

    let mut connect = ConnectParams::default();
    let mut user = None;
    let mut database = None;
    for (key, value) in params {
        match key.as_str() {
            "user" => user = Some(value),
            "database" => database = Some(value),
            _ if key.starts_with("_pq_.") => {}
            _ => connect.options.push((key, value)),
        }
    }
    let Some(user) = user.filter(|u| !u.is_empty()) else {
        let error = Error::new(
            SqlState::InvalidAuthorizationSpecification,
            "no PostgreSQL user name specified in startup packet",
        );
        return Err(reject(io, error).await);
    };
    connect.database = database
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| user.clone());
    connect.user = user;

    let server = shared.server.clone();
    let name = connect.user.clone();
    let password = match blocking(move || server.password_for(&name)).await {
        Ok(password) => password,
        Err(panic) => {
            return Err(reject(io, Error::internal(format!("internal error: {panic}"))).await)
        }
    };
    if let Some(password) = password {
        io.write(&out).await?;
        out.clear();
        if !authenticate_scram(io, shared, &connect.user, password).await? {
            return Ok(None);
        }
    }
    backend::authentication(&mut out, Authentication::Ok);
    Ok(Some((connect, out)))
}

/// Opens the session for an authenticated client. Returns the protocol
/// state, the session's process id and the output to send: `pending` (from
/// [`authenticate`]) followed by the greeting. On failure (e.g. 3D000) the
/// FATAL error has been sent.
pub(crate) async fn open_session(
    io: &mut Io,
    shared: &Arc<Shared>,
    connect: ConnectParams,
    mut pending: BytesMut,
) -> Result<(Protocol, i32, BytesMut), WireError> {
    let server = shared.server.clone();
    let limits = Limits {
        copy_in_bytes_max: shared.config.copy_in_bytes_max,
    };
    let opened = blocking(move || {
        let session = server.connect(&connect)?;
        let mut protocol = Protocol::new(session, limits);
        let mut greeting = BytesMut::new();
        protocol.greet(&mut greeting);
        let process_id = protocol.process_id();
        Ok::<_, Error>((protocol, greeting, process_id))
    })
    .await;
    let error = match opened {
        Ok(Ok((protocol, greeting, process_id))) => {
            pending.extend_from_slice(&greeting);
            return Ok((protocol, process_id, pending));
        }
        Ok(Err(error)) => error,
        Err(panic) => Error::internal(format!("internal error: {panic}")),
    };
    backend::error(&mut pending, Severity::Fatal, &error);
    io.write(&pending).await?;
    Err(WireError::Rejected(error))
}

/// Sends `error` as FATAL and returns it as the reason the connection ends.
async fn reject(io: &mut Io, error: Error) -> WireError {
    let mut out = BytesMut::new();
    backend::error(&mut out, Severity::Fatal, &error);
    match io.write(&out).await {
        Ok(()) => WireError::Rejected(error),
        Err(e) => WireError::Io(e),
    }
}

/// Reads one startup-phase packet; `None` if the client closed first.
async fn read_startup_packet(io: &mut Io) -> Result<Option<Bytes>, WireError> {
    loop {
        match split_startup_packet(&mut io.read) {
            Ok(Some(packet)) => return Ok(Some(packet)),
            Ok(None) => {}
            Err(error) => return Err(reject(io, error).await),
        }
        if !io.fill(frontend::STARTUP_PACKET_BYTES_MAX).await? {
            return Ok(None);
        }
    }
}

/// Reads the next authentication message ('p'); `None` if the client closed.
async fn read_password_message(io: &mut Io) -> Result<Option<Bytes>, WireError> {
    loop {
        match frontend::split_frame(&mut io.read, frontend::AUTH_MESSAGE_BYTES_MAX) {
            Ok(Some((b'p', body))) => return Ok(Some(body)),
            // A client may give up (Terminate) instead of authenticating.
            Ok(Some((b'X', _))) => return Ok(None),
            Ok(Some((tag, _))) => {
                let error =
                    protocol_violation(format!("expected SASL response, got message type {tag}"));
                return Err(reject(io, error).await);
            }
            Ok(None) => {}
            Err(error) => return Err(reject(io, error).await),
        }
        if !io.fill(frontend::AUTH_MESSAGE_BYTES_MAX).await? {
            return Ok(None);
        }
    }
}

/// Runs a SCRAM-SHA-256 exchange for `user` against `password`. Returns
/// `false` if the client hung up; a failed exchange is an error.
async fn authenticate_scram(
    io: &mut Io,
    shared: &Arc<Shared>,
    user: &str,
    password: String,
) -> Result<bool, WireError> {
    let mut out = BytesMut::new();
    backend::authentication(
        &mut out,
        Authentication::SASL(vec![SCRAM_SHA_256.to_owned()]),
    );
    io.write(&out).await?;

    let Some(body) = read_password_message(io).await? else {
        return Ok(false);
    };
    let (mechanism, client_first) = match parse_sasl_initial_response(body) {
        Ok(parsed) => parsed,
        Err(error) => return Err(reject(io, error).await),
    };
    if mechanism != SCRAM_SHA_256 {
        let error = protocol_violation("client selected an invalid SASL authentication mechanism");
        return Err(reject(io, error).await);
    }

    let shared_for_keys = shared.clone();
    let keys = match blocking(move || shared_for_keys.scram_keys.get(&password)).await {
        Ok(keys) => keys,
        Err(panic) => {
            return Err(reject(io, Error::internal(format!("internal error: {panic}"))).await)
        }
    };
    let secret = ScramSecret::verifier_from_salted_password(
        keys.salt.clone(),
        keys.salted_password.clone(),
        SCRAM_ITERATIONS,
    );
    let authenticator = ScramServerAuth::new();
    let (server_first, waiting) =
        match authenticator.on_client_first_message_with_secret(&client_first, secret) {
            Ok(step) => step,
            Err(e) => return Err(reject(io, scram_error(user, e)).await),
        };
    let mut out = BytesMut::new();
    backend::authentication(
        &mut out,
        Authentication::SASLContinue(Bytes::from(server_first)),
    );
    io.write(&out).await?;

    let Some(client_final) = read_password_message(io).await? else {
        return Ok(false);
    };
    let server_final = match waiting.on_client_final_message(&client_final) {
        Ok(server_final) => server_final,
        Err(e) => return Err(reject(io, scram_error(user, e)).await),
    };
    debug!(user, "scram authentication succeeded");
    let mut out = BytesMut::new();
    backend::authentication(
        &mut out,
        Authentication::SASLFinal(Bytes::from(server_final)),
    );
    io.write(&out).await?;
    Ok(true)
}

/// SASLInitialResponse: mechanism name, then Int32 length (-1: none) and
/// the client-first-message.
fn parse_sasl_initial_response(body: Bytes) -> Result<(String, Bytes), Error> {
    let mut r = Reader::new(body);
    let mechanism = r.cstring()?;
    let length = r.i32()?;
    if length < 0 {
        return Err(protocol_violation(
            "malformed SCRAM message: empty client-first-message",
        ));
    }
    let data = r.bytes(length as usize)?;
    r.finish()?;
    Ok((mechanism, data))
}

/// Maps a SCRAM failure to PostgreSQL's errors: a wrong proof is 28P01, a
/// malformed exchange is 08P01.
fn scram_error(user: &str, error: PgWireError) -> Error {
    match error {
        PgWireError::InvalidPassword(_) => Error::new(
            SqlState::InvalidPassword,
            format!("password authentication failed for user \"{user}\""),
        ),
        other => protocol_violation("malformed SCRAM message").with_detail(format!("{other}.")),
    }
}
