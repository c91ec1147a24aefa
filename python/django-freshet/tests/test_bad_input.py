"""Bad input through Django: what the server does not support surfaces as
``django.db.NotSupportedError`` naming the feature, errors leave the
connection usable, and a lost connection is reported as a clear
``OperationalError`` after which the next request reconnects (with
``CONN_HEALTH_CHECKS``) and finds every committed row.

The first test runs on any server (against PostgreSQL it checks the
harness: PostgreSQL supports the features, so there it expects success).
The second starts and kills a Freshet of its own, so it runs on Freshet
only.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    Server,
    _freshet_binary,
    database_settings,
    free_port,
    run_python,
    scratch_database,
    write_manage_py,
)

MODELS = """
from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=50)
"""

# Each probe is an ORM operation that needs a server feature; the script
# prints, per probe, the Django exception class and message, or "ok".
UNSUPPORTED_SCRIPT = """
import json

import django

django.setup()

from django.db import connection, models, transaction
from django.db.models.functions import Collate

from shop.models import Note

Note.objects.create(title="b")
Note.objects.create(title="a")


class Swedish(models.Model):
    title = models.CharField(max_length=50, db_collation="sv-x-icu")

    class Meta:
        app_label = "shop"
        db_table = "shop_swedish"


def probe(fn):
    try:
        with transaction.atomic():
            fn()
        return {"outcome": "ok"}
    except Exception as e:
        name = type(e).__module__ + "." + type(e).__name__
        return {"outcome": name, "message": str(e)}


def create_collated_table():
    with connection.schema_editor() as editor:
        editor.create_model(Swedish)


results = {
    "collate_expression": probe(
        lambda: list(Note.objects.order_by(Collate("title", "sv-x-icu")))
    ),
    "collated_column": probe(create_collated_table),
    # After the refusals, the connection still works.
    "count_after": Note.objects.count(),
}
print(json.dumps(results))
"""

# Starts a Freshet of its own (binary, port and data directory from the
# environment), loses it mid-session, and starts it again.
LOST_CONNECTION_SCRIPT = """
import json
import os
import signal
import socket
import subprocess
import time

binary = os.environ["FRESHET_BIN"]
port = os.environ["FRESHET_PORT"]
data = os.environ["FRESHET_DATA"]


def start():
    process = subprocess.Popen(
        [binary, "serve", "--data-dir", data, "--listen", "127.0.0.1:" + port],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", int(port)), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.02)  # Polling the listener, bounded by the deadline.
    raise RuntimeError("freshet did not start")


server = start()
import django

django.setup()

from django.core.management import call_command
from django.db import InterfaceError, OperationalError, close_old_connections

call_command("migrate", verbosity=0)
from shop.models import Note

Note.objects.create(title="kept")
before = Note.objects.count()

server.send_signal(signal.SIGKILL)
server.wait()
lost = None
try:
    Note.objects.count()
except (OperationalError, InterfaceError) as e:
    lost = {"class": type(e).__module__ + "." + type(e).__name__, "message": str(e)}

server = start()
# What Django does at the start of each request.
close_old_connections()
after = Note.objects.count()
titles = list(Note.objects.values_list("title", flat=True))
server.send_signal(signal.SIGKILL)
server.wait()
print(json.dumps({"before": before, "lost": lost, "after": after, "titles": titles}))
"""


def _write_project(root: Path, database: dict[str, Any], script: str) -> None:
    (root / "bad_project").mkdir()
    (root / "bad_project" / "__init__.py").write_text("")
    (root / "bad_project" / "settings.py").write_text(
        textwrap.dedent(
            f"""
            SECRET_KEY = "bad-input"
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
    (root / "script.py").write_text(script)
    write_manage_py(root)


@pytest.fixture
def unsupported_project(server: Server, tmp_path: Path) -> Iterator[Path]:
    with scratch_database(server, "django_bad_input") as dbname:
        _write_project(tmp_path, database_settings(server, dbname), UNSUPPORTED_SCRIPT)
        run_python(
            tmp_path, "bad_project.settings", "manage.py", "makemigrations", "shop"
        )
        run_python(
            tmp_path, "bad_project.settings", "manage.py", "migrate", "--noinput"
        )
        yield tmp_path


def test_unsupported_features_raise_not_supported_error(
    unsupported_project: Path, server: Server
) -> None:
    seen = json.loads(
        run_python(unsupported_project, "bad_project.settings", "script.py")
    )
    assert seen["count_after"] == 2
    for probe in ("collate_expression", "collated_column"):
        if server.engine == "django_freshet":
            # Freshet orders text by code point only: an ICU collation is
            # refused, naming it, rather than ignored.
            assert seen[probe]["outcome"] == "django.db.utils.NotSupportedError", seen[
                probe
            ]
            assert 'collation "sv-x-icu" is not supported' in seen[probe]["message"]
        else:
            assert seen[probe] == {"outcome": "ok"}


@pytest.mark.skipif(
    bool(os.environ.get("FRESHET_DJANGO_URL")),
    reason="kills and restarts a Freshet of its own",
)
def test_lost_connection_is_reported_then_reconnects(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    database = {
        "ENGINE": "django_freshet",
        "NAME": "dev",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "USER": "root",
        "PASSWORD": "",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
    _write_project(tmp_path, database, LOST_CONNECTION_SCRIPT)
    env = {
        "FRESHET_BIN": str(_freshet_binary().resolve()),
        "FRESHET_PORT": str(port),
        "FRESHET_DATA": str(data),
    }
    run_python(
        tmp_path, "bad_project.settings", "manage.py", "makemigrations", "shop", env=env
    )
    seen = json.loads(
        run_python(tmp_path, "bad_project.settings", "script.py", env=env)
    )
    assert seen["before"] == 1
    # The loss is an OperationalError that says the connection is gone.
    assert seen["lost"] is not None
    assert seen["lost"]["class"] == "django.db.utils.OperationalError", seen["lost"]
    message = seen["lost"]["message"].lower()
    assert "connection" in message or "server" in message, message
    # The next request reconnects by itself, and the committed row survived.
    assert seen["after"] == 1
    assert seen["titles"] == ["kept"]
