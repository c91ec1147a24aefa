//! Binding queries: SELECT, set operations, VALUES, FROM clauses, GROUP BY,
//! ORDER BY and LIMIT.

use std::collections::HashMap;

use freshet_common::cast::CastContext;
use freshet_common::{DataType, Datum, Error, Result, SqlState};
use freshet_expr::{AggregateExpr, JoinKind, RelExpr, ScalarExpr, SetOpKind, SortKey, TableRef};
use sqlparser::ast::{self, Expr, SelectItem, SetExpr, TableFactor};

use super::scope::{Scope, ScopeItem};
use super::window::refuse_window;
use super::{contains_aggregate, Binder, CteDef};
use crate::catalog::RelationKind;
use crate::names;
use crate::plan::{OutputColumn, QueryPlan};

/// A SELECT's plan with its ORDER BY resolved against it.
struct Ordered {
    plan: RelExpr,
    columns: Vec<OutputColumn>,
    /// Sort keys over `plan`'s columns (which may include hidden ones).
    order: Vec<SortKey>,
}

impl Binder<'_> {
    /// Binds a CTE of a WITH RECURSIVE list: `base UNION [ALL] step`, where
    /// `step` reads the CTE itself. Returns `None` when the CTE does not
    /// refer to itself (it is then an ordinary CTE).
    fn bind_recursive_cte(&mut self, name: &str, cte: &ast::Cte) -> Result<Option<CteDef>> {
        let SetExpr::SetOperation { left, op: ast::SetOperator::Union, set_quantifier, right } = cte.query.body.as_ref() else {
            return Ok(None);
        };
        if !cte.query.to_string().to_lowercase().contains(&name.to_lowercase()) {
            return Ok(None);
        }
        if cte.query.order_by.is_some() || cte.query.limit_clause.is_some() {
            return Err(Error::unsupported("ORDER BY or LIMIT in a recursive query"));
        }
        let (base, mut columns) = self.bind_set_expr(left)?;
        for (col, alias) in columns.iter_mut().zip(&cte.alias.columns) {
            col.name = names::ident(&alias.name);
        }
        for c in columns.iter_mut() {
            if c.ty == DataType::Unknown {
                c.ty = DataType::Text;
            }
        }
        let types: Vec<DataType> = columns.iter().map(|c| c.ty.clone()).collect();
        let base = self.cast_columns(base, &columns, &types)?;
        let id = self.next_work_table;
        self.next_work_table += 1;
        // The step sees the CTE's name as the working table.
        let work = CteDef { plan: RelExpr::WorkTable { id, column_types: types.clone() }, columns: columns.clone() };
        if let Some(frame) = self.ctes.last_mut() {
            frame.insert(name.to_string(), work);
        }
        let (step, step_columns) = self.bind_set_expr(right)?;
        if step_columns.len() != columns.len() {
            return Err(Error::new(SqlState::SyntaxError, "each UNION query must have the same number of columns"));
        }
        for (c, s) in columns.iter().zip(&step_columns) {
            if c.ty != s.ty && crate::typing::common_type(&c.ty, &s.ty).as_ref() != Some(&c.ty) && s.ty != DataType::Unknown {
                return Err(Error::new(
                    SqlState::DatatypeMismatch,
                    format!(
                        "recursive query \"{name}\" column {} has type {} in non-recursive term but type {} overall",
                        columns.iter().position(|x| x.name == c.name).unwrap_or(0) + 1,
                        c.ty.pg_name(),
                        s.ty.pg_name()
                    ),
                ));
            }
        }
        let step = self.cast_columns(step, &step_columns, &types)?;
        let distinct = !matches!(set_quantifier, ast::SetQuantifier::All);
        let mut recursive = false;
        step.visit(&mut |n| recursive |= matches!(n, RelExpr::WorkTable { id: w, .. } if *w == id));
        let plan = if recursive {
            RelExpr::Recursive { id, base: Box::new(base), step: Box::new(step), distinct }
        } else {
            // The name only looked like a self-reference: an ordinary UNION.
            let union = RelExpr::Union { inputs: vec![base, step] };
            if distinct { RelExpr::Distinct { input: Box::new(union) } } else { union }
        };
        Ok(Some(CteDef { plan, columns }))
    }

    /// Binds a complete query (WITH, body, ORDER BY, LIMIT/OFFSET).
    pub(crate) fn bind_query(&mut self, q: &ast::Query) -> Result<QueryPlan> {
        // FOR UPDATE/SHARE reaches here only inside a larger statement (a
        // subquery, a cursor), where its locks are not taken; a top-level
        // one is bound by `bind_locking_query`.
        if let Some(fetch) = &q.fetch {
            if fetch.percent {
                return Err(Error::unsupported("FETCH FIRST ... PERCENT"));
            }
        }
        let result = match &q.with {
            None => self.bind_query_body(q),
            Some(with) => {
                self.push_ctes(with)?;
                let result = self.bind_query_body(q);
                self.ctes.pop();
                result
            }
        };
        result.map(|plan| QueryPlan { expr: crate::optimize::push_down_predicates(plan.expr), columns: plan.columns })
    }

    /// Binds a WITH clause's queries into a new frame of visible CTEs (the
    /// caller pops it). On an error the frame is already popped.
    fn push_ctes(&mut self, with: &ast::With) -> Result<()> {
        self.ctes.push(HashMap::new());
        let result = (|| {
            for cte in &with.cte_tables {
                let name = names::ident(&cte.alias.name);
                if with.recursive {
                    if let Some(def) = self.bind_recursive_cte(&name, cte)? {
                        if let Some(frame) = self.ctes.last_mut() {
                            frame.insert(name, def);
                        }
                        continue;
                    }
                }
                let mut bound = self.bind_query(&cte.query)?;
                for (col, alias) in bound.columns.iter_mut().zip(&cte.alias.columns) {
                    col.name = names::ident(&alias.name);
                }
                if let Some(frame) = self.ctes.last_mut() {
                    frame.insert(name, CteDef { plan: bound.expr, columns: bound.columns });
                }
            }
            Ok(())
        })();
        if result.is_err() {
            self.ctes.pop();
        }
        result
    }

    /// `WITH ... INSERT | UPDATE | DELETE`: the statement, with the WITH
    /// clause's (read-only) queries visible to it.
    pub(crate) fn bind_with_dml(&mut self, q: &ast::Query) -> Result<crate::plan::Plan> {
        let statement = match q.body.as_ref() {
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) => s,
            _ => return Err(Error::internal("bind_with_dml on a query")),
        };
        let Some(with) = &q.with else { return self.bind_statement(statement) };
        self.push_ctes(with)?;
        let result = self.bind_statement(statement);
        self.ctes.pop();
        result
    }

    fn bind_query_body(&mut self, q: &ast::Query) -> Result<QueryPlan> {
        let order_by: Vec<ast::OrderByExpr> = match &q.order_by {
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(exprs) => exprs.clone(),
                ast::OrderByKind::All(_) => return Err(Error::unsupported("ORDER BY ALL")),
            },
            None => vec![],
        };
        let ordered = match q.body.as_ref() {
            SetExpr::Select(select) => self.bind_select(select, &order_by)?,
            body => {
                let (plan, columns) = self.bind_set_expr(body)?;
                let order = self.bind_output_order(&order_by, &columns)?;
                Ordered { plan, columns, order }
            }
        };
        let (limit, offset) = match &q.limit_clause {
            Some(ast::LimitClause::LimitOffset { limit, offset, limit_by }) => {
                if !limit_by.is_empty() {
                    return Err(Error::unsupported("LIMIT BY"));
                }
                (limit.clone(), offset.as_ref().map(|o| o.value.clone()))
            }
            Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => (Some(limit.clone()), Some(offset.clone())),
            None => (None, None),
        };
        // FETCH FIRST n ROWS ONLY is LIMIT n. (A LIMIT beside a FETCH comes
        // from `parse::normalize_fetch_expression`: `FETCH FIRST (e) ROWS
        // WITH TIES`.)
        let with_ties = q.fetch.as_ref().is_some_and(|f| f.with_ties);
        if with_ties && ordered.order.is_empty() {
            return Err(Error::new(SqlState::SyntaxError, "WITH TIES cannot be specified without ORDER BY clause"));
        }
        let limit = match (&q.fetch, limit) {
            (Some(fetch), None) => Some(fetch.quantity.clone().unwrap_or_else(|| {
                Expr::Value(ast::Value::Number("1".into(), false).into())
            })),
            (_, l) => l,
        };
        let visible = ordered.columns.len();
        let mut plan = ordered.plan;
        if !ordered.order.is_empty() || limit.is_some() || offset.is_some() {
            let limit = match limit {
                Some(e) => Some(self.bind_limit_value(&e, "LIMIT")?),
                None => None,
            };
            let offset = match offset {
                Some(e) => Some(self.bind_limit_value(&e, "OFFSET")?),
                None => None,
            };
            if with_ties {
                let plan = with_ties_plan(plan, ordered.order, limit, offset)?;
                return Ok(QueryPlan { expr: plan.project((0..visible).collect()), columns: ordered.columns });
            }
            let constant = |v: &Option<ScalarExpr>| match v {
                None => Some(None),
                Some(ScalarExpr::Literal(Datum::Null)) => Some(None),
                Some(ScalarExpr::Literal(d)) => d.as_i64().map(|n| Some(n.max(0) as u64)),
                _ => None,
            };
            plan = match (constant(&limit), constant(&offset)) {
                (Some(l), Some(o)) => RelExpr::TopK {
                    input: Box::new(plan),
                    order_by: ordered.order,
                    limit: l,
                    offset: o.unwrap_or(0),
                },
                _ => RelExpr::DynamicTopK { input: Box::new(plan), order_by: ordered.order, limit, offset },
            };
        }
        if plan.arity() != visible {
            plan = plan.project((0..visible).collect());
        }
        Ok(QueryPlan { expr: plan, columns: ordered.columns })
    }

    fn bind_limit_value(&mut self, e: &Expr, clause: &str) -> Result<ScalarExpr> {
        let empty = Scope::default();
        let (b, t) = self.bind_expr(e, &empty)?;
        if !b.is_constant() {
            return Err(Error::new(
                SqlState::SyntaxError,
                format!("argument of {clause} must not contain variables"),
            ));
        }
        let b = self.coerce(b, &t, &DataType::Int8, CastContext::Implicit)?;
        if let ScalarExpr::Literal(Datum::Int8(n)) = &b {
            if *n < 0 {
                let state = if clause == "LIMIT" {
                    SqlState::InvalidRowCountInLimitClause
                } else {
                    SqlState::InvalidRowCountInResultOffsetClause
                };
                return Err(Error::new(state, format!("{clause} must not be negative")));
            }
        }
        Ok(b)
    }

    /// ORDER BY over a set operation or VALUES: output names and ordinals only.
    fn bind_output_order(&mut self, order_by: &[ast::OrderByExpr], columns: &[OutputColumn]) -> Result<Vec<SortKey>> {
        let mut keys = Vec::new();
        for item in order_by {
            let column = match &item.expr {
                Expr::Value(v) => match &v.value {
                    ast::Value::Number(n, _) => ordinal(n, columns.len())?,
                    _ => return Err(Error::unsupported("ORDER BY a constant")),
                },
                Expr::Identifier(id) => {
                    let name = names::ident(id);
                    columns.iter().position(|c| c.name == name).ok_or_else(|| Error::undefined_column(&name))?
                }
                other => {
                    return Err(Error::unsupported(format!(
                        "ORDER BY expression \"{other}\" over a set operation (only output columns)"
                    )))
                }
            };
            keys.push(sort_key(column, &item.options));
        }
        Ok(keys)
    }

    /// Binds UNION/INTERSECT/EXCEPT, VALUES, parenthesized queries.
    fn bind_set_expr(&mut self, body: &SetExpr) -> Result<(RelExpr, Vec<OutputColumn>)> {
        match body {
            SetExpr::Select(select) => {
                let o = self.bind_select(select, &[])?;
                Ok((o.plan, o.columns))
            }
            SetExpr::Query(q) => {
                let p = self.bind_query(q)?;
                Ok((p.expr, p.columns))
            }
            SetExpr::Values(values) => self.bind_values(values, None),
            SetExpr::SetOperation { left, op, set_quantifier, right } => {
                let (lp, lc) = self.bind_set_expr(left)?;
                let (rp, rc) = self.bind_set_expr(right)?;
                let op_name = match op {
                    ast::SetOperator::Union => "UNION",
                    ast::SetOperator::Intersect => "INTERSECT",
                    _ => "EXCEPT",
                };
                if lc.len() != rc.len() {
                    return Err(Error::new(
                        SqlState::SyntaxError,
                        format!("each {op_name} query must have the same number of columns"),
                    ));
                }
                let mut types = Vec::new();
                for (l, r) in lc.iter().zip(&rc) {
                    let t = crate::typing::common_type(&l.ty, &r.ty)
                        .ok_or_else(|| crate::typing::mismatch(op_name, &l.ty, &r.ty))?;
                    types.push(if t == DataType::Unknown { DataType::Text } else { t });
                }
                let lp = self.cast_columns(lp, &lc, &types)?;
                let rp = self.cast_columns(rp, &rc, &types)?;
                let all = matches!(set_quantifier, ast::SetQuantifier::All);
                let plan = match op {
                    ast::SetOperator::Union => {
                        let u = RelExpr::Union { inputs: vec![lp, rp] };
                        if all {
                            u
                        } else {
                            RelExpr::Distinct { input: Box::new(u) }
                        }
                    }
                    ast::SetOperator::Intersect => {
                        RelExpr::SetOp { left: Box::new(lp), right: Box::new(rp), op: SetOpKind::Intersect, all }
                    }
                    _ => RelExpr::SetOp { left: Box::new(lp), right: Box::new(rp), op: SetOpKind::Except, all },
                };
                let columns = lc
                    .into_iter()
                    .zip(types)
                    .map(|(c, ty)| OutputColumn { name: c.name, ty, table_oid: 0, column_id: 0 })
                    .collect();
                Ok((plan, columns))
            }
            SetExpr::Table(_) => Err(Error::unsupported("TABLE statement")),
            _ => Err(Error::unsupported("this kind of query body")),
        }
    }

    /// Casts a plan's columns to `types` where they differ.
    fn cast_columns(&mut self, plan: RelExpr, columns: &[OutputColumn], types: &[DataType]) -> Result<RelExpr> {
        if columns.iter().zip(types).all(|(c, t)| c.ty == *t) {
            return Ok(plan);
        }
        let arity = plan.arity();
        let mut exprs = Vec::new();
        for (i, (c, t)) in columns.iter().zip(types).enumerate() {
            exprs.push(self.coerce(ScalarExpr::Column(i), &c.ty, t, CastContext::Implicit)?);
        }
        Ok(plan.map(exprs).project((arity..arity + types.len()).collect()))
    }

    /// Binds VALUES; `target` gives column types to coerce to (INSERT).
    pub(crate) fn bind_values(&mut self, values: &ast::Values, target: Option<&[DataType]>) -> Result<(RelExpr, Vec<OutputColumn>)> {
        let empty = Scope::default();
        let mut rows: Vec<Vec<(ScalarExpr, DataType)>> = Vec::new();
        let width = values.rows.first().map(|r| r.len()).unwrap_or(0);
        for row in &values.rows {
            if row.len() != width {
                return Err(Error::new(SqlState::SyntaxError, "VALUES lists must all be the same length"));
            }
            let mut bound = Vec::new();
            for e in row.iter() {
                if is_default_keyword(e) {
                    bound.push((ScalarExpr::Literal(Datum::Text("\u{0}DEFAULT".into())), DataType::Unknown));
                } else {
                    let b = self.bind_expr(e, &empty)?;
                    refuse_window(&b.0, "VALUES")?;
                    bound.push(b);
                }
            }
            rows.push(bound);
        }
        let mut types = Vec::new();
        for col in 0..width {
            let t = match target.and_then(|t| t.get(col)) {
                Some(t) => t.clone(),
                None => {
                    let mut t = DataType::Unknown;
                    for row in &rows {
                        t = crate::typing::common_type(&t, &row[col].1)
                            .ok_or_else(|| crate::typing::mismatch("VALUES", &t, &row[col].1))?;
                    }
                    if t == DataType::Unknown {
                        DataType::Text
                    } else {
                        t
                    }
                }
            };
            types.push(t);
        }
        let mut out_rows = Vec::new();
        for row in rows {
            let mut out = Vec::new();
            for ((e, t), target_ty) in row.into_iter().zip(&types) {
                if matches!(&e, ScalarExpr::Literal(Datum::Text(s)) if s == "\u{0}DEFAULT") {
                    out.push(e);
                    continue;
                }
                let context = if target.is_some() { CastContext::Assignment } else { CastContext::Implicit };
                out.push(self.coerce(e, &t, target_ty, context).map_err(|err| match target {
                    Some(_) if err.state == SqlState::DatatypeMismatch => Error::new(
                        SqlState::DatatypeMismatch,
                        format!("column is of type {} but expression is of type {}", target_ty.pg_name(), t.pg_name()),
                    )
                    .with_hint("You will need to rewrite or cast the expression."),
                    _ => err,
                })?);
            }
            out_rows.push(out);
        }
        let columns = types
            .iter()
            .enumerate()
            .map(|(i, t)| OutputColumn { name: format!("column{}", i + 1), ty: t.clone(), table_oid: 0, column_id: 0 })
            .collect();
        Ok((RelExpr::Values { rows: out_rows, column_types: types }, columns))
    }

    /// Binds one SELECT with the ORDER BY that applies to it.
    fn bind_select(&mut self, select: &ast::Select, order_by: &[ast::OrderByExpr]) -> Result<Ordered> {
        if select.into.is_some() {
            return Err(Error::unsupported("SELECT INTO"));
        }
        let windows = super::window::resolve_named_windows(&select.named_window)?;
        let outer_windows = std::mem::replace(&mut self.named_windows, windows);
        let result = self.bind_select_inner(select, order_by);
        self.named_windows = outer_windows;
        result
    }

    fn bind_select_inner(&mut self, select: &ast::Select, order_by: &[ast::OrderByExpr]) -> Result<Ordered> {
        let keep_unknown = std::mem::take(&mut self.keep_unknown_outputs);
        let (mut plan, scope) = self.bind_from(&select.from)?;
        if let Some(selection) = &select.selection {
            let pred = self.bind_condition(selection, &scope, "WHERE")?;
            if contains_aggregate(&pred) {
                return Err(Error::new(SqlState::GroupingError, "aggregate functions are not allowed in WHERE"));
            }
            refuse_window(&pred, "WHERE")?;
            plan = plan.filter(split_conjuncts(pred));
        }

        // Set-returning functions in the select list run before it.
        let (srf_plan, scope, srf_columns) = self.bind_select_srfs(&select.projection, plan, scope)?;
        plan = srf_plan;

        // Select list.
        let mut exprs: Vec<ScalarExpr> = Vec::new();
        let mut columns: Vec<OutputColumn> = Vec::new();
        for (item_index, item) in select.projection.iter().enumerate() {
            if let Some(Some((value, ty))) = srf_columns.get(item_index) {
                let (e, alias) = match item {
                    SelectItem::UnnamedExpr(e) => (e, None),
                    SelectItem::ExprWithAlias { expr, alias } => (expr, Some(names::ident(alias))),
                    _ => unreachable!("only expression items hold set-returning calls"),
                };
                columns.push(OutputColumn { name: alias.unwrap_or_else(|| column_name(e)), ty: ty.clone(), table_oid: 0, column_id: 0 });
                exprs.push(value.clone());
                continue;
            }
            match item {
                SelectItem::Wildcard(_) => {
                    let mut any = false;
                    for (i, it) in scope.items.iter().enumerate() {
                        if it.hidden || it.internal {
                            continue;
                        }
                        any = true;
                        exprs.push(ScalarExpr::Column(i));
                        columns.push(output_from_item(it));
                    }
                    if !any && select.from.is_empty() {
                        return Err(Error::new(SqlState::SyntaxError, "SELECT * with no tables specified is not valid"));
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            names::object_name(n).pop().unwrap_or_default()
                        }
                        ast::SelectItemQualifiedWildcardKind::Expr(_) => {
                            return Err(Error::unsupported("expression.*"))
                        }
                    };
                    if !scope.has_qualifier(&q) {
                        return Err(Error::new(
                            SqlState::UndefinedTable,
                            format!("missing FROM-clause entry for table \"{q}\""),
                        ));
                    }
                    for (i, it) in scope.items.iter().enumerate() {
                        if it.internal || it.qualifier.as_deref() != Some(q.as_str()) {
                            continue;
                        }
                        exprs.push(ScalarExpr::Column(i));
                        columns.push(output_from_item(it));
                    }
                }
                SelectItem::UnnamedExpr(e) => {
                    let (b, t) = self.bind_expr(e, &scope)?;
                    columns.push(self.output_column(e, None, &b, &t, &scope));
                    exprs.push(b);
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let (b, t) = self.bind_expr(expr, &scope)?;
                    columns.push(self.output_column(expr, Some(&names::ident(alias)), &b, &t, &scope));
                    exprs.push(b);
                }
                SelectItem::ExprWithAliases { .. } => return Err(Error::unsupported("multiple aliases")),
            }
        }
        // Unknown-typed outputs (bare string literals) become text, except
        // in the top level of INSERT ... SELECT, where the target column
        // types resolve them (as in PostgreSQL).
        for (e, c) in exprs.iter_mut().zip(columns.iter_mut()) {
            if keep_unknown {
                continue;
            }
            if c.ty == DataType::Unknown {
                *e = self.coerce(e.clone(), &DataType::Unknown, &DataType::Text, CastContext::Implicit)?;
                c.ty = DataType::Text;
            }
        }

        // GROUP BY.
        let group_exprs: Vec<Expr> = match &select.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(Error::unsupported("GROUP BY modifiers (ROLLUP/CUBE)"));
                }
                exprs.clone()
            }
            ast::GroupByExpr::All(_) => return Err(Error::unsupported("GROUP BY ALL")),
        };
        fn lists(l: &[Vec<Expr>]) -> Vec<Vec<&Expr>> {
            l.iter().map(|v| v.iter().collect()).collect()
        }
        // Each GROUP BY item is a list of grouping sets (a plain expression
        // is one set of one expression); the query's sets are their cross
        // product, as in PostgreSQL.
        let mut item_sets: Vec<Vec<Vec<&Expr>>> = Vec::new();
        let mut plain = true;
        for g in &group_exprs {
            item_sets.push(match g {
                Expr::Rollup(l) => {
                    plain = false;
                    let l = lists(l);
                    (0..=l.len()).rev().map(|i| l[..i].concat()).collect()
                }
                Expr::Cube(l) => {
                    plain = false;
                    let l = lists(l);
                    if l.len() > 12 {
                        return Err(Error::new(SqlState::ProgramLimitExceeded, "CUBE is limited to 12 elements"));
                    }
                    // Subsets by decreasing size, each in CUBE order.
                    let mut subsets: Vec<Vec<&Expr>> = Vec::new();
                    for size in (0..=l.len()).rev() {
                        for mask in 0u32..(1 << l.len()) {
                            if mask.count_ones() as usize == size {
                                subsets.push((0..l.len()).filter(|i| mask & (1 << i) != 0).flat_map(|i| l[i].clone()).collect());
                            }
                        }
                    }
                    subsets
                }
                Expr::GroupingSets(l) => {
                    plain = false;
                    lists(l)
                }
                other => vec![vec![other]],
            });
        }
        let mut sets_exprs: Vec<Vec<&Expr>> = vec![vec![]];
        for options in &item_sets {
            let mut next = Vec::with_capacity(sets_exprs.len() * options.len());
            for prefix in &sets_exprs {
                for option in options {
                    next.push(prefix.iter().chain(option.iter()).copied().collect());
                }
            }
            sets_exprs = next;
        }
        let mut keys: Vec<ScalarExpr> = Vec::new();
        let mut grouping_sets: Vec<Vec<usize>> = Vec::new();
        for set in &sets_exprs {
            let mut members = Vec::new();
            for g in set {
                let key = self.bind_group_key(g, &exprs, &columns, &scope)?;
                let pos = match keys.iter().position(|k| *k == key) {
                    Some(p) => p,
                    None => {
                        keys.push(key);
                        keys.len() - 1
                    }
                };
                if !members.contains(&pos) {
                    members.push(pos);
                }
            }
            grouping_sets.push(members);
        }
        let grouping_sets = if plain { None } else { Some(grouping_sets) };
        let having = match &select.having {
            Some(h) => {
                let h = self.bind_condition(h, &scope, "HAVING")?;
                refuse_window(&h, "HAVING")?;
                Some(h)
            }
            None => None,
        };

        // ORDER BY: output columns by name/ordinal, else expressions over FROM.
        let (distinct, distinct_on) = match &select.distinct {
            None | Some(ast::Distinct::All) => (false, None),
            Some(ast::Distinct::Distinct) => (true, None),
            Some(ast::Distinct::On(exprs)) => (false, Some(exprs.clone())),
        };
        let mut order: Vec<(usize, &ast::OrderByOptions)> = Vec::new();
        let mut extra: Vec<ScalarExpr> = Vec::new();
        for item in order_by {
            let target = match &item.expr {
                Expr::Value(v) if matches!(v.value, ast::Value::Number(_, _)) => {
                    let ast::Value::Number(n, _) = &v.value else { unreachable!("matched above") };
                    Some(ordinal(n, columns.len())?)
                }
                Expr::Identifier(id) => {
                    let name = names::ident(id);
                    let matches: Vec<usize> =
                        columns.iter().enumerate().filter(|(_, c)| c.name == name).map(|(i, _)| i).collect();
                    match matches.as_slice() {
                        [i] => Some(*i),
                        [first, rest @ ..] if rest.iter().all(|r| exprs[*r] == exprs[*first]) => Some(*first),
                        [] => None,
                        _ => {
                            return Err(Error::new(
                                SqlState::AmbiguousColumn,
                                format!("ORDER BY \"{name}\" is ambiguous"),
                            ))
                        }
                    }
                }
                _ => None,
            };
            let column = match target {
                Some(i) => i,
                None => {
                    let (b, _) = self.bind_expr(&item.expr, &scope)?;
                    match exprs.iter().position(|e| *e == b) {
                        Some(i) => i,
                        None => {
                            if distinct {
                                return Err(Error::new(
                                    SqlState::InvalidColumnReference,
                                    "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                                ));
                            }
                            let pos = match extra.iter().position(|e| *e == b) {
                                Some(p) => p,
                                None => {
                                    extra.push(b);
                                    extra.len() - 1
                                }
                            };
                            columns.len() + pos
                        }
                    }
                }
            };
            order.push((column, &item.options));
        }

        // DISTINCT ON keys: output columns by ordinal/name, else expressions.
        let mut distinct_keys: Vec<usize> = Vec::new();
        if let Some(on) = &distinct_on {
            for e in on {
                let col = match e {
                    Expr::Value(v) if matches!(v.value, ast::Value::Number(_, _)) => {
                        let ast::Value::Number(n, _) = &v.value else { unreachable!("matched above") };
                        ordinal(n, columns.len())?
                    }
                    _ => {
                        let by_name = match e {
                            Expr::Identifier(id) => columns.iter().position(|c| c.name == names::ident(id)),
                            _ => None,
                        };
                        match by_name {
                            Some(i) => i,
                            None => {
                                let (b, _) = self.bind_expr(e, &scope)?;
                                match exprs.iter().position(|x| *x == b) {
                                    Some(i) => i,
                                    None => match extra.iter().position(|x| *x == b) {
                                        Some(p) => columns.len() + p,
                                        None => {
                                            extra.push(b);
                                            columns.len() + extra.len() - 1
                                        }
                                    },
                                }
                            }
                        }
                    }
                };
                distinct_keys.push(col);
            }
        }

        let aggregating = !keys.is_empty() || grouping_sets.is_some()
            || exprs.iter().chain(extra.iter()).any(contains_aggregate)
            || having.as_ref().is_some_and(contains_aggregate);
        let visible = exprs.len();
        let mut all_exprs = exprs;
        all_exprs.extend(extra);
        if aggregating {
            let uses_grouping = all_exprs.iter().chain(having.iter()).any(contains_grouping_call);
            let grouping_sets = match grouping_sets {
                Some(sets) => Some(sets),
                None if uses_grouping => Some(vec![(0..keys.len()).collect()]),
                None => None,
            };
            let (reduce_keys, aggs, rewritten, having) = match &grouping_sets {
                // Grouping sets NULL out keys, so no functionally dependent
                // columns are added to them.
                Some(_) => self.plan_aggregation_exact(keys, all_exprs, having, &scope)?,
                None => self.plan_aggregation(keys, all_exprs, having, &scope)?,
            };
            plan = match &grouping_sets {
                None => RelExpr::Reduce { input: Box::new(plan), group_key: reduce_keys.clone(), aggregates: aggs.clone() },
                Some(sets) => grouping_sets_plan(plan, &reduce_keys, &aggs, sets)?,
            };
            if let Some(h) = having {
                plan = plan.filter(split_conjuncts(h));
            }
            let (windowed, rewritten) = plan_windows(plan, rewritten)?;
            let arity = windowed.arity();
            let n = rewritten.len();
            plan = windowed.map(rewritten).project((arity..arity + n).collect());
        } else {
            if having.is_some() {
                // HAVING without aggregates or GROUP BY groups everything into one row.
                let (reduce_keys, aggs, rewritten, having) =
                    self.plan_aggregation(keys, all_exprs, having, &scope)?;
                plan = RelExpr::Reduce { input: Box::new(plan), group_key: reduce_keys.clone(), aggregates: aggs.clone() };
                if let Some(h) = having {
                    plan = plan.filter(split_conjuncts(h));
                }
                let (windowed, rewritten) = plan_windows(plan, rewritten)?;
                let arity = windowed.arity();
                let n = rewritten.len();
                plan = windowed.map(rewritten).project((arity..arity + n).collect());
            } else {
                let (windowed, all_exprs) = plan_windows(plan, all_exprs)?;
                let arity = windowed.arity();
                let n = all_exprs.len();
                plan = windowed.map(all_exprs).project((arity..arity + n).collect());
            }
        }
        if distinct {
            plan = RelExpr::Distinct { input: Box::new(plan) };
        }
        let order: Vec<SortKey> = order.into_iter().map(|(c, opts)| sort_key(c, opts)).collect();
        if distinct_on.is_some() {
            plan = RelExpr::DistinctOn { input: Box::new(plan), keys: distinct_keys, order_by: order.clone() };
        }
        let _ = visible;
        Ok(Ordered { plan, columns, order })
    }

    /// Binds one GROUP BY expression: an output-column ordinal, an input
    /// column, an output-column name, or an expression over the input.
    fn bind_group_key(&mut self, g: &Expr, exprs: &[ScalarExpr], columns: &[OutputColumn], scope: &Scope) -> Result<ScalarExpr> {
        let key = match g {
            Expr::Value(v) => match &v.value {
                ast::Value::Number(n, _) => exprs[ordinal(n, exprs.len())?].clone(),
                _ => self.bind_expr(g, scope)?.0,
            },
            Expr::Identifier(id) => {
                let name = names::ident(id);
                match scope.lookup(None, &name)? {
                    super::scope::Lookup::Found(i) => ScalarExpr::Column(i),
                    super::scope::Lookup::NotFound => match columns.iter().position(|c| c.name == name) {
                        Some(i) => exprs[i].clone(),
                        None => self.bind_expr(g, scope)?.0,
                    },
                }
            }
            Expr::Nested(inner) if matches!(inner.as_ref(), Expr::Tuple(_)) => {
                return Err(Error::unsupported("row constructors in GROUP BY"))
            }
            _ => self.bind_expr(g, scope)?.0,
        };
        if contains_aggregate(&key) {
            return Err(Error::new(SqlState::GroupingError, "aggregate functions are not allowed in GROUP BY"));
        }
        refuse_window(&key, "GROUP BY")?;
        Ok(key)
    }

    /// [`Self::plan_aggregation`] without adding functionally dependent
    /// columns to the keys (for grouping sets).
    #[allow(clippy::type_complexity)]
    fn plan_aggregation_exact(
        &mut self,
        keys: Vec<ScalarExpr>,
        exprs: Vec<ScalarExpr>,
        having: Option<ScalarExpr>,
        scope: &Scope,
    ) -> Result<(Vec<ScalarExpr>, Vec<AggregateExpr>, Vec<ScalarExpr>, Option<ScalarExpr>)> {
        self.plan_aggregation_with(keys, exprs, having, scope, false)
    }

    /// Splits grouped expressions into group keys and aggregates and
    /// rewrites the select/having expressions over the Reduce output.
    #[allow(clippy::type_complexity)]
    fn plan_aggregation(
        &mut self,
        keys: Vec<ScalarExpr>,
        exprs: Vec<ScalarExpr>,
        having: Option<ScalarExpr>,
        scope: &Scope,
    ) -> Result<(Vec<ScalarExpr>, Vec<AggregateExpr>, Vec<ScalarExpr>, Option<ScalarExpr>)> {
        self.plan_aggregation_with(keys, exprs, having, scope, true)
    }

    #[allow(clippy::type_complexity)]
    fn plan_aggregation_with(
        &mut self,
        mut keys: Vec<ScalarExpr>,
        exprs: Vec<ScalarExpr>,
        having: Option<ScalarExpr>,
        scope: &Scope,
        add_dependent_keys: bool,
    ) -> Result<(Vec<ScalarExpr>, Vec<AggregateExpr>, Vec<ScalarExpr>, Option<ScalarExpr>)> {
        // Columns functionally dependent on a grouped primary key may be
        // selected (PostgreSQL allows it and Django relies on it): group by
        // them too, which does not change the groups.
        let grouped_tables = self.tables_grouped_by_key(&keys, scope);
        let add_dependent = |e: &ScalarExpr, keys: &mut Vec<ScalarExpr>| {
            e.visit(&mut |n| {
                if let ScalarExpr::Column(i) = n {
                    if let Some(it) = scope.items.get(*i) {
                        let item = (it.table_oid, it.qualifier.clone());
                        if it.table_oid != 0 && grouped_tables.contains(&item) && !keys.contains(n) {
                            keys.push(n.clone());
                        }
                    }
                }
            })
        };
        if add_dependent_keys {
            for e in &exprs {
                add_dependent(e, &mut keys);
            }
            if let Some(h) = &having {
                add_dependent(h, &mut keys);
            }
        }

        let mut aggs: Vec<AggregateExpr> = Vec::new();
        let key_count = keys.len();
        let rewrite = |e: ScalarExpr, aggs: &mut Vec<AggregateExpr>| -> Result<ScalarExpr> {
            // Mark replaced references as Outer{level: 0} so that leftover
            // plain columns can be detected, then turn marks into columns.
            let marked = e.replace_top_down(&mut |n| {
                if let Some(k) = keys.iter().position(|k| k == n) {
                    return Some(ScalarExpr::Outer { level: 0, index: k });
                }
                if let ScalarExpr::Aggregate(agg) = n {
                    let pos = match aggs.iter().position(|a| a == agg.as_ref()) {
                        Some(p) => p,
                        None => {
                            aggs.push((**agg).clone());
                            aggs.len() - 1
                        }
                    };
                    return Some(ScalarExpr::Outer { level: 0, index: key_count + pos });
                }
                None
            })?;
            let mut leftover: Option<usize> = None;
            marked.visit(&mut |n| {
                if let ScalarExpr::Column(i) = n {
                    leftover.get_or_insert(*i);
                }
            });
            if let Some(i) = leftover {
                let item = &scope.items[i];
                let shown = match &item.qualifier {
                    Some(q) => format!("{q}.{}", item.name),
                    None => item.name.clone(),
                };
                return Err(Error::new(
                    SqlState::GroupingError,
                    format!("column \"{shown}\" must appear in the GROUP BY clause or be used in an aggregate function"),
                ));
            }
            marked.rewrite(&mut |n| {
                Ok(match n {
                    ScalarExpr::Outer { level: 0, index } => ScalarExpr::Column(index),
                    other => other,
                })
            })
        };
        let mut out = Vec::new();
        for e in exprs {
            out.push(rewrite(e, &mut aggs)?);
        }
        let having = match having {
            Some(h) => Some(rewrite(h, &mut aggs)?),
            None => None,
        };
        // Aggregate arguments refer to the Reduce input: already bound so.
        Ok((keys, aggs, out, having))
    }

    /// Tables whose whole primary key appears among the group keys as
    /// plain columns.
    fn tables_grouped_by_key(&self, keys: &[ScalarExpr], scope: &Scope) -> Vec<(u32, Option<String>)> {
        // Per FROM item (table OID and qualifier): a self-join has two.
        let key_columns: Vec<&ScopeItem> = keys
            .iter()
            .filter_map(|k| match k {
                ScalarExpr::Column(i) => scope.items.get(*i),
                _ => None,
            })
            .collect();
        let mut items: Vec<(u32, Option<String>)> =
            key_columns.iter().filter(|it| it.table_oid != 0).map(|it| (it.table_oid, it.qualifier.clone())).collect();
        items.sort();
        items.dedup();
        items
            .into_iter()
            .filter(|(oid, qualifier)| {
                let Some(rel) = self.catalog.relation_by_oid(*oid) else { return false };
                !rel.primary_key.is_empty()
                    && rel.primary_key.iter().all(|pk| {
                        key_columns.iter().any(|it| {
                            it.table_oid == *oid && it.qualifier == *qualifier && it.column_id as usize == pk + 1
                        })
                    })
            })
            .collect()
    }


    /// Binds a FROM list (comma-separated items are cross joined).
    pub(crate) fn bind_from(&mut self, from: &[ast::TableWithJoins]) -> Result<(RelExpr, Scope)> {
        if from.is_empty() {
            return Ok((RelExpr::Values { rows: vec![vec![]], column_types: vec![] }, Scope::default()));
        }
        let mut result: Option<(RelExpr, Scope)> = None;
        for twj in from {
            if is_function_factor(&twj.relation) {
                // Functions in FROM are implicitly LATERAL: they see the
                // items to their left and run once per row of them.
                let base = result
                    .take()
                    .unwrap_or_else(|| (RelExpr::Values { rows: vec![vec![]], column_types: vec![] }, Scope::default()));
                let lateral = self.bind_function_factor(&twj.relation, base, false)?;
                result = Some(self.apply_joins(lateral, &twj.joins)?);
                continue;
            }
            if result.is_some() && is_lateral_subquery(&twj.relation) {
                let left = result.take().ok_or_else(|| Error::internal("lateral without a left side"))?;
                let joined = self.bind_lateral(left, &twj.relation, JoinKind::Inner, None)?;
                result = Some(self.apply_joins(joined, &twj.joins)?);
                continue;
            }
            let (p, s) = self.bind_table_with_joins(twj)?;
            result = Some(match result {
                None => (p, s),
                Some((lp, ls)) => (
                    RelExpr::Join { left: Box::new(lp), right: Box::new(p), kind: JoinKind::Inner, on: ScalarExpr::bool(true) },
                    ls.concat(s),
                ),
            });
        }
        result.ok_or_else(|| Error::internal("empty FROM"))
    }

    /// `left [LEFT] JOIN LATERAL (subquery) alias ON ...`: the subquery may
    /// refer to the columns of `left`; when it does, it runs once per left
    /// row (`RelExpr::Apply`), otherwise it is an ordinary join.
    fn bind_lateral(
        &mut self,
        left: (RelExpr, Scope),
        factor: &TableFactor,
        kind: JoinKind,
        on: Option<&Expr>,
    ) -> Result<(RelExpr, Scope)> {
        let TableFactor::Derived { subquery, alias, .. } = factor else {
            return Err(Error::internal("LATERAL binding of a non-subquery"));
        };
        let (left_plan, left_scope) = left;
        let (bound, correlated) = self.bind_subquery(subquery, &left_scope)?;
        let qualifier = alias.as_ref().map(|a| names::ident(&a.name));
        let mut right_scope = Scope::from_columns(
            qualifier.as_deref(),
            bound.columns.iter().map(|c| (c.name.clone(), c.ty.clone())),
        );
        apply_column_aliases(&mut right_scope, alias.as_ref())?;
        let scope = left_scope.concat(right_scope);
        let on = match on {
            Some(e) => self.bind_condition(e, &scope, "JOIN/ON")?,
            None => ScalarExpr::bool(true),
        };
        let plan = if correlated {
            RelExpr::Apply { left: Box::new(left_plan), right: Box::new(bound.expr), kind, on }
        } else {
            RelExpr::Join { left: Box::new(left_plan), right: Box::new(bound.expr), kind, on }
        };
        Ok((plan, scope))
    }

    fn bind_table_with_joins(&mut self, twj: &ast::TableWithJoins) -> Result<(RelExpr, Scope)> {
        let first = self.bind_table_factor(&twj.relation)?;
        self.apply_joins(first, &twj.joins)
    }

    /// Applies a chain of JOINs to `left`.
    fn apply_joins(&mut self, left: (RelExpr, Scope), joins: &[ast::Join]) -> Result<(RelExpr, Scope)> {
        let (mut plan, mut scope) = left;
        for join in joins {
            use ast::JoinOperator as J;
            if is_lateral_subquery(&join.relation) {
                let (kind, constraint) = match &join.join_operator {
                    J::Join(c) | J::Inner(c) => (JoinKind::Inner, Some(c)),
                    J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, Some(c)),
                    J::CrossJoin(_) => (JoinKind::Inner, None),
                    other => return Err(Error::unsupported(format!("{other:?} with a LATERAL subquery"))),
                };
                let on = match constraint {
                    None | Some(ast::JoinConstraint::None) => None,
                    Some(ast::JoinConstraint::On(e)) => Some(e),
                    Some(_) => return Err(Error::unsupported("USING/NATURAL with a LATERAL subquery")),
                };
                (plan, scope) = self.bind_lateral((plan, scope), &join.relation, kind, on)?;
                continue;
            }
            if is_function_factor(&join.relation) {
                // JOIN [LATERAL] f(...): once per left row.
                let (outer, constraint) = match &join.join_operator {
                    J::Join(c) | J::Inner(c) => (false, Some(c)),
                    J::Left(c) | J::LeftOuter(c) => (true, Some(c)),
                    J::CrossJoin(_) => (false, None),
                    other => return Err(Error::unsupported(format!("{other:?} with a function"))),
                };
                let (p, s) = self.bind_function_factor(&join.relation, (plan, scope), outer)?;
                let on = match constraint {
                    None | Some(ast::JoinConstraint::None) => None,
                    Some(ast::JoinConstraint::On(e)) => {
                        let cond = self.bind_condition(e, &s, "JOIN/ON")?;
                        (cond != ScalarExpr::bool(true)).then_some(cond)
                    }
                    Some(_) => return Err(Error::unsupported("USING/NATURAL with a function")),
                };
                if let Some(cond) = on {
                    if outer {
                        return Err(Error::unsupported("LEFT JOIN LATERAL with a condition other than ON true"));
                    }
                    plan = p.filter(split_conjuncts(cond));
                } else {
                    plan = p;
                }
                scope = s;
                continue;
            }
            let (rp, mut rs) = self.bind_table_factor(&join.relation)?;
            let (kind, constraint) = match &join.join_operator {
                J::Join(c) | J::Inner(c) => (JoinKind::Inner, Some(c)),
                J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, Some(c)),
                J::Right(c) | J::RightOuter(c) => (JoinKind::Right, Some(c)),
                J::FullOuter(c) => (JoinKind::Full, Some(c)),
                J::CrossJoin(_) => (JoinKind::Inner, None),
                other => return Err(Error::unsupported(format!("join type {other:?}"))),
            };
            let left_len = scope.len();
            let on = match constraint {
                None | Some(ast::JoinConstraint::None) => ScalarExpr::bool(true),
                Some(ast::JoinConstraint::On(e)) => {
                    let combined = scope.clone().concat(rs.clone());
                    self.bind_condition(e, &combined, "JOIN/ON")?
                }
                Some(ast::JoinConstraint::Using(cols)) => {
                    let names: Vec<String> = cols.iter().filter_map(|c| names::object_name(c).pop()).collect();
                    self.using_condition(&names, &scope, &mut rs, left_len)?
                }
                Some(ast::JoinConstraint::Natural) => {
                    let names: Vec<String> = scope
                        .items
                        .iter()
                        .filter(|i| !i.hidden && !i.internal)
                        .map(|i| i.name.clone())
                        .filter(|n| rs.items.iter().any(|r| !r.hidden && !r.internal && &r.name == n))
                        .collect();
                    self.using_condition(&names, &scope, &mut rs, left_len)?
                }
                Some(other) => return Err(Error::unsupported(format!("join constraint {other:?}"))),
            };
            if contains_aggregate(&on) {
                return Err(Error::new(SqlState::GroupingError, "aggregate functions are not allowed in JOIN conditions"));
            }
            refuse_window(&on, "JOIN conditions")?;
            let using: Vec<String> = match constraint {
                Some(ast::JoinConstraint::Using(cols)) => cols.iter().filter_map(|c| names::object_name(c).pop()).collect(),
                Some(ast::JoinConstraint::Natural) => rs
                    .items
                    .iter()
                    .filter(|i| i.hidden && !i.internal && scope.lookup(None, &i.name).is_ok_and(|l| matches!(l, super::scope::Lookup::Found(_))))
                    .map(|i| i.name.clone())
                    .collect(),
                _ => vec![],
            };
            plan = RelExpr::Join { left: Box::new(plan), right: Box::new(rp), kind, on };
            let right_len = rs.len();
            scope = scope.concat(rs);
            if !using.is_empty() && matches!(kind, JoinKind::Right | JoinKind::Full) {
                // The merged USING column is the right value (RIGHT JOIN) or
                // COALESCE(left, right) (FULL JOIN); it replaces the left
                // copy for unqualified references.
                let mut merged = Vec::new();
                let mut items = Vec::new();
                for name in &using {
                    let li = scope.items[..left_len].iter().position(|i| !i.hidden && !i.internal && i.name == *name);
                    let ri = scope.items[left_len..left_len + right_len].iter().position(|i| i.name == *name).map(|i| i + left_len);
                    let (Some(li), Some(ri)) = (li, ri) else { continue };
                    let ty = crate::typing::common_type(&scope.items[li].ty, &scope.items[ri].ty).unwrap_or(scope.items[li].ty.clone());
                    let l = self.coerce(ScalarExpr::Column(li), &scope.items[li].ty.clone(), &ty, CastContext::Implicit)?;
                    let r = self.coerce(ScalarExpr::Column(ri), &scope.items[ri].ty.clone(), &ty, CastContext::Implicit)?;
                    merged.push(if kind == JoinKind::Full {
                        ScalarExpr::Call { func: freshet_expr::Func::Coalesce, args: vec![l, r] }
                    } else {
                        r
                    });
                    let mut item = scope.items[li].clone();
                    item.qualifier = None;
                    item.ty = ty;
                    item.table_oid = 0;
                    item.column_id = 0;
                    items.push(item);
                    scope.items[li].hidden = true;
                }
                plan = plan.map(merged);
                scope.items.extend(items);
            }
        }
        Ok((plan, scope))
    }

    /// `USING (cols)`: equality on each column; the right-hand copies are
    /// hidden from `*` and unqualified references.
    fn using_condition(&mut self, cols: &[String], left: &Scope, right: &mut Scope, left_len: usize) -> Result<ScalarExpr> {
        let mut conds = Vec::new();
        for name in cols {
            let li = match left.lookup(None, name)? {
                super::scope::Lookup::Found(i) => i,
                super::scope::Lookup::NotFound => {
                    return Err(Error::undefined_column(name)
                        .with_detail(format!("column \"{name}\" specified in USING clause does not exist in left table")))
                }
            };
            let ri = match right.lookup(None, name)? {
                super::scope::Lookup::Found(i) => i,
                super::scope::Lookup::NotFound => {
                    return Err(Error::undefined_column(name)
                        .with_detail(format!("column \"{name}\" specified in USING clause does not exist in right table")))
                }
            };
            let l = (ScalarExpr::Column(li), left.items[li].ty.clone());
            let r = (ScalarExpr::Column(left_len + ri), right.items[ri].ty.clone());
            conds.push(self.resolve_binary(freshet_expr::BinaryOp::Eq, l, r)?.0);
            right.items[ri].hidden = true;
        }
        Ok(match conds.len() {
            0 => ScalarExpr::bool(true),
            1 => conds.pop().unwrap_or_else(|| ScalarExpr::bool(true)),
            _ => ScalarExpr::And(conds),
        })
    }

    /// Binds one FROM item (for callers outside this module).
    pub(crate) fn bind_table_factor_pub(&mut self, factor: &TableFactor) -> Result<(RelExpr, Scope)> {
        self.bind_table_factor(factor)
    }

    fn bind_table_factor(&mut self, factor: &TableFactor) -> Result<(RelExpr, Scope)> {
        match factor {
            TableFactor::Table { name, alias, args, with_ordinality, .. } => {
                if args.is_some() {
                    let _ = with_ordinality;
                    let base = (RelExpr::Values { rows: vec![vec![]], column_types: vec![] }, Scope::default());
                    return self.bind_function_factor(factor, base, false);
                }
                if let Some(ast::ObjectNamePart::Identifier(id)) = name.0.last() {
                    if id.quote_style.is_none() && is_reserved_keyword(&id.value) {
                        return Err(Error::syntax(format!("syntax error at or near \"{}\"", id.value)));
                    }
                }
                let (schema, rel_name) = names::schema_and_name(name);
                // CTEs shadow tables for unqualified names.
                if schema.is_none() {
                    if let Some(cte) = self.ctes.iter().rev().find_map(|f| f.get(&rel_name)).cloned() {
                        let qualifier = alias.as_ref().map(|a| names::ident(&a.name)).unwrap_or(rel_name.clone());
                        let mut scope = Scope::from_columns(
                            Some(&qualifier),
                            cte.columns.iter().map(|c| (c.name.clone(), c.ty.clone())),
                        );
                        apply_column_aliases(&mut scope, alias.as_ref())?;
                        return Ok((cte.plan, scope));
                    }
                }
                let rel = self.catalog.relation(schema.as_deref(), &rel_name).ok_or_else(|| {
                    Error::undefined_table(&match &schema {
                        Some(s) => format!("{s}.{rel_name}"),
                        None => rel_name.clone(),
                    })
                })?;
                if self.for_view && super::ddl::is_temp_schema(&rel.schema) {
                    return Err(Error::unsupported("materialized views over temporary tables or views"));
                }
                let qualifier = alias.as_ref().map(|a| names::ident(&a.name)).unwrap_or(rel.name.clone());
                // Inside a materialized view's definition, another materialized
                // view is expanded to its query, so the dataflow reads tables.
                let expanded_kind = match &rel.kind {
                    RelationKind::MaterializedView { sql } if self.for_view => RelationKind::View { sql: sql.clone() },
                    other => other.clone(),
                };
                let plan = match &expanded_kind {
                    RelationKind::Table | RelationKind::MaterializedView { .. } => RelExpr::Get {
                        table: TableRef(rel.oid),
                        column_types: rel.columns.iter().map(|c| c.ty.clone()).collect(),
                        with_row_id: self.expose_row_ids && rel.kind == RelationKind::Table,
                    },
                    RelationKind::System => RelExpr::System {
                        name: format!("{}.{}", rel.schema, rel.name),
                        column_types: rel.columns.iter().map(|c| c.ty.clone()).collect(),
                    },
                    RelationKind::Sequence => {
                        return Err(Error::unsupported(format!("selecting from sequence \"{}\"", rel.name)))
                    }
                    RelationKind::View { sql } => {
                        let stmts = crate::parse::parse_statements(sql)?;
                        let Some(ast::Statement::Query(q)) = stmts.first() else {
                            return Err(Error::internal(format!("view \"{}\" has no query", rel.name)));
                        };
                        // A view is bound without access to the referencing query's scopes.
                        let saved_outer = std::mem::take(&mut self.outer);
                        let saved_ctes = std::mem::take(&mut self.ctes);
                        let bound = self.bind_query(q);
                        self.outer = saved_outer;
                        self.ctes = saved_ctes;
                        let bound = bound?;
                        // Keep the view's declared column names.
                        let declared: Vec<DataType> = rel.columns.iter().map(|c| c.ty.clone()).collect();
                        self.cast_columns(bound.expr, &bound.columns, &declared)?
                    }
                };
                let mut scope = Scope {
                    items: rel
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| ScopeItem {
                            qualifier: Some(qualifier.clone()),
                            name: c.name.clone(),
                            ty: c.ty.clone(),
                            table_oid: if matches!(rel.kind, RelationKind::Table | RelationKind::System | RelationKind::MaterializedView { .. }) { rel.oid } else { 0 },
                            column_id: (i + 1) as i16,
                            hidden: false,
                            internal: false,
                        })
                        .collect(),
                };
                if matches!(plan, RelExpr::Get { with_row_id: true, .. }) {
                    scope.items.push(ScopeItem {
                        qualifier: Some(qualifier.clone()),
                        name: "ctid".into(),
                        ty: DataType::Int8,
                        table_oid: 0,
                        column_id: 0,
                        hidden: true,
                        internal: false,
                    });
                }
                apply_column_aliases(&mut scope, alias.as_ref())?;
                Ok((plan, scope))
            }
            TableFactor::Derived { subquery, alias, lateral, .. } => {
                if *lateral {
                    // Only reached without items to the left (`FROM LATERAL
                    // (...)`), where LATERAL changes nothing.
                }
                let bound = self.bind_query(subquery)?;
                let qualifier = alias.as_ref().map(|a| names::ident(&a.name));
                let mut scope = Scope::from_columns(
                    qualifier.as_deref(),
                    bound.columns.iter().map(|c| (c.name.clone(), c.ty.clone())),
                );
                apply_column_aliases(&mut scope, alias.as_ref())?;
                Ok((bound.expr, scope))
            }
            TableFactor::NestedJoin { table_with_joins, alias } => {
                let (plan, mut scope) = self.bind_table_with_joins(table_with_joins)?;
                if let Some(a) = alias {
                    let q = names::ident(&a.name);
                    for it in &mut scope.items {
                        it.qualifier = Some(q.clone());
                    }
                }
                Ok((plan, scope))
            }
            TableFactor::Function { .. } | TableFactor::UNNEST { .. } => {
                let base = (RelExpr::Values { rows: vec![vec![]], column_types: vec![] }, Scope::default());
                self.bind_function_factor(factor, base, false)
            }
            other => Err(Error::unsupported(format!("FROM item {other}"))),
        }
    }

    /// Names a select-list column as PostgreSQL does.
    fn output_column(&self, e: &Expr, alias: Option<&str>, bound: &ScalarExpr, ty: &DataType, scope: &Scope) -> OutputColumn {
        let (table_oid, column_id) = match bound {
            ScalarExpr::Column(i) => scope.items.get(*i).map(|it| (it.table_oid, it.column_id)).unwrap_or((0, 0)),
            _ => (0, 0),
        };
        OutputColumn {
            name: alias.map(str::to_string).unwrap_or_else(|| column_name(e)),
            ty: ty.clone(),
            table_oid,
            column_id,
        }
    }
}

fn output_from_item(it: &ScopeItem) -> OutputColumn {
    OutputColumn { name: it.name.clone(), ty: it.ty.clone(), table_oid: it.table_oid, column_id: it.column_id }
}

/// The expressions of a FROM function's arguments (positional only).
/// Whether a FROM item is a function call (`f(...)`, `LATERAL f(...)`, `unnest(...)`).
fn is_lateral_subquery(factor: &TableFactor) -> bool {
    matches!(factor, TableFactor::Derived { lateral: true, .. })
}

fn is_function_factor(factor: &TableFactor) -> bool {
    matches!(factor, TableFactor::Table { args: Some(_), .. } | TableFactor::Function { .. } | TableFactor::UNNEST { .. })
}

pub(crate) fn function_arg_exprs(args: &[ast::FunctionArg]) -> Result<Vec<&Expr>> {
    args.iter()
        .map(|a| match a {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e),
            other => Err(Error::unsupported(format!("argument {other} of a function in FROM"))),
        })
        .collect()
}

fn apply_column_aliases(scope: &mut Scope, alias: Option<&ast::TableAlias>) -> Result<()> {
    let Some(alias) = alias else { return Ok(()) };
    if alias.columns.len() > scope.items.len() {
        return Err(Error::new(
            SqlState::InvalidColumnReference,
            format!(
                "table \"{}\" has {} columns available but {} columns specified",
                names::ident(&alias.name),
                scope.items.len(),
                alias.columns.len()
            ),
        ));
    }
    for (item, col) in scope.items.iter_mut().zip(&alias.columns) {
        item.name = names::ident(&col.name);
    }
    Ok(())
}

/// `ORDER BY keys OFFSET o FETCH FIRST n ROWS WITH TIES`: the rows after
/// the first `o` in that order, up to the `o + n`th, and every later row
/// that ties with it. With `row_number()` and `rank()` over the order, that
/// is `row_number > o AND rank <= o + n`; the rows are then sorted again.
fn with_ties_plan(plan: RelExpr, order: Vec<SortKey>, limit: Option<ScalarExpr>, offset: Option<ScalarExpr>) -> Result<RelExpr> {
    use freshet_expr::agg::AggOrder;
    use freshet_expr::window::{WindowExpr, WindowFrame, WindowFunc};
    let limit = match limit {
        None | Some(ScalarExpr::Literal(Datum::Null)) => {
            return Err(Error::new(
                SqlState::InvalidRowCountInLimitClause,
                "row count cannot be null in FETCH FIRST ... WITH TIES clause",
            ))
        }
        Some(l) => l,
    };
    let offset = offset.unwrap_or(ScalarExpr::Literal(Datum::Int8(0)));
    let arity = plan.arity();
    let over = |func| WindowExpr {
        func,
        args: vec![],
        partition_by: vec![],
        order_by: order
            .iter()
            .map(|k| AggOrder { expr: ScalarExpr::Column(k.column), descending: k.descending, nulls_first: k.nulls_first })
            .collect(),
        frame: WindowFrame::default(),
        output_type: DataType::Int8,
    };
    let numbered = RelExpr::Window { input: Box::new(plan), exprs: vec![over(WindowFunc::RowNumber), over(WindowFunc::Rank)] };
    let after_offset = ScalarExpr::Binary {
        op: freshet_expr::BinaryOp::Gt,
        left: Box::new(ScalarExpr::Column(arity)),
        right: Box::new(offset.clone()),
    };
    let within = ScalarExpr::Binary {
        op: freshet_expr::BinaryOp::LtEq,
        left: Box::new(ScalarExpr::Column(arity + 1)),
        right: Box::new(ScalarExpr::Binary { op: freshet_expr::BinaryOp::Add, left: Box::new(offset), right: Box::new(limit) }),
    };
    let kept = numbered.filter(vec![after_offset, within]).project((0..arity).collect());
    Ok(RelExpr::TopK { input: Box::new(kept), order_by: order, limit: None, offset: 0 })
}

/// The name PostgreSQL gives an unaliased select-list expression.
pub(crate) fn column_name(e: &Expr) -> String {
    match e {
        Expr::Identifier(id) => names::ident(id),
        Expr::CompoundIdentifier(parts) => parts.last().map(names::ident).unwrap_or_default(),
        Expr::Function(f) => names::object_name(&f.name).pop().unwrap_or_default(),
        // As PostgreSQL's FigureColname: a cast names the column after its
        // type unless the operand has a "strong" name (a column or function).
        Expr::Cast { expr, data_type, .. } => {
            if has_strong_name(expr) {
                column_name(expr)
            } else {
                cast_type_name(data_type)
            }
        }
        Expr::Nested(inner) => column_name(inner),
        // `(x).field` is named after the field.
        Expr::CompoundFieldAccess { access_chain, .. } => match access_chain.last() {
            Some(ast::AccessExpr::Dot(Expr::Identifier(id))) => names::ident(id),
            _ => "?column?".into(),
        },
        Expr::Case { .. } => "case".into(),
        Expr::AtTimeZone { .. } => "timezone".into(),
        Expr::Exists { .. } => "exists".into(),
        Expr::Extract { .. } => "extract".into(),
        Expr::Substring { .. } => "substring".into(),
        Expr::Trim { .. } => "btrim".into(),
        Expr::Position { .. } => "position".into(),
        Expr::Ceil { .. } => "ceil".into(),
        Expr::Floor { .. } => "floor".into(),
        Expr::Array(_) => "array".into(),
        Expr::Interval(_) => "interval".into(),
        Expr::Collate { expr, .. } => column_name(expr),
        Expr::TypedString(ts) => cast_type_name(&ts.data_type),
        Expr::Subquery(q) => match q.body.as_ref() {
            SetExpr::Select(s) => match s.projection.first() {
                Some(SelectItem::UnnamedExpr(e)) if s.projection.len() == 1 => column_name(e),
                Some(SelectItem::ExprWithAlias { alias, .. }) if s.projection.len() == 1 => names::ident(alias),
                _ => "?column?".into(),
            },
            _ => "?column?".into(),
        },
        Expr::Value(v) => match &v.value {
            ast::Value::Boolean(_) => "bool".into(),
            _ => "?column?".into(),
        },
        _ => "?column?".into(),
    }
}

/// Whether `e` names its column strongly enough that a cast around it keeps
/// the name (PostgreSQL's FigureColname strength 2: columns, functions and
/// the special function-like forms).
fn has_strong_name(e: &Expr) -> bool {
    match e {
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => has_strong_name(inner),
        Expr::Cast { expr, .. } => has_strong_name(expr),
        Expr::Identifier(_)
        | Expr::CompoundIdentifier(_)
        | Expr::Function(_)
        | Expr::Exists { .. }
        | Expr::Extract { .. }
        | Expr::Substring { .. }
        | Expr::Trim { .. }
        | Expr::Position { .. }
        | Expr::Ceil { .. }
        | Expr::Floor { .. }
        | Expr::AtTimeZone { .. } => true,
        Expr::Subquery(_) => column_name(e) != "?column?",
        _ => false,
    }
}

fn cast_type_name(ty: &ast::DataType) -> String {
    match crate::typing::data_type(ty) {
        Ok(t) => match t {
            DataType::Varchar(_) => "varchar".into(),
            DataType::Char(_) => "bpchar".into(),
            DataType::Array(_) => t.typname().trim_start_matches('_').to_string(),
            _ => t.typname(),
        },
        // A user-defined type (only the catalog knows it): its name.
        Err(_) => match ty {
            ast::DataType::Custom(name, _) => crate::names::object_name(name)
                .pop()
                .map(|n| n.trim_end_matches("[]").to_string())
                .unwrap_or_else(|| "?column?".into()),
            ast::DataType::Array(ast::ArrayElemTypeDef::SquareBracket(inner, _)) => cast_type_name(inner),
            _ => "?column?".into(),
        },
    }
}

fn ordinal(n: &str, len: usize) -> Result<usize> {
    let i: usize = n.parse().map_err(|_| Error::new(SqlState::InvalidColumnReference, format!("position {n} is not in select list")))?;
    if i == 0 || i > len {
        return Err(Error::new(SqlState::InvalidColumnReference, format!("position {n} is not in select list")));
    }
    Ok(i - 1)
}

fn sort_key(column: usize, options: &ast::OrderByOptions) -> SortKey {
    let descending = matches!(options.sort, Some(ast::OrderBySort::Desc));
    SortKey { column, descending, nulls_first: options.nulls_first.unwrap_or(descending) }
}

/// Splits a predicate into its top-level AND terms.
pub(crate) fn split_conjuncts(e: ScalarExpr) -> Vec<ScalarExpr> {
    match e {
        ScalarExpr::And(items) => items.into_iter().flat_map(split_conjuncts).collect(),
        other => vec![other],
    }
}

/// Whether an expression is the DEFAULT keyword (in VALUES).
pub(crate) fn is_default_keyword(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(id) if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"))
}

/// Keywords PostgreSQL reserves, which cannot name a table unquoted.
fn is_reserved_keyword(word: &str) -> bool {
    const RESERVED: &[&str] = &[
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast",
        "check", "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role",
        "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do",
        "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in",
        "initially", "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
        "null", "offset", "on", "only", "or", "order", "placing", "primary", "references", "returning", "select",
        "session_user", "some", "symmetric", "table", "then", "to", "trailing", "true", "union", "unique", "user",
        "using", "variadic", "when", "where", "window", "with",
    ];
    RESERVED.contains(&word.to_lowercase().as_str())
}

/// Lifts the window calls out of `exprs` (expressions over `plan`'s rows)
/// into one `RelExpr::Window` over `plan`, replacing each call with a
/// reference to its output column; identical calls are computed once.
fn plan_windows(plan: RelExpr, exprs: Vec<ScalarExpr>) -> Result<(RelExpr, Vec<ScalarExpr>)> {
    if !exprs.iter().any(super::window::contains_window) {
        return Ok((plan, exprs));
    }
    let base = plan.arity();
    let mut calls: Vec<freshet_expr::WindowExpr> = Vec::new();
    let mut rewritten = Vec::with_capacity(exprs.len());
    for e in exprs {
        rewritten.push(e.replace_top_down(&mut |n| match n {
            ScalarExpr::Window(w) => {
                let pos = calls.iter().position(|c| c == w.as_ref()).unwrap_or_else(|| {
                    calls.push((**w).clone());
                    calls.len() - 1
                });
                Some(ScalarExpr::Column(base + pos))
            }
            _ => None,
        })?);
    }
    Ok((RelExpr::Window { input: Box::new(plan), exprs: calls }, rewritten))
}

/// Whether `e` calls GROUPING(...).
fn contains_grouping_call(e: &ScalarExpr) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        if let ScalarExpr::Aggregate(a) = n {
            if a.func == freshet_expr::AggregateFunc::Grouping {
                found = true;
            }
        }
    });
    found
}

/// GROUPING SETS / ROLLUP / CUBE: one reduction per set, each padded to
/// the full key layout (keys outside the set are NULL), concatenated. The
/// output has the layout of a plain Reduce over all `keys` (keys, then one
/// column per aggregate); a GROUPING(...) "aggregate" is the constant
/// bitmask of its arguments absent from the branch's set.
fn grouping_sets_plan(input: RelExpr, keys: &[ScalarExpr], aggs: &[AggregateExpr], sets: &[Vec<usize>]) -> Result<RelExpr> {
    let real: Vec<AggregateExpr> = aggs.iter().filter(|a| a.func != freshet_expr::AggregateFunc::Grouping).cloned().collect();
    let mut branches = Vec::with_capacity(sets.len());
    for set in sets {
        let group_key: Vec<ScalarExpr> = set.iter().map(|k| keys[*k].clone()).collect();
        let reduce = RelExpr::Reduce { input: Box::new(input.clone()), group_key, aggregates: real.clone() };
        let width = set.len() + real.len();
        let mut layout: Vec<ScalarExpr> = (0..keys.len())
            .map(|k| match set.iter().position(|s| *s == k) {
                Some(p) => ScalarExpr::Column(p),
                None => ScalarExpr::null(),
            })
            .collect();
        let mut next_real = set.len();
        for agg in aggs {
            if agg.func == freshet_expr::AggregateFunc::Grouping {
                let mut mask = 0i32;
                for arg in &agg.args {
                    let k = keys.iter().position(|key| key == arg).ok_or_else(|| {
                        Error::new(
                            SqlState::GroupingError,
                            "arguments to GROUPING must be grouping expressions of the associated query level",
                        )
                    })?;
                    mask = (mask << 1) | i32::from(!set.contains(&k));
                }
                layout.push(ScalarExpr::Literal(Datum::Int4(mask)));
            } else {
                layout.push(ScalarExpr::Column(next_real));
                next_real += 1;
            }
        }
        let n = layout.len();
        branches.push(reduce.map(layout).project((width..width + n).collect()));
    }
    Ok(if branches.len() == 1 { branches.remove(0) } else { RelExpr::Union { inputs: branches } })
}
