//! Transactions: a private working copy of the database state plus a log of
//! row writes, applied atomically at commit.
//!
//! Isolation: a transaction reads the snapshot taken at its start plus its
//! own writes. At commit its writes are applied in order to the latest
//! committed state; if another transaction committed meanwhile and changed
//! a row this one also changed (or the catalog), the commit fails with
//! 40001, first committer wins (snapshot isolation). An autocommit
//! statement that meets such a conflict runs again on the new state
//! (`Session::in_transaction`), so its client never sees 40001.

use freshet_common::{Datum, Error, Result, Row, SqlState, TimestampTz};

use freshet_sql::plan::IsolationLevel;

use crate::catalog::RelationDef;
use crate::index_key::index_key;
use crate::state::{unique_violation, DbState, StoredRow};

/// One row change: `old` is what the transaction saw, `new` what it wrote.
#[derive(Clone, Debug)]
pub struct Write {
    pub table: u32,
    pub row: u64,
    pub old: Option<StoredRow>,
    pub new: Option<StoredRow>,
}

/// A savepoint: the transaction's state when it was set.
#[derive(Clone, Debug)]
struct Savepoint {
    name: String,
    base_ts: u64,
    base: DbState,
    work: DbState,
    writes: usize,
    structural: bool,
    truncated: usize,
}

/// An open transaction.
#[derive(Clone, Debug)]
pub struct Txn {
    /// Timestamp of the committed state the working copy is based on.
    pub base_ts: u64,
    /// That committed state (O(1) to keep: persistent maps), to tell what
    /// changed underneath the transaction when it is rebased.
    pub base: DbState,
    /// The working copy: the snapshot plus this transaction's changes.
    pub work: DbState,
    /// Row changes in order.
    pub writes: Vec<Write>,
    /// Whether the catalog changed or tables were truncated/dropped; such a
    /// transaction can only commit if nothing else committed since it began.
    pub structural: bool,
    /// Tables whose stored rows must be dropped before applying `writes`.
    pub truncated: Vec<u32>,
    savepoints: Vec<Savepoint>,
    /// Transaction start time (`now()`).
    pub start: TimestampTz,
    /// Whether it was started with BEGIN.
    pub explicit: bool,
    /// Its isolation level: READ COMMITTED moves each statement onto the
    /// latest commits; REPEATABLE READ and SERIALIZABLE keep the snapshot
    /// of the first statement, and SERIALIZABLE also fails at commit when
    /// a table it read was changed by a transaction that committed after
    /// that snapshot (`Server::check_reads`).
    pub isolation: IsolationLevel,
    /// READ ONLY: writes fail with 25006.
    pub read_only: bool,
    /// Whether a statement has run (and so taken the snapshot a fixed
    /// snapshot level keeps); SET TRANSACTION ISOLATION LEVEL must come
    /// before.
    pub snapshot_taken: bool,
    /// The transaction's row locks, released when the last clone of the
    /// transaction is dropped (commit, rollback or disconnect).
    pub locks: Option<std::sync::Arc<crate::locks::TxnLocks>>,
    /// Connector progress to store with this commit: (source table OID,
    /// the connector's opaque state), written by `crate::sources` only.
    pub source_progress: Vec<(u32, Vec<u8>)>,
}

impl Txn {
    /// A transaction over `snapshot`.
    pub fn new(snapshot: DbState, start: TimestampTz, explicit: bool) -> Txn {
        Txn {
            base_ts: snapshot.ts,
            base: snapshot.clone(),
            work: snapshot,
            writes: Vec::new(),
            structural: false,
            truncated: Vec::new(),
            savepoints: Vec::new(),
            start,
            explicit,
            isolation: IsolationLevel::ReadCommitted,
            read_only: false,
            snapshot_taken: false,
            locks: None,
            source_progress: Vec::new(),
        }
    }

    /// The lock owner id of this transaction (0 when it takes no locks).
    pub fn id(&self) -> u64 {
        self.locks.as_ref().map(|l| l.id()).unwrap_or(0)
    }

    /// Whether the transaction changed anything.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && !self.structural
    }

    /// Inserts a row with id `id`, checking uniqueness.
    pub fn insert(&mut self, rel: &RelationDef, id: u64, row: Row) -> Result<()> {
        let row: StoredRow = row.into();
        let constraints = rel.unique_constraints();
        let table = self.work.table_mut(rel.oid)?;
        let mut keys = Vec::new();
        for (k, c) in constraints.iter().enumerate() {
            if let Some(key) = index_key(rel, c, &row)? {
                if table.keys.get(k).is_some_and(|idx| idx.contains_key(&key)) {
                    return Err(unique_violation(rel, c, &key));
                }
                keys.push((k, key));
            }
        }
        for (k, key) in keys {
            if let Some(idx) = table.keys.get_mut(k) {
                idx.insert(key, id);
            }
        }
        table.rows.insert(id, row.clone());
        self.writes.push(Write { table: rel.oid, row: id, old: None, new: Some(row) });
        Ok(())
    }

    /// Deletes row `id`.
    pub fn delete(&mut self, rel: &RelationDef, id: u64) -> Result<Option<StoredRow>> {
        let constraints = rel.unique_constraints();
        let table = self.work.table_mut(rel.oid)?;
        let Some(old) = table.rows.remove(&id) else { return Ok(None) };
        for (k, c) in constraints.iter().enumerate() {
            if let Some(key) = index_key(rel, c, &old)? {
                if let Some(idx) = table.keys.get_mut(k) {
                    if idx.get(&key) == Some(&id) {
                        idx.remove(&key);
                    }
                }
            }
        }
        self.writes.push(Write { table: rel.oid, row: id, old: Some(old.clone()), new: None });
        Ok(Some(old))
    }

    /// Replaces several rows at once: all old keys are released before the
    /// new ones are checked, so a statement may permute key values.
    pub fn update_many(&mut self, rel: &RelationDef, updates: Vec<(u64, Row)>) -> Result<()> {
        let constraints = rel.unique_constraints();
        let table = self.work.table_mut(rel.oid)?;
        let mut olds = Vec::with_capacity(updates.len());
        for (id, _) in &updates {
            let old = table.rows.get(id).cloned().ok_or_else(|| Error::internal(format!("row {id} vanished during update")))?;
            for (k, c) in constraints.iter().enumerate() {
                if let Some(key) = index_key(rel, c, &old)? {
                    if let Some(idx) = table.keys.get_mut(k) {
                        if idx.get(&key) == Some(id) {
                            idx.remove(&key);
                        }
                    }
                }
            }
            olds.push(old);
        }
        for ((id, new), old) in updates.into_iter().zip(olds) {
            let new: StoredRow = new.into();
            for (k, c) in constraints.iter().enumerate() {
                if let Some(key) = index_key(rel, c, &new)? {
                    if let Some(idx) = table.keys.get_mut(k) {
                        if idx.contains_key(&key) {
                            return Err(unique_violation(rel, c, &key));
                        }
                        idx.insert(key, id);
                    }
                }
            }
            table.rows.insert(id, new.clone());
            self.writes.push(Write { table: rel.oid, row: id, old: Some(old), new: Some(new) });
        }
        Ok(())
    }

    /// Removes every row of a table (TRUNCATE).
    pub fn truncate(&mut self, rel: &RelationDef) -> Result<()> {
        let table = self.work.table_mut(rel.oid)?;
        *table = crate::state::TableData::new(rel);
        self.writes.retain(|w| w.table != rel.oid);
        if !self.truncated.contains(&rel.oid) {
            self.truncated.push(rel.oid);
        }
        self.structural = true;
        Ok(())
    }

    /// SAVEPOINT name.
    pub fn savepoint(&mut self, name: String) {
        self.savepoints.push(Savepoint {
            name,
            base_ts: self.base_ts,
            base: self.base.clone(),
            work: self.work.clone(),
            writes: self.writes.len(),
            structural: self.structural,
            truncated: self.truncated.len(),
        });
    }

    fn find_savepoint(&self, name: &str) -> Result<usize> {
        self.savepoints.iter().rposition(|s| s.name == name).ok_or_else(|| {
            Error::new(SqlState::InvalidSavepointSpecification, format!("savepoint \"{name}\" does not exist"))
        })
    }

    /// ROLLBACK TO name: undoes everything after the savepoint, keeps it.
    pub fn rollback_to(&mut self, name: &str) -> Result<()> {
        let i = self.find_savepoint(name)?;
        self.savepoints.truncate(i + 1);
        let sp = &self.savepoints[i];
        self.base_ts = sp.base_ts;
        self.base = sp.base.clone();
        self.work = sp.work.clone();
        self.writes.truncate(sp.writes);
        self.structural = sp.structural;
        self.truncated.truncate(sp.truncated);
        Ok(())
    }

    /// RELEASE name: forgets the savepoint and those after it.
    pub fn release(&mut self, name: &str) -> Result<()> {
        let i = self.find_savepoint(name)?;
        self.savepoints.truncate(i);
        Ok(())
    }
}

/// Replays `txn`'s row writes onto `current` (a newer committed state).
/// Fails with 40001 when a row it changed was changed by someone else, or
/// 23505 when its inserts now collide.
pub fn rebase(txn: &Txn, mut current: DbState) -> Result<DbState> {
    let conflict = || {
        Error::new(SqlState::SerializationFailure, "could not serialize access due to concurrent update")
    };
    let catalog_moved = !std::sync::Arc::ptr_eq(&txn.base.catalog, &current.catalog);
    if txn.structural {
        // Our DDL can only be applied over the catalog it was made against.
        if catalog_moved {
            return Err(conflict());
        }
        current.catalog = txn.work.catalog.clone();
        // Truncated tables: nobody may have written them meanwhile.
        for oid in &txn.truncated {
            let unchanged = match (txn.base.table(*oid), current.table(*oid)) {
                (None, None) => true,
                (Some(a), Some(b)) => a.rows.ptr_eq(&b.rows),
                _ => false,
            };
            if !unchanged {
                return Err(conflict());
            }
            current.tables.remove(oid);
        }
        let live: Vec<u32> = current.tables.keys().copied().collect();
        for oid in live {
            if !current.catalog.relations.contains_key(&oid) {
                current.tables.remove(&oid);
            }
        }
        // Replay rows without index upkeep (column positions may have
        // changed), then rebuild the indexes of every table involved.
        let mut touched: std::collections::BTreeSet<u32> = std::collections::BTreeSet::new();
        for w in &txn.writes {
            let table = current.table_mut(w.table)?;
            if table.rows.get(&w.row) != w.old.as_ref() {
                return Err(conflict());
            }
            match &w.new {
                Some(new) => {
                    table.rows.insert(w.row, new.clone());
                }
                None => {
                    table.rows.remove(&w.row);
                }
            }
            touched.insert(w.table);
        }
        for (oid, rel) in &txn.work.catalog.relations {
            if txn.base.catalog.relations.get(oid) != Some(rel) {
                touched.insert(*oid);
            }
        }
        for oid in touched {
            let Some(rel) = current.catalog.relations.get(&oid).cloned() else { continue };
            if matches!(rel.kind, crate::catalog::RelKind::Table) {
                current.table_mut(oid)?.rebuild_keys(&rel)?;
            }
        }
        return Ok(current);
    }
    // Rows written against enum sort orders that a concurrent ALTER TYPE
    // renumbered would hold values the type no longer has.
    if catalog_moved && !txn.writes.is_empty() {
        let renumbered = txn.base.catalog.renumbered_enums(&current.catalog);
        let stale = txn.writes.iter().any(|w| {
            current.catalog.relations.get(&w.table).is_some_and(|r| {
                r.columns.iter().any(|c| renumbered.iter().any(|t| c.ty.uses_enum(*t)))
            })
        });
        if stale {
            return Err(conflict());
        }
    }
    for w in &txn.writes {
        let Some(rel) = current.catalog.relations.get(&w.table).cloned() else { return Err(conflict()) };
        let constraints = rel.unique_constraints();
        let table = current.table_mut(w.table)?;
        let now = table.rows.get(&w.row);
        if now != w.old.as_ref() {
            return Err(conflict());
        }
        if let Some(old) = &w.old {
            for (k, c) in constraints.iter().enumerate() {
                if let Some(key) = index_key(&rel, c, old)? {
                    if let Some(idx) = table.keys.get_mut(k) {
                        if idx.get(&key) == Some(&w.row) {
                            idx.remove(&key);
                        }
                    }
                }
            }
            table.rows.remove(&w.row);
        }
        if let Some(new) = &w.new {
            for (k, c) in constraints.iter().enumerate() {
                if let Some(key) = index_key(&rel, c, new)? {
                    if let Some(idx) = table.keys.get_mut(k) {
                        if idx.contains_key(&key) {
                            return Err(unique_violation(&rel, c, &key));
                        }
                        idx.insert(key, w.row);
                    }
                }
            }
            table.rows.insert(w.row, new.clone());
        }
    }
    Ok(current)
}

/// Collapses a write log to the final value of each touched row.
pub fn final_writes(writes: &[Write]) -> Vec<(u32, u64, Option<&StoredRow>)> {
    let mut last: std::collections::HashMap<(u32, u64), usize> = std::collections::HashMap::new();
    for (i, w) in writes.iter().enumerate() {
        last.insert((w.table, w.row), i);
    }
    let mut idx: Vec<usize> = last.into_values().collect();
    idx.sort_unstable();
    idx.into_iter()
        .map(|i| {
            let w = &writes[i];
            (w.table, w.row, w.new.as_ref())
        })
        .collect()
}

/// A datum-free marker used for comparisons in tests.
#[allow(dead_code)]
fn _assert_send(_: &Datum) {}
