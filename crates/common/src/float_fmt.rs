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

/// `digits * 10^exp10` as `odd * 2^pow2` when it is a dyadic rational with
/// a small odd part; `None` otherwise (then it cannot be a float bound).
fn dyadic(digits: u64, exp10: i32) -> Option<(u128, i32)> {
    if digits == 0 {
        return None;
    }
    let (mut val, mut pow2) = if exp10 >= 0 {
        let five = 5u128.checked_pow(exp10 as u32)?;
        ((digits as u128).checked_mul(five)?, exp10)
    } else {
        let j = (-exp10) as u32;
        let five = 5u128.checked_pow(j)?;
        if !(digits as u128).is_multiple_of(five) {
            return None;
        }
        ((digits as u128) / five, -(j as i32))
    };
    let tz = val.trailing_zeros();
    val >>= tz;
    pow2 += tz as i32;
    Some((val, pow2))
}

/// The two rounding bounds of a float, as `odd * 2^pow2` (Ryu's `mp` and
/// `mm` scaled by `2^e2`).
fn float_bounds(
    ieee_mantissa: u64,
    ieee_exponent: u32,
    mantissa_bits: u32,
    bias: i32,
) -> [(u128, i32); 2] {
    let (e2, m2) = if ieee_exponent == 0 {
        (1 - bias - mantissa_bits as i32 - 2, ieee_mantissa)
    } else {
        (
            ieee_exponent as i32 - bias - mantissa_bits as i32 - 2,
            (1u64 << mantissa_bits) | ieee_mantissa,
        )
    };
    let mm_shift = (ieee_mantissa != 0 || ieee_exponent <= 1) as u64;
    let norm = |v: u128, p: i32| {
        let tz = v.trailing_zeros();
        (v >> tz, p + tz as i32)
    };
    [norm(4 * m2 as u128 + 2, e2), norm(4 * m2 as u128 - 1 - mm_shift as u128, e2)]
}

/// PostgreSQL builds Ryu without `STRICTLY_SHORTEST`, so a candidate that
/// lies exactly on a rounding bound is rejected (the `ryu` crate accepts
/// it for even mantissas). Returns the digits PostgreSQL prints: ryu's
/// answer unless it sits on a bound, else the shortest correctly rounded
/// rendering strictly inside the interval.
fn postgres_shortest(
    ryu_out: &str,
    bounds: [(u128, i32); 2],
    max_digits: usize,
    render: impl Fn(usize) -> String,
    round_trips: impl Fn(&str) -> bool,
) -> String {
    let on_bound = |s: &str| -> bool {
        let (_, digits, exp) = shortest_parts(s);
        let Ok(d) = digits.parse::<u64>() else { return false };
        let exp10 = exp - (digits.len() as i32 - 1);
        match dyadic(d, exp10) {
            Some(x) => bounds.contains(&x),
            None => false,
        }
    };
    if !on_bound(ryu_out) {
        return ryu_out.to_string();
    }
    for p in 1..=max_digits {
        let cand = render(p);
        if round_trips(&cand) && !on_bound(&cand) {
            return cand;
        }
    }
    ryu_out.to_string()
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
        let bits = v.to_bits();
        let bounds = float_bounds(bits & ((1 << 52) - 1), ((bits >> 52) & 0x7ff) as u32, 52, 1023);
        let s = postgres_shortest(
            ryu::Buffer::new().format_finite(v),
            bounds,
            17,
            |p| format!("{:.*e}", p - 1, v),
            |c| c.parse::<f64>().map(|x| x == v).unwrap_or(false),
        );
        format_shortest(&s, 15, out);
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
        let bits = v.to_bits() as u64;
        let bounds = float_bounds(bits & ((1 << 23) - 1), ((bits >> 23) & 0xff) as u32, 23, 127);
        let s = postgres_shortest(
            ryu::Buffer::new().format_finite(v),
            bounds,
            9,
            |p| format!("{:.*e}", p - 1, v),
            |c| c.parse::<f32>().map(|x| x == v).unwrap_or(false),
        );
        format_shortest(&s, 6, out);
    }
}

/// Trims the characters C's `isspace` accepts.
pub(crate) fn trim_c_space(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'))
}

/// What `strtod` recognizes at the start of a string.
enum Prefix {
    /// A decimal number of `len` bytes; `nonzero` says whether any mantissa
    /// digit is non-zero (to tell underflow from a real zero).
    Decimal { len: usize, nonzero: bool },
    /// `inf`, `infinity` or `nan` (with optional sign) of `len` bytes.
    Special { len: usize },
    /// A hexadecimal float (`0x1.8p3`) of `len` bytes and its value.
    Hex { len: usize, value: f64 },
}

fn scan_prefix(s: &str) -> Option<Prefix> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let body = &s[i..];
    let lower: String = body.chars().take(8).collect::<String>().to_ascii_lowercase();
    if lower.starts_with("infinity") {
        return Some(Prefix::Special { len: i + 8 });
    }
    if lower.starts_with("inf") || lower.starts_with("nan") {
        return Some(Prefix::Special { len: i + 3 });
    }
    if lower.starts_with("0x") {
        let mut j = i + 2;
        let mut value = 0f64;
        let mut nd = 0;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            value = value * 16.0 + (b[j] as char).to_digit(16).unwrap_or(0) as f64;
            nd += 1;
            j += 1;
        }
        let mut scale = 0i32;
        if j < b.len() && b[j] == b'.' {
            let mut k = j + 1;
            while k < b.len() && b[k].is_ascii_hexdigit() {
                value = value * 16.0 + (b[k] as char).to_digit(16).unwrap_or(0) as f64;
                scale -= 4;
                nd += 1;
                k += 1;
            }
            if nd > 0 {
                j = k;
            }
        }
        if nd == 0 {
            // Just "0": strtod reads the zero and stops at the 'x'.
            return Some(Prefix::Decimal { len: i + 1, nonzero: false });
        }
        if j < b.len() && (b[j] == b'p' || b[j] == b'P') {
            let mut k = j + 1;
            let mut neg = false;
            if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                neg = b[k] == b'-';
                k += 1;
            }
            let start = k;
            let mut e: i32 = 0;
            while k < b.len() && b[k].is_ascii_digit() {
                e = e.saturating_mul(10).saturating_add((b[k] - b'0') as i32);
                k += 1;
            }
            if k > start {
                scale = scale.saturating_add(if neg { -e } else { e });
                j = k;
            }
        }
        let mut v = value * 2f64.powi(scale);
        if b.first() == Some(&b'-') {
            v = -v;
        }
        return Some(Prefix::Hex { len: j, value: v });
    }
    let mut nd = 0;
    let mut nonzero = false;
    while i < b.len() && b[i].is_ascii_digit() {
        nonzero |= b[i] != b'0';
        nd += 1;
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        let mut k = i + 1;
        while k < b.len() && b[k].is_ascii_digit() {
            nonzero |= b[k] != b'0';
            nd += 1;
            k += 1;
        }
        if nd > 0 {
            i = k;
        }
    }
    if nd == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut k = i + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let start = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > start {
            i = k;
        }
    }
    Some(Prefix::Decimal { len: i, nonzero })
}

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Parses like `strtod`/`strtof` and PostgreSQL's `float8in`/`float4in`:
/// leading whitespace, the longest valid prefix (range-checked first, as
/// PostgreSQL does), then only whitespace may follow.
fn parse_float_generic<T: std::str::FromStr + Copy>(
    input: &str,
    type_name: &str,
    is_inf: impl Fn(T) -> bool,
    is_zero: impl Fn(T) -> bool,
    from_f64: impl Fn(f64) -> T,
    range_text_is_prefix: bool,
) -> Result<T> {
    let bad = || Error::invalid_text(type_name, input);
    let s = input.trim_start_matches(is_c_space);
    let prefix = scan_prefix(s).ok_or_else(bad)?;
    let (len, value) = match prefix {
        Prefix::Decimal { len, nonzero } => {
            let v: T = s[..len].parse().map_err(|_| bad())?;
            if is_inf(v) || (is_zero(v) && nonzero) {
                let shown = if range_text_is_prefix { &s[..len] } else { input };
                return Err(Error::new(
                    SqlState::NumericValueOutOfRange,
                    format!("\"{shown}\" is out of range for type {type_name}"),
                ));
            }
            (len, v)
        }
        Prefix::Special { len } => {
            let text = &s[..len];
            let v: T = text.parse().map_err(|_| bad())?;
            (len, v)
        }
        Prefix::Hex { len, value } => (len, from_f64(value)),
    };
    if !s[len..].chars().all(is_c_space) {
        return Err(bad());
    }
    Ok(value)
}

/// Parses float8 input as PostgreSQL's `float8in`: whitespace around,
/// `Infinity`/`inf`/`NaN` in any case, exponents, hex floats; 22P02 on bad
/// syntax, 22003 when the value overflows or underflows to zero.
pub fn parse_f64(input: &str) -> Result<f64> {
    parse_float_generic::<f64>(
        input,
        "double precision",
        |v| v.is_infinite(),
        |v| v == 0.0,
        |v| v,
        true,
    )
}

/// Parses float4 input as PostgreSQL's `float4in` (see [`parse_f64`]).
pub fn parse_f32(input: &str) -> Result<f32> {
    parse_float_generic::<f32>(
        input,
        "real",
        |v| v.is_infinite(),
        |v| v == 0.0,
        |v| v as f32,
        false,
    )
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
        assert_eq!(f4("-336454.119".parse().expect("f32")), "-336454.12");
        assert_eq!(f4("365176.137".parse().expect("f32")), "365176.12");
        // A shortest candidate exactly on a rounding bound is rejected, as
        // in PostgreSQL's Ryu build (9e9 rounds to 8999999488 as a real).
        assert_eq!(f4(9e9), "8.999999e+09");
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
