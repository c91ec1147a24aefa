//! Sinks: a materialized view's changes flowing out of Freshet.
//!
//! This module owns the sinks' DDL (CREATE SINK / DROP SINK, the view a
//! `CREATE SINK ... AS query` creates and owns, and the dependency of a
//! sink on its view: DROP MATERIALIZED VIEW needs CASCADE)
//! and the running sink tasks ([`Sinks`]): one OS thread per sink with its
//! own single-threaded tokio runtime for the connector's I/O. A task runs
//! while its sink is in the committed catalog: [`Sinks::reconcile`] starts
//! and stops tasks after every DDL commit (`Server::commit_locked`) and at
//! startup (`Server::open`).
//!
//! A task's loop ([`run`]): deliver the view's snapshot at the latest
//! commit, then wait for commits (`CommitClock::wait_after`) and deliver
//! the view's changes since the last delivered time (`Views::changes`),
//! one batch per wake-up (the changes of every commit since). A failed
//! batch is retried unchanged, after a backoff of 0.1 s doubling to 10 s,
//! on a new connection, so the position is never lost while the server
//! runs. When the view no longer keeps the changes after the position
//! (55000: the sink fell behind the view's 1024 commits of history, or the
//! view was rebuilt), the task delivers a fresh snapshot instead.
//!
//! Delivery guarantees: the position is not persisted. After a restart
//! (or a fallen-behind resync) the snapshot is delivered again: an upsert
//! target is made equal to it (its rows deleted and the snapshot upserted
//! in one transaction), so it converges exactly; append-only targets get
//! the current rows again (at-least-once, duplicates possible).
//!
//! The connectors themselves (options, encodings, I/O) are in the
//! `freshet-sinks` crate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use freshet_common::{Error, Result, SqlState};
use freshet_sinks::{Batch, Column, SinkConfig, SinkWriter};
use freshet_sql::plan::SinkFrom;
use parking_lot::Mutex;
use tracing::{debug, error, info, warn};

use crate::catalog::{CatalogState, ColumnDef, RelKind, RelationDef, SinkDef};
use crate::server::Server;
use crate::txn::Txn;

/// The longest wait between two delivery attempts of a failing batch.
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// The first wait after a failure.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// How long a task waits for a commit before checking that it should
/// still run.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// The running sink tasks, by sink OID.
#[derive(Default)]
pub struct Sinks {
    running: Mutex<HashMap<u32, Running>>,
}

struct Running {
    stop: Arc<AtomicBool>,
    status: Arc<Mutex<SinkStatus>>,
}

/// What a sink task has done, for `freshet_sinks` (and the logs).
#[derive(Clone, Debug, Default)]
pub struct SinkStatus {
    pub oid: u32,
    /// `starting`, `snapshot` (delivering its view's contents), `running`
    /// (delivering changes) or `retrying` (the last attempt failed).
    pub state: &'static str,
    /// The commit time through which the view's changes are delivered.
    pub delivered_ts: Option<u64>,
    /// Snapshots delivered (1 after a start; more after falling behind).
    pub snapshots: u64,
    /// Batches of changes delivered.
    pub batches: u64,
    /// Rows and changes delivered, snapshots included.
    pub rows: u64,
    /// Failed delivery attempts.
    pub retries: u64,
    pub last_delivery: Option<std::time::SystemTime>,
    pub last_error: Option<String>,
}

impl Sinks {
    /// Starts a task for every sink of `catalog` that has none and stops
    /// the tasks of sinks no longer in it. Idempotent; called with the
    /// commit lock held (or before the server serves), so calls do not
    /// interleave.
    pub fn reconcile(&self, server: &Weak<Server>, catalog: &CatalogState) {
        let mut running = self.running.lock();
        running.retain(|oid, task| {
            let keep = catalog.sinks.contains_key(oid);
            if !keep {
                task.stop.store(true, Ordering::SeqCst);
            }
            keep
        });
        for def in catalog.sinks.values() {
            if running.contains_key(&def.oid) {
                continue;
            }
            let stop = Arc::new(AtomicBool::new(false));
            let status = Arc::new(Mutex::new(SinkStatus { oid: def.oid, state: "starting", ..SinkStatus::default() }));
            let task = Task { server: server.clone(), def: def.clone(), stop: stop.clone(), status: status.clone() };
            let spawned = std::thread::Builder::new().name(format!("sink-{}", def.oid)).spawn(move || task.run());
            match spawned {
                Ok(_) => {
                    info!(sink = %def.name, sink_oid = def.oid, "started sink");
                    running.insert(def.oid, Running { stop, status });
                }
                // Not inserted: the next reconcile (the next DDL commit) tries again.
                Err(e) => error!(sink = %def.name, error = %e, "cannot start a thread for the sink"),
            }
        }
    }
}

impl Sinks {
    /// The status of every running sink task, by OID.
    pub fn statuses(&self) -> Vec<SinkStatus> {
        let mut out: Vec<SinkStatus> = self.running.lock().values().map(|r| r.status.lock().clone()).collect();
        out.sort_by_key(|s| s.oid);
        out
    }
}

/// One sink's task (see the module comment).
struct Task {
    server: Weak<Server>,
    def: SinkDef,
    stop: Arc<AtomicBool>,
    status: Arc<Mutex<SinkStatus>>,
}

impl Task {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps `d`, waking early when the task is stopped.
    fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopped() && Instant::now() < until {
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
        }
    }

    fn run(self) {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                error!(sink = %self.def.name, error = %e, "cannot start the sink's runtime; the sink does not run");
                return;
            }
        };
        let name = self.def.name.clone();
        // The view's columns and the checked options, fixed for the task's life.
        let Some((view, config)) = self.setup() else { return };
        let columns: Vec<Column> = view.columns.iter().map(|c| Column { name: c.name.clone(), ty: c.ty.clone() }).collect();
        let client_name = format!("freshet-sink-{}", self.def.name);
        let mut writer: Option<SinkWriter> = None;
        // The time through which the view's changes were delivered.
        let mut position: Option<u64> = None;
        let mut backoff = BACKOFF_MIN;
        while !self.stopped() {
            let Some(server) = self.server.upgrade() else { return };
            let latest = server.clock.latest();
            let batch = match position {
                None => match server.views.read(view.oid, &view.name, latest) {
                    Ok(rows) => Batch::Snapshot(rows),
                    Err(e) => {
                        warn!(sink = %name, error = %e.message, retry_in_ms = backoff.as_millis() as u64, "cannot read the sink's view");
                        self.failed(&e.message);
                        drop(server);
                        self.pause(backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        continue;
                    }
                },
                Some(p) if latest > p => match server.views.changes(view.oid, &view.name, p, latest) {
                    Ok(changes) => Batch::Changes(changes),
                    Err(e) if e.state == SqlState::ObjectNotInPrerequisiteState => {
                        warn!(sink = %name, position = p, error = %e.message, "sink fell behind its view's history; sending a fresh snapshot");
                        position = None;
                        continue;
                    }
                    Err(e) => {
                        warn!(sink = %name, error = %e.message, retry_in_ms = backoff.as_millis() as u64, "cannot read the sink's view changes");
                        self.failed(&e.message);
                        drop(server);
                        self.pause(backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        continue;
                    }
                },
                Some(p) => {
                    let stop = || self.stopped();
                    server.clock.wait_after(p, Instant::now() + IDLE_WAIT, &stop);
                    continue;
                }
            };
            drop(server);
            let snapshot = matches!(batch, Batch::Snapshot(_));
            if snapshot {
                self.status.lock().state = "snapshot";
            }
            if !batch.is_empty() || snapshot {
                // Deliver the same batch until it goes through (or the sink is dropped).
                loop {
                    if self.stopped() {
                        return;
                    }
                    let result = runtime.block_on(async {
                        if writer.is_none() {
                            writer = Some(SinkWriter::connect(&config, &columns, &client_name).await?);
                        }
                        writer.as_mut().expect("connected just above").deliver(&batch).await
                    });
                    match result {
                        Ok(()) => {
                            backoff = BACKOFF_MIN;
                            break;
                        }
                        Err(e) => {
                            warn!(sink = %name, error = %e, rows = batch.len(), retry_in_ms = backoff.as_millis() as u64, "sink delivery failed; retrying the same batch");
                            self.failed(&e.to_string());
                            writer = None;
                            self.pause(backoff);
                            backoff = (backoff * 2).min(BACKOFF_MAX);
                        }
                    }
                }
            }
            if snapshot {
                info!(sink = %name, rows = batch.len(), ts = latest, "sink delivered its view's snapshot");
            } else {
                debug!(sink = %name, changes = batch.len(), ts = latest, "sink delivered changes");
            }
            position = Some(latest);
            let mut status = self.status.lock();
            status.state = "running";
            status.delivered_ts = Some(latest);
            if snapshot {
                status.snapshots += 1;
            } else if !batch.is_empty() {
                status.batches += 1;
            }
            if snapshot || !batch.is_empty() {
                status.rows += batch.len() as u64;
                status.last_delivery = Some(std::time::SystemTime::now());
            }
        }
        debug!(sink = %name, "sink stopped");
    }

    /// Records a failed attempt.
    fn failed(&self, message: &str) {
        let mut status = self.status.lock();
        status.state = "retrying";
        status.retries += 1;
        status.last_error = Some(message.to_string());
    }

    /// The sink's view and checked options; `None` (logged) when the sink
    /// cannot run: its view is gone (it is being dropped) or its options
    /// no longer check (a catalog from another version).
    fn setup(&self) -> Option<(RelationDef, SinkConfig)> {
        let server = self.server.upgrade()?;
        let state = server.snapshot();
        let Some(view) = state.catalog.relations.get(&self.def.from).cloned() else {
            warn!(sink = %self.def.name, "the sink's materialized view does not exist; the sink does not run");
            return None;
        };
        let columns: Vec<Column> = view.columns.iter().map(|c| Column { name: c.name.clone(), ty: c.ty.clone() }).collect();
        match SinkConfig::parse(&self.def.options, self.def.format.as_ref(), &columns) {
            Ok(config) => Some((view, config)),
            Err(e) => {
                error!(sink = %self.def.name, error = %e.message, "the sink's options are invalid; the sink does not run");
                None
            }
        }
    }
}

/// CREATE SINK in `txn`: checks the name and the options against the
/// view's columns and records the sink (with its own view for `AS
/// query`, named `__sink_<name>`); its task starts when `txn` commits.
#[allow(clippy::too_many_arguments)]
pub(crate) fn create_sink(
    txn: &mut Txn,
    database: &str,
    schema: String,
    name: String,
    from: SinkFrom,
    options: Vec<(String, String)>,
    format: Option<freshet_sinks::FormatClause>,
    if_not_exists: bool,
) -> Result<()> {
    let catalog = &txn.work.catalog;
    let taken = catalog.sinks.values().any(|s| s.database == database && s.schema == schema && s.name == name)
        || catalog.relation(database, &schema, &name).is_some();
    if taken {
        if if_not_exists {
            return Ok(());
        }
        return Err(Error::new(SqlState::DuplicateObject, format!("sink \"{name}\" already exists")));
    }
    let (from, owns_view) = match from {
        SinkFrom::View(oid) => {
            let view = crate::exec::relation(&txn.work, oid)?;
            let columns: Vec<Column> = view.columns.iter().map(|c| Column { name: c.name.clone(), ty: c.ty.clone() }).collect();
            SinkConfig::parse(&options, format.as_ref(), &columns)?;
            (oid, false)
        }
        SinkFrom::Query { sql, plan, columns } => {
            let sink_columns: Vec<Column> = columns.iter().map(|c| Column { name: c.name.clone(), ty: c.ty.clone() }).collect();
            SinkConfig::parse(&options, format.as_ref(), &sink_columns)?;
            (create_sink_view(txn, database, &schema, &name, sql, &plan, &columns)?, true)
        }
    };
    let cat = txn.work.catalog_mut();
    let oid = cat.allocate_oid();
    cat.sinks.insert(oid, SinkDef { oid, database: database.to_string(), schema, name, from, options, format, owns_view });
    txn.structural = true;
    Ok(())
}

/// The materialized view of `CREATE SINK name AS query`: `__sink_<name>`
/// in the sink's schema, checked as CREATE MATERIALIZED VIEW checks.
fn create_sink_view(
    txn: &mut Txn,
    database: &str,
    schema: &str,
    name: &str,
    sql: String,
    plan: &freshet_expr::RelExpr,
    columns: &[freshet_sql::plan::OutputColumn],
) -> Result<u32> {
    let view_name = format!("__sink_{name}");
    if txn.work.catalog.relation(database, schema, &view_name).is_some() {
        return Err(Error::new(SqlState::DuplicateTable, format!("relation \"{view_name}\" already exists"))
            .with_detail(format!("CREATE SINK ... AS query names its materialized view \"{view_name}\".")));
    }
    freshet_compute::dataflow::prepare_view_plan(plan)?;
    let mut depends_on = Vec::new();
    plan.visit(&mut |n| {
        if let freshet_expr::RelExpr::Get { table, .. } = n {
            if !depends_on.contains(&table.0) {
                depends_on.push(table.0);
            }
        }
    });
    let cat = txn.work.catalog_mut();
    let oid = cat.allocate_oid();
    cat.relations.insert(
        oid,
        RelationDef {
            oid,
            database: database.to_string(),
            schema: schema.to_string(),
            name: view_name,
            kind: RelKind::MaterializedView { sql, depends_on },
            columns: columns.iter().map(|c| ColumnDef::new(c.name.clone(), c.ty.clone(), false)).collect(),
            indexes: vec![],
            foreign_keys: vec![],
            checks: vec![],
        },
    );
    Ok(oid)
}

/// DROP SINK [IF EXISTS] names: a name without a schema is looked up in
/// `search_path`.
pub(crate) fn drop_sinks(txn: &mut Txn, database: &str, search_path: &[String], names: Vec<(Option<String>, String)>, if_exists: bool) -> Result<()> {
    for (schema, name) in names {
        let found = txn
            .work
            .catalog
            .sinks
            .values()
            .filter(|s| s.database == database && s.name == name)
            .filter(|s| match &schema {
                Some(wanted) => &s.schema == wanted,
                None => search_path.contains(&s.schema),
            })
            .min_by_key(|s| search_path.iter().position(|p| *p == s.schema).unwrap_or(usize::MAX))
            .map(|s| s.oid);
        match found {
            Some(oid) => {
                let cat = txn.work.catalog_mut();
                if let Some(sink) = cat.sinks.remove(&oid) {
                    if sink.owns_view {
                        cat.relations.remove(&sink.from);
                    }
                }
                txn.structural = true;
            }
            None if if_exists => {}
            None => return Err(Error::new(SqlState::UndefinedObject, format!("sink \"{name}\" does not exist"))),
        }
    }
    Ok(())
}

/// The check DROP of relations `doomed` (a materialized view, or those a
/// DROP ... CASCADE takes along) makes for sinks reading them: 2BP01
/// naming the first such sink without CASCADE; with CASCADE the sinks go
/// too.
pub(crate) fn drop_dependent_sinks(txn: &mut Txn, doomed: &[u32], cascade: bool, kind_name: &str, name: &str) -> Result<()> {
    let dependents: Vec<(u32, String)> = txn
        .work
        .catalog
        .sinks
        .values()
        .filter(|s| doomed.contains(&s.from))
        .map(|s| (s.oid, s.name.clone()))
        .collect();
    let Some((_, first)) = dependents.first() else { return Ok(()) };
    if !cascade {
        return Err(Error::new(SqlState::DependentObjectsStillExist, format!("cannot drop {kind_name} {name} because other objects depend on it"))
            .with_detail(format!("sink {first} depends on {kind_name} {name}"))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
    }
    let cat = txn.work.catalog_mut();
    for (oid, _) in &dependents {
        cat.sinks.remove(oid);
    }
    txn.structural = true;
    Ok(())
}
