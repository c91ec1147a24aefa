//! Differential test: the same data and the same SELECTs on Freshet and on
//! the PostgreSQL oracle, compared result by result.
//!
//! 1. Generates a few tables deterministically from a fixed seed ([`SEED`],
//!    override with `FRESHET_DIFF_SEED`), with NULLs, duplicates, an empty
//!    table and edge values (i32::MAX/MIN, negatives, zero, -0.0, empty
//!    strings, unicode).
//! 2. Loads the same SQL into a fresh Freshet server and into a fresh,
//!    uniquely named database on the oracle (`FRESHET_TEST_PG_URL`; dropped
//!    at the end).
//! 3. Runs every query of `tests/differential/*.sql` on both over the simple
//!    query protocol and compares:
//!    - errors: both fail with the same SQLSTATE, or both succeed;
//!    - column types (OIDs), unless `FRESHET_DIFF_IGNORE_TYPES=1`;
//!    - rows as text: in order when the query has a top-level ORDER BY (the
//!      query files only use ORDER BY that determines a total order), else
//!      as multisets. Float columns (float4/float8) that differ textually
//!      pass when both parse and agree to a relative 1e-12, since float sums
//!      depend on the order rows are added in.
//!
//! `FRESHET_DIFF_VERBOSE=1` prints a line per passing query too (row count or
//! error), to review the query files.
//!
//! `FRESHET_DIFF_SELF_TEST=1` replaces Freshet with a second oracle database,
//! which checks the harness and the query files themselves (everything must
//! pass). Non-flag command-line arguments filter query files by name.
//!
//! Query file format: statements end with `;` at the end of a line; lines
//! starting with `--` are comments.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use common::rng::SplitMix64;
use common::wire::{RawConn, StatementResult, WireError};

/// The data seed. Printed at start; a failure is reproduced with the same one.
const SEED: u64 = 0x00F2_E54E_7D1F_F001;

/// Upper bound on one query's round trip.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Upper bound on the whole run: queries not started by then count as failed.
const SUITE_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// Number of rows of each side's result shown when a result mismatches.
const RESULT_ROWS_SHOWN_MAX: usize = 10;

/// Number of differing rows shown when a result mismatches.
const ROWS_SHOWN_MAX: usize = 25;

/// Rows per INSERT statement when loading.
const LOAD_BATCH_ROWS: usize = 50;

// ---------------------------------------------------------------------------
// Data generation.

/// Escapes a string as an SQL literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn opt<T>(
    rng: &mut SplitMix64,
    null_percent: u64,
    f: impl FnOnce(&mut SplitMix64) -> T,
) -> Option<T> {
    if rng.chance(null_percent) {
        None
    } else {
        Some(f(rng))
    }
}

fn sql_value(v: Option<String>) -> String {
    v.unwrap_or_else(|| "NULL".to_string())
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm,
/// <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn date_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

const TEXTS: &[&str] = &[
    "",
    "a",
    "A",
    "abc",
    "abd",
    "b",
    "Hello",
    "hello",
    "héllo",
    "日本",
    "emoji 🎉",
    " lead",
    "trail ",
    "x_y",
    "50%",
    "it's",
    "zzz",
    "Zebra",
    "a b c",
    "ünïcödé",
];
const VARCHARS: &[&str] = &["red", "green", "blue", "", "red", "teal"];
const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    -2.25,
    1.0,
    3.75,
    1e10,
    1e-5,
    100.125,
    0.1,
    0.3333333333333333,
    -7.5,
    2.0,
    1e15,
];
const TAGS: &[&str] = &["x", "y", "z", ""];

/// The schema and data, as SQL statements to run on both sides.
fn generate_dataset(seed: u64) -> Vec<String> {
    let mut rng = SplitMix64::new(seed);
    let mut statements = vec![
        "CREATE TABLE t1 (id int PRIMARY KEY, a int, b bigint, f double precision, n numeric(12,2), \
         s text, v varchar(20), flag boolean, dt date, big int)"
            .to_string(),
        "CREATE TABLE t2 (id int PRIMARY KEY, t1_id int, qty int, tag text, price double precision)"
            .to_string(),
        "CREATE TABLE t3 (id int, t1_id int, qty int, tag text, price double precision)".to_string(),
        "CREATE TABLE t4 (k int, name text)".to_string(),
    ];

    let mut t1_rows = Vec::new();
    for id in 1..=150i64 {
        let a = opt(&mut rng, 15, |r| r.range_i64(-10, 10).to_string());
        let b = opt(&mut rng, 10, |r| {
            let pool: [i64; 6] = [0, 1, -1, 1_000_000, -5_000_000_000, 9_000_000_000_000];
            if r.chance(50) {
                r.pick(&pool).to_string()
            } else {
                r.range_i64(-100, 100).to_string()
            }
        });
        let f = opt(&mut rng, 15, |r| {
            let x = if r.chance(60) {
                r.pick(FLOATS)
            } else {
                r.range_i64(-400, 400) as f64 / 4.0
            };
            format!("{x:?}::float8")
        });
        let n = opt(&mut rng, 15, |r| {
            let cents = r.range_i64(-10_000_000, 10_000_000);
            let sign = if cents < 0 { "-" } else { "" };
            format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
        });
        let s = opt(&mut rng, 10, |r| lit(r.pick(TEXTS)));
        let v = opt(&mut rng, 10, |r| lit(r.pick(VARCHARS)));
        let flag = opt(&mut rng, 33, |r| {
            if r.chance(50) { "true" } else { "false" }.to_string()
        });
        let dt = opt(&mut rng, 10, |r| {
            // 2019-01-01 .. 2021-12-31, plus a leap day now and then.
            if r.chance(5) {
                lit("2020-02-29")
            } else {
                lit(&date_from_days(17_897 + r.range_i64(0, 1_095)))
            }
        });
        let big = match id {
            1 => Some(i32::MAX.to_string()),
            2 => Some(i32::MIN.to_string()),
            3 => Some("0".to_string()),
            4 => None,
            _ => Some(rng.range_i64(-1000, 1000).to_string()),
        };
        t1_rows.push(format!(
            "({id}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
            sql_value(a),
            sql_value(b),
            sql_value(f),
            sql_value(n),
            sql_value(s),
            sql_value(v),
            sql_value(flag),
            sql_value(dt),
            sql_value(big)
        ));
    }
    push_inserts(&mut statements, "t1", &t1_rows);

    let mut t2_rows = Vec::new();
    for id in 1..=250i64 {
        let t1_id = if rng.chance(10) {
            None
        } else if rng.chance(10) {
            Some(rng.range_i64(151, 160).to_string()) // dangling
        } else {
            Some(rng.range_i64(1, 150).to_string())
        };
        let qty = opt(&mut rng, 10, |r| r.range_i64(0, 20).to_string());
        let tag = opt(&mut rng, 10, |r| lit(r.pick(TAGS)));
        let price = opt(&mut rng, 10, |r| {
            format!("{:?}::float8", r.range_i64(0, 4000) as f64 / 8.0)
        });
        t2_rows.push(format!(
            "({id}, {}, {}, {}, {})",
            sql_value(t1_id),
            sql_value(qty),
            sql_value(tag),
            sql_value(price)
        ));
    }
    push_inserts(&mut statements, "t2", &t2_rows);

    // t3 stays empty. t4 is a small dimension with duplicate and NULL keys.
    let t4_rows: Vec<String> = [
        (Some(1), "one"),
        (Some(2), "two"),
        (Some(2), "deux"),
        (Some(3), ""),
        (None, "null key"),
        (Some(5), "five"),
        (Some(150), "last"),
        (Some(151), "dangling"),
    ]
    .iter()
    .map(|(k, name)| {
        format!(
            "({}, {})",
            k.map_or("NULL".to_string(), |k| k.to_string()),
            lit(name)
        )
    })
    .collect();
    push_inserts(&mut statements, "t4", &t4_rows);
    statements
}

fn push_inserts(statements: &mut Vec<String>, table: &str, rows: &[String]) {
    for chunk in rows.chunks(LOAD_BATCH_ROWS) {
        statements.push(format!("INSERT INTO {table} VALUES {}", chunk.join(", ")));
    }
}

// ---------------------------------------------------------------------------
// Query files.

struct Query {
    /// `file:line` of the query's first line.
    location: String,
    sql: String,
}

fn parse_query_file(path: &Path, shown: &str) -> Vec<Query> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut queries = Vec::new();
    let mut current = String::new();
    let mut start_line = 0;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with("--")) {
            continue;
        }
        if trimmed.starts_with("--") {
            continue;
        }
        if current.is_empty() {
            start_line = index + 1;
        } else {
            current.push('\n');
        }
        current.push_str(line);
        if trimmed.ends_with(';') {
            let sql = current.trim().trim_end_matches(';').trim().to_string();
            queries.push(Query {
                location: format!("{shown}:{start_line}"),
                sql,
            });
            current.clear();
        }
    }
    assert!(
        current.trim().is_empty(),
        "{shown}: the last statement (line {start_line}) does not end with `;`"
    );
    queries
}

/// True when the query has an ORDER BY outside parentheses and string
/// literals, i.e. its output order is specified.
fn has_top_level_order_by(sql: &str) -> bool {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut flat = String::with_capacity(sql.len());
    for c in sql.chars() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => depth -= 1,
            _ => {}
        }
        flat.push(if depth == 0 && !in_string {
            c.to_ascii_uppercase()
        } else {
            ' '
        });
    }
    flat.split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w == ["ORDER", "BY"])
}

// ---------------------------------------------------------------------------
// Running and comparing.

/// One side's answer to a query.
#[derive(Debug)]
enum Answer {
    Rows {
        type_oids: Vec<u32>,
        rows: Vec<Vec<Option<String>>>,
    },
    Error {
        code: Option<String>,
        message: String,
    },
}

/// A connection to one side that survives errors and reconnects after a
/// dropped connection.
struct Side {
    name: &'static str,
    url: String,
    conn: Option<RawConn>,
}

impl Side {
    fn connect(name: &'static str, url: String) -> Side {
        let mut side = Side {
            name,
            url,
            conn: None,
        };
        side.reconnect()
            .unwrap_or_else(|e| panic!("connect to {name} at {}: {e}", side.url));
        side
    }

    fn reconnect(&mut self) -> Result<(), WireError> {
        let (addr, user, dbname) = common::parse_url(&self.url);
        self.conn = Some(RawConn::connect(addr, &user, &dbname, QUERY_TIMEOUT)?);
        Ok(())
    }

    fn run(&mut self, sql: &str) -> Answer {
        if self.conn.is_none() {
            if let Err(e) = self.reconnect() {
                return Answer::Error {
                    code: None,
                    message: format!("cannot reconnect: {e}"),
                };
            }
        }
        let conn = self.conn.as_mut().expect("connected above");
        match conn.simple_query(sql) {
            Ok(mut results) => match results.pop() {
                Some(StatementResult {
                    columns: Some(columns),
                    rows,
                    ..
                }) => Answer::Rows {
                    type_oids: columns.iter().map(|c| c.type_oid).collect(),
                    rows,
                },
                Some(other) => Answer::Error {
                    code: None,
                    message: format!("not a query: command tag {:?}", other.tag),
                },
                None => Answer::Error {
                    code: None,
                    message: "no result".into(),
                },
            },
            Err(WireError::Server(e)) => Answer::Error {
                code: e.code,
                message: e.message,
            },
            Err(other) => {
                // The connection is unusable (I/O or protocol error): drop it
                // so the next query reconnects.
                self.conn = None;
                Answer::Error {
                    code: None,
                    message: format!("{} connection failed: {other}", self.name),
                }
            }
        }
    }

    /// Runs a statement that must succeed (loading data).
    fn exec(&mut self, sql: &str) -> Result<(), String> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| format!("{} is not connected", self.name))?;
        match conn.simple_query(sql) {
            Ok(_) => Ok(()),
            Err(WireError::Server(e)) => Err(format!("{} (SQLSTATE {:?})", e.message, e.code)),
            Err(other) => Err(other.to_string()),
        }
    }
}

const FLOAT_OIDS: [u32; 2] = [700, 701];

fn floats_close(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => {
            let scale = x.abs().max(y.abs());
            (x - y).abs() <= 1e-12 * scale
        }
        _ => false,
    }
}

fn rows_equal(
    float_columns: &[bool],
    left: &[Vec<Option<String>>],
    right: &[Vec<Option<String>>],
) -> bool {
    left.len() == right.len()
        && left.iter().zip(right).all(|(l, r)| {
            l.len() == r.len()
                && l.iter().zip(r).enumerate().all(|(i, (a, b))| match (a, b) {
                    (Some(a), Some(b)) => {
                        a == b || (float_columns.get(i) == Some(&true) && floats_close(a, b))
                    }
                    (None, None) => true,
                    _ => false,
                })
        })
}

/// Compares two answers. Returns a description of the difference, if any.
fn compare(sql: &str, freshet: &Answer, oracle: &Answer, check_types: bool) -> Option<String> {
    match (freshet, oracle) {
        (
            Answer::Error {
                code: fc,
                message: fm,
            },
            Answer::Error { code: oc, .. },
        ) => {
            if fc == oc && fc.is_some() {
                None
            } else {
                Some(format!(
                    "both failed, with different SQLSTATEs: {fc:?} vs {oc:?} ({fm})"
                ))
            }
        }
        (Answer::Error { .. }, Answer::Rows { .. }) => {
            Some("freshet failed, the oracle succeeded".into())
        }
        (Answer::Rows { .. }, Answer::Error { .. }) => {
            Some("freshet succeeded, the oracle failed".into())
        }
        (
            Answer::Rows {
                type_oids: ft,
                rows: fr,
            },
            Answer::Rows {
                type_oids: ot,
                rows: or,
            },
        ) => {
            if ft.len() != ot.len() {
                return Some(format!("column count {} vs {}", ft.len(), ot.len()));
            }
            if check_types && ft != ot {
                return Some(format!("column type OIDs {ft:?} vs {ot:?}"));
            }
            let float_columns: Vec<bool> = ot.iter().map(|oid| FLOAT_OIDS.contains(oid)).collect();
            if has_top_level_order_by(sql) {
                if rows_equal(&float_columns, fr, or) {
                    return None;
                }
                let mut fs = fr.clone();
                let mut os = or.clone();
                fs.sort();
                os.sort();
                if rows_equal(&float_columns, &fs, &os) {
                    Some("same rows, different order (the query has ORDER BY)".into())
                } else {
                    Some("different rows (ordered comparison)".into())
                }
            } else {
                let mut fs = fr.clone();
                let mut os = or.clone();
                fs.sort();
                os.sort();
                if rows_equal(&float_columns, &fs, &os) {
                    None
                } else {
                    Some("different rows (multiset comparison)".into())
                }
            }
        }
    }
}

fn show(answer: &Answer) -> String {
    match answer {
        Answer::Error { code, message } => {
            format!("ERROR {}: {message}", code.as_deref().unwrap_or("-----"))
        }
        Answer::Rows { type_oids, rows } => {
            let mut out = format!("{} rows, type OIDs {type_oids:?}", rows.len());
            for row in rows.iter().take(RESULT_ROWS_SHOWN_MAX) {
                out.push_str(&format!("\n        {}", format_row(row)));
            }
            if rows.len() > RESULT_ROWS_SHOWN_MAX {
                out.push_str(&format!(
                    "\n        ... {} more",
                    rows.len() - RESULT_ROWS_SHOWN_MAX
                ));
            }
            out
        }
    }
}

fn format_row(row: &[Option<String>]) -> String {
    row.iter()
        .map(|v| match v {
            None => "NULL".to_string(),
            Some(s) if s.is_empty() => "(empty)".to_string(),
            Some(s) => s.clone(),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Prints the rows only one side returned (as multisets, textually).
fn print_row_difference(freshet: &[Vec<Option<String>>], oracle: &[Vec<Option<String>>]) {
    let mut counts: BTreeMap<&[Option<String>], i64> = BTreeMap::new();
    for row in freshet {
        *counts.entry(row.as_slice()).or_default() += 1;
    }
    for row in oracle {
        *counts.entry(row.as_slice()).or_default() -= 1;
    }
    for (shown, (row, count)) in counts.iter().filter(|(_, c)| **c != 0).enumerate() {
        if shown == ROWS_SHOWN_MAX {
            println!("    ... more differing rows");
            break;
        }
        let (side, times) = if *count > 0 {
            ("only freshet", *count)
        } else {
            ("only oracle ", -*count)
        };
        println!("    {side} (x{times}): {}", format_row(row));
    }
}

// ---------------------------------------------------------------------------
// Oracle databases.

async fn create_database(admin_url: &str, name: &str) -> String {
    let client = common::connect(admin_url).await;
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on the oracle: {e}"));
    common::url_with_dbname(admin_url, name)
}

async fn drop_database(admin_url: &str, name: &str) {
    let client = common::connect(admin_url).await;
    if let Err(e) = client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
    {
        eprintln!("warning: could not drop oracle database {name}: {e}");
    }
}

fn query_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("read a directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn main() -> ExitCode {
    let admin_url = common::pg_oracle_url();
    let self_test = env_flag("FRESHET_DIFF_SELF_TEST");
    let check_types = !env_flag("FRESHET_DIFF_IGNORE_TYPES");
    let seed = match std::env::var("FRESHET_DIFF_SEED") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("FRESHET_DIFF_SEED={s:?}: {e}")),
        Err(_) => SEED,
    };
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let query_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/differential");

    let mut queries = Vec::new();
    for file in query_files(&query_dir) {
        let shown = file
            .file_name()
            .expect("a file has a name")
            .to_string_lossy()
            .into_owned();
        if filters.is_empty() || filters.iter().any(|f| shown.contains(f.as_str())) {
            queries.extend(parse_query_file(&file, &shown));
        }
    }
    println!(
        "differential: seed {seed}, {} queries, freshet side = {}",
        queries.len(),
        if self_test {
            "a second oracle database (self test)"
        } else {
            "a fresh freshet server"
        }
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    let tag = format!("{}_{}", std::process::id(), seed % 100_000);
    let oracle_db = format!("diff_oracle_{tag}");
    let self_db = format!("diff_self_{tag}");
    // The server starts first: if it cannot, the test panics before creating
    // anything on the oracle.
    let (server, freshet_url) = if self_test {
        (
            None,
            runtime.block_on(create_database(&admin_url, &self_db)),
        )
    } else {
        let server = common::TestServer::start();
        let url = server.url();
        (Some(server), url)
    };
    let oracle_url = runtime.block_on(create_database(&admin_url, &oracle_db));

    let outcome = run_all(&queries, seed, &freshet_url, &oracle_url, check_types);

    runtime.block_on(drop_database(&admin_url, &oracle_db));
    if self_test {
        runtime.block_on(drop_database(&admin_url, &self_db));
    }
    if let (Err(_) | Ok((_, 1..)), Some(server)) = (&outcome, &server) {
        let stderr = server.stderr();
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        if !tail.is_empty() {
            println!("--- freshet stderr (last lines) ---");
            for line in tail.into_iter().rev() {
                println!("{line}");
            }
        }
    }
    drop(server);

    match outcome {
        Ok((passed, failed)) => {
            println!("{passed} passed, {failed} failed");
            if failed == 0 && passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            println!("differential: {e}");
            println!("0 passed, {} failed", queries.len());
            ExitCode::FAILURE
        }
    }
}

/// Loads the data on both sides and runs every query. Returns (passed,
/// failed), or an error when loading failed.
fn run_all(
    queries: &[Query],
    seed: u64,
    freshet_url: &str,
    oracle_url: &str,
    check_types: bool,
) -> Result<(usize, usize), String> {
    let mut freshet = Side::connect("freshet", freshet_url.to_string());
    let mut oracle = Side::connect("oracle", oracle_url.to_string());
    for statement in generate_dataset(seed) {
        oracle
            .exec(&statement)
            .map_err(|e| format!("loading the oracle failed: {e}\n  {statement}"))?;
        freshet
            .exec(&statement)
            .map_err(|e| format!("loading freshet failed: {e}\n  {statement}"))?;
    }
    let mut passed = 0;
    let mut failed = 0;
    let mut oracle_errors = 0;
    let verbose = env_flag("FRESHET_DIFF_VERBOSE");
    let mut failures_by_file: BTreeMap<String, usize> = BTreeMap::new();
    let started = std::time::Instant::now();
    for (index, query) in queries.iter().enumerate() {
        if started.elapsed() > SUITE_DEADLINE {
            let rest = queries.len() - index;
            println!("differential: stopped after {SUITE_DEADLINE:?}; {rest} queries not run count as failed");
            failed += rest;
            break;
        }
        let freshet_answer = freshet.run(&query.sql);
        let oracle_answer = oracle.run(&query.sql);
        if matches!(oracle_answer, Answer::Error { .. }) {
            oracle_errors += 1;
        }
        match compare(&query.sql, &freshet_answer, &oracle_answer, check_types) {
            None => {
                passed += 1;
                if verbose {
                    let summary = match &oracle_answer {
                        Answer::Rows { rows, .. } => format!("{} rows", rows.len()),
                        Answer::Error { code, message } => format!("error {code:?}: {message}"),
                    };
                    println!("ok {}: {summary}", query.location);
                }
            }
            Some(difference) => {
                failed += 1;
                let file = query
                    .location
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                *failures_by_file.entry(file).or_default() += 1;
                println!("MISMATCH {}: {difference}", query.location);
                println!(
                    "    query:   {}",
                    query.sql.replace('\n', "\n             ")
                );
                println!("    freshet: {}", show(&freshet_answer));
                println!("    oracle:  {}", show(&oracle_answer));
                if let (Answer::Rows { rows: fr, .. }, Answer::Rows { rows: or, .. }) =
                    (&freshet_answer, &oracle_answer)
                {
                    print_row_difference(fr, or);
                }
            }
        }
    }
    println!("differential: {oracle_errors} queries fail on the oracle too (expected errors, compared by SQLSTATE)");
    for (file, count) in &failures_by_file {
        println!("differential: {file}: {count} mismatches");
    }
    Ok((passed, failed))
}
