//! The source driver: runs the connector of every source and connector
//! table in the catalog and commits what it produces.
//!
//! Owns when connectors run and how their rows become durable; the
//! connectors themselves (datagen, MQTT, JSON decoding) are
//! `freshet-connectors`'. The catalog entry (`CatalogState::sources`) is
//! the truth: after every commit that changes it, and at startup,
//! [`Sources::reconcile`] starts a task for each entry that has none and
//! stops the tasks of entries that are gone.
//!
//! Threads: each connector is one tokio task, on the runtime the server
//! was opened in (`Handle::try_current`; the `freshet` binary opens it on
//! a runtime thread) or else on a one-thread runtime of its own. The MQTT
//! client is async, and the datagen task only wakes every 100 ms, so
//! tasks cost nothing while idle; commits, which take the commit lock and
//! fsync, run on the runtime's blocking pool (`spawn_blocking`).
//!
//! Delivery: a task batches what arrived in [`FLUSH_INTERVAL`] (at most
//! [`BATCH_ROWS_MAX`] rows) into one transaction committed through
//! `Server::commit_locked`, like any INSERT, so materialized views see the
//! rows at the commit's timestamp. The connector's progress (datagen: the
//! number of rows emitted) is stored in the same commit, so after a crash
//! a datagen source continues exactly after its last committed row. MQTT
//! has no offsets: messages that arrive while the server is down are lost
//! unless the broker keeps them for a persistent session.
//!
//! Rows a connector produces are checked like inserted rows (types,
//! NOT NULL); a row that fails is skipped with a warning and counted, and
//! so is a message that does not decode. A table with a primary key takes
//! a row whose key exists as a replacement of the old row (RisingWave's
//! upsert); a row that breaks another UNIQUE constraint is skipped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use freshet_common::{Result, Row, TimestampTz};
use freshet_connectors::mqtt::{ConnectionState, MqttSpec};
use freshet_connectors::{datagen::DatagenSpec, json::JsonDecoder, ConnectorSpec};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::catalog::{CatalogState, RelationDef, SourceDef};
use crate::server::Server;
use crate::txn::Txn;

/// How long a connector collects rows before committing them.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// The most rows one commit of a connector holds.
pub const BATCH_ROWS_MAX: usize = 10_000;

/// Messages an MQTT client may hold while the previous batch commits.
const MQTT_QUEUE_MESSAGES: usize = 10_000;

/// How long a connector waits before retrying a commit that failed.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// See the module comment. One per server.
pub struct Sources {
    handle: Handle,
    /// The runtime owned when the server was not opened inside one.
    own_runtime: Mutex<Option<Runtime>>,
    server: OnceLock<Weak<Server>>,
    running: Mutex<BTreeMap<u32, Running>>,
    /// Progress read at startup, taken by each connector when it starts.
    recovered: Mutex<BTreeMap<u32, Vec<u8>>>,
}

struct Running {
    def: SourceDef,
    task: JoinHandle<()>,
    status: Arc<SourceStatus>,
}

/// What a running connector has done, for logs and `freshet_sources`.
#[derive(Debug, Default)]
pub struct SourceStatus {
    /// Rows committed since the connector (re)started.
    pub rows: AtomicU64,
    /// Messages or rows skipped since it started.
    pub errors: AtomicU64,
    /// `running`, `connecting` (MQTT, before the first connection),
    /// `reconnecting: <why>` (MQTT), `finished` (a datagen sequence
    /// ended) or `failed: <why>`.
    pub state: Mutex<String>,
    /// The last skipped message's or row's problem.
    pub last_error: Mutex<Option<String>>,
}

/// One source's status (`Sources::statuses`).
#[derive(Clone, Debug)]
pub struct StatusRow {
    pub oid: u32,
    pub connector: String,
    pub state: String,
    pub rows: u64,
    pub errors: u64,
    pub last_error: Option<String>,
}

/// The datagen connector's stored progress.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DatagenProgress {
    /// Rows 0..rows_emitted were generated and committed.
    rows_emitted: u64,
}

/// What committing a batch did.
enum Committed {
    Rows,
    /// The source was dropped: its task ends.
    Dropped,
}

impl Sources {
    /// A driver that starts nothing until [`Sources::attach`]; `recovered`
    /// is the progress read back from storage by source table OID.
    pub fn new(recovered: BTreeMap<u32, Vec<u8>>) -> Sources {
        let (handle, own_runtime) = match Handle::try_current() {
            Ok(handle) => (handle, None),
            Err(_) => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("freshet-sources")
                    .enable_all()
                    .build()
                    .expect("a one-thread tokio runtime builds (it fails only when threads cannot be spawned)");
                (runtime.handle().clone(), Some(runtime))
            }
        };
        Sources {
            handle,
            own_runtime: Mutex::new(own_runtime),
            server: OnceLock::new(),
            running: Mutex::new(BTreeMap::new()),
            recovered: Mutex::new(recovered),
        }
    }

    /// Tells the driver its server (tasks hold it weakly, so a dropped
    /// server stops them).
    pub fn attach(&self, server: &Arc<Server>) {
        let _ = self.server.set(Arc::downgrade(server));
    }

    /// Starts a connector for each source of `catalog` without one and
    /// stops those whose source is gone or changed.
    pub fn reconcile(&self, catalog: &CatalogState) {
        let Some(server) = self.server.get().cloned() else {
            return;
        };
        let mut running = self.running.lock();
        let stale: Vec<u32> = running
            .iter()
            .filter(|(oid, r)| catalog.sources.get(oid) != Some(&r.def))
            .map(|(oid, _)| *oid)
            .collect();
        for oid in stale {
            if let Some(r) = running.remove(&oid) {
                r.task.abort();
                info!(table_oid = oid, connector = %r.def.connector(), "source stopped");
            }
        }
        for (oid, def) in &catalog.sources {
            if running.contains_key(oid) {
                continue;
            }
            let Some(rel) = catalog.relations.get(oid) else {
                continue;
            };
            let status = Arc::new(SourceStatus::default());
            let progress = self.recovered.lock().remove(oid);
            let task = self.start(server.clone(), rel, def, progress, status.clone());
            running.insert(
                *oid,
                Running {
                    def: def.clone(),
                    task,
                    status,
                },
            );
        }
    }

    fn start(
        &self,
        server: Weak<Server>,
        rel: &RelationDef,
        def: &SourceDef,
        progress: Option<Vec<u8>>,
        status: Arc<SourceStatus>,
    ) -> JoinHandle<()> {
        let name = format!("{}.{}", rel.schema, rel.name);
        let ctx = SourceContext {
            server,
            oid: rel.oid,
            name: name.clone(),
            status,
        };
        *ctx.status.state.lock() = "running".into();
        match def.spec(rel) {
            Ok(ConnectorSpec::Datagen(spec)) => {
                let emitted = match progress
                    .as_deref()
                    .map(serde_json::from_slice::<DatagenProgress>)
                {
                    None => 0,
                    Some(Ok(p)) => p.rows_emitted,
                    Some(Err(e)) => {
                        // Starting over would repeat rows; refusing to run is the safe side.
                        error!(source = %name, error = %e, "the stored progress of a datagen source is corrupt; the source does not run");
                        *ctx.status.state.lock() =
                            format!("failed: stored progress is corrupt: {e}");
                        return self.handle.spawn(async {});
                    }
                };
                info!(source = %name, table_oid = rel.oid, rows_per_second = spec.rows_per_second, resume_at_row = emitted, "datagen source started");
                self.handle.spawn(run_datagen(ctx, spec, emitted))
            }
            Ok(ConnectorSpec::Mqtt(spec)) => {
                let columns = rel
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), c.ty.clone()))
                    .collect();
                info!(source = %name, table_oid = rel.oid, host = %spec.host, port = spec.port, topic = %spec.topic, "mqtt source started");
                *ctx.status.state.lock() = "connecting".into();
                self.handle
                    .spawn(run_mqtt(ctx, spec, JsonDecoder::new(columns)))
            }
            Err(e) => {
                // Checked at CREATE; only a definition stored by another version gets here.
                error!(source = %name, error = %e.message, "a source's connector definition is invalid; the source does not run");
                *ctx.status.state.lock() = format!("failed: {}", e.message);
                self.handle.spawn(async {})
            }
        }
    }

    /// The status of every source that has a connector task.
    pub fn statuses(&self) -> Vec<StatusRow> {
        self.running
            .lock()
            .iter()
            .map(|(oid, r)| StatusRow {
                oid: *oid,
                connector: r.def.connector(),
                state: r.status.state.lock().clone(),
                rows: r.status.rows.load(Ordering::Relaxed),
                errors: r.status.errors.load(Ordering::Relaxed),
                last_error: r.status.last_error.lock().clone(),
            })
            .collect()
    }
}

impl Drop for Sources {
    fn drop(&mut self) {
        for (_, r) in std::mem::take(&mut *self.running.lock()) {
            r.task.abort();
        }
        if let Some(runtime) = self.own_runtime.lock().take() {
            runtime.shutdown_background();
        }
    }
}

/// What a connector task knows about its source.
struct SourceContext {
    server: Weak<Server>,
    oid: u32,
    name: String,
    status: Arc<SourceStatus>,
}

impl SourceContext {
    /// Records a skipped message or row.
    fn skipped(&self, problem: String) {
        let errors = self.status.errors.fetch_add(1, Ordering::Relaxed) + 1;
        warn!(source = %self.name, errors, problem = %problem, "source skipped a message");
        *self.status.last_error.lock() = Some(problem);
    }

    /// Commits `rows` (and `progress`) until it succeeds, the source is
    /// dropped or the server is gone; a failed commit (disk full, say) is
    /// retried after [`RETRY_DELAY`].
    async fn commit(&self, rows: Vec<Row>, progress: Option<Vec<u8>>) -> Committed {
        let rows = Arc::new(rows);
        loop {
            let Some(server) = self.server.upgrade() else {
                return Committed::Dropped;
            };
            let (oid, batch, progress_now) = (self.oid, rows.clone(), progress.clone());
            let result = tokio::task::spawn_blocking(move || {
                commit_batch(&server, oid, &batch, progress_now)
            })
            .await;
            match result {
                Ok(Ok((Committed::Rows, skipped))) => {
                    for problem in skipped {
                        self.skipped(problem);
                    }
                    self.status
                        .rows
                        .fetch_add(rows.len() as u64, Ordering::Relaxed);
                    return Committed::Rows;
                }
                Ok(Ok((Committed::Dropped, _))) => return Committed::Dropped,
                Ok(Err(e)) => {
                    warn!(source = %self.name, error = %e.message, retry_ms = RETRY_DELAY.as_millis() as u64, "source commit failed; retrying")
                }
                Err(e) => {
                    warn!(source = %self.name, error = %e, "source commit task failed; retrying")
                }
            }
            tokio::time::sleep(RETRY_DELAY).await;
        }
    }
}

/// Commits one batch of a source's rows under the commit lock: each row
/// checked against the table, upserted by primary key when it has one.
/// Returns the problems of the rows skipped.
fn commit_batch(
    server: &Server,
    oid: u32,
    rows: &[Row],
    progress: Option<Vec<u8>>,
) -> Result<(Committed, Vec<String>)> {
    let guard = server.lock_commits();
    let snapshot = server.snapshot();
    let (Some(_), Some(rel)) = (
        snapshot.catalog.sources.get(&oid),
        snapshot.catalog.relations.get(&oid).cloned(),
    ) else {
        return Ok((Committed::Dropped, Vec::new()));
    };
    let mut txn = Txn::new(snapshot, freshet_common::datetime::now(), false);
    let constraints = rel.unique_constraints();
    let primary = constraints.first().filter(|c| c.primary).copied();
    let mut skipped = Vec::new();
    for row in rows {
        let row = match crate::exec::check_row(&rel, row.clone()) {
            Ok(row) => row,
            Err(e) => {
                skipped.push(e.message);
                continue;
            }
        };
        // Upsert: a row whose primary key exists replaces that row.
        let mut replaced = None;
        if let Some(pk) = primary {
            if let Some(key) = crate::index_key::index_key(&rel, pk, &row)? {
                let existing = txn
                    .work
                    .table(oid)
                    .and_then(|t| t.keys.first().and_then(|idx| idx.get(&key).copied()));
                if let Some(id) = existing {
                    replaced = txn.delete(&rel, id)?.map(|old| (id, old.to_vec()));
                }
            }
        }
        if let Err(e) = txn.insert(&rel, server.next_row_id(), row) {
            skipped.push(e.message);
            if let Some((id, old)) = replaced {
                txn.insert(&rel, id, old)?;
            }
        }
    }
    if let Some(progress) = progress {
        txn.source_progress.push((oid, progress));
    }
    server.commit_locked(&guard, txn)?;
    Ok((Committed::Rows, skipped))
}

/// Generates rows at the source's rate, from row `emitted` on, until its
/// sequences end.
async fn run_datagen(ctx: SourceContext, spec: DatagenSpec, mut emitted: u64) {
    let total = spec.rows_total();
    let started = Instant::now();
    let first = emitted;
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if total.is_some_and(|t| emitted >= t) {
            info!(source = %ctx.name, rows = emitted, "datagen source reached the end of its sequence");
            *ctx.status.state.lock() = "finished".into();
            return;
        }
        tick.tick().await;
        let due = first
            .saturating_add((started.elapsed().as_secs_f64() * spec.rows_per_second as f64) as u64);
        let mut target = due.min(emitted + BATCH_ROWS_MAX as u64);
        if let Some(t) = total {
            target = target.min(t);
        }
        if target <= emitted {
            continue;
        }
        let now = TimestampTz::now();
        let mut rows = Vec::with_capacity((target - emitted) as usize);
        for n in emitted..target {
            match spec.row(n, now) {
                Ok(row) => rows.push(row),
                Err(e) => ctx.skipped(format!("row {n}: {}", e.message)),
            }
        }
        let progress = serde_json::to_vec(&DatagenProgress {
            rows_emitted: target,
        })
        .expect("datagen progress serializes");
        match ctx.commit(rows, Some(progress)).await {
            Committed::Rows => emitted = target,
            Committed::Dropped => return,
        }
    }
}

/// Receives MQTT messages and commits their rows in batches.
async fn run_mqtt(ctx: SourceContext, spec: MqttSpec, decoder: JsonDecoder) {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(MQTT_QUEUE_MESSAGES);
    // A persistent session needs a stable client id; a clean one gets a
    // unique id, so two servers on one broker do not take each other's.
    let client_id = if spec.clean_start {
        format!(
            "{}-{}-{}-{}",
            spec.client_prefix,
            ctx.oid,
            std::process::id(),
            started_micros()
        )
    } else {
        format!("{}-{}", spec.client_prefix, ctx.oid)
    };
    // The client ends when `receiver` is dropped, that is when this task ends.
    let status = ctx.status.clone();
    let on_state = move |state| {
        *status.state.lock() = match state {
            ConnectionState::Connected => "running".to_string(),
            ConnectionState::Reconnecting(why) => format!("reconnecting: {why}"),
        };
    };
    tokio::spawn(freshet_connectors::mqtt::run(
        spec,
        client_id,
        sender,
        ctx.name.clone(),
        on_state,
    ));
    while let Some(first) = receiver.recv().await {
        let mut payloads = vec![first];
        let deadline = tokio::time::Instant::now() + FLUSH_INTERVAL;
        while payloads.len() < BATCH_ROWS_MAX {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(payload)) => payloads.push(payload),
                Ok(None) | Err(_) => break,
            }
        }
        let mut rows = Vec::with_capacity(payloads.len());
        for payload in payloads {
            match decoder.decode(&payload) {
                Ok(row) => rows.push(row),
                Err(problem) => ctx.skipped(problem),
            }
        }
        if rows.is_empty() {
            continue;
        }
        if let Committed::Dropped = ctx.commit(rows, None).await {
            return;
        }
    }
}

fn started_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}
