"""COPY in PostgreSQL's binary format, with psycopg 3's binary copy (the
format asyncpg's copy_records_to_table uses too)."""

from __future__ import annotations

import datetime
import decimal
import uuid

import psycopg
import psycopg.errors
import pytest
from psycopg.types.json import Jsonb

TYPES = ["int4", "int8", "text", "numeric", "float8", "bool", "date", "timestamptz", "uuid", "bytea", "jsonb", "int4[]"]

ROWS = [
    (
        1,
        2**40,
        "plain",
        decimal.Decimal("12.50"),
        1.25,
        True,
        datetime.date(2024, 2, 29),
        datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc),
        uuid.UUID(int=7),
        b"\x00\x01\xff",
        {"k": [1, "two"]},
        [1, None, 3],
    ),
    (2, -1, "tab\tand\nnewline, \\ back", decimal.Decimal("-0.001"), -0.0, False, None, None, None, b"", None, []),
    (3, None, None, None, None, None, None, None, None, None, None, None),
]


@pytest.fixture
def table(conn: psycopg.Connection, table_name: str) -> str:
    conn.execute(
        f"""CREATE TABLE {table_name} (a int4 PRIMARY KEY, b int8, c text, d numeric(10, 3),
        e float8, f bool, g date, h timestamptz, i uuid, j bytea, k jsonb, l int4[],
        m text DEFAULT 'filled')"""
    )
    return table_name


def load(conn: psycopg.Connection, table: str) -> None:
    columns = "a, b, c, d, e, f, g, h, i, j, k, l"
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(TYPES)
            for row in ROWS:
                copy.write_row(tuple(Jsonb(v) if i == 10 and v is not None else v for i, v in enumerate(row)))


def test_binary_copy_in_then_out(conn: psycopg.Connection, table: str) -> None:
    load(conn, table)
    rows = conn.execute(f"SELECT a, b, c, d, e, f, g, h, i, j, k, l, m FROM {table} ORDER BY a").fetchall()
    assert [r[:12] for r in rows] == [
        tuple(decimal.Decimal("12.500") if v == decimal.Decimal("12.50") else v for v in ROWS[0]),
        tuple(decimal.Decimal("-0.001") if isinstance(v, decimal.Decimal) else v for v in ROWS[1]),
        ROWS[2],
    ]
    assert {r[12] for r in rows} == {"filled"}
    with conn.cursor() as cur:
        with cur.copy(f"COPY (SELECT a, c, l, i FROM {table} ORDER BY a) TO STDOUT (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text", "int4[]", "uuid"])
            out = list(copy.rows())
    assert out == [(r[0], r[2], r[11], r[8]) for r in ROWS]


def test_binary_copy_out_is_postgresql_bytes(conn: psycopg.Connection, table: str) -> None:
    load(conn, table)
    with conn.cursor() as cur:
        with cur.copy(f"COPY (SELECT a, c FROM {table} WHERE a = 3) TO STDOUT (FORMAT BINARY)") as copy:
            data = b"".join(bytes(chunk) for chunk in copy)
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    row = b"\x00\x02" + b"\x00\x00\x00\x04\x00\x00\x00\x03" + b"\xff\xff\xff\xff"
    assert data == header + row + b"\xff\xff"


def test_bad_binary_data_is_22p04_and_loads_nothing(conn: psycopg.Connection, table: str) -> None:
    with pytest.raises(psycopg.errors.BadCopyFileFormat):
        with conn.cursor() as cur:
            with cur.copy(f"COPY {table} (a) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(b"NOT A COPY FILE")
    with pytest.raises(psycopg.errors.BadCopyFileFormat):
        with conn.cursor() as cur:
            with cur.copy(f"COPY {table} (a, c) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4"])
                copy.write_row((1,))
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


def test_binary_mode_refuses_text_options(conn: psycopg.Connection, table: str) -> None:
    with pytest.raises(psycopg.errors.SyntaxError):
        conn.execute(f"COPY {table} FROM STDIN (FORMAT BINARY, DELIMITER ',')")
