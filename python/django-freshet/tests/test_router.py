"""The OLTP/OLAP router: Freshet beside another database.

A throwaway project has SQLite as ``default`` (the transactional side) and
Freshet as ``freshet``, with ``django_freshet.routers.StreamingRouter``. A
plain model must live on SQLite only, a ``StreamingMixin`` model and a
``MaterializedView`` on Freshet only, after ``migrate`` and ``migrate
--database freshet``; reads and writes must go where the model lives.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path

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
from django.db.models import Sum

from django_freshet.models import MaterializedView, StreamingMixin


class Customer(models.Model):
    name = models.CharField(max_length=50)


class Order(StreamingMixin, models.Model):
    customer_id = models.BigIntegerField()
    state = models.CharField(max_length=2)
    quantity = models.IntegerField()


class StateQuantity(MaterializedView):
    state = models.CharField(max_length=2, primary_key=True)
    quantity = models.BigIntegerField()

    view_query = Order.objects.values("state").annotate(quantity=Sum("quantity"))

    class Meta:
        ordering = ["state"]
"""

SCRIPT = """
import json

import django

django.setup()
from django.db import connections, router
from django.db.models import Sum

from shop.models import Customer, Order, StateQuantity

ada = Customer.objects.create(name="Ada")
Order.objects.bulk_create(
    Order(customer_id=ada.pk, state=s, quantity=q)
    for s, q in [("CA", 3), ("NY", 4), ("CA", 5)]
)
order = Order.objects.create(customer_id=ada.pk, state="TX", quantity=1)
if connections["freshet"].display_name != "Freshet":
    with connections["freshet"].cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW shop_statequantity")
print(json.dumps({
    "read": [Customer.objects.all().db, Order.objects.all().db,
             StateQuantity.objects.all().db],
    "write": [ada._state.db, order._state.db],
    "relation_allowed": router.allow_relation(ada, order),
    "view": [[r.state, r.quantity] for r in StateQuantity.objects.all()],
    "oracle": [
        [r["state"], r["quantity"]]
        for r in Order.objects.values("state")
        .annotate(quantity=Sum("quantity")).order_by("state")
    ],
}))
"""


def _run(project: Path, *args: str) -> str:
    return run_python(project, "router_project.settings", *args)


@pytest.fixture(scope="module")
def project(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    with scratch_database(server, "django_router") as dbname:
        root = tmp_path_factory.mktemp("router_project")
        (root / "router_project").mkdir()
        (root / "router_project" / "__init__.py").write_text("")
        databases = {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(root / "oltp.sqlite3"),
            },
            "freshet": database_settings(server, dbname),
        }
        (root / "router_project" / "settings.py").write_text(
            textwrap.dedent(
                f"""
                SECRET_KEY = "router"
                INSTALLED_APPS = ["django_freshet", "shop"]
                DATABASES = {databases!r}
                DATABASE_ROUTERS = ["django_freshet.routers.StreamingRouter"]
                DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
                USE_TZ = True
                """
            )
        )
        (root / "shop").mkdir()
        (root / "shop" / "__init__.py").write_text("")
        (root / "shop" / "models.py").write_text(MODELS)
        (root / "router_script.py").write_text(SCRIPT)
        write_manage_py(root)
        yield root, dbname


def test_streaming_models_live_on_freshet(
    project: tuple[Path, str], server: Server
) -> None:
    root, dbname = project
    _run(root, "manage.py", "makemigrations", "shop", "--noinput")
    _run(root, "manage.py", "migrate", "--noinput")
    _run(root, "manage.py", "migrate", "--database", "freshet", "--noinput")

    with sqlite3.connect(root / "oltp.sqlite3") as sqlite:
        oltp = {
            name
            for (name,) in sqlite.execute(
                "SELECT name FROM sqlite_master WHERE name LIKE 'shop_%'"
            )
        }
    with admin_connect(server, dbname) as conn:
        olap = {
            name
            for (name,) in conn.execute(
                "SELECT relname FROM pg_class WHERE relname LIKE 'shop_%' "
                "AND relkind IN ('r', 'm')"
            )
        }
    assert oltp == {"shop_customer"}
    assert olap == {"shop_order", "shop_statequantity"}

    seen = json.loads(_run(root, "router_script.py"))
    assert seen["read"] == ["default", "freshet", "freshet"]
    assert seen["write"] == ["default", "freshet"]
    assert seen["relation_allowed"] is False
    assert seen["view"] == seen["oracle"] == [["CA", 8], ["NY", 4], ["TX", 1]]
