"""asyncpg, the asyncio driver with its own protocol implementation (binary
results, named prepared statements, type introspection, binary COPY): the
same session runs against the server under test and against the
PostgreSQL oracle (``FRESHET_TEST_PG_URL``) and must observe the same."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import json
import os
import secrets
import uuid

import asyncpg
import psycopg.conninfo
import pytest
from conftest import Server


async def session(dsn: str, table: str) -> list[str]:
    seen: list[str] = []
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f"CREATE TABLE {table} (id serial PRIMARY KEY, name text, n numeric(10, 2), "
            "ts timestamptz, d date, u uuid, j jsonb, arr int[], b bytea, f float8, flag bool)"
        )
        await conn.executemany(
            f"INSERT INTO {table} (name, n, ts, d, u, j, arr, b, f, flag) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            [
                (
                    "a",
                    decimal.Decimal("1.50"),
                    datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                    datetime.date(2024, 1, 2),
                    uuid.UUID(int=5),
                    json.dumps({"k": 1}),
                    [1, 2, None],
                    b"\x00\x01",
                    1.25,
                    True,
                ),
                ("b", None, None, None, None, None, None, None, None, None),
            ],
        )
        for row in await conn.fetch(f"SELECT * FROM {table} ORDER BY id"):
            seen.append(repr(dict(row)))
        seen.append(repr(await conn.fetchval(f"SELECT count(*) FROM {table} WHERE name = ANY($1::text[])", ["a", "b"])))
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} (name) VALUES ('c')")
        try:
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'dup')")
        except asyncpg.UniqueViolationError as e:
            seen.append(f"unique violation {e.sqlstate}")
        async with conn.transaction():
            cursor = await conn.cursor("SELECT g FROM generate_series(1, 10) g")
            seen.append(repr(await cursor.fetch(3)))
        statement = await conn.prepare("SELECT $1::int + 1 AS answer")
        seen.append(repr((await statement.fetchval(41), [a.name for a in statement.get_attributes()])))
        seen.append(repr(await conn.fetchrow(
            "SELECT 1::int2, 2::int8, 'x'::varchar(3), '1 day'::interval, '12:00'::time, 'a'::char(2), '{\"a\": [1]}'::json"
        )))
        await conn.copy_records_to_table(table, records=[(100, "copied"), (101, None)], columns=["id", "name"])
        seen.append(repr(await conn.fetch(f"SELECT id, name FROM {table} WHERE id >= 100 ORDER BY id")))
        try:
            await conn.execute("SELECT 1 / 0")
        except asyncpg.DivisionByZeroError as e:
            seen.append(f"division by zero {e.sqlstate}")
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()
    return seen


def test_asyncpg_session_matches_postgresql(server: Server) -> None:
    pg_url = os.environ.get("FRESHET_TEST_PG_URL")
    if not pg_url:
        pytest.fail("FRESHET_TEST_PG_URL must point at the PostgreSQL oracle")
    pg = psycopg.conninfo.conninfo_to_dict(pg_url)
    pg_dsn = f"postgresql://{pg.get('user', 'postgres')}@{pg.get('host', '127.0.0.1')}:{pg.get('port', 5432)}/{pg.get('dbname', 'postgres')}"
    dsn = f"postgresql://{server.user}@{server.host}:{server.port}/{server.dbname}"
    table = f"apg_{secrets.token_hex(4)}"
    expected = asyncio.run(session(pg_dsn, table))
    actual = asyncio.run(session(dsn, table))
    assert actual == expected
