//! Aggregate functions: their calls ([`AggregateExpr`]) and accumulators.
//!
//! Result types follow PostgreSQL: `count` is bigint; `sum` of
//! smallint/integer is bigint, of bigint/numeric is numeric, of floats is the
//! float type; `avg` of integers/numeric is numeric, of floats double.

use std::collections::BTreeSet;
use std::fmt;

use freshet_common::{DataType, Datum, Error, Result, SqlState, F32, F64};
use freshet_common::Numeric;

use crate::func::{compare, eval_binary, BinaryOp};
use crate::scalar::{EvalContext, ScalarExpr};

/// An aggregate function with its resolved input type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AggregateFunc {
    /// `count(*)`.
    CountStar,
    /// `count(expr)`: counts non-NULL values.
    Count,
    Sum,
    Avg,
    Min,
    Max,
    /// `string_agg(value, delimiter)`.
    StringAgg,
    ArrayAgg,
    BoolAnd,
    BoolOr,
    /// `stddev_samp` (also `stddev`), `stddev_pop`, `var_samp` (also
    /// `variance`) and `var_pop`.
    Spread { kind: SpreadKind },
    /// `percentile_cont(fraction) WITHIN GROUP (ORDER BY value)`: args are
    /// `[value, fraction]`, fed in the WITHIN GROUP order.
    PercentileCont,
    /// `percentile_disc(fraction) WITHIN GROUP (ORDER BY value)`.
    PercentileDisc,
    /// `mode() WITHIN GROUP (ORDER BY value)`: args are `[value]`, fed in
    /// the WITHIN GROUP order; ties go to the first value in that order.
    Mode,
    /// `GROUPING(keys...)`: not accumulated; the planner turns it into a
    /// constant per grouping set.
    Grouping,
    /// `jsonb_agg(value)` / `json_agg(value)` (`json`: the json type) over
    /// values the binder has already converted with `to_jsonb`; SQL NULL
    /// becomes JSON null.
    JsonAgg { json: bool },
    /// `jsonb_object_agg(key, value)` / `json_object_agg`: args are the
    /// key as text and the value as jsonb; a later duplicate key wins.
    JsonObjectAgg { json: bool },
}

/// Which statistical spread aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpreadKind {
    StddevSamp,
    StddevPop,
    VarSamp,
    VarPop,
}

impl SpreadKind {
    fn sample(self) -> bool {
        matches!(self, SpreadKind::StddevSamp | SpreadKind::VarSamp)
    }
    fn stddev(self) -> bool {
        matches!(self, SpreadKind::StddevSamp | SpreadKind::StddevPop)
    }
}

/// One aggregate call in a grouped query.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateExpr {
    pub func: AggregateFunc,
    /// Arguments, evaluated over the aggregation's input rows.
    pub args: Vec<ScalarExpr>,
    /// `agg(DISTINCT x)`.
    pub distinct: bool,
    /// `FILTER (WHERE ...)`.
    pub filter: Option<ScalarExpr>,
    /// `agg(x ORDER BY ...)`: the order in which rows are fed.
    pub order_by: Vec<AggOrder>,
    /// Type of the (first) argument; decides the accumulator.
    pub input_type: DataType,
    /// Type of the result.
    pub output_type: DataType,
}

/// One ORDER BY key inside an aggregate call.
#[derive(Clone, Debug, PartialEq)]
pub struct AggOrder {
    pub expr: ScalarExpr,
    pub descending: bool,
    pub nulls_first: bool,
}

impl fmt::Display for AggregateExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}(", self.func)?;
        if self.distinct {
            f.write_str("DISTINCT ")?;
        }
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_str(")")?;
        if let Some(filter) = &self.filter {
            write!(f, " FILTER (WHERE {filter})")?;
        }
        Ok(())
    }
}

impl AggregateExpr {
    /// Whether the aggregate can be computed in two stages: partial states
    /// over disjoint parts of a group ([`Accumulator::partial`]), then
    /// merged ([`Accumulator::merge`]). Not for DISTINCT, ORDER BY inside
    /// the call, or the collecting aggregates.
    pub fn is_decomposable(&self) -> bool {
        !self.distinct
            && self.order_by.is_empty()
            && matches!(
                self.func,
                AggregateFunc::CountStar
                    | AggregateFunc::Count
                    | AggregateFunc::Sum
                    | AggregateFunc::Avg
                    | AggregateFunc::Min
                    | AggregateFunc::Max
                    | AggregateFunc::BoolAnd
                    | AggregateFunc::BoolOr
            )
    }
}

impl AggregateFunc {
    /// The result type of this aggregate over `input`.
    pub fn output_type(&self, input: &DataType) -> DataType {
        match self {
            AggregateFunc::CountStar | AggregateFunc::Count => DataType::Int8,
            AggregateFunc::Sum => match input {
                DataType::Int2 | DataType::Int4 => DataType::Int8,
                DataType::Int8 | DataType::Numeric(_) => DataType::Numeric(None),
                DataType::Float4 => DataType::Float4,
                DataType::Float8 => DataType::Float8,
                other => other.clone(),
            },
            AggregateFunc::Avg => match input {
                DataType::Float4 | DataType::Float8 => DataType::Float8,
                DataType::Interval => DataType::Interval,
                _ => DataType::Numeric(None),
            },
            AggregateFunc::Min | AggregateFunc::Max => input.clone(),
            AggregateFunc::StringAgg => input.clone(),
            AggregateFunc::ArrayAgg => DataType::Array(Box::new(input.clone())),
            AggregateFunc::JsonAgg { json: true } | AggregateFunc::JsonObjectAgg { json: true } => DataType::Json,
            AggregateFunc::JsonAgg { json: false } | AggregateFunc::JsonObjectAgg { json: false } => DataType::Jsonb,
            AggregateFunc::BoolAnd | AggregateFunc::BoolOr => DataType::Bool,
            AggregateFunc::Grouping => DataType::Int4,
            AggregateFunc::PercentileCont | AggregateFunc::PercentileDisc | AggregateFunc::Mode => input.clone(),
            AggregateFunc::Spread { .. } => match input {
                DataType::Float4 | DataType::Float8 => DataType::Float8,
                _ => DataType::Numeric(None),
            },
        }
    }
}

/// Running state of one aggregate over one group.
#[derive(Debug)]
pub struct Accumulator {
    func: AggregateFunc,
    distinct: Option<BTreeSet<Vec<Datum>>>,
    count: i64,
    int_sum: i128,
    numeric_sum: Numeric,
    /// Sum of squares (numeric spread aggregates).
    numeric_sum2: Numeric,
    float_sum: f64,
    /// Youngs-Cramer running sum of squared differences (float spread
    /// aggregates, as PostgreSQL's `float8_accum`).
    float_sxx: f64,
    best: Option<Datum>,
    items: Vec<Datum>,
    text: Option<String>,
    flag: Option<bool>,
    input_type: DataType,
    /// For ordered aggregates: (descending, nulls_first) per key and the
    /// buffered (keys, args) rows, fed in order at finish.
    ordered: Option<(Vec<(bool, bool)>, Vec<(Vec<Datum>, Vec<Datum>)>)>,
    template: Option<Box<AggregateExpr>>,
}

impl Accumulator {
    /// A fresh accumulator for `agg`.
    pub fn new(agg: &AggregateExpr) -> Accumulator {
        Accumulator {
            func: agg.func.clone(),
            distinct: agg.distinct.then(BTreeSet::new),
            count: 0,
            int_sum: 0,
            numeric_sum: Numeric::ZERO,
            numeric_sum2: Numeric::ZERO,
            float_sum: 0.0,
            float_sxx: 0.0,
            best: None,
            items: Vec::new(),
            text: None,
            flag: None,
            input_type: agg.input_type.clone(),
            ordered: (!agg.order_by.is_empty())
                .then(|| (agg.order_by.iter().map(|o| (o.descending, o.nulls_first)).collect(), Vec::new())),
            template: (!agg.order_by.is_empty()).then(|| {
                let mut t = agg.clone();
                t.order_by.clear();
                Box::new(t)
            }),
        }
    }

    /// Feeds one row of an ordered aggregate: its sort keys and arguments.
    pub fn add_ordered(&mut self, keys: Vec<Datum>, args: Vec<Datum>, ctx: &EvalContext<'_>) -> Result<()> {
        match &mut self.ordered {
            Some((_, rows)) => {
                rows.push((keys, args));
                Ok(())
            }
            None => self.add(&args, ctx),
        }
    }

    /// Feeds one input row's argument values (already past the FILTER).
    pub fn add(&mut self, args: &[Datum], ctx: &EvalContext<'_>) -> Result<()> {
        if let Some(seen) = &mut self.distinct {
            // Strict aggregates skip NULLs; array_agg and json_agg keep one.
            let keeps_null = matches!(
                self.func,
                AggregateFunc::CountStar | AggregateFunc::ArrayAgg | AggregateFunc::JsonAgg { .. }
            );
            if !keeps_null && args.first().is_none_or(|a| a.is_null()) {
                return Ok(());
            }
            if seen.contains(args) {
                return Ok(());
            }
            seen.insert(args.to_vec());
        }
        const NULL: Datum = Datum::Null;
        let value_ref = args.first().unwrap_or(&NULL);
        // Only aggregates that keep the value need an owned copy.
        let value = match self.func {
            AggregateFunc::Min | AggregateFunc::Max | AggregateFunc::ArrayAgg | AggregateFunc::JsonAgg { .. } => value_ref.clone(),
            AggregateFunc::Sum | AggregateFunc::Avg if matches!(value_ref, Datum::Interval(_)) => value_ref.clone(),
            _ => Datum::Null,
        };
        let value_is_null = value_ref.is_null();
        match self.func {
            AggregateFunc::CountStar => self.count += 1,
            AggregateFunc::Grouping => {
                return Err(Error::new(SqlState::GroupingError, "GROUPING is only allowed in a grouped query's output"))
            }
            AggregateFunc::JsonAgg { .. } => self.items.push(value),
            AggregateFunc::JsonObjectAgg { .. } => {
                if value_is_null {
                    return Err(Error::new(SqlState::InvalidParameterValue, "field name must not be null"));
                }
                self.items.push(Datum::Array(vec![value_ref.clone(), args.get(1).cloned().unwrap_or(Datum::Null)]));
            }
            _ if value_is_null && self.func != AggregateFunc::ArrayAgg => {}
            AggregateFunc::Count => self.count += 1,
            AggregateFunc::Sum | AggregateFunc::Avg => {
                self.count += 1;
                match value_ref {
                    Datum::Int2(_) | Datum::Int4(_) | Datum::Int8(_) => {
                        self.int_sum += value_ref.as_i64().unwrap_or(0) as i128
                    }
                    Datum::Numeric(d) => {
                        self.numeric_sum = self.numeric_sum.checked_add(d)?
                    }
                    Datum::Float4(f) => self.float_sum += f.0 as f64,
                    Datum::Float8(f) => self.float_sum += f.0,
                    Datum::Interval(_) => {
                        self.best = Some(match self.best.take() {
                            None => value,
                            Some(acc) => eval_binary(BinaryOp::Add, acc, value, ctx)?,
                        })
                    }
                    other => {
                        return Err(Error::new(
                            SqlState::UndefinedFunction,
                            format!("function sum({}) does not exist", crate::func::variant_name(other)),
                        ))
                    }
                }
            }
            AggregateFunc::Min | AggregateFunc::Max => self.keep_extreme(value),
            AggregateFunc::StringAgg => {
                let delim = args.get(1).and_then(|d| d.as_str().map(str::to_string));
                let piece = match value_ref {
                    Datum::Text(s) => s.clone(),
                    Datum::Bytea(_) => return Err(Error::unsupported("string_agg over bytea")),
                    _ => String::new(),
                };
                match &mut self.text {
                    None => self.text = Some(piece),
                    Some(t) => {
                        if let Some(d) = delim {
                            t.push_str(&d);
                        }
                        t.push_str(&piece);
                    }
                }
            }
            AggregateFunc::ArrayAgg => self.items.push(value),
            AggregateFunc::Mode => self.items.push(value_ref.clone()),
            AggregateFunc::PercentileCont | AggregateFunc::PercentileDisc => {
                let fraction = args.get(1).and_then(Datum::as_f64);
                if let Some(f) = fraction {
                    if !(0.0..=1.0).contains(&f) {
                        let mut shown = String::new();
                        freshet_common::float_fmt::format_f64(f, &mut shown);
                        return Err(Error::new(
                            SqlState::NumericValueOutOfRange,
                            format!("percentile value {shown} is not between 0 and 1"),
                        ));
                    }
                    self.float_sum = f;
                    self.flag = Some(true);
                }
                self.items.push(value_ref.clone());
            }
            AggregateFunc::Spread { .. } => match value_ref {
                Datum::Float4(_) | Datum::Float8(_) => {
                    // PostgreSQL's float8_accum (Youngs-Cramer).
                    let x = value_ref.as_f64().unwrap_or(0.0);
                    self.count += 1;
                    self.float_sum += x;
                    if self.count > 1 {
                        let n = self.count as f64;
                        let tmp = x * n - self.float_sum;
                        self.float_sxx += tmp * tmp / (n * (n - 1.0));
                    }
                }
                other => {
                    let x = match other {
                        Datum::Numeric(d) => d.clone(),
                        d => Numeric::from(d.as_i64().unwrap_or(0)),
                    };
                    self.count += 1;
                    self.numeric_sum2 = self.numeric_sum2.checked_add(&x.checked_mul(&x)?)?;
                    self.numeric_sum = self.numeric_sum.checked_add(&x)?;
                }
            },
            AggregateFunc::BoolAnd | AggregateFunc::BoolOr => self.combine_flag(value_ref.as_bool().unwrap_or(false)),
        }
        Ok(())
    }

    /// A spread aggregate's value, as PostgreSQL's `float8_var_samp` & co.
    /// for floats and `numeric_stddev_internal` for integers and numeric.
    fn spread(&self, kind: SpreadKind) -> Result<Datum> {
        let n = self.count;
        if n == 0 || (kind.sample() && n == 1) {
            return Ok(Datum::Null);
        }
        if matches!(self.input_type, DataType::Float4 | DataType::Float8) {
            let divisor = if kind.sample() { n as f64 - 1.0 } else { n as f64 };
            let var = self.float_sxx / divisor;
            return Ok(Datum::Float8(F64(if kind.stddev() { var.sqrt() } else { var })));
        }
        let vn = Numeric::from(n);
        // N * sumX2 - sumX * sumX, exactly.
        let numerator = vn
            .checked_mul(&self.numeric_sum2)?
            .checked_sub(&self.numeric_sum.checked_mul(&self.numeric_sum)?)?;
        if numerator.signum() <= 0 {
            return Ok(Datum::Numeric(Numeric::ZERO));
        }
        let denominator = if kind.sample() { vn.checked_mul(&Numeric::from(n - 1))? } else { vn.checked_mul(&vn)? };
        let rscale = numerator.div_scale(&denominator);
        let var = numerator.div_with_scale(&denominator, rscale, true)?;
        Ok(Datum::Numeric(if kind.stddev() { var.sqrt_with_scale(rscale)? } else { var }))
    }

    /// percentile_cont/disc over the values fed in order (PostgreSQL's
    /// `percentile_cont_final` / `percentile_disc_final`).
    fn percentile(&self, ctx: &EvalContext<'_>) -> Result<Datum> {
        let n = self.items.len();
        if n == 0 || self.flag.is_none() {
            return Ok(Datum::Null);
        }
        let fraction = self.float_sum;
        if self.func == AggregateFunc::PercentileDisc {
            let row = ((fraction * n as f64).ceil() as usize).max(1);
            return Ok(self.items[row.min(n) - 1].clone());
        }
        let position = fraction * (n - 1) as f64;
        let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
        let (low, high) = (self.items[lo].clone(), self.items[hi].clone());
        if lo == hi {
            return Ok(low);
        }
        let weight = position - lo as f64;
        match (&low, &high) {
            (Datum::Float8(a), Datum::Float8(b)) => Ok(Datum::Float8(F64(a.0 + weight * (b.0 - a.0)))),
            _ => {
                // interval: low + (high - low) * weight
                let diff = eval_binary(BinaryOp::Sub, high, low.clone(), ctx)?;
                let step = eval_binary(BinaryOp::Mul, diff, Datum::Float8(F64(weight)), ctx)?;
                eval_binary(BinaryOp::Add, low, step, ctx)
            }
        }
    }

    /// mode over the values fed in order (PostgreSQL's `mode_final`): the
    /// longest run of equal values, the first one on ties.
    fn mode(&self) -> Datum {
        let mut best: Option<(&Datum, usize)> = None;
        let mut run: Option<(&Datum, usize)> = None;
        for item in &self.items {
            run = match run {
                Some((v, n)) if crate::func::datum_eq(v, item) => Some((v, n + 1)),
                _ => Some((item, 1)),
            };
            if let Some((v, n)) = run {
                if best.is_none_or(|(_, m)| n > m) {
                    best = Some((v, n));
                }
            }
        }
        best.map(|(v, _)| v.clone()).unwrap_or(Datum::Null)
    }

    /// min/max: keeps `value` if it beats the current extreme.
    fn keep_extreme(&mut self, value: Datum) {
        let want = if self.func == AggregateFunc::Min { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater };
        if self.best.as_ref().is_none_or(|b| compare(&value, b) == Some(want)) {
            self.best = Some(value);
        }
    }

    /// bool_and/bool_or: folds `b` into the flag.
    fn combine_flag(&mut self, b: bool) {
        self.flag = Some(match (self.flag, self.func == AggregateFunc::BoolAnd) {
            (None, _) => b,
            (Some(acc), true) => acc && b,
            (Some(acc), false) => acc || b,
        });
    }

    /// Number of datums in a [`Accumulator::partial`] state.
    pub const PARTIAL_WIDTH: usize = 6;

    /// The running state of a decomposable aggregate as datums, to be
    /// combined with the states of other parts of the group by
    /// [`Accumulator::merge`]: count, the 128-bit integer sum (high and low
    /// halves), the numeric and float sums, and the kept value (min/max,
    /// interval sum, or the boolean flag).
    pub fn partial(&self) -> Vec<Datum> {
        let best = match self.func {
            AggregateFunc::BoolAnd | AggregateFunc::BoolOr => self.flag.map(Datum::Bool).unwrap_or(Datum::Null),
            _ => self.best.clone().unwrap_or(Datum::Null),
        };
        vec![
            Datum::Int8(self.count),
            Datum::Int8((self.int_sum >> 64) as i64),
            Datum::Int8(self.int_sum as u64 as i64),
            Datum::Numeric(self.numeric_sum.clone()),
            Datum::Float8(F64(self.float_sum)),
            best,
        ]
    }

    /// Adds another part's [`Accumulator::partial`] state.
    pub fn merge(&mut self, partial: &[Datum], ctx: &EvalContext<'_>) -> Result<()> {
        let [count, hi, lo, numeric, float, best] = partial else {
            return Err(Error::internal("malformed partial aggregate state"));
        };
        self.count += count.as_i64().unwrap_or(0);
        let part = ((hi.as_i64().unwrap_or(0) as i128) << 64) | (lo.as_i64().unwrap_or(0) as u64 as i128);
        self.int_sum = self.int_sum.checked_add(part).ok_or_else(|| Error::out_of_range("bigint"))?;
        if let Datum::Numeric(n) = numeric {
            self.numeric_sum = self.numeric_sum.checked_add(n)?;
        }
        if let Datum::Float8(f) = float {
            self.float_sum += f.0;
        }
        if best.is_null() {
            return Ok(());
        }
        match self.func {
            AggregateFunc::Min | AggregateFunc::Max => self.keep_extreme(best.clone()),
            AggregateFunc::BoolAnd | AggregateFunc::BoolOr => self.combine_flag(best.as_bool().unwrap_or(false)),
            _ => {
                self.best = Some(match self.best.take() {
                    None => best.clone(),
                    Some(acc) => eval_binary(BinaryOp::Add, acc, best.clone(), ctx)?,
                })
            }
        }
        Ok(())
    }

    /// The aggregate's value for the rows fed so far (PostgreSQL's result
    /// for an empty group: 0 for count, NULL otherwise).
    pub fn finish(&self, ctx: &EvalContext<'_>) -> Result<Datum> {
        if let (Some((dirs, rows)), Some(template)) = (&self.ordered, &self.template) {
            let mut rows: Vec<&(Vec<Datum>, Vec<Datum>)> = rows.iter().collect();
            rows.sort_by(|a, b| {
                for (i, (desc, nulls_first)) in dirs.iter().enumerate() {
                    let (x, y) = (&a.0[i], &b.0[i]);
                    let ord = match (x.is_null(), y.is_null()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => if *nulls_first { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater },
                        (false, true) => if *nulls_first { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Less },
                        _ => {
                            let o = compare(x, y).unwrap_or(std::cmp::Ordering::Equal);
                            if *desc { o.reverse() } else { o }
                        }
                    };
                    if ord != std::cmp::Ordering::Equal {
                        return ord;
                    }
                }
                std::cmp::Ordering::Equal
            });
            let mut inner = Accumulator::new(template);
            for (_, args) in rows {
                inner.add(args, ctx)?;
            }
            return inner.finish(ctx);
        }
        Ok(match self.func {
            AggregateFunc::CountStar | AggregateFunc::Count => Datum::Int8(self.count),
            AggregateFunc::Grouping => {
                return Err(Error::new(SqlState::GroupingError, "GROUPING is only allowed in a grouped query's output"))
            }
            _ if self.count == 0
                && matches!(self.func, AggregateFunc::Sum | AggregateFunc::Avg) =>
            {
                Datum::Null
            }
            AggregateFunc::Sum => match &self.input_type {
                DataType::Int2 | DataType::Int4 => Datum::Int8(
                    i64::try_from(self.int_sum).map_err(|_| Error::out_of_range("bigint"))?,
                ),
                DataType::Int8 => Datum::Numeric(Numeric::from(self.int_sum)),
                DataType::Numeric(_) => Datum::Numeric(self.numeric_sum.clone()),
                DataType::Float4 => Datum::Float4(F32(self.float_sum as f32)),
                DataType::Float8 => Datum::Float8(F64(self.float_sum)),
                _ => self.best.clone().unwrap_or(Datum::Null),
            },
            AggregateFunc::Avg => match &self.input_type {
                DataType::Int2 | DataType::Int4 | DataType::Int8 => eval_binary(
                    BinaryOp::Div,
                    Datum::Numeric(Numeric::from(self.int_sum)),
                    Datum::Numeric(Numeric::from(self.count)),
                    ctx,
                )?,
                DataType::Numeric(_) => eval_binary(
                    BinaryOp::Div,
                    Datum::Numeric(self.numeric_sum.clone()),
                    Datum::Numeric(Numeric::from(self.count)),
                    ctx,
                )?,
                DataType::Float4 | DataType::Float8 => {
                    Datum::Float8(F64(self.float_sum / self.count as f64))
                }
                DataType::Interval => match &self.best {
                    Some(sum) => eval_binary(
                        BinaryOp::Div,
                        sum.clone(),
                        Datum::Float8(F64(self.count as f64)),
                        ctx,
                    )?,
                    None => Datum::Null,
                },
                other => return Err(Error::unsupported(format!("avg over {other}"))),
            },
            AggregateFunc::Min | AggregateFunc::Max => self.best.clone().unwrap_or(Datum::Null),
            AggregateFunc::StringAgg => self.text.clone().map(Datum::Text).unwrap_or(Datum::Null),
            AggregateFunc::JsonAgg { json: true } if !self.items.is_empty() => {
                // `json_agg_transfn`: ", " between values, and "\n " before
                // each array or row after the first (not before a NULL).
                let structured = matches!(
                    crate::json_text::category(&self.input_type),
                    crate::json_text::JsonCategory::Array | crate::json_text::JsonCategory::Composite
                );
                let mut out = String::from("[");
                for (i, item) in self.items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if i > 0 && structured && !item.is_null() {
                        out.push_str("\n ");
                    }
                    crate::json_text::datum_to_json(item, &self.input_type, ctx.text, false, &mut out)?;
                }
                out.push(']');
                Datum::Json(out)
            }
            AggregateFunc::JsonObjectAgg { json: true } if !self.items.is_empty() => {
                // `json_object_agg_transfn`: `{ "k" : v, ... }`, keys kept
                // as given (duplicates too).
                let mut out = String::from("{ ");
                for (i, pair) in self.items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let Datum::Array(kv) = pair else { continue };
                    match kv.first() {
                        Some(Datum::Json(key)) => out.push_str(key),
                        _ => out.push_str("null"),
                    }
                    out.push_str(" : ");
                    match kv.get(1) {
                        Some(Datum::Json(value)) => out.push_str(value),
                        _ => out.push_str("null"),
                    }
                }
                out.push_str(" }");
                Datum::Json(out)
            }
            AggregateFunc::JsonAgg { json } | AggregateFunc::JsonObjectAgg { json } if !self.items.is_empty() => {
                let as_json = |d: &Datum| match d {
                    Datum::Jsonb(j) => j.clone(),
                    _ => freshet_common::json::Jsonb::Null,
                };
                let value = if matches!(self.func, AggregateFunc::JsonAgg { .. }) {
                    freshet_common::json::Jsonb::Array(self.items.iter().map(as_json).collect())
                } else {
                    let mut fields: Vec<(String, freshet_common::json::Jsonb)> = Vec::new();
                    for pair in &self.items {
                        let Datum::Array(kv) = pair else { continue };
                        let key = kv.first().and_then(|k| k.as_str()).unwrap_or_default().to_string();
                        let value = kv.get(1).map(as_json).unwrap_or(freshet_common::json::Jsonb::Null);
                        match fields.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => slot.1 = value,
                            None => fields.push((key, value)),
                        }
                    }
                    fields.sort_by(|a, b| freshet_common::json::jsonb_key_cmp(&a.0, &b.0));
                    freshet_common::json::Jsonb::Object(fields)
                };
                if json {
                    let mut text = String::new();
                    freshet_common::json::format_jsonb(&value, &mut text);
                    Datum::Json(text)
                } else {
                    Datum::Jsonb(value)
                }
            }
            AggregateFunc::JsonAgg { .. } | AggregateFunc::JsonObjectAgg { .. } => Datum::Null,
            AggregateFunc::ArrayAgg => {
                if self.items.is_empty() {
                    Datum::Null
                } else {
                    Datum::Array(self.items.clone())
                }
            }
            AggregateFunc::BoolAnd | AggregateFunc::BoolOr => {
                self.flag.map(Datum::Bool).unwrap_or(Datum::Null)
            }
            AggregateFunc::Spread { kind } => self.spread(kind)?,
            AggregateFunc::PercentileCont | AggregateFunc::PercentileDisc => self.percentile(ctx)?,
            AggregateFunc::Mode => self.mode(),
        })
    }
}
