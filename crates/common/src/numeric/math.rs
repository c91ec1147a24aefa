//! `sqrt`, `exp`, `ln`, `log` and `power` on [`Numeric`], with PostgreSQL
//! 15's result scales (`numeric_sqrt`, `numeric_exp`, `numeric_ln`,
//! `log_var`, `power_var`, `power_var_int` in `numeric.c`).
//!
//! PostgreSQL computes these in base-10000 arithmetic with guard digits and
//! rounds the result to a scale it chooses. Freshet chooses the same scale
//! with the same formulas and computes the value in big-integer fixed point
//! with more guard digits, rounding half away from zero: the results agree
//! with PostgreSQL to the last digit except where the exact value lies
//! within the guard digits' error of a rounding boundary (which neither
//! implementation resolves exactly). `sqrt` is exact before rounding.
//! Where PostgreSQL works with intermediate roundings (`power` with an
//! integer exponent multiplies at reduced scales; `log` divides two rounded
//! logarithms; `power` rounds `ln(base) * exp`), Freshet performs the same
//! roundings.

use num_bigint::BigInt;
use num_traits::Zero;

use super::{
    div_big, numeric_overflow, pow10_big, Numeric, MAX_DISPLAY_SCALE, MAX_DSCALE, MAX_RESULT_SCALE,
    MIN_SIG_DIGITS,
};
use crate::{Error, Result, SqlState};

/// `log10(e)`, as PostgreSQL writes it: result scales are chosen by
/// truncating estimates made with this very literal, so it must not be
/// replaced by the exact constant.
#[allow(clippy::approx_constant)]
const LOG10_E: f64 = 0.434294481903252;

/// `ln(10)`, as PostgreSQL writes it (see [`LOG10_E`]).
#[allow(clippy::approx_constant)]
const LN_10: f64 = 2.302585092994046;

/// `rscale`, at least `floor` and 0, at most 1000: PostgreSQL's
/// `Max(rscale, dscale)`, `Max(.., NUMERIC_MIN_DISPLAY_SCALE)`,
/// `Min(.., NUMERIC_MAX_DISPLAY_SCALE)` sequence.
fn clamp_rscale(rscale: i64, floor: i64) -> i64 {
    rscale.max(floor).clamp(0, MAX_DISPLAY_SCALE)
}

fn log_error(message: &str) -> Error {
    Error::new(SqlState::InvalidArgumentForLogarithm, message.to_string())
}

fn power_error(message: &str) -> Error {
    Error::new(
        SqlState::InvalidArgumentForPowerFunction,
        message.to_string(),
    )
}

/// The value `x` in fixed point at precision `p` (`x * 10^p`, truncated).
fn to_fixed(x: &Numeric, p: i64) -> BigInt {
    let m = x.mant().to_big();
    let shift = p - x.scale() as i64;
    if shift >= 0 {
        m * pow10_big(shift as u64)
    } else {
        m / pow10_big((-shift) as u64)
    }
}

/// A fixed-point value at precision `from` rounded (half away from zero)
/// to a numeric with scale `to` (`to <= from`).
fn fixed_to_numeric(v: &BigInt, from: i64, to: i64) -> Result<Numeric> {
    assert!(
        to <= from && to >= 0,
        "fixed-point rounding from {from} to {to}"
    );
    let q = div_big(v, &pow10_big((from - to) as u64), true);
    Numeric::from_bigint(q, to as u32).check_range()
}

/// `atanh(1/n) * 10^p`, by its series `sum 1/((2k+1) n^(2k+1))`; error a
/// few units in the last place.
fn atanh_inv(n: u32, p: u64) -> BigInt {
    let n2 = BigInt::from(n as u64 * n as u64);
    let mut term = pow10_big(p) / n;
    let mut sum = term.clone();
    let mut k: u64 = 1;
    loop {
        term /= &n2;
        if term.is_zero() {
            return sum;
        }
        k += 2;
        sum += &term / k;
    }
}

/// `ln(10) * 10^p`, from `ln 10 = 3 ln 2 + ln 1.25 = 6 atanh(1/3) +
/// 2 atanh(1/9)`; error below one unit in the last place.
fn ln10_fixed(p: u64) -> BigInt {
    let g = p + 6;
    let v = atanh_inv(3, g) * 6u8 + atanh_inv(9, g) * 2u8;
    v / pow10_big(6)
}

/// `ln(x) * 10^w` for `x > 0`, with an error of well under `10^6` units:
/// `x = a * 10^k` with `1 <= a < 10`, square roots bring `a` below 1.1,
/// then `ln a = 2^(j+1) atanh((a-1)/(a+1))`.
fn ln_fixed(x: &Numeric, w: i64) -> BigInt {
    let k = x.decimal_weight();
    let one = pow10_big(w as u64);
    let mut a = to_fixed(x, w - k);
    let limit = &one * 11u8 / 10u8;
    let mut j = 0u32;
    while a > limit {
        a = (a * &one).sqrt();
        j += 1;
    }
    let z = (&a - &one) * &one / (&a + &one);
    let z2 = &z * &z / &one;
    let mut term = z.clone();
    let mut sum = z;
    let mut n: u64 = 1;
    loop {
        term = term * &z2 / &one;
        if term.is_zero() {
            break;
        }
        n += 2;
        sum += &term / n;
    }
    let mut r = sum << (j + 1);
    if k != 0 {
        r += ln10_fixed(w as u64) * k;
    }
    r
}

/// Guard digits for [`ln_fixed`] at a target scale, covering the error
/// of the series and of `k * ln 10`.
fn ln_guard(x: &Numeric) -> i64 {
    let k = x.decimal_weight().unsigned_abs();
    let kd = if k == 0 { 0 } else { k.ilog10() as i64 + 1 };
    16 + kd
}

/// `ln(x)` (`x > 0`) rounded to `rscale` digits (`rscale >= 0`).
fn ln_at(x: &Numeric, rscale: i64) -> Result<Numeric> {
    let w = rscale + ln_guard(x);
    fixed_to_numeric(&ln_fixed(x, w), w, rscale)
}

/// `exp(x)` rounded to `rscale` digits, with PostgreSQL's `exp_var`
/// overflow rule: 22003 when `x >= 6000`, zero when `x <= -6000`.
fn exp_at(x: &Numeric, rscale: i64) -> Result<Numeric> {
    let val = x.to_f64();
    if val.abs() >= (MAX_RESULT_SCALE * 3) as f64 {
        if val > 0.0 {
            return Err(numeric_overflow());
        }
        return Ok(Numeric::small(0, rscale as u32));
    }
    // exp(x) = 10^m * exp(y), y = x - m ln 10 in [0, ln 10) (about: m is
    // chosen in floating point, which only moves y a little).
    let m = (val / std::f64::consts::LN_10).floor() as i64;
    let w = (rscale + m).max(0) + 24;
    let md = if m == 0 {
        0
    } else {
        m.unsigned_abs().ilog10() as i64 + 1
    };
    let wx = w + md + 2;
    let y = (to_fixed(x, wx) - ln10_fixed(wx as u64) * m) / pow10_big((wx - w) as u64);
    // exp(y) = exp(y / 2^10)^(2^10), the inner one by its Taylor series.
    const HALVINGS: u32 = 10;
    let one = pow10_big(w as u64);
    let y = y >> HALVINGS;
    let mut sum = one.clone();
    let mut term = one.clone();
    let mut n: u64 = 0;
    loop {
        n += 1;
        term = term * &y / &one / n;
        if term.is_zero() {
            break;
        }
        sum += &term;
    }
    for _ in 0..HALVINGS {
        sum = &sum * &sum / &one;
    }
    // value = sum / 10^w * 10^m; at scale rscale: sum / 10^(w - m - rscale).
    fixed_to_numeric(&sum, w - m, rscale)
}

/// PostgreSQL's `estimate_ln_dweight`: the decimal weight of `ln(x)`,
/// estimated the way `numeric.c` does (it drives result scales, so it
/// must match, floating-point truncations included).
fn estimate_ln_dweight(x: &Numeric) -> i64 {
    if x.signum() <= 0 {
        return 0;
    }
    let near_one = *x >= Numeric::new(9, 1) && *x <= Numeric::new(11, 1);
    if near_one {
        let d = x.checked_sub(&Numeric::ONE).expect("small operands");
        if d.is_zero() {
            return 0;
        }
        return d.decimal_weight();
    }
    let (weight, digits) = x.nbase_digits();
    let mut value = digits[0] as f64;
    let mut dweight = weight * 4;
    if digits.len() > 1 {
        value = value * 10_000.0 + digits[1] as f64;
        dweight -= 4;
    }
    let ln = value.ln() + dweight as f64 * LN_10;
    ln.abs().log10() as i64
}

impl Numeric {
    /// `sqrt(x)` as PostgreSQL's `numeric_sqrt`: at least 16 significant
    /// digits and no less than the input's scale; 2201F for a negative
    /// input. Exact digits, rounded half away from zero.
    pub fn sqrt(&self) -> Result<Numeric> {
        if self.is_negative() {
            return Err(power_error("cannot take square root of a negative number"));
        }
        if !self.is_finite() {
            return Ok(self.clone());
        }
        let weight = self.nbase_weight();
        let sweight = (weight + 1) * 4 / 2 - 1;
        let rscale = clamp_rscale(MIN_SIG_DIGITS - sweight, self.scale() as i64);
        // floor(sqrt(x) * 10^(rscale+1)), then round the extra digit: the
        // truncated tail never turns a 4 into a 5, so this rounds exactly.
        let shift = 2 * (rscale + 1) - self.scale() as i64;
        let n = self.mant().to_big() * pow10_big(shift as u64);
        let t = n.sqrt();
        let r = (t + 5u8) / 10u8;
        Numeric::from_bigint(r, rscale as u32).check_range()
    }

    /// The square root rounded to `rscale` decimal digits (PostgreSQL's
    /// `sqrt_var` with an explicit result scale, used by `stddev`).
    pub fn sqrt_with_scale(&self, rscale: u32) -> Result<Numeric> {
        if self.is_negative() {
            return Err(power_error("cannot take square root of a negative number"));
        }
        if !self.is_finite() {
            return Ok(self.clone());
        }
        let rscale = rscale as i64;
        let shift = 2 * (rscale + 1) - self.scale() as i64;
        let n = if shift >= 0 {
            self.mant().to_big() * pow10_big(shift as u64)
        } else {
            self.mant().to_big() / pow10_big((-shift) as u64)
        };
        let t = n.sqrt();
        let r = (t + 5u8) / 10u8;
        Numeric::from_bigint(r, rscale as u32).check_range()
    }

    /// `exp(x)` as PostgreSQL's `numeric_exp`: the scale gives at least 16
    /// significant digits and no less than the input's scale.
    pub fn exp(&self) -> Result<Numeric> {
        if !self.is_finite() {
            // exp(-Infinity) is 0; NaN and Infinity map to themselves.
            return Ok(if self.is_negative() {
                Numeric::ZERO
            } else {
                self.clone()
            });
        }
        let val =
            (self.to_f64() * LOG10_E).clamp(-MAX_RESULT_SCALE as f64, MAX_RESULT_SCALE as f64);
        let rscale = clamp_rscale(MIN_SIG_DIGITS - val as i64, self.scale() as i64);
        exp_at(self, rscale)
    }

    fn check_log_argument(&self) -> Result<()> {
        if self.is_zero() {
            return Err(log_error("cannot take logarithm of zero"));
        }
        if self.is_negative() {
            return Err(log_error("cannot take logarithm of a negative number"));
        }
        Ok(())
    }

    /// `ln(x)` as PostgreSQL's `numeric_ln`: 16 significant digits by the
    /// estimated weight of the result, no less than the input's scale.
    pub fn ln(&self) -> Result<Numeric> {
        self.check_log_argument()?;
        if !self.is_finite() {
            return Ok(self.clone());
        }
        let rscale = clamp_rscale(
            MIN_SIG_DIGITS - estimate_ln_dweight(self),
            self.scale() as i64,
        );
        ln_at(self, rscale)
    }

    /// `log(base, x)` as PostgreSQL's `log_var`: both logarithms computed
    /// 8 digits beyond the result, then divided and rounded. `log(x)` and
    /// `log10(x)` are `log(10, x)`.
    pub fn log(base: &Numeric, x: &Numeric) -> Result<Numeric> {
        if base.is_nan() || x.is_nan() {
            return Ok(Numeric::NAN);
        }
        base.check_log_argument()?;
        x.check_log_argument()?;
        if base.is_infinite() {
            // log(Inf, Inf) is Inf / Inf; log(Inf, finite) is zero.
            return Ok(if x.is_infinite() {
                Numeric::NAN
            } else {
                Numeric::ZERO
            });
        }
        if x.is_infinite() {
            return Ok(Numeric::INFINITY);
        }
        let ln_base_dweight = estimate_ln_dweight(base);
        let ln_num_dweight = estimate_ln_dweight(x);
        let result_dweight = ln_num_dweight - ln_base_dweight;
        let rscale = clamp_rscale(
            MIN_SIG_DIGITS - result_dweight,
            (base.scale() as i64).max(x.scale() as i64),
        );
        let ln_base_rscale = (rscale + result_dweight - ln_base_dweight + 8).max(0);
        let ln_num_rscale = (rscale + result_dweight - ln_num_dweight + 8).max(0);
        let ln_base = ln_at(base, ln_base_rscale)?;
        let ln_num = ln_at(x, ln_num_rscale)?;
        ln_num.div_with_scale(&ln_base, rscale as u32, true)
    }

    /// `power(x, e)` / `x ^ e` as PostgreSQL 15's `numeric_power`.
    pub fn pow(&self, exp: &Numeric) -> Result<Numeric> {
        if !self.is_finite() || !exp.is_finite() {
            return self.pow_special(exp);
        }
        if self.is_zero() && exp.is_negative() {
            return Err(power_error("zero raised to a negative power is undefined"));
        }
        let exp_integral = exp.is_integral();
        if self.is_negative() && !exp_integral {
            return Err(power_error(
                "a negative number raised to a non-integer power yields a complex result",
            ));
        }
        if exp_integral {
            if let Some(e) = exp.to_i64_rounded().and_then(|v| i32::try_from(v).ok()) {
                let rscale = clamp_rscale(MIN_SIG_DIGITS, self.scale() as i64);
                return self.pow_int(e, rscale);
            }
        }
        if self.is_zero() {
            return Ok(Numeric::small(0, MIN_SIG_DIGITS as u32));
        }
        let negative_result = self.is_negative() && {
            // An integral exponent too large for int32: its parity.
            let two = Numeric::from(2);
            !exp.checked_rem(&two)?.is_zero()
        };
        let base = self.abs();
        let ln_dweight = estimate_ln_dweight(&base);
        let local_rscale = (8 - ln_dweight).max(0);
        let ln_base = ln_at(&base, local_rscale)?;
        let ln_num = ln_base
            .checked_mul(exp)?
            .round_to(local_rscale.min(MAX_DSCALE as i64))?;
        let mut val = ln_num.to_f64();
        if val.abs() > (MAX_RESULT_SCALE as f64) * 3.01 {
            if val > 0.0 {
                return Err(numeric_overflow());
            }
            return Ok(Numeric::small(0, MAX_DISPLAY_SCALE as u32));
        }
        val *= LOG10_E;
        let rscale = clamp_rscale(
            MIN_SIG_DIGITS - val as i64,
            (base.scale() as i64).max(exp.scale() as i64),
        );
        let sig_digits = (rscale + val as i64).max(0);
        let local_rscale = (sig_digits - ln_dweight + 8).max(0);
        let ln_base = ln_at(&base, local_rscale)?;
        let ln_num = ln_base
            .checked_mul(exp)?
            .round_to(local_rscale.min(MAX_DSCALE as i64))?;
        let r = exp_at(&ln_num, rscale)?;
        Ok(if negative_result { -r } else { r })
    }

    /// `numeric_power` with a NaN or infinite operand: POSIX `pow(3)`
    /// rules, as PostgreSQL applies them.
    fn pow_special(&self, exp: &Numeric) -> Result<Numeric> {
        if self.is_nan() {
            return Ok(if exp.is_zero() {
                Numeric::ONE
            } else {
                Numeric::NAN
            });
        }
        if exp.is_nan() {
            return Ok(if *self == Numeric::ONE {
                Numeric::ONE
            } else {
                Numeric::NAN
            });
        }
        let (sign1, sign2) = (self.signum(), exp.signum());
        if sign1 == 0 && sign2 < 0 {
            return Err(power_error("zero raised to a negative power is undefined"));
        }
        if sign1 < 0 && !exp.is_integral() {
            return Err(power_error(
                "a negative number raised to a non-integer power yields a complex result",
            ));
        }
        if *self == Numeric::ONE || sign2 == 0 {
            return Ok(Numeric::ONE);
        }
        if sign1 == 0 && sign2 > 0 {
            return Ok(Numeric::ZERO);
        }
        if exp.is_infinite() {
            let abs_x_gt_one = if self.is_infinite() {
                true
            } else {
                if *self == Numeric::from(-1) {
                    return Ok(Numeric::ONE);
                }
                self.abs() > Numeric::ONE
            };
            return Ok(if abs_x_gt_one == (sign2 > 0) {
                Numeric::INFINITY
            } else {
                Numeric::ZERO
            });
        }
        if *self == Numeric::INFINITY {
            return Ok(if sign2 > 0 {
                Numeric::INFINITY
            } else {
                Numeric::ZERO
            });
        }
        // -Infinity to a finite power.
        if sign2 < 0 {
            return Ok(Numeric::ZERO);
        }
        let odd_integer = exp.is_integral() && !exp.checked_rem(&Numeric::from(2))?.is_zero();
        Ok(if odd_integer {
            Numeric::NEG_INFINITY
        } else {
            Numeric::INFINITY
        })
    }

    /// PostgreSQL's `power_var_int`: repeated squaring, each product
    /// rounded to the scale that keeps enough significant digits.
    fn pow_int(&self, exp: i32, rscale: i64) -> Result<Numeric> {
        match exp {
            0 => return Numeric::small(1, 0).round_to(rscale),
            1 => return self.round_to(rscale),
            -1 => return Numeric::ONE.div_with_scale(self, rscale as u32, true),
            2 => return self.checked_mul(self)?.round_to(rscale),
            _ => {}
        }
        if self.is_zero() {
            if exp < 0 {
                return Err(Error::division_by_zero());
            }
            return Ok(Numeric::small(0, rscale as u32));
        }
        // base ~= f * 10^p from its first base-10000 digits.
        let (weight, digits) = self.nbase_digits();
        let mut f = digits[0] as f64;
        let mut p = weight * 4;
        let mut i = 1;
        while i < digits.len() && i * 4 < 16 {
            f = f * 10_000.0 + digits[i] as f64;
            p -= 4;
            i += 1;
        }
        let f = exp as f64 * (f.log10() + p as f64);
        if f > (3 * i16::MAX as i64 * 4) as f64 {
            return Err(numeric_overflow());
        }
        if f + 1.0 < -(rscale as f64) || f + 1.0 < -(MAX_DISPLAY_SCALE as f64) {
            return Ok(Numeric::small(0, rscale as u32));
        }
        let mut sig_digits = 1 + rscale + f as i64;
        sig_digits += (exp as f64).abs().ln() as i64 + 8;
        let neg = exp < 0;
        let mut mask = exp.unsigned_abs();
        let mut base_prod = self.clone();
        let mut result = if mask & 1 == 1 {
            self.clone()
        } else {
            Numeric::ONE
        };
        loop {
            mask >>= 1;
            if mask == 0 {
                break;
            }
            let local = (sig_digits - 2 * base_prod.nbase_weight() * 4)
                .min(2 * base_prod.scale() as i64)
                .max(0);
            base_prod = base_prod
                .checked_mul(&base_prod)?
                .round_to(local.min(MAX_DSCALE as i64))?;
            if mask & 1 == 1 {
                let local = (sig_digits - (base_prod.nbase_weight() + result.nbase_weight()) * 4)
                    .min(base_prod.scale() as i64 + result.scale() as i64)
                    .max(0);
                result = base_prod
                    .checked_mul(&result)?
                    .round_to(local.min(MAX_DSCALE as i64))?;
            }
            if base_prod.nbase_weight() > i16::MAX as i64 || result.nbase_weight() > i16::MAX as i64
            {
                if !neg {
                    return Err(numeric_overflow());
                }
                return Ok(Numeric::small(0, rscale as u32));
            }
        }
        if neg {
            Numeric::ONE.div_with_scale(&result, rscale as u32, true)
        } else {
            result.round_to(rscale)
        }
    }

    /// `log10(x)`: `log(10, x)`.
    pub fn log10(&self) -> Result<Numeric> {
        Numeric::log(&Numeric::from(10), self)
    }
}
