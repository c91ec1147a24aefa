//! Differential tests against PostgreSQL 15.
//!
//! Golden files (always run): `testdata/pg15_text_io.tsv` holds
//! `type<TAB>input<TAB>result` lines and `testdata/pg15_ops.tsv` holds
//! `offset<TAB>op<TAB>args...<TAB>result` lines, where `result` is what a
//! real PostgreSQL 15 printed: `OK<TAB>text` or `ERR<TAB>sqlstate<TAB>message`
//! (values escape `\n`, `\t` and `\\`). The few places where Freshet
//! deliberately differs (named time zones, array lower bounds) are left
//! out of the files; 22015/22009 are recorded as Freshet's 22008.
//!
//! Oracle mode (ignored by default, run by hand with a PostgreSQL at hand):
//! `PG_COMPARE_INPUT`/`PG_COMPARE_OUTPUT` and `PG_OPS_INPUT`/`PG_OPS_OUTPUT`
//! name an input file of the same shape without results and the file to
//! write Freshet's results to; `testdata/pg_oracle/*.py` produce inputs,
//! run them through `psql` and diff.

use freshet_common::io::{format_text, parse_text, TextContext};
use freshet_common::DataType;

fn parse_type(s: &str) -> DataType {
    if let Some(elem) = s.strip_suffix("[]") {
        return DataType::Array(Box::new(parse_type(elem)));
    }
    let (base, args) = match s.split_once('(') {
        Some((b, rest)) => (b, Some(rest.trim_end_matches(')'))),
        None => (s, None),
    };
    let nums: Vec<u32> = args
        .map(|a| a.split(',').map(|x| x.trim().parse().expect("type modifier")).collect())
        .unwrap_or_default();
    match base {
        "bool" => DataType::Bool,
        "int2" => DataType::Int2,
        "int4" => DataType::Int4,
        "int8" => DataType::Int8,
        "float4" => DataType::Float4,
        "float8" => DataType::Float8,
        "numeric" => DataType::Numeric(match nums.as_slice() {
            [p, s] => Some((*p, *s)),
            [p] => Some((*p, 0)),
            _ => None,
        }),
        "text" => DataType::Text,
        "varchar" => DataType::Varchar(nums.first().copied()),
        "bpchar" => DataType::Char(nums.first().copied()),
        "name" => DataType::Name,
        "bytea" => DataType::Bytea,
        "date" => DataType::Date,
        "time" => DataType::Time,
        "timestamp" => DataType::Timestamp,
        "timestamptz" => DataType::TimestampTz,
        "interval" => DataType::Interval,
        "json" => DataType::Json,
        "jsonb" => DataType::Jsonb,
        "uuid" => DataType::Uuid,
        "oid" => DataType::Oid,
        other => panic!("unknown type {other}"),
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o)
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t")
}

#[test]
#[ignore = "needs PG_COMPARE_INPUT; run by hand against a PostgreSQL oracle"]
fn pg_compare() {
    let input = std::env::var("PG_COMPARE_INPUT").expect("PG_COMPARE_INPUT");
    let output = std::env::var("PG_COMPARE_OUTPUT").expect("PG_COMPARE_OUTPUT");
    let text = std::fs::read_to_string(input).expect("readable input");
    let ctx = TextContext::default();
    let mut out = String::new();
    for line in text.lines() {
        let (ty, value) = line.split_once('\t').expect("type<TAB>input");
        let ty = parse_type(ty);
        let value = unescape(value);
        match parse_text(&value, &ty, &ctx) {
            Ok(d) => {
                let mut s = String::new();
                format_text(&d, &ty, &ctx, &mut s);
                out.push_str(&format!("OK\t{}\n", escape(&s)));
            }
            Err(e) => out.push_str(&format!("ERR\t{}\t{}\n", e.state.code(), escape(&e.message))),
        }
    }
    std::fs::write(output, out).expect("writable output");
}

/// Evaluates one operation line (`op<TAB>arg...`) the way the expression
/// evaluator will, returning the text PostgreSQL would print.
fn eval_op(parts: &[&str], ctx: &TextContext) -> freshet_common::Result<String> {
    use freshet_common::cast::cast;
    use freshet_common::datetime::{self as dt, PartValue};
    use freshet_common::io::text::to_text;
    use freshet_common::{Datum, Interval};
    let p = |s: &str, ty: &DataType| parse_text(s, ty, ctx);
    let ts = |s: &str| match p(s, &DataType::Timestamp) {
        Ok(Datum::Timestamp(t)) => Ok(t),
        Ok(_) => unreachable!(),
        Err(e) => Err(e),
    };
    let tstz = |s: &str| match p(s, &DataType::TimestampTz) {
        Ok(Datum::TimestampTz(t)) => Ok(t),
        Ok(_) => unreachable!(),
        Err(e) => Err(e),
    };
    let date = |s: &str| match p(s, &DataType::Date) {
        Ok(Datum::Date(t)) => Ok(t),
        Ok(_) => unreachable!(),
        Err(e) => Err(e),
    };
    let iv = |s: &str| match p(s, &DataType::Interval) {
        Ok(Datum::Interval(t)) => Ok(t),
        Ok(_) => unreachable!(),
        Err(e) => Err(e),
    };
    let f = |s: &str| s.parse::<f64>().expect("float arg");
    let out = |d: Datum, ty: DataType| Ok(to_text(&d, &ty, ctx));
    let ivd = |i: Interval| out(Datum::Interval(i), DataType::Interval);
    let tz = &ctx.time_zone;
    let part = |v: PartValue| -> freshet_common::Result<String> {
        Ok(match v {
            PartValue::Numeric(d) => to_text(&Datum::Numeric(d), &DataType::Numeric(None), ctx),
            PartValue::Null => "NULL".into(),
            PartValue::Infinity(true) => "Infinity".into(),
            PartValue::Infinity(false) => "-Infinity".into(),
        })
    };
    match parts[0] {
        "ts+iv" => {
            out(Datum::Timestamp(ts(parts[1])?.add_interval(&iv(parts[2])?)?), DataType::Timestamp)
        }
        "ts-iv" => {
            out(Datum::Timestamp(ts(parts[1])?.sub_interval(&iv(parts[2])?)?), DataType::Timestamp)
        }
        "tstz+iv" => out(
            Datum::TimestampTz(tstz(parts[1])?.add_interval(&iv(parts[2])?, tz)?),
            DataType::TimestampTz,
        ),
        "tstz-iv" => out(
            Datum::TimestampTz(tstz(parts[1])?.sub_interval(&iv(parts[2])?, tz)?),
            DataType::TimestampTz,
        ),
        "ts-ts" => ivd(ts(parts[1])?.sub_timestamp(ts(parts[2])?)?),
        "tstz-tstz" => ivd(tstz(parts[1])?.sub_timestamptz(tstz(parts[2])?)?),
        "date+int" => out(
            Datum::Date(date(parts[1])?.add_days(parts[2].parse().expect("int"))?),
            DataType::Date,
        ),
        "date-date" => Ok(date(parts[1])?.days_between(date(parts[2])?)?.to_string()),
        "date+iv" => out(
            Datum::Timestamp(date(parts[1])?.add_interval(&iv(parts[2])?)?),
            DataType::Timestamp,
        ),
        "iv+iv" => ivd(iv(parts[1])?.checked_add(&iv(parts[2])?)?),
        "iv-iv" => ivd(iv(parts[1])?.checked_sub(&iv(parts[2])?)?),
        "-iv" => ivd(iv(parts[1])?.checked_neg()?),
        "iv*f" => ivd(iv(parts[1])?.mul_f64(f(parts[2]))?),
        "iv/f" => ivd(iv(parts[1])?.div_f64(f(parts[2]))?),
        "justify_hours" => ivd(iv(parts[1])?.justify_hours()?),
        "justify_days" => ivd(iv(parts[1])?.justify_days()?),
        "justify_interval" => ivd(iv(parts[1])?.justify_interval()?),
        "age" => ivd(ts(parts[1])?.age(ts(parts[2])?)?),
        "agetz" => ivd(tstz(parts[1])?.age(tstz(parts[2])?, tz)?),
        "extract" => {
            let field = parts[1];
            match parts[2] {
                "timestamp" => part(dt::extract_timestamp(field, ts(parts[3])?)?),
                "timestamptz" => part(dt::extract_timestamptz(field, tstz(parts[3])?, tz)?),
                "date" => part(dt::extract_date(field, date(parts[3])?)?),
                "interval" => part(dt::extract_interval(field, &iv(parts[3])?)?),
                "time" => match p(parts[3], &DataType::Time)? {
                    Datum::Time(t) => part(dt::extract_time(field, t)?),
                    _ => unreachable!(),
                },
                other => panic!("extract from {other}"),
            }
        }
        "date_part" => {
            let ty = parse_type(parts[2]);
            let v = p(parts[3], &ty)?;
            Ok(match dt::date_part(parts[1], &v, tz)? {
                Some(x) => to_text(&Datum::Float8(freshet_common::F64(x)), &DataType::Float8, ctx),
                None => "NULL".into(),
            })
        }
        "date_trunc" => match parts[2] {
            "timestamp" => out(
                Datum::Timestamp(dt::date_trunc_timestamp(parts[1], ts(parts[3])?)?),
                DataType::Timestamp,
            ),
            "timestamptz" => out(
                Datum::TimestampTz(dt::date_trunc_timestamptz(parts[1], tstz(parts[3])?, tz)?),
                DataType::TimestampTz,
            ),
            "interval" => ivd(dt::date_trunc_interval(parts[1], &iv(parts[3])?)?),
            other => panic!("date_trunc of {other}"),
        },
        "cast" => {
            let from = parse_type(parts[1]);
            let to = parse_type(parts[2]);
            let v = p(parts[3], &from)?;
            let r = cast(v, &from, &to, ctx)?;
            Ok(if r.is_null() { "NULL".into() } else { to_text(&r, &to, ctx) })
        }
        "show" => {
            let ty = parse_type(parts[1]);
            Ok(to_text(&p(parts[2], &ty)?, &ty, ctx))
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
#[ignore = "needs PG_OPS_INPUT; run by hand against a PostgreSQL oracle"]
fn pg_compare_ops() {
    use freshet_common::io::TimeZone;
    let input = std::env::var("PG_OPS_INPUT").expect("PG_OPS_INPUT");
    let output = std::env::var("PG_OPS_OUTPUT").expect("PG_OPS_OUTPUT");
    let text = std::fs::read_to_string(input).expect("readable input");
    let mut out = String::new();
    for line in text.lines() {
        let parts: Vec<String> = line.split('\t').map(unescape).collect();
        let offset: i32 = parts[0].parse().expect("offset seconds");
        let ctx = TextContext {
            time_zone: if offset == 0 { TimeZone::Utc } else { TimeZone::Fixed(offset) },
        };
        let args: Vec<&str> = parts[1..].iter().map(String::as_str).collect();
        match eval_op(&args, &ctx) {
            Ok(s) => out.push_str(&format!("OK\t{}\n", escape(&s))),
            Err(e) => out.push_str(&format!("ERR\t{}\t{}\n", e.state.code(), escape(&e.message))),
        }
    }
    std::fs::write(output, out).expect("writable output");
}

/// Splits a golden line into its input fields and the expected result.
fn split_expected(line: &str) -> (Vec<&str>, String) {
    let fields: Vec<&str> = line.split('\t').collect();
    let n = fields.len();
    if n >= 4 && fields[n - 3] == "ERR" && fields[n - 2].len() == 5 {
        (fields[..n - 3].to_vec(), fields[n - 3..].join("\t"))
    } else {
        assert!(n >= 3 && fields[n - 2] == "OK", "malformed golden line: {line}");
        (fields[..n - 2].to_vec(), fields[n - 2..].join("\t"))
    }
}

fn result_line(r: freshet_common::Result<String>) -> String {
    match r {
        Ok(s) => format!("OK\t{}", escape(&s)),
        Err(e) => format!("ERR\t{}\t{}", e.state.code(), escape(&e.message)),
    }
}

#[test]
fn pg15_text_io_golden() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/pg15_text_io.tsv");
    let text = std::fs::read_to_string(path).expect("golden file");
    let ctx = TextContext::default();
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (fields, expected) = split_expected(line);
        let ty = parse_type(fields[0]);
        let value = unescape(fields[1]);
        let got = result_line(parse_text(&value, &ty, &ctx).map(|d| {
            let mut s = String::new();
            format_text(&d, &ty, &ctx, &mut s);
            s
        }));
        count += 1;
        if got != expected {
            failures.push(format!("{}\t{}\n  want {expected}\n  got  {got}", fields[0], fields[1]));
        }
    }
    assert!(count > 1000, "golden file too small: {count}");
    assert!(
        failures.is_empty(),
        "{} of {count} differ from PostgreSQL:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn pg15_ops_golden() {
    use freshet_common::io::TimeZone;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/pg15_ops.tsv");
    let text = std::fs::read_to_string(path).expect("golden file");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (fields, expected) = split_expected(line);
        let offset: i32 = fields[0].parse().expect("offset seconds");
        let ctx = TextContext {
            time_zone: if offset == 0 { TimeZone::Utc } else { TimeZone::Fixed(offset) },
        };
        let args: Vec<String> = fields[1..].iter().map(|f| unescape(f)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = result_line(eval_op(&args, &ctx));
        count += 1;
        if got != expected {
            failures.push(format!("{}\n  want {expected}\n  got  {got}", fields.join("\t")));
        }
    }
    assert!(count > 1000, "golden file too small: {count}");
    assert!(
        failures.is_empty(),
        "{} of {count} differ from PostgreSQL:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
