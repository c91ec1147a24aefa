"""The extended protocol's implicit transaction: outside a transaction block,
the statements a client executes before one Sync commit or fail together
(psycopg 3's pipeline mode and its executemany send many Bind/Execute
pairs and a single Sync)."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest
from conftest import Server


def ids(conn: psycopg.Connection, table: str) -> list[int]:
    return [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY id")]


@pytest.fixture
def table(conn: psycopg.Connection, table_name: str) -> str:
    conn.execute(f"CREATE TABLE {table_name} (id int PRIMARY KEY)")
    return table_name


def test_statements_before_sync_commit_together(
    server: Server, conn: psycopg.Connection, table: str
) -> None:
    with conn.pipeline():
        for i in (1, 2, 3):
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (i,))
        # The pipeline's own statements see each other's writes.
        seen = conn.execute(f"SELECT count(*) FROM {table}")
    assert seen.fetchone() == (3,)
    with psycopg.connect(server.dsn, autocommit=True) as other:
        assert ids(other, table) == [1, 2, 3]


def test_a_failing_statement_undoes_the_ones_before_its_sync(
    conn: psycopg.Connection, table: str
) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation):
        with conn.pipeline():
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (1,))
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (2,))
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (1,))
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (4,))
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert ids(conn, table) == []


def test_each_sync_ends_its_own_transaction(
    conn: psycopg.Connection, table: str
) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation):
        with conn.pipeline() as pipeline:
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (1,))
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (2,))
            pipeline.sync()
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (3,))
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (2,))
    assert ids(conn, table) == [1, 2]


def test_executemany_is_all_or_nothing(conn: psycopg.Connection, table: str) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation):
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} VALUES (%s)", [(1,), (2,), (2,), (3,)]
            )
    assert ids(conn, table) == []
    with conn.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} VALUES (%s)", [(5,), (6,)])
    assert ids(conn, table) == [5, 6]


def test_a_check_failure_in_a_later_statement_undoes_ddl_too(
    conn: psycopg.Connection, table_name: str
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        with conn.pipeline():
            conn.execute(f"CREATE TABLE {table_name} (id int CHECK (id > 0))")
            conn.execute(f"INSERT INTO {table_name} VALUES (%s)", (1,))
            conn.execute(f"INSERT INTO {table_name} VALUES (%s)", (-1,))
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table_name,))
    assert exists.fetchone() == (False,)


def test_pipeline_inside_a_transaction_block(
    conn: psycopg.Connection, table: str
) -> None:
    # Inside BEGIN ... COMMIT a Sync does not commit: the block does.
    conn.autocommit = False
    with conn.pipeline() as pipeline:
        conn.execute(f"INSERT INTO {table} VALUES (%s)", (1,))
        pipeline.sync()
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.execute(f"INSERT INTO {table} VALUES (%s)", (2,))
    conn.rollback()
    conn.autocommit = True
    assert ids(conn, table) == []
