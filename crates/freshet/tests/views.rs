//! Materialized views over SQL, end to end: after every random batch of
//! INSERT/UPDATE/DELETE, each view's maintained contents must equal its
//! query run from scratch (the batch executor), point and range lookups on
//! its first column must equal the filtered recompute, and every fourth
//! batch the views must equal a real PostgreSQL running the same
//! statements (`FRESHET_TEST_PG_URL`, required). After a SIGKILL and restart
//! the views must come back identical, also when the kill lands at a random
//! moment under a write load. Fixed seeds; set `FRESHET_VIEWS_SEED` /
//! `FRESHET_VIEWS_BATCHES` for a longer soak.

mod common;

use common::TestServer;

const VIEWS: &[(&str, &str)] = &[
    ("v_sum_by_state", "SELECT state, sum(qty * price) AS turnover, count(*) AS n FROM orders GROUP BY state"),
    ("v_avg_item", "SELECT itemid, avg(qty) AS a, min(price) AS lo, max(price) AS hi FROM orders GROUP BY itemid"),
    ("v_global", "SELECT count(*) AS n, sum(qty) AS q, max(price) AS hi FROM orders"),
    ("v_filter", "SELECT orderid, qty, state FROM orders WHERE qty > 3 AND state IS NOT NULL"),
    ("v_distinct", "SELECT DISTINCT state FROM orders"),
    ("v_join", "SELECT o.orderid, i.name, o.qty FROM orders o JOIN items i ON i.itemid = o.itemid"),
    ("v_left", "SELECT i.itemid, i.name, count(o.orderid) AS n FROM items i LEFT JOIN orders o ON o.itemid = i.itemid GROUP BY i.itemid, i.name"),
    ("v_full", "SELECT o.orderid, i.itemid FROM orders o FULL JOIN items i ON i.itemid = o.itemid"),
    ("v_union", "SELECT itemid FROM orders UNION ALL SELECT itemid FROM items"),
    ("v_top", "SELECT orderid, price FROM orders ORDER BY price DESC, orderid LIMIT 3"),
    ("v_having", "SELECT state, count(*) AS n FROM orders GROUP BY state HAVING count(*) > 1"),
    ("v_case", "SELECT CASE WHEN qty >= 5 THEN 'big' ELSE 'small' END AS size, count(*) AS n FROM orders GROUP BY 1"),
    ("v_count_distinct", "SELECT itemid, count(DISTINCT state) AS states FROM orders GROUP BY itemid"),
    ("v_on_view", "SELECT state FROM v_sum_by_state WHERE n >= 2"),
    ("v_tumble", "SELECT window_start, window_end, avg(v) AS a, count(*) AS n FROM TUMBLE(readings, ts, INTERVAL '1 minute') GROUP BY window_start, window_end"),
    ("v_hop", "SELECT window_start, max(v) AS m FROM HOP(readings, ts, INTERVAL '30 seconds', INTERVAL '1 minute') GROUP BY window_start"),
    ("v_top_per_state", "SELECT * FROM (SELECT state, orderid, qty, row_number() OVER (PARTITION BY state ORDER BY qty DESC, orderid) AS rn FROM orders) x WHERE rn <= 2"),
    ("v_running", "SELECT orderid, sum(qty) OVER (PARTITION BY itemid ORDER BY orderid) AS running FROM orders"),
    ("v_exists", "SELECT i.itemid, i.name FROM items i WHERE EXISTS (SELECT 1 FROM orders o WHERE o.itemid = i.itemid AND o.qty > 3)"),
    ("v_not_in", "SELECT orderid FROM orders WHERE itemid NOT IN (SELECT itemid FROM items)"),
    ("v_item_name", "SELECT o.orderid, (SELECT i.name FROM items i WHERE i.itemid = o.itemid) AS name FROM orders o"),
    ("v_scalar", "SELECT i.itemid, (SELECT count(*) FROM orders o WHERE o.itemid = i.itemid) AS n, (SELECT max(price) FROM orders) AS top FROM items i"),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn contents(c: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    let mut rows: Vec<String> = c
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
    rows.sort();
    rows
}

async fn check_all(c: &tokio_postgres::Client, seed: u64, batch: usize) {
    for (name, query) in VIEWS {
        let maintained = contents(c, &format!("SELECT * FROM {name}")).await;
        let recomputed = contents(c, query).await;
        assert_eq!(maintained, recomputed, "seed {seed}, batch {batch}: view {name} differs from its query");
        check_lookups(c, name, query, &maintained, seed, batch).await;
    }
}

/// Point and range lookups on a view's first column (answered from the
/// view's ordered contents without a scan) must equal the same filter over
/// the recomputed query.
async fn check_lookups(c: &tokio_postgres::Client, name: &str, query: &str, rows: &[String], seed: u64, batch: usize) {
    let stmt = c.prepare(&format!("SELECT * FROM {name}")).await.expect("describe view");
    let column = stmt.columns()[0].name().to_string();
    let firsts: Vec<&str> = rows.iter().filter_map(|r| r.split('|').next()).filter(|v| *v != "NULL").collect();
    let Some(probe) = firsts.get(firsts.len() / 2) else { return };
    for cond in [
        format!("\"{column}\" = '{probe}'"),
        format!("\"{column}\" >= '{probe}'"),
        format!("\"{column}\" < '{probe}'"),
        format!("\"{column}\" > '{probe}' AND \"{column}\" <= '{probe}'"),
        format!("\"{column}\" = '{probe}' AND \"{column}\" IS NOT NULL"),
    ] {
        let looked_up = contents(c, &format!("SELECT * FROM {name} WHERE {cond}")).await;
        let filtered = contents(c, &format!("SELECT * FROM ({query}) q WHERE {cond}")).await;
        assert_eq!(looked_up, filtered, "seed {seed}, batch {batch}: lookup {cond} on view {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_equal_recompute_under_random_changes() {
    random_changes(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_equal_recompute_with_two_workers() {
    random_changes(2).await;
}

async fn random_changes(workers: usize) {
    let seed: u64 = std::env::var("FRESHET_VIEWS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xfeed_beef);
    let batches: usize = std::env::var("FRESHET_VIEWS_BATCHES").ok().and_then(|s| s.parse().ok()).unwrap_or(25);
    let mut server = TestServer::start_with_workers(workers);
    let mut c = server.connect().await;
    let schema = "CREATE TABLE orders (orderid int PRIMARY KEY, itemid int, qty int, price float, state varchar);
         CREATE TABLE items (itemid int PRIMARY KEY, name text);
         CREATE TABLE readings (id int PRIMARY KEY, ts timestamp, v int);";
    c.batch_execute(schema).await.expect("schema");
    let oracle = Oracle::start(workers, schema).await;
    let mut rng = Rng(seed | 1);
    let states = ["'CA'", "'NY'", "'TX'", "NULL"];
    let mut next_id = 0;
    for batch in 0..batches {
        if batch == 3 {
            // Views created over tables that already hold rows.
            for (name, query) in VIEWS {
                c.batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {query}")).await.expect("create view");
            }
        }
        let mut stmts = Vec::new();
        for _ in 0..1 + rng.below(8) {
            match rng.below(6) {
                0..=2 => {
                    next_id += 1;
                    let item = if rng.below(5) == 0 { "NULL".to_string() } else { rng.below(6).to_string() };
                    stmts.push(format!(
                        "INSERT INTO orders VALUES ({next_id}, {item}, {}, {}.5, {})",
                        rng.below(9),
                        rng.below(50),
                        states[rng.below(4) as usize]
                    ));
                }
                3 => stmts.push(format!("UPDATE orders SET qty = qty + 1, price = price * 2 WHERE orderid % 5 = {}", rng.below(5))),
                4 if rng.below(2) == 0 => stmts.push(format!("DELETE FROM orders WHERE orderid % 7 = {}", rng.below(7))),
                4 => {
                    next_id += 1;
                    if rng.below(3) == 0 {
                        stmts.push(format!("DELETE FROM readings WHERE id % 4 = {}", rng.below(4)));
                    } else {
                        // Times near window boundaries, including exactly on them.
                        stmts.push(format!(
                            "INSERT INTO readings VALUES ({next_id}, TIMESTAMP '2020-01-01 10:00:00' + {} * INTERVAL '15 seconds' + {} * INTERVAL '1 microsecond', {})",
                            rng.below(12),
                            rng.below(3) as i64 - 1,
                            rng.below(100)
                        ));
                    }
                }
                _ => {
                    let id = rng.below(6);
                    if rng.below(2) == 0 {
                        stmts.push(format!("INSERT INTO items VALUES ({id}, 'item{}') ON CONFLICT (itemid) DO UPDATE SET name = EXCLUDED.name", rng.below(3)));
                    } else {
                        stmts.push(format!("DELETE FROM items WHERE itemid = {id}"));
                    }
                }
            }
        }
        oracle.apply(&stmts).await;
        // Half the batches in one explicit transaction, half autocommit.
        if rng.below(2) == 0 {
            c.batch_execute(&format!("BEGIN; {}; COMMIT", stmts.join("; "))).await.expect("batch");
        } else {
            for s in &stmts {
                c.batch_execute(s).await.expect("statement");
            }
        }
        if batch >= 3 {
            check_all(&c, seed, batch).await;
            if batch % 4 == 3 {
                oracle.check(&c, seed, batch).await;
            }
        }
    }
    // Recovery: the views come back identical after kill -9.
    let before: Vec<Vec<String>> = {
        let mut v = Vec::new();
        for (name, _) in VIEWS {
            v.push(contents(&c, &format!("SELECT * FROM {name}")).await);
        }
        v
    };
    drop(c);
    server.kill9();
    server.restart();
    c = server.connect().await;
    for ((name, _), expected) in VIEWS.iter().zip(before) {
        assert_eq!(contents(&c, &format!("SELECT * FROM {name}")).await, expected, "view {name} changed across a restart");
    }
    check_all(&c, seed, batches).await;
    oracle.check(&c, seed, batches).await;
    oracle.finish().await;
}

/// A real PostgreSQL running the same statements, with each view (except
/// the TUMBLE/HOP ones, which PostgreSQL lacks) as a plain view: a sample
/// of batches compares Freshet's maintained views with PostgreSQL's answer.
struct Oracle {
    admin_url: String,
    database: String,
    client: tokio_postgres::Client,
}

impl Oracle {
    async fn start(workers: usize, schema: &str) -> Oracle {
        let admin_url = common::pg_oracle_url();
        let database = format!("views_oracle_{}_{workers}", std::process::id());
        let admin = common::connect(&admin_url).await;
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await.expect("drop oracle db");
        admin.batch_execute(&format!("CREATE DATABASE {database}")).await.expect("create oracle db");
        let client = common::connect(&common::url_with_dbname(&admin_url, &database)).await;
        client.batch_execute(schema).await.expect("oracle schema");
        for (name, query) in Self::views() {
            client.batch_execute(&format!("CREATE VIEW {name} AS {query}")).await.expect("oracle view");
        }
        Oracle { admin_url, database, client }
    }

    fn views() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
        VIEWS.iter().filter(|(_, q)| !q.contains("TUMBLE(") && !q.contains("HOP("))
    }

    async fn apply(&self, stmts: &[String]) {
        self.client.batch_execute(&format!("BEGIN; {}; COMMIT", stmts.join("; "))).await.expect("oracle batch");
    }

    async fn check(&self, c: &tokio_postgres::Client, seed: u64, batch: usize) {
        for (name, _) in Self::views() {
            let maintained = contents(c, &format!("SELECT * FROM {name}")).await;
            let postgres = contents(&self.client, &format!("SELECT * FROM {name}")).await;
            assert_eq!(maintained, postgres, "seed {seed}, batch {batch}: view {name} differs from PostgreSQL");
        }
    }

    async fn finish(self) {
        drop(self.client);
        let admin = common::connect(&self.admin_url).await;
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database)).await;
    }
}

#[tokio::test]
async fn non_incremental_views_are_refused() {
    let server = TestServer::start();
    let c = server.connect().await;
    c.batch_execute("CREATE TABLE t (a int)").await.expect("table");
    for bad in [
        "CREATE MATERIALIZED VIEW v AS SELECT a, now() FROM t",
        "CREATE MATERIALIZED VIEW v AS SELECT random() FROM t",
        "CREATE MATERIALIZED VIEW v AS SELECT a FROM t WHERE a IN (SELECT a FROM t) OR a > 1",
    ] {
        let err = c.batch_execute(bad).await.expect_err(bad);
        assert_eq!(common::sqlstate(&err).as_deref(), Some("0A000"), "{bad}: {err}");
    }
    // Nothing was created; a good view is listed.
    let rows = c.query("SELECT count(*) FROM pg_matviews", &[]).await.expect("pg_matviews");
    let n: i64 = rows[0].get(0);
    assert_eq!(n, 0);
    c.batch_execute("CREATE MATERIALIZED VIEW good AS SELECT a, count(*) FROM t GROUP BY a").await.expect("good view");
    let rows = c.query("SELECT matviewname FROM pg_matviews", &[]).await.expect("pg_matviews");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "good");
}

#[tokio::test]
async fn freshet_jobs_reports_backfills() {
    let server = TestServer::start();
    let c = server.connect().await;
    c.batch_execute(
        "CREATE TABLE t (a int, b int);
         INSERT INTO t SELECT g, g % 7 FROM generate_series(1, 20000) g;
         CREATE MATERIALIZED VIEW by_b AS SELECT b, count(*) AS n FROM t GROUP BY b;",
    )
    .await
    .expect("setup");
    // Reading the view waits for its backfill; afterwards the job is done.
    let n: i64 = c.query_one("SELECT sum(n)::int8 FROM by_b", &[]).await.expect("read").get(0);
    assert_eq!(n, 20000);
    let row = c
        .query_one(
            "SELECT name, kind, status, progress, backfill_rows, backfilled_at >= started_at, backfill_ms >= 0 \
             FROM freshet_jobs WHERE name = 'by_b'",
            &[],
        )
        .await
        .expect("freshet_jobs");
    assert_eq!(row.get::<_, &str>(0), "by_b");
    assert_eq!(row.get::<_, &str>(1), "materialized view");
    assert_eq!(row.get::<_, &str>(2), "running");
    assert_eq!(row.get::<_, f64>(3), 1.0);
    assert_eq!(row.get::<_, i64>(4), 20000);
    assert!(row.get::<_, bool>(5));
    assert!(row.get::<_, bool>(6));
    // A dropped view's job disappears.
    c.batch_execute("DROP MATERIALIZED VIEW by_b").await.expect("drop");
    let left: i64 = c.query_one("SELECT count(*) FROM freshet_jobs", &[]).await.expect("jobs").get(0);
    assert_eq!(left, 0);
}

/// kill -9 at seeded random moments while a writer commits inserts,
/// updates and deletes; after every restart each view must equal its
/// recomputed query (views are rebuilt from the recovered tables, so a
/// commit is in both or in neither).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_equal_recompute_after_kill9_under_writes() {
    let seed: u64 = std::env::var("FRESHET_VIEWS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_cafe);
    println!("kill -9 under writes: seed {seed}");
    let mut rng = Rng(seed | 1);
    let mut server = TestServer::start_with_workers(2);
    let c = server.connect().await;
    c.batch_execute(
        "CREATE TABLE orders (orderid int PRIMARY KEY, itemid int, qty int, price float, state varchar);
         CREATE TABLE items (itemid int PRIMARY KEY, name text);
         CREATE TABLE readings (id int PRIMARY KEY, ts timestamp, v int);
         INSERT INTO items SELECT g, 'item' || g FROM generate_series(0, 4) g;",
    )
    .await
    .expect("schema");
    for (name, query) in VIEWS {
        c.batch_execute(&format!("CREATE MATERIALIZED VIEW {name} AS {query}")).await.expect("create view");
    }
    drop(c);
    let next_id = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    for round in 0..3 {
        let url = server.url();
        let ids = std::sync::Arc::clone(&next_id);
        let writer_seed = rng.next();
        let writer = tokio::spawn(async move {
            let c = common::connect(&url).await;
            let mut rng = Rng(writer_seed | 1);
            loop {
                let id = ids.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let sql = format!(
                    "BEGIN; INSERT INTO orders VALUES ({id}, {}, {}, {}.5, 'S{}'); \
                     UPDATE orders SET qty = qty + 1 WHERE orderid % 11 = {}; \
                     DELETE FROM orders WHERE orderid % 13 = {} AND orderid < {id} - 20; COMMIT;",
                    rng.below(7),
                    rng.below(9),
                    rng.below(40),
                    rng.below(4),
                    rng.below(11),
                    rng.below(13)
                );
                if c.batch_execute(&sql).await.is_err() {
                    return;
                }
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50 + rng.below(250))).await;
        server.kill9();
        let _ = writer.await;
        server.restart();
        let c = server.connect().await;
        let rows: i64 = c.query_one("SELECT count(*) FROM orders", &[]).await.expect("count").get(0);
        assert!(rows > 0, "round {round}: the writer committed nothing before the kill");
        check_all(&c, seed, round).await;
    }
}
