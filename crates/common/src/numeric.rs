//! `numeric` helpers on top of [`rust_decimal::Decimal`]: PostgreSQL's text
//! input (with exponents and typmod rounding), text output (keeping the
//! display scale), and the binary base-10000 wire format.
//!
//! Limits: a Decimal holds at most 28 fractional digits and about 28-29
//! significant digits; input beyond that is rounded to fit (PostgreSQL
//! would keep every digit), or rejected with 22003 when the integer part
//! does not fit. `NaN` and `±Infinity` are not representable (0A000).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::float_fmt::trim_c_space;
use crate::{Error, Result, SqlState};

/// Largest scale a Decimal can hold.
pub const MAX_SCALE: u32 = 28;

/// 22003 `value overflows numeric format`.
pub fn numeric_overflow() -> Error {
    Error::new(SqlState::NumericValueOutOfRange, "value overflows numeric format")
}

fn special_unsupported(what: &str) -> Error {
    Error::unsupported(format!("numeric value \"{what}\""))
}

/// Builds a Decimal from a decimal digit string (no sign, no leading
/// zeros needed) and a scale, rounding half away from zero to fit.
pub fn decimal_from_digits(negative: bool, digits: &str, scale: i64) -> Result<Decimal> {
    let mut digits: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    let mut scale = scale;
    // Strip leading zeros.
    let lead = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..lead);
    if digits.is_empty() {
        let mut z = Decimal::ZERO;
        z.rescale(scale.clamp(0, MAX_SCALE as i64) as u32);
        return Ok(z);
    }
    if scale - digits.len() as i64 > MAX_SCALE as i64 {
        // Below 10^-29: rounds to zero at the largest scale we can hold.
        let mut z = Decimal::ZERO;
        z.rescale(MAX_SCALE);
        return Ok(z);
    }
    if scale < 0 {
        // Integer with a positive exponent: append zeros.
        let zeros = (-scale) as usize;
        if digits.len() + zeros > 40 {
            return Err(numeric_overflow());
        }
        digits.extend(std::iter::repeat_n(0, zeros));
        scale = 0;
    }
    // Round away digits until the scale and magnitude fit a Decimal.
    loop {
        let fits_scale = scale <= MAX_SCALE as i64;
        let mut mant: u128 = 0;
        let mut fits = digits.len() <= 30;
        if fits {
            for d in &digits {
                mant = mant * 10 + *d as u128;
            }
            fits = mant < (1u128 << 96);
        }
        if fits_scale && fits {
            let mut dec = Decimal::from_i128_with_scale(mant as i128, scale as u32);
            if negative {
                dec.set_sign_negative(true);
            }
            return Ok(dec);
        }
        if scale <= 0 {
            return Err(numeric_overflow());
        }
        // Drop the last digit, rounding half away from zero.
        let last = digits.pop().unwrap_or(0);
        scale -= 1;
        if last >= 5 {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        if digits.is_empty() {
            digits.push(0);
        }
    }
}

/// A numeric literal split into its parts: `digits * 10^-scale`, or one
/// of the special values.
struct NumParts {
    negative: bool,
    digits: String,
    scale: i64,
    special: Option<Special>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Special {
    NaN,
    Infinity,
}

/// Lexes numeric input like PostgreSQL's `numeric_in`: surrounding
/// whitespace, sign, `.5`, `5.`, an exponent read as `strtol` would
/// (`1e 5` is accepted), and the special values `NaN`, `[+-]Infinity`,
/// `[+-]inf`.
fn lex_numeric(input: &str) -> Result<NumParts> {
    let s = trim_c_space(input);
    let bad = || Error::invalid_text("numeric", input);
    let lower = s.to_ascii_lowercase();
    let (sign_len, unsigned) = match lower.as_bytes().first() {
        Some(b'+') | Some(b'-') => (1, &lower[1..]),
        _ => (0, lower.as_str()),
    };
    if unsigned == "nan" && sign_len == 0 {
        return Ok(NumParts {
            negative: false,
            digits: String::new(),
            scale: 0,
            special: Some(Special::NaN),
        });
    }
    if unsigned == "infinity" || unsigned == "inf" {
        return Ok(NumParts {
            negative: lower.starts_with('-'),
            digits: String::new(),
            scale: 0,
            special: Some(Special::Infinity),
        });
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let mut digits = String::new();
    let mut scale: i64 = 0;
    let mut seen_digit = false;
    while i < b.len() && b[i].is_ascii_digit() {
        digits.push(b[i] as char);
        seen_digit = true;
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i] as char);
            scale += 1;
            seen_digit = true;
            i += 1;
        }
    }
    if !seen_digit {
        return Err(bad());
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        // strtol: leading whitespace, optional sign, at least one digit.
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            i += 1;
        }
        let mut eneg = false;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            eneg = b[i] == b'-';
            i += 1;
        }
        let start = i;
        let mut exp: i64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            exp = exp.saturating_mul(10).saturating_add((b[i] - b'0') as i64);
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        if exp >= (i32::MAX / 2) as i64 {
            return Err(numeric_overflow());
        }
        scale += if eneg { exp } else { -exp };
    }
    if i != b.len() {
        return Err(bad());
    }
    Ok(NumParts { negative, digits, scale, special: None })
}

/// Parses numeric input like PostgreSQL's `numeric_in` (without typmod):
/// surrounding whitespace, sign, `.5`, `5.`, exponents (`1.5e3`).
pub fn parse_numeric(input: &str) -> Result<Decimal> {
    let parts = lex_numeric(input)?;
    if parts.special.is_some() {
        return Err(special_unsupported(trim_c_space(input)));
    }
    let d = decimal_from_digits(parts.negative, &parts.digits, parts.scale)?;
    Ok(normalize_zero(d))
}

fn field_overflow(precision: u32, scale: u32) -> Error {
    let maxdigits = precision as i64 - scale as i64;
    let bound = if maxdigits != 0 { format!("10^{maxdigits}") } else { "1".to_string() };
    Error::new(SqlState::NumericValueOutOfRange, "numeric field overflow").with_detail(format!(
        "A field with precision {precision}, scale {scale} must round to an absolute value less than {bound}."
    ))
}

/// Parses input for `numeric(precision, scale)`: like `numeric_in` with a
/// typmod, the precision check happens on the exact digits, so values too
/// large for Freshet's numeric still report `numeric field overflow` as
/// PostgreSQL does.
pub fn parse_numeric_typmod(input: &str, precision: u32, scale: u32) -> Result<Decimal> {
    let parts = lex_numeric(input)?;
    match parts.special {
        Some(Special::Infinity) => {
            return Err(Error::new(SqlState::NumericValueOutOfRange, "numeric field overflow")
                .with_detail(format!(
                "A field with precision {precision}, scale {scale} cannot hold an infinite value."
            )))
        }
        Some(Special::NaN) => return Err(special_unsupported(trim_c_space(input))),
        None => {}
    }
    // Round the exact digit string to `scale` places, half away from zero.
    let digits = parts.digits.trim_start_matches('0');
    let target = scale as i64;
    let mut rounded: Vec<u8> = digits.bytes().map(|c| c - b'0').collect();
    if parts.scale > target {
        let cut = (parts.scale - target) as usize;
        if cut > rounded.len() {
            rounded.clear();
        } else {
            let keep = rounded.len() - cut;
            let up = rounded[keep] >= 5;
            rounded.truncate(keep);
            if up {
                let mut k = rounded.len();
                loop {
                    if k == 0 {
                        rounded.insert(0, 1);
                        break;
                    }
                    k -= 1;
                    if rounded[k] == 9 {
                        rounded[k] = 0;
                    } else {
                        rounded[k] += 1;
                        break;
                    }
                }
            }
        }
    } else {
        // Pad to the target scale.
        let pad = (target - parts.scale).min(1_000) as usize;
        if !rounded.is_empty() {
            rounded.extend(std::iter::repeat_n(0, pad));
        }
    }
    let lead = rounded.iter().take_while(|d| **d == 0).count();
    rounded.drain(..lead);
    if !rounded.is_empty() && rounded.len() as i64 - target > precision as i64 - scale as i64 {
        return Err(field_overflow(precision, scale));
    }
    let text: String = rounded.iter().map(|d| (b'0' + d) as char).collect();
    let d = decimal_from_digits(parts.negative, &text, target)?;
    apply_typmod(d, precision, scale)
}

/// Makes a zero positive (PostgreSQL has no negative zero numeric).
pub fn normalize_zero(mut d: Decimal) -> Decimal {
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    d
}

/// Number of decimal digits before the decimal point of |d|, counting
/// `0.05` as -1 and `0.5` as 0 (PostgreSQL's `ddigits` in `apply_typmod`);
/// `None` for zero.
fn integer_digits(d: &Decimal) -> Option<i64> {
    if d.is_zero() {
        return None;
    }
    let mant = d.mantissa().unsigned_abs();
    let ndigits = mant.to_string().len() as i64;
    Some(ndigits - d.scale() as i64)
}

/// Applies `numeric(precision, scale)`: rounds half away from zero to
/// `scale` digits, then raises 22003 `numeric field overflow` (with
/// PostgreSQL's detail) when the integer part needs more than
/// `precision - scale` digits.
pub fn apply_typmod(d: Decimal, precision: u32, scale: u32) -> Result<Decimal> {
    let s = scale.min(MAX_SCALE);
    let mut r = d.round_dp_with_strategy(s, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(s);
    let maxdigits = precision as i64 - scale as i64;
    if let Some(dd) = integer_digits(&r) {
        if dd > maxdigits {
            return Err(field_overflow(precision, scale));
        }
    }
    Ok(normalize_zero(r))
}

/// Appends the PostgreSQL text form: plain digits, keeping the scale
/// (`1.00`), never a negative zero.
pub fn format_numeric(d: &Decimal, out: &mut String) {
    use std::fmt::Write;
    let d = normalize_zero(*d);
    let _ = write!(out, "{d}");
}

/// Appends PostgreSQL's binary `numeric_send` form: ndigits, weight,
/// sign, dscale (all i16 big-endian) and base-10000 digits.
pub fn encode_numeric_binary(d: &Decimal, out: &mut Vec<u8>) {
    let dscale = d.scale();
    let negative = d.is_sign_negative() && !d.is_zero();
    let mut mant = d.mantissa().unsigned_abs();
    let pad = (4 - dscale % 4) % 4;
    for _ in 0..pad {
        mant *= 10;
    }
    let frac_groups = ((dscale + pad) / 4) as i32;
    let mut groups: Vec<i16> = Vec::new();
    while mant > 0 {
        groups.push((mant % 10_000) as i16);
        mant /= 10_000;
    }
    // groups[k] has weight k - frac_groups; strip zero groups at the end.
    let low_zero = groups.iter().take_while(|g| **g == 0).count();
    let weight = if groups.is_empty() { 0 } else { groups.len() as i32 - 1 - frac_groups };
    let digits: Vec<i16> = groups[low_zero..].iter().rev().copied().collect();
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&(if negative { 0x4000u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&(dscale as i16).to_be_bytes());
    for g in digits {
        out.extend_from_slice(&g.to_be_bytes());
    }
}

fn bin_err(msg: &str) -> Error {
    Error::new(SqlState::InvalidBinaryRepresentation, msg.to_string())
}

/// Decodes PostgreSQL's binary numeric; digits hidden by the display scale
/// are truncated, as `numeric_recv` does.
pub fn decode_numeric_binary(b: &[u8]) -> Result<Decimal> {
    let rd = |i: usize| -> Result<i16> {
        b.get(i..i + 2)
            .map(|s| i16::from_be_bytes([s[0], s[1]]))
            .ok_or_else(|| bin_err("insufficient data left in message"))
    };
    let ndigits = rd(0)?;
    let weight = rd(2)? as i64;
    let sign = rd(4)? as u16;
    let dscale = rd(6)?;
    if ndigits < 0 {
        return Err(bin_err("invalid length in external \"numeric\" value"));
    }
    if b.len() != 8 + 2 * ndigits as usize {
        if b.len() < 8 + 2 * ndigits as usize {
            return Err(bin_err("insufficient data left in message"));
        }
        return Err(bin_err("incorrect binary data format"));
    }
    match sign {
        0 | 0x4000 => {}
        0xC000 | 0xD000 | 0xF000 => return Err(special_unsupported("NaN/Infinity")),
        _ => return Err(bin_err("invalid sign in external \"numeric\" value")),
    }
    if !(0..=0x3FFF).contains(&dscale) {
        return Err(bin_err("invalid scale in external \"numeric\" value"));
    }
    let dscale = dscale as i64;
    // Build the decimal digit string: each group is 4 digits.
    let mut digits = String::new();
    for k in 0..ndigits as usize {
        let g = rd(8 + 2 * k)?;
        if !(0..10_000).contains(&g) {
            return Err(bin_err("invalid digit in external \"numeric\" value"));
        }
        digits.push_str(&format!("{g:04}"));
    }
    // Value = digits * 10^(4*(weight+1) - 4*ndigits).
    let exp10 = 4 * (weight + 1) - 4 * ndigits as i64;
    // Digits at positions finer than dscale are truncated away.
    let mut scale = -exp10;
    if scale > dscale {
        let cut = (scale - dscale) as usize;
        let keep = digits.len().saturating_sub(cut);
        digits.truncate(keep);
        scale = dscale;
    }
    if digits.is_empty() {
        digits.push('0');
    }
    // Extend to the display scale.
    while scale < dscale {
        digits.push('0');
        scale += 1;
    }
    if digits.len() > 60 && digits.trim_start_matches('0').len() > 40 {
        return Err(numeric_overflow());
    }
    let d = decimal_from_digits(sign == 0x4000, &digits, scale)?;
    Ok(normalize_zero(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(d: Decimal) -> String {
        let mut s = String::new();
        format_numeric(&d, &mut s);
        s
    }

    #[test]
    fn text_input_matches_postgres() {
        let cases = [
            ("   -0.50   ", "-0.50"),
            ("1e5", "100000"),
            ("1.5e1", "15"),
            ("1e-3", "0.001"),
            ("-0.00", "0.00"),
            (".5", "0.5"),
            ("5.", "5"),
            ("+993.99", "993.99"),
            ("1.00", "1.00"),
            ("000123.4500", "123.4500"),
        ];
        for (input, want) in cases {
            assert_eq!(fmt(parse_numeric(input).expect(input)), want, "{input}");
        }
        let e = parse_numeric("abc").expect_err("bad");
        assert_eq!(e.message, "invalid input syntax for type numeric: \"abc\"");
        assert!(parse_numeric("1e").is_err());
        assert!(parse_numeric("").is_err());
        assert!(parse_numeric("1.2.3").is_err());
        assert_eq!(parse_numeric("NaN").expect_err("nan").state, SqlState::FeatureNotSupported);
    }

    #[test]
    fn typmod_matches_postgres() {
        let d = parse_numeric("12345.678").expect("ok");
        let e = apply_typmod(d, 5, 2).expect_err("overflow");
        assert_eq!(e.message, "numeric field overflow");
        assert_eq!(
            e.detail.as_deref(),
            Some(
                "A field with precision 5, scale 2 must round to an absolute value less than 10^3."
            )
        );
        let e = apply_typmod(parse_numeric("0.5").expect("ok"), 2, 3).expect_err("overflow");
        assert_eq!(
            e.detail.as_deref(),
            Some("A field with precision 2, scale 3 must round to an absolute value less than 10^-1.")
        );
        let e = apply_typmod(parse_numeric("1").expect("ok"), 2, 2).expect_err("overflow");
        assert_eq!(
            e.detail.as_deref(),
            Some("A field with precision 2, scale 2 must round to an absolute value less than 1.")
        );
        assert_eq!(
            fmt(apply_typmod(parse_numeric("2.345").expect("ok"), 5, 2).expect("ok")),
            "2.35"
        );
        assert_eq!(
            fmt(apply_typmod(parse_numeric("-2.345").expect("ok"), 5, 2).expect("ok")),
            "-2.35"
        );
        assert_eq!(
            fmt(apply_typmod(parse_numeric("999.994").expect("ok"), 5, 2).expect("ok")),
            "999.99"
        );
        assert!(apply_typmod(parse_numeric("999.995").expect("ok"), 5, 2).is_err());
        assert_eq!(fmt(apply_typmod(parse_numeric("1").expect("ok"), 5, 2).expect("ok")), "1.00");
        assert_eq!(
            fmt(apply_typmod(parse_numeric("-0.001").expect("ok"), 5, 2).expect("ok")),
            "0.00"
        );
        assert_eq!(
            fmt(apply_typmod(parse_numeric("0.001").expect("ok"), 2, 3).expect("ok")),
            "0.001"
        );
    }

    #[test]
    fn binary_roundtrip() {
        // numeric_send of 12345.678 is ndigits 3, weight 1, sign 0,
        // dscale 3, digits [1, 2345, 6780].
        let d = parse_numeric("12345.678").expect("ok");
        let mut out = Vec::new();
        encode_numeric_binary(&d, &mut out);
        assert_eq!(out, vec![0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c]);
        for s in [
            "0",
            "0.00",
            "-1",
            "10000",
            "0.0001",
            "-993.99",
            "1e20",
            "0.000001234",
            "79228162514264337593543950335",
        ] {
            let d = parse_numeric(s).expect(s);
            let mut out = Vec::new();
            encode_numeric_binary(&d, &mut out);
            let back = decode_numeric_binary(&out).expect(s);
            assert_eq!(fmt(back), fmt(d), "{s}");
        }
        assert!(decode_numeric_binary(&[0, 1, 0, 0]).is_err());
        assert!(decode_numeric_binary(&[0, 1, 0, 0, 0x12, 0, 0, 0, 0x27, 0x10]).is_err());
    }
}
