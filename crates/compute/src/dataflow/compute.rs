//! The controller: [`Compute`], the handle the session layer holds, and the
//! state it shares with the workers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::Thread;

use freshet_common::io::TextContext;
use freshet_common::{Datum, Error, Result, Row};
use freshet_expr::RelExpr;
use timely::communication::initialize::WorkerGuards;
use tracing::info;

use super::row::{DataRow, EvalError};
use super::worker::{self, Command};
use super::{Diff, Time};

/// Identifies an installed view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ViewId(pub u64);

/// One row change of a table: `(table oid, row, diff)` with diff +1 for an
/// insert and -1 for a delete (an update is a delete and an insert).
pub type TableUpdate = (u32, Row, Diff);

/// A view's contents at one timestamp: each distinct row with its
/// multiplicity (always positive).
pub type ViewContents = BTreeMap<Row, Diff>;

/// A view's initial computation ("backfill") over the data that existed
/// when it was installed: when it started and when every worker had
/// produced its output for that data.
#[derive(Clone, Debug)]
pub struct ViewProgress {
    pub started: std::time::SystemTime,
    /// When the backfill finished (`None` while it runs).
    pub finished: Option<std::time::SystemTime>,
    /// Workers that have finished their share of the backfill.
    pub workers_done: usize,
    pub workers: usize,
}

/// The compute layer: timely workers maintaining materialized views over
/// tables fed by committed transactions.
///
/// Threading: [`Compute::new`] starts `workers` timely worker threads
/// (`timely::execute` with `Config::process(workers)`). Each worker owns its
/// share of every dataflow and runs a loop that drains commands from its own
/// channel, steps its dataflows and parks when idle; this handle sends
/// commands over those channels and unparks the threads. Workers publish
/// every view's output updates and frontier into a mutex-protected shared
/// state, which [`Compute::read`] waits on (a condition variable, no
/// polling). The handle is `Send` and its methods take `&mut self` for
/// anything that changes dataflows or inputs: one caller (the committer)
/// drives it, which is what keeps every worker's command sequence the same.
/// Other threads read views through a [`ViewReader`] ([`Compute::reader`]),
/// which needs no access to the handle.
///
/// Time: the handle keeps an input frontier `upper`; updates are accepted
/// at times `>= upper`, and [`Compute::advance_to`] closes the times before
/// its argument. A view's contents at time `t` become readable once every
/// input has been advanced past `t` and the workers have caught up.
///
/// Memory: each table's rows are arranged once (sharded over the workers,
/// O(rows) in total) and shared by all views; each view adds the
/// arrangements its operators need, and its read side keeps the contents at
/// its `since` plus the updates after it (see
/// [`Compute::allow_compaction`]).
pub struct Compute {
    senders: Vec<Sender<Command>>,
    threads: Vec<Thread>,
    guards: Option<WorkerGuards<()>>,
    shared: Arc<Shared>,
    tables: BTreeSet<u32>,
    views: BTreeSet<ViewId>,
    next_view: u64,
    upper: Time,
    /// The worker that receives the next table update (round robin).
    next_worker: usize,
}

impl Compute {
    /// Starts `workers` worker threads (at least one).
    pub fn new(workers: usize) -> Result<Compute> {
        assert!(workers > 0, "compute needs at least one worker");
        let shared = Arc::new(Shared::new(workers));
        let mut senders = Vec::with_capacity(workers);
        let mut receivers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = mpsc::channel();
            senders.push(tx);
            receivers.push(Some(rx));
        }
        let receivers = Arc::new(Mutex::new(receivers));
        let (thread_tx, thread_rx) = mpsc::channel::<(usize, Thread)>();
        let thread_tx = Mutex::new(thread_tx);
        let worker_shared = Arc::clone(&shared);
        let guards = timely::execute(timely::Config::process(workers), move |worker| {
            let index = worker.index();
            let _stopped = StoppedGuard { shared: Arc::clone(&worker_shared) };
            let commands = lock(&receivers)[index].take().expect("each worker takes its own command channel once");
            let announced = lock(&thread_tx).send((index, std::thread::current()));
            if announced.is_err() {
                return;
            }
            worker::run(worker, commands, Arc::clone(&worker_shared));
        })
        .map_err(|e| Error::internal(format!("cannot start compute workers: {e}")))?;
        let mut threads: Vec<Option<Thread>> = vec![None; workers];
        for _ in 0..workers {
            let (index, thread) = thread_rx
                .recv()
                .map_err(|_| Error::internal("a compute worker stopped while starting"))?;
            threads[index] = Some(thread);
        }
        let threads = threads.into_iter().map(|t| t.expect("every worker announced its thread")).collect();
        info!(workers, "started compute workers");
        Ok(Compute {
            senders,
            threads,
            guards: Some(guards),
            shared,
            tables: BTreeSet::new(),
            views: BTreeSet::new(),
            next_view: 0,
            upper: 0,
            next_worker: 0,
        })
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.senders.len()
    }

    /// The input frontier: updates are accepted at times `>= upper()`, and
    /// every time before it is closed.
    pub fn upper(&self) -> Time {
        self.upper
    }

    /// Installs a view maintaining `plan`, evaluating expressions with the
    /// session settings `text`. Fails with `0A000` naming the construct when
    /// the plan cannot be maintained incrementally (see
    /// [`prepare_view_plan`](super::prepare_view_plan)); nothing is
    /// installed then.
    ///
    /// The view reflects all updates at times before [`Compute::upper`]
    /// and is readable at times `>= upper - 1` (the last closed time).
    pub fn create_view(&mut self, plan: &RelExpr, text: &TextContext) -> Result<ViewId> {
        let plan = &super::prepare_view_plan(plan)?;
        let mut tables = BTreeSet::new();
        plan.visit(&mut |node| {
            if let RelExpr::Get { table, .. } = node {
                tables.insert(table.0);
            }
        });
        for oid in tables {
            self.ensure_table(oid)?;
        }
        let id = ViewId(self.next_view);
        self.next_view += 1;
        self.shared.register_view(id, self.upper.saturating_sub(1), self.upper);
        let plan = Arc::new(plan.clone());
        self.broadcast(|| Command::CreateView { id, plan: Arc::clone(&plan), text: text.clone() })?;
        self.views.insert(id);
        info!(view_id = id.0, "created view");
        Ok(id)
    }

    /// Uninstalls a view; its contents can no longer be read.
    pub fn drop_view(&mut self, id: ViewId) -> Result<()> {
        if !self.views.remove(&id) {
            return Err(Error::internal(format!("view {} does not exist", id.0)));
        }
        self.broadcast(|| Command::DropView { id })?;
        self.shared.unregister_view(id);
        Ok(())
    }

    /// Feeds row changes at `time` (`>= upper()`). They become visible once
    /// the input frontier passes `time` ([`Compute::advance_to`]).
    pub fn update(&mut self, time: Time, updates: Vec<TableUpdate>) -> Result<()> {
        assert!(time >= self.upper, "update at time {time} behind the input frontier {}", self.upper);
        let tables: BTreeSet<u32> = updates.iter().map(|(oid, _, _)| *oid).collect();
        for oid in tables {
            self.ensure_table(oid)?;
        }
        // Spread the rows over the workers; the dataflows exchange them.
        let workers = self.workers();
        let mut shares: Vec<Vec<TableUpdate>> = vec![Vec::new(); workers];
        for update in updates {
            shares[self.next_worker].push(update);
            self.next_worker = (self.next_worker + 1) % workers;
        }
        for (index, share) in shares.into_iter().enumerate() {
            if !share.is_empty() {
                self.send(index, Command::Update { time, updates: share })?;
            }
        }
        Ok(())
    }

    /// Closes every time before `time` (`>= upper()`): no more updates will
    /// arrive at those times, so views can report their contents there.
    pub fn advance_to(&mut self, time: Time) -> Result<()> {
        assert!(time >= self.upper, "advancing the input frontier backwards, {} to {time}", self.upper);
        self.upper = time;
        self.broadcast(|| Command::AdvanceTo { time })?;
        lock(&self.shared.state).upper = time;
        Ok(())
    }

    /// Applies one committed transaction: its row changes at `time`, then
    /// closes `time`. Afterwards `read(view, time)` returns the contents as
    /// of this commit.
    pub fn commit(&mut self, time: Time, updates: Vec<TableUpdate>) -> Result<()> {
        self.update(time, updates)?;
        self.advance_to(time + 1)
    }

    /// The view's contents at `time`; see [`ViewReader::read`].
    pub fn read(&self, id: ViewId, time: Time) -> Result<ViewContents> {
        self.shared.read(id, time, Selection::All)
    }

    /// A handle for reading views from other threads.
    pub fn reader(&self) -> ViewReader {
        ViewReader { shared: Arc::clone(&self.shared) }
    }

    /// Lets every view forget its history before `since`: later reads must
    /// be at times `>= since`. Call it once no reader needs older times, or
    /// the updates kept for reads grow with every commit.
    pub fn allow_compaction(&mut self, since: Time) {
        self.shared.compact(since);
    }

    fn ensure_table(&mut self, oid: u32) -> Result<()> {
        if self.tables.insert(oid) {
            self.broadcast(|| Command::CreateTable { oid })?;
        }
        Ok(())
    }

    fn broadcast(&self, command: impl Fn() -> Command) -> Result<()> {
        for index in 0..self.workers() {
            self.send(index, command())?;
        }
        Ok(())
    }

    fn send(&self, index: usize, command: Command) -> Result<()> {
        self.senders[index]
            .send(command)
            .map_err(|_| Error::internal(format!("compute worker {index} has stopped")))?;
        self.threads[index].unpark();
        Ok(())
    }
}

impl Drop for Compute {
    /// Stops the workers and waits for their threads.
    fn drop(&mut self) {
        for index in 0..self.workers() {
            let _ = self.send(index, Command::Shutdown);
        }
        if let Some(guards) = self.guards.take() {
            for result in guards.join() {
                if let Err(e) = result {
                    tracing::error!(error = %e, "compute worker panicked");
                }
            }
        }
    }
}

/// Reads views; cheap to clone, usable from any thread while the
/// [`Compute`] handle keeps committing.
#[derive(Clone)]
pub struct ViewReader {
    shared: Arc<Shared>,
}

impl ViewReader {
    /// The view's contents at `time`, waiting until the workers have
    /// processed every update at or before `time`. Requires `time` to be
    /// closed (`time < upper`: otherwise the wait could never end, so it
    /// fails at once) and at or after the view's compaction frontier.
    /// Fails with the view's evaluation error when some input row at `time`
    /// makes the query fail (the smallest error by SQLSTATE and message, so
    /// the report is deterministic), as the batch executor would fail the
    /// same query. O(view rows + updates kept since the last compaction).
    pub fn read(&self, id: ViewId, time: Time) -> Result<ViewContents> {
        self.shared.read(id, time, Selection::All)
    }

    /// As [`ViewReader::read`], but only the rows whose leading columns
    /// equal `prefix`: a range of the view's ordered contents, so the cost
    /// is O(log view rows + matching rows + updates since the last
    /// compaction) rather than a scan.
    pub fn read_prefix(&self, id: ViewId, time: Time, prefix: &[Datum]) -> Result<ViewContents> {
        self.shared.read(id, time, Selection::Prefix(prefix))
    }

    /// As [`ViewReader::read`], but only the rows whose first column lies
    /// between `low` and `high` (inclusive; `None` is unbounded) in `Datum`
    /// order, found as a range of the view's ordered contents. NULLs sort
    /// before every value, so an unbounded `low` includes them.
    pub fn read_first_between(&self, id: ViewId, time: Time, low: Option<&Datum>, high: Option<&Datum>) -> Result<ViewContents> {
        self.shared.read(id, time, Selection::FirstBetween(low, high))
    }

    /// The changes of the view at the times in `(after, upto]`: each
    /// `(row, time, diff)` with the diffs of a row at one time summed (and
    /// left out when they cancel), ordered by time, then deletions before
    /// insertions, then row. Waits as [`ViewReader::read`] does until the
    /// workers have produced every update at or before `upto` (which must
    /// be closed). Fails with 55000 when `after` is before the view's
    /// compaction frontier (those changes are folded into its base: read
    /// the contents again), and with the view's evaluation error when its
    /// contents at `upto` are an error. O(changes in the range).
    pub fn changes(&self, id: ViewId, after: Time, upto: Time) -> Result<Vec<(Row, Time, Diff)>> {
        self.shared.changes(id, after, upto)
    }

    /// The oldest time whose changes the view still keeps (its compaction
    /// frontier: changes after it can be read); `None` for an unknown view.
    pub fn since(&self, id: ViewId) -> Option<Time> {
        lock(&self.shared.state).views.get(&id).map(|v| v.since)
    }

    /// The view's backfill progress (`None` for an unknown view).
    pub fn progress(&self, id: ViewId) -> Option<ViewProgress> {
        let state = lock(&self.shared.state);
        let view = state.views.get(&id)?;
        let workers_done = view.frontiers.iter().filter(|f| f.is_none_or(|f| f >= view.backfill_until)).count();
        Some(ViewProgress { started: view.started, finished: view.backfilled, workers_done, workers: state.workers })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked while holding the lock left consistent data
    // behind (every critical section is a few pushes); keep going and let
    // readers see the failure flag instead.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// State shared by the workers (writers) and the controller (reader).
pub(crate) struct Shared {
    state: Mutex<SharedState>,
    changed: Condvar,
}

struct SharedState {
    workers: usize,
    /// The controller's input frontier: times before it are closed.
    upper: Time,
    views: BTreeMap<ViewId, ViewOutput>,
    /// Workers whose thread has left the worker loop (shutdown or panic).
    stopped_workers: usize,
}

/// The read side of one view: its contents at `since` and the updates
/// after it, as published by the workers.
struct ViewOutput {
    since: Time,
    base: BTreeMap<Row, Diff>,
    base_errors: BTreeMap<EvalError, Diff>,
    /// Row updates after `since`, by row (so a prefix read is a range)...
    pending: BTreeMap<Row, Vec<(Time, Diff)>>,
    /// ...and the rows updated at each time (so compaction visits only
    /// the times it folds).
    pending_times: BTreeMap<Time, Vec<Row>>,
    pending_errors: Vec<(EvalError, Time, Diff)>,
    /// Per worker, the least time whose output may still change (`None`:
    /// none may). Starts at 0: nothing is known before the worker reports.
    frontiers: Vec<Option<Time>>,
    /// The backfill covers the times before this one (the input frontier
    /// when the view was installed).
    backfill_until: Time,
    started: std::time::SystemTime,
    backfilled: Option<std::time::SystemTime>,
}

impl Shared {
    fn new(workers: usize) -> Shared {
        Shared {
            state: Mutex::new(SharedState { workers, upper: 0, views: BTreeMap::new(), stopped_workers: 0 }),
            changed: Condvar::new(),
        }
    }

    fn register_view(&self, id: ViewId, since: Time, backfill_until: Time) {
        let mut state = lock(&self.state);
        let workers = state.workers;
        state.views.insert(
            id,
            ViewOutput {
                since,
                base: BTreeMap::new(),
                base_errors: BTreeMap::new(),
                pending: BTreeMap::new(),
                pending_times: BTreeMap::new(),
                pending_errors: Vec::new(),
                frontiers: vec![Some(0); workers],
                backfill_until,
                started: std::time::SystemTime::now(),
                backfilled: None,
            },
        );
    }

    fn unregister_view(&self, id: ViewId) {
        lock(&self.state).views.remove(&id);
        // Readers waiting on the view must wake up to report it gone.
        self.changed.notify_all();
    }

    /// Records output rows of view `id` (called by workers).
    pub(crate) fn push_rows(&self, id: ViewId, updates: &[(DataRow, Time, Diff)]) {
        if let Some(view) = lock(&self.state).views.get_mut(&id) {
            for (row, time, diff) in updates {
                view.pending.entry(row.0.clone()).or_default().push((*time, *diff));
                view.pending_times.entry(*time).or_default().push(row.0.clone());
            }
        }
    }

    /// Records output errors of view `id` (called by workers).
    pub(crate) fn push_errors(&self, id: ViewId, updates: &[(EvalError, Time, Diff)]) {
        if let Some(view) = lock(&self.state).views.get_mut(&id) {
            view.pending_errors.extend(updates.iter().cloned());
        }
    }

    /// Records worker `worker`'s output frontier for view `id`.
    pub(crate) fn publish_frontier(&self, id: ViewId, worker: usize, frontier: Option<Time>) {
        if let Some(view) = lock(&self.state).views.get_mut(&id) {
            view.frontiers[worker] = frontier;
            if view.backfilled.is_none() && view.frontiers.iter().all(|f| f.is_none_or(|f| f >= view.backfill_until)) {
                view.backfilled = Some(std::time::SystemTime::now());
            }
        }
        self.changed.notify_all();
    }

    fn worker_stopped(&self) {
        lock(&self.state).stopped_workers += 1;
        self.changed.notify_all();
    }

    fn changes(&self, id: ViewId, after: Time, upto: Time) -> Result<Vec<(Row, Time, Diff)>> {
        let view = self.wait_until_complete(id, upto)?;
        let Some(output) = view.views.get(&id) else {
            return Err(Error::internal(format!("view {} does not exist", id.0)));
        };
        if after < output.since {
            return Err(Error::new(
                freshet_common::SqlState::ObjectNotInPrerequisiteState,
                format!("the changes after time {after} are no longer kept (the oldest kept follow time {})", output.since),
            ));
        }
        output.changes(id, after, upto)
    }

    /// Waits until every worker has produced view `id`'s output at or
    /// before `time` (a closed time), returning the locked state.
    fn wait_until_complete(&self, id: ViewId, time: Time) -> Result<MutexGuard<'_, SharedState>> {
        let mut state = lock(&self.state);
        if time >= state.upper {
            return Err(Error::internal(format!(
                "view read at time {time}, which is not closed yet (inputs are open from {})",
                state.upper
            )));
        }
        loop {
            let view = state.views.get(&id).ok_or_else(|| Error::internal(format!("view {} does not exist", id.0)))?;
            if view.frontiers.iter().all(|f| f.is_none_or(|f| f > time)) {
                return Ok(state);
            }
            if state.stopped_workers > 0 {
                return Err(Error::internal("a compute worker has stopped; views cannot be read"));
            }
            state = self.changed.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn read(&self, id: ViewId, time: Time, selection: Selection<'_>) -> Result<ViewContents> {
        let state = self.wait_until_complete(id, time)?;
        let view = state.views.get(&id).ok_or_else(|| Error::internal(format!("view {} does not exist", id.0)))?;
        if time < view.since {
            return Err(Error::internal(format!(
                "view {} read at time {time}, before its compaction frontier {}",
                id.0, view.since
            )));
        }
        view.contents_at(id, time, selection)
    }

    fn compact(&self, since: Time) {
        let mut state = lock(&self.state);
        for view in state.views.values_mut() {
            if since <= view.since {
                continue;
            }
            view.since = since;
            let later = view.pending_times.split_off(&(since + 1));
            let folded = std::mem::replace(&mut view.pending_times, later);
            for row in folded.into_values().flatten() {
                let Some(updates) = view.pending.get_mut(&row) else { continue };
                let mut sum = 0;
                updates.retain(|(t, diff)| {
                    if *t <= since {
                        sum += diff;
                        false
                    } else {
                        true
                    }
                });
                if updates.is_empty() {
                    view.pending.remove(&row);
                }
                accumulate(&mut view.base, row, sum);
            }
            let (fold, keep): (Vec<_>, Vec<_>) = view.pending_errors.drain(..).partition(|(_, t, _)| *t <= since);
            view.pending_errors = keep;
            for (error, _, diff) in fold {
                accumulate(&mut view.base_errors, error, diff);
            }
        }
    }
}

impl ViewOutput {
    /// Fails with the view's error at `time`, if its contents are one.
    fn check_errors(&self, id: ViewId, time: Time) -> Result<()> {
        let mut errors = self.base_errors.clone();
        for (error, t, diff) in &self.pending_errors {
            if *t <= time {
                accumulate(&mut errors, error.clone(), *diff);
            }
        }
        if let Some((error, count)) = errors.iter().next() {
            if *count < 0 {
                return Err(Error::internal(format!(
                    "view {} holds error \"{error}\" with negative multiplicity {count}",
                    id.0
                )));
            }
            return Err(error.0.clone());
        }
        Ok(())
    }

    /// See [`ViewReader::changes`]; `after >= since`.
    fn changes(&self, id: ViewId, after: Time, upto: Time) -> Result<Vec<(Row, Time, Diff)>> {
        self.check_errors(id, upto)?;
        let mut changes = Vec::new();
        for (time, rows) in self.pending_times.range(after + 1..=upto) {
            let rows: std::collections::BTreeSet<&Row> = rows.iter().collect();
            let start = changes.len();
            for row in rows {
                let diff: Diff = self
                    .pending
                    .get(row)
                    .map(|updates| updates.iter().filter(|(t, _)| t == time).map(|(_, d)| d).sum())
                    .unwrap_or(0);
                if diff != 0 {
                    changes.push((row.clone(), *time, diff));
                }
            }
            // Deletions first, each group in row order (a stable sort).
            changes[start..].sort_by_key(|(_, _, diff)| *diff > 0);
        }
        Ok(changes)
    }

    /// The selected part of the contents at `time`.
    fn contents_at(&self, id: ViewId, time: Time, selection: Selection<'_>) -> Result<ViewContents> {
        self.check_errors(id, time)?;
        // Rows are ordered by their values, so each selection is a
        // contiguous range of `base` and of `pending`.
        fn range<'m, V>(map: &'m BTreeMap<Row, V>, selection: Selection<'m>) -> Box<dyn Iterator<Item = (&'m Row, &'m V)> + 'm> {
            match selection {
                Selection::All => Box::new(map.iter()),
                Selection::Prefix(p) => Box::new(map.range(p.to_vec()..).take_while(move |(row, _)| row.starts_with(p))),
                Selection::FirstBetween(low, high) => {
                    let iter: Box<dyn Iterator<Item = (&Row, &V)>> = match low {
                        Some(l) => Box::new(map.range(vec![l.clone()]..)),
                        None => Box::new(map.iter()),
                    };
                    Box::new(iter.take_while(move |(row, _)| match (high, row.first()) {
                        (Some(h), Some(first)) => first <= h,
                        _ => true,
                    }))
                }
            }
        }
        let mut rows: ViewContents = match selection {
            Selection::All => self.base.clone(),
            _ => range(&self.base, selection).map(|(row, count)| (row.clone(), *count)).collect(),
        };
        let pending = range(&self.pending, selection);
        for (row, updates) in pending {
            let diff: Diff = updates.iter().filter(|(t, _)| *t <= time).map(|(_, d)| d).sum();
            if diff != 0 {
                accumulate(&mut rows, row.clone(), diff);
            }
        }
        if let Some((row, count)) = rows.iter().find(|(_, count)| **count < 0) {
            return Err(Error::internal(format!(
                "view {} holds row {row:?} with negative multiplicity {count}",
                id.0
            )));
        }
        Ok(rows)
    }
}

/// Which rows of a view a read wants.
#[derive(Clone, Copy)]
enum Selection<'a> {
    All,
    /// Rows whose leading columns equal these values.
    Prefix(&'a [Datum]),
    /// Rows whose first column is between the bounds (inclusive).
    FirstBetween(Option<&'a Datum>, Option<&'a Datum>),
}

fn accumulate<K: Ord>(map: &mut BTreeMap<K, Diff>, key: K, diff: Diff) {
    let entry = map.entry(key);
    match entry {
        std::collections::btree_map::Entry::Occupied(mut o) => {
            *o.get_mut() += diff;
            if *o.get() == 0 {
                o.remove();
            }
        }
        std::collections::btree_map::Entry::Vacant(v) => {
            if diff != 0 {
                v.insert(diff);
            }
        }
    }
}

/// Counts a worker thread out of the loop however it leaves (including by
/// panic), so readers stop waiting for it.
struct StoppedGuard {
    shared: Arc<Shared>,
}

impl Drop for StoppedGuard {
    fn drop(&mut self) {
        self.shared.worker_stopped();
    }
}
