//! Incrementally maintained views: `RelExpr` plans rendered as timely +
//! differential dataflows.
//!
//! # Model
//!
//! A table is a collection of rows that changes by updates
//! `(row, time, diff)`; each committed transaction is a batch of updates at
//! its commit timestamp (`u64`). A view is a plan over tables; its dataflow
//! maintains the plan's result as a collection that differential updates
//! from the input changes alone (McSherry et al., "Differential Dataflow",
//! CIDR 2013; Murray et al., "Naiad: A Timely Dataflow System", SOSP 2013).
//! Reading a view at a time `t` gives exactly what the batch executor
//! (`crate::batch::Executor`) computes over the tables as of `t`, up to
//! the order-dependent corners SQL leaves unspecified (ties under ORDER BY
//! LIMIT / DISTINCT ON, order-sensitive aggregates without ORDER BY); the
//! randomized oracle test (`crates/compute/tests/dataflow_oracle.rs`)
//! checks this at every timestamp.
//!
//! # Threading
//!
//! [`Compute::new`] starts N timely workers on their own threads
//! (`timely::execute` with `Config::process(N)`). Every worker holds a
//! shard of every dataflow: per table, an input and an arrangement of its
//! rows (shared by every view reading the table, `worker.rs`); per view,
//! the rendered operators (`render.rs` and one file per operator kind).
//! The [`Compute`] handle, owned by one controlling thread, sends commands
//! (create table/view, drop view, updates, advance time, shutdown) over one
//! channel per worker and unparks the worker threads; commands that build
//! dataflows go to every worker in the same order, row updates are spread
//! round-robin. Workers publish each view's output updates and frontier to a
//! shared, mutex-protected read side, and [`Compute::read`] (or a
//! [`ViewReader`] on another thread) blocks on a condition variable until
//! the view's frontier has passed the requested time on every worker, then
//! accumulates the updates at or before it.
//!
//! # Errors
//!
//! Planning-time refusals: [`check_plan`] rejects, with `0A000` naming the
//! construct, anything that cannot be maintained incrementally yet or ever
//! (subqueries inside expressions, system relations, parameterized
//! LIMIT/OFFSET, row ids, volatile or time-dependent functions).
//!
//! Run-time evaluation errors (division by zero, overflow, bad casts) are
//! data: every operator emits an error collection beside its rows, with the
//! multiplicity of the input that caused the error, so an error appears
//! when an offending row is inserted and disappears when it is deleted. A
//! view whose error collection is non-empty at `t` fails to read at `t`
//! with that error (the batch executor would fail the same query), and
//! recovers once the offending rows are gone. Rows the failing inputs would
//! have produced are missing meanwhile, which is never observed because the
//! read fails.
//!
//! # Non-goals (for now)
//!
//! Decorrelating subqueries, sharing arrangements between views beyond the
//! tables' own, persisting view state (a restart rebuilds views from the
//! tables), multi-process timely clusters, and bounding a single reduction
//! group's cost (reductions and top-k recompute a changed group from its
//! whole contents).

mod check;
mod compute;
mod decorrelate;
mod join;
mod operators;
mod reduce;
mod render;
mod row;
mod set_op;
mod top_k;
mod window;
mod worker;

pub use check::check_plan;
pub use decorrelate::decorrelate;

/// Prepares a view's plan for rendering: rewrites its subqueries into
/// joins ([`decorrelate`]) and refuses, with 0A000 naming the construct,
/// what still cannot be maintained ([`check_plan`]).
pub fn prepare_view_plan(plan: &freshet_expr::RelExpr) -> freshet_common::Result<freshet_expr::RelExpr> {
    let plan = decorrelate(plan.clone())?;
    check_plan(&plan)?;
    Ok(plan)
}
pub use compute::{Compute, TableUpdate, ViewContents, ViewId, ViewProgress, ViewReader};
pub use row::{DataRow, EvalError};

/// Logical time: the commit timestamp.
pub type Time = u64;

/// The change in a row's multiplicity.
pub type Diff = isize;

/// A collection inside a view dataflow.
pub(crate) type Collection<'scope, D> = differential_dataflow::VecCollection<'scope, Time, D, Diff>;
