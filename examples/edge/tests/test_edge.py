"""The edge example end to end, as a user runs it: a broker, an upstream
Freshet and an edge Freshet set up with the example's own SQL files
through psql, sensor readings published with ``mosquitto_pub``.

Checks, with the edge's view re-computed from its source as the oracle:
the edge's per-minute aggregates equal their query; the upstream table
converges to exactly the edge's aggregates (through the postgres sink);
the upstream view equals its query; a malformed message is skipped and
counted; after the edge is killed and restarted (its sink re-sends its
snapshot), new readings still arrive and both sides agree again.

Freshet only (sources and sinks). Needs mosquitto, mosquitto_pub and psql;
without them the test is skipped, except in CI, where it fails.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

EXAMPLE = Path(__file__).resolve().parents[1]
REPO = EXAMPLE.parents[1]


def _need(tool: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is required in CI (.ci/run installs it)")
        pytest.skip(f"{tool} is not installed")
    return path


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # Polling a listener, bounded by the deadline.
    pytest.fail(f"nothing listens on {port}")


class Freshet:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = os.environ.get("FRESHET_BIN") or str(REPO / "target" / "debug" / "freshet")
        self.process = subprocess.Popen(
            [binary, "serve", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, self.process)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="root", dbname="dev", autocommit=True)

    def psql(self, file: Path, **variables: str) -> None:
        args = [_need("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "root", "-d", "dev", "-X",
                "-v", "ON_ERROR_STOP=1", "-f", str(file)]
        for name, value in variables.items():
            args += ["-v", f"{name}={value}"]
        subprocess.run(args, check=True, capture_output=True, text=True)


@pytest.fixture
def setup() -> Iterator[tuple[Freshet, Freshet, int]]:
    mosquitto = _need("mosquitto")
    _need("mosquitto_pub")
    work = Path(tempfile.mkdtemp(prefix="freshet-edge-"))
    broker_port = _port()
    broker = subprocess.Popen([mosquitto, "-p", str(broker_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    upstream, edge = Freshet(work / "upstream"), Freshet(work / "edge")
    try:
        _wait_port(broker_port, broker)
        upstream.start()
        edge.start()
        upstream.psql(EXAMPLE / "upstream.sql")
        edge.psql(EXAMPLE / "edge.sql", broker=f"tcp://127.0.0.1:{broker_port}",
                  upstream_host="127.0.0.1", upstream_port=str(upstream.port))
        yield upstream, edge, broker_port
    finally:
        for server in (edge, upstream):
            if server.process is not None and server.process.poll() is None:
                server.kill()
        broker.kill()
        shutil.rmtree(work, ignore_errors=True)


def _publish(broker_port: int, messages: list[str]) -> None:
    for sensor_message in messages:
        sensor, payload = sensor_message.split(" ", 1)
        subprocess.run([_need("mosquitto_pub"), "-p", str(broker_port), "-q", "1",
                        "-t", f"sensors/{sensor}/readings", "-m", payload], check=True)


def _readings(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        sensor = rng.choice(["hall", "roof", "cellar"])
        minute = rng.randrange(0, 5)
        second = rng.randrange(0, 60)
        reading = {"sensor": sensor, "ts": f"2026-12-06 12:{minute:02d}:{second:02d}",
                   "temperature": round(rng.uniform(-5, 35), 2)}
        out.append(f"{sensor} {json.dumps(reading)}")
    return out


def _rows(conn: psycopg.Connection, sql: str) -> list[tuple]:
    """Sorted rows, floats rounded to 9 places: a float average summed in
    another order (the view's partial sums, the recomputation's scan)
    may differ in its last bits."""
    return sorted(
        tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in conn.execute(sql).fetchall()
    )


def _converged(upstream: Freshet, edge: Freshet, expected_readings: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        with edge.connect() as e, upstream.connect() as u:
            count = e.execute("SELECT count(*) FROM readings").fetchone()[0]
            local = _rows(e, "SELECT * FROM sensor_minutes")
            recomputed = _rows(e, "SELECT sensor, window_start, count(*), avg(temperature), max(temperature) "
                                  "FROM TUMBLE(readings, ts, INTERVAL '1 minute') GROUP BY sensor, window_start")
            remote = _rows(u, "SELECT * FROM sensor_minutes")
            hottest = _rows(u, "SELECT * FROM hottest_sensors")
            hottest_oracle = _rows(u, "SELECT sensor, max(max_temperature), sum(readings) FROM sensor_minutes GROUP BY sensor")
        if count == expected_readings and remote == local and local:
            assert local == recomputed
            assert hottest == hottest_oracle
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not converged: {count} of {expected_readings} readings, edge {local}, upstream {remote}")
        time.sleep(0.2)  # Waiting for delivery, bounded by the deadline.


def test_edge_aggregates_flow_upstream(setup: tuple[Freshet, Freshet, int]) -> None:
    upstream, edge, broker_port = setup
    rng = random.Random(11)
    first = _readings(rng, 40)
    _publish(broker_port, first + ['hall {"sensor": "hall", "ts": "not a time", "temperature": 1}'])
    _converged(upstream, edge, 40)
    with edge.connect() as e:
        skipped = e.execute("SELECT errors FROM freshet_sources WHERE name = 'readings'").fetchone()[0]
    assert skipped == 1

    # The edge goes down and comes back: its sink re-sends its aggregates
    # and the new readings follow.
    edge.kill()
    edge.start()
    second = _readings(rng, 25)
    _publish(broker_port, second)
    _converged(upstream, edge, 65)
