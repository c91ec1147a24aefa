#!/usr/bin/env python3
"""Materialized-view benchmark: Freshet's incrementally maintained views vs
PostgreSQL's `REFRESH MATERIALIZED VIEW` after each batch, side by side.

The same deterministic workload runs on both servers:

- `orders(orderid PK, itemid, qty, price numeric, state)` preloaded with
  `--rows` rows (COPY) and `items(itemid PK, name)`;
- five materialized views: the seed dashboard's four Top-5 rankings and a
  join view (quantity per item name, orders JOIN items);
- batches of `--batch-size` inserts plus updates and deletes of existing
  orders (one transaction per batch).

Figures, per Freshet worker count (`--workers`, default 1 and 2) and for
PostgreSQL (refreshing all five views after every batch, the approach a
Django user would otherwise pick):

- throughput: changed rows/s over `--batches` back-to-back batches, until
  the views reflect the last one;
- freshness: time from COMMIT returning to a query of the view returning
  the state after that commit, p50/p99 over `--probes` batches (Freshet
  reads are read-after-write: a view read waits for the commit, so the
  query's latency is the freshness; PostgreSQL's is REFRESH + query);
- peak RSS of the Freshet process per million rows of table state;
- recovery: after kill -9, the time until the views answer again, and the
  rebuild time Freshet logs.

At the end both servers' view contents are compared (numeric arithmetic is
exact, so they must be identical).

Usage (from the repository root, after `bash .ci/run` made the venv):

    cargo build --release --bin freshet
    scripts/pg-oracle.sh start
    .venv/bin/python bench/views.py --rows 1000000
"""

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg

from dashboard import free_port, peak_rss_kib

STATES = ["FM", "CA", "NY", "TX", "WA", "OR", "NV", "AZ", "UT", "CO", "NM", "ID", "MT", "WY", "ND", "SD", "NE", "KS", "OK", "AR"]
ITEMS = 1000

SCHEMA = [
    "CREATE TABLE orders (orderid int PRIMARY KEY, itemid int, qty int, price numeric(10,2), state varchar)",
    "CREATE TABLE items (itemid int PRIMARY KEY, name text)",
]

VIEWS = {
    "top_states": "SELECT state, sum(qty * price) AS turnover FROM orders GROUP BY state ORDER BY turnover DESC, state LIMIT 5",
    "top_avg_qty": "SELECT itemid, avg(qty) AS avg_qty FROM orders GROUP BY itemid ORDER BY avg_qty DESC, itemid LIMIT 5",
    "top_qty": "SELECT itemid, sum(qty) AS total_qty FROM orders GROUP BY itemid ORDER BY total_qty DESC, itemid LIMIT 5",
    "top_turnover": "SELECT itemid, sum(qty * price) AS turnover FROM orders GROUP BY itemid ORDER BY turnover DESC, itemid LIMIT 5",
    "qty_by_name": "SELECT i.name, sum(o.qty) AS qty, count(*) AS n FROM orders o JOIN items i ON i.itemid = o.itemid GROUP BY i.name",
}


def order_row(rng, orderid):
    return (orderid, rng.randint(0, ITEMS - 1), rng.randint(1, 10), f"{rng.uniform(1, 1000):.2f}", rng.choice(STATES))


def load(conn, rows):
    for stmt in SCHEMA:
        conn.execute(stmt)
    rng = random.Random(1)
    with conn.cursor().copy("COPY items FROM STDIN") as copy:
        copy.write("".join(f"{i}\titem-{i % 300}\n" for i in range(ITEMS)).encode())
    with conn.cursor().copy("COPY orders FROM STDIN") as copy:
        buf = []
        for i in range(rows):
            buf.append("\t".join(map(str, order_row(rng, i))) + "\n")
            if len(buf) == 50_000:
                copy.write("".join(buf).encode())
                buf = []
        copy.write("".join(buf).encode())


class Workload:
    """Deterministic batches: inserts of new orders, updates and deletes of
    existing ones. Both servers see the same statements."""

    def __init__(self, rows, batch_size):
        self.rng = random.Random(7)
        self.next_id = rows
        self.live_low = 0
        self.batch_size = batch_size

    def batch(self):
        inserts = [order_row(self.rng, self.next_id + i) for i in range(self.batch_size)]
        self.next_id += self.batch_size
        changes = max(1, self.batch_size // 10)
        updates = [self.rng.randint(self.live_low, self.next_id - 1) for _ in range(changes)]
        # Deletes take the oldest orders, so deleted ids are never reused.
        deletes = list(range(self.live_low, self.live_low + changes))
        self.live_low += changes
        return inserts, updates, deletes


def apply(conn, batch):
    inserts, updates, deletes = batch
    with conn.transaction():
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO orders VALUES (%s, %s, %s, %s, %s)", inserts)
            cur.execute("UPDATE orders SET qty = qty + 1 WHERE orderid = ANY(%s)", (updates,))
            cur.execute("DELETE FROM orders WHERE orderid = ANY(%s)", (deletes,))
    return len(inserts) + len(updates) + len(deletes)


def read_views(conn):
    return {name: conn.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall() for name in VIEWS}


def refresh(conn):
    for name in VIEWS:
        conn.execute(f"REFRESH MATERIALIZED VIEW {name}")


def run(conn, args, refresh_after_batch):
    """Throughput and freshness phases; returns figures and final view contents."""
    work = Workload(args.rows, args.batch_size)
    figures = {}
    changed = 0
    start = time.perf_counter()
    for _ in range(args.batches):
        changed += apply(conn, work.batch())
        if refresh_after_batch:
            refresh(conn)
    conn.execute(f"SELECT * FROM {next(iter(VIEWS))}").fetchall()
    figures["throughput rows/s"] = changed / (time.perf_counter() - start)
    fresh = []
    for _ in range(args.probes):
        apply(conn, work.batch())
        committed = time.perf_counter()
        if refresh_after_batch:
            refresh(conn)
        conn.execute("SELECT * FROM top_states").fetchall()
        fresh.append((time.perf_counter() - committed) * 1000)
    fresh.sort()
    figures["freshness p50 ms"] = statistics.median(fresh)
    figures["freshness p99 ms"] = fresh[min(len(fresh) - 1, int(len(fresh) * 0.99))]
    t = time.perf_counter()
    for _ in range(5):
        conn.execute("SELECT * FROM qty_by_name WHERE name = 'item-42'").fetchall()
    figures["point lookup ms"] = (time.perf_counter() - t) * 1000 / 5
    return figures, read_views(conn)


def wait_ready(url, timeout=600):
    deadline = time.time() + timeout
    while True:
        try:
            return psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def freshet_run(args, workers):
    data_dir = tempfile.mkdtemp(prefix="freshet-bench-views-")
    port = free_port()
    url = f"postgresql://root@127.0.0.1:{port}/dev"
    cmd = [args.freshet, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}", "--workers", str(workers)]
    log_path = os.path.join(data_dir, "..", os.path.basename(data_dir) + ".log")
    log = open(log_path, "w")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        with wait_ready(url) as conn:
            load(conn, args.rows)
            for name, sql in VIEWS.items():
                conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
            read_views(conn)  # backfill done
            figures, contents = run(conn, args, refresh_after_batch=False)
            state_rows = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
        figures["peak RSS MiB per M rows"] = peak_rss_kib([server.pid]) / 1024 / (state_rows / 1e6)
        # Recovery: kill -9, restart, time until the views answer.
        server.send_signal(signal.SIGKILL)
        server.wait()
        started = time.perf_counter()
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        with wait_ready(url) as conn:
            recovered = read_views(conn)
        figures["recovery to answers ms"] = (time.perf_counter() - started) * 1000
        log.flush()
        rebuilt = re.findall(r"rebuilt materialized views.*elapsed_ms=(\d+)", open(log_path).read())
        figures["view rebuild (log) ms"] = float(rebuilt[-1]) if rebuilt else float("nan")
        if recovered != contents:
            print("ERROR: views differ after kill -9 and restart", file=sys.stderr)
            figures["recovery to answers ms"] = float("nan")
        return figures, contents
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", data_dir, log_path])


def postgres_run(args):
    with psycopg.connect(args.pg_url, autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS freshet_bench_views")
        c.execute("CREATE DATABASE freshet_bench_views")
    url = args.pg_url.rsplit("/", 1)[0] + "/freshet_bench_views"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            load(conn, args.rows)
            conn.execute("CREATE INDEX ON orders (itemid)")
            for name, sql in VIEWS.items():
                conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
            return run(conn, args, refresh_after_batch=True)
    finally:
        with psycopg.connect(args.pg_url, autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS freshet_bench_views")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="orders preloaded (default 1000000)")
    ap.add_argument("--batch-size", type=int, default=100, help="inserts per batch (plus 10%% updates, 10%% deletes)")
    ap.add_argument("--batches", type=int, default=100, help="batches in the throughput phase")
    ap.add_argument("--probes", type=int, default=50, help="batches in the freshness phase")
    ap.add_argument("--workers", type=int, action="append", help="Freshet worker counts (repeatable; default 1 and 2)")
    ap.add_argument("--freshet", default="target/release/freshet")
    ap.add_argument("--pg-url", default=os.environ.get("FRESHET_TEST_PG_URL", "postgresql://postgres@127.0.0.1:54329/oracle"))
    args = ap.parse_args()
    workers = args.workers or [1, 2]

    print(f"machine: {os.cpu_count()} cores; {args.rows:,} orders, batches of {args.batch_size} inserts "
          f"+ {max(1, args.batch_size // 10)} updates + {max(1, args.batch_size // 10)} deletes")
    pg, pg_contents = postgres_run(args)
    results = {}
    for w in workers:
        results[w], contents = freshet_run(args, w)
        same = contents == pg_contents
        print(f"freshet --workers {w}: views identical to PostgreSQL's refreshed views: {same}")
    header = f"{'figure':<26}" + "".join(f"{'freshet w=' + str(w):>14}" for w in workers) + f"{'postgres':>14}" + \
        "".join(f"{'ratio w=' + str(w):>11}" for w in workers)
    print(header)
    for key in pg:
        line = f"{key:<26}" + "".join(f"{results[w][key]:>14,.2f}" for w in workers) + f"{pg[key]:>14,.2f}"
        line += "".join(f"{results[w][key] / pg[key] if pg[key] else float('nan'):>11.2f}" for w in workers)
        print(line)
    for key in results[workers[0]]:
        if key not in pg:
            print(f"{key:<26}" + "".join(f"{results[w][key]:>14,.1f}" for w in workers))
    print("ratios are freshet/postgres: above 1 is better for throughput, below 1 for times")


if __name__ == "__main__":
    sys.exit(main())
