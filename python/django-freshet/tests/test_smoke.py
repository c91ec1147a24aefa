"""Smoke test: a throwaway Django project with one model on a live Freshet.

The project is written to a temporary directory and driven the way a user
drives one, through ``manage.py`` in subprocesses (so Django's settings never
leak into this pytest process): ``makemigrations``, ``migrate``, then a script
that creates, queries, aggregates, updates and deletes rows through the ORM
and prints what it saw as JSON. Each run uses a database of its own (CREATE
DATABASE), dropped afterwards.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    Server,
    database_settings,
    run_python,
    scratch_database,
    write_manage_py,
)

MODELS = """
from django.db import models


class Order(models.Model):
    item = models.CharField(max_length=50)
    state = models.CharField(max_length=2)
    qty = models.IntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    placed = models.DateField()
    notes = models.TextField(blank=True, default="")
    extra = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["state"])]
"""

# Prints one JSON object; the test checks every value.
SCRIPT = """
import datetime
import json
from decimal import Decimal

import django

django.setup()

from django.db import connection, transaction
from django.db.models import Avg, Count, F, Max, Min, Q, Sum

from shop.models import Order

rows = [
    Order(item="apple", state="FM", qty=3, price=Decimal("993.99"),
          placed=datetime.date(2020, 6, 25), extra={"gift": True}),
    Order(item="pear", state="FM", qty=1, price=Decimal("10.50"),
          placed=datetime.date(2020, 6, 26)),
    Order(item="plum", state="CA", qty=7, price=Decimal("2.25"),
          placed=datetime.date(2020, 7, 1)),
]
created = Order.objects.bulk_create(rows)
single = Order.objects.create(item="fig", state="CA", qty=2, price=Decimal("4.00"),
                              placed=datetime.date(2020, 7, 2))

try:
    with transaction.atomic():
        Order.objects.create(item="lost", state="XX", qty=1, price=Decimal("1"),
                             placed=datetime.date(2020, 1, 1))
        raise RuntimeError("roll back")
except RuntimeError:
    pass

items = list(Order.objects.values_list("item", flat=True))
by_state = list(
    Order.objects.values("state")
    .annotate(n=Count("id"), turnover=Sum(F("qty") * F("price")))
    .order_by("-turnover")
)
totals = Order.objects.aggregate(
    n=Count("id"), total_qty=Sum("qty"), max_price=Max("price"),
    min_placed=Min("placed"), avg_qty=Avg("qty"),
)
Order.objects.filter(item="pear").update(qty=F("qty") + 4)
deleted, _ = Order.objects.filter(Q(state="CA") & Q(qty__gt=5)).delete()

print(json.dumps({
    "vendor": connection.vendor,
    "display_name": connection.display_name,
    "can_clone_databases": connection.features.can_clone_databases,
    "bulk_ids": [o.pk is not None for o in created],
    "single_id": single.pk,
    "items": items,
    "by_state": [
        {"state": r["state"], "n": r["n"], "turnover": str(r["turnover"])}
        for r in by_state
    ],
    "totals": {
        "n": totals["n"],
        "total_qty": totals["total_qty"],
        "max_price": str(totals["max_price"]),
        "min_placed": totals["min_placed"].isoformat(),
        "avg_qty": float(totals["avg_qty"]),
    },
    "pear_qty": Order.objects.get(item="pear").qty,
    "deleted": deleted,
    "count_after": Order.objects.count(),
    "icontains": list(
        Order.objects.filter(item__icontains="PE").values_list("item", flat=True)
    ),
}))
"""


def _write_project(root: Path, server: Server, dbname: str) -> None:
    (root / "smoke_project").mkdir()
    (root / "smoke_project" / "__init__.py").write_text("")
    database = database_settings(server, dbname)
    (root / "smoke_project" / "settings.py").write_text(
        textwrap.dedent(
            f"""
            SECRET_KEY = "smoke"
            INSTALLED_APPS = ["shop"]
            DATABASES = {{"default": {database!r}}}
            DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
            USE_TZ = True
            """
        )
    )
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "models.py").write_text(MODELS)
    (root / "smoke_script.py").write_text(SCRIPT)


def _run(project: Path, *args: str) -> str:
    return run_python(project, "smoke_project.settings", *args)


@pytest.fixture(scope="module")
def project(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Django project on a database of its own, migrated."""
    with scratch_database(server, "django_smoke") as dbname:
        root = tmp_path_factory.mktemp("project")
        _write_project(root, server, dbname)
        write_manage_py(root)
        yield root


@pytest.fixture(scope="module")
def migrated(project: Path) -> Path:
    _run(project, "manage.py", "makemigrations", "shop", "--noinput")
    _run(project, "manage.py", "migrate", "--noinput")
    return project


def test_migrate_applies_and_records_migrations(migrated: Path) -> None:
    out = _run(migrated, "manage.py", "showmigrations", "shop")
    assert "[X] 0001_initial" in out


def test_introspection_sees_the_table(migrated: Path) -> None:
    out = _run(migrated, "manage.py", "inspectdb", "shop_order")
    assert "class ShopOrder(models.Model):" in out
    assert "models.DecimalField(max_digits=10, decimal_places=2)" in out


def test_orm_create_query_aggregate(migrated: Path, server: Server) -> None:
    seen: dict[str, Any] = json.loads(_run(migrated, "smoke_script.py"))
    assert seen["vendor"] == "postgresql"
    if server.engine == "django_freshet":
        assert seen["display_name"] == "Freshet"
        assert seen["can_clone_databases"] is True  # CREATE DATABASE ... TEMPLATE works
    assert seen["bulk_ids"] == [True, True, True]
    assert isinstance(seen["single_id"], int)
    assert seen["items"] == ["apple", "pear", "plum", "fig"]
    assert seen["by_state"] == [
        {"state": "FM", "n": 2, "turnover": "2992.47"},
        {"state": "CA", "n": 2, "turnover": "23.75"},
    ]
    assert seen["totals"] == {
        "n": 4,
        "total_qty": 13,
        "max_price": "993.99",
        "min_placed": "2020-06-25",
        "avg_qty": 3.25,
    }
    assert seen["pear_qty"] == 5
    assert seen["deleted"] == 1
    assert seen["count_after"] == 3
    assert seen["icontains"] == ["pear"]


def test_json_key_lookup(migrated: Path) -> None:
    # JSONField key lookups compile to jsonb's -> operator.
    script = textwrap.dedent(
        """
        import datetime
        import django

        django.setup()
        from shop.models import Order

        Order.objects.create(item="kiwi", state="NZ", qty=1, price=1,
                             placed=datetime.date(2021, 1, 1), extra={"wrap": "red"})
        red = Order.objects.filter(extra__wrap="red")
        print(list(red.values_list("item", flat=True)))
        """
    )
    (migrated / "json_script.py").write_text(script)
    assert _run(migrated, "json_script.py").strip() == "['kiwi']"


def test_defaults_are_freshets() -> None:
    from django_freshet.base import apply_defaults

    settings = apply_defaults(
        {"NAME": "", "USER": "", "HOST": "", "PORT": "", "OPTIONS": {}}
    )
    assert (settings["NAME"], settings["USER"], settings["HOST"], settings["PORT"]) == (
        "dev",
        "root",
        "127.0.0.1",
        "4566",
    )
    # NAME=None means the maintenance database and must stay None.
    assert apply_defaults({"NAME": None, "OPTIONS": {}})["NAME"] is None
