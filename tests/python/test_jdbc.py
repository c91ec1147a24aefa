"""A JDBC client: PostgreSQL's own driver (pgjdbc, Debian's
libpostgresql-jdbc-java) runs tests/jdbc/JdbcTranscript.java against the
server under test and against the PostgreSQL oracle; the two transcripts
(results, update counts, generated keys, result-set and database metadata,
SQLSTATEs) must be identical.

Needs ``javac``/``java`` and ``/usr/share/java/postgresql.jar`` (.ci/run
installs them) and ``FRESHET_TEST_PG_URL``.
"""

from __future__ import annotations

import difflib
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg.conninfo
import pytest
from conftest import REPO_ROOT, Server

DRIVER = Path("/usr/share/java/postgresql.jar")
SOURCE = REPO_ROOT / "tests" / "jdbc" / "JdbcTranscript.java"
RUN_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    javac = shutil.which("javac")
    if javac is None or not DRIVER.exists():
        pytest.fail(
            "the JDBC test needs javac and /usr/share/java/postgresql.jar "
            "(apt-get install default-jdk-headless libpostgresql-jdbc-java; "
            ".ci/run installs them)"
        )
    out = tmp_path_factory.mktemp("jdbc-classes")
    subprocess.run(
        [javac, "-cp", str(DRIVER), "-d", str(out), str(SOURCE)],
        check=True,
        timeout=RUN_TIMEOUT_S,
    )
    yield out


def jdbc_url(host: str, port: int, dbname: str, user: str) -> str:
    return f"jdbc:postgresql://{host}:{port}/{dbname}?user={user}"


def transcript(classes: Path, url: str) -> list[str]:
    prefix = f"jt_{secrets.token_hex(4)}"
    done = subprocess.run(
        ["java", "-cp", f"{DRIVER}:{classes}", "JdbcTranscript", url, prefix],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    if done.returncode != 0:
        pytest.fail(
            f"JdbcTranscript failed against {url} (exit {done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}",
            pytrace=False,
        )
    return done.stdout.splitlines()


def test_jdbc_session_matches_postgresql(server: Server, classes: Path) -> None:
    pg_url = os.environ.get("FRESHET_TEST_PG_URL")
    if not pg_url:
        pytest.fail("FRESHET_TEST_PG_URL must point at the PostgreSQL oracle")
    pg = psycopg.conninfo.conninfo_to_dict(pg_url)
    expected = transcript(
        classes,
        jdbc_url(
            str(pg.get("host", "127.0.0.1")),
            int(str(pg.get("port", 5432))),
            str(pg.get("dbname", "postgres")),
            str(pg.get("user", "postgres")),
        ),
    )
    actual = transcript(
        classes, jdbc_url(server.host, server.port, server.dbname, server.user)
    )
    # The transcript covers every section, so an early stop is a failure too.
    assert "== database metadata" in expected
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected, actual, "postgresql", "server under test", lineterm=""
            )
        )
        pytest.fail(f"JDBC transcripts differ:\n{diff}", pytrace=False)
