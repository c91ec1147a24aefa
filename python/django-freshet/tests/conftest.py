"""Fixtures for the django-freshet smoke tests.

The tests start their own Freshet server: the binary is ``$FRESHET_BIN``, else
``<repo>/target/release/freshet``, else ``<repo>/target/debug/freshet``
(``cargo build --bin freshet`` builds the latter), on a free loopback port
with a temporary data directory. ``FRESHET_DJANGO_URL`` points them at a
running server instead (``postgresql://root@127.0.0.1:4566/dev``), which is
also how they are checked against PostgreSQL with Django's own backend::

    FRESHET_DJANGO_URL=$(scripts/pg-oracle.sh url) \
        FRESHET_DJANGO_ENGINE=django.db.backends.postgresql \
        .venv/bin/pytest python/django-freshet/tests
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg.conninfo
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
STARTUP_DEADLINE_S = 30.0
COMMAND_TIMEOUT_S = 120


@dataclass(frozen=True)
class Server:
    """Where the Django project connects."""

    host: str
    port: int
    dbname: str
    user: str
    password: str
    engine: str
    # "freshet" when this file started the server, "external" otherwise.
    kind: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _freshet_binary() -> Path:
    configured = os.environ.get("FRESHET_BIN")
    if configured:
        candidates = [Path(configured)]
    else:
        candidates = [
            REPO_ROOT / "target" / "release" / "freshet",
            REPO_ROOT / "target" / "debug" / "freshet",
        ]
    for path in candidates:
        if path.is_file():
            return path
    pytest.fail(
        f"no freshet binary at {', '.join(map(str, candidates))}: build it with "
        "`cargo build --bin freshet`, or set FRESHET_BIN or FRESHET_DJANGO_URL",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    url = os.environ.get("FRESHET_DJANGO_URL")
    if url:
        params = psycopg.conninfo.conninfo_to_dict(url)
        yield Server(
            host=str(params.get("host", "127.0.0.1")),
            port=int(str(params.get("port", 5432))),
            dbname=str(params.get("dbname", "postgres")),
            user=str(params.get("user", "postgres")),
            password=str(params.get("password", "")),
            engine=os.environ.get("FRESHET_DJANGO_ENGINE", "django_freshet"),
            kind="external",
        )
        return

    binary = _freshet_binary()
    scratch = Path(tempfile.mkdtemp(prefix="django-freshet-pytest-"))
    data_dir = scratch / "data"
    data_dir.mkdir()
    stderr_path = scratch / "server.stderr"
    port = free_port()
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [
                str(binary),
                "serve",
                "--data-dir",
                str(data_dir),
                "--listen",
                f"127.0.0.1:{port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"freshet exited during startup with {process.returncode}:\n"
                    + stderr_path.read_text(errors="replace"),
                    pytrace=False,
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"freshet did not accept connections in {STARTUP_DEADLINE_S} s",
                        pytrace=False,
                    )
                time.sleep(0.02)  # Polling the listener, bounded by the deadline.
        yield Server(
            host="127.0.0.1",
            port=port,
            dbname="dev",
            user="root",
            password="",
            engine="django_freshet",
            kind="freshet",
        )
    finally:
        process.kill()
        process.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


def admin_connect(server: Server, dbname: str | None = None) -> psycopg.Connection:
    """An autocommit psycopg connection to ``server`` (its own database by
    default)."""
    return psycopg.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password or None,
        dbname=dbname or server.dbname,
        autocommit=True,
        connect_timeout=10,
    )


@contextlib.contextmanager
def scratch_database(server: Server, prefix: str) -> Iterator[str]:
    """A database of its own (CREATE DATABASE), dropped afterwards."""
    dbname = f"{prefix}_{secrets.token_hex(4)}"
    with admin_connect(server) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    try:
        yield dbname
    finally:
        with admin_connect(server) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname}")


def database_settings(server: Server, dbname: str) -> dict[str, str]:
    """A ``DATABASES`` entry for ``dbname`` on ``server``."""
    return {
        "ENGINE": server.engine,
        "NAME": dbname,
        "HOST": server.host,
        "PORT": str(server.port),
        "USER": server.user,
        "PASSWORD": server.password,
    }


def write_manage_py(root: Path) -> None:
    (root / "manage.py").write_text(
        "import sys\nfrom django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )


def run_python(
    project: Path,
    settings_module: str,
    *args: str,
    env: dict[str, str] | None = None,
) -> str:
    """Runs ``python *args`` in ``project`` with Django configured by
    ``settings_module`` (in a subprocess, so settings never leak into
    pytest) and ``env`` added to the environment; fails the test on a
    non-zero exit; returns stdout."""
    env = {
        **os.environ,
        **(env or {}),
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": os.pathsep.join([str(project), str(PACKAGE_ROOT)]),
    }
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited with {completed.returncode}:\n"
            f"{completed.stdout}\n{completed.stderr}",
            pytrace=False,
        )
    return completed.stdout
