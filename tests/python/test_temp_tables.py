"""Temporary tables: private to their session, searched before the
search path, shown as temporary in the catalogs, and gone when the
session ends. Checked against PostgreSQL with ``FRESHET_PY_URL``."""

from __future__ import annotations

import time

import psycopg
import pytest
from conftest import Server
from psycopg import errors


def _temp_relations(conn: psycopg.Connection, name: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_class WHERE relname = %s AND relpersistence = 't'",
        (name,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_temporary_tables_are_private_and_dropped_at_disconnect(
    server: Server, table_name: str
) -> None:
    with server.connect(autocommit=True) as a, server.connect(autocommit=True) as b:
        a.execute(f"CREATE TABLE {table_name} (v text)")
        a.execute(f"INSERT INTO {table_name} VALUES ('permanent')")
        # A's temporary table hides the permanent one, for A only.
        a.execute(f"CREATE TEMP TABLE {table_name} (id serial PRIMARY KEY, v text)")
        a.execute(f"INSERT INTO {table_name} (v) VALUES ('a1'), ('a2')")
        assert a.execute(f"SELECT id, v FROM {table_name} ORDER BY id").fetchall() == [
            (1, "a1"),
            (2, "a2"),
        ]
        assert b.execute(f"SELECT v FROM {table_name}").fetchall() == [("permanent",)]
        # B has a temporary table of the same name of its own.
        b.execute(f"CREATE TEMPORARY TABLE {table_name} (v text)")
        b.execute(f"INSERT INTO {table_name} VALUES ('b1')")
        assert b.execute(f"SELECT v FROM pg_temp.{table_name}").fetchall() == [("b1",)]
        assert a.execute(f"SELECT count(*) FROM {table_name}").fetchone() == (2,)
        # The catalogs show it as temporary and visible to its session.
        row = a.execute(
            "SELECT c.relpersistence, pg_table_is_visible(c.oid), n.nspname LIKE 'pg_temp%%'"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = %s AND c.relpersistence = 't'"
            " AND pg_table_is_visible(c.oid)",
            (table_name,),
        ).fetchall()
        assert row == [("t", True, True)]
        kinds = a.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = %s"
            " ORDER BY table_type",
            (table_name,),
        ).fetchall()
        assert ("LOCAL TEMPORARY",) in kinds and ("BASE TABLE",) in kinds
        assert _temp_relations(a, table_name) == 2
    with server.connect(autocommit=True) as c:
        # Both sessions ended: their temporary tables are gone (PostgreSQL
        # drops them just after the disconnect, so wait for it briefly).
        deadline = time.monotonic() + 10
        while _temp_relations(c, table_name) and time.monotonic() < deadline:
            time.sleep(0.05)  # Polling the catalog, bounded by the deadline.
        assert _temp_relations(c, table_name) == 0
        assert c.execute(f"SELECT v FROM {table_name}").fetchall() == [("permanent",)]


def test_temporary_relations_cannot_go_elsewhere(conn: psycopg.Connection) -> None:
    with pytest.raises(errors.InvalidTableDefinition):
        conn.execute("CREATE TEMP TABLE public.tmp_misplaced_x (a int)")
    conn.execute("CREATE TEMP TABLE tmp_seq_x (a int)")
    conn.execute("CREATE TEMP SEQUENCE tmp_seq_x_s")
    conn.execute("CREATE TEMP VIEW tmp_view_x AS SELECT a FROM tmp_seq_x")
    assert conn.execute("SELECT nextval('tmp_seq_x_s')").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM tmp_view_x").fetchone() == (0,)
