"""The psql command-line client: a query, \\dt and \\d."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
from conftest import Server

PSQL_TIMEOUT_S = 60


def psql(server: Server, *args: str) -> str:
    binary = shutil.which("psql")
    if binary is None:
        pytest.fail(
            "psql not found (apt-get install -y postgresql-client)", pytrace=False
        )
    env = {
        **os.environ,
        "PGCONNECT_TIMEOUT": "10",
        "PAGER": "",
        "PSQL_PAGER": "",
        "PGTZ": "UTC",
    }
    result = subprocess.run(
        [
            binary,
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-d",
            server.dbname,
            "-U",
            server.user,
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=PSQL_TIMEOUT_S,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, (
        f"psql {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
    )
    return result.stdout


def test_psql_select_1(server: Server) -> None:
    out = psql(server, "-c", "SELECT 1")
    assert "(1 row)" in out
    assert [line.strip() for line in out.splitlines()][2] == "1"


def test_psql_unaligned_query(server: Server) -> None:
    out = psql(server, "-At", "-c", "SELECT 1 AS a, 'two' AS b")
    assert out.strip() == "1|two"


def test_psql_dt_lists_tables(
    server: Server, conn: psycopg.Connection, table_name: str
) -> None:
    conn.execute(f"CREATE TABLE {table_name} (id int)")
    out = psql(server, "-c", r"\dt")
    assert table_name in out
    assert "table" in out


@pytest.fixture
def orders(conn: psycopg.Connection) -> Iterator[str]:
    """The tutorial's table, under its own name (dropped before and after)."""
    conn.execute("DROP TABLE IF EXISTS orders")
    conn.execute(
        "CREATE TABLE orders (orderid int, itemid int, qty int, price float, "
        "dt date, state varchar)"
    )
    yield "orders"
    conn.execute("DROP TABLE IF EXISTS orders")


def test_psql_describe_orders(server: Server, orders: str) -> None:
    out = psql(server, "-c", rf"\d {orders}")
    assert orders in out
    expected = {
        "orderid": "integer",
        "itemid": "integer",
        "qty": "integer",
        "price": "double precision",
        "dt": "date",
        "state": "character varying",
    }
    lines = {
        line.split("|")[0].strip(): line for line in out.splitlines() if "|" in line
    }
    for column, sql_type in expected.items():
        assert column in lines, f"column {column} missing from \\d output:\n{out}"
        assert lines[column].split("|")[1].strip() == sql_type, out


def test_psql_script_with_errors_stops(server: Server) -> None:
    binary = shutil.which("psql")
    assert binary is not None
    result = subprocess.run(
        [
            binary,
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-d",
            server.dbname,
            "-U",
            server.user,
            "-c",
            "SELECT 1 / 0",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=PSQL_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert "division by zero" in result.stderr
