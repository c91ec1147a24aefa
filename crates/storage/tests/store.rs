//! Tests of `Store` through its public API: randomized round trips against a model, the data
//! directory lock, durability under `kill -9` of a writer process, corrupt and foreign files.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::Instant;

use freshet_storage::{
    CollectionId, CollectionRows, Commit, LoadedState, RowId, RowWrite, StorageError, Store,
    Timestamp, DATA_FILE_NAME, FORMAT_VERSION,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Tests hold this shared while they use stores, and the kill -9 test holds it exclusively
/// while it spawns writer processes. A spawned process holds copies of all of the parent's file
/// descriptors from fork until exec, including those of other tests' `LOCK` files, so a test
/// that drops and reopens a store while another thread spawns would spuriously get `Locked`.
static SPAWN_EXCLUSION: RwLock<()> = RwLock::new(());

/// A directory under the system temp dir, removed on drop (kept if the test panicked, for
/// inspection). Holds [`SPAWN_EXCLUSION`] shared, unless made by [`TempDir::new_unguarded`].
struct TempDir(PathBuf, Option<RwLockReadGuard<'static, ()>>);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let guard = SPAWN_EXCLUSION
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut dir = TempDir::new_unguarded(name);
        dir.1 = Some(guard);
        dir
    }

    fn new_unguarded(name: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "freshet-storage-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        TempDir(path, None)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators,
/// scrambled", 2016): tiny, seedable and good enough for test workloads.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Mix the seed so that nearby seeds give unrelated streams; the state must be non-zero.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `1 / n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    fn bytes(&mut self, max_len: u64) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// What the store should hold: the test's oracle.
#[derive(Default)]
struct Model {
    last_ts: Timestamp,
    meta: BTreeMap<Vec<u8>, Vec<u8>>,
    rows: BTreeMap<(CollectionId, RowId), Vec<u8>>,
}

impl Model {
    /// Applies a commit in the order `Commit` documents.
    fn apply(&mut self, commit: &Commit) {
        assert!(commit.ts > self.last_ts);
        self.last_ts = commit.ts;
        for key in &commit.meta_deletes {
            self.meta.remove(key);
        }
        for (key, value) in &commit.meta_puts {
            self.meta.insert(key.clone(), value.clone());
        }
        for &collection in &commit.drop_collections {
            self.rows.retain(|&(c, _), _| c != collection);
        }
        for write in &commit.writes {
            match write {
                RowWrite::Put {
                    collection,
                    row,
                    value,
                } => {
                    self.rows.insert((*collection, *row), value.clone());
                }
                RowWrite::Delete { collection, row } => {
                    self.rows.remove(&(*collection, *row));
                }
            }
        }
    }

    fn expected(&self) -> LoadedState {
        let mut collections: Vec<(CollectionId, CollectionRows)> = Vec::new();
        for (&(collection, row), value) in &self.rows {
            match collections.last_mut() {
                Some((c, rows)) if *c == collection => rows.push((row, value.clone())),
                _ => collections.push((collection, vec![(row, value.clone())])),
            }
        }
        LoadedState {
            last_ts: self.last_ts,
            meta: self
                .meta
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            collections,
        }
    }

    /// Panics, describing the first difference, unless `store` holds exactly the model.
    fn check(&self, store: &Store, what: &str) {
        let loaded = store.load().expect("load must succeed");
        let expected = self.expected();
        assert_eq!(loaded.last_ts, expected.last_ts, "{what}: last_ts differs");
        assert_eq!(
            loaded.meta, expected.meta,
            "{what}: meta differs at last_ts {}",
            expected.last_ts
        );
        let flatten = |state: &LoadedState| -> Vec<(CollectionId, RowId, Vec<u8>)> {
            state
                .collections
                .iter()
                .flat_map(|(c, rows)| rows.iter().map(move |(r, v)| (*c, *r, v.clone())))
                .collect()
        };
        let (got, want) = (flatten(&loaded), flatten(&expected));
        if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
            panic!(
                "{what}: rows differ at last_ts {} (got {} rows, want {}); first difference at index {i}: got {:?}, want {:?}",
                expected.last_ts,
                got.len(),
                want.len(),
                got.get(i).map(|(c, r, v)| (c, r, v.len())),
                want.get(i).map(|(c, r, v)| (c, r, v.len())),
            );
        }
        // The grouping into collections must match too (no empty collections, sorted ids).
        assert_eq!(loaded, expected, "{what}: collection grouping differs");
    }
}

/// A deterministic random commit at `ts`: a function of `(seed, ts)` only, so that a process
/// that did not write it can recompute it. `big` allows the occasional commit of thousands of
/// rows (to make a crash land in the middle of a large write).
fn generate_commit(seed: u64, ts: Timestamp, big: bool) -> Commit {
    let mut rng = Rng::new(seed ^ ts.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut commit = Commit {
        ts,
        ..Commit::default()
    };
    for _ in 0..rng.below(3) {
        let key = format!("key{}", rng.below(10)).into_bytes();
        if rng.one_in(3) {
            commit.meta_deletes.push(key);
        } else {
            commit.meta_puts.push((key, rng.bytes(32)));
        }
    }
    if rng.one_in(25) {
        commit.drop_collections.push(1 + rng.below(4));
    }
    let writes = if big && rng.one_in(5) {
        2_000 + rng.below(3_000)
    } else {
        rng.below(40)
    };
    for _ in 0..writes {
        // Collection u64::MAX and row u64::MAX exercise the edges of the key encoding.
        let collection = if rng.one_in(50) {
            u64::MAX
        } else {
            1 + rng.below(4)
        };
        let row = if rng.one_in(50) {
            u64::MAX
        } else {
            rng.below(300)
        };
        if rng.one_in(4) {
            commit.writes.push(RowWrite::Delete { collection, row });
        } else {
            commit.writes.push(RowWrite::Put {
                collection,
                row,
                value: rng.bytes(48),
            });
        }
    }
    commit
}

fn open(dir: &Path) -> Store {
    Store::open(dir).unwrap_or_else(|e| panic!("open {} failed: {e}", dir.display()))
}

/// The error's message with its whole source chain, as an operator would see it.
fn full_message(err: &StorageError) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_store_loads_empty() {
    let dir = TempDir::new("empty");
    let store = open(dir.path());
    assert_eq!(store.dir(), dir.path());
    assert_eq!(store.load().expect("load"), LoadedState::default());
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.load().expect("load"), LoadedState::default());
}

#[test]
fn store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
}

#[test]
fn ordering_within_a_commit() {
    let dir = TempDir::new("ordering");
    let store = open(dir.path());
    let put = |collection, row, value: &[u8]| RowWrite::Put {
        collection,
        row,
        value: value.to_vec(),
    };
    store
        .commit(&Commit {
            ts: 1,
            meta_puts: vec![(b"a".to_vec(), b"1".to_vec())],
            writes: vec![put(7, 1, b"x"), put(7, 2, b"y"), put(8, 1, b"z")],
            ..Commit::default()
        })
        .expect("commit 1");
    // Deletes before puts for meta; drop before writes for rows; later writes win.
    store
        .commit(&Commit {
            ts: 5,
            meta_puts: vec![(b"a".to_vec(), b"2".to_vec())],
            meta_deletes: vec![b"a".to_vec(), b"absent".to_vec()],
            drop_collections: vec![7, 99],
            writes: vec![
                put(7, 3, b"new"),
                put(8, 1, b"first"),
                put(8, 1, b"second"),
                RowWrite::Delete {
                    collection: 8,
                    row: 42,
                },
            ],
        })
        .expect("commit 5");
    let expected = LoadedState {
        last_ts: 5,
        meta: vec![(b"a".to_vec(), b"2".to_vec())],
        collections: vec![
            (7, vec![(3, b"new".to_vec())]),
            (8, vec![(1, b"second".to_vec())]),
        ],
    };
    assert_eq!(store.load().expect("load"), expected);
    drop(store);
    assert_eq!(open(dir.path()).load().expect("load"), expected);
}

#[test]
fn randomized_round_trip_with_reopens() {
    const SEED: u64 = 0x5EED_0001;
    let dir = TempDir::new("roundtrip");
    let mut rng = Rng::new(SEED);
    let mut model = Model::default();
    let mut store = open(dir.path());
    let mut ts = 0;
    for step in 0..300 {
        // Timestamps must increase but need not be dense.
        ts += 1 + rng.below(3);
        let commit = generate_commit(SEED, ts, false);
        store.commit(&commit).expect("commit");
        model.apply(&commit);
        if rng.one_in(25) {
            model.check(&store, &format!("seed {SEED:#x} step {step} before reopen"));
            drop(store);
            store = open(dir.path());
            model.check(&store, &format!("seed {SEED:#x} step {step} after reopen"));
        }
    }
    drop(store);
    model.check(&open(dir.path()), &format!("seed {SEED:#x} at the end"));
}

#[test]
#[should_panic(expected = "commit timestamp 3 is not greater than the last committed timestamp 3")]
fn commit_with_old_timestamp_panics() {
    let dir = TempDir::new("oldts");
    let store = open(dir.path());
    store
        .commit(&Commit {
            ts: 3,
            ..Commit::default()
        })
        .expect("commit");
    let _ = store.commit(&Commit {
        ts: 3,
        ..Commit::default()
    });
}

// ---------------------------------------------------------------------------------------------
// Lock
// ---------------------------------------------------------------------------------------------

#[test]
fn second_open_of_a_directory_fails_until_the_first_is_dropped() {
    let dir = TempDir::new("lock");
    let first = open(dir.path());
    match Store::open(dir.path()) {
        Err(err @ StorageError::Locked { .. }) => {
            let message = err.to_string();
            assert!(
                message.contains(&dir.path().display().to_string()),
                "message must name the directory: {message}"
            );
            assert!(
                message.contains("another freshet server is using it"),
                "{message}"
            );
        }
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("second open of a locked directory succeeded"),
    }
    drop(first);
    let second = open(dir.path());
    assert_eq!(second.load().expect("load").last_ts, 0);
}

// ---------------------------------------------------------------------------------------------
// Durability under kill -9
// ---------------------------------------------------------------------------------------------

/// Selects the writer mode of this test binary; its value is the data directory.
const CRASH_CHILD_ENV: &str = "FRESHET_STORAGE_CRASH_CHILD";
const CRASH_SEED: u64 = 0xC4A5_4001;

/// Not a test on its own: when `FRESHET_STORAGE_CRASH_CHILD` is set, this is the writer process
/// of `acknowledged_commits_survive_kill_9`. It commits generated commits after the stored last
/// timestamp, printing `ACK <ts>` after each acknowledged one, until it is killed.
#[test]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(CRASH_CHILD_ENV) else {
        return;
    };
    let store = open(Path::new(&dir));
    let last_ts = store.load().expect("load").last_ts;
    let mut stdout = std::io::stdout().lock();
    // Bounded: the parent kills us long before this.
    for ts in last_ts + 1..last_ts + 100_000 {
        store
            .commit(&generate_commit(CRASH_SEED, ts, true))
            .expect("commit");
        writeln!(stdout, "ACK {ts}").expect("write to stdout");
        stdout.flush().expect("flush stdout");
    }
    panic!("crash child was not killed");
}

#[test]
fn acknowledged_commits_survive_kill_9() {
    let started = Instant::now();
    let _exclusive = SPAWN_EXCLUSION
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    let dir = TempDir::new_unguarded("crash");
    let mut rng = Rng::new(0xC4A5_4002);
    let exe = std::env::current_exe().expect("current test binary");
    let mut last_acknowledged = 0;
    for round in 0..5 {
        let acks_wanted = 1 + rng.below(30);
        let mut child = Command::new(&exe)
            .args([
                "crash_child_writer",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn crash child");
        let stdout = child.stdout.take().expect("child stdout is piped");
        let mut acks = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read child stdout");
            let Some(ts) = line.strip_prefix("ACK ") else {
                continue; // libtest's own output
            };
            let ts: Timestamp = ts.parse().expect("child prints ACK <ts>");
            assert!(
                ts > last_acknowledged,
                "child acknowledged {ts} after {last_acknowledged}"
            );
            last_acknowledged = ts;
            acks += 1;
            if acks == acks_wanted {
                break;
            }
        }
        assert_eq!(acks, acks_wanted, "round {round}: crash child exited early");
        // SIGKILL on unix: the child gets no chance to clean up.
        child.kill().expect("kill crash child");
        child.wait().expect("reap crash child");

        let store = open(dir.path());
        let state = store.load().expect("load after crash");
        // Every acknowledged commit is there; commits the child made after the last line we
        // read may be there too, but each is whole: the state equals the replay of exactly
        // 1..=last_ts.
        assert!(
            state.last_ts >= last_acknowledged,
            "round {round}: acknowledged ts {last_acknowledged} lost (last_ts {})",
            state.last_ts
        );
        let mut model = Model::default();
        for ts in 1..=state.last_ts {
            model.apply(&generate_commit(CRASH_SEED, ts, true));
        }
        model.check(&store, &format!("round {round} after kill -9"));
        last_acknowledged = state.last_ts;
    }
    assert!(
        started.elapsed().as_secs() < 20,
        "crash test took {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Corrupt, foreign and incompatible files
// ---------------------------------------------------------------------------------------------

/// Creates a store with some data in `dir` and closes it.
fn populate(dir: &Path) {
    let store = open(dir);
    for ts in 1..=20 {
        store
            .commit(&generate_commit(0xC0_44_u64, ts, false))
            .expect("commit");
    }
}

/// Opens and loads `dir`, expecting a `Corrupt` error that names the data file.
fn expect_corrupt(dir: &Path, what: &str) {
    let result = Store::open(dir).and_then(|store| store.load());
    let err = match result {
        Ok(state) => panic!(
            "{what}: open and load succeeded (last_ts {})",
            state.last_ts
        ),
        Err(err) => err,
    };
    let message = full_message(&err);
    assert!(
        matches!(err, StorageError::Corrupt { .. }),
        "{what}: expected Corrupt, got {err:?}"
    );
    let file = dir.join(DATA_FILE_NAME);
    assert!(
        message.contains(&file.display().to_string()),
        "{what}: message must name the file: {message}"
    );
    assert!(message.contains("corrupt"), "{what}: {message}");
}

#[test]
fn garbage_file_is_reported_corrupt() {
    let dir = TempDir::new("garbage");
    populate(dir.path());
    let file = dir.path().join(DATA_FILE_NAME);
    let len = std::fs::metadata(&file).expect("stat").len();
    let mut rng = Rng::new(7);
    let garbage: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    std::fs::write(&file, garbage).expect("write garbage");
    expect_corrupt(dir.path(), "garbage");
}

#[test]
fn truncated_file_is_reported_corrupt() {
    let dir = TempDir::new("truncated");
    populate(dir.path());
    let file = dir.path().join(DATA_FILE_NAME);
    let len = std::fs::metadata(&file).expect("stat").len();
    for new_len in [len / 2, 4096, 100] {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_len(new_len))
            .expect("truncate");
        expect_corrupt(dir.path(), &format!("truncated to {new_len} bytes"));
    }
}

#[test]
fn empty_file_is_reported_corrupt_not_reinitialized() {
    let dir = TempDir::new("emptyfile");
    populate(dir.path());
    std::fs::write(dir.path().join(DATA_FILE_NAME), b"").expect("truncate to 0");
    expect_corrupt(dir.path(), "empty file");
}

#[test]
fn foreign_redb_file_is_reported_corrupt() {
    let dir = TempDir::new("foreign");
    std::fs::create_dir_all(dir.path()).expect("mkdir");
    {
        let db = redb::Database::create(dir.path().join(DATA_FILE_NAME)).expect("create");
        let txn = db.begin_write().expect("begin");
        {
            let table: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("other");
            let mut table = txn.open_table(table).expect("open");
            table.insert("hello", "world").expect("insert");
        }
        txn.commit().expect("commit");
    }
    expect_corrupt(dir.path(), "foreign redb file");
}

#[test]
fn other_format_version_is_refused() {
    let dir = TempDir::new("version");
    populate(dir.path());
    {
        let db = redb::Database::open(dir.path().join(DATA_FILE_NAME)).expect("open");
        let txn = db.begin_write().expect("begin");
        {
            let system: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("system");
            let mut system = txn.open_table(system).expect("open system table");
            system
                .insert("format_version", FORMAT_VERSION + 1)
                .expect("insert");
        }
        txn.commit().expect("commit");
    }
    match Store::open(dir.path()) {
        Err(err @ StorageError::Incompatible { .. }) => {
            let message = err.to_string();
            assert!(
                message.contains(&format!("version {}", FORMAT_VERSION + 1)),
                "{message}"
            );
            assert!(message.contains(DATA_FILE_NAME), "{message}");
        }
        Err(other) => panic!("expected Incompatible, got {other:?}"),
        Ok(_) => panic!("opened a file of another format version"),
    }
}

#[test]
fn stale_init_file_is_replaced() {
    let dir = TempDir::new("staleinit");
    std::fs::create_dir_all(dir.path()).expect("mkdir");
    std::fs::write(dir.path().join("freshet.redb.init"), b"half-written").expect("write");
    let store = open(dir.path());
    assert_eq!(store.load().expect("load"), LoadedState::default());
    assert!(!dir.path().join("freshet.redb.init").exists());
}

/// Flipped bits anywhere in the file are either reported as `Corrupt` or harmless (they hit
/// unused space and the store loads exactly what was committed); they never panic or return
/// wrong data.
#[test]
fn flipped_bits_are_detected_or_harmless() {
    const POPULATE_SEED: u64 = 0xC0_44;
    let mut model = Model::default();
    for ts in 1..=20 {
        model.apply(&generate_commit(POPULATE_SEED, ts, false));
    }
    let (mut detected, mut harmless) = (0, 0);
    for seed in 0..24u64 {
        let dir = TempDir::new("flip");
        populate(dir.path());
        let file = dir.path().join(DATA_FILE_NAME);
        let mut bytes = std::fs::read(&file).expect("read data file");
        let mut rng = Rng::new(seed);
        // A third of the cases hit only the first page (redb's header and commit slots).
        let range = if seed % 3 == 0 {
            4096
        } else {
            bytes.len() as u64
        };
        for _ in 0..1 + rng.below(8) {
            let i = rng.below(range) as usize;
            bytes[i] ^= 1 << rng.below(8);
        }
        std::fs::write(&file, &bytes).expect("write data file");
        match Store::open(dir.path()) {
            Ok(store) => {
                model.check(&store, &format!("flip seed {seed}"));
                harmless += 1;
            }
            Err(err @ StorageError::Corrupt { .. }) => {
                let message = full_message(&err);
                assert!(message.contains(&file.display().to_string()), "{message}");
                detected += 1;
            }
            Err(other) => panic!("flip seed {seed}: expected Corrupt, got {other:?}"),
        }
    }
    assert!(
        detected > 0 && detected + harmless == 24,
        "detected {detected}, harmless {harmless}"
    );
}

// ---------------------------------------------------------------------------------------------
// Performance (run by hand: cargo test -p freshet-storage --release -- --ignored --nocapture)
// ---------------------------------------------------------------------------------------------

#[test]
#[ignore = "performance measurement; run by hand in release mode"]
fn perf_one_million_puts() {
    let rows: u64 = std::env::var("FRESHET_PERF_ROWS")
        .ok()
        .map(|s| s.parse().expect("FRESHET_PERF_ROWS is a number"))
        .unwrap_or(1_000_000);
    const VALUE_BYTES: usize = 100;
    let dir = TempDir::new("perf");
    let store = open(dir.path());

    let mut rng = Rng::new(1);
    let writes: Vec<RowWrite> = (0..rows)
        .map(|row| RowWrite::Put {
            collection: 1,
            row,
            value: (0..VALUE_BYTES).map(|_| rng.next() as u8).collect(),
        })
        .collect();
    let commit = Commit {
        ts: 1,
        writes,
        ..Commit::default()
    };
    let started = Instant::now();
    store.commit(&commit).expect("commit");
    let commit_time = started.elapsed();
    drop(commit);

    let started = Instant::now();
    store
        .commit(&Commit {
            ts: 2,
            writes: vec![RowWrite::Put {
                collection: 2,
                row: 0,
                value: vec![0; VALUE_BYTES],
            }],
            ..Commit::default()
        })
        .expect("small commit");
    for ts in 3..103 {
        store
            .commit(&Commit {
                ts,
                writes: vec![RowWrite::Put {
                    collection: 2,
                    row: ts,
                    value: vec![0; VALUE_BYTES],
                }],
                ..Commit::default()
            })
            .expect("small commit");
    }
    let small_commit_time = started.elapsed() / 101;
    drop(store);

    let started = Instant::now();
    let store = open(dir.path());
    let open_time = started.elapsed();
    let started = Instant::now();
    let state = store.load().expect("load");
    let load_time = started.elapsed();
    assert_eq!(state.collections[0].1.len() as u64, rows);

    let started = Instant::now();
    store
        .commit(&Commit {
            ts: 200,
            drop_collections: vec![1],
            ..Commit::default()
        })
        .expect("drop");
    let drop_time = started.elapsed();
    let file_bytes = std::fs::metadata(dir.path().join(DATA_FILE_NAME))
        .expect("stat")
        .len();
    println!(
        "{rows} puts of {VALUE_BYTES} B in one commit: {commit_time:?}; small commits: {small_commit_time:?} each; \
         reopen: {open_time:?}; load: {load_time:?}; drop collection: {drop_time:?}; file: {} MiB; {}",
        file_bytes / (1024 * 1024),
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(str::to_string))
            .unwrap_or_default()
    );
}
