"""Materialized view models: makemigrations, migrate both ways, and reads
checked against the ORM's own aggregate over the base table.

A throwaway project (app ``shop``) declares a table ``Order`` and three
``MaterializedView`` models: a Top-3 defined by a ``QuerySet``, a
``GROUP BY`` defined by SQL text, and a view on that view. The test drives
it through ``manage.py`` like a user: ``makemigrations`` must write each
``CreateMaterializedView`` after the tables it reads, ``migrate`` must
create the views, rows written through the ORM must show up in the views
exactly as the same aggregate computed by the ORM on ``Order`` (the
oracle), through inserts, updates and deletes; a changed query must become
a drop-and-create migration that migrates both ways, and ``migrate shop
zero`` must drop everything.

On PostgreSQL (the harness check, ``FRESHET_DJANGO_ENGINE``) the script
refreshes the views before reading them; on Freshet it never does, since
Freshet keeps them up to date.
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
    admin_connect,
    database_settings,
    run_python,
    scratch_database,
    write_manage_py,
)

MODELS = """
from django.db import models
from django.db.models import Count, F, Sum

from django_freshet.models import MaterializedView


class Order(models.Model):
    item = models.CharField(max_length=20)
    state = models.CharField(max_length=2)
    quantity = models.IntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)


class StateTurnover(MaterializedView):
    state = models.CharField(max_length=2, primary_key=True)
    orders = models.BigIntegerField()
    turnover = models.DecimalField(max_digits=20, decimal_places=2)

    view_query = (
        Order.objects.values("state")
        .annotate(orders=Count("id"), turnover=Sum(F("quantity") * F("price")))
        .order_by("-turnover", "state")[:3]
    )

    class Meta:
        ordering = ["-turnover", "state"]


class ItemTotals(MaterializedView):
    item = models.CharField(max_length=20, primary_key=True)
    total_quantity = models.BigIntegerField()

    view_query = ITEM_TOTALS_SQL

    class Meta:
        db_table = "item_totals"
        ordering = ["item"]


class BigItems(MaterializedView):
    item = models.CharField(max_length=20, primary_key=True)
    total_quantity = models.BigIntegerField()

    @classmethod
    def view_query(cls):
        return ItemTotals.objects.filter(total_quantity__gte=BIG_ITEM_QUANTITY)

    class Meta:
        ordering = ["item"]
"""

ITEM_TOTALS_V1 = (
    "SELECT item, sum(quantity) AS total_quantity FROM shop_order GROUP BY item"
)
# Version 2 leaves out a state: a changed query, and BigItems reads it.
ITEM_TOTALS_V2 = (
    "SELECT item, sum(quantity) AS total_quantity FROM shop_order "
    "WHERE state <> 'ZZ' GROUP BY item"
)

# Prints the migration plan of app shop as JSON: [[migration, op class,
# model], ...].
PLAN_SCRIPT = """
import json
import django

django.setup()
from django.db.migrations.loader import MigrationLoader

loader = MigrationLoader(None, ignore_no_migrations=True)
plan = []
for key in loader.graph.forwards_plan(loader.graph.leaf_nodes("shop")[0]):
    if key[0] != "shop":
        continue
    for op in loader.graph.nodes[key].operations:
        name = getattr(op, "model_name", None) or getattr(op, "name", None)
        plan.append([key[1], type(op).__name__, name.lower()])
print(json.dumps(plan))
"""

# Writes, reads and prints what the views and the oracle said at each step.
SCRIPT = """
import json
import random
import sys
from decimal import Decimal

import django

django.setup()

from django.db import NotSupportedError, connection
from django.db.models import Count, F, Sum

from shop.models import BigItems, ItemTotals, Order, StateTurnover

BIG = int(sys.argv[1])
EXCLUDED_STATE = sys.argv[2]  # "" for none
rng = random.Random(5)
STATES = ["CA", "NY", "TX", "FM", "WA", "ZZ"]
ITEMS = [f"item{i}" for i in range(8)]


def refresh():
    if connection.display_name != "Freshet":
        with connection.cursor() as cursor:
            for model in (StateTurnover, ItemTotals, BigItems):
                cursor.execute(f"REFRESH MATERIALIZED VIEW {model._meta.db_table}")


def snapshot():
    refresh()
    base = Order.objects.all()
    if EXCLUDED_STATE:
        base = base.exclude(state=EXCLUDED_STATE)
    items = {
        r["item"]: r["total_quantity"]
        for r in base.values("item").annotate(total_quantity=Sum("quantity"))
    }
    return {
        "view": {
            "state_turnover": [
                [r.state, r.orders, str(r.turnover)]
                for r in StateTurnover.objects.all()
            ],
            "item_totals": [
                [r.item, r.total_quantity] for r in ItemTotals.objects.all()
            ],
            "big_items": [[r.item, r.total_quantity] for r in BigItems.objects.all()],
        },
        "oracle": {
            "state_turnover": [
                [r["state"], r["orders"], str(r["turnover"])]
                for r in Order.objects.values("state")
                .annotate(orders=Count("id"), turnover=Sum(F("quantity") * F("price")))
                .order_by("-turnover", "state")[:3]
            ],
            "item_totals": [[k, items[k]] for k in sorted(items)],
            "big_items": [[k, items[k]] for k in sorted(items) if items[k] >= BIG],
        },
    }


steps = {"empty": snapshot()}

Order.objects.bulk_create(
    Order(
        item=rng.choice(ITEMS),
        state=rng.choice(STATES),
        quantity=rng.randint(1, 9),
        price=Decimal(rng.randint(100, 99999)) / 100,
    )
    for _ in range(300)
)
Order.objects.create(item="item0", state="CA", quantity=3, price=Decimal("993.99"))
steps["inserted"] = snapshot()

Order.objects.filter(state="TX").update(quantity=F("quantity") + 5)
Order.objects.filter(item="item3").update(price=F("price") * 2)
steps["updated"] = snapshot()

Order.objects.filter(state="CA").delete()
Order.objects.filter(item="item5", quantity__lt=5).delete()
steps["deleted"] = snapshot()

errors = {}
row = StateTurnover.objects.first()
for what, attempt in [
    ("save", lambda: row.save()),
    ("delete", lambda: row.delete()),
    ("create", lambda: ItemTotals.objects.create(item="x", total_quantity=1)),
    ("update", lambda: StateTurnover.objects.update(orders=0)),
    ("queryset_delete", lambda: BigItems.objects.all().delete()),
]:
    try:
        attempt()
    except NotSupportedError as error:
        errors[what] = str(error)
steps["unchanged_after_refused_writes"] = snapshot()

print(json.dumps({"steps": steps, "errors": errors}))
"""

BIG_ITEM_QUANTITY = 150


def _write_models(root: Path, item_totals_sql: str) -> None:
    (root / "shop" / "models.py").write_text(
        MODELS.replace("ITEM_TOTALS_SQL", repr(item_totals_sql)).replace(
            "BIG_ITEM_QUANTITY", str(BIG_ITEM_QUANTITY)
        )
    )


def _run(project: Path, *args: str) -> str:
    return run_python(project, "views_project.settings", *args)


def _views(server: Server, dbname: str) -> dict[str, str]:
    """Materialized views in ``dbname``: name -> definition."""
    with admin_connect(server, dbname) as conn:
        rows = conn.execute(
            "SELECT matviewname, definition FROM pg_matviews "
            "WHERE schemaname = 'public'"
        ).fetchall()
    return {name: definition for name, definition in rows}


def _tables(server: Server, dbname: str) -> set[str]:
    with admin_connect(server, dbname) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {name for (name,) in rows}


@pytest.fixture(scope="module")
def project(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    with scratch_database(server, "django_views") as dbname:
        root = tmp_path_factory.mktemp("views_project")
        (root / "views_project").mkdir()
        (root / "views_project" / "__init__.py").write_text("")
        database = database_settings(server, dbname)
        (root / "views_project" / "settings.py").write_text(
            textwrap.dedent(
                f"""
                SECRET_KEY = "views"
                INSTALLED_APPS = ["django_freshet", "shop"]
                DATABASES = {{"default": {database!r}}}
                DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
                USE_TZ = True
                """
            )
        )
        (root / "shop").mkdir()
        (root / "shop" / "__init__.py").write_text("")
        _write_models(root, ITEM_TOTALS_V1)
        (root / "plan_script.py").write_text(PLAN_SCRIPT)
        (root / "views_script.py").write_text(SCRIPT)
        write_manage_py(root)
        yield root, dbname


def _check_steps(seen: dict[str, Any]) -> None:
    steps = seen["steps"]
    assert list(steps) == [
        "empty",
        "inserted",
        "updated",
        "deleted",
        "unchanged_after_refused_writes",
    ]
    for name, step in steps.items():
        assert step["view"] == step["oracle"], f"after step {name!r}"
    # The data exercises every view (none is trivially empty).
    assert len(steps["deleted"]["view"]["state_turnover"]) == 3
    assert steps["deleted"]["view"]["big_items"]
    assert (
        steps["deleted"]["view"]["item_totals"] != steps["deleted"]["view"]["big_items"]
    )
    assert (
        steps["inserted"]["view"]
        != steps["updated"]["view"]
        != steps["deleted"]["view"]
    )


def test_views_through_migrations(project: tuple[Path, str], server: Server) -> None:
    root, dbname = project

    # makemigrations: each view is created after what it reads.
    _run(root, "manage.py", "makemigrations", "shop", "--noinput")
    plan = json.loads(_run(root, "plan_script.py"))
    assert [op for _, op, _ in plan].count("CreateModel") == 4
    position = {(op, model): i for i, (_, op, model) in enumerate(plan)}
    for view, reads in [
        ("stateturnover", ["order", "stateturnover"]),
        ("itemtotals", ["order", "itemtotals"]),
        ("bigitems", ["itemtotals", "bigitems"]),
    ]:
        created = position[("CreateMaterializedView", view)]
        for model in reads:
            assert position[("CreateModel", model)] < created, (view, model, plan)
    assert (
        position[("CreateMaterializedView", "itemtotals")]
        < position[("CreateMaterializedView", "bigitems")]
    )
    # Nothing left to detect: the SQL a QuerySet compiles to is stable.
    _run(root, "manage.py", "makemigrations", "--check", "--dry-run", "--noinput")

    _run(root, "manage.py", "migrate", "--noinput")
    views = _views(server, dbname)
    assert set(views) == {"shop_stateturnover", "item_totals", "shop_bigitems"}
    assert "shop_order" in _tables(server, dbname)

    seen = json.loads(_run(root, "views_script.py", str(BIG_ITEM_QUANTITY), ""))
    _check_steps(seen)
    for what, message in seen["errors"].items():
        assert "materialized view" in message, what
    assert set(seen["errors"]) == {
        "save",
        "delete",
        "create",
        "update",
        "queryset_delete",
    }
    assert seen["errors"]["save"].startswith(
        "save() is not supported on shop.StateTurnover: it is a materialized view"
    )

    # A changed query: the view and the view that reads it are dropped and
    # created again, and the migration is reversible.
    _write_models(root, ITEM_TOTALS_V2)
    _run(root, "manage.py", "makemigrations", "shop", "--noinput", "--name", "v2")
    plan = json.loads(_run(root, "plan_script.py"))
    assert [entry for entry in plan if entry[0] == "0002_v2"] == [
        ["0002_v2", "DropMaterializedView", "bigitems"],
        ["0002_v2", "DropMaterializedView", "itemtotals"],
        ["0002_v2", "CreateMaterializedView", "itemtotals"],
        ["0002_v2", "CreateMaterializedView", "bigitems"],
    ]
    _run(root, "manage.py", "makemigrations", "--check", "--dry-run", "--noinput")
    _run(root, "manage.py", "migrate", "--noinput")
    assert "'ZZ'" in _views(server, dbname)["item_totals"]
    with admin_connect(server, dbname) as conn:
        conn.execute("DELETE FROM shop_order")
    _check_steps(
        json.loads(_run(root, "views_script.py", str(BIG_ITEM_QUANTITY), "ZZ"))
    )

    _run(root, "manage.py", "migrate", "shop", "0001", "--noinput")
    assert "'ZZ'" not in _views(server, dbname)["item_totals"]
    _write_models(root, ITEM_TOTALS_V1)
    with admin_connect(server, dbname) as conn:
        conn.execute("DELETE FROM shop_order")
    _check_steps(json.loads(_run(root, "views_script.py", str(BIG_ITEM_QUANTITY), "")))

    # Backwards to nothing drops the views, then the table.
    _run(root, "manage.py", "migrate", "shop", "zero", "--noinput")
    assert _views(server, dbname) == {}
    assert "shop_order" not in _tables(server, dbname)

    # And forwards again from scratch.
    _run(root, "manage.py", "migrate", "shop", "0001", "--noinput")
    assert set(_views(server, dbname)) == {
        "shop_stateturnover",
        "item_totals",
        "shop_bigitems",
    }


MANAGED_SCRIPT = """
import django

django.setup()
from django.db import models

from django_freshet.models import MaterializedView

try:
    class Managed(MaterializedView):
        state = models.CharField(max_length=2, primary_key=True)

        class Meta:
            app_label = "shop"
            managed = True
except TypeError as error:
    print(error)


class OwnMeta(MaterializedView):
    state = models.CharField(max_length=2, primary_key=True)
    view_query = "SELECT 'CA' AS state"

    class Meta:
        app_label = "shop"
        db_table = "somewhere"


print(OwnMeta._meta.managed)
"""


def test_view_models_are_never_managed(project: tuple[Path, str]) -> None:
    root, _ = project
    (root / "managed_script.py").write_text(MANAGED_SCRIPT)
    assert _run(root, "managed_script.py").splitlines() == [
        "Managed: a MaterializedView is never managed; its CREATE MATERIALIZED "
        "VIEW comes from django_freshet.operations.CreateMaterializedView",
        "False",
    ]


def test_views_without_the_app_fail_the_checks(project: tuple[Path, str]) -> None:
    # Without the app, makemigrations would write no view: a system check
    # says so instead.
    root, _ = project
    (root / "views_project" / "settings_without_app.py").write_text(
        "from views_project.settings import *  # noqa: F403\n"
        'INSTALLED_APPS = ["shop"]\n'
    )
    (root / "checks_script.py").write_text(
        "import django\n\ndjango.setup()\nfrom django.core import checks\n\n"
        "print(sorted({m.id for m in checks.run_checks()}))\n"
    )
    out = run_python(root, "views_project.settings_without_app", "checks_script.py")
    assert out.strip() == "['django_freshet.E001']"
    assert _run(root, "checks_script.py").strip() == "[]"
