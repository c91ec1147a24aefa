//! Golden tests for view dataflows: scripted transactions against a few
//! views, printing how each view's contents change as `(time, diff, row)`
//! updates (and when reading fails with an evaluation error, and recovers).
//!
//! Each script runs with 1 and 2 workers; both must print the same text,
//! and it must equal `tests/testdata/dataflow/<script>.golden`. Regenerate
//! with `UPDATE_GOLDENFILES=1 cargo test -p freshet-compute --test
//! dataflow_golden` and review the diff like code.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use freshet_common::io::{format_text, TextContext};
use freshet_common::{DataType, Datum, Row};
use freshet_compute::dataflow::{Compute, TableUpdate};
use freshet_expr::RelExpr;
use freshet_sql::{Binder, Catalog, ColumnInfo, Plan, RelationInfo, RelationKind};

const T1: u32 = 16384;
const T2: u32 = 16385;

struct TestCatalog;

fn table_info(oid: u32, name: &str, second: &str) -> RelationInfo {
    let cols = [("a", DataType::Int4), (second, DataType::Int4), ("s", DataType::Text)];
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

impl Catalog for TestCatalog {
    fn database(&self) -> &str {
        "dev"
    }
    fn search_path(&self) -> Vec<String> {
        vec!["pg_catalog".into(), "public".into()]
    }
    fn relation(&self, _schema: Option<&str>, name: &str) -> Option<RelationInfo> {
        match name {
            "t1" => Some(table_info(T1, "t1", "b")),
            "t2" => Some(table_info(T2, "t2", "c")),
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

fn bind(sql: &str) -> RelExpr {
    let stmts = freshet_sql::parse_statements(sql).expect("parses");
    let catalog = TestCatalog;
    let mut binder = Binder::new(&catalog, vec![], TextContext::default());
    match binder.bind_statement(&stmts[0]).unwrap_or_else(|e| panic!("cannot bind {sql:?}: {e:?}")) {
        Plan::Query(q) => q.expr,
        other => panic!("{sql:?} is not a query: {other:?}"),
    }
}

/// A row of `t1`/`t2`: `(a, b, s)`, `None` for NULL.
fn row(a: Option<i32>, b: Option<i32>, s: Option<&str>) -> Row {
    let int = |v: Option<i32>| v.map(Datum::Int4).unwrap_or(Datum::Null);
    vec![int(a), int(b), s.map(|s| Datum::Text(s.into())).unwrap_or(Datum::Null)]
}

fn ins(table: u32, r: Row) -> TableUpdate {
    (table, r, 1)
}

fn del(table: u32, r: Row) -> TableUpdate {
    (table, r, -1)
}

/// Prints a datum compactly (the golden files stay readable).
fn datum_text(d: &Datum) -> String {
    match d {
        Datum::Null => "NULL".into(),
        Datum::Bool(b) => (if *b { "t" } else { "f" }).into(),
        Datum::Int2(v) => v.to_string(),
        Datum::Int4(v) => v.to_string(),
        Datum::Int8(v) => v.to_string(),
        Datum::Text(s) => format!("'{s}'"),
        Datum::Array(items) => format!("{{{}}}", items.iter().map(datum_text).collect::<Vec<_>>().join(",")),
        Datum::Numeric(_) => {
            let mut out = String::new();
            format_text(d, &DataType::Numeric(None), &TextContext::default(), &mut out);
            out
        }
        other => format!("{other:?}"),
    }
}

fn row_text(r: &[Datum]) -> String {
    format!("({})", r.iter().map(datum_text).collect::<Vec<_>>().join(", "))
}

/// Runs `commits` (one transaction per timestamp, starting at 1) against
/// views over `queries` and prints every view's changes.
fn run_script(workers: usize, queries: &[&str], commits: &[Vec<TableUpdate>]) -> String {
    let mut compute = Compute::new(workers).expect("compute starts");
    let text = TextContext::default();
    let views: Vec<_> = queries.iter().map(|q| compute.create_view(&bind(q), &text).expect("supported")).collect();
    // Time 0 holds the contents before any transaction.
    compute.advance_to(1).expect("advance");
    let mut logs: Vec<String> = queries.iter().map(|q| format!("view: {q}\n")).collect();
    let mut last: Vec<BTreeMap<Row, isize>> = vec![BTreeMap::new(); views.len()];
    let mut failing: Vec<bool> = vec![false; views.len()];
    for time in 0..=commits.len() as u64 {
        if time > 0 {
            compute.commit(time, commits[time as usize - 1].clone()).expect("commit");
        }
        for (i, view) in views.iter().enumerate() {
            let log = &mut logs[i];
            match compute.read(*view, time) {
                Err(e) => {
                    if !failing[i] {
                        writeln!(log, "  {time}  error {}: {}", e.state.code(), e.message).expect("write to string");
                        failing[i] = true;
                    }
                }
                Ok(now) => {
                    if failing[i] {
                        writeln!(log, "  {time}  recovered").expect("write to string");
                        failing[i] = false;
                    }
                    let mut changes: Vec<(isize, &Row)> = Vec::new();
                    for (r, n) in &now {
                        let before = last[i].get(r).copied().unwrap_or(0);
                        if *n != before {
                            changes.push((n - before, r));
                        }
                    }
                    for (r, n) in &last[i] {
                        if !now.contains_key(r) {
                            changes.push((-n, r));
                        }
                    }
                    changes.sort_by(|a, b| (a.0 > 0, a.1).cmp(&(b.0 > 0, b.1)));
                    for (diff, r) in changes {
                        writeln!(log, "  {time}  {diff:+}  {}", row_text(r)).expect("write to string");
                    }
                    last[i] = now;
                }
            }
        }
    }
    logs.join("\n")
}

fn golden(name: &str, queries: &[&str], commits: Vec<Vec<TableUpdate>>) {
    let one = run_script(1, queries, &commits);
    let two = run_script(2, queries, &commits);
    assert_eq!(one, two, "script {name}: 1 and 2 workers disagree");
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "testdata", "dataflow", &format!("{name}.golden")].iter().collect();
    if std::env::var_os("UPDATE_GOLDENFILES").is_some() {
        std::fs::create_dir_all(path.parent().expect("golden files live in a directory")).expect("create testdata");
        std::fs::write(&path, &one).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (run with UPDATE_GOLDENFILES=1)", path.display()));
    assert_eq!(one, expected, "script {name} differs from {}", path.display());
}

#[test]
fn min_max_and_counts_under_retraction() {
    let r = |a, b| row(a, b, Some("x"));
    golden(
        "min_max",
        &[
            "SELECT a, min(b), max(b), count(*), count(b), sum(DISTINCT b) FROM t1 GROUP BY a",
            "SELECT min(b), max(b) FROM t1",
        ],
        vec![
            vec![ins(T1, r(Some(1), Some(5))), ins(T1, r(Some(1), Some(3))), ins(T1, r(Some(1), Some(9)))],
            vec![ins(T1, r(None, Some(2))), ins(T1, r(Some(1), Some(3)))],
            // Delete one copy of the minimum, then the other.
            vec![del(T1, r(Some(1), Some(3)))],
            vec![del(T1, r(Some(1), Some(3)))],
            // Delete the maximum; the group keeps one row.
            vec![del(T1, r(Some(1), Some(9)))],
            // An update of the last row of group 1 (delete + insert).
            vec![del(T1, r(Some(1), Some(5))), ins(T1, r(Some(1), None))],
            vec![del(T1, r(Some(1), None)), del(T1, r(None, Some(2)))],
        ],
    );
}

#[test]
fn outer_join_matches_come_and_go() {
    let l = |a, s| row(a, Some(0), Some(s));
    let rr = |a, c| row(a, Some(c), Some("r"));
    golden(
        "outer_join",
        &[
            "SELECT t1.a, t1.s, t2.c FROM t1 LEFT JOIN t2 ON t1.a = t2.a",
            "SELECT t1.s, t2.a, t2.c FROM t1 FULL JOIN t2 ON t1.a = t2.a AND t2.c > 1",
        ],
        vec![
            vec![ins(T1, l(Some(1), "p")), ins(T1, l(Some(2), "q")), ins(T1, l(None, "n"))],
            vec![ins(T2, rr(Some(1), 1))],
            vec![ins(T2, rr(Some(1), 2)), ins(T2, rr(None, 3))],
            vec![del(T2, rr(Some(1), 1))],
            vec![del(T2, rr(Some(1), 2))],
            vec![ins(T1, l(Some(1), "p")), ins(T2, rr(Some(1), 5))],
            vec![del(T1, l(Some(1), "p")), del(T1, l(Some(1), "p"))],
        ],
    );
}

#[test]
fn global_aggregates_over_an_emptied_table() {
    let r = |b, s| row(Some(1), b, Some(s));
    golden(
        "global_aggregate",
        &["SELECT count(*), count(b), sum(b), avg(b), string_agg(s, ',' ORDER BY s), bool_or(b > 2) FROM t1"],
        vec![
            vec![ins(T1, r(Some(2), "b")), ins(T1, r(Some(4), "a"))],
            vec![ins(T1, r(None, "c"))],
            vec![del(T1, r(Some(2), "b")), del(T1, r(Some(4), "a")), del(T1, r(None, "c"))],
            vec![ins(T1, r(Some(7), "z"))],
        ],
    );
}

#[test]
fn evaluation_errors_are_retracted_with_their_rows() {
    let r = |a, b| row(Some(a), Some(b), Some("x"));
    golden(
        "errors",
        &["SELECT a, 10 / b FROM t1", "SELECT a, sum(100 / b) FROM t1 GROUP BY a"],
        vec![
            vec![ins(T1, r(1, 5)), ins(T1, r(2, 2))],
            vec![ins(T1, r(1, 0))],
            vec![ins(T1, r(3, 10))],
            vec![del(T1, r(1, 0))],
        ],
    );
}

#[test]
fn top_k_and_set_operations() {
    let r = |a, b| row(Some(a), Some(b), Some("x"));
    golden(
        "top_k_set_ops",
        &[
            "SELECT a, b FROM t1 ORDER BY b DESC, a LIMIT 2",
            "SELECT a FROM t1 EXCEPT ALL SELECT a FROM t2",
            "SELECT a FROM t1 INTERSECT SELECT a FROM t2",
        ],
        vec![
            vec![ins(T1, r(1, 10)), ins(T1, r(2, 20)), ins(T1, r(3, 30))],
            vec![ins(T1, r(3, 30)), ins(T2, r(3, 0))],
            vec![del(T1, r(3, 30))],
            vec![del(T1, r(3, 30)), ins(T2, r(1, 0)), ins(T2, r(1, 0))],
        ],
    );
}
