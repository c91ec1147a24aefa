"""Transaction isolation levels and access modes, with two connections:
READ COMMITTED sees each commit at the next statement, REPEATABLE READ keeps
its first snapshot, SERIALIZABLE refuses write skew, READ ONLY refuses
writes; and the levels are reported as set."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest
from conftest import Server

LEVELS = ["read uncommitted", "read committed", "repeatable read", "serializable"]


def scalar(conn: psycopg.Connection, sql: str) -> object:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def table(server: Server, table_name: str) -> str:
    with server.connect(autocommit=True) as c:
        c.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY, on_call boolean, n int)")
        c.execute(f"INSERT INTO {table_name} VALUES (1, true, 0), (2, true, 0)")
    return table_name


@pytest.mark.parametrize("level", LEVELS)
def test_levels_are_reported_as_set(server: Server, level: str) -> None:
    with server.connect(autocommit=True) as c:
        c.execute(f"BEGIN ISOLATION LEVEL {level}")
        assert scalar(c, "SHOW transaction_isolation") == level
        assert scalar(c, "SELECT current_setting('transaction_isolation')") == level
        c.execute("COMMIT")
        c.execute("BEGIN")
        c.execute(f"SET TRANSACTION ISOLATION LEVEL {level}")
        assert scalar(c, "SHOW transaction isolation level") == level
        c.execute("COMMIT")
        c.execute(f"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {level}")
        assert scalar(c, "SHOW default_transaction_isolation") == level
        assert scalar(c, "SHOW transaction_isolation") == level
        c.execute("BEGIN")
        assert scalar(c, "SHOW transaction_isolation") == level


def test_psycopg_isolation_level_attribute(server: Server) -> None:
    with server.connect() as c:
        c.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
        assert scalar(c, "SHOW transaction_isolation") == "serializable"
        c.rollback()
        c.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        assert scalar(c, "SHOW transaction_isolation") == "repeatable read"


def test_level_cannot_change_after_the_first_query(server: Server) -> None:
    with server.connect(autocommit=True) as c:
        c.execute("BEGIN")
        c.execute("SELECT 1")
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            c.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        c.execute("ROLLBACK")


def test_read_committed_sees_each_commit(server: Server, table: str) -> None:
    with server.connect(autocommit=True) as a, server.connect(autocommit=True) as b:
        a.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        assert scalar(a, f"SELECT count(*) FROM {table}") == 2
        b.execute(f"INSERT INTO {table} VALUES (3, true, 0)")
        assert scalar(a, f"SELECT count(*) FROM {table}") == 3
        a.execute("COMMIT")


def test_repeatable_read_keeps_its_snapshot(server: Server, table: str) -> None:
    with server.connect(autocommit=True) as a, server.connect(autocommit=True) as b:
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert scalar(a, f"SELECT count(*) FROM {table}") == 2
        b.execute(f"INSERT INTO {table} VALUES (3, true, 0)")
        b.execute(f"UPDATE {table} SET n = 5 WHERE id = 1")
        assert scalar(a, f"SELECT count(*) FROM {table}") == 2
        assert scalar(a, f"SELECT n FROM {table} WHERE id = 1") == 0
        a.execute("COMMIT")
        assert scalar(a, f"SELECT count(*) FROM {table}") == 3


def test_repeatable_read_update_of_a_changed_row_fails(server: Server, table: str) -> None:
    with server.connect(autocommit=True) as a, server.connect(autocommit=True) as b:
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert scalar(a, f"SELECT n FROM {table} WHERE id = 1") == 0
        b.execute(f"UPDATE {table} SET n = n + 1 WHERE id = 1")
        # PostgreSQL fails the UPDATE itself; Freshet may fail at COMMIT.
        with pytest.raises(psycopg.errors.SerializationFailure):
            a.execute(f"UPDATE {table} SET n = n + 10 WHERE id = 1")
            a.execute("COMMIT")
        a.execute("ROLLBACK")
        assert scalar(a, f"SELECT n FROM {table} WHERE id = 1") == 1


def test_serializable_refuses_write_skew(server: Server, table: str) -> None:
    # Two doctors on call; each transaction takes one off call if the other
    # is still on. Serially, one would see a single doctor and do nothing.
    with server.connect(autocommit=True) as a, server.connect(autocommit=True) as b:
        a.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        b.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        assert scalar(a, f"SELECT count(*) FROM {table} WHERE on_call") == 2
        assert scalar(b, f"SELECT count(*) FROM {table} WHERE on_call") == 2
        a.execute(f"UPDATE {table} SET on_call = false WHERE id = 1")
        b.execute(f"UPDATE {table} SET on_call = false WHERE id = 2")
        a.execute("COMMIT")
        with pytest.raises(psycopg.errors.SerializationFailure):
            b.execute("COMMIT")
        assert scalar(a, f"SELECT count(*) FROM {table} WHERE on_call") == 1


def test_serializable_without_conflict_commits(server: Server, table: str, table_name: str) -> None:
    with server.connect(autocommit=True) as a, server.connect(autocommit=True) as b:
        a.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        assert scalar(a, f"SELECT n FROM {table} WHERE id = 1") == 0
        a.execute(f"UPDATE {table} SET n = 7 WHERE id = 1")
        b.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        assert scalar(b, "SELECT 1") == 1
        b.execute("COMMIT")
        a.execute("COMMIT")
        assert scalar(a, f"SELECT n FROM {table} WHERE id = 1") == 7


def test_read_only_transactions_refuse_writes(server: Server, table: str) -> None:
    with server.connect(autocommit=True) as c:
        c.execute("BEGIN READ ONLY")
        assert scalar(c, "SHOW transaction_read_only") == "on"
        assert scalar(c, f"SELECT count(*) FROM {table}") == 2
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute(f"INSERT INTO {table} VALUES (9, false, 0)")
        c.execute("ROLLBACK")
        c.execute("BEGIN")
        c.execute("SET TRANSACTION READ ONLY")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute(f"UPDATE {table} SET n = 1")
        c.execute("ROLLBACK")
        assert scalar(c, "SHOW transaction_read_only") == "off"
