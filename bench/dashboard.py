#!/usr/bin/env python3
"""Bulk load and dashboard benchmark: Freshet vs PostgreSQL, side by side.

Loads N `orders`-shaped rows with COPY into both servers, then runs the
seed dashboard's four GROUP BY queries, printing rows/s, query ms (median of
several runs), peak RSS, and the Freshet/PostgreSQL ratio for each figure.

Usage (from the repository root, after `bash .ci/run` made the venv):

    cargo build --release --bin freshet
    scripts/pg-oracle.sh start
    .venv/bin/python bench/dashboard.py --rows 1000000 --rows 10000000

Freshet is started from target/release/freshet on a fresh data directory
and a free port; PostgreSQL is the oracle from scripts/pg-oracle.sh
(FRESHET_TEST_PG_URL or the default URL), in a scratch database.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg

QUERIES = {
    "states by turnover": "SELECT state, sum(qty*price) AS turnover FROM orders GROUP BY state ORDER BY turnover DESC LIMIT 5",
    "items by avg qty": "SELECT itemid, avg(qty) AS avg_qty FROM orders GROUP BY itemid ORDER BY avg_qty DESC LIMIT 5",
    "items by qty": "SELECT itemid, sum(qty) AS total_qty FROM orders GROUP BY itemid ORDER BY total_qty DESC LIMIT 5",
    "items by turnover": "SELECT itemid, sum(qty*price) AS turnover FROM orders GROUP BY itemid ORDER BY turnover DESC LIMIT 5",
}

STATES = ["FM", "CA", "NY", "TX", "WA", "OR", "NV", "AZ", "UT", "CO", "NM", "ID", "MT", "WY", "ND", "SD", "NE", "KS", "OK", "AR"]
CREATE = "CREATE TABLE orders (orderid int, itemid int, qty int, price float, dt date, state varchar)"


def chunks(rows, seed=1, chunk_rows=50_000):
    """Deterministic COPY text data in chunks."""
    rng = random.Random(seed)
    buf = []
    for i in range(rows):
        buf.append(
            f"{1000000 + i}\t{100000 + rng.randint(0, 999)}\t{rng.randint(1, 10)}\t"
            f"{round(rng.uniform(1, 1000), 2)}\t2020-06-{rng.randint(10, 28)}\t{rng.choice(STATES)}\n"
        )
        if len(buf) == chunk_rows:
            yield "".join(buf).encode()
            buf = []
    if buf:
        yield "".join(buf).encode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def load_and_query(url, rows, runs, backend_rss=False):
    """Loads and queries; with backend_rss, also returns the serving
    PostgreSQL backend's peak RSS in KiB (read before disconnecting)."""
    result = {}
    rss = 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS orders")
        conn.execute(CREATE)
        start = time.perf_counter()
        with conn.cursor().copy("COPY orders FROM STDIN") as copy:
            for chunk in chunks(rows):
                copy.write(chunk)
        elapsed = time.perf_counter() - start
        result["copy rows/s"] = rows / elapsed
        answers = {}
        for name, sql in QUERIES.items():
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                answers[name] = conn.execute(sql).fetchall()
                times.append((time.perf_counter() - t) * 1000)
            result[f"{name} ms"] = statistics.median(times)
        if backend_rss:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            rss = peak_rss_kib([pid])
    return result, answers, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, action="append", help="row counts to load (repeatable); default 1000000")
    ap.add_argument("--runs", type=int, default=3, help="runs per query (median reported)")
    ap.add_argument("--freshet", default="target/release/freshet")
    ap.add_argument("--pg-url", default=os.environ.get("FRESHET_TEST_PG_URL", "postgresql://postgres@127.0.0.1:54329/oracle"))
    args = ap.parse_args()
    sizes = args.rows or [1_000_000]

    with psycopg.connect(args.pg_url, autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS freshet_bench")
        c.execute("CREATE DATABASE freshet_bench")
    pg_url = args.pg_url.rsplit("/", 1)[0] + "/freshet_bench"

    print(f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB")
    for rows in sizes:
        data_dir = tempfile.mkdtemp(prefix="freshet-bench-")
        port = free_port()
        server = subprocess.Popen(
            [args.freshet, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"postgresql://root@127.0.0.1:{port}/dev"
            for _ in range(300):
                try:
                    psycopg.connect(url).close()
                    break
                except psycopg.OperationalError:
                    time.sleep(0.1)
            fr, fr_answers, _ = load_and_query(url, rows, args.runs)
            fr_rss = peak_rss_kib([server.pid])
        finally:
            server.terminate()
            server.wait(timeout=30)
            subprocess.run(["rm", "-rf", data_dir])
        pg, pg_answers, pg_rss = load_and_query(pg_url, rows, args.runs, backend_rss=True)

        print(f"\n== {rows:,} rows")
        print(f"{'figure':<28}{'freshet':>14}{'postgres':>14}{'freshet/pg':>12}")
        for key in fr:
            print(f"{key:<28}{fr[key]:>14,.1f}{pg[key]:>14,.1f}{fr[key] / pg[key]:>12.2f}")
        print(f"{'peak RSS MiB (pg: backend)':<28}{fr_rss / 1024:>14,.0f}{pg_rss / 1024:>14,.0f}{fr_rss / max(pg_rss, 1):>12.2f}")
        same = all(
            [tuple(map(str, r)) for r in fr_answers[q]] == [tuple(map(str, r)) for r in pg_answers[q]]
            for q in QUERIES
            if "turnover" not in q
        )
        print(f"integer-valued answers identical to PostgreSQL: {same}")

    with psycopg.connect(args.pg_url, autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS freshet_bench")


if __name__ == "__main__":
    sys.exit(main())
