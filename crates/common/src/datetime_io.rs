//! Text input and output of `date`, `time`, `timestamp`, `timestamptz` and
//! `interval`, following PostgreSQL 15 with `DateStyle = ISO, MDY` and
//! `IntervalStyle = postgres`.
//!
//! Input is a port of the structure of PostgreSQL's
//! `src/backend/utils/adt/datetime.c`: `parse_fields` splits the string
//! the way `ParseDateTime` does, then `decode_date_time`,
//! `decode_time_only` and `decode_interval` interpret the fields like
//! `DecodeDateTime`, `DecodeTimeOnly` and `DecodeInterval` (plus
//! `DecodeISO8601Interval`). Named time zones (`America/New_York`) are not
//! supported; numeric offsets and a table of common abbreviations are.

use crate::datetime::{
    date2j, days_in_month, interval_out_of_range, is_leap_year, j2date, split_time, Date,
    DateTimeFields, Interval, Time, Timestamp, TimestampTz, DATE_END_JULIAN, END_TIMESTAMP,
    MIN_TIMESTAMP, POSTGRES_EPOCH_JDATE, UNIX_EPOCH_JDATE, USECS_PER_DAY, USECS_PER_HOUR,
    USECS_PER_MINUTE, USECS_PER_SEC,
};
use crate::io::TimeZone;
use crate::{Error, Result, SqlState};

// ---------------------------------------------------------------------------
// Output

fn push_zero_pad(out: &mut String, v: u64, width: usize) {
    let s = v.to_string();
    for _ in s.len()..width {
        out.push('0');
    }
    out.push_str(&s);
}

/// Appends `.ffffff` without trailing zeros when `micros` is non-zero
/// (PostgreSQL's `AppendSeconds`).
fn push_fraction(out: &mut String, micros: u64) {
    if micros == 0 {
        return;
    }
    let mut s = format!("{micros:06}");
    while s.ends_with('0') {
        s.pop();
    }
    out.push('.');
    out.push_str(&s);
}

/// Appends `YYYY-MM-DD` of a day count since 2000-01-01 and returns whether
/// the year is BC (the caller appends ` BC` at the end).
fn push_ymd(out: &mut String, days: i64) -> bool {
    let (y, m, d) = crate::datetime::ymd_from_days(days);
    let bc = y <= 0;
    let display_year = if bc { 1 - y } else { y };
    push_zero_pad(out, display_year as u64, 4);
    out.push('-');
    push_zero_pad(out, m as u64, 2);
    out.push('-');
    push_zero_pad(out, d as u64, 2);
    bc
}

fn push_hms(out: &mut String, micros: i64) {
    let (h, m, s, us) = split_time(micros);
    push_zero_pad(out, h as u64, 2);
    out.push(':');
    push_zero_pad(out, m as u64, 2);
    out.push(':');
    push_zero_pad(out, s as u64, 2);
    push_fraction(out, us as u64);
}

/// Appends a date as PostgreSQL prints it: `2020-06-25`, `0044-03-15 BC`,
/// `infinity`, `-infinity`.
pub fn format_date(d: Date, out: &mut String) {
    if d == Date::INFINITY {
        out.push_str("infinity");
    } else if d == Date::NEG_INFINITY {
        out.push_str("-infinity");
    } else if push_ymd(out, d.0 as i64) {
        out.push_str(" BC");
    }
}

/// Appends a time of day: `12:34:56.789`.
pub fn format_time(t: Time, out: &mut String) {
    push_hms(out, t.0);
}

/// Appends a timestamp: `2020-06-25 12:00:00[.ffffff][ BC]`.
pub fn format_timestamp(ts: Timestamp, out: &mut String) {
    if ts == Timestamp::INFINITY {
        out.push_str("infinity");
        return;
    }
    if ts == Timestamp::NEG_INFINITY {
        out.push_str("-infinity");
        return;
    }
    let days = ts.0.div_euclid(USECS_PER_DAY);
    let time = ts.0.rem_euclid(USECS_PER_DAY);
    let bc = push_ymd(out, days);
    out.push(' ');
    push_hms(out, time);
    if bc {
        out.push_str(" BC");
    }
}

/// Appends a UTC offset (seconds east) as PostgreSQL prints it: `+02`,
/// `+05:30`, `-00:19:32`.
pub fn format_offset(offset_east: i32, out: &mut String) {
    let abs = offset_east.unsigned_abs();
    let (h, m, s) = (abs / 3600, (abs / 60) % 60, abs % 60);
    out.push(if offset_east >= 0 { '+' } else { '-' });
    push_zero_pad(out, h as u64, 2);
    if m != 0 || s != 0 {
        out.push(':');
        push_zero_pad(out, m as u64, 2);
    }
    if s != 0 {
        out.push(':');
        push_zero_pad(out, s as u64, 2);
    }
}

/// Appends a timestamptz in zone `tz`: `2020-06-25 12:00:00+00`.
pub fn format_timestamptz(ts: TimestampTz, tz: &TimeZone, out: &mut String) {
    if !ts.is_finite() {
        format_timestamp(Timestamp(ts.0), out);
        return;
    }
    let off = tz.offset_at_utc(ts.0);
    let local = ts.0.saturating_add(off as i64 * USECS_PER_SEC);
    let days = local.div_euclid(USECS_PER_DAY);
    let time = local.rem_euclid(USECS_PER_DAY);
    let bc = push_ymd(out, days);
    out.push(' ');
    push_hms(out, time);
    format_offset(off, out);
    if bc {
        out.push_str(" BC");
    }
}

/// Appends an interval in `IntervalStyle = postgres`:
/// `1 year 2 mons 3 days 04:05:06.5`, `-1 days +02:00:00`, `00:00:00`.
pub fn format_interval(iv: &Interval, out: &mut String) {
    let year = iv.months / 12;
    let mon = iv.months % 12;
    let mday = iv.days;
    let t = iv.micros;
    let hour = t / USECS_PER_HOUR;
    let min = (t / USECS_PER_MINUTE) % 60;
    let sec = (t / USECS_PER_SEC) % 60;
    let fsec = t % USECS_PER_SEC;
    let mut is_zero = true;
    let mut is_before = false;
    for (value, unit) in [(year as i64, "year"), (mon as i64, "mon"), (mday as i64, "day")] {
        if value == 0 {
            continue;
        }
        if !is_zero {
            out.push(' ');
        }
        if is_before && value > 0 {
            out.push('+');
        }
        out.push_str(&value.to_string());
        out.push(' ');
        out.push_str(unit);
        if value != 1 {
            out.push('s');
        }
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || hour != 0 || min != 0 || sec != 0 || fsec != 0 {
        let minus = hour < 0 || min < 0 || sec < 0 || fsec < 0;
        if !is_zero {
            out.push(' ');
        }
        if minus {
            out.push('-');
        } else if is_before {
            out.push('+');
        }
        push_zero_pad(out, hour.unsigned_abs(), 2);
        out.push(':');
        push_zero_pad(out, min.unsigned_abs(), 2);
        out.push(':');
        push_zero_pad(out, sec.unsigned_abs(), 2);
        push_fraction(out, fsec.unsigned_abs());
    }
}

// ---------------------------------------------------------------------------
// Tokenizer (ParseDateTime)

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ft {
    Number,
    Date,
    Time,
    Tz,
    String,
    Special,
}

#[derive(Clone, Debug)]
struct Field {
    text: String,
    ft: Ft,
}

/// Datetime decoding failures, mapped to PostgreSQL's messages by
/// [`DtErr::into_error`].
#[derive(Debug)]
enum DtErr {
    BadFormat,
    FieldOverflow,
    MdFieldOverflow,
    IntervalOverflow,
    TzDispOverflow,
    Other(Error),
}

impl DtErr {
    fn into_error(self, input: &str, type_name: &str) -> Error {
        match self {
            DtErr::BadFormat => Error::new(
                SqlState::InvalidDatetimeFormat,
                format!("invalid input syntax for type {type_name}: \"{input}\""),
            ),
            DtErr::FieldOverflow => Error::new(
                SqlState::DatetimeFieldOverflow,
                format!("date/time field value out of range: \"{input}\""),
            ),
            DtErr::MdFieldOverflow => Error::new(
                SqlState::DatetimeFieldOverflow,
                format!("date/time field value out of range: \"{input}\""),
            )
            .with_hint("Perhaps you need a different \"datestyle\" setting."),
            // PostgreSQL uses 22015 here; Freshet's SqlState has no such
            // variant, so the closest datetime overflow code is used.
            DtErr::IntervalOverflow => Error::new(
                SqlState::DatetimeFieldOverflow,
                format!("interval field value out of range: \"{input}\""),
            ),
            // PostgreSQL uses 22009 here (see above).
            DtErr::TzDispOverflow => Error::new(
                SqlState::DatetimeFieldOverflow,
                format!("time zone displacement out of range: \"{input}\""),
            ),
            DtErr::Other(e) => e,
        }
    }
}

type DtResult<T> = std::result::Result<T, DtErr>;

fn is_punct(c: u8) -> bool {
    c.is_ascii_punctuation()
}

/// Splits a date/time string into typed fields like PostgreSQL's
/// `ParseDateTime`. Letters are lowercased.
fn parse_fields(input: &str) -> DtResult<Vec<Field>> {
    let b = input.as_bytes();
    let mut i = 0;
    let mut fields = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if fields.len() >= 25 {
            return Err(DtErr::BadFormat);
        }
        let mut text = String::new();
        let ft;
        if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                text.push(b[i] as char);
                i += 1;
            }
            if i < b.len() && b[i] == b':' {
                ft = Ft::Time;
                text.push(':');
                i += 1;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b':' || b[i] == b'.') {
                    text.push(b[i] as char);
                    i += 1;
                }
            } else if i < b.len() && (b[i] == b'-' || b[i] == b'/' || b[i] == b'.') {
                let delim = b[i];
                text.push(delim as char);
                i += 1;
                if i < b.len() && b[i].is_ascii_digit() {
                    let mut t = if delim == b'.' { Ft::Number } else { Ft::Date };
                    while i < b.len() && b[i].is_ascii_digit() {
                        text.push(b[i] as char);
                        i += 1;
                    }
                    if i < b.len() && b[i] == delim {
                        t = Ft::Date;
                        text.push(delim as char);
                        i += 1;
                        while i < b.len() && (b[i].is_ascii_digit() || b[i] == delim) {
                            text.push(b[i] as char);
                            i += 1;
                        }
                    }
                    ft = t;
                } else {
                    ft = Ft::Date;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == delim) {
                        text.push(b[i].to_ascii_lowercase() as char);
                        i += 1;
                    }
                }
            } else {
                ft = Ft::Number;
            }
        } else if c == b'.' {
            text.push('.');
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                text.push(b[i] as char);
                i += 1;
            }
            ft = Ft::Number;
        } else if c.is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                text.push(b[i].to_ascii_lowercase() as char);
                i += 1;
            }
            let mut is_date = false;
            if i < b.len() && (b[i] == b'-' || b[i] == b'/' || b[i] == b'.') {
                is_date = true;
            } else if i < b.len() && (b[i] == b'+' || b[i].is_ascii_digit()) {
                is_date = decode_special(&text).is_none();
            }
            if is_date {
                loop {
                    text.push(b[i].to_ascii_lowercase() as char);
                    i += 1;
                    if !(i < b.len()
                        && (matches!(b[i], b'+' | b'-' | b'/' | b'_' | b'.' | b':')
                            || b[i].is_ascii_alphanumeric()))
                    {
                        break;
                    }
                }
                ft = Ft::Date;
            } else {
                ft = Ft::String;
            }
        } else if c == b'+' || c == b'-' {
            text.push(c as char);
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i].is_ascii_digit() {
                ft = Ft::Tz;
                text.push(b[i] as char);
                i += 1;
                while i < b.len()
                    && (b[i].is_ascii_digit() || b[i] == b':' || b[i] == b'.' || b[i] == b'-')
                {
                    text.push(b[i] as char);
                    i += 1;
                }
            } else if i < b.len() && b[i].is_ascii_alphabetic() {
                ft = Ft::Special;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    text.push(b[i].to_ascii_lowercase() as char);
                    i += 1;
                }
            } else {
                return Err(DtErr::BadFormat);
            }
        } else if is_punct(c) {
            i += 1;
            continue;
        } else {
            return Err(DtErr::BadFormat);
        }
        fields.push(Field { text, ft });
    }
    Ok(fields)
}

// ---------------------------------------------------------------------------
// Keyword tables

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reserved {
    Early,
    Late,
    Epoch,
    Now,
    Today,
    Tomorrow,
    Yesterday,
    Zulu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Special {
    Reserved(Reserved),
    Month(i64),
    Dow,
    AmPm(bool),
    AdBc(bool),
    /// A zone abbreviation: offset in seconds east, and whether it is a
    /// daylight-saving zone.
    Tz(i32, bool),
    DtzMod,
    IsoTime,
    /// A unit label such as `y`, `m`, `j` that names the next number's
    /// field (`y2001m02d04`, `J2451187`).
    Units(PUnit),
    Ignore,
}

/// Field named by a unit label (PostgreSQL's `ptype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PUnit {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Julian,
    /// `t`: the next field is an ISO time.
    Time,
    /// `dow`, `doy`, `isodow`, `isoyear`: recognized but never valid here.
    Other,
}

/// PostgreSQL's `datetktbl` plus the zone abbreviations Freshet knows.
fn decode_special(word: &str) -> Option<Special> {
    use Special::*;
    let key: String = word.chars().take(10).collect();
    Some(match key.as_str() {
        "-infinity" => Reserved(self::Reserved::Early),
        "infinity" => Reserved(self::Reserved::Late),
        "epoch" => Reserved(self::Reserved::Epoch),
        "now" => Reserved(self::Reserved::Now),
        "today" => Reserved(self::Reserved::Today),
        "tomorrow" => Reserved(self::Reserved::Tomorrow),
        "yesterday" => Reserved(self::Reserved::Yesterday),
        "allballs" => Reserved(self::Reserved::Zulu),
        "ad" => AdBc(false),
        "bc" => AdBc(true),
        "am" => AmPm(false),
        "pm" => AmPm(true),
        "at" | "on" => Ignore,
        "jan" | "january" => Month(1),
        "feb" | "february" => Month(2),
        "mar" | "march" => Month(3),
        "apr" | "april" => Month(4),
        "may" => Month(5),
        "jun" | "june" => Month(6),
        "jul" | "july" => Month(7),
        "aug" | "august" => Month(8),
        "sep" | "sept" | "september" => Month(9),
        "oct" | "october" => Month(10),
        "nov" | "november" => Month(11),
        "dec" | "december" => Month(12),
        "sun" | "sunday" | "mon" | "monday" | "tue" | "tues" | "tuesday" | "wed" | "weds"
        | "wednesday" | "thu" | "thur" | "thurs" | "thursday" | "fri" | "friday" | "sat"
        | "saturday" => Dow,
        "dst" => DtzMod,
        "t" => IsoTime,
        "j" | "jd" | "julian" => Units(PUnit::Julian),
        "y" => Units(PUnit::Year),
        "m" => Units(PUnit::Month),
        "d" => Units(PUnit::Day),
        "h" => Units(PUnit::Hour),
        "mm" => Units(PUnit::Minute),
        "s" => Units(PUnit::Second),
        "dow" | "doy" | "isodow" | "isoyear" => Units(PUnit::Other),
        // Zone abbreviations (a subset of PostgreSQL's "Default" set).
        "utc" | "gmt" | "ut" | "z" | "zulu" | "wet" => Tz(0, false),
        "bst" | "west" => Tz(3600, true),
        "cet" | "met" => Tz(3600, false),
        "cest" | "mest" => Tz(7200, true),
        "eet" => Tz(7200, false),
        "eest" => Tz(10800, true),
        "msk" => Tz(10800, false),
        "ist" => Tz(7200, false),
        "jst" | "kst" => Tz(9 * 3600, false),
        "aest" => Tz(10 * 3600, false),
        "aedt" => Tz(11 * 3600, true),
        "nzst" => Tz(12 * 3600, false),
        "nzdt" => Tz(13 * 3600, true),
        "ast" => Tz(-4 * 3600, false),
        "adt" => Tz(-3 * 3600, true),
        "est" => Tz(-5 * 3600, false),
        "edt" => Tz(-4 * 3600, true),
        "cst" => Tz(-6 * 3600, false),
        "cdt" => Tz(-5 * 3600, true),
        "mst" => Tz(-7 * 3600, false),
        "mdt" => Tz(-6 * 3600, true),
        "pst" => Tz(-8 * 3600, false),
        "pdt" => Tz(-7 * 3600, true),
        "akst" => Tz(-9 * 3600, false),
        "akdt" => Tz(-8 * 3600, true),
        "hst" => Tz(-10 * 3600, false),
        _ => return None,
    })
}

/// Full zone names Freshet can resolve without a tz database.
fn named_zone_offset(name: &str) -> Option<i32> {
    match name {
        "utc" | "etc/utc" | "gmt" | "etc/gmt" | "universal" | "zulu" | "etc/universal"
        | "etc/zulu" | "uct" | "etc/uct" | "greenwich" | "etc/greenwich" => Some(0),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Field masks (PostgreSQL's DTK_M bits)

const RESERV: u32 = 0;
const MONTH: u32 = 1;
const YEAR: u32 = 2;
const DAY: u32 = 3;
const TZ: u32 = 5;
const DTZ: u32 = 6;
const AMPM: u32 = 9;
const HOUR: u32 = 10;
const MINUTE: u32 = 11;
const SECOND: u32 = 12;
const MILLISECOND: u32 = 13;
const MICROSECOND: u32 = 14;
const DOY: u32 = 15;
const DOW: u32 = 16;
const ADBC: u32 = 18;
const WEEK: u32 = 24;
const DECADE: u32 = 25;
const CENTURY: u32 = 26;
const MILLENNIUM: u32 = 27;
const DTZMOD: u32 = 28;

const fn m(bit: u32) -> u32 {
    1 << bit
}
const DATE_M: u32 = m(YEAR) | m(MONTH) | m(DAY);
const ALL_SECS_M: u32 = m(SECOND) | m(MILLISECOND) | m(MICROSECOND);
const TIME_M: u32 = m(HOUR) | m(MINUTE) | ALL_SECS_M;

#[derive(Clone, Copy, Debug, Default)]
struct Tm {
    year: i64,
    mon: i64,
    mday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    fsec: i64,
    yday: i64,
}

/// `strtol`-like: parses an optional sign and digits at the start of `s`,
/// returning the value and the rest. Overflow is `FieldOverflow`.
fn strtoi(s: &str) -> DtResult<(i64, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
        b[0] == b'-'
    } else {
        false
    };
    let start = i;
    let mut v: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((b[i] - b'0') as i64))
            .ok_or(DtErr::FieldOverflow)?;
        i += 1;
    }
    if i == start {
        return Ok((0, s));
    }
    Ok((if neg { -v } else { v }, &s[i..]))
}

/// Like [`strtoi`] but requires the value to fit in an i32 (`strtoint`).
fn strtoint(s: &str) -> DtResult<(i64, &str)> {
    let (v, rest) = strtoi(s)?;
    if v > i32::MAX as i64 || v < i32::MIN as i64 {
        return Err(DtErr::FieldOverflow);
    }
    Ok((v, rest))
}

/// Parses a fraction `.ddd` as a double (PostgreSQL's `ParseFraction`).
fn parse_fraction(s: &str) -> DtResult<f64> {
    debug_assert!(s.starts_with('.'));
    if s.len() == 1 {
        return Ok(0.0);
    }
    if !s[1..].bytes().all(|c| c.is_ascii_digit()) {
        return Err(DtErr::BadFormat);
    }
    format!("0{s}").parse::<f64>().map_err(|_| DtErr::BadFormat)
}

fn parse_fractional_second(s: &str) -> DtResult<i64> {
    Ok((parse_fraction(s)? * 1_000_000.0).round_ties_even() as i64)
}

/// `hh:mm[:ss[.fff]]` or `mm:ss.fff` into (hour, min, sec, usec).
fn decode_time_common(s: &str) -> DtResult<(i64, i64, i64, i64)> {
    let (mut hour, rest) = strtoi(s)?;
    if !rest.starts_with(':') {
        return Err(DtErr::BadFormat);
    }
    let (mut min, rest) = strtoint(&rest[1..])?;
    let mut sec = 0;
    let mut fsec = 0;
    if rest.is_empty() {
    } else if rest.starts_with('.') {
        fsec = parse_fractional_second(rest)?;
        sec = min;
        min = hour;
        hour = 0;
    } else if let Some(r) = rest.strip_prefix(':') {
        let (s2, rest) = strtoint(r)?;
        sec = s2;
        if rest.starts_with('.') {
            fsec = parse_fractional_second(rest)?;
        } else if !rest.is_empty() {
            return Err(DtErr::BadFormat);
        }
    } else {
        return Err(DtErr::BadFormat);
    }
    if hour < 0
        || !(0..=59).contains(&min)
        || !(0..=60).contains(&sec)
        || !(0..=1_000_000).contains(&fsec)
    {
        return Err(DtErr::FieldOverflow);
    }
    Ok((hour, min, sec, fsec))
}

fn decode_time(s: &str, tm: &mut Tm) -> DtResult<u32> {
    let (h, mi, se, fs) = decode_time_common(s)?;
    if h > i32::MAX as i64 {
        return Err(DtErr::FieldOverflow);
    }
    tm.hour = h;
    tm.min = mi;
    tm.sec = se;
    tm.fsec = fs;
    Ok(TIME_M)
}

/// PostgreSQL's `DecodeTimezone`: `+hh`, `+hh:mm`, `+hh:mm:ss`, `+hhmm`;
/// returns seconds east.
fn decode_timezone(s: &str) -> DtResult<i32> {
    let sign = match s.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(DtErr::BadFormat),
    };
    let body = &s[1..];
    let (mut hr, rest) = strtoi(body).map_err(|_| DtErr::TzDispOverflow)?;
    if rest.len() == body.len() {
        return Err(DtErr::BadFormat);
    }
    let mut min = 0;
    let mut sec = 0;
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix(':') {
        let (mi, r2) = strtoi(r).map_err(|_| DtErr::TzDispOverflow)?;
        min = mi;
        rest = r2;
        if let Some(r) = rest.strip_prefix(':') {
            let (se, r3) = strtoi(r).map_err(|_| DtErr::TzDispOverflow)?;
            sec = se;
            rest = r3;
        }
    } else if rest.is_empty() && s.len() > 3 {
        min = hr % 100;
        hr /= 100;
    }
    if !(0..=15).contains(&hr) || !(0..60).contains(&min) || !(0..60).contains(&sec) {
        return Err(DtErr::TzDispOverflow);
    }
    if !rest.is_empty() {
        return Err(DtErr::BadFormat);
    }
    Ok(sign * ((hr * 60 + min) * 60 + sec) as i32)
}

/// PostgreSQL's `DecodeNumberField`: run-together `yyyymmdd`, `hhmmss`,
/// `hhmm`, with an optional fraction. Returns the field mask it set.
fn decode_number_field(s: &str, fmask: u32, tm: &mut Tm, is2digits: &mut bool) -> DtResult<u32> {
    let mut s = s;
    if let Some(dot) = s.find('.') {
        tm.fsec = parse_fractional_second(&s[dot..]).map_err(|_| DtErr::BadFormat)?;
        s = &s[..dot];
    } else if fmask & DATE_M != DATE_M && s.len() >= 6 {
        let len = s.len();
        tm.mday = s[len - 2..].parse().map_err(|_| DtErr::BadFormat)?;
        tm.mon = s[len - 4..len - 2].parse().map_err(|_| DtErr::BadFormat)?;
        tm.year = s[..len - 4].parse().map_err(|_| DtErr::FieldOverflow)?;
        if len - 4 == 2 {
            *is2digits = true;
        }
        return Ok(DATE_M);
    }
    if fmask & TIME_M != TIME_M {
        let p = |t: &str| t.parse::<i64>().map_err(|_| DtErr::BadFormat);
        if s.len() == 6 {
            tm.sec = p(&s[4..6])?;
            tm.min = p(&s[2..4])?;
            tm.hour = p(&s[0..2])?;
            return Ok(TIME_M);
        } else if s.len() == 4 {
            tm.sec = 0;
            tm.min = p(&s[2..4])?;
            tm.hour = p(&s[0..2])?;
            return Ok(TIME_M);
        }
    }
    Err(DtErr::BadFormat)
}

/// PostgreSQL's `DecodeNumber` (DateOrder = MDY). Returns the mask set.
fn decode_number(
    s: &str,
    have_text_month: bool,
    fmask: u32,
    tm: &mut Tm,
    is2digits: &mut bool,
) -> DtResult<u32> {
    let flen = s.len();
    let (val, rest) = strtoint(s)?;
    if rest.len() == s.len() {
        return Err(DtErr::BadFormat);
    }
    if rest.starts_with('.') {
        let digits_before = s.len() - rest.len();
        if digits_before > 2 {
            return decode_number_field(s, fmask | DATE_M, tm, is2digits);
        }
        tm.fsec = parse_fractional_second(rest)?;
    } else if !rest.is_empty() {
        return Err(DtErr::BadFormat);
    }
    if flen == 3 && fmask & DATE_M == m(YEAR) && (1..=366).contains(&val) {
        tm.yday = val;
        return Ok(m(DOY) | m(MONTH) | m(DAY));
    }
    let tmask = match fmask & DATE_M {
        0 => {
            if flen >= 3 {
                tm.year = val;
                m(YEAR)
            } else {
                tm.mon = val;
                m(MONTH)
            }
        }
        x if x == m(YEAR) => {
            tm.mon = val;
            m(MONTH)
        }
        x if x == m(MONTH) => {
            if have_text_month {
                if flen >= 3 {
                    tm.year = val;
                    m(YEAR)
                } else {
                    tm.mday = val;
                    m(DAY)
                }
            } else {
                tm.mday = val;
                m(DAY)
            }
        }
        x if x == m(YEAR) | m(MONTH) => {
            if have_text_month && flen >= 3 && *is2digits {
                tm.mday = tm.year;
                tm.year = val;
                *is2digits = false;
                m(DAY)
            } else {
                tm.mday = val;
                m(DAY)
            }
        }
        x if x == m(DAY) => {
            tm.mon = val;
            m(MONTH)
        }
        x if x == m(MONTH) | m(DAY) => {
            tm.year = val;
            m(YEAR)
        }
        x if x == DATE_M => return decode_number_field(s, fmask, tm, is2digits),
        _ => return Err(DtErr::BadFormat),
    };
    if tmask == m(YEAR) {
        *is2digits = flen <= 2;
    }
    Ok(tmask)
}

/// PostgreSQL's `DecodeDate` for a field like `2020-06-25` or `jan-08-1999`.
fn decode_date(s: &str, mut fmask: u32, is2digits: &mut bool, tm: &mut Tm) -> DtResult<u32> {
    let mut parts: Vec<&str> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && !b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i >= b.len() {
            return Err(DtErr::BadFormat);
        }
        let start = i;
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        } else {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
        }
        parts.push(&s[start..i]);
        if i < b.len() {
            // Skip exactly one separator character (as PostgreSQL does).
            if !b[i].is_ascii_alphanumeric() {
                i += 1;
            }
        }
        if parts.len() > 25 {
            return Err(DtErr::BadFormat);
        }
    }
    let mut tmask = 0;
    let mut have_text_month = false;
    let mut used = vec![false; parts.len()];
    for (k, p) in parts.iter().enumerate() {
        if p.as_bytes()[0].is_ascii_alphabetic() {
            match decode_special(p) {
                Some(Special::Ignore) => {
                    used[k] = true;
                    continue;
                }
                Some(Special::Month(mo)) => {
                    tm.mon = mo;
                    have_text_month = true;
                    if fmask & m(MONTH) != 0 {
                        return Err(DtErr::BadFormat);
                    }
                    fmask |= m(MONTH);
                    tmask |= m(MONTH);
                    used[k] = true;
                }
                _ => return Err(DtErr::BadFormat),
            }
        }
    }
    for (k, p) in parts.iter().enumerate() {
        if used[k] {
            continue;
        }
        if p.is_empty() {
            return Err(DtErr::BadFormat);
        }
        let dmask = decode_number(p, have_text_month, fmask, tm, is2digits)?;
        if fmask & dmask != 0 {
            return Err(DtErr::BadFormat);
        }
        fmask |= dmask;
        tmask |= dmask;
    }
    if fmask & !(m(DOY) | m(TZ)) != DATE_M {
        return Err(DtErr::BadFormat);
    }
    Ok(tmask)
}

/// PostgreSQL's `ValidateDate`.
fn validate_date(
    fmask: u32,
    isjulian: bool,
    is2digits: bool,
    bc: bool,
    tm: &mut Tm,
) -> DtResult<()> {
    if fmask & m(YEAR) != 0 {
        if isjulian {
        } else if bc {
            if tm.year <= 0 {
                return Err(DtErr::FieldOverflow);
            }
            tm.year = -(tm.year - 1);
        } else if is2digits {
            if tm.year < 0 {
                return Err(DtErr::FieldOverflow);
            }
            if tm.year < 70 {
                tm.year += 2000;
            } else if tm.year < 100 {
                tm.year += 1900;
            }
        } else if tm.year <= 0 {
            return Err(DtErr::FieldOverflow);
        }
    }
    if fmask & m(DOY) != 0 {
        let (y, mo, d) = j2date(date2j(tm.year, 1, 1) + tm.yday - 1);
        tm.year = y;
        tm.mon = mo as i64;
        tm.mday = d as i64;
    }
    if fmask & m(MONTH) != 0 && !(1..=12).contains(&tm.mon) {
        return Err(DtErr::MdFieldOverflow);
    }
    if fmask & m(DAY) != 0 && !(1..=31).contains(&tm.mday) {
        return Err(DtErr::MdFieldOverflow);
    }
    if fmask & DATE_M == DATE_M && tm.mday > days_in_month(tm.year, tm.mon as u32) as i64 {
        return Err(DtErr::FieldOverflow);
    }
    Ok(())
}

/// What a date/time string denotes after decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DType {
    Date,
    Epoch,
    Late,
    Early,
}

/// Session facts the decoder needs: the zone (for `now`, `today` and
/// strings without an offset) and the current instant.
struct Session {
    offset: i32,
}

impl Session {
    /// The current local time. Read from the system clock only when the
    /// input says `now`, `today`, `tomorrow` or `yesterday`.
    fn local_now(&self) -> Tm {
        let local = TimestampTz::now().0 + self.offset as i64 * USECS_PER_SEC;
        let f = crate::datetime::timestamp_to_fields(local).unwrap_or_default();
        Tm {
            year: f.year,
            mon: f.month as i64,
            mday: f.day as i64,
            hour: f.hour as i64,
            min: f.minute as i64,
            sec: f.second as i64,
            fsec: f.micros as i64,
            yday: 0,
        }
    }
}

/// PostgreSQL's `DecodeDateTime`. Returns the kind, the fields and the
/// zone offset (seconds east) when the string named one.
fn decode_date_time(fields: &mut [Field], session: &Session) -> DtResult<(DType, Tm, Option<i32>)> {
    let mut fmask: u32 = 0;
    let mut ptype: Option<PUnit> = None;
    let mut tm = Tm::default();
    let mut dtype = DType::Date;
    let mut tz: Option<i32> = None;
    let mut mer: Option<bool> = None;
    let mut have_text_month = false;
    let mut isjulian = false;
    let mut is2digits = false;
    let mut bc = false;
    let nf = fields.len();
    let mut i = 0;
    while i < nf {
        let text = fields[i].text.clone();
        let tmask: u32;
        match fields[i].ft {
            Ft::Date => {
                if ptype == Some(PUnit::Julian) {
                    let (val, rest) = strtoint(&text)?;
                    if val < 0 {
                        return Err(DtErr::FieldOverflow);
                    }
                    let (y, mo, d) = j2date(val);
                    tm.year = y;
                    tm.mon = mo as i64;
                    tm.mday = d as i64;
                    isjulian = true;
                    tz = Some(decode_timezone(rest)?);
                    tmask = DATE_M | TIME_M | m(TZ);
                    ptype = None;
                } else if ptype.is_some() || fmask & (m(MONTH) | m(DAY)) == (m(MONTH) | m(DAY)) {
                    if text.as_bytes()[0].is_ascii_digit() || ptype.is_some() {
                        if ptype.is_some() {
                            if ptype != Some(PUnit::Time) {
                                return Err(DtErr::BadFormat);
                            }
                            ptype = None;
                        }
                        if fmask & TIME_M == TIME_M {
                            return Err(DtErr::BadFormat);
                        }
                        let dash = text.find('-').ok_or(DtErr::BadFormat)?;
                        tz = Some(decode_timezone(&text[dash..])?);
                        let mut t =
                            decode_number_field(&text[..dash], fmask, &mut tm, &mut is2digits)?;
                        t |= m(TZ);
                        tmask = t;
                    } else {
                        match named_zone_offset(&text) {
                            Some(off) => {
                                tz = Some(off);
                                tmask = m(TZ);
                            }
                            None => {
                                return Err(DtErr::Other(Error::new(
                                    SqlState::InvalidParameterValue,
                                    format!("time zone \"{text}\" not recognized"),
                                )))
                            }
                        }
                    }
                } else {
                    tmask = decode_date(&text, fmask, &mut is2digits, &mut tm)?;
                }
            }
            Ft::Time => {
                if ptype.is_some() {
                    if ptype != Some(PUnit::Time) {
                        return Err(DtErr::BadFormat);
                    }
                    ptype = None;
                }
                tmask = decode_time(&text, &mut tm)?;
                if tm.hour > 24 || (tm.hour == 24 && (tm.min > 0 || tm.sec > 0 || tm.fsec > 0)) {
                    return Err(DtErr::FieldOverflow);
                }
            }
            Ft::Tz => {
                tz = Some(decode_timezone(&text)?);
                tmask = m(TZ);
            }
            Ft::Number => {
                if let Some(p) = ptype {
                    let (val, rest) = strtoint(&text)?;
                    if rest.starts_with('.') {
                        if !matches!(p, PUnit::Julian | PUnit::Time | PUnit::Second) {
                            return Err(DtErr::BadFormat);
                        }
                    } else if !rest.is_empty() {
                        return Err(DtErr::BadFormat);
                    }
                    match p {
                        PUnit::Year => {
                            tm.year = val;
                            tmask = m(YEAR);
                        }
                        PUnit::Month => {
                            if fmask & m(MONTH) != 0 && fmask & m(HOUR) != 0 {
                                tm.min = val;
                                tmask = m(MINUTE);
                            } else {
                                tm.mon = val;
                                tmask = m(MONTH);
                            }
                        }
                        PUnit::Day => {
                            tm.mday = val;
                            tmask = m(DAY);
                        }
                        PUnit::Hour => {
                            tm.hour = val;
                            tmask = m(HOUR);
                        }
                        PUnit::Minute => {
                            tm.min = val;
                            tmask = m(MINUTE);
                        }
                        PUnit::Second => {
                            tm.sec = val;
                            if rest.starts_with('.') {
                                tm.fsec = parse_fractional_second(rest)?;
                                tmask = ALL_SECS_M;
                            } else {
                                tmask = m(SECOND);
                            }
                        }
                        PUnit::Julian => {
                            if val < 0 {
                                return Err(DtErr::FieldOverflow);
                            }
                            let (y, mo, d) = j2date(val);
                            tm.year = y;
                            tm.mon = mo as i64;
                            tm.mday = d as i64;
                            isjulian = true;
                            let mut t = DATE_M;
                            if rest.starts_with('.') {
                                let frac = parse_fraction(rest)?;
                                let us = (frac * USECS_PER_DAY as f64) as i64;
                                let (h, mi, s, f) = split_time(us.clamp(0, USECS_PER_DAY - 1));
                                tm.hour = h as i64;
                                tm.min = mi as i64;
                                tm.sec = s as i64;
                                tm.fsec = f as i64;
                                t |= TIME_M;
                            }
                            tmask = t;
                        }
                        PUnit::Time => {
                            let t = decode_number_field(
                                &text,
                                fmask | DATE_M,
                                &mut tm,
                                &mut is2digits,
                            )?;
                            if t != TIME_M {
                                return Err(DtErr::BadFormat);
                            }
                            tmask = t;
                        }
                        PUnit::Other => return Err(DtErr::BadFormat),
                    }
                    ptype = None;
                    dtype = DType::Date;
                } else {
                    let flen = text.len();
                    let dot = text.find('.');
                    if dot.is_some() && fmask & DATE_M == 0 {
                        tmask = decode_date(&text, fmask, &mut is2digits, &mut tm)?;
                    } else if dot.map(|d| d > 2).unwrap_or(false)
                        || (flen >= 6 && (fmask & DATE_M == 0 || fmask & TIME_M == 0))
                    {
                        // Six or more digits are YMD or HMS unless both a
                        // date and a time were already seen (then a year).
                        tmask = decode_number_field(&text, fmask, &mut tm, &mut is2digits)?;
                    } else {
                        tmask =
                            decode_number(&text, have_text_month, fmask, &mut tm, &mut is2digits)?;
                    }
                }
            }
            Ft::String | Ft::Special => {
                let sp = match decode_special(&text) {
                    Some(sp) => sp,
                    None => match named_zone_offset(&text) {
                        Some(off) => {
                            tz = Some(off);
                            let t = m(TZ);
                            if fmask & t != 0 {
                                return Err(DtErr::BadFormat);
                            }
                            fmask |= t;
                            i += 1;
                            continue;
                        }
                        None => return Err(DtErr::BadFormat),
                    },
                };
                match sp {
                    Special::Ignore => {
                        i += 1;
                        continue;
                    }
                    Special::Reserved(r) => {
                        let mut t = m(RESERV);
                        match r {
                            Reserved::Now => {
                                t = DATE_M | TIME_M | m(TZ);
                                dtype = DType::Date;
                                tm = session.local_now();
                                tz = Some(session.offset);
                            }
                            Reserved::Today | Reserved::Tomorrow | Reserved::Yesterday => {
                                t = DATE_M;
                                dtype = DType::Date;
                                let n = session.local_now();
                                let delta = match r {
                                    Reserved::Tomorrow => 1,
                                    Reserved::Yesterday => -1,
                                    _ => 0,
                                };
                                let (y, mo, d) =
                                    j2date(date2j(n.year, n.mon as u32, n.mday as u32) + delta);
                                tm.year = y;
                                tm.mon = mo as i64;
                                tm.mday = d as i64;
                                tm.hour = 0;
                                tm.min = 0;
                                tm.sec = 0;
                            }
                            Reserved::Zulu => {
                                t = TIME_M | m(TZ);
                                dtype = DType::Date;
                                tm.hour = 0;
                                tm.min = 0;
                                tm.sec = 0;
                                tz = Some(0);
                            }
                            Reserved::Epoch => dtype = DType::Epoch,
                            Reserved::Late => dtype = DType::Late,
                            Reserved::Early => dtype = DType::Early,
                        }
                        tmask = t;
                    }
                    Special::Month(mo) => {
                        let mut t = m(MONTH);
                        if fmask & m(MONTH) != 0
                            && !have_text_month
                            && fmask & m(DAY) == 0
                            && (1..=31).contains(&tm.mon)
                        {
                            tm.mday = tm.mon;
                            t = m(DAY);
                        }
                        have_text_month = true;
                        tm.mon = mo;
                        tmask = t;
                    }
                    Special::DtzMod => {
                        tmask = m(DTZMOD) | m(DTZ);
                        tz = Some(tz.unwrap_or(0) + 3600);
                    }
                    Special::Tz(off, dst) => {
                        tmask = if dst { m(TZ) | m(DTZ) } else { m(TZ) };
                        tz = Some(off);
                    }
                    Special::AmPm(pm) => {
                        mer = Some(pm);
                        tmask = m(AMPM);
                    }
                    Special::AdBc(is_bc) => {
                        bc = is_bc;
                        tmask = m(ADBC);
                    }
                    Special::Dow => tmask = m(DOW),
                    Special::Units(u) => {
                        ptype = Some(u);
                        tmask = 0;
                    }
                    Special::IsoTime => {
                        if fmask & DATE_M != DATE_M {
                            return Err(DtErr::BadFormat);
                        }
                        if i + 1 >= nf
                            || !matches!(fields[i + 1].ft, Ft::Number | Ft::Time | Ft::Date)
                        {
                            return Err(DtErr::BadFormat);
                        }
                        ptype = Some(PUnit::Time);
                        tmask = 0;
                    }
                }
            }
        }
        if tmask & fmask != 0 {
            return Err(DtErr::BadFormat);
        }
        fmask |= tmask;
        i += 1;
    }
    validate_date(fmask, isjulian, is2digits, bc, &mut tm)?;
    if let Some(pm) = mer {
        if tm.hour > 12 {
            return Err(DtErr::FieldOverflow);
        }
        if !pm && tm.hour == 12 {
            tm.hour = 0;
        } else if pm && tm.hour != 12 {
            tm.hour += 12;
        }
    }
    if dtype == DType::Date {
        if fmask & DATE_M != DATE_M {
            return Err(DtErr::BadFormat);
        }
        if fmask & m(DTZMOD) != 0 && fmask & m(TZ) == 0 {
            return Err(DtErr::BadFormat);
        }
    }
    Ok((dtype, tm, tz))
}

/// PostgreSQL's `DecodeTimeOnly`. Returns the fields and the zone if one
/// was given.
fn decode_time_only(fields: &mut [Field], session: &Session) -> DtResult<(Tm, Option<i32>)> {
    let mut fmask: u32 = 0;
    let mut tm = Tm::default();
    let mut tz = None;
    let mut mer: Option<bool> = None;
    let mut is2digits = false;
    let mut isjulian = false;
    let mut bc = false;
    let mut ptype: Option<PUnit> = None;
    let nf = fields.len();
    for i in 0..nf {
        let text = fields[i].text.clone();
        let tmask: u32;
        match fields[i].ft {
            Ft::Date => {
                if i == 0 && nf >= 2 && (fields[nf - 1].ft == Ft::Date || fields[1].ft == Ft::Time)
                {
                    tmask = decode_date(&text, fmask, &mut is2digits, &mut tm)?;
                } else if text.as_bytes()[0].is_ascii_digit() {
                    if fmask & TIME_M == TIME_M {
                        return Err(DtErr::BadFormat);
                    }
                    let dash = text.find('-').ok_or(DtErr::BadFormat)?;
                    tz = Some(decode_timezone(&text[dash..])?);
                    let t = decode_number_field(
                        &text[..dash],
                        fmask | DATE_M,
                        &mut tm,
                        &mut is2digits,
                    )?;
                    tmask = t | m(TZ);
                } else {
                    match named_zone_offset(&text) {
                        Some(off) => {
                            tz = Some(off);
                            tmask = m(TZ);
                        }
                        None => {
                            return Err(DtErr::Other(Error::new(
                                SqlState::InvalidParameterValue,
                                format!("time zone \"{text}\" not recognized"),
                            )))
                        }
                    }
                }
            }
            Ft::Time => {
                tmask = decode_time(&text, &mut tm)?;
            }
            Ft::Tz => {
                tz = Some(decode_timezone(&text)?);
                tmask = m(TZ);
            }
            Ft::Number => {
                if let Some(p) = ptype {
                    let (val, rest) = strtoint(&text)?;
                    if rest.starts_with('.') {
                        if !matches!(p, PUnit::Julian | PUnit::Time | PUnit::Second) {
                            return Err(DtErr::BadFormat);
                        }
                    } else if !rest.is_empty() {
                        return Err(DtErr::BadFormat);
                    }
                    match p {
                        PUnit::Year => {
                            tm.year = val;
                            tmask = m(YEAR);
                        }
                        PUnit::Month => {
                            if fmask & m(MONTH) != 0 && fmask & m(HOUR) != 0 {
                                tm.min = val;
                                tmask = m(MINUTE);
                            } else {
                                tm.mon = val;
                                tmask = m(MONTH);
                            }
                        }
                        PUnit::Day => {
                            tm.mday = val;
                            tmask = m(DAY);
                        }
                        PUnit::Hour => {
                            tm.hour = val;
                            tmask = m(HOUR);
                        }
                        PUnit::Minute => {
                            tm.min = val;
                            tmask = m(MINUTE);
                        }
                        PUnit::Second => {
                            tm.sec = val;
                            if rest.starts_with('.') {
                                tm.fsec = parse_fractional_second(rest)?;
                                tmask = ALL_SECS_M;
                            } else {
                                tmask = m(SECOND);
                            }
                        }
                        PUnit::Julian => {
                            if val < 0 {
                                return Err(DtErr::FieldOverflow);
                            }
                            let (y, mo, d) = j2date(val);
                            tm.year = y;
                            tm.mon = mo as i64;
                            tm.mday = d as i64;
                            isjulian = true;
                            let mut t = DATE_M;
                            if rest.starts_with('.') {
                                let frac = parse_fraction(rest)?;
                                let us = (frac * USECS_PER_DAY as f64) as i64;
                                let (h, mi, s, f) = split_time(us.clamp(0, USECS_PER_DAY - 1));
                                tm.hour = h as i64;
                                tm.min = mi as i64;
                                tm.sec = s as i64;
                                tm.fsec = f as i64;
                                t |= TIME_M;
                            }
                            tmask = t;
                        }
                        PUnit::Time => {
                            let t = decode_number_field(
                                &text,
                                fmask | DATE_M,
                                &mut tm,
                                &mut is2digits,
                            )?;
                            if t != TIME_M {
                                return Err(DtErr::BadFormat);
                            }
                            tmask = t;
                        }
                        _ => return Err(DtErr::BadFormat),
                    }
                    ptype = None;
                } else {
                    let flen = text.len();
                    if let Some(d) = text.find('.') {
                        if i == 0 && nf >= 2 && fields[nf - 1].ft == Ft::Date {
                            tmask = decode_date(&text, fmask, &mut is2digits, &mut tm)?;
                        } else if d > 2 {
                            tmask = decode_number_field(
                                &text,
                                fmask | DATE_M,
                                &mut tm,
                                &mut is2digits,
                            )?;
                        } else {
                            return Err(DtErr::BadFormat);
                        }
                    } else if flen > 4 {
                        tmask =
                            decode_number_field(&text, fmask | DATE_M, &mut tm, &mut is2digits)?;
                    } else {
                        tmask =
                            decode_number(&text, false, fmask | DATE_M, &mut tm, &mut is2digits)?;
                    }
                }
            }
            Ft::String | Ft::Special => {
                let sp = match decode_special(&text) {
                    Some(sp) => sp,
                    None => match named_zone_offset(&text) {
                        Some(off) => {
                            tz = Some(off);
                            if fmask & m(TZ) != 0 {
                                return Err(DtErr::BadFormat);
                            }
                            fmask |= m(TZ);
                            continue;
                        }
                        None => return Err(DtErr::BadFormat),
                    },
                };
                match sp {
                    Special::Ignore => continue,
                    Special::Reserved(Reserved::Now) => {
                        let n = session.local_now();
                        tm.hour = n.hour;
                        tm.min = n.min;
                        tm.sec = n.sec;
                        tm.fsec = n.fsec;
                        tmask = TIME_M;
                    }
                    Special::Reserved(Reserved::Zulu) => {
                        tm.hour = 0;
                        tm.min = 0;
                        tm.sec = 0;
                        tmask = TIME_M | m(TZ);
                    }
                    Special::Reserved(_) | Special::Month(_) | Special::Dow => {
                        return Err(DtErr::BadFormat)
                    }
                    Special::Tz(off, dst) => {
                        tz = Some(off);
                        tmask = if dst { m(TZ) | m(DTZ) } else { m(TZ) };
                    }
                    Special::DtzMod => {
                        tz = Some(tz.unwrap_or(0) + 3600);
                        tmask = m(DTZMOD) | m(DTZ);
                    }
                    Special::AmPm(pm) => {
                        mer = Some(pm);
                        tmask = m(AMPM);
                    }
                    Special::AdBc(b) => {
                        bc = b;
                        tmask = m(ADBC);
                    }
                    Special::Units(u) => {
                        ptype = Some(u);
                        tmask = 0;
                    }
                    Special::IsoTime => {
                        if i + 1 >= nf
                            || !matches!(fields[i + 1].ft, Ft::Number | Ft::Time | Ft::Date)
                        {
                            return Err(DtErr::BadFormat);
                        }
                        ptype = Some(PUnit::Time);
                        tmask = 0;
                    }
                }
            }
        }
        if tmask & fmask != 0 {
            return Err(DtErr::BadFormat);
        }
        fmask |= tmask;
    }
    validate_date(fmask, isjulian, is2digits, bc, &mut tm)?;
    if let Some(pm) = mer {
        if tm.hour > 12 {
            return Err(DtErr::FieldOverflow);
        }
        if !pm && tm.hour == 12 {
            tm.hour = 0;
        } else if pm && tm.hour != 12 {
            tm.hour += 12;
        }
    }
    // time_overflows(): each field, then the total against 24:00:00.
    if !(0..=24).contains(&tm.hour)
        || !(0..=59).contains(&tm.min)
        || !(0..=60).contains(&tm.sec)
        || !(0..=USECS_PER_SEC).contains(&tm.fsec)
        || tm_time_micros(&tm) > USECS_PER_DAY
    {
        return Err(DtErr::FieldOverflow);
    }
    if fmask & TIME_M != TIME_M {
        return Err(DtErr::BadFormat);
    }
    if fmask & m(TZ) == 0 {
        // Without a zone PostgreSQL resolves the session zone's offset,
        // which needs either no date or a complete one.
        if fmask & m(DTZMOD) != 0 {
            return Err(DtErr::BadFormat);
        }
        if fmask & DATE_M != 0 && fmask & DATE_M != DATE_M {
            return Err(DtErr::BadFormat);
        }
    }
    Ok((tm, tz))
}

fn session_of(tz: &TimeZone) -> Session {
    Session { offset: tz.offset_seconds() }
}

fn tm_time_micros(tm: &Tm) -> i64 {
    ((tm.hour * 60 + tm.min) * 60 + tm.sec) * USECS_PER_SEC + tm.fsec
}

/// Parses `date` input (`2020-06-25`, `June 25, 2020`, `6/25/2020`,
/// `20200625`, `0044-03-15 BC`, `epoch`, `today`, `infinity` ...).
pub fn parse_date(input: &str, tz: &TimeZone) -> Result<Date> {
    let run = || -> DtResult<Date> {
        let mut fields = parse_fields(input)?;
        let (dtype, tm, _) = decode_date_time(&mut fields, &session_of(tz))?;
        match dtype {
            DType::Date => {}
            DType::Epoch => return Ok(Date(-10_957)),
            DType::Late => return Ok(Date::INFINITY),
            DType::Early => return Ok(Date::NEG_INFINITY),
        }
        let valid = (tm.year > -4713 || (tm.year == -4713 && tm.mon >= 11))
            && (tm.year < 5_874_898 || (tm.year == 5_874_898 && tm.mon < 6));
        let j = date2j(tm.year, tm.mon as u32, tm.mday as u32);
        if !valid || !(0..DATE_END_JULIAN).contains(&j) {
            return Err(DtErr::Other(Error::new(
                SqlState::DatetimeFieldOverflow,
                format!("date out of range: \"{input}\""),
            )));
        }
        Ok(Date((j - POSTGRES_EPOCH_JDATE) as i32))
    };
    run().map_err(|e| e.into_error(input, "date"))
}

fn timestamp_from_tm(tm: &Tm, input: &str) -> DtResult<i64> {
    let oor = || {
        DtErr::Other(Error::new(
            SqlState::DatetimeFieldOverflow,
            format!("timestamp out of range: \"{input}\""),
        ))
    };
    let f = DateTimeFields {
        year: tm.year,
        month: tm.mon as u32,
        day: tm.mday as u32,
        hour: 0,
        minute: 0,
        second: 0,
        micros: 0,
    };
    let day_start = crate::datetime::fields_to_timestamp(&f).map_err(|_| oor())?;
    let v = day_start as i128 + tm_time_micros(tm) as i128;
    if v < MIN_TIMESTAMP as i128 || v >= END_TIMESTAMP as i128 {
        return Err(oor());
    }
    Ok(v as i64)
}

/// Parses `timestamp` input; a zone in the string is ignored, as in
/// PostgreSQL.
pub fn parse_timestamp(input: &str, tz: &TimeZone) -> Result<Timestamp> {
    let run = || -> DtResult<Timestamp> {
        let mut fields = parse_fields(input)?;
        let (dtype, tm, _) = decode_date_time(&mut fields, &session_of(tz))?;
        match dtype {
            DType::Date => Ok(Timestamp(timestamp_from_tm(&tm, input)?)),
            DType::Epoch => {
                Ok(Timestamp(-(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY))
            }
            DType::Late => Ok(Timestamp::INFINITY),
            DType::Early => Ok(Timestamp::NEG_INFINITY),
        }
    };
    run().map_err(|e| e.into_error(input, "timestamp"))
}

/// Parses `timestamptz` input; without a zone in the string the local time
/// is taken in `tz`.
pub fn parse_timestamptz(input: &str, tz: &TimeZone) -> Result<TimestampTz> {
    let run = || -> DtResult<TimestampTz> {
        let mut fields = parse_fields(input)?;
        let (dtype, tm, zone) = decode_date_time(&mut fields, &session_of(tz))?;
        match dtype {
            DType::Date => {
                let local = timestamp_from_tm(&tm, input)?;
                let off = zone.unwrap_or_else(|| tz.offset_at_local(local));
                let v = local as i128 - off as i128 * USECS_PER_SEC as i128;
                if v < MIN_TIMESTAMP as i128 || v >= END_TIMESTAMP as i128 {
                    return Err(DtErr::Other(Error::new(
                        SqlState::DatetimeFieldOverflow,
                        format!("timestamp out of range: \"{input}\""),
                    )));
                }
                Ok(TimestampTz(v as i64))
            }
            DType::Epoch => {
                Ok(TimestampTz(-(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY))
            }
            DType::Late => Ok(TimestampTz::INFINITY),
            DType::Early => Ok(TimestampTz::NEG_INFINITY),
        }
    };
    run().map_err(|e| e.into_error(input, "timestamp with time zone"))
}

/// Parses `time` input (`12:34:56.789`, `04:05 PM`, `040506`, `allballs`);
/// a date or zone in the string is ignored.
pub fn parse_time(input: &str, tz: &TimeZone) -> Result<Time> {
    let run = || -> DtResult<Time> {
        let mut fields = parse_fields(input)?;
        let (tm, _) = decode_time_only(&mut fields, &session_of(tz))?;
        Ok(Time(tm_time_micros(&tm)))
    };
    run().map_err(|e| e.into_error(input, "time"))
}

// ---------------------------------------------------------------------------
// Interval input

#[derive(Default)]
struct ItmIn {
    usec: i64,
    mday: i32,
    mon: i32,
    year: i32,
}

fn adjust_fract_micros(frac: f64, scale: i64, itm: &mut ItmIn) -> DtResult<()> {
    if frac == 0.0 {
        return Ok(());
    }
    let f = frac * scale as f64;
    let mut usec = f as i64;
    usec += (f - usec as f64).round_ties_even() as i64;
    itm.usec = itm.usec.checked_add(usec).ok_or(DtErr::FieldOverflow)?;
    Ok(())
}

fn adjust_fract_days(frac: f64, scale: i64, itm: &mut ItmIn) -> DtResult<()> {
    if frac == 0.0 {
        return Ok(());
    }
    let f = frac * scale as f64;
    let extra = f as i32;
    itm.mday = itm.mday.checked_add(extra).ok_or(DtErr::FieldOverflow)?;
    adjust_fract_micros(f - extra as f64, USECS_PER_DAY, itm)
}

fn adjust_fract_years(frac: f64, scale: i64, itm: &mut ItmIn) -> DtResult<()> {
    let extra = (frac * scale as f64 * 12.0).round_ties_even() as i32;
    itm.mon = itm.mon.checked_add(extra).ok_or(DtErr::FieldOverflow)?;
    Ok(())
}

fn adjust_micros(val: i64, frac: f64, scale: i64, itm: &mut ItmIn) -> DtResult<()> {
    let v = val.checked_mul(scale).ok_or(DtErr::FieldOverflow)?;
    itm.usec = itm.usec.checked_add(v).ok_or(DtErr::FieldOverflow)?;
    adjust_fract_micros(frac, scale, itm)
}

fn adjust_days(val: i64, scale: i64, itm: &mut ItmIn) -> DtResult<()> {
    let v = val.checked_mul(scale).ok_or(DtErr::FieldOverflow)?;
    let v = i32::try_from(v).map_err(|_| DtErr::FieldOverflow)?;
    itm.mday = itm.mday.checked_add(v).ok_or(DtErr::FieldOverflow)?;
    Ok(())
}

fn adjust_months(val: i64, itm: &mut ItmIn) -> DtResult<()> {
    let v = i32::try_from(val).map_err(|_| DtErr::FieldOverflow)?;
    itm.mon = itm.mon.checked_add(v).ok_or(DtErr::FieldOverflow)?;
    Ok(())
}

fn adjust_years(val: i64, scale: i64, itm: &mut ItmIn) -> DtResult<()> {
    let v = val.checked_mul(scale).ok_or(DtErr::FieldOverflow)?;
    let v = i32::try_from(v).map_err(|_| DtErr::FieldOverflow)?;
    itm.year = itm.year.checked_add(v).ok_or(DtErr::FieldOverflow)?;
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IUnit {
    Micro,
    Milli,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Decade,
    Century,
    Millennium,
    Unhandled,
}

enum IWord {
    Unit(IUnit),
    Ago,
}

fn decode_interval_word(w: &str) -> Option<IWord> {
    use IUnit::*;
    if let Some(u) = crate::datetime::decode_unit(w) {
        use crate::datetime::DateUnit as D;
        return Some(IWord::Unit(match u {
            D::Microseconds => Micro,
            D::Milliseconds => Milli,
            D::Second => Second,
            D::Minute => Minute,
            D::Hour => Hour,
            D::Day => Day,
            D::Week => Week,
            D::Month => Month,
            D::Year => Year,
            D::Decade => Decade,
            D::Century => Century,
            D::Millennium => Millennium,
            _ => Unhandled,
        }));
    }
    match w {
        "ago" => Some(IWord::Ago),
        _ => None,
    }
}

fn interval_from_itm(itm: &ItmIn) -> DtResult<Interval> {
    let months = itm.year as i64 * 12 + itm.mon as i64;
    let months = i32::try_from(months).map_err(|_| DtErr::Other(interval_out_of_range()))?;
    Ok(Interval { months, days: itm.mday, micros: itm.usec })
}

fn decode_time_for_interval(s: &str, itm: &mut ItmIn) -> DtResult<()> {
    let (h, mi, se, fs) = decode_time_common(s)?;
    let mut usec = fs;
    let add = |acc: i64, v: i64, scale: i64| -> DtResult<i64> {
        v.checked_mul(scale).and_then(|x| x.checked_add(acc)).ok_or(DtErr::FieldOverflow)
    };
    usec = add(usec, h, USECS_PER_HOUR)?;
    usec = add(usec, mi, USECS_PER_MINUTE)?;
    usec = add(usec, se, USECS_PER_SEC)?;
    itm.usec = usec;
    Ok(())
}

/// PostgreSQL 15's `DecodeInterval` for `IntervalStyle = postgres`.
fn decode_interval(fields: &[Field]) -> DtResult<Interval> {
    let mut itm = ItmIn::default();
    let mut fmask: u32 = 0;
    let mut is_before = false;
    let mut ty: Option<IUnit> = None;
    for i in (0..fields.len()).rev() {
        let f = &fields[i];
        let mut tmask: u32 = 0;
        let mut number: Option<&str> = None;
        match f.ft {
            Ft::Time => {
                decode_time_for_interval(&f.text, &mut itm)?;
                tmask = TIME_M;
                ty = Some(IUnit::Day);
            }
            Ft::Tz => {
                let rest = &f.text[1..];
                let mut tmp = ItmIn { usec: 0, ..ItmIn::default() };
                if rest.contains(':') && decode_time_for_interval(rest, &mut tmp).is_ok() {
                    itm.usec = if f.text.starts_with('-') {
                        tmp.usec.checked_neg().ok_or(DtErr::FieldOverflow)?
                    } else {
                        tmp.usec
                    };
                    tmask = TIME_M;
                    ty = Some(IUnit::Day);
                } else {
                    number = Some(&f.text);
                }
            }
            Ft::Date | Ft::Number => number = Some(&f.text),
            Ft::String | Ft::Special => match decode_interval_word(&f.text) {
                Some(IWord::Ago) => {
                    is_before = true;
                    // A number directly before "ago" has no unit.
                    ty = Some(IUnit::Unhandled);
                }
                Some(IWord::Unit(u)) => ty = Some(u),
                None => return Err(DtErr::BadFormat),
            },
        }
        if let Some(text) = number {
            let unit = ty.unwrap_or(IUnit::Second);
            let (mut val, rest) = strtoi(text)?;
            let mut unit = unit;
            let fval: f64;
            if let Some(r) = rest.strip_prefix('-') {
                let (val2, r2) = strtoint(r)?;
                if !(0..12).contains(&val2) {
                    return Err(DtErr::FieldOverflow);
                }
                if !r2.is_empty() {
                    return Err(DtErr::BadFormat);
                }
                unit = IUnit::Month;
                let val2 = if text.starts_with('-') { -val2 } else { val2 };
                val = val
                    .checked_mul(12)
                    .and_then(|v| v.checked_add(val2))
                    .ok_or(DtErr::FieldOverflow)?;
                fval = 0.0;
            } else if rest.starts_with('.') {
                let fr = parse_fraction(rest)?;
                fval = if text.starts_with('-') { -fr } else { fr };
            } else if rest.is_empty() {
                fval = 0.0;
            } else {
                return Err(DtErr::BadFormat);
            }
            if rest.len() == text.len() || (text.len() == 1 && (text == "-" || text == "+")) {
                // No digits at all (e.g. ".5" handled by fraction above).
                if !rest.starts_with('.') {
                    return Err(DtErr::BadFormat);
                }
            }
            match unit {
                IUnit::Micro => {
                    adjust_micros(val, fval, 1, &mut itm)?;
                    tmask = m(MICROSECOND);
                }
                IUnit::Milli => {
                    adjust_micros(val, fval, 1000, &mut itm)?;
                    tmask = m(MILLISECOND);
                }
                IUnit::Second => {
                    adjust_micros(val, fval, USECS_PER_SEC, &mut itm)?;
                    tmask = if fval == 0.0 { m(SECOND) } else { ALL_SECS_M };
                }
                IUnit::Minute => {
                    adjust_micros(val, fval, USECS_PER_MINUTE, &mut itm)?;
                    tmask = m(MINUTE);
                }
                IUnit::Hour => {
                    adjust_micros(val, fval, USECS_PER_HOUR, &mut itm)?;
                    tmask = m(HOUR);
                }
                IUnit::Day => {
                    adjust_days(val, 1, &mut itm)?;
                    adjust_fract_micros(fval, USECS_PER_DAY, &mut itm)?;
                    tmask = m(DAY);
                }
                IUnit::Week => {
                    adjust_days(val, 7, &mut itm)?;
                    adjust_fract_days(fval, 7, &mut itm)?;
                    tmask = m(WEEK);
                }
                IUnit::Month => {
                    adjust_months(val, &mut itm)?;
                    adjust_fract_days(fval, 30, &mut itm)?;
                    tmask = m(MONTH);
                }
                IUnit::Year => {
                    adjust_years(val, 1, &mut itm)?;
                    adjust_fract_years(fval, 1, &mut itm)?;
                    tmask = m(YEAR);
                }
                IUnit::Decade => {
                    adjust_years(val, 10, &mut itm)?;
                    adjust_fract_years(fval, 10, &mut itm)?;
                    tmask = m(DECADE);
                }
                IUnit::Century => {
                    adjust_years(val, 100, &mut itm)?;
                    adjust_fract_years(fval, 100, &mut itm)?;
                    tmask = m(CENTURY);
                }
                IUnit::Millennium => {
                    adjust_years(val, 1000, &mut itm)?;
                    adjust_fract_years(fval, 1000, &mut itm)?;
                    tmask = m(MILLENNIUM);
                }
                IUnit::Unhandled => return Err(DtErr::BadFormat),
            }
            // The unit stays in force for numbers further left (so "1 2
            // days" repeats the unit and fails), as in PostgreSQL 15.
            ty = Some(if unit == IUnit::Hour { IUnit::Day } else { unit });
        }
        if tmask & fmask != 0 {
            return Err(DtErr::BadFormat);
        }
        fmask |= tmask;
    }
    if fmask == 0 {
        return Err(DtErr::BadFormat);
    }
    if is_before {
        itm.usec = itm.usec.checked_neg().ok_or(DtErr::FieldOverflow)?;
        itm.mday = itm.mday.checked_neg().ok_or(DtErr::FieldOverflow)?;
        itm.mon = itm.mon.checked_neg().ok_or(DtErr::FieldOverflow)?;
        itm.year = itm.year.checked_neg().ok_or(DtErr::FieldOverflow)?;
    }
    interval_from_itm(&itm)
}

/// Parses a number as `strtod` would at the start of `s` (ISO 8601 fields).
fn parse_iso_number(s: &str) -> DtResult<(i64, f64, &str)> {
    let b = s.as_bytes();
    if b.is_empty() || !(b[0].is_ascii_digit() || b[0] == b'-' || b[0] == b'.') {
        return Err(DtErr::BadFormat);
    }
    let mut i = 0;
    if b[i] == b'-' || b[i] == b'+' {
        i += 1;
    }
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut nd = i - ds;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        nd += i - fs;
    }
    if nd == 0 {
        return Err(DtErr::BadFormat);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let save = i;
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let es = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        i = if j > es { j } else { save };
    }
    let val: f64 = s[..i].parse().map_err(|_| DtErr::BadFormat)?;
    if val.is_nan() || !(-1.0e15..=1.0e15).contains(&val) {
        return Err(DtErr::FieldOverflow);
    }
    let ipart = if val >= 0.0 { val.floor() } else { -(-val).floor() } as i64;
    Ok((ipart, val - ipart as f64, &s[i..]))
}

fn iso_int_width(s: &str) -> usize {
    let s = s.strip_prefix('-').unwrap_or(s);
    s.bytes().take_while(|c| c.is_ascii_digit()).count()
}

/// PostgreSQL's `DecodeISO8601Interval`: `P1Y2M3DT4H5M6S`, `P1W`,
/// `P0001-02-03T04:05:06`.
fn decode_iso8601_interval(s: &str) -> DtResult<Interval> {
    let mut itm = ItmIn::default();
    if s.len() < 2 || !s.starts_with('P') {
        return Err(DtErr::BadFormat);
    }
    let mut str = &s[1..];
    let mut datepart = true;
    let mut havefield = false;
    while !str.is_empty() {
        if let Some(r) = str.strip_prefix('T') {
            datepart = false;
            havefield = false;
            str = r;
            continue;
        }
        let fieldstart = str;
        let (val, fval, rest) = parse_iso_number(str)?;
        let unit = rest.as_bytes().first().copied().unwrap_or(0);
        str = if rest.is_empty() { rest } else { &rest[1..] };
        if datepart {
            match unit {
                b'Y' => {
                    adjust_years(val, 1, &mut itm)?;
                    adjust_fract_years(fval, 1, &mut itm)?;
                }
                b'M' => {
                    adjust_months(val, &mut itm)?;
                    adjust_fract_days(fval, 30, &mut itm)?;
                }
                b'W' => {
                    adjust_days(val, 7, &mut itm)?;
                    adjust_fract_days(fval, 7, &mut itm)?;
                }
                b'D' => {
                    adjust_days(val, 1, &mut itm)?;
                    adjust_fract_micros(fval, USECS_PER_DAY, &mut itm)?;
                }
                b'T' | 0 | b'-' => {
                    if unit != b'-' && iso_int_width(fieldstart) == 8 && !havefield {
                        adjust_years(val / 10000, 1, &mut itm)?;
                        adjust_months((val / 100) % 100, &mut itm)?;
                        adjust_days(val % 100, 1, &mut itm)?;
                        adjust_fract_micros(fval, USECS_PER_DAY, &mut itm)?;
                        if unit == 0 {
                            return interval_from_itm(&itm);
                        }
                        datepart = false;
                        havefield = false;
                        continue;
                    }
                    if havefield {
                        return Err(DtErr::BadFormat);
                    }
                    adjust_years(val, 1, &mut itm)?;
                    adjust_fract_years(fval, 1, &mut itm)?;
                    if unit == 0 {
                        return interval_from_itm(&itm);
                    }
                    if unit == b'T' {
                        datepart = false;
                        havefield = false;
                        continue;
                    }
                    let (val, fval, rest) = parse_iso_number(str)?;
                    adjust_months(val, &mut itm)?;
                    adjust_fract_days(fval, 30, &mut itm)?;
                    str = rest;
                    if str.is_empty() {
                        return interval_from_itm(&itm);
                    }
                    if let Some(r) = str.strip_prefix('T') {
                        str = r;
                        datepart = false;
                        havefield = false;
                        continue;
                    }
                    str = str.strip_prefix('-').ok_or(DtErr::BadFormat)?;
                    let (val, fval, rest) = parse_iso_number(str)?;
                    adjust_days(val, 1, &mut itm)?;
                    adjust_fract_micros(fval, USECS_PER_DAY, &mut itm)?;
                    str = rest;
                    if str.is_empty() {
                        return interval_from_itm(&itm);
                    }
                    if let Some(r) = str.strip_prefix('T') {
                        str = r;
                        datepart = false;
                        havefield = false;
                        continue;
                    }
                    return Err(DtErr::BadFormat);
                }
                _ => return Err(DtErr::BadFormat),
            }
        } else {
            match unit {
                b'H' => adjust_micros(val, fval, USECS_PER_HOUR, &mut itm)?,
                b'M' => adjust_micros(val, fval, USECS_PER_MINUTE, &mut itm)?,
                b'S' => adjust_micros(val, fval, USECS_PER_SEC, &mut itm)?,
                0 | b':' => {
                    if unit == 0 && iso_int_width(fieldstart) == 6 && !havefield {
                        adjust_micros(val / 10000, 0.0, USECS_PER_HOUR, &mut itm)?;
                        adjust_micros((val / 100) % 100, 0.0, USECS_PER_MINUTE, &mut itm)?;
                        adjust_micros(val % 100, 0.0, USECS_PER_SEC, &mut itm)?;
                        adjust_fract_micros(fval, 1, &mut itm)?;
                        return interval_from_itm(&itm);
                    }
                    if havefield {
                        return Err(DtErr::BadFormat);
                    }
                    adjust_micros(val, fval, USECS_PER_HOUR, &mut itm)?;
                    if unit == 0 {
                        return interval_from_itm(&itm);
                    }
                    let (val, fval, rest) = parse_iso_number(str)?;
                    adjust_micros(val, fval, USECS_PER_MINUTE, &mut itm)?;
                    str = rest;
                    if str.is_empty() {
                        return interval_from_itm(&itm);
                    }
                    str = str.strip_prefix(':').ok_or(DtErr::BadFormat)?;
                    let (val, fval, rest) = parse_iso_number(str)?;
                    adjust_micros(val, fval, USECS_PER_SEC, &mut itm)?;
                    if rest.is_empty() {
                        return interval_from_itm(&itm);
                    }
                    return Err(DtErr::BadFormat);
                }
                _ => return Err(DtErr::BadFormat),
            }
        }
        havefield = true;
    }
    interval_from_itm(&itm)
}

/// Parses `interval` input in PostgreSQL's postgres format (`1 day
/// 02:03:04`, `3 hours`, `1.5 years`, `-1 days +02:00:00`, `@ 1 minute
/// ago`, `1-2`) or ISO 8601 (`P1Y2M3DT4H5M6S`).
pub fn parse_interval(input: &str) -> Result<Interval> {
    let run = || -> DtResult<Interval> {
        let r = match parse_fields(input) {
            Ok(fields) => decode_interval(&fields),
            Err(e) => Err(e),
        };
        match r {
            Err(DtErr::BadFormat) => decode_iso8601_interval(input),
            other => other,
        }
    };
    run().map_err(|e| {
        let e = match e {
            DtErr::FieldOverflow => DtErr::IntervalOverflow,
            other => other,
        };
        e.into_error(input, "interval")
    })
}

/// Whether `year` is a leap year (re-exported helper for callers that
/// format dates themselves).
pub fn leap_year(year: i64) -> bool {
    is_leap_year(year)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd(s: &str) -> String {
        let mut out = String::new();
        format_date(parse_date(s, &TimeZone::Utc).expect(s), &mut out);
        out
    }
    fn ft(s: &str) -> String {
        let mut out = String::new();
        format_time(parse_time(s, &TimeZone::Utc).expect(s), &mut out);
        out
    }
    fn fts(s: &str) -> String {
        let mut out = String::new();
        format_timestamp(parse_timestamp(s, &TimeZone::Utc).expect(s), &mut out);
        out
    }
    fn ftz(s: &str, tz: &TimeZone) -> String {
        let mut out = String::new();
        format_timestamptz(parse_timestamptz(s, tz).expect(s), tz, &mut out);
        out
    }
    fn fi(s: &str) -> String {
        let mut out = String::new();
        format_interval(&parse_interval(s).expect(s), &mut out);
        out
    }

    #[test]
    fn dates() {
        // Expected values from PostgreSQL 15 (DateStyle ISO, MDY).
        let cases = [
            ("2020-06-25", "2020-06-25"),
            ("2020-6-5", "2020-06-05"),
            ("June 25, 2020", "2020-06-25"),
            ("25 June 2020", "2020-06-25"),
            ("Jun-25-2020", "2020-06-25"),
            ("2020-Jun-25", "2020-06-25"),
            ("06/25/2020", "2020-06-25"),
            ("20200625", "2020-06-25"),
            ("2020.06.25", "2020-06-25"),
            ("0044-03-15 BC", "0044-03-15 BC"),
            ("  2020-06-25  ", "2020-06-25"),
            ("2020-06-25 12:34:56", "2020-06-25"),
            ("epoch", "1970-01-01"),
            ("infinity", "infinity"),
            ("-infinity", "-infinity"),
            ("1/8/99", "1999-01-08"),
            ("1999.008", "1999-01-08"),
            ("J2451187", "1999-01-08"),
            ("January 8, 99 BC", "0099-01-08 BC"),
            ("5874897-12-31", "5874897-12-31"),
            ("4713-11-24 BC", "4713-11-24 BC"),
            ("4714-11-24 BC", "4714-11-24 BC"),
            ("10000-01-01", "10000-01-01"),
        ];
        for (input, want) in cases {
            assert_eq!(fd(input), want, "input {input:?}");
        }
        let e = parse_date("2020-13-01", &TimeZone::Utc).expect_err("bad month");
        assert_eq!(e.message, "date/time field value out of range: \"2020-13-01\"");
        assert_eq!(e.hint.as_deref(), Some("Perhaps you need a different \"datestyle\" setting."));
        let e = parse_date("2020-02-30", &TimeZone::Utc).expect_err("bad day");
        assert_eq!(e.message, "date/time field value out of range: \"2020-02-30\"");
        assert!(e.hint.is_none());
        let e = parse_date("x", &TimeZone::Utc).expect_err("bad");
        assert_eq!(e.message, "invalid input syntax for type date: \"x\"");
        assert_eq!(e.state.code(), "22007");
        let e = parse_date("6000000-01-01", &TimeZone::Utc).expect_err("range");
        assert_eq!(e.message, "date out of range: \"6000000-01-01\"");
    }

    #[test]
    fn times() {
        let cases = [
            ("12:34:56.789", "12:34:56.789"),
            ("12:34", "12:34:00"),
            ("1:2:3", "01:02:03"),
            ("04:05 PM", "16:05:00"),
            ("12:00 AM", "00:00:00"),
            ("040506", "04:05:06"),
            ("24:00:00", "24:00:00"),
            ("allballs", "00:00:00"),
            ("12:00:00+02", "12:00:00"),
            ("2020-01-01 12:00", "12:00:00"),
            ("12:34:56.1234567", "12:34:56.123457"),
            ("T12:34:56", "12:34:56"),
        ];
        for (input, want) in cases {
            assert_eq!(ft(input), want, "input {input:?}");
        }
        assert!(parse_time("25:00", &TimeZone::Utc).is_err());
        assert!(parse_time("12:60", &TimeZone::Utc).is_err());
        let e = parse_time("x", &TimeZone::Utc).expect_err("bad");
        assert_eq!(e.message, "invalid input syntax for type time: \"x\"");
    }

    #[test]
    fn timestamps() {
        let cases = [
            ("2020-06-25 12:00:00", "2020-06-25 12:00:00"),
            ("2020-06-25T12:00:00.123456", "2020-06-25 12:00:00.123456"),
            ("2020-06-25T12:00:00.5Z", "2020-06-25 12:00:00.5"),
            ("2020-06-25 12:00:00+02", "2020-06-25 12:00:00"),
            ("2020-06-25", "2020-06-25 00:00:00"),
            ("2020-01-01 23:59:60", "2020-01-02 00:00:00"),
            ("June 25, 2020 3:04:05 PM", "2020-06-25 15:04:05"),
            ("epoch", "1970-01-01 00:00:00"),
            ("infinity", "infinity"),
            ("0044-03-15 12:00:00 BC", "0044-03-15 12:00:00 BC"),
            ("20200625 120000", "2020-06-25 12:00:00"),
            ("20200625T120000", "2020-06-25 12:00:00"),
        ];
        for (input, want) in cases {
            assert_eq!(fts(input), want, "input {input:?}");
        }
        let e = parse_timestamp("300000-01-01", &TimeZone::Utc).expect_err("range");
        assert_eq!(e.message, "timestamp out of range: \"300000-01-01\"");
        let e = parse_timestamp("x", &TimeZone::Utc).expect_err("bad");
        assert_eq!(e.message, "invalid input syntax for type timestamp: \"x\"");
    }

    #[test]
    fn timestamptzs() {
        let utc = TimeZone::Utc;
        assert_eq!(ftz("2020-06-25 12:00:00", &utc), "2020-06-25 12:00:00+00");
        assert_eq!(ftz("2020-06-25 12:00:00+02", &utc), "2020-06-25 10:00:00+00");
        assert_eq!(ftz("2020-06-25 12:00:00+02:00", &utc), "2020-06-25 10:00:00+00");
        assert_eq!(ftz("2020-06-25 12:00:00 -0530", &utc), "2020-06-25 17:30:00+00");
        assert_eq!(ftz("2020-06-25T12:00:00Z", &utc), "2020-06-25 12:00:00+00");
        assert_eq!(ftz("2020-06-25 12:00:00 UTC", &utc), "2020-06-25 12:00:00+00");
        assert_eq!(ftz("2020-06-25 12:00:00 EST", &utc), "2020-06-25 17:00:00+00");
        assert_eq!(ftz("2020-06-25 12:00:00 PDT", &utc), "2020-06-25 19:00:00+00");
        let ist = TimeZone::Fixed(19800);
        assert_eq!(ftz("2020-06-25 12:00:00", &ist), "2020-06-25 12:00:00+05:30");
        assert_eq!(ftz("2020-06-25 12:00:00+00", &ist), "2020-06-25 17:30:00+05:30");
        let odd = TimeZone::Fixed(-(19 * 60 + 32));
        assert_eq!(ftz("2020-06-25 12:00:00", &odd), "2020-06-25 12:00:00-00:19:32");
        assert_eq!(ftz("0044-03-15 12:00:00+00 BC", &utc), "0044-03-15 12:00:00+00 BC");
        let e = parse_timestamptz("2020-01-01 +16", &utc).expect_err("disp");
        assert_eq!(e.message, "time zone displacement out of range: \"2020-01-01 +16\"");
        let e = parse_timestamptz("2020-01-01 12:00 Foo/Bar", &utc).expect_err("zone");
        assert_eq!(e.message, "time zone \"foo/bar\" not recognized");
        assert_eq!(e.state.code(), "22023");
    }

    #[test]
    fn intervals() {
        let cases = [
            ("1 day 02:03:04", "1 day 02:03:04"),
            ("3 hours", "03:00:00"),
            ("1 year 2 months", "1 year 2 mons"),
            ("-1 days", "-1 days"),
            ("1.5 hours", "01:30:00"),
            ("@ 1 minute ago", "-00:01:00"),
            ("1 year 2 mons 3 days 04:05:06.5", "1 year 2 mons 3 days 04:05:06.5"),
            ("-1 days 2 hours", "-1 days +02:00:00"),
            ("-1 days -02:00:00", "-1 days -02:00:00"),
            ("1.5 years", "1 year 6 mons"),
            ("1.5 months", "1 mon 15 days"),
            ("1day", "1 day"),
            ("10", "00:00:10"),
            ("1-2", "1 year 2 mons"),
            ("3 4:05:06", "3 days 04:05:06"),
            ("P1Y2M3DT4H5M6S", "1 year 2 mons 3 days 04:05:06"),
            ("PT1.5S", "00:00:01.5"),
            ("P1W", "7 days"),
            ("P0001-02-03T04:05:06", "1 year 2 mons 3 days 04:05:06"),
            ("0", "00:00:00"),
            ("-00:00:01", "-00:00:01"),
            ("2 weeks", "14 days"),
            ("1 millennium 2 centuries 3 decades", "1230 years"),
            ("100 microseconds", "00:00:00.0001"),
            ("1.5 ms", "00:00:00.0015"),
            ("1 mon -1 day", "1 mon -1 days"),
            ("-1 year -2 mons +3 days", "-1 years -2 mons +3 days"),
            ("12 mons", "1 year"),
            ("25 hours", "25:00:00"),
        ];
        for (input, want) in cases {
            assert_eq!(fi(input), want, "input {input:?}");
        }
        let e = parse_interval("x").expect_err("bad");
        assert_eq!(e.message, "invalid input syntax for type interval: \"x\"");
        let e = parse_interval("1 year 2 years").expect_err("dup");
        assert_eq!(e.message, "invalid input syntax for type interval: \"1 year 2 years\"");
        let e = parse_interval("2147483648 days").expect_err("overflow");
        assert_eq!(e.message, "interval field value out of range: \"2147483648 days\"");
    }
}
