//! Text I/O: PostgreSQL's `typinput`/`typoutput` for every [`DataType`].
//!
//! Output matches PostgreSQL 15 byte for byte with `DateStyle = ISO, MDY`,
//! `IntervalStyle = postgres` and `extra_float_digits = 1`. Input accepts
//! what PostgreSQL's input functions accept in common use and reports the
//! same messages and SQLSTATEs. Input applies the type's modifiers with
//! assignment semantics (a too-long `varchar(n)` value is an error unless
//! the excess is spaces); explicit casts that truncate live in `cast`.

use crate::datetime_io;
use crate::float_fmt::{self, trim_c_space};
use crate::json;
use crate::numeric;
use crate::{DataType, Datum, Error, Result, SqlState};

/// The session's time zone, used to print `timestamptz` and to read
/// timestamps written without an offset.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeZone {
    /// UTC (offset zero).
    Utc,
    /// A fixed offset in seconds east of UTC.
    Fixed(i32),
    /// A zone of the IANA database (`America/Chicago`), with its DST rules.
    Named(chrono_tz::Tz),
}

impl TimeZone {
    /// Looks up an IANA zone name (`Europe/Berlin`, case-insensitive).
    pub fn named(name: &str) -> Option<TimeZone> {
        chrono_tz::Tz::from_str_insensitive(name).ok().map(TimeZone::Named)
    }

    /// Parses a `TimeZone` setting: UTC/GMT/Z, a bare offset like `+02:00`
    /// or `-5` (east-positive, as PostgreSQL's SET reads it), `UTC+3` (POSIX
    /// sign: three hours west), or an IANA zone name (case-insensitive).
    pub fn parse_setting(v: &str) -> Option<TimeZone> {
        Self::parse(v, false)
    }

    /// Parses the zone of `AT TIME ZONE` / `timezone(zone, ts)`: like
    /// [`TimeZone::parse_setting`] except that PostgreSQL reads a bare offset
    /// there as POSIX, so `'+03'` is three hours *west*.
    pub fn parse_at_time_zone(v: &str) -> Option<TimeZone> {
        Self::parse(v, true)
    }

    fn parse(v: &str, bare_is_posix: bool) -> Option<TimeZone> {
        let t = v.trim().trim_matches('\'');
        let upper = t.to_uppercase();
        if matches!(upper.as_str(), "UTC" | "GMT" | "Z" | "ETC/UTC" | "ETC/GMT" | "UNIVERSAL" | "ZULU" | "UCT") {
            return Some(TimeZone::Utc);
        }
        let parse_offset = |s: &str| -> Option<i32> {
            let (sign, rest) = match s.chars().next()? {
                '+' => (1, &s[1..]),
                '-' => (-1, &s[1..]),
                _ => (1, s),
            };
            let mut parts = rest.split(':');
            let h: i32 = parts.next()?.parse().ok()?;
            let m: i32 = parts.next().map(|m| m.parse().ok()).unwrap_or(Some(0))?;
            if h > 15 || m > 59 || parts.next().is_some() {
                return None;
            }
            Some(sign * (h * 3600 + m * 60))
        };
        let fixed = |o: i32| if o == 0 { TimeZone::Utc } else { TimeZone::Fixed(o) };
        if let Some(rest) = upper.strip_prefix("UTC").or_else(|| upper.strip_prefix("GMT")) {
            // POSIX style: positive means west of Greenwich.
            return parse_offset(rest).map(|o| fixed(-o));
        }
        if let Some(o) = parse_offset(t) {
            return Some(fixed(if bare_is_posix { -o } else { o }));
        }
        Self::named(t)
    }

    /// The zone's offset from UTC in seconds east (positive east of
    /// Greenwich, like ISO 8601 and unlike POSIX zone strings). For a named
    /// zone this is the offset in force now; use [`TimeZone::offset_at_utc`]
    /// or [`TimeZone::offset_at_local`] where an instant is known.
    pub fn offset_seconds(&self) -> i32 {
        match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed(s) => *s,
            TimeZone::Named(_) => self.offset_at_utc(crate::datetime::now().0),
        }
    }

    /// The offset in force at an instant (microseconds since 2000-01-01 UTC).
    pub fn offset_at_utc(&self, micros: i64) -> i32 {
        use chrono::Offset;
        match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed(s) => *s,
            TimeZone::Named(tz) => {
                match zone_table_time(micros) {
                    Some(utc) => {
                        use chrono::TimeZone as _;
                        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
                    }
                    None => 0,
                }
            }
        }
    }

    /// The zone's abbreviation at an instant (microseconds since
    /// 2000-01-01 UTC), as PostgreSQL prints it for `to_char(.., 'TZ')`:
    /// `UTC`, the zone database's abbreviation (`CEST`, `LMT`), or for
    /// zones the database names only by offset, that offset the way the
    /// database writes it (`+04`, `+0545`). A fixed offset set as a number
    /// has none (`None`); PostgreSQL prints nothing for `'+02:30'` too.
    pub fn abbreviation_at_utc(&self, micros: i64) -> Option<String> {
        use chrono::Offset;
        use chrono_tz::OffsetName;
        match self {
            TimeZone::Utc => Some("UTC".to_string()),
            TimeZone::Fixed(_) => None,
            TimeZone::Named(tz) => {
                let utc = zone_table_time(micros)?;
                use chrono::TimeZone as _;
                let offset = tz.offset_from_utc_datetime(&utc);
                Some(match offset.abbreviation() {
                    Some(name) => name.to_string(),
                    None => {
                        let east = offset.fix().local_minus_utc();
                        let (sign, abs) = if east < 0 { ('-', -east) } else { ('+', east) };
                        let (hours, minutes) = (abs / 3600, abs % 3600 / 60);
                        if minutes == 0 {
                            format!("{sign}{hours:02}")
                        } else {
                            format!("{sign}{hours:02}{minutes:02}")
                        }
                    }
                })
            }
        }
    }

    /// The offset that applies to a local wall-clock time (microseconds
    /// since 2000-01-01 local). As in PostgreSQL, a time skipped by a
    /// jump forward takes the offset before the jump, and a time repeated by
    /// a jump back takes the offset after it.
    pub fn offset_at_local(&self, micros: i64) -> i32 {
        use chrono::Offset;
        match self {
            TimeZone::Utc => 0,
            TimeZone::Fixed(s) => *s,
            TimeZone::Named(tz) => {
                let Some(local) = zone_table_time(micros) else {
                    return 0;
                };
                use chrono::TimeZone as _;
                match tz.offset_from_local_datetime(&local) {
                    chrono::LocalResult::Single(o) => o.fix().local_minus_utc(),
                    chrono::LocalResult::Ambiguous(_, later) => later.fix().local_minus_utc(),
                    // In a gap: the offset in force a few hours earlier (before the jump).
                    chrono::LocalResult::None => self.offset_at_utc(micros - 3 * 3_600_000_000),
                }
            }
        }
    }
}

/// A time (microseconds since 2000-01-01) as a chrono date-time the zone
/// tables cover (see [`within_zone_tables`]). Years past chrono's range
/// (262143) are first moved back by whole 400-year Gregorian cycles, which
/// keep weekdays and leap years; `None` only for times no cycle brings in.
fn zone_table_time(micros: i64) -> Option<chrono::NaiveDateTime> {
    /// Seconds in 400 Gregorian years (146097 days).
    const CYCLE_SECONDS: i64 = 146_097 * 86_400;
    /// Seconds from the Unix epoch to 262000-01-01, inside chrono's range.
    const CHRONO_SAFE_SECONDS: i64 = 8_205_754_204_800;
    let mut secs = micros.div_euclid(1_000_000) + POSTGRES_EPOCH_UNIX_SECONDS;
    if secs > CHRONO_SAFE_SECONDS {
        secs -= (secs - CHRONO_SAFE_SECONDS).div_euclid(CYCLE_SECONDS).saturating_add(1).saturating_mul(CYCLE_SECONDS);
    }
    chrono::DateTime::from_timestamp(secs, 0).map(|d| within_zone_tables(d.naive_utc()))
}

/// The compiled zone tables (chrono-tz) list transitions through 2099;
/// PostgreSQL keeps applying a zone's current rule forever. A time from 2100
/// on is moved to the same month, day and time of a year in 2072..=2099 that
/// starts on the same weekday and has the same leap-ness, so rules such as
/// "second Sunday in March" land on the same dates.
fn within_zone_tables(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Datelike;
    const LAST_TABLED_YEAR: i32 = 2099;
    let year = t.year();
    if year <= LAST_TABLED_YEAR {
        return t;
    }
    let leap = |y: i32| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let jan1 = |y: i32| chrono::NaiveDate::from_ymd_opt(y, 1, 1).map(|d| d.weekday());
    let target = jan1(year);
    (LAST_TABLED_YEAR - 27..=LAST_TABLED_YEAR)
        .find(|&r| leap(r) == leap(year) && jan1(r) == target)
        .and_then(|r| t.with_year(r))
        .unwrap_or(t)
}

/// Seconds from the Unix epoch to PostgreSQL's (2000-01-01).
const POSTGRES_EPOCH_UNIX_SECONDS: i64 = 946_684_800;

/// Session settings that change how values print or parse.
#[derive(Clone, Debug)]
pub struct TextContext {
    /// The session's `TimeZone` setting.
    pub time_zone: TimeZone,
}

impl Default for TextContext {
    fn default() -> Self {
        TextContext { time_zone: TimeZone::Utc }
    }
}

/// Appends the PostgreSQL text output of `datum` (of type `ty`) to `out`.
/// NULL is not printed here: callers send NULL out of band (inside arrays
/// it prints as `NULL`).
pub fn format_text(datum: &Datum, ty: &DataType, ctx: &TextContext, out: &mut String) {
    match datum {
        Datum::Null => {}
        Datum::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Datum::Int2(v) => push_int(out, *v as i64),
        Datum::Int4(v) => push_int(out, *v as i64),
        Datum::Int8(v) => push_int(out, *v),
        Datum::Float4(v) => float_fmt::format_f32(v.0, out),
        Datum::Float8(v) => float_fmt::format_f64(v.0, out),
        Datum::Numeric(d) => numeric::format_numeric(d, out),
        Datum::Text(s) => out.push_str(s),
        Datum::Bytea(b) => format_bytea(b, out),
        Datum::Date(d) => datetime_io::format_date(*d, out),
        Datum::Time(t) => datetime_io::format_time(*t, out),
        Datum::Timestamp(t) => datetime_io::format_timestamp(*t, out),
        Datum::TimestampTz(t) => datetime_io::format_timestamptz(*t, &ctx.time_zone, out),
        Datum::Interval(i) => datetime_io::format_interval(i, out),
        Datum::Json(s) => out.push_str(s),
        Datum::Jsonb(j) => json::format_jsonb(j, out),
        Datum::Uuid(u) => {
            let mut buf = uuid::Uuid::encode_buffer();
            out.push_str(u.hyphenated().encode_lower(&mut buf));
        }
        Datum::Oid(o) => push_int(out, *o as i64),
        Datum::Enum(order) => match ty.as_enum().and_then(|t| t.label_of(*order)) {
            Some(label) => out.push_str(label),
            // A value printed with a type that does not have it: a plan
            // bound against an older version of the type. Printing cannot
            // fail; show something recognisable rather than panic.
            None => {
                use std::fmt::Write;
                let _ = write!(out, "<enum value {}>", order.0);
            }
        },
        Datum::Array(items) if matches!(ty, DataType::Int2Vector | DataType::OidVector) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                format_text(item, ty.element().unwrap_or(ty), ctx, out);
            }
        }
        Datum::Array(fields) if matches!(ty, DataType::Record(_)) => format_record(fields, ty, ctx, out),
        Datum::Array(items) => {
            let elem = ty.element().unwrap_or(ty);
            format_array(items, elem, ctx, out);
        }
    }
}

/// PostgreSQL's `record_out`: `(f1,f2,...)`, NULL fields empty, a field
/// quoted when empty or holding `"`, `\`, parentheses, a comma or
/// whitespace, with `"` and `\` doubled inside the quotes.
fn format_record(fields: &[Datum], ty: &DataType, ctx: &TextContext, out: &mut String) {
    let types: &[(String, DataType)] = match ty {
        DataType::Record(types) => types,
        _ => &[],
    };
    out.push('(');
    let mut buf = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.is_null() {
            continue;
        }
        buf.clear();
        let field_ty = types.get(i).map(|(_, t)| t).unwrap_or(&DataType::Text);
        format_text(field, field_ty, ctx, &mut buf);
        let needs_quote = buf.is_empty()
            || buf.chars().any(|c| matches!(c, '"' | '\\' | '(' | ')' | ',') || matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
        if needs_quote {
            out.push('"');
            for c in buf.chars() {
                if c == '"' || c == '\\' {
                    out.push(c);
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(&buf);
        }
    }
    out.push(')');
}

/// Convenience wrapper around [`format_text`] returning a new string.
pub fn to_text(datum: &Datum, ty: &DataType, ctx: &TextContext) -> String {
    let mut s = String::new();
    format_text(datum, ty, ctx, &mut s);
    s
}

fn push_int(out: &mut String, v: i64) {
    use std::fmt::Write;
    let _ = write!(out, "{v}");
}

/// Appends bytea in hex output format: `\x0102ff`.
pub fn format_bytea(b: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 + 2 * b.len());
    out.push_str("\\x");
    for byte in b {
        out.push(HEX[(byte >> 4) as usize] as char);
        out.push(HEX[(byte & 15) as usize] as char);
    }
}

fn array_isspace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

fn format_array(items: &[Datum], elem: &DataType, ctx: &TextContext, out: &mut String) {
    out.push('{');
    let mut buf = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            Datum::Null => out.push_str("NULL"),
            // A record element is itself an array of fields, not a dimension.
            Datum::Array(sub) if !matches!(elem, DataType::Record(_)) => format_array(sub, elem, ctx, out),
            other => {
                buf.clear();
                format_text(other, elem, ctx, &mut buf);
                let needs_quote = buf.is_empty()
                    || buf.eq_ignore_ascii_case("NULL")
                    || buf
                        .chars()
                        .any(|c| matches!(c, '"' | '\\' | '{' | '}' | ',') || array_isspace(c));
                if needs_quote {
                    out.push('"');
                    for c in buf.chars() {
                        if c == '"' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push('"');
                } else {
                    out.push_str(&buf);
                }
            }
        }
    }
    out.push('}');
}

/// Parses `input` as a value of type `ty` (PostgreSQL's input function),
/// applying the type's modifiers (varchar length, numeric scale).
pub fn parse_text(input: &str, ty: &DataType, ctx: &TextContext) -> Result<Datum> {
    Ok(match ty {
        DataType::Bool => Datum::Bool(parse_bool(input)?),
        DataType::Int2 => {
            Datum::Int2(parse_int(input, "smallint", i16::MIN as i64, i16::MAX as i64)? as i16)
        }
        DataType::Int4 => {
            Datum::Int4(parse_int(input, "integer", i32::MIN as i64, i32::MAX as i64)? as i32)
        }
        DataType::Int8 => Datum::Int8(parse_int(input, "bigint", i64::MIN, i64::MAX)?),
        DataType::Float4 => Datum::Float4(crate::F32(float_fmt::parse_f32(input)?)),
        DataType::Float8 => Datum::Float8(crate::F64(float_fmt::parse_f64(input)?)),
        DataType::Numeric(typmod) => Datum::Numeric(match typmod {
            Some((p, s)) => numeric::parse_numeric_typmod(input, *p, *s)?,
            None => numeric::parse_numeric(input)?,
        }),
        DataType::Text | DataType::Unknown => Datum::Text(input.to_string()),
        DataType::Varchar(n) => Datum::Text(coerce_varchar(input, *n, false)?),
        DataType::Char(n) => Datum::Text(coerce_bpchar(input, *n, false)?),
        DataType::Name => Datum::Text(truncate_name(input)),
        DataType::InternalChar => {
            Datum::Text(input.chars().next().map(String::from).unwrap_or_default())
        }
        DataType::Bytea => Datum::Bytea(parse_bytea(input)?),
        DataType::Date => Datum::Date(datetime_io::parse_date(input, &ctx.time_zone)?),
        DataType::Time => Datum::Time(datetime_io::parse_time(input, &ctx.time_zone)?),
        DataType::Timestamp => {
            Datum::Timestamp(datetime_io::parse_timestamp(input, &ctx.time_zone)?)
        }
        DataType::TimestampTz => {
            Datum::TimestampTz(datetime_io::parse_timestamptz(input, &ctx.time_zone)?)
        }
        DataType::Interval => Datum::Interval(datetime_io::parse_interval(input)?),
        DataType::Json => {
            json::validate_json_text(input)?;
            Datum::Json(input.to_string())
        }
        DataType::Jsonb => Datum::Jsonb(json::parse_json_text(input)?),
        DataType::Uuid => Datum::Uuid(parse_uuid(input)?),
        DataType::Oid => Datum::Oid(parse_oid(input)?),
        DataType::RegClass | DataType::RegType | DataType::RegProc => {
            let t = trim_c_space(input);
            if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) {
                Datum::Oid(parse_oid(t)?)
            } else {
                return Err(match ty {
                    DataType::RegClass => Error::undefined_table(input),
                    DataType::RegType => Error::new(
                        SqlState::UndefinedObject,
                        format!("type \"{input}\" does not exist"),
                    ),
                    _ => Error::new(
                        SqlState::UndefinedFunction,
                        format!("function \"{input}\" does not exist"),
                    ),
                });
            }
        }
        DataType::Array(elem) => parse_array(input, elem, ctx)?,
        DataType::Enum(t) => t.parse(input)?,
        DataType::Record(_) => return Err(super::binary::anonymous_record_input()),
        DataType::Inet => Datum::Text(parse_inet(input)?),
        DataType::Int2Vector | DataType::OidVector => {
            let elem = ty.element().unwrap_or(&DataType::Int2).clone();
            let mut items = Vec::new();
            for part in input.split_whitespace() {
                items.push(parse_text(part, &elem, ctx)?);
            }
            Datum::Array(items)
        }
    })
}

/// PostgreSQL's `parse_bool_with_len`: unique prefixes of `true`, `false`,
/// `yes`, `no`, `on`, `off`, and `1`/`0`, case-insensitive, trimmed.
pub fn parse_bool(input: &str) -> Result<bool> {
    let v = trim_c_space(input).to_ascii_lowercase();
    let len = v.len();
    let prefix_of =
        |word: &str, min: usize| len >= min && len <= word.len() && word.starts_with(&v);
    let r = match v.as_bytes().first() {
        Some(b't') if prefix_of("true", 1) => Some(true),
        Some(b'f') if prefix_of("false", 1) => Some(false),
        Some(b'y') if prefix_of("yes", 1) => Some(true),
        Some(b'n') if prefix_of("no", 1) => Some(false),
        Some(b'o') if prefix_of("on", 2) => Some(true),
        Some(b'o') if prefix_of("off", 2) => Some(false),
        Some(b'1') if len == 1 => Some(true),
        Some(b'0') if len == 1 => Some(false),
        _ => None,
    };
    r.ok_or_else(|| Error::invalid_text("boolean", input))
}

/// PostgreSQL 15's `pg_strtoint16/32/64`: whitespace, optional sign,
/// decimal digits, whitespace.
pub fn parse_int(input: &str, type_name: &str, min: i64, max: i64) -> Result<i64> {
    let b = input.as_bytes();
    let mut i = 0;
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        neg = b[i] == b'-';
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return Err(Error::invalid_text(type_name, input));
    }
    let out_of_range = || {
        Error::new(
            SqlState::NumericValueOutOfRange,
            format!("value \"{input}\" is out of range for type {type_name}"),
        )
    };
    // Accumulate negatively so that the minimum value fits.
    let mut acc: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        let d = (b[i] - b'0') as i64;
        acc = acc.checked_mul(10).and_then(|a| a.checked_sub(d)).ok_or_else(out_of_range)?;
        i += 1;
    }
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    if i != b.len() {
        return Err(Error::invalid_text(type_name, input));
    }
    let v = if neg { acc } else { acc.checked_neg().ok_or_else(out_of_range)? };
    if v < min || v > max {
        return Err(out_of_range());
    }
    Ok(v)
}

/// PostgreSQL's `oidin`: an unsigned 32-bit number; negative input down to
/// -2147483648 wraps around as in PostgreSQL.
pub fn parse_oid(input: &str) -> Result<u32> {
    let bad = || Error::invalid_text("oid", input);
    let oor = || {
        Error::new(
            SqlState::NumericValueOutOfRange,
            format!("value \"{input}\" is out of range for type oid"),
        )
    };
    let s = input.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if s.is_empty() {
        return Err(bad());
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let digits_end = body.bytes().take_while(|c| c.is_ascii_digit()).count();
    if digits_end == 0 {
        return Err(bad());
    }
    if !trim_c_space(&body[digits_end..]).is_empty() {
        return Err(bad());
    }
    let v: u64 = body[..digits_end].parse().map_err(|_| oor())?;
    if neg {
        if v > 2_147_483_648 {
            return Err(oor());
        }
        Ok((v as i64).wrapping_neg() as u32)
    } else {
        u32::try_from(v).map_err(|_| oor())
    }
}

/// Applies `varchar(n)`: with `truncate` (explicit cast) the value is cut
/// to `n` characters; otherwise only trailing spaces may be cut and any
/// other excess raises 22001.
pub fn coerce_varchar(s: &str, n: Option<u32>, truncate: bool) -> Result<String> {
    let Some(n) = n else { return Ok(s.to_string()) };
    match s.char_indices().nth(n as usize) {
        None => Ok(s.to_string()),
        Some((cut, _)) => {
            if truncate || s[cut..].bytes().all(|c| c == b' ') {
                Ok(s[..cut].to_string())
            } else {
                Err(Error::new(
                    SqlState::StringDataRightTruncation,
                    format!("value too long for type character varying({n})"),
                ))
            }
        }
    }
}

/// Applies `char(n)`: pads with blanks to `n` characters; too-long values
/// are cut when `truncate` is set or the excess is spaces, else 22001.
pub fn coerce_bpchar(s: &str, n: Option<u32>, truncate: bool) -> Result<String> {
    let Some(n) = n else { return Ok(s.to_string()) };
    match s.char_indices().nth(n as usize) {
        None => {
            let count = s.chars().count();
            let mut out = String::with_capacity(s.len() + n as usize - count);
            out.push_str(s);
            for _ in count..n as usize {
                out.push(' ');
            }
            Ok(out)
        }
        Some((cut, _)) => {
            if truncate || s[cut..].bytes().all(|c| c == b' ') {
                Ok(s[..cut].to_string())
            } else {
                Err(Error::new(
                    SqlState::StringDataRightTruncation,
                    format!("value too long for type character({n})"),
                ))
            }
        }
    }
}

/// Truncates to PostgreSQL's identifier limit (63 bytes, on a character
/// boundary), as `namein` does.
pub fn truncate_name(s: &str) -> String {
    if s.len() <= 63 {
        return s.to_string();
    }
    let mut cut = 63;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s[..cut].to_string()
}

/// PostgreSQL's `byteain`: `\x` hex format (whitespace between digit pairs
/// allowed) or the escape format (`\\`, `\ooo`).
pub fn parse_bytea(input: &str) -> Result<Vec<u8>> {
    let b = input.as_bytes();
    if b.len() >= 2 && b[0] == b'\\' && b[1] == b'x' {
        let mut out = Vec::with_capacity((b.len() - 2) / 2);
        let mut i = 2;
        let hex = |c: u8, at: usize| -> Result<u8> {
            (c as char).to_digit(16).map(|d| d as u8).ok_or_else(|| {
                let ch = input[at..].chars().next().unwrap_or('?');
                Error::new(
                    SqlState::InvalidParameterValue,
                    format!("invalid hexadecimal digit: \"{ch}\""),
                )
            })
        };
        while i < b.len() {
            if matches!(b[i], b' ' | b'\n' | b'\t' | b'\r') {
                i += 1;
                continue;
            }
            let hi = hex(b[i], i)?;
            i += 1;
            if i >= b.len() {
                return Err(Error::new(
                    SqlState::InvalidParameterValue,
                    "invalid hexadecimal data: odd number of digits",
                ));
            }
            let lo = hex(b[i], i)?;
            i += 1;
            out.push(hi << 4 | lo);
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if i + 3 < b.len()
            && (b'0'..=b'3').contains(&b[i + 1])
            && (b'0'..=b'7').contains(&b[i + 2])
            && (b'0'..=b'7').contains(&b[i + 3])
        {
            out.push(((b[i + 1] - b'0') << 6) | ((b[i + 2] - b'0') << 3) | (b[i + 3] - b'0'));
            i += 4;
        } else if i + 1 < b.len() && b[i + 1] == b'\\' {
            out.push(b'\\');
            i += 2;
        } else {
            return Err(Error::new(
                SqlState::InvalidTextRepresentation,
                "invalid input syntax for type bytea",
            ));
        }
    }
    Ok(out)
}

/// PostgreSQL's `uuid_in`: 32 hex digits, a hyphen allowed after any group
/// of four, optionally in braces.
pub fn parse_uuid(input: &str) -> Result<uuid::Uuid> {
    let bad = || Error::invalid_text("uuid", input);
    let b = input.as_bytes();
    let mut i = 0;
    let braces = b.first() == Some(&b'{');
    if braces {
        i += 1;
    }
    let mut bytes = [0u8; 16];
    for (k, slot) in bytes.iter_mut().enumerate() {
        let hi = b.get(i).and_then(|c| (*c as char).to_digit(16)).ok_or_else(bad)?;
        let lo = b.get(i + 1).and_then(|c| (*c as char).to_digit(16)).ok_or_else(bad)?;
        *slot = (hi * 16 + lo) as u8;
        i += 2;
        if b.get(i) == Some(&b'-') && k % 2 == 1 && k < 15 {
            i += 1;
        }
    }
    if braces {
        if b.get(i) != Some(&b'}') {
            return Err(bad());
        }
        i += 1;
    }
    if i != b.len() {
        return Err(bad());
    }
    Ok(uuid::Uuid::from_bytes(bytes))
}

// ---------------------------------------------------------------------------
// Arrays

enum Node {
    Elem(Option<String>),
    Sub(Vec<Node>),
}

struct ArrayParser<'a> {
    input: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl<'a> ArrayParser<'a> {
    /// An error about the braces part: PostgreSQL quotes the input after
    /// its leading whitespace there.
    fn malformed(&self, detail: impl Into<String>) -> Error {
        let shown = self.input.trim_start_matches(array_isspace);
        Error::new(
            SqlState::InvalidTextRepresentation,
            format!("malformed array literal: \"{shown}\""),
        )
        .with_detail(detail.into())
    }

    /// An error about the start of the literal, quoting the whole input.
    fn malformed_full(&self, detail: impl Into<String>) -> Error {
        Error::new(
            SqlState::InvalidTextRepresentation,
            format!("malformed array literal: \"{}\"", self.input),
        )
        .with_detail(detail.into())
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().map(array_isspace).unwrap_or(false) {
            self.pos += 1;
        }
    }

    fn eof(&self) -> Error {
        self.malformed("Unexpected end of input.")
    }

    /// Parses `{...}` starting at the opening brace.
    fn parse_level(&mut self, depth: usize) -> Result<Vec<Node>> {
        if depth > 6 {
            return Err(Error::new(
                SqlState::ProgramLimitExceeded,
                "number of array dimensions (7) exceeds the maximum allowed (6)",
            ));
        }
        debug_assert_eq!(self.peek(), Some('{'));
        self.pos += 1;
        let mut items: Vec<Node> = Vec::new();
        self.skip_space();
        if self.peek() == Some('}') {
            if depth > 1 {
                return Err(self.malformed("Unexpected \"}\" character."));
            }
            self.pos += 1;
            return Ok(items);
        }
        loop {
            self.skip_space();
            match self.peek() {
                None => return Err(self.eof()),
                Some('{') => {
                    if items.iter().any(|n| matches!(n, Node::Elem(_))) {
                        return Err(self.malformed("Unexpected \"{\" character."));
                    }
                    let sub = self.parse_level(depth + 1)?;
                    items.push(Node::Sub(sub));
                }
                Some(c @ (',' | '}')) => {
                    return Err(self.malformed(format!("Unexpected \"{c}\" character.")));
                }
                Some(_) => {
                    if items.iter().any(|n| matches!(n, Node::Sub(_))) {
                        return Err(self.malformed("Unexpected array element."));
                    }
                    let e = self.parse_element()?;
                    items.push(Node::Elem(e));
                }
            }
            self.skip_space();
            match self.peek() {
                None => return Err(self.eof()),
                Some(',') => {
                    self.pos += 1;
                }
                Some('}') => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(c) => return Err(self.malformed(format!("Unexpected \"{c}\" character."))),
            }
        }
    }

    /// Parses one scalar element (quoted or not); `None` is NULL.
    fn parse_element(&mut self) -> Result<Option<String>> {
        let mut s = String::new();
        if self.peek() == Some('"') {
            self.pos += 1;
            loop {
                match self.peek() {
                    None => return Err(self.eof()),
                    Some('\\') => {
                        self.pos += 1;
                        match self.peek() {
                            None => return Err(self.eof()),
                            Some(c) => s.push(c),
                        }
                        self.pos += 1;
                    }
                    Some('"') => {
                        self.pos += 1;
                        return Ok(Some(s));
                    }
                    Some(c) => {
                        s.push(c);
                        self.pos += 1;
                    }
                }
            }
        }
        let mut escaped_any = false;
        // Length of `s` up to the last character that is not trailing
        // unescaped whitespace.
        let mut keep = 0;
        loop {
            match self.peek() {
                None => return Err(self.eof()),
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        None => return Err(self.eof()),
                        Some(c) => s.push(c),
                    }
                    self.pos += 1;
                    escaped_any = true;
                    keep = s.len();
                }
                Some(',' | '}') => break,
                Some('{') => return Err(self.malformed("Unexpected \"{\" character.")),
                Some('"') => return Err(self.malformed("Unexpected \"\"\" character.")),
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                    if !array_isspace(c) {
                        keep = s.len();
                    }
                }
            }
        }
        s.truncate(keep);
        if !escaped_any && s.eq_ignore_ascii_case("NULL") {
            return Ok(None);
        }
        Ok(Some(s))
    }
}

fn node_shape(items: &[Node]) -> Vec<usize> {
    let mut shape = vec![items.len()];
    if let Some(Node::Sub(first)) = items.first() {
        shape.extend(node_shape(first));
    }
    shape
}

fn check_shape(items: &[Node], shape: &[usize]) -> bool {
    if items.len() != shape[0] {
        return false;
    }
    items.iter().all(|n| match n {
        Node::Elem(_) => shape.len() == 1,
        Node::Sub(sub) => shape.len() > 1 && check_shape(sub, &shape[1..]),
    })
}

fn build_datums(items: Vec<Node>, elem: &DataType, ctx: &TextContext) -> Result<Vec<Datum>> {
    items
        .into_iter()
        .map(|n| match n {
            Node::Elem(None) => Ok(Datum::Null),
            Node::Elem(Some(s)) => parse_text(&s, elem, ctx),
            Node::Sub(sub) => Ok(Datum::Array(build_datums(sub, elem, ctx)?)),
        })
        .collect()
}

/// PostgreSQL's `array_in`: `{1,2,NULL}`, quoted elements with backslash
/// escapes, nested braces for multi-dimensional arrays (which must be
/// rectangular), and an optional `[lo:hi]=` decoration (bounds ignored).
pub fn parse_array(input: &str, elem: &DataType, ctx: &TextContext) -> Result<Datum> {
    let mut p = ArrayParser { input, chars: input.chars().collect(), pos: 0 };
    p.skip_space();
    if p.peek() == Some('[') {
        // Dimension decoration: one or more [lo:hi] or [hi], then '='.
        while p.peek() == Some('[') {
            p.pos += 1;
            while p
                .peek()
                .map(|c| c.is_ascii_digit() || c == ':' || c == '-' || c == '+')
                .unwrap_or(false)
            {
                p.pos += 1;
            }
            if p.peek() != Some(']') {
                return Err(p.malformed_full("Missing \"]\" after array dimensions."));
            }
            p.pos += 1;
        }
        p.skip_space();
        if p.peek() != Some('=') {
            return Err(p.malformed_full("Missing \"=\" after array dimensions."));
        }
        p.pos += 1;
        p.skip_space();
    }
    if p.peek() != Some('{') {
        return Err(p.malformed_full("Array value must start with \"{\" or dimension information."));
    }
    let items = p.parse_level(1)?;
    p.skip_space();
    if p.pos != p.chars.len() {
        return Err(p.malformed("Junk after closing right brace."));
    }
    let shape = node_shape(&items);
    if !check_shape(&items, &shape) {
        return Err(
            p.malformed("Multidimensional arrays must have sub-arrays with matching dimensions.")
        );
    }
    Ok(Datum::Array(build_datums(items, elem, ctx)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::{Date, Interval};

    fn ctx() -> TextContext {
        TextContext::default()
    }

    fn rt(input: &str, ty: &DataType) -> String {
        let d = parse_text(input, ty, &ctx()).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        to_text(&d, ty, &ctx())
    }

    fn perr(input: &str, ty: &DataType) -> Error {
        parse_text(input, ty, &ctx()).expect_err(input)
    }

    #[test]
    fn scalars_match_postgres() {
        use DataType::*;
        assert_eq!(rt(" 12 ", &Int2), "12");
        assert_eq!(rt("+12", &Int8), "12");
        assert_eq!(rt("-2147483648", &Int4), "-2147483648");
        assert_eq!(rt("-9223372036854775808", &Int8), "-9223372036854775808");
        let e = perr("abc", &Int4);
        assert_eq!(
            (e.state.code(), e.message.as_str()),
            ("22P02", "invalid input syntax for type integer: \"abc\"")
        );
        let e = perr(" abc", &Int4);
        assert_eq!(e.message, "invalid input syntax for type integer: \" abc\"");
        let e = perr("99999999999", &Int4);
        assert_eq!(
            (e.state.code(), e.message.as_str()),
            ("22003", "value \"99999999999\" is out of range for type integer")
        );
        assert_eq!(
            perr("40000", &Int2).message,
            "value \"40000\" is out of range for type smallint"
        );
        assert_eq!(perr("1.5", &Int4).message, "invalid input syntax for type integer: \"1.5\"");
        assert_eq!(perr("", &Int8).message, "invalid input syntax for type bigint: \"\"");
        for (s, b) in [
            ("t", true),
            ("TRUE", true),
            (" yes ", true),
            ("y", true),
            ("on", true),
            ("1", true),
            ("f", false),
            ("fal", false),
            ("no", false),
            ("N", false),
            ("off", false),
            ("0", false),
        ] {
            assert_eq!(parse_bool(s).expect(s), b, "{s}");
        }
        for s in ["o", "x", "truex", "10", ""] {
            assert!(parse_bool(s).is_err(), "{s}");
        }
        assert_eq!(perr("x", &Bool).message, "invalid input syntax for type boolean: \"x\"");
        assert_eq!(rt("true", &Bool), "t");
        assert_eq!(rt("0.1", &Float8), "0.1");
        assert_eq!(rt("1e20", &Float8), "1e+20");
        assert_eq!(rt("-inf", &Float4), "-Infinity");
        assert_eq!(rt("993.99", &Numeric(None)), "993.99");
        assert_eq!(rt("1", &Numeric(Some((5, 2)))), "1.00");
        assert_eq!(rt("\\x0102", &Bytea), "\\x0102");
        assert_eq!(rt("\\x 01 02 FF", &Bytea), "\\x0102ff");
        assert_eq!(rt("abc\\\\\\001", &Bytea), "\\x6162635c01");
        assert_eq!(perr("\\x0", &Bytea).message, "invalid hexadecimal data: odd number of digits");
        assert_eq!(perr("\\x0g", &Bytea).message, "invalid hexadecimal digit: \"g\"");
        assert_eq!(perr("\\q", &Bytea).message, "invalid input syntax for type bytea");
        assert_eq!(
            rt("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", &Uuid),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        assert_eq!(
            rt("{a0eebc999c0b4ef8bb6d6bb9bd380a11}", &Uuid),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        assert_eq!(
            rt("a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", &Uuid),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        assert_eq!(
            perr("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", &Uuid).message,
            "invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\""
        );
        assert!(parse_uuid(" a0eebc999c0b4ef8bb6d6bb9bd380a11").is_err());
        assert!(parse_uuid("a0eebc99--9c0b4ef8bb6d6bb9bd380a11").is_err());
        assert_eq!(rt("12345", &Oid), "12345");
        assert_eq!(rt("-1", &Oid), "4294967295");
        assert_eq!(
            perr("4294967296", &Oid).message,
            "value \"4294967296\" is out of range for type oid"
        );
        assert_eq!(rt("1259", &RegClass), "1259");
        assert_eq!(perr("nosuch", &RegClass).state.code(), "42P01");
        assert_eq!(rt(" {\"a\" : 1} ", &Json), " {\"a\" : 1} ");
        assert_eq!(rt("{\"b\":1,\"a\":[1,2]}", &Jsonb), "{\"a\": [1, 2], \"b\": 1}");
        assert_eq!(rt("2020-06-25", &Date), "2020-06-25");
        assert_eq!(
            rt("1 year 2 months 3 days 04:05:06.5", &Interval),
            "1 year 2 mons 3 days 04:05:06.5"
        );
        assert_eq!(rt("2020-06-25 12:00:00+02", &TimestampTz), "2020-06-25 10:00:00+00");
        let tz2 = TextContext { time_zone: TimeZone::Fixed(7200) };
        let d = parse_text("2020-06-25 12:00:00+00", &TimestampTz, &ctx()).expect("ok");
        assert_eq!(to_text(&d, &TimestampTz, &tz2), "2020-06-25 14:00:00+02");
    }

    #[test]
    fn strings_match_postgres() {
        use DataType::*;
        assert_eq!(rt("abc", &Varchar(Some(3))), "abc");
        assert_eq!(rt("abc   ", &Varchar(Some(3))), "abc");
        let e = perr("abcd", &Varchar(Some(3)));
        assert_eq!(
            (e.state.code(), e.message.as_str()),
            ("22001", "value too long for type character varying(3)")
        );
        assert_eq!(rt("ab", &Char(Some(4))), "ab  ");
        assert_eq!(rt("héllo", &Char(Some(5))), "héllo");
        assert_eq!(perr("abcdef", &Char(Some(5))).message, "value too long for type character(5)");
        assert_eq!(rt("ab  ", &Char(None)), "ab  ");
        assert_eq!(coerce_varchar("abcdef", Some(2), true).expect("truncate"), "ab");
        let long = "x".repeat(70);
        assert_eq!(rt(&long, &Name).len(), 63);
    }

    #[test]
    fn arrays_match_postgres() {
        let text_arr = DataType::Array(Box::new(DataType::Text));
        let int_arr = DataType::Array(Box::new(DataType::Int4));
        let d = Datum::Array(vec![
            Datum::text("a b"),
            Datum::text("x\"y"),
            Datum::text(""),
            Datum::text("null"),
            Datum::Null,
            Datum::text("a\\b"),
            Datum::text("{}"),
            Datum::text(" "),
            Datum::text("\t"),
        ]);
        assert_eq!(
            to_text(&d, &text_arr, &ctx()),
            "{\"a b\",\"x\\\"y\",\"\",\"null\",NULL,\"a\\\\b\",\"{}\",\" \",\"\t\"}"
        );
        assert_eq!(rt("{{1,2},{3,4}}", &int_arr), "{{1,2},{3,4}}");
        assert_eq!(rt("{}", &int_arr), "{}");
        assert_eq!(rt("{ 1 , 2 }", &int_arr), "{1,2}");
        assert_eq!(rt("[1:2]={1,2}", &int_arr), "{1,2}");
        assert_eq!(rt("{a\\,b,c}", &text_arr), "{\"a,b\",c}");
        assert_eq!(rt("{  a  b  }", &text_arr), "{\"a  b\"}");
        assert_eq!(rt("{NULL,null,\"NULL\",\\NULL}", &text_arr), "{NULL,NULL,\"NULL\",\"NULL\"}");
        assert_eq!(
            rt("{\"2020-01-01 10:00\"}", &DataType::Array(Box::new(DataType::Timestamp))),
            "{\"2020-01-01 10:00:00\"}"
        );
        assert_eq!(rt("{a}", &DataType::Array(Box::new(DataType::Char(Some(3))))), "{\"a  \"}");
        assert_eq!(
            rt("{\"{\\\"a\\\": 1}\"}", &DataType::Array(Box::new(DataType::Jsonb))),
            "{\"{\\\"a\\\": 1}\"}"
        );
        let iv = Datum::Array(vec![Datum::Interval(Interval::new(0, 1, 0))]);
        assert_eq!(
            to_text(&iv, &DataType::Array(Box::new(DataType::Interval)), &ctx()),
            "{\"1 day\"}"
        );
        let dt = Datum::Array(vec![Datum::Date(Date(0)), Datum::Null]);
        assert_eq!(
            to_text(&dt, &DataType::Array(Box::new(DataType::Date)), &ctx()),
            "{2000-01-01,NULL}"
        );
        let cases = [
            ("{1,2", "Unexpected end of input."),
            ("1,2", "Array value must start with \"{\" or dimension information."),
            ("{1,2}x", "Junk after closing right brace."),
            (
                "{{1,2},{3}}",
                "Multidimensional arrays must have sub-arrays with matching dimensions.",
            ),
            ("{1,{2}}", "Unexpected \"{\" character."),
            ("{\"a}", "Unexpected end of input."),
            ("{,}", "Unexpected \",\" character."),
            ("{1,,2}", "Unexpected \",\" character."),
        ];
        for (input, detail) in cases {
            let e = perr(input, &int_arr);
            assert_eq!(e.message, format!("malformed array literal: \"{input}\""));
            assert_eq!(e.detail.as_deref(), Some(detail), "{input}");
            assert_eq!(e.state.code(), "22P02");
        }
        assert_eq!(perr("{1,a}", &int_arr).message, "invalid input syntax for type integer: \"a\"");
    }
}

/// Parses and canonicalises an `inet` value: an IPv4 or IPv6 address with
/// an optional `/prefix`; the prefix is dropped when it covers the whole
/// address, as PostgreSQL prints it.
pub fn parse_inet(input: &str) -> Result<String> {
    let t = input.trim();
    let invalid = || crate::Error::invalid_text("inet", input);
    let (addr, prefix) = match t.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| invalid())?)),
        None => (t, None),
    };
    let ip: std::net::IpAddr = addr.parse().map_err(|_| invalid())?;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    match prefix {
        Some(p) if p > full => Err(invalid()),
        Some(p) if p < full => Ok(format!("{ip}/{p}")),
        _ => Ok(ip.to_string()),
    }
}
