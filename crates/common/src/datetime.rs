//! Date/time values in PostgreSQL's representation: microseconds (or days)
//! counted from the PostgreSQL epoch, 2000-01-01 00:00:00 UTC. This is the
//! binary wire format too, and it leaves room for PostgreSQL's full range
//! and for `infinity`.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// Microseconds in a day.
pub const USECS_PER_DAY: i64 = 86_400_000_000;

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
    pub months: i32,
    pub days: i32,
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
