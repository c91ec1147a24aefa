//! `to_date(text, text)` and `to_timestamp(text, text)`: PostgreSQL's
//! `DCH_from_char` and `do_to_timestamp` (`src/backend/utils/adt/formatting.c`).
//!
//! The input is matched against the template node by node, reading each
//! field into [`ParsedFields`] (zero meaning "not given"). Outside `FX`
//! mode the match is lenient, as in PostgreSQL: white space before fields
//! is skipped, a template separator or space matches one separator or
//! space of the input or nothing, and a numeric field reads as many digits
//! as it can when the next template node is not a digit field. Then the
//! fields are combined into a date and time ([`ParsedFields::resolve`]):
//! a century with a two-digit year, a Julian day, ISO week dates, a day of
//! the year, and the 12-hour clock are resolved and range-checked with
//! PostgreSQL's messages and SQLSTATEs (22007 for input that does not match
//! the template, 22008 for values out of range).

use freshet_common::datetime::{
    Date, TimestampTz, DATE_END_JULIAN, END_TIMESTAMP, MIN_TIMESTAMP, POSTGRES_EPOCH_JDATE,
    USECS_PER_DAY, USECS_PER_SEC,
};
use freshet_common::io::TimeZone;
use freshet_common::{Error, Result, SqlState};

use super::calendar::{
    date2j, is_leap, is_valid_julian, isoweek2date, isoweek2j, isoweekdate2date, j2date,
    DAYS_IN_MONTH,
};
use super::template::{
    is_c_space, is_separator_char, DateField, DateKeyword, DateMode, DateNode, DateTemplate,
    Modifiers,
};
use super::{DAY_NAMES, DAY_NAMES_SHORT, MONTH_NAMES, MONTH_NAMES_SHORT, ROMAN_MONTHS_LOWER};

/// Values read from the input (PostgreSQL's `TmFromChar`); 0 means the
/// template did not set the field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ParsedFields {
    mode: Option<DateMode>,
    hour: i32,
    pm: i32,
    minute: i32,
    second: i32,
    seconds_of_day: i32,
    /// Day of the week, Sunday = 1.
    weekday: i32,
    day: i32,
    day_of_year: i32,
    month: i32,
    millisecond: i32,
    year: i32,
    bc: i32,
    week: i32,
    week_of_month: i32,
    century: i32,
    julian: i32,
    microsecond: i32,
    /// How many year digits the template gave (`YY` is 2).
    year_digits: i32,
    twelve_hour_clock: bool,
    /// +1 or -1 once `TZH`/`TZM` were read.
    zone_sign: i32,
    zone_hours: i32,
    zone_minutes: i32,
    /// The `n` of `FFn`, which rounds the result to n fraction digits.
    fraction_precision: i32,
}

/// A date and time assembled from [`ParsedFields`] (the `pg_tm` that
/// `do_to_timestamp` returns), not yet range-checked as a timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParsedDateTime {
    pub year: i32,
    pub month: i32,
    pub day: i32,
    pub hour: i32,
    pub minute: i32,
    pub second: i32,
    pub micros: i32,
    /// Offset east of UTC in seconds when the input gave one (`TZH:TZM`).
    pub zone_offset_seconds: Option<i32>,
    /// Digits of `FFn` (1-6), 0 when not given.
    pub fraction_precision: i32,
}

fn invalid_format(message: impl Into<String>) -> Error {
    Error::new(SqlState::InvalidDatetimeFormat, message)
}

/// `value "x" for "YYYY"`-style errors name the keyword as written.
fn invalid_value(value: &str, keyword: &DateKeyword) -> Error {
    invalid_format(format!(
        "invalid value \"{value}\" for \"{}\"",
        keyword.name
    ))
}

const FM_HINT: &str = "If your source string is not fixed-width, try using the \"FM\" modifier.";

/// C's `strtol` over `bytes[start..]`: leading white space, an optional
/// sign, decimal digits. Returns the value (saturated like `LONG_MAX`),
/// whether it overflowed, and where it stopped (`start` when no digits).
fn strtol(bytes: &[u8], start: usize) -> (i64, bool, usize) {
    let mut i = start;
    while i < bytes.len() && is_c_space(bytes[i]) {
        i += 1;
    }
    let negative = match bytes.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits_start = i;
    let mut value: i64 = 0;
    let mut overflow = false;
    while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
        let digit = (d - b'0') as i64;
        match value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        }) {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return (0, false, start);
    }
    if overflow {
        value = if negative { i64::MIN } else { i64::MAX };
    }
    (value, overflow, i)
}

/// Adjusts a year given with fewer than four digits toward 2020
/// (`adjust_partial_year_to_2020`): 70 is 1970, 69 is 2069.
fn adjust_partial_year_to_2020(year: i32) -> i32 {
    if year < 70 {
        year.wrapping_add(2000)
    } else if year < 100 {
        year + 1900
    } else if year < 520 {
        year + 2000
    } else if year < 1000 {
        year + 1000
    } else {
        year
    }
}

/// One pass of matching an input string against a template.
struct Matcher<'a> {
    template: &'a DateTemplate,
    input: &'a [u8],
    pos: usize,
    fields: ParsedFields,
}

impl Matcher<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn byte(&self, i: usize) -> u8 {
        self.input.get(i).copied().unwrap_or(0)
    }

    /// Length of the UTF-8 character at `pos` (`pg_mblen`).
    fn char_len(&self) -> usize {
        match self.byte(self.pos) {
            b if b < 0x80 => 1,
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            b if b >= 0xC0 => 2,
            _ => 1,
        }
    }

    fn advance_char(&mut self) {
        self.pos = (self.pos + self.char_len()).min(self.input.len());
    }

    /// Skips white space; returns how much.
    fn skip_spaces(&mut self) -> i32 {
        let mut n = 0;
        while !self.at_end() && is_c_space(self.byte(self.pos)) {
            self.pos += 1;
            n += 1;
        }
        n
    }

    /// Whether a numeric field at node `index` may read a variable number
    /// of digits because what follows cannot be a digit
    /// (`is_next_separator`).
    fn next_is_separator(&self, index: usize, modifiers: &Modifiers) -> bool {
        if modifiers.ordinal.is_some() {
            return true;
        }
        match self.template.nodes.get(index + 1) {
            None => true,
            Some(DateNode::Field { keyword, .. }) => !keyword.digits,
            Some(DateNode::Literal(c) | DateNode::Separator(c) | DateNode::Space(c)) => {
                !c.is_ascii_digit()
            }
        }
    }

    /// Reads an integer of `len` characters (any number of them in fill
    /// mode or before a non-digit), as `from_char_parse_int_len`. Returns
    /// the value and the characters consumed (white space included).
    fn read_int(
        &mut self,
        len: usize,
        keyword: &DateKeyword,
        variable: bool,
    ) -> Result<(i32, usize)> {
        let init = self.pos;
        self.skip_spaces();
        let remaining = &self.input[self.pos..];
        let copy = String::from_utf8_lossy(&remaining[..len.min(remaining.len())]).into_owned();
        let (value, overflow) = if variable {
            let (value, overflow, end) = strtol(self.input, init);
            self.pos = end;
            (value, overflow)
        } else {
            if remaining.len() < len {
                return Err(invalid_format(format!(
                    "source string too short for \"{}\" formatting field",
                    keyword.name
                ))
                .with_detail(format!(
                    "Field requires {len} characters, but only {} remain.",
                    remaining.len()
                ))
                .with_hint(FM_HINT));
            }
            let (value, overflow, used) = strtol(&remaining[..len], 0);
            if used > 0 && used < len {
                return Err(invalid_value(&copy, keyword)
                    .with_detail(format!(
                        "Field requires {len} characters, but only {used} could be parsed."
                    ))
                    .with_hint(FM_HINT));
            }
            self.pos += used;
            (value, overflow)
        };
        if self.pos == init {
            return Err(invalid_value(&copy, keyword).with_detail("Value must be an integer."));
        }
        if overflow || value < i32::MIN as i64 || value > i32::MAX as i64 {
            return Err(Error::new(
                SqlState::DatetimeFieldOverflow,
                format!(
                    "value for \"{}\" in source string is out of range",
                    keyword.name
                ),
            )
            .with_detail(format!(
                "Value must be in the range {} to {}.",
                i32::MIN,
                i32::MAX
            )));
        }
        Ok((value as i32, self.pos - init))
    }

    /// Matches one of `names` case-insensitively at the current position
    /// (`from_char_seq_search`); returns its index.
    fn read_name(&mut self, names: &[&str], keyword: &DateKeyword) -> Result<usize> {
        let rest = &self.input[self.pos..];
        for (i, candidate) in names.iter().enumerate() {
            let c = candidate.as_bytes();
            if rest.len() >= c.len() && rest[..c.len()].eq_ignore_ascii_case(c) {
                self.pos += c.len();
                return Ok(i);
            }
        }
        // The message shows the input up to the next white space.
        let end = rest
            .iter()
            .position(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0C))
            .unwrap_or(rest.len());
        Err(
            invalid_value(&String::from_utf8_lossy(&rest[..end]), keyword).with_detail(
                "The given value did not match any of the allowed values for this field.",
            ),
        )
    }

    /// Skips an ordinal suffix after a number (`SKIP_THth`).
    fn skip_ordinal(&mut self, modifiers: &Modifiers) {
        if modifiers.ordinal.is_some() {
            self.advance_char();
            self.advance_char();
        }
    }

    fn run(&mut self) -> Result<()> {
        let mut fixed = false;
        // Characters skipped beyond what the template asked for.
        let mut extra_skip: i32 = 0;
        let nodes = &self.template.nodes;
        let mut index = 0;
        while index < nodes.len() && !self.at_end() {
            let node = &nodes[index];
            let is_fx = matches!(node, DateNode::Field { keyword, .. } if keyword.field == DateField::FixedFormat);
            if !fixed && !is_fx && (matches!(node, DateNode::Field { .. }) || index == 0) {
                extra_skip += self.skip_spaces();
            }
            match node {
                DateNode::Separator(_) | DateNode::Space(_) => {
                    if !fixed {
                        // One separator or space of the input, or none.
                        extra_skip -= 1;
                        let c = self.byte(self.pos);
                        if !self.at_end() && (is_c_space(c) || is_separator_char(c)) {
                            self.pos += 1;
                            extra_skip += 1;
                        }
                    } else {
                        self.advance_char();
                    }
                }
                DateNode::Literal(_) => {
                    // Any input character stands for a literal, unmatched;
                    // outside FX mode extra skipped spaces count for it.
                    if !fixed && extra_skip > 0 {
                        extra_skip -= 1;
                    } else {
                        self.advance_char();
                    }
                }
                DateNode::Field { keyword, modifiers } => {
                    if self.field(index, keyword, modifiers, extra_skip)? {
                        fixed = true;
                    }
                    if !fixed {
                        extra_skip = self.skip_spaces();
                    }
                }
            }
            index += 1;
        }
        Ok(())
    }

    /// Reads one field; returns true for `FX`.
    fn field(
        &mut self,
        index: usize,
        keyword: &'static DateKeyword,
        modifiers: &Modifiers,
        extra_skip: i32,
    ) -> Result<bool> {
        if keyword.mode != DateMode::None {
            match self.fields.mode {
                None => self.fields.mode = Some(keyword.mode),
                Some(mode) if mode != keyword.mode => return Err(invalid_format(
                    "invalid combination of date conventions",
                )
                .with_hint(
                    "Do not mix Gregorian and ISO week date conventions in a formatting template.",
                )),
                Some(_) => {}
            }
        }
        let variable = modifiers.fill_mode || self.next_is_separator(index, modifiers);
        let keyword_len = keyword.name.len();
        match keyword.field {
            DateField::FixedFormat => return Ok(true),
            DateField::MeridiemDotted(_) | DateField::Meridiem(_) => {
                let names: &[&str] = if matches!(keyword.field, DateField::MeridiemDotted(_)) {
                    &["a.m.", "p.m.", "A.M.", "P.M."]
                } else {
                    &["am", "pm", "AM", "PM"]
                };
                let value = self.read_name(names, keyword)?;
                set(&mut self.fields.pm, (value % 2) as i32, keyword)?;
                self.fields.twelve_hour_clock = true;
            }
            DateField::Hour12 | DateField::Hour24 => {
                let (value, _) = self.read_int(2, keyword, variable)?;
                set(&mut self.fields.hour, value, keyword)?;
                if keyword.field == DateField::Hour12 {
                    self.fields.twelve_hour_clock = true;
                }
                self.skip_ordinal(modifiers);
            }
            DateField::Minute => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.minute, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::Second => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.second, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::Millisecond => {
                let (value, len) = self.read_int(3, keyword, variable)?;
                set(&mut self.fields.millisecond, value, keyword)?;
                // 25 is 0.25 and 250 is 0.25 too; 025 is 0.025.
                let scale = match len {
                    1 => 100,
                    2 => 10,
                    _ => 1,
                };
                self.fields.millisecond = self.fields.millisecond.wrapping_mul(scale);
                self.skip_ordinal(modifiers);
            }
            DateField::Fraction(_) | DateField::Microsecond => {
                let len = match keyword.field {
                    DateField::Fraction(n) => {
                        self.fields.fraction_precision = n as i32;
                        n as usize
                    }
                    _ => 6,
                };
                let (value, used) = self.read_int(len, keyword, variable)?;
                set(&mut self.fields.microsecond, value, keyword)?;
                let scale = match used {
                    1 => 100_000,
                    2 => 10_000,
                    3 => 1000,
                    4 => 100,
                    5 => 10,
                    _ => 1,
                };
                self.fields.microsecond = self.fields.microsecond.wrapping_mul(scale);
                self.skip_ordinal(modifiers);
            }
            DateField::SecondsOfDay => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.seconds_of_day, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::ZoneName(_) | DateField::ZoneOffset => {
                return Err(Error::new(
                    SqlState::FeatureNotSupported,
                    format!(
                        "formatting field \"{}\" is only supported in to_char",
                        keyword.name
                    ),
                ))
            }
            DateField::ZoneHours => {
                // The sign may have been skipped as a separator already.
                let c = self.byte(self.pos);
                if !self.at_end() && matches!(c, b'+' | b'-' | b' ') {
                    self.fields.zone_sign = if c == b'-' { -1 } else { 1 };
                    self.pos += 1;
                } else if extra_skip > 0 && self.pos > 0 && self.byte(self.pos - 1) == b'-' {
                    self.fields.zone_sign = -1;
                } else {
                    self.fields.zone_sign = 1;
                }
                let (value, _) = self.read_int(2, keyword, variable)?;
                set(&mut self.fields.zone_hours, value, keyword)?;
            }
            DateField::ZoneMinutes => {
                if self.fields.zone_sign == 0 {
                    self.fields.zone_sign = 1;
                }
                let (value, _) = self.read_int(2, keyword, variable)?;
                set(&mut self.fields.zone_minutes, value, keyword)?;
            }
            DateField::EraDotted(_) | DateField::Era(_) => {
                let names: &[&str] = if matches!(keyword.field, DateField::EraDotted(_)) {
                    &["a.d.", "b.c.", "A.D.", "B.C."]
                } else {
                    &["ad", "bc", "AD", "BC"]
                };
                let value = self.read_name(names, keyword)?;
                set(&mut self.fields.bc, (value % 2) as i32, keyword)?;
            }
            DateField::MonthName(_) => {
                let value = self.read_name(&MONTH_NAMES, keyword)?;
                set(&mut self.fields.month, value as i32 + 1, keyword)?;
            }
            DateField::MonthAbbrev(_) => {
                let value = self.read_name(&MONTH_NAMES_SHORT, keyword)?;
                set(&mut self.fields.month, value as i32 + 1, keyword)?;
            }
            DateField::Month => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.month, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::DayName(_) | DateField::DayAbbrev(_) => {
                let names: &[&str] = if matches!(keyword.field, DateField::DayName(_)) {
                    &DAY_NAMES
                } else {
                    &DAY_NAMES_SHORT
                };
                let value = self.read_name(names, keyword)?;
                // PostgreSQL compares the 0-based index with the stored
                // 1-based day, so naming the day twice is a conflict.
                set(&mut self.fields.weekday, value as i32, keyword)?;
                self.fields.weekday += 1;
            }
            DateField::DayOfYear => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.day_of_year, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::IsoDayOfYear => {
                let (value, _) = self.read_int(3, keyword, variable)?;
                set(&mut self.fields.day_of_year, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::DayOfMonth => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.day, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::DayOfWeek => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.weekday, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::IsoDayOfWeek => {
                let (value, _) = self.read_int(1, keyword, variable)?;
                set(&mut self.fields.weekday, value, keyword)?;
                // ISO Monday = 1 becomes Gregorian Monday = 2.
                self.fields.weekday = self.fields.weekday.wrapping_add(1);
                if self.fields.weekday > 7 {
                    self.fields.weekday = 1;
                }
                self.skip_ordinal(modifiers);
            }
            DateField::WeekOfYear | DateField::IsoWeek => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.week, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::Quarter => {
                // Read and ignored: the quarter does not pick a date.
                self.read_int(keyword_len, keyword, variable)?;
                self.skip_ordinal(modifiers);
            }
            DateField::Century => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.century, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::YearComma => {
                let (years, consumed) = scan_year_comma(&self.input[self.pos..])
                    .ok_or_else(|| invalid_format("invalid input string for \"Y,YYY\""))?;
                set(&mut self.fields.year, years, keyword)?;
                self.fields.year_digits = 4;
                self.pos += consumed;
                self.skip_ordinal(modifiers);
            }
            DateField::Year(digits) | DateField::IsoYear(digits) => {
                let (value, len) = self.read_int(digits as usize, keyword, variable)?;
                set(&mut self.fields.year, value, keyword)?;
                if digits < 4 && len < 4 {
                    self.fields.year = adjust_partial_year_to_2020(self.fields.year);
                }
                self.fields.year_digits = digits as i32;
                self.skip_ordinal(modifiers);
            }
            DateField::RomanMonth(_) => {
                let value = self.read_name(&ROMAN_MONTHS_LOWER, keyword)?;
                set(&mut self.fields.month, 12 - value as i32, keyword)?;
            }
            DateField::WeekOfMonth => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.week_of_month, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
            DateField::JulianDay => {
                let (value, _) = self.read_int(keyword_len, keyword, variable)?;
                set(&mut self.fields.julian, value, keyword)?;
                self.skip_ordinal(modifiers);
            }
        }
        Ok(false)
    }
}

/// Stores a field, refusing a second, different value
/// (`from_char_set_int`).
fn set(dest: &mut i32, value: i32, keyword: &DateKeyword) -> Result<()> {
    if *dest != 0 && *dest != value {
        return Err(invalid_format(format!(
            "conflicting values for \"{}\" field in formatting string",
            keyword.name
        ))
        .with_detail("This value contradicts a previous setting for the same field type."));
    }
    *dest = value;
    Ok(())
}

/// `sscanf(s, "%d,%03d%n")`: thousands, a comma, then up to three more
/// digits. Returns the year and the bytes consumed.
fn scan_year_comma(s: &[u8]) -> Option<(i32, usize)> {
    // `%d` keeps the low 32 bits of an overflowing value, as glibc does.
    let (thousands, _, end) = strtol(s, 0);
    if end == 0 {
        return None;
    }
    if s.get(end) != Some(&b',') {
        return None;
    }
    // %03d: white space, then at most three characters (sign included).
    let mut i = end + 1;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let window_end = (i + 3).min(s.len());
    let (rest, _, used) = strtol(&s[..window_end], i);
    if used == i {
        return None;
    }
    Some((
        (thousands as i32)
            .wrapping_mul(1000)
            .wrapping_add(rest as i32),
        used,
    ))
}

fn field_out_of_range(input: &str) -> Error {
    Error::new(
        SqlState::DatetimeFieldOverflow,
        format!("date/time field value out of range: \"{input}\""),
    )
}

impl ParsedFields {
    /// Combines the fields into a date and time (the second half of
    /// PostgreSQL's `do_to_timestamp`), validating them.
    fn resolve(mut self, input: &str) -> Result<ParsedDateTime> {
        let mut tm = ParsedDateTime {
            year: 0,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            micros: 0,
            zone_offset_seconds: None,
            fraction_precision: self.fraction_precision,
        };
        // Which date fields were given, for ValidateDate.
        let (mut has_year, mut has_month, mut has_day) = (false, false, false);
        if self.seconds_of_day != 0 {
            let x = self.seconds_of_day;
            tm.hour = x / 3600;
            tm.minute = x % 3600 / 60;
            tm.second = x % 60;
        }
        if self.second != 0 {
            tm.second = self.second;
        }
        if self.minute != 0 {
            tm.minute = self.minute;
        }
        if self.hour != 0 {
            tm.hour = self.hour;
        }
        if self.twelve_hour_clock {
            if tm.hour < 1 || tm.hour > 12 {
                return Err(invalid_format(format!(
                    "hour \"{}\" is invalid for the 12-hour clock",
                    tm.hour
                ))
                .with_hint("Use the 24-hour clock, or give an hour between 1 and 12."));
            }
            if self.pm != 0 && tm.hour < 12 {
                tm.hour += 12;
            } else if self.pm == 0 && tm.hour == 12 {
                tm.hour = 0;
            }
        }
        if self.year != 0 {
            if self.century != 0 && self.year_digits <= 2 {
                // The last two digits of a year in the given century (the
                // 21st century is 2001-2100; the 6th BC is 600-501 BC).
                if self.bc != 0 {
                    self.century = self.century.wrapping_neg();
                }
                tm.year = self.year % 100;
                if tm.year != 0 {
                    if self.century >= 0 {
                        tm.year = tm
                            .year
                            .wrapping_add(self.century.wrapping_sub(1).wrapping_mul(100));
                    } else {
                        tm.year = self
                            .century
                            .wrapping_add(1)
                            .wrapping_mul(100)
                            .wrapping_sub(tm.year)
                            .wrapping_add(1);
                    }
                } else {
                    tm.year = self
                        .century
                        .wrapping_mul(100)
                        .wrapping_add(if self.century >= 0 { 0 } else { 1 });
                }
            } else {
                tm.year = self.year;
                if self.bc != 0 {
                    tm.year = tm.year.wrapping_neg();
                }
                if tm.year < 0 {
                    tm.year += 1;
                }
            }
            has_year = true;
        } else if self.century != 0 {
            if self.bc != 0 {
                self.century = self.century.wrapping_neg();
            }
            tm.year = if self.century >= 0 {
                self.century
                    .wrapping_sub(1)
                    .wrapping_mul(100)
                    .wrapping_add(1)
            } else {
                self.century.wrapping_mul(100).wrapping_add(1)
            };
            has_year = true;
        }
        if self.julian != 0 {
            (tm.year, tm.month, tm.day) = j2date(self.julian);
            (has_year, has_month, has_day) = (true, true, true);
        }
        if self.week != 0 {
            if self.mode == Some(DateMode::IsoWeek) {
                (tm.year, tm.month, tm.day) = if self.weekday != 0 {
                    isoweekdate2date(self.week, self.weekday, tm.year)
                } else {
                    isoweek2date(self.week, tm.year)
                };
                (has_year, has_month, has_day) = (true, true, true);
            } else {
                self.day_of_year = self.week.wrapping_sub(1).wrapping_mul(7).wrapping_add(1);
            }
        }
        if self.week_of_month != 0 {
            self.day = self
                .week_of_month
                .wrapping_sub(1)
                .wrapping_mul(7)
                .wrapping_add(1);
        }
        if self.day != 0 {
            tm.day = self.day;
            has_day = true;
        }
        if self.month != 0 {
            tm.month = self.month;
            has_month = true;
        }
        if self.day_of_year != 0 && (tm.month <= 1 || tm.day <= 1) {
            if tm.year == 0 && self.bc == 0 {
                return Err(invalid_format(
                    "cannot calculate day of year without year information",
                ));
            }
            if self.mode == Some(DateMode::IsoWeek) {
                let j0 = isoweek2j(tm.year, 1).wrapping_sub(1);
                (tm.year, tm.month, tm.day) = j2date(j0.wrapping_add(self.day_of_year));
                (has_year, has_month, has_day) = (true, true, true);
            } else {
                const CUMULATIVE: [[i32; 13]; 2] = [
                    [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365],
                    [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366],
                ];
                let sums = &CUMULATIVE[usize::from(is_leap(tm.year))];
                let month = (1..=12)
                    .find(|&i| self.day_of_year <= sums[i])
                    .unwrap_or(13);
                if tm.month <= 1 {
                    tm.month = month as i32;
                }
                if tm.day <= 1 {
                    tm.day = self.day_of_year.wrapping_sub(sums[month - 1]);
                }
                (has_month, has_day) = (true, true);
            }
        }
        if self.millisecond != 0 {
            tm.micros = tm.micros.wrapping_add(self.millisecond.wrapping_mul(1000));
        }
        if self.microsecond != 0 {
            tm.micros = tm.micros.wrapping_add(self.microsecond);
        }
        // ValidateDate with the era already applied.
        if has_month && !(1..=12).contains(&tm.month) {
            return Err(field_out_of_range(input));
        }
        if has_day && !(1..=31).contains(&tm.day) {
            return Err(field_out_of_range(input));
        }
        if has_year && has_month && has_day {
            let days = DAYS_IN_MONTH[usize::from(is_leap(tm.year))][(tm.month - 1) as usize];
            if tm.day > days {
                return Err(field_out_of_range(input));
            }
        }
        if !(0..24).contains(&tm.hour)
            || !(0..60).contains(&tm.minute)
            || !(0..60).contains(&tm.second)
            || !(0..1_000_000).contains(&tm.micros)
        {
            return Err(field_out_of_range(input));
        }
        if self.zone_sign != 0 {
            if !(0..=15).contains(&self.zone_hours) || !(0..60).contains(&self.zone_minutes) {
                return Err(Error::new(
                    SqlState::InvalidTimeZoneDisplacementValue,
                    format!("time zone displacement out of range: \"{input}\""),
                ));
            }
            tm.zone_offset_seconds =
                Some(self.zone_sign * (self.zone_hours * 3600 + self.zone_minutes * 60));
        }
        Ok(tm)
    }
}

/// Matches `input` against `template` and assembles the result
/// (PostgreSQL's `do_to_timestamp`).
pub(crate) fn parse_datetime(input: &str, template: &DateTemplate) -> Result<ParsedDateTime> {
    let mut matcher = Matcher {
        template,
        input: input.as_bytes(),
        pos: 0,
        fields: ParsedFields::default(),
    };
    matcher.run()?;
    matcher.fields.resolve(input)
}

impl ParsedDateTime {
    /// Microseconds since 2000-01-01 of the local date and time, if the
    /// date is within the Julian-day routines' range.
    fn local_micros(&self) -> Option<i64> {
        if !is_valid_julian(self.year, self.month) {
            return None;
        }
        let date = date2j(self.year, self.month, self.day) as i64 - POSTGRES_EPOCH_JDATE;
        let time = ((self.hour as i64 * 60 + self.minute as i64) * 60 + self.second as i64)
            * USECS_PER_SEC
            + self.micros as i64;
        let result = date.checked_mul(USECS_PER_DAY)?.checked_add(time)?;
        // Time of day must not carry the value across zero (tm2timestamp).
        if (result < 0 && date > 0) || (result > 0 && date < -1) {
            return None;
        }
        Some(result)
    }

    /// The instant, reading the fields in the given zone unless the input
    /// named its own offset (`to_timestamp`); rounded to `FFn` digits.
    pub fn to_timestamptz(&self, session: &TimeZone) -> Result<TimestampTz> {
        let out_of_range = freshet_common::datetime::timestamp_out_of_range;
        let local = self.local_micros().ok_or_else(out_of_range)?;
        let offset = match self.zone_offset_seconds {
            Some(offset) => offset,
            None => session.offset_at_local(local),
        };
        let mut result = local
            .checked_sub(offset as i64 * USECS_PER_SEC)
            .ok_or_else(out_of_range)?;
        if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&result) {
            return Err(out_of_range());
        }
        if (1..6).contains(&self.fraction_precision) {
            let scale = 10i64.pow(6 - self.fraction_precision as u32);
            let half = scale / 2;
            result = if result >= 0 {
                (result + half) / scale * scale
            } else {
                -((-result + half) / scale * scale)
            };
        }
        Ok(TimestampTz(result))
    }

    /// The date (`to_date`); 22008 outside the date range.
    pub fn to_date(&self, input: &str) -> Result<Date> {
        let out_of_range = || {
            Error::new(
                SqlState::DatetimeFieldOverflow,
                format!("date out of range: \"{input}\""),
            )
        };
        if !is_valid_julian(self.year, self.month) {
            return Err(out_of_range());
        }
        let days = date2j(self.year, self.month, self.day) as i64 - POSTGRES_EPOCH_JDATE;
        if !(-POSTGRES_EPOCH_JDATE..DATE_END_JULIAN - POSTGRES_EPOCH_JDATE).contains(&days) {
            return Err(out_of_range());
        }
        Ok(Date(days as i32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str, template: &str) -> Result<ParsedDateTime> {
        parse_datetime(input, &DateTemplate::parse(template))
    }

    fn ymd(input: &str, template: &str) -> (i32, i32, i32) {
        let tm = parse(input, template).expect("parses");
        (tm.year, tm.month, tm.day)
    }

    #[test]
    fn lenient_matching_skips_separators_and_spaces() {
        assert_eq!(ymd("2024-03-05", "YYYY-MM-DD"), (2024, 3, 5));
        assert_eq!(ymd("2024 / 3/5", "YYYY/MM/DD"), (2024, 3, 5));
        assert_eq!(ymd("  05 Mar 2024", "DD Mon YYYY"), (2024, 3, 5));
        assert_eq!(ymd("20240305", "YYYYMMDD"), (2024, 3, 5));
    }

    #[test]
    fn two_digit_years_and_centuries() {
        assert_eq!(ymd("69", "YY").0, 2069);
        assert_eq!(ymd("70", "YY").0, 1970);
        assert_eq!(ymd("21 05", "CC YY").0, 2005);
        assert_eq!(ymd("44 BC", "YYYY BC").0, -43);
    }

    #[test]
    fn iso_week_dates_and_day_of_year() {
        assert_eq!(ymd("2025-01-1", "IYYY-IW-ID"), (2024, 12, 30));
        assert_eq!(ymd("2024 060", "YYYY DDD"), (2024, 2, 29));
        let err = parse("2024 1 1", "YYYY IW MM").expect_err("mixed conventions");
        assert_eq!(err.state, SqlState::InvalidDatetimeFormat);
    }

    #[test]
    fn errors_carry_postgres_states() {
        let err = parse("2024-02-30", "YYYY-MM-DD").expect_err("no such day");
        assert_eq!(
            (err.state, err.message.as_str()),
            (
                SqlState::DatetimeFieldOverflow,
                "date/time field value out of range: \"2024-02-30\""
            )
        );
        let err = parse("13 PM", "HH12 AM").expect_err("bad hour");
        assert_eq!(err.state, SqlState::InvalidDatetimeFormat);
        let err = parse("xx", "YYYY").expect_err("not a number");
        assert_eq!(err.message, "invalid value \"xx\" for \"YYYY\"");
        let err = parse("2024", "TZ").expect_err("TZ is output only");
        assert_eq!(err.state, SqlState::FeatureNotSupported);
        let err = parse("99999999999", "J").expect_err("overflow");
        assert_eq!(err.state, SqlState::DatetimeFieldOverflow);
    }

    #[test]
    fn zone_offsets_and_fractions() {
        let tm = parse("2024-01-01 10:00 -05:30", "YYYY-MM-DD HH24:MI TZH:TZM").expect("parses");
        assert_eq!(tm.zone_offset_seconds, Some(-(5 * 3600 + 30 * 60)));
        let tm = parse("12:34:56.789", "HH24:MI:SS.MS").expect("parses");
        assert_eq!(tm.micros, 789_000);
        let tm = parse("1.5", "SS.US").expect("parses");
        assert_eq!(tm.micros, 500_000);
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let samples = [
            "",
            " ",
            "-",
            "é",
            "9999999999999999999999",
            "+-+",
            ",,,",
            "Y,YYY",
            "\u{0}",
        ];
        let templates = [
            "",
            "Y,YYY",
            "FXYYYY-MM",
            "IDDD",
            "J",
            "TZH:TZM",
            "\"x",
            "DDDD",
            "FMMonth",
            "RM",
            "SSSSS.FF3",
        ];
        for s in samples {
            for t in templates {
                let _ = parse(s, t).map(|tm| tm.to_timestamptz(&TimeZone::Utc));
            }
        }
    }
}
