//! The process-wide server: the latest committed state, the commit
//! pipeline (timestamps, durability, installation), sequences and the
//! registry of sessions.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;

use freshet_common::{Error, Result, SqlState};
use freshet_storage::{Commit, RowWrite, Store, StorageError};
use parking_lot::{Mutex, MutexGuard, RwLock};
use serde::{Deserialize, Serialize};
use tracing::{error, info};

use crate::api::{CancelHandle, ConnectParams, ServerApi, ServerConfig, SessionApi, StartupError};
use crate::catalog::CatalogState;
use crate::state::{DbState, TableData};
use crate::txn::{final_writes, rebase, Txn};

const META_CATALOG: &[u8] = b"catalog";
const META_SEQUENCES: &[u8] = b"sequences";
/// Prefix of the metadata keys holding each source's progress
/// (`source_progress/<table oid>`), written in the commit of its rows.
const META_SOURCE_PROGRESS: &str = "source_progress/";

fn source_progress_key(oid: u32) -> Vec<u8> {
    format!("{META_SOURCE_PROGRESS}{oid}").into_bytes()
}

/// A sequence's current position.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct SequenceState {
    pub value: i64,
    /// Whether `value` has been returned by nextval (false right after
    /// creation or `setval(.., false)`).
    pub called: bool,
    #[serde(default = "one")]
    pub increment: i64,
    /// MINVALUE, MAXVALUE, CYCLE (nextval keeps to them).
    #[serde(default)]
    pub limits: freshet_common::types::SequenceLimits,
}

fn one() -> i64 {
    1
}

/// Shared server state.
pub struct Server {
    pub(crate) config: ServerConfig,
    state: RwLock<DbState>,
    /// Serializes commits (and autocommit statements).
    commit_lock: Mutex<()>,
    store: Store,
    next_row_id: AtomicU64,
    pub(crate) sequences: Mutex<BTreeMap<u32, SequenceState>>,
    sequences_dirty: AtomicBool,
    sessions: Mutex<HashMap<i32, (i32, CancelHandle)>>,
    next_pid: AtomicI32,
    /// Set when storage failed in a way that makes further commits unsafe.
    storage_failed: AtomicBool,
    /// Row locks of open transactions.
    pub(crate) locks: Arc<crate::locks::LockManager>,
    /// The dataflow engine maintaining materialized views.
    pub(crate) views: crate::views::Views,
    /// The latest commit, for subscription cursors and sinks to wait on.
    pub(crate) clock: crate::clock::CommitClock,
    /// The running sink tasks (`crate::sinks`).
    pub(crate) sinks: crate::sinks::Sinks,
    /// This server, for the sink tasks it starts.
    me: std::sync::Weak<Server>,
    /// The running source connectors (`crate::sources`).
    pub(crate) sources: crate::sources::Sources,
}

impl Server {
    /// Opens the data directory and loads the committed state.
    pub fn open(config: ServerConfig) -> std::result::Result<Arc<Server>, StartupError> {
        let started = std::time::Instant::now();
        let store = Store::open(&config.data_dir).map_err(|e| StartupError { message: storage_message(&e) })?;
        let loaded = store.load().map_err(|e| StartupError { message: storage_message(&e) })?;
        let mut catalog = None;
        let mut sequences = BTreeMap::new();
        let mut source_progress = BTreeMap::new();
        for (key, value) in &loaded.meta {
            if let Some(oid) = key.strip_prefix(META_SOURCE_PROGRESS.as_bytes()) {
                let oid = std::str::from_utf8(oid).ok().and_then(|o| o.parse::<u32>().ok()).ok_or_else(|| StartupError {
                    message: format!("the source progress key {:?} in {} is corrupt", String::from_utf8_lossy(key), config.data_dir.display()),
                })?;
                source_progress.insert(oid, value.clone());
                continue;
            }
            if key.as_slice() == META_CATALOG {
                catalog = Some(serde_json::from_slice::<CatalogState>(value).map_err(|e| StartupError {
                    message: format!("the catalog in {} is corrupt: {e}", config.data_dir.display()),
                })?);
            } else if key.as_slice() == META_SEQUENCES {
                sequences = serde_json::from_slice(value).map_err(|e| StartupError {
                    message: format!("the sequence state in {} is corrupt: {e}", config.data_dir.display()),
                })?;
            }
        }
        let fresh = catalog.is_none();
        let mut catalog = catalog.unwrap_or_else(CatalogState::bootstrap);
        catalog.refresh_enums().map_err(|problem| StartupError {
            message: format!("the catalog in {} is inconsistent: {problem}", config.data_dir.display()),
        })?;
        let mut tables = imbl::HashMap::new();
        let mut max_row = 0u64;
        let mut row_count = 0usize;
        for (oid, rows) in loaded.collections {
            let oid = u32::try_from(oid).map_err(|_| StartupError { message: format!("collection id {oid} is not a table oid") })?;
            let Some(rel) = catalog.relations.get(&oid) else {
                return Err(StartupError {
                    message: format!("stored rows for unknown table oid {oid} in {}", config.data_dir.display()),
                });
            };
            let mut data = TableData::new(rel);
            for (id, bytes) in rows {
                let row = freshet_common::row_codec::decode_row(&bytes).map_err(|e| StartupError {
                    message: format!("row {id} of table \"{}\" is corrupt: {}", rel.name, e.message),
                })?;
                // Check what we read back against the schema it claims.
                if row.len() != rel.columns.len() {
                    return Err(StartupError {
                        message: format!(
                            "row {id} of table \"{}\" has {} columns, the table has {}",
                            rel.name,
                            row.len(),
                            rel.columns.len()
                        ),
                    });
                }
                if let Some(column) = crate::types::misfit_enum_value(rel, &row) {
                    return Err(StartupError {
                        message: format!(
                            "row {id} of table \"{}\" holds a value that column \"{column}\" of its enum type does not have",
                            rel.name
                        ),
                    });
                }
                max_row = max_row.max(id);
                row_count += 1;
                data.rows.insert(id, row.into());
            }
            data.rebuild_keys(rel).map_err(|e| StartupError { message: format!("table \"{}\": {}", rel.name, e.message) })?;
            tables.insert(oid, data);
        }
        let state = DbState { catalog: Arc::new(catalog), tables, ts: loaded.last_ts };
        let views = crate::views::Views::start(config.workers, &state)
            .map_err(|e| StartupError { message: format!("cannot start the dataflow engine: {}", e.message) })?;
        let clock = crate::clock::CommitClock::new(state.ts);
        let server = Arc::new_cyclic(|me| Server {
            config,
            state: RwLock::new(state),
            commit_lock: Mutex::new(()),
            store,
            next_row_id: AtomicU64::new(max_row + 1),
            sequences: Mutex::new(sequences),
            sequences_dirty: AtomicBool::new(false),
            sessions: Mutex::new(HashMap::new()),
            next_pid: AtomicI32::new(1000),
            storage_failed: AtomicBool::new(false),
            locks: Arc::new(crate::locks::LockManager::default()),
            views,
            clock,
            sinks: crate::sinks::Sinks::default(),
            me: me.clone(),
            sources: crate::sources::Sources::new(source_progress),
        });
        server.sources.attach(&server);
        if fresh {
            // Persist the bootstrap catalog so the databases exist durably.
            let guard = server.commit_lock.lock();
            let snapshot = server.snapshot();
            let mut txn = Txn::new(snapshot, freshet_common::datetime::now(), false);
            txn.structural = true;
            server.commit_locked(&guard, txn).map_err(|e| StartupError { message: e.message })?;
        }
        // Temporary objects of sessions that ended with the last process
        // (a crash skips their cleanup) go now: a new session may get the
        // same temporary schema name.
        let stale: Vec<(String, String)> = server
            .snapshot()
            .catalog
            .schemas
            .values()
            .filter(|s| s.name.starts_with("pg_temp_"))
            .map(|s| (s.database.clone(), s.name.clone()))
            .collect();
        if !stale.is_empty() {
            let guard = server.commit_lock.lock();
            let mut txn = Txn::new(server.snapshot(), freshet_common::datetime::now(), false);
            for (database, schema) in &stale {
                crate::exec::drop_schema_contents(&mut txn, database, schema);
            }
            server.commit_locked(&guard, txn).map_err(|e| StartupError { message: e.message })?;
        }
        // Recovered sinks start again from their views' snapshots.
        server.sinks.reconcile(&server.me, &server.snapshot().catalog);
        // Connectors start last, on the recovered catalog, continuing from
        // their stored progress.
        server.sources.reconcile(&server.snapshot().catalog);
        info!(
            data_dir = %server.config.data_dir.display(),
            rows = row_count,
            ts = server.snapshot().ts,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "recovered state"
        );
        Ok(server)
    }

    /// The latest committed state.
    pub fn snapshot(&self) -> DbState {
        self.state.read().clone()
    }

    /// Starts a transaction over the latest state, with its own row locks.
    pub fn begin(&self, explicit: bool) -> Txn {
        let mut txn = Txn::new(self.snapshot(), freshet_common::datetime::now(), explicit);
        txn.locks = Some(self.locks.begin());
        txn
    }

    /// Timestamp of the latest commit.
    pub fn current_ts(&self) -> u64 {
        self.state.read().ts
    }

    /// A fresh, never reused row id.
    pub fn next_row_id(&self) -> u64 {
        self.next_row_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Takes the commit lock (autocommit statements hold it while running).
    pub fn lock_commits(&self) -> MutexGuard<'_, ()> {
        self.commit_lock.lock()
    }

    /// Commits `txn` (taking the commit lock).
    pub fn commit(&self, txn: Txn) -> Result<()> {
        let guard = self.commit_lock.lock();
        self.commit_locked(&guard, txn)
    }

    /// Commits a SERIALIZABLE `txn` that read the relations `reads`: when
    /// it wrote something and a commit after its snapshot changed a table
    /// it read (directly or under a materialized view it read), it fails
    /// with 40001, since what it read is no longer what a serial execution
    /// at this point would read. Validation is per table, so it can fail
    /// where PostgreSQL's predicate locks would not; never the other way.
    /// A transaction that wrote nothing saw one consistent snapshot of
    /// committed serializable writers and needs no check.
    pub fn commit_serializable(&self, txn: Txn, reads: &std::collections::BTreeSet<u32>) -> Result<()> {
        let guard = self.commit_lock.lock();
        let current = self.snapshot();
        if current.ts != txn.base_ts && !txn.is_empty() {
            let mut pending: Vec<u32> = reads.iter().copied().collect();
            let mut seen = std::collections::BTreeSet::new();
            while let Some(oid) = pending.pop() {
                if !seen.insert(oid) {
                    continue;
                }
                if let Some(crate::catalog::RelKind::MaterializedView { depends_on, .. }) =
                    current.catalog.relations.get(&oid).map(|r| &r.kind)
                {
                    pending.extend(depends_on.iter().copied());
                    continue;
                }
                let unchanged = match (txn.base.table(oid), current.table(oid)) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a.rows.ptr_eq(&b.rows),
                    _ => false,
                };
                if !unchanged {
                    return Err(Error::new(
                        SqlState::SerializationFailure,
                        "could not serialize access due to read/write dependencies among transactions",
                    )
                    .with_detail("A table this transaction read was changed by a transaction that committed after its snapshot.")
                    .with_hint("The transaction might succeed if retried."));
                }
            }
        }
        self.commit_locked(&guard, txn)
    }

    /// Commits `txn`; the caller holds the commit lock.
    pub fn commit_locked(&self, _guard: &MutexGuard<'_, ()>, txn: Txn) -> Result<()> {
        let sequences_dirty = self.sequences_dirty.swap(false, Ordering::SeqCst);
        if txn.is_empty() && !sequences_dirty {
            return Ok(());
        }
        if self.storage_failed.load(Ordering::SeqCst) {
            return Err(Error::new(
                SqlState::IoError,
                "the server can no longer write to its data directory; restart it after fixing the cause",
            ));
        }
        let current = self.snapshot();
        let mut new_state = if current.ts == txn.base_ts {
            txn.work.clone()
        } else {
            rebase(&txn, current.clone())?
        };
        let ts = current.ts + 1;
        new_state.ts = ts;
        if new_state.catalog.has_uncommitted_enum_labels() {
            // Enum values added by this transaction become usable now.
            std::sync::Arc::make_mut(&mut new_state.catalog).commit_enum_labels();
        }

        if txn.structural && new_state.catalog.sources.keys().any(|oid| !new_state.catalog.relations.contains_key(oid)) {
            // A dropped table takes its connector definition with it.
            let catalog = std::sync::Arc::make_mut(&mut new_state.catalog);
            let relations = &catalog.relations;
            catalog.sources.retain(|oid, _| relations.contains_key(oid));
        }

        let mut commit = Commit { ts, ..Default::default() };
        for (oid, progress) in &txn.source_progress {
            if new_state.catalog.sources.contains_key(oid) {
                commit.meta_puts.push((source_progress_key(*oid), progress.clone()));
            }
        }
        if txn.structural {
            commit.meta_deletes.extend(
                current.catalog.sources.keys().filter(|oid| !new_state.catalog.sources.contains_key(oid)).map(|oid| source_progress_key(*oid)),
            );
        }
        if txn.structural {
            let bytes = serde_json::to_vec(new_state.catalog.as_ref())
                .map_err(|e| Error::internal(format!("cannot serialize the catalog: {e}")))?;
            commit.meta_puts.push((META_CATALOG.to_vec(), bytes));
            // Tables dropped since the base state lose their rows.
            let dropped: Vec<u32> = current
                .catalog
                .relations
                .keys()
                .filter(|oid| !new_state.catalog.relations.contains_key(oid))
                .copied()
                .collect();
            commit.drop_collections.extend(dropped.iter().map(|o| *o as u64));
            for oid in dropped {
                new_state.tables.remove(&oid);
            }
        }
        commit.drop_collections.extend(txn.truncated.iter().map(|o| *o as u64));
        if sequences_dirty {
            let seqs = self.sequences.lock().clone();
            let bytes = serde_json::to_vec(&seqs).map_err(|e| Error::internal(format!("cannot serialize sequences: {e}")))?;
            commit.meta_puts.push((META_SEQUENCES.to_vec(), bytes));
        }
        for (table, row, value) in final_writes(&txn.writes) {
            if !new_state.catalog.relations.contains_key(&table) {
                continue;
            }
            commit.writes.push(match value {
                Some(r) => {
                    let mut bytes = Vec::new();
                    freshet_common::row_codec::encode_row(r, &mut bytes);
                    RowWrite::Put { collection: table as u64, row, value: bytes }
                }
                None => RowWrite::Delete { collection: table as u64, row },
            });
        }
        if let Err(e) = self.store.commit(&commit) {
            if matches!(e, StorageError::Io { .. } | StorageError::Unavailable { .. }) {
                self.storage_failed.store(true, Ordering::SeqCst);
                error!(error = %storage_message(&e), "storage failed; refusing further writes");
            }
            if sequences_dirty {
                self.sequences_dirty.store(true, Ordering::SeqCst);
            }
            return Err(storage_error(&e));
        }
        // Views learn the commit before any reader can see its timestamp.
        let keep_since = self.history_floor(&new_state);
        self.views.commit(&current, &new_state, &txn.writes, &txn.truncated, keep_since);
        let sources_changed =
            !Arc::ptr_eq(&current.catalog, &new_state.catalog) && current.catalog.sources != new_state.catalog.sources;
        let catalog = new_state.catalog.clone();
        *self.state.write() = new_state;
        self.clock.advance(ts);
        if sources_changed {
            // Start the connectors this commit created, stop those it dropped.
            self.sources.reconcile(&catalog);
        }
        if txn.structural {
            // Sinks created or dropped by this commit start or stop.
            self.sinks.reconcile(&self.me, &catalog);
        }
        Ok(())
    }

    /// The time after which views keep their changes, given `state` (just
    /// committed): the last `HISTORY_COMMITS` commits, or the longest
    /// `retention` of a subscription, but no more than
    /// `RETAINED_COMMITS_MAX` commits.
    fn history_floor(&self, state: &DbState) -> u64 {
        use crate::subscriptions::RETAINED_COMMITS_MAX;
        let default = state.ts.saturating_sub(crate::views::HISTORY_COMMITS);
        let Some(secs) = state.catalog.subscriptions.values().filter_map(|s| s.retention_secs).max() else {
            return default;
        };
        let oldest_allowed = state.ts.saturating_sub(RETAINED_COMMITS_MAX);
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let cutoff = now_ms.saturating_sub(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX));
        let by_time = self.clock.last_commit_at_or_before(cutoff).unwrap_or(oldest_allowed);
        by_time.min(default).max(oldest_allowed)
    }

    /// Marks sequence state as needing persistence with the next commit.
    pub fn mark_sequences_dirty(&self) {
        self.sequences_dirty.store(true, Ordering::SeqCst);
    }

    /// Persists sequence state now if it changed (after a read-only
    /// statement or a rollback that advanced sequences).
    pub fn flush_sequences(&self) -> Result<()> {
        if !self.sequences_dirty.load(Ordering::SeqCst) {
            return Ok(());
        }
        let guard = self.commit_lock.lock();
        let snapshot = self.snapshot();
        let txn = Txn::new(snapshot, freshet_common::datetime::now(), false);
        self.commit_locked(&guard, txn)
    }

    /// Sequence OIDs that belong to a relation being created.
    pub fn register_sequence(&self, oid: u32, start: i64, increment: i64, limits: freshet_common::types::SequenceLimits) {
        self.sequences.lock().insert(oid, SequenceState { value: start, called: false, increment, limits });
        self.mark_sequences_dirty();
    }

    pub(crate) fn register_session(&self, cancel: CancelHandle) -> (i32, i32) {
        let pid = self.next_pid.fetch_add(1, Ordering::Relaxed);
        let secret = (pid.wrapping_mul(2_654_435_761u32 as i32)) ^ 0x5bd1_e995;
        self.sessions.lock().insert(pid, (secret, cancel));
        (pid, secret)
    }
}

/// The user-facing text of a storage error, with its causes.
pub fn storage_message(e: &StorageError) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn storage_error(e: &StorageError) -> Error {
    let msg = storage_message(e);
    let state = match e {
        StorageError::Corrupt { .. } | StorageError::Incompatible { .. } => SqlState::DataCorrupted,
        _ if msg.contains("No space left") => SqlState::DiskFull,
        StorageError::Io { .. } | StorageError::Unavailable { .. } => SqlState::IoError,
        _ => SqlState::InternalError,
    };
    Error::new(state, format!("could not commit: {msg}"))
}

impl ServerApi for ServerHandle {
    fn connect(&self, params: &ConnectParams) -> Result<Box<dyn SessionApi>, Error> {
        let session = crate::session::Session::connect(self.0.clone(), params)?;
        Ok(Box::new(session))
    }

    fn password_for(&self, _user: &str) -> Option<String> {
        self.0.config.password.clone()
    }

    fn cancel(&self, process_id: i32, secret_key: i32) {
        if let Some((secret, handle)) = self.0.sessions.lock().get(&process_id) {
            if *secret == secret_key {
                handle.cancel();
            }
        }
    }

    fn disconnect(&self, process_id: i32) {
        self.0.sessions.lock().remove(&process_id);
    }
}

/// The [`ServerApi`] implementation handed to the wire layer.
pub struct ServerHandle(pub Arc<Server>);
