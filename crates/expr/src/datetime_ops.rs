//! Date/time operators and functions, delegating to `freshet_common::datetime`.

use freshet_common::{Datum, Error, Result};

use crate::func::{BinaryOp, DateTimeFunc};
use crate::scalar::EvalContext;

/// Arithmetic where at least one side is a date/time/interval.
pub fn arith(op: BinaryOp, l: Datum, r: Datum, ctx: &EvalContext<'_>) -> Result<Datum> {
    let _ = (op, l, r, ctx);
    Err(Error::unsupported("date/time arithmetic"))
}

/// A date/time function call.
pub fn call(func: DateTimeFunc, args: Vec<Datum>, ctx: &EvalContext<'_>) -> Result<Datum> {
    match func {
        DateTimeFunc::Now => Ok(Datum::TimestampTz(ctx.now)),
        other => {
            let _ = args;
            Err(Error::unsupported(format!("{other:?}")))
        }
    }
}
