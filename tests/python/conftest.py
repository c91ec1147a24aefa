"""Fixtures for the Python client tests.

By default the tests run against a Freshet server that this file starts: it
builds nothing itself, it finds the binary at ``$FRESHET_BIN`` or
``<repo>/target/debug/freshet`` (``cargo build --bin freshet`` or any
``cargo test`` builds it) and starts it on a free loopback port with a
temporary data directory::

    freshet serve --data-dir <tmp> --listen 127.0.0.1:<port> --workers 1

With ``FRESHET_PY_URL`` set they run against that server instead, which is how
the tests are validated against PostgreSQL::

    FRESHET_PY_URL=$(scripts/pg-oracle.sh url) .venv/bin/pytest tests/python -q

Markers: ``freshet_only`` tests check Freshet's own defaults (database
``dev``, user ``root``) and are skipped against another server;
``pg_only`` tests check PostgreSQL behaviour Freshet does not promise and are
skipped against Freshet.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import psycopg.conninfo
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_DEADLINE_S = 30.0


@dataclass(frozen=True)
class Server:
    """Where the tests connect: host, port, database and user."""

    host: str
    port: int
    dbname: str
    user: str
    # "freshet" when this file started the server, "external" otherwise.
    kind: str

    @property
    def dsn(self) -> str:
        return (
            f"host={self.host} port={self.port} dbname={self.dbname} user={self.user}"
        )

    def connect(self, **kwargs: object) -> psycopg.Connection:
        return psycopg.connect(self.dsn, connect_timeout=10, **kwargs)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "freshet_only: checks Freshet's own defaults; skipped on other servers",
    )
    config.addinivalue_line(
        "markers", "pg_only: checks PostgreSQL-only behaviour; skipped on Freshet"
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    external = bool(os.environ.get("FRESHET_PY_URL"))
    for item in items:
        if external and "freshet_only" in item.keywords:
            item.add_marker(
                pytest.mark.skip(
                    reason="Freshet-specific; FRESHET_PY_URL points elsewhere"
                )
            )
        if not external and "pg_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-specific"))


# Set when the server failed to start: pytest retries a failed session
# fixture for every test, and each retry would wait out the startup deadline.
_startup_failure: list[str] = []


def _startup_failed(message: str) -> NoReturn:
    _startup_failure.append(message)
    pytest.fail(message, pytrace=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _freshet_binary() -> Path:
    configured = os.environ.get("FRESHET_BIN")
    path = (
        Path(configured) if configured else REPO_ROOT / "target" / "debug" / "freshet"
    )
    if not path.is_file():
        _startup_failed(
            f"freshet binary not found at {path}: build it with `cargo build --bin freshet` "
            "or set FRESHET_BIN (or FRESHET_PY_URL to test another server)"
        )
    return path


def _wait_until_accepting(
    process: subprocess.Popen[bytes], port: int, stderr_path: Path
) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _startup_failed(
                f"freshet exited during startup with {process.returncode}:\n"
                f"{stderr_path.read_text(errors='replace')}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)  # Polling a condition, bounded by the deadline.
    process.kill()
    _startup_failed(
        f"freshet did not accept connections within {STARTUP_DEADLINE_S} s:\n"
        f"{stderr_path.read_text(errors='replace')}"
    )


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    if _startup_failure:
        pytest.fail(f"(not retried) {_startup_failure[0]}", pytrace=False)
    url = os.environ.get("FRESHET_PY_URL")
    if url:
        params = psycopg.conninfo.conninfo_to_dict(url)
        yield Server(
            host=str(params.get("host", "127.0.0.1")),
            port=int(str(params.get("port", 5432))),
            dbname=str(params.get("dbname", "postgres")),
            user=str(params.get("user", "postgres")),
            kind="external",
        )
        return

    binary = _freshet_binary()
    scratch = Path(tempfile.mkdtemp(prefix="freshet-pytest-"))
    data_dir = scratch / "data"
    data_dir.mkdir()
    stderr_path = scratch / "server.stderr"
    port = _free_port()
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [
                str(binary),
                "serve",
                "--data-dir",
                str(data_dir),
                "--listen",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _wait_until_accepting(process, port, stderr_path)
        yield Server(
            host="127.0.0.1", port=port, dbname="dev", user="root", kind="freshet"
        )
    finally:
        process.kill()
        process.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture
def conn(server: Server) -> Iterator[psycopg.Connection]:
    """An autocommit psycopg 3 connection."""
    with server.connect(autocommit=True) as connection:
        yield connection


@pytest.fixture
def table_name(server: Server) -> Iterator[str]:
    """A unique table name, dropped after the test (tests may share a server)."""
    name = f"py_{secrets.token_hex(4)}"
    yield name
    with server.connect(autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {name}")
