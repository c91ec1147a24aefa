"""The public ``django-risingwave`` connector (PyPI, unchanged) on Freshet.

The seed tutorial builds that connector for RisingWave; Freshet speaks the
same protocol and dialect, so the connector should work against Freshet
as it is. This test follows the tutorial: the ``orders`` table is created
and filled with plain SQL, the tutorial's unmanaged, read-only ``Order``
model reads it through ``ENGINE = "django_risingwave"``, and the four
Top-5 rankings computed by the ORM must equal the same queries sent
directly with psycopg (with a tie-break on the key, which the tutorial's
queries leave out, so that both sides agree on ties).

The connector is an optional dependency (``pip install
django-risingwave==0.0.12``): without it the test is skipped, except in
CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Server, admin_connect, run_python, scratch_database

MODELS = """
from django.db import models


class Order(models.Model):
    orderid = models.IntegerField()
    itemid = models.IntegerField()
    qty = models.IntegerField()
    price = models.FloatField()
    date = models.DateField(db_column="dt")
    state = models.CharField(max_length=2)

    class Meta:
        managed = False
        db_table = "orders"

    def save(self, *args, **kwargs):
        raise NotImplementedError
"""

SCRIPT = """
import json

import django

django.setup()
from django.db import connection
from django.db.models import Avg, F, Sum

from dashboard.models import Order

rankings = {
    "states_by_turnover": Order.objects.values("state")
    .annotate(turnover=Sum(F("price") * F("qty")))
    .order_by("-turnover", "state")[:5],
    "items_by_avg_qty": Order.objects.values("itemid")
    .annotate(avg_qty=Avg("qty"))
    .order_by("-avg_qty", "itemid")[:5],
    "items_by_qty": Order.objects.values("itemid")
    .annotate(total_qty=Sum("qty"))
    .order_by("-total_qty", "itemid")[:5],
    "items_by_turnover": Order.objects.values("itemid")
    .annotate(turnover=Sum(F("price") * F("qty")))
    .order_by("-turnover", "itemid")[:5],
}
print(json.dumps({
    "vendor": connection.vendor,
    "count": Order.objects.count(),
    "rankings": {
        name: [[float(v) if not isinstance(v, str) else v for v in row.values()]
               for row in query]
        for name, query in rankings.items()
    },
}))
"""

# The same rankings, sent directly.
DIRECT_SQL = {
    "states_by_turnover": "SELECT state, sum(price * qty) AS turnover FROM orders "
    "GROUP BY state ORDER BY turnover DESC, state LIMIT 5",
    "items_by_avg_qty": "SELECT itemid, avg(qty) AS avg_qty FROM orders "
    "GROUP BY itemid ORDER BY avg_qty DESC, itemid LIMIT 5",
    "items_by_qty": "SELECT itemid, sum(qty) AS total_qty FROM orders "
    "GROUP BY itemid ORDER BY total_qty DESC, itemid LIMIT 5",
    "items_by_turnover": "SELECT itemid, sum(price * qty) AS turnover FROM orders "
    "GROUP BY itemid ORDER BY turnover DESC, itemid LIMIT 5",
}

STATES = ["FM", "CA", "NY", "TX", "WA", "OR", "NV", "AZ"]


@pytest.fixture(scope="module")
def connector_installed() -> None:
    if importlib.util.find_spec("django_risingwave") is None:
        message = "django-risingwave is not installed (pip install django-risingwave)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def project(
    connector_installed: None,
    server: Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, str]]:
    with scratch_database(server, "django_risingwave") as dbname:
        # The tutorial's table and data, through plain SQL.
        rng = random.Random(7)
        rows = []
        for orderid in range(1000001, 1000401):
            for _ in range(rng.randint(1, 4)):
                rows.append(
                    (
                        orderid,
                        rng.randint(100001, 100030),
                        rng.randint(1, 9),
                        rng.randint(100, 99999) / 100,
                        f"2020-06-{rng.randint(1, 30):02d}",
                        rng.choice(STATES),
                    )
                )
        with admin_connect(server, dbname) as conn:
            conn.execute(
                "CREATE TABLE orders (orderid int, itemid int, qty int, "
                "price float, dt date, state varchar)"
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO orders (orderid, itemid, qty, price, dt, state) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    rows,
                )

        root = tmp_path_factory.mktemp("risingwave_project")
        (root / "rw_project").mkdir()
        (root / "rw_project" / "__init__.py").write_text("")
        database = {
            "ENGINE": "django_risingwave",
            "NAME": dbname,
            "HOST": server.host,
            "PORT": str(server.port),
            "USER": server.user,
            "PASSWORD": server.password,
        }
        (root / "rw_project" / "settings.py").write_text(
            textwrap.dedent(
                f"""
                SECRET_KEY = "risingwave"
                INSTALLED_APPS = ["dashboard"]
                DATABASES = {{"default": {database!r}}}
                DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
                USE_TZ = True
                """
            )
        )
        (root / "dashboard").mkdir()
        (root / "dashboard" / "__init__.py").write_text("")
        (root / "dashboard" / "models.py").write_text(MODELS)
        (root / "rankings.py").write_text(SCRIPT)
        yield root, dbname


def test_top5_rankings_through_the_connector(
    project: tuple[Path, str], server: Server
) -> None:
    root, dbname = project
    seen = json.loads(run_python(root, "rw_project.settings", "rankings.py"))
    with admin_connect(server, dbname) as conn:
        count = conn.execute("SELECT count(*) FROM orders").fetchone()
        direct = {
            name: [
                [float(v) if not isinstance(v, str) else v for v in row]
                for row in conn.execute(sql).fetchall()
            ]
            for name, sql in DIRECT_SQL.items()
        }
    assert seen["vendor"] == "postgresql"
    assert count is not None and seen["count"] == count[0]
    assert set(seen["rankings"]) == set(direct)
    for name, rows in direct.items():
        assert len(rows) == 5, name
        got = seen["rankings"][name]
        assert [key for key, _ in got] == [key for key, _ in rows], name
        assert [value for _, value in got] == pytest.approx(
            [value for _, value in rows], rel=1e-12
        ), name
