//! The timely worker loop: applies the controller's commands, steps the
//! dataflows and publishes each view's output and frontier to the shared
//! state the controller reads.
//!
//! Every worker receives the same sequence of commands that create or drop
//! dataflows (timely requires every worker to build the same dataflows in
//! the same order); table updates are spread over the workers, each row
//! given to one, and exchanged by the arrangements inside the dataflows.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;

use differential_dataflow::input::InputSession;
use differential_dataflow::operators::arrange::ShutdownButton;
use differential_dataflow::trace::TraceReader;
use freshet_common::io::TextContext;
use freshet_common::Row;
use freshet_expr::RelExpr;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::ProbeHandle;
use timely::progress::frontier::AntichainRef;
use timely::worker::Worker;
use tracing::debug;

use super::compute::{Shared, ViewId};
use super::render::{Env, RenderContext, TableTrace};
use super::row::DataRow;
use super::{Diff, Time};

/// An instruction from the controller to one worker.
pub(crate) enum Command {
    /// Creates table `oid`'s input and shared arrangement.
    CreateTable { oid: u32 },
    /// Renders and installs a view's dataflow (the plan passed
    /// `check::check_plan`).
    CreateView { id: ViewId, plan: Arc<RelExpr>, text: TextContext },
    /// Uninstalls a view's dataflow.
    DropView { id: ViewId },
    /// This worker's share of the row changes at `time` (`time` is at or
    /// beyond the current input frontier).
    Update { time: Time, updates: Vec<(u32, Row, Diff)> },
    /// Closes every time before `time` on every table input.
    AdvanceTo { time: Time },
    /// Drops every dataflow and stops the worker.
    Shutdown,
}

/// A view's dataflow as installed on one worker.
struct InstalledView {
    /// Timely's index of the dataflow, for `drop_dataflow`.
    dataflow_index: usize,
    /// Tracks the frontier of the view's output (rows and errors).
    probe: ProbeHandle<Time>,
    /// The imports of table arrangements, pressed on drop.
    buttons: Vec<ShutdownButton<CapabilitySet<Time>>>,
    /// The frontier last published to the shared state.
    published: Option<Option<Time>>,
}

/// A table's input on one worker.
struct Table {
    dataflow_index: usize,
    input: InputSession<Time, DataRow, Diff>,
    trace: TableTrace,
}

/// One worker's state besides timely's own.
struct WorkerState {
    index: usize,
    tables: BTreeMap<u32, Table>,
    views: BTreeMap<ViewId, InstalledView>,
    /// Every table input has been advanced to `upper`.
    upper: Time,
    shared: Arc<Shared>,
}

/// Runs one worker until the controller sends `Shutdown` or goes away.
pub(crate) fn run(worker: &mut Worker, commands: Receiver<Command>, shared: Arc<Shared>) {
    let mut state =
        WorkerState { index: worker.index(), tables: BTreeMap::new(), views: BTreeMap::new(), upper: 0, shared };
    loop {
        let mut handled = false;
        loop {
            match commands.try_recv() {
                Ok(Command::Shutdown) | Err(TryRecvError::Disconnected) => {
                    state.shutdown(worker);
                    return;
                }
                Ok(command) => {
                    state.handle(worker, command);
                    handled = true;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        // The controller unparks this thread after sending a command, and
        // timely unparks it when another worker sends it data.
        if handled {
            worker.step();
        } else {
            worker.step_or_park(None);
        }
        state.publish_frontiers();
    }
}

impl WorkerState {
    fn handle(&mut self, worker: &mut Worker, command: Command) {
        match command {
            Command::CreateTable { oid } => {
                assert!(!self.tables.contains_key(&oid), "table {oid} created twice");
                let dataflow_index = worker.next_dataflow_index();
                let mut input = InputSession::new();
                let trace = worker.dataflow_named(&format!("table {oid}"), |scope| {
                    input.to_collection(scope).arrange_by_self_named(&format!("Arrange: table {oid}")).trace
                });
                input.advance_to(self.upper);
                input.flush();
                let mut table = Table { dataflow_index, input, trace };
                compact(&mut table.trace, self.upper);
                self.tables.insert(oid, table);
            }
            Command::CreateView { id, plan, text } => {
                assert!(!self.views.contains_key(&id), "view {id:?} created twice");
                let dataflow_index = worker.next_dataflow_index();
                let mut traces: BTreeMap<u32, TableTrace> =
                    self.tables.iter().map(|(oid, t)| (*oid, t.trace.clone())).collect();
                let probe = ProbeHandle::new();
                let shared = Arc::clone(&self.shared);
                let buttons = worker.dataflow_named(&format!("view {}", id.0), |scope| {
                    let mut ctx = RenderContext::new(scope, &mut traces, Rc::new(Env::new(text)));
                    let rendered = ctx
                        .render(&plan)
                        .unwrap_or_else(|e| panic!("rendering a checked plan failed: {e}\n{plan}"));
                    let rows_shared = Arc::clone(&shared);
                    rendered
                        .oks
                        .inspect_batch(move |_, updates| rows_shared.push_rows(id, updates))
                        .probe_with(&probe);
                    rendered.errs.inspect_batch(move |_, updates| shared.push_errors(id, updates)).probe_with(&probe);
                    ctx.buttons
                });
                debug!(view_id = id.0, worker = self.index, "installed view dataflow");
                self.views.insert(id, InstalledView { dataflow_index, probe, buttons, published: None });
            }
            Command::DropView { id } => {
                if let Some(view) = self.views.remove(&id) {
                    drop_view(worker, view);
                    debug!(view_id = id.0, worker = self.index, "dropped view dataflow");
                }
            }
            Command::Update { time, updates } => {
                assert!(time >= self.upper, "update at {time} behind the input frontier {}", self.upper);
                for (oid, row, diff) in updates {
                    let table = self
                        .tables
                        .get_mut(&oid)
                        .unwrap_or_else(|| panic!("update to table {oid}, which was never created"));
                    table.input.update_at(DataRow(row), time, diff);
                }
            }
            Command::AdvanceTo { time } => {
                assert!(time >= self.upper, "advancing the input frontier backwards, {} to {time}", self.upper);
                self.upper = time;
                for table in self.tables.values_mut() {
                    table.input.advance_to(time);
                    table.input.flush();
                    compact(&mut table.trace, time);
                }
            }
            Command::Shutdown => unreachable!("handled by the worker loop"),
        }
    }

    /// Publishes the output frontier of every view whose frontier moved.
    fn publish_frontiers(&mut self) {
        for (id, view) in self.views.iter_mut() {
            let frontier = view.probe.with_frontier(|f| f.first().copied());
            if view.published != Some(frontier) {
                view.published = Some(frontier);
                self.shared.publish_frontier(*id, self.index, frontier);
            }
        }
    }

    fn shutdown(&mut self, worker: &mut Worker) {
        for (_, view) in std::mem::take(&mut self.views) {
            drop_view(worker, view);
        }
        for (_, table) in std::mem::take(&mut self.tables) {
            let Table { dataflow_index, input, trace } = table;
            drop(input);
            drop(trace);
            worker.drop_dataflow(dataflow_index);
        }
    }
}

/// Lets a table's arrangement forget history before the last closed time
/// (`upper - 1`): no view reads before it (views are created, and read, at
/// or after the last closed time).
fn compact(trace: &mut TableTrace, upper: Time) {
    let since = [upper.saturating_sub(1)];
    trace.set_logical_compaction(AntichainRef::new(&since));
    trace.set_physical_compaction(AntichainRef::new(&since));
}

fn drop_view(worker: &mut Worker, mut view: InstalledView) {
    for button in view.buttons.iter_mut() {
        button.press();
    }
    worker.drop_dataflow(view.dataflow_index);
}
