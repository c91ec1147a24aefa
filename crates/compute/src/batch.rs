//! The batch executor: evaluates a plan over a snapshot, materializing each
//! operator's output. Memory is O(rows of the largest intermediate result).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use freshet_common::io::TextContext;
use freshet_common::{Datum, Error, Result, Row, SqlState, TimestampTz};
use freshet_expr::agg::Accumulator;
use freshet_expr::scalar::SequenceAccess;
use freshet_expr::{EvalContext, RelExpr, ScalarExpr, SetOpKind, SubqueryExpr, SubqueryRunner, TableRef};

use crate::{join, sort};

/// Where the executor reads stored rows from: one consistent snapshot.
pub trait DataSource {
    /// Calls `f` with every row of `table` and its row id.
    fn scan(&self, table: TableRef, f: &mut dyn FnMut(u64, &[Datum]) -> Result<()>) -> Result<()>;
    /// The rows of a system relation (`pg_catalog.pg_class`, ...).
    fn system(&self, name: &str) -> Result<Vec<Row>>;
    /// Point lookup through a unique index: when `table` has a unique
    /// constraint on exactly the columns `columns` (in any order), calls `f`
    /// with the row whose values there equal `values` (if any) and returns
    /// true; returns false when no such index exists.
    fn lookup(
        &self,
        table: TableRef,
        columns: &[usize],
        values: &[Datum],
        f: &mut dyn FnMut(u64, &[Datum]) -> Result<()>,
    ) -> Result<bool> {
        let _ = (table, columns, values, f);
        Ok(false)
    }
    /// Range lookup on the first column: when `table` is kept ordered by
    /// its first column (materialized views), calls `f` with at least every
    /// row whose first column lies between `low` and `high` (inclusive,
    /// `None` unbounded) and returns true; false when it cannot.
    fn lookup_first_between(
        &self,
        table: TableRef,
        low: Option<&Datum>,
        high: Option<&Datum>,
        f: &mut dyn FnMut(u64, &[Datum]) -> Result<()>,
    ) -> Result<bool> {
        let _ = (table, low, high, f);
        Ok(false)
    }
}

/// Equality predicates `column = value` whose value does not depend on the
/// row (constants, parameters, enclosing rows): candidates for an index
/// lookup.
/// Whether `e` can be evaluated once for a whole scan: it reads no column,
/// runs no subquery and calls nothing volatile.
fn row_free(e: &ScalarExpr) -> bool {
    let mut free = true;
    e.visit(&mut |n| {
        if matches!(n, ScalarExpr::Column(_) | ScalarExpr::Subquery(_) | ScalarExpr::Aggregate(_)) {
            free = false;
        }
        if let ScalarExpr::Call { func, .. } = n {
            if matches!(func, freshet_expr::Func::Random | freshet_expr::Func::NextVal | freshet_expr::Func::SetVal) {
                free = false;
            }
        }
    });
    free
}

fn point_predicates(predicates: &[ScalarExpr]) -> Vec<(usize, &ScalarExpr)> {
    let mut out = Vec::new();
    for p in predicates {
        if let ScalarExpr::Binary { op: freshet_expr::BinaryOp::Eq, left, right } = p {
            match (left.as_ref(), right.as_ref()) {
                (ScalarExpr::Column(c), v) | (v, ScalarExpr::Column(c)) if row_free(v) => out.push((*c, v)),
                _ => {}
            }
        }
    }
    out
}

/// A predicate `column IN (values)` or `column = ANY(array)` whose values
/// do not depend on the row: a candidate for one index lookup per value.
/// Returns the column and a closure-free description of the values.
fn multi_point_predicate(predicates: &[ScalarExpr]) -> Option<(usize, MultiPoint<'_>)> {
    predicates.iter().find_map(|p| match p {
        ScalarExpr::InList { expr, list, negated: false } => match expr.as_ref() {
            ScalarExpr::Column(c) if list.iter().all(|e| row_free(e)) => Some((*c, MultiPoint::List(list))),
            _ => None,
        },
        ScalarExpr::Call { func: freshet_expr::Func::ArrayCompare { op: freshet_expr::BinaryOp::Eq, all: false }, args } => {
            match args.as_slice() {
                [ScalarExpr::Column(c), array] if row_free(array) => Some((*c, MultiPoint::Array(array))),
                _ => None,
            }
        }
        _ => None,
    })
}

/// The values of a [`multi_point_predicate`].
enum MultiPoint<'a> {
    List(&'a [ScalarExpr]),
    Array(&'a ScalarExpr),
}

impl MultiPoint<'_> {
    /// The distinct non-NULL values (NULL matches nothing under `=`).
    fn values(&self, ctx: &EvalContext<'_>) -> Result<Vec<Datum>> {
        let mut values = match self {
            MultiPoint::List(list) => list.iter().map(|e| e.eval(&[], ctx)).collect::<Result<Vec<_>>>()?,
            MultiPoint::Array(array) => match array.eval(&[], ctx)? {
                Datum::Array(items) => items,
                _ => Vec::new(),
            },
        };
        values.retain(|v| !v.is_null());
        values.sort();
        values.dedup();
        Ok(values)
    }
}

/// Bounds on the first column from predicates `#0 op value` (value free
/// of the row): the lower bounds from `>`/`>=`, the upper from `<`/`<=`.
fn first_column_bounds(predicates: &[ScalarExpr]) -> (Vec<&ScalarExpr>, Vec<&ScalarExpr>) {
    use freshet_expr::BinaryOp::*;
    let row_free = |e: &ScalarExpr| {
        let mut free = true;
        e.visit(&mut |n| {
            if matches!(n, ScalarExpr::Column(_) | ScalarExpr::Subquery(_) | ScalarExpr::Aggregate(_) | ScalarExpr::Call { .. }) {
                free = false;
            }
        });
        free
    };
    let (mut low, mut high) = (Vec::new(), Vec::new());
    for p in predicates {
        if let ScalarExpr::Binary { op, left, right } = p {
            match (left.as_ref(), op, right.as_ref()) {
                (ScalarExpr::Column(0), Gt | GtEq, v) | (v, Lt | LtEq, ScalarExpr::Column(0)) if row_free(v) => low.push(v),
                (ScalarExpr::Column(0), Lt | LtEq, v) | (v, Gt | GtEq, ScalarExpr::Column(0)) if row_free(v) => high.push(v),
                _ => {}
            }
        }
    }
    (low, high)
}

/// Executes plans for one statement.
pub struct Executor<'a> {
    source: &'a dyn DataSource,
    params: &'a [Datum],
    text: &'a TextContext,
    now: TimestampTz,
    cancel: Option<&'a AtomicBool>,
    sequences: Option<&'a dyn SequenceAccess>,
    /// Results of uncorrelated subqueries, by plan address.
    cache: RefCell<HashMap<usize, Rc<Vec<Row>>>>,
    /// The working tables of the WITH RECURSIVE queries being evaluated.
    work_tables: RefCell<HashMap<u32, Rc<Vec<Row>>>>,
}

impl<'a> Executor<'a> {
    /// An executor over `source` with bound parameter values.
    pub fn new(source: &'a dyn DataSource, params: &'a [Datum], text: &'a TextContext, now: TimestampTz) -> Executor<'a> {
        Executor { source, params, text, now, cancel: None, sequences: None, cache: RefCell::new(HashMap::new()), work_tables: RefCell::new(HashMap::new()) }
    }

    /// Makes the executor stop with 57014 when `flag` becomes true.
    pub fn with_cancel(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Gives expressions access to sequences (nextval, currval, setval).
    pub fn with_sequences(mut self, sequences: &'a dyn SequenceAccess) -> Self {
        self.sequences = Some(sequences);
        self
    }

    /// An evaluation context with the given enclosing rows.
    pub fn context<'b>(&'b self, outer: &'b [Row]) -> EvalContext<'b> {
        EvalContext {
            params: self.params,
            outer,
            text: self.text,
            subqueries: Some(self),
            now: self.now,
            sequences: self.sequences,
        }
    }

    fn check_cancel(&self) -> Result<()> {
        if let Some(flag) = self.cancel {
            if flag.swap(false, Ordering::SeqCst) {
                return Err(Error::new(SqlState::QueryCanceled, "canceling statement due to user request"));
            }
        }
        Ok(())
    }

    /// Evaluates `plan` to its rows.
    pub fn run(&self, plan: &RelExpr) -> Result<Vec<Row>> {
        self.run_with(plan, &[])
    }

    /// Feeds `plan`'s rows to `f` one at a time without materializing
    /// them, for the row-at-a-time operators (scan, filter, map, project);
    /// other operators are evaluated whole first.
    pub fn stream(&self, plan: &RelExpr, outer: &[Row], f: &mut dyn FnMut(&[Datum]) -> Result<()>) -> Result<()> {
        let ctx = self.context(outer);
        match plan {
            RelExpr::Get { table, with_row_id, .. } => {
                let mut n = 0usize;
                let mut buf: Vec<Datum> = Vec::new();
                self.source.scan(*table, &mut |id, row| {
                    n += 1;
                    if n % 4096 == 0 {
                        self.check_cancel()?;
                    }
                    if *with_row_id {
                        buf.clear();
                        buf.extend_from_slice(row);
                        buf.push(Datum::Int8(id as i64));
                        f(&buf)
                    } else {
                        f(row)
                    }
                })
            }
            RelExpr::Filter { input, predicates }
                if matches!(input.as_ref(), RelExpr::Get { .. })
                    && point_predicates(predicates).is_empty()
                    && multi_point_predicate(predicates).is_some() =>
            {
                let RelExpr::Get { table, column_types, with_row_id } = input.as_ref() else {
                    unreachable!("matched above")
                };
                let Some((column, points)) = multi_point_predicate(predicates) else { unreachable!("matched above") };
                let values = points.values(&ctx)?;
                let mut buf: Vec<Datum> = Vec::new();
                let mut emit = |id: u64, row: &[Datum]| -> Result<()> {
                    buf.clear();
                    buf.extend_from_slice(row);
                    if *with_row_id {
                        buf.push(Datum::Int8(id as i64));
                    }
                    if passes(predicates, &buf, &ctx)? {
                        f(&buf)?;
                    }
                    Ok(())
                };
                // One index lookup per value; distinct values of a unique
                // (or view-prefix) key select disjoint rows.
                let indexed = column < column_types.len()
                    && values.len() <= 10_000
                    && match values.first() {
                        None => return Ok(()),
                        Some(v) => self.source.lookup(*table, &[column], std::slice::from_ref(v), &mut emit)?,
                    };
                if indexed {
                    for v in &values[1..] {
                        self.source.lookup(*table, &[column], std::slice::from_ref(v), &mut emit)?;
                    }
                    return Ok(());
                }
                self.stream(input, outer, &mut |row| {
                    if passes(predicates, row, &ctx)? {
                        f(row)?;
                    }
                    Ok(())
                })
            }
            RelExpr::Filter { input, predicates }
                if matches!(input.as_ref(), RelExpr::Get { with_row_id: false, .. })
                    && point_predicates(predicates).is_empty()
                    && first_column_bounds(predicates) != (vec![], vec![]) =>
            {
                let RelExpr::Get { table, .. } = input.as_ref() else { unreachable!("matched above") };
                let (lows, highs) = first_column_bounds(predicates);
                // The tightest bound of each side (all must hold).
                let pick = |exprs: Vec<&ScalarExpr>, want: std::cmp::Ordering| -> Result<Option<Option<Datum>>> {
                    let mut best: Option<Datum> = None;
                    for e in exprs {
                        let v = e.eval(&[], &ctx)?;
                        if v.is_null() {
                            return Ok(None); // `col > NULL` matches nothing
                        }
                        if best.as_ref().is_none_or(|b| freshet_expr::func::compare(&v, b) == Some(want)) {
                            best = Some(v);
                        }
                    }
                    Ok(Some(best))
                };
                let (Some(low), Some(high)) = (pick(lows, std::cmp::Ordering::Greater)?, pick(highs, std::cmp::Ordering::Less)?) else {
                    return Ok(());
                };
                let mut emit = |_id: u64, row: &[Datum]| -> Result<()> {
                    if passes(predicates, row, &ctx)? {
                        f(row)?;
                    }
                    Ok(())
                };
                if self.source.lookup_first_between(*table, low.as_ref(), high.as_ref(), &mut emit)? {
                    return Ok(());
                }
                self.stream(input, outer, &mut |row| {
                    if passes(predicates, row, &ctx)? {
                        f(row)?;
                    }
                    Ok(())
                })
            }
            RelExpr::Filter { input, predicates }
                if matches!(input.as_ref(), RelExpr::Get { .. }) && !point_predicates(predicates).is_empty() =>
            {
                let RelExpr::Get { table, column_types, with_row_id } = input.as_ref() else {
                    unreachable!("matched above")
                };
                let points = point_predicates(predicates);
                let mut columns = Vec::with_capacity(points.len());
                let mut values = Vec::with_capacity(points.len());
                for (c, e) in &points {
                    if *c >= column_types.len() || columns.contains(c) {
                        continue;
                    }
                    let v = e.eval(&[], &ctx)?;
                    if v.is_null() {
                        return Ok(()); // `col = NULL` matches nothing
                    }
                    columns.push(*c);
                    values.push(v);
                }
                let mut buf: Vec<Datum> = Vec::new();
                let mut emit = |id: u64, row: &[Datum]| -> Result<()> {
                    buf.clear();
                    buf.extend_from_slice(row);
                    if *with_row_id {
                        buf.push(Datum::Int8(id as i64));
                    }
                    if passes(predicates, &buf, &ctx)? {
                        f(&buf)?;
                    }
                    Ok(())
                };
                // Try every subset of the equality columns a unique index might cover,
                // largest first (usually the primary key).
                if self.source.lookup(*table, &columns, &values, &mut emit)? {
                    return Ok(());
                }
                for skip in 0..columns.len() {
                    if columns.len() < 2 {
                        break;
                    }
                    let cols: Vec<usize> = columns.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| *c).collect();
                    let vals: Vec<Datum> = values.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, v)| v.clone()).collect();
                    if self.source.lookup(*table, &cols, &vals, &mut emit)? {
                        return Ok(());
                    }
                }
                if columns.len() > 1 {
                    for (c, v) in columns.iter().zip(&values) {
                        if self.source.lookup(*table, &[*c], std::slice::from_ref(v), &mut emit)? {
                            return Ok(());
                        }
                    }
                }
                self.stream(input, outer, &mut |row| {
                    if passes(predicates, row, &ctx)? {
                        f(row)?;
                    }
                    Ok(())
                })
            }
            RelExpr::Filter { input, predicates } => self.stream(input, outer, &mut |row| {
                if passes(predicates, row, &ctx)? {
                    f(row)?;
                }
                Ok(())
            }),
            RelExpr::Map { input, exprs } => {
                let mut buf: Vec<Datum> = Vec::new();
                self.stream(input, outer, &mut |row| {
                    buf.clear();
                    buf.extend_from_slice(row);
                    for e in exprs {
                        let v = e.eval(&buf, &ctx)?;
                        buf.push(v);
                    }
                    f(&buf)
                })
            }
            RelExpr::FlatMap { input, funcs, ordinality, outer: keep_empty } => {
                let width: usize = funcs.iter().map(|(func, _)| func.width()).sum();
                let mut buf: Vec<Datum> = Vec::new();
                self.stream(input, outer, &mut |row| {
                    let mut outputs = Vec::with_capacity(funcs.len());
                    for (func, args) in funcs {
                        let mut values = Vec::with_capacity(args.len());
                        for a in args {
                            values.push(a.eval(row, &ctx)?);
                        }
                        outputs.push(func.eval(&values, &ctx)?);
                    }
                    let len = outputs.iter().map(|o| o.len()).max().unwrap_or(0);
                    if len == 0 && *keep_empty {
                        buf.clear();
                        buf.extend_from_slice(row);
                        buf.extend(std::iter::repeat_n(Datum::Null, width + *ordinality as usize));
                        return f(&buf);
                    }
                    for i in 0..len {
                        buf.clear();
                        buf.extend_from_slice(row);
                        for ((func, _), out) in funcs.iter().zip(&outputs) {
                            match out.get(i) {
                                Some(r) => buf.extend(r.iter().cloned()),
                                None => buf.extend(std::iter::repeat_n(Datum::Null, func.width())),
                            }
                        }
                        if *ordinality {
                            buf.push(Datum::Int8(i as i64 + 1));
                        }
                        f(&buf)?;
                    }
                    Ok(())
                })
            }
            RelExpr::Project { input, columns } => {
                let mut buf: Vec<Datum> = Vec::new();
                self.stream(input, outer, &mut |row| {
                    buf.clear();
                    buf.extend(columns.iter().map(|c| row.get(*c).cloned().unwrap_or(Datum::Null)));
                    f(&buf)
                })
            }
            other => {
                for row in self.run_with(other, outer)? {
                    f(&row)?;
                }
                Ok(())
            }
        }
    }

    fn collect(&self, plan: &RelExpr, outer: &[Row]) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.stream(plan, outer, &mut |row| {
            rows.push(row.to_vec());
            Ok(())
        })?;
        Ok(rows)
    }

    /// Evaluates `plan` with enclosing rows for correlated references.
    pub fn run_with(&self, plan: &RelExpr, outer: &[Row]) -> Result<Vec<Row>> {
        self.check_cancel()?;
        let ctx = self.context(outer);
        Ok(match plan {
            RelExpr::Get { .. }
            | RelExpr::Filter { .. }
            | RelExpr::Project { .. }
            | RelExpr::Map { .. }
            | RelExpr::FlatMap { .. } => {
                self.collect(plan, outer)?
            }
            RelExpr::System { name, .. } => self.source.system(name)?,
            RelExpr::Apply { left, right, kind, on } => {
                let left_rows = self.run_with(left, outer)?;
                let right_arity = right.arity();
                let mut out = Vec::new();
                for l in left_rows {
                    self.check_cancel()?;
                    let mut enclosing = Vec::with_capacity(outer.len() + 1);
                    enclosing.push(l.clone());
                    enclosing.extend(outer.iter().cloned());
                    let mut matched = false;
                    for r in self.run_with(right, &enclosing)? {
                        let mut row = l.clone();
                        row.extend(r);
                        if on.eval(&row, &ctx)? == Datum::Bool(true) {
                            matched = true;
                            out.push(row);
                        }
                    }
                    if !matched && *kind == freshet_expr::JoinKind::Left {
                        let mut row = l;
                        row.extend(std::iter::repeat_n(Datum::Null, right_arity));
                        out.push(row);
                    }
                }
                out
            }
            RelExpr::WorkTable { id, .. } => {
                let table = self.work_tables.borrow().get(id).cloned();
                match table {
                    Some(rows) => rows.as_ref().clone(),
                    None => return Err(Error::internal(format!("working table {id} read outside its recursion"))),
                }
            }
            RelExpr::Recursive { id, base, step, distinct } => {
                let mut result = self.run_with(base, outer)?;
                let mut seen: HashSet<Row> = HashSet::new();
                if *distinct {
                    result.retain(|r| seen.insert(r.clone()));
                }
                let mut work = result.clone();
                while !work.is_empty() {
                    self.check_cancel()?;
                    let previous = self.work_tables.borrow_mut().insert(*id, Rc::new(work));
                    let produced = self.run_with(step, outer);
                    match previous {
                        Some(p) => self.work_tables.borrow_mut().insert(*id, p),
                        None => self.work_tables.borrow_mut().remove(id),
                    };
                    let mut produced = produced?;
                    if *distinct {
                        produced.retain(|r| seen.insert(r.clone()));
                    }
                    result.extend(produced.iter().cloned());
                    work = produced;
                }
                result
            }
            RelExpr::Values { rows, .. } => {
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut row = Vec::with_capacity(r.len());
                    for e in r {
                        row.push(e.eval(&[], &ctx)?);
                    }
                    out.push(row);
                }
                out
            }
            RelExpr::Join { left, right, kind, on } => {
                let l = self.run_with(left, outer)?;
                let r = self.run_with(right, outer)?;
                join::join(l, r, left.arity(), right.arity(), *kind, on, &ctx)?
            }
            RelExpr::Reduce { input, group_key, aggregates } => {
                // Groups in first-seen order, found through a hash table of
                // indexes; keys are hashed and compared by reference so a
                // row whose group exists costs no key allocation.
                let hasher = std::hash::RandomState::new();
                let mut groups: Vec<(Vec<Datum>, Vec<Accumulator>)> = Vec::new();
                let mut index: hashbrown::HashTable<usize> = hashbrown::HashTable::new();
                let mut args: Vec<Datum> = Vec::new();
                let mut evaluated: Vec<Datum> = Vec::new();
                let hash_key = |key: &mut dyn Iterator<Item = &Datum>| {
                    use std::hash::{BuildHasher, Hash, Hasher};
                    let mut h = hasher.build_hasher();
                    for d in key {
                        d.hash(&mut h);
                    }
                    h.finish()
                };
                self.stream(input, outer, &mut |row| {
                    evaluated.clear();
                    for k in group_key {
                        if !matches!(k, ScalarExpr::Column(_)) {
                            evaluated.push(k.eval(row, &ctx)?);
                        }
                    }
                    let mut next_evaluated = 0;
                    let key: Vec<&Datum> = group_key
                        .iter()
                        .map(|k| match k {
                            ScalarExpr::Column(i) => &row[*i],
                            _ => {
                                next_evaluated += 1;
                                &evaluated[next_evaluated - 1]
                            }
                        })
                        .collect();
                    let hash = hash_key(&mut key.iter().copied());
                    let found = index.find(hash, |&g| groups[g].0.iter().eq(key.iter().copied())).copied();
                    let g = match found {
                        Some(g) => g,
                        None => {
                            let g = groups.len();
                            groups.push((key.iter().map(|d| (*d).clone()).collect(), aggregates.iter().map(Accumulator::new).collect()));
                            index.insert_unique(hash, g, |&x| hash_key(&mut groups[x].0.iter()));
                            g
                        }
                    };
                    let accs = &mut groups[g].1;
                    for (acc, agg) in accs.iter_mut().zip(aggregates) {
                        if let Some(f) = &agg.filter {
                            if f.eval(row, &ctx)? != Datum::Bool(true) {
                                continue;
                            }
                        }
                        args.clear();
                        for a in &agg.args {
                            args.push(a.eval(row, &ctx)?);
                        }
                        if agg.order_by.is_empty() {
                            acc.add(&args, &ctx)?;
                        } else {
                            let mut keys = Vec::with_capacity(agg.order_by.len());
                            for o in &agg.order_by {
                                keys.push(o.expr.eval(row, &ctx)?);
                            }
                            acc.add_ordered(keys, args.clone(), &ctx)?;
                        }
                    }
                    Ok(())
                })?;
                if group_key.is_empty() && groups.is_empty() {
                    groups.push((vec![], aggregates.iter().map(Accumulator::new).collect()));
                }
                let mut out = Vec::with_capacity(groups.len());
                for (key, accs) in groups {
                    let mut row = key;
                    for acc in &accs {
                        row.push(acc.finish(&ctx)?);
                    }
                    out.push(row);
                }
                out
            }
            RelExpr::Distinct { input } => {
                let rows = self.run_with(input, outer)?;
                let mut seen = HashSet::new();
                rows.into_iter().filter(|r| seen.insert(r.clone())).collect()
            }
            RelExpr::Window { input, exprs } => {
                let mut rows = self.run_with(input, outer)?;
                let mut columns = Vec::with_capacity(exprs.len());
                {
                    let refs: Vec<&[Datum]> = rows.iter().map(|r| r.as_slice()).collect();
                    for w in exprs {
                        self.check_cancel()?;
                        columns.push(freshet_expr::window::evaluate(w, &refs, &ctx)?);
                    }
                }
                for (i, row) in rows.iter_mut().enumerate() {
                    row.extend(columns.iter_mut().map(|c| std::mem::replace(&mut c[i], Datum::Null)));
                }
                // Rows come out in the first window's order, as PostgreSQL's
                // WindowAgg over sorted input emits them.
                if let Some(first) = exprs.first() {
                    freshet_expr::window::sort_rows(first, &mut rows, &ctx)?;
                }
                rows
            }
            RelExpr::DistinctOn { input, keys, order_by } => {
                let rows = sort::top_k(self.run_with(input, outer)?, order_by, None, 0);
                let mut seen = HashSet::new();
                rows.into_iter()
                    .filter(|r| seen.insert(keys.iter().map(|k| r[*k].clone()).collect::<Vec<_>>()))
                    .collect()
            }
            RelExpr::Union { inputs } => {
                let mut out = Vec::new();
                for i in inputs {
                    out.extend(self.run_with(i, outer)?);
                }
                out
            }
            RelExpr::SetOp { left, right, op, all } => {
                let l = self.run_with(left, outer)?;
                let r = self.run_with(right, outer)?;
                let mut counts: HashMap<Row, i64> = HashMap::new();
                for row in r {
                    *counts.entry(row).or_default() += 1;
                }
                let mut out = Vec::new();
                let mut emitted: HashSet<Row> = HashSet::new();
                for row in l {
                    let c = counts.get_mut(&row);
                    let keep = match (op, all) {
                        (SetOpKind::Intersect, true) => match c {
                            Some(n) if *n > 0 => {
                                *n -= 1;
                                true
                            }
                            _ => false,
                        },
                        (SetOpKind::Except, true) => match c {
                            Some(n) if *n > 0 => {
                                *n -= 1;
                                false
                            }
                            _ => true,
                        },
                        (SetOpKind::Intersect, false) => c.is_some() && !emitted.contains(&row),
                        (SetOpKind::Except, false) => c.is_none() && !emitted.contains(&row),
                    };
                    if keep {
                        if !all {
                            emitted.insert(row.clone());
                        }
                        out.push(row);
                    }
                }
                out
            }
            RelExpr::TopK { input, order_by, limit, offset } => {
                let rows = self.run_with(input, outer)?;
                sort::top_k(rows, order_by, *limit, *offset)
            }
            RelExpr::DynamicTopK { input, order_by, limit, offset } => {
                let eval_count = |e: &Option<ScalarExpr>, what: &str| -> Result<Option<u64>> {
                    match e {
                        None => Ok(None),
                        Some(e) => match e.eval(&[], &ctx)? {
                            Datum::Null => Ok(None),
                            d => {
                                let n = d.as_i64().ok_or_else(|| Error::internal("non-integer LIMIT"))?;
                                if n < 0 {
                                    let state = if what == "LIMIT" {
                                        SqlState::InvalidRowCountInLimitClause
                                    } else {
                                        SqlState::InvalidRowCountInResultOffsetClause
                                    };
                                    return Err(Error::new(state, format!("{what} must not be negative")));
                                }
                                Ok(Some(n as u64))
                            }
                        },
                    }
                };
                let l = eval_count(limit, "LIMIT")?;
                let o = eval_count(offset, "OFFSET")?.unwrap_or(0);
                let rows = self.run_with(input, outer)?;
                sort::top_k(rows, order_by, l, o)
            }
        })
    }
}

/// Whether every predicate is true for `row`.
pub(crate) fn passes(predicates: &[ScalarExpr], row: &[Datum], ctx: &EvalContext<'_>) -> Result<bool> {
    for p in predicates {
        if p.eval(row, ctx)? != Datum::Bool(true) {
            return Ok(false);
        }
    }
    Ok(true)
}

impl SubqueryRunner for Executor<'_> {
    fn run(&self, subquery: &SubqueryExpr, ctx: &EvalContext<'_>, row: &[Datum]) -> Result<Vec<Row>> {
        if !subquery.correlated {
            let key = &subquery.plan as *const RelExpr as usize;
            if let Some(rows) = self.cache.borrow().get(&key) {
                return Ok(rows.as_ref().clone());
            }
            let rows = Rc::new(self.run_with(&subquery.plan, ctx.outer)?);
            self.cache.borrow_mut().insert(key, rows.clone());
            return Ok(rows.as_ref().clone());
        }
        let mut outer: Vec<Row> = Vec::with_capacity(ctx.outer.len() + 1);
        outer.push(row.to_vec());
        outer.extend(ctx.outer.iter().cloned());
        self.run_with(&subquery.plan, &outer)
    }
}
