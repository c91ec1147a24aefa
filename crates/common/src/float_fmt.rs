//! PostgreSQL's float4/float8 text I/O with `extra_float_digits = 1`
//! (the default since PostgreSQL 12): the shortest decimal string that
//! round-trips, printed like `src/common/d2s.c` (fixed notation when the
//! decimal exponent is in `[-4, 15)` for float8 or `[-4, 6)` for float4,
//! otherwise `d.ddde+XX`).

use crate::{Error, Result, SqlState};

/// Splits a decimal rendering (`0.1`, `1e20`, `1.5e-7`, `123.45`) into
/// (negative, significant digits, exponent of the first digit).
fn shortest_parts(s: &str) -> (bool, String, i32) {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (mant, exp) = s.split_once(['e', 'E']).unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let all: String = format!("{int}{frac}");
    let lead = all.bytes().take_while(|c| *c == b'0').count();
    let mut digits = all[lead..].to_string();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    if digits.is_empty() {
        digits.push('0');
    }
    (neg, digits, int.len() as i32 - lead as i32 - 1 + exp)
}

fn format_shortest(sci: &str, fixed_max_exp: i32, out: &mut String) {
    let (neg, digits, exp) = shortest_parts(sci);
    if neg {
        out.push('-');
    }
    if (-4..fixed_max_exp).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    }
}

/// Appends a float8 as PostgreSQL prints it (`0.1`, `1e+20`, `-0`, `NaN`).
pub fn format_f64(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
    } else {
        // Ryu, as PostgreSQL's d2s.c: shortest round-trip digits with
        // ties broken to even (Rust's own `{:e}` breaks some ties upward).
        format_shortest(ryu::Buffer::new().format_finite(v), 15, out);
    }
}

/// Appends a float4 as PostgreSQL prints it (`0.1`, `1.234567e+06`).
pub fn format_f32(v: f32, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
    } else {
        format_shortest(ryu::Buffer::new().format_finite(v), 6, out);
    }
}

/// Trims the characters C's `isspace` accepts.
pub(crate) fn trim_c_space(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'))
}

/// Classification of a trimmed float literal.
enum FloatLit {
    /// A decimal number; `nonzero` says whether any mantissa digit is
    /// non-zero (to detect underflow to zero).
    Decimal { nonzero: bool },
    Special,
    Hex,
}

fn classify(s: &str) -> Option<FloatLit> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return Some(FloatLit::Special);
    }
    if lower.starts_with("0x") {
        return Some(FloatLit::Hex);
    }
    let b = body.as_bytes();
    let mut i = 0;
    let mut ndigits = 0;
    let mut nonzero = false;
    while i < b.len() && b[i].is_ascii_digit() {
        nonzero |= b[i] != b'0';
        ndigits += 1;
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            nonzero |= b[i] != b'0';
            ndigits += 1;
            i += 1;
        }
    }
    if ndigits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    (i == b.len()).then_some(FloatLit::Decimal { nonzero })
}

fn parse_hex(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let hex = &body[2..];
    if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut v = 0f64;
    for c in hex.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    Some(if neg { -v } else { v })
}

/// Parses float8 input as PostgreSQL's `float8in`: whitespace around,
/// `Infinity`/`inf`/`NaN` in any case, exponents; 22P02 on bad syntax,
/// 22003 when the value overflows or underflows to zero.
pub fn parse_f64(input: &str) -> Result<f64> {
    parse_float(input, "double precision").map(|(v, _)| v)
}

/// Parses float4 input as PostgreSQL's `float4in` (see [`parse_f64`]).
pub fn parse_f32(input: &str) -> Result<f32> {
    let s = trim_c_space(input);
    let bad = || Error::invalid_text("real", input);
    let lit = classify(s).ok_or_else(bad)?;
    let v: f32 = match lit {
        FloatLit::Hex => parse_hex(s).ok_or_else(bad)? as f32,
        _ => s.parse().map_err(|_| bad())?,
    };
    if let FloatLit::Decimal { nonzero } = lit {
        if v.is_infinite() || (v == 0.0 && nonzero) {
            return Err(Error::new(
                SqlState::NumericValueOutOfRange,
                format!("\"{s}\" is out of range for type real"),
            ));
        }
    }
    Ok(v)
}

fn parse_float(input: &str, type_name: &str) -> Result<(f64, bool)> {
    let s = trim_c_space(input);
    let bad = || Error::invalid_text(type_name, input);
    let lit = classify(s).ok_or_else(bad)?;
    let v: f64 = match lit {
        FloatLit::Hex => parse_hex(s).ok_or_else(bad)?,
        _ => s.parse().map_err(|_| bad())?,
    };
    if let FloatLit::Decimal { nonzero } = lit {
        if v.is_infinite() || (v == 0.0 && nonzero) {
            return Err(Error::new(
                SqlState::NumericValueOutOfRange,
                format!("\"{s}\" is out of range for type {type_name}"),
            ));
        }
    }
    Ok((v, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f8(v: f64) -> String {
        let mut s = String::new();
        format_f64(v, &mut s);
        s
    }
    fn f4(v: f32) -> String {
        let mut s = String::new();
        format_f32(v, &mut s);
        s
    }

    #[test]
    fn output_matches_postgres() {
        // Expected strings from PostgreSQL 15.
        assert_eq!(f8(0.1), "0.1");
        assert_eq!(f8(1e20), "1e+20");
        assert_eq!(f8(1.5e-7), "1.5e-07");
        assert_eq!(f8(1e15), "1e+15");
        assert_eq!(f8(123456789012345.0), "123456789012345");
        assert_eq!(f8(1e16), "1e+16");
        assert_eq!(f8(0.0001), "0.0001");
        assert_eq!(f8(1e-5), "1e-05");
        assert_eq!(f8(1e100), "1e+100");
        assert_eq!(f8(1e-320), "1e-320");
        assert_eq!(f8(-0.0), "-0");
        assert_eq!(f8(123456789.123), "123456789.123");
        assert_eq!(f8(f64::NAN), "NaN");
        assert_eq!(f8(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(f8(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(f4(0.1), "0.1");
        assert_eq!(f4(123456.0), "123456");
        assert_eq!(f4(1234567.0), "1.234567e+06");
        assert_eq!(f4(1e6), "1e+06");
        assert_eq!(f4(1e-5), "1e-05");
        assert_eq!(f4(3.4028235e38), "3.4028235e+38");
        assert_eq!(f4(1.1754944e-38), "1.1754944e-38");
        // A tie between two shortest candidates goes to the even digit.
        assert_eq!(f4(-336454.119), "-336454.12");
        assert_eq!(f4(365176.137), "365176.12");
    }

    #[test]
    fn input_matches_postgres() {
        assert_eq!(parse_f64("  1.5  ").expect("ok"), 1.5);
        assert_eq!(parse_f64("-0").expect("ok").to_bits(), (-0.0f64).to_bits());
        assert!(parse_f64("nan").expect("ok").is_nan());
        assert_eq!(parse_f64("-inf").expect("ok"), f64::NEG_INFINITY);
        assert_eq!(parse_f64("Infinity").expect("ok"), f64::INFINITY);
        assert_eq!(parse_f64("1e-320").expect("ok"), 1e-320);
        assert_eq!(parse_f64("0x10").expect("ok"), 16.0);
        assert_eq!(parse_f64(".5").expect("ok"), 0.5);
        assert_eq!(parse_f64("5.").expect("ok"), 5.0);
        let e = parse_f64("").expect_err("empty");
        assert_eq!(e.message, "invalid input syntax for type double precision: \"\"");
        let e = parse_f64("1e400").expect_err("overflow");
        assert_eq!(e.message, "\"1e400\" is out of range for type double precision");
        assert_eq!(e.state.code(), "22003");
        let e = parse_f64("1e-400").expect_err("underflow");
        assert_eq!(e.message, "\"1e-400\" is out of range for type double precision");
        let e = parse_f32("1e40").expect_err("overflow");
        assert_eq!(e.message, "\"1e40\" is out of range for type real");
        assert!(parse_f32("1e-46").is_err());
        assert_eq!(parse_f32("1e-40").expect("denormal"), 1e-40);
        assert!(parse_f64("1e").is_err());
        assert!(parse_f64("abc").is_err());
        assert!(parse_f64("1.5x").is_err());
    }

    #[test]
    fn roundtrip_random() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_nan() {
                continue;
            }
            let s = f8(v);
            assert_eq!(parse_f64(&s).expect(&s).to_bits(), v.to_bits(), "{s}");
            let v4 = f32::from_bits(x as u32);
            if v4.is_nan() {
                continue;
            }
            let s = f4(v4);
            assert_eq!(parse_f32(&s).expect(&s).to_bits(), v4.to_bits(), "{s}");
        }
    }
}
