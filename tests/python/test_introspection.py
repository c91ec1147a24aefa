"""Catalog introspection as drivers and ORMs do it, compared with PostgreSQL.

The same objects are created in a fresh schema on the server under test and
on the PostgreSQL oracle (``FRESHET_TEST_PG_URL``, set by ``.ci/run``), and
every introspection result must be equal on both: psycopg 3's ``TypeInfo``
and ``EnumInfo`` (and its enum adapters), information_schema queries, and
SQLAlchemy 2's reflection (``inspect(engine).get_*``, enums included).

SQLAlchemy's ``get_pk_constraint``, ``get_indexes`` and
``get_unique_constraints`` call ``unnest()`` and ``generate_subscripts()`` in a
select list, which Freshet cannot run yet (set-returning functions): on
Freshet they are strict expected failures, so they start failing loudly the
day that lands and the marker must go.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import psycopg
import psycopg.conninfo
import pytest
import sqlalchemy
from conftest import Server
from psycopg.types import TypeInfo
from psycopg.types.enum import EnumInfo, register_enum
from sqlalchemy import inspect

ON_FRESHET = not os.environ.get("FRESHET_PY_URL")



@dataclass(frozen=True)
class Side:
    """One server with the test schema: how to reach it and the schema."""

    dsn: str
    url: str
    schema: str


def schema_statements(s: str) -> list[str]:
    return [
        f"CREATE SCHEMA {s}",
        (
            f"CREATE TABLE {s}.authors (id serial PRIMARY KEY, name varchar(80) NOT NULL, "
            "email text UNIQUE, rating numeric(4,2) DEFAULT 0, active boolean NOT NULL "
            "DEFAULT true, joined timestamp, bio text DEFAULT 'n/a', score integer DEFAULT -1)"
        ),
        (
            f"CREATE TABLE {s}.book_tags (book_id integer, tag varchar(20), "
            "weight smallint NOT NULL DEFAULT 1, PRIMARY KEY (book_id, tag))"
        ),
        f"CREATE INDEX {s}_authors_joined ON {s}.authors (joined)",
        f"CREATE VIEW {s}.active_authors AS SELECT id, name FROM {s}.authors WHERE active",
        f"CREATE SEQUENCE {s}.tickets",
        f"CREATE TYPE {s}.mood AS ENUM ('sad', 'ok', 'happy')",
        (
            f"CREATE TABLE {s}.moods (id integer PRIMARY KEY, "
            f"current {s}.mood NOT NULL DEFAULT 'ok', past {s}.mood[])"
        ),
    ]


def oracle_dsn() -> str:
    url = os.environ.get("FRESHET_TEST_PG_URL", "").strip()
    if not url:
        pytest.fail(
            "FRESHET_TEST_PG_URL is not set: these tests compare with a PostgreSQL "
            "oracle. Start one with `scripts/pg-oracle.sh start` and "
            "`export FRESHET_TEST_PG_URL=$(scripts/pg-oracle.sh url)` (.ci/run does both)",
            pytrace=False,
        )
    return url


def same_database(a: str, b: str) -> bool:
    def key(dsn: str) -> tuple[str, str, str]:
        p = psycopg.conninfo.conninfo_to_dict(dsn)
        host = str(p.get("host", "127.0.0.1")).replace("localhost", "127.0.0.1")
        return host, str(p.get("port", 5432)), str(p.get("dbname", ""))

    return key(a) == key(b)


def sqlalchemy_url(dsn: str) -> str:
    p = psycopg.conninfo.conninfo_to_dict(dsn)
    return (
        f"postgresql+psycopg://{p.get('user', 'postgres')}@{p.get('host', '127.0.0.1')}:"
        f"{p.get('port', 5432)}/{p.get('dbname', 'postgres')}"
    )


@pytest.fixture(scope="module")
def sides(server: Server) -> Iterator[tuple[Side, Side]]:
    """(server under test, oracle), each with the objects in a new schema."""
    schema = f"intro_{secrets.token_hex(4)}"
    dsns = [server.dsn, oracle_dsn()]
    # When the oracle is the server under test (validating this harness),
    # create the objects once.
    setup = [server.dsn] if same_database(*dsns) else dsns
    for dsn in setup:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as c:
            for statement in schema_statements(schema):
                c.execute(statement)
    try:
        tested, oracle = (Side(d, sqlalchemy_url(d), schema) for d in dsns)
        yield tested, oracle
    finally:
        for dsn in setup:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as c:
                c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def both(sides: tuple[Side, Side], f: Any) -> tuple[Any, Any]:
    """Runs ``f(side)`` on the tested server and on the oracle."""
    tested, oracle = sides
    return f(tested), f(oracle)


def query(side: Side, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(side.dsn, autocommit=True, connect_timeout=10) as c:
        return c.execute(sql, params).fetchall()


def reflect(side: Side, method: str, *args: object) -> Any:
    engine = sqlalchemy.create_engine(side.url)
    try:
        return getattr(inspect(engine), method)(*args, schema=side.schema)
    finally:
        engine.dispose()


def comparable_columns(columns: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (c["name"], repr(c["type"]), c["nullable"], c["default"], c["autoincrement"])
        for c in columns
    ]


def test_type_info(sides: tuple[Side, Side]) -> None:
    def fetch(side: Side) -> list[object]:
        out: list[object] = []
        with psycopg.connect(side.dsn, autocommit=True, connect_timeout=10) as c:
            for name in [
                "int4",
                "text",
                "varchar",
                "numeric",
                "uuid",
                "jsonb",
                "int4[]",
                "hstore",
            ]:
                info = TypeInfo.fetch(c, name)
                out.append(
                    info
                    and (
                        info.name,
                        info.oid,
                        info.array_oid,
                        info.regtype,
                        info.delimiter,
                    )
                )
        return out

    got, expected = both(sides, fetch)
    assert got == expected


def test_information_schema(sides: tuple[Side, Side]) -> None:
    def run(side: Side) -> dict[str, list[tuple[Any, ...]]]:
        s = side.schema
        return {
            "tables": query(
                side,
                # Not is_insertable_into: PostgreSQL's simple views accept
                # INSERT, Freshet's do not, and each says so.
                "SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_schema = %s ORDER BY table_name",
                s,
            ),
            "columns": query(
                side,
                "SELECT table_name, column_name, ordinal_position, column_default, is_nullable, "
                "data_type, character_maximum_length, numeric_precision, numeric_scale, udt_name "
                "FROM information_schema.columns WHERE table_schema = %s "
                "ORDER BY table_name, ordinal_position",
                s,
            ),
            "constraints": query(
                side,
                "SELECT table_name, constraint_name, constraint_type FROM "
                "information_schema.table_constraints WHERE table_schema = %s "
                "AND constraint_type <> 'CHECK' ORDER BY table_name, constraint_name",
                s,
            ),
            "keys": query(
                side,
                "SELECT table_name, constraint_name, column_name, ordinal_position FROM "
                "information_schema.key_column_usage WHERE table_schema = %s "
                "ORDER BY table_name, constraint_name, ordinal_position",
                s,
            ),
            "sequences": query(
                side,
                "SELECT sequence_name, data_type, start_value, minimum_value, maximum_value, "
                "increment FROM information_schema.sequences WHERE sequence_schema = %s "
                "ORDER BY sequence_name",
                s,
            ),
        }

    got, expected = both(sides, run)
    assert got == expected


def test_catalog_functions(sides: tuple[Side, Side]) -> None:
    def run(side: Side) -> list[tuple[Any, ...]]:
        return query(
            side,
            "SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
            "a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), "
            "pg_catalog.pg_get_serial_sequence(n.nspname || '.' || c.relname, a.attname) "
            "FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
            "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'v') ORDER BY c.relname, a.attnum",
            side.schema,
        )

    got, expected = both(sides, run)
    assert got == expected


@pytest.mark.parametrize(
    "method", ["get_table_names", "get_view_names", "get_sequence_names"]
)
def test_sqlalchemy_names(sides: tuple[Side, Side], method: str) -> None:
    got, expected = both(sides, lambda side: sorted(reflect(side, method)))
    assert got == expected


@pytest.mark.parametrize("table", ["authors", "book_tags", "active_authors", "moods"])
def test_sqlalchemy_columns(sides: tuple[Side, Side], table: str) -> None:
    got, expected = both(
        sides, lambda side: comparable_columns(reflect(side, "get_columns", table))
    )
    assert got == expected


@pytest.mark.parametrize("table", ["authors", "book_tags"])
def test_sqlalchemy_pk_constraint(sides: tuple[Side, Side], table: str) -> None:
    got, expected = both(sides, lambda side: reflect(side, "get_pk_constraint", table))
    assert got == expected


def test_sqlalchemy_indexes(sides: tuple[Side, Side]) -> None:
    got, expected = both(sides, lambda side: reflect(side, "get_indexes", "authors"))
    assert got == expected


def test_sqlalchemy_unique_constraints(sides: tuple[Side, Side]) -> None:
    got, expected = both(
        sides, lambda side: reflect(side, "get_unique_constraints", "authors")
    )
    assert got == expected


def test_sqlalchemy_enums(sides: tuple[Side, Side]) -> None:
    got, expected = both(sides, lambda side: reflect(side, "get_enums"))
    assert got == expected
    assert [e["labels"] for e in got] == [["sad", "ok", "happy"]]


class Mood(Enum):
    sad = "sad"
    ok = "ok"
    happy = "happy"


def test_psycopg_enum_adapters(sides: tuple[Side, Side]) -> None:
    """psycopg 3 fetches the type with ``EnumInfo`` and then sends and reads
    values typed with the enum's OID, in text and in binary."""

    def run(side: Side) -> tuple[Any, ...]:
        with psycopg.connect(side.dsn, connect_timeout=10) as c:
            info = EnumInfo.fetch(c, f"{side.schema}.mood")
            assert info is not None
            register_enum(info, c, Mood)
            c.execute(
                f"INSERT INTO {side.schema}.moods (id, current, past) VALUES (%s, %s, %s)",
                (1, Mood.happy, [Mood.sad, Mood.ok]),
            )
            text = c.execute(
                f"SELECT current, past FROM {side.schema}.moods WHERE id = %s", (1,)
            ).fetchone()
            binary = c.execute(
                f"SELECT current, past FROM {side.schema}.moods WHERE current >= %s",
                (Mood.ok,),
                binary=True,
            ).fetchall()
            c.rollback()
            return info.name, info.labels, info.regtype, text, binary

    got, expected = both(sides, run)
    assert got == expected
    assert got[3] == (Mood.happy, [Mood.sad, Mood.ok])
