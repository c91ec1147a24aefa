//! The `datagen` connector (RisingWave's built-in load generator).
//!
//! Options (RisingWave's names and defaults):
//! - `datagen.rows.per.second` (default 10): the rate;
//! - `datagen.split.num` (default 1): accepted for compatibility; Freshet
//!   generates one stream whatever its value;
//! - per column, `fields.<col>.kind` = `random` (default) or `sequence`;
//!   a sequence has `start` (default 0) and `end` (default 32767), and the
//!   source stops after the first of its sequences reaches its end;
//!   random values have `min`/`max` (numbers, default 0 and 32767),
//!   `length` (strings, default 10), `max_past` (timestamps and dates, an
//!   interval back from the time the row is generated, default 1 day),
//!   `max_past_mode` (`absolute` or `relative`, both measured from the
//!   generation time here) and `seed` (default 0).
//!
//! Row `n` (counting from 0) is a pure function of the definition and `n`
//! (random values come from a hash of the seed, the column and `n`; only
//! timestamps also depend on the clock), so the driver stores nothing but
//! the number of rows emitted and a restart continues the sequences.

use freshet_common::io::text::{parse_text, TextContext};
use freshet_common::numeric::Numeric;
use freshet_common::{DataType, Datum, Error, Result, Row, SqlState, TimestampTz};

use crate::{bad_value, option, unknown_option, ColumnSpec};

/// The rate when `datagen.rows.per.second` is not given (RisingWave's).
pub const DEFAULT_ROWS_PER_SECOND: u64 = 10;

/// The longest random string (`fields.<col>.length`): a batch holds up
/// to 10,000 rows, so this bounds a batch's strings to about 100 MB.
pub const STRING_LENGTH_MAX: usize = 10_000;

/// A checked datagen definition.
#[derive(Clone, Debug)]
pub struct DatagenSpec {
    /// `datagen.rows.per.second`: rows generated per second, 1 to 1,000,000.
    pub rows_per_second: u64,
    /// `datagen.split.num`: accepted and kept, not used (one stream).
    pub split_num: u64,
    fields: Vec<Field>,
}

#[derive(Clone, Debug)]
struct Field {
    name: String,
    ty: DataType,
    generator: FieldGenerator,
}

#[derive(Clone, Debug)]
enum FieldGenerator {
    /// `start + n` up to `end`, exact decimals.
    Sequence {
        start: Numeric,
        end: Numeric,
    },
    /// Uniform integers in `[min, max]`.
    RandomInt {
        min: i64,
        max: i64,
        seed: u64,
    },
    /// Uniform floats in `[min, max)`.
    RandomFloat {
        min: f64,
        max: f64,
        seed: u64,
    },
    /// Alphanumeric strings of `length` characters.
    RandomString {
        length: usize,
        seed: u64,
    },
    RandomBool {
        seed: u64,
    },
    /// The generation time minus a uniform part of `max_past_micros`.
    RandomTime {
        max_past_micros: i64,
        seed: u64,
    },
}

const FIELD_PARAMETERS: &[&str] = &[
    "kind",
    "start",
    "end",
    "min",
    "max",
    "length",
    "seed",
    "max_past",
    "max_past_mode",
];

impl DatagenSpec {
    /// Checks the options against the columns (see the module comment).
    pub fn parse(options: &[(String, String)], columns: &[ColumnSpec]) -> Result<DatagenSpec> {
        for (key, _) in options {
            if key == "connector" || key == "datagen.rows.per.second" || key == "datagen.split.num"
            {
                continue;
            }
            let Some(rest) = key.strip_prefix("fields.") else {
                return Err(unknown_option("datagen", key));
            };
            let Some((column, parameter)) = rest.rsplit_once('.') else {
                return Err(unknown_option("datagen", key));
            };
            if !FIELD_PARAMETERS.contains(&parameter) {
                return Err(unknown_option("datagen", key));
            }
            if find_column(columns, column).is_none() {
                return Err(Error::new(
                    SqlState::InvalidParameterValue,
                    format!("option \"{key}\" names column \"{column}\", which the source does not have"),
                ));
            }
        }
        let rows_per_second = match option(options, "datagen.rows.per.second") {
            None => DEFAULT_ROWS_PER_SECOND,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| {
                    bad_value("datagen.rows.per.second", v, "an integer from 1 to 1000000")
                })?,
        };
        let split_num = match option(options, "datagen.split.num") {
            None => 1,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1024).contains(n))
                .ok_or_else(|| bad_value("datagen.split.num", v, "an integer from 1 to 1024"))?,
        };
        let mut fields = Vec::with_capacity(columns.len());
        for (name, ty) in columns {
            let param = |p: &str| {
                let exact = format!("fields.{name}.{p}");
                options
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == exact || k.eq_ignore_ascii_case(&exact))
                    .map(|(k, v)| (k.clone(), v.clone()))
            };
            let generator = field_generator(name, ty, &param)?;
            fields.push(Field {
                name: name.clone(),
                ty: ty.clone(),
                generator,
            });
        }
        Ok(DatagenSpec {
            rows_per_second,
            split_num,
            fields,
        })
    }

    /// How many rows the source produces in all: `None` when it never
    /// ends (no sequence column), else the length of its shortest sequence.
    pub fn rows_total(&self) -> Option<u64> {
        self.fields
            .iter()
            .filter_map(|f| match &f.generator {
                FieldGenerator::Sequence { start, end } => Some(sequence_length(start, end)),
                _ => None,
            })
            .min()
    }

    /// Row `n` (from 0), generated at `now`. Fails when a value does not
    /// fit its column (a sequence running past `integer`, say).
    pub fn row(&self, n: u64, now: TimestampTz) -> Result<Row> {
        let ctx = TextContext::default();
        let mut row = Vec::with_capacity(self.fields.len());
        for (column, f) in self.fields.iter().enumerate() {
            let value = match &f.generator {
                FieldGenerator::Sequence { start, .. } => {
                    let offset = Numeric::new(
                        i64::try_from(n)
                            .map_err(|_| Error::internal("datagen row number overflows"))?,
                        0,
                    );
                    let value = start.checked_add(&offset)?;
                    let mut text = String::new();
                    freshet_common::numeric::format_numeric(&value, &mut text);
                    parse_text(&text, &f.ty, &ctx)?
                }
                FieldGenerator::RandomInt { min, max, seed } => {
                    let span = (*max as i128 - *min as i128 + 1) as u128;
                    let r = (random(*seed, column, n) as u128) % span;
                    let value = (*min as i128 + r as i128) as i64;
                    match f.ty {
                        DataType::Int2 => Datum::Int2(value as i16),
                        DataType::Int4 => Datum::Int4(value as i32),
                        _ => Datum::Int8(value),
                    }
                }
                FieldGenerator::RandomFloat { min, max, seed } => {
                    let value = min + unit(random(*seed, column, n)) * (max - min);
                    match f.ty {
                        DataType::Float4 => Datum::Float4(freshet_common::F32(value as f32)),
                        DataType::Float8 => Datum::Float8(freshet_common::F64(value)),
                        _ => parse_text(&format!("{value:.6}"), &f.ty, &ctx)?,
                    }
                }
                FieldGenerator::RandomString { length, seed } => {
                    const ALPHABET: &[u8] =
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                    let mut state = random(*seed, column, n);
                    let text: String = (0..*length)
                        .map(|_| {
                            state = splitmix64(state);
                            ALPHABET[(state % ALPHABET.len() as u64) as usize] as char
                        })
                        .collect();
                    parse_text(&text, &f.ty, &ctx)?
                }
                FieldGenerator::RandomBool { seed } => {
                    Datum::Bool(random(*seed, column, n) & 1 == 1)
                }
                FieldGenerator::RandomTime {
                    max_past_micros,
                    seed,
                } => {
                    let back = (unit(random(*seed, column, n)) * *max_past_micros as f64) as i64;
                    let micros = now.0.saturating_sub(back);
                    match f.ty {
                        DataType::Timestamp => Datum::Timestamp(freshet_common::Timestamp(micros)),
                        DataType::TimestampTz => Datum::TimestampTz(TimestampTz(micros)),
                        _ => Datum::Date(freshet_common::Date(
                            micros.div_euclid(86_400_000_000) as i32
                        )),
                    }
                }
            };
            row.push(value);
        }
        Ok(row)
    }

    /// The column names, in order (for log lines).
    pub fn column_names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }
}

fn find_column<'a>(columns: &'a [ColumnSpec], name: &str) -> Option<&'a ColumnSpec> {
    columns
        .iter()
        .find(|(c, _)| c == name)
        .or_else(|| columns.iter().find(|(c, _)| c.eq_ignore_ascii_case(name)))
}

/// The generator of one column from its `fields.<col>.*` options.
fn field_generator(
    column: &str,
    ty: &DataType,
    param: &dyn Fn(&str) -> Option<(String, String)>,
) -> Result<FieldGenerator> {
    let kind = match param("kind") {
        None => "random".to_string(),
        Some((key, v)) => match v.to_lowercase().as_str() {
            k @ ("random" | "sequence") => k.to_string(),
            _ => return Err(bad_value(&key, &v, "random or sequence")),
        },
    };
    let unsupported = || {
        Error::new(
            SqlState::FeatureNotSupported,
            format!("connector \"datagen\" cannot generate {kind} values of type {} (column \"{column}\")", ty),
        )
    };
    let seed = match param("seed") {
        None => 0,
        Some((key, v)) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| bad_value(&key, &v, "a non-negative integer"))?,
    };
    let number = |p: &str, default: &str| -> Result<Numeric> {
        let (key, v) =
            param(p).unwrap_or_else(|| (format!("fields.{column}.{p}"), default.to_string()));
        Numeric::parse(v.trim())
            .ok()
            .filter(Numeric::is_finite)
            .ok_or_else(|| bad_value(&key, &v, "a number"))
    };
    let numeric_type = matches!(
        ty,
        DataType::Int2
            | DataType::Int4
            | DataType::Int8
            | DataType::Float4
            | DataType::Float8
            | DataType::Numeric(_)
    );
    let string_type = matches!(ty, DataType::Text | DataType::Varchar(_));
    if kind == "sequence" {
        if !(numeric_type || string_type) {
            return Err(unsupported());
        }
        let start = number("start", "0")?;
        let end = number("end", "32767")?;
        if end < start {
            return Err(Error::new(
                SqlState::InvalidParameterValue,
                format!("the sequence of column \"{column}\" ends before it starts"),
            )
            .with_detail(format!(
                "Option \"fields.{column}.end\" must not be less than \"fields.{column}.start\"."
            )));
        }
        // Both ends must fit the column (a sequence of smallint past 32767 would fail later).
        if numeric_type {
            let ctx = TextContext::default();
            for (p, value) in [("start", &start), ("end", &end)] {
                let mut text = String::new();
                freshet_common::numeric::format_numeric(value, &mut text);
                parse_text(&text, ty, &ctx).map_err(|e| {
                    bad_value(
                        &format!("fields.{column}.{p}"),
                        &text,
                        &format!("a value of type {} ({})", ty, e.message),
                    )
                })?;
            }
        }
        return Ok(FieldGenerator::Sequence { start, end });
    }
    if param("start").is_some() || param("end").is_some() {
        return Err(Error::new(
            SqlState::InvalidParameterValue,
            format!("options \"start\" and \"end\" of column \"{column}\" need fields.{column}.kind = 'sequence'"),
        ));
    }
    match ty {
        DataType::Int2 | DataType::Int4 | DataType::Int8 => {
            let (lo, hi) = match ty {
                DataType::Int2 => (i16::MIN as i64, i16::MAX as i64),
                DataType::Int4 => (i32::MIN as i64, i32::MAX as i64),
                _ => (i64::MIN, i64::MAX),
            };
            let bound = |p: &str, default: &str| -> Result<i64> {
                let value = number(p, default)?;
                value
                    .to_i64_rounded()
                    .filter(|v| value.is_integral() && (lo..=hi).contains(v))
                    .ok_or_else(|| {
                        bad_value(
                            &format!("fields.{column}.{p}"),
                            &value.to_string(),
                            &format!("an integer of type {}", ty),
                        )
                    })
            };
            let (min, max) = (bound("min", "0")?, bound("max", "32767")?);
            if max < min {
                return Err(min_above_max(column));
            }
            Ok(FieldGenerator::RandomInt { min, max, seed })
        }
        DataType::Float4 | DataType::Float8 | DataType::Numeric(_) => {
            let (min, max) = (
                number("min", "0")?.to_f64(),
                number("max", "32767")?.to_f64(),
            );
            if max < min {
                return Err(min_above_max(column));
            }
            Ok(FieldGenerator::RandomFloat { min, max, seed })
        }
        DataType::Text | DataType::Varchar(_) => {
            let length = match param("length") {
                None => 10,
                Some((key, v)) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= STRING_LENGTH_MAX)
                    .ok_or_else(|| {
                        bad_value(
                            &key,
                            &v,
                            &format!("an integer from 0 to {STRING_LENGTH_MAX}"),
                        )
                    })?,
            };
            Ok(FieldGenerator::RandomString { length, seed })
        }
        DataType::Bool => Ok(FieldGenerator::RandomBool { seed }),
        DataType::Timestamp | DataType::TimestampTz | DataType::Date => {
            let max_past_micros = match param("max_past") {
                None => 86_400_000_000,
                Some((key, v)) => freshet_common::datetime_io::parse_interval(v.trim())
                    .ok()
                    .and_then(|i| i64::try_from(i.normalized_micros()).ok())
                    .filter(|m| *m >= 0)
                    .ok_or_else(|| {
                        bad_value(&key, &v, "a non-negative interval such as '2 hours'")
                    })?,
            };
            if let Some((key, v)) = param("max_past_mode") {
                if !matches!(v.to_lowercase().as_str(), "absolute" | "relative") {
                    return Err(bad_value(&key, &v, "absolute or relative"));
                }
            }
            Ok(FieldGenerator::RandomTime {
                max_past_micros,
                seed,
            })
        }
        _ => Err(unsupported()),
    }
}

fn min_above_max(column: &str) -> Error {
    Error::new(
        SqlState::InvalidParameterValue,
        format!("option \"fields.{column}.min\" is greater than \"fields.{column}.max\""),
    )
}

/// `floor(end - start) + 1`, saturating.
fn sequence_length(start: &Numeric, end: &Numeric) -> u64 {
    end.checked_sub(start)
        .ok()
        .and_then(|d| d.floor().ok())
        .and_then(|d| d.to_i64_rounded())
        .and_then(|d| u64::try_from(d).ok())
        .map(|d| d.saturating_add(1))
        .unwrap_or(u64::MAX)
}

/// A pseudo-random 64-bit value for (seed, column, row): splitmix64
/// (Steele, Lea and Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014) over the three mixed together.
fn random(seed: u64, column: usize, n: u64) -> u64 {
    splitmix64(splitmix64(seed ^ (column as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) ^ n)
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A value in `[0, 1)` from 53 random bits.
fn unit(r: u64) -> f64 {
    (r >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sequences_and_random_values() {
        let columns = vec![
            ("id".to_string(), DataType::Int4),
            ("v".to_string(), DataType::Varchar(None)),
            ("f".to_string(), DataType::Float8),
        ];
        let spec = DatagenSpec::parse(
            &options(&[
                ("connector", "datagen"),
                ("fields.id.kind", "sequence"),
                ("fields.id.start", "5"),
                ("fields.id.end", "9"),
                ("fields.v.length", "3"),
                ("fields.f.min", "1"),
                ("fields.f.max", "2"),
            ]),
            &columns,
        )
        .expect("valid");
        assert_eq!(spec.rows_total(), Some(5));
        let now = TimestampTz(0);
        let first = spec.row(0, now).expect("row 0");
        assert_eq!(first[0], Datum::Int4(5));
        assert!(matches!(&first[1], Datum::Text(s) if s.len() == 3));
        assert!(
            matches!(first[2], Datum::Float8(freshet_common::F64(x)) if (1.0..2.0).contains(&x))
        );
        assert_eq!(spec.row(4, now).expect("row 4")[0], Datum::Int4(9));
        // Deterministic: the same row again is the same.
        assert_eq!(
            spec.row(3, now).expect("row"),
            spec.row(3, now).expect("row")
        );
    }

    #[test]
    fn bad_definitions_are_refused() {
        let columns = vec![
            ("id".to_string(), DataType::Int2),
            ("b".to_string(), DataType::Bool),
            ("u".to_string(), DataType::Uuid),
        ];
        let code = |pairs: &[(&str, &str)], cols: &[ColumnSpec]| {
            DatagenSpec::parse(&options(pairs), cols)
                .expect_err("refused")
                .state
        };
        let two = &columns[..2];
        assert_eq!(
            code(&[("fields.id.kind", "sometimes")], two),
            SqlState::InvalidParameterValue
        );
        assert_eq!(
            code(&[("fields.nosuch.kind", "random")], two),
            SqlState::InvalidParameterValue
        );
        assert_eq!(
            code(&[("fields.id.colour", "red")], two),
            SqlState::InvalidParameterValue
        );
        assert_eq!(
            code(&[("datagen.rows.per.second", "fast")], two),
            SqlState::InvalidParameterValue
        );
        assert_eq!(
            code(
                &[("fields.id.kind", "sequence"), ("fields.id.end", "40000")],
                two
            ),
            SqlState::InvalidParameterValue
        );
        assert_eq!(
            code(&[("fields.b.kind", "sequence")], two),
            SqlState::FeatureNotSupported
        );
        assert_eq!(code(&[], &columns), SqlState::FeatureNotSupported);
        assert_eq!(
            code(&[("bogus", "1")], two),
            SqlState::InvalidParameterValue
        );
    }
}
