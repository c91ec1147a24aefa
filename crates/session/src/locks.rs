//! Row locks: a transaction that updates or deletes a row holds its lock
//! until it ends; another writer of the same row waits, then re-reads the
//! latest committed version (PostgreSQL's READ COMMITTED behaviour for
//! concurrent updates). Waits are checked for deadlock cycles (40P01) and
//! for cancellation (57014).
//!
//! Memory: O(rows locked by open transactions).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use freshet_common::{Error, Result, SqlState};
use parking_lot::{Condvar, Mutex};

/// A row's identity: (table OID, row id).
pub type RowKey = (u32, u64);

#[derive(Default)]
struct Table {
    owners: HashMap<RowKey, u64>,
    held: HashMap<u64, Vec<RowKey>>,
    waits_for: HashMap<u64, u64>,
}

/// The server's lock table.
#[derive(Default)]
pub struct LockManager {
    table: Mutex<Table>,
    released: Condvar,
    next_id: AtomicU64,
}

/// What to do about a row another transaction has locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnConflict {
    /// Wait until that transaction ends.
    Wait,
    /// Stop at once (`NOWAIT`): [`Acquired::unavailable`] names the row.
    Fail,
    /// Leave the row unlocked (`SKIP LOCKED`): listed in [`Acquired::skipped`].
    Skip,
}

/// What acquiring a set of row locks did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Acquired {
    /// Whether the caller waited for another transaction (rows may have
    /// changed, so the statement must re-read them).
    pub waited: bool,
    /// Rows locked by this call (not already held by the owner).
    pub newly: Vec<RowKey>,
    /// Rows left unlocked because another transaction holds them
    /// ([`OnConflict::Skip`]).
    pub skipped: Vec<RowKey>,
    /// The row that stopped the call ([`OnConflict::Fail`]); rows before it
    /// are locked.
    pub unavailable: Option<RowKey>,
}

impl LockManager {
    /// A new lock owner (one per transaction).
    pub fn begin(self: &Arc<Self>) -> Arc<TxnLocks> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        Arc::new(TxnLocks { id, manager: Arc::downgrade(self) })
    }

    /// Locks every row in `rows` for `owner`; a row another owner holds is
    /// waited for, skipped or reported, as `on_conflict` says.
    pub fn lock(&self, owner: u64, rows: &[RowKey], on_conflict: OnConflict, cancel: &AtomicBool) -> Result<Acquired> {
        let mut acquired = Acquired::default();
        let mut table = self.table.lock();
        for key in rows {
            loop {
                match table.owners.get(key).copied() {
                    None => {
                        table.owners.insert(*key, owner);
                        table.held.entry(owner).or_default().push(*key);
                        acquired.newly.push(*key);
                        break;
                    }
                    Some(o) if o == owner => break,
                    Some(_) if on_conflict == OnConflict::Skip => {
                        acquired.skipped.push(*key);
                        break;
                    }
                    Some(_) if on_conflict == OnConflict::Fail => {
                        acquired.unavailable = Some(*key);
                        return Ok(acquired);
                    }
                    Some(holder) => {
                        // Deadlock check: does the holder (transitively) wait for us?
                        let mut h = holder;
                        let mut steps = 0;
                        while let Some(next) = table.waits_for.get(&h).copied() {
                            if next == owner || steps > 10_000 {
                                return Err(Error::new(SqlState::DeadlockDetected, "deadlock detected").with_detail(format!(
                                    "Transaction {owner} waits for transaction {holder}, which waits for transaction {owner}."
                                )));
                            }
                            h = next;
                            steps += 1;
                        }
                        table.waits_for.insert(owner, holder);
                        acquired.waited = true;
                        self.released.wait_for(&mut table, Duration::from_millis(50));
                        table.waits_for.remove(&owner);
                        if cancel.swap(false, Ordering::SeqCst) {
                            return Err(Error::new(SqlState::QueryCanceled, "canceling statement due to user request"));
                        }
                    }
                }
            }
        }
        Ok(acquired)
    }

    fn release(&self, owner: u64) {
        let mut table = self.table.lock();
        if let Some(keys) = table.held.remove(&owner) {
            for k in keys {
                if table.owners.get(&k) == Some(&owner) {
                    table.owners.remove(&k);
                }
            }
        }
        table.waits_for.remove(&owner);
        drop(table);
        self.released.notify_all();
    }
}

/// A transaction's handle on the lock table; releases its locks on drop.
pub struct TxnLocks {
    id: u64,
    manager: Weak<LockManager>,
}

impl TxnLocks {
    /// The owner id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Locks rows for this transaction.
    pub fn lock(&self, rows: &[RowKey], on_conflict: OnConflict, cancel: &AtomicBool) -> Result<Acquired> {
        match self.manager.upgrade() {
            Some(m) => m.lock(self.id, rows, on_conflict, cancel),
            None => Ok(Acquired::default()),
        }
    }
}

impl Drop for TxnLocks {
    fn drop(&mut self) {
        if let Some(m) = self.manager.upgrade() {
            m.release(self.id);
        }
    }
}

impl std::fmt::Debug for TxnLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TxnLocks({})", self.id)
    }
}
