//! `to_char` for timestamps, timestamps with time zone and intervals:
//! PostgreSQL's `DCH_to_char` (`src/backend/utils/adt/formatting.c`).
//!
//! The value is first broken into [`TimeParts`] (calendar fields for a
//! timestamp, the fields of an interval otherwise); each template keyword
//! then prints one of them, zero-padded to its usual width unless `FM` is
//! given, with `TH` appending an English ordinal suffix. Interval values
//! refuse the fields that need a calendar date (weekday and month names,
//! era, time zone).

use freshet_common::datetime::{
    Interval, Timestamp, TimestampTz, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE,
    USECS_PER_SEC,
};
use freshet_common::io::TimeZone;
use freshet_common::{Error, Result, SqlState};

use super::calendar::{date2isoweek, date2isoyear, date2isoyearday, date2j, j2date};
use super::template::{DateField, DateNode, DateTemplate, NameCase};
use super::{
    ordinal_suffix, DAY_NAMES, DAY_NAMES_SHORT, MONTH_NAMES, MONTH_NAMES_SHORT, ROMAN_MONTHS_LOWER,
    ROMAN_MONTHS_UPPER,
};

/// Broken-down fields that `to_char` prints (PostgreSQL's `TmToChar`).
/// For intervals the fields are the interval's own (months split into
/// years and months, hours unbounded) and may be negative.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimeParts {
    /// Year, astronomical numbering (0 is 1 BC) for timestamps.
    pub year: i32,
    pub month: i32,
    pub day: i32,
    pub hour: i64,
    pub minute: i32,
    pub second: i32,
    /// Fraction of the second in microseconds.
    pub micros: i32,
    /// Day of the week, 0 = Sunday (meaningless for intervals).
    pub weekday: i32,
    /// Day of the year; for intervals, the span in days with a month as 30.
    pub year_day: i32,
    /// Offset from UTC in seconds, east positive.
    pub utc_offset_seconds: i32,
    /// Time zone abbreviation (`TZ`); `None` for timestamps without zone.
    pub zone: Option<String>,
}

impl TimeParts {
    /// Fields of a local date-time (microseconds since 2000-01-01); 22008
    /// outside the calendar's range (PostgreSQL's `timestamp2tm`).
    fn from_local(micros: i64) -> Result<TimeParts> {
        let date = micros.div_euclid(USECS_PER_DAY);
        let time = micros.rem_euclid(USECS_PER_DAY);
        let julian = i32::try_from(date + freshet_common::datetime::POSTGRES_EPOCH_JDATE)
            .ok()
            .filter(|j| *j >= 0)
            .ok_or_else(freshet_common::datetime::timestamp_out_of_range)?;
        let (year, month, day) = j2date(julian);
        Ok(TimeParts {
            year,
            month,
            day,
            hour: time / USECS_PER_HOUR,
            minute: (time % USECS_PER_HOUR / USECS_PER_MINUTE) as i32,
            second: (time % USECS_PER_MINUTE / USECS_PER_SEC) as i32,
            micros: (time % USECS_PER_SEC) as i32,
            weekday: (julian + 1) % 7,
            year_day: julian - date2j(year, 1, 1) + 1,
            utc_offset_seconds: 0,
            zone: None,
        })
    }

    /// Fields of a finite timestamp without time zone.
    pub fn from_timestamp(ts: Timestamp) -> Result<TimeParts> {
        TimeParts::from_local(ts.0)
    }

    /// Fields of a finite timestamp with time zone, seen in zone `tz`.
    pub fn from_timestamptz(ts: TimestampTz, tz: &TimeZone) -> Result<TimeParts> {
        let offset = tz.offset_at_utc(ts.0);
        let local =
            ts.0.checked_add(offset as i64 * USECS_PER_SEC)
                .ok_or_else(freshet_common::datetime::timestamp_out_of_range)?;
        let mut parts = TimeParts::from_local(local)?;
        parts.utc_offset_seconds = offset;
        parts.zone = Some(tz.abbreviation_at_utc(ts.0).unwrap_or_default());
        Ok(parts)
    }

    /// Fields of an interval (PostgreSQL's `interval2itm`); C's truncating
    /// division gives every field the interval's sign.
    pub fn from_interval(iv: &Interval) -> TimeParts {
        let year = iv.months / 12;
        let month = iv.months % 12;
        let time = iv.micros;
        TimeParts {
            year,
            month,
            day: iv.days,
            hour: time / USECS_PER_HOUR,
            minute: (time % USECS_PER_HOUR / USECS_PER_MINUTE) as i32,
            second: (time % USECS_PER_MINUTE / USECS_PER_SEC) as i32,
            micros: (time % USECS_PER_SEC) as i32,
            weekday: 0,
            year_day: year
                .wrapping_mul(12)
                .wrapping_add(month)
                .wrapping_mul(30)
                .wrapping_add(iv.days),
            utc_offset_seconds: 0,
            zone: None,
        }
    }
}

fn invalid_for_interval() -> Error {
    Error::new(
        SqlState::InvalidDatetimeFormat,
        "invalid format specification for an interval value",
    )
    .with_hint("Intervals are not tied to specific calendar dates.")
}

/// C's `%0*d`: zero-padded to `width` characters including a minus sign.
fn padded(v: i64, width: usize) -> String {
    format!("{v:0width$}")
}

/// A name in the keyword's letter case; padded to nine characters (the
/// longest English name) unless `FM` or `TM` is given.
fn name(text: &str, case: NameCase, pad: bool) -> String {
    let cased = match case {
        NameCase::Upper => text.to_ascii_uppercase(),
        NameCase::Capitalized => text.to_string(),
        NameCase::Lower => text.to_ascii_lowercase(),
    };
    if pad {
        format!("{cased:<9}")
    } else {
        cased
    }
}

/// PostgreSQL's `ADJUST_YEAR`: years count from 1 BC backwards below
/// zero; interval years are printed as they are.
fn adjust_year(year: i32, interval: bool) -> i32 {
    if interval || year > 0 {
        year
    } else {
        1i32.wrapping_sub(year)
    }
}

/// `to_char` of broken-down fields with a parsed template.
pub(crate) fn format_datetime(
    template: &DateTemplate,
    tm: &TimeParts,
    interval: bool,
) -> Result<String> {
    let mut out = String::new();
    for node in &template.nodes {
        let (keyword, modifiers) = match node {
            DateNode::Field { keyword, modifiers } => (keyword, modifiers),
            DateNode::Literal(c) | DateNode::Separator(c) | DateNode::Space(c) => {
                out.push(*c);
                continue;
            }
        };
        let fm = modifiers.fill_mode;
        let width = |w: usize| if fm { 0 } else { w };
        let calendar_only = || {
            if interval {
                Err(invalid_for_interval())
            } else {
                Ok(())
            }
        };
        let pm = tm.hour % 24 >= 12;
        let adjusted = adjust_year(tm.year, interval);
        let iso_year = || adjust_year(date2isoyear(tm.year, tm.month, tm.day), interval);
        // Numbers take the ordinal suffix; names and signs do not.
        let number: Option<String> = match keyword.field {
            DateField::MeridiemDotted(case) | DateField::Meridiem(case) => {
                let dotted = matches!(keyword.field, DateField::MeridiemDotted(_));
                let text = match (pm, dotted) {
                    (true, true) => "P.M.",
                    (false, true) => "A.M.",
                    (true, false) => "PM",
                    (false, false) => "AM",
                };
                out.push_str(&if case == NameCase::Lower {
                    text.to_ascii_lowercase()
                } else {
                    text.to_string()
                });
                None
            }
            DateField::Hour12 => {
                let h = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
                Some(padded(h, width(if tm.hour >= 0 { 2 } else { 3 })))
            }
            DateField::Hour24 => Some(padded(tm.hour, width(if tm.hour >= 0 { 2 } else { 3 }))),
            DateField::Minute => Some(padded(
                tm.minute as i64,
                width(if tm.minute >= 0 { 2 } else { 3 }),
            )),
            DateField::Second => Some(padded(
                tm.second as i64,
                width(if tm.second >= 0 { 2 } else { 3 }),
            )),
            DateField::Fraction(digits) => {
                let digits = digits.clamp(1, 6) as u32;
                Some(padded(
                    (tm.micros / 10i32.pow(6 - digits)) as i64,
                    digits as usize,
                ))
            }
            DateField::Millisecond => Some(padded((tm.micros / 1000) as i64, 3)),
            DateField::Microsecond => Some(padded(tm.micros as i64, 6)),
            DateField::SecondsOfDay => Some(
                (tm.hour.wrapping_mul(3600) + tm.minute as i64 * 60 + tm.second as i64).to_string(),
            ),
            DateField::ZoneName(case) => {
                calendar_only()?;
                if let Some(zone) = &tm.zone {
                    out.push_str(&if case == NameCase::Lower {
                        zone.to_ascii_lowercase()
                    } else {
                        zone.clone()
                    });
                }
                None
            }
            DateField::ZoneHours => {
                calendar_only()?;
                let sign = if tm.utc_offset_seconds >= 0 { '+' } else { '-' };
                out.push_str(&format!(
                    "{sign}{:02}",
                    tm.utc_offset_seconds.unsigned_abs() / 3600
                ));
                None
            }
            DateField::ZoneMinutes => {
                calendar_only()?;
                out.push_str(&format!(
                    "{:02}",
                    tm.utc_offset_seconds.unsigned_abs() % 3600 / 60
                ));
                None
            }
            DateField::ZoneOffset => {
                calendar_only()?;
                let sign = if tm.utc_offset_seconds >= 0 { '+' } else { '-' };
                let abs = tm.utc_offset_seconds.unsigned_abs();
                out.push_str(&format!("{sign}{}", padded((abs / 3600) as i64, width(2))));
                if !abs.is_multiple_of(3600) {
                    out.push_str(&format!(":{:02}", abs % 3600 / 60));
                }
                None
            }
            DateField::EraDotted(case) | DateField::Era(case) => {
                calendar_only()?;
                let dotted = matches!(keyword.field, DateField::EraDotted(_));
                let text = match (tm.year <= 0, dotted) {
                    (true, true) => "B.C.",
                    (false, true) => "A.D.",
                    (true, false) => "BC",
                    (false, false) => "AD",
                };
                out.push_str(&if case == NameCase::Lower {
                    text.to_ascii_lowercase()
                } else {
                    text.to_string()
                });
                None
            }
            DateField::MonthName(case) | DateField::MonthAbbrev(case) => {
                calendar_only()?;
                if let Some(index) = usize::try_from(tm.month - 1).ok().filter(|i| *i < 12) {
                    if matches!(keyword.field, DateField::MonthName(_)) {
                        out.push_str(&name(MONTH_NAMES[index], case, !fm && !modifiers.translate));
                    } else {
                        out.push_str(&name(MONTH_NAMES_SHORT[index], case, false));
                    }
                }
                None
            }
            DateField::Month => Some(padded(
                tm.month as i64,
                width(if tm.month >= 0 { 2 } else { 3 }),
            )),
            DateField::DayName(case) | DateField::DayAbbrev(case) => {
                calendar_only()?;
                let index = tm.weekday.rem_euclid(7) as usize;
                if matches!(keyword.field, DateField::DayName(_)) {
                    out.push_str(&name(DAY_NAMES[index], case, !fm && !modifiers.translate));
                } else {
                    out.push_str(&name(DAY_NAMES_SHORT[index], case, false));
                }
                None
            }
            DateField::DayOfYear => Some(padded(tm.year_day as i64, width(3))),
            DateField::IsoDayOfYear => Some(padded(
                date2isoyearday(tm.year, tm.month, tm.day) as i64,
                width(3),
            )),
            DateField::DayOfMonth => Some(padded(tm.day as i64, width(2))),
            DateField::DayOfWeek => {
                calendar_only()?;
                Some((tm.weekday + 1).to_string())
            }
            DateField::IsoDayOfWeek => {
                calendar_only()?;
                Some(if tm.weekday == 0 { 7 } else { tm.weekday }.to_string())
            }
            DateField::WeekOfYear => Some(padded(
                (tm.year_day.wrapping_sub(1) / 7 + 1) as i64,
                width(2),
            )),
            DateField::IsoWeek => Some(padded(
                date2isoweek(tm.year, tm.month, tm.day) as i64,
                width(2),
            )),
            DateField::Quarter => {
                if tm.month == 0 {
                    None
                } else {
                    Some(((tm.month - 1) / 3 + 1).to_string())
                }
            }
            DateField::Century => {
                let century = if interval {
                    tm.year / 100
                } else if tm.year > 0 {
                    (tm.year - 1) / 100 + 1
                } else {
                    tm.year / 100 - 1
                };
                Some(if (-99..=99).contains(&century) {
                    padded(century as i64, width(if century >= 0 { 2 } else { 3 }))
                } else {
                    century.to_string()
                })
            }
            DateField::YearComma => {
                let thousands = adjusted / 1000;
                Some(format!(
                    "{thousands},{}",
                    padded(
                        adjusted.wrapping_sub(thousands.wrapping_mul(1000)) as i64,
                        3
                    )
                ))
            }
            DateField::Year(digits) | DateField::IsoYear(digits) => {
                let value = if matches!(keyword.field, DateField::Year(_)) {
                    adjusted
                } else {
                    iso_year()
                };
                let negative_width = |w: usize| width(if adjusted >= 0 { w } else { w + 1 });
                Some(match digits {
                    4 => padded(value as i64, negative_width(4)),
                    3 => padded((value % 1000) as i64, negative_width(3)),
                    2 => padded((value % 100) as i64, negative_width(2)),
                    _ => (value % 10).to_string(),
                })
            }
            DateField::RomanMonth(case) => {
                if tm.month != 0 || tm.year != 0 {
                    // The table runs from December down to January; an
                    // interval's zero or negative month counts backwards.
                    let index = if tm.month == 0 {
                        if tm.year >= 0 {
                            0
                        } else {
                            11
                        }
                    } else if tm.month < 0 {
                        -(tm.month + 1)
                    } else {
                        12 - tm.month
                    };
                    let table = if case == NameCase::Lower {
                        &ROMAN_MONTHS_LOWER
                    } else {
                        &ROMAN_MONTHS_UPPER
                    };
                    let numeral = usize::try_from(index)
                        .ok()
                        .and_then(|i| table.get(i))
                        .copied()
                        .unwrap_or("");
                    out.push_str(&if fm {
                        numeral.to_string()
                    } else {
                        format!("{numeral:<4}")
                    });
                }
                None
            }
            DateField::WeekOfMonth => Some((tm.day.wrapping_sub(1) / 7 + 1).to_string()),
            DateField::JulianDay => Some(date2j(tm.year, tm.month, tm.day).to_string()),
            DateField::FixedFormat => None,
        };
        if let Some(text) = number {
            out.push_str(&text);
            if let Some(case) = modifiers.ordinal {
                out.push_str(ordinal_suffix(&text, case)?);
            }
        }
    }
    Ok(out)
}
