//! Incremental correctness oracle for view dataflows.
//!
//! A catalogue of plans (bound from SQL by `freshet-sql`'s binder, plus
//! semi/anti joins built directly) is installed as views; seeded random
//! batches of inserts, deletes and updates (delete + insert) are committed,
//! one timestamp per batch; after every batch each view's maintained
//! contents must equal the batch executor's result over the accumulated
//! tables (`Executor::run` over an in-memory `DataSource`), or both must
//! fail with the same SQLSTATE. Runs with 1 and 2 workers.
//!
//! The data is chosen to hit the hard cases: small value domains (so NULL
//! keys, duplicate rows, ties and empty groups are common), occasional
//! wipes of a whole table (global aggregates over emptied tables, outer
//! joins whose matches all go away), re-inserting copies of existing rows,
//! and deletes that hit the current minimum or maximum. Half of the views
//! are created only after some history exists.
//!
//! Plans whose results SQL leaves order-dependent are written to be
//! deterministic (ORDER BY over every output column for LIMIT and DISTINCT
//! ON, ORDER BY inside string_agg/array_agg, no float sums).
//!
//! `FRESHET_DATAFLOW_SEED` picks the seed; `FRESHET_DATAFLOW_BATCHES` the
//! number of batches per run. A failure prints the seed, worker count,
//! batch, view and the differing rows.

use std::collections::BTreeMap;

use freshet_common::io::TextContext;
use freshet_common::{DataType, Datum, Error, Result, Row, SqlState, TimestampTz};
use freshet_compute::dataflow::{Compute, TableUpdate, ViewId, ViewReader};
use freshet_compute::{DataSource, Executor};
use freshet_expr::{BinaryOp, JoinKind, RelExpr, ScalarExpr, TableRef};
use freshet_sql::{Binder, Catalog, ColumnInfo, Plan, RelationInfo, RelationKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const T1: u32 = 16384;
const T2: u32 = 16385;

fn table_info(oid: u32, name: &str, cols: &[(&str, DataType)]) -> RelationInfo {
    RelationInfo {
        oid,
        schema: "public".into(),
        name: name.into(),
        kind: RelationKind::Table,
        columns: cols
            .iter()
            .map(|(n, t)| ColumnInfo::new(*n, t.clone()))
            .collect(),
        primary_key: vec![],
        unique_keys: vec![],
    }
}

/// `t1(a int, b int, s text)` and `t2(a int, c int, s text)`.
struct TestCatalog;

impl Catalog for TestCatalog {
    fn database(&self) -> &str {
        "dev"
    }
    fn search_path(&self) -> Vec<String> {
        vec!["pg_catalog".into(), "public".into()]
    }
    fn relation(&self, _schema: Option<&str>, name: &str) -> Option<RelationInfo> {
        match name {
            "t1" => Some(table_info(T1, "t1", &[("a", DataType::Int4), ("b", DataType::Int4), ("s", DataType::Text)])),
            "t2" => Some(table_info(T2, "t2", &[("a", DataType::Int4), ("c", DataType::Int4), ("s", DataType::Text)])),
            _ => None,
        }
    }
    fn relation_by_oid(&self, oid: u32) -> Option<RelationInfo> {
        match oid {
            T1 => self.relation(None, "t1"),
            T2 => self.relation(None, "t2"),
            _ => None,
        }
    }
    fn schema_exists(&self, name: &str) -> bool {
        name == "public" || name == "pg_catalog"
    }
    fn setting(&self, name: &str) -> Option<String> {
        (name == "timezone").then(|| "UTC".into())
    }
    fn user(&self) -> &str {
        "root"
    }
    fn backend_pid(&self) -> i32 {
        1
    }
}

/// Binds one SELECT to its plan.
fn bind(sql: &str) -> RelExpr {
    bind_with_params(sql, vec![]).unwrap_or_else(|e| panic!("cannot bind {sql:?}: {e:?}"))
}

fn bind_with_params(sql: &str, param_types: Vec<DataType>) -> Result<RelExpr> {
    let stmts = freshet_sql::parse_statements(sql)?;
    assert_eq!(stmts.len(), 1, "one statement expected in {sql:?}");
    let catalog = TestCatalog;
    let mut binder = Binder::new(&catalog, param_types, TextContext::default());
    match binder.bind_statement(&stmts[0])? {
        Plan::Query(q) => Ok(q.expr),
        other => panic!("{sql:?} is not a query: {other:?}"),
    }
}

/// The views under test.
const QUERIES: &[&str] = &[
    // Map, filter, project.
    "SELECT * FROM t1",
    "SELECT a, b + 1, s || '!' FROM t1 WHERE b > 0",
    "SELECT a, s FROM t1 WHERE a IS NULL OR s = 'x'",
    "SELECT a, b FROM t1 WHERE b IN (1, 2, NULL) AND s IS NOT NULL",
    "SELECT CASE WHEN b > 2 THEN 'big' ELSE 'small' END AS size, coalesce(a, -1) FROM t1",
    // Evaluation errors that come and go with the rows causing them.
    "SELECT a, 10 / b FROM t1 WHERE a = 3",
    "SELECT 1 / (c - 2) FROM t2 WHERE s = 'z'",
    "SELECT a, sum(10 / b) FROM t1 WHERE s = 'y' GROUP BY a",
    "SELECT x.a, t2.c FROM (SELECT * FROM t1 WHERE s = 'z') x JOIN t2 ON 10 / x.b = t2.c",
    "SELECT * FROM t1 LEFT JOIN t2 ON t1.a = t2.a AND t1.s <> 'x' AND 10 / t2.c > t1.b",
    "SELECT * FROM (VALUES (1, 1 / 0)) v(a, b)",
    // Set-returning functions (FlatMap).
    "SELECT a, generate_series(1, b) FROM t1",
    "SELECT t1.s, u.x, u.n FROM t1, unnest(ARRAY[t1.a, t1.b]) WITH ORDINALITY AS u(x, n)",
    "SELECT t1.a, g FROM t1 LEFT JOIN LATERAL generate_series(1, t1.b - 2) g ON true",
    "SELECT s, generate_series(1, 3, a) FROM t1 WHERE s = 'y' AND b > 2",
    // Distinct.
    "SELECT DISTINCT a, s FROM t1",
    "SELECT DISTINCT s FROM t2 WHERE a > 100",
    // Grouped aggregates (NULL keys, empty groups, min/max retractions).
    "SELECT a, count(*), count(b), sum(b), min(b), max(b) FROM t1 GROUP BY a",
    "SELECT s, avg(b), min(s), max(a) FROM t1 GROUP BY s",
    "SELECT a, bool_and(b > 0), bool_or(b > 2) FROM t1 GROUP BY a",
    "SELECT a, count(DISTINCT b), sum(DISTINCT b), count(DISTINCT s) FROM t1 GROUP BY a",
    "SELECT a, count(*) FILTER (WHERE b > 1), max(b) FILTER (WHERE s = 'y') FROM t1 GROUP BY a",
    "SELECT s, string_agg(s, ',' ORDER BY s), array_agg(b ORDER BY b) FROM t1 GROUP BY s",
    "SELECT a, sum(b) FROM t1 GROUP BY a HAVING count(*) > 1",
    "SELECT coalesce(a, -1) AS k, count(*) FROM t1 GROUP BY 1",
    // Global aggregates (one row over empty input).
    "SELECT count(*), sum(b), avg(b), min(s), max(s) FROM t1",
    "SELECT count(*), sum(c), max(c), bool_and(c > 0), array_agg(c ORDER BY c) FROM t2 WHERE c > 3",
    "SELECT min(b), max(b), count(DISTINCT b) FROM t1",
    "SELECT count(*) FROM t2",
    // Joins.
    "SELECT t1.a, t1.b, t2.c FROM t1 JOIN t2 ON t1.a = t2.a",
    "SELECT * FROM t1 LEFT JOIN t2 ON t1.a = t2.a AND t1.b < t2.c",
    "SELECT * FROM t1 RIGHT JOIN t2 ON t1.a = t2.a",
    "SELECT * FROM t1 FULL JOIN t2 ON t1.a = t2.a AND t1.s = t2.s",
    "SELECT * FROM t1 FULL JOIN t2 ON t1.b = t2.c",
    "SELECT t1.a, t2.c FROM t1, t2 WHERE t1.b < t2.c AND t1.s = 'x'",
    "SELECT * FROM t1 LEFT JOIN t2 ON t1.b > t2.c",
    "SELECT t1.s, t2.s FROM t1 JOIN t2 ON t1.a + 1 = t2.c",
    // Union and set operations.
    "SELECT a, s FROM t1 UNION ALL SELECT a, s FROM t2",
    "SELECT a, s FROM t1 UNION SELECT a, s FROM t2",
    "SELECT a FROM t1 INTERSECT SELECT a FROM t2",
    "SELECT a FROM t1 INTERSECT ALL SELECT a FROM t2",
    "SELECT a, s FROM t1 EXCEPT SELECT a, s FROM t2",
    "SELECT a FROM t1 EXCEPT ALL SELECT a FROM t2",
    // Top-k and DISTINCT ON (orders are total, so results are determined).
    "SELECT a, b, s FROM t1 ORDER BY a, b, s LIMIT 3",
    "SELECT a, b, s FROM t1 ORDER BY b DESC NULLS LAST, a NULLS FIRST, s LIMIT 4 OFFSET 2",
    "SELECT a, b FROM t1 ORDER BY a, b OFFSET 3",
    "SELECT a, b, s FROM t1 ORDER BY s, a, b",
    "SELECT DISTINCT ON (a) a, b, s FROM t1 ORDER BY a, b DESC, s",
    "SELECT DISTINCT ON (s) s, c, a FROM t2 ORDER BY s, c NULLS FIRST, a",
    // Compositions.
    "SELECT a, count(*) FROM (SELECT t1.a FROM t1 JOIN t2 ON t1.a = t2.a) x GROUP BY a",
    "SELECT x.a, x.n, t2.c FROM (SELECT a, count(*) AS n FROM t1 GROUP BY a) x LEFT JOIN t2 ON x.a = t2.a",
    "SELECT count(*), sum(t2.c) FROM t1 JOIN t2 ON t1.a = t2.a",
    "SELECT a, max(b) FROM t1 GROUP BY a ORDER BY 2 DESC NULLS LAST, 1 NULLS FIRST LIMIT 2",
    "SELECT v.s, t1.b FROM (VALUES (1, 'one'), (2, 'two'), (NULL, 'none')) v(a, s) JOIN t1 ON v.a = t1.a",
    "SELECT a, count(*) FROM (SELECT a FROM t1 UNION ALL SELECT a FROM t2) u GROUP BY a",
    // Window functions (ties under the window's ORDER BY are broken by row
    // value in both engines), including Top-N per group.
    "SELECT a, b, s, row_number() OVER (PARTITION BY a ORDER BY b DESC NULLS LAST) FROM t1",
    "SELECT * FROM (SELECT a, b, s, row_number() OVER (PARTITION BY s ORDER BY b, a) AS rn FROM t1) x WHERE rn <= 2",
    "SELECT a, b, rank() OVER (ORDER BY b), dense_rank() OVER (PARTITION BY a ORDER BY b), \
     sum(b) OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t1",
    "SELECT a, c, lag(c) OVER (PARTITION BY s ORDER BY c, a), lead(c, 1, -1) OVER (PARTITION BY s ORDER BY c, a), \
     count(*) OVER (PARTITION BY s), percent_rank() OVER (ORDER BY a) FROM t2",
    "SELECT a, sum(b), rank() OVER (ORDER BY sum(b) DESC NULLS LAST) FROM t1 GROUP BY a",
    "SELECT a, b, first_value(s) OVER w, last_value(s) OVER w, ntile(2) OVER w, max(b) OVER w FROM t1 \
     WINDOW w AS (PARTITION BY a ORDER BY b RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING)",
    // Subqueries, decorrelated into joins for the view; the batch executor
    // runs them as written (per row), so these check the rewrite too.
    "SELECT * FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a)",
    "SELECT * FROM t1 WHERE NOT EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a AND t2.c > t1.b)",
    "SELECT * FROM t1 WHERE a IN (SELECT c FROM t2 WHERE s <> 'x')",
    "SELECT * FROM t1 WHERE a NOT IN (SELECT c FROM t2)",
    "SELECT * FROM t1 WHERE b > ALL (SELECT c FROM t2 WHERE t2.s = t1.s)",
    "SELECT * FROM t1 WHERE b IN (SELECT c + 1 FROM t2 WHERE t2.s = t1.s)",
    "SELECT a, b, (SELECT count(*) FROM t2 WHERE t2.a = t1.a) AS n, \
     (SELECT max(c) FROM t2 WHERE t2.s = t1.s AND t2.a = t1.a) FROM t1",
    "SELECT * FROM t1 WHERE b > (SELECT avg(c) FROM t2)",
    "SELECT * FROM t1 WHERE b >= (SELECT coalesce(sum(c), 0) FROM t2 WHERE t2.a = t1.a)",
    "SELECT s, (SELECT min(b) FROM t1) FROM t2",
    "SELECT a, count(*) FROM t1 WHERE a IN (SELECT a FROM t2) GROUP BY a",
    // Non-aggregate scalar subqueries: several rows for a key is 21000.
    "SELECT a, b, (SELECT c FROM t2 WHERE t2.a = t1.a AND t2.s = t1.s) FROM t1",
    "SELECT a, (SELECT s FROM t2 WHERE c = 3) FROM t1",
    "SELECT t1.a, (SELECT c + 1 FROM t2 WHERE t2.c = t1.b) FROM t1 WHERE t1.s <> 'x'",
    "SELECT * FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a) AND NOT EXISTS (SELECT 1 FROM t2 WHERE t2.c = t1.b)",
];

fn col(i: usize) -> ScalarExpr {
    ScalarExpr::Column(i)
}

fn binary(op: BinaryOp, left: ScalarExpr, right: ScalarExpr) -> ScalarExpr {
    ScalarExpr::Binary { op, left: Box::new(left), right: Box::new(right) }
}

fn get(oid: u32) -> Box<RelExpr> {
    Box::new(RelExpr::Get {
        table: TableRef(oid),
        column_types: vec![DataType::Int4, DataType::Int4, DataType::Text],
        with_row_id: false,
    })
}

/// Semi and anti joins, which the binder does not produce yet (they come
/// from decorrelating IN / EXISTS); t1's columns are 0..3, t2's 3..6.
fn direct_plans() -> Vec<(String, RelExpr)> {
    let join = |kind, on| RelExpr::Join { left: get(T1), right: get(T2), kind, on };
    let equi = binary(BinaryOp::Eq, col(0), col(3));
    let equi_and_residual = ScalarExpr::And(vec![equi.clone(), binary(BinaryOp::Lt, col(1), col(4))]);
    let theta = binary(BinaryOp::Gt, col(1), col(4));
    vec![
        ("t1 SEMI JOIN t2 ON t1.a = t2.a".into(), join(JoinKind::Semi, equi.clone())),
        ("t1 ANTI JOIN t2 ON t1.a = t2.a".into(), join(JoinKind::Anti, equi)),
        ("t1 SEMI JOIN t2 ON t1.a = t2.a AND t1.b < t2.c".into(), join(JoinKind::Semi, equi_and_residual.clone())),
        ("t1 ANTI JOIN t2 ON t1.a = t2.a AND t1.b < t2.c".into(), join(JoinKind::Anti, equi_and_residual)),
        ("t1 ANTI JOIN t2 ON t1.b > t2.c".into(), join(JoinKind::Anti, theta)),
        ("t1 LEFT JOIN t2 ON true".into(), join(JoinKind::Left, ScalarExpr::bool(true))),
    ]
}

fn catalogue() -> Vec<(String, RelExpr)> {
    let mut plans: Vec<(String, RelExpr)> = QUERIES.iter().map(|sql| (sql.to_string(), bind(sql))).collect();
    plans.extend(direct_plans());
    plans
}

/// The tables as the oracle sees them.
#[derive(Default)]
struct Db {
    tables: BTreeMap<u32, BTreeMap<u64, Row>>,
    next_row_id: u64,
}

impl DataSource for Db {
    fn scan(&self, table: TableRef, f: &mut dyn FnMut(u64, &[Datum]) -> Result<()>) -> Result<()> {
        if let Some(rows) = self.tables.get(&table.0) {
            for (id, row) in rows {
                f(*id, row)?;
            }
        }
        Ok(())
    }
    fn system(&self, name: &str) -> Result<Vec<Row>> {
        Err(Error::internal(format!("no system relation {name} in this test")))
    }
}

impl Db {
    fn insert(&mut self, oid: u32, row: Row, log: &mut Vec<TableUpdate>) {
        self.next_row_id += 1;
        self.tables.entry(oid).or_default().insert(self.next_row_id, row.clone());
        log.push((oid, row, 1));
    }

    fn delete(&mut self, oid: u32, id: u64, log: &mut Vec<TableUpdate>) {
        let row = self.tables.get_mut(&oid).and_then(|t| t.remove(&id)).expect("deleting an existing row");
        log.push((oid, row, -1));
    }

    fn ids(&self, oid: u32) -> Vec<u64> {
        self.tables.get(&oid).map(|t| t.keys().copied().collect()).unwrap_or_default()
    }

    fn run(&self, plan: &RelExpr) -> Result<BTreeMap<Row, isize>> {
        let text = TextContext::default();
        let rows = Executor::new(self, &[], &text, TimestampTz(0)).run(plan)?;
        let mut counts = BTreeMap::new();
        for row in rows {
            *counts.entry(row).or_insert(0) += 1;
        }
        Ok(counts)
    }
}

fn random_int(rng: &mut StdRng) -> Datum {
    if rng.random_ratio(1, 7) {
        Datum::Null
    } else {
        Datum::Int4(rng.random_range(-1..6))
    }
}

fn random_text(rng: &mut StdRng) -> Datum {
    match rng.random_range(0..7) {
        0 => Datum::Null,
        1 | 2 => Datum::Text("x".into()),
        3 | 4 => Datum::Text("y".into()),
        _ => Datum::Text("z".into()),
    }
}

fn random_row(rng: &mut StdRng) -> Row {
    vec![random_int(rng), random_int(rng), random_text(rng)]
}

/// One transaction's worth of random changes, applied to `db` and logged.
fn random_batch(rng: &mut StdRng, db: &mut Db) -> Vec<TableUpdate> {
    let mut log = Vec::new();
    let oid = if rng.random_bool(0.5) { T1 } else { T2 };
    if rng.random_ratio(1, 25) {
        // Empty the table: global aggregates fall back to their default
        // row, outer joins lose every match.
        for id in db.ids(oid) {
            db.delete(oid, id, &mut log);
        }
        return log;
    }
    for _ in 0..rng.random_range(1..=5) {
        let oid = if rng.random_bool(0.5) { T1 } else { T2 };
        let ids = db.ids(oid);
        let size = ids.len();
        match rng.random_range(0..10) {
            // Insert, more often while the table is small.
            0..=3 if size < 14 => db.insert(oid, random_row(rng), &mut log),
            // A copy of an existing row: duplicates.
            4 if size > 0 => {
                let row = db.tables[&oid][&ids[rng.random_range(0..size)]].clone();
                db.insert(oid, row, &mut log);
            }
            // Delete the row holding the current minimum or maximum of `b`.
            5 if size > 0 => {
                let rows = &db.tables[&oid];
                let pick = if rng.random_bool(0.5) {
                    ids.iter().filter(|id| !rows[id][1].is_null()).min_by_key(|id| rows[id][1].clone())
                } else {
                    ids.iter().filter(|id| !rows[id][1].is_null()).max_by_key(|id| rows[id][1].clone())
                };
                if let Some(&id) = pick {
                    db.delete(oid, id, &mut log);
                }
            }
            // Update: delete and insert a modified row.
            6 | 7 if size > 0 => {
                let id = ids[rng.random_range(0..size)];
                let mut row = db.tables[&oid][&id].clone();
                let column = rng.random_range(0..3);
                row[column] = if column == 2 { random_text(rng) } else { random_int(rng) };
                db.delete(oid, id, &mut log);
                db.insert(oid, row, &mut log);
            }
            _ if size > 0 => db.delete(oid, ids[rng.random_range(0..size)], &mut log),
            _ => db.insert(oid, random_row(rng), &mut log),
        }
    }
    log
}

fn diff(expected: &BTreeMap<Row, isize>, actual: &BTreeMap<Row, isize>) -> String {
    let mut out = String::new();
    for (row, n) in expected {
        let m = actual.get(row).copied().unwrap_or(0);
        if m != *n {
            out.push_str(&format!("  {row:?}: expected {n}, maintained {m}\n"));
        }
    }
    for (row, m) in actual {
        if !expected.contains_key(row) {
            out.push_str(&format!("  {row:?}: expected 0, maintained {m}\n"));
        }
    }
    out
}

fn check_view(
    context: &str,
    name: &str,
    plan: &RelExpr,
    expected: Result<BTreeMap<Row, isize>>,
    actual: Result<BTreeMap<Row, isize>>,
    db: &Db,
) {
    match (expected, actual) {
        (Ok(expected), Ok(actual)) => {
            if expected != actual {
                panic!(
                    "{context}: view {name:?} diverged from the batch executor\n{}plan:\n{plan}tables: {:?}",
                    diff(&expected, &actual),
                    db.tables
                );
            }
        }
        (Err(e), Err(a)) => {
            assert_eq!(
                e.state.code(),
                a.state.code(),
                "{context}: view {name:?} failed differently: batch {e:?}, view {a:?}\nplan:\n{plan}"
            );
        }
        (Ok(expected), Err(a)) => {
            panic!("{context}: view {name:?} failed with {a:?} but the batch executor returned {expected:?}\nplan:\n{plan}tables: {:?}", db.tables)
        }
        (Err(e), Ok(actual)) => {
            panic!("{context}: view {name:?} returned {actual:?} but the batch executor failed with {e:?}\nplan:\n{plan}tables: {:?}", db.tables)
        }
    }
}

/// Runs the catalogue against `batches` random transactions.
fn run_oracle(seed: u64, workers: usize, batches: usize) {
    let plans = catalogue();
    assert!(plans.len() >= 30, "the catalogue must cover at least 30 plans");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut db = Db::default();
    let mut compute = Compute::new(workers).expect("compute starts");
    let text = TextContext::default();
    let mut views: Vec<Option<ViewId>> = vec![None; plans.len()];
    // Half the views exist from the start; the rest are created once the
    // tables have history, and read from then on.
    let late_from = batches / 4;
    let mut saw_errors = 0usize;
    let mut saw_rows = 0usize;
    // Per view: reads that returned rows, that were empty, that failed.
    let mut outcomes = vec![(0usize, 0usize, 0usize); plans.len()];

    for batch in 0..batches {
        for (i, (_, plan)) in plans.iter().enumerate() {
            if views[i].is_none() && (i % 2 == 0 || batch == late_from) {
                views[i] = Some(compute.create_view(plan, &text).expect("catalogue plans are supported"));
            }
        }
        let time = batch as u64 + 1;
        let updates = random_batch(&mut rng, &mut db);
        compute.commit(time, updates).expect("commit reaches the workers");
        for (i, (name, plan)) in plans.iter().enumerate() {
            let Some(view) = views[i] else { continue };
            let expected = db.run(plan);
            if std::env::var_os("FRESHET_DEBUG_VIEW").is_some_and(|v| v == name.as_str()) {
                eprintln!("batch {batch}: {expected:?}\n  t1 = {:?}", db.tables.get(&T1).map(|t| t.values().collect::<Vec<_>>()));
            }
            let actual = compute.read(view, time);
            match &expected {
                Ok(rows) if rows.is_empty() => outcomes[i].1 += 1,
                Ok(rows) => {
                    saw_rows += rows.len();
                    outcomes[i].0 += 1;
                }
                Err(_) => {
                    saw_errors += 1;
                    outcomes[i].2 += 1;
                }
            }
            let context = format!("seed {seed}, {workers} worker(s), batch {batch} (time {time})");
            check_view(&context, name, plan, expected, actual, &db);
        }
        // Readers only ever ask for the latest time: let history go.
        if batch % 7 == 6 {
            compute.allow_compaction(time);
        }
    }
    if std::env::var_os("FRESHET_DATAFLOW_STATS").is_some() {
        for ((name, _), (rows, empty, errors)) in plans.iter().zip(&outcomes) {
            eprintln!("{rows:4} with rows, {empty:4} empty, {errors:4} failed: {name}");
        }
    }
    // The run must actually exercise rows and errors.
    assert!(saw_rows > 0, "seed {seed}: no view ever had rows");
    assert!(saw_errors > 0, "seed {seed}: no view ever failed; the error path went untested");
}

fn seed() -> u64 {
    std::env::var("FRESHET_DATAFLOW_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x00f1_e5e7)
}

fn batches() -> usize {
    std::env::var("FRESHET_DATAFLOW_BATCHES").ok().and_then(|s| s.parse().ok()).unwrap_or(100)
}

#[test]
fn views_match_batch_executor_one_worker() {
    run_oracle(seed(), 1, batches());
}

#[test]
fn views_match_batch_executor_two_workers() {
    run_oracle(seed().wrapping_add(1), 2, batches());
}

// Targeted cases.

fn commit_and_read(compute: &mut Compute, time: u64, updates: Vec<TableUpdate>, view: ViewId) -> Result<BTreeMap<Row, isize>> {
    compute.commit(time, updates).expect("commit reaches the workers");
    compute.read(view, time)
}

fn row(a: Option<i32>, b: Option<i32>, s: &str) -> Row {
    let int = |v: Option<i32>| v.map(Datum::Int4).unwrap_or(Datum::Null);
    vec![int(a), int(b), Datum::Text(s.into())]
}

#[test]
fn evaluation_errors_come_and_go_with_their_rows() {
    for workers in [1, 2] {
        let mut compute = Compute::new(workers).expect("compute starts");
        let view = compute.create_view(&bind("SELECT 10 / b FROM t1"), &TextContext::default()).expect("supported");
        let ok = commit_and_read(&mut compute, 1, vec![(T1, row(Some(1), Some(5), "x"), 1)], view).expect("no error");
        assert_eq!(ok, BTreeMap::from([(vec![Datum::Int4(2)], 1)]));
        let err = commit_and_read(&mut compute, 2, vec![(T1, row(Some(1), Some(0), "x"), 1)], view)
            .expect_err("division by zero");
        assert_eq!(err.state, SqlState::DivisionByZero);
        let ok = commit_and_read(&mut compute, 3, vec![(T1, row(Some(1), Some(0), "x"), -1)], view).expect("recovered");
        assert_eq!(ok, BTreeMap::from([(vec![Datum::Int4(2)], 1)]));
    }
}

#[test]
fn global_aggregate_over_emptied_table_is_one_default_row() {
    for workers in [1, 2] {
        let mut compute = Compute::new(workers).expect("compute starts");
        let plan = bind("SELECT count(*), sum(b), max(b) FROM t1");
        let view = compute.create_view(&plan, &TextContext::default()).expect("supported");
        compute.advance_to(1).expect("advance");
        let empty = compute.read(view, 0).expect("readable");
        assert_eq!(empty, BTreeMap::from([(vec![Datum::Int8(0), Datum::Null, Datum::Null], 1)]));
        let r = row(Some(1), Some(4), "x");
        let full = commit_and_read(&mut compute, 1, vec![(T1, r.clone(), 1), (T1, r.clone(), 1)], view).expect("ok");
        assert_eq!(full, BTreeMap::from([(vec![Datum::Int8(2), Datum::Int8(8), Datum::Int4(4)], 1)]));
        let emptied = commit_and_read(&mut compute, 2, vec![(T1, r.clone(), -1), (T1, r, -1)], view).expect("ok");
        assert_eq!(emptied, empty);
    }
}

#[test]
fn reads_are_consistent_at_each_closed_timestamp() {
    let mut compute = Compute::new(2).expect("compute starts");
    let view = compute.create_view(&bind("SELECT a, count(*) FROM t1 GROUP BY a"), &TextContext::default()).expect("ok");
    compute.commit(1, vec![(T1, row(Some(1), None, "x"), 1)]).expect("commit");
    compute.commit(2, vec![(T1, row(Some(1), None, "y"), 1)]).expect("commit");
    compute.commit(3, vec![(T1, row(Some(2), None, "y"), 1)]).expect("commit");
    let reader = compute.reader();
    let at = |t| std::thread::spawn({ let reader = reader.clone(); move || reader.read(view, t) }).join().expect("reader thread").expect("readable");
    assert_eq!(at(1), BTreeMap::from([(vec![Datum::Int4(1), Datum::Int8(1)], 1)]));
    assert_eq!(at(2), BTreeMap::from([(vec![Datum::Int4(1), Datum::Int8(2)], 1)]));
    assert_eq!(
        at(3),
        BTreeMap::from([(vec![Datum::Int4(1), Datum::Int8(2)], 1), (vec![Datum::Int4(2), Datum::Int8(1)], 1)])
    );
    // Open times cannot be read; compacted ones neither.
    assert!(compute.read(view, 4).is_err());
    compute.allow_compaction(3);
    assert!(compute.read(view, 2).is_err());
    assert_eq!(compute.read(view, 3).expect("readable").len(), 2);
    // Dropping one view leaves the others running.
    let other = compute.create_view(&bind("SELECT * FROM t1"), &TextContext::default()).expect("ok");
    compute.drop_view(view).expect("drop");
    assert!(compute.read(view, 3).is_err());
    compute.commit(4, vec![(T1, row(Some(3), None, "z"), 1)]).expect("commit");
    assert_eq!(compute.read(other, 4).expect("readable").len(), 4);
}

#[test]
fn compute_handle_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send::<Compute>();
    assert_send_sync::<ViewReader>();
}

#[test]
fn unsupported_constructs_are_refused_at_creation() {
    let mut compute = Compute::new(1).expect("compute starts");
    let text = TextContext::default();
    let refused = |compute: &mut Compute, plan: RelExpr, needle: &str| {
        let err = compute.create_view(&plan, &text).expect_err("refused");
        assert_eq!(err.state, SqlState::FeatureNotSupported, "{err:?}");
        assert!(err.message.contains(needle), "{:?} does not mention {needle:?}", err.message);
    };
    // Subquery shapes the decorrelation does not cover.
    refused(&mut compute, bind("SELECT a FROM t1 WHERE a IN (SELECT a FROM t2) OR b > 1"), "subquery");
    refused(&mut compute, bind("SELECT a, (SELECT max(c) FROM t2 WHERE t2.a < t1.a) FROM t1"), "subquery");
    refused(&mut compute, bind("SELECT a, EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a) FROM t1"), "subquery");
    refused(
        &mut compute,
        bind("SELECT a FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE EXISTS (SELECT 1 FROM t1 x WHERE x.a = t2.a))"),
        "subquery",
    );
    refused(&mut compute, bind("SELECT a, random() FROM t1"), "random()");
    refused(&mut compute, bind("SELECT a, now() FROM t1"), "current time");
    refused(
        &mut compute,
        bind_with_params("SELECT a FROM t1 ORDER BY a LIMIT $1", vec![DataType::Int8]).expect("binds"),
        "LIMIT",
    );
    refused(
        &mut compute,
        RelExpr::System { name: "pg_catalog.pg_class".into(), column_types: vec![DataType::Oid] },
        "system relation",
    );
    refused(
        &mut compute,
        RelExpr::Get { table: TableRef(T1), column_types: vec![DataType::Int4; 3], with_row_id: true },
        "row ids",
    );
}
