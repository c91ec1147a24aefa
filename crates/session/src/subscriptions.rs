//! Subscriptions and subscription cursors (RisingWave's change feeds):
//! `CREATE SUBSCRIPTION s FROM mv`, `DECLARE c SUBSCRIPTION CURSOR FOR s
//! [FULL | SINCE ...]`, `FETCH n FROM c [WITH (timeout = '1s')]`.
//!
//! This module owns the subscription catalog operations (create, drop,
//! the dependency of a subscription on its view) and the cursors: a
//! cursor is a position (a commit timestamp) in its view's change history
//! plus the rows produced but not yet fetched. FETCH reads the view's
//! changes after the position from the dataflow engine
//! (`Views::changes`), turns them into rows of the view's columns plus
//! `op` (`Insert`, `Delete`, `UpdateDelete`, `UpdateInsert`) and
//! `rw_timestamp` (the commit's wall-clock time in milliseconds), and
//! waits on the commit clock when it has fewer rows than asked for and a
//! timeout allows.
//!
//! A delete and an insert of the same key at one commit are an update
//! (`UpdateDelete` then `UpdateInsert`); the key is a table's primary key,
//! or a view's GROUP BY columns when its query groups (found from its
//! plan); otherwise there is none and every change is an `Insert` or a
//! `Delete`. A subscription may follow a table: the engine then runs a
//! pass-through dataflow over it (`Views::update_feeds`).
//!
//! History: the engine keeps a view's changes for the last 1024 commits,
//! or for the longest `retention` of a subscription (at most
//! `RETAINED_COMMITS_MAX` commits); a cursor that falls further behind
//! fails with 55000 and must be declared again. Cursors live in their
//! session; subscriptions are catalog objects and survive restarts, but
//! history does not (views are rebuilt at startup), so `SINCE` a time
//! before the last start fails.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use freshet_common::types::DataType;
use freshet_common::{Datum, Error, Result, Row, SqlState};
use freshet_expr::RelExpr;
use freshet_sql::streaming::CursorStart;

use crate::api::{Column, ExecuteResult};
use crate::catalog::{RelKind, RelationDef, SubscriptionDef};
use crate::session::Session;
use crate::state::DbState;
use crate::txn::Txn;

/// The most commits of history kept for subscriptions' `retention`.
pub const RETAINED_COMMITS_MAX: u64 = 65536;

/// An open subscription cursor.
pub(crate) struct SubscriptionCursor {
    /// The subscription it reads (a cursor outlives a dropped one).
    subscription: u32,
    view: u32,
    view_name: String,
    columns: Vec<Column>,
    /// Key column positions that make a delete and an insert an update.
    key: Option<Vec<usize>>,
    /// Changes up to this commit have been turned into `ready` rows.
    position: u64,
    ready: VecDeque<Row>,
}

impl SubscriptionCursor {
    /// The cursor's output columns.
    pub(crate) fn columns(&self) -> &[Column] {
        &self.columns
    }
}

impl Session {
    /// CREATE SUBSCRIPTION.
    pub(crate) fn create_subscription(
        &mut self,
        txn: &mut Txn,
        schema: String,
        name: String,
        from: u32,
        retention: Option<Duration>,
        if_not_exists: bool,
    ) -> Result<ExecuteResult> {
        let database = self.database.clone();
        let catalog = &txn.work.catalog;
        if catalog.subscriptions.values().any(|s| s.database == database && s.schema == schema && s.name == name) {
            if if_not_exists {
                return Ok(ExecuteResult::Command { tag: "CREATE SUBSCRIPTION".into() });
            }
            return Err(Error::new(SqlState::DuplicateObject, format!("subscription \"{name}\" already exists")));
        }
        let followable = |r: &RelationDef| matches!(r.kind, RelKind::MaterializedView { .. } | RelKind::Table);
        if catalog.relations.get(&from).is_some_and(|r| r.schema.starts_with("pg_temp_")) {
            return Err(Error::unsupported("subscriptions to temporary tables"));
        }
        if !catalog.relations.get(&from).is_some_and(followable) {
            return Err(Error::undefined_table(&format!("{from}")));
        }
        let catalog = txn.work.catalog_mut();
        let oid = catalog.allocate_oid();
        let retention_secs = retention.map(|d| d.as_secs().max(1));
        catalog.subscriptions.insert(oid, SubscriptionDef { oid, database, schema, name, from, retention_secs });
        txn.structural = true;
        Ok(ExecuteResult::Command { tag: "CREATE SUBSCRIPTION".into() })
    }

    /// DROP SUBSCRIPTION.
    pub(crate) fn drop_subscriptions(&mut self, txn: &mut Txn, names: &[(Option<String>, String)], if_exists: bool) -> Result<ExecuteResult> {
        for (schema, name) in names {
            match self.find_subscription(&txn.work, schema.as_deref(), name) {
                Some(oid) => {
                    txn.work.catalog_mut().subscriptions.remove(&oid);
                    txn.structural = true;
                }
                None if if_exists => {}
                None => return Err(Error::new(SqlState::UndefinedObject, format!("subscription \"{name}\" does not exist"))),
            }
        }
        Ok(ExecuteResult::Command { tag: "DROP SUBSCRIPTION".into() })
    }

    /// The subscription called `name`: in `schema`, or the first schema
    /// of the search path that has one.
    fn find_subscription(&self, state: &DbState, schema: Option<&str>, name: &str) -> Option<u32> {
        let in_schema = |s: &str| {
            state
                .catalog
                .subscriptions
                .values()
                .find(|sub| sub.database == self.database && sub.schema == s && sub.name == name)
                .map(|sub| sub.oid)
        };
        match schema {
            Some(s) => in_schema(s),
            None => freshet_sql::Catalog::search_path(&crate::session::BindCatalog { state, session: self }).iter().find_map(|s| in_schema(s)),
        }
    }

    /// DECLARE name SUBSCRIPTION CURSOR FOR subscription.
    pub(crate) fn declare_subscription_cursor(
        &mut self,
        name: String,
        subscription: (Option<String>, String),
        start: CursorStart,
    ) -> Result<ExecuteResult> {
        if self.subscription_cursors.contains_key(&name) || self.has_cursor(&name) {
            return Err(Error::new(SqlState::DuplicateCursor, format!("cursor \"{name}\" already exists")));
        }
        let state = self.server.snapshot();
        let (schema, sub_name) = subscription;
        let oid = self.find_subscription(&state, schema.as_deref(), &sub_name).ok_or_else(|| {
            Error::new(SqlState::UndefinedObject, format!("subscription \"{sub_name}\" does not exist"))
        })?;
        let sub = state.catalog.subscriptions.get(&oid).ok_or_else(|| Error::internal("subscription vanished"))?;
        let view = state
            .catalog
            .relations
            .get(&sub.from)
            .cloned()
            .ok_or_else(|| Error::internal(format!("the view of subscription \"{sub_name}\" is gone")))?;
        let mut columns: Vec<Column> = view
            .columns
            .iter()
            .map(|c| Column { name: c.name.clone(), ty: c.ty.clone(), table_oid: 0, column_id: 0 })
            .collect();
        columns.push(Column { name: "op".into(), ty: DataType::Varchar(None), table_oid: 0, column_id: 0 });
        columns.push(Column { name: "rw_timestamp".into(), ty: DataType::Int8, table_oid: 0, column_id: 0 });
        let key = self.view_key(&view, &state);
        let views = &self.server.views;
        let since = views.history_since(view.oid, &view.name)?;
        let mut cursor = SubscriptionCursor { subscription: oid, view: view.oid, view_name: view.name.clone(), columns, key, position: state.ts, ready: VecDeque::new() };
        match start {
            CursorStart::Now => {}
            CursorStart::Begin => cursor.position = since.min(state.ts),
            CursorStart::Since(ms) => {
                // Changes at or after `ms`: start after the last commit before it.
                let position = self.server.clock.last_commit_at_or_before(ms.saturating_sub(1)).unwrap_or(0);
                if position < since {
                    return Err(Error::new(
                        SqlState::ObjectNotInPrerequisiteState,
                        format!("subscription \"{sub_name}\" no longer keeps the changes since {ms}"),
                    )
                    .with_hint("Use SINCE begin() for the oldest changes kept, or FULL for the current contents."));
                }
                cursor.position = position.min(state.ts);
            }
            CursorStart::Full => {
                let rows = views.read(view.oid, &view.name, state.ts)?;
                let wall = self.server.clock.wall_ms(state.ts);
                cursor.ready.extend(rows.into_iter().map(|row| change_row(row, "Insert", wall)));
            }
        }
        self.subscription_cursors.insert(name, cursor);
        Ok(ExecuteResult::Command { tag: "DECLARE SUBSCRIPTION CURSOR".into() })
    }

    /// FETCH up to `count` rows from a subscription cursor, waiting up to
    /// `timeout` for them (returning early with what there is).
    pub(crate) fn fetch_subscription(&mut self, name: &str, count: u64, timeout: Duration) -> Result<ExecuteResult> {
        let deadline = Instant::now() + timeout;
        let server = std::sync::Arc::clone(&self.server);
        let cancel = std::sync::Arc::clone(&self.cancel);
        let cursor = self
            .subscription_cursors
            .get_mut(name)
            .ok_or_else(|| Error::new(SqlState::InvalidCursorName, format!("cursor \"{name}\" does not exist")))?;
        let wanted = usize::try_from(count).unwrap_or(usize::MAX);
        if !server.snapshot().catalog.subscriptions.contains_key(&cursor.subscription) {
            return Err(Error::new(
                SqlState::ObjectNotInPrerequisiteState,
                format!("the subscription of cursor \"{name}\" has been dropped"),
            )
            .with_hint("CLOSE the cursor."));
        }
        loop {
            let latest = server.clock.latest();
            if latest > cursor.position {
                let changes = server.views.changes(cursor.view, &cursor.view_name, cursor.position, latest)?;
                cursor.push_changes(changes, |ts| server.clock.wall_ms(ts));
                cursor.position = latest;
            }
            if cursor.ready.len() >= wanted || Instant::now() >= deadline {
                break;
            }
            if cancel.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(Error::new(SqlState::QueryCanceled, "canceling statement due to user request"));
            }
            server.clock.wait_after(cursor.position, deadline, &|| cancel.load(std::sync::atomic::Ordering::SeqCst));
        }
        let n = wanted.min(cursor.ready.len());
        let rows: Vec<Row> = cursor.ready.drain(..n).collect();
        Ok(ExecuteResult::Rows { columns: cursor.columns.clone(), tag: format!("FETCH {}", rows.len()), rows })
    }

    /// The columns whose equal values make a delete and an insert at one
    /// commit an update: the view's GROUP BY columns, when it groups.
    fn view_key(&self, view: &RelationDef, state: &DbState) -> Option<Vec<usize>> {
        if matches!(view.kind, RelKind::Table) {
            let key = view.primary_key();
            return (!key.is_empty()).then_some(key);
        }
        let RelKind::MaterializedView { sql, .. } = &view.kind else { return None };
        let plan = self.bind_view_plan(sql, state).ok()?;
        unique_key(&plan)
    }
}

impl SubscriptionCursor {
    /// Appends the rows for `changes` (ordered by time, deletions first).
    fn push_changes(&mut self, changes: Vec<(Row, u64, isize)>, wall_ms: impl Fn(u64) -> i64) {
        let mut start = 0;
        while start < changes.len() {
            let time = changes[start].1;
            let end = start + changes[start..].iter().take_while(|(_, t, _)| *t == time).count();
            let wall = wall_ms(time);
            let at_time = &changes[start..end];
            // Keys with both a deletion and an insertion at this time.
            let updated: BTreeMap<Vec<Datum>, ()> = match &self.key {
                Some(key) => {
                    let project = |row: &Row| key.iter().map(|i| row.get(*i).cloned().unwrap_or(Datum::Null)).collect::<Vec<_>>();
                    let deleted: std::collections::BTreeSet<Vec<Datum>> =
                        at_time.iter().filter(|(_, _, d)| *d < 0).map(|(r, _, _)| project(r)).collect();
                    at_time.iter().filter(|(_, _, d)| *d > 0).map(|(r, _, _)| project(r)).filter(|k| deleted.contains(k)).map(|k| (k, ())).collect()
                }
                None => BTreeMap::new(),
            };
            let key_of = |row: &Row| self.key.as_ref().map(|key| key.iter().map(|i| row.get(*i).cloned().unwrap_or(Datum::Null)).collect::<Vec<_>>());
            let mut inserts: BTreeMap<Vec<Datum>, Vec<Row>> = BTreeMap::new();
            let mut plain_inserts = Vec::new();
            let mut out = Vec::new();
            for (row, _, diff) in at_time {
                let is_update = key_of(row).is_some_and(|k| updated.contains_key(&k));
                let copies = diff.unsigned_abs();
                if *diff < 0 {
                    let op = if is_update { "UpdateDelete" } else { "Delete" };
                    for _ in 0..copies {
                        out.push((key_of(row), change_row(row.clone(), op, wall)));
                    }
                } else if is_update {
                    let k = key_of(row).unwrap_or_default();
                    for _ in 0..copies {
                        inserts.entry(k.clone()).or_default().push(change_row(row.clone(), "UpdateInsert", wall));
                    }
                } else {
                    for _ in 0..copies {
                        plain_inserts.push(change_row(row.clone(), "Insert", wall));
                    }
                }
            }
            // Each UpdateInsert right after its UpdateDelete.
            for (key, row) in out {
                let follow = key.as_ref().and_then(|k| inserts.get_mut(k)).and_then(|v| (!v.is_empty()).then(|| v.remove(0)));
                self.ready.push_back(row);
                if let Some(insert) = follow {
                    self.ready.push_back(insert);
                }
            }
            self.ready.extend(inserts.into_values().flatten());
            self.ready.extend(plain_inserts);
            start = end;
        }
    }
}

/// A view row with its `op` and `rw_timestamp` appended.
fn change_row(mut row: Row, op: &str, wall_ms: i64) -> Row {
    row.push(Datum::Text(op.to_string()));
    row.push(Datum::Int8(wall_ms));
    row
}

/// Output positions that are unique over the plan's rows, when the plan's
/// shape shows them: a grouping's keys, through filters, maps, orderings
/// and projections that keep them.
fn unique_key(plan: &RelExpr) -> Option<Vec<usize>> {
    match plan {
        RelExpr::Reduce { group_key, .. } => Some((0..group_key.len()).collect()),
        RelExpr::Filter { input, .. } => unique_key(input),
        RelExpr::Map { input, exprs } => {
            // A key column copied by the map is also found at the copy,
            // which a projection above may keep instead.
            let arity = input.arity();
            let key = unique_key(input)?;
            Some(
                key.into_iter()
                    .map(|k| {
                        let copy = exprs.iter().rposition(|e| matches!(e, freshet_expr::ScalarExpr::Column(c) if *c == k));
                        copy.map_or(k, |i| arity + i)
                    })
                    .collect(),
            )
        }
        RelExpr::TopK { input, .. } => unique_key(input),
        RelExpr::Project { input, columns } => {
            let key = unique_key(input)?;
            key.iter().map(|k| columns.iter().position(|c| c == k)).collect()
        }
        _ => None,
    }
}

/// Whether a dropped relation `oid` still has subscriptions; the
/// caller refuses the drop without CASCADE (2BP01) or drops them.
pub(crate) fn subscriptions_of(state: &DbState, oid: u32) -> Vec<(u32, String)> {
    state.catalog.subscriptions.values().filter(|s| s.from == oid).map(|s| (s.oid, s.name.clone())).collect()
}

/// Drops the subscriptions whose view no longer exists (after a DROP ...
/// CASCADE removed it).
pub(crate) fn drop_orphaned_subscriptions(txn: &mut Txn) {
    let orphans: Vec<u32> = txn
        .work
        .catalog
        .subscriptions
        .values()
        .filter(|s| !txn.work.catalog.relations.contains_key(&s.from))
        .map(|s| s.oid)
        .collect();
    if !orphans.is_empty() {
        let catalog = txn.work.catalog_mut();
        for oid in orphans {
            catalog.subscriptions.remove(&oid);
        }
        txn.structural = true;
    }
}
