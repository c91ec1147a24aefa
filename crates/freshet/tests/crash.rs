//! Crash tests: durability of acknowledged writes across SIGKILL, and the
//! data directory lock.
//!
//! `acknowledged_inserts_survive_sigkill`: a writer inserts rows into
//! `t(id bigint primary key, v text)`, one autocommit INSERT per row, and
//! records every id whose INSERT returned OK. At seeded random moments (3-5
//! times, each 50-300 ms into the load) the server is killed with SIGKILL and
//! restarted on the same data directory. After each restart every
//! acknowledged id must be present, and no id that was never attempted may
//! exist (the one id in flight at the kill may or may not be there).
//!
//! `second_server_on_same_data_dir_fails`: while a server runs, a second
//! `freshet serve` on its data directory must exit quickly with a non-zero
//! status and a message that mentions the data directory or its lock.
//!
//! `temporary_tables_do_not_survive_a_crash`: temporary tables of sessions
//! a SIGKILL ended are dropped at the restart (Freshet only).
//!
//! Validating the harness itself: `FRESHET_CRASH_TARGET=postgres` runs both
//! tests against a private PostgreSQL postmaster (initdb'd into a scratch
//! directory, run as the `postgres` user when we are root) instead of Freshet.
//! PostgreSQL passes both, which shows the checks are sound.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::rng::SplitMix64;

/// Fixed seed for the kill schedule; printed so a failure can be replayed
/// with `FRESHET_CRASH_SEED`.
const SEED: u64 = 0xC0FF_EE00_DEAD_0001;

/// How long a restarted server may take to answer `SELECT 1` (recovery).
const RECOVERY_DEADLINE: Duration = Duration::from_secs(60);

/// Acknowledged inserts to wait for before the kill timer starts, so no
/// round is vacuous.
const ACKS_BEFORE_TIMER_MIN: usize = 5;

/// Upper bound on inserts per round, whatever the timing.
const INSERTS_PER_ROUND_MAX: i64 = 200_000;

/// A server process that can be killed and restarted on the same data.
trait CrashTarget {
    fn url(&self) -> String;
    fn kill9(&mut self);
    /// Starts again on the same data directory (after `kill9`).
    fn restart(&mut self);
    /// Starts a second server on the same data directory while this one
    /// runs; returns its exit status (None if it was still running at the
    /// deadline) and its stderr.
    fn start_second(&self, deadline: Duration) -> (Option<ExitStatus>, String);
    fn stderr(&self) -> String;
}

impl CrashTarget for common::TestServer {
    fn url(&self) -> String {
        common::TestServer::url(self)
    }
    fn kill9(&mut self) {
        common::TestServer::kill9(self)
    }
    fn restart(&mut self) {
        common::TestServer::restart(self)
    }
    fn start_second(&self, deadline: Duration) -> (Option<ExitStatus>, String) {
        self.start_second_on_same_data_dir(deadline)
    }
    fn stderr(&self) -> String {
        common::TestServer::stderr(self)
    }
}

/// A private PostgreSQL postmaster, used only to validate this harness.
struct PgTarget {
    scratch: tempfile::TempDir,
    bindir: PathBuf,
    port: u16,
    owner: Option<(u32, u32)>,
    child: Option<Child>,
    starts: u32,
}

impl PgTarget {
    fn start() -> PgTarget {
        let bindir = find_pg_bindir();
        let scratch = tempfile::Builder::new()
            .prefix("freshet-crash-pg-")
            .tempdir()
            .expect("create a scratch directory");
        let owner = if is_root() {
            Some(postgres_ids())
        } else {
            None
        };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(scratch.path(), Some(uid), Some(gid))
                .expect("chown the scratch directory to postgres");
        }
        let mut target = PgTarget {
            scratch,
            bindir,
            port: common::free_port(),
            owner,
            child: None,
            starts: 0,
        };
        let status = target
            .command("initdb")
            .args(["-D", &target.data_dir().display().to_string()])
            .args(["-U", "postgres", "--auth=trust", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run initdb");
        assert!(status.success(), "initdb failed: {status}");
        target.spawn(target.port);
        target
    }

    fn data_dir(&self) -> PathBuf {
        self.scratch.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bindir.join(program));
        if let Some((uid, gid)) = self.owner {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid);
        }
        command.stdin(Stdio::null());
        command
    }

    fn postgres_command(&self, port: u16, stderr_path: &Path) -> Command {
        let stderr = std::fs::File::create(stderr_path).expect("create a stderr file");
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(stderr_path, Some(uid), Some(gid))
                .expect("chown the stderr file");
        }
        let mut command = self.command("postgres");
        command
            .args(["-D", &self.data_dir().display().to_string()])
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-k", &self.scratch.path().display().to_string()])
            .stdout(Stdio::null())
            .stderr(stderr);
        command
    }

    fn spawn(&mut self, port: u16) {
        self.starts += 1;
        let path = self
            .scratch
            .path()
            .join(format!("server-{}.stderr", self.starts));
        let child = self
            .postgres_command(port, &path)
            .spawn()
            .expect("spawn postgres");
        self.child = Some(child);
    }
}

impl CrashTarget for PgTarget {
    fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) {
        // After SIGKILL of the postmaster its backends notice and exit on
        // their own; until they have, a new postmaster refuses to start
        // ("pre-existing shared memory block is still in use"). Retry.
        let started = Instant::now();
        loop {
            self.kill9();
            self.spawn(self.port);
            let probe = Instant::now();
            while probe.elapsed() < Duration::from_secs(2) {
                let child = self.child.as_mut().expect("spawned above");
                if child.try_wait().expect("poll postgres").is_some() {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(
                started.elapsed() < RECOVERY_DEADLINE,
                "postgres did not restart: {}",
                self.stderr()
            );
        }
    }

    fn start_second(&self, deadline: Duration) -> (Option<ExitStatus>, String) {
        let path = self.scratch.path().join("second.stderr");
        let mut child = self
            .postgres_command(common::free_port(), &path)
            .spawn()
            .expect("spawn a second postgres");
        let status = wait_with_deadline(&mut child, deadline);
        (status, std::fs::read_to_string(&path).unwrap_or_default())
    }

    fn stderr(&self) -> String {
        let path = self
            .scratch
            .path()
            .join(format!("server-{}.stderr", self.starts));
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

impl Drop for PgTarget {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll a child") {
            return Some(status);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_root() -> bool {
    // The owner of /proc/self is the effective user.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn postgres_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3).then(|| {
                (
                    fields[2].parse().expect("numeric uid"),
                    fields[3].parse().expect("numeric gid"),
                )
            })
        })
        .expect("a `postgres` user (apt-get install postgresql)")
}

fn find_pg_bindir() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    candidates
        .into_iter()
        .rev()
        .find(|dir| dir.join("postgres").exists())
        .expect("PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
}

fn start_target() -> Box<dyn CrashTarget> {
    match std::env::var("FRESHET_CRASH_TARGET").as_deref() {
        Ok("postgres") => Box::new(PgTarget::start()),
        Ok("freshet") | Err(_) => Box::new(common::TestServer::start()),
        Ok(other) => panic!("FRESHET_CRASH_TARGET={other:?}: expected `freshet` or `postgres`"),
    }
}

/// Polls until the server answers `SELECT 1` on a new connection.
async fn wait_until_queryable(url: &str, target: &dyn CrashTarget) -> tokio_postgres::Client {
    let started = Instant::now();
    loop {
        if let Ok(client) = common::try_connect(url).await {
            if client.simple_query("SELECT 1").await.is_ok() {
                return client;
            }
        }
        assert!(
            started.elapsed() < RECOVERY_DEADLINE,
            "server at {url} did not answer SELECT 1 within {RECOVERY_DEADLINE:?}\n--- stderr ---\n{}",
            target.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the writer knows about its inserts.
#[derive(Default)]
struct Progress {
    /// Ids whose INSERT returned OK.
    acknowledged: BTreeSet<i64>,
    /// The id whose INSERT was sent but not answered when the writer stopped.
    in_flight: Option<i64>,
    /// Highest id ever sent.
    attempted_max: i64,
}

/// Inserts ids from `first` on until an INSERT fails (the kill) or the
/// round's bound is reached.
async fn writer(url: String, first: i64, progress: Arc<Mutex<Progress>>) {
    let client = match common::try_connect(&url).await {
        Ok(client) => client,
        Err(_) => return,
    };
    for id in first..first + INSERTS_PER_ROUND_MAX {
        {
            let mut p = progress.lock().expect("progress lock");
            p.in_flight = Some(id);
            p.attempted_max = p.attempted_max.max(id);
        }
        let sql = format!("INSERT INTO t (id, v) VALUES ({id}, 'value {id}')");
        match client.batch_execute(&sql).await {
            Ok(()) => {
                let mut p = progress.lock().expect("progress lock");
                p.acknowledged.insert(id);
                p.in_flight = None;
            }
            Err(_) => return,
        }
    }
}

async fn present_ids(client: &tokio_postgres::Client) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    let messages = tokio::time::timeout(RECOVERY_DEADLINE, client.simple_query("SELECT id FROM t"))
        .await
        .expect("SELECT id FROM t answers in time")
        .expect("SELECT id FROM t");
    for message in messages {
        if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
            let id = row.get(0).expect("id is NOT NULL");
            ids.insert(id.parse::<i64>().expect("id is a bigint"));
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_inserts_survive_sigkill() {
    let seed = std::env::var("FRESHET_CRASH_SEED")
        .map(|s| s.parse().expect("FRESHET_CRASH_SEED is a u64"))
        .unwrap_or(SEED);
    println!("crash test seed {seed}");
    let mut rng = SplitMix64::new(seed);
    let mut target = tokio::task::block_in_place(start_target);
    let url = target.url();

    let client = wait_until_queryable(&url, target.as_ref()).await;
    client
        .batch_execute("CREATE TABLE t (id bigint PRIMARY KEY, v text)")
        .await
        .expect("create the table");
    drop(client);

    let rounds = rng.range_i64(3, 5);
    let mut all_acknowledged = BTreeSet::new();
    let mut attempted_max = 0;
    for round in 1..=rounds {
        let progress = Arc::new(Mutex::new(Progress {
            attempted_max,
            ..Progress::default()
        }));
        let task = tokio::spawn(writer(url.clone(), attempted_max + 1, progress.clone()));

        // Let the load get going, then kill at a random moment.
        let started = Instant::now();
        while progress.lock().expect("progress lock").acknowledged.len() < ACKS_BEFORE_TIMER_MIN {
            assert!(
                started.elapsed() < Duration::from_secs(30) && !task.is_finished(),
                "round {round}: the writer got no {ACKS_BEFORE_TIMER_MIN} acknowledgements\n--- stderr ---\n{}",
                target.stderr()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let delay = Duration::from_millis(rng.range_i64(50, 300) as u64);
        // Fault injection at a chosen moment, not synchronisation.
        tokio::time::sleep(delay).await;
        tokio::task::block_in_place(|| target.kill9());
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("the writer stops after the kill")
            .expect("the writer does not panic");

        let (acknowledged, in_flight, round_max) = {
            let p = progress.lock().expect("progress lock");
            (p.acknowledged.clone(), p.in_flight, p.attempted_max)
        };
        all_acknowledged.extend(acknowledged.iter().copied());
        attempted_max = round_max;

        tokio::task::block_in_place(|| target.restart());
        let client = wait_until_queryable(&url, target.as_ref()).await;
        let present = present_ids(&client).await;

        let lost: Vec<i64> = all_acknowledged.difference(&present).copied().collect();
        let never_attempted: Vec<i64> = present
            .iter()
            .copied()
            .filter(|id| *id > attempted_max || *id < 1)
            .collect();
        // Every attempted id is acknowledged or was in flight at a kill. An
        // earlier round's in-flight id that was absent after its restart must
        // stay absent.
        let unexplained: Vec<i64> = present
            .difference(&all_acknowledged)
            .copied()
            .filter(|id| Some(*id) != in_flight && *id <= attempted_max)
            .collect();
        println!(
            "round {round}: killed after {delay:?}; {} acknowledged this round, {} in total, {} present, in flight {in_flight:?}",
            acknowledged.len(),
            all_acknowledged.len(),
            present.len()
        );
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}): acknowledged ids lost: {lost:?}"
        );
        assert!(
            never_attempted.is_empty(),
            "round {round} (seed {seed}): ids that were never attempted exist: {never_attempted:?}"
        );
        assert!(
            unexplained.is_empty(),
            "round {round} (seed {seed}): ids that were neither acknowledged nor in flight exist: {unexplained:?}"
        );
        // The in-flight id, if it made it, is as good as acknowledged now.
        if let Some(id) = in_flight.filter(|id| present.contains(id)) {
            all_acknowledged.insert(id);
        }
    }

    // The server still takes writes after the last recovery.
    let client = wait_until_queryable(&url, target.as_ref()).await;
    let next = attempted_max + 1;
    client
        .batch_execute(&format!("INSERT INTO t (id, v) VALUES ({next}, 'after')"))
        .await
        .expect("insert after the last restart");
    let present = present_ids(&client).await;
    assert!(present.contains(&next));
    assert!(all_acknowledged.is_subset(&present));
}

#[test]
fn second_server_on_same_data_dir_fails() {
    let target = start_target();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    runtime.block_on(async {
        let client = wait_until_queryable(&target.url(), target.as_ref()).await;
        client
            .simple_query("SELECT 1")
            .await
            .expect("first server answers");
    });

    let started = Instant::now();
    let (status, stderr) = target.start_second(Duration::from_secs(15));
    let elapsed = started.elapsed();
    let status = status.unwrap_or_else(|| {
        panic!("a second server on the same data directory was still running after 15 s\n--- its stderr ---\n{stderr}")
    });
    assert!(
        !status.success(),
        "the second server exited with success\n--- its stderr ---\n{stderr}"
    );
    let lowered = stderr.to_lowercase();
    assert!(
        ["lock", "data dir", "data-dir", "data directory"]
            .iter()
            .any(|needle| lowered.contains(needle)),
        "the second server's message should mention the data directory or its lock, got:\n{stderr}"
    );
    println!(
        "second server exited with {status} after {elapsed:?}: {}",
        stderr.trim()
    );

    // The first server is unaffected.
    runtime.block_on(async {
        let client = common::connect(&target.url()).await;
        client
            .simple_query("SELECT 1")
            .await
            .expect("first server still answers");
    });
}

/// Temporary tables of sessions that a crash ended are gone after the
/// restart (a new session may get the same temporary schema), while the
/// permanent tables written beside them survive. Freshet only: PostgreSQL
/// leaves orphaned temporary tables for autovacuum to drop later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_tables_do_not_survive_a_crash() {
    let mut server = common::TestServer::start();
    let client = server.connect().await;
    client
        .batch_execute(
            "CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (1);
             CREATE TEMP TABLE scratch (id serial PRIMARY KEY, v text); INSERT INTO scratch (v) VALUES ('x')",
        )
        .await
        .expect("setup");
    server.kill9();
    drop(client);
    server.restart();
    let client = server.connect().await;
    let temp: i64 = client
        .query_one("SELECT count(*) FROM pg_class WHERE relpersistence = 't'", &[])
        .await
        .expect("count temporary relations")
        .get(0);
    assert_eq!(temp, 0, "temporary relations survived the crash");
    let schemas: i64 = client
        .query_one("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pg_temp%'", &[])
        .await
        .expect("count temporary schemas")
        .get(0);
    assert_eq!(schemas, 0);
    let kept: i64 = client.query_one("SELECT count(*) FROM kept", &[]).await.expect("kept").get(0);
    assert_eq!(kept, 1);
    client
        .batch_execute("CREATE TEMP TABLE scratch (id serial PRIMARY KEY, v text); INSERT INTO scratch (v) VALUES ('y')")
        .await
        .expect("a new session creates its own temporary table");
}
