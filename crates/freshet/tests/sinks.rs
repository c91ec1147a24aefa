//! Sinks end to end, against real targets: an upsert sink of an
//! aggregating materialized view into a table of the PostgreSQL oracle
//! (`FRESHET_TEST_PG_URL`, required) and into a table of a second Freshet
//! must converge to exactly the view's contents after inserts, updates and
//! deletes, after a restart of the source server, and after the target was
//! unavailable; an append-only MQTT sink publishes each inserted row as a
//! JSON object to a mosquitto broker the test starts; bad options fail at
//! CREATE SINK with their SQLSTATEs.
//!
//! Convergence is polled with a deadline (the sink is asynchronous by
//! design); nothing sleeps to synchronise.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{parse_url, sqlstate, TestServer};

/// How long a sink may take to bring its target up to date (its retry
/// backoff reaches 10 s when the target was down).
const CONVERGE_DEADLINE: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

const SOURCE_SCHEMA: &str = "CREATE TABLE orders (id int PRIMARY KEY, grp text, qty int);
     CREATE MATERIALIZED VIEW by_grp AS SELECT grp, count(*) AS n, sum(qty) AS total FROM orders WHERE grp IS NOT NULL GROUP BY grp";

/// The target table's definition (on PostgreSQL or Freshet).
fn target_table(name: &str) -> String {
    format!("CREATE TABLE {name} (grp text PRIMARY KEY, n bigint, total bigint)")
}

async fn rows(c: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    let mut out: Vec<String> = c
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).unwrap_or("NULL").to_string()).collect::<Vec<_>>().join("|"))
            }
            _ => None,
        })
        .collect();
    out.sort();
    out
}

/// Waits until `target`'s table equals the view `by_grp` of `source`
/// (both read as sorted text rows), panicking with both after the deadline.
async fn converge(source: &tokio_postgres::Client, target: &tokio_postgres::Client, table: &str, step: &str) {
    let started = Instant::now();
    loop {
        let expected = rows(source, "SELECT grp, n, total FROM by_grp").await;
        let actual = rows(target, &format!("SELECT grp, n, total FROM {table}")).await;
        if expected == actual {
            assert!(!expected.is_empty(), "{step}: every step leaves rows in the view, so an empty match proves nothing");
            return;
        }
        if started.elapsed() > CONVERGE_DEADLINE {
            panic!("{step}: the sink's target did not converge within {CONVERGE_DEADLINE:?}\nview:   {expected:?}\ntarget: {actual:?}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Inserts, updates and deletes on `orders`, converging after each round.
async fn exercise(source: &tokio_postgres::Client, target: &tokio_postgres::Client, table: &str, first_id: i32) {
    let id = |i: i32| first_id + i;
    let rounds = [
        format!("INSERT INTO orders VALUES ({}, 'a', 1), ({}, 'a', 2), ({}, 'b', 5), ({}, 'c', 7)", id(0), id(1), id(2), id(3)),
        format!("UPDATE orders SET qty = qty * 10 WHERE id IN ({}, {})", id(0), id(2)),
        format!("UPDATE orders SET grp = 'd' WHERE id = {}", id(3)),
        format!("DELETE FROM orders WHERE grp = 'b'"),
        format!(
            "BEGIN; INSERT INTO orders VALUES ({}, 'e', 3); DELETE FROM orders WHERE id = {}; UPDATE orders SET qty = 0 WHERE id = {}; COMMIT",
            id(4),
            id(1),
            id(0)
        ),
        format!("INSERT INTO orders SELECT g, 'g' || (g % 5), g FROM generate_series({}, {}) g", id(10), id(300)),
        format!("DELETE FROM orders WHERE id % 3 = 0"),
    ];
    for (i, sql) in rounds.iter().enumerate() {
        source.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        converge(source, target, table, &format!("round {i} ({sql})")).await;
    }
}

fn sink_options(url: &str, table: &str) -> String {
    let (addr, user, database) = parse_url(url);
    format!(
        "connector = 'postgres', host = '{}', port = '{}', user = '{user}', database = '{database}', table = '{table}', type = 'upsert', primary_key = 'grp'",
        addr.ip(),
        addr.port()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_sink_into_postgres_converges_and_survives_restart() {
    let oracle_url = common::pg_oracle_url();
    let oracle = common::connect(&oracle_url).await;
    let table = format!("freshet_sink_{}", std::process::id());
    oracle.batch_execute(&format!("DROP TABLE IF EXISTS {table}; {}", target_table(&table))).await.expect("target table");

    let mut server = TestServer::start();
    let mut c = server.connect().await;
    c.batch_execute(SOURCE_SCHEMA).await.expect("source schema");
    // Rows that exist before the sink: its first delivery is the snapshot.
    c.batch_execute("INSERT INTO orders VALUES (1000, 'pre', 4), (1001, 'pre', 6)").await.expect("rows before the sink");
    c.batch_execute(&format!("CREATE SINK s FROM by_grp WITH ({})", sink_options(&oracle_url, &table))).await.expect("create sink");
    converge(&c, &oracle, &table, "snapshot").await;
    exercise(&c, &oracle, &table, 0).await;

    // The sink is durable: after a crash it starts again, re-delivers the
    // snapshot (replacing the target's rows, so a stray row goes) and goes on.
    oracle.batch_execute(&format!("INSERT INTO {table} VALUES ('stray', 1, 1)")).await.expect("stray row");
    drop(c);
    server.restart();
    c = server.connect().await;
    converge(&c, &oracle, &table, "after restart").await;
    exercise(&c, &oracle, &table, 10_000).await;

    // The target table goes away: the sink retries the same batch until it is back.
    oracle.batch_execute(&format!("DROP TABLE {table}")).await.expect("drop target");
    c.batch_execute("INSERT INTO orders VALUES (20000, 'while-down', 1)").await.expect("insert while the target is gone");
    oracle.batch_execute(&target_table(&table)).await.expect("recreate target");
    // The recreated table is empty: only changes are sent, so insert the rest to compare.
    let mut missing: Vec<String> = Vec::new();
    for row in rows(&c, "SELECT grp, n, total FROM by_grp WHERE grp <> 'while-down'").await {
        let parts: Vec<&str> = row.split('|').collect();
        missing.push(format!("('{}', {}, {})", parts[0], parts[1], parts[2]));
    }
    oracle
        .batch_execute(&format!("INSERT INTO {table} VALUES {} ON CONFLICT (grp) DO NOTHING", missing.join(", ")))
        .await
        .expect("copy the rest");
    converge(&c, &oracle, &table, "after the target came back").await;

    // A view read by a sink needs CASCADE to be dropped, which drops the sink.
    let err = c.batch_execute("DROP MATERIALIZED VIEW by_grp").await.expect_err("the sink depends on the view");
    assert_eq!(sqlstate(&err).as_deref(), Some("2BP01"), "{err:?}");
    c.batch_execute("DROP MATERIALIZED VIEW by_grp CASCADE").await.expect("drop cascade");
    let err = c.batch_execute("DROP SINK s").await.expect_err("CASCADE dropped the sink");
    assert_eq!(sqlstate(&err).as_deref(), Some("42704"), "{err:?}");
    c.batch_execute("DROP SINK IF EXISTS s").await.expect("drop sink if exists");
    oracle.batch_execute(&format!("DROP TABLE {table}")).await.expect("clean up the target");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_sink_into_another_freshet() {
    let source = TestServer::start();
    let mut target = TestServer::start();
    let c = source.connect().await;
    let t = target.connect().await;
    c.batch_execute(SOURCE_SCHEMA).await.expect("source schema");
    // The sink starts before its target table exists: it retries until it does.
    c.batch_execute(&format!("CREATE SINK to_freshet FROM by_grp WITH ({})", sink_options(&target.url(), "agg")))
        .await
        .expect("create sink");
    c.batch_execute("INSERT INTO orders VALUES (1, 'x', 1)").await.expect("insert");
    // freshet_sinks shows the failed attempts.
    let started = Instant::now();
    while rows(&c, "SELECT status, last_error LIKE '%agg%' FROM freshet_sinks WHERE retries > 0").await != vec!["retrying|t".to_string()] {
        assert!(started.elapsed() < CONVERGE_DEADLINE, "the sink never reported its missing target table");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    t.batch_execute(&target_table("agg")).await.expect("target table");
    converge(&c, &t, "agg", "target table created late").await;
    exercise(&c, &t, "agg", 100).await;
    // CREATE SINK ... AS query: the sink's own view, hidden from the catalogs, dropped with it.
    t.batch_execute(&target_table("agg2")).await.expect("second target table");
    c.batch_execute(&format!(
        "CREATE SINK from_query AS SELECT grp, count(*) AS n, sum(qty) AS total FROM orders WHERE grp IS NOT NULL GROUP BY grp WITH ({})",
        sink_options(&target.url(), "agg2")
    ))
    .await
    .expect("create sink as query");
    converge(&c, &t, "agg2", "sink as query").await;
    c.batch_execute("UPDATE orders SET qty = qty + 1").await.expect("update");
    converge(&c, &t, "agg2", "sink as query after an update").await;
    assert_eq!(rows(&c, "SELECT count(*) FROM pg_class WHERE relname = '__sink_from_query'").await, vec!["0".to_string()]);
    c.batch_execute("DROP SINK from_query").await.expect("drop sink as query");
    let err = c.batch_execute("SELECT * FROM __sink_from_query").await.expect_err("its view went with it");
    assert_eq!(sqlstate(&err).as_deref(), Some("42P01"), "{err:?}");
    // The target server goes down: the sink keeps the changes until it is back.
    drop(t);
    target.kill9();
    c.batch_execute("INSERT INTO orders VALUES (5000, 'down', 1), (5001, 'x', 9); DELETE FROM orders WHERE grp = 'g1'")
        .await
        .expect("changes while the target is down");
    target.restart();
    let t = target.connect().await;
    converge(&c, &t, "agg", "target server restarted").await;
    // freshet_sinks shows the task's work.
    assert_eq!(
        rows(&c, "SELECT name, view_name, connector, sink_type, status, snapshots, batches > 0, rows_delivered > 0, retries > 0, last_error IS NOT NULL FROM freshet_sinks").await,
        vec!["to_freshet|by_grp|postgres|upsert|running|1|t|t|t|t".to_string()]
    );
    c.batch_execute("DROP SINK to_freshet").await.expect("drop sink");
}

/// A mosquitto broker on a free port, killed on drop.
struct Broker {
    child: Child,
    port: u16,
}

impl Broker {
    fn start() -> Broker {
        let port = common::free_port();
        let child = Command::new("/usr/sbin/mosquitto")
            .args(["-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start /usr/sbin/mosquitto (apt-get install mosquitto)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "mosquitto did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker { child, port }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_only_sink_publishes_json_to_mqtt() {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let broker = Broker::start();
    let server = TestServer::start();
    let c = server.connect().await;
    c.batch_execute(
        "CREATE TABLE events (id int PRIMARY KEY, kind text, v int);
         CREATE MATERIALIZED VIEW positive AS SELECT id, kind, v FROM events WHERE v > 0;
         INSERT INTO events VALUES (1, 'old', 5)",
    )
    .await
    .expect("schema");

    // Subscribe first, and wait for the SUBACK, so no message is missed.
    let (client, mut eventloop) = AsyncClient::new(MqttOptions::new("freshet-test", "127.0.0.1", broker.port), 100);
    client.subscribe("freshet/events", QoS::AtLeastOnce).await.expect("subscribe");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<serde_json::Value>();
    let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut subscribed_tx = Some(subscribed_tx);
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(s) = subscribed_tx.take() {
                        let _ = s.send(());
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let value: serde_json::Value = serde_json::from_slice(&p.payload).expect("each message is JSON");
                    if tx.send(value).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => panic!("test subscriber: {e}"),
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), subscribed).await.expect("SUBACK in time").expect("subscriber running");

    c.batch_execute(&format!(
        "CREATE SINK m FROM positive WITH (connector = 'mqtt', url = 'tcp://127.0.0.1:{}', topic = 'freshet/events', qos = 'at_least_once', type = 'append-only') FORMAT PLAIN ENCODE JSON (force_append_only = 'true')",
        broker.port
    ))
    .await
    .expect("create mqtt sink");
    let mut next = async || -> serde_json::Value {
        tokio::time::timeout(CONVERGE_DEADLINE, rx.recv()).await.expect("a message in time").expect("subscriber running")
    };
    // The snapshot, then each inserted row; an update sends the new row and
    // a deletion (dropped by force_append_only) nothing.
    assert_eq!(next().await, serde_json::json!({"id": 1, "kind": "old", "v": 5}));
    c.batch_execute("INSERT INTO events VALUES (2, 'a', 1), (3, 'b', -1), (4, 'c', 3)").await.expect("insert");
    let mut got = vec![next().await, next().await];
    got.sort_by_key(|v| v["id"].as_i64());
    assert_eq!(got, vec![serde_json::json!({"id": 2, "kind": "a", "v": 1}), serde_json::json!({"id": 4, "kind": "c", "v": 3})]);
    c.batch_execute("UPDATE events SET v = 10 WHERE id = 2").await.expect("update");
    assert_eq!(next().await, serde_json::json!({"id": 2, "kind": "a", "v": 10}));
    c.batch_execute("DELETE FROM events WHERE id = 4").await.expect("delete");
    c.batch_execute("INSERT INTO events VALUES (5, 'last', 7)").await.expect("insert after delete");
    // Messages of one publisher on one topic arrive in order: nothing came for the delete.
    assert_eq!(next().await, serde_json::json!({"id": 5, "kind": "last", "v": 7}));
    c.batch_execute("DROP SINK m").await.expect("drop sink");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sink_definitions_fail_with_sqlstates() {
    let server = TestServer::start();
    let c = server.connect().await;
    c.batch_execute(SOURCE_SCHEMA).await.expect("schema");
    let pg = "connector = 'postgres', host = '127.0.0.1', user = 'u', database = 'd', table = 't'";
    let cases = [
        ("CREATE SINK s FROM by_grp WITH (connector = 'kafka', topic = 't')".to_string(), "0A000"),
        ("CREATE SINK s FROM by_grp WITH (type = 'upsert')".to_string(), "22023"),
        (format!("CREATE SINK s FROM by_grp WITH ({pg})"), "22023"),
        (format!("CREATE SINK s FROM by_grp WITH ({pg}, type = 'upsert')"), "22023"),
        (format!("CREATE SINK s FROM by_grp WITH ({pg}, type = 'upsert', primary_key = 'nope')"), "42703"),
        (format!("CREATE SINK s FROM by_grp WITH ({pg}, type = 'append-only')"), "22023"),
        (format!("CREATE SINK s FROM by_grp WITH ({pg}, type = 'sideways')"), "22023"),
        (format!("CREATE SINK s FROM by_grp WITH ({pg}, type = 'upsert', primary_key = 'grp', port = 'x')"), "22023"),
        (format!("CREATE SINK s FROM by_grp WITH ({pg}, type = 'upsert', primary_key = 'grp', colour = 'red')"), "22023"),
        (format!("CREATE SINK s FROM by_grp WITH ({pg}, type = 'upsert', primary_key = 'grp') FORMAT PLAIN ENCODE JSON"), "0A000"),
        ("CREATE SINK s FROM by_grp WITH (connector = 'mqtt', topic = 't', force_append_only = 'true')".to_string(), "22023"),
        (
            "CREATE SINK s FROM by_grp WITH (connector = 'mqtt', url = 'tcp://127.0.0.1:1', topic = 't') FORMAT PLAIN ENCODE AVRO (force_append_only = 'true')"
                .to_string(),
            "0A000",
        ),
        ("CREATE SINK s FROM orders WITH (connector = 'blackhole')".to_string(), "0A000"),
        ("CREATE SINK s FROM nothing WITH (connector = 'blackhole')".to_string(), "42P01"),
        ("CREATE SINK s AS SELECT random() FROM orders WITH (connector = 'blackhole')".to_string(), "0A000"),
        ("CREATE SINK s AS SELECT * FROM orders WITH (connector = 'blackhole', type = 'upsert', primary_key = 'nope')".to_string(), "42703"),
        ("CREATE SINK s FROM by_grp WITH (connector = 'blackhole'".to_string(), "42601"),
        ("DROP SINK nothing".to_string(), "42704"),
    ];
    for (sql, expected) in cases {
        let err = c.batch_execute(&sql).await.expect_err(&sql);
        assert_eq!(sqlstate(&err).as_deref(), Some(expected), "{sql}: {err:?}");
    }
    // Nothing was created by the failures; a blackhole sink is fine, twice is not.
    c.batch_execute("CREATE SINK s FROM by_grp WITH (connector = 'blackhole')").await.expect("blackhole sink");
    let err = c.batch_execute("CREATE SINK s FROM by_grp WITH (connector = 'blackhole')").await.expect_err("duplicate");
    assert_eq!(sqlstate(&err).as_deref(), Some("42710"), "{err:?}");
    c.batch_execute("CREATE SINK IF NOT EXISTS s FROM by_grp WITH (connector = 'blackhole')").await.expect("if not exists");
    // Transactional: a rolled-back CREATE SINK leaves nothing behind.
    c.batch_execute("BEGIN; CREATE SINK t FROM by_grp WITH (connector = 'blackhole'); ROLLBACK").await.expect("rollback");
    let err = c.batch_execute("DROP SINK t").await.expect_err("rolled back");
    assert_eq!(sqlstate(&err).as_deref(), Some("42704"), "{err:?}");
    c.batch_execute("INSERT INTO orders VALUES (1, 'a', 1)").await.expect("the blackhole sink discards");
    c.batch_execute("DROP SINK s").await.expect("drop sink");
    c.batch_execute("DROP MATERIALIZED VIEW by_grp").await.expect("no sink depends on the view now");
}

/// Values of many types reach PostgreSQL unchanged: the postgres connector
/// sends PostgreSQL's text output as literals the target coerces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_sink_carries_every_type_to_postgres() {
    let oracle_url = common::pg_oracle_url();
    let oracle = common::connect(&oracle_url).await;
    oracle.batch_execute("SET TIME ZONE 'UTC'").await.expect("oracle time zone");
    let table = format!("freshet_sink_types_{}", std::process::id());
    let columns = "id int PRIMARY KEY, n numeric(12,3), f float8, t text, b bool, d date, ts timestamp, tz timestamptz, \
                   i interval, j jsonb, a int[], u uuid, by bytea, s smallint, big bigint";
    oracle.batch_execute(&format!("DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({columns})")).await.expect("target table");
    let server = TestServer::start();
    let c = server.connect().await;
    c.batch_execute(&format!(
        "CREATE TABLE typed ({columns});
         CREATE MATERIALIZED VIEW typed_mv AS SELECT * FROM typed;
         CREATE SINK typed_sink FROM typed_mv WITH ({})",
        sink_options(&oracle_url, &table).replace("primary_key = 'grp'", "primary_key = 'id'")
    ))
    .await
    .expect("source");
    c.batch_execute(
        r#"INSERT INTO typed VALUES
           (1, 12345.678, 1.5e-7, 'it''s a \back\slash "quote"', true, '2024-02-29', '2024-01-01 12:34:56.789', '2024-06-01 10:00:00+02',
            '1 day 02:03:04', '{"k": [1, null, "x"]}', '{1,NULL,3}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\xdeadbeef', -32768, 9223372036854775807),
           (2, NULL, 'NaN', '', false, NULL, NULL, NULL, NULL, 'null', '{}', NULL, '\x', NULL, NULL),
           (3, -0.001, '-Infinity', 'ünï©ødé', NULL, '0001-01-01', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '-3 mons', '[]', '{-1}', NULL, NULL, 0, -1)"#,
    )
    .await
    .expect("rows");
    let select = "SELECT id, n, f, t, b, d, ts, tz, i, j, a, u, by, s, big FROM";
    let started = Instant::now();
    loop {
        let expected = rows(&c, &format!("{select} typed_mv")).await;
        let actual = rows(&oracle, &format!("{select} {table}")).await;
        if expected == actual {
            assert_eq!(expected.len(), 3);
            break;
        }
        assert!(started.elapsed() < CONVERGE_DEADLINE, "types did not arrive unchanged\nview:   {expected:#?}\ntarget: {actual:#?}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    c.batch_execute("DROP SINK typed_sink").await.expect("drop sink");
    oracle.batch_execute(&format!("DROP TABLE {table}")).await.expect("clean up");
}

/// A CA and a server certificate for 127.0.0.1 made with `openssl` (which
/// `.ci/run` installs), in `dir`; returns (ca.crt, server.crt, server.key,
/// other-ca.crt) paths.
fn make_certificates(dir: &std::path::Path) -> [std::path::PathBuf; 4] {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl (apt-get install openssl)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let days = ["-days", "2"];
    openssl(&[&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=sink test CA"][..], &days].concat());
    openssl(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").expect("write ext.cnf");
    openssl(&[&["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-extfile", "ext.cnf"][..], &days].concat());
    openssl(&[&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt", "-subj", "/CN=other CA"][..], &days].concat());
    ["ca.crt", "server.crt", "server.key", "other.crt"].map(|f| dir.join(f))
}

/// The postgres sink over TLS (`ssl.mode`, `ssl.root.cert`), into a
/// second Freshet serving TLS: verify-full with the right CA converges; a
/// wrong CA and `required` against a server without TLS are reported by
/// `freshet_sinks` and retried; bad TLS options fail at CREATE with 22023.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_sink_over_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let [ca, cert, key, other_ca] = make_certificates(dir.path());
    let target = TestServer::start_with_args(&["--tls-cert", cert.to_str().expect("utf-8"), "--tls-key", key.to_str().expect("utf-8")]);
    let plain = TestServer::start();
    let source = TestServer::start();
    let c = source.connect().await;
    let t = target.connect().await;
    c.batch_execute(SOURCE_SCHEMA).await.expect("source schema");
    t.batch_execute(&target_table("agg")).await.expect("target table");
    let pem = std::fs::read_to_string(&ca).expect("read ca.crt");
    c.batch_execute(&format!(
        "CREATE SINK secure FROM by_grp WITH ({}, ssl.mode = 'verify-full', ssl.root.cert = '{pem}')",
        sink_options(&target.url(), "agg")
    ))
    .await
    .expect("create a verify-full sink");
    exercise(&c, &t, "agg", 1).await;

    // The wrong CA, and TLS required from a server that has none: the
    // sink reports the failure and keeps retrying.
    c.batch_execute(&format!(
        "CREATE SINK wrong_ca FROM by_grp WITH ({}, ssl.mode = 'verify-ca', ssl.root.cert = '{}')",
        sink_options(&target.url(), "agg"),
        other_ca.display()
    ))
    .await
    .expect("create a sink with another CA");
    c.batch_execute(&format!("CREATE SINK no_tls FROM by_grp WITH ({}, ssl.mode = 'required')", sink_options(&plain.url(), "agg")))
        .await
        .expect("create a sink requiring TLS");
    let started = Instant::now();
    loop {
        let failing = rows(&c, "SELECT name, status, retries > 0 FROM freshet_sinks WHERE name <> 'secure'").await;
        if failing == vec!["no_tls|retrying|t".to_string(), "wrong_ca|retrying|t".to_string()] {
            break;
        }
        assert!(started.elapsed() < CONVERGE_DEADLINE, "failing TLS sinks not reported: {failing:?}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    let errors = rows(&c, "SELECT name, last_error FROM freshet_sinks WHERE name <> 'secure'").await;
    assert!(errors[0].contains("TLS") || errors[0].contains("SSL") || errors[0].contains("tls"), "{errors:?}");
    assert!(errors[1].to_lowercase().contains("certificate"), "{errors:?}");

    for (options, what) in [
        ("ssl.mode = 'sometimes'", "an unknown mode"),
        ("ssl.mode = 'verify-full'", "verify-full without a root certificate"),
        ("ssl.mode = 'required', ssl.root.cert = '/nonexistent/ca.crt'", "a missing root certificate file"),
        ("ssl.mode = 'required', ssl.root.cert = '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----'", "a broken certificate"),
    ] {
        let err = c
            .batch_execute(&format!("CREATE SINK bad FROM by_grp WITH ({}, {options})", sink_options(&target.url(), "agg")))
            .await
            .expect_err(what);
        assert_eq!(sqlstate(&err).as_deref(), Some("22023"), "{what}: {err:?}");
    }
}
