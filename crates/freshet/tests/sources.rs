//! Sources end to end, over pgwire against a real `freshet` process:
//!
//! - datagen: a connector table and a source with sequence columns get
//!   exactly their sequences (no gap, no duplicate), a materialized view
//!   over the source equals its query run from scratch in the same
//!   snapshot, and after a SIGKILL and restart the sequences continue
//!   where the last commit left them;
//! - mqtt: a source and an upsert table fed by a real Mosquitto broker
//!   (`/usr/sbin/mosquitto`, started by the test on a free port; published
//!   to with `mosquitto_pub`) get the valid messages, skip malformed ones
//!   (counted in `freshet_sources`), keep working after the broker
//!   restarts, and a view over the source counts what arrived;
//! - refusals: DML into a source (42809), DROP of the wrong kind (42809),
//!   DROP SOURCE under a view without CASCADE (2BP01) and bad definitions
//!   (22023, 0A000) at CREATE.
//!
//! Waiting is polling a condition with a deadline, never a fixed sleep.
//! Without Mosquitto installed the MQTT test is skipped with a message,
//! unless `CI` is set: there (`.ci/run` installs it) its absence fails.

mod common;

use std::io::Write;

use futures::SinkExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;

/// How long a test waits for rows to arrive.
const ARRIVAL_DEADLINE: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

async fn rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    c.simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

async fn scalar(c: &tokio_postgres::Client, sql: &str) -> String {
    rows(c, sql)
        .await
        .first()
        .and_then(|r| r.first())
        .cloned()
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

async fn count(c: &tokio_postgres::Client, sql: &str) -> i64 {
    scalar(c, sql)
        .await
        .parse()
        .unwrap_or_else(|e| panic!("{sql}: not a count: {e}"))
}

/// Polls `sql` (one number) until `done` holds or the deadline passes.
async fn wait_for(
    c: &tokio_postgres::Client,
    sql: &str,
    what: &str,
    done: impl Fn(i64) -> bool,
) -> i64 {
    let started = Instant::now();
    loop {
        let n = count(c, sql).await;
        if done(n) {
            return n;
        }
        assert!(
            started.elapsed() < ARRIVAL_DEADLINE,
            "waited {ARRIVAL_DEADLINE:?} for {what}; last value {n} from {sql}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The SQLSTATE `sql` fails with (panics if it succeeds).
async fn error_code(c: &tokio_postgres::Client, sql: &str) -> String {
    match c.simple_query(sql).await {
        Ok(_) => panic!("{sql}: succeeded, expected an error"),
        Err(e) => common::sqlstate(&e).unwrap_or_else(|| panic!("{sql}: no SQLSTATE in {e}")),
    }
}

/// Sends `data` into a started COPY FROM STDIN and finishes it.
async fn copy_rows(
    sink: tokio_postgres::CopyInSink<&'static [u8]>,
    data: &'static [u8],
) -> Result<u64, tokio_postgres::Error> {
    let mut sink = Box::pin(sink);
    sink.send(data).await?;
    sink.as_mut().finish().await
}

/// The sequence column `id` of `table` holds exactly `first..=max(id)`,
/// each once; returns how many rows.
async fn assert_contiguous(c: &tokio_postgres::Client, table: &str, first: i64) -> i64 {
    let r = &rows(
        c,
        &format!("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM {table}"),
    )
    .await[0];
    let n: i64 = r[0].parse().expect("count");
    assert_eq!(r[0], r[1], "{table}: duplicate ids: {r:?}");
    assert_eq!(
        r[2],
        first.to_string(),
        "{table}: sequence does not start at {first}: {r:?}"
    );
    let max: i64 = r[3].parse().expect("max");
    assert_eq!(max - first + 1, n, "{table}: gaps in the sequence: {r:?}");
    n
}

/// In one snapshot, the materialized view equals its query run from
/// scratch.
async fn assert_view_equals_query(c: &tokio_postgres::Client, view: &str, query: &str) {
    c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await
        .expect("begin");
    let mut maintained = rows(c, &format!("SELECT * FROM {view}")).await;
    let mut recomputed = rows(c, query).await;
    c.batch_execute("COMMIT").await.expect("commit");
    maintained.sort();
    recomputed.sort();
    assert!(!maintained.is_empty(), "view {view} is empty");
    assert_eq!(maintained, recomputed, "view {view} differs from its query");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagen_sequences_views_and_restart() {
    let mut server = TestServer::start();
    let c = server.connect().await;
    c.batch_execute(
        "CREATE TABLE dt (id int PRIMARY KEY, v varchar, f double precision, b boolean, ts timestamp, tz timestamptz, d date, \
             n numeric, s smallint, r real, t text) \
         WITH (connector = 'datagen', fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '40', \
             fields.v.length = '5', fields.s.min = '-3', fields.s.max = '3', fields.n.min = '10', fields.n.max = '20', \
             datagen.rows.per.second = '100') FORMAT PLAIN ENCODE JSON;
         CREATE SOURCE ds (id bigint, grp int, amount numeric)
         WITH (connector = 'datagen', fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '10000000',
             fields.grp.min = '0', fields.grp.max = '4', fields.grp.seed = '7',
             fields.amount.kind = 'sequence', fields.amount.start = '0.5', fields.amount.end = '100000000',
             datagen.rows.per.second = '300', datagen.split.num = '1');
         CREATE MATERIALIZED VIEW ds_by_grp AS SELECT grp, count(*) AS n, sum(id) AS ids, sum(amount) AS amounts FROM ds GROUP BY grp;",
    )
    .await
    .expect("create the datagen table, source and view");

    // The connector table gets exactly its finite sequence, then stops.
    wait_for(&c, "SELECT count(*) FROM dt", "dt to fill", |n| n == 40).await;
    assert_eq!(assert_contiguous(&c, "dt", 1).await, 40);
    let r = &rows(&c, "SELECT count(*) FROM dt WHERE length(v) = 5 AND s BETWEEN -3 AND 3 AND n >= 10 AND n <= 20 AND ts IS NOT NULL AND d IS NOT NULL AND b IS NOT NULL").await[0];
    assert_eq!(r[0], "40", "random values outside their options");
    // A connector table accepts DML.
    c.batch_execute(
        "INSERT INTO dt (id, v) VALUES (1000, 'mine'); UPDATE dt SET v = 'changed' WHERE id = 1",
    )
    .await
    .expect("DML on a connector table");
    assert_eq!(scalar(&c, "SELECT v FROM dt WHERE id = 1").await, "changed");

    // The source: contiguous ids, amount = id - 0.5, and the view is its query.
    wait_for(&c, "SELECT count(*) FROM ds", "ds rows", |n| n >= 300).await;
    assert_contiguous(&c, "ds", 1).await;
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM ds WHERE amount <> id - 0.5 OR grp NOT BETWEEN 0 AND 4"
        )
        .await,
        0
    );
    let query =
        "SELECT grp, count(*) AS n, sum(id) AS ids, sum(amount) AS amounts FROM ds GROUP BY grp";
    assert_view_equals_query(&c, "ds_by_grp", query).await;
    let status = rows(&c, "SELECT name, kind, connector, status, errors FROM pg_catalog.freshet_sources ORDER BY name").await;
    assert_eq!(
        status,
        vec![
            vec![
                "ds".to_string(),
                "source".into(),
                "datagen".into(),
                "running".into(),
                "0".into()
            ],
            vec![
                "dt".to_string(),
                "table".into(),
                "datagen".into(),
                "finished".into(),
                "0".into()
            ],
        ]
    );

    // Crash and restart: the sequence goes on from the last committed row.
    let before = assert_contiguous(&c, "ds", 1).await;
    drop(c);
    server.restart();
    let c = server.connect().await;
    let after_restart = assert_contiguous(&c, "ds", 1).await;
    assert!(
        after_restart >= before,
        "rows lost: {before} before the crash, {after_restart} after"
    );
    wait_for(
        &c,
        "SELECT count(*) FROM ds",
        "ds rows after the restart",
        |n| n >= after_restart + 300,
    )
    .await;
    assert_contiguous(&c, "ds", 1).await;
    assert_view_equals_query(&c, "ds_by_grp", query).await;
    // The finished sequence does not start over; DML survived.
    assert_eq!(count(&c, "SELECT count(*) FROM dt").await, 41);
    assert_eq!(scalar(&c, "SELECT v FROM dt WHERE id = 1").await, "changed");

    // Writes into a source are refused; so are drops of the wrong kind.
    for sql in [
        "INSERT INTO ds VALUES (1, 1, 1)",
        "UPDATE ds SET grp = 1",
        "DELETE FROM ds",
        "TRUNCATE ds",
        "DROP TABLE ds",
        "DROP SOURCE dt",
    ] {
        assert_eq!(error_code(&c, sql).await, "42809", "{sql}");
    }
    // COPY fails once the data is in, as PostgreSQL's COPY into a view does.
    let sink = c
        .copy_in::<_, &'static [u8]>("COPY ds FROM STDIN")
        .await
        .expect("COPY starts");
    let copy = copy_rows(sink, b"1\t1\t1\n")
        .await
        .expect_err("COPY into a source fails");
    assert_eq!(
        common::sqlstate(&copy).as_deref(),
        Some("42809"),
        "COPY into a source: {copy}"
    );
    assert_eq!(
        error_code(&c, "DROP SOURCE ds").await,
        "2BP01",
        "a view reads ds"
    );
    assert_eq!(error_code(&c, "DROP SOURCE nosuch").await, "42704");
    c.batch_execute("DROP SOURCE IF EXISTS nosuch; DROP SOURCE ds CASCADE; DROP TABLE dt")
        .await
        .expect("drop");
    assert_eq!(
        count(&c, "SELECT count(*) FROM pg_catalog.freshet_sources").await,
        0
    );
    assert_eq!(error_code(&c, "SELECT * FROM ds_by_grp").await, "42P01");

    // A restart after the drops starts nothing and loses nothing else.
    drop(c);
    server.restart();
    let c = server.connect().await;
    assert_eq!(
        count(&c, "SELECT count(*) FROM pg_catalog.freshet_sources").await,
        0
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM pg_class WHERE relname IN ('ds', 'dt')"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_definitions_fail_with_sqlstates() {
    let server = TestServer::start();
    let c = server.connect().await;
    let cases: &[(&str, &str)] = &[
        ("CREATE SOURCE k (a int) WITH (connector = 'kafka', topic = 't') FORMAT PLAIN ENCODE JSON", "0A000"),
        ("CREATE TABLE k (a int) WITH (connector = 'kafka')", "0A000"),
        ("CREATE SOURCE k (a int) WITH (connector = 'datagen', fields.a.colour = 'red')", "22023"),
        ("CREATE SOURCE k (a int) WITH (connector = 'datagen', fields.b.kind = 'random')", "22023"),
        ("CREATE SOURCE k (a int) WITH (connector = 'datagen', fields.a.kind = 'sometimes')", "22023"),
        ("CREATE SOURCE k (a int) WITH (connector = 'datagen', datagen.rows.per.second = 'fast')", "22023"),
        ("CREATE SOURCE k (a int) WITH (connector = 'datagen', something = '1')", "22023"),
        ("CREATE SOURCE k (a smallint) WITH (connector = 'datagen', fields.a.kind = 'sequence', fields.a.end = '99999')", "22023"),
        ("CREATE SOURCE k (a int) WITH (connector = 'datagen', fields.a.kind = 'sequence', fields.a.start = '9', fields.a.end = '1')", "22023"),
        ("CREATE SOURCE k (a int) WITH (connector = 'datagen', fields.a.min = '5', fields.a.max = '1')", "22023"),
        ("CREATE SOURCE k (a uuid) WITH (connector = 'datagen')", "0A000"),
        ("CREATE SOURCE k (a boolean) WITH (connector = 'datagen', fields.a.kind = 'sequence')", "0A000"),
        ("CREATE SOURCE k (a int) WITH (connector = 'datagen') FORMAT UPSERT ENCODE AVRO", "0A000"),
        ("CREATE SOURCE k (a int PRIMARY KEY) WITH (connector = 'datagen')", "0A000"),
        ("CREATE TABLE k (a int DEFAULT 1) WITH (connector = 'datagen')", "0A000"),
        ("CREATE TABLE k (a serial) WITH (connector = 'datagen')", "0A000"),
        ("CREATE TABLE k (a int CHECK (a > 0)) WITH (connector = 'datagen')", "0A000"),
        ("CREATE SOURCE k WITH (connector = 'datagen')", "0A000"),
        ("CREATE SOURCE k (a int) WITH (connector = 'mqtt', topic = 't') FORMAT PLAIN ENCODE JSON", "22023"),
        ("CREATE SOURCE k (a int) WITH (connector = 'mqtt', url = 'tcp://127.0.0.1:1', topic = 't')", "22023"),
        ("CREATE SOURCE k (a int) WITH (connector = 'mqtt', url = 'ssl://127.0.0.1:1', topic = 't') FORMAT PLAIN ENCODE JSON", "0A000"),
        ("CREATE SOURCE k (a int) WITH (connector = 'mqtt', url = 'tcp://127.0.0.1:1', topic = 't', qos = 'twice') FORMAT PLAIN ENCODE JSON", "22023"),
        ("CREATE SOURCE k (a int[]) WITH (connector = 'mqtt', url = 'tcp://127.0.0.1:1', topic = 't') FORMAT PLAIN ENCODE JSON", "0A000"),
        ("CREATE SOURCE k (a int) WITH (connector = 'mqtt', url = 'tcp://127.0.0.1:1', topic = 't') FORMAT PLAIN ENCODE JSON (schema = 'x')", "22023"),
    ];
    for (sql, expected) in cases {
        assert_eq!(error_code(&c, sql).await, *expected, "{sql}");
    }
    // Nothing was created by the failures.
    assert_eq!(
        count(&c, "SELECT count(*) FROM pg_class WHERE relname = 'k'").await,
        0
    );
    // IF NOT EXISTS on an existing relation is a no-op, and a duplicate is 42P07.
    c.batch_execute("CREATE TABLE k (a int)")
        .await
        .expect("plain table");
    c.batch_execute("CREATE SOURCE IF NOT EXISTS k (a int) WITH (connector = 'datagen')")
        .await
        .expect("if not exists");
    assert_eq!(
        error_code(&c, "CREATE SOURCE k (a int) WITH (connector = 'datagen')").await,
        "42P07"
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM pg_catalog.freshet_sources").await,
        0
    );
}

/// A Mosquitto broker on a free loopback port, killed on drop.
struct Broker {
    child: Child,
    port: u16,
}

const MOSQUITTO: &str = "/usr/sbin/mosquitto";

impl Broker {
    /// Starts one, or returns `None` (after saying why) when Mosquitto is
    /// not installed outside CI.
    fn start() -> Option<Broker> {
        if !std::path::Path::new(MOSQUITTO).exists() {
            if std::env::var_os("CI").is_some() {
                panic!("{MOSQUITTO} is missing; .ci/run installs the mosquitto package");
            }
            eprintln!("SKIPPED: the MQTT source test needs {MOSQUITTO} (apt-get install mosquitto mosquitto-clients)");
            return None;
        }
        Some(Broker::start_on(common::free_port()))
    }

    fn start_on(port: u16) -> Broker {
        let child = Command::new(MOSQUITTO)
            .args(["-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {MOSQUITTO}: {e}"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "mosquitto did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child, port }
    }

    /// Publishes each line of `lines` as one message to `topic` (QoS 1).
    fn publish(&self, topic: &str, lines: &[&str]) {
        let mut child = Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-t",
                topic,
                "-q",
                "1",
                "-l",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn mosquitto_pub (package mosquitto-clients)");
        let mut stdin = child.stdin.take().expect("piped stdin");
        for line in lines {
            writeln!(stdin, "{line}").expect("write to mosquitto_pub");
        }
        drop(stdin);
        let status = child.wait().expect("wait for mosquitto_pub");
        assert!(status.success(), "mosquitto_pub failed: {status}");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes `probe` to `topic` until `sql` counts at least one row: the
/// source has subscribed (messages published before that are not
/// delivered to it).
async fn wait_subscribed(
    c: &tokio_postgres::Client,
    broker: &Broker,
    topic: &str,
    probe: &str,
    sql: &str,
) {
    let started = Instant::now();
    while count(c, sql).await == 0 {
        assert!(
            started.elapsed() < ARRIVAL_DEADLINE,
            "the source never received a probe on {topic}"
        );
        broker.publish(topic, &[probe]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_source_and_table() {
    let Some(broker) = Broker::start() else {
        return;
    };
    let server = TestServer::start();
    let c = server.connect().await;
    let url = format!("tcp://127.0.0.1:{}", broker.port);
    c.batch_execute(&format!(
        "CREATE SOURCE readings (id int, name varchar(10), temp double precision, at timestamptz, doc jsonb)
         WITH (connector = 'mqtt', url = '{url}', topic = 'sensors/+/data', qos = 'at_least_once') FORMAT PLAIN ENCODE JSON;
         CREATE TABLE latest (id int PRIMARY KEY, v text)
         WITH (connector = 'mqtt', url = '{url}', topic = 'latest', qos = 'exactly_once', client_prefix = 'test') FORMAT PLAIN ENCODE JSON;
         CREATE MATERIALIZED VIEW readings_count AS SELECT count(*) AS n, count(temp) AS temps, sum(id) AS ids FROM readings WHERE id > 0;"
    ))
    .await
    .expect("create the mqtt source, table and view");
    wait_subscribed(
        &c,
        &broker,
        "sensors/probe/data",
        r#"{"id": 0}"#,
        "SELECT count(*) FROM readings",
    )
    .await;
    wait_subscribed(
        &c,
        &broker,
        "latest",
        r#"{"id": 0, "v": "probe"}"#,
        "SELECT count(*) FROM latest",
    )
    .await;

    let valid: Vec<String> = (1..=20)
        .map(|i| match i % 4 {
            // Field names match case-insensitively; missing fields are NULL.
            0 => format!(r#"{{"ID": {i}, "Name": "n{i}", "TEMP": {i}.5}}"#),
            1 => format!(r#"{{"id": {i}, "name": "n{i}", "temp": "{i}.5", "at": "2024-01-0{} 10:00:00+00", "doc": {{"k": [{i}]}}}}"#, 1 + i % 9),
            2 => format!(r#"{{"id": "{i}", "extra": true}}"#),
            _ => format!(r#"{{"id": {i}, "name": null, "temp": {i}.5e0}}"#),
        })
        .collect();
    let malformed = [
        "not json at all",
        "[1, 2, 3]",
        r#"{"id": "twelve"}"#,
        r#"{"id": 1.5}"#,
        r#"{"id": 99, "name": "far too long for ten"}"#,
        r#"{"id": 98, "at": "yesterday-ish"}"#,
    ];
    let mut first: Vec<&str> = valid[..10].iter().map(String::as_str).collect();
    first.extend(malformed);
    broker.publish("sensors/a/data", &first);
    broker.publish("other/topic", &[r#"{"id": 500}"#]);
    broker.publish(
        "sensors/b/data",
        &valid[10..].iter().map(String::as_str).collect::<Vec<_>>(),
    );
    wait_for(
        &c,
        "SELECT count(*) FROM readings WHERE id > 0",
        "20 readings",
        |n| n >= 20,
    )
    .await;

    let got = rows(&c, "SELECT id, coalesce(name, 'NULL'), coalesce(temp::text, 'NULL'), coalesce(doc::text, 'NULL') FROM readings WHERE id > 0 ORDER BY id").await;
    let expected: Vec<Vec<String>> = (1..=20)
        .map(|i| {
            let (name, temp, doc) = match i % 4 {
                0 => (format!("n{i}"), format!("{i}.5"), "NULL".to_string()),
                1 => (
                    format!("n{i}"),
                    format!("{i}.5"),
                    format!(r#"{{"k": [{i}]}}"#),
                ),
                2 => ("NULL".to_string(), "NULL".to_string(), "NULL".to_string()),
                _ => ("NULL".to_string(), format!("{i}.5"), "NULL".to_string()),
            };
            vec![i.to_string(), name, temp, doc]
        })
        .collect();
    assert_eq!(got, expected, "rows of the valid messages");
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM readings WHERE id IN (500, 98, 99)"
        )
        .await,
        0,
        "a message outside the topic filter or a malformed one arrived"
    );
    assert_eq!(
        scalar(&c, "SELECT at FROM readings WHERE id = 1").await,
        "2024-01-02 10:00:00+00"
    );
    assert_view_equals_query(
        &c,
        "readings_count",
        "SELECT count(*) AS n, count(temp) AS temps, sum(id) AS ids FROM readings WHERE id > 0",
    )
    .await;
    assert_eq!(
        rows(&c, "SELECT * FROM readings_count").await,
        vec![vec!["20".to_string(), "15".into(), "210".into()]]
    );
    let errors = wait_for(
        &c,
        "SELECT errors FROM pg_catalog.freshet_sources WHERE name = 'readings'",
        "the malformed messages to be counted",
        |n| n >= malformed.len() as i64,
    )
    .await;
    assert_eq!(errors, malformed.len() as i64);
    assert_eq!(
        error_code(&c, "INSERT INTO readings (id) VALUES (1)").await,
        "42809"
    );

    // The table upserts by primary key and takes DML too.
    broker.publish(
        "latest",
        &[
            r#"{"id": 1, "v": "a"}"#,
            r#"{"id": 2, "v": "b"}"#,
            r#"{"id": 1, "v": "c"}"#,
        ],
    );
    wait_for(
        &c,
        "SELECT count(*) FROM latest WHERE v = 'c'",
        "the upsert",
        |n| n == 1,
    )
    .await;
    assert_eq!(
        rows(&c, "SELECT id, v FROM latest WHERE id > 0 ORDER BY id").await,
        vec![
            vec!["1".to_string(), "c".into()],
            vec!["2".into(), "b".into()]
        ]
    );
    c.batch_execute("DELETE FROM latest WHERE id = 2")
        .await
        .expect("DML on an mqtt table");

    // The broker goes away and comes back: the source reconnects.
    let port = broker.port;
    assert_eq!(
        scalar(
            &c,
            "SELECT status FROM pg_catalog.freshet_sources WHERE name = 'readings'"
        )
        .await,
        "running"
    );
    drop(broker);
    wait_for(
        &c,
        "SELECT count(*) FROM pg_catalog.freshet_sources WHERE name = 'readings' AND status LIKE 'reconnecting: %'",
        "the source to report the lost broker",
        |n| n == 1,
    )
    .await;
    let broker = Broker::start_on(port);
    wait_subscribed(
        &c,
        &broker,
        "sensors/again/data",
        r#"{"id": -1}"#,
        "SELECT count(*) FROM readings WHERE id = -1",
    )
    .await;
    broker.publish("sensors/a/data", &[r#"{"id": 21, "temp": 1}"#]);
    wait_for(
        &c,
        "SELECT n FROM readings_count",
        "a message after the broker restart",
        |n| n == 21,
    )
    .await;
    assert_eq!(
        scalar(
            &c,
            "SELECT status FROM pg_catalog.freshet_sources WHERE name = 'readings'"
        )
        .await,
        "running"
    );

    // Dropping stops the connectors: later messages go nowhere, and the
    // names are free again.
    c.batch_execute("DROP SOURCE readings CASCADE; DROP TABLE latest")
        .await
        .expect("drop");
    broker.publish("sensors/a/data", &[r#"{"id": 22}"#]);
    broker.publish("latest", &[r#"{"id": 3, "v": "late"}"#]);
    assert_eq!(
        count(&c, "SELECT count(*) FROM pg_catalog.freshet_sources").await,
        0
    );
    c.batch_execute("CREATE TABLE readings (id int); CREATE TABLE latest (id int)")
        .await
        .expect("names free");
    assert_eq!(
        count(&c, "SELECT count(*) FROM readings").await
            + count(&c, "SELECT count(*) FROM latest").await,
        0
    );
}
