//! The unit of durability: [`Commit`], one committed transaction's changes as opaque bytes.

/// A logical commit timestamp. Commits carry strictly increasing timestamps; 0 means "nothing
/// committed yet".
pub type Timestamp = u64;

/// A collection's (a table's) durable id, chosen by the caller.
pub type CollectionId = u64;

/// A row's id within its collection, chosen by the caller.
pub type RowId = u64;

/// All changes of one committed transaction, applied atomically by [`crate::Store::commit`].
///
/// Changes are applied in this order: `meta_deletes`, then `meta_puts`, then
/// `drop_collections`, then `writes` in vector order. Removals therefore come before additions:
/// a meta key that is both deleted and put ends up with the put value, and a collection that is
/// dropped and written in the same commit keeps only the rows in `writes`. Within `writes`, a
/// later write to the same row wins.
#[derive(Default, Clone, Debug)]
pub struct Commit {
    /// The commit's timestamp; must be greater than every earlier commit's.
    pub ts: Timestamp,
    /// Metadata entries (catalog entries etc.) to insert or overwrite, as key -> value.
    pub meta_puts: Vec<(Vec<u8>, Vec<u8>)>,
    /// Metadata keys to delete; deleting an absent key is not an error.
    pub meta_deletes: Vec<Vec<u8>>,
    /// Collections whose rows are all deleted (DROP TABLE, TRUNCATE), before `writes` apply.
    /// Costs time linear in the number of rows removed.
    pub drop_collections: Vec<CollectionId>,
    /// Row writes, applied in order.
    pub writes: Vec<RowWrite>,
}

/// One row change within a [`Commit`].
#[derive(Clone, Debug)]
pub enum RowWrite {
    /// Inserts the row, or overwrites it if it exists.
    Put {
        /// The collection the row belongs to.
        collection: CollectionId,
        /// The row's id within the collection.
        row: RowId,
        /// The row's encoded value (opaque to the store); at most 3 GiB.
        value: Vec<u8>,
    },
    /// Deletes the row; deleting an absent row is not an error.
    Delete {
        /// The collection the row belongs to.
        collection: CollectionId,
        /// The row's id within the collection.
        row: RowId,
    },
}
