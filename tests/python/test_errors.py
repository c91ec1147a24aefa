"""Server errors map to the right psycopg exception classes via SQLSTATE."""

from __future__ import annotations

import psycopg
import psycopg2
import psycopg2.errors
import pytest
from conftest import Server
from psycopg import errors


@pytest.mark.parametrize(
    ("sql", "exception", "sqlstate"),
    [
        ("SELECT 1 / 0", errors.DivisionByZero, "22012"),
        ("SELECT 2147483647 + 1", errors.NumericValueOutOfRange, "22003"),
        ("SELECT 'abc'::int", errors.InvalidTextRepresentation, "22P02"),
        ("SELECT * FROM no_such_table_x", errors.UndefinedTable, "42P01"),
        (
            "SELECT no_such_column_x FROM (SELECT 1 AS a) t",
            errors.UndefinedColumn,
            "42703",
        ),
        ("SELEC 1", errors.SyntaxError, "42601"),
        ("SELECT no_such_function_x(1)", errors.UndefinedFunction, "42883"),
        ("CREATE TABLE bad_type_x (a no_such_type_x)", errors.UndefinedObject, "42704"),
    ],
)
def test_error_classes(
    conn: psycopg.Connection, sql: str, exception: type[Exception], sqlstate: str
) -> None:
    with pytest.raises(exception) as failure:
        conn.execute(sql)
    error = failure.value
    assert isinstance(error, psycopg.Error)
    assert error.sqlstate == sqlstate
    assert error.diag.severity == "ERROR"
    assert error.diag.message_primary
    # The session is usable after an error in autocommit mode.
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_constraint_violations(conn: psycopg.Connection, table_name: str) -> None:
    conn.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY, name text NOT NULL)")
    conn.execute(f"INSERT INTO {table_name} VALUES (1, 'one')")
    with pytest.raises(errors.UniqueViolation) as failure:
        conn.execute(f"INSERT INTO {table_name} VALUES (1, 'again')")
    assert failure.value.sqlstate == "23505"
    with pytest.raises(errors.NotNullViolation) as not_null:
        conn.execute(f"INSERT INTO {table_name} VALUES (2, NULL)")
    assert not_null.value.sqlstate == "23502"
    with pytest.raises(errors.DuplicateTable):
        conn.execute(f"CREATE TABLE {table_name} (id int)")
    assert conn.execute(f"SELECT count(*) FROM {table_name}").fetchone() == (1,)


def test_errors_with_parameters(conn: psycopg.Connection) -> None:
    with pytest.raises(errors.DivisionByZero):
        conn.execute("SELECT %s::int / %s::int", (1, 0))
    with pytest.raises(errors.InvalidTextRepresentation):
        conn.execute("SELECT %s::int", ("nope",))


def test_psycopg2_error_classes(server: Server) -> None:
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
            with pytest.raises(psycopg2.errors.DivisionByZero) as failure:
                cursor.execute("SELECT 1 / 0")
            assert failure.value.pgcode == "22012"
            with pytest.raises(psycopg2.errors.UndefinedTable):
                cursor.execute("SELECT * FROM no_such_table_x")
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        connection.close()


@pytest.mark.freshet_only
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'a' COLLATE \"sv-x-icu\"",
        'CREATE TABLE collated_x (a text COLLATE "und-x-icu")',
        "SELECT 'b' < 'a' COLLATE \"en_US\"",
    ],
)
def test_collations_freshet_does_not_implement_are_refused(
    conn: psycopg.Connection, sql: str
) -> None:
    """Text compares by code point; a collation that orders otherwise is
    refused with 0A000 naming it, never silently ignored."""
    with pytest.raises(errors.FeatureNotSupported) as failure:
        conn.execute(sql)
    assert "collation" in str(failure.value)
    assert failure.value.diag.message_hint


@pytest.mark.freshet_only
def test_collation_in_alter_column_type_is_checked(
    conn: psycopg.Connection, table_name: str
) -> None:
    conn.execute(f"CREATE TABLE {table_name} (a text)")
    conn.execute(f'ALTER TABLE {table_name} ALTER COLUMN a TYPE varchar(9) COLLATE "C"')
    with pytest.raises(errors.FeatureNotSupported) as failure:
        conn.execute(
            f'ALTER TABLE {table_name} ALTER COLUMN a TYPE text COLLATE "sv-x-icu"'
        )
    assert "sv-x-icu" in str(failure.value)


@pytest.mark.parametrize("collation", ['"C"', '"POSIX"', "ucs_basic", 'pg_catalog."C"'])
def test_code_point_collations_are_accepted(
    conn: psycopg.Connection, collation: str
) -> None:
    rows = conn.execute(
        f"SELECT x FROM (VALUES ('b'), ('B'), ('a')) t(x) ORDER BY x COLLATE {collation}"
    ).fetchall()
    assert rows == [("B",), ("a",), ("b",)]


@pytest.mark.freshet_only
@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("CREATE TABLE part_x (a int) PARTITION BY LIST (a)", "partitioned"),
        ("CREATE TABLE inh_x (b int) INHERITS (pg_class)", "INHERITS"),
        ("CREATE EXTENSION hstore", "hstore"),
    ],
)
def test_table_features_freshet_lacks_are_refused(
    conn: psycopg.Connection, sql: str, named: str
) -> None:
    """Refused with 0A000 naming the feature, never accepted and ignored."""
    with pytest.raises(errors.FeatureNotSupported) as failure:
        conn.execute(sql)
    assert named in str(failure.value)
