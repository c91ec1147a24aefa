#!/usr/bin/env python3
"""Change-feed benchmark: a live per-state turnover ranking pushed to an
application, Freshet's way vs PostgreSQL's, side by side.

- Freshet: `orders` table, materialized view `turnover` (sum and count per
  state), a subscription to the view, and a consumer blocked in `FETCH n
  FROM cur WITH (timeout = ...)`.
- PostgreSQL: the hand-rolled equivalent a Django user would write: the
  same `orders` table, a summary table kept by an AFTER INSERT trigger
  (upsert per state) that also `pg_notify`s the changed row, and a
  consumer in `LISTEN`.

Both consumers run in their own process-local thread on their own
connection while a producer inserts orders, one commit per insert.

Figures:
- latency: time from the producer's COMMIT returning to the consumer
  holding the corresponding change, p50/p99 over `--probes` single inserts
  made one at a time (the consumer idle before each);
- throughput: `--rows` inserts back to back (one per commit) until the
  consumer has seen the change of the last one, in inserts/s;
- PostgreSQL runs with fsync and synchronous_commit on for the run (the
  test oracle has them off; they are restored afterwards), as Freshet
  fsyncs every commit;
- at the end the consumer's replica (built only from the changes) is
  compared with the server's own aggregate: it must be identical.

Usage (from the repository root):

    cargo build --release --bin freshet
    scripts/pg-oracle.sh start
    .venv/bin/python bench/changefeed.py --rows 5000
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psycopg

from dashboard import free_port
from views import wait_ready

STATES = [f"S{i:02d}" for i in range(20)]


class Replica:
    """Per-state (turnover, orders) as the consumer sees it, with the time
    each state's order count was first seen at each value."""

    def __init__(self):
        self.rows = {}
        self.lock = threading.Condition()
        self.seen = {}  # (state, orders) -> perf_counter when seen

    def put(self, state, turnover, orders):
        with self.lock:
            self.rows[state] = (turnover, orders)
            self.seen.setdefault((state, orders), time.perf_counter())
            self.lock.notify_all()

    def remove(self, state):
        with self.lock:
            self.rows.pop(state, None)

    def wait_for(self, state, orders, timeout=60):
        deadline = time.perf_counter() + timeout
        with self.lock:
            while (state, orders) not in self.seen:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError(f"change {state}={orders} never arrived")
                self.lock.wait(left)
            return self.seen[(state, orders)]


def freshet_consumer(url, replica, stop):
    try:
        _freshet_consume(url, replica, stop)
    except psycopg.OperationalError:
        if not stop.is_set():
            raise


def _freshet_consume(url, replica, stop):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DECLARE cur SUBSCRIPTION CURSOR FOR turnover_sub FULL")
        while not stop.is_set():
            # FETCH n ... WITH (timeout) waits for n rows: wait for one,
            # then take the rest without waiting (as django_freshet.changes does).
            rows = conn.execute("FETCH 1 FROM cur WITH (timeout = '0.2s')").fetchall()
            if rows:
                rows += conn.execute("FETCH 1000 FROM cur").fetchall()
            for state, turnover, orders, op, _ts in rows:
                if op in ("Insert", "UpdateInsert"):
                    replica.put(state, turnover, orders)
                elif op == "Delete":
                    replica.remove(state)


def postgres_consumer(url, replica, stop, ready):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("LISTEN turnover")
        for state, turnover, orders in conn.execute("SELECT state, turnover, orders FROM turnover"):
            replica.put(state, turnover, orders)
        ready.set()
        while not stop.is_set():
            for note in conn.notifies(timeout=0.2):
                state, turnover, orders = note.payload.split("|")
                replica.put(state, int(turnover), int(orders))


SCHEMA = "CREATE TABLE orders (id bigint PRIMARY KEY, state text NOT NULL, amount bigint NOT NULL)"

PG_TRIGGER = """
CREATE TABLE turnover (state text PRIMARY KEY, turnover bigint NOT NULL, orders bigint NOT NULL);
CREATE FUNCTION orders_turnover() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE t bigint; n bigint;
BEGIN
  INSERT INTO turnover VALUES (NEW.state, NEW.amount, 1)
  ON CONFLICT (state) DO UPDATE SET turnover = turnover.turnover + EXCLUDED.turnover, orders = turnover.orders + 1
  RETURNING turnover.turnover, turnover.orders INTO t, n;
  PERFORM pg_notify('turnover', NEW.state || '|' || t || '|' || n);
  RETURN NULL;
END $$;
CREATE TRIGGER orders_turnover AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_turnover();
"""


def workload(conn, replica, args, rng):
    """Runs the latency probes and the throughput phase; returns figures."""
    counts = {s: 0 for s in STATES}
    next_id = [0]

    def insert():
        state = rng.choice(STATES)
        next_id[0] += 1
        counts[state] += 1
        conn.execute("INSERT INTO orders VALUES (%s, %s, %s)", (next_id[0], state, rng.randrange(1, 1000)))
        return state, counts[state]

    figures = {}
    latencies = []
    for _ in range(args.probes):
        state, orders = insert()
        committed = time.perf_counter()
        seen = replica.wait_for(state, orders)
        latencies.append((seen - committed) * 1000)
        time.sleep(0.01)
    latencies.sort()
    figures["latency p50 ms"] = statistics.median(latencies)
    figures["latency p99 ms"] = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    started = time.perf_counter()
    last = None
    for _ in range(args.rows):
        last = insert()
    replica.wait_for(*last)
    figures["throughput inserts/s"] = args.rows / (time.perf_counter() - started)
    return figures


def check(conn, replica, name):
    truth = {s: (int(t), int(n)) for s, t, n in conn.execute(
        "SELECT state, sum(amount), count(*) FROM orders GROUP BY state")}
    with replica.lock:
        mine = {s: (int(t), int(n)) for s, (t, n) in replica.rows.items()}
    same = truth == mine
    print(f"{name}: replica built from the changes equals the aggregate: {same}")
    return same


def freshet_run(args):
    data_dir = tempfile.mkdtemp(prefix="freshet-bench-changefeed-")
    port = free_port()
    url = f"postgresql://root@127.0.0.1:{port}/dev"
    server = subprocess.Popen(
        [args.freshet, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop = threading.Event()
    try:
        with wait_ready(url, timeout=60) as conn:
            conn.execute(SCHEMA)
            conn.execute("CREATE MATERIALIZED VIEW turnover AS "
                         "SELECT state, sum(amount) AS turnover, count(*) AS orders FROM orders GROUP BY state")
            conn.execute("CREATE SUBSCRIPTION turnover_sub FROM turnover WITH (retention = '1h')")
            replica = Replica()
            consumer = threading.Thread(target=freshet_consumer, args=(url, replica, stop), daemon=True)
            consumer.start()
            time.sleep(0.5)
            figures = workload(conn, replica, args, random.Random(7))
            ok = check(conn, replica, "freshet")
            return figures, ok
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", data_dir])


def postgres_run(args):
    with psycopg.connect(args.pg_url, autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS freshet_bench_changefeed")
        c.execute("CREATE DATABASE freshet_bench_changefeed")
        # The test oracle runs without fsync; Freshet fsyncs every commit,
        # so PostgreSQL must too for the throughput to compare.
        fsync = c.execute("SHOW fsync").fetchone()[0]
        sync_commit = c.execute("SHOW synchronous_commit").fetchone()[0]
        c.execute("ALTER SYSTEM SET fsync = on")
        c.execute("ALTER SYSTEM SET synchronous_commit = on")
        c.execute("SELECT pg_reload_conf()")
    url = args.pg_url.rsplit("/", 1)[0] + "/freshet_bench_changefeed"
    stop = threading.Event()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
            conn.execute(PG_TRIGGER)
            replica = Replica()
            ready = threading.Event()
            consumer = threading.Thread(target=postgres_consumer, args=(url, replica, stop, ready), daemon=True)
            consumer.start()
            ready.wait(10)
            figures = workload(conn, replica, args, random.Random(7))
            ok = check(conn, replica, "postgres")
            return figures, ok
    finally:
        stop.set()
        time.sleep(0.5)
        with psycopg.connect(args.pg_url, autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS freshet_bench_changefeed WITH (FORCE)")
            c.execute(f"ALTER SYSTEM SET fsync = '{fsync}'")
            c.execute(f"ALTER SYSTEM SET synchronous_commit = '{sync_commit}'")
            c.execute("SELECT pg_reload_conf()")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5000, help="inserts in the throughput phase")
    ap.add_argument("--probes", type=int, default=200, help="single inserts timed for latency")
    ap.add_argument("--freshet", default="target/release/freshet")
    ap.add_argument("--pg-url", default=os.environ.get("FRESHET_TEST_PG_URL", "postgresql://postgres@127.0.0.1:54329/oracle"))
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.probes} latency probes, {args.rows} inserts for throughput")
    pg, pg_ok = postgres_run(args)
    fr, fr_ok = freshet_run(args)
    print(f"{'figure':<24}{'freshet':>12}{'postgres':>12}{'ratio':>8}")
    for key in pg:
        ratio = fr[key] / pg[key] if pg[key] else float("nan")
        print(f"{key:<24}{fr[key]:>12,.2f}{pg[key]:>12,.2f}{ratio:>8.2f}")
    print("ratios are freshet/postgres: above 1 is better for throughput, below 1 for latency")
    return 0 if pg_ok and fr_ok else 1


if __name__ == "__main__":
    sys.exit(main())
