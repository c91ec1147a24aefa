//! sqllogictest runner: runs every `tests/slt/**/*.slt` file (at the repo
//! root) over pgwire, twice: once over the simple query protocol (with
//! `tokio-postgres`) and once over the extended protocol (Parse/Bind/Describe/
//! Execute with text results, with the raw client in `common::wire`).
//!
//! Each (file, protocol) run gets a fresh `freshet` server on a fresh data
//! directory, so files cannot see each other's tables.
//!
//! Environment:
//! - `FRESHET_SLT_URL`: run against this existing server instead of starting
//!   Freshet, e.g. the PostgreSQL oracle, which is how the files themselves are
//!   validated. A scratch database is created (and dropped) per run if the
//!   server allows `CREATE DATABASE`; otherwise the URL's database is used.
//! - `FRESHET_SLT_PROTOCOLS`: `simple`, `extended` or `simple,extended` (default).
//! - `UPDATE_GOLDENFILES=1` (requires `FRESHET_SLT_URL`): rewrite the expected
//!   output of every record from the server's answers (extended protocol, so
//!   column types are known). Records expecting an error keep their expected
//!   SQLSTATE or regex when it still matches. Review the diff like code.
//! - Non-flag command-line arguments are substring filters on file paths:
//!   `cargo test -p freshet --test slt -- core/ddl`.
//!
//! Output conventions (the server must produce PostgreSQL's text output):
//! NULL prints as `NULL`, an empty string as `(empty)`; booleans are `t`/`f`.
//! Column types are checked on the extended run only (simple-protocol results
//! carry no type through `tokio-postgres`): `I` for int2/int4/int8/oid, `R`
//! for float4/float8/numeric, `T` for everything else.
//!
//! Labels for `skipif`/`onlyif`: `freshet` when the runner started Freshet,
//! `external` when `FRESHET_SLT_URL` is set, plus `simple` or `extended`, plus
//! any in `FRESHET_SLT_LABELS` (comma separated).

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::wire::{RawConn, WireError};
use sqllogictest::{
    default_column_validator, default_normalizer, default_validator, strict_column_validator,
    update_record_with_output, AsyncDB, DBOutput, DefaultColumnType, ExpectedError, QueryExpect,
    Record, RecordOutput, Runner, StatementExpect,
};

/// Upper bound on one (file, protocol) run, so a hung server fails the run
/// instead of hanging CI.
const FILE_DEADLINE: Duration = Duration::from_secs(120);

/// Upper bound on the whole suite: files not started by then fail at once.
const SUITE_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Upper bound on one statement (simple protocol).
const STATEMENT_DEADLINE: Duration = Duration::from_secs(30);

/// Upper bound on a single network read by the raw client (extended protocol).
const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    Simple,
    Extended,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Simple => "simple",
            Protocol::Extended => "extended",
        }
    }
}

/// The error both database adapters return: the server's message, formatted
/// as `db error: ERROR: <message>`, and its SQLSTATE.
#[derive(Debug)]
struct SltError {
    message: String,
    code: Option<String>,
}

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SltError {}

impl From<String> for SltError {
    fn from(message: String) -> Self {
        SltError {
            message,
            code: None,
        }
    }
}

impl From<tokio_postgres::Error> for SltError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => SltError {
                message: format!("db error: {}: {}", db.severity(), db.message()),
                code: Some(db.code().code().to_string()),
            },
            None => SltError {
                message: e.to_string(),
                code: None,
            },
        }
    }
}

impl From<WireError> for SltError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Server(s) => SltError {
                message: format!("db error: {}: {}", s.severity, s.message),
                code: s.code,
            },
            other => SltError {
                message: other.to_string(),
                code: None,
            },
        }
    }
}

/// Formats one text value the sqllogictest way.
fn format_value(value: Option<&str>) -> String {
    match value {
        None => "NULL".to_string(),
        Some("") => "(empty)".to_string(),
        Some(s) => s.to_string(),
    }
}

/// Maps a type OID to the sqllogictest column type letter.
fn column_type(type_oid: u32) -> DefaultColumnType {
    match type_oid {
        20 | 21 | 23 | 26 => DefaultColumnType::Integer,
        700 | 701 | 1700 => DefaultColumnType::FloatingPoint,
        _ => DefaultColumnType::Text,
    }
}

/// Simple query protocol through `tokio-postgres`.
struct SimpleDb {
    client: tokio_postgres::Client,
}

impl SimpleDb {
    async fn connect(url: &str) -> Result<SimpleDb, SltError> {
        Ok(SimpleDb {
            client: common::try_connect(url).await?,
        })
    }
}

#[async_trait]
impl AsyncDB for SimpleDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        use tokio_postgres::SimpleQueryMessage;
        let messages =
            match tokio::time::timeout(STATEMENT_DEADLINE, self.client.simple_query(sql)).await {
                Ok(result) => result?,
                Err(_) => {
                    return Err(SltError {
                        message: format!("statement timed out after {STATEMENT_DEADLINE:?}"),
                        code: None,
                    })
                }
            };
        // The output of a multi-statement query is that of its last
        // row-returning statement, else the last command's count.
        let mut columns: Option<usize> = None;
        let mut rows = Vec::new();
        let mut count = 0;
        for message in messages {
            match message {
                SimpleQueryMessage::RowDescription(cols) => {
                    columns = Some(cols.len());
                    rows.clear();
                }
                SimpleQueryMessage::Row(row) => {
                    rows.push((0..row.len()).map(|i| format_value(row.get(i))).collect());
                }
                SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        Ok(match columns {
            Some(n) => DBOutput::Rows {
                types: vec![DefaultColumnType::Any; n],
                rows,
            },
            None => DBOutput::StatementComplete(count),
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "simple"
    }

    async fn sleep(dur: Duration) {
        tokio::time::sleep(dur).await;
    }

    fn error_sql_state(err: &SltError) -> Option<String> {
        err.code.clone()
    }
}

/// Extended query protocol (unnamed statement and portal, text results)
/// through the raw client.
struct ExtendedDb {
    conn: Option<RawConn>,
}

impl ExtendedDb {
    fn connect(url: &str) -> Result<ExtendedDb, SltError> {
        let (addr, user, dbname) = common::parse_url(url);
        Ok(ExtendedDb {
            conn: Some(RawConn::connect(addr, &user, &dbname, READ_TIMEOUT)?),
        })
    }
}

impl sqllogictest::DB for ExtendedDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let conn = self.conn.as_mut().ok_or_else(|| SltError {
            message: "connection already closed".into(),
            code: None,
        })?;
        let result = conn.extended_query(sql)?;
        Ok(match result.columns {
            Some(columns) => DBOutput::Rows {
                types: columns.iter().map(|c| column_type(c.type_oid)).collect(),
                rows: result
                    .rows
                    .iter()
                    .map(|row| row.iter().map(|v| format_value(v.as_deref())).collect())
                    .collect(),
            },
            None => DBOutput::StatementComplete(result.tag_count()),
        })
    }

    fn shutdown(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.terminate();
        }
    }

    fn engine_name(&self) -> &str {
        "extended"
    }

    fn error_sql_state(err: &SltError) -> Option<String> {
        err.code.clone()
    }
}

/// Where a run's SQL goes: a server started for it, or a scratch database on
/// an external server.
enum Target {
    Freshet(common::TestServer),
    External {
        url: String,
        scratch_db: Option<String>,
        admin_url: String,
    },
}

impl Target {
    fn url(&self) -> String {
        match self {
            Target::Freshet(server) => server.url(),
            Target::External { url, .. } => url.clone(),
        }
    }
}

async fn open_target(external: Option<&str>, run_index: usize) -> Target {
    let Some(admin_url) = external else {
        return Target::Freshet(common::TestServer::start());
    };
    let name = format!("slt_{}_{}", std::process::id(), run_index);
    let client = common::connect(admin_url).await;
    match client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
    {
        Ok(()) => Target::External {
            url: common::url_with_dbname(admin_url, &name),
            scratch_db: Some(name),
            admin_url: admin_url.to_string(),
        },
        Err(e) => {
            eprintln!("note: CREATE DATABASE failed ({e}); using {admin_url} as is");
            Target::External {
                url: admin_url.to_string(),
                scratch_db: None,
                admin_url: admin_url.to_string(),
            }
        }
    }
}

async fn close_target(target: Target) {
    match target {
        Target::Freshet(server) => drop(server),
        Target::External {
            scratch_db: Some(name),
            admin_url,
            ..
        } => {
            let client = common::connect(&admin_url).await;
            if let Err(e) = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
            {
                eprintln!("warning: could not drop scratch database {name}: {e}");
            }
        }
        Target::External { .. } => {}
    }
}

fn labels(external: bool, protocol: Protocol) -> Vec<String> {
    let mut labels = vec![
        if external { "external" } else { "freshet" }.to_string(),
        protocol.name().to_string(),
    ];
    if let Ok(extra) = std::env::var("FRESHET_SLT_LABELS") {
        labels.extend(
            extra
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }
    labels
}

/// Runs one file over one protocol. Returns the failure text, if any.
async fn run_file(path: &Path, url: &str, protocol: Protocol, labels: &[String]) -> Option<String> {
    let outcome = match protocol {
        Protocol::Simple => {
            let url = url.to_string();
            let mut runner = Runner::new(move || {
                let url = url.clone();
                async move { SimpleDb::connect(&url).await }
            });
            runner.with_column_validator(default_column_validator);
            for label in labels {
                runner.add_label(label);
            }
            let outcome = tokio::time::timeout(FILE_DEADLINE, runner.run_file_async(path)).await;
            runner.shutdown_async().await;
            outcome
        }
        Protocol::Extended => {
            let url = url.to_string();
            let mut runner = Runner::new(move || {
                let url = url.clone();
                async move { ExtendedDb::connect(&url) }
            });
            runner.with_column_validator(strict_column_validator);
            for label in labels {
                runner.add_label(label);
            }
            let outcome = tokio::time::timeout(FILE_DEADLINE, runner.run_file_async(path)).await;
            runner.shutdown_async().await;
            outcome
        }
    };
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.display(false).to_string()),
        Err(_) => Some(format!("timed out after {FILE_DEADLINE:?}")),
    }
}

/// Rewrites the expected output of `path` from the server at `url`.
async fn update_file(path: &Path, url: &str, labels: &[String]) -> Result<(), String> {
    let records = sqllogictest::parse_file::<DefaultColumnType>(path).map_err(|e| e.to_string())?;
    let url_owned = url.to_string();
    let mut runner = Runner::new(move || {
        let url = url_owned.clone();
        async move { ExtendedDb::connect(&url) }
    });
    for label in labels {
        runner.add_label(label);
    }
    let mut out = String::new();
    let mut halted = false;
    for record in records {
        if let Record::Injected(_) = record {
            return Err("`include` is not supported by the updater".into());
        }
        if halted || matches!(record, Record::Halt { .. }) {
            halted = true;
            out.push_str(&format!("{record}\n"));
            continue;
        }
        let output = runner.apply_record(record.clone()).await;
        let new_record = if expected_error_still_matches(&record, &output) {
            record
        } else {
            let updated = update_record_with_output(
                &record,
                &output,
                " ",
                default_validator,
                default_normalizer,
                strict_column_validator,
            );
            match updated {
                Some(updated) => {
                    warn_if_new_error(&record, &updated, path);
                    updated
                }
                None => record,
            }
        };
        out.push_str(&format!("{new_record}\n"));
    }
    runner.shutdown_async().await;
    let trimmed = out.trim_end_matches('\n');
    std::fs::write(path, format!("{trimmed}\n")).map_err(|e| e.to_string())
}

/// True when the record expects an error and the output is an error that
/// matches it (including by SQLSTATE, which the library's updater ignores).
fn expected_error_still_matches(
    record: &Record<DefaultColumnType>,
    output: &RecordOutput<DefaultColumnType>,
) -> bool {
    let expected: &ExpectedError = match record {
        Record::Statement {
            expected: StatementExpect::Error(e),
            ..
        } => e,
        Record::Query {
            expected: QueryExpect::Error(e),
            ..
        } => e,
        _ => return false,
    };
    let error = match output {
        RecordOutput::Statement { error: Some(e), .. } => e,
        RecordOutput::Query { error: Some(e), .. } => e,
        _ => return false,
    };
    let code = error
        .downcast_ref::<SltError>()
        .and_then(|e| e.code.clone());
    expected.is_match(&error.to_string(), code.as_deref())
}

fn warn_if_new_error(
    old: &Record<DefaultColumnType>,
    new: &Record<DefaultColumnType>,
    path: &Path,
) {
    let old_error = matches!(
        old,
        Record::Statement {
            expected: StatementExpect::Error(_),
            ..
        } | Record::Query {
            expected: QueryExpect::Error(_),
            ..
        }
    );
    let new_error = match new {
        Record::Statement {
            expected: StatementExpect::Error(_),
            sql,
            loc,
            ..
        }
        | Record::Query {
            expected: QueryExpect::Error(_),
            sql,
            loc,
            ..
        } => Some((sql, loc)),
        _ => None,
    };
    if let Some((sql, loc)) = new_error {
        let verb = if old_error {
            "changed expected error"
        } else {
            "now FAILS"
        };
        eprintln!("warning: {} {verb} at {loc}: {sql}", path.display());
    }
}

fn find_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("read a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            find_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "slt") {
            out.push(path);
        }
    }
}

fn main() -> ExitCode {
    let slt_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/slt");
    let slt_root = slt_root
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", slt_root.display()));
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let external = std::env::var("FRESHET_SLT_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let updating = std::env::var("UPDATE_GOLDENFILES").is_ok_and(|v| !v.is_empty() && v != "0");
    let protocols: Vec<Protocol> = match std::env::var("FRESHET_SLT_PROTOCOLS") {
        Ok(list) => list
            .split(',')
            .map(|p| match p.trim() {
                "simple" => Protocol::Simple,
                "extended" => Protocol::Extended,
                other => panic!("FRESHET_SLT_PROTOCOLS: unknown protocol {other:?}"),
            })
            .collect(),
        Err(_) => vec![Protocol::Simple, Protocol::Extended],
    };

    let mut files = Vec::new();
    find_files(&slt_root, &mut files);
    files.retain(|f| {
        let shown = f
            .strip_prefix(&slt_root)
            .unwrap_or(f)
            .to_string_lossy()
            .into_owned();
        filters.is_empty() || filters.iter().any(|flt| shown.contains(flt.as_str()))
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime");

    match &external {
        Some(url) => println!("slt: {} files against external server {url}", files.len()),
        None => println!("slt: {} files against fresh freshet servers", files.len()),
    }

    if updating {
        let Some(url) = external.as_deref() else {
            eprintln!(
                "UPDATE_GOLDENFILES needs FRESHET_SLT_URL: expected output is generated from the \
                 PostgreSQL oracle, never from Freshet"
            );
            return ExitCode::FAILURE;
        };
        let mut failed = 0;
        for (index, file) in files.iter().enumerate() {
            let shown = file
                .strip_prefix(&slt_root)
                .unwrap_or(file)
                .display()
                .to_string();
            let result = runtime.block_on(async {
                let target = open_target(Some(url), index).await;
                let result =
                    update_file(file, &target.url(), &labels(true, Protocol::Extended)).await;
                close_target(target).await;
                result
            });
            match result {
                Ok(()) => println!("updated {shown}"),
                Err(e) => {
                    failed += 1;
                    println!("FAIL {shown}: {e}");
                }
            }
        }
        println!("{} passed, {} failed", files.len() - failed, failed);
        return if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }

    let mut passed = 0;
    let mut failed = 0;
    let mut run_index = 0;
    let suite_started = Instant::now();
    for file in &files {
        let shown = file
            .strip_prefix(&slt_root)
            .unwrap_or(file)
            .display()
            .to_string();
        let started = Instant::now();
        let mut failures = Vec::new();
        for &protocol in &protocols {
            if suite_started.elapsed() > SUITE_DEADLINE {
                failures.push(format!(
                    "[{}] not run: the suite exceeded {SUITE_DEADLINE:?}",
                    protocol.name()
                ));
                continue;
            }
            run_index += 1;
            let target = if external.is_some() {
                runtime.block_on(open_target(external.as_deref(), run_index))
            } else {
                // Started outside the runtime: it polls with blocking sleeps.
                // A server that fails to start fails this file, not the run.
                let hook = std::panic::take_hook();
                std::panic::set_hook(Box::new(|_| {}));
                let started = std::panic::catch_unwind(common::TestServer::start);
                std::panic::set_hook(hook);
                match started {
                    Ok(server) => Target::Freshet(server),
                    Err(panic) => {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "unknown panic".to_string());
                        failures.push(format!(
                            "[{}] server start failed: {message}",
                            protocol.name()
                        ));
                        continue;
                    }
                }
            };
            let labels = labels(external.is_some(), protocol);
            let failure = runtime.block_on(run_file(file, &target.url(), protocol, &labels));
            if let Some(failure) = &failure {
                failures.push(format!("[{}] {failure}", protocol.name()));
            }
            if let (Some(_), Target::Freshet(server)) = (&failure, &target) {
                let stderr = server.stderr();
                let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
                if !tail.is_empty() {
                    failures.push(format!(
                        "[{}] server stderr (last lines):\n{}",
                        protocol.name(),
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    ));
                }
            }
            runtime.block_on(close_target(target));
        }
        let protocols_shown: Vec<&str> = protocols.iter().map(|p| p.name()).collect();
        if failures.is_empty() {
            passed += 1;
            println!(
                "PASS {shown} ({}; {:.1}s)",
                protocols_shown.join(", "),
                started.elapsed().as_secs_f64()
            );
        } else {
            failed += 1;
            println!("FAIL {shown}");
            for failure in failures {
                for line in failure.lines() {
                    println!("    {line}");
                }
            }
        }
    }
    if files.is_empty() {
        println!("slt: no files matched");
        return ExitCode::FAILURE;
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
