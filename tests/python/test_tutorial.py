"""The seed tutorial: an orders table and the four dashboard rankings."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

import psycopg
import pytest

ORDERS = [
    # (orderid, itemid, qty, price, dt, state)
    (1000001, 100001, 3, 993.99, datetime.date(2020, 6, 25), "FM"),
    (1000001, 100002, 3, 751.99, datetime.date(2020, 6, 25), "FM"),
    (1000001, 100003, 4, 433.99, datetime.date(2020, 6, 25), "FM"),
    (1000002, 100002, 1, 751.99, datetime.date(2020, 6, 26), "CA"),
    (1000003, 100004, 10, 12.5, datetime.date(2020, 6, 27), "TX"),
    (1000004, 100005, 7, 99.0, datetime.date(2020, 6, 27), "WA"),
    (1000005, 100006, 2, 1000.5, datetime.date(2020, 6, 28), "OR"),
    (1000006, 100003, 6, 433.99, datetime.date(2020, 6, 28), "NY"),
    (1000007, 100007, 9, 20.25, datetime.date(2020, 6, 29), "TX"),
]


@pytest.fixture
def orders(conn: psycopg.Connection, table_name: str) -> str:
    conn.execute(
        f"CREATE TABLE {table_name} (orderid int, itemid int, qty int, price float, dt date, state varchar)"
    )
    # The tutorial's literal INSERT for the first row, then parameters.
    conn.execute(
        f"INSERT INTO {table_name} (orderid, itemid, qty, price, dt, state) "
        "VALUES (1000001, 100001, 3, 993.99, '2020-06-25', 'FM')"
    )
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table_name} (orderid, itemid, qty, price, dt, state) VALUES (%s, %s, %s, %s, %s, %s)",
            ORDERS[1:],
        )
    return table_name


def expected_top5(key: int, value) -> list:  # type: ignore[no-untyped-def]
    groups: dict[object, list] = defaultdict(list)
    for row in ORDERS:
        groups[row[key]].append(row)
    ranked = sorted(
        ((value(rows), k) for k, rows in groups.items()),
        key=lambda p: p[0],
        reverse=True,
    )
    return [(k, v) for v, k in ranked[:5]]


def test_tutorial_turnover_by_state(conn: psycopg.Connection, orders: str) -> None:
    rows = conn.execute(
        f"select sum(qty*price) as turnover, state from {orders} group by state order by turnover desc"
    ).fetchall()
    expected = expected_top5(5, lambda rs: sum(r[2] * r[3] for r in rs))
    assert [state for _, state in rows][:5] == [k for k, _ in expected]
    for (turnover, _), (_, want) in zip(rows, expected):
        assert turnover == pytest.approx(want, rel=1e-12)


def test_dashboard_top5_states_by_turnover(
    conn: psycopg.Connection, orders: str
) -> None:
    rows = conn.execute(
        f"SELECT state, SUM(price * qty) AS turnover FROM {orders} GROUP BY state ORDER BY turnover DESC LIMIT 5"
    ).fetchall()
    expected = expected_top5(5, lambda rs: sum(r[2] * r[3] for r in rs))
    assert [r[0] for r in rows] == [k for k, _ in expected]
    assert [r[1] for r in rows] == pytest.approx([v for _, v in expected], rel=1e-12)
    assert all(isinstance(r[1], float) for r in rows)


def test_dashboard_top5_items_by_average_quantity(
    conn: psycopg.Connection, orders: str
) -> None:
    rows = conn.execute(
        f"SELECT itemid, AVG(qty) AS avg_qty FROM {orders} GROUP BY itemid ORDER BY avg_qty DESC, itemid LIMIT 5"
    ).fetchall()
    groups: dict[int, list[int]] = defaultdict(list)
    for row in ORDERS:
        groups[row[1]].append(row[2])
    expected = sorted(
        ((Decimal(sum(q)) / len(q), item) for item, q in groups.items()),
        key=lambda p: (-p[0], p[1]),
    )
    assert [r[0] for r in rows] == [item for _, item in expected[:5]]
    # avg(int) is numeric: psycopg returns Decimal.
    assert all(isinstance(r[1], Decimal) for r in rows)
    assert [r[1] for r in rows] == pytest.approx([v for v, _ in expected[:5]])


def test_dashboard_top5_items_by_quantity(
    conn: psycopg.Connection, orders: str
) -> None:
    rows = conn.execute(
        f"SELECT itemid, SUM(qty) AS total_qty FROM {orders} GROUP BY itemid ORDER BY total_qty DESC, itemid LIMIT 5"
    ).fetchall()
    groups: dict[int, int] = defaultdict(int)
    for row in ORDERS:
        groups[row[1]] += row[2]
    expected = sorted(groups.items(), key=lambda p: (-p[1], p[0]))[:5]
    assert rows == expected


def test_dashboard_top5_items_by_turnover(
    conn: psycopg.Connection, orders: str
) -> None:
    rows = conn.execute(
        f"SELECT itemid, SUM(price * qty) AS turnover FROM {orders} GROUP BY itemid ORDER BY turnover DESC LIMIT 5"
    ).fetchall()
    expected = expected_top5(1, lambda rs: sum(r[2] * r[3] for r in rs))
    assert [r[0] for r in rows] == [k for k, _ in expected]
    assert [r[1] for r in rows] == pytest.approx([v for _, v in expected], rel=1e-12)
