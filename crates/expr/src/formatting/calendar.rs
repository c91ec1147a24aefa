//! PostgreSQL's Julian-day calendar routines (`src/backend/utils/adt/datetime.c`
//! and `timestamp.c`: `date2j`, `j2date`, `j2day`, `date2isoweek`,
//! `date2isoyear`, `date2isoyearday`, `isoweek2j`, `isoweek2date`,
//! `isoweekdate2date`), transcribed with C's 32-bit integer semantics.
//!
//! `freshet_common::datetime` has exact 64-bit versions for valid dates; the
//! formatting functions need these instead because `to_char(interval)` feeds
//! them month and day fields outside the calendar (month 0, negative days),
//! and `to_date` feeds them unchecked user input before range checks. The
//! server is built with `-fwrapv`, so overflow wraps: every operation here
//! wraps too, which keeps results identical for any input and never panics.

/// Julian day of the proleptic Gregorian `year-month-day` (astronomical year
/// numbering: 0 is 1 BC), as PostgreSQL's `date2j`.
pub(crate) fn date2j(year: i32, month: i32, day: i32) -> i32 {
    let (mut y, mut m) = (year, month);
    if m > 2 {
        m = m.wrapping_add(1);
        y = y.wrapping_add(4800);
    } else {
        m = m.wrapping_add(13);
        y = y.wrapping_add(4799);
    }
    let century = y / 100;
    let mut julian = y.wrapping_mul(365).wrapping_sub(32167);
    julian = julian
        .wrapping_add(y / 4)
        .wrapping_sub(century)
        .wrapping_add(century / 4);
    julian
        .wrapping_add(7834i32.wrapping_mul(m) / 256)
        .wrapping_add(day)
}

/// The `(year, month, day)` of a Julian day, as PostgreSQL's `j2date`
/// (which computes in unsigned arithmetic).
pub(crate) fn j2date(jd: i32) -> (i32, i32, i32) {
    let mut julian = jd as u32;
    julian = julian.wrapping_add(32044);
    let mut quad = julian / 146_097;
    let extra = julian
        .wrapping_sub(quad.wrapping_mul(146_097))
        .wrapping_mul(4)
        .wrapping_add(3);
    julian = julian
        .wrapping_add(60)
        .wrapping_add(quad.wrapping_mul(3))
        .wrapping_add(extra / 146_097);
    quad = julian / 1461;
    julian = julian.wrapping_sub(quad.wrapping_mul(1461));
    let mut y = (julian.wrapping_mul(4) / 1461) as i32;
    julian = if y != 0 {
        julian.wrapping_add(305) % 365
    } else {
        julian.wrapping_add(306) % 366
    }
    .wrapping_add(123);
    y = y.wrapping_add(quad.wrapping_mul(4) as i32);
    let year = y.wrapping_sub(4800);
    let quad = julian.wrapping_mul(2141) / 65536;
    let day = julian.wrapping_sub(7834u32.wrapping_mul(quad) / 256) as i32;
    let month = ((quad.wrapping_add(10)) % 12 + 1) as i32;
    (year, month, day)
}

/// Day of the week of a Julian day, 0 = Sunday, as PostgreSQL's `j2day`.
pub(crate) fn j2day(julian: i32) -> i32 {
    let d = julian.wrapping_add(1) % 7;
    if d < 0 {
        d + 7
    } else {
        d
    }
}

/// The Julian day that starts ISO week 1 of `year`, minus nothing: the
/// Monday on or before January 4th (the `day4 - day0` of the C code).
fn iso_week1_start(year: i32) -> i32 {
    let day4 = date2j(year, 1, 4);
    day4.wrapping_sub(j2day(day4.wrapping_sub(1)))
}

/// ISO 8601 week number of a date, as PostgreSQL's `date2isoweek`.
pub(crate) fn date2isoweek(year: i32, month: i32, day: i32) -> i32 {
    let dayn = date2j(year, month, day);
    let mut start = iso_week1_start(year);
    if dayn < start {
        start = iso_week1_start(year.wrapping_sub(1));
    }
    let mut result = dayn.wrapping_sub(start) / 7 + 1;
    if result >= 52 {
        let next = iso_week1_start(year.wrapping_add(1));
        if dayn >= next {
            result = dayn.wrapping_sub(next) / 7 + 1;
        }
    }
    result
}

/// ISO 8601 week-numbering year of a date, as PostgreSQL's `date2isoyear`.
pub(crate) fn date2isoyear(year: i32, month: i32, day: i32) -> i32 {
    let dayn = date2j(year, month, day);
    let mut year = year;
    let mut start = iso_week1_start(year);
    if dayn < start {
        start = iso_week1_start(year.wrapping_sub(1));
        year = year.wrapping_sub(1);
    }
    let result = dayn.wrapping_sub(start) / 7 + 1;
    if result >= 52 && dayn >= iso_week1_start(year.wrapping_add(1)) {
        year = year.wrapping_add(1);
    }
    year
}

/// Day of the ISO week-numbering year (1-371), as `date2isoyearday`.
pub(crate) fn date2isoyearday(year: i32, month: i32, day: i32) -> i32 {
    date2j(year, month, day)
        .wrapping_sub(isoweek2j(date2isoyear(year, month, day), 1))
        .wrapping_add(1)
}

/// Julian day of the Monday of ISO week `week` of ISO year `year`.
pub(crate) fn isoweek2j(year: i32, week: i32) -> i32 {
    week.wrapping_sub(1)
        .wrapping_mul(7)
        .wrapping_add(iso_week1_start(year))
}

/// The date of the Monday of ISO week `week` of ISO year `year`.
pub(crate) fn isoweek2date(week: i32, year: i32) -> (i32, i32, i32) {
    j2date(isoweek2j(year, week))
}

/// The date of day `wday` (Gregorian numbering, Sunday = 1) of ISO week
/// `week` of ISO year `year`, as `isoweekdate2date`.
pub(crate) fn isoweekdate2date(week: i32, wday: i32, year: i32) -> (i32, i32, i32) {
    let mut jday = isoweek2j(year, week);
    if wday > 1 {
        jday = jday.wrapping_add(wday - 2);
    } else {
        jday = jday.wrapping_add(6);
    }
    j2date(jday)
}

/// Whether `year` (astronomical numbering) is a leap year, as `isleap`.
pub(crate) fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in each month of a common and of a leap year (`day_tab`).
pub(crate) const DAYS_IN_MONTH: [[i32; 12]; 2] = [
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
];

/// PostgreSQL's `IS_VALID_JULIAN`: whether the Julian-day routines are
/// exact for this date (4714-11-24 BC up to 5874898-06-03; days unchecked).
pub(crate) fn is_valid_julian(year: i32, month: i32) -> bool {
    (year > -4713 || (year == -4713 && month >= 11))
        && (year < 5_874_898 || (year == 5_874_898 && month < 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn julian_days_round_trip_and_match_the_exact_calendar() {
        for (y, m, d) in [
            (2000, 1, 1),
            (1970, 1, 1),
            (-4713, 11, 24),
            (0, 2, 29),
            (2024, 12, 31),
            (294_276, 12, 31),
        ] {
            let j = date2j(y, m, d);
            assert_eq!(j2date(j), (y, m, d));
            assert_eq!(
                j as i64,
                freshet_common::datetime::date2j(y as i64, m as u32, d as u32)
            );
        }
        assert_eq!(date2j(2000, 1, 1), 2_451_545);
    }

    #[test]
    fn iso_weeks_at_year_boundaries() {
        // 2021-01-03 is a Sunday in ISO week 53 of 2020.
        assert_eq!(date2isoweek(2021, 1, 3), 53);
        assert_eq!(date2isoyear(2021, 1, 3), 2020);
        // 2024-12-30 is a Monday in ISO week 1 of 2025.
        assert_eq!(date2isoweek(2024, 12, 30), 1);
        assert_eq!(date2isoyear(2024, 12, 30), 2025);
        assert_eq!(date2isoyearday(2024, 12, 30), 1);
        assert_eq!(isoweek2date(1, 2025), (2024, 12, 30));
        assert_eq!(isoweekdate2date(1, 1, 2025), (2025, 1, 5));
    }

    #[test]
    fn out_of_calendar_fields_do_not_panic() {
        for v in [i32::MIN, -1, 0, 13, i32::MAX] {
            let _ = date2isoweek(v, v, v);
            let _ = date2isoyearday(v, v, v);
            let _ = j2date(v);
        }
    }
}
