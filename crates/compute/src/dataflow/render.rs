//! Rendering: turns a `RelExpr` into differential dataflow collections.
//!
//! Every plan node renders to a [`Rendered`] pair of collections: the rows
//! (`oks`) and the evaluation errors (`errs`) raised so far. Errors are
//! data (see [`EvalError`]): a row whose expression fails contributes its
//! error, with its own multiplicity, instead of an output row, and the
//! error disappears when the row is retracted. Operators pass the errors of
//! their inputs through (concatenated) and add their own.
//!
//! This file holds the dispatch and the row-at-a-time operators (get,
//! values, map, flat map, filter, project, union, distinct); joins, reductions,
//! top-k / DISTINCT ON, window functions and set operations live in files
//! of their own.
//! Scalar expressions are evaluated with the shared
//! `ScalarExpr::eval`, so the semantics match the batch executor
//! (`crates/compute/src/batch.rs`).

use std::collections::BTreeMap;
use std::rc::Rc;

use differential_dataflow::operators::arrange::{ShutdownButton, TraceAgent};
use differential_dataflow::trace::implementations::KeySpine;
use differential_dataflow::AsCollection;
use freshet_common::io::TextContext;
use freshet_common::{Datum, Error, Result, TimestampTz};
use freshet_expr::{EvalContext, RelExpr, ScalarExpr, TableFunc};
use timely::dataflow::operators::vec::ToStream;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::Scope;

use super::operators::flat_map_fallible;
use super::row::{DataRow, EvalError};
use super::{join, reduce, set_op, top_k, window, Collection, Diff, Time};

/// A table's contents as kept by every worker: its rows arranged by
/// themselves, shared by all views that read the table.
pub(crate) type TableTrace = TraceAgent<KeySpine<DataRow, Time, Diff>>;

/// The rows and errors of one rendered plan node.
pub(crate) struct Rendered<'scope> {
    pub oks: Collection<'scope, DataRow>,
    pub errs: Collection<'scope, EvalError>,
}

/// What expression evaluation needs inside a view: the session settings
/// the view was created with. Views take no parameters, run no subqueries,
/// use no sequences and never read the clock (all refused by
/// `check::check_plan`), so the rest of the context is fixed.
pub(crate) struct Env {
    text: TextContext,
}

impl Env {
    pub(crate) fn new(text: TextContext) -> Env {
        Env { text }
    }

    /// An evaluation context for one expression evaluation.
    pub(crate) fn ctx(&self) -> EvalContext<'_> {
        EvalContext {
            params: &[],
            outer: &[],
            text: &self.text,
            subqueries: None,
            // Never read: time-dependent functions are refused at render time.
            now: TimestampTz(0),
            sequences: None,
        }
    }
}

/// Whether every predicate is true for `row` (the batch executor's rule:
/// evaluated in order, stopping at the first that is not true).
pub(crate) fn passes(predicates: &[ScalarExpr], row: &[Datum], env: &Env) -> Result<bool> {
    let ctx = env.ctx();
    for p in predicates {
        if p.eval(row, &ctx)? != Datum::Bool(true) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Calls the set-returning functions `funcs` on `row` and pushes the
/// resulting rows, as the batch executor's `FlatMap` does: the functions'
/// outputs are zipped (shorter ones padded with NULL), an optional
/// ordinality column counts from 1, and with `keep_empty` a row for which
/// every function returns nothing is kept once, padded with NULLs.
fn flat_map_row(
    row: &[Datum],
    funcs: &[(TableFunc, Vec<ScalarExpr>)],
    ordinality: bool,
    keep_empty: bool,
    env: &Env,
    out: &mut Vec<DataRow>,
) -> Result<()> {
    let ctx = env.ctx();
    let mut outputs = Vec::with_capacity(funcs.len());
    for (func, args) in funcs {
        let values = args.iter().map(|a| a.eval(row, &ctx)).collect::<Result<Vec<Datum>>>()?;
        outputs.push(func.eval(&values, &ctx)?);
    }
    let len = outputs.iter().map(|o| o.len()).max().unwrap_or(0);
    if len == 0 && keep_empty {
        let width: usize = funcs.iter().map(|(func, _)| func.width()).sum();
        let mut padded = row.to_vec();
        padded.extend(std::iter::repeat_n(Datum::Null, width + ordinality as usize));
        out.push(DataRow(padded));
        return Ok(());
    }
    for i in 0..len {
        let mut extended = row.to_vec();
        for ((func, _), output) in funcs.iter().zip(&outputs) {
            match output.get(i) {
                Some(r) => extended.extend(r.iter().cloned()),
                None => extended.extend(std::iter::repeat_n(Datum::Null, func.width())),
            }
        }
        if ordinality {
            extended.push(Datum::Int8(i as i64 + 1));
        }
        out.push(DataRow(extended));
    }
    Ok(())
}

/// State for rendering one view's dataflow on one worker.
pub(crate) struct RenderContext<'scope, 'a> {
    pub scope: Scope<'scope, Time>,
    /// Every table's shared arrangement on this worker.
    tables: &'a mut BTreeMap<u32, TableTrace>,
    /// Tables already imported into this dataflow (a self-join imports once).
    imported: BTreeMap<u32, Collection<'scope, DataRow>>,
    /// Shut-down handles of the imports, pressed when the view is dropped.
    pub buttons: Vec<ShutdownButton<CapabilitySet<Time>>>,
    pub env: Rc<Env>,
}

impl<'scope, 'a> RenderContext<'scope, 'a> {
    pub(crate) fn new(scope: Scope<'scope, Time>, tables: &'a mut BTreeMap<u32, TableTrace>, env: Rc<Env>) -> Self {
        RenderContext { scope, tables, imported: BTreeMap::new(), buttons: Vec::new(), env }
    }

    /// An empty collection of any data type.
    pub(crate) fn empty<D: Clone + 'static>(&self) -> Collection<'scope, D> {
        Vec::<(D, Time, Diff)>::new().to_stream(self.scope).as_collection()
    }

    /// A constant collection at time 0, introduced by worker 0 only (every
    /// worker builds the same dataflow; the others contribute nothing).
    pub(crate) fn constant<D: Clone + 'static>(&self, data: Vec<(D, Diff)>) -> Collection<'scope, D> {
        let data = if self.scope.index() == 0 { data } else { Vec::new() };
        data.into_iter().map(|(d, r)| (d, 0, r)).to_stream(self.scope).as_collection()
    }

    /// Renders `plan`. Plans must have passed `check::check_plan`; a
    /// construct it refuses reaching here is a bug.
    pub(crate) fn render(&mut self, plan: &RelExpr) -> Result<Rendered<'scope>> {
        Ok(match plan {
            RelExpr::Get { table, with_row_id: false, .. } => {
                let oks = self.import(table.0);
                Rendered { oks, errs: self.empty() }
            }
            RelExpr::Values { rows, .. } => {
                let ctx = self.env.ctx();
                let mut oks = Vec::new();
                let mut errs = Vec::new();
                for exprs in rows {
                    match exprs.iter().map(|e| e.eval(&[], &ctx)).collect::<Result<Vec<Datum>>>() {
                        Ok(row) => oks.push((DataRow(row), 1)),
                        Err(e) => errs.push((EvalError(e), 1)),
                    }
                }
                Rendered { oks: self.constant(oks), errs: self.constant(errs) }
            }
            RelExpr::Map { input, exprs } => {
                let input = self.render(input)?;
                let exprs = exprs.clone();
                let env = Rc::clone(&self.env);
                let (oks, errs) = flat_map_fallible(input.oks, "Map", move |row: DataRow, out| {
                    let ctx = env.ctx();
                    let mut row = row.0;
                    for e in &exprs {
                        let v = e.eval(&row, &ctx)?;
                        row.push(v);
                    }
                    out.push(DataRow(row));
                    Ok(())
                });
                Rendered { oks, errs: input.errs.concat(errs) }
            }
            RelExpr::FlatMap { input, funcs, ordinality, outer } => {
                let input = self.render(input)?;
                let (funcs, ordinality, keep_empty) = (funcs.clone(), *ordinality, *outer);
                let env = Rc::clone(&self.env);
                let (oks, errs) = flat_map_fallible(input.oks, "FlatMap", move |row: DataRow, out| {
                    flat_map_row(&row, &funcs, ordinality, keep_empty, &env, out)
                });
                Rendered { oks, errs: input.errs.concat(errs) }
            }
            RelExpr::Filter { input, predicates } => {
                let input = self.render(input)?;
                let predicates = predicates.clone();
                let env = Rc::clone(&self.env);
                let (oks, errs) = flat_map_fallible(input.oks, "Filter", move |row: DataRow, out| {
                    if passes(&predicates, &row, &env)? {
                        out.push(row);
                    }
                    Ok(())
                });
                Rendered { oks, errs: input.errs.concat(errs) }
            }
            RelExpr::Project { input, columns } => {
                let input = self.render(input)?;
                let columns = columns.clone();
                // As the batch executor: a column out of range reads as NULL.
                let oks = input.oks.map(move |row| {
                    DataRow(columns.iter().map(|c| row.get(*c).cloned().unwrap_or(Datum::Null)).collect())
                });
                Rendered { oks, errs: input.errs }
            }
            RelExpr::Join { left, right, kind, on } => {
                let (left_arity, right_arity) = (left.arity(), right.arity());
                let left = self.render(left)?;
                let right = self.render(right)?;
                join::render_join(self, left, right, left_arity, right_arity, *kind, on)
            }
            RelExpr::Reduce { input, group_key, aggregates } => {
                let input = self.render(input)?;
                reduce::render_reduce(self, input, group_key, aggregates)
            }
            RelExpr::Window { input, exprs } => {
                let input = self.render(input)?;
                window::render_window(self, input, exprs)
            }
            RelExpr::Distinct { input } => {
                let input = self.render(input)?;
                Rendered { oks: input.oks.distinct(), errs: input.errs }
            }
            RelExpr::DistinctOn { input, keys, order_by } => {
                let input = self.render(input)?;
                top_k::render_distinct_on(self, input, keys, order_by)
            }
            RelExpr::Union { inputs } => {
                let mut oks = self.empty();
                let mut errs = self.empty();
                for input in inputs {
                    let rendered = self.render(input)?;
                    oks = oks.concat(rendered.oks);
                    errs = errs.concat(rendered.errs);
                }
                Rendered { oks, errs }
            }
            RelExpr::SetOp { left, right, op, all } => {
                let left = self.render(left)?;
                let right = self.render(right)?;
                set_op::render_set_op(self, left, right, *op, *all)
            }
            RelExpr::TopK { input, order_by, limit, offset } => {
                let input = self.render(input)?;
                top_k::render_top_k(self, input, order_by, *limit, *offset)
            }
            RelExpr::Get { with_row_id: true, .. }
            | RelExpr::DynamicTopK { .. }
            | RelExpr::System { .. }
            | RelExpr::Recursive { .. }
            | RelExpr::WorkTable { .. }
            | RelExpr::Apply { .. } => {
                return Err(Error::internal(format!(
                    "plan node reached the dataflow renderer unchecked: {}",
                    plan.to_string().lines().next().unwrap_or_default()
                )))
            }
        })
    }

    /// The contents of table `oid`, imported from its shared arrangement.
    fn import(&mut self, oid: u32) -> Collection<'scope, DataRow> {
        if let Some(rows) = self.imported.get(&oid) {
            return rows.clone();
        }
        let trace = self
            .tables
            .get_mut(&oid)
            .unwrap_or_else(|| panic!("table {oid} has no arrangement: the controller creates one before any view reads it"));
        let (arranged, button) = trace.import_core(self.scope, &format!("Import table {oid}"));
        self.buttons.push(button);
        let rows = arranged.as_collection(|row: &DataRow, _: &()| row.clone());
        self.imported.insert(oid, rows.clone());
        rows
    }
}
