//! PostgreSQL's `numeric`: an arbitrary-precision decimal ([`Numeric`]),
//! its text input and output, typmod rounding, and the binary base-10000
//! wire format.
//!
//! A value is an integer mantissa and a display scale: `mantissa *
//! 10^-scale`, where the scale is PostgreSQL's `dscale` (`1.00` has
//! mantissa 100 and scale 2 and prints as `1.00`). The limits are
//! PostgreSQL's: at most [`MAX_INTEGER_DIGITS`] digits before the point and
//! [`MAX_DSCALE`] after it; anything larger is 22003 `value overflows
//! numeric format`. Mantissas that fit an `i128` (38 digits) are stored
//! inline and use checked machine arithmetic; larger ones spill to a shared
//! [`num_bigint::BigInt`] (one allocation per value, cloned by reference
//! count). The transcendental functions live in `numeric/math.rs`.
//!
//! `NaN`, `Infinity` and `-Infinity` behave as in PostgreSQL 14+: they
//! sort above (NaN, then Infinity) or below (-Infinity) every finite value,
//! `NaN = NaN`, and arithmetic follows `numeric.c` (`Inf - Inf` is NaN,
//! `x / Inf` is 0, ...).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use num_bigint::{BigInt, Sign};
use num_traits::{ToPrimitive, Zero};

use crate::float_fmt::trim_c_space;
use crate::{Error, Result, SqlState};

mod math;

/// Largest display scale (digits after the point) a value can have:
/// PostgreSQL's `NUMERIC_DSCALE_MAX`.
pub const MAX_DSCALE: u32 = 0x3FFF;

/// Most digits before the decimal point: PostgreSQL stores a base-10000
/// weight in an int16, so 4 * 32768.
pub const MAX_INTEGER_DIGITS: i64 = 131_072;

/// Largest precision of `numeric(p, s)`: PostgreSQL's
/// `NUMERIC_MAX_PRECISION`.
pub const MAX_PRECISION: u32 = 1000;

/// Fewest significant digits of a division or function result
/// (`NUMERIC_MIN_SIG_DIGITS`).
const MIN_SIG_DIGITS: i64 = 16;

/// Largest scale chosen for a computed result
/// (`NUMERIC_MAX_DISPLAY_SCALE`).
const MAX_DISPLAY_SCALE: i64 = 1000;

/// Bound on the scale arguments of `round`/`trunc`
/// (`NUMERIC_MAX_RESULT_SCALE`).
pub const MAX_RESULT_SCALE: i64 = 2000;

/// 10^0 ..= 10^38, every power of ten an `i128` holds.
const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// 22003 `value overflows numeric format`.
pub fn numeric_overflow() -> Error {
    Error::new(
        SqlState::NumericValueOutOfRange,
        "value overflows numeric format",
    )
}

/// An exact decimal number with a display scale, as PostgreSQL's
/// `numeric` (without NaN and infinities).
///
/// Equality, ordering and hashing are by value: `1.0 = 1.00` and both hash
/// alike, so GROUP BY and DISTINCT treat them as one value, as PostgreSQL
/// does. The scale only affects display and the scale of results.
#[derive(Clone)]
pub struct Numeric(Repr);

#[derive(Clone)]
enum Repr {
    /// Mantissa as an `i128` split in two words (keeps the alignment, and
    /// so [`crate::Datum`], at 8 bytes).
    Small { lo: u64, hi: i64, scale: u16 },
    /// Mantissa outside the `i128` range; never used for values that fit.
    Big(Arc<BigRepr>),
    /// NaN or an infinity.
    Special(Special),
}

/// The values that are not numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Special {
    NaN,
    PosInf,
    NegInf,
}

struct BigRepr {
    mant: BigInt,
    scale: u16,
}

/// A borrowed mantissa.
enum Mant<'a> {
    Small(i128),
    Big(&'a BigInt),
}

impl Mant<'_> {
    fn to_big(&self) -> BigInt {
        match self {
            Mant::Small(v) => BigInt::from(*v),
            Mant::Big(b) => (*b).clone(),
        }
    }
}

/// 10^n as a big integer.
fn pow10_big(n: u64) -> BigInt {
    if n < 39 {
        BigInt::from(POW10[n as usize])
    } else {
        num_traits::pow::Pow::pow(BigInt::from(10u8), n)
    }
}

/// `m * 10^by`, or `None` when it does not fit an `i128`.
fn scale_up_i128(m: i128, by: u32) -> Option<i128> {
    if by == 0 || m == 0 {
        return Some(m);
    }
    if by >= 39 {
        return None;
    }
    m.checked_mul(POW10[by as usize])
}

/// Number of decimal digits of `|v|` (0 for zero).
fn ndigits_u128(v: u128) -> u64 {
    if v == 0 {
        0
    } else {
        v.ilog10() as u64 + 1
    }
}

/// Number of decimal digits of `|v|` (0 for zero).
fn ndigits_big(v: &BigInt) -> u64 {
    if v.is_zero() {
        return 0;
    }
    if let Some(s) = v.to_i128() {
        return ndigits_u128(s.unsigned_abs());
    }
    let bits = v.bits();
    // 2^(bits-1) <= |v| < 2^bits, so the digit count is within one of this
    // estimate; settle it with exact comparisons.
    let mut est = ((bits - 1) as f64 * std::f64::consts::LOG10_2) as u64 + 1;
    let mag = v.magnitude();
    while est > 1 && *mag < *pow10_big(est - 1).magnitude() {
        est -= 1;
    }
    while *mag >= *pow10_big(est).magnitude() {
        est += 1;
    }
    est
}

/// `n / d` rounded half away from zero (`round`) or truncated.
fn div_i128(n: i128, d: i128, round: bool) -> Option<i128> {
    let q = n.checked_div(d)?;
    let r = n.checked_rem(d)?;
    if round && r != 0 && r.unsigned_abs() >= d.unsigned_abs() - r.unsigned_abs() {
        // |r| >= |d| / 2: away from zero.
        return q.checked_add(if (n < 0) != (d < 0) { -1 } else { 1 });
    }
    Some(q)
}

/// `n / d` rounded half away from zero (`round`) or truncated.
fn div_big(n: &BigInt, d: &BigInt, round: bool) -> BigInt {
    let q = n / d;
    if !round {
        return q;
    }
    let r = n - &q * d;
    if r.is_zero() {
        return q;
    }
    let twice = r.magnitude() * 2u8;
    if twice >= *d.magnitude() {
        if (n.sign() == Sign::Minus) != (d.sign() == Sign::Minus) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    }
}

impl Numeric {
    /// Zero with scale 0.
    pub const ZERO: Numeric = Numeric::small(0, 0);
    /// One with scale 0.
    pub const ONE: Numeric = Numeric::small(1, 0);
    /// `NaN`.
    pub const NAN: Numeric = Numeric(Repr::Special(Special::NaN));
    /// `Infinity`.
    pub const INFINITY: Numeric = Numeric(Repr::Special(Special::PosInf));
    /// `-Infinity`.
    pub const NEG_INFINITY: Numeric = Numeric(Repr::Special(Special::NegInf));

    fn special(&self) -> Option<Special> {
        match &self.0 {
            Repr::Special(s) => Some(*s),
            _ => None,
        }
    }

    /// Whether this is `NaN`.
    pub fn is_nan(&self) -> bool {
        self.special() == Some(Special::NaN)
    }

    /// Whether this is `Infinity` or `-Infinity`.
    pub fn is_infinite(&self) -> bool {
        matches!(self.special(), Some(Special::PosInf | Special::NegInf))
    }

    /// Whether this is a number (neither NaN nor infinite).
    pub fn is_finite(&self) -> bool {
        self.special().is_none()
    }

    const fn small(mant: i128, scale: u32) -> Numeric {
        Numeric(Repr::Small {
            lo: mant as u64,
            hi: (mant >> 64) as i64,
            scale: scale as u16,
        })
    }

    /// `mant * 10^-scale`. Panics when `scale` exceeds [`MAX_DSCALE`]:
    /// callers pass scales they computed, never raw input.
    pub fn new(mant: i64, scale: u32) -> Numeric {
        Numeric::from_i128_with_scale(mant as i128, scale)
    }

    /// `mant * 10^-scale`; panics when `scale` exceeds [`MAX_DSCALE`].
    pub fn from_i128_with_scale(mant: i128, scale: u32) -> Numeric {
        assert!(
            scale <= MAX_DSCALE,
            "numeric scale {scale} exceeds {MAX_DSCALE}"
        );
        Numeric::small(mant, scale)
    }

    /// `mant * 10^-scale`, stored inline when the mantissa fits an `i128`.
    /// Panics when `scale` exceeds [`MAX_DSCALE`]. Does not check the
    /// integer-digit limit (see [`Numeric::check_range`]).
    pub fn from_bigint(mant: BigInt, scale: u32) -> Numeric {
        assert!(
            scale <= MAX_DSCALE,
            "numeric scale {scale} exceeds {MAX_DSCALE}"
        );
        match mant.to_i128() {
            Some(v) => Numeric::small(v, scale),
            None => Numeric(Repr::Big(Arc::new(BigRepr {
                mant,
                scale: scale as u16,
            }))),
        }
    }

    /// The mantissa of a finite value; callers handle NaN and the
    /// infinities first.
    fn mant(&self) -> Mant<'_> {
        match &self.0 {
            Repr::Small { lo, hi, .. } => Mant::Small(((*hi as i128) << 64) | *lo as i128),
            Repr::Big(b) => Mant::Big(&b.mant),
            Repr::Special(s) => panic!("mantissa of numeric {s:?} requested"),
        }
    }

    /// Mantissa and scale when the mantissa fits an `i128`.
    fn small_parts(&self) -> Option<(i128, u32)> {
        match &self.0 {
            Repr::Small { lo, hi, scale } => {
                Some((((*hi as i128) << 64) | *lo as i128, *scale as u32))
            }
            Repr::Big(_) | Repr::Special(_) => None,
        }
    }

    /// The unscaled integer of a finite value: the value times
    /// `10^scale`. Panics for NaN and the infinities.
    pub fn mantissa(&self) -> BigInt {
        self.mant().to_big()
    }

    /// The display scale: digits after the decimal point (0 for NaN and
    /// the infinities).
    pub fn scale(&self) -> u32 {
        match &self.0 {
            Repr::Small { scale, .. } => *scale as u32,
            Repr::Big(b) => b.scale as u32,
            Repr::Special(_) => 0,
        }
    }

    /// Whether the value is zero (at any scale).
    pub fn is_zero(&self) -> bool {
        matches!(self.0, Repr::Small { lo: 0, hi: 0, .. })
    }

    /// Whether the value is below zero (there is no negative zero):
    /// true for `-Infinity`, false for NaN.
    pub fn is_negative(&self) -> bool {
        if let Some(s) = self.special() {
            return s == Special::NegInf;
        }
        match self.mant() {
            Mant::Small(v) => v < 0,
            Mant::Big(b) => b.sign() == Sign::Minus,
        }
    }

    /// -1, 0 or 1 (`±Infinity` give ±1; NaN gives 0, callers handle it
    /// first, as PostgreSQL's `numeric_sign_internal` callers do).
    pub fn signum(&self) -> i32 {
        match self.special() {
            Some(Special::PosInf) => return 1,
            Some(Special::NegInf) => return -1,
            Some(Special::NaN) => return 0,
            None => {}
        }
        match self.mant() {
            Mant::Small(v) => v.signum() as i32,
            Mant::Big(b) => {
                if b.sign() == Sign::Minus {
                    -1
                } else {
                    1
                }
            }
        }
    }

    /// Absolute value, same scale.
    pub fn abs(&self) -> Numeric {
        if self.is_negative() {
            -self
        } else {
            self.clone()
        }
    }

    /// The mantissa at scale `s` (`s >= self.scale()`), as a big integer.
    fn mant_at_scale(&self, s: u32) -> BigInt {
        let m = self.mant().to_big();
        let by = s - self.scale();
        if by == 0 {
            m
        } else {
            m * pow10_big(by as u64)
        }
    }

    /// Checks PostgreSQL's limit on digits before the decimal point.
    pub fn check_range(self) -> Result<Numeric> {
        if let Repr::Big(b) = &self.0 {
            let upper = (b.mant.bits() as f64 * std::f64::consts::LOG10_2) as i64 + 1;
            if upper - b.scale as i64 > MAX_INTEGER_DIGITS
                && ndigits_big(&b.mant) as i64 - b.scale as i64 > MAX_INTEGER_DIGITS
            {
                return Err(numeric_overflow());
            }
        }
        Ok(self)
    }

    /// Number of significant decimal digits of the mantissa (0 for zero).
    fn ndigits(&self) -> u64 {
        match self.mant() {
            Mant::Small(v) => ndigits_u128(v.unsigned_abs()),
            Mant::Big(b) => ndigits_big(b),
        }
    }

    /// Decimal weight: `10^w <= |self| < 10^(w+1)`; 0 for zero.
    pub fn decimal_weight(&self) -> i64 {
        let n = self.ndigits();
        if n == 0 {
            0
        } else {
            n as i64 - 1 - self.scale() as i64
        }
    }

    /// The first `n` (<= 19) significant decimal digits of `|self|` as an
    /// integer, padded with zeros when the value has fewer.
    fn leading_digits(&self, n: u32) -> u64 {
        let nd = self.ndigits();
        match self.mant() {
            Mant::Small(v) => {
                let a = v.unsigned_abs();
                if nd >= n as u64 {
                    (a / POW10[(nd - n as u64) as usize] as u128) as u64
                } else {
                    (a * POW10[(n as u64 - nd) as usize] as u128) as u64
                }
            }
            Mant::Big(b) => {
                let q = b.magnitude() / pow10_big(nd - n as u64).magnitude();
                q.to_u64().expect("n leading digits fit u64")
            }
        }
    }

    /// Base-10000 weight and first base-10000 digit, as PostgreSQL stores
    /// the value (`(0, 0)` for zero).
    fn nbase_weight_first(&self) -> (i64, u32) {
        if self.is_zero() {
            return (0, 0);
        }
        let dw = self.decimal_weight();
        let w = dw.div_euclid(4);
        let len = (dw - 4 * w + 1) as u32;
        (w, self.leading_digits(len) as u32)
    }

    /// Base-10000 weight of the first digit (0 for zero), as PostgreSQL's
    /// `NumericVar.weight` of a stripped value.
    fn nbase_weight(&self) -> i64 {
        self.nbase_weight_first().0
    }

    /// PostgreSQL's base-10000 form: weight and digits, with leading and
    /// trailing zero digits stripped (no digits for zero).
    fn nbase_digits(&self) -> (i64, Vec<i16>) {
        let scale = self.scale();
        let pad = (4 - scale % 4) % 4;
        let frac_groups = ((scale + pad) / 4) as i64;
        // Groups least significant first.
        let mut groups: Vec<i16> = Vec::new();
        match self.mant() {
            Mant::Small(v) => {
                let mut a = v.unsigned_abs();
                let mut first = true;
                while a > 0 {
                    // The first group holds only the padded low digits.
                    if first && pad > 0 {
                        let d = POW10[(4 - pad) as usize] as u128;
                        groups.push(((a % d) * POW10[pad as usize] as u128) as i16);
                        a /= d;
                    } else {
                        groups.push((a % 10_000) as i16);
                        a /= 10_000;
                    }
                    first = false;
                }
            }
            Mant::Big(b) => {
                let mut text = b.magnitude().to_string();
                text.extend(std::iter::repeat_n('0', pad as usize));
                let bytes = text.as_bytes();
                let mut end = bytes.len();
                while end > 0 {
                    let start = end.saturating_sub(4);
                    let mut g = 0i16;
                    for c in &bytes[start..end] {
                        g = g * 10 + (c - b'0') as i16;
                    }
                    groups.push(g);
                    end = start;
                }
            }
        }
        let low_zero = groups.iter().take_while(|g| **g == 0).count();
        if low_zero == groups.len() {
            return (0, Vec::new());
        }
        let weight = groups.len() as i64 - 1 - frac_groups;
        let digits = groups[low_zero..].iter().rev().copied().collect();
        (weight, digits)
    }

    /// Exact sum; the scale is the larger input scale.
    pub fn checked_add(&self, other: &Numeric) -> Result<Numeric> {
        if let (Some(_), _) | (_, Some(_)) = (self.special(), other.special()) {
            // NaN wins; opposite infinities make NaN; otherwise infinite.
            return Ok(match (self.special(), other.special()) {
                (Some(Special::NaN), _) | (_, Some(Special::NaN)) => Numeric::NAN,
                (Some(a), Some(b)) if a != b => Numeric::NAN,
                (Some(a), _) | (_, Some(a)) => Numeric(Repr::Special(a)),
                (None, None) => unreachable!("one operand is special"),
            });
        }
        if let (Some((a, sa)), Some((b, sb))) = (self.small_parts(), other.small_parts()) {
            if sa == sb {
                if let Some(r) = a.checked_add(b) {
                    return Ok(Numeric::small(r, sa));
                }
            } else {
                let s = sa.max(sb);
                if let (Some(a), Some(b)) = (scale_up_i128(a, s - sa), scale_up_i128(b, s - sb)) {
                    if let Some(r) = a.checked_add(b) {
                        return Ok(Numeric::small(r, s));
                    }
                }
            }
        }
        let s = self.scale().max(other.scale());
        Numeric::from_bigint(self.mant_at_scale(s) + other.mant_at_scale(s), s).check_range()
    }

    /// Exact difference; the scale is the larger input scale.
    pub fn checked_sub(&self, other: &Numeric) -> Result<Numeric> {
        self.checked_add(&-other)
    }

    /// Exact product with scale `s1 + s2`, rounded to [`MAX_DSCALE`] when
    /// that is larger (as PostgreSQL's `numeric_mul`).
    pub fn checked_mul(&self, other: &Numeric) -> Result<Numeric> {
        if !self.is_finite() || !other.is_finite() {
            // NaN wins; Inf * 0 is NaN; otherwise the signs multiply.
            if self.is_nan() || other.is_nan() {
                return Ok(Numeric::NAN);
            }
            let sign = self.signum() * other.signum();
            return Ok(match sign {
                0 => Numeric::NAN,
                1 => Numeric::INFINITY,
                _ => Numeric::NEG_INFINITY,
            });
        }
        let s = self.scale() + other.scale();
        if let (Some((a, _)), Some((b, _))) = (self.small_parts(), other.small_parts()) {
            if let Some(r) = a.checked_mul(b) {
                if s <= MAX_DSCALE {
                    return Ok(Numeric::small(r, s));
                }
            }
        }
        let m = self.mant().to_big() * other.mant().to_big();
        if s > MAX_DSCALE {
            let m = div_big(&m, &pow10_big((s - MAX_DSCALE) as u64), true);
            return Numeric::from_bigint(m, MAX_DSCALE).check_range();
        }
        Numeric::from_bigint(m, s).check_range()
    }

    /// `self / other` with exactly `rscale` digits after the point, rounded
    /// half away from zero (`round`) or truncated toward zero: PostgreSQL's
    /// `div_var`. 22012 when `other` is zero.
    pub fn div_with_scale(&self, other: &Numeric, rscale: u32, round: bool) -> Result<Numeric> {
        if !self.is_finite() || !other.is_finite() {
            if self.is_nan() || other.is_nan() {
                return Ok(Numeric::NAN);
            }
            if self.is_infinite() {
                if other.is_infinite() {
                    return Ok(Numeric::NAN);
                }
                return match self.signum() * other.signum() {
                    0 => Err(Error::division_by_zero()),
                    1 => Ok(Numeric::INFINITY),
                    _ => Ok(Numeric::NEG_INFINITY),
                };
            }
            // finite / ±Infinity: PostgreSQL returns zero (no underflow).
            return Ok(Numeric::ZERO);
        }
        if other.is_zero() {
            return Err(Error::division_by_zero());
        }
        assert!(
            rscale <= MAX_DSCALE,
            "division scale {rscale} exceeds {MAX_DSCALE}"
        );
        // self / other * 10^rscale = (m1 / m2) * 10^(rscale + s2 - s1).
        let e = rscale as i64 + other.scale() as i64 - self.scale() as i64;
        if let (Some((a, _)), Some((b, _))) = (self.small_parts(), other.small_parts()) {
            let nd = if e >= 0 {
                scale_up_i128(a, e as u32).map(|n| (n, b))
            } else {
                scale_up_i128(b, (-e) as u32).map(|d| (a, d))
            };
            if let Some((n, d)) = nd {
                if let Some(q) = div_i128(n, d, round) {
                    return Ok(Numeric::small(q, rscale));
                }
            }
        }
        let (mut n, mut d) = (self.mant().to_big(), other.mant().to_big());
        if e >= 0 {
            n *= pow10_big(e as u64);
        } else {
            d *= pow10_big((-e) as u64);
        }
        Numeric::from_bigint(div_big(&n, &d, round), rscale).check_range()
    }

    /// PostgreSQL's `select_div_scale`: enough digits for at least 16
    /// significant digits in the quotient, and no fewer than either input's
    /// scale, at most 1000.
    pub fn div_scale(&self, other: &Numeric) -> u32 {
        let (w1, f1) = self.nbase_weight_first();
        let (w2, f2) = other.nbase_weight_first();
        let mut qweight = w1 - w2;
        if f1 <= f2 {
            qweight -= 1;
        }
        let rscale = (MIN_SIG_DIGITS - qweight * 4)
            .max(self.scale() as i64)
            .max(other.scale() as i64)
            .clamp(0, MAX_DISPLAY_SCALE);
        rscale as u32
    }

    /// `self / other` as PostgreSQL's `numeric / numeric`: scale from
    /// [`Numeric::div_scale`], rounded half away from zero.
    pub fn checked_div(&self, other: &Numeric) -> Result<Numeric> {
        if !self.is_finite() || !other.is_finite() {
            return self.div_with_scale(other, 0, true);
        }
        self.div_with_scale(other, self.div_scale(other), true)
    }

    /// PostgreSQL's `div(x, y)`: the quotient truncated to an integer.
    pub fn div_trunc(&self, other: &Numeric) -> Result<Numeric> {
        self.div_with_scale(other, 0, false)
    }

    /// Remainder of truncating division, with the sign of `self` and the
    /// larger input scale (PostgreSQL's `mod_var`). 22012 when `other` is
    /// zero.
    pub fn checked_rem(&self, other: &Numeric) -> Result<Numeric> {
        if !self.is_finite() || !other.is_finite() {
            if self.is_nan() || other.is_nan() {
                return Ok(Numeric::NAN);
            }
            if self.is_infinite() {
                if other.is_zero() {
                    return Err(Error::division_by_zero());
                }
                return Ok(Numeric::NAN);
            }
            // finite % ±Infinity is the finite value.
            return Ok(self.clone());
        }
        if other.is_zero() {
            return Err(Error::division_by_zero());
        }
        let s = self.scale().max(other.scale());
        if let (Some((a, sa)), Some((b, sb))) = (self.small_parts(), other.small_parts()) {
            if let (Some(a), Some(b)) = (scale_up_i128(a, s - sa), scale_up_i128(b, s - sb)) {
                if let Some(r) = a.checked_rem(b) {
                    return Ok(Numeric::small(r, s));
                }
            }
        }
        Ok(Numeric::from_bigint(
            self.mant_at_scale(s) % other.mant_at_scale(s),
            s,
        ))
    }

    /// Rounds (half away from zero) or truncates to `target` digits after
    /// the point; a negative `target` rounds to tens, hundreds, ... and
    /// gives scale 0 (PostgreSQL's `round_var`/`trunc_var` as used by
    /// `round(numeric, int)`). `target` must be at most [`MAX_DSCALE`].
    fn round_impl(&self, target: i64, round: bool) -> Result<Numeric> {
        assert!(
            target <= MAX_DSCALE as i64,
            "rounding scale {target} exceeds {MAX_DSCALE}"
        );
        if !self.is_finite() {
            return Ok(self.clone());
        }
        let scale = self.scale() as i64;
        if target >= scale {
            let t = target as u32;
            if let Some((m, _)) = self.small_parts() {
                if let Some(r) = scale_up_i128(m, t - scale as u32) {
                    return Ok(Numeric::small(r, t));
                }
            }
            return Numeric::from_bigint(self.mant_at_scale(t), t).check_range();
        }
        let out_scale = target.max(0) as u32;
        let cut = (scale - target) as u64;
        // |mant| < 10^ndigits <= 10^(cut-1): the result is zero.
        if cut > self.ndigits() {
            return Ok(Numeric::small(0, out_scale));
        }
        let up = if target < 0 { (-target) as u64 } else { 0 };
        if let Some((m, _)) = self.small_parts() {
            // cut <= ndigits <= 39 here.
            if cut < 39 {
                if let Some(q) = div_i128(m, POW10[cut as usize], round) {
                    if let Some(r) = scale_up_i128(q, up as u32).filter(|_| up < 39) {
                        return Ok(Numeric::small(r, out_scale));
                    }
                }
            }
        }
        let q = div_big(&self.mant().to_big(), &pow10_big(cut), round);
        let q = if up > 0 { q * pow10_big(up) } else { q };
        Numeric::from_bigint(q, out_scale).check_range()
    }

    /// Rounds half away from zero to `target` digits after the point
    /// (scale `max(target, 0)`; pads when `target` is larger).
    pub fn round_to(&self, target: i64) -> Result<Numeric> {
        self.round_impl(target, true)
    }

    /// Truncates toward zero to `target` digits after the point (scale
    /// `max(target, 0)`; pads when `target` is larger).
    pub fn trunc_to(&self, target: i64) -> Numeric {
        self.round_impl(target, false)
            .expect("truncation never adds integer digits")
    }

    /// Smallest integer not below the value (scale 0).
    pub fn ceil(&self) -> Result<Numeric> {
        let t = self.trunc_to(0);
        if !self.is_negative() && t != *self {
            return t.checked_add(&Numeric::ONE);
        }
        Ok(t)
    }

    /// Largest integer not above the value (scale 0).
    pub fn floor(&self) -> Result<Numeric> {
        let t = self.trunc_to(0);
        if self.is_negative() && t != *self {
            return t.checked_sub(&Numeric::ONE);
        }
        Ok(t)
    }

    /// Whether the value has no nonzero digits after the point.
    pub fn is_integral(&self) -> bool {
        // As PostgreSQL's numeric_is_integral: infinities are integral.
        if !self.is_finite() {
            return !self.is_nan();
        }
        let s = self.scale();
        if s == 0 {
            return true;
        }
        match self.mant() {
            Mant::Small(v) => s < 39 && v % POW10[s as usize] == 0 || v == 0,
            Mant::Big(b) => (b % pow10_big(s as u64)).is_zero(),
        }
    }

    /// Rounded half away from zero to an integer, if it fits an `i128`.
    pub fn to_i128_rounded(&self) -> Option<i128> {
        if !self.is_finite() || self.decimal_weight() > 39 {
            return None;
        }
        match self.round_to(0).ok()?.mant() {
            Mant::Small(v) => Some(v),
            Mant::Big(_) => None,
        }
    }

    /// Rounded half away from zero to an integer, if it fits an `i64`
    /// (PostgreSQL's numeric to integer casts).
    pub fn to_i64_rounded(&self) -> Option<i64> {
        self.to_i128_rounded().and_then(|v| i64::try_from(v).ok())
    }

    /// The nearest `f64` (correctly rounded, as `strtod` of the text form);
    /// ±infinity beyond the `f64` range.
    pub fn to_f64(&self) -> f64 {
        match self.special() {
            Some(Special::NaN) => return f64::NAN,
            Some(Special::PosInf) => return f64::INFINITY,
            Some(Special::NegInf) => return f64::NEG_INFINITY,
            None => {}
        }
        if let Some((m, s)) = self.small_parts() {
            // Both operands exact, so the one division rounds correctly.
            if m.unsigned_abs() < (1u128 << 53) && s <= 22 {
                return m as f64 / 10f64.powi(s as i32);
            }
        }
        self.to_string()
            .parse::<f64>()
            .expect("numeric text parses as f64")
    }

    /// Value by sign and magnitude, normalized (trailing fractional zeros
    /// stripped) for hashing.
    fn normalized(&self) -> (Mant<'_>, Option<BigInt>, u32) {
        let s = self.scale();
        match self.mant() {
            Mant::Small(v) => {
                let mut s = s;
                // Machine-word division when the mantissa allows it.
                let v = match i64::try_from(v) {
                    Ok(0) => {
                        s = 0;
                        0
                    }
                    Ok(mut w) => {
                        while s > 0 && w % 10 == 0 {
                            w /= 10;
                            s -= 1;
                        }
                        w as i128
                    }
                    Err(_) => {
                        let mut w = v;
                        while s > 0 && w % 10 == 0 {
                            w /= 10;
                            s -= 1;
                        }
                        w
                    }
                };
                (Mant::Small(v), None, s)
            }
            Mant::Big(b) => {
                let mut m = b.clone();
                let mut s = s;
                let chunk = pow10_big(18);
                while s >= 18 && (&m % &chunk).is_zero() {
                    m /= &chunk;
                    s -= 18;
                }
                let ten = BigInt::from(10u8);
                while s > 0 && (&m % &ten).is_zero() {
                    m /= &ten;
                    s -= 1;
                }
                match m.to_i128() {
                    Some(v) => (Mant::Small(v), None, s),
                    None => (Mant::Small(0), Some(m), s),
                }
            }
        }
    }

    /// Converts PostgreSQL's text form (see [`parse_numeric`]).
    pub fn parse(input: &str) -> Result<Numeric> {
        parse_numeric(input)
    }
}

impl std::ops::Neg for &Numeric {
    type Output = Numeric;
    fn neg(self) -> Numeric {
        match self.special() {
            Some(Special::NaN) => return Numeric::NAN,
            Some(Special::PosInf) => return Numeric::NEG_INFINITY,
            Some(Special::NegInf) => return Numeric::INFINITY,
            None => {}
        }
        match self.mant() {
            // i128::MIN never occurs inline: its negation would not fit,
            // and from_bigint keeps such values inline only if they fit.
            Mant::Small(v) => match v.checked_neg() {
                Some(n) => Numeric::small(n, self.scale()),
                None => Numeric::from_bigint(-BigInt::from(v), self.scale()),
            },
            Mant::Big(b) => Numeric::from_bigint(-b.clone(), self.scale()),
        }
    }
}

impl std::ops::Neg for Numeric {
    type Output = Numeric;
    fn neg(self) -> Numeric {
        -&self
    }
}

impl From<i64> for Numeric {
    fn from(v: i64) -> Numeric {
        Numeric::small(v as i128, 0)
    }
}

impl From<i32> for Numeric {
    fn from(v: i32) -> Numeric {
        Numeric::small(v as i128, 0)
    }
}

impl From<i16> for Numeric {
    fn from(v: i16) -> Numeric {
        Numeric::small(v as i128, 0)
    }
}

impl From<u32> for Numeric {
    fn from(v: u32) -> Numeric {
        Numeric::small(v as i128, 0)
    }
}

impl From<u64> for Numeric {
    fn from(v: u64) -> Numeric {
        Numeric::small(v as i128, 0)
    }
}

impl From<i128> for Numeric {
    fn from(v: i128) -> Numeric {
        Numeric::small(v, 0)
    }
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Numeric) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Numeric {}

impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Numeric) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Numeric {
    fn cmp(&self, other: &Numeric) -> Ordering {
        // -Infinity < finite < Infinity < NaN, and NaN = NaN.
        let rank = |n: &Numeric| match n.special() {
            Some(Special::NegInf) => 0,
            None => 1,
            Some(Special::PosInf) => 2,
            Some(Special::NaN) => 3,
        };
        let (ra, rb) = (rank(self), rank(other));
        if ra != 1 || rb != 1 {
            return ra.cmp(&rb);
        }
        let (sa, sb) = (self.signum(), other.signum());
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        if let (Some((a, xa)), Some((b, xb))) = (self.small_parts(), other.small_parts()) {
            if xa == xb {
                return a.cmp(&b);
            }
            let s = xa.max(xb);
            match (scale_up_i128(a, s - xa), scale_up_i128(b, s - xb)) {
                (Some(a), Some(b)) => return a.cmp(&b),
                // The scaled-up side overflowed: it has the larger magnitude.
                (None, Some(_)) => {
                    return if sa > 0 {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (Some(_), None) => {
                    return if sa > 0 {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (None, None) => {}
            }
        }
        let s = self.scale().max(other.scale());
        self.mant_at_scale(s).cmp(&other.mant_at_scale(s))
    }
}

impl Hash for Numeric {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal values have one normalized form, and it fits an i128 or not
        // regardless of the scale it was written with.
        if let Some(s) = self.special() {
            s.hash(state);
            return;
        }
        match self.normalized() {
            (Mant::Small(v), None, s) => {
                v.hash(state);
                s.hash(state);
            }
            (_, Some(b), s) => {
                b.hash(state);
                s.hash(state);
            }
            (Mant::Big(_), None, _) => unreachable!("normalized mantissas are owned"),
        }
    }
}

impl fmt::Display for Numeric {
    /// PostgreSQL's `numeric_out`: plain digits with exactly `scale`
    /// digits after the point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.special() {
            Some(Special::NaN) => return f.write_str("NaN"),
            Some(Special::PosInf) => return f.write_str("Infinity"),
            Some(Special::NegInf) => return f.write_str("-Infinity"),
            None => {}
        }
        let mut buf = [0u8; 40];
        let big_text;
        let digits: &[u8] = match self.mant() {
            Mant::Small(v) => {
                let mut a = v.unsigned_abs();
                let mut i = buf.len();
                loop {
                    i -= 1;
                    buf[i] = b'0' + (a % 10) as u8;
                    a /= 10;
                    if a == 0 {
                        break;
                    }
                }
                &buf[i..]
            }
            Mant::Big(b) => {
                big_text = b.magnitude().to_string();
                big_text.as_bytes()
            }
        };
        let digits = std::str::from_utf8(digits).expect("ASCII digits");
        if self.is_negative() {
            f.write_str("-")?;
        }
        let scale = self.scale() as usize;
        if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            f.write_str(int)?;
            if scale > 0 {
                f.write_str(".")?;
                f.write_str(frac)?;
            }
        } else {
            f.write_str("0.")?;
            for _ in 0..scale - digits.len() {
                f.write_str("0")?;
            }
            f.write_str(digits)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Numeric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Numeric> {
        parse_numeric(s)
    }
}

impl Default for Numeric {
    fn default() -> Numeric {
        Numeric::ZERO
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
        let negative = lower.starts_with('-');
        return Ok(NumParts {
            negative,
            digits: String::new(),
            scale: 0,
            special: Some(if negative {
                Special::NegInf
            } else {
                Special::PosInf
            }),
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
    Ok(NumParts {
        negative,
        digits,
        scale,
        special: None,
    })
}

/// Builds a value from a decimal digit string (ASCII digits, no sign) and
/// a scale (negative for a positive exponent): `digits * 10^-scale`, with
/// display scale `max(scale, 0)`. 22003 beyond PostgreSQL's limits.
pub fn numeric_from_digits(negative: bool, digits: &str, scale: i64) -> Result<Numeric> {
    let digits = digits.trim_start_matches('0');
    let out_scale = scale.max(0);
    if out_scale > MAX_DSCALE as i64 {
        return Err(numeric_overflow());
    }
    if digits.is_empty() {
        return Ok(Numeric::small(0, out_scale as u32));
    }
    let dweight = digits.len() as i64 - 1 - scale;
    if dweight >= MAX_INTEGER_DIGITS {
        return Err(numeric_overflow());
    }
    let up = (out_scale - scale) as u64;
    let n = if digits.len() <= 38 {
        let mut m: i128 = 0;
        for c in digits.bytes() {
            m = m * 10 + (c - b'0') as i128;
        }
        if negative {
            m = -m;
        }
        match scale_up_i128(m, up as u32).filter(|_| up < 39) {
            Some(v) => Numeric::small(v, out_scale as u32),
            None => Numeric::from_bigint(BigInt::from(m) * pow10_big(up), out_scale as u32),
        }
    } else {
        let mut m = BigInt::parse_bytes(digits.as_bytes(), 10).expect("ASCII digits parse");
        if negative {
            m = -m;
        }
        if up > 0 {
            m *= pow10_big(up);
        }
        Numeric::from_bigint(m, out_scale as u32)
    };
    Ok(n)
}

/// Parses numeric input like PostgreSQL's `numeric_in` (without typmod):
/// surrounding whitespace, sign, `.5`, `5.`, exponents (`1.5e3`). Every
/// digit is kept; 22003 beyond PostgreSQL's limits.
pub fn parse_numeric(input: &str) -> Result<Numeric> {
    let parts = lex_numeric(input)?;
    if let Some(s) = parts.special {
        return Ok(Numeric(Repr::Special(s)));
    }
    numeric_from_digits(parts.negative, &parts.digits, parts.scale)
}

fn field_overflow(precision: u32, scale: u32) -> Error {
    let maxdigits = precision as i64 - scale as i64;
    let bound = if maxdigits != 0 {
        format!("10^{maxdigits}")
    } else {
        "1".to_string()
    };
    Error::new(SqlState::NumericValueOutOfRange, "numeric field overflow").with_detail(format!(
        "A field with precision {precision}, scale {scale} must round to an absolute value less than {bound}."
    ))
}

/// Parses input for `numeric(precision, scale)` like `numeric_in` with a
/// typmod: the value must first fit numeric's own limits (so
/// `'1e-20000'::numeric(5,2)` overflows, as in PostgreSQL), then
/// [`apply_typmod`] rounds it and checks the precision.
pub fn parse_numeric_typmod(input: &str, precision: u32, scale: u32) -> Result<Numeric> {
    apply_typmod(&parse_numeric(input)?, precision, scale)
}

/// Applies `numeric(precision, scale)` as PostgreSQL's `apply_typmod`:
/// rounds half away from zero to `scale` digits, then raises 22003
/// `numeric field overflow` (with PostgreSQL's detail) when the integer
/// part needs more than `precision - scale` digits.
pub fn apply_typmod(d: &Numeric, precision: u32, scale: u32) -> Result<Numeric> {
    if d.is_nan() {
        return Ok(Numeric::NAN);
    }
    if d.is_infinite() {
        return Err(
            Error::new(SqlState::NumericValueOutOfRange, "numeric field overflow").with_detail(
                format!(
                "A field with precision {precision}, scale {scale} cannot hold an infinite value."
            ),
            ),
        );
    }
    let r = d.round_to(scale.min(MAX_DSCALE) as i64)?;
    let maxdigits = precision as i64 - scale as i64;
    if !r.is_zero() && r.decimal_weight() + 1 > maxdigits {
        return Err(field_overflow(precision, scale));
    }
    Ok(r)
}

/// Appends the PostgreSQL text form: plain digits, keeping the scale
/// (`1.00`), never a negative zero.
pub fn format_numeric(d: &Numeric, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(out, "{d}");
}

/// Appends PostgreSQL's binary `numeric_send` form: ndigits, weight,
/// sign, dscale (all i16 big-endian) and base-10000 digits.
pub fn encode_numeric_binary(d: &Numeric, out: &mut Vec<u8>) {
    if let Some(s) = d.special() {
        let sign: u16 = match s {
            Special::NaN => 0xC000,
            Special::PosInf => 0xD000,
            Special::NegInf => 0xF000,
        };
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        return;
    }
    let (weight, digits) = d.nbase_digits();
    let negative = d.is_negative();
    out.extend_from_slice(&(digits.len() as u16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&(if negative { 0x4000u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&(d.scale() as u16).to_be_bytes());
    for g in digits {
        out.extend_from_slice(&g.to_be_bytes());
    }
}

fn bin_err(msg: &str) -> Error {
    Error::new(SqlState::InvalidBinaryRepresentation, msg.to_string())
}

/// Decodes PostgreSQL's binary numeric; digits hidden by the display scale
/// are truncated, as `numeric_recv` does.
pub fn decode_numeric_binary(b: &[u8]) -> Result<Numeric> {
    let rd = |i: usize| -> Result<i16> {
        b.get(i..i + 2)
            .map(|s| i16::from_be_bytes([s[0], s[1]]))
            .ok_or_else(|| bin_err("insufficient data left in message"))
    };
    let ndigits = rd(0)? as u16 as usize;
    let weight = rd(2)? as i64;
    let sign = rd(4)? as u16;
    let dscale = rd(6)? as u16;
    if b.len() < 8 + 2 * ndigits {
        return Err(bin_err("insufficient data left in message"));
    }
    if b.len() != 8 + 2 * ndigits {
        return Err(bin_err("incorrect binary data format"));
    }
    match sign {
        0 | 0x4000 => {}
        0xC000 => return Ok(Numeric::NAN),
        0xD000 => return Ok(Numeric::INFINITY),
        0xF000 => return Ok(Numeric::NEG_INFINITY),
        _ => return Err(bin_err("invalid sign in external \"numeric\" value")),
    }
    if dscale > 0x3FFF {
        return Err(bin_err("invalid scale in external \"numeric\" value"));
    }
    let mut groups = Vec::with_capacity(ndigits);
    for k in 0..ndigits {
        let g = rd(8 + 2 * k)?;
        if !(0..10_000).contains(&g) {
            return Err(bin_err("invalid digit in external \"numeric\" value"));
        }
        groups.push(g);
    }
    numeric_from_nbase(sign == 0x4000, weight, &groups, dscale as u32)
}

/// Builds a value from base-10000 digits (most significant first, the
/// first of weight `weight`), truncated to `dscale` digits after the point.
fn numeric_from_nbase(negative: bool, weight: i64, groups: &[i16], dscale: u32) -> Result<Numeric> {
    let first_nonzero = groups.iter().position(|g| *g != 0);
    let Some(first) = first_nonzero else {
        return Ok(Numeric::small(0, dscale));
    };
    let groups = &groups[first..];
    let weight = weight - first as i64;
    // Integer digits: 4 * (weight + 1) at most; reject before building.
    if 4 * (weight + 1) - 3 > MAX_INTEGER_DIGITS {
        return Err(numeric_overflow());
    }
    // Drop groups wholly below the display scale: group i has weight
    // `weight - i`, and only weights >= -ceil(dscale / 4) can show.
    let keep_frac_groups = (dscale as i64 + 3) / 4;
    let keep = (weight + 1 + keep_frac_groups).clamp(0, groups.len() as i64) as usize;
    let groups = &groups[..keep];
    if groups.is_empty() {
        return Ok(Numeric::small(0, dscale));
    }
    // Value = M * 10^exp10, M the kept digits concatenated.
    let exp10 = 4 * (weight + 1 - groups.len() as i64);
    let mut m = BigInt::zero();
    let mut small: i128 = 0;
    let small_ok = groups.len() <= 9;
    for g in groups {
        if small_ok {
            small = small * 10_000 + *g as i128;
        } else {
            m = m * 10_000u32 + *g as u32;
        }
    }
    let m = if small_ok { BigInt::from(small) } else { m };
    let m = if negative { -m } else { m };
    // At dscale: M * 10^(exp10 + dscale), truncating hidden digits.
    let shift = exp10 + dscale as i64;
    let mant = if shift >= 0 {
        m * pow10_big(shift as u64)
    } else {
        &m / pow10_big((-shift) as u64)
    };
    Numeric::from_bigint(mant, dscale).check_range()
}

/// The parts the storage encoding (`row_codec`) is made of.
impl Numeric {
    /// Mantissa and scale when the mantissa fits an `i64` (the compact
    /// storage encoding).
    pub fn to_i64_parts(&self) -> Option<(i64, u32)> {
        let (m, s) = self.small_parts()?;
        Some((i64::try_from(m).ok()?, s))
    }

    /// For NaN and the infinities, a storage code: 0 NaN, 1 Infinity,
    /// 2 -Infinity (inverse: [`Numeric::from_special_code`]).
    pub fn special_code(&self) -> Option<u8> {
        self.special().map(|s| match s {
            Special::NaN => 0,
            Special::PosInf => 1,
            Special::NegInf => 2,
        })
    }

    /// Inverse of [`Numeric::special_code`].
    pub fn from_special_code(code: u8) -> Option<Numeric> {
        Some(match code {
            0 => Numeric::NAN,
            1 => Numeric::INFINITY,
            2 => Numeric::NEG_INFINITY,
            _ => return None,
        })
    }

    /// Sign and little-endian magnitude bytes of the mantissa, and the
    /// scale (the general storage encoding). Finite values only.
    pub fn to_bytes_parts(&self) -> (bool, Vec<u8>, u32) {
        let m = self.mant().to_big();
        (
            m.sign() == Sign::Minus,
            m.magnitude().to_bytes_le(),
            self.scale(),
        )
    }

    /// Inverse of [`Numeric::to_bytes_parts`]; `None` for a scale beyond
    /// [`MAX_DSCALE`] or a value beyond PostgreSQL's limits.
    pub fn from_bytes_parts(negative: bool, magnitude_le: &[u8], scale: u32) -> Option<Numeric> {
        if scale > MAX_DSCALE {
            return None;
        }
        let sign = if negative { Sign::Minus } else { Sign::Plus };
        let m = BigInt::from_bytes_le(sign, magnitude_le);
        Numeric::from_bigint(m, scale).check_range().ok()
    }
}

#[cfg(test)]
mod tests;
