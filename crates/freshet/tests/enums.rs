//! Enum types beyond what sqllogictest can show: durability across a
//! crash, the wire protocol with a real driver, and concurrent DDL.
//!
//! `enum_types_survive_a_restart`: types, their labels after ADD VALUE
//! (including PostgreSQL's renumbering), RENAME VALUE and RENAME TO, a
//! comment, rows using them and a materialized view over them are all
//! there, unchanged, after SIGKILL and restart.
//!
//! `enum_values_over_the_extended_protocol`: with `tokio-postgres`
//! (binary results, server-inferred parameter types, its `pg_type`/
//! `pg_enum` introspection of unknown types), a result column carries the
//! enum type's OID, a value travels as its label both ways (PostgreSQL's
//! `enum_send`/`enum_recv`), a parameter declared `text` cannot be stored
//! in an enum column (42804) and one left unknown can. Runs against
//! Freshet and, when `FRESHET_TEST_PG_URL` is set, against PostgreSQL too,
//! with the same expectations.
//!
//! `renumbering_conflicts_with_concurrent_writers`: rows written with an
//! enum value whose sort order a concurrent `ALTER TYPE` renumbered are
//! refused at commit (40001), Freshet only (see docs/architecture.md).

mod common;

use std::error::Error as StdError;

use common::TestServer;
use tokio_postgres::types::{private::BytesMut, FromSql, IsNull, Kind, ToSql, Type};

/// An enum value as the driver sees it: its label, sent and received in
/// binary, which for enums is the label's bytes.
#[derive(Debug, PartialEq)]
struct Label(String);

impl<'a> FromSql<'a> for Label {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Label, Box<dyn StdError + Sync + Send>> {
        Ok(Label(std::str::from_utf8(raw)?.to_string()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Enum(_))
    }
}

impl ToSql for Label {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Enum(_))
    }

    tokio_postgres::types::to_sql_checked!();
}

fn label(s: &str) -> Label {
    Label(s.to_string())
}

/// Rows of a simple query as text (NULL as `NULL`), one string per row.
async fn rows(client: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    let messages = client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    messages
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len()).map(|i| row.get(i).unwrap_or("NULL").to_string()).collect::<Vec<_>>().join(" "),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enum_types_survive_a_restart() {
    let mut server = tokio::task::block_in_place(TestServer::start);
    let client = server.connect().await;
    // One statement at a time: an added label is usable once committed.
    for statement in [
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TYPE level AS ENUM ('low', 'high')",
        "CREATE TABLE person (id int PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', history mood[])",
        "CREATE TABLE reading (id int, l level)",
        "INSERT INTO person VALUES (1, 'happy', '{sad,happy}'), (2, 'sad', NULL), (3, DEFAULT, NULL)",
        "INSERT INTO reading VALUES (1, 'low'), (2, 'high')",
        "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'",
        "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'",
        "COMMENT ON TYPE mood IS 'feelings'",
        "INSERT INTO person VALUES (4, 'meh', '{meh}')",
        "CREATE MATERIALIZED VIEW by_mood AS SELECT m, count(*) AS n FROM person GROUP BY m",
    ] {
        client.batch_execute(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    // Enough labels between 'low' and 'high' to make PostgreSQL renumber.
    for i in 0..25 {
        client
            .batch_execute(&format!("ALTER TYPE level ADD VALUE 'l{i:02}' AFTER 'low'"))
            .await
            .expect("add a label");
    }
    for statement in ["INSERT INTO reading VALUES (3, 'l00'), (4, 'l24')", "ALTER TYPE level RENAME TO grade"] {
        client.batch_execute(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let queries = [
        "SELECT id, m, history FROM person ORDER BY m, id",
        "SELECT enumlabel, enumsortorder FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'mood' ORDER BY 2",
        "SELECT id, l FROM reading ORDER BY l",
        "SELECT enum_range(NULL::grade)",
        "SELECT typname, typtype, obj_description(oid, 'pg_type') FROM pg_type WHERE typname IN ('mood', '_mood', 'grade', '_grade') ORDER BY 1",
        "SELECT * FROM by_mood ORDER BY m",
    ];
    let mut before = Vec::new();
    for q in queries {
        before.push(rows(&client, q).await);
    }
    assert_eq!(before[0], ["2 blue NULL", "4 meh {meh}", "3 ok NULL", "1 happy {blue,happy}"]);
    assert_eq!(before[2], ["1 low", "4 l24", "3 l00", "2 high"]);
    drop(client);

    tokio::task::block_in_place(|| server.restart());
    let client = server.connect().await;
    for (q, expected) in queries.iter().zip(&before) {
        assert_eq!(&rows(&client, q).await, expected, "{q} after a restart\n{}", server.stderr());
    }
    // The types still work: input, output, order, DDL.
    for statement in ["INSERT INTO person VALUES (5, 'blue', NULL)", "ALTER TYPE mood ADD VALUE 'ecstatic'"] {
        client.batch_execute(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    assert_eq!(
        rows(&client, "SELECT m, n FROM by_mood ORDER BY m").await,
        ["blue 2", "meh 1", "ok 1", "happy 1"]
    );
    assert_eq!(rows(&client, "SELECT enum_last(NULL::mood)").await, ["ecstatic"]);
}

/// Runs the protocol checks against one server (Freshet or PostgreSQL).
async fn check_protocol(client: &tokio_postgres::Client, target: &str) {
    client
        .batch_execute(
            "DROP TABLE IF EXISTS visit; DROP TYPE IF EXISTS mood;
             CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
             CREATE TABLE visit (id int, m mood, ms mood[])",
        )
        .await
        .unwrap_or_else(|e| panic!("{target}: setup: {e}"));
    let type_oid: u32 = client
        .query_one("SELECT oid FROM pg_type WHERE typname = 'mood'", &[])
        .await
        .unwrap_or_else(|e| panic!("{target}: type OID: {e}"))
        .get(0);

    // Parameters inferred as the enum type, sent in binary as labels.
    let insert = client
        .prepare("INSERT INTO visit (id, m) VALUES ($1, $2)")
        .await
        .unwrap_or_else(|e| panic!("{target}: prepare INSERT: {e}"));
    assert_eq!(insert.params()[1].oid(), type_oid, "{target}: parameter type");
    assert!(matches!(insert.params()[1].kind(), Kind::Enum(labels) if labels == &["sad", "ok", "happy"]));
    for (id, m) in [(1, "happy"), (2, "sad"), (3, "ok")] {
        client
            .execute(&insert, &[&id, &label(m)])
            .await
            .unwrap_or_else(|e| panic!("{target}: INSERT {m}: {e}"));
    }
    let bad = client.execute(&insert, &[&4, &label("angry")]).await.expect_err("not a label");
    assert_eq!(common::sqlstate(&bad).as_deref(), Some("22P02"), "{target}: {bad}");

    // Results carry the type's OID; binary values are labels.
    let select = client
        .prepare("SELECT m, id FROM visit WHERE m >= $1 ORDER BY m")
        .await
        .unwrap_or_else(|e| panic!("{target}: prepare SELECT: {e}"));
    assert_eq!(select.columns()[0].type_().oid(), type_oid, "{target}: result column type");
    let found: Vec<(Label, i32)> = client
        .query(&select, &[&label("ok")])
        .await
        .unwrap_or_else(|e| panic!("{target}: SELECT: {e}"))
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(found, [(label("ok"), 3), (label("happy"), 1)], "{target}");

    // An enum array in binary: the element type is the enum's.
    client
        .batch_execute("UPDATE visit SET ms = '{happy,sad}' WHERE id = 1")
        .await
        .unwrap_or_else(|e| panic!("{target}: UPDATE: {e}"));
    let ms: Vec<Label> = client
        .query_one("SELECT ms FROM visit WHERE id = 1", &[])
        .await
        .unwrap_or_else(|e| panic!("{target}: SELECT ms: {e}"))
        .get(0);
    assert_eq!(ms, [label("happy"), label("sad")], "{target}");

    // Text is not assignable to an enum column; an unknown literal is.
    let text_param = client
        .prepare_typed("INSERT INTO visit (id, m) VALUES (5, $1)", &[Type::TEXT])
        .await
        .expect_err("text into an enum column");
    assert_eq!(common::sqlstate(&text_param).as_deref(), Some("42804"), "{target}: {text_param}");
    let unknown = client
        .prepare_typed("INSERT INTO visit (id, m) VALUES (5, $1)", &[Type::UNKNOWN])
        .await
        .unwrap_or_else(|e| panic!("{target}: prepare with an unknown parameter: {e}"));
    assert_eq!(unknown.params()[0].oid(), type_oid, "{target}: unknown parameter resolved to the enum");
    client
        .execute(&unknown, &[&label("sad")])
        .await
        .unwrap_or_else(|e| panic!("{target}: INSERT with an unknown parameter: {e}"));
    let casted: String = client
        .query_one("SELECT string_agg(m::text, ',' ORDER BY m, id) FROM visit", &[])
        .await
        .unwrap_or_else(|e| panic!("{target}: string_agg: {e}"))
        .get(0);
    assert_eq!(casted, "sad,sad,ok,happy", "{target}");
    client
        .batch_execute("DROP TABLE visit; DROP TYPE mood")
        .await
        .unwrap_or_else(|e| panic!("{target}: cleanup: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enum_values_over_the_extended_protocol() {
    let server = tokio::task::block_in_place(TestServer::start);
    let client = server.connect().await;
    check_protocol(&client, "Freshet").await;
    if let Ok(url) = std::env::var(common::PG_ORACLE_ENV) {
        let admin = common::connect(&url).await;
        for statement in ["DROP DATABASE IF EXISTS freshet_enums_test WITH (FORCE)", "CREATE DATABASE freshet_enums_test"] {
            admin.batch_execute(statement).await.expect("create the oracle's scratch database");
        }
        let oracle = common::connect(&common::url_with_dbname(&url, "freshet_enums_test")).await;
        check_protocol(&oracle, "PostgreSQL").await;
        drop(oracle);
        let _ = admin.batch_execute("DROP DATABASE IF EXISTS freshet_enums_test WITH (FORCE)").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renumbering_conflicts_with_concurrent_writers() {
    let server = tokio::task::block_in_place(TestServer::start);
    let writer = server.connect().await;
    let ddl = server.connect().await;
    ddl.batch_execute("CREATE TYPE level AS ENUM ('low', 'high'); CREATE TABLE reading (l level)")
        .await
        .expect("setup");
    writer
        .batch_execute("BEGIN; INSERT INTO reading VALUES ('high')")
        .await
        .expect("write in an open transaction");
    for i in 0..25 {
        ddl.batch_execute(&format!("ALTER TYPE level ADD VALUE 'l{i:02}' AFTER 'low'"))
            .await
            .expect("add a label");
    }
    let renumbered = rows(&ddl, "SELECT enumsortorder FROM pg_enum WHERE enumlabel = 'high'").await;
    assert_ne!(renumbered, ["2"], "the labels were renumbered");
    let err = writer.batch_execute("COMMIT").await.expect_err("a stale enum value");
    assert_eq!(common::sqlstate(&err).as_deref(), Some("40001"), "{err}");
    writer.batch_execute("INSERT INTO reading VALUES ('high')").await.expect("retry");
    assert_eq!(rows(&ddl, "SELECT l, l = enum_last(NULL::level) FROM reading").await, ["high t"]);
}
