//! Date/time values in PostgreSQL's representation: microseconds (or days)
//! counted from the PostgreSQL epoch, 2000-01-01 00:00:00 UTC. This is the
//! binary wire format too, and it leaves room for PostgreSQL's full range
//! and for `infinity`.
//!
//! Besides the value types this module holds the calendar arithmetic the
//! expression evaluator needs: conversions between day numbers and
//! year/month/day, `date + int`, `timestamp + interval` (with PostgreSQL's
//! end-of-month clamping), `timestamp - timestamp`, interval arithmetic and
//! the `justify_*` family, `extract`/`date_part`, `date_trunc`, `age` and
//! `now()`. The algorithms follow PostgreSQL 15's
//! `src/backend/utils/adt/{date,timestamp,datetime}.c`; the calendar is the
//! proleptic Gregorian one with year 0 standing for 1 BC, as in PostgreSQL.
//!
//! Text input and output of these types lives in [`crate::datetime_io`].

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use crate::numeric::Numeric;

use crate::io::TimeZone;
use crate::{Error, Result, SqlState};

/// Microseconds in a day.
pub const USECS_PER_DAY: i64 = 86_400_000_000;
/// Microseconds in an hour.
pub const USECS_PER_HOUR: i64 = 3_600_000_000;
/// Microseconds in a minute.
pub const USECS_PER_MINUTE: i64 = 60_000_000;
/// Microseconds in a second.
pub const USECS_PER_SEC: i64 = 1_000_000;
/// Seconds in a day.
pub const SECS_PER_DAY: i64 = 86_400;
/// Julian day number of 2000-01-01, the PostgreSQL epoch.
pub const POSTGRES_EPOCH_JDATE: i64 = 2_451_545;
/// Julian day number of 1970-01-01, the Unix epoch.
pub const UNIX_EPOCH_JDATE: i64 = 2_440_588;
/// First Julian day past the last valid date (5874898-01-01).
pub const DATE_END_JULIAN: i64 = 2_147_483_494;
/// First Julian day past the last valid timestamp (294277-01-01).
pub const TIMESTAMP_END_JULIAN: i64 = 109_203_528;
/// Smallest valid timestamp: 4714-11-24 00:00:00 BC.
pub const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
/// First timestamp past the valid range: 294277-01-01 00:00:00.
pub const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;

/// A calendar date: days since 2000-01-01. `i32::MIN`/`i32::MAX` are
/// `-infinity`/`infinity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub i32);

/// A time of day without zone: microseconds since midnight, `0..=86_400_000_000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time(pub i64);

/// A timestamp without time zone: microseconds since 2000-01-01 00:00:00.
/// `i64::MIN`/`i64::MAX` are `-infinity`/`infinity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

/// A timestamp with time zone: microseconds since 2000-01-01 00:00:00 UTC.
/// Displayed in the session's TimeZone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimestampTz(pub i64);

/// An interval with PostgreSQL's three fields, kept separately because a
/// month and a day have no fixed length.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interval {
    /// Months (a year is 12 months).
    pub months: i32,
    /// Days, independent of months (a day is not always 24 hours across
    /// DST changes, so PostgreSQL keeps it separate).
    pub days: i32,
    /// Microseconds of time.
    pub micros: i64,
}

impl Interval {
    /// The interval's length with a month as 30 days and a day as 24 hours,
    /// which is how PostgreSQL compares and groups intervals.
    pub fn normalized_micros(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * USECS_PER_DAY as i128 + self.micros as i128
    }
}

impl PartialEq for Interval {
    fn eq(&self, other: &Self) -> bool {
        self.normalized_micros() == other.normalized_micros()
    }
}
impl Eq for Interval {}
impl PartialOrd for Interval {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Interval {
    fn cmp(&self, other: &Self) -> Ordering {
        self.normalized_micros().cmp(&other.normalized_micros())
    }
}
impl Hash for Interval {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalized_micros().hash(state)
    }
}

// ---------------------------------------------------------------------------
// Errors

/// 22008 `date out of range`.
pub fn date_out_of_range() -> Error {
    Error::new(SqlState::DatetimeFieldOverflow, "date out of range")
}

/// 22008 `timestamp out of range`.
pub fn timestamp_out_of_range() -> Error {
    Error::new(SqlState::DatetimeFieldOverflow, "timestamp out of range")
}

/// 22008 `interval out of range`.
pub fn interval_out_of_range() -> Error {
    Error::new(SqlState::DatetimeFieldOverflow, "interval out of range")
}

// ---------------------------------------------------------------------------
// Calendar

/// Whether `year` (astronomical numbering, 0 = 1 BC) is a Gregorian leap year.
pub fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days in `month` (1-12) of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if month == 2 && is_leap_year(year) {
        29
    } else {
        DAYS[(month.clamp(1, 12) - 1) as usize]
    }
}

/// Days since 2000-01-01 of the proleptic Gregorian date `year-month-day`.
/// Valid for any year that fits in i64/400; no range check.
/// Algorithm: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms".
pub fn days_from_ymd(year: i64, month: u32, day: u32) -> i64 {
    // Computed in i128 and saturated: callers reject out-of-range results,
    // and absurd years from user input must not overflow.
    let y = if month <= 2 { year as i128 - 1 } else { year as i128 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i128;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day as i128 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468 - 10_957;
    days.clamp(i64::MIN as i128 / 4, i64::MAX as i128 / 4) as i64
}

/// The proleptic Gregorian `(year, month, day)` of a day count since
/// 2000-01-01 (inverse of [`days_from_ymd`]).
pub fn ymd_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// PostgreSQL's `date2j`: the Julian day number of a date.
pub fn date2j(year: i64, month: u32, day: u32) -> i64 {
    days_from_ymd(year, month, day) + POSTGRES_EPOCH_JDATE
}

/// PostgreSQL's `j2date`: the date of a Julian day number.
pub fn j2date(julian: i64) -> (i64, u32, u32) {
    ymd_from_days(julian - POSTGRES_EPOCH_JDATE)
}

/// Day of week of a Julian day, 0 = Sunday (PostgreSQL's `j2day`).
pub fn j2day(julian: i64) -> i64 {
    (julian + 1).rem_euclid(7)
}

/// ISO 8601 week number of a date (PostgreSQL's `date2isoweek`).
pub fn date2isoweek(year: i64, month: u32, day: u32) -> i64 {
    let dayn = date2j(year, month, day);
    // Julian day of the first ISO week's Thursday's week start.
    let mut day4 = date2j(year, 1, 4);
    let mut day0 = j2day(day4 - 1);
    if dayn < day4 - day0 {
        day4 = date2j(year - 1, 1, 4);
        day0 = j2day(day4 - 1);
    }
    let mut result = (dayn - (day4 - day0)) / 7 + 1;
    if result >= 52 {
        let day4n = date2j(year + 1, 1, 4);
        let day0n = j2day(day4n - 1);
        if dayn >= day4n - day0n {
            result = (dayn - (day4n - day0n)) / 7 + 1;
        }
    }
    result
}

/// ISO 8601 week-numbering year of a date (PostgreSQL's `date2isoyear`).
pub fn date2isoyear(year: i64, month: u32, day: u32) -> i64 {
    let dayn = date2j(year, month, day);
    let mut year = year;
    let mut day4 = date2j(year, 1, 4);
    let mut day0 = j2day(day4 - 1);
    if dayn < day4 - day0 {
        day4 = date2j(year - 1, 1, 4);
        day0 = j2day(day4 - 1);
        year -= 1;
    }
    let result = (dayn - (day4 - day0)) / 7 + 1;
    if result >= 52 {
        let day4n = date2j(year + 1, 1, 4);
        let day0n = j2day(day4n - 1);
        if dayn >= day4n - day0n {
            year += 1;
        }
    }
    year
}

/// The Julian day of the Monday starting ISO week 1 of ISO year `year`.
fn isoweek1_j(year: i64) -> i64 {
    let day4 = date2j(year, 1, 4);
    let day0 = j2day(day4 - 1);
    day4 - day0
}

/// Whether a Julian day is within PostgreSQL's date range.
fn julian_date_valid(julian: i64) -> bool {
    (0..DATE_END_JULIAN).contains(&julian)
}

/// Broken-down date and time fields (`struct pg_tm` without the zone).
/// `year` uses astronomical numbering: 0 is 1 BC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DateTimeFields {
    /// Year, astronomical numbering (0 = 1 BC, -1 = 2 BC).
    pub year: i64,
    /// Month, 1-12.
    pub month: u32,
    /// Day of month, 1-31.
    pub day: u32,
    /// Hour, 0-23 (24 only for `time '24:00'`).
    pub hour: u32,
    /// Minute, 0-59.
    pub minute: u32,
    /// Second, 0-59.
    pub second: u32,
    /// Fractional second in microseconds, 0-999999.
    pub micros: u32,
}

impl DateTimeFields {
    /// Microseconds since midnight of the time-of-day fields.
    pub fn time_micros(&self) -> i64 {
        ((self.hour as i64 * 60 + self.minute as i64) * 60 + self.second as i64) * USECS_PER_SEC
            + self.micros as i64
    }
}

/// Splits a time of day in microseconds into (hour, minute, second, micros).
pub fn split_time(micros: i64) -> (u32, u32, u32, u32) {
    let hour = micros / USECS_PER_HOUR;
    let rest = micros - hour * USECS_PER_HOUR;
    let minute = rest / USECS_PER_MINUTE;
    let rest = rest - minute * USECS_PER_MINUTE;
    let second = rest / USECS_PER_SEC;
    let frac = rest - second * USECS_PER_SEC;
    (hour as u32, minute as u32, second as u32, frac as u32)
}

// ---------------------------------------------------------------------------
// Date

impl Date {
    /// `-infinity`.
    pub const NEG_INFINITY: Date = Date(i32::MIN);
    /// `infinity`.
    pub const INFINITY: Date = Date(i32::MAX);

    /// Whether the date is neither `infinity` nor `-infinity`.
    pub fn is_finite(self) -> bool {
        self != Date::INFINITY && self != Date::NEG_INFINITY
    }

    /// The date `year-month-day` (astronomical year); 22008 if the fields
    /// are not a real date or it lies outside PostgreSQL's date range.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Result<Date> {
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(Error::new(
                SqlState::DatetimeFieldOverflow,
                "date field value out of range",
            ));
        }
        if year.abs() > 10_000_000 {
            return Err(date_out_of_range());
        }
        Date::from_julian(date2j(year, month, day))
    }

    /// The date whose Julian day number is `julian`; 22008 when out of range.
    pub fn from_julian(julian: i64) -> Result<Date> {
        if !julian_date_valid(julian) {
            return Err(date_out_of_range());
        }
        Ok(Date((julian - POSTGRES_EPOCH_JDATE) as i32))
    }

    /// The Julian day number of a finite date.
    pub fn julian(self) -> i64 {
        self.0 as i64 + POSTGRES_EPOCH_JDATE
    }

    /// `(year, month, day)` of a finite date (astronomical year numbering).
    pub fn to_ymd(self) -> (i64, u32, u32) {
        ymd_from_days(self.0 as i64)
    }

    /// The equivalent chrono date; `None` for infinities or dates outside
    /// chrono's range.
    pub fn to_naive_date(self) -> Option<chrono::NaiveDate> {
        if !self.is_finite() {
            return None;
        }
        let (y, m, d) = self.to_ymd();
        chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
    }

    /// The date of a chrono date; 22008 outside PostgreSQL's range.
    pub fn from_naive_date(date: chrono::NaiveDate) -> Result<Date> {
        use chrono::Datelike;
        Date::from_ymd(date.year() as i64, date.month(), date.day())
    }

    /// `date + integer` (also `date - integer` with a negated count).
    /// Infinite dates are returned unchanged.
    pub fn add_days(self, days: i64) -> Result<Date> {
        if !self.is_finite() {
            return Ok(self);
        }
        let julian = self.julian().checked_add(days).ok_or_else(date_out_of_range)?;
        Date::from_julian(julian)
    }

    /// `date - date`: the number of days between two finite dates.
    pub fn days_between(self, other: Date) -> Result<i32> {
        if !self.is_finite() || !other.is_finite() {
            return Err(Error::new(
                SqlState::DatetimeFieldOverflow,
                "cannot subtract infinite dates",
            ));
        }
        Ok(self.0 - other.0)
    }

    /// The timestamp at midnight of this date (PostgreSQL's
    /// `date2timestamp`); 22008 `date out of range for timestamp`.
    pub fn to_timestamp(self) -> Result<Timestamp> {
        if self == Date::INFINITY {
            return Ok(Timestamp::INFINITY);
        }
        if self == Date::NEG_INFINITY {
            return Ok(Timestamp::NEG_INFINITY);
        }
        if self.julian() >= TIMESTAMP_END_JULIAN {
            return Err(Error::new(
                SqlState::DatetimeFieldOverflow,
                "date out of range for timestamp",
            ));
        }
        Ok(Timestamp(self.0 as i64 * USECS_PER_DAY))
    }

    /// The timestamptz at local midnight of this date in zone `tz`.
    pub fn to_timestamptz(self, tz: &TimeZone) -> Result<TimestampTz> {
        let ts = self.to_timestamp()?;
        if !ts.is_finite() {
            return Ok(TimestampTz(ts.0));
        }
        let utc = ts.0 - tz.offset_at_local(ts.0) as i64 * USECS_PER_SEC;
        if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&utc) {
            return Err(Error::new(
                SqlState::DatetimeFieldOverflow,
                "date out of range for timestamp",
            ));
        }
        Ok(TimestampTz(utc))
    }

    /// `date + interval` (and `date - interval` with a negated interval):
    /// a timestamp, as in PostgreSQL.
    pub fn add_interval(self, span: &Interval) -> Result<Timestamp> {
        self.to_timestamp()?.add_interval(span)
    }

    /// `date + time`: the timestamp of that time on this date.
    pub fn add_time(self, time: Time) -> Result<Timestamp> {
        let ts = self.to_timestamp()?;
        if !ts.is_finite() {
            return Ok(ts);
        }
        let v = ts.0 + time.0;
        if v >= END_TIMESTAMP {
            return Err(timestamp_out_of_range());
        }
        Ok(Timestamp(v))
    }
}

// ---------------------------------------------------------------------------
// Time

impl Time {
    /// The time `hour:minute:second.micros`; 22008 if out of range
    /// (24:00:00 is allowed, as in PostgreSQL).
    pub fn from_hms_micro(hour: u32, minute: u32, second: u32, micros: u32) -> Result<Time> {
        let v = ((hour as i64 * 60 + minute as i64) * 60 + second as i64) * USECS_PER_SEC
            + micros as i64;
        if minute > 59 || second > 60 || micros > 999_999 || !(0..=USECS_PER_DAY).contains(&v) {
            return Err(Error::new(
                SqlState::DatetimeFieldOverflow,
                "time field value out of range",
            ));
        }
        Ok(Time(v))
    }

    /// `(hour, minute, second, micros)`.
    pub fn to_hms_micro(self) -> (u32, u32, u32, u32) {
        split_time(self.0)
    }

    /// `time + interval`: only the interval's time part counts and the
    /// result wraps around midnight (PostgreSQL's `time_pl_interval`).
    pub fn add_interval(self, span: &Interval) -> Time {
        let r = (self.0 as i128 + span.micros as i128).rem_euclid(USECS_PER_DAY as i128);
        Time(r as i64)
    }

    /// `time - time`: an interval of the difference.
    pub fn sub_time(self, other: Time) -> Interval {
        Interval { months: 0, days: 0, micros: self.0 - other.0 }
    }
}

// ---------------------------------------------------------------------------
// Timestamp

/// Splits a finite timestamp value into fields; `None` if out of the range
/// the calendar routines handle.
pub fn timestamp_to_fields(ts: i64) -> Option<DateTimeFields> {
    let date = ts.div_euclid(USECS_PER_DAY);
    let time = ts.rem_euclid(USECS_PER_DAY);
    let julian = date + POSTGRES_EPOCH_JDATE;
    if julian < 0 || julian > i32::MAX as i64 {
        return None;
    }
    let (year, month, day) = j2date(julian);
    let (hour, minute, second, micros) = split_time(time);
    Some(DateTimeFields { year, month, day, hour, minute, second, micros })
}

/// Combines fields into a timestamp value (PostgreSQL's `tm2timestamp`),
/// checking the range; the seconds may be 60 and roll over.
pub fn fields_to_timestamp(f: &DateTimeFields) -> Result<i64> {
    // IS_VALID_JULIAN
    let valid_julian = (f.year > -4713 || (f.year == -4713 && f.month >= 11))
        && (f.year < 5_874_898 || (f.year == 5_874_898 && f.month < 6));
    if !valid_julian {
        return Err(timestamp_out_of_range());
    }
    let date = date2j(f.year, f.month, f.day) - POSTGRES_EPOCH_JDATE;
    let v = date as i128 * USECS_PER_DAY as i128 + f.time_micros() as i128;
    if v < MIN_TIMESTAMP as i128 || v >= END_TIMESTAMP as i128 {
        return Err(timestamp_out_of_range());
    }
    Ok(v as i64)
}

/// Adds an interval to a finite timestamp value interpreted as local time:
/// months first (clamping the day of month), then days, then microseconds.
fn add_interval_local(ts: i64, span: &Interval) -> Result<i64> {
    let mut ts = ts;
    if span.months != 0 {
        let mut f = timestamp_to_fields(ts).ok_or_else(timestamp_out_of_range)?;
        let total = f.year * 12 + (f.month as i64 - 1) + span.months as i64;
        f.year = total.div_euclid(12);
        f.month = (total.rem_euclid(12) + 1) as u32;
        let dim = days_in_month(f.year, f.month);
        if f.day > dim {
            f.day = dim;
        }
        ts = fields_to_timestamp(&f)?;
    }
    if span.days != 0 {
        let mut f = timestamp_to_fields(ts).ok_or_else(timestamp_out_of_range)?;
        let julian = date2j(f.year, f.month, f.day) + span.days as i64;
        let (y, m, d) = j2date(julian);
        f.year = y;
        f.month = m;
        f.day = d;
        ts = fields_to_timestamp(&f)?;
    }
    let v = ts.checked_add(span.micros).ok_or_else(timestamp_out_of_range)?;
    if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&v) {
        return Err(timestamp_out_of_range());
    }
    Ok(v)
}

/// PostgreSQL's symbolic difference of two local timestamps (`age`).
fn age_local(t1: i64, t2: i64) -> Result<Interval> {
    let f1 = timestamp_to_fields(t1).ok_or_else(timestamp_out_of_range)?;
    let f2 = timestamp_to_fields(t2).ok_or_else(timestamp_out_of_range)?;
    let mut fsec = f1.micros as i64 - f2.micros as i64;
    let mut sec = f1.second as i64 - f2.second as i64;
    let mut min = f1.minute as i64 - f2.minute as i64;
    let mut hour = f1.hour as i64 - f2.hour as i64;
    let mut mday = f1.day as i64 - f2.day as i64;
    let mut mon = f1.month as i64 - f2.month as i64;
    let mut year = f1.year - f2.year;
    let flip = t1 < t2;
    if flip {
        fsec = -fsec;
        sec = -sec;
        min = -min;
        hour = -hour;
        mday = -mday;
        mon = -mon;
        year = -year;
    }
    while fsec < 0 {
        fsec += USECS_PER_SEC;
        sec -= 1;
    }
    while sec < 0 {
        sec += 60;
        min -= 1;
    }
    while min < 0 {
        min += 60;
        hour -= 1;
    }
    while hour < 0 {
        hour += 24;
        mday -= 1;
    }
    while mday < 0 {
        let (y, m) = if flip { (f1.year, f1.month) } else { (f2.year, f2.month) };
        mday += days_in_month(y, m) as i64;
        mon -= 1;
    }
    while mon < 0 {
        mon += 12;
        year -= 1;
    }
    if flip {
        fsec = -fsec;
        sec = -sec;
        min = -min;
        hour = -hour;
        mday = -mday;
        mon = -mon;
        year = -year;
    }
    let months = year * 12 + mon;
    let micros = ((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + fsec;
    Ok(Interval {
        months: i32::try_from(months).map_err(|_| interval_out_of_range())?,
        days: i32::try_from(mday).map_err(|_| interval_out_of_range())?,
        micros,
    })
}

impl Timestamp {
    /// `-infinity`.
    pub const NEG_INFINITY: Timestamp = Timestamp(i64::MIN);
    /// `infinity`.
    pub const INFINITY: Timestamp = Timestamp(i64::MAX);

    /// Whether the timestamp is neither `infinity` nor `-infinity`.
    pub fn is_finite(self) -> bool {
        self.0 != i64::MIN && self.0 != i64::MAX
    }

    /// The timestamp of the given fields; 22008 when out of range.
    pub fn from_fields(f: &DateTimeFields) -> Result<Timestamp> {
        fields_to_timestamp(f).map(Timestamp)
    }

    /// Broken-down fields; `None` for infinities.
    pub fn to_fields(self) -> Option<DateTimeFields> {
        if !self.is_finite() {
            return None;
        }
        timestamp_to_fields(self.0)
    }

    /// The date part (PostgreSQL's `timestamp::date`).
    pub fn to_date(self) -> Result<Date> {
        if self == Timestamp::INFINITY {
            return Ok(Date::INFINITY);
        }
        if self == Timestamp::NEG_INFINITY {
            return Ok(Date::NEG_INFINITY);
        }
        Date::from_julian(self.0.div_euclid(USECS_PER_DAY) + POSTGRES_EPOCH_JDATE)
    }

    /// The time-of-day part (`timestamp::time`); 22008 for infinities.
    pub fn to_time(self) -> Result<Time> {
        if !self.is_finite() {
            return Err(timestamp_out_of_range());
        }
        Ok(Time(self.0.rem_euclid(USECS_PER_DAY)))
    }

    /// The instant this local time denotes in zone `tz`
    /// (`timestamp::timestamptz`).
    pub fn to_timestamptz(self, tz: &TimeZone) -> Result<TimestampTz> {
        if !self.is_finite() {
            return Ok(TimestampTz(self.0));
        }
        let v = self.0 - tz.offset_at_local(self.0) as i64 * USECS_PER_SEC;
        if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&v) {
            return Err(timestamp_out_of_range());
        }
        Ok(TimestampTz(v))
    }

    /// The chrono equivalent; `None` for infinities or out of chrono's range.
    pub fn to_naive_date_time(self) -> Option<chrono::NaiveDateTime> {
        let f = self.to_fields()?;
        let d = chrono::NaiveDate::from_ymd_opt(i32::try_from(f.year).ok()?, f.month, f.day)?;
        d.and_hms_micro_opt(f.hour, f.minute, f.second, f.micros)
    }

    /// The timestamp of a chrono date-time; 22008 outside PostgreSQL's range.
    pub fn from_naive_date_time(dt: chrono::NaiveDateTime) -> Result<Timestamp> {
        use chrono::{Datelike, Timelike};
        Timestamp::from_fields(&DateTimeFields {
            year: dt.year() as i64,
            month: dt.month(),
            day: dt.day(),
            hour: dt.hour(),
            minute: dt.minute(),
            second: dt.second().min(59),
            micros: (dt.nanosecond() / 1000).min(999_999),
        })
    }

    /// `timestamp + interval`: months (clamping the day of month, so
    /// Jan 31 + 1 month = Feb 29/28), then days, then time. Infinite
    /// timestamps are unchanged.
    pub fn add_interval(self, span: &Interval) -> Result<Timestamp> {
        if !self.is_finite() {
            return Ok(self);
        }
        add_interval_local(self.0, span).map(Timestamp)
    }

    /// `timestamp - interval`.
    pub fn sub_interval(self, span: &Interval) -> Result<Timestamp> {
        self.add_interval(&span.checked_neg()?)
    }

    /// `timestamp - timestamp`: days and time (justified by
    /// `justify_hours`), never months, as in PostgreSQL.
    pub fn sub_timestamp(self, other: Timestamp) -> Result<Interval> {
        if !self.is_finite() || !other.is_finite() {
            return Err(Error::new(
                SqlState::DatetimeFieldOverflow,
                "cannot subtract infinite timestamps",
            ));
        }
        let diff = self.0.checked_sub(other.0).ok_or_else(interval_out_of_range)?;
        Interval { months: 0, days: 0, micros: diff }.justify_hours()
    }

    /// `age(self, other)`: the symbolic difference in years, months, days
    /// and time.
    pub fn age(self, other: Timestamp) -> Result<Interval> {
        if !self.is_finite() || !other.is_finite() {
            return Err(timestamp_out_of_range());
        }
        age_local(self.0, other.0)
    }
}

// ---------------------------------------------------------------------------
// TimestampTz

impl TimestampTz {
    /// `-infinity`.
    pub const NEG_INFINITY: TimestampTz = TimestampTz(i64::MIN);
    /// `infinity`.
    pub const INFINITY: TimestampTz = TimestampTz(i64::MAX);

    /// Whether the value is neither `infinity` nor `-infinity`.
    pub fn is_finite(self) -> bool {
        self.0 != i64::MIN && self.0 != i64::MAX
    }

    /// The local time of this instant in zone `tz` (`timestamptz::timestamp`).
    pub fn to_local(self, tz: &TimeZone) -> Result<Timestamp> {
        if !self.is_finite() {
            return Ok(Timestamp(self.0));
        }
        let v = self.0 + tz.offset_at_utc(self.0) as i64 * USECS_PER_SEC;
        if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&v) {
            return Err(timestamp_out_of_range());
        }
        Ok(Timestamp(v))
    }

    /// The local date of this instant in zone `tz`.
    pub fn to_date(self, tz: &TimeZone) -> Result<Date> {
        self.to_local(tz)?.to_date()
    }

    /// The local time of day of this instant in zone `tz`.
    pub fn to_time(self, tz: &TimeZone) -> Result<Time> {
        self.to_local(tz)?.to_time()
    }

    /// `timestamptz + interval`: months and days step in local time of
    /// zone `tz`, the time part is added to the instant.
    pub fn add_interval(self, span: &Interval, tz: &TimeZone) -> Result<TimestampTz> {
        if !self.is_finite() {
            return Ok(self);
        }
        let mut v = self.0;
        if span.months != 0 || span.days != 0 {
            let local = v + tz.offset_at_utc(v) as i64 * USECS_PER_SEC;
            let moved = add_interval_local(
                local,
                &Interval { months: span.months, days: span.days, micros: 0 },
            )?;
            v = moved - tz.offset_at_local(moved) as i64 * USECS_PER_SEC;
        }
        let v = v.checked_add(span.micros).ok_or_else(timestamp_out_of_range)?;
        if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&v) {
            return Err(timestamp_out_of_range());
        }
        Ok(TimestampTz(v))
    }

    /// `timestamptz - interval`.
    pub fn sub_interval(self, span: &Interval, tz: &TimeZone) -> Result<TimestampTz> {
        self.add_interval(&span.checked_neg()?, tz)
    }

    /// `timestamptz - timestamptz` (days and time, justified by hours).
    pub fn sub_timestamptz(self, other: TimestampTz) -> Result<Interval> {
        Timestamp(self.0).sub_timestamp(Timestamp(other.0))
    }

    /// `age(self, other)` computed on local times in zone `tz`.
    pub fn age(self, other: TimestampTz, tz: &TimeZone) -> Result<Interval> {
        if !self.is_finite() || !other.is_finite() {
            return Err(timestamp_out_of_range());
        }
        let a = self.to_local(tz)?;
        let b = other.to_local(tz)?;
        let mut r = age_local(a.0, b.0)?;
        // Both local times share the zone's fixed offset, so the ordering is
        // the same as that of the instants.
        let _ = &mut r;
        Ok(r)
    }

    /// The current time from the system clock (PostgreSQL's `now()` is the
    /// transaction start; callers that need that stability cache this).
    pub fn now() -> TimestampTz {
        TimestampTz::from_system_time(std::time::SystemTime::now())
    }

    /// A system clock reading as a timestamptz.
    pub fn from_system_time(t: std::time::SystemTime) -> TimestampTz {
        let since = t
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        TimestampTz(since - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)
    }
}

/// `now()`: the current instant from the system clock.
pub fn now() -> TimestampTz {
    TimestampTz::now()
}

// ---------------------------------------------------------------------------
// Interval

/// PostgreSQL's `TSROUND`: rounds to microsecond precision in floating point.
fn tsround(v: f64) -> f64 {
    (v * 1_000_000.0).round_ties_even() / 1_000_000.0
}

fn f64_to_i32(v: f64) -> Result<i32> {
    if v.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&v) {
        return Err(interval_out_of_range());
    }
    Ok(v as i32)
}

impl Interval {
    /// An interval of the three fields.
    pub fn new(months: i32, days: i32, micros: i64) -> Interval {
        Interval { months, days, micros }
    }

    /// `interval + interval`, field by field; 22008 on overflow.
    pub fn checked_add(&self, other: &Interval) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_add(other.months).ok_or_else(interval_out_of_range)?,
            days: self.days.checked_add(other.days).ok_or_else(interval_out_of_range)?,
            micros: self.micros.checked_add(other.micros).ok_or_else(interval_out_of_range)?,
        })
    }

    /// `interval - interval`, field by field; 22008 on overflow.
    pub fn checked_sub(&self, other: &Interval) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_sub(other.months).ok_or_else(interval_out_of_range)?,
            days: self.days.checked_sub(other.days).ok_or_else(interval_out_of_range)?,
            micros: self.micros.checked_sub(other.micros).ok_or_else(interval_out_of_range)?,
        })
    }

    /// Unary minus; 22008 when a field is at its minimum.
    pub fn checked_neg(&self) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_neg().ok_or_else(interval_out_of_range)?,
            days: self.days.checked_neg().ok_or_else(interval_out_of_range)?,
            micros: self.micros.checked_neg().ok_or_else(interval_out_of_range)?,
        })
    }

    /// `interval * float8` (PostgreSQL's `interval_mul`): fractional months
    /// cascade into days and fractional days into time, never upwards.
    pub fn mul_f64(&self, factor: f64) -> Result<Interval> {
        let months = f64_to_i32(self.months as f64 * factor)?;
        let mut days = f64_to_i32(self.days as f64 * factor)?;
        let month_remainder_days = tsround((self.months as f64 * factor - months as f64) * 30.0);
        let mut sec_remainder = tsround(
            (self.days as f64 * factor - days as f64 + month_remainder_days
                - (month_remainder_days as i32) as f64)
                * SECS_PER_DAY as f64,
        );
        if sec_remainder.abs() >= SECS_PER_DAY as f64 {
            let extra = (sec_remainder / SECS_PER_DAY as f64) as i32;
            days = days.checked_add(extra).ok_or_else(interval_out_of_range)?;
            sec_remainder -= extra as f64 * SECS_PER_DAY as f64;
        }
        days = days.checked_add(month_remainder_days as i32).ok_or_else(interval_out_of_range)?;
        let t =
            (self.micros as f64 * factor + sec_remainder * USECS_PER_SEC as f64).round_ties_even();
        if t.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
            return Err(interval_out_of_range());
        }
        Ok(Interval { months, days, micros: t as i64 })
    }

    /// `interval / float8` (PostgreSQL's `interval_div`); 22012 on zero.
    pub fn div_f64(&self, factor: f64) -> Result<Interval> {
        if factor == 0.0 {
            return Err(Error::division_by_zero());
        }
        let months = f64_to_i32(self.months as f64 / factor)?;
        let mut days = f64_to_i32(self.days as f64 / factor)?;
        let month_remainder_days = tsround((self.months as f64 / factor - months as f64) * 30.0);
        let mut sec_remainder = tsround(
            (self.days as f64 / factor - days as f64 + month_remainder_days
                - (month_remainder_days as i32) as f64)
                * SECS_PER_DAY as f64,
        );
        if sec_remainder.abs() >= SECS_PER_DAY as f64 {
            let extra = (sec_remainder / SECS_PER_DAY as f64) as i32;
            days = days.checked_add(extra).ok_or_else(interval_out_of_range)?;
            sec_remainder -= extra as f64 * SECS_PER_DAY as f64;
        }
        days = days.checked_add(month_remainder_days as i32).ok_or_else(interval_out_of_range)?;
        let t =
            (self.micros as f64 / factor + sec_remainder * USECS_PER_SEC as f64).round_ties_even();
        if t.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
            return Err(interval_out_of_range());
        }
        Ok(Interval { months, days, micros: t as i64 })
    }

    /// `justify_hours`: moves whole 24-hour periods of the time into days.
    pub fn justify_hours(&self) -> Result<Interval> {
        let mut r = *self;
        let wholeday = r.micros / USECS_PER_DAY;
        r.micros -= wholeday * USECS_PER_DAY;
        r.days = i32::try_from(r.days as i64 + wholeday).map_err(|_| interval_out_of_range())?;
        if r.days > 0 && r.micros < 0 {
            r.micros += USECS_PER_DAY;
            r.days -= 1;
        } else if r.days < 0 && r.micros > 0 {
            r.micros -= USECS_PER_DAY;
            r.days += 1;
        }
        Ok(r)
    }

    /// `justify_days`: moves whole 30-day periods into months.
    pub fn justify_days(&self) -> Result<Interval> {
        let mut r = *self;
        let wholemonth = r.days / 30;
        r.days -= wholemonth * 30;
        r.months = r.months.checked_add(wholemonth).ok_or_else(interval_out_of_range)?;
        if r.months > 0 && r.days < 0 {
            r.days += 30;
            r.months -= 1;
        } else if r.months < 0 && r.days > 0 {
            r.days -= 30;
            r.months += 1;
        }
        Ok(r)
    }

    /// `justify_interval`: both of the above with consistent signs.
    pub fn justify_interval(&self) -> Result<Interval> {
        let mut r = *self;
        if (r.days > 0 && r.micros > 0) || (r.days < 0 && r.micros < 0) {
            let wholemonth = r.days / 30;
            r.days -= wholemonth * 30;
            r.months = r.months.checked_add(wholemonth).ok_or_else(interval_out_of_range)?;
        }
        let wholeday = r.micros / USECS_PER_DAY;
        r.micros -= wholeday * USECS_PER_DAY;
        r.days = i32::try_from(r.days as i64 + wholeday).map_err(|_| interval_out_of_range())?;
        let wholemonth = r.days / 30;
        r.days -= wholemonth * 30;
        r.months = r.months.checked_add(wholemonth).ok_or_else(interval_out_of_range)?;
        if r.months > 0 && (r.days < 0 || (r.days == 0 && r.micros < 0)) {
            r.days += 30;
            r.months -= 1;
        } else if r.months < 0 && (r.days > 0 || (r.days == 0 && r.micros > 0)) {
            r.days -= 30;
            r.months += 1;
        }
        if r.days > 0 && r.micros < 0 {
            r.micros += USECS_PER_DAY;
            r.days -= 1;
        } else if r.days < 0 && r.micros > 0 {
            r.micros -= USECS_PER_DAY;
            r.days += 1;
        }
        Ok(r)
    }
}

// ---------------------------------------------------------------------------
// extract / date_part / date_trunc

/// A unit name as `extract`, `date_part` and `date_trunc` understand it,
/// after PostgreSQL's `DecodeUnits`/`DecodeSpecial` lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateUnit {
    /// `microseconds`: seconds field times 1,000,000.
    Microseconds,
    /// `milliseconds`: seconds field times 1,000.
    Milliseconds,
    /// `second`, with fraction.
    Second,
    /// `minute`.
    Minute,
    /// `hour`.
    Hour,
    /// `day` of month (or the interval's days).
    Day,
    /// ISO 8601 `week` of the year.
    Week,
    /// `month`.
    Month,
    /// `quarter`, 1-4.
    Quarter,
    /// `year` (no year 0: 1 BC is -1).
    Year,
    /// `decade`: year / 10.
    Decade,
    /// `century`.
    Century,
    /// `millennium`.
    Millennium,
    /// `julian` day number.
    Julian,
    /// `dow`: day of week, Sunday = 0.
    Dow,
    /// `isodow`: day of week, Sunday = 7.
    IsoDow,
    /// `doy`: day of year, 1-366.
    Doy,
    /// `isoyear`: ISO 8601 week-numbering year.
    IsoYear,
    /// `timezone`: offset in seconds east of UTC.
    Timezone,
    /// `timezone_hour`.
    TimezoneHour,
    /// `timezone_minute`.
    TimezoneMinute,
    /// `epoch`: seconds since 1970-01-01 00:00:00 UTC.
    Epoch,
    /// A reserved word that is recognized but never a valid unit (e.g. `now`).
    OtherReserved,
}

/// Looks up a unit name (already lowercased) the way `extract` does in
/// PostgreSQL: first in the interval-unit table (`DecodeUnits`, compared on
/// the first 10 characters, so `microseconds` is recognized), then in the
/// date keyword table (`DecodeSpecial`: `dow`, `julian`, `epoch` ...).
pub fn decode_unit(name: &str) -> Option<DateUnit> {
    use DateUnit::*;
    if let Some(u) = decode_delta_unit(name) {
        return Some(u);
    }
    let key: String = name.chars().take(10).collect();
    Some(match key.as_str() {
        "d" => Day,
        "h" => Hour,
        "m" => Month,
        "mm" => Minute,
        "s" => Second,
        "y" => Year,
        "dow" => Dow,
        "doy" => Doy,
        "isodow" => IsoDow,
        "isoyear" => IsoYear,
        "j" | "jd" | "julian" => Julian,
        "epoch" => Epoch,
        "now" | "today" | "tomorrow" | "yesterday" | "infinity" | "-infinity" | "allballs" => {
            OtherReserved
        }
        _ => return None,
    })
}

/// Looks up a unit name in PostgreSQL's interval-unit table only
/// (`DecodeUnits`), as `date_trunc` does.
pub fn decode_delta_unit(name: &str) -> Option<DateUnit> {
    use DateUnit::*;
    let key: String = name.chars().take(10).collect();
    Some(match key.as_str() {
        "c" | "cent" | "centuries" | "century" => Century,
        "d" | "day" | "days" => Day,
        "dec" | "decade" | "decades" | "decs" => Decade,
        "h" | "hour" | "hours" | "hr" | "hrs" => Hour,
        "m" | "min" | "mins" | "minute" | "minutes" | "mm" => Minute,
        "microsecon" | "us" | "usec" | "usecs" | "useconds" => Microseconds,
        "mil" | "millennia" | "millennium" | "mils" => Millennium,
        "millisecon" | "ms" | "msec" | "msecs" | "mseconds" => Milliseconds,
        "mon" | "mons" | "month" | "months" => Month,
        "qtr" | "quarter" => Quarter,
        "s" | "sec" | "second" | "seconds" | "secs" => Second,
        "timezone" => Timezone,
        "timezone_h" => TimezoneHour,
        "timezone_m" => TimezoneMinute,
        "w" | "week" | "weeks" => Week,
        "y" | "year" | "years" | "yr" | "yrs" => Year,
        _ => return None,
    })
}

fn unit_not_recognized(unit: &str, type_name: &str) -> Error {
    Error::new(
        SqlState::InvalidParameterValue,
        format!("unit \"{unit}\" not recognized for type {type_name}"),
    )
}

fn unit_not_supported(unit: &str, type_name: &str) -> Error {
    Error::new(
        SqlState::FeatureNotSupported,
        format!("unit \"{unit}\" not supported for type {type_name}"),
    )
}

/// Value of a field on an infinite date/timestamp: `Some(sign)` for
/// monotonic fields (the result is ±infinity), `None` for NULL, or an
/// error for units that never apply.
fn non_finite_part(unit: DateUnit) -> Option<bool> {
    use DateUnit::*;
    matches!(unit, Epoch | Year | Decade | Century | Millennium | Julian | IsoYear).then_some(true)
}

/// A field value as PostgreSQL's `extract` computes it: a numeric, NULL, or
/// ±infinity.
#[derive(Clone, Debug, PartialEq)]
pub enum PartValue {
    /// A finite numeric result.
    Numeric(Numeric),
    /// SQL NULL (e.g. `extract(day from 'infinity'::timestamp)`).
    Null,
    /// `Infinity` (true) or `-Infinity` (false).
    Infinity(bool),
}

fn year_part(year: i64) -> i64 {
    if year > 0 {
        year
    } else {
        year - 1
    }
}

fn decade_part(year: i64) -> i64 {
    if year >= 0 {
        year / 10
    } else {
        -((8 - (year - 1)) / 10)
    }
}

fn century_part(year: i64) -> i64 {
    if year > 0 {
        (year + 99) / 100
    } else {
        -((99 - (year - 1)) / 100)
    }
}

fn millennium_part(year: i64) -> i64 {
    if year > 0 {
        (year + 999) / 1000
    } else {
        -((999 - (year - 1)) / 1000)
    }
}

/// Date-only fields shared by date and timestamp extraction.
fn date_field(unit: DateUnit, y: i64, m: u32, d: u32) -> Option<i64> {
    use DateUnit::*;
    Some(match unit {
        Day => d as i64,
        Month => m as i64,
        Quarter => (m as i64 - 1) / 3 + 1,
        Week => date2isoweek(y, m, d),
        Year => year_part(y),
        Decade => decade_part(y),
        Century => century_part(y),
        Millennium => millennium_part(y),
        IsoYear => {
            let r = date2isoyear(y, m, d);
            if r <= 0 {
                r - 1
            } else {
                r
            }
        }
        Dow => j2day(date2j(y, m, d)),
        IsoDow => {
            let r = j2day(date2j(y, m, d));
            if r == 0 {
                7
            } else {
                r
            }
        }
        Doy => date2j(y, m, d) - date2j(y, 1, 1) + 1,
        _ => return None,
    })
}

/// The numeric quotient `num / den` with PostgreSQL's division scale
/// (`select_div_scale`); `den` is nonzero.
fn pg_div_numeric(num: i64, den: i64) -> Numeric {
    Numeric::from(num).checked_div(&Numeric::from(den)).expect("nonzero divisor, small operands")
}

/// `base + frac`, keeping the fraction's scale.
fn add_int_keep_scale(base: i64, frac: Numeric) -> Numeric {
    Numeric::from(base).checked_add(&frac).expect("small operands")
}

/// `extract(field from timestamp)` computed on local fields; `tz_offset` is
/// `Some(seconds east)` for timestamptz.
fn extract_ts_common(
    unit_name: &str,
    ts: i64,
    tz_offset: Option<i32>,
    type_name: &str,
) -> Result<PartValue> {
    use DateUnit::*;
    let lower = unit_name.to_lowercase();
    let unit = decode_unit(&lower).ok_or_else(|| unit_not_recognized(&lower, type_name))?;
    if ts == i64::MIN || ts == i64::MAX {
        let positive = ts == i64::MAX;
        return match unit {
            Epoch | Year | Decade | Century | Millennium | Julian | IsoYear => {
                Ok(PartValue::Infinity(positive))
            }
            Microseconds | Milliseconds | Second | Minute | Hour | Day | Month | Quarter | Week
            | Dow | IsoDow | Doy | Timezone | TimezoneHour | TimezoneMinute => Ok(PartValue::Null),
            _ => Err(unit_not_supported(&lower, type_name)),
        };
    }
    if unit == Epoch {
        // Epoch is measured on the UTC instant for timestamptz and on the
        // local value for timestamp: both are `ts` here.
        let epoch = (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
        let v = ts as i128 + epoch as i128;
        return Ok(match i64::try_from(v) {
            Ok(v) => PartValue::Numeric(Numeric::new(v, 6)),
            Err(_) => PartValue::Numeric(Numeric::from_i128_with_scale(v, 6)),
        });
    }
    let local = ts + tz_offset.unwrap_or(0) as i64 * USECS_PER_SEC;
    let f = timestamp_to_fields(local).ok_or_else(timestamp_out_of_range)?;
    let secs_us = f.second as i64 * USECS_PER_SEC + f.micros as i64;
    let int = match unit {
        Microseconds => secs_us,
        Milliseconds => return Ok(PartValue::Numeric(Numeric::new(secs_us, 3))),
        Second => return Ok(PartValue::Numeric(Numeric::new(secs_us, 6))),
        Minute => f.minute as i64,
        Hour => f.hour as i64,
        Julian => {
            let j = date2j(f.year, f.month, f.day);
            let frac = pg_div_numeric(f.time_micros(), USECS_PER_DAY);
            return Ok(PartValue::Numeric(add_int_keep_scale(j, frac)));
        }
        Timezone | TimezoneHour | TimezoneMinute => match tz_offset {
            None => return Err(unit_not_supported(&lower, type_name)),
            Some(off) => {
                let off = off as i64;
                match unit {
                    Timezone => off,
                    TimezoneHour => off / 3600,
                    _ => (off / 60) % 60,
                }
            }
        },
        OtherReserved => return Err(unit_not_supported(&lower, type_name)),
        other => date_field(other, f.year, f.month, f.day)
            .ok_or_else(|| unit_not_supported(&lower, type_name))?,
    };
    Ok(PartValue::Numeric(Numeric::from(int)))
}

/// `extract(field from timestamp)`, returning numeric as PostgreSQL 14+.
/// 22023 for unknown units, 0A000 for units that do not apply.
pub fn extract_timestamp(field: &str, ts: Timestamp) -> Result<PartValue> {
    extract_ts_common(field, ts.0, None, "timestamp without time zone")
}

/// `extract(field from timestamptz)`: fields of the local time in `tz`;
/// `epoch` is zone-independent; `timezone*` report the zone's offset.
pub fn extract_timestamptz(field: &str, ts: TimestampTz, tz: &TimeZone) -> Result<PartValue> {
    extract_ts_common(field, ts.0, Some(tz.offset_at_utc(ts.0)), "timestamp with time zone")
}

/// `extract(field from date)` (PostgreSQL 14+ semantics).
pub fn extract_date(field: &str, date: Date) -> Result<PartValue> {
    use DateUnit::*;
    let lower = field.to_lowercase();
    let unit = decode_unit(&lower).ok_or_else(|| unit_not_recognized(&lower, "date"))?;
    if !date.is_finite() {
        let positive = date == Date::INFINITY;
        return match unit {
            Epoch | Year | Decade | Century | Millennium | Julian | IsoYear => {
                Ok(PartValue::Infinity(positive))
            }
            Day | Month | Quarter | Week | Dow | IsoDow | Doy => Ok(PartValue::Null),
            _ => Err(unit_not_supported(&lower, "date")),
        };
    }
    let _ = non_finite_part;
    let (y, m, d) = date.to_ymd();
    let v = match unit {
        Epoch => (date.0 as i64 + POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY,
        Julian => date.julian(),
        other => date_field(other, y, m, d).ok_or_else(|| unit_not_supported(&lower, "date"))?,
    };
    Ok(PartValue::Numeric(Numeric::from(v)))
}

/// `extract(field from time)`.
pub fn extract_time(field: &str, time: Time) -> Result<PartValue> {
    use DateUnit::*;
    let name = "time without time zone";
    let lower = field.to_lowercase();
    let unit = decode_unit(&lower)
        .filter(|u| *u != DateUnit::OtherReserved)
        .ok_or_else(|| unit_not_recognized(&lower, name))?;
    let (h, m, s, us) = time.to_hms_micro();
    let secs_us = s as i64 * USECS_PER_SEC + us as i64;
    Ok(PartValue::Numeric(match unit {
        Microseconds => Numeric::from(secs_us),
        Milliseconds => Numeric::new(secs_us, 3),
        Second => Numeric::new(secs_us, 6),
        Minute => Numeric::from(m),
        Hour => Numeric::from(h),
        Epoch => Numeric::new(time.0, 6),
        _ => return Err(unit_not_supported(&lower, name)),
    }))
}

/// Interval fields as PostgreSQL's `interval2itm` splits them (C
/// truncating division, so every field carries the sign of its source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntervalFields {
    /// Whole years of the months field.
    pub years: i64,
    /// Remaining months, -11..=11.
    pub months: i64,
    /// The days field.
    pub days: i64,
    /// Whole hours of the time field (unbounded).
    pub hours: i64,
    /// Remaining minutes, -59..=59.
    pub minutes: i64,
    /// Remaining seconds, -59..=59.
    pub seconds: i64,
    /// Remaining microseconds, -999999..=999999.
    pub micros: i64,
}

impl Interval {
    /// Splits into years, months, days, hours, minutes, seconds, micros.
    pub fn to_fields(&self) -> IntervalFields {
        let t = self.micros;
        IntervalFields {
            years: self.months as i64 / 12,
            months: self.months as i64 % 12,
            days: self.days as i64,
            hours: t / USECS_PER_HOUR,
            minutes: (t / USECS_PER_MINUTE) % 60,
            seconds: (t / USECS_PER_SEC) % 60,
            micros: t % USECS_PER_SEC,
        }
    }
}

/// `extract(field from interval)`.
pub fn extract_interval(field: &str, iv: &Interval) -> Result<PartValue> {
    use DateUnit::*;
    let lower = field.to_lowercase();
    let unit = decode_unit(&lower)
        .filter(|u| *u != DateUnit::OtherReserved)
        .ok_or_else(|| unit_not_recognized(&lower, "interval"))?;
    let f = iv.to_fields();
    let secs_us = f.seconds * USECS_PER_SEC + f.micros;
    Ok(PartValue::Numeric(match unit {
        Microseconds => Numeric::from(secs_us),
        Milliseconds => Numeric::new(secs_us, 3),
        Second => Numeric::new(secs_us, 6),
        Minute => Numeric::from(f.minutes),
        Hour => Numeric::from(f.hours),
        Day => Numeric::from(f.days),
        Month => Numeric::from(f.months),
        Quarter => Numeric::from(f.months / 3 + 1),
        Year => Numeric::from(f.years),
        Decade => Numeric::from(f.years / 10),
        Century => Numeric::from(f.years / 100),
        Millennium => Numeric::from(f.years / 1000),
        Epoch => {
            let m = iv.months as i64;
            let secs_from_day_month =
                (1461 * (m / 12) + 120 * (m % 12) + 4 * iv.days as i64) * (SECS_PER_DAY / 4);
            let v = secs_from_day_month as i128 * 1_000_000 + iv.micros as i128;
            Numeric::from_i128_with_scale(v, 6)
        }
        _ => return Err(unit_not_supported(&lower, "interval")),
    }))
}

/// `extract(field from value)` for any date/time datum, as a numeric datum
/// (NULL where PostgreSQL returns NULL, ±Infinity for e.g.
/// `extract(year from 'infinity'::date)`).
pub fn extract(field: &str, value: &crate::Datum, tz: &TimeZone) -> Result<crate::Datum> {
    use crate::Datum;
    let part = match value {
        Datum::Null => return Ok(Datum::Null),
        Datum::Date(d) => extract_date(field, *d)?,
        Datum::Time(t) => extract_time(field, *t)?,
        Datum::Timestamp(t) => extract_timestamp(field, *t)?,
        Datum::TimestampTz(t) => extract_timestamptz(field, *t, tz)?,
        Datum::Interval(i) => extract_interval(field, i)?,
        other => {
            return Err(Error::new(
                SqlState::UndefinedFunction,
                format!("function extract(unknown, {other:?}) does not exist"),
            ))
        }
    };
    match part {
        PartValue::Numeric(d) => Ok(Datum::Numeric(d)),
        PartValue::Null => Ok(Datum::Null),
        PartValue::Infinity(positive) => {
            Ok(Datum::Numeric(if positive { Numeric::INFINITY } else { Numeric::NEG_INFINITY }))
        }
    }
}

/// `date_part(field, value)`: like [`extract`] but as double precision
/// (PostgreSQL's float8 `date_part`, whose float formulas for seconds,
/// epoch and julian are mirrored so results round identically); `None`
/// is NULL.
pub fn date_part(field: &str, value: &crate::Datum, tz: &TimeZone) -> Result<Option<f64>> {
    use crate::Datum;
    let lower = field.to_lowercase();
    let unit = decode_unit(&lower);
    let to_f = |p: PartValue| -> Option<f64> {
        match p {
            PartValue::Numeric(d) => Some(d.to_f64()),
            PartValue::Null => None,
            PartValue::Infinity(pos) => Some(if pos { f64::INFINITY } else { f64::NEG_INFINITY }),
        }
    };
    // Seconds-with-fraction formulas shared by every type.
    let secs = |unit: DateUnit, sec: i64, fsec: i64| -> Option<f64> {
        match unit {
            DateUnit::Microseconds => Some(sec as f64 * 1_000_000.0 + fsec as f64),
            DateUnit::Milliseconds => Some(sec as f64 * 1000.0 + fsec as f64 / 1000.0),
            DateUnit::Second => Some(sec as f64 + fsec as f64 / 1_000_000.0),
            _ => None,
        }
    };
    let epoch_us = (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
    let ts_part = |raw: i64, offset: Option<i32>| -> Result<Option<f64>> {
        let type_name = if offset.is_some() {
            "timestamp with time zone"
        } else {
            "timestamp without time zone"
        };
        let part = extract_ts_common(&lower, raw, offset, type_name)?;
        if raw == i64::MIN || raw == i64::MAX {
            return Ok(to_f(part));
        }
        let local = raw + offset.unwrap_or(0) as i64 * USECS_PER_SEC;
        let f = timestamp_to_fields(local).ok_or_else(timestamp_out_of_range)?;
        Ok(match unit {
            Some(DateUnit::Epoch) => Some(match raw.checked_sub(-epoch_us) {
                Some(v) => v as f64 / 1_000_000.0,
                None => (raw as f64 + epoch_us as f64) / 1_000_000.0,
            }),
            Some(DateUnit::Julian) => Some(
                date2j(f.year, f.month, f.day) as f64
                    + (((f.hour as i64 * 60 + f.minute as i64) * 60 + f.second as i64) as f64
                        + f.micros as f64 / 1_000_000.0)
                        / SECS_PER_DAY as f64,
            ),
            Some(u) => secs(u, f.second as i64, f.micros as i64).or_else(|| to_f(part)),
            None => to_f(part),
        })
    };
    match value {
        Datum::Null => Ok(None),
        // date_part(text, date) is implemented through timestamp.
        Datum::Date(d) => ts_part(d.to_timestamp()?.0, None),
        Datum::Timestamp(t) => ts_part(t.0, None),
        Datum::TimestampTz(t) => ts_part(t.0, Some(tz.offset_at_utc(t.0))),
        Datum::Time(t) => {
            let part = extract_time(&lower, *t)?;
            let (_, _, s, us) = t.to_hms_micro();
            Ok(match unit {
                Some(DateUnit::Epoch) => Some(t.0 as f64 / 1_000_000.0),
                Some(u) => secs(u, s as i64, us as i64).or_else(|| to_f(part)),
                None => to_f(part),
            })
        }
        Datum::Interval(i) => {
            let part = extract_interval(&lower, i)?;
            let f = i.to_fields();
            Ok(match unit {
                Some(DateUnit::Epoch) => {
                    let mut r = i.micros as f64 / 1_000_000.0;
                    r += 365.25 * SECS_PER_DAY as f64 * (i.months / 12) as f64;
                    r += 30.0 * SECS_PER_DAY as f64 * (i.months % 12) as f64;
                    r += SECS_PER_DAY as f64 * i.days as f64;
                    Some(r)
                }
                Some(u) => secs(u, f.seconds, f.micros).or_else(|| to_f(part)),
                None => to_f(part),
            })
        }
        _ => extract(&lower, value, tz).map(|d| d.as_f64()),
    }
}

fn trunc_fields(unit: DateUnit, f: &mut DateTimeFields) -> bool {
    use DateUnit::*;
    match unit {
        Week => {
            let woy = date2isoweek(f.year, f.month, f.day);
            let mut year = f.year;
            if woy >= 52 && f.month == 1 {
                year -= 1;
            }
            if woy <= 1 && f.month == 12 {
                year += 1;
            }
            let j = isoweek1_j(year) + (woy - 1) * 7;
            let (y, m, d) = j2date(j);
            f.year = y;
            f.month = m;
            f.day = d;
            f.hour = 0;
            f.minute = 0;
            f.second = 0;
            f.micros = 0;
            return true;
        }
        Millennium | Century | Decade | Year | Quarter | Month | Day | Hour | Minute | Second => {
            if unit == Millennium {
                f.year = if f.year > 0 {
                    ((f.year + 999) / 1000) * 1000 - 999
                } else {
                    -((999 - (f.year - 1)) / 1000) * 1000 + 1
                };
            }
            if matches!(unit, Millennium | Century) {
                f.year = if f.year > 0 {
                    ((f.year + 99) / 100) * 100 - 99
                } else {
                    -((99 - (f.year - 1)) / 100) * 100 + 1
                };
            }
            if unit == Decade {
                f.year =
                    if f.year > 0 { (f.year / 10) * 10 } else { -((8 - (f.year - 1)) / 10) * 10 };
            }
            if matches!(unit, Millennium | Century | Decade | Year) {
                f.month = 1;
            }
            if matches!(unit, Millennium | Century | Decade | Year | Quarter) {
                f.month = 3 * ((f.month - 1) / 3) + 1;
            }
            if matches!(unit, Millennium | Century | Decade | Year | Quarter | Month) {
                f.day = 1;
            }
            if matches!(unit, Millennium | Century | Decade | Year | Quarter | Month | Day) {
                f.hour = 0;
            }
            if unit != Second && unit != Minute {
                f.minute = 0;
            }
            if unit != Second {
                f.second = 0;
            }
            f.micros = 0;
        }
        Milliseconds => f.micros = (f.micros / 1000) * 1000,
        Microseconds => {}
        _ => return false,
    }
    true
}

/// Truncates `ts` seen at `offset` seconds east; `local_offset` gives the
/// offset for the truncated local time (PostgreSQL re-resolves the zone for
/// units of a day or more, so a DST change in between is respected).
fn trunc_ts_common(
    field: &str,
    ts: i64,
    offset: i32,
    local_offset: &dyn Fn(i64) -> i32,
    type_name: &str,
) -> Result<i64> {
    use DateUnit::*;
    // PostgreSQL returns infinities unchanged before looking at the unit.
    if ts == i64::MIN || ts == i64::MAX {
        return Ok(ts);
    }
    let lower = field.to_lowercase();
    let unit = decode_delta_unit(&lower).ok_or_else(|| unit_not_recognized(&lower, type_name))?;
    let off = offset as i64 * USECS_PER_SEC;
    let mut f = timestamp_to_fields(ts + off).ok_or_else(timestamp_out_of_range)?;
    if !trunc_fields(unit, &mut f) {
        return Err(unit_not_supported(&lower, type_name));
    }
    let local = fields_to_timestamp(&f)?;
    let redo_zone = matches!(unit, Millennium | Century | Decade | Year | Quarter | Month | Week | Day);
    let out_off = if redo_zone { local_offset(local) as i64 * USECS_PER_SEC } else { off };
    Ok(local - out_off)
}

/// `date_trunc(field, timestamp)`.
pub fn date_trunc_timestamp(field: &str, ts: Timestamp) -> Result<Timestamp> {
    trunc_ts_common(field, ts.0, 0, &|_| 0, "timestamp without time zone").map(Timestamp)
}

/// `date_trunc(field, timestamptz)`, truncating the local time in `tz`.
pub fn date_trunc_timestamptz(field: &str, ts: TimestampTz, tz: &TimeZone) -> Result<TimestampTz> {
    trunc_ts_common(field, ts.0, tz.offset_at_utc(ts.0), &|local| tz.offset_at_local(local), "timestamp with time zone")
        .map(TimestampTz)
}

/// `date_trunc(field, interval)`.
pub fn date_trunc_interval(field: &str, iv: &Interval) -> Result<Interval> {
    use DateUnit::*;
    let lower = field.to_lowercase();
    let unit = decode_delta_unit(&lower).ok_or_else(|| unit_not_recognized(&lower, "interval"))?;
    let mut f = iv.to_fields();
    match unit {
        Millennium | Century | Decade | Year | Quarter | Month | Day | Hour | Minute | Second => {
            if unit == Millennium {
                f.years = (f.years / 1000) * 1000;
            }
            if matches!(unit, Millennium | Century) {
                f.years = (f.years / 100) * 100;
            }
            if matches!(unit, Millennium | Century | Decade) {
                f.years = (f.years / 10) * 10;
            }
            if matches!(unit, Millennium | Century | Decade | Year) {
                f.months = 0;
            }
            if matches!(unit, Millennium | Century | Decade | Year | Quarter) {
                f.months = 3 * (f.months / 3);
            }
            if matches!(unit, Millennium | Century | Decade | Year | Quarter | Month) {
                f.days = 0;
            }
            if matches!(unit, Millennium | Century | Decade | Year | Quarter | Month | Day) {
                f.hours = 0;
            }
            if unit != Second && unit != Minute {
                f.minutes = 0;
            }
            if unit != Second {
                f.seconds = 0;
            }
            f.micros = 0;
        }
        Milliseconds => f.micros = (f.micros / 1000) * 1000,
        Microseconds => {}
        _ => {
            let mut e = unit_not_supported(&lower, "interval");
            if unit == Week {
                e = e.with_detail("Months usually have fractional weeks.");
            }
            return Err(e);
        }
    }
    let months = f.years * 12 + f.months;
    let micros = ((f.hours * 60 + f.minutes) * 60 + f.seconds) * USECS_PER_SEC + f.micros;
    Ok(Interval {
        months: i32::try_from(months).map_err(|_| interval_out_of_range())?,
        days: f.days as i32,
        micros,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> Timestamp {
        Timestamp::from_fields(&DateTimeFields {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
            micros: us,
        })
        .expect("valid test timestamp")
    }

    #[test]
    fn calendar_roundtrip() {
        for days in (-2_500_000i64..2_500_000).step_by(997) {
            let (y, m, d) = ymd_from_days(days);
            assert_eq!(days_from_ymd(y, m, d), days);
        }
        assert_eq!(days_from_ymd(2000, 1, 1), 0);
        assert_eq!(date2j(2000, 1, 1), POSTGRES_EPOCH_JDATE);
        assert_eq!(date2j(1970, 1, 1), UNIX_EPOCH_JDATE);
        assert_eq!(date2j(-4713, 11, 24), 0);
        assert_eq!(j2date(DATE_END_JULIAN), (5_874_898, 1, 1));
        assert_eq!(j2date(TIMESTAMP_END_JULIAN), (294_277, 1, 1));
    }

    #[test]
    fn date_arith() {
        let d = Date::from_ymd(2020, 2, 28).expect("valid");
        assert_eq!(d.add_days(1).expect("in range").to_ymd(), (2020, 2, 29));
        assert_eq!(d.add_days(-59).expect("in range").to_ymd(), (2019, 12, 31));
        assert_eq!(Date::INFINITY.add_days(5).expect("inf"), Date::INFINITY);
        assert_eq!(Date::from_ymd(2020, 3, 1).expect("valid").days_between(d).expect("finite"), 2);
        assert!(Date::from_ymd(5_874_897, 12, 31).expect("max").add_days(1).is_err());
        let n = d.to_naive_date().expect("in chrono range");
        assert_eq!(Date::from_naive_date(n).expect("in range"), d);
    }

    #[test]
    fn timestamp_interval_arith() {
        let t = ts(2020, 1, 31, 0, 0, 0, 0);
        let r = t.add_interval(&Interval::new(1, 0, 0)).expect("ok");
        assert_eq!(r, ts(2020, 2, 29, 0, 0, 0, 0));
        let r = ts(2020, 3, 31, 10, 0, 0, 0)
            .sub_interval(&Interval::new(1, 1, 3_600_000_000))
            .expect("ok");
        assert_eq!(r, ts(2020, 2, 28, 9, 0, 0, 0));
        let d = ts(2020, 3, 1, 0, 0, 0, 0).sub_timestamp(ts(2020, 1, 31, 12, 0, 0, 0)).expect("ok");
        assert_eq!((d.months, d.days, d.micros), (0, 29, 12 * USECS_PER_HOUR));
        let a = ts(2020, 3, 1, 0, 0, 0, 0).age(ts(2020, 1, 31, 0, 0, 0, 0)).expect("ok");
        assert_eq!((a.months, a.days, a.micros), (1, 1, 0));
        assert!(Timestamp(END_TIMESTAMP - 1).add_interval(&Interval::new(0, 0, 1)).is_err());
    }

    #[test]
    fn interval_mul_div_justify() {
        let r = Interval::new(1, 0, 0).mul_f64(1.5).expect("ok");
        assert_eq!((r.months, r.days, r.micros), (1, 15, 0));
        let r = Interval::new(0, 1, 0).div_f64(7.0).expect("ok");
        assert_eq!((r.months, r.days, r.micros), (0, 0, 12_342_857_143));
        assert!(Interval::new(0, 1, 0).div_f64(0.0).is_err());
        let r = Interval::new(1, 0, -USECS_PER_HOUR).justify_interval().expect("ok");
        assert_eq!((r.months, r.days, r.micros), (0, 29, 23 * USECS_PER_HOUR));
        let r = Interval::new(0, 0, 50 * USECS_PER_HOUR).justify_hours().expect("ok");
        assert_eq!((r.months, r.days, r.micros), (0, 2, 2 * USECS_PER_HOUR));
        let r = Interval::new(0, 65, 0).justify_days().expect("ok");
        assert_eq!((r.months, r.days, r.micros), (2, 5, 0));
    }

    fn num(p: PartValue) -> String {
        match p {
            PartValue::Numeric(d) => d.to_string(),
            PartValue::Null => "NULL".into(),
            PartValue::Infinity(true) => "Infinity".into(),
            PartValue::Infinity(false) => "-Infinity".into(),
        }
    }

    #[test]
    fn extract_matches_postgres() {
        let t = ts(2020, 6, 25, 12, 34, 56, 500_000);
        // Values from PostgreSQL 15.
        assert_eq!(num(extract_timestamp("epoch", t).expect("ok")), "1593088496.500000");
        assert_eq!(num(extract_timestamp("second", t).expect("ok")), "56.500000");
        assert_eq!(num(extract_timestamp("millisecond", t).expect("ok")), "56500.000");
        assert_eq!(num(extract_timestamp("microseconds", t).expect("ok")), "56500000");
        assert_eq!(num(extract_timestamp("years", t).expect("ok")), "2020");
        let noon = ts(2020, 6, 25, 12, 0, 0, 0);
        assert_eq!(
            num(extract_timestamp("julian", noon).expect("ok")),
            "2459026.50000000000000000000"
        );
        let d = Date::from_ymd(2020, 6, 25).expect("valid");
        assert_eq!(num(extract_date("epoch", d).expect("ok")), "1593043200");
        assert_eq!(num(extract_date("julian", d).expect("ok")), "2459026");
        let iv = Interval::new(14, 3, 4 * USECS_PER_HOUR + 5 * USECS_PER_MINUTE + 6_500_000);
        assert_eq!(num(extract_interval("epoch", &iv).expect("ok")), "37015506.500000");
        assert_eq!(num(extract_interval("quarter", &Interval::new(7, 0, 0)).expect("ok")), "3");
        assert_eq!(num(extract_time("epoch", Time(43_201_250_000)).expect("ok")), "43201.250000");
        let bc1 = Date::from_ymd(0, 1, 1).expect("valid");
        assert_eq!(num(extract_date("decade", bc1).expect("ok")), "0");
        assert_eq!(num(extract_date("century", bc1).expect("ok")), "-1");
        assert_eq!(num(extract_date("isoyear", bc1).expect("ok")), "-2");
        assert_eq!(num(extract_timestamp("year", Timestamp::INFINITY).expect("ok")), "Infinity");
        assert_eq!(num(extract_timestamp("day", Timestamp::INFINITY).expect("ok")), "NULL");
        assert_eq!(num(extract_date("epoch", Date::NEG_INFINITY).expect("ok")), "-Infinity");
        let e = extract_timestamp("foo", t).expect_err("unknown unit");
        assert_eq!(e.message, "unit \"foo\" not recognized for type timestamp without time zone");
        assert_eq!(e.state, SqlState::InvalidParameterValue);
        let e = extract_timestamp("timezone", t).expect_err("unsupported");
        assert_eq!(
            e.message,
            "unit \"timezone\" not supported for type timestamp without time zone"
        );
        let e = extract_date("hour", d).expect_err("unsupported");
        assert_eq!(e.message, "unit \"hour\" not supported for type date");
        let e = extract_interval("week", &iv).expect_err("unsupported");
        assert_eq!(e.message, "unit \"week\" not supported for type interval");
        assert_eq!(
            num(extract_timestamptz(
                "epoch",
                TimestampTz(t.0 - 7_200_000_000),
                &TimeZone::Fixed(7200)
            )
            .expect("ok")),
            "1593081296.500000"
        );
        assert_eq!(
            num(extract_timestamptz("timezone_hour", TimestampTz(0), &TimeZone::Fixed(-19800))
                .expect("ok")),
            "-5"
        );
        let f = date_part("epoch", &crate::Datum::Timestamp(t), &TimeZone::Utc).expect("ok");
        assert_eq!(f, Some(1593088496.5));
    }

    #[test]
    fn trunc_matches_postgres() {
        let t = ts(2021, 1, 1, 10, 0, 0, 0);
        assert_eq!(date_trunc_timestamp("week", t).expect("ok"), ts(2020, 12, 28, 0, 0, 0, 0));
        let t = ts(2020, 8, 17, 13, 45, 12, 345_678);
        assert_eq!(date_trunc_timestamp("quarter", t).expect("ok"), ts(2020, 7, 1, 0, 0, 0, 0));
        assert_eq!(
            date_trunc_timestamp("milliseconds", t).expect("ok"),
            ts(2020, 8, 17, 13, 45, 12, 345_000)
        );
        assert_eq!(date_trunc_timestamp("century", t).expect("ok"), ts(2001, 1, 1, 0, 0, 0, 0));
        assert_eq!(date_trunc_timestamp("millennium", t).expect("ok"), ts(2001, 1, 1, 0, 0, 0, 0));
        assert_eq!(date_trunc_timestamp("decade", t).expect("ok"), ts(2020, 1, 1, 0, 0, 0, 0));
        assert_eq!(date_trunc_timestamp("hour", t).expect("ok"), ts(2020, 8, 17, 13, 0, 0, 0));
        let tz = TimeZone::Fixed(-5 * 3600);
        let inst = TimestampTz(ts(2020, 8, 17, 3, 0, 0, 0).0);
        // 2020-08-16 22:00-05 truncated to day is 2020-08-16 00:00-05.
        assert_eq!(
            date_trunc_timestamptz("day", inst, &tz).expect("ok").0,
            ts(2020, 8, 16, 5, 0, 0, 0).0
        );
        let iv = Interval::new(15, 3, 4 * USECS_PER_HOUR + 123);
        let r = date_trunc_interval("year", &iv).expect("ok");
        assert_eq!((r.months, r.days, r.micros), (12, 0, 0));
        assert!(date_trunc_interval("week", &iv).is_err());
    }
}
