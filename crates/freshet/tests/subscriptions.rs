//! Subscriptions and subscription cursors, end to end: a replica built
//! only from the changes a cursor returns must equal the view after every
//! random batch of writes (the oracle: the view, itself checked against
//! its query), for grouped views (whose updates come as UpdateDelete /
//! UpdateInsert pairs), a filter view with duplicate rows and a join.
//! Also: FULL starts from the contents, SINCE replays from a time, a
//! blocking FETCH wakes up on a commit, and the errors a user meets have
//! PostgreSQL-style SQLSTATEs. Subscriptions survive a restart; their
//! history does not.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::rng::SplitMix64;
use common::{sqlstate, TestServer};

const VIEWS: &[(&str, &str)] = &[
    ("v_group", "SELECT g, count(*) AS n, sum(x) AS s FROM t GROUP BY g"),
    ("v_filter", "SELECT g, x FROM t WHERE x > 3"),
    ("v_join", "SELECT t.g, t.x, u.label FROM t JOIN u ON u.g = t.g"),
    ("v_global", "SELECT count(*) AS n, max(x) AS hi FROM t"),
];

/// Rows of a simple query as text cells.
async fn rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    c.simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).unwrap_or("NULL").to_string()).collect())
            }
            _ => None,
        })
        .collect()
}

/// A multiset of rows kept from changes.
#[derive(Default, Debug)]
struct Replica(BTreeMap<Vec<String>, i64>);

impl Replica {
    /// Applies FETCH rows (view columns, then op, then rw_timestamp).
    fn apply(&mut self, fetched: &[Vec<String>]) {
        for row in fetched {
            let (values, rest) = row.split_at(row.len() - 2);
            let delta = match rest[0].as_str() {
                "Insert" | "UpdateInsert" => 1,
                "Delete" | "UpdateDelete" => -1,
                other => panic!("unknown op {other}"),
            };
            let count = self.0.entry(values.to_vec()).or_default();
            *count += delta;
            assert!(*count >= 0, "a delete of a row the replica does not hold: {row:?}");
            if *count == 0 {
                self.0.remove(values);
            }
        }
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (row, n) in &self.0 {
            for _ in 0..*n {
                out.push(row.clone());
            }
        }
        out
    }
}

fn sorted(mut v: Vec<Vec<String>>) -> Vec<Vec<String>> {
    v.sort();
    v
}

/// Checks that every UpdateDelete is followed by an UpdateInsert of the
/// same key (the leading `key_len` columns) at the same time.
fn check_update_pairs(fetched: &[Vec<String>], key_len: usize) {
    for (i, row) in fetched.iter().enumerate() {
        let op = &row[row.len() - 2];
        if op == "UpdateDelete" {
            let next = fetched.get(i + 1).unwrap_or_else(|| panic!("UpdateDelete last: {fetched:?}"));
            assert_eq!(next[next.len() - 2], "UpdateInsert", "{fetched:?}");
            assert_eq!(next[..key_len], row[..key_len], "{fetched:?}");
            assert_eq!(next[next.len() - 1], row[row.len() - 1], "same commit time: {fetched:?}");
        }
    }
}

#[tokio::test]
async fn cursors_replay_every_change() {
    let server = TestServer::start();
    let c = server.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, g int, x int);
         CREATE TABLE u (g int, label text);
         INSERT INTO u VALUES (1, 'one'), (2, 'two'), (3, 'three');
         INSERT INTO t VALUES (1, 1, 5), (2, 2, 1);",
    )
    .await
    .expect("setup");
    for (name, query) in VIEWS {
        c.batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {query}; CREATE SUBSCRIPTION {name}_sub FROM {name}"))
            .await
            .expect("view and subscription");
    }
    // A subscription to the table itself (keyed by its primary key).
    c.batch_execute("CREATE SUBSCRIPTION t_sub FROM t").await.expect("table subscription");
    let reader = server.connect().await;
    reader.batch_execute("DECLARE t_cur SUBSCRIPTION CURSOR FOR t_sub FULL").await.expect("declare on table");
    let mut table_replica = Replica::default();
    table_replica.apply(&rows(&reader, "FETCH 1000 FROM t_cur").await);
    let mut replicas: Vec<Replica> = Vec::new();
    for (name, _) in VIEWS {
        // FULL: the current contents first.
        reader.batch_execute(&format!("DECLARE {name}_cur SUBSCRIPTION CURSOR FOR {name}_sub FULL")).await.expect("declare");
        let mut replica = Replica::default();
        replica.apply(&rows(&reader, &format!("FETCH 1000 FROM {name}_cur")).await);
        assert_eq!(sorted(replica.rows()), sorted(rows(&c, &format!("SELECT * FROM {name}")).await), "{name} after FULL");
        replicas.push(replica);
    }

    let mut rng = SplitMix64::new(7);
    let mut next_id = 100;
    for batch in 0..25 {
        let mut statements = Vec::new();
        for _ in 0..rng.range_i64(1, 6) {
            match rng.range_i64(0, 3) {
                0 => {
                    next_id += 1;
                    statements.push(format!("INSERT INTO t VALUES ({next_id}, {}, {})", rng.range_i64(1, 4), rng.range_i64(0, 9)));
                }
                1 => statements.push(format!("UPDATE t SET x = x + {} WHERE g = {}", rng.range_i64(1, 3), rng.range_i64(1, 4))),
                _ => statements.push(format!("DELETE FROM t WHERE x = {}", rng.range_i64(0, 9))),
            }
        }
        // Sometimes one transaction, sometimes one commit per statement.
        if rng.chance(50) {
            c.batch_execute(&format!("BEGIN; {}; COMMIT", statements.join("; "))).await.expect("batch");
        } else {
            for s in &statements {
                c.batch_execute(s).await.expect("statement");
            }
        }
        let fetched = rows(&reader, "FETCH 100000 FROM t_cur").await;
        check_update_pairs(&fetched, 1);
        table_replica.apply(&fetched);
        assert_eq!(sorted(table_replica.rows()), sorted(rows(&c, "SELECT * FROM t").await), "batch {batch}: replica of t");
        for ((name, _), replica) in VIEWS.iter().zip(replicas.iter_mut()) {
            let fetched = rows(&reader, &format!("FETCH 100000 FROM {name}_cur")).await;
            if *name == "v_group" {
                check_update_pairs(&fetched, 1);
            }
            replica.apply(&fetched);
            let view = sorted(rows(&c, &format!("SELECT * FROM {name}")).await);
            assert_eq!(sorted(replica.rows()), view, "seed 7, batch {batch}: replica of {name} differs from the view");
        }
    }
    // The view itself equals its query (so the replica equals the query).
    for (name, query) in VIEWS {
        assert_eq!(sorted(rows(&c, &format!("SELECT * FROM {name}")).await), sorted(rows(&c, query).await), "{name}");
    }
}

#[tokio::test]
async fn fetch_waits_and_since_replays() {
    let mut server = TestServer::start();
    let c = server.connect().await;
    c.batch_execute(
        "CREATE TABLE t (g int, x int);
         CREATE MATERIALIZED VIEW mv AS SELECT g, sum(x) AS s FROM t GROUP BY g;
         CREATE SUBSCRIPTION sub FROM mv WITH (retention = '1D');
         INSERT INTO t VALUES (1, 1);",
    )
    .await
    .expect("setup");
    let reader = server.connect().await;
    reader.batch_execute("DECLARE cur SUBSCRIPTION CURSOR FOR sub").await.expect("declare");
    // Nothing yet: a FETCH without a timeout returns at once, empty.
    assert!(rows(&reader, "FETCH NEXT FROM cur").await.is_empty());
    // A FETCH with a timeout returns when a commit brings a change.
    let writer = server.connect().await;
    let write = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        writer.batch_execute("INSERT INTO t VALUES (2, 5)").await.expect("insert");
    });
    let started = Instant::now();
    let got = rows(&reader, "FETCH 1 FROM cur WITH (timeout = '20s')").await;
    write.await.expect("writer");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0][..3], ["2", "5", "Insert"]);
    assert!(started.elapsed() < Duration::from_secs(15), "FETCH waited for its whole timeout");
    let first_stamp: i64 = got[0][3].parse().expect("rw_timestamp is a number");

    // An update: UpdateDelete then UpdateInsert at one time.
    c.batch_execute("UPDATE t SET x = 7 WHERE g = 2").await.expect("update");
    let got = rows(&reader, "FETCH 10 FROM cur").await;
    assert_eq!(got.iter().map(|r| r[2].as_str()).collect::<Vec<_>>(), ["UpdateDelete", "UpdateInsert"], "{got:?}");

    // SINCE a time: that commit's changes and every later one.
    reader.batch_execute(&format!("DECLARE again SUBSCRIPTION CURSOR FOR sub SINCE {first_stamp}")).await.expect("since");
    let replayed = rows(&reader, "FETCH 10 FROM again").await;
    assert_eq!(replayed.iter().map(|r| r[2].as_str()).collect::<Vec<_>>(), ["Insert", "UpdateDelete", "UpdateInsert"], "{replayed:?}");

    // Errors.
    let err = |r: Result<(), tokio_postgres::Error>| sqlstate(&r.expect_err("must fail"));
    assert_eq!(err(reader.batch_execute("DECLARE cur SUBSCRIPTION CURSOR FOR sub").await).as_deref(), Some("42P03"));
    assert_eq!(err(reader.batch_execute("DECLARE x SUBSCRIPTION CURSOR FOR nosuch").await).as_deref(), Some("42704"));
    assert_eq!(err(reader.batch_execute("FETCH 1 FROM nosuch WITH (timeout = '1s')").await).as_deref(), Some("34000"));
    assert_eq!(err(reader.batch_execute("FETCH 1 FROM cur WITH (timeout = 'soon')").await).as_deref(), Some("22023"));
    c.batch_execute("CREATE VIEW plain AS SELECT 1 AS one").await.expect("view");
    assert_eq!(err(c.batch_execute("CREATE SUBSCRIPTION s2 FROM plain").await).as_deref(), Some("42809"));
    assert_eq!(err(c.batch_execute("CREATE TEMPORARY TABLE tt (a int); CREATE SUBSCRIPTION s2 FROM tt").await).as_deref(), Some("0A000"));
    assert_eq!(err(c.batch_execute("CREATE SUBSCRIPTION sub FROM mv").await).as_deref(), Some("42710"));
    assert_eq!(err(c.batch_execute("DROP MATERIALIZED VIEW mv").await).as_deref(), Some("2BP01"));
    assert_eq!(err(c.batch_execute("CREATE SUBSCRIPTION s3 FROM mv WITH (colour = 'red')").await).as_deref(), Some("22023"));
    c.batch_execute("CLOSE cur").await.expect_err("not this session's cursor");
    reader.batch_execute("CLOSE cur").await.expect("close");

    // The subscription survives a restart; history before it is gone.
    drop((c, reader));
    server.restart();
    let c = server.connect().await;
    assert_eq!(rows(&c, "SHOW SUBSCRIPTIONS").await, vec![vec!["sub".to_string()]]);
    assert_eq!(err(c.batch_execute(&format!("DECLARE old SUBSCRIPTION CURSOR FOR sub SINCE {first_stamp}")).await).as_deref(), Some("55000"));
    c.batch_execute("DECLARE fresh SUBSCRIPTION CURSOR FOR sub FULL").await.expect("declare after restart");
    let got = rows(&c, "FETCH 10 FROM fresh").await;
    assert_eq!(sorted(got.iter().map(|r| r[..2].to_vec()).collect()), vec![vec!["1".to_string(), "1".to_string()], vec!["2".to_string(), "7".to_string()]]);
    let reader = server.connect().await;
    reader.batch_execute("DECLARE open_one SUBSCRIPTION CURSOR FOR sub").await.expect("declare");
    c.batch_execute("DROP MATERIALIZED VIEW mv CASCADE").await.expect("cascade drops the subscription");
    assert!(rows(&c, "SHOW SUBSCRIPTIONS").await.is_empty());
    // A cursor whose subscription was dropped says so.
    let dropped = reader.batch_execute("FETCH 1 FROM open_one").await.expect_err("its subscription is gone");
    assert_eq!(sqlstate(&dropped).as_deref(), Some("55000"), "{dropped:?}");
    reader.batch_execute("CLOSE open_one").await.expect("close");
}
