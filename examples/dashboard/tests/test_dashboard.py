"""The dashboard example end to end, in a headless browser.

Migrates the example (SQLite and a fresh Freshet database), generates
orders with ``manage.py gen_data``, serves the page with Django's
development server, renders it in headless Chromium (``chromium
--headless --dump-dom``) and checks every figure on it against the same
ranking computed directly on the ``orders`` table with psycopg. Then it
changes the orders (more orders, a deleted state, a repriced item) and
checks the page again: the views behind it must have followed.

Freshet only: PostgreSQL would need ``REFRESH MATERIALIZED VIEW``. Needs
Debian's ``chromium`` (``apt-get install chromium``); without it the
test is skipped, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1]


def _load_support():  # type: ignore[no-untyped-def]
    """The django-freshet tests' conftest (its Freshet server fixture and
    helpers), loaded under a name of its own rather than copied: a second
    ``conftest`` module would shadow the first in a combined pytest run."""
    name = "django_freshet_test_support"
    if name not in sys.modules:
        path = EXAMPLE.parents[1] / "python/django-freshet/tests/conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


support = _load_support()
# The session fixture that starts a Freshet server (or uses
# FRESHET_DJANGO_URL).
server = support.server
STARTUP_DEADLINE_S = 30.0
CHROMIUM_TIMEOUT_S = 90

# The four rankings, computed directly on the base table (the oracle).
DIRECT_SQL = {
    "states-by-turnover": "SELECT state, sum(quantity * price) AS turnover "
    "FROM orders GROUP BY state ORDER BY turnover DESC, state LIMIT 5",
    "items-by-average-quantity": "SELECT 'item ' || item_id, avg(quantity) AS a "
    "FROM orders GROUP BY item_id ORDER BY a DESC, item_id LIMIT 5",
    "items-by-quantity": "SELECT 'item ' || item_id, sum(quantity) AS q "
    "FROM orders GROUP BY item_id ORDER BY q DESC, item_id LIMIT 5",
    "items-by-turnover": "SELECT 'item ' || item_id, sum(quantity * price) AS t "
    "FROM orders GROUP BY item_id ORDER BY t DESC, item_id LIMIT 5",
}


def _figure(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    assert isinstance(value, Decimal), value
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class _Page(HTMLParser):
    """Collects the rankings (table id -> [(key, figure)]) and the order
    line count from the dashboard's DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.rankings: dict[str, list[tuple[str, str]]] = {}
        self.order_lines: str | None = None
        self._table: str | None = None
        self._cell: str | None = None
        self._row: dict[str, str] = {}
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and "ranking" in (attributes.get("class") or ""):
            self._table = attributes.get("id")
            self.rankings[str(self._table)] = []
        elif tag == "td" and attributes.get("class") in ("key", "figure"):
            self._cell, self._text = attributes["class"], ""
        elif tag == "span" and attributes.get("id") == "order-lines":
            self._cell, self._text = "order-lines", ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._cell == "order-lines" and tag == "span":
            self.order_lines = self._text.strip()
            self._cell = None
        elif self._cell is not None and tag == "td":
            self._row[self._cell] = self._text.strip()
            self._cell = None
            if "key" in self._row and "figure" in self._row and self._table:
                self.rankings[self._table].append(
                    (self._row["key"], self._row["figure"])
                )
                self._row = {}
        elif tag == "table":
            self._table = None


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    message = "chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _render(chromium: str, url: str, profile: Path) -> _Page:
    completed = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_S,
    )
    assert completed.returncode == 0, completed.stderr
    page = _Page()
    page.feed(completed.stdout)
    assert page.order_lines is not None, completed.stdout
    return page


@pytest.fixture(scope="module")
def site(
    server: support.Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str], support.Server, str]]:
    """The example, migrated onto a fresh database, served on a free port:
    (URL, environment, server, database name)."""
    _chromium()  # Skips (or fails, in CI) before anything is set up.
    scratch = tmp_path_factory.mktemp("dashboard")
    with support.scratch_database(server, "dashboard") as dbname:
        env = {
            "FRESHET_HOST": server.host,
            "FRESHET_PORT": str(server.port),
            "FRESHET_DB": dbname,
            "FRESHET_USER": server.user,
            "FRESHET_PASSWORD": server.password,
            "DASHBOARD_SQLITE": str(scratch / "oltp.sqlite3"),
        }
        manage = ["manage.py"]
        settings = "dashboard_site.settings"
        support.run_python(EXAMPLE, settings, *manage, "migrate", "--noinput", env=env)
        support.run_python(
            EXAMPLE,
            settings,
            *manage,
            "migrate",
            "--database",
            "freshet",
            "--noinput",
            env=env,
        )
        # The committed migration matches the models (views included).
        support.run_python(
            EXAMPLE,
            settings,
            *manage,
            "makemigrations",
            "--check",
            "--dry-run",
            "--noinput",
            env=env,
        )
        port = support.free_port()
        log = scratch / "runserver.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "runserver",
                    f"127.0.0.1:{port}",
                    "--noreload",
                ],
                cwd=EXAMPLE,
                env={
                    **os.environ,
                    **env,
                    "DJANGO_SETTINGS_MODULE": settings,
                    "PYTHONPATH": str(support.PACKAGE_ROOT),
                },
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + STARTUP_DEADLINE_S
            while True:
                if process.poll() is not None:
                    pytest.fail(f"runserver exited:\n{log.read_text()}", pytrace=False)
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"runserver did not start:\n{log.read_text()}")
                    time.sleep(0.05)  # Polling the listener, bounded by the deadline.
            yield f"http://127.0.0.1:{port}/", env, server, dbname
        finally:
            process.terminate()
            process.wait(timeout=30)


def _check_page(
    page: _Page, server: support.Server, dbname: str
) -> dict[str, list[tuple[str, str]]]:
    with support.admin_connect(server, dbname) as conn:
        count = conn.execute("SELECT count(*) FROM orders").fetchone()
        direct = {
            slug: [(str(key), _figure(value)) for key, value in conn.execute(sql)]
            for slug, sql in DIRECT_SQL.items()
        }
    assert count is not None and page.order_lines == str(count[0])
    assert page.rankings == direct
    for slug, rows in direct.items():
        assert len(rows) == 5, slug
    return direct


def test_dashboard_figures_match_the_orders(
    site: tuple[str, dict[str, str], support.Server, str], tmp_path: Path
) -> None:
    url, env, server, dbname = site
    chromium = _chromium()
    run = [EXAMPLE, "dashboard_site.settings", "manage.py", "gen_data"]

    support.run_python(*run, "--rows", "3000", "--batch", "500", "--seed", "1", env=env)
    first = _check_page(_render(chromium, url, tmp_path / "profile"), server, dbname)

    # More orders, a state gone, an item repriced: the views follow.
    support.run_python(*run, "--rows", "1500", "--batch", "500", "--seed", "2", env=env)
    with support.admin_connect(server, dbname) as conn:
        leader = first["states-by-turnover"][0][0]
        conn.execute("DELETE FROM orders WHERE state = %s", [leader])
        conn.execute("UPDATE orders SET price = price * 3 WHERE item_id = 100007")
    second = _check_page(_render(chromium, url, tmp_path / "profile"), server, dbname)
    assert second != first
    assert leader not in [key for key, _ in second["states-by-turnover"]]
