"""Values round-trip through a table column with the types drivers map them to,
in text and in binary format."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import psycopg
import pytest
from psycopg.types.json import Json, Jsonb

UTC = datetime.UTC
PLUS2 = datetime.timezone(datetime.timedelta(hours=2))

# (SQL column type, Python value, expected value read back)
CASES: list[tuple[str, object, object]] = [
    ("boolean", True, True),
    ("boolean", False, False),
    ("smallint", -32768, -32768),
    ("integer", 2147483647, 2147483647),
    ("bigint", -9223372036854775808, -9223372036854775808),
    ("real", 1.5, 1.5),
    ("double precision", 0.1, 0.1),
    ("double precision", -1e300, -1e300),
    ("double precision", float("inf"), float("inf")),
    (
        "numeric",
        Decimal("123456789012345678901234567890.123456789"),
        Decimal("123456789012345678901234567890.123456789"),
    ),
    ("numeric(10,2)", Decimal("-12.34"), Decimal("-12.34")),
    ("numeric", Decimal("0.000001"), Decimal("0.000001")),
    ("text", "héllo, 世界 🎉", "héllo, 世界 🎉"),
    ("text", "", ""),
    ("text", 'it\'s "quoted" \\ back', 'it\'s "quoted" \\ back'),
    ("varchar(10)", "short", "short"),
    ("bytea", b"\x00\x01\xfe\xff", b"\x00\x01\xfe\xff"),
    ("bytea", b"", b""),
    ("date", datetime.date(2020, 6, 25), datetime.date(2020, 6, 25)),
    ("date", datetime.date(1, 1, 1), datetime.date(1, 1, 1)),
    ("time", datetime.time(13, 45, 30, 123456), datetime.time(13, 45, 30, 123456)),
    (
        "timestamp",
        datetime.datetime(2020, 6, 25, 13, 45, 30, 5),
        datetime.datetime(2020, 6, 25, 13, 45, 30, 5),
    ),
    (
        "timestamptz",
        datetime.datetime(2020, 6, 25, 13, 45, 30, tzinfo=PLUS2),
        datetime.datetime(2020, 6, 25, 11, 45, 30, tzinfo=UTC),
    ),
    (
        "interval",
        datetime.timedelta(days=1, hours=2, microseconds=3),
        datetime.timedelta(days=1, hours=2, microseconds=3),
    ),
    ("interval", datetime.timedelta(days=-3), datetime.timedelta(days=-3)),
    (
        "uuid",
        uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    ),
    (
        "jsonb",
        Jsonb({"b": 1, "a": [1, 2, None], "s": "é"}),
        {"a": [1, 2, None], "b": 1, "s": "é"},
    ),
    ("json", Json({"k": [True, False]}), {"k": [True, False]}),
    ("integer[]", [1, 2, None, 4], [1, 2, None, 4]),
    ("text[]", ["a", "b c", "", None, 'q"uote'], ["a", "b c", "", None, 'q"uote']),
    ("bigint[]", [], []),
]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize(
    ("sql_type", "value", "expected"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_round_trip(
    conn: psycopg.Connection,
    table_name: str,
    sql_type: str,
    value: object,
    expected: object,
    binary: bool,
) -> None:
    conn.execute(f"CREATE TABLE {table_name} (id int, v {sql_type})")
    with conn.cursor(binary=binary) as cursor:
        cursor.execute(f"INSERT INTO {table_name} (id, v) VALUES (%s, %s)", (1, value))
        cursor.execute(f"INSERT INTO {table_name} (id, v) VALUES (%s, %s)", (2, None))
        cursor.execute(f"SELECT v FROM {table_name} ORDER BY id")
        rows = cursor.fetchall()
    assert rows == [(expected,), (None,)]


def test_result_types_of_expressions(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT 1, 1::bigint, 1.5::float8, 1.5::numeric, 'x'::text, true, "
        "'2020-06-25'::date, count(*), sum(2), avg(2) FROM (SELECT 1) t"
    ).fetchone()
    assert row is not None
    assert [type(v) for v in row] == [
        int,
        int,
        float,
        Decimal,
        str,
        bool,
        datetime.date,
        int,
        int,
        Decimal,
    ]


def test_now_is_a_timezone_aware_datetime(conn: psycopg.Connection) -> None:
    (now,) = conn.execute("SELECT now()").fetchone() or (None,)
    assert isinstance(now, datetime.datetime)
    assert now.tzinfo is not None
    assert abs(now - datetime.datetime.now(UTC)) < datetime.timedelta(minutes=5)


def test_named_time_zone_reaches_the_driver(server) -> None:
    """A client that asks for an IANA zone (as Django does with its TIME_ZONE)
    gets timestamptz values in that zone, DST included, and psycopg learns
    the zone from the TimeZone parameter status."""
    from zoneinfo import ZoneInfo

    chicago = ZoneInfo("America/Chicago")
    with server.connect(options="-c TimeZone=America/Chicago") as c:
        assert c.info.parameter_status("TimeZone") == "America/Chicago"
        assert c.info.timezone == chicago
        summer, winter = c.execute(
            "SELECT '2020-07-01 12:00+00'::timestamptz, '2020-01-01 12:00+00'::timestamptz"
        ).fetchone() or (None, None)
        assert summer == datetime.datetime(2020, 7, 1, 7, 0, tzinfo=chicago)
        assert summer.utcoffset() == datetime.timedelta(hours=-5)
        assert winter.utcoffset() == datetime.timedelta(hours=-6)
        c.execute("SELECT set_config('TimeZone', %s, false)", ["Europe/Berlin"])
        assert c.info.timezone == ZoneInfo("Europe/Berlin")
        (text,) = c.execute("SELECT '2020-07-01 12:00+00'::timestamptz::text").fetchone() or (None,)
        assert text == "2020-07-01 14:00:00+02"
        (local,) = c.execute(
            "SELECT %s::timestamptz AT TIME ZONE 'Asia/Tokyo'",
            [datetime.datetime(2020, 7, 1, 12, 0, tzinfo=UTC)],
        ).fetchone() or (None,)
        assert local == datetime.datetime(2020, 7, 1, 21, 0)
