//! What a batch of view changes becomes at the target: the rows to append
//! (append-only sinks) or, per primary key, the row's final state in the
//! batch (upsert sinks).

use std::collections::BTreeMap;

use freshet_common::{Datum, Row};

use crate::{Batch, SinkConfig, SinkType};

/// What to write for one batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Writes {
    /// Upsert sinks: make the target hold exactly `upserts` (a snapshot):
    /// delete every row first.
    pub replace_all: bool,
    /// Rows to insert (append-only) or insert-or-update by key (upsert).
    pub upserts: Vec<Row>,
    /// Upsert sinks: the key values of rows to delete.
    pub deletes: Vec<Row>,
}

/// The writes that apply `batch` under `config`. For upsert sinks each key
/// appears at most once in the result (its last state in the batch: the
/// changes are ordered by time, deletions first within a time, so an
/// update is a deletion followed by an insertion and ends as an upsert).
/// O(changes) time and memory.
pub fn writes(config: &SinkConfig, batch: &Batch) -> Writes {
    match config.sink_type {
        SinkType::AppendOnly => {
            let mut upserts = Vec::new();
            match batch {
                Batch::Snapshot(rows) => upserts.extend(rows.iter().cloned()),
                Batch::Changes(changes) => {
                    for (row, _, diff) in changes {
                        for _ in 0..(*diff).max(0) {
                            upserts.push(row.clone());
                        }
                    }
                }
            }
            Writes { replace_all: false, upserts, deletes: Vec::new() }
        }
        SinkType::Upsert => {
            let key = |row: &Row| -> Vec<Datum> { config.primary_key.iter().map(|i| row[*i].clone()).collect() };
            // Key -> the row it ends with (None: deleted), in first-seen order.
            let mut last: BTreeMap<Vec<Datum>, (usize, Option<Row>)> = BTreeMap::new();
            let mut next = 0;
            let mut set = |row: &Row, present: bool| {
                let entry = last.entry(key(row)).or_insert_with(|| {
                    next += 1;
                    (next, None)
                });
                entry.1 = present.then(|| row.clone());
            };
            let replace_all = match batch {
                Batch::Snapshot(rows) => {
                    rows.iter().for_each(|r| set(r, true));
                    true
                }
                Batch::Changes(changes) => {
                    for (row, _, diff) in changes {
                        set(row, *diff > 0);
                    }
                    false
                }
            };
            let mut ordered: Vec<(usize, Vec<Datum>, Option<Row>)> = last.into_iter().map(|(k, (n, r))| (n, k, r)).collect();
            ordered.sort_by_key(|(n, _, _)| *n);
            let mut writes = Writes { replace_all, ..Writes::default() };
            for (_, key, row) in ordered {
                match row {
                    Some(row) => writes.upserts.push(row),
                    None => writes.deletes.push(key),
                }
            }
            writes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Connector;

    fn int(v: i32) -> Datum {
        Datum::Int4(v)
    }

    #[test]
    fn upsert_keeps_each_keys_last_state() {
        let config = SinkConfig { connector: Connector::Blackhole, sink_type: SinkType::Upsert, primary_key: vec![0] };
        let batch = Batch::Changes(vec![
            (vec![int(1), int(10)], 5, 1),
            (vec![int(2), int(20)], 5, 1),
            (vec![int(1), int(10)], 6, -1),
            (vec![int(1), int(11)], 6, 1),
            (vec![int(2), int(20)], 7, -1),
        ]);
        let w = writes(&config, &batch);
        assert_eq!(w.upserts, vec![vec![int(1), int(11)]]);
        assert_eq!(w.deletes, vec![vec![int(2)]]);
        assert!(!w.replace_all);
    }

    #[test]
    fn append_only_drops_deletions() {
        let config = SinkConfig { connector: Connector::Blackhole, sink_type: SinkType::AppendOnly, primary_key: vec![] };
        let batch = Batch::Changes(vec![(vec![int(1)], 5, 2), (vec![int(2)], 6, -1)]);
        assert_eq!(writes(&config, &batch).upserts, vec![vec![int(1)], vec![int(1)]]);
    }
}
