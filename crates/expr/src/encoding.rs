//! `encode(bytea, format)` and `decode(text, format)`: bytea to and from
//! text in PostgreSQL's `hex`, `base64` and `escape` formats, with its
//! output (base64 lines of 76 characters) and its errors.

use freshet_common::{Error, Result, SqlState};

/// A text format of binary data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Hex,
    Base64,
    Escape,
}

impl Format {
    fn parse(name: &str) -> Result<Format> {
        match name.to_ascii_lowercase().as_str() {
            "hex" => Ok(Format::Hex),
            "base64" => Ok(Format::Base64),
            "escape" => Ok(Format::Escape),
            _ => Err(Error::new(SqlState::InvalidParameterValue, format!("unrecognized encoding: \"{name}\""))),
        }
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// PostgreSQL breaks base64 output into lines of this many characters.
const BASE64_LINE: usize = 76;

/// `encode(data, format)`.
pub fn encode(data: &[u8], format: &str) -> Result<String> {
    Ok(match Format::parse(format)? {
        Format::Hex => {
            let mut out = String::with_capacity(data.len() * 2);
            for b in data {
                out.push_str(&format!("{b:02x}"));
            }
            out
        }
        Format::Base64 => {
            let mut out = String::with_capacity(data.len() * 4 / 3 + 4);
            let mut line = 0;
            for chunk in data.chunks(3) {
                if line == BASE64_LINE {
                    out.push('\n');
                    line = 0;
                }
                let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32) << (8 * (3 - chunk.len()));
                for i in 0..4 {
                    if i <= chunk.len() {
                        out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
                    } else {
                        out.push('=');
                    }
                }
                line += 4;
            }
            out
        }
        Format::Escape => {
            let mut out = String::with_capacity(data.len());
            for &b in data {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    0 | 0x80..=0xff => out.push_str(&format!("\\{b:03o}")),
                    _ => out.push(b as char),
                }
            }
            out
        }
    })
}

/// `decode(text, format)`.
pub fn decode(text: &str, format: &str) -> Result<Vec<u8>> {
    let invalid = |msg: String| Error::new(SqlState::InvalidParameterValue, msg);
    match Format::parse(format)? {
        Format::Hex => {
            let mut out = Vec::with_capacity(text.len() / 2);
            let mut chars = text.chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'));
            while let Some(hi) = chars.next() {
                let digit = |c: char| c.to_digit(16).ok_or_else(|| invalid(format!("invalid hexadecimal digit: \"{c}\"")));
                let h = digit(hi)?;
                let lo = chars.next().ok_or_else(|| invalid("invalid hexadecimal data: odd number of digits".into()))?;
                out.push((h * 16 + digit(lo)?) as u8);
            }
            Ok(out)
        }
        Format::Base64 => {
            // PostgreSQL's decoder: groups of four symbols, '=' only as the
            // third or fourth of a group (ending the data), whitespace
            // skipped, and an incomplete last group an error.
            let end_error = || {
                invalid("invalid base64 end sequence".into())
                    .with_hint("Input data is missing padding, is truncated, or is otherwise corrupted.")
            };
            let mut out = Vec::with_capacity(text.len() * 3 / 4);
            let (mut buf, mut pos, mut end) = (0u32, 0usize, 0usize);
            for c in text.chars() {
                if matches!(c, ' ' | '\t' | '\n' | '\r') {
                    continue;
                }
                let value = if c == '=' {
                    if end == 0 {
                        end = match pos {
                            2 => 1,
                            3 => 2,
                            _ => return Err(invalid("unexpected \"=\" while decoding base64 sequence".into())),
                        };
                    }
                    0
                } else {
                    BASE64.iter().position(|b| *b as char == c).ok_or_else(|| {
                        invalid(format!("invalid symbol \"{c}\" found while decoding base64 sequence"))
                    })? as u32
                };
                buf = (buf << 6) | value;
                pos += 1;
                if pos == 4 {
                    out.push((buf >> 16) as u8);
                    if end == 0 || end > 1 {
                        out.push((buf >> 8) as u8);
                    }
                    if end == 0 || end > 2 {
                        out.push(buf as u8);
                    }
                    buf = 0;
                    pos = 0;
                }
            }
            if pos != 0 {
                return Err(end_error());
            }
            Ok(out)
        }
        Format::Escape => {
            let bytes = text.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] != b'\\' {
                    out.push(bytes[i]);
                    i += 1;
                } else if bytes.get(i + 1) == Some(&b'\\') {
                    out.push(b'\\');
                    i += 2;
                } else if i + 3 < bytes.len()
                    && matches!(bytes[i + 1], b'0'..=b'3')
                    && matches!(bytes[i + 2], b'0'..=b'7')
                    && matches!(bytes[i + 3], b'0'..=b'7')
                {
                    out.push((bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0'));
                    i += 4;
                } else {
                    return Err(Error::new(SqlState::InvalidTextRepresentation, "invalid input syntax for type bytea"));
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn round_trips_in_every_format() {
        let data: Vec<u8> = (0..=255u8).chain(b"hello \\ world".iter().copied()).collect();
        for format in ["hex", "base64", "escape", "HEX"] {
            let text = encode(&data, format).expect("encode");
            assert_eq!(decode(&text, format).expect("decode"), data, "{format}");
        }
    }

    #[test]
    fn matches_postgresql_output() {
        assert_eq!(encode(b"abc", "hex").unwrap(), "616263");
        assert_eq!(encode(b"ab", "base64").unwrap(), "YWI=");
        assert_eq!(encode(b"a\0\\\xff", "escape").unwrap(), "a\\000\\\\\\377");
        let long = encode(&[0u8; 60], "base64").unwrap();
        assert_eq!(long.lines().map(str::len).collect::<Vec<_>>(), vec![76, 4]);
        assert_eq!(decode("YW Jj\n", "base64").unwrap(), b"abc");
        assert!(decode("abc", "hex").is_err());
        assert!(decode("zz", "hex").is_err());
        assert_eq!(decode("YQ=a", "base64").unwrap(), b"a");
        assert!(decode("YQ", "base64").is_err());
        assert!(decode("YW=", "base64").is_err());
        assert!(decode("\\9", "escape").is_err());
        assert!(encode(b"", "rot13").is_err());
    }
}
