//! PostgreSQL's data-type formatting functions: `to_char` of timestamps,
//! timestamps with time zone, intervals and numbers, `to_date`,
//! `to_timestamp(text, text)` and `to_number`
//! (<https://www.postgresql.org/docs/15/functions-formatting.html>).
//!
//! This module owns the template language and both directions of it:
//! - `template`: templates parsed into typed nodes (`DateTemplate`,
//!   `NumberTemplate`), with PostgreSQL's keyword precedence,
//!   `FM`/`TM`/`TH`/`SP` modifiers, quoting and escapes;
//! - `datetime_out`: `to_char` of date/time values and intervals;
//! - `datetime_in`: `to_date`/`to_timestamp`, matching input leniently
//!   (or exactly under `FX`) and validating the result;
//! - `number`: `to_char` of numbers (`9 0 . , D G S MI PL SG PR L RN TH V
//!   EEEE FM`, `#` on overflow) and `to_number`;
//! - `calendar`: the Julian-day routines these need, with C semantics.
//!
//! The algorithms transcribe PostgreSQL 15's `src/backend/utils/adt/formatting.c`
//! so that results, including its quirks, match byte for byte. That file is
//! Portions Copyright (c) 1999-2022, PostgreSQL Global Development Group,
//! under the PostgreSQL License (permission to use, copy, modify and
//! distribute, with this notice; see <https://www.postgresql.org/about/licence/>).
//! Freshet has
//! one locale, C/English: `TM` names are the English ones (unpadded), the
//! decimal point is `.`, the group separator `,` and the currency symbol a
//! space. It does not own overload resolution (the binder picks a
//! [`FormattingFunc`]) nor the session time zone (read from the
//! [`EvalContext`] at evaluation).

mod calendar;
mod datetime_in;
mod datetime_out;
mod number;
mod template;

use std::cell::RefCell;
use std::rc::Rc;

use freshet_common::{Datum, Error, Result, SqlState};

use crate::scalar::EvalContext;
use number::NumberValue;
use template::{DateTemplate, NumberTemplate, OrdinalCase};

/// Significant decimal digits of a float8 (`DBL_DIG`).
const DBL_DIG: i32 = 15;
/// Significant decimal digits of a float4 (`FLT_DIG`).
const FLT_DIG: i32 = 6;

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTH_NAMES_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const DAY_NAMES_SHORT: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/// Months in Roman numerals from December down to January, so that a
/// prefix search finds `VIII` before `V`.
const ROMAN_MONTHS_UPPER: [&str; 12] = [
    "XII", "XI", "X", "IX", "VIII", "VII", "VI", "V", "IV", "III", "II", "I",
];
const ROMAN_MONTHS_LOWER: [&str; 12] = [
    "xii", "xi", "x", "ix", "viii", "vii", "vi", "v", "iv", "iii", "ii", "i",
];

/// The English ordinal suffix of a number written in decimal
/// (`get_th`): 22P02 when it does not end in a digit.
fn ordinal_suffix(number: &str, case: OrdinalCase) -> Result<&'static str> {
    let bytes = number.as_bytes();
    let Some(&last) = bytes.last().filter(|b| b.is_ascii_digit()) else {
        return Err(Error::new(
            SqlState::InvalidTextRepresentation,
            format!("\"{number}\" is not a number"),
        ));
    };
    // All "teens" take TH.
    let teen = bytes.len() > 1 && bytes[bytes.len() - 2] == b'1';
    let suffix = match (teen, last) {
        (false, b'1') => "ST",
        (false, b'2') => "ND",
        (false, b'3') => "RD",
        _ => "TH",
    };
    Ok(match (case, suffix) {
        (OrdinalCase::Upper, s) => s,
        (OrdinalCase::Lower, "ST") => "st",
        (OrdinalCase::Lower, "ND") => "nd",
        (OrdinalCase::Lower, "RD") => "rd",
        (OrdinalCase::Lower, _) => "th",
    })
}

/// A formatting function with its overload resolved by the binder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormattingFunc {
    /// `to_char(timestamp, text)`.
    TimestampToChar,
    /// `to_char(timestamp with time zone, text)`, in the session time zone
    /// (also `to_char(date, text)`, which PostgreSQL resolves to it).
    TimestampTzToChar,
    /// `to_char(interval, text)` (also `to_char(time, text)`).
    IntervalToChar,
    /// `to_char(int4 | int8 | numeric | real | double precision, text)`;
    /// the argument's variant picks the rendering.
    NumberToChar,
    /// `to_timestamp(text, text)` -> timestamp with time zone, reading the
    /// input in the session time zone unless it gives an offset.
    ToTimestamp,
    /// `to_date(text, text)`.
    ToDate,
    /// `to_number(text, text)` -> numeric.
    ToNumber,
}

impl FormattingFunc {
    /// The SQL name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            FormattingFunc::TimestampToChar
            | FormattingFunc::TimestampTzToChar
            | FormattingFunc::IntervalToChar
            | FormattingFunc::NumberToChar => "to_char",
            FormattingFunc::ToTimestamp => "to_timestamp",
            FormattingFunc::ToDate => "to_date",
            FormattingFunc::ToNumber => "to_number",
        }
    }
}

/// Parsed templates of the last few template strings seen by this thread
/// (PostgreSQL keeps 20 per backend), so formatting a column with a
/// constant template parses the template once rather than once per row.
/// Templates longer than [`CACHED_TEMPLATE_BYTES_MAX`] are parsed each time.
struct TemplateCache<T> {
    entries: Vec<(String, Rc<T>)>,
}

/// Entries kept per cache; the oldest is dropped first.
const TEMPLATE_CACHE_ENTRIES: usize = 20;
/// Longest template text worth caching.
const CACHED_TEMPLATE_BYTES_MAX: usize = 256;

impl<T> TemplateCache<T> {
    const fn new() -> Self {
        TemplateCache {
            entries: Vec::new(),
        }
    }

    fn get_or_parse(&mut self, text: &str, parse: impl FnOnce(&str) -> Result<T>) -> Result<Rc<T>> {
        if let Some((_, parsed)) = self.entries.iter().find(|(t, _)| t == text) {
            return Ok(Rc::clone(parsed));
        }
        let parsed = Rc::new(parse(text)?);
        if text.len() <= CACHED_TEMPLATE_BYTES_MAX {
            if self.entries.len() == TEMPLATE_CACHE_ENTRIES {
                self.entries.remove(0);
            }
            self.entries.push((text.to_string(), Rc::clone(&parsed)));
        }
        Ok(parsed)
    }
}

thread_local! {
    static DATE_TEMPLATES: RefCell<TemplateCache<DateTemplate>> = const { RefCell::new(TemplateCache::new()) };
    static NUMBER_TEMPLATES: RefCell<TemplateCache<NumberTemplate>> = const { RefCell::new(TemplateCache::new()) };
}

fn date_template(text: &str) -> Result<Rc<DateTemplate>> {
    DATE_TEMPLATES.with(|cache| {
        cache
            .borrow_mut()
            .get_or_parse(text, |t| Ok(DateTemplate::parse(t)))
    })
}

fn number_template(text: &str) -> Result<Rc<NumberTemplate>> {
    NUMBER_TEMPLATES.with(|cache| cache.borrow_mut().get_or_parse(text, NumberTemplate::parse))
}

fn wrong_argument(func: FormattingFunc, value: &Datum) -> Error {
    Error::internal(format!(
        "{}() called with a {} argument",
        func.name(),
        crate::func::variant_name(value)
    ))
}

/// Evaluates a formatting function. Strict: NULL in, NULL out. As in
/// PostgreSQL, an empty template makes `to_char` of a date/time value and
/// `to_number` NULL but `to_char` of a number an empty string, and
/// `to_char` of an infinite timestamp is NULL.
pub fn call(func: FormattingFunc, args: Vec<Datum>, ctx: &EvalContext<'_>) -> Result<Datum> {
    if args.iter().any(Datum::is_null) {
        return Ok(Datum::Null);
    }
    let [value, template] = <[Datum; 2]>::try_from(args).map_err(|args| {
        Error::internal(format!(
            "{}() called with {} arguments",
            func.name(),
            args.len()
        ))
    })?;
    let template = match &template {
        Datum::Text(t) => t.as_str(),
        other => return Err(wrong_argument(func, other)),
    };
    let text_value = || value.as_str().ok_or_else(|| wrong_argument(func, &value));
    Ok(match func {
        FormattingFunc::NumberToChar => {
            if template.is_empty() {
                return Ok(Datum::Text(String::new()));
            }
            let number = match &value {
                Datum::Int2(v) => NumberValue::Int4(*v as i32),
                Datum::Int4(v) => NumberValue::Int4(*v),
                Datum::Int8(v) => NumberValue::Int8(*v),
                Datum::Numeric(v) => NumberValue::Numeric(v),
                Datum::Float4(v) => NumberValue::Float4(v.0),
                Datum::Float8(v) => NumberValue::Float8(v.0),
                other => return Err(wrong_argument(func, other)),
            };
            Datum::Text(number::format_number(number, &*number_template(template)?)?)
        }
        _ if template.is_empty()
            && func != FormattingFunc::ToTimestamp
            && func != FormattingFunc::ToDate =>
        {
            Datum::Null
        }
        FormattingFunc::TimestampToChar => match &value {
            Datum::Timestamp(ts) if !ts.is_finite() => Datum::Null,
            Datum::Timestamp(ts) => {
                let parts = datetime_out::TimeParts::from_timestamp(*ts)?;
                Datum::Text(datetime_out::format_datetime(
                    &*date_template(template)?,
                    &parts,
                    false,
                )?)
            }
            other => return Err(wrong_argument(func, other)),
        },
        FormattingFunc::TimestampTzToChar => match &value {
            Datum::TimestampTz(ts) if !ts.is_finite() => Datum::Null,
            Datum::TimestampTz(ts) => {
                let parts = datetime_out::TimeParts::from_timestamptz(*ts, &ctx.text.time_zone)?;
                Datum::Text(datetime_out::format_datetime(
                    &*date_template(template)?,
                    &parts,
                    false,
                )?)
            }
            other => return Err(wrong_argument(func, other)),
        },
        FormattingFunc::IntervalToChar => match &value {
            Datum::Interval(iv) => {
                let parts = datetime_out::TimeParts::from_interval(iv);
                Datum::Text(datetime_out::format_datetime(
                    &*date_template(template)?,
                    &parts,
                    true,
                )?)
            }
            other => return Err(wrong_argument(func, other)),
        },
        FormattingFunc::ToTimestamp => {
            let input = text_value()?;
            let parsed = datetime_in::parse_datetime(input, &*date_template(template)?)?;
            Datum::TimestampTz(parsed.to_timestamptz(&ctx.text.time_zone)?)
        }
        FormattingFunc::ToDate => {
            let input = text_value()?;
            let parsed = datetime_in::parse_datetime(input, &*date_template(template)?)?;
            Datum::Date(parsed.to_date(input)?)
        }
        FormattingFunc::ToNumber => Datum::Numeric(number::parse_number(
            text_value()?,
            &*number_template(template)?,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Templates stitched from keyword fragments, against edge values:
    /// every result is a value or an error, never a panic.
    #[test]
    fn arbitrary_templates_never_panic() {
        use freshet_common::datetime::{Interval, Timestamp, TimestampTz};
        use freshet_common::io::TimeZone;
        use freshet_common::Numeric;
        let fragments = [
            "9", "0", ".", ",", "D", "G", "S", "MI", "PL", "SG", "PR", "L", "RN", "rn", "TH", "th",
            "V", "EEEE", "FM", "B", "C", "\"", "\\", "x", " ", "é", "YYYY", "Y,YYY", "IYYY",
            "MONTH", "Day", "DDD", "IDDD", "J", "CC", "RM", "TZ", "OF", "FF3", "US", "SSSS",
            "HH12", "AM", "TM", "SP", "FX", "W", "Q",
        ];
        let numerics: Vec<Numeric> = [
            "0",
            "-1.5",
            "NaN",
            "Infinity",
            "-Infinity",
            "123456789012345678901234567890.5",
            "0.000001",
        ]
        .iter()
        .map(|s| s.parse().expect("numeric"))
        .collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..3000 {
            let mut template = String::new();
            for _ in 0..(state % 7) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                template.push_str(fragments[(state % fragments.len() as u64) as usize]);
            }
            if let Ok(t) = NumberTemplate::parse(&template) {
                for v in [i32::MIN, -1, 0, 7, i32::MAX] {
                    let _ = number::format_number(NumberValue::Int4(v), &t);
                }
                for v in [i64::MIN, i64::MAX] {
                    let _ = number::format_number(NumberValue::Int8(v), &t);
                }
                for v in [f64::NAN, f64::INFINITY, -0.0, 1e308, -2.5e-300] {
                    let _ = number::format_number(NumberValue::Float8(v), &t);
                    let _ = number::format_number(NumberValue::Float4(v as f32), &t);
                }
                for n in &numerics {
                    let _ = number::format_number(NumberValue::Numeric(n), &t);
                }
                for input in ["", "-", "<1>", "1,234.5-", "9".repeat(50).as_str(), "€"] {
                    let _ = number::parse_number(input, &t);
                }
            }
            let t = DateTemplate::parse(&template);
            for ts in [
                freshet_common::datetime::MIN_TIMESTAMP,
                0,
                freshet_common::datetime::END_TIMESTAMP - 1,
            ] {
                if let Ok(parts) = datetime_out::TimeParts::from_timestamp(Timestamp(ts)) {
                    let _ = datetime_out::format_datetime(&t, &parts, false);
                }
                let zone = TimeZone::named("America/New_York").expect("zone");
                if let Ok(parts) = datetime_out::TimeParts::from_timestamptz(TimestampTz(ts), &zone)
                {
                    let _ = datetime_out::format_datetime(&t, &parts, false);
                }
            }
            for iv in [
                Interval::new(i32::MIN, i32::MIN, i64::MIN),
                Interval::new(i32::MAX, i32::MAX, i64::MAX),
                Interval::new(-13, -1, -1),
            ] {
                let _ = datetime_out::format_datetime(
                    &t,
                    &datetime_out::TimeParts::from_interval(&iv),
                    true,
                );
            }
        }
    }

    #[test]
    fn ordinal_suffixes() {
        let th = |n: &str| ordinal_suffix(n, OrdinalCase::Lower).expect("a number");
        assert_eq!(
            [
                th("1"),
                th("2"),
                th("3"),
                th("4"),
                th("11"),
                th("12"),
                th("13"),
                th("21"),
                th("102")
            ],
            ["st", "nd", "rd", "th", "th", "th", "th", "st", "nd"]
        );
        assert_eq!(
            ordinal_suffix("22", OrdinalCase::Upper).expect("a number"),
            "ND"
        );
        assert_eq!(
            ordinal_suffix("x", OrdinalCase::Upper)
                .expect_err("not a number")
                .state,
            SqlState::InvalidTextRepresentation
        );
    }
}
