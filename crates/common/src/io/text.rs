//! Text I/O: PostgreSQL's `typinput`/`typoutput` for every [`DataType`].

use crate::{DataType, Datum, Result};

/// The session's time zone, used to print `timestamptz` and to read
/// timestamps written without an offset.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeZone {
    Utc,
    /// A fixed offset in seconds east of UTC.
    Fixed(i32),
}

/// Session settings that change how values print or parse.
#[derive(Clone, Debug)]
pub struct TextContext {
    pub time_zone: TimeZone,
}

impl Default for TextContext {
    fn default() -> Self {
        TextContext { time_zone: TimeZone::Utc }
    }
}

/// Appends the PostgreSQL text output of `datum` (of type `ty`) to `out`.
/// NULL is not printed here: callers send NULL out of band.
pub fn format_text(datum: &Datum, ty: &DataType, ctx: &TextContext, out: &mut String) {
    let _ = (datum, ty, ctx, out);
    todo!("text output")
}

/// Parses `input` as a value of type `ty` (PostgreSQL's input function),
/// applying the type's modifiers (varchar length, numeric scale).
pub fn parse_text(input: &str, ty: &DataType, ctx: &TextContext) -> Result<Datum> {
    let _ = (input, ty, ctx);
    todo!("text input")
}
