//! Framing and strict decoding of the messages a client sends.
//!
//! pgwire's own frontend decoders are lenient (invalid UTF-8 is replaced,
//! truncated bodies panic inside `bytes`), so Freshet decodes frontend
//! messages itself: every read is bounds-checked and a body must be
//! consumed exactly. A framing or format violation is a protocol error
//! (SQLSTATE 08P01) that closes the connection. A string that is not valid
//! UTF-8 inside a well-framed message is, as in PostgreSQL, an ordinary
//! error (22021) for that message only: see [`FrontendMessage::Invalid`].
//!
//! Message layouts follow the PostgreSQL documentation, "Message Formats"
//! (protocol-message-formats.html), for protocol version 3.0.

use bytes::{Buf, Bytes, BytesMut};
use freshet_common::{Error, SqlState};

/// Largest body PostgreSQL accepts for the messages that carry no user data
/// (Describe, Execute, Close, Sync, ...): `PQ_SMALL_MESSAGE_LIMIT`.
pub(crate) const SMALL_MESSAGE_BYTES_MAX: usize = 10_000;

/// Largest SASL message body, PostgreSQL's `PG_MAX_AUTH_TOKEN_LENGTH`.
pub(crate) const AUTH_MESSAGE_BYTES_MAX: usize = 65_535;

/// Largest startup-phase packet (StartupMessage, SSLRequest, CancelRequest),
/// PostgreSQL's `MAX_STARTUP_PACKET_LENGTH`.
pub(crate) const STARTUP_PACKET_BYTES_MAX: usize = 10_000;

/// What a Describe or Close message names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Statement,
    Portal,
}

/// A decoded frontend message of the normal (post-startup) phase.
#[derive(Debug)]
pub(crate) enum FrontendMessage {
    Query {
        sql: String,
    },
    Parse {
        name: String,
        sql: String,
        param_oids: Vec<u32>,
    },
    Bind {
        portal: String,
        statement: String,
        param_formats: Vec<i16>,
        params: Vec<Option<Bytes>>,
        result_formats: Vec<i16>,
    },
    Describe {
        target: Target,
        name: String,
    },
    Execute {
        portal: String,
        max_rows: i32,
    },
    Close {
        target: Target,
        name: String,
    },
    Sync,
    Flush,
    Terminate,
    CopyData(Bytes),
    CopyDone,
    CopyFail {
        message: String,
    },
    /// The legacy fast-path function call protocol; answered with 0A000.
    FunctionCall,
    /// A well-framed message of type `tag` whose content cannot be used
    /// (a string that is not valid UTF-8): answered with `error` like any
    /// failing message of that type, without closing the connection.
    Invalid {
        tag: u8,
        error: Error,
    },
    /// A PasswordMessage/SASLInitialResponse/SASLResponse, which is only
    /// meaningful during authentication (read there by `startup.rs`).
    Password,
}

impl FrontendMessage {
    /// Whether the message belongs to the extended query protocol, where an
    /// error makes the server discard messages until the next Sync.
    pub(crate) fn extended(&self) -> bool {
        if let FrontendMessage::Invalid { tag, .. } = self {
            return matches!(tag, b'P' | b'B' | b'D' | b'E' | b'C' | b'S' | b'H');
        }
        matches!(
            self,
            FrontendMessage::Parse { .. }
                | FrontendMessage::Bind { .. }
                | FrontendMessage::Describe { .. }
                | FrontendMessage::Execute { .. }
                | FrontendMessage::Close { .. }
                | FrontendMessage::Sync
                | FrontendMessage::Flush
        )
    }
}

/// A protocol violation with PostgreSQL's SQLSTATE for it.
pub(crate) fn protocol_violation(message: impl Into<String>) -> Error {
    Error::new(SqlState::ProtocolViolation, message)
}

/// The largest body allowed for message type `tag`, or `None` if `tag` is
/// not a frontend message type at all.
fn body_bytes_max(tag: u8, large_bytes_max: usize) -> Option<usize> {
    match tag {
        b'Q' | b'P' | b'B' | b'd' | b'f' | b'F' => Some(large_bytes_max),
        b'p' => Some(AUTH_MESSAGE_BYTES_MAX),
        b'D' | b'E' | b'C' | b'S' | b'H' | b'X' | b'c' => Some(SMALL_MESSAGE_BYTES_MAX),
        _ => None,
    }
}

/// Splits one complete message off the front of `buf`, returning its type
/// byte and body. `Ok(None)` means more bytes are needed; the type byte and
/// the length are validated as soon as they arrive, so garbage is rejected
/// without waiting for (or allocating) a bogus length's worth of bytes.
///
/// `large_bytes_max` bounds Query, Parse, Bind, CopyData and CopyFail
/// bodies (PostgreSQL: 1 GiB - 1); other messages are bounded by
/// PostgreSQL's small-message limit.
pub(crate) fn split_frame(
    buf: &mut BytesMut,
    large_bytes_max: usize,
) -> Result<Option<(u8, Bytes)>, Error> {
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    let Some(bytes_max) = body_bytes_max(tag, large_bytes_max) else {
        return Err(protocol_violation(format!(
            "invalid frontend message type {tag}"
        )));
    };
    if buf.len() < 5 {
        return Ok(None);
    }
    let length = i32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
    if length < 4 || (length - 4) as usize > bytes_max {
        return Err(protocol_violation(format!(
            "invalid message length {length} for message type {tag}"
        )));
    }
    let total = 1 + length as usize;
    if buf.len() < total {
        return Ok(None);
    }
    let mut frame = buf.split_to(total);
    frame.advance(5);
    Ok(Some((tag, frame.freeze())))
}

/// How many bytes the frame at the front of `buf` still lacks, if its
/// header has arrived; used to size reads for large messages.
pub(crate) fn missing_bytes(buf: &BytesMut) -> Option<usize> {
    if buf.len() < 5 {
        return None;
    }
    let length = i32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
    let total = 1 + length.max(4) as usize;
    Some(total.saturating_sub(buf.len()))
}

/// Decodes the body of a message whose type byte is `tag` (already
/// validated by [`split_frame`]). Errors are protocol violations; invalid
/// UTF-8 yields [`FrontendMessage::Invalid`].
pub(crate) fn decode(tag: u8, body: Bytes) -> Result<FrontendMessage, Error> {
    match decode_strict(tag, body) {
        Err(error) if error.state == SqlState::CharacterNotInRepertoire => {
            Ok(FrontendMessage::Invalid { tag, error })
        }
        result => result,
    }
}

fn decode_strict(tag: u8, body: Bytes) -> Result<FrontendMessage, Error> {
    let mut r = Reader::new(body);
    let message = match tag {
        b'Q' => FrontendMessage::Query { sql: r.cstring()? },
        b'P' => {
            let name = r.cstring()?;
            let sql = r.cstring()?;
            let count = r.count()?;
            let mut param_oids = Vec::with_capacity(count.min(r.remaining() / 4));
            for _ in 0..count {
                param_oids.push(r.u32()?);
            }
            FrontendMessage::Parse {
                name,
                sql,
                param_oids,
            }
        }
        b'B' => {
            let portal = r.cstring()?;
            let statement = r.cstring()?;
            let count = r.count()?;
            let mut param_formats = Vec::with_capacity(count.min(r.remaining() / 2));
            for _ in 0..count {
                param_formats.push(r.i16()?);
            }
            let count = r.count()?;
            let mut params = Vec::with_capacity(count.min(r.remaining() / 4));
            for _ in 0..count {
                let length = r.i32()?;
                match length {
                    -1 => params.push(None),
                    n if n >= 0 => params.push(Some(r.bytes(n as usize)?)),
                    n => {
                        return Err(protocol_violation(format!(
                            "invalid parameter length {n} in Bind message"
                        )))
                    }
                }
            }
            let count = r.count()?;
            let mut result_formats = Vec::with_capacity(count.min(r.remaining() / 2));
            for _ in 0..count {
                result_formats.push(r.i16()?);
            }
            FrontendMessage::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            }
        }
        b'D' => {
            let target = r.target()?;
            FrontendMessage::Describe {
                target,
                name: r.cstring()?,
            }
        }
        b'E' => {
            let portal = r.cstring()?;
            FrontendMessage::Execute {
                portal,
                max_rows: r.i32()?,
            }
        }
        b'C' => {
            let target = r.target()?;
            FrontendMessage::Close {
                target,
                name: r.cstring()?,
            }
        }
        b'S' => FrontendMessage::Sync,
        b'H' => FrontendMessage::Flush,
        b'X' => FrontendMessage::Terminate,
        b'd' => return Ok(FrontendMessage::CopyData(r.rest())),
        b'c' => FrontendMessage::CopyDone,
        b'f' => FrontendMessage::CopyFail {
            message: r.cstring()?,
        },
        b'F' => return Ok(FrontendMessage::FunctionCall),
        b'p' => return Ok(FrontendMessage::Password),
        _ => {
            return Err(protocol_violation(format!(
                "invalid frontend message type {tag}"
            )))
        }
    };
    r.finish()?;
    Ok(message)
}

/// A bounds-checked cursor over a message body. Every method fails with
/// 08P01 instead of panicking when the body is too short.
pub(crate) struct Reader {
    buf: Bytes,
}

impl Reader {
    pub(crate) fn new(buf: Bytes) -> Reader {
        Reader { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn need(&self, n: usize) -> Result<(), Error> {
        if self.buf.len() < n {
            Err(protocol_violation("insufficient data left in message"))
        } else {
            Ok(())
        }
    }

    pub(crate) fn i16(&mut self) -> Result<i16, Error> {
        self.need(2)?;
        Ok(self.buf.get_i16())
    }

    pub(crate) fn i32(&mut self) -> Result<i32, Error> {
        self.need(4)?;
        Ok(self.buf.get_i32())
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        self.need(4)?;
        Ok(self.buf.get_u32())
    }

    /// A non-negative Int16 element count.
    fn count(&mut self) -> Result<usize, Error> {
        let n = self.i16()?;
        if n < 0 {
            return Err(protocol_violation(format!("invalid element count {n}")));
        }
        Ok(n as usize)
    }

    fn target(&mut self) -> Result<Target, Error> {
        self.need(1)?;
        match self.buf.get_u8() {
            b'S' => Ok(Target::Statement),
            b'P' => Ok(Target::Portal),
            other => Err(protocol_violation(format!(
                "invalid DESCRIBE/CLOSE message subtype {other}"
            ))),
        }
    }

    /// A NUL-terminated string that must be valid UTF-8.
    pub(crate) fn cstring(&mut self) -> Result<String, Error> {
        let Some(end) = self.buf.iter().position(|&b| b == 0) else {
            return Err(protocol_violation("invalid string in message"));
        };
        let raw = self.buf.split_to(end);
        self.buf.advance(1);
        utf8(&raw).map(str::to_owned)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<Bytes, Error> {
        self.need(n)?;
        Ok(self.buf.split_to(n))
    }

    pub(crate) fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.buf)
    }

    /// Fails unless the whole body was consumed (PostgreSQL's `pq_getmsgend`).
    pub(crate) fn finish(&self) -> Result<(), Error> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(protocol_violation("invalid message format"))
        }
    }
}

/// Checks that `raw` is UTF-8; 22021 with PostgreSQL's wording for the
/// first bad byte sequence.
pub(crate) fn utf8(raw: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(raw).map_err(|e| {
        let start = e.valid_up_to();
        let end = (start + e.error_len().unwrap_or(raw.len() - start)).min(raw.len());
        let bytes: Vec<String> = raw[start..end]
            .iter()
            .map(|b| format!("0x{b:02x}"))
            .collect();
        Error::new(
            SqlState::CharacterNotInRepertoire,
            format!(
                "invalid byte sequence for encoding \"UTF8\": {}",
                bytes.join(" ")
            ),
        )
    })
}

/// A packet of the startup phase (no type byte; the first Int32 after the
/// length says what it is).
#[derive(Debug)]
pub(crate) enum StartupPacket {
    SslRequest,
    GssEncRequest,
    Cancel {
        process_id: i32,
        secret_key: Option<i32>,
    },
    Startup {
        major: u16,
        minor: u16,
        params: Vec<(String, String)>,
    },
}

const SSL_REQUEST_CODE: i32 = 80_877_103;
const GSSENC_REQUEST_CODE: i32 = 80_877_104;
const CANCEL_REQUEST_CODE: i32 = 80_877_102;

/// Splits one startup-phase packet off `buf`: Int32 length (including
/// itself, 8..=10000) then the body.
pub(crate) fn split_startup_packet(buf: &mut BytesMut) -> Result<Option<Bytes>, Error> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let length = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if length < 8 || length as usize > STARTUP_PACKET_BYTES_MAX {
        return Err(protocol_violation(format!(
            "invalid length of startup packet: {length}"
        )));
    }
    if buf.len() < length as usize {
        return Ok(None);
    }
    let mut packet = buf.split_to(length as usize);
    packet.advance(4);
    Ok(Some(packet.freeze()))
}

/// Decodes a startup-phase packet body.
pub(crate) fn decode_startup(body: Bytes) -> Result<StartupPacket, Error> {
    let mut r = Reader::new(body);
    let code = r.i32()?;
    match code {
        SSL_REQUEST_CODE => {
            r.finish()?;
            Ok(StartupPacket::SslRequest)
        }
        GSSENC_REQUEST_CODE => {
            r.finish()?;
            Ok(StartupPacket::GssEncRequest)
        }
        CANCEL_REQUEST_CODE => {
            let process_id = r.i32()?;
            // Protocol 3.2 allows keys of 4 to 256 bytes; Freshet issues
            // 4-byte keys, so a longer one cannot match any session.
            let key = r.rest();
            let secret_key =
                (key.len() == 4).then(|| i32::from_be_bytes([key[0], key[1], key[2], key[3]]));
            Ok(StartupPacket::Cancel {
                process_id,
                secret_key,
            })
        }
        version => {
            let major = (version >> 16) as u16;
            let minor = (version & 0xffff) as u16;
            let mut params = Vec::new();
            if major == 3 {
                loop {
                    let key = r.cstring()?;
                    if key.is_empty() {
                        break;
                    }
                    let value = r.cstring()?;
                    params.push((key, value));
                }
                if r.remaining() != 0 {
                    return Err(protocol_violation(
                        "invalid startup packet layout: expected terminator as last byte",
                    ));
                }
            }
            Ok(StartupPacket::Startup {
                major,
                minor,
                params,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(tag: u8, body: &[u8]) -> BytesMut {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[tag]);
        buf.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        buf.extend_from_slice(body);
        buf
    }

    #[test]
    fn splits_complete_frames_only() {
        let mut buf = frame(b'Q', b"select 1\0");
        let full = buf.clone();
        let mut partial = BytesMut::from(&full[..7]);
        assert!(split_frame(&mut partial, 1 << 30)
            .expect("valid prefix")
            .is_none());
        let (tag, body) = split_frame(&mut buf, 1 << 30)
            .expect("valid frame")
            .expect("complete frame");
        assert_eq!(tag, b'Q');
        assert!(buf.is_empty());
        match decode(tag, body).expect("valid query") {
            FrontendMessage::Query { sql } => assert_eq!(sql, "select 1"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rejects_garbage_type_and_lengths() {
        let mut garbage = BytesMut::from(&b"\x01\x02"[..]);
        assert_eq!(
            split_frame(&mut garbage, 1 << 30).unwrap_err().state,
            SqlState::ProtocolViolation
        );
        let mut short = BytesMut::from(&b"Q\x00\x00\x00\x02"[..]);
        assert!(split_frame(&mut short, 1 << 30).is_err());
        let mut huge_sync = BytesMut::from(&b"S\x00\x10\x00\x00"[..]);
        assert!(split_frame(&mut huge_sync, 1 << 30).is_err());
        let mut too_large = BytesMut::from(&b"Q\x7f\xff\xff\xff"[..]);
        assert!(split_frame(&mut too_large, 1 << 30).is_err());
    }

    #[test]
    fn rejects_invalid_utf8_and_truncated_bodies() {
        match decode(b'Q', Bytes::from_static(b"select \xff\0")).expect("well framed") {
            FrontendMessage::Invalid { tag: b'Q', error } => {
                assert_eq!(error.state, SqlState::CharacterNotInRepertoire);
                assert_eq!(
                    error.message,
                    "invalid byte sequence for encoding \"UTF8\": 0xff"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(decode(b'Q', Bytes::from_static(b"no terminator")).is_err());
        assert!(decode(b'Q', Bytes::from_static(b"a\0trailing")).is_err());
        // Bind claiming one parameter of 100 bytes with only 3 present.
        assert!(decode(b'B', Bytes::from_static(b"\0\0\0\0\0\x01\0\0\0\x64abc")).is_err());
        assert!(decode(b'E', Bytes::from_static(b"\0\0\0")).is_err());
        assert!(decode(b'D', Bytes::from_static(b"X\0")).is_err());
    }

    #[test]
    fn decodes_bind() {
        let body = b"p\0s\0\0\x01\0\x01\0\x02\0\0\0\x02hi\xff\xff\xff\xff\0\x01\0\0";
        match decode(b'B', Bytes::from_static(body)).expect("valid bind") {
            FrontendMessage::Bind {
                portal,
                statement,
                param_formats,
                params,
                result_formats,
            } => {
                assert_eq!(portal, "p");
                assert_eq!(statement, "s");
                assert_eq!(param_formats, vec![1]);
                assert_eq!(params, vec![Some(Bytes::from_static(b"hi")), None]);
                assert_eq!(result_formats, vec![0]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn decodes_startup_packets() {
        let mut buf = BytesMut::new();
        let body = b"\x00\x03\x00\x00user\0root\0database\0dev\0\0";
        buf.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        buf.extend_from_slice(body);
        let packet = split_startup_packet(&mut buf)
            .expect("valid")
            .expect("complete");
        match decode_startup(packet).expect("valid startup") {
            StartupPacket::Startup {
                major,
                minor,
                params,
            } => {
                assert_eq!((major, minor), (3, 0));
                assert_eq!(
                    params,
                    vec![
                        ("user".into(), "root".into()),
                        ("database".into(), "dev".into())
                    ]
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let mut bad = BytesMut::from(&b"\x7f\x00\x00\x00"[..]);
        assert!(split_startup_packet(&mut bad).is_err());
    }
}

/// A small mutation fuzzer for the message decoder: random and mutated
/// frames must decode to a message or an error, never panic.
/// `FRESHET_FUZZ_ITERATIONS` raises the count for a local soak.
#[cfg(test)]
mod fuzz {
    use super::*;

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// Valid frames to mutate: Query, Parse, Bind, Execute, Describe, Close, Sync, CopyData.
    fn seeds() -> Vec<Vec<u8>> {
        fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
            let mut v = vec![tag];
            v.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
            v.extend_from_slice(body);
            v
        }
        vec![
            frame(b'Q', b"SELECT 1\0"),
            frame(b'P', b"s1\0SELECT $1\0\0\x01\0\0\0\x17"),
            frame(b'B', b"\0s1\0\0\x01\0\x01\0\x01\0\0\0\x04\0\0\0\x07\0\x01\0\x01"),
            frame(b'E', b"\0\0\0\0\0"),
            frame(b'D', b"Ss1\0"),
            frame(b'C', b"Pp\0"),
            frame(b'S', b""),
            frame(b'd', b"1\tx\n"),
            frame(b'f', b"oops\0"),
            frame(b'X', b""),
        ]
    }

    #[test]
    fn decoder_never_panics() {
        let iterations: usize =
            std::env::var("FRESHET_FUZZ_ITERATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000);
        let mut state = 0x00c0_ffee_u64;
        let seeds = seeds();
        for i in 0..iterations {
            let mut bytes = seeds[(xorshift(&mut state) % seeds.len() as u64) as usize].clone();
            for _ in 0..1 + xorshift(&mut state) % 4 {
                let r = xorshift(&mut state);
                let pos = (r >> 8) as usize % (bytes.len() + 1);
                match r % 3 {
                    0 if pos < bytes.len() => bytes[pos] = (r >> 32) as u8,
                    1 => bytes.insert(pos, (r >> 40) as u8),
                    _ if pos < bytes.len() => {
                        bytes.remove(pos);
                    }
                    _ => {}
                }
            }
            let copy = bytes.clone();
            let outcome = std::panic::catch_unwind(move || {
                let mut buf = BytesMut::from(&bytes[..]);
                while let Ok(Some((tag, body))) = split_frame(&mut buf, 1 << 20) {
                    let _ = decode(tag, body);
                }
                let mut startup = BytesMut::from(&bytes[..]);
                if let Ok(Some(body)) = split_startup_packet(&mut startup) {
                    let _ = decode_startup(body);
                }
            });
            assert!(outcome.is_ok(), "iteration {i}: the decoder panicked on {copy:?}");
        }
    }
}
