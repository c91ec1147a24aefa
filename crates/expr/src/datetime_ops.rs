//! Date/time operators and functions, delegating to `freshet_common::datetime`.

use freshet_common::datetime::{self as dt, Interval};
use freshet_common::{Datum, Error, Result, SqlState, F64};

use crate::func::{BinaryOp, DateTimeFunc};
use crate::scalar::EvalContext;

fn no_operator(op: BinaryOp, l: &Datum, r: &Datum) -> Error {
    Error::new(
        SqlState::UndefinedFunction,
        format!(
            "operator does not exist: {} {op:?} {}",
            crate::func::variant_name(l),
            crate::func::variant_name(r)
        ),
    )
}

/// Arithmetic where at least one side is a date/time/interval.
pub fn arith(op: BinaryOp, l: Datum, r: Datum, ctx: &EvalContext<'_>) -> Result<Datum> {
    use Datum::*;
    let tz = &ctx.text.time_zone;
    Ok(match (op, &l, &r) {
        (BinaryOp::Add, Date(d), Int4(n)) | (BinaryOp::Add, Int4(n), Date(d)) => Date(d.add_days(*n as i64)?),
        (BinaryOp::Sub, Date(d), Int4(n)) => Date(d.add_days(-(*n as i64))?),
        (BinaryOp::Sub, Date(a), Date(b)) => Int4(a.days_between(*b)?),
        (BinaryOp::Add, Date(d), Interval(iv)) | (BinaryOp::Add, Interval(iv), Date(d)) => Timestamp(d.add_interval(iv)?),
        (BinaryOp::Sub, Date(d), Interval(iv)) => Timestamp(d.to_timestamp()?.sub_interval(iv)?),
        (BinaryOp::Add, Date(d), Time(t)) | (BinaryOp::Add, Time(t), Date(d)) => Timestamp(d.add_time(*t)?),
        (BinaryOp::Add, Timestamp(t), Interval(iv)) | (BinaryOp::Add, Interval(iv), Timestamp(t)) => Timestamp(t.add_interval(iv)?),
        (BinaryOp::Sub, Timestamp(t), Interval(iv)) => Timestamp(t.sub_interval(iv)?),
        (BinaryOp::Add, TimestampTz(t), Interval(iv)) | (BinaryOp::Add, Interval(iv), TimestampTz(t)) => {
            TimestampTz(t.add_interval(iv, tz)?)
        }
        (BinaryOp::Sub, TimestampTz(t), Interval(iv)) => TimestampTz(t.sub_interval(iv, tz)?),
        (BinaryOp::Sub, Timestamp(a), Timestamp(b)) => Interval(a.sub_timestamp(*b)?),
        (BinaryOp::Sub, TimestampTz(a), TimestampTz(b)) => Interval(a.sub_timestamptz(*b)?),
        (BinaryOp::Add, Interval(a), Interval(b)) => Interval(a.checked_add(b)?),
        (BinaryOp::Sub, Interval(a), Interval(b)) => Interval(a.checked_sub(b)?),
        (BinaryOp::Add, Time(t), Interval(iv)) | (BinaryOp::Add, Interval(iv), Time(t)) => Time(t.add_interval(iv)),
        (BinaryOp::Sub, Time(t), Interval(iv)) => Time(t.add_interval(&iv.checked_neg()?)),
        (BinaryOp::Sub, Time(a), Time(b)) => Interval(a.sub_time(*b)),
        (BinaryOp::Mul, Interval(iv), f) | (BinaryOp::Mul, f, Interval(iv)) if f.as_f64().is_some() => {
            Interval(iv.mul_f64(f.as_f64().unwrap_or(0.0))?)
        }
        (BinaryOp::Div, Interval(iv), f) if f.as_f64().is_some() => {
            let x = f.as_f64().unwrap_or(0.0);
            if x == 0.0 {
                return Err(Error::division_by_zero());
            }
            Interval(iv.div_f64(x)?)
        }
        _ => return Err(no_operator(op, &l, &r)),
    })
}

fn text_arg(d: &Datum) -> Result<String> {
    d.as_str().map(|s| s.to_lowercase()).ok_or_else(|| Error::internal("expected a text argument"))
}

/// A date/time function call.
pub fn call(func: DateTimeFunc, args: Vec<Datum>, ctx: &EvalContext<'_>) -> Result<Datum> {
    if func == DateTimeFunc::Now {
        return Ok(Datum::TimestampTz(ctx.now));
    }
    if args.iter().any(|a| a.is_null()) {
        return Ok(Datum::Null);
    }
    let tz = &ctx.text.time_zone;
    Ok(match func {
        DateTimeFunc::Now => Datum::TimestampTz(ctx.now),
        DateTimeFunc::CurrentDate => Datum::Date(ctx.now.to_date(tz)?),
        DateTimeFunc::Extract => dt::extract(&text_arg(&args[0])?, &args[1], tz)?,
        DateTimeFunc::DatePart => match dt::date_part(&text_arg(&args[0])?, &args[1], tz)? {
            Some(v) => Datum::Float8(F64(v)),
            None => Datum::Null,
        },
        DateTimeFunc::DateTrunc => {
            let field = text_arg(&args[0])?;
            match &args[1] {
                Datum::Timestamp(t) => Datum::Timestamp(dt::date_trunc_timestamp(&field, *t)?),
                Datum::TimestampTz(t) => Datum::TimestampTz(dt::date_trunc_timestamptz(&field, *t, tz)?),
                Datum::Interval(iv) => Datum::Interval(dt::date_trunc_interval(&field, iv)?),
                other => return Err(Error::internal(format!("date_trunc over {other:?}"))),
            }
        }
        DateTimeFunc::DateBin => {
            let Datum::Interval(stride) = &args[0] else { return Err(Error::internal("date_bin stride")) };
            if stride.months != 0 {
                return Err(Error::new(
                    SqlState::FeatureNotSupported,
                    "timestamps cannot be binned into intervals containing months or years",
                ));
            }
            let width = (stride.days as i64)
                .checked_mul(86_400_000_000)
                .and_then(|d| d.checked_add(stride.micros))
                .ok_or_else(|| Error::out_of_range("interval"))?;
            if width <= 0 {
                return Err(Error::new(SqlState::InvalidParameterValue, "stride must be greater than zero"));
            }
            let bin = |source: i64, origin: i64| -> Result<i64> {
                let diff = source.checked_sub(origin).ok_or_else(|| Error::out_of_range("timestamp"))?;
                origin.checked_add(diff.div_euclid(width) * width).ok_or_else(|| Error::out_of_range("timestamp"))
            };
            match (&args[1], &args[2]) {
                (Datum::Timestamp(t), Datum::Timestamp(o)) => Datum::Timestamp(freshet_common::Timestamp(bin(t.0, o.0)?)),
                (Datum::TimestampTz(t), Datum::TimestampTz(o)) => Datum::TimestampTz(freshet_common::TimestampTz(bin(t.0, o.0)?)),
                _ => return Err(Error::internal("date_bin over mismatched types")),
            }
        }
        DateTimeFunc::Age => match (&args[0], &args[1]) {
            (Datum::Timestamp(a), Datum::Timestamp(b)) => Datum::Interval(a.age(*b)?),
            (Datum::TimestampTz(a), Datum::TimestampTz(b)) => Datum::Interval(a.age(*b, tz)?),
            _ => return Err(Error::internal("age over mismatched types")),
        },
        DateTimeFunc::MakeDate => {
            let (y, m, d) = (
                args[0].as_i64().unwrap_or(0),
                args[1].as_i64().unwrap_or(0),
                args[2].as_i64().unwrap_or(0),
            );
            if !(1..=12).contains(&m) || d < 1 || d > 31 || y == 0 {
                return Err(Error::new(
                    SqlState::DatetimeFieldOverflow,
                    format!("date field value out of range: {y}-{m:02}-{d:02}"),
                ));
            }
            let y = if y < 0 { y + 1 } else { y };
            Datum::Date(dt::Date::from_ymd(y, m as u32, d as u32)?)
        }
        DateTimeFunc::MakeInterval => {
            let int = |i: usize| args.get(i).and_then(Datum::as_i64).unwrap_or(0);
            let secs = args.get(6).and_then(Datum::as_f64).unwrap_or(0.0);
            let overflow = || Error::new(SqlState::DatetimeFieldOverflow, "interval out of range");
            if !secs.is_finite() {
                return Err(overflow());
            }
            let months = int(0).checked_mul(12).and_then(|y| y.checked_add(int(1))).and_then(|m| i32::try_from(m).ok());
            let days = int(2).checked_mul(7).and_then(|w| w.checked_add(int(3))).and_then(|d| i32::try_from(d).ok());
            let micros = int(4)
                .checked_mul(3_600_000_000)
                .and_then(|h| int(5).checked_mul(60_000_000).and_then(|m| h.checked_add(m)))
                .and_then(|hm| {
                    let s = (secs * 1_000_000.0).round();
                    (s.abs() < 9.2e18).then_some(s as i64).and_then(|s| hm.checked_add(s))
                });
            match (months, days, micros) {
                (Some(m), Some(d), Some(us)) => Datum::Interval(dt::Interval::new(m, d, us)),
                _ => return Err(overflow()),
            }
        }
        DateTimeFunc::MakeTime => Datum::Time(make_time(&args[0], &args[1], &args[2])?),
        DateTimeFunc::MakeTimestamp | DateTimeFunc::MakeTimestampTz => {
            let (y, m, d) = (args[0].as_i64().unwrap_or(0), args[1].as_i64().unwrap_or(0), args[2].as_i64().unwrap_or(0));
            if !(1..=12).contains(&m) || d < 1 || d > 31 || y == 0 {
                return Err(Error::new(
                    SqlState::DatetimeFieldOverflow,
                    format!("date field value out of range: {y}-{m:02}-{d:02}"),
                ));
            }
            let date = dt::Date::from_ymd(if y < 0 { y + 1 } else { y }, m as u32, d as u32)?;
            let local = date.add_time(make_time(&args[3], &args[4], &args[5])?)?;
            if func == DateTimeFunc::MakeTimestamp {
                Datum::Timestamp(local)
            } else {
                let zone = match args.get(6) {
                    Some(z) => freshet_common::io::TimeZone::parse_setting(z.as_str().unwrap_or("")).ok_or_else(|| {
                        Error::new(
                            SqlState::InvalidParameterValue,
                            format!("time zone \"{}\" not recognized", z.as_str().unwrap_or("")),
                        )
                    })?,
                    None => tz.clone(),
                };
                Datum::TimestampTz(local.to_timestamptz(&zone)?)
            }
        }
        DateTimeFunc::WindowStart => {
            let size = window_micros(&args[1])?;
            match &args[0] {
                Datum::Timestamp(t) => Datum::Timestamp(freshet_common::Timestamp(floor_to(t.0, size))),
                Datum::TimestampTz(t) => Datum::TimestampTz(freshet_common::TimestampTz(floor_to(t.0, size))),
                other => return Err(Error::internal(format!("window start over {other:?}"))),
            }
        }
        DateTimeFunc::AtTimeZone => {
            let zone = match &args[0] {
                Datum::Interval(iv) if iv.months == 0 && iv.days == 0 => {
                    freshet_common::io::TimeZone::Fixed((iv.micros / 1_000_000) as i32)
                }
                Datum::Interval(_) => {
                    return Err(Error::new(
                        SqlState::InvalidParameterValue,
                        "interval time zone must not include months or days",
                    ))
                }
                other => {
                    let name = other.as_str().ok_or_else(|| Error::internal("AT TIME ZONE over a non-text zone"))?;
                    freshet_common::io::TimeZone::parse_at_time_zone(name).ok_or_else(|| {
                        Error::new(SqlState::InvalidParameterValue, format!("time zone \"{name}\" not recognized"))
                    })?
                }
            };
            let shift = |micros: i64, secs: i32| {
                micros.checked_add(secs as i64 * dt::USECS_PER_SEC).ok_or_else(|| {
                    Error::new(SqlState::DatetimeFieldOverflow, "timestamp out of range")
                })
            };
            match &args[1] {
                Datum::TimestampTz(t) if !t.is_finite() => Datum::Timestamp(freshet_common::Timestamp(t.0)),
                Datum::Timestamp(t) if !t.is_finite() => Datum::TimestampTz(freshet_common::TimestampTz(t.0)),
                Datum::TimestampTz(t) => {
                    Datum::Timestamp(freshet_common::Timestamp(shift(t.0, zone.offset_at_utc(t.0))?))
                }
                Datum::Timestamp(t) => {
                    Datum::TimestampTz(freshet_common::TimestampTz(shift(t.0, -zone.offset_at_local(t.0))?))
                }
                other => return Err(Error::internal(format!("AT TIME ZONE over {other:?}"))),
            }
        }
        DateTimeFunc::ToTimestamp => {
            let secs = args[0].as_f64().unwrap_or(0.0);
            if !secs.is_finite() {
                return Err(Error::new(SqlState::DatetimeFieldOverflow, "timestamp out of range"));
            }
            // Seconds since the Unix epoch to microseconds since 2000-01-01.
            let micros = (secs * 1_000_000.0).round() as i64 - 946_684_800_000_000;
            Datum::TimestampTz(freshet_common::TimestampTz(micros))
        }
    })
}

#[allow(dead_code)]
fn _interval_type_check(_: Interval) {}

/// A window size or slide in microseconds; months have no fixed length, so
/// they are refused, as are non-positive sizes.
pub fn window_micros(d: &Datum) -> Result<i64> {
    match d {
        Datum::Interval(iv) if iv.months == 0 => {
            let micros = iv.days as i64 * dt::USECS_PER_DAY + iv.micros;
            if micros <= 0 {
                return Err(Error::new(SqlState::InvalidParameterValue, "window size must be positive"));
            }
            Ok(micros)
        }
        Datum::Interval(_) => Err(Error::unsupported("window sizes in months or years")),
        _ => Err(Error::new(SqlState::InvalidParameterValue, "window size must be an interval")),
    }
}

/// Floors `t` (microseconds since 2000-01-01) to a multiple of `size`
/// counted from the Unix epoch, as RisingWave's windows are aligned.
pub fn floor_to(t: i64, size: i64) -> i64 {
    const UNIX_OFFSET: i64 = 946_684_800_000_000;
    let since_unix = t + UNIX_OFFSET;
    since_unix.div_euclid(size) * size - UNIX_OFFSET
}

/// `make_time`'s value: 22008 outside 00:00:00..24:00:00.
fn make_time(hour: &Datum, min: &Datum, sec: &Datum) -> Result<dt::Time> {
    let (h, m, s) = (hour.as_i64().unwrap_or(-1), min.as_i64().unwrap_or(-1), sec.as_f64().unwrap_or(-1.0));
    let micros = (s * 1_000_000.0).round();
    let valid = (0..=24).contains(&h)
        && (0..60).contains(&m)
        && (0.0..=60_000_000.0).contains(&micros)
        && (h < 24 || (m == 0 && micros == 0.0));
    if !valid {
        return Err(Error::new(SqlState::DatetimeFieldOverflow, format!("time field value out of range: {h}:{m:02}:{s:02}")));
    }
    Ok(dt::Time(h * 3_600_000_000 + m * 60_000_000 + micros as i64))
}
