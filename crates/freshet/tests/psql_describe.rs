//! Golden test for psql's describe commands: `\dt`, `\d`, `\d TABLE`,
//! `\di`, `\ds`, `\dv`, `\dn`, `\l`, `\d+ TABLE` and friends must print
//! against Freshet exactly what they print against PostgreSQL 15 for the
//! same objects.
//!
//! The PostgreSQL oracle (`FRESHET_TEST_PG_URL`) is the golden file: the
//! test creates the same schema in a scratch database there and in a fresh
//! Freshet server, runs each command with the real `psql` against both, and
//! compares the text. The objects are created by a role named `root` on
//! both sides, so owner columns agree without rewriting. The only
//! normalisation is for `\l`, whose list of databases differs by nature
//! (Freshet has `dev` and `postgres`, the oracle its own): there the title,
//! the column headers and the row of the connected database (with its name
//! masked) are compared.
//!
//! Needs `psql` (PostgreSQL 15's client) on the PATH and the oracle running
//! (`scripts/pg-oracle.sh start`; `.ci/run` does both).

mod common;

use std::process::Command;

use common::{pg_oracle_url, url_with_dbname, TestServer};

/// The scratch database on the oracle (dropped and recreated each run).
const ORACLE_DATABASE: &str = "freshet_psql_describe";

/// The objects described, one statement per entry. Chosen to cover what
/// `\d` prints: a serial primary key, a composite primary key, varchar(n),
/// numeric(p,s), char(n) and arrays, defaults of several kinds, NOT NULL,
/// UNIQUE (single and multi-column), quoted mixed-case names, a view with
/// and one without renamed columns, sequences (owned, standalone, and
/// descending), a plain index, a second schema and enum types (a column,
/// an array column, a default, a comment, one in the second schema).
const SCHEMA: &[&str] = &[
    "CREATE TABLE users (id serial PRIMARY KEY, name varchar(50) NOT NULL, email text UNIQUE, \
     balance numeric(10,2) DEFAULT 0, active boolean NOT NULL DEFAULT true, created timestamp, \
     note text DEFAULT 'none', score integer DEFAULT -1)",
    "CREATE TABLE order_items (order_id integer, line integer, qty smallint NOT NULL, PRIMARY KEY (order_id, line))",
    "CREATE TABLE measurements (code char(8), reading double precision, ratio real, tags text[], payload jsonb, \
     raw bytea, uid uuid, taken date DEFAULT '2020-01-01', at time, seen timestamptz DEFAULT now(), span interval, \
     total bigint, amount numeric, big bigserial, \"CamelCol\" integer, UNIQUE (code, taken))",
    "CREATE TABLE \"MixedCase\" (\"Id\" integer PRIMARY KEY, note varchar)",
    "CREATE VIEW active_users AS SELECT id, name FROM users WHERE active",
    "CREATE VIEW user_emails (user_id, address) AS SELECT id, email FROM users",
    "CREATE SEQUENCE ticket_seq",
    "CREATE SEQUENCE countdown INCREMENT BY -1 START WITH -1",
    "CREATE INDEX users_created_idx ON users (created)",
    "CREATE SCHEMA inventory",
    "CREATE TABLE inventory.items (sku integer PRIMARY KEY, title text NOT NULL)",
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "COMMENT ON TYPE mood IS 'how one feels'",
    "CREATE TYPE \"Shade\" AS ENUM ('light', 'dark')",
    "CREATE TYPE inventory.state AS ENUM ('in stock', 'sold out')",
    "CREATE TABLE feelings (id integer PRIMARY KEY, current mood NOT NULL DEFAULT 'ok', past mood[], \
     shade \"Shade\", stock inventory.state DEFAULT 'in stock')",
];

/// The psql commands compared.
const COMMANDS: &[&str] = &[
    r"\dt",
    r"\d",
    r"\di",
    r"\ds",
    r"\dv",
    r"\dn",
    r"\l",
    r"\d users",
    r"\d+ users",
    r"\d order_items",
    r"\d measurements",
    r#"\d "MixedCase""#,
    r"\d active_users",
    r"\d+ active_users",
    r"\d+ user_emails",
    r"\d users_id_seq",
    r"\d ticket_seq",
    r"\d countdown",
    r"\d users_pkey",
    r"\d users_email_key",
    r"\d users_created_idx",
    r"\d inventory.items",
    r"\dt inventory.*",
    r"\di inventory.*",
    r"\dT",
    r"\dT+",
    r"\dT inventory.*",
    r"\dT+ mood",
    r"\d feelings",
    r"\d+ feelings",
];

/// The output of one psql run: stdout, stderr and whether it succeeded.
#[derive(Debug, PartialEq)]
struct PsqlOutput {
    stdout: String,
    stderr: String,
    success: bool,
}

/// Runs `psql -c command` against `url` without reading any psqlrc.
fn psql(url: &str, command: &str) -> PsqlOutput {
    let out = Command::new("psql")
        .args(["-X", "-P", "pager=off", "-d", url, "-c", command])
        .env("PGCLIENTENCODING", "UTF8")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(std::process::Stdio::null())
        .env_remove("PGOPTIONS")
        .env_remove("PGUSER")
        .env_remove("PGDATABASE")
        .output()
        .unwrap_or_else(|e| panic!("run psql (is PostgreSQL's client installed?): {e}"));
    PsqlOutput {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        success: out.status.success(),
    }
}

/// Runs a statement that must succeed.
fn psql_ok(url: &str, statement: &str) {
    let out = psql(url, statement);
    assert!(
        out.success,
        "psql -d {url} -c {statement:?} failed:\n{}",
        out.stderr
    );
}

/// `url` with its user replaced.
fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL has a scheme");
    let rest = match rest.split_once('@') {
        Some((_, host)) => host,
        None => rest,
    };
    format!("{scheme}://{user}@{rest}")
}

/// `\l` output reduced to what both servers share: the title, the column
/// headers and the row of `database`, cell by cell, with its name masked.
fn normalize_database_list(output: &str, database: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let cells = |line: &str| {
        line.split('|')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let mut out = Vec::new();
    if let Some(title) = lines.first() {
        out.push(title.trim().to_string());
    }
    if let Some(header) = lines.get(1) {
        out.push(cells(header));
    }
    for line in lines.iter().skip(3) {
        let mut parts: Vec<&str> = line.split('|').map(str::trim).collect();
        if parts.first() == Some(&database) {
            parts[0] = "<current database>";
            out.push(parts.join(" | "));
        }
    }
    out.join("\n")
}

/// A line-by-line rendering of two texts' differences.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => out.push_str(&format!("  {x}\n")),
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!("- {x}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("+ {y}\n"));
                }
            }
        }
    }
    out
}

#[test]
fn psql_describe_matches_postgres() {
    let oracle_admin = pg_oracle_url();
    // The objects' owner must have the same name on both servers.
    psql_ok(
        &oracle_admin,
        "DO $$ BEGIN CREATE ROLE root SUPERUSER LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    );
    psql_ok(
        &oracle_admin,
        &format!("DROP DATABASE IF EXISTS {ORACLE_DATABASE} WITH (FORCE)"),
    );
    psql_ok(
        &oracle_admin,
        &format!("CREATE DATABASE {ORACLE_DATABASE} OWNER root"),
    );
    let oracle = url_with_dbname(&with_user(&oracle_admin, "root"), ORACLE_DATABASE);

    let server = TestServer::start();
    let freshet = server.url();
    for statement in SCHEMA {
        psql_ok(&oracle, statement);
        psql_ok(&freshet, statement);
    }

    let mut failures = Vec::new();
    for command in COMMANDS {
        let mut expected = psql(&oracle, command);
        let mut actual = psql(&freshet, command);
        assert!(
            expected.success,
            "{command} failed on PostgreSQL:\n{}",
            expected.stderr
        );
        if *command == r"\l" {
            expected.stdout = normalize_database_list(&expected.stdout, ORACLE_DATABASE);
            actual.stdout = normalize_database_list(&actual.stdout, "dev");
            assert!(
                expected.stdout.contains("<current database>"),
                "\\l on PostgreSQL does not list {ORACLE_DATABASE}:\n{}",
                expected.stdout
            );
        }
        if expected != actual {
            failures.push(format!(
                "=== {command}: differs (- PostgreSQL, + Freshet)\n{}{}",
                diff(&expected.stdout, &actual.stdout),
                if expected.stderr == actual.stderr {
                    String::new()
                } else {
                    format!("stderr:\n{}", diff(&expected.stderr, &actual.stderr))
                }
            ));
        }
    }

    // Best effort: a leftover scratch database is dropped by the next run.
    let _ = psql(
        &oracle_admin,
        &format!("DROP DATABASE IF EXISTS {ORACLE_DATABASE} WITH (FORCE)"),
    );
    assert!(
        failures.is_empty(),
        "{} of {} psql commands print differently on Freshet:\n{}\nserver stderr:\n{}",
        failures.len(),
        COMMANDS.len(),
        failures.join("\n"),
        server.stderr()
    );
}
