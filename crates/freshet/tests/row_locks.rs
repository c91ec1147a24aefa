//! SELECT ... FOR UPDATE / FOR NO KEY UPDATE / FOR SHARE between concurrent
//! transactions: a locked row makes other lockers wait (and then see the
//! committed value), NOWAIT fails with 55P03, SKIP LOCKED leaves the row
//! out, and read-then-write increments under FOR UPDATE lose nothing.
//!
//! Every scenario runs against Freshet and against the PostgreSQL oracle
//! (`FRESHET_TEST_PG_URL`), so the expectations are PostgreSQL's.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::TestServer;
use tokio_postgres::Client;

/// Long enough that a blocked locker would have returned if it were not
/// blocked; the test only asserts it has *not* finished yet.
const BLOCKED_FOR: Duration = Duration::from_millis(300);

static NEXT_TABLE: AtomicU32 = AtomicU32::new(0);

/// A table name unique to this process and test, so runs against the
/// shared oracle database never collide.
fn table_name(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), NEXT_TABLE.fetch_add(1, Ordering::Relaxed))
}

async fn both_targets<F, Fut>(scenario: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let server = TestServer::start();
    scenario(server.url()).await;
    scenario(common::pg_oracle_url()).await;
}

async fn setup(url: &str, table: &str, rows: i32) -> Client {
    let c = common::connect(url).await;
    c.batch_execute(&format!("CREATE TABLE {table} (id int PRIMARY KEY, v int NOT NULL)")).await.expect("create");
    for id in 1..=rows {
        c.execute(&format!("INSERT INTO {table} VALUES ($1, 0)"), &[&id]).await.expect("seed");
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_locker_waits_and_then_sees_the_committed_row() {
    both_targets(|url| async move {
        let table = table_name("lock_wait");
        let admin = setup(&url, &table, 2).await;
        let a = common::connect(&url).await;
        let b = common::connect(&url).await;
        a.batch_execute("BEGIN").await.expect("begin a");
        let v: i32 = a
            .query_one(&format!("SELECT v FROM {table} WHERE id = 1 FOR UPDATE"), &[])
            .await
            .expect("a locks")
            .get(0);
        assert_eq!(v, 0);

        let sql = format!("SELECT v FROM {table} WHERE id = 1 FOR NO KEY UPDATE");
        let waiter = tokio::spawn(async move {
            b.batch_execute("BEGIN").await.expect("begin b");
            let v: i32 = b.query_one(&sql, &[]).await.expect("b locks").get(0);
            b.batch_execute("COMMIT").await.expect("commit b");
            v
        });
        tokio::time::sleep(BLOCKED_FOR).await;
        assert!(!waiter.is_finished(), "{url}: the second FOR UPDATE did not wait for the first");

        // Another row is not locked.
        let other: i32 = admin
            .query_one(&format!("SELECT v FROM {table} WHERE id = 2 FOR UPDATE"), &[])
            .await
            .expect("other row")
            .get(0);
        assert_eq!(other, 0);

        a.execute(&format!("UPDATE {table} SET v = 42 WHERE id = 1"), &[]).await.expect("update");
        a.batch_execute("COMMIT").await.expect("commit a");
        let seen = tokio::time::timeout(Duration::from_secs(30), waiter).await.expect("waiter finishes").expect("task");
        assert_eq!(seen, 42, "{url}: the waiter must see the committed value");
        admin.batch_execute(&format!("DROP TABLE {table}")).await.expect("drop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nowait_fails_and_skip_locked_skips() {
    both_targets(|url| async move {
        let table = table_name("lock_nowait");
        let admin = setup(&url, &table, 3).await;
        let a = common::connect(&url).await;
        let b = common::connect(&url).await;
        a.batch_execute("BEGIN").await.expect("begin a");
        a.query(&format!("SELECT * FROM {table} WHERE id = 2 FOR UPDATE"), &[]).await.expect("a locks");

        b.batch_execute("BEGIN").await.expect("begin b");
        let err = b
            .query(&format!("SELECT * FROM {table} WHERE id = 2 FOR UPDATE NOWAIT"), &[])
            .await
            .expect_err("NOWAIT on a locked row");
        assert_eq!(common::sqlstate(&err).as_deref(), Some("55P03"), "{url}: {err}");
        b.batch_execute("ROLLBACK").await.expect("rollback b");

        b.batch_execute("BEGIN").await.expect("begin b");
        let ids: Vec<i32> = b
            .query(&format!("SELECT id FROM {table} ORDER BY id FOR UPDATE SKIP LOCKED"), &[])
            .await
            .expect("skip locked")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(ids, vec![1, 3], "{url}");
        // Rows 1 and 3 are now b's: a cannot take them without waiting.
        let err = a
            .query(&format!("SELECT id FROM {table} WHERE id = 3 FOR SHARE NOWAIT"), &[])
            .await
            .expect_err("row 3 is b's");
        assert_eq!(common::sqlstate(&err).as_deref(), Some("55P03"), "{url}: {err}");
        a.batch_execute("ROLLBACK").await.expect("rollback a");
        b.batch_execute("COMMIT").await.expect("commit b");

        // After both ended, nothing is locked.
        let n = admin
            .query(&format!("SELECT id FROM {table} FOR UPDATE NOWAIT"), &[])
            .await
            .expect("all free")
            .len();
        assert_eq!(n, 3);
        admin.batch_execute(&format!("DROP TABLE {table}")).await.expect("drop");
    })
    .await;
}

/// Read a counter under FOR UPDATE, write back value + 1 computed by the
/// client: without the lock, concurrent clients overwrite each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_modify_write_under_for_update_loses_nothing() {
    const CLIENTS: usize = 5;
    const INCREMENTS: usize = 30;
    both_targets(|url| async move {
        let table = table_name("lock_counter");
        let admin = setup(&url, &table, 1).await;
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let c = common::connect(&url).await;
            let table = table.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..INCREMENTS {
                    c.batch_execute("BEGIN").await.expect("begin");
                    let v: i32 = c
                        .query_one(&format!("SELECT v FROM {table} WHERE id = 1 FOR UPDATE"), &[])
                        .await
                        .expect("lock")
                        .get(0);
                    c.execute(&format!("UPDATE {table} SET v = $1 WHERE id = 1"), &[&(v + 1)]).await.expect("write");
                    c.batch_execute("COMMIT").await.expect("commit");
                }
            }));
        }
        for t in tasks {
            t.await.expect("client");
        }
        let v: i32 = admin.query_one(&format!("SELECT v FROM {table}"), &[]).await.expect("read").get(0);
        assert_eq!(v as usize, CLIENTS * INCREMENTS, "{url}: increments were lost");
        admin.batch_execute(&format!("DROP TABLE {table}")).await.expect("drop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locking_clauses_that_postgresql_refuses() {
    both_targets(|url| async move {
        let (t, u) = (table_name("lock_refused"), table_name("lock_refused"));
        let c = setup(&url, &t, 2).await;
        c.batch_execute(&format!("CREATE TABLE {u} (id int PRIMARY KEY, t_id int)")).await.expect("create u");
        for (sql, code) in [
            (format!("SELECT v, count(*) FROM {t} GROUP BY v FOR UPDATE"), "0A000"),
            (format!("SELECT DISTINCT v FROM {t} FOR UPDATE"), "0A000"),
            (format!("SELECT id FROM {t} UNION SELECT id FROM {u} FOR UPDATE"), "0A000"),
            (format!("SELECT * FROM {t} LEFT JOIN {u} ON {u}.t_id = {t}.id FOR UPDATE"), "0A000"),
            (format!("SELECT * FROM {t} FOR UPDATE OF nosuch"), "42P01"),
        ] {
            let err = c.query(&sql, &[]).await.expect_err(&sql);
            assert_eq!(common::sqlstate(&err).as_deref(), Some(code), "{url}: {sql}: {err}");
        }
        // Locking only the non-nullable side of an outer join is allowed,
        // as are several tables in one OF list.
        let n = c
            .query(&format!("SELECT * FROM {t} LEFT JOIN {u} ON {u}.t_id = {t}.id FOR UPDATE OF {t}"), &[])
            .await
            .expect("OF the preserved side")
            .len();
        assert_eq!(n, 2);
        let n = c
            .query(&format!("SELECT * FROM {t} a JOIN {u} b ON b.t_id = a.id FOR NO KEY UPDATE OF a, b"), &[])
            .await
            .expect("OF a, b")
            .len();
        assert_eq!(n, 0);
        c.batch_execute(&format!("DROP TABLE {u}; DROP TABLE {t}")).await.expect("drop");
    })
    .await;
}
