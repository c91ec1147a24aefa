"""Parameters: psycopg 3 binds on the server (extended protocol), in text and
binary format; psycopg2 interpolates on the client (simple protocol)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import psycopg
import psycopg2
from conftest import Server


def test_server_side_binding_text(conn: psycopg.Connection) -> None:
    assert conn.execute("SELECT %s::int + 1", (41,)).fetchone() == (42,)
    assert conn.execute("SELECT %s || '!'", ("hi",)).fetchone() == ("hi!",)
    assert conn.execute("SELECT %s::int IS NULL", (None,)).fetchone() == (True,)


def test_server_side_binding_binary(conn: psycopg.Connection) -> None:
    with conn.cursor(binary=True) as cursor:
        cursor.execute(
            "SELECT %b::bigint * 2, %b::text, %b::float8 / 2", (21, "bin", 3.0)
        )
        assert cursor.fetchone() == (42, "bin", 1.5)


def test_explicit_text_and_binary_placeholders(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT %t::int, %b::int, %s::int", (1, 2, 3)).fetchone()
    assert row == (1, 2, 3)


def test_named_parameters(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT %(a)s::int + %(b)s::int, %(a)s::int", {"a": 1, "b": 2}
    ).fetchone()
    assert row == (3, 1)


def test_untyped_parameters_are_inferred(
    conn: psycopg.Connection, table_name: str
) -> None:
    conn.execute(
        f"CREATE TABLE {table_name} (id int, name text, price numeric(10,2), day date)"
    )
    conn.execute(
        f"INSERT INTO {table_name} (id, name, price, day) VALUES (%s, %s, %s, %s)",
        (1, "one", Decimal("9.99"), datetime.date(2020, 6, 25)),
    )
    rows = conn.execute(
        f"SELECT id, name, price, day FROM {table_name} WHERE id = %s", (1,)
    ).fetchall()
    assert rows == [(1, "one", Decimal("9.99"), datetime.date(2020, 6, 25))]


def test_prepared_statements_are_reused(
    conn: psycopg.Connection, table_name: str
) -> None:
    conn.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY, v text)")
    for i in range(10):
        # prepare=True makes psycopg use a named prepared statement.
        conn.execute(
            f"INSERT INTO {table_name} VALUES (%s, %s)", (i, f"v{i}"), prepare=True
        )
    for i in range(10):
        assert conn.execute(
            f"SELECT v FROM {table_name} WHERE id = %s", (i,), prepare=True
        ).fetchone() == (f"v{i}",)


def test_executemany_and_rowcount(conn: psycopg.Connection, table_name: str) -> None:
    conn.execute(f"CREATE TABLE {table_name} (id int, v text)")
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table_name} VALUES (%s, %s)",
            [(i, str(i)) for i in range(25)],
        )
        cursor.execute(f"UPDATE {table_name} SET v = v || '!' WHERE id < %s", (10,))
        assert cursor.rowcount == 10
        cursor.execute(f"DELETE FROM {table_name} WHERE id >= %s", (20,))
        assert cursor.rowcount == 5
    assert conn.execute(f"SELECT count(*) FROM {table_name}").fetchone() == (20,)


def test_server_cursor_fetches_in_batches(
    conn: psycopg.Connection, table_name: str
) -> None:
    # A named cursor is DECLARE ... CURSOR + FETCH: what Django's
    # QuerySet.iterator() uses.
    conn.execute(f"CREATE TABLE {table_name} (n int)")
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table_name} VALUES (%s)", [(i,) for i in range(1, 51)]
        )
    with conn.transaction(), conn.cursor(name="batches") as cursor:
        cursor.itersize = 7
        cursor.execute(f"SELECT n FROM {table_name} ORDER BY n")
        assert [row[0] for row in cursor] == list(range(1, 51))


def test_psycopg2_client_side_interpolation(server: Server, table_name: str) -> None:
    connection = psycopg2.connect(
        host=server.host,
        port=server.port,
        dbname=server.dbname,
        user=server.user,
        connect_timeout=10,
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {table_name} (id int, name text, price float8)"
            )
            cursor.execute(
                f"INSERT INTO {table_name} VALUES (%s, %s, %s), (%s, %s, %s)",
                (1, "it's", 1.5, 2, None, None),
            )
            cursor.execute(f"SELECT id, name, price FROM {table_name} ORDER BY id")
            assert cursor.fetchall() == [(1, "it's", 1.5), (2, None, None)]
    finally:
        connection.close()
