//! [`Store`]: the durable store of one data directory, backed by a single redb file.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use tracing::{debug, error, info, warn};

use crate::commit::{CollectionId, Commit, RowId, RowWrite, Timestamp};
use crate::error::{IntoStorageError, Result, StorageError};

/// Name of the lock file inside the data directory.
pub const LOCK_FILE_NAME: &str = "LOCK";

/// Name of the redb data file inside the data directory.
pub const DATA_FILE_NAME: &str = "freshet.redb";

/// Name under which a new data file is initialized before it is renamed to [`DATA_FILE_NAME`].
/// Because of the rename, an existing `freshet.redb` is always a fully initialized freshet data
/// file, so an empty or foreign file under that name is reported as corrupt instead of being
/// silently reinitialized.
const INIT_FILE_NAME: &str = "freshet.redb.init";

/// The version of freshet's on-disk layout (tables, key and value encodings) this build reads
/// and writes. Bump it on any incompatible change; a file with another version is refused with
/// [`StorageError::Incompatible`].
pub const FORMAT_VERSION: u64 = 1;

/// Metadata entries (catalog etc.): opaque key -> opaque value.
const META: TableDefinition<&[u8], &[u8]> = TableDefinition::new("meta");

/// All rows of all collections: (collection id, row id) -> opaque value. Keys sort by
/// collection, then row, so a collection is one contiguous key range.
const ROWS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("rows");

/// Freshet's own bookkeeping: [`FORMAT_VERSION_KEY`] and [`LAST_TS_KEY`].
const SYSTEM: TableDefinition<&str, u64> = TableDefinition::new("system");

/// Key in [`SYSTEM`] of the format version, written once when the file is created.
const FORMAT_VERSION_KEY: &str = "format_version";

/// Key in [`SYSTEM`] of the last committed timestamp, rewritten by every commit.
const LAST_TS_KEY: &str = "last_ts";

/// Memory redb may use to cache pages. The caller keeps all data in memory anyway, so a large
/// cache would mostly duplicate it; redb's reads at load time are sequential.
const CACHE_SIZE_BYTES: usize = 64 * 1024 * 1024;

/// The durable store of one data directory.
///
/// It holds the redb database and an exclusive advisory lock on `dir/LOCK` for its whole
/// lifetime; dropping the store closes the database and then releases the lock. `Store` is
/// `Send + Sync`; concurrent [`Store::commit`] calls are serialized by redb.
///
/// The lock is a `flock`, which a forked child shares until it execs: if another thread spawns
/// a process just as a store is dropped, reopening the directory at once can fail with
/// [`StorageError::Locked`] until the child has exec'd.
pub struct Store {
    // `Some` until `drop`, which closes it before `_lock` releases the lock.
    db: Option<Database>,
    _lock: File,
    dir: PathBuf,
    path: PathBuf,
}

/// One collection's rows as [`Store::load`] returns them: `(row id, value)`, sorted by row id.
pub type CollectionRows = Vec<(RowId, Vec<u8>)>;

/// Everything [`Store::load`] reads back at startup.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadedState {
    /// The timestamp of the last acknowledged commit, or 0 if nothing was ever committed.
    pub last_ts: Timestamp,
    /// All metadata entries, sorted by key.
    pub meta: Vec<(Vec<u8>, Vec<u8>)>,
    /// Every collection that has at least one row, sorted by id, each with its rows sorted by
    /// row id. A collection without rows does not appear: the caller's catalog (in `meta`) is
    /// the source of truth for which collections exist.
    pub collections: Vec<(CollectionId, CollectionRows)>,
}

impl Store {
    /// Opens (creating if absent) the data directory `dir`.
    ///
    /// Creates the directory, takes an exclusive advisory lock on `dir/LOCK` and opens (or
    /// creates and initializes) `dir/freshet.redb`. If another process or another `Store` in
    /// this process has the directory open, fails at once with [`StorageError::Locked`]. A file
    /// that is not a freshet data file, or is damaged, fails with [`StorageError::Corrupt`]; one
    /// of another format version with [`StorageError::Incompatible`].
    ///
    /// After a crash, redb repairs the file while opening it, which reads the whole file.
    pub fn open(dir: &Path) -> Result<Store> {
        let started = Instant::now();
        let dir_existed = dir.try_exists().map_err(io_error(|| {
            format!(
                "checking whether data directory \"{}\" exists",
                dir.display()
            )
        }))?;
        fs::create_dir_all(dir).map_err(io_error(|| {
            format!("creating data directory \"{}\"", dir.display())
        }))?;
        if !dir_existed {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let lock = lock_dir(dir)?;

        let path = dir.join(DATA_FILE_NAME);
        let file_existed = path.try_exists().map_err(io_error(|| {
            format!("checking whether data file \"{}\" exists", path.display())
        }))?;
        if !file_existed {
            create_data_file(dir, &path)?;
        }

        let context = || "opening the data file".to_string();
        let db = catch_panic(&path, context, || {
            Database::builder()
                .set_cache_size(CACHE_SIZE_BYTES)
                // Verifies every page's checksum (about 0.5 s per GiB of file with a warm page
                // cache), so that a file damaged outside redb fails here as Corrupt instead of
                // returning wrong data or panicking later.
                .set_check_integrity_on_open(true)
                .open(&path)
                .map_err(|e| e.into_storage_error(&path, context()))
        })?;
        let store = Store {
            db: Some(db),
            _lock: lock,
            dir: dir.to_path_buf(),
            path,
        };
        catch_panic(&store.path, context, || store.check_format())?;
        info!(
            dir = %store.dir.display(),
            created = !file_existed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "opened store"
        );
        Ok(store)
    }

    /// Path of the data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads everything back: the last committed timestamp (0 if none), all metadata entries
    /// and every collection's rows. Called once at startup.
    ///
    /// Memory: the whole store, plus one allocation per row and metadata value; time is linear
    /// in the file's size.
    pub fn load(&self) -> Result<LoadedState> {
        let started = Instant::now();
        let context = || "loading the store".to_string();
        let state = catch_panic(&self.path, context, || self.load_inner())?;
        info!(
            last_ts = state.last_ts,
            meta_entries = state.meta.len(),
            collections = state.collections.len(),
            rows = state
                .collections
                .iter()
                .map(|(_, rows)| rows.len())
                .sum::<usize>(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "loaded store"
        );
        Ok(state)
    }

    fn load_inner(&self) -> Result<LoadedState> {
        let txn = self
            .db()
            .begin_read()
            .map_err(self.redb_error(|| "loading the store: beginning a read transaction"))?;

        let system = txn
            .open_table(SYSTEM)
            .map_err(self.redb_error(|| "loading the store: opening the system table"))?;
        let last_ts = system
            .get(LAST_TS_KEY)
            .map_err(self.redb_error(|| "loading the store: reading the last timestamp"))?
            .map(|guard| guard.value())
            .unwrap_or(0);

        let meta_table = txn
            .open_table(META)
            .map_err(self.redb_error(|| "loading the store: opening the meta table"))?;
        let meta_context = || "loading the store: reading the meta table";
        let mut meta = Vec::new();
        for entry in meta_table.iter().map_err(self.redb_error(meta_context))? {
            let (key, value) = entry.map_err(self.redb_error(meta_context))?;
            meta.push((key.value().to_vec(), value.value().to_vec()));
        }

        let rows_table = txn
            .open_table(ROWS)
            .map_err(self.redb_error(|| "loading the store: opening the rows table"))?;
        let rows_context = || "loading the store: reading the rows table";
        let mut collections: Vec<(CollectionId, CollectionRows)> = Vec::new();
        for entry in rows_table.iter().map_err(self.redb_error(rows_context))? {
            let (key, value) = entry.map_err(self.redb_error(rows_context))?;
            let (collection, row) = key.value();
            let value = value.value().to_vec();
            match collections.last_mut() {
                Some((last_collection, rows)) if *last_collection == collection => {
                    // redb returns keys in order; check it anyway, as data read back from disk.
                    if rows.last().is_some_and(|(last_row, _)| *last_row >= row) {
                        return Err(self.corrupt(
                            rows_context().to_string(),
                            format!(
                                "rows of collection {collection} are out of order at row {row}"
                            ),
                        ));
                    }
                    rows.push((row, value));
                }
                last => {
                    if let Some((last_collection, rows)) = last {
                        if *last_collection > collection {
                            return Err(self.corrupt(
                                rows_context().to_string(),
                                format!("collections are out of order at collection {collection}"),
                            ));
                        }
                        // Give back the doubling slack of the finished collection.
                        rows.shrink_to_fit();
                    }
                    collections.push((collection, vec![(row, value)]));
                }
            }
        }
        if let Some((_, rows)) = collections.last_mut() {
            rows.shrink_to_fit();
        }

        if last_ts == 0 && (!meta.is_empty() || !collections.is_empty()) {
            return Err(self.corrupt(
                "loading the store".to_string(),
                "it holds data but no last committed timestamp".to_string(),
            ));
        }
        Ok(LoadedState {
            last_ts,
            meta,
            collections,
        })
    }

    /// Durably and atomically applies one commit, in the order documented on [`Commit`].
    ///
    /// Returns only after the data is fsynced (redb `Durability::Immediate`), so an `Ok`
    /// commit survives a crash. On `Err` the commit is not visible in this process and must not
    /// be acknowledged. After an I/O error (including a full disk) the store refuses all further
    /// work with [`StorageError::Unavailable`]; and if the failure was in the final fsync, the
    /// commit may still reappear after a restart. So the caller should treat `Io` and
    /// `Unavailable` from `commit` as fatal and halt rather than carry on.
    ///
    /// Time is linear in the commit's size (about 1 µs per row write in a release build);
    /// redb writes dirty pages to the file as the transaction grows, so memory beyond the
    /// `Commit` itself stays small.
    ///
    /// # Panics
    ///
    /// If `commit.ts` is not greater than the last committed timestamp: that is a bug in the
    /// caller.
    pub fn commit(&self, commit: &Commit) -> Result<()> {
        let started = Instant::now();
        let ts = commit.ts;
        let context = || format!("committing transaction at ts {ts}");
        let mut txn = self.db().begin_write().map_err(self.redb_error(context))?;
        txn.set_durability(Durability::Immediate)
            .map_err(self.redb_error(context))?;
        {
            let mut system = txn.open_table(SYSTEM).map_err(self.redb_error(context))?;
            let last_ts = system
                .get(LAST_TS_KEY)
                .map_err(self.redb_error(context))?
                .map(|guard| guard.value())
                .unwrap_or(0);
            assert!(
                ts > last_ts,
                "commit timestamp {ts} is not greater than the last committed timestamp {last_ts}"
            );

            let mut meta = txn.open_table(META).map_err(self.redb_error(context))?;
            for key in &commit.meta_deletes {
                meta.remove(key.as_slice())
                    .map_err(self.redb_error(context))?;
            }
            for (key, value) in &commit.meta_puts {
                meta.insert(key.as_slice(), value.as_slice())
                    .map_err(self.redb_error(context))?;
            }

            let mut rows = txn.open_table(ROWS).map_err(self.redb_error(context))?;
            for &collection in &commit.drop_collections {
                rows.retain_in((collection, 0)..=(collection, u64::MAX), |_, _| false)
                    .map_err(self.redb_error(context))?;
            }
            for write in &commit.writes {
                match write {
                    RowWrite::Put {
                        collection,
                        row,
                        value,
                    } => {
                        rows.insert((*collection, *row), value.as_slice())
                            .map_err(self.redb_error(context))?;
                    }
                    RowWrite::Delete { collection, row } => {
                        rows.remove((*collection, *row))
                            .map_err(self.redb_error(context))?;
                    }
                }
            }
            system
                .insert(LAST_TS_KEY, ts)
                .map_err(self.redb_error(context))?;
        }
        txn.commit().map_err(self.redb_error(context))?;
        debug!(
            ts,
            meta_puts = commit.meta_puts.len(),
            meta_deletes = commit.meta_deletes.len(),
            drop_collections = commit.drop_collections.len(),
            writes = commit.writes.len(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "committed"
        );
        Ok(())
    }

    /// Checks that the opened file is a freshet data file of [`FORMAT_VERSION`].
    fn check_format(&self) -> Result<()> {
        let context = || "opening the data file: checking its format version";
        let txn = self.db().begin_read().map_err(self.redb_error(context))?;
        let system = txn.open_table(SYSTEM).map_err(self.redb_error(context))?;
        let version = system
            .get(FORMAT_VERSION_KEY)
            .map_err(self.redb_error(context))?
            .map(|guard| guard.value());
        match version {
            Some(FORMAT_VERSION) => {}
            Some(found) => {
                return Err(StorageError::Incompatible {
                    path: self.path.clone(),
                    detail: format!(
                        "it has freshet format version {found}, but this server reads only version {FORMAT_VERSION}"
                    ),
                })
            }
            None => {
                return Err(self.corrupt(
                    context().to_string(),
                    "it is not a freshet data file: it has no format version".to_string(),
                ))
            }
        }
        // Open the data tables too, so that a file with mistyped tables fails here.
        txn.open_table(META).map_err(self.redb_error(context))?;
        txn.open_table(ROWS).map_err(self.redb_error(context))?;
        Ok(())
    }

    fn db(&self) -> &Database {
        self.db
            .as_ref()
            .expect("the database is open until the store is dropped")
    }

    /// Returns a closure mapping a redb error to a [`StorageError`] whose context is built by
    /// `context` (only on error, so that hot loops do not allocate).
    fn redb_error<'a, E: IntoStorageError, C: ToString>(
        &'a self,
        context: impl FnOnce() -> C + 'a,
    ) -> impl FnOnce(E) -> StorageError + 'a {
        move |e| e.into_storage_error(&self.path, context().to_string())
    }

    fn corrupt(&self, context: String, detail: String) -> StorageError {
        error!(path = %self.path.display(), %context, %detail, "data file is corrupt");
        StorageError::Corrupt {
            path: self.path.clone(),
            context,
            detail,
        }
    }
}

impl Drop for Store {
    /// Closes the database, then releases the lock. Closing commits redb's allocator state; on
    /// a file damaged while open that may fail or panic, which is logged rather than raised.
    fn drop(&mut self) {
        let Some(db) = self.db.take() else {
            return;
        };
        match panic::catch_unwind(AssertUnwindSafe(|| db.close())) {
            Ok(Ok(())) => debug!(dir = %self.dir.display(), "closed store"),
            Ok(Err(err)) => {
                warn!(path = %self.path.display(), error = %err, "closing the data file failed")
            }
            Err(_) => {
                error!(path = %self.path.display(), "redb panicked closing the data file; it may be corrupt")
            }
        }
    }
}

/// Creates `dir/LOCK` if absent and takes an exclusive advisory lock on it without waiting.
fn lock_dir(dir: &Path) -> Result<File> {
    let lock_path = dir.join(LOCK_FILE_NAME);
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io_error(|| {
            format!("opening lock file \"{}\"", lock_path.display())
        }))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(TryLockError::WouldBlock) => Err(StorageError::Locked {
            dir: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(source)) => Err(StorageError::Io {
            context: format!("locking \"{}\"", lock_path.display()),
            source,
        }),
    }
}

/// Creates and initializes a new data file at `path` via a temporary file and a rename, so
/// that a crash leaves either no data file or a complete one.
fn create_data_file(dir: &Path, path: &Path) -> Result<()> {
    let init_path = dir.join(INIT_FILE_NAME);
    let context = || "creating the data file".to_string();
    match fs::remove_file(&init_path) {
        Ok(()) => {
            warn!(path = %init_path.display(), "removed a data file left half-created by a crash")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(StorageError::Io {
                context: format!("removing stale file \"{}\"", init_path.display()),
                source,
            })
        }
    }
    let db = Database::builder()
        .set_cache_size(CACHE_SIZE_BYTES)
        .create(&init_path)
        .map_err(|e| e.into_storage_error(&init_path, context()))?;
    let mut txn = db
        .begin_write()
        .map_err(|e| e.into_storage_error(&init_path, context()))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| e.into_storage_error(&init_path, context()))?;
    {
        let mut system = txn
            .open_table(SYSTEM)
            .map_err(|e| e.into_storage_error(&init_path, context()))?;
        system
            .insert(FORMAT_VERSION_KEY, FORMAT_VERSION)
            .map_err(|e| e.into_storage_error(&init_path, context()))?;
        txn.open_table(META)
            .map_err(|e| e.into_storage_error(&init_path, context()))?;
        txn.open_table(ROWS)
            .map_err(|e| e.into_storage_error(&init_path, context()))?;
    }
    txn.commit()
        .map_err(|e| e.into_storage_error(&init_path, context()))?;
    db.close()
        .map_err(|e| e.into_storage_error(&init_path, context()))?;
    fs::rename(&init_path, path).map_err(io_error(|| {
        format!(
            "renaming \"{}\" to \"{}\"",
            init_path.display(),
            path.display()
        )
    }))?;
    sync_dir(dir)
}

/// Fsyncs a directory so that entries created or renamed in it survive a power failure.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(|| {
            format!("syncing directory \"{}\"", dir.display())
        }))
}

fn io_error(context: impl FnOnce() -> String) -> impl FnOnce(std::io::Error) -> StorageError {
    move |source| StorageError::Io {
        context: context(),
        source,
    }
}

/// Runs `f`, turning a panic into [`StorageError::Corrupt`]: redb documents that opening or
/// reading a file damaged outside redb may panic, and such a file is bad input, not a bug.
/// This only works with `panic = "unwind"` (the default).
fn catch_panic<T>(
    path: &Path,
    context: impl FnOnce() -> String,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let context = context();
            error!(path = %path.display(), %context, %message, "redb panicked reading the data file");
            Err(StorageError::Corrupt {
                path: path.to_path_buf(),
                context,
                detail: format!("the storage engine failed reading it: {message}"),
            })
        }
    }
}
