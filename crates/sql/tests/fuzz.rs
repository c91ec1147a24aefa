//! A small mutation fuzzer for the SQL frontend: random edits of seed
//! statements go through parse and bind; every input must produce a plan or
//! an error with a SQLSTATE, never a panic.
//!
//! `FRESHET_FUZZ_ITERATIONS` raises the iteration count for a local soak
//! (CI runs the default); `FRESHET_FUZZ_SEED` picks the seed.

use freshet_common::io::TextContext;
use freshet_common::DataType;
use freshet_sql::{Binder, Catalog, ColumnInfo, RelationInfo, RelationKind};

struct TestCatalog;

fn table(oid: u32, name: &str, cols: &[(&str, DataType)]) -> RelationInfo {
    RelationInfo {
        oid,
        schema: "public".into(),
        name: name.into(),
        kind: RelationKind::Table,
        columns: cols
            .iter()
            .map(|(n, t)| ColumnInfo::new(*n, t.clone()))
            .collect(),
        primary_key: vec![0],
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
            "orders" => Some(table(
                16384,
                "orders",
                &[
                    ("orderid", DataType::Int4),
                    ("itemid", DataType::Int4),
                    ("qty", DataType::Int4),
                    ("price", DataType::Float8),
                    ("dt", DataType::Date),
                    ("state", DataType::Varchar(None)),
                ],
            )),
            "items" => Some(table(16385, "items", &[("id", DataType::Int8), ("name", DataType::Text), ("tags", DataType::Array(Box::new(DataType::Text)))])),
            _ => None,
        }
    }
    fn relation_by_oid(&self, oid: u32) -> Option<RelationInfo> {
        match oid {
            16384 => self.relation(None, "orders"),
            16385 => self.relation(None, "items"),
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

const SEEDS: &[&str] = &[
    "SELECT sum(qty*price) AS turnover, state FROM orders GROUP BY state ORDER BY turnover DESC LIMIT 5",
    "SELECT o.itemid, i.name FROM orders o LEFT JOIN items i ON i.id = o.itemid WHERE o.qty > 3 AND i.name LIKE 'a%'",
    "INSERT INTO orders VALUES (1, 2, 3, 4.5, '2020-01-01', 'CA') ON CONFLICT (orderid) DO UPDATE SET qty = EXCLUDED.qty RETURNING *",
    "UPDATE orders SET qty = qty + 1 FROM items WHERE items.id = orders.itemid RETURNING orderid",
    "DELETE FROM orders USING items WHERE items.id = orders.itemid AND items.name IS NULL",
    "SELECT CASE WHEN qty > 5 THEN 'big' ELSE 'small' END, count(DISTINCT state) FROM orders GROUP BY 1 HAVING count(*) > 2",
    "SELECT * FROM orders WHERE itemid IN (SELECT id FROM items) AND EXISTS (SELECT 1 FROM items WHERE id = orders.itemid)",
    "SELECT dt + 7, dt - '2020-01-01'::date, extract(year FROM dt), date_trunc('month', dt) FROM orders",
    "SELECT coalesce(nullif(state, ''), 'x') || '-' || substring(state FROM 1 FOR 1), tags[1] FROM orders, items",
    "CREATE TABLE t (id serial PRIMARY KEY, v varchar(10) NOT NULL DEFAULT 'x', n numeric(10,2), UNIQUE (v))",
    "SELECT $1::int + qty, $2 FROM orders WHERE state = $3 ORDER BY 1 NULLS FIRST OFFSET 2",
    "WITH x AS (SELECT itemid, avg(qty) a FROM orders GROUP BY itemid) SELECT * FROM x UNION ALL SELECT 1, 2.0",
];

const TOKENS: &[&str] = &[
    "(", ")", ",", "'", "\"", "::", "SELECT", "FROM", "WHERE", "NULL", "1e400", "-", "*", "/", "0", "$1",
    "ARRAY[", "]", "CASE", "END", "AND", "OR", "NOT", "IN", "||", "9223372036854775808", "'\\x'", ";",
    "GROUP BY", "ORDER BY", "(SELECT", "E'\\'", "interval '1 day'", "::regclass", "\u{0}", "é", "--", "/*",
];

fn main_loop(seed: u64, iterations: usize) {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..iterations {
        let base = SEEDS[(next() % SEEDS.len() as u64) as usize];
        let mut chars: Vec<char> = base.chars().collect();
        let edits = 1 + next() % 4;
        for _ in 0..edits {
            let pos = (next() % (chars.len() as u64 + 1)) as usize;
            match next() % 4 {
                0 if !chars.is_empty() => {
                    let end = (pos + (next() % 8) as usize).min(chars.len());
                    chars.drain(pos.min(chars.len())..end);
                }
                1 => {
                    let tok = TOKENS[(next() % TOKENS.len() as u64) as usize];
                    for (k, c) in tok.chars().enumerate() {
                        chars.insert((pos + k).min(chars.len()), c);
                    }
                }
                2 => {
                    let c = char::from_u32((next() % 0x250) as u32).unwrap_or('?');
                    chars.insert(pos.min(chars.len()), c);
                }
                _ => {
                    let tok = TOKENS[(next() % TOKENS.len() as u64) as usize];
                    chars.insert(pos.min(chars.len()), ' ');
                    for (k, c) in tok.chars().enumerate() {
                        chars.insert((pos + 1 + k).min(chars.len()), c);
                    }
                }
            }
        }
        let sql: String = chars.into_iter().collect();
        let outcome = std::panic::catch_unwind(|| {
            if let Ok(stmts) = freshet_sql::parse_statements(&sql) {
                for stmt in &stmts {
                    let catalog = TestCatalog;
                    let mut binder = Binder::new(&catalog, vec![], TextContext::default());
                    if let Err(e) = binder.bind_statement(stmt) {
                        assert_eq!(e.state.code().len(), 5, "error without a SQLSTATE: {e:?}");
                    }
                }
            }
        });
        assert!(outcome.is_ok(), "iteration {i} (seed {seed}): the frontend panicked on {sql:?}");
    }
}

#[test]
fn frontend_never_panics_on_mutated_sql() {
    let seed = std::env::var("FRESHET_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_f00d);
    let iterations = std::env::var("FRESHET_FUZZ_ITERATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    main_loop(seed, iterations);
}
