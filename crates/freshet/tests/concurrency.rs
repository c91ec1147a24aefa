//! Concurrent writers: transactions that update the same rows must wait
//! for each other, never lose an update, and never fail for it.
//!
//! Two checks: concurrent bank transfers between a few hot accounts (the
//! total must be conserved and every committed transfer counted), and
//! PostgreSQL's own `pgbench` TPC-B load, whose tables must stay mutually
//! consistent (sum of deltas in history = each balance total).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::TestServer;

const ACCOUNTS: i64 = 5;
const CLIENTS: usize = 6;
const TRANSFERS_PER_CLIENT: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transfers_conserve_money() {
    let server = TestServer::start();
    let setup = server.connect().await;
    setup
        .batch_execute("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL); CREATE TABLE transfers (id serial PRIMARY KEY, src int, dst int, amount int)")
        .await
        .expect("schema");
    for id in 0..ACCOUNTS {
        setup.execute("INSERT INTO accounts VALUES ($1, 1000)", &[&(id as i32)]).await.expect("seed");
    }
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let c = server.connect().await;
        tasks.push(tokio::spawn(async move {
            let mut committed = 0usize;
            let mut state = (client as u64 + 1) * 0x9E37_79B9;
            for _ in 0..TRANSFERS_PER_CLIENT {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let src = (state % ACCOUNTS as u64) as i32;
                let dst = ((state >> 8) % ACCOUNTS as u64) as i32;
                let amount = ((state >> 16) % 50) as i32 + 1;
                let txn = async {
                    c.batch_execute("BEGIN").await?;
                    c.execute("UPDATE accounts SET balance = balance - $2 WHERE id = $1", &[&src, &(amount as i64)]).await?;
                    c.execute("UPDATE accounts SET balance = balance + $2 WHERE id = $1", &[&dst, &(amount as i64)]).await?;
                    c.execute("INSERT INTO transfers (src, dst, amount) VALUES ($1, $2, $3)", &[&src, &dst, &amount]).await?;
                    c.batch_execute("COMMIT").await
                };
                match txn.await {
                    Ok(()) => committed += 1,
                    Err(e) => {
                        // Only a detected deadlock may abort a transfer.
                        let code = common::sqlstate(&e);
                        assert_eq!(code.as_deref(), Some("40P01"), "transfer failed: {e}");
                        c.batch_execute("ROLLBACK").await.expect("rollback after deadlock");
                    }
                }
            }
            committed
        }));
    }
    let mut committed = 0;
    for t in tasks {
        committed += t.await.expect("client task");
    }
    let total: i64 = setup.query_one("SELECT sum(balance)::bigint FROM accounts", &[]).await.expect("sum").get(0);
    assert_eq!(total, ACCOUNTS * 1000, "money was created or destroyed");
    let count: i64 = setup.query_one("SELECT count(*) FROM transfers", &[]).await.expect("count").get(0);
    assert_eq!(count as usize, committed, "committed transfers and recorded transfers differ");
    // Each account's balance is its initial balance plus what the log says.
    let rows = setup
        .query(
            "SELECT a.id, a.balance, (1000 + coalesce((SELECT sum(amount) FROM transfers WHERE dst = a.id), 0) - coalesce((SELECT sum(amount) FROM transfers WHERE src = a.id), 0))::bigint FROM accounts a",
            &[],
        )
        .await
        .expect("audit");
    for r in rows {
        let (id, balance, expected): (i32, i64, i64) = (r.get(0), r.get(1), r.get(2));
        assert_eq!(balance, expected, "account {id}: a lost update");
    }
    assert!(committed > CLIENTS * TRANSFERS_PER_CLIENT / 2, "too few transfers committed: {committed}");
}

fn pgbench() -> Option<PathBuf> {
    let dirs = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    dirs.filter_map(|d| d.ok()).map(|d| d.path().join("bin/pgbench")).find(|p| p.exists())
}

#[test]
fn pgbench_tpcb_stays_consistent() {
    let Some(pgbench) = pgbench() else {
        panic!("pgbench not found under /usr/lib/postgresql/*/bin (install postgresql; .ci/run does)");
    };
    let server = TestServer::start();
    let port = server.port().to_string();
    let base = ["-h", "127.0.0.1", "-p", port.as_str(), "-U", "root"];
    let init = Command::new(&pgbench).args(base).args(["-i", "-s", "1", "-q", "dev"]).output().expect("run pgbench -i");
    assert!(init.status.success(), "pgbench -i failed: {}", String::from_utf8_lossy(&init.stderr));
    let run = Command::new(&pgbench).args(base).args(["-c", "4", "-j", "2", "-t", "50", "dev"]).output().expect("run pgbench");
    let out = String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "pgbench failed:\n{out}");
    assert!(out.contains("number of failed transactions: 0"), "pgbench reported failures:\n{out}");
    let check = Command::new("psql")
        .args(["-X", "-At", "-h", "127.0.0.1", "-p", port.as_str(), "-U", "root", "-d", "dev", "-c"])
        .arg("SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT sum(delta) FROM pgbench_history), (SELECT count(*) FROM pgbench_history)")
        .output()
        .expect("run psql");
    let line = String::from_utf8_lossy(&check.stdout).trim().to_string();
    let parts: Vec<&str> = line.split('|').collect();
    assert_eq!(parts.len(), 5, "unexpected psql output {line:?}");
    assert!(parts[..4].iter().all(|p| *p == parts[0]), "balances disagree: {line}");
    assert_eq!(parts[4], "200", "every transaction must be in the history: {line}");
}
