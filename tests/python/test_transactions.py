"""Transactions with psycopg 3 (conn.transaction(), savepoints, rollback) and
psycopg2 (implicit transactions, commit/rollback)."""

from __future__ import annotations

import psycopg
import psycopg2
import pytest
from conftest import Server


class Boom(Exception):
    pass


def count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_transaction_block_commits(conn: psycopg.Connection, table_name: str) -> None:
    conn.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY)")
    with conn.transaction():
        conn.execute(f"INSERT INTO {table_name} VALUES (1), (2)")
        assert count(conn, table_name) == 2
    assert count(conn, table_name) == 2


def test_exception_rolls_back(conn: psycopg.Connection, table_name: str) -> None:
    conn.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY)")
    with pytest.raises(Boom), conn.transaction():
        conn.execute(f"INSERT INTO {table_name} VALUES (1)")
        raise Boom
    assert count(conn, table_name) == 0


def test_nested_transaction_is_a_savepoint(
    conn: psycopg.Connection, table_name: str
) -> None:
    conn.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY)")
    with conn.transaction():
        conn.execute(f"INSERT INTO {table_name} VALUES (1)")
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute(f"INSERT INTO {table_name} VALUES (2)")
            conn.execute(f"INSERT INTO {table_name} VALUES (1)")
        conn.execute(f"INSERT INTO {table_name} VALUES (3)")
    rows = conn.execute(f"SELECT id FROM {table_name} ORDER BY id").fetchall()
    assert rows == [(1,), (3,)]


def test_explicit_rollback_without_autocommit(server: Server, table_name: str) -> None:
    with server.connect(autocommit=True) as setup:
        setup.execute(f"CREATE TABLE {table_name} (id int)")
    with server.connect() as connection:
        connection.execute(f"INSERT INTO {table_name} VALUES (1)")
        assert (
            connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        )
        connection.rollback()
        connection.execute(f"INSERT INTO {table_name} VALUES (2)")
        connection.commit()
        assert connection.execute(f"SELECT id FROM {table_name}").fetchall() == [(2,)]


def test_error_aborts_the_transaction(server: Server, table_name: str) -> None:
    with server.connect(autocommit=True) as setup:
        setup.execute(f"CREATE TABLE {table_name} (id int)")
    with server.connect() as connection:
        connection.execute(f"INSERT INTO {table_name} VALUES (1)")
        with pytest.raises(psycopg.errors.DivisionByZero):
            connection.execute("SELECT 1 / 0")
        assert (
            connection.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        )
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            connection.execute("SELECT 1")
        connection.rollback()
        assert connection.execute(f"SELECT count(*) FROM {table_name}").fetchone() == (
            0,
        )


def test_uncommitted_rows_are_invisible_to_others(
    server: Server, table_name: str
) -> None:
    with server.connect(autocommit=True) as reader, server.connect() as writer:
        reader.execute(f"CREATE TABLE {table_name} (id int)")
        writer.execute(f"INSERT INTO {table_name} VALUES (1)")
        assert count(reader, table_name) == 0
        writer.commit()
        assert count(reader, table_name) == 1


def test_psycopg2_commit_and_rollback(server: Server, table_name: str) -> None:
    connection = psycopg2.connect(
        host=server.host,
        port=server.port,
        dbname=server.dbname,
        user=server.user,
        connect_timeout=10,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY)")
            connection.commit()
            cursor.execute(f"INSERT INTO {table_name} VALUES (1)")
            connection.rollback()
            cursor.execute(f"INSERT INTO {table_name} VALUES (2)")
            connection.commit()
            with pytest.raises(psycopg2.errors.UniqueViolation):
                cursor.execute(f"INSERT INTO {table_name} VALUES (2)")
            connection.rollback()
            cursor.execute(f"SELECT id FROM {table_name}")
            assert cursor.fetchall() == [(2,)]
    finally:
        connection.close()


def test_server_side_cursors_are_listed_in_pg_cursors(server: Server) -> None:
    """psycopg's named cursors are DECLAREd on the server; pg_cursors shows
    them (Django's server-side cursor tests read it) until they close."""
    with server.connect() as conn:
        cur = conn.cursor(name="_django_curs_test")
        cur.execute("SELECT 1 AS x UNION ALL SELECT 2")
        assert cur.fetchone() == (1,)
        rows = conn.execute(
            "SELECT name, statement, is_holdable, is_binary, is_scrollable,"
            " creation_time >= now() FROM pg_cursors"
        ).fetchall()
        assert rows == [
            (
                "_django_curs_test",
                'DECLARE "_django_curs_test" CURSOR FOR SELECT 1 AS x UNION ALL SELECT 2',
                False,
                False,
                False,
                True,
            )
        ]
        cur.close()
        assert conn.execute("SELECT count(*) FROM pg_cursors").fetchone() == (0,)
