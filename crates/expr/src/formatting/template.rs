//! Templates ("format pictures") of the formatting functions, parsed into
//! typed nodes the way PostgreSQL's `parse_format` does
//! (`src/backend/utils/adt/formatting.c`).
//!
//! A template is scanned left to right. At each position the longest
//! keyword of the template language that starts there wins (the keyword
//! tables are ordered so that the first match is the longest one, as in
//! PostgreSQL); date/time keywords may carry the prefixes `FM` and `TM` and
//! the suffixes `TH`/`th` and `SP`. Text in double quotes is literal (a
//! backslash inside quotes escapes the next character), `\"` outside quotes
//! is a literal quote, and any other character is literal too: date/time
//! templates classify it as a separator (ASCII punctuation), a space or
//! other text, because `to_timestamp` matches those differently. A number
//! template also collects a [`NumberDesc`] (digit counts, sign and decimal
//! options), validating the combination with PostgreSQL's errors (42601).

use freshet_common::{Error, Result, SqlState};

/// How a date/time keyword constrains the date in `to_date`/`to_timestamp`:
/// Gregorian and ISO week-date fields must not be mixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateMode {
    /// The field does not name a date convention (hours, era, ...).
    None,
    /// Day/month/year fields of the Gregorian calendar.
    Gregorian,
    /// ISO 8601 week-date fields (`IYYY`, `IW`, `ID`, `IDDD`).
    IsoWeek,
}

/// Letter case of a name a keyword prints (`MONTH`, `Month`, `month`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameCase {
    Upper,
    Capitalized,
    Lower,
}

/// What a date/time keyword stands for. Keywords that behave identically
/// share a field (`HH` and `HH12`, `SSSS` and `SSSSS`, `cc` and `CC`);
/// the keyword's own spelling is kept for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateField {
    /// `AM`, `PM`, `am`, `pm` (the case is the keyword's).
    Meridiem(NameCase),
    /// `A.M.`, `P.M.`, `a.m.`, `p.m.`.
    MeridiemDotted(NameCase),
    /// `AD`, `BC`, `ad`, `bc`.
    Era(NameCase),
    /// `A.D.`, `B.C.`, `a.d.`, `b.c.`.
    EraDotted(NameCase),
    /// `CC`: century.
    Century,
    /// `DAY`, `Day`, `day`: full weekday name.
    DayName(NameCase),
    /// `DY`, `Dy`, `dy`: abbreviated weekday name.
    DayAbbrev(NameCase),
    /// `DDD`: day of the year (001-366).
    DayOfYear,
    /// `IDDD`: day of the ISO week-numbering year (001-371).
    IsoDayOfYear,
    /// `DD`: day of the month.
    DayOfMonth,
    /// `D`: day of the week, Sunday = 1.
    DayOfWeek,
    /// `ID`: ISO day of the week, Monday = 1.
    IsoDayOfWeek,
    /// `FF1` .. `FF6`: the first n digits of the fractional second.
    Fraction(u8),
    /// `FX`: fixed-format matching in `to_timestamp`/`to_date`.
    FixedFormat,
    /// `HH24`.
    Hour24,
    /// `HH`, `HH12`.
    Hour12,
    /// `IW`: ISO week of the year.
    IsoWeek,
    /// `IYYY`, `IYY`, `IY`, `I`: ISO year, last n digits.
    IsoYear(u8),
    /// `J`: Julian day.
    JulianDay,
    /// `MI`: minute.
    Minute,
    /// `MM`: month number.
    Month,
    /// `MONTH`, `Month`, `month`: full month name.
    MonthName(NameCase),
    /// `MON`, `Mon`, `mon`: abbreviated month name.
    MonthAbbrev(NameCase),
    /// `MS`: millisecond.
    Millisecond,
    /// `OF`: time zone offset from UTC.
    ZoneOffset,
    /// `Q`: quarter.
    Quarter,
    /// `RM`, `rm`: month in Roman numerals.
    RomanMonth(NameCase),
    /// `SSSS`, `SSSSS`: seconds past midnight.
    SecondsOfDay,
    /// `SS`: second.
    Second,
    /// `TZH`: time zone hours.
    ZoneHours,
    /// `TZM`: time zone minutes.
    ZoneMinutes,
    /// `TZ`, `tz`: time zone abbreviation.
    ZoneName(NameCase),
    /// `US`: microsecond.
    Microsecond,
    /// `WW`: week of the year (weeks start on January 1st).
    WeekOfYear,
    /// `W`: week of the month.
    WeekOfMonth,
    /// `Y,YYY`: year with a comma.
    YearComma,
    /// `YYYY`, `YYY`, `YY`, `Y`: year, last n digits.
    Year(u8),
}

/// One keyword of the date/time template language.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DateKeyword {
    /// The spelling, as error messages quote it.
    pub name: &'static str,
    pub field: DateField,
    /// Whether the field reads and writes digits (which decides how
    /// `to_timestamp` delimits a preceding numeric field).
    pub digits: bool,
    pub mode: DateMode,
}

const fn kw(name: &'static str, field: DateField, digits: bool, mode: DateMode) -> DateKeyword {
    DateKeyword {
        name,
        field,
        digits,
        mode,
    }
}

use DateField as F;
use DateMode::{Gregorian as G, IsoWeek as W, None as N};
use NameCase::{Capitalized as Cap, Lower as Lo, Upper as Up};

/// The date/time keywords in PostgreSQL's order (`DCH_keywords`): among
/// keywords with the same first letter, longer ones come first, so the
/// first prefix match is the right one.
static DATE_KEYWORDS: &[DateKeyword] = &[
    kw("A.D.", F::EraDotted(Up), false, N),
    kw("A.M.", F::MeridiemDotted(Up), false, N),
    kw("AD", F::Era(Up), false, N),
    kw("AM", F::Meridiem(Up), false, N),
    kw("B.C.", F::EraDotted(Up), false, N),
    kw("BC", F::Era(Up), false, N),
    kw("CC", F::Century, true, N),
    kw("DAY", F::DayName(Up), false, N),
    kw("DDD", F::DayOfYear, true, G),
    kw("DD", F::DayOfMonth, true, G),
    kw("DY", F::DayAbbrev(Up), false, N),
    kw("Day", F::DayName(Cap), false, N),
    kw("Dy", F::DayAbbrev(Cap), false, N),
    kw("D", F::DayOfWeek, true, G),
    kw("FF1", F::Fraction(1), true, N),
    kw("FF2", F::Fraction(2), true, N),
    kw("FF3", F::Fraction(3), true, N),
    kw("FF4", F::Fraction(4), true, N),
    kw("FF5", F::Fraction(5), true, N),
    kw("FF6", F::Fraction(6), true, N),
    kw("FX", F::FixedFormat, false, N),
    kw("HH24", F::Hour24, true, N),
    kw("HH12", F::Hour12, true, N),
    kw("HH", F::Hour12, true, N),
    kw("IDDD", F::IsoDayOfYear, true, W),
    kw("ID", F::IsoDayOfWeek, true, W),
    kw("IW", F::IsoWeek, true, W),
    kw("IYYY", F::IsoYear(4), true, W),
    kw("IYY", F::IsoYear(3), true, W),
    kw("IY", F::IsoYear(2), true, W),
    kw("I", F::IsoYear(1), true, W),
    kw("J", F::JulianDay, true, N),
    kw("MI", F::Minute, true, N),
    kw("MM", F::Month, true, G),
    kw("MONTH", F::MonthName(Up), false, G),
    kw("MON", F::MonthAbbrev(Up), false, G),
    kw("MS", F::Millisecond, true, N),
    kw("Month", F::MonthName(Cap), false, G),
    kw("Mon", F::MonthAbbrev(Cap), false, G),
    kw("OF", F::ZoneOffset, false, N),
    kw("P.M.", F::MeridiemDotted(Up), false, N),
    kw("PM", F::Meridiem(Up), false, N),
    kw("Q", F::Quarter, true, N),
    kw("RM", F::RomanMonth(Up), false, G),
    kw("SSSSS", F::SecondsOfDay, true, N),
    kw("SSSS", F::SecondsOfDay, true, N),
    kw("SS", F::Second, true, N),
    kw("TZH", F::ZoneHours, false, N),
    kw("TZM", F::ZoneMinutes, true, N),
    kw("TZ", F::ZoneName(Up), false, N),
    kw("US", F::Microsecond, true, N),
    kw("WW", F::WeekOfYear, true, G),
    kw("W", F::WeekOfMonth, true, G),
    kw("Y,YYY", F::YearComma, true, G),
    kw("YYYY", F::Year(4), true, G),
    kw("YYY", F::Year(3), true, G),
    kw("YY", F::Year(2), true, G),
    kw("Y", F::Year(1), true, G),
    kw("a.d.", F::EraDotted(Lo), false, N),
    kw("a.m.", F::MeridiemDotted(Lo), false, N),
    kw("ad", F::Era(Lo), false, N),
    kw("am", F::Meridiem(Lo), false, N),
    kw("b.c.", F::EraDotted(Lo), false, N),
    kw("bc", F::Era(Lo), false, N),
    kw("cc", F::Century, true, N),
    kw("day", F::DayName(Lo), false, N),
    kw("ddd", F::DayOfYear, true, G),
    kw("dd", F::DayOfMonth, true, G),
    kw("dy", F::DayAbbrev(Lo), false, N),
    kw("d", F::DayOfWeek, true, G),
    kw("ff1", F::Fraction(1), true, N),
    kw("ff2", F::Fraction(2), true, N),
    kw("ff3", F::Fraction(3), true, N),
    kw("ff4", F::Fraction(4), true, N),
    kw("ff5", F::Fraction(5), true, N),
    kw("ff6", F::Fraction(6), true, N),
    kw("fx", F::FixedFormat, false, N),
    kw("hh24", F::Hour24, true, N),
    kw("hh12", F::Hour12, true, N),
    kw("hh", F::Hour12, true, N),
    kw("iddd", F::IsoDayOfYear, true, W),
    kw("id", F::IsoDayOfWeek, true, W),
    kw("iw", F::IsoWeek, true, W),
    kw("iyyy", F::IsoYear(4), true, W),
    kw("iyy", F::IsoYear(3), true, W),
    kw("iy", F::IsoYear(2), true, W),
    kw("i", F::IsoYear(1), true, W),
    kw("j", F::JulianDay, true, N),
    kw("mi", F::Minute, true, N),
    kw("mm", F::Month, true, G),
    kw("month", F::MonthName(Lo), false, G),
    kw("mon", F::MonthAbbrev(Lo), false, G),
    kw("ms", F::Millisecond, true, N),
    kw("of", F::ZoneOffset, false, N),
    kw("p.m.", F::MeridiemDotted(Lo), false, N),
    kw("pm", F::Meridiem(Lo), false, N),
    kw("q", F::Quarter, true, N),
    kw("rm", F::RomanMonth(Lo), false, G),
    kw("sssss", F::SecondsOfDay, true, N),
    kw("ssss", F::SecondsOfDay, true, N),
    kw("ss", F::Second, true, N),
    kw("tzh", F::ZoneHours, false, N),
    kw("tzm", F::ZoneMinutes, true, N),
    kw("tz", F::ZoneName(Lo), false, N),
    kw("us", F::Microsecond, true, N),
    kw("ww", F::WeekOfYear, true, G),
    kw("w", F::WeekOfMonth, true, G),
    kw("y,yyy", F::YearComma, true, G),
    kw("yyyy", F::Year(4), true, G),
    kw("yyy", F::Year(3), true, G),
    kw("yy", F::Year(2), true, G),
    kw("y", F::Year(1), true, G),
];

/// Ordinal suffix case (`TH` gives `ST`/`ND`/`RD`/`TH`, `th` lowercase).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OrdinalCase {
    Upper,
    Lower,
}

/// The modifiers attached to one date/time keyword.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Modifiers {
    /// `FM` prefix: fill mode (no padding; variable-width input).
    pub fill_mode: bool,
    /// `TM` prefix: translation mode (localized names; Freshet's only
    /// locale is English, so names come out unpadded and otherwise
    /// unchanged).
    pub translate: bool,
    /// `TH`/`th` suffix: ordinal number suffix.
    pub ordinal: Option<OrdinalCase>,
    /// `SP` suffix: accepted and ignored, as in PostgreSQL.
    pub spell: bool,
}

/// One node of a parsed date/time template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DateNode {
    /// A keyword with its modifiers.
    Field {
        keyword: &'static DateKeyword,
        modifiers: Modifiers,
    },
    /// A character printed as is (quoted text, letters, non-ASCII).
    Literal(char),
    /// ASCII punctuation outside quotes.
    Separator(char),
    /// White space outside quotes.
    Space(char),
}

/// A parsed date/time template: what `to_char(timestamp, text)`,
/// `to_date` and `to_timestamp` interpret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DateTemplate {
    pub nodes: Vec<DateNode>,
}

/// PostgreSQL's `is_separator_char`: ASCII printable, not a letter or digit.
pub(crate) fn is_separator_char(c: u8) -> bool {
    c > 0x20 && c < 0x7F && !c.is_ascii_alphanumeric()
}

/// C's `isspace` in the C locale.
pub(crate) fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// For each ASCII byte, the range of a keyword table whose names start
/// with it (PostgreSQL's `DCH_index`/`NUM_index`); the tables keep such
/// keywords together.
type KeywordIndex = [(u8, u8); 128];

fn build_index(names: impl Iterator<Item = &'static str>) -> KeywordIndex {
    let mut index = [(0u8, 0u8); 128];
    for (i, name) in names.enumerate() {
        let first = name.as_bytes()[0] as usize;
        let i = u8::try_from(i).expect("keyword tables have fewer than 256 entries");
        let entry = &mut index[first];
        if entry.0 == entry.1 {
            *entry = (i, i + 1);
        } else {
            assert_eq!(
                entry.1, i,
                "keywords starting with {name:?} are not contiguous"
            );
            entry.1 = i + 1;
        }
    }
    index
}

/// A keyword of `table` that starts `rest`: the first one, in table order,
/// among those sharing its first character (PostgreSQL's
/// `index_seq_search`; only printable ASCII can start a keyword).
fn find_keyword<'t, K>(
    rest: &str,
    table: &'t [K],
    index: &KeywordIndex,
    name: impl Fn(&K) -> &'static str,
) -> Option<&'t K> {
    let first = *rest.as_bytes().first()?;
    if first <= b' ' || first >= b'~' {
        return None;
    }
    let (start, end) = index[first as usize];
    table[start as usize..end as usize]
        .iter()
        .find(|k| rest.starts_with(name(k)))
}

fn date_index() -> &'static KeywordIndex {
    static INDEX: std::sync::OnceLock<KeywordIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| build_index(DATE_KEYWORDS.iter().map(|k| k.name)))
}

fn number_index() -> &'static KeywordIndex {
    static INDEX: std::sync::OnceLock<KeywordIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| build_index(NUMBER_KEYWORDS.iter().map(|k| k.name)))
}

/// Splits off the next character of a template outside keywords, handling
/// double quotes and `\"` as PostgreSQL does. Returns the literal characters
/// it produced (several for a quoted string) and whether they were quoted.
fn take_literal(rest: &str) -> (Vec<char>, bool, usize) {
    let mut chars = rest.char_indices().peekable();
    match chars.next() {
        Some((_, '"')) => {
            let mut out = Vec::new();
            let mut consumed = rest.len();
            let mut escaped_next = false;
            for (i, c) in chars {
                if escaped_next {
                    out.push(c);
                    escaped_next = false;
                    continue;
                }
                match c {
                    '"' => {
                        consumed = i + 1;
                        break;
                    }
                    // A backslash escapes the next character, if any; a
                    // trailing backslash is itself literal.
                    '\\' if i + 1 < rest.len() => escaped_next = true,
                    other => out.push(other),
                }
            }
            (out, true, consumed)
        }
        Some((_, '\\')) if rest[1..].starts_with('"') => (vec!['"'], false, 2),
        Some((_, c)) => (vec![c], false, c.len_utf8()),
        None => (vec![], false, 0),
    }
}

impl DateTemplate {
    /// Parses a date/time template. Never fails: every character is either
    /// part of a keyword or literal.
    pub fn parse(template: &str) -> DateTemplate {
        let mut nodes = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            let mut modifiers = Modifiers::default();
            // A prefix is consumed even when no keyword follows it (then it
            // disappears from the output, as in PostgreSQL).
            if let Some(prefix) = ["FM", "fm", "TM", "tm"]
                .into_iter()
                .find(|p| rest.starts_with(p))
            {
                if prefix.eq_ignore_ascii_case("FM") {
                    modifiers.fill_mode = true;
                } else {
                    modifiers.translate = true;
                }
                rest = &rest[2..];
            }
            if let Some(keyword) = find_keyword(rest, DATE_KEYWORDS, date_index(), |k| k.name) {
                rest = &rest[keyword.name.len()..];
                if let Some(suffix) = ["TH", "th", "SP"].into_iter().find(|s| rest.starts_with(s)) {
                    match suffix {
                        "TH" => modifiers.ordinal = Some(OrdinalCase::Upper),
                        "th" => modifiers.ordinal = Some(OrdinalCase::Lower),
                        _ => modifiers.spell = true,
                    }
                    rest = &rest[2..];
                }
                nodes.push(DateNode::Field { keyword, modifiers });
                continue;
            }
            let (chars, quoted, consumed) = take_literal(rest);
            rest = &rest[consumed..];
            for c in chars {
                nodes.push(if quoted || !c.is_ascii() {
                    DateNode::Literal(c)
                } else if is_separator_char(c as u8) {
                    DateNode::Separator(c)
                } else if is_c_space(c as u8) {
                    DateNode::Space(c)
                } else {
                    DateNode::Literal(c)
                });
            }
        }
        DateTemplate { nodes }
    }
}

// ---------------------------------------------------------------------------
// Number templates

/// What a number-template keyword stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumberField {
    /// `,`: group separator.
    Comma,
    /// `.`: decimal point.
    Point,
    /// `0`: digit, zero-filled.
    Zero,
    /// `9`: digit, blank-filled.
    Nine,
    /// `B`: accepted; it only changes padding flags.
    Blank,
    /// `C`: accepted and prints nothing (PostgreSQL reserves it).
    Currency,
    /// `D`: locale decimal point.
    LocaleDecimal,
    /// `EEEE`: scientific notation.
    Exponent,
    /// `FM`: fill mode.
    FillMode,
    /// `G`: locale group separator.
    Group,
    /// `L`: locale currency symbol.
    LocaleCurrency,
    /// `MI`: minus sign if negative.
    Minus,
    /// `PL`: plus sign if positive.
    Plus,
    /// `PR`: negative value in angle brackets.
    Brackets,
    /// `RN`/`rn`: Roman numerals.
    Roman(NameCase),
    /// `SG`: plus or minus sign.
    SignAlways,
    /// `SP`: accepted and prints nothing.
    Spell,
    /// `S`: sign anchored to the number.
    Sign,
    /// `TH`/`th`: ordinal suffix.
    Ordinal(OrdinalCase),
    /// `V`: shift by 10^n (n = digits after V).
    Multiply,
}

/// One keyword of the number template language.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NumberKeyword {
    pub name: &'static str,
    pub field: NumberField,
}

const fn nk(name: &'static str, field: NumberField) -> NumberKeyword {
    NumberKeyword { name, field }
}

use NumberField as NF;

/// The number keywords in PostgreSQL's order (`NUM_keywords`).
static NUMBER_KEYWORDS: &[NumberKeyword] = &[
    nk(",", NF::Comma),
    nk(".", NF::Point),
    nk("0", NF::Zero),
    nk("9", NF::Nine),
    nk("B", NF::Blank),
    nk("C", NF::Currency),
    nk("D", NF::LocaleDecimal),
    nk("EEEE", NF::Exponent),
    nk("FM", NF::FillMode),
    nk("G", NF::Group),
    nk("L", NF::LocaleCurrency),
    nk("MI", NF::Minus),
    nk("PL", NF::Plus),
    nk("PR", NF::Brackets),
    nk("RN", NF::Roman(Up)),
    nk("SG", NF::SignAlways),
    nk("SP", NF::Spell),
    nk("S", NF::Sign),
    nk("TH", NF::Ordinal(OrdinalCase::Upper)),
    nk("V", NF::Multiply),
    nk("b", NF::Blank),
    nk("c", NF::Currency),
    nk("d", NF::LocaleDecimal),
    nk("eeee", NF::Exponent),
    nk("fm", NF::FillMode),
    nk("g", NF::Group),
    nk("l", NF::LocaleCurrency),
    nk("mi", NF::Minus),
    nk("pl", NF::Plus),
    nk("pr", NF::Brackets),
    nk("rn", NF::Roman(Lo)),
    nk("sg", NF::SignAlways),
    nk("sp", NF::Spell),
    nk("s", NF::Sign),
    nk("th", NF::Ordinal(OrdinalCase::Lower)),
    nk("v", NF::Multiply),
];

/// Where the `S` sign goes relative to the digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SignPosition {
    #[default]
    None,
    /// Before the number (`S9999`).
    Leading,
    /// After the number (`9999S`, or `S` after the decimal point).
    Trailing,
}

/// What a number template asks for, collected while parsing it
/// (PostgreSQL's `NUMDesc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NumberDesc {
    /// Digit positions (`9`/`0`) before the decimal point.
    pub pre: i32,
    /// Digit positions after the decimal point.
    pub post: i32,
    /// Where an `S` puts the sign.
    pub sign_position: SignPosition,
    /// `pre` when the `S` was seen (to tell `S9` from `9S`).
    pub pre_sign_position: i32,
    /// Digits after `V`.
    pub multiplier: i32,
    /// 1-based position of the first `0` before the point, 0 if none.
    pub zero_start: i32,
    /// Position of the last `0`.
    pub zero_end: i32,
    pub decimal: bool,
    pub locale_decimal: bool,
    pub zero: bool,
    pub blank: bool,
    pub fill_mode: bool,
    /// `S` was used.
    pub locale_sign: bool,
    pub brackets: bool,
    pub minus: bool,
    pub plus: bool,
    pub roman: bool,
    pub multiply: bool,
    /// `MI` after the decimal point.
    pub minus_post: bool,
    /// `PL` after the decimal point.
    pub plus_post: bool,
    pub exponent: bool,
}

/// One node of a parsed number template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NumberNode {
    Field(&'static NumberKeyword),
    /// A literal character (quoted or not).
    Literal(char),
    /// White space.
    Space(char),
}

/// A parsed number template: what `to_char(number, text)` and
/// `to_number` interpret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NumberTemplate {
    pub nodes: Vec<NumberNode>,
    pub desc: NumberDesc,
}

fn template_error(message: &str) -> Error {
    Error::new(SqlState::SyntaxError, message.to_string())
}

impl NumberDesc {
    /// Accounts for one keyword (PostgreSQL's `NUMDesc_prepare`), refusing
    /// the combinations PostgreSQL refuses.
    fn add(&mut self, field: NumberField) -> Result<()> {
        if self.exponent && field != NF::Exponent {
            return Err(template_error("\"EEEE\" must be the last pattern used"));
        }
        match field {
            NF::Nine => {
                if self.brackets {
                    return Err(template_error("\"9\" must be ahead of \"PR\""));
                }
                if self.multiply {
                    self.multiplier += 1;
                } else if self.decimal {
                    self.post += 1;
                } else {
                    self.pre += 1;
                }
            }
            NF::Zero => {
                if self.brackets {
                    return Err(template_error("\"0\" must be ahead of \"PR\""));
                }
                if !self.zero && !self.decimal {
                    self.zero = true;
                    self.zero_start = self.pre + 1;
                }
                if !self.decimal {
                    self.pre += 1;
                } else {
                    self.post += 1;
                }
                self.zero_end = self.pre + self.post;
            }
            NF::Blank => {
                if self.pre == 0 && self.post == 0 && !self.zero {
                    self.blank = true;
                }
            }
            NF::LocaleDecimal | NF::Point => {
                if field == NF::LocaleDecimal {
                    self.locale_decimal = true;
                }
                if self.decimal {
                    return Err(template_error("multiple decimal points"));
                }
                if self.multiply {
                    return Err(template_error(
                        "cannot use \"V\" and decimal point together",
                    ));
                }
                self.decimal = true;
            }
            NF::FillMode => self.fill_mode = true,
            NF::Sign => {
                if self.locale_sign {
                    return Err(template_error("cannot use \"S\" twice"));
                }
                if self.plus || self.minus || self.brackets {
                    return Err(template_error(
                        "cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together",
                    ));
                }
                if !self.decimal {
                    self.sign_position = SignPosition::Leading;
                    self.pre_sign_position = self.pre;
                    self.locale_sign = true;
                } else if self.sign_position == SignPosition::None {
                    self.sign_position = SignPosition::Trailing;
                    self.locale_sign = true;
                }
            }
            NF::Minus => {
                if self.locale_sign {
                    return Err(template_error("cannot use \"S\" and \"MI\" together"));
                }
                self.minus = true;
                if self.decimal {
                    self.minus_post = true;
                }
            }
            NF::Plus => {
                if self.locale_sign {
                    return Err(template_error("cannot use \"S\" and \"PL\" together"));
                }
                self.plus = true;
                if self.decimal {
                    self.plus_post = true;
                }
            }
            NF::SignAlways => {
                if self.locale_sign {
                    return Err(template_error("cannot use \"S\" and \"SG\" together"));
                }
                self.minus = true;
                self.plus = true;
            }
            NF::Brackets => {
                if self.locale_sign || self.plus || self.minus {
                    return Err(template_error(
                        "cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together",
                    ));
                }
                self.brackets = true;
            }
            NF::Roman(_) => self.roman = true,
            NF::Multiply => {
                if self.decimal {
                    return Err(template_error(
                        "cannot use \"V\" and decimal point together",
                    ));
                }
                self.multiply = true;
            }
            NF::Exponent => {
                if self.exponent {
                    return Err(template_error("cannot use \"EEEE\" twice"));
                }
                if self.blank
                    || self.fill_mode
                    || self.locale_sign
                    || self.brackets
                    || self.minus
                    || self.plus
                    || self.roman
                    || self.multiply
                {
                    return Err(template_error("\"EEEE\" is incompatible with other formats").with_detail(
                        "\"EEEE\" may only be used together with digit and decimal point patterns.",
                    ));
                }
                self.exponent = true;
            }
            NF::Comma
            | NF::Currency
            | NF::Group
            | NF::LocaleCurrency
            | NF::Spell
            | NF::Ordinal(_) => {}
        }
        Ok(())
    }
}

impl NumberTemplate {
    /// Parses a number template; 42601 for combinations PostgreSQL refuses
    /// (two decimal points, `S` with `PL`, `EEEE` not last, ...).
    pub fn parse(template: &str) -> Result<NumberTemplate> {
        let mut nodes = Vec::new();
        let mut desc = NumberDesc::default();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(keyword) = find_keyword(rest, NUMBER_KEYWORDS, number_index(), |k| k.name) {
                rest = &rest[keyword.name.len()..];
                desc.add(keyword.field)?;
                nodes.push(NumberNode::Field(keyword));
                continue;
            }
            let (chars, quoted, consumed) = take_literal(rest);
            rest = &rest[consumed..];
            for c in chars {
                nodes.push(if !quoted && c.is_ascii() && is_c_space(c as u8) {
                    NumberNode::Space(c)
                } else {
                    NumberNode::Literal(c)
                });
            }
        }
        Ok(NumberTemplate { nodes, desc })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &DateTemplate) -> Vec<String> {
        t.nodes
            .iter()
            .map(|n| match n {
                DateNode::Field { keyword, modifiers } => format!(
                    "{}{}{}{}",
                    if modifiers.fill_mode { "FM:" } else { "" },
                    if modifiers.translate { "TM:" } else { "" },
                    keyword.name,
                    match modifiers.ordinal {
                        Some(OrdinalCase::Upper) => ":TH",
                        Some(OrdinalCase::Lower) => ":th",
                        None => "",
                    }
                ),
                DateNode::Literal(c) => format!("lit({c})"),
                DateNode::Separator(c) => format!("sep({c})"),
                DateNode::Space(_) => "space".to_string(),
            })
            .collect()
    }

    #[test]
    fn longest_keyword_wins() {
        let t = DateTemplate::parse("HH24HH12HHSSSSSSSSSYYYYY,YYYDDDD");
        assert_eq!(
            names(&t),
            ["HH24", "HH12", "HH", "SSSSS", "SSSS", "YYYY", "Y,YYY", "DDD", "D"]
        );
    }

    #[test]
    fn modifiers_attach_to_keywords() {
        let t = DateTemplate::parse("FMDDth TMMonth FMxSP DDSP");
        assert_eq!(
            names(&t),
            [
                "FM:DD:th", "space", "TM:Month", "space", "lit(x)", "lit(S)", "lit(P)", "space",
                "DD"
            ]
        );
        let Some(DateNode::Field { modifiers, .. }) = t.nodes.last() else {
            panic!("expected a field")
        };
        assert!(modifiers.spell);
    }

    #[test]
    fn quotes_and_escapes_make_literals() {
        let t = DateTemplate::parse(r#""Day \"1\"" \"YYYY-"#);
        assert_eq!(
            names(&t),
            [
                "lit(D)", "lit(a)", "lit(y)", "lit( )", "lit(\")", "lit(1)", "lit(\")", "space",
                "sep(\")", "YYYY", "sep(-)"
            ]
        );
        // An unterminated quote runs to the end; a trailing backslash stays.
        let t = DateTemplate::parse("\"ab\\");
        assert_eq!(names(&t), ["lit(a)", "lit(b)", "lit(\\)"]);
    }

    #[test]
    fn non_ascii_is_literal() {
        let t = DateTemplate::parse("DD→MM");
        assert_eq!(names(&t), ["DD", "lit(→)", "MM"]);
    }

    #[test]
    fn number_template_counts_digits() {
        let t = NumberTemplate::parse("FM9,990.00PR").expect("valid template");
        assert_eq!(
            (t.desc.pre, t.desc.post, t.desc.zero_start, t.desc.zero_end),
            (4, 2, 4, 6)
        );
        assert!(t.desc.fill_mode && t.desc.brackets && t.desc.decimal);
        let t = NumberTemplate::parse("99V999").expect("valid template");
        assert_eq!((t.desc.pre, t.desc.multiplier), (2, 3));
        let t = NumberTemplate::parse("S999").expect("valid template");
        assert_eq!(t.desc.sign_position, SignPosition::Leading);
        let t = NumberTemplate::parse("9.99S").expect("valid template");
        assert_eq!(t.desc.sign_position, SignPosition::Trailing);
    }

    #[test]
    fn number_template_refuses_bad_combinations() {
        for (template, message) in [
            ("9.9.9", "multiple decimal points"),
            ("S9S", "cannot use \"S\" twice"),
            ("S9PL", "cannot use \"S\" and \"PL\" together"),
            ("PR9", "\"9\" must be ahead of \"PR\""),
            ("9V9.9", "cannot use \"V\" and decimal point together"),
            ("9EEEE9", "\"EEEE\" must be the last pattern used"),
            ("FM9EEEE", "\"EEEE\" is incompatible with other formats"),
        ] {
            let err = NumberTemplate::parse(template).expect_err(template);
            assert_eq!(
                (err.state, err.message.as_str()),
                (SqlState::SyntaxError, message),
                "{template}"
            );
        }
    }
}
