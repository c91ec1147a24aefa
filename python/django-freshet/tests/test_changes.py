"""The change stream generator (``django_freshet.changes``) against the
view it follows.

A throwaway project declares a table ``Order`` and a ``MaterializedView``
of per-state totals. A script follows the view with ``changes(...,
full=True)`` in a thread while the main thread inserts, updates and deletes
orders through the ORM; it applies every change it receives to a replica
(a dict keyed by state) and, once idle, prints the replica and the view as
the ORM reads it. The replica must equal the view (the oracle: what the
server computes from scratch), updates must come as UpdateDelete followed
by UpdateInsert, and a second reader resuming ``since=`` a timestamp must
see exactly the changes from that commit on.

Freshet only: PostgreSQL has no subscriptions.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Server, database_settings, run_python, scratch_database, write_manage_py

MODELS = """
from django.db import models
from django_freshet.models import MaterializedView


class Order(models.Model):
    state = models.CharField(max_length=2)
    quantity = models.IntegerField()


class StateTotals(MaterializedView):
    state = models.CharField(max_length=2, primary_key=True)
    orders = models.BigIntegerField()
    quantity = models.BigIntegerField()

    view_query = (
        "SELECT state, count(*) AS orders, sum(quantity) AS quantity "
        "FROM shop_order GROUP BY state"
    )
"""

SCRIPT = """
import json
import threading

import django

django.setup()

from django_freshet.changes import changes
from shop.models import Order, StateTotals

replica = {}
log = []
ready = threading.Event()


def follow():
    stream = changes(StateTotals, full=True, wait=0.2, idle_timeout=3.0)
    for change in stream:
        log.append([change.op, change.row["state"], change.rw_timestamp])
        if change.is_insert:
            replica[change.instance.state] = [change.instance.orders, change.instance.quantity]
        else:
            del replica[change.row["state"]]
        ready.set()


Order.objects.create(state="CA", quantity=1)
reader = threading.Thread(target=follow)
reader.start()
ready.wait(10)
for i in range(20):
    Order.objects.create(state=["CA", "NY", "TX"][i % 3], quantity=i)
Order.objects.filter(state="NY").update(quantity=100)
Order.objects.filter(state="TX", quantity__gt=10).delete()
Order.objects.filter(state="CA").delete()
reader.join(60)

# Resume from the timestamp of the first update seen: the changes from
# that commit on come again, and nothing before it.
resume_at = next(stamp for op, _, stamp in log if op == "UpdateDelete")
resumed = [
    [c.op, c.row["state"], c.rw_timestamp]
    for c in changes(StateTotals, since=resume_at, wait=0.2, idle_timeout=1.0)
]
print(json.dumps({
    "alive": reader.is_alive(),
    "replica": sorted([k, *v] for k, v in replica.items()),
    "view": sorted([r.state, r.orders, r.quantity] for r in StateTotals.objects.all()),
    "log": log,
    "resumed": resumed,
    "resume_at": resume_at,
}))
"""


@pytest.fixture(scope="module")
def project(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if server.kind != "freshet":
        pytest.skip("subscriptions are Freshet's (RisingWave's) feature, not PostgreSQL's")
    with scratch_database(server, "django_changes") as dbname:
        root = tmp_path_factory.mktemp("changes_project")
        (root / "changes_project").mkdir()
        (root / "changes_project" / "__init__.py").write_text("")
        (root / "changes_project" / "settings.py").write_text(
            textwrap.dedent(
                f"""
                SECRET_KEY = "changes"
                INSTALLED_APPS = ["django_freshet", "shop"]
                DATABASES = {{"default": {database_settings(server, dbname)!r}}}
                DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
                USE_TZ = True
                """
            )
        )
        (root / "shop").mkdir()
        (root / "shop" / "__init__.py").write_text("")
        (root / "shop" / "models.py").write_text(MODELS)
        (root / "changes_script.py").write_text(SCRIPT)
        write_manage_py(root)
        yield root


def test_changes_replay_to_the_view(project: Path) -> None:
    run = lambda *args: run_python(project, "changes_project.settings", *args)  # noqa: E731
    run("manage.py", "makemigrations", "shop", "--noinput")
    run("manage.py", "migrate", "--noinput")
    seen = json.loads(run("changes_script.py"))

    assert seen["alive"] is False
    # The replica built from the changes alone equals the view.
    assert seen["replica"] == seen["view"]
    assert [s for s, *_ in seen["view"]] == ["NY", "TX"]
    log = seen["log"]
    # The snapshot first (full=True), then the changes, in commit order.
    assert log[0][:2] == ["Insert", "CA"]
    stamps = [stamp for *_, stamp in log]
    assert stamps == sorted(stamps)
    # An update is UpdateDelete then UpdateInsert of the same key.
    for i, (op, state, stamp) in enumerate(log):
        if op == "UpdateDelete":
            assert log[i + 1][:2] == ["UpdateInsert", state]
            assert log[i + 1][2] == stamp
    assert any(op == "UpdateDelete" for op, *_ in log)
    assert any(entry[:2] == ["Delete", "CA"] for entry in log)
    # Resuming since a timestamp replays exactly the changes from it on.
    assert seen["resumed"] == [entry for entry in log if entry[2] >= seen["resume_at"]]
