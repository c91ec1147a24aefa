//! `to_char(number, text)` and `to_number(text, text)`: PostgreSQL's
//! `NUM_processor` (`src/backend/utils/adt/formatting.c`), transcribed.
//!
//! `to_char` first renders the value as a plain digit string the way each
//! of PostgreSQL's `*_to_char` functions does (integers exactly, numeric
//! rounded to the template's fraction digits, floats with at most 15 (6 for
//! real) significant digits, `#` everywhere when the integer part does not
//! fit), then walks the template, placing digits, signs, separators and
//! literal text. `to_number` walks the template over the input, collecting
//! a sign, digits and a decimal point, and reads the result as
//! `numeric(precision, scale)`.
//!
//! Freshet's only locale is C: the decimal point is `.`, the group
//! separator `,`, the currency symbol a space and the signs `+`/`-`, which
//! is what PostgreSQL uses under `lc_numeric = lc_monetary = C`.

use freshet_common::numeric::apply_typmod;
use freshet_common::{Error, Numeric, Result, SqlState};

use super::template::{
    NameCase, NumberDesc, NumberField, NumberNode, NumberTemplate, SignPosition,
};
use super::{ordinal_suffix, DBL_DIG, FLT_DIG};

/// A value `to_char` formats with a number template; the variants follow
/// PostgreSQL's overloads (smaller integers are widened to `Int4`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum NumberValue<'a> {
    Int4(i32),
    Int8(i64),
    Numeric(&'a Numeric),
    Float4(f32),
    Float8(f64),
}

const NEGATIVE_SIGN: &str = "-";
const POSITIVE_SIGN: &str = "+";
const DECIMAL_POINT: &str = ".";
const GROUP_SEPARATOR: &str = ",";
const CURRENCY_SYMBOL: &str = " ";

/// The digits `to_char` lays out: the value's absolute value as text, its
/// sign, and how many digit positions stay blank before it.
struct Rendered {
    digits: Vec<u8>,
    /// `b'+'`, `b'-'`, or 0 for Roman numerals.
    sign: u8,
    pre_spaces: i32,
}

/// `#` in every digit position, with the decimal point kept (PostgreSQL's
/// overflow marker).
fn overflow_digits(desc: &NumberDesc) -> Vec<u8> {
    let len = (desc.pre + desc.post + 1).max(1) as usize;
    let mut v = vec![b'#'; len];
    if let Some(p) = v.get_mut(desc.pre.max(0) as usize) {
        *p = b'.';
    }
    v
}

/// `#`s for a NaN or infinity in `EEEE` notation: room for the sign, the
/// point, `e`, the exponent sign and two digits.
fn overflow_exponent_digits(desc: &NumberDesc) -> Vec<u8> {
    let len = (desc.pre + desc.post + 6).max(1) as usize;
    let mut v = vec![b'#'; len];
    v[0] = b' ';
    if let Some(p) = v.get_mut((desc.pre + 1).max(0) as usize) {
        *p = b'.';
    }
    v
}

/// Splits a leading `-` off a rendered number.
fn split_sign(text: String) -> (u8, Vec<u8>) {
    match text.strip_prefix('-') {
        Some(rest) => (b'-', rest.as_bytes().to_vec()),
        None => (b'+', text.into_bytes()),
    }
}

/// Pads the integer part to the template's digit count, or turns the
/// digits into `#` when it does not fit.
fn fit(desc: &NumberDesc, sign: u8, digits: Vec<u8>) -> Rendered {
    let pre_len = digits
        .iter()
        .position(|&c| c == b'.')
        .unwrap_or(digits.len()) as i64;
    let pre = desc.pre as i64;
    if pre_len < pre {
        Rendered {
            digits,
            sign,
            pre_spaces: (pre - pre_len) as i32,
        }
    } else if pre_len > pre {
        Rendered {
            digits: overflow_digits(desc),
            sign,
            pre_spaces: 0,
        }
    } else {
        Rendered {
            digits,
            sign,
            pre_spaces: 0,
        }
    }
}

/// Roman numerals for 1..=3999, else fifteen `#` (`int_to_roman`).
fn int_to_roman(number: i32) -> Vec<u8> {
    if !(1..=3999).contains(&number) {
        return vec![b'#'; 15];
    }
    const THOUSANDS: [&str; 4] = ["", "M", "MM", "MMM"];
    const HUNDREDS: [&str; 10] = ["", "C", "CC", "CCC", "CD", "D", "DC", "DCC", "DCCC", "CM"];
    const TENS: [&str; 10] = ["", "X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC"];
    const ONES: [&str; 10] = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"];
    let n = number as usize;
    format!(
        "{}{}{}{}",
        THOUSANDS[n / 1000],
        HUNDREDS[n / 100 % 10],
        TENS[n / 10 % 10],
        ONES[n % 10]
    )
    .into_bytes()
}

/// C's `(int) rint(x)` on x86-64: out-of-range values and NaN become
/// `INT_MIN` (which prints as `#`s).
fn rint_to_i32(x: f64) -> i32 {
    let r = x.round_ties_even();
    if r.is_nan() || r < i32::MIN as f64 || r > i32::MAX as f64 {
        i32::MIN
    } else {
        r as i32
    }
}

/// C's `%+.*e` (as `psprintf` prints it), with the leading `+` turned
/// into a space.
fn float_exponent(v: f64, precision: usize) -> Vec<u8> {
    let s = format!("{v:.precision$e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if mantissa.starts_with('-') { "" } else { " " };
    format!("{sign}{mantissa}e{exponent:+03}").into_bytes()
}

/// PostgreSQL's `snprintf` `%.*f`: `NaN`, `Infinity` and `-Infinity`
/// spelled out, otherwise the exactly rounded decimal (ties to even, as
/// glibc prints it).
fn pg_fixed(v: f64, precision: usize) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v < 0.0 { "-Infinity" } else { "Infinity" }.to_string()
    } else {
        format!("{v:.precision$}")
    }
}

/// PostgreSQL's `numeric_out_sci`: one digit before the point, `scale`
/// after it (rounded half away from zero, and not renormalized when that
/// carries into a second digit: 9.999 at scale 2 is `10.00e+00`), then
/// `e` and a signed exponent of at least two digits.
fn numeric_scientific(value: &Numeric, scale: i32) -> String {
    let scale = scale.max(0) as usize;
    let text = value.abs().to_string();
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let int_part = int_part.trim_start_matches('0');
    let (exponent, significant): (i64, String) = if !int_part.is_empty() {
        (
            (int_part.len() - 1) as i64,
            format!("{int_part}{frac_part}"),
        )
    } else {
        let zeros = frac_part.len() - frac_part.trim_start_matches('0').len();
        if zeros == frac_part.len() {
            (0, String::new())
        } else {
            (-(zeros as i64) - 1, frac_part[zeros..].to_string())
        }
    };
    // Digits of the significand: one before the point, `scale` after.
    let mut digits: Vec<u8> = significant.bytes().take(scale + 1).collect();
    let round_up = significant
        .as_bytes()
        .get(scale + 1)
        .is_some_and(|&d| d >= b'5');
    digits.resize(scale + 1, b'0');
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - scale;
    let mut out = String::new();
    if value.is_negative() {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&digits[..int_len]).unwrap_or("0"));
    if scale > 0 {
        out.push('.');
        out.push_str(std::str::from_utf8(&digits[int_len..]).unwrap_or(""));
    }
    out.push_str(&format!("e{exponent:+03}"));
    out
}

fn integer_out_of_range() -> Error {
    Error::out_of_range("integer")
}

fn bigint_out_of_range() -> Error {
    Error::out_of_range("bigint")
}

/// `numeric_int4` of a rounded numeric, with PostgreSQL's errors.
fn numeric_to_i32(x: &Numeric) -> Result<i32> {
    if x.is_nan() {
        return Err(Error::new(
            SqlState::FeatureNotSupported,
            "cannot convert NaN to integer",
        ));
    }
    if x.is_infinite() {
        return Err(Error::new(
            SqlState::FeatureNotSupported,
            "cannot convert infinity to integer",
        ));
    }
    x.to_i64_rounded()
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(integer_out_of_range)
}

/// `10^exponent` as PostgreSQL's `numeric_power(10, exponent)` computes it.
fn numeric_power_of_ten(exponent: i32) -> Result<Numeric> {
    Numeric::from(10).pow(&Numeric::from(exponent))
}

/// Renders `value` for `desc` as the type's `*_to_char` function does
/// before laying it out (which can change `desc`: `V` widens the integer
/// part, floats cap the fraction digits).
fn render(value: NumberValue<'_>, desc: &mut NumberDesc) -> Result<Rendered> {
    let plain = |digits: Vec<u8>| Rendered {
        digits,
        sign: 0,
        pre_spaces: 0,
    };
    match value {
        NumberValue::Int4(v) => {
            if desc.roman {
                return Ok(plain(int_to_roman(v)));
            }
            if desc.exponent {
                return Ok(plain(float_exponent(v as f64, desc.post.max(0) as usize)));
            }
            let v = if desc.multiply {
                // `(int32) pow(10, n)`: INT_MIN once 10^n leaves int32; the
                // product wraps (PostgreSQL is built with -fwrapv).
                let factor = u32::try_from(desc.multiplier)
                    .ok()
                    .and_then(|n| 10i32.checked_pow(n))
                    .unwrap_or(i32::MIN);
                desc.pre += desc.multiplier;
                v.wrapping_mul(factor)
            } else {
                v
            };
            Ok(render_integer(desc, v.to_string()))
        }
        NumberValue::Int8(v) => {
            if desc.roman {
                let v = i32::try_from(v).map_err(|_| integer_out_of_range())?;
                return Ok(plain(int_to_roman(v)));
            }
            if desc.exponent {
                return Ok(plain(with_sign_space(numeric_scientific(
                    &Numeric::from(v),
                    desc.post,
                ))));
            }
            let v = if desc.multiply {
                let factor = u32::try_from(desc.multiplier)
                    .ok()
                    .and_then(|n| 10i64.checked_pow(n))
                    .ok_or_else(bigint_out_of_range)?;
                desc.pre += desc.multiplier;
                v.checked_mul(factor).ok_or_else(bigint_out_of_range)?
            } else {
                v
            };
            Ok(render_integer(desc, v.to_string()))
        }
        NumberValue::Numeric(v) => {
            if desc.roman {
                return Ok(plain(int_to_roman(numeric_to_i32(&v.round_to(0)?)?)));
            }
            if desc.exponent {
                if !v.is_finite() {
                    return Ok(plain(overflow_exponent_digits(desc)));
                }
                return Ok(plain(with_sign_space(numeric_scientific(v, desc.post))));
            }
            let scaled;
            let v = if desc.multiply {
                scaled = v.checked_mul(&numeric_power_of_ten(desc.multiplier)?)?;
                desc.pre += desc.multiplier;
                &scaled
            } else {
                v
            };
            // numeric_round clamps the scale to NUMERIC_MAX_RESULT_SCALE.
            let rounded =
                v.round_to((desc.post as i64).min(freshet_common::numeric::MAX_RESULT_SCALE))?;
            let (sign, digits) = split_sign(rounded.to_string());
            Ok(fit(desc, sign, digits))
        }
        NumberValue::Float4(v) => {
            if desc.roman {
                return Ok(plain(int_to_roman(rint_to_i32(v as f64))));
            }
            if desc.exponent {
                if !v.is_finite() {
                    return Ok(plain(overflow_exponent_digits(desc)));
                }
                return Ok(plain(float_exponent(v as f64, desc.post.max(0) as usize)));
            }
            let v = if desc.multiply {
                let factor = 10f64.powi(desc.multiplier) as f32;
                desc.pre += desc.multiplier;
                v * factor
            } else {
                v
            };
            Ok(render_float(desc, v as f64, FLT_DIG))
        }
        NumberValue::Float8(v) => {
            if desc.roman {
                return Ok(plain(int_to_roman(rint_to_i32(v))));
            }
            if desc.exponent {
                if !v.is_finite() {
                    return Ok(plain(overflow_exponent_digits(desc)));
                }
                return Ok(plain(float_exponent(v, desc.post.max(0) as usize)));
            }
            let v = if desc.multiply {
                desc.pre += desc.multiplier;
                v * 10f64.powi(desc.multiplier)
            } else {
                v
            };
            Ok(render_float(desc, v, DBL_DIG))
        }
    }
}

/// A space in place of the `+` PostgreSQL's `%+e` would print, so that
/// positive and negative numbers align.
fn with_sign_space(s: String) -> Vec<u8> {
    if s.starts_with('-') {
        s.into_bytes()
    } else {
        format!(" {s}").into_bytes()
    }
}

/// An integer's digits, zero-padded after the point to the template's
/// fraction digits.
fn render_integer(desc: &NumberDesc, text: String) -> Rendered {
    let (sign, mut digits) = split_sign(text);
    let pre_len = digits.len() as i64;
    if desc.post > 0 {
        digits.push(b'.');
        digits.extend(std::iter::repeat_n(b'0', desc.post as usize));
    }
    if pre_len < desc.pre as i64 {
        Rendered {
            digits,
            sign,
            pre_spaces: (desc.pre as i64 - pre_len) as i32,
        }
    } else if pre_len > desc.pre as i64 {
        Rendered {
            digits: overflow_digits(desc),
            sign,
            pre_spaces: 0,
        }
    } else {
        Rendered {
            digits,
            sign,
            pre_spaces: 0,
        }
    }
}

/// A float's digits with at most `max_digits` significant digits in all
/// (the fraction gets what the integer part leaves).
fn render_float(desc: &mut NumberDesc, v: f64, max_digits: i32) -> Rendered {
    let pre_len = pg_fixed(v.abs(), 0).len() as i64;
    if pre_len >= max_digits as i64 {
        desc.post = 0;
    } else if pre_len + desc.post as i64 > max_digits as i64 {
        desc.post = max_digits - pre_len as i32;
    }
    let (sign, digits) = split_sign(pg_fixed(v, desc.post.max(0) as usize));
    fit(desc, sign, digits)
}

/// Formats a number with a parsed template: the body of PostgreSQL's
/// `*_to_char` number functions.
pub(crate) fn format_number(value: NumberValue<'_>, template: &NumberTemplate) -> Result<String> {
    let mut desc = template.desc;
    let rendered = render(value, &mut desc)?;
    if desc.exponent {
        // EEEE output is the number alone; the rest of the template is ignored.
        return Ok(String::from_utf8_lossy(&rendered.digits).into_owned());
    }
    let mut writer = CharWriter::new(desc, rendered);
    for node in &template.nodes {
        writer.node(node)?;
    }
    Ok(writer.finish())
}

/// The state of one `to_char` layout pass (the to_char half of
/// PostgreSQL's `NUMProc`).
struct CharWriter {
    desc: NumberDesc,
    digits: Vec<u8>,
    /// Next digit to place.
    next: usize,
    sign: u8,
    sign_written: bool,
    /// Digits placed so far; group separators print only after one.
    in_number: bool,
    /// Index of the current digit position of the template.
    position: i32,
    num_count: i32,
    pre_spaces: i32,
    /// With `FM`, the last fraction digit worth printing.
    last_relevant: Option<usize>,
    out: Vec<u8>,
}

impl CharWriter {
    fn new(mut desc: NumberDesc, rendered: Rendered) -> CharWriter {
        if desc.zero_start > 0 {
            desc.zero_start -= 1;
        }
        if desc.roman {
            let fill_mode = desc.fill_mode;
            desc = NumberDesc {
                roman: true,
                fill_mode,
                multiplier: desc.multiplier,
                zero_start: desc.zero_start,
                zero_end: desc.zero_end,
                ..NumberDesc::default()
            };
        }
        let sign = rendered.sign;
        let sign_written;
        if desc.plus || desc.minus {
            // MI/PL/SG print the sign themselves; only PL alone also needs
            // the number's own sign position.
            sign_written = !desc.plus || desc.minus;
        } else {
            if sign != b'-' && desc.brackets && desc.fill_mode {
                desc.brackets = false;
            }
            sign_written = sign == b'+' && desc.fill_mode && !desc.locale_sign;
            if desc.sign_position == SignPosition::Leading && desc.pre == desc.pre_sign_position {
                desc.sign_position = SignPosition::Trailing;
            }
        }
        let mut num_count = desc.post + desc.pre - 1;
        let pre_spaces = rendered.pre_spaces;
        let digits = rendered.digits;
        let mut last_relevant = None;
        if desc.fill_mode && desc.decimal {
            last_relevant = last_relevant_decimal(&digits);
            if let Some(lr) = last_relevant {
                if desc.zero_end > pre_spaces {
                    let last_zero =
                        (digits.len() as i64 - 1).min((desc.zero_end - pre_spaces) as i64);
                    if (lr as i64) < last_zero {
                        last_relevant = Some(last_zero as usize);
                    }
                }
            }
        }
        if !sign_written && pre_spaces == 0 {
            num_count += 1;
        }
        CharWriter {
            desc,
            digits,
            next: 0,
            sign,
            sign_written,
            in_number: false,
            position: 0,
            num_count,
            pre_spaces,
            last_relevant,
            out: Vec::new(),
        }
    }

    /// The digit at `i`, or NUL past the end (as C reads its terminator).
    fn digit_at(&self, i: usize) -> u8 {
        self.digits.get(i).copied().unwrap_or(0)
    }

    fn last_relevant_is_point(&self) -> bool {
        self.last_relevant.is_some_and(|i| self.digit_at(i) == b'.')
    }

    /// PostgreSQL's `IS_PREDEC_SPACE`: a lone leading zero before the
    /// point prints as a space (`0.1` with `9.9` is ` .1`).
    fn predecimal_space(&self) -> bool {
        !self.desc.zero && self.next == 0 && self.digit_at(0) == b'0' && self.desc.post != 0
    }

    fn push_str(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    /// A digit, `0` or decimal point position (`NUM_numpart_to_char`).
    fn number_position(&mut self, field: NumberField) {
        if self.desc.roman {
            return;
        }
        self.in_number = false;
        if !self.sign_written
            && (self.position >= self.pre_spaces
                || (self.desc.zero && self.desc.zero_start == self.position))
            && (!self.predecimal_space() || self.last_relevant_is_point())
        {
            if self.desc.locale_sign {
                if self.desc.sign_position == SignPosition::Leading {
                    self.push_str(if self.sign == b'-' {
                        NEGATIVE_SIGN
                    } else {
                        POSITIVE_SIGN
                    });
                    self.sign_written = true;
                }
            } else if self.desc.brackets {
                self.out.push(if self.sign == b'+' { b' ' } else { b'<' });
                self.sign_written = true;
            } else if self.sign == b'+' {
                if !self.desc.fill_mode {
                    self.out.push(b' ');
                }
                self.sign_written = true;
            } else if self.sign == b'-' {
                self.out.push(b'-');
                self.sign_written = true;
            }
        }
        if !matches!(
            field,
            NumberField::Nine | NumberField::Zero | NumberField::LocaleDecimal | NumberField::Point
        ) {
            self.position += 1;
            return;
        }
        if self.position < self.pre_spaces
            && (self.desc.zero_start > self.position || !self.desc.zero)
        {
            if !self.desc.fill_mode {
                self.out.push(b' ');
            }
        } else if self.desc.zero
            && self.position < self.pre_spaces
            && self.desc.zero_start <= self.position
        {
            self.out.push(b'0');
            self.in_number = true;
        } else {
            let current = self.digit_at(self.next);
            if current == b'.' {
                if !self.last_relevant_is_point() || self.desc.fill_mode {
                    self.push_str(DECIMAL_POINT);
                }
            } else if self.last_relevant.is_some_and(|lr| self.next > lr)
                && field != NumberField::Zero
            {
                // An insignificant trailing zero in fill mode.
            } else if self.predecimal_space() {
                if !self.desc.fill_mode {
                    self.out.push(b' ');
                } else if self.last_relevant_is_point() {
                    self.out.push(b'0');
                }
            } else {
                self.out.push(current);
                self.in_number = true;
            }
            if current != 0 {
                self.next += 1;
            }
        }
        let mut end =
            self.num_count + i32::from(self.pre_spaces != 0) + i32::from(self.desc.decimal);
        if self.last_relevant.is_some_and(|lr| lr == self.next) {
            end = self.position;
        }
        if self.position + 1 == end {
            if self.sign_written && self.desc.brackets {
                self.out.push(if self.sign == b'+' { b' ' } else { b'>' });
            } else if self.desc.locale_sign && self.desc.sign_position == SignPosition::Trailing {
                self.push_str(if self.sign == b'-' {
                    NEGATIVE_SIGN
                } else {
                    POSITIVE_SIGN
                });
            }
        }
        self.position += 1;
    }

    fn node(&mut self, node: &NumberNode) -> Result<()> {
        let keyword = match node {
            NumberNode::Literal(c) | NumberNode::Space(c) => {
                let mut buf = [0u8; 4];
                self.push_str(c.encode_utf8(&mut buf));
                return Ok(());
            }
            NumberNode::Field(keyword) => keyword,
        };
        match keyword.field {
            NumberField::Nine
            | NumberField::Zero
            | NumberField::Point
            | NumberField::LocaleDecimal => self.number_position(keyword.field),
            NumberField::Comma | NumberField::Group => {
                if self.in_number {
                    self.push_str(if keyword.field == NumberField::Comma {
                        ","
                    } else {
                        GROUP_SEPARATOR
                    });
                } else if !self.desc.fill_mode {
                    self.out.push(b' ');
                }
            }
            NumberField::LocaleCurrency => self.push_str(CURRENCY_SYMBOL),
            NumberField::Roman(case) => {
                let mut roman = String::from_utf8_lossy(&self.digits).into_owned();
                if case == NameCase::Lower {
                    roman = roman.to_ascii_lowercase();
                }
                if self.desc.fill_mode {
                    self.push_str(&roman);
                } else {
                    self.push_str(&format!("{roman:>15}"));
                }
            }
            NumberField::Ordinal(case) => {
                if !(self.desc.roman
                    || self.digit_at(0) == b'#'
                    || self.sign == b'-'
                    || self.desc.decimal)
                {
                    let digits = String::from_utf8_lossy(&self.digits).into_owned();
                    self.push_str(ordinal_suffix(&digits, case)?);
                }
            }
            NumberField::Minus => {
                if self.sign == b'-' {
                    self.out.push(b'-');
                } else if !self.desc.fill_mode {
                    self.out.push(b' ');
                }
            }
            NumberField::Plus => {
                if self.sign == b'+' {
                    self.out.push(b'+');
                } else if !self.desc.fill_mode {
                    self.out.push(b' ');
                }
            }
            NumberField::SignAlways => self.out.push(self.sign),
            NumberField::Blank
            | NumberField::Currency
            | NumberField::Exponent
            | NumberField::FillMode
            | NumberField::Brackets
            | NumberField::Spell
            | NumberField::Sign
            | NumberField::Multiply => {}
        }
        Ok(())
    }

    /// The output up to the first NUL: PostgreSQL copies NUL when it runs
    /// out of digits, which ends its C string there.
    fn finish(mut self) -> String {
        if let Some(end) = self.out.iter().position(|&b| b == 0) {
            self.out.truncate(end);
        }
        String::from_utf8_lossy(&self.out).into_owned()
    }
}

/// The index of the last nonzero digit after the point, or of the point
/// itself (`get_last_relevant_decnum`); `None` without a point.
fn last_relevant_decimal(digits: &[u8]) -> Option<usize> {
    let point = digits.iter().position(|&c| c == b'.')?;
    Some(
        digits[point + 1..]
            .iter()
            .rposition(|&c| c != b'0')
            .map_or(point, |i| point + 1 + i),
    )
}

// ---------------------------------------------------------------------------
// to_number

/// The state of one `to_number` pass (the to_number half of `NUMProc`).
struct NumberReader<'a> {
    desc: NumberDesc,
    input: &'a [u8],
    pos: usize,
    /// The sign (`b' '` while unknown) followed by the digits read.
    number: Vec<u8>,
    read_decimal: bool,
    read_pre: i32,
    read_post: i32,
}

impl NumberReader<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn byte(&self, i: usize) -> u8 {
        self.input.get(i).copied().unwrap_or(0)
    }

    /// At least `n` bytes remain (PostgreSQL's `AMOUNT_TEST`).
    fn remaining(&self, n: usize) -> bool {
        self.pos + n <= self.input.len()
    }

    /// Length of the UTF-8 character starting at `pos` (`pg_mblen`).
    fn char_len(&self) -> usize {
        match self.byte(self.pos) {
            b if b < 0x80 => 1,
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            b if b >= 0xC0 => 2,
            _ => 1,
        }
    }

    /// Skips up to `n` input characters that cannot be part of a number.
    fn skip_non_data(&mut self, n: usize) {
        for _ in 0..n {
            if self.at_end() || b"0123456789.,+-".contains(&self.byte(self.pos)) {
                break;
            }
            self.pos += self.char_len();
        }
    }

    /// A digit or decimal point position (`NUM_numpart_from_char`).
    fn number_position(&mut self, field: NumberField) {
        if self.at_end() {
            return;
        }
        if self.byte(self.pos) == b' ' {
            self.pos += 1;
        }
        if self.at_end() {
            return;
        }
        let digit_field = matches!(field, NumberField::Nine | NumberField::Zero);
        if self.number[0] == b' ' && digit_field && self.read_pre + self.read_post == 0 {
            let c = self.byte(self.pos);
            if self.desc.locale_sign && self.desc.sign_position == SignPosition::Leading {
                if self.remaining(1) && c == b'-' {
                    self.pos += 1;
                    self.number[0] = b'-';
                } else if self.remaining(1) && c == b'+' {
                    self.pos += 1;
                    self.number[0] = b'+';
                }
            } else if c == b'-' || (self.desc.brackets && c == b'<') {
                self.number[0] = b'-';
                self.pos += 1;
            } else if c == b'+' {
                self.number[0] = b'+';
                self.pos += 1;
            }
        }
        if self.at_end() {
            return;
        }
        let mut read = false;
        let c = self.byte(self.pos);
        if c.is_ascii_digit() {
            if self.read_decimal && self.read_post == self.desc.post {
                return;
            }
            self.number.push(c);
            if self.read_decimal {
                self.read_post += 1;
            } else {
                self.read_pre += 1;
            }
            read = true;
        } else if self.desc.decimal && !self.read_decimal && self.remaining(1) && c == b'.' {
            self.number.push(b'.');
            self.read_decimal = true;
            read = true;
        }
        if self.at_end() {
            return;
        }
        if self.number[0] == b' ' && self.read_pre + self.read_post > 0 {
            if self.desc.locale_sign
                && read
                && self.pos + 1 < self.input.len()
                && !self.byte(self.pos + 1).is_ascii_digit()
            {
                // A sign right after the last digit.
                let saved = self.pos;
                self.pos += 1;
                let c = self.byte(self.pos);
                if self.remaining(1) && c == b'-' {
                    self.number[0] = b'-';
                } else if self.remaining(1) && c == b'+' {
                    self.number[0] = b'+';
                }
                if self.number[0] == b' ' {
                    self.pos = saved;
                }
            } else if !read && !self.desc.locale_sign && (self.desc.plus || self.desc.minus) {
                let c = self.byte(self.pos);
                if c == b'-' || c == b'+' {
                    self.number[0] = c;
                }
            }
        }
    }

    /// Processes one template node; `false` when the node consumed nothing
    /// beyond what it already advanced (PostgreSQL's `continue`).
    fn node(&mut self, node: &NumberNode) -> bool {
        let keyword = match node {
            NumberNode::Literal(_) | NumberNode::Space(_) => {
                // Any input character stands for a literal of the template.
                self.pos += self.char_len();
                return false;
            }
            NumberNode::Field(keyword) => keyword,
        };
        match keyword.field {
            NumberField::Nine
            | NumberField::Zero
            | NumberField::Point
            | NumberField::LocaleDecimal => {
                self.number_position(keyword.field);
                true
            }
            NumberField::Comma | NumberField::Group => {
                // Nothing is ever "in the number" while reading, so fill
                // mode skips separators without consuming input.
                if self.desc.fill_mode {
                    return false;
                }
                self.remaining(1) && self.byte(self.pos) == b','
            }
            NumberField::LocaleCurrency => {
                self.skip_non_data(CURRENCY_SYMBOL.chars().count());
                false
            }
            NumberField::Ordinal(_) => {
                if !(self.desc.roman || self.number[0] == b'#' || self.desc.decimal) {
                    self.skip_non_data(2);
                }
                false
            }
            NumberField::Minus | NumberField::Plus | NumberField::SignAlways => {
                let c = self.byte(self.pos);
                let accepted = match keyword.field {
                    NumberField::Minus => c == b'-',
                    NumberField::Plus => c == b'+',
                    _ => c == b'-' || c == b'+',
                };
                if accepted {
                    self.number[0] = c;
                    true
                } else {
                    self.skip_non_data(1);
                    false
                }
            }
            _ => false,
        }
    }
}

/// `to_number(input, template)`.
pub(crate) fn parse_number(input: &str, template: &NumberTemplate) -> Result<Numeric> {
    let mut desc = template.desc;
    if desc.zero_start > 0 {
        desc.zero_start -= 1;
    }
    if desc.exponent {
        return Err(Error::new(
            SqlState::FeatureNotSupported,
            "\"EEEE\" not supported for input",
        ));
    }
    if desc.roman {
        return Err(Error::new(
            SqlState::FeatureNotSupported,
            "\"RN\" not supported for input",
        ));
    }
    let mut reader = NumberReader {
        desc,
        input: input.as_bytes(),
        pos: 0,
        number: vec![b' '],
        read_decimal: false,
        read_pre: 0,
        read_post: 0,
    };
    for node in &template.nodes {
        if reader.at_end() {
            break;
        }
        if reader.node(node) {
            reader.pos += 1;
        }
    }
    if reader.number.last() == Some(&b'.') {
        reader.number.pop();
    }
    let text = String::from_utf8_lossy(&reader.number).into_owned();
    let scale = reader.read_post;
    let precision = desc.pre + desc.multiplier + scale;
    let value = freshet_common::numeric::parse_numeric(&text)?;
    let value = apply_typmod(&value, precision.max(0) as u32, scale.max(0) as u32)?;
    if desc.multiply {
        return value.checked_mul(&numeric_power_of_ten(-desc.multiplier)?);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(value: NumberValue<'_>, template: &str) -> String {
        format_number(value, &NumberTemplate::parse(template).expect("template")).expect("format")
    }

    #[test]
    fn integers_pad_sign_and_overflow() {
        assert_eq!(fmt(NumberValue::Int4(5), "999"), "   5");
        assert_eq!(fmt(NumberValue::Int4(-5), "999"), "  -5");
        assert_eq!(fmt(NumberValue::Int4(12345), "999"), " ###");
        assert_eq!(fmt(NumberValue::Int4(5), "PL9"), "+ 5");
        assert_eq!(fmt(NumberValue::Int4(2_147_483_647), "9V99"), "-100");
        assert_eq!(fmt(NumberValue::Int4(5), "9C"), " 5");
    }

    #[test]
    fn floats_round_ties_to_even_and_spell_specials() {
        assert_eq!(fmt(NumberValue::Float8(0.125), "9.99"), "  .12");
        assert_eq!(fmt(NumberValue::Float8(f64::INFINITY), "9999"), " ####");
        assert_eq!(fmt(NumberValue::Float8(f64::NAN), "9999.99"), "  NaN");
        assert_eq!(fmt(NumberValue::Float8(1.25), "9.9EEEE"), " 1.2e+00");
    }

    #[test]
    fn numeric_scientific_does_not_renormalize() {
        let n: Numeric = "9.999".parse().expect("numeric");
        assert_eq!(fmt(NumberValue::Numeric(&n), "9.99EEEE"), " 10.00e+00");
        let n: Numeric = "-0.000123".parse().expect("numeric");
        assert_eq!(numeric_scientific(&n, 1), "-1.2e-04");
        assert_eq!(numeric_scientific(&Numeric::from(0), 2), "0.00e+00");
    }

    #[test]
    fn roman_numerals() {
        assert_eq!(fmt(NumberValue::Int4(1994), "FMRN"), "MCMXCIV");
        assert_eq!(fmt(NumberValue::Int4(4), "rn"), "             iv");
        assert_eq!(fmt(NumberValue::Int4(0), "RN"), "###############");
    }

    #[test]
    fn to_number_reads_signs_and_groups() {
        let parse = |input: &str, template: &str| {
            parse_number(input, &NumberTemplate::parse(template).expect("template"))
                .expect("number")
                .to_string()
        };
        assert_eq!(parse("-12,345.67", "S99G999D99"), "-12345.67");
        assert_eq!(parse("<123>", "999PR"), "-123");
        assert_eq!(parse("12.5-", "99.9MI"), "-12.5");
        assert_eq!(parse("$1,234", "L9,999"), "1234");
    }
}
