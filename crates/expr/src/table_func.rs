//! Set-returning functions (`unnest`, `generate_series`,
//! `generate_subscripts`): each call turns one input row into zero or more
//! rows of outputs. Evaluated by [`crate::RelExpr::FlatMap`].

use freshet_common::json::{self, Jsonb};
use freshet_common::{Datum, Error, Result, Row, SqlState};

/// The largest number of rows one call may produce.
pub const ROWS_PER_CALL_MAX: usize = 100_000_000;

/// A set-returning function with resolved argument types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TableFunc {
    /// `unnest(a1, ..., an)`: one column per array, zipped, padded with NULL.
    Unnest { arrays: usize },
    /// `generate_series(start, stop [, step])` over integers (bigint datums
    /// are produced for bigint, integer datums for integer).
    GenerateSeriesInt { bigint: bool },
    /// `generate_series(start, stop, step interval)` over timestamps
    /// (`tz`: timestamptz, stepping in the session's time zone).
    GenerateSeriesTime { tz: bool },
    /// `generate_subscripts(array, dim)`: the subscripts of dimension 1,
    /// from 1, or from 0 for int2vector/oidvector (`zero_based`), whose
    /// lower bound is 0 (SQLAlchemy numbers pg_index.indkey with it).
    GenerateSubscripts { zero_based: bool },
    /// `pg_partition_ancestors(regclass)`: the relation itself (Freshet has
    /// no partitioned tables).
    PartitionAncestors,
    /// `HOP(rel, ts, slide, size)`: every window `[start, start + size)`
    /// with `start` a multiple of `slide` that contains `ts`; two columns.
    HopWindows,
    /// `information_schema._pg_expandarray(anyarray)`: each element `x`
    /// with its 1-based position `n` (JDBC's metadata queries use it).
    ExpandArray,
    /// `jsonb_array_elements` (column `value`, jsonb) and, with `text`,
    /// `jsonb_array_elements_text` (text, JSON null as SQL NULL).
    JsonbArrayElements { text: bool },
    /// `jsonb_each` (columns `key`, `value` jsonb) and, with `text`,
    /// `jsonb_each_text` (value as text).
    JsonbEach { text: bool },
    /// `jsonb_object_keys`: each key of an object.
    JsonbObjectKeys,
    /// `json_array_elements` (json) and, with `text`,
    /// `json_array_elements_text`: each element's text as typed.
    JsonArrayElements { text: bool },
    /// `json_each` / `json_each_text` on `json`: every member in input
    /// order, duplicate keys included.
    JsonEach { text: bool },
    /// `json_object_keys` on `json`: every key in input order.
    JsonObjectKeys,
    /// `jsonb_path_query(target, path [, vars [, silent]])`: each item the
    /// path yields.
    JsonbPathQuery,
    /// `json[b]_to_record(value) AS t(col type, ...)` and, with `set`,
    /// `json[b]_to_recordset`: objects as rows of the declared columns.
    JsonToRecord { set: bool, jsonb: bool, columns: Vec<(String, freshet_common::DataType)> },
    /// `regexp_split_to_table(string, pattern [, flags])`.
    RegexpSplit,
    /// `string_to_table(string, delimiter [, null_string])`.
    StringToTable,
    /// `regexp_matches(string, pattern [, flags])`: one text[] per match.
    RegexpMatches,
}

impl TableFunc {
    /// Number of output columns.
    pub fn width(&self) -> usize {
        match self {
            TableFunc::Unnest { arrays } => *arrays,
            TableFunc::HopWindows | TableFunc::ExpandArray | TableFunc::JsonbEach { .. } | TableFunc::JsonEach { .. } => 2,
            TableFunc::JsonToRecord { columns, .. } => columns.len(),
            _ => 1,
        }
    }

    /// The names of the output columns, when the function declares them
    /// (OUT parameters); otherwise columns are named after the function.
    pub fn column_names(&self) -> Option<&'static [&'static str]> {
        match self {
            TableFunc::ExpandArray => Some(&["x", "n"]),
            TableFunc::JsonbArrayElements { .. } | TableFunc::JsonArrayElements { .. } => Some(&["value"]),
            TableFunc::JsonbEach { .. } | TableFunc::JsonEach { .. } => Some(&["key", "value"]),
            _ => None,
        }
    }

    /// The rows one call produces for `args` (already evaluated).
    pub fn eval(&self, args: &[Datum], ctx: &crate::scalar::EvalContext<'_>) -> Result<Vec<Row>> {
        match self {
            TableFunc::Unnest { arrays } => {
                let lists: Vec<&[Datum]> = args
                    .iter()
                    .map(|a| match a {
                        Datum::Array(items) => items.as_slice(),
                        _ => &[],
                    })
                    .collect();
                let len = lists.iter().map(|l| l.len()).max().unwrap_or(0);
                Ok((0..len)
                    .map(|i| (0..*arrays).map(|k| lists.get(k).and_then(|l| l.get(i)).cloned().unwrap_or(Datum::Null)).collect())
                    .collect())
            }
            TableFunc::GenerateSeriesInt { bigint } => {
                if args.iter().any(|a| a.is_null()) {
                    return Ok(vec![]);
                }
                let start = args.first().and_then(|d| d.as_i64()).unwrap_or(0);
                let stop = args.get(1).and_then(|d| d.as_i64()).unwrap_or(0);
                let step = args.get(2).and_then(|d| d.as_i64()).unwrap_or(1);
                if step == 0 {
                    return Err(Error::new(SqlState::InvalidParameterValue, "step size cannot equal zero"));
                }
                let count = if (step > 0 && start > stop) || (step < 0 && start < stop) {
                    0
                } else {
                    ((stop as i128 - start as i128) / step as i128 + 1) as u128
                };
                if count > ROWS_PER_CALL_MAX as u128 {
                    return Err(Error::new(
                        SqlState::ProgramLimitExceeded,
                        format!("generate_series would produce {count} rows; the limit is {ROWS_PER_CALL_MAX}"),
                    ));
                }
                Ok((0..count as i64)
                    .map(|i| {
                        let v = start + i * step;
                        vec![if *bigint { Datum::Int8(v) } else { Datum::Int4(v as i32) }]
                    })
                    .collect())
            }
            TableFunc::GenerateSeriesTime { tz } => {
                let (Some(start), Some(stop), Some(Datum::Interval(step))) = (args.first(), args.get(1), args.get(2)) else {
                    return Ok(vec![]);
                };
                let micros = |d: &Datum| match d {
                    Datum::Timestamp(t) => Some(t.0),
                    Datum::TimestampTz(t) => Some(t.0),
                    _ => None,
                };
                let (Some(mut v), Some(stop)) = (micros(start), micros(stop)) else { return Ok(vec![]) };
                // Direction as PostgreSQL's interval comparison sees it.
                let span = step.months as i128 * 30 * 86_400_000_000 + step.days as i128 * 86_400_000_000 + step.micros as i128;
                if span == 0 {
                    return Err(Error::new(SqlState::InvalidParameterValue, "step size cannot equal zero"));
                }
                let zone = &ctx.text.time_zone;
                let mut out = Vec::new();
                while (span > 0 && v <= stop) || (span < 0 && v >= stop) {
                    if out.len() >= ROWS_PER_CALL_MAX {
                        return Err(Error::new(
                            SqlState::ProgramLimitExceeded,
                            format!("generate_series would produce more than {ROWS_PER_CALL_MAX} rows"),
                        ));
                    }
                    let next = if *tz {
                        let t = freshet_common::TimestampTz(v);
                        out.push(vec![Datum::TimestampTz(t)]);
                        t.add_interval(step, zone).map(|t| t.0)
                    } else {
                        let t = freshet_common::Timestamp(v);
                        out.push(vec![Datum::Timestamp(t)]);
                        t.add_interval(step).map(|t| t.0)
                    };
                    match next {
                        Ok(n) if n != v => v = n,
                        // Past the end of the timestamp range, or a step
                        // that does not move: the series ends.
                        _ => break,
                    }
                }
                Ok(out)
            }
            TableFunc::ExpandArray => Ok(match args.first() {
                Some(Datum::Array(items)) => items
                    .iter()
                    .zip(1..)
                    .map(|(item, n)| vec![item.clone(), Datum::Int4(n)])
                    .collect(),
                _ => vec![],
            }),
            TableFunc::JsonbArrayElements { text } => {
                let Some(Datum::Jsonb(value)) = args.first() else { return Ok(vec![]) };
                match value {
                    Jsonb::Array(items) => Ok(items.iter().map(|v| vec![json_value(v, *text)]).collect()),
                    Jsonb::Object(_) => Err(Error::new(SqlState::InvalidParameterValue, "cannot extract elements from an object")),
                    _ => Err(Error::new(SqlState::InvalidParameterValue, "cannot extract elements from a scalar")),
                }
            }
            TableFunc::JsonbEach { text } => {
                let Some(Datum::Jsonb(value)) = args.first() else { return Ok(vec![]) };
                let Jsonb::Object(fields) = value else {
                    let name = if *text { "jsonb_each_text" } else { "jsonb_each" };
                    return Err(Error::new(SqlState::InvalidParameterValue, format!("cannot call {name} on a non-object")));
                };
                Ok(fields.iter().map(|(k, v)| vec![Datum::Text(k.clone()), json_value(v, *text)]).collect())
            }
            TableFunc::JsonArrayElements { text } => {
                use crate::json_text::{member_text, top_level, TopLevel};
                let Some(Datum::Json(value)) = args.first() else { return Ok(vec![]) };
                let name = if *text { "json_array_elements_text" } else { "json_array_elements" };
                match top_level(value)? {
                    TopLevel::Array(items) => items
                        .into_iter()
                        .map(|v| Ok(vec![if *text { member_text(v)? } else { Datum::Json(v.to_string()) }]))
                        .collect(),
                    TopLevel::Object(_) => {
                        Err(Error::new(SqlState::InvalidParameterValue, format!("cannot call {name} on a non-array")))
                    }
                    TopLevel::Scalar(_) => {
                        Err(Error::new(SqlState::InvalidParameterValue, format!("cannot call {name} on a scalar")))
                    }
                }
            }
            TableFunc::JsonEach { text } => {
                use crate::json_text::{member_text, top_level, TopLevel};
                let Some(Datum::Json(value)) = args.first() else { return Ok(vec![]) };
                match top_level(value)? {
                    TopLevel::Object(pairs) => pairs
                        .into_iter()
                        .map(|(k, v)| {
                            Ok(vec![Datum::Text(k), if *text { member_text(v)? } else { Datum::Json(v.to_string()) }])
                        })
                        .collect(),
                    TopLevel::Array(_) => {
                        Err(Error::new(SqlState::InvalidParameterValue, "cannot deconstruct an array as an object"))
                    }
                    TopLevel::Scalar(_) => Err(Error::new(SqlState::InvalidParameterValue, "cannot deconstruct a scalar")),
                }
            }
            TableFunc::JsonObjectKeys => {
                use crate::json_text::{top_level, TopLevel};
                let Some(Datum::Json(value)) = args.first() else { return Ok(vec![]) };
                match top_level(value)? {
                    TopLevel::Object(pairs) => Ok(pairs.into_iter().map(|(k, _)| vec![Datum::Text(k)]).collect()),
                    TopLevel::Array(_) => {
                        Err(Error::new(SqlState::InvalidParameterValue, "cannot call json_object_keys on an array"))
                    }
                    TopLevel::Scalar(_) => {
                        Err(Error::new(SqlState::InvalidParameterValue, "cannot call json_object_keys on a scalar"))
                    }
                }
            }
            TableFunc::JsonbPathQuery => {
                if args.iter().any(Datum::is_null) {
                    return Ok(vec![]);
                }
                let Some(Datum::Jsonb(target)) = args.first() else { return Ok(vec![]) };
                let path = crate::jsonpath::parse(args.get(1).and_then(Datum::as_str).unwrap_or(""))?;
                let vars = match args.get(2) {
                    Some(Datum::Jsonb(v)) => Some(v),
                    _ => None,
                };
                let silent = args.get(3).and_then(Datum::as_bool).unwrap_or(false);
                let items = crate::jsonpath::query(&path, target, vars, silent)?.unwrap_or_default();
                Ok(items.into_iter().map(|j| vec![Datum::Jsonb(j)]).collect())
            }
            TableFunc::JsonToRecord { set, jsonb, columns } => {
                use crate::json_text::{top_level, RecordSource, TopLevel};
                let name = match (*jsonb, *set) {
                    (false, false) => "json_to_record",
                    (false, true) => "json_to_recordset",
                    (true, false) => "jsonb_to_record",
                    (true, true) => "jsonb_to_recordset",
                };
                let composite_error = |what: &str| {
                    Error::new(SqlState::InvalidParameterValue, format!("cannot call populate_composite on {what}"))
                };
                let not_objects =
                    || Error::new(SqlState::InvalidParameterValue, format!("argument of {name} must be an array of objects"));
                let null_row = || vec![Datum::Null; columns.len()];
                match args.first() {
                    None | Some(Datum::Null) => Ok(if *set { vec![] } else { vec![null_row()] }),
                    Some(Datum::Json(text)) => {
                        let top = top_level(text)?;
                        if !*set {
                            return match top {
                                TopLevel::Object(pairs) => Ok(vec![RecordSource::from_json_pairs(pairs)?.row(columns, ctx.text)?]),
                                TopLevel::Array(_) => Err(composite_error("an array")),
                                TopLevel::Scalar(_) => Err(composite_error("a scalar")),
                            };
                        }
                        match top {
                            TopLevel::Array(items) => items
                                .into_iter()
                                .map(|item| match top_level(item)? {
                                    TopLevel::Object(pairs) => RecordSource::from_json_pairs(pairs)?.row(columns, ctx.text),
                                    _ => Err(not_objects()),
                                })
                                .collect(),
                            TopLevel::Object(_) => {
                                Err(Error::new(SqlState::InvalidParameterValue, format!("cannot call {name} on an object")))
                            }
                            TopLevel::Scalar(_) => {
                                Err(Error::new(SqlState::InvalidParameterValue, format!("cannot call {name} on a scalar")))
                            }
                        }
                    }
                    Some(Datum::Jsonb(value)) => {
                        if !*set {
                            return match value {
                                Jsonb::Object(fields) => Ok(vec![RecordSource::from_jsonb_fields(fields).row(columns, ctx.text)?]),
                                Jsonb::Array(_) => Err(composite_error("an array")),
                                _ => Err(composite_error("a scalar")),
                            };
                        }
                        match value {
                            Jsonb::Array(items) => items
                                .iter()
                                .map(|item| match item {
                                    Jsonb::Object(fields) => RecordSource::from_jsonb_fields(fields).row(columns, ctx.text),
                                    _ => Err(not_objects()),
                                })
                                .collect(),
                            _ => Err(Error::new(SqlState::InvalidParameterValue, format!("cannot call {name} on a non-array"))),
                        }
                    }
                    Some(_) => Ok(vec![]),
                }
            }
            TableFunc::RegexpSplit => {
                let (Some(Datum::Text(s)), Some(Datum::Text(p))) = (args.first(), args.get(1)) else { return Ok(vec![]) };
                let flags = args.get(2).and_then(|f| f.as_str()).unwrap_or("");
                Ok(crate::like::regexp_split(s, p, flags)?.into_iter().map(|piece| vec![Datum::Text(piece)]).collect())
            }
            TableFunc::StringToTable => {
                let Some(Datum::Text(s)) = args.first() else { return Ok(vec![]) };
                let delimiter = args.get(1).and_then(|d| d.as_str());
                let null_string = args.get(2).and_then(|d| d.as_str());
                Ok(crate::like::string_split(s, delimiter, null_string).into_iter().map(|p| vec![p.map_or(Datum::Null, Datum::Text)]).collect())
            }
            TableFunc::RegexpMatches => {
                let (Some(Datum::Text(s)), Some(Datum::Text(p))) = (args.first(), args.get(1)) else { return Ok(vec![]) };
                let flags = args.get(2).and_then(|f| f.as_str()).unwrap_or("");
                Ok(crate::like::regexp_matches(s, p, flags)?
                    .into_iter()
                    .map(|groups| vec![Datum::Array(groups.into_iter().map(|g| g.map_or(Datum::Null, Datum::Text)).collect())])
                    .collect())
            }
            TableFunc::JsonbObjectKeys => {
                let Some(Datum::Jsonb(value)) = args.first() else { return Ok(vec![]) };
                match value {
                    Jsonb::Object(fields) => Ok(fields.iter().map(|(k, _)| vec![Datum::Text(k.clone())]).collect()),
                    Jsonb::Array(_) => Err(Error::new(SqlState::InvalidParameterValue, "cannot call jsonb_object_keys on an array")),
                    _ => Err(Error::new(SqlState::InvalidParameterValue, "cannot call jsonb_object_keys on a scalar")),
                }
            }
            TableFunc::HopWindows => {
                let (Some(ts), Some(slide), Some(size)) = (args.first(), args.get(1), args.get(2)) else { return Ok(vec![]) };
                if ts.is_null() {
                    return Ok(vec![]);
                }
                let slide = crate::datetime_ops::window_micros(slide)?;
                let size = crate::datetime_ops::window_micros(size)?;
                let (t, tz) = match ts {
                    Datum::Timestamp(t) => (t.0, false),
                    Datum::TimestampTz(t) => (t.0, true),
                    _ => return Ok(vec![]),
                };
                let wrap = |v: i64| if tz { Datum::TimestampTz(freshet_common::TimestampTz(v)) } else { Datum::Timestamp(freshet_common::Timestamp(v)) };
                let mut start = crate::datetime_ops::floor_to(t, slide);
                let mut out = Vec::new();
                // Windows containing t start in (t - size, t], stepping by slide.
                while start > t - size {
                    out.push(vec![wrap(start), wrap(start + size)]);
                    start -= slide;
                    if out.len() > 10_000 {
                        return Err(Error::new(SqlState::ProgramLimitExceeded, "HOP makes more than 10000 windows per row"));
                    }
                }
                out.reverse();
                Ok(out)
            }
            TableFunc::PartitionAncestors => Ok(match args.first() {
                Some(Datum::Null) | None => vec![],
                Some(d) => vec![vec![d.clone()]],
            }),
            TableFunc::GenerateSubscripts { zero_based } => match (args.first(), args.get(1).and_then(|d| d.as_i64())) {
                (Some(Datum::Array(items)), Some(1)) => {
                    let first = if *zero_based { 0 } else { 1 };
                    Ok((first..first + items.len() as i32).map(|i| vec![Datum::Int4(i)]).collect())
                }
                _ => Ok(vec![]),
            },
        }
    }
}

/// A JSON value as a jsonb datum, or with `text` as the `->>` operator
/// gives it: strings unquoted, JSON null as SQL NULL, others as JSON text.
fn json_value(v: &Jsonb, text: bool) -> Datum {
    if !text {
        return Datum::Jsonb(v.clone());
    }
    match v {
        Jsonb::Null => Datum::Null,
        Jsonb::String(s) => Datum::Text(s.clone()),
        other => {
            let mut s = String::new();
            json::format_jsonb(other, &mut s);
            Datum::Text(s)
        }
    }
}
