//! Freshet's durable store: makes committed transactions durable and reads them back at startup.
//!
//! The upper layer (the session/coordinator) keeps all table data in memory. Before it
//! acknowledges a transaction to the client it calls [`Store::commit`], and at startup it calls
//! [`Store::load`] once to get everything back.
//!
//! This crate owns:
//! - [`Store`]: one data directory, its lock and its redb database file;
//! - [`Commit`] (with [`RowWrite`]): the changes of one transaction, applied atomically;
//! - [`StorageError`]: every failure, each variant saying who has to act.
//!
//! It deliberately does not own SQL, schemas, row encoding or the catalog: keys and values are
//! opaque bytes, and which collections exist is recorded by the caller in the metadata entries.
//! It does not keep data in memory, serve queries, compact history or replicate.
//!
//! # Fsync policy
//!
//! Every commit is one redb write transaction with `Durability::Immediate`: [`Store::commit`]
//! returns `Ok` only after the data has been fsynced, so an acknowledged commit survives a crash
//! (including `kill -9` and power loss, as far as the disk honours fsync). A commit that has
//! not returned may be lost, but never partially: redb commits are atomic. There is no group
//! commit yet, so each commit costs at least one fsync; concurrent callers are serialized.
//!
//! # On-disk layout
//!
//! ```text
//! <dir>/LOCK            empty file; an exclusive advisory lock (flock) on it marks the
//!                       directory as in use by one server
//! <dir>/freshet.redb    the redb database, with three tables:
//!     system  &str -> u64               "format_version" (= FORMAT_VERSION, written at
//!                                       creation) and "last_ts" (rewritten by every commit)
//!     meta    &[u8] -> &[u8]            the caller's metadata entries (catalog etc.)
//!     rows    (u64, u64) -> &[u8]       (collection id, row id) -> row value; a collection is
//!                                       one contiguous key range
//! <dir>/freshet.redb.init               transient: a new data file is initialized under this
//!                                       name and renamed into place, so an existing
//!                                       freshet.redb is always complete
//! ```
//!
//! Every open verifies the checksum of every page (about 0.5 s per GiB of file), so a file
//! damaged outside redb is reported as [`StorageError::Corrupt`] rather than read as wrong data;
//! after a crash redb also repairs the file then. Both read the whole file, as [`Store::load`]
//! does anyway.
//!
//! # Errors the caller must treat as fatal
//!
//! Any I/O failure while writing (a full disk shows up as [`StorageError::Io`] whose source
//! says "No space left on device") leaves the open store refusing all further work with
//! [`StorageError::Unavailable`]; the server must stop, and after the cause is fixed a restart
//! recovers the last acknowledged commit.

mod commit;
mod error;
mod store;

pub use commit::{CollectionId, Commit, RowId, RowWrite, Timestamp};
pub use error::{Result, StorageError};
pub use store::{
    CollectionRows, LoadedState, Store, DATA_FILE_NAME, FORMAT_VERSION, LOCK_FILE_NAME,
};
