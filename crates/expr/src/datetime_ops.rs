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
