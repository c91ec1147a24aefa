//! Materialized views: keeping the dataflow engine (`freshet-compute`'s
//! [`Compute`]) in step with commits.
//!
//! The engine runs `--workers` timely workers. Tables are fed to it only
//! once some view reads them: their whole contents when the first such
//! view is created (or at startup), then every commit's row changes at the
//! commit's timestamp, so the engine's time is the storage timestamp and a
//! view read at a snapshot's timestamp is consistent with that snapshot.
//! Recovery replays nothing: at startup the views are rebuilt from the
//! recovered tables, which gives back exactly the contents they had.

use std::collections::{HashMap, HashSet};

use freshet_common::{Datum, Error, Result, Row, SqlState};
use freshet_compute::dataflow::{Compute, TableUpdate, ViewContents, ViewId, ViewProgress, ViewReader};
use freshet_expr::RelExpr;
use freshet_sql::{Catalog, RelationInfo};
use parking_lot::Mutex;
use tracing::{error, info};

use crate::catalog::{RelKind, RelationDef};
use crate::state::DbState;
use crate::txn::final_writes;

/// How many commits of history views keep for readers of older snapshots.
pub(crate) const HISTORY_COMMITS: u64 = 1024;

/// The engine and what has been installed in it.
pub struct Views {
    inner: Mutex<Inner>,
    reader: ViewReader,
}

struct Inner {
    compute: Compute,
    /// Materialized view OID -> installed view.
    installed: HashMap<u32, ViewId>,
    /// Materialized view OID -> rows of the tables it read when installed
    /// (the size of its backfill).
    backfill_rows: HashMap<u32, u64>,
    /// Tables whose contents the engine holds.
    fed: HashSet<u32>,
    /// Table OID -> a dataflow passing the table's rows through, for
    /// subscriptions to the table, with the column types it was built for.
    feeds: HashMap<u32, (ViewId, Vec<freshet_common::DataType>)>,
}

impl Views {
    /// Starts the engine over the recovered `state` and installs every
    /// materialized view of its catalog.
    pub fn start(workers: usize, state: &DbState) -> Result<Views> {
        let started = std::time::Instant::now();
        let compute = Compute::new(workers.max(1))?;
        let reader = compute.reader();
        let views = Views { inner: Mutex::new(Inner { compute, installed: HashMap::new(), backfill_rows: HashMap::new(), fed: HashSet::new(), feeds: HashMap::new() }), reader };
        {
            let mut inner = views.inner.lock();
            let needed = needed_tables(state);
            let mut updates = Vec::new();
            for oid in &needed {
                push_table(state, *oid, 1, &mut updates);
                inner.fed.insert(*oid);
            }
            inner.compute.commit(state.ts, updates)?;
            let mvs: Vec<RelationDef> = materialized_views(state).cloned().collect();
            for mv in &mvs {
                inner.install(state, mv)?;
            }
            inner.update_feeds(state)?;
            if !mvs.is_empty() {
                // Wait for the rebuild so that startup time is honest and reads are ready.
                for id in inner.installed.values() {
                    inner.compute.read(*id, state.ts)?;
                }
                info!(views = mvs.len(), tables = needed.len(), elapsed_ms = started.elapsed().as_millis() as u64, "rebuilt materialized views");
            }
        }
        Ok(views)
    }

    /// Applies a commit: its row changes to the tables the engine holds,
    /// views created or dropped by it, and the new timestamp. Views keep
    /// their changes after `keep_since` for readers of older snapshots and
    /// subscription cursors.
    pub fn commit(&self, before: &DbState, after: &DbState, writes: &[crate::txn::Write], truncated: &[u32], keep_since: u64) {
        let result = (|| -> Result<()> {
            let mut inner = self.inner.lock();
            let needed = needed_tables(after);
            let mut updates: Vec<TableUpdate> = Vec::new();
            // Tables a new view needs for the first time: their whole contents.
            for oid in needed.iter().filter(|o| !inner.fed.contains(o)).copied().collect::<Vec<_>>() {
                push_table(after, oid, 1, &mut updates);
                inner.fed.insert(oid);
            }
            let fresh: HashSet<u32> = updates.iter().map(|(o, _, _)| *o).collect();
            for oid in truncated.iter().filter(|o| inner.fed.contains(o) && !fresh.contains(o)) {
                push_table(before, *oid, -1, &mut updates);
                push_table(after, *oid, 1, &mut updates);
            }
            let touches_fed = writes.iter().any(|w| inner.fed.contains(&w.table));
            let relevant = if touches_fed { final_writes(writes) } else { Vec::new() };
            for (table, row, _) in relevant {
                if !inner.fed.contains(&table) || fresh.contains(&table) || truncated.contains(&table) {
                    continue;
                }
                let old = before.table(table).and_then(|t| t.rows.get(&row));
                let new = after.table(table).and_then(|t| t.rows.get(&row));
                if old == new {
                    continue;
                }
                if let Some(o) = old {
                    updates.push((table, o.to_vec(), -1));
                }
                if let Some(n) = new {
                    updates.push((table, n.to_vec(), 1));
                }
            }
            inner.compute.commit(after.ts, updates)?;
            // Views dropped and created by this commit.
            let live: HashSet<u32> = materialized_views(after).map(|m| m.oid).collect();
            let gone: Vec<u32> = inner.installed.keys().filter(|o| !live.contains(o)).copied().collect();
            for oid in gone {
                if let Some(id) = inner.installed.remove(&oid) {
                    inner.backfill_rows.remove(&oid);
                    inner.compute.drop_view(id)?;
                }
            }
            // A view whose plan was bound against an enum type that this
            // commit changed (labels added, renamed or renumbered) holds
            // the old labels: it is built again from the tables.
            let changed = changed_enum_types(before, after);
            if !changed.is_empty() {
                let stale: Vec<u32> = materialized_views(after)
                    .filter(|mv| inner.installed.contains_key(&mv.oid) && uses_any_type(after, mv, &changed))
                    .map(|mv| mv.oid)
                    .collect();
                for oid in stale {
                    if let Some(id) = inner.installed.remove(&oid) {
                        inner.backfill_rows.remove(&oid);
                        inner.compute.drop_view(id)?;
                    }
                }
            }
            for mv in materialized_views(after) {
                if !inner.installed.contains_key(&mv.oid) {
                    inner.install(after, mv)?;
                }
            }
            inner.update_feeds(after)?;
            inner.compute.allow_compaction(keep_since.min(after.ts));
            Ok(())
        })();
        if let Err(e) = result {
            // The commit is durable; views are rebuilt from tables at restart.
            error!(error = %e.message, "materialized views could not apply a commit");
        }
    }

    /// A materialized view's rows at `ts` (each row repeated by its count).
    pub fn read(&self, oid: u32, name: &str, ts: u64) -> Result<Vec<Row>> {
        let contents: ViewContents = self.reader.read(self.installed(oid, name)?, ts)?;
        Ok(expand(contents))
    }

    /// The rows of a materialized view at `ts` whose leading columns equal
    /// `prefix`, found without scanning the view.
    pub fn read_prefix(&self, oid: u32, name: &str, ts: u64, prefix: &[Datum]) -> Result<Vec<Row>> {
        let contents: ViewContents = self.reader.read_prefix(self.installed(oid, name)?, ts, prefix)?;
        Ok(expand(contents))
    }

    /// The rows of a materialized view at `ts` whose first column lies
    /// between `low` and `high` (inclusive), found without scanning.
    pub fn read_first_between(&self, oid: u32, name: &str, ts: u64, low: Option<&Datum>, high: Option<&Datum>) -> Result<Vec<Row>> {
        let contents = self.reader.read_first_between(self.installed(oid, name)?, ts, low, high)?;
        Ok(expand(contents))
    }

    /// The changes of a materialized view at the times in `(after, upto]`
    /// (see `ViewReader::changes`): `(row, time, diff)` ordered by time.
    pub fn changes(&self, oid: u32, name: &str, after: u64, upto: u64) -> Result<Vec<(Row, u64, isize)>> {
        self.reader.changes(self.installed(oid, name)?, after, upto)
    }

    /// The oldest time after which a materialized view's changes are kept.
    pub fn history_since(&self, oid: u32, name: &str) -> Result<u64> {
        let id = self.installed(oid, name)?;
        self.reader.since(id).ok_or_else(|| Error::internal(format!("view {} has no output", id.0)))
    }

    /// Whether the view's dataflow runs (it does once the transaction that
    /// created it has committed).
    pub fn is_installed(&self, oid: u32) -> bool {
        self.inner.lock().installed.contains_key(&oid)
    }

    fn installed(&self, oid: u32, name: &str) -> Result<ViewId> {
        let inner = self.inner.lock();
        inner.installed.get(&oid).copied().or_else(|| inner.feeds.get(&oid).map(|(id, _)| *id)).ok_or_else(|| {
            Error::new(
                SqlState::ObjectNotInPrerequisiteState,
                format!("materialized view \"{name}\" can be read once the transaction that created it has committed"),
            )
        })
    }

    /// Every installed view's backfill job (for `freshet_jobs`).
    pub fn jobs(&self) -> Vec<ViewJob> {
        let inner = self.inner.lock();
        let mut jobs: Vec<ViewJob> = inner
            .installed
            .iter()
            .filter_map(|(oid, id)| {
                let progress = self.reader.progress(*id)?;
                Some(ViewJob { oid: *oid, backfill_rows: inner.backfill_rows.get(oid).copied().unwrap_or(0), progress })
            })
            .collect();
        jobs.sort_by_key(|j| j.oid);
        jobs
    }
}

/// A materialized view's backfill: its initial computation over the rows
/// that existed when it was installed (at CREATE, or at startup).
#[derive(Clone, Debug)]
pub struct ViewJob {
    pub oid: u32,
    pub backfill_rows: u64,
    pub progress: ViewProgress,
}

impl Inner {
    /// Keeps one feed per table that a subscription follows: installs the
    /// missing ones, drops those no subscription needs, and rebuilds one
    /// whose table's columns changed (its history starts again).
    fn update_feeds(&mut self, state: &DbState) -> Result<()> {
        let wanted: HashMap<u32, Vec<freshet_common::DataType>> = subscribed_tables(state)
            .filter_map(|oid| state.catalog.relations.get(&oid))
            .map(|t| (t.oid, t.columns.iter().map(|c| c.ty.clone()).collect()))
            .collect();
        let stale: Vec<u32> = self
            .feeds
            .iter()
            .filter(|(oid, (_, types))| wanted.get(oid) != Some(types))
            .map(|(oid, _)| *oid)
            .collect();
        for oid in stale {
            if let Some((id, _)) = self.feeds.remove(&oid) {
                self.compute.drop_view(id)?;
            }
        }
        for (oid, column_types) in wanted {
            if self.feeds.contains_key(&oid) {
                continue;
            }
            let plan = RelExpr::Get { table: freshet_expr::TableRef(oid), column_types: column_types.clone(), with_row_id: false };
            let id = self.compute.create_view(&plan, &freshet_common::io::TextContext::default())?;
            self.feeds.insert(oid, (id, column_types));
        }
        Ok(())
    }

    /// Installs materialized view `mv` in the engine.
    fn install(&mut self, state: &DbState, mv: &RelationDef) -> Result<()> {
        let plan = bind_view(state, mv)?;
        let id = self.compute.create_view(&plan, &freshet_common::io::TextContext::default())?;
        let rows = match &mv.kind {
            RelKind::MaterializedView { depends_on, .. } => {
                depends_on.iter().filter_map(|t| state.table(*t)).map(|t| t.rows.len() as u64).sum()
            }
            _ => 0,
        };
        self.installed.insert(mv.oid, id);
        self.backfill_rows.insert(mv.oid, rows);
        Ok(())
    }
}

/// Each distinct row of `contents` repeated by its count.
fn expand(contents: ViewContents) -> Vec<Row> {
    {
        let mut rows = Vec::with_capacity(contents.len());
        for (row, count) in contents {
            for _ in 0..count.max(0) {
                rows.push(row.clone());
            }
        }
        rows
    }
}

fn materialized_views(state: &DbState) -> impl Iterator<Item = &RelationDef> {
    state.catalog.relations.values().filter(|r| matches!(r.kind, RelKind::MaterializedView { .. }))
}

/// The enum types whose definition differs between two states (both
/// versions' names, for matching view queries), by OID.
fn changed_enum_types(before: &DbState, after: &DbState) -> Vec<(u32, Vec<String>)> {
    if std::sync::Arc::ptr_eq(&before.catalog, &after.catalog) {
        return Vec::new();
    }
    after
        .catalog
        .types
        .values()
        .filter_map(|t| {
            let old = before.catalog.types.get(&t.ty.oid())?;
            (old.ty.def() != t.ty.def()).then(|| (t.ty.oid(), vec![old.ty.name().to_string(), t.ty.name().to_string()]))
        })
        .collect()
}

/// Whether materialized view `mv` may have bound one of `types`: its
/// columns or the columns of a table it reads are of the type, or its
/// query names it. Conservative: such a view is rebuilt.
fn uses_any_type(state: &DbState, mv: &RelationDef, types: &[(u32, Vec<String>)]) -> bool {
    let RelKind::MaterializedView { sql, depends_on } = &mv.kind else { return false };
    let mentioned = freshet_sql::names::identifiers_in(sql);
    types.iter().any(|(oid, names)| {
        mv.columns.iter().any(|c| c.ty.uses_enum(*oid))
            || depends_on
                .iter()
                .filter_map(|t| state.catalog.relations.get(t))
                .any(|t| t.columns.iter().any(|c| c.ty.uses_enum(*oid)))
            || names.iter().any(|n| mentioned.contains(n))
    })
}

/// Tables that subscriptions follow directly.
fn subscribed_tables(state: &DbState) -> impl Iterator<Item = u32> + '_ {
    state
        .catalog
        .subscriptions
        .values()
        .map(|s| s.from)
        .filter(|oid| state.catalog.relations.get(oid).is_some_and(|r| matches!(r.kind, RelKind::Table)))
}

fn needed_tables(state: &DbState) -> HashSet<u32> {
    let mut out: HashSet<u32> = subscribed_tables(state).collect();
    for mv in materialized_views(state) {
        if let RelKind::MaterializedView { depends_on, .. } = &mv.kind {
            out.extend(depends_on.iter().copied());
        }
    }
    out
}

fn push_table(state: &DbState, oid: u32, diff: isize, out: &mut Vec<TableUpdate>) {
    if let Some(t) = state.table(oid) {
        for row in t.rows.values() {
            out.push((oid, row.to_vec(), diff));
        }
    }
}

/// Binds a materialized view's query against `state` (as the creating
/// session did: its database, search path `public`).
fn bind_view(state: &DbState, mv: &RelationDef) -> Result<RelExpr> {
    let RelKind::MaterializedView { sql, .. } = &mv.kind else {
        return Err(Error::internal(format!("\"{}\" is not a materialized view", mv.name)));
    };
    let stmts = freshet_sql::parse_statements(sql)?;
    let Some(sqlparser::ast::Statement::Query(q)) = stmts.first() else {
        return Err(Error::internal(format!("materialized view \"{}\" has no query", mv.name)));
    };
    let catalog = ViewCatalog { state, database: mv.database.clone(), schema: mv.schema.clone() };
    let mut binder = freshet_sql::Binder::new(&catalog, vec![], freshet_common::io::TextContext::default());
    binder.bind_view_query(q)
}

/// The catalog a materialized view's query is bound against.
struct ViewCatalog<'a> {
    state: &'a DbState,
    database: String,
    schema: String,
}

impl Catalog for ViewCatalog<'_> {
    fn database(&self) -> &str {
        &self.database
    }
    fn search_path(&self) -> Vec<String> {
        vec!["pg_catalog".into(), self.schema.clone(), "public".into()]
    }
    fn relation(&self, schema: Option<&str>, name: &str) -> Option<RelationInfo> {
        let lookup = |s: &str| {
            if s == "pg_catalog" || s == "information_schema" {
                return crate::system::relation(s, name);
            }
            self.state.catalog.relation(&self.database, s, name).map(|r| r.info())
        };
        match schema {
            Some(s) => lookup(s),
            None => self.search_path().iter().find_map(|s| lookup(s)),
        }
    }
    fn relation_by_oid(&self, oid: u32) -> Option<RelationInfo> {
        self.state.catalog.relations.get(&oid).map(|r| r.info())
    }
    fn schema_exists(&self, name: &str) -> bool {
        self.state.catalog.schema_oid(&self.database, name).is_some()
    }
    fn user_type(&self, schema: Option<&str>, name: &str) -> Option<freshet_common::DataType> {
        self.state.catalog.find_type(&self.database, &self.search_path(), schema, name)
    }
    fn user_type_by_oid(&self, oid: u32) -> Option<freshet_common::DataType> {
        self.state.catalog.type_by_oid(&self.database, oid)
    }
    fn setting(&self, _name: &str) -> Option<String> {
        None
    }
    fn user(&self) -> &str {
        "root"
    }
    fn backend_pid(&self) -> i32 {
        0
    }
}

