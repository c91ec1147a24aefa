//! Window functions: their calls ([`WindowExpr`]) and their evaluation over
//! a set of rows ([`evaluate`]).
//!
//! Semantics follow PostgreSQL: rows are split into partitions by
//! `PARTITION BY`, ordered by the window's `ORDER BY`, and each row's value
//! is computed from its partition — its position (ranking functions), its
//! neighbours (`lag`/`lead`) or its frame (aggregates, `first_value`,
//! `last_value`, `nth_value`). The default frame is `RANGE BETWEEN
//! UNBOUNDED PRECEDING AND CURRENT ROW`, so without `ORDER BY` every row
//! of a partition is a peer and the frame is the whole partition.
//!
//! Rows that tie on the window's `ORDER BY` are ordered by their whole
//! value (`Datum` order). SQL leaves that order unspecified; fixing it
//! makes `row_number()` over ties the same in the batch executor and in
//! a maintained view, and the same for every worker count.
//!
//! Both engines call [`evaluate`]: the batch executor over a whole input,
//! the dataflow renderer over one partition at a time.

use std::cmp::Ordering;
use std::fmt;

use freshet_common::{DataType, Datum, Error, Result, SqlState};

use crate::agg::{AggOrder, AggregateExpr, Accumulator};
use crate::func::compare;
use crate::scalar::{EvalContext, ScalarExpr};

/// A window function.
#[derive(Clone, Debug, PartialEq)]
pub enum WindowFunc {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    /// `ntile(buckets)`.
    Ntile,
    /// `lag(value [, offset [, default]])`.
    Lag,
    /// `lead(value [, offset [, default]])`.
    Lead,
    FirstValue,
    LastValue,
    /// `nth_value(value, n)`.
    NthValue,
    /// An aggregate over the frame (`sum(x) OVER (...)`); its arguments
    /// and FILTER live in the [`AggregateExpr`].
    Aggregate(AggregateExpr),
}

/// How frame offsets count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameUnits {
    Rows,
    Range,
    Groups,
}

/// A `RANGE` offset bound, compiled by the binder into expressions so that
/// the types work out as PostgreSQL's `in_range` support functions do.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeOffset {
    /// The bound's value for a row, over the one-column row `[key]`
    /// (`key - offset` or `key + offset`, by direction).
    pub target: ScalarExpr,
    /// Whether a key lies strictly before the bound in the window's order,
    /// over `[key, target]`.
    pub before: ScalarExpr,
    /// Whether a key lies strictly after the bound, over `[key, target]`.
    pub after: ScalarExpr,
}

/// One end of a window frame.
#[derive(Clone, Debug, PartialEq)]
pub enum FrameBound {
    UnboundedPreceding,
    /// `offset PRECEDING`; `range` is set for `RANGE` frames.
    Preceding { offset: ScalarExpr, range: Option<Box<RangeOffset>> },
    CurrentRow,
    /// `offset FOLLOWING`; `range` is set for `RANGE` frames.
    Following { offset: ScalarExpr, range: Option<Box<RangeOffset>> },
    UnboundedFollowing,
}

/// A window frame: the rows an aggregate or value function sees.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowFrame {
    pub units: FrameUnits,
    pub start: FrameBound,
    pub end: FrameBound,
}

impl Default for WindowFrame {
    /// `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`.
    fn default() -> Self {
        WindowFrame { units: FrameUnits::Range, start: FrameBound::UnboundedPreceding, end: FrameBound::CurrentRow }
    }
}

/// One window function call.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowExpr {
    pub func: WindowFunc,
    /// Arguments of non-aggregate functions (e.g. `lag`'s value, offset and
    /// default); empty for aggregates.
    pub args: Vec<ScalarExpr>,
    pub partition_by: Vec<ScalarExpr>,
    pub order_by: Vec<AggOrder>,
    pub frame: WindowFrame,
    pub output_type: DataType,
}

impl WindowExpr {
    /// Calls `f` on every direct sub-expression evaluated over input rows
    /// (frame offsets are constants and are included too).
    pub fn for_each_child(&self, f: &mut dyn FnMut(&ScalarExpr)) {
        if let WindowFunc::Aggregate(agg) = &self.func {
            agg.args.iter().for_each(&mut *f);
            agg.filter.iter().for_each(&mut *f);
        }
        self.args.iter().for_each(&mut *f);
        self.partition_by.iter().for_each(&mut *f);
        self.order_by.iter().for_each(|o| f(&o.expr));
        for bound in [&self.frame.start, &self.frame.end] {
            if let FrameBound::Preceding { offset, .. } | FrameBound::Following { offset, .. } = bound {
                f(offset);
            }
        }
    }

    /// Rebuilds the call with every sub-expression over input rows replaced
    /// by `g(expr)`. Frame offsets are constants and are left alone.
    pub fn map_children(mut self, g: &mut dyn FnMut(ScalarExpr) -> Result<ScalarExpr>) -> Result<WindowExpr> {
        if let WindowFunc::Aggregate(agg) = &mut self.func {
            agg.args = std::mem::take(&mut agg.args).into_iter().map(&mut *g).collect::<Result<_>>()?;
            if let Some(filter) = agg.filter.take() {
                agg.filter = Some(g(filter)?);
            }
        }
        self.args = self.args.into_iter().map(&mut *g).collect::<Result<_>>()?;
        self.partition_by = self.partition_by.into_iter().map(&mut *g).collect::<Result<_>>()?;
        for o in self.order_by.iter_mut() {
            let e = std::mem::replace(&mut o.expr, ScalarExpr::null());
            o.expr = g(e)?;
        }
        Ok(self)
    }

    /// The SQL name of the function, for messages.
    pub fn name(&self) -> String {
        match &self.func {
            WindowFunc::RowNumber => "row_number".into(),
            WindowFunc::Rank => "rank".into(),
            WindowFunc::DenseRank => "dense_rank".into(),
            WindowFunc::PercentRank => "percent_rank".into(),
            WindowFunc::CumeDist => "cume_dist".into(),
            WindowFunc::Ntile => "ntile".into(),
            WindowFunc::Lag => "lag".into(),
            WindowFunc::Lead => "lead".into(),
            WindowFunc::FirstValue => "first_value".into(),
            WindowFunc::LastValue => "last_value".into(),
            WindowFunc::NthValue => "nth_value".into(),
            WindowFunc::Aggregate(agg) => format!("{:?}", agg.func).to_lowercase(),
        }
    }
}

impl fmt::Display for WindowExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.func {
            WindowFunc::Aggregate(agg) => write!(f, "{agg}")?,
            _ => {
                write!(f, "{}(", self.name())?;
                for (i, a) in self.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")?;
            }
        }
        f.write_str(" OVER (")?;
        if !self.partition_by.is_empty() {
            f.write_str("PARTITION BY ")?;
            for (i, p) in self.partition_by.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{p}")?;
            }
            f.write_str(" ")?;
        }
        if !self.order_by.is_empty() {
            f.write_str("ORDER BY ")?;
            for (i, o) in self.order_by.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}{}", o.expr, if o.descending { " DESC" } else { "" })?;
            }
        }
        write!(f, " {:?})", self.frame.units)
    }
}

/// Compares two order-key tuples with the window's directions and NULL
/// placement.
fn compare_keys(a: &[Datum], b: &[Datum], order_by: &[AggOrder]) -> Ordering {
    for ((x, y), o) in a.iter().zip(b).zip(order_by) {
        let ord = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => if o.nulls_first { Ordering::Less } else { Ordering::Greater },
            (false, true) => if o.nulls_first { Ordering::Greater } else { Ordering::Less },
            (false, false) => {
                let c = compare(x, y).unwrap_or(Ordering::Equal);
                if o.descending { c.reverse() } else { c }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Compares partition keys as PostgreSQL sorts them (ascending, NULLs
/// last); keys that compare equal are one partition.
fn compare_partitions(a: &[Datum], b: &[Datum]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare(x, y).unwrap_or_else(|| x.cmp(y)),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Evaluates `expr` for every row of `rows` (in any order, any mix of
/// partitions) and returns the values in the order of `rows`.
pub fn evaluate(expr: &WindowExpr, rows: &[&[Datum]], ctx: &EvalContext<'_>) -> Result<Vec<Datum>> {
    let mut partition_keys = Vec::with_capacity(rows.len());
    let mut order_keys = Vec::with_capacity(rows.len());
    for row in rows {
        let p = expr.partition_by.iter().map(|e| e.eval(row, ctx)).collect::<Result<Vec<Datum>>>()?;
        let o = expr.order_by.iter().map(|e| e.expr.eval(row, ctx)).collect::<Result<Vec<Datum>>>()?;
        partition_keys.push(p);
        order_keys.push(o);
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        compare_partitions(&partition_keys[a], &partition_keys[b])
            .then_with(|| compare_keys(&order_keys[a], &order_keys[b], &expr.order_by))
            .then_with(|| rows[a].cmp(rows[b]))
    });
    let mut out = vec![Datum::Null; rows.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len()
            && compare_partitions(&partition_keys[order[end]], &partition_keys[order[start]]) == Ordering::Equal
        {
            end += 1;
        }
        let part = &order[start..end];
        let values = Partition::new(expr, part, rows, &order_keys, ctx)?.values()?;
        for (&i, v) in part.iter().zip(values) {
            out[i] = v;
        }
        start = end;
    }
    Ok(out)
}

/// Sorts `rows` as `expr`'s window orders them: by partition, then by
/// the window's ORDER BY, ties by value.
pub fn sort_rows(expr: &WindowExpr, rows: &mut Vec<Vec<Datum>>, ctx: &EvalContext<'_>) -> Result<()> {
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows.drain(..) {
        let p = expr.partition_by.iter().map(|e| e.eval(&row, ctx)).collect::<Result<Vec<Datum>>>()?;
        let o = expr.order_by.iter().map(|e| e.expr.eval(&row, ctx)).collect::<Result<Vec<Datum>>>()?;
        keyed.push((p, o, row));
    }
    keyed.sort_by(|a, b| {
        compare_partitions(&a.0, &b.0)
            .then_with(|| compare_keys(&a.1, &b.1, &expr.order_by))
            .then_with(|| a.2.cmp(&b.2))
    });
    rows.extend(keyed.into_iter().map(|(_, _, row)| row));
    Ok(())
}

/// One sorted partition and its peer groups.
struct Partition<'a, 'c> {
    expr: &'a WindowExpr,
    /// The partition's rows, sorted.
    rows: Vec<&'a [Datum]>,
    /// Their order keys.
    keys: Vec<&'a [Datum]>,
    /// Peer group of each row, and each group's row range.
    group_of: Vec<usize>,
    groups: Vec<(usize, usize)>,
    ctx: &'a EvalContext<'c>,
}

impl<'a, 'c> Partition<'a, 'c> {
    fn new(
        expr: &'a WindowExpr,
        part: &[usize],
        rows: &[&'a [Datum]],
        order_keys: &'a [Vec<Datum>],
        ctx: &'a EvalContext<'c>,
    ) -> Result<Self> {
        let sorted: Vec<&[Datum]> = part.iter().map(|&i| rows[i]).collect();
        let keys: Vec<&[Datum]> = part.iter().map(|&i| order_keys[i].as_slice()).collect();
        let mut group_of = Vec::with_capacity(sorted.len());
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for i in 0..sorted.len() {
            let new_group = i == 0 || compare_keys(keys[i - 1], keys[i], &expr.order_by) != Ordering::Equal;
            if new_group {
                groups.push((i, i + 1));
            } else if let Some(last) = groups.last_mut() {
                last.1 = i + 1;
            }
            group_of.push(groups.len() - 1);
        }
        Ok(Partition { expr, rows: sorted, keys, group_of, groups, ctx })
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn arg(&self, n: usize, row: usize) -> Result<Datum> {
        match self.expr.args.get(n) {
            Some(e) => e.eval(self.rows[row], self.ctx),
            None => Ok(Datum::Null),
        }
    }

    fn values(&self) -> Result<Vec<Datum>> {
        let n = self.len();
        let mut out = Vec::with_capacity(n);
        match &self.expr.func {
            WindowFunc::RowNumber => out.extend((0..n).map(|i| Datum::Int8(i as i64 + 1))),
            WindowFunc::Rank => out.extend((0..n).map(|i| Datum::Int8(self.groups[self.group_of[i]].0 as i64 + 1))),
            WindowFunc::DenseRank => out.extend((0..n).map(|i| Datum::Int8(self.group_of[i] as i64 + 1))),
            WindowFunc::PercentRank => out.extend((0..n).map(|i| {
                let rank = self.groups[self.group_of[i]].0;
                Datum::Float8(freshet_common::F64(if n > 1 { rank as f64 / (n - 1) as f64 } else { 0.0 }))
            })),
            WindowFunc::CumeDist => out.extend((0..n).map(|i| {
                Datum::Float8(freshet_common::F64(self.groups[self.group_of[i]].1 as f64 / n as f64))
            })),
            WindowFunc::Ntile => {
                for i in 0..n {
                    out.push(match self.arg(0, i)? {
                        Datum::Null => Datum::Null,
                        d => {
                            let buckets = d.as_i64().unwrap_or(0);
                            if buckets <= 0 {
                                return Err(Error::new(
                                    SqlState::InvalidArgumentForNtile,
                                    "argument of ntile must be greater than zero",
                                ));
                            }
                            Datum::Int4(ntile(i, n, buckets as usize) as i32)
                        }
                    });
                }
            }
            WindowFunc::Lag | WindowFunc::Lead => {
                for i in 0..n {
                    let offset = match self.expr.args.get(1) {
                        Some(_) => match self.arg(1, i)? {
                            Datum::Null => {
                                out.push(Datum::Null);
                                continue;
                            }
                            d => d.as_i64().unwrap_or(0),
                        },
                        None => 1,
                    };
                    let target = if matches!(self.expr.func, WindowFunc::Lag) {
                        (i as i64).checked_sub(offset)
                    } else {
                        (i as i64).checked_add(offset)
                    };
                    out.push(match target {
                        Some(t) if t >= 0 && (t as usize) < n => self.arg(0, t as usize)?,
                        _ => self.arg(2, i)?,
                    });
                }
            }
            WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue => {
                let frames = self.frames()?;
                for (i, &(start, end)) in frames.iter().enumerate() {
                    let pick = match self.expr.func {
                        WindowFunc::FirstValue => (start < end).then_some(start),
                        WindowFunc::LastValue => (start < end).then(|| end - 1),
                        _ => match self.arg(1, i)? {
                            Datum::Null => None,
                            d => {
                                let nth = d.as_i64().unwrap_or(0);
                                if nth <= 0 {
                                    return Err(Error::new(
                                        SqlState::InvalidArgumentForNthValue,
                                        "argument of nth_value must be greater than zero",
                                    ));
                                }
                                let at = start.saturating_add(nth as usize - 1);
                                (at < end).then_some(at)
                            }
                        },
                    };
                    out.push(match pick {
                        Some(row) => self.arg(0, row)?,
                        None => Datum::Null,
                    });
                }
            }
            WindowFunc::Aggregate(agg) => out = self.aggregate(agg)?,
        }
        Ok(out)
    }

    /// Each row's frame as a half-open range of partition positions.
    fn frames(&self) -> Result<Vec<(usize, usize)>> {
        let n = self.len();
        let frame = &self.expr.frame;
        let start_offset = self.offset(&frame.start, "starting")?;
        let end_offset = self.offset(&frame.end, "ending")?;
        let mut frames = Vec::with_capacity(n);
        for i in 0..n {
            let start = self.bound(i, &frame.start, start_offset, true)?;
            let end = self.bound(i, &frame.end, end_offset, false)?;
            frames.push((start, end.max(start)));
        }
        Ok(frames)
    }

    /// A bound's offset, checked as PostgreSQL does: not NULL, not negative.
    fn offset(&self, bound: &FrameBound, which: &str) -> Result<usize> {
        let (FrameBound::Preceding { offset, .. } | FrameBound::Following { offset, .. }) = bound else {
            return Ok(0);
        };
        let value = offset.eval(&[], self.ctx)?;
        if value.is_null() {
            return Err(Error::new(SqlState::NullValueNotAllowed, format!("frame {which} offset must not be null")));
        }
        let negative = match &value {
            Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_) => value.as_i64().unwrap_or(0) < 0,
            other => compare(other, &zero_like(other)) == Some(Ordering::Less),
        };
        if negative {
            return Err(Error::new(
                SqlState::InvalidPrecedingOrFollowingSize,
                format!("frame {which} offset must not be negative"),
            ));
        }
        // Only ROWS and GROUPS use the count; RANGE offsets go through `range`.
        Ok(value.as_i64().map(|v| v.min(i64::MAX / 4) as usize).unwrap_or(0))
    }

    /// The position a frame bound denotes for row `i`: the first row of
    /// the frame for a start bound, one past the last for an end bound.
    fn bound(&self, i: usize, bound: &FrameBound, offset: usize, is_start: bool) -> Result<usize> {
        let n = self.len();
        let units = self.expr.frame.units;
        let (group_start, group_end) = self.groups[self.group_of[i]];
        let g = self.group_of[i];
        let at_group = |g: usize| if is_start { self.groups[g].0 } else { self.groups[g].1 };
        Ok(match bound {
            FrameBound::UnboundedPreceding => 0,
            FrameBound::UnboundedFollowing => n,
            FrameBound::CurrentRow => match units {
                FrameUnits::Rows => if is_start { i } else { i + 1 },
                _ => if is_start { group_start } else { group_end },
            },
            FrameBound::Preceding { range, .. } | FrameBound::Following { range, .. } => {
                let preceding = matches!(bound, FrameBound::Preceding { .. });
                match units {
                    FrameUnits::Rows => {
                        let pos = if preceding { i as i64 - offset as i64 } else { (i + offset) as i64 };
                        let pos = if is_start { pos } else { pos + 1 };
                        pos.clamp(0, n as i64) as usize
                    }
                    FrameUnits::Groups => {
                        if preceding {
                            match g.checked_sub(offset) {
                                Some(target) => at_group(target),
                                None => 0,
                            }
                        } else if g + offset < self.groups.len() {
                            at_group(g + offset)
                        } else {
                            n
                        }
                    }
                    FrameUnits::Range => match range {
                        Some(range) => self.range_bound(i, range, is_start, group_start, group_end)?,
                        None => return Err(Error::internal("RANGE offset bound without its comparison")),
                    },
                }
            }
        })
    }

    /// A `RANGE offset` bound for row `i`. A row whose key is NULL has only
    /// its NULL peers in range; a non-NULL key never reaches NULLs.
    fn range_bound(&self, i: usize, range: &RangeOffset, is_start: bool, group_start: usize, group_end: usize) -> Result<usize> {
        let key = &self.keys[i][0];
        if key.is_null() {
            return Ok(if is_start { group_start } else { group_end });
        }
        let non_null: Vec<usize> = (0..self.len()).filter(|&j| !self.keys[j][0].is_null()).collect();
        let (lo, hi) = match (non_null.first(), non_null.last()) {
            (Some(&lo), Some(&hi)) => (lo, hi + 1),
            _ => return Ok(if is_start { group_start } else { group_end }),
        };
        let target = range.target.eval(std::slice::from_ref(key), self.ctx)?;
        let test = |e: &ScalarExpr, j: usize| -> Result<bool> {
            Ok(e.eval(&[self.keys[j][0].clone(), target.clone()], self.ctx)? == Datum::Bool(true))
        };
        // Keys are sorted, so the rows before (after) the bound are a prefix (suffix).
        let (mut a, mut b) = (lo, hi);
        let predicate = if is_start { &range.before } else { &range.after };
        while a < b {
            let mid = (a + b) / 2;
            let in_prefix = if is_start { test(predicate, mid)? } else { !test(predicate, mid)? };
            if in_prefix {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        Ok(a)
    }

    /// An aggregate over each row's frame.
    fn aggregate(&self, agg: &AggregateExpr) -> Result<Vec<Datum>> {
        let n = self.len();
        // Each row's arguments, or None when its FILTER rejects it.
        let mut inputs: Vec<Option<Vec<Datum>>> = Vec::with_capacity(n);
        for row in &self.rows {
            let pass = match &agg.filter {
                Some(f) => f.eval(row, self.ctx)? == Datum::Bool(true),
                None => true,
            };
            inputs.push(if pass {
                Some(agg.args.iter().map(|a| a.eval(row, self.ctx)).collect::<Result<Vec<Datum>>>()?)
            } else {
                None
            });
        }
        let frames = self.frames()?;
        let mut out = Vec::with_capacity(n);
        if matches!(self.expr.frame.start, FrameBound::UnboundedPreceding) {
            // Frames only grow: one running accumulator.
            let mut acc = Accumulator::new(agg);
            let mut added = 0;
            let mut last: Option<(usize, Datum)> = None;
            for &(_, end) in &frames {
                if let Some((e, v)) = &last {
                    if *e == end {
                        out.push(v.clone());
                        continue;
                    }
                }
                while added < end {
                    if let Some(args) = &inputs[added] {
                        acc.add(args, self.ctx)?;
                    }
                    added += 1;
                }
                let v = acc.finish(self.ctx)?;
                last = Some((end, v.clone()));
                out.push(v);
            }
        } else {
            let mut last: Option<((usize, usize), Datum)> = None;
            for &frame in &frames {
                if let Some((f, v)) = &last {
                    if *f == frame {
                        out.push(v.clone());
                        continue;
                    }
                }
                let mut acc = Accumulator::new(agg);
                for args in inputs[frame.0..frame.1].iter().flatten() {
                    acc.add(args, self.ctx)?;
                }
                let v = acc.finish(self.ctx)?;
                last = Some((frame, v.clone()));
                out.push(v);
            }
        }
        Ok(out)
    }
}

/// The bucket (1-based) of row `i` of `n` split into `buckets` buckets as
/// evenly as possible, larger buckets first (PostgreSQL's `ntile`).
fn ntile(i: usize, n: usize, buckets: usize) -> usize {
    let per = n / buckets;
    let extra = n % buckets;
    let big = extra * (per + 1);
    if i < big {
        i / (per + 1) + 1
    } else {
        extra + (i - big) / per.max(1) + 1
    }
}

/// The zero of `d`'s type, for the negative-offset check.
fn zero_like(d: &Datum) -> Datum {
    match d {
        Datum::Float4(_) => Datum::Float4(freshet_common::F32(0.0)),
        Datum::Float8(_) => Datum::Float8(freshet_common::F64(0.0)),
        Datum::Numeric(_) => Datum::Numeric(freshet_common::Numeric::ZERO),
        Datum::Interval(_) => Datum::Interval(Default::default()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::ntile;

    #[test]
    fn ntile_matches_postgres_bucket_sizes() {
        // 10 rows in 3 buckets: 4, 3, 3.
        let got: Vec<usize> = (0..10).map(|i| ntile(i, 10, 3)).collect();
        assert_eq!(got, vec![1, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
        // More buckets than rows: one row per bucket.
        let got: Vec<usize> = (0..3).map(|i| ntile(i, 3, 5)).collect();
        assert_eq!(got, vec![1, 2, 3]);
    }
}
