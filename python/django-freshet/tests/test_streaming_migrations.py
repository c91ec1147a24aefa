"""Sources, sinks and subscriptions from Django migrations.

A throwaway project's hand-written migration creates, in order, a datagen
source, a materialized view over it (RunSQL), a sink writing the view
into a table of another database on the same Freshet server (the
postgres connector: "sink to another Freshet"), and a subscription to the
view. After ``migrate``:

- the source produces its rows, and the view equals its query re-run;
- the sink's target table converges to the view's contents;
- the subscription's change feed answers;
- ``sqlmigrate`` shows the statements;

and ``migrate shop zero`` removes everything in reverse order (a wrong
order would fail: a view cannot be dropped while a sink reads it).

Freshet only: PostgreSQL has no sources, sinks or subscriptions.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Server, admin_connect, database_settings, run_python, scratch_database, write_manage_py

MIGRATION = """
from django.db import migrations

from django_freshet import operations as freshet


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        freshet.CreateSource(
            "readings",
            columns=[("id", "bigint"), ("v", "int")],
            connector="datagen",
            options={{
                "fields.id.kind": "sequence", "fields.id.start": 1, "fields.id.end": 60,
                "fields.v.kind": "sequence", "fields.v.start": 1, "fields.v.end": 60,
                "datagen.rows.per.second": 200,
            }},
        ),
        migrations.RunSQL(
            "CREATE MATERIALIZED VIEW reading_groups AS "
            "SELECT v % 4 AS k, count(*) AS n, sum(v) AS s FROM readings GROUP BY v % 4",
            "DROP MATERIALIZED VIEW reading_groups",
        ),
        freshet.CreateSink(
            "groups_out",
            connector="postgres",
            from_view="reading_groups",
            options={{
                "host": "127.0.0.1", "port": {port}, "user": "root", "database": "{target}",
                "table": "groups_copy", "type": "upsert", "primary_key": "k",
            }},
        ),
        freshet.CreateSubscription("groups_feed", from_view="reading_groups", retention="1h"),
    ]
"""


def _rows(conn, sql: str) -> list[tuple]:
    return sorted(conn.execute(sql).fetchall())


@pytest.fixture(scope="module")
def project(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    if server.kind != "freshet":
        pytest.skip("sources, sinks and subscriptions are Freshet's")
    with scratch_database(server, "django_streaming") as dbname, scratch_database(server, "sink_target") as target:
        with admin_connect(server, target) as conn:
            conn.execute("CREATE TABLE groups_copy (k int PRIMARY KEY, n bigint, s bigint)")
        root = tmp_path_factory.mktemp("streaming_project")
        (root / "streaming_project").mkdir()
        (root / "streaming_project" / "__init__.py").write_text("")
        (root / "streaming_project" / "settings.py").write_text(
            textwrap.dedent(
                f"""
                SECRET_KEY = "streaming"
                INSTALLED_APPS = ["django_freshet", "shop"]
                DATABASES = {{"default": {database_settings(server, dbname)!r}}}
                DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
                """
            )
        )
        (root / "shop").mkdir()
        (root / "shop" / "__init__.py").write_text("")
        (root / "shop" / "models.py").write_text("")
        (root / "shop" / "migrations").mkdir()
        (root / "shop" / "migrations" / "__init__.py").write_text("")
        (root / "shop" / "migrations" / "0001_initial.py").write_text(
            MIGRATION.format(port=server.port, target=target)
        )
        write_manage_py(root)
        yield root, dbname, target


def _until(deadline_s: float, check) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # Waiting for background delivery, bounded above.


def test_migrate_creates_and_removes_in_order(project: tuple[Path, str, str], server: Server) -> None:
    root, dbname, target = project
    run = lambda *args: run_python(root, "streaming_project.settings", *args)  # noqa: E731

    sql = run("manage.py", "sqlmigrate", "shop", "0001")
    assert "CREATE SOURCE" in sql and "CREATE SINK" in sql and "CREATE SUBSCRIPTION" in sql
    run("manage.py", "migrate", "--noinput")

    with admin_connect(server, dbname) as conn, admin_connect(server, target) as copy:
        _until(30, lambda: (assert_count(conn, 60)))
        view = _rows(conn, "SELECT k, n, s FROM reading_groups")
        assert view == _rows(conn, "SELECT v % 4, count(*), sum(v) FROM readings GROUP BY v % 4")
        assert len(view) == 4
        _until(30, lambda: (assert_equal(_rows(copy, "SELECT k, n, s FROM groups_copy"), view)))
        assert [r[0] for r in conn.execute("SHOW SUBSCRIPTIONS").fetchall()] == ["groups_feed"]
        conn.execute("DECLARE c SUBSCRIPTION CURSOR FOR groups_feed FULL")
        assert len(conn.execute("FETCH 10 FROM c").fetchall()) == 4
        conn.execute("CLOSE c")

    run("manage.py", "migrate", "shop", "zero", "--noinput")
    with admin_connect(server, dbname) as conn:
        left = conn.execute(
            "SELECT relname FROM pg_class WHERE relname IN ('readings', 'reading_groups')"
        ).fetchall()
        assert left == []
        assert conn.execute("SHOW SUBSCRIPTIONS").fetchall() == []
        assert conn.execute("SELECT count(*) FROM freshet_sinks").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM freshet_sources").fetchone() == (0,)


def assert_count(conn, expected: int) -> None:
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (expected,)


def assert_equal(a, b) -> None:
    assert a == b
