//! Small built-ins that fit no other family: `width_bucket`, the array
//! shape functions (`array_ndims`, `array_dims`, `array_fill`) and the
//! interval normalisers (`justify_days`, `justify_hours`,
//! `justify_interval`, which are `Interval`'s methods in
//! `freshet_common::datetime`), each transcribing its PostgreSQL 15
//! counterpart (`float.c`, `numeric.c`, `arrayfuncs.c`, `timestamp.c`).

use freshet_common::{Datum, Error, Numeric, Result, SqlState};

/// A function of this module; arguments are coerced by the binder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MiscFunc {
    /// `width_bucket(float8, float8, float8, int4)`.
    WidthBucketFloat,
    /// `width_bucket(numeric, numeric, numeric, int4)`.
    WidthBucketNumeric,
    /// `width_bucket(anyelement, anyarray)`: thresholds, sorted ascending.
    WidthBucketArray,
    /// `array_ndims(anyarray)`.
    ArrayNdims,
    /// `array_dims(anyarray)`: `[1:2][1:3]`.
    ArrayDims,
    /// `array_fill(anyelement, int4[] [, int4[]])`; not strict.
    ArrayFill,
    /// `justify_days(interval)`: 30-day periods as months.
    JustifyDays,
    /// `justify_hours(interval)`: 24-hour periods as days.
    JustifyHours,
    /// `justify_interval(interval)`: both, signs made consistent.
    JustifyInterval,
}

/// PostgreSQL's `MaxArraySize`.
const ARRAY_SIZE_MAX: i64 = 134_217_727;

fn width_error(message: &str) -> Error {
    Error::new(SqlState::InvalidArgumentForWidthBucketFunction, message)
}

/// Evaluates `func`; only `array_fill` sees NULL arguments.
pub fn call(func: MiscFunc, args: &[Datum]) -> Result<Datum> {
    if func == MiscFunc::ArrayFill {
        return array_fill(args);
    }
    if args.iter().any(Datum::is_null) {
        return Ok(Datum::Null);
    }
    Ok(match func {
        MiscFunc::WidthBucketFloat => {
            let f = |i: usize| args[i].as_f64().unwrap_or(0.0);
            Datum::Int4(width_bucket_float(f(0), f(1), f(2), count_arg(&args[3])?)?)
        }
        MiscFunc::WidthBucketNumeric => {
            let n = |i: usize| match &args[i] {
                Datum::Numeric(n) => n.clone(),
                other => Numeric::from(other.as_i64().unwrap_or(0)),
            };
            Datum::Int4(width_bucket_numeric(&n(0), &n(1), &n(2), count_arg(&args[3])?)?)
        }
        MiscFunc::WidthBucketArray => {
            let Datum::Array(thresholds) = &args[1] else { return Ok(Datum::Null) };
            if thresholds.iter().any(|t| matches!(t, Datum::Array(_))) {
                return Err(Error::new(SqlState::ArraySubscriptError, "thresholds must be one-dimensional array"));
            }
            if thresholds.iter().any(Datum::is_null) {
                return Err(Error::new(SqlState::NullValueNotAllowed, "thresholds array must not contain NULLs"));
            }
            // The first threshold greater than the operand (binary search,
            // as PostgreSQL's width_bucket_array_fixed does).
            let (mut left, mut right) = (0usize, thresholds.len());
            while left < right {
                let mid = (left + right) / 2;
                if crate::func::compare(&thresholds[mid], &args[0]) != Some(std::cmp::Ordering::Greater) {
                    left = mid + 1;
                } else {
                    right = mid;
                }
            }
            Datum::Int4(left as i32)
        }
        MiscFunc::ArrayNdims => match &args[0] {
            Datum::Array(items) if !items.is_empty() => Datum::Int4(dims(items).len() as i32),
            _ => Datum::Null,
        },
        MiscFunc::ArrayDims => match &args[0] {
            Datum::Array(items) if !items.is_empty() => {
                Datum::Text(dims(items).iter().map(|n| format!("[1:{n}]")).collect())
            }
            _ => Datum::Null,
        },
        MiscFunc::JustifyDays | MiscFunc::JustifyHours | MiscFunc::JustifyInterval => {
            let Datum::Interval(iv) = &args[0] else { return Ok(Datum::Null) };
            Datum::Interval(match func {
                MiscFunc::JustifyDays => iv.justify_days()?,
                MiscFunc::JustifyHours => iv.justify_hours()?,
                _ => iv.justify_interval()?,
            })
        }
        MiscFunc::ArrayFill => unreachable!("handled above"),
    })
}

fn count_arg(d: &Datum) -> Result<i32> {
    let count = d.as_i64().unwrap_or(0) as i32;
    if count <= 0 {
        return Err(width_error("count must be greater than zero"));
    }
    Ok(count)
}

fn count_plus_one(count: i32) -> Result<i32> {
    count.checked_add(1).ok_or_else(|| Error::out_of_range("integer"))
}

/// PostgreSQL 15's `width_bucket_float8`.
fn width_bucket_float(operand: f64, bound1: f64, bound2: f64, count: i32) -> Result<i32> {
    if operand.is_nan() || bound1.is_nan() || bound2.is_nan() {
        return Err(width_error("operand, lower bound, and upper bound cannot be NaN"));
    }
    if bound1.is_infinite() || bound2.is_infinite() {
        return Err(width_error("lower and upper bounds must be finite"));
    }
    let scaled = |num: f64, den: f64| -> i32 {
        // The quotient could round to 1.0, which would be a lie.
        let result = (count as f64 * (num / den)) as i32;
        result.min(count - 1) + 1
    };
    if bound1 < bound2 {
        if operand < bound1 {
            Ok(0)
        } else if operand >= bound2 {
            count_plus_one(count)
        } else if (bound2 - bound1).is_finite() {
            Ok(scaled(operand - bound1, bound2 - bound1))
        } else {
            Ok(scaled(operand / 2.0 - bound1 / 2.0, bound2 / 2.0 - bound1 / 2.0))
        }
    } else if bound1 > bound2 {
        if operand > bound1 {
            Ok(0)
        } else if operand <= bound2 {
            count_plus_one(count)
        } else if (bound1 - bound2).is_finite() {
            Ok(scaled(bound1 - operand, bound1 - bound2))
        } else {
            Ok(scaled(bound1 / 2.0 - operand / 2.0, bound1 / 2.0 - bound2 / 2.0))
        }
    } else {
        Err(width_error("lower bound cannot equal upper bound"))
    }
}

/// PostgreSQL 15's `width_bucket_numeric`: exact, the bucket is
/// `trunc((operand - low) * count / (high - low)) + 1`.
fn width_bucket_numeric(operand: &Numeric, bound1: &Numeric, bound2: &Numeric, count: i32) -> Result<i32> {
    if operand.is_nan() || bound1.is_nan() || bound2.is_nan() {
        return Err(width_error("operand, lower bound, and upper bound cannot be NaN"));
    }
    if !bound1.is_finite() || !bound2.is_finite() {
        return Err(width_error("lower and upper bounds must be finite"));
    }
    let bucket = |num: Numeric, den: Numeric| -> Result<i32> {
        let q = num.checked_mul(&Numeric::from(count as i64))?.div_trunc(&den)?;
        Ok(q.to_i64_rounded().unwrap_or(0) as i32 + 1)
    };
    match bound1.cmp(bound2) {
        std::cmp::Ordering::Less => {
            if operand < bound1 {
                Ok(0)
            } else if operand >= bound2 {
                count_plus_one(count)
            } else {
                bucket(operand.checked_sub(bound1)?, bound2.checked_sub(bound1)?)
            }
        }
        std::cmp::Ordering::Greater => {
            if operand > bound1 {
                Ok(0)
            } else if operand <= bound2 {
                count_plus_one(count)
            } else {
                bucket(bound1.checked_sub(operand)?, bound1.checked_sub(bound2)?)
            }
        }
        std::cmp::Ordering::Equal => Err(width_error("lower bound cannot equal upper bound")),
    }
}

/// The lengths of a non-empty array's dimensions (nested arrays are the
/// inner dimensions).
fn dims(items: &[Datum]) -> Vec<usize> {
    let mut out = vec![items.len()];
    if let Some(Datum::Array(inner)) = items.first() {
        out.extend(dims(inner));
    }
    out
}

/// `array_fill(value, dims [, lower_bounds])`. Freshet's arrays start at
/// 1, so other lower bounds are refused (0A000).
fn array_fill(args: &[Datum]) -> Result<Datum> {
    let int_list = |d: &Datum| -> Result<Option<Vec<i64>>> {
        match d {
            Datum::Null => Ok(None),
            Datum::Array(items) => items
                .iter()
                .map(|i| match i {
                    Datum::Null => Err(Error::new(SqlState::NullValueNotAllowed, "dimension values cannot be null")),
                    Datum::Array(_) => Err(Error::new(SqlState::ArraySubscriptError, "wrong number of array subscripts")
                        .with_detail("Dimension array must be one dimensional.")),
                    other => Ok(other.as_i64().unwrap_or(0)),
                })
                .collect::<Result<Vec<i64>>>()
                .map(Some),
            _ => Ok(None),
        }
    };
    let cannot_be_null = || Error::new(SqlState::NullValueNotAllowed, "dimension array or low bound array cannot be null");
    let dims = int_list(args.get(1).unwrap_or(&Datum::Null))?.ok_or_else(cannot_be_null)?;
    if let Some(bounds) = args.get(2) {
        let bounds = int_list(bounds)?.ok_or_else(cannot_be_null)?;
        if bounds.len() != dims.len() {
            return Err(Error::new(SqlState::ArraySubscriptError, "wrong number of array subscripts")
                .with_detail("Low bound array has different size than dimensions array."));
        }
        if bounds.iter().any(|b| *b != 1) {
            return Err(Error::unsupported("array_fill with lower bounds other than 1"));
        }
    }
    if dims.len() > 6 {
        return Err(Error::new(
            SqlState::ProgramLimitExceeded,
            format!("number of array dimensions ({}) exceeds the maximum allowed (6)", dims.len()),
        ));
    }
    let mut total: i64 = 1;
    for d in &dims {
        total = total.saturating_mul(*d);
        if *d < 0 || total > ARRAY_SIZE_MAX {
            return Err(Error::new(
                SqlState::ProgramLimitExceeded,
                format!("array size exceeds the maximum allowed ({ARRAY_SIZE_MAX})"),
            ));
        }
    }
    if dims.is_empty() || total == 0 {
        return Ok(Datum::Array(vec![]));
    }
    let value = args.first().cloned().unwrap_or(Datum::Null);
    fn build(value: &Datum, dims: &[i64]) -> Datum {
        match dims {
            [last] => Datum::Array(vec![value.clone(); *last as usize]),
            [first, rest @ ..] => Datum::Array((0..*first).map(|_| build(value, rest)).collect()),
            [] => Datum::Array(vec![]),
        }
    }
    Ok(build(&value, &dims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_bucket_matches_postgres() {
        assert_eq!(width_bucket_float(5.0, 10.0, 0.0, 5).expect("ok"), 3);
        assert_eq!(width_bucket_float(10.0, 0.0, 10.0, 5).expect("ok"), 6);
        assert_eq!(width_bucket_float(f64::INFINITY, 0.0, 2.0, 1).expect("ok"), 2);
        let n = |s: &str| s.parse::<Numeric>().expect("numeric");
        assert_eq!(width_bucket_numeric(&n("5.35"), &n("0.024"), &n("10.06"), 5).expect("ok"), 3);
        assert!(width_bucket_float(1.0, 1.0, 1.0, 1).is_err());
    }

    #[test]
    fn justify_matches_postgres() {
        use freshet_common::datetime::Interval;
        let iv = |months, days, micros| Interval { months, days, micros };
        let parts = |r: Result<Interval>| {
            let v = r.expect("ok");
            (v.months, v.days, v.micros)
        };
        assert_eq!(parts(iv(0, 35, 0).justify_days()), (1, 5, 0));
        assert_eq!(parts(iv(1, -35, 0).justify_days()), (0, -5, 0));
        assert_eq!(parts(iv(0, 10, -27 * 3_600_000_000).justify_hours()), (0, 8, 21 * 3_600_000_000));
        assert_eq!(parts(iv(1, 0, -3_600_000_000).justify_interval()), (0, 29, 23 * 3_600_000_000));
    }
}
