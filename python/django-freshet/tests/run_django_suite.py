#!/usr/bin/env python3
"""Run Django's own test suite against Freshet and, side by side, PostgreSQL.

Usage (from anywhere; the venv must have Django 5.2, psycopg 3 and this
package installed)::

    # The core apps on both targets; then two apps on Freshet; then every app.
    python python/django-freshet/tests/run_django_suite.py
    python python/django-freshet/tests/run_django_suite.py --target freshet basic lookup
    python python/django-freshet/tests/run_django_suite.py --apps full
    python python/django-freshet/tests/run_django_suite.py --apps all

What it does:

1. Fetches the source distribution of the installed Django version (it
   ships ``tests/`` and ``runtests.py``) with
   ``pip download --no-binary :all: --no-deps django==X.Y.Z`` into the work
   directory (default ``<repo>/.ci/tmp/django-suite``), once.
2. For each target, writes a settings module with ``default`` and ``other``
   pointing at the server and runs, app by app,
   ``runtests.py --settings=... -v 2 --parallel 1 --noinput APP`` under a
   per-app timeout. Freshet runs with this package (``django_freshet``);
   PostgreSQL with Django's own ``django.db.backends.postgresql``.
   - ``freshet``: a server started here from ``--freshet-bin`` (default
     ``<repo>/target/release/freshet``) on a free port with a fresh data
     directory (restarted if it dies), or ``--freshet-url``.
   - ``postgresql``: the oracle of ``scripts/pg-oracle.sh`` (started if it is
     not running), or ``--pg-url``.
3. Each test's outcome comes from ``suite_support/recording_runner.py`` (the
   settings' ``TEST_RUNNER``), which also records the server errors (SQLSTATE,
   message, statement) raised while each test ran; when a run leaves no
   records, the outcomes are parsed from the verbose output instead.
4. Prints, per app, passed/failed/errored/skipped for each target and the
   pass rates, writes ``SUITE.md`` (the table, date and versions) and, for
   Freshet, ``<work>/freshet-failures.md``: the failures grouped by root
   cause (the server's SQLSTATE and message), largest group first, each with
   its count, the statement that caused it and the tests it broke.

Exit status: 0 when every app ran to completion (failures are results, not
errors of this script), 1 when an app could not run (setup failed, timed
out, server crashed), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO_ROOT = PACKAGE_ROOT.parent.parent
SUPPORT_DIR = HERE / "suite_support"

# The fast core subset that CI runs (issue 5).
CORE_APPS = [
    "basic",
    "lookup",
    "aggregation",
    "annotations",
    "expressions",
    "queries",
    "ordering",
    "model_fields",
    "migrations",
    "introspection",
    "transactions",
    "update",
    "delete",
    "bulk_create",
]

# The full list of issue 5, run on demand: the core apps and these.
FULL_APPS = CORE_APPS + [
    "schema",
    "inspectdb",
    "backends",
    "select_related",
    "prefetch_related",
    "model_inheritance",
    "many_to_one",
    "many_to_many",
    "get_or_create",
    "datetimes",
    "dates",
    "db_functions",
    "model_forms",
    "admin_views",
    "auth_tests",
    "sessions_tests",
    "contenttypes_tests",
]

OUTCOMES = [
    "passed",
    "failed",
    "errored",
    "skipped",
    "expected_failure",
    "unexpected_success",
    # Ran on the other target but not on this one (class setup failed, or
    # the app stopped early); counted as not passing.
    "not_run",
]
# When one test reports several outcomes (an error in tearDown after a
# failure, several failing subtests), the worst one counts.
OUTCOME_RANK = {
    "passed": 0,
    "skipped": 1,
    "expected_failure": 2,
    "unexpected_success": 3,
    "failed": 4,
    "errored": 5,
}
FRESHET_STARTUP_S = 30.0


def log(message: str) -> None:
    print(f"run_django_suite: {message}", file=sys.stderr, flush=True)


# --- Django's source ----------------------------------------------------------


def django_version() -> str:
    import django

    return django.__version__


def ensure_django_tests(work_dir: Path, explicit: Path | None) -> Path:
    """The ``tests/`` directory of Django's sdist for the installed version."""
    if explicit is not None:
        tests = explicit / "tests" if (explicit / "tests").is_dir() else explicit
        if not (tests / "runtests.py").is_file():
            sys.exit(f"no runtests.py under {explicit}")
        return tests
    version = django_version()
    source = work_dir / f"django-{version}"
    tests = source / "tests"
    if (tests / "runtests.py").is_file():
        return tests
    downloads = work_dir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / f"django-{version}.tar.gz"
    if not archive.is_file():
        log(f"downloading the Django {version} source distribution")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-binary",
                ":all:",
                "--no-deps",
                "--dest",
                str(downloads),
                f"django=={version}",
            ],
            check=True,
        )
        candidates = sorted(downloads.glob(f"[dD]jango-{version}.tar.gz"))
        if not candidates:
            sys.exit(f"pip download left no Django {version} sdist in {downloads}")
        archive = candidates[0]
    log(f"extracting {archive.name}")
    with tarfile.open(archive) as tar:
        tar.extractall(work_dir, filter="data")
    extracted = work_dir / f"django-{version}"
    if not extracted.is_dir():
        # The archive's top directory may be spelled "Django-X.Y.Z".
        alternatives = [p for p in work_dir.glob(f"*jango-{version}") if p.is_dir()]
        if not alternatives:
            sys.exit(f"{archive} did not extract to django-{version}/")
        alternatives[0].rename(extracted)
    return tests


# --- Servers ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FreshetServer:
    """A Freshet server on a free loopback port with a fresh data directory."""

    def __init__(self, binary: Path, scratch: Path) -> None:
        self.binary = binary
        self.scratch = scratch
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self.stderr_path = scratch / "freshet-0.stderr"

    def start(self) -> None:
        self.starts += 1
        data_dir = self.scratch / f"data-{self.starts}"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        self.stderr_path = self.scratch / f"freshet-{self.starts}.stderr"
        self.port = free_port()
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "serve",
                    "--data-dir",
                    str(data_dir),
                    "--listen",
                    f"127.0.0.1:{self.port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + FRESHET_STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(
                    f"freshet exited during startup ({self.process.returncode}):\n"
                    + self.stderr_path.read_text(errors="replace")
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    log(f"freshet {self.binary} listening on 127.0.0.1:{self.port}")
                    return
            except OSError:
                time.sleep(0.05)  # Polling the listener, bounded by the deadline.
        self.stop()
        sys.exit(f"freshet did not accept connections within {FRESHET_STARTUP_S} s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_tail(self, lines: int = 30) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self.process = None


@dataclasses.dataclass
class Target:
    """One database the suite runs against."""

    name: str  # "freshet" or "postgresql"
    engine: str
    host: str
    port: int
    user: str
    password: str
    name_default: str
    server: FreshetServer | None = None
    version: str = ""

    def settings_module(self) -> str:
        return f"suite_settings_{self.name}"


def parse_url(url: str) -> dict[str, str]:
    import psycopg.conninfo

    params = psycopg.conninfo.conninfo_to_dict(url)
    return {key: str(value) for key, value in params.items() if value is not None}


def server_version(target: Target) -> str:
    import psycopg

    try:
        with psycopg.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password or None,
            dbname=target.name_default,
            connect_timeout=10,
        ) as conn:
            row = conn.execute("SELECT version()").fetchone()
            return str(row[0]) if row else "?"
    except Exception as exc:  # Reported, not fatal: the suite shows the rest.
        return f"unknown ({exc})"


def write_settings(target: Target, work_dir: Path, time_zone: str | None) -> None:
    databases = {}
    for alias, name in (("default", target.name_default), ("other", "other")):
        databases[alias] = {
            "ENGINE": target.engine,
            "NAME": name,
            "HOST": target.host,
            "PORT": str(target.port),
            "USER": target.user,
            "PASSWORD": target.password,
            "TEST": {"NAME": f"test_django_{alias}"},
        }
    text = f'''"""Django test settings for {target.name} (run_django_suite.py)."""

DATABASES = {json.dumps(databases, indent=4)}

SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False
TEST_RUNNER = "recording_runner.RecordingRunner"
'''
    if time_zone is not None:
        # Not Django's default ("America/Chicago"): see --time-zone.
        text += f"TIME_ZONE = {time_zone!r}\n"
    (work_dir / f"{target.settings_module()}.py").write_text(text)


# --- Running the apps ---------------------------------------------------------


@dataclasses.dataclass
class AppResult:
    """The outcome of one app on one target."""

    app: str
    status: str = "ok"  # ok | timeout | exit N | setup failed | server crashed
    seconds: float = 0.0
    tests: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    outside_errors: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # Every record in the order the runner wrote it (outcomes and errors
    # outside tests), for attributing cascades to the failure that began them.
    sequence: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    log_tail: str = ""

    # Tests that ran on the other target but not on this one.
    not_run: int = 0

    def counts(self) -> Counter[str]:
        counts = Counter(record["outcome"] for record in self.tests.values())
        if self.not_run:
            counts["not_run"] = self.not_run
        return counts


VERBOSE_LINE = re.compile(
    r"^(?P<method>\w+) \((?P<where>[\w.]+)\)(?:\n.*?)?"
    r" \.\.\. (?P<outcome>ok|FAIL|ERROR|skipped.*"
    r"|expected failure|unexpected success)$",
    re.MULTILINE,
)
VERBOSE_OUTCOMES = {
    "ok": "passed",
    "FAIL": "failed",
    "ERROR": "errored",
    "expected failure": "expected_failure",
    "unexpected success": "unexpected_success",
}


def parse_verbose_output(text: str) -> dict[str, dict[str, Any]]:
    """Per-test outcomes from ``runtests.py -v 2`` output (the fallback)."""
    tests: dict[str, dict[str, Any]] = {}
    for match in VERBOSE_LINE.finditer(text):
        where = match["where"]
        test_id = where if where.endswith("." + match["method"]) else where
        raw = match["outcome"]
        outcome = "skipped" if raw.startswith("skipped") else VERBOSE_OUTCOMES[raw]
        tests[test_id] = {"test": test_id, "outcome": outcome, "sql_errors": []}
    return tests


def merge_records(lines: Iterable[str], result: AppResult) -> None:
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # A line cut short by a kill.
        result.sequence.append(record)
        if record.get("outcome") == "sql_error_outside_test":
            result.outside_errors.append(record)
            continue
        test_id = record["test"]
        previous = result.tests.get(test_id)
        if previous is None:
            result.tests[test_id] = record
            continue
        # Keep the worst outcome, and every database error seen.
        if OUTCOME_RANK[record["outcome"]] > OUTCOME_RANK[previous["outcome"]]:
            record["sql_errors"] = previous.get("sql_errors", []) + [
                e
                for e in record.get("sql_errors", [])
                if e not in previous.get("sql_errors", [])
            ]
            result.tests[test_id] = record


def load_app(target: Target, app: str, work_dir: Path) -> AppResult:
    """An app's result from the files an earlier run left (--report-only)."""
    out_dir = work_dir / "results" / target.name
    result = AppResult(app=app)
    results_path = out_dir / f"{app}.jsonl"
    log_path = out_dir / f"{app}.log"
    if results_path.is_file():
        merge_records(results_path.read_text(errors="replace").splitlines(), result)
    text = log_path.read_text(errors="replace") if log_path.is_file() else ""
    result.log_tail = "\n".join(text.splitlines()[-40:])
    if not result.tests:
        result.tests = parse_verbose_output(text)
    if not text:
        result.status = "no results"
    elif not result.tests and "Traceback" in text:
        result.status = "setup failed"
    return result


def run_app(
    target: Target,
    app: str,
    tests_dir: Path,
    work_dir: Path,
    app_timeout_s: int,
    test_timeout_s: int,
    log_sql: bool = False,
) -> AppResult:
    out_dir = work_dir / "results" / target.name
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / f"{app}.jsonl"
    log_path = out_dir / f"{app}.log"
    results_path.unlink(missing_ok=True)
    (out_dir / f"{app}.sql").unlink(missing_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(work_dir), str(SUPPORT_DIR), str(PACKAGE_ROOT)]
            + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        ),
        "DJANGO_SUITE_RESULTS": str(results_path),
        "DJANGO_SUITE_TEST_TIMEOUT": str(test_timeout_s),
        **({"DJANGO_SUITE_LOG_SQL": str(out_dir / f"{app}.sql")} if log_sql else {}),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "runtests.py",
        f"--settings={target.settings_module()}",
        "-v",
        "2",
        "--parallel",
        "1",
        "--noinput",
        app,
    ]
    result = AppResult(app=app)
    started = time.monotonic()
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=tests_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=app_timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            returncode = None
    result.seconds = time.monotonic() - started
    text = log_path.read_text(errors="replace")
    result.log_tail = "\n".join(text.splitlines()[-40:])
    if results_path.is_file():
        merge_records(results_path.read_text(errors="replace").splitlines(), result)
    if not result.tests:
        result.tests = parse_verbose_output(text)
    if returncode is None:
        result.status = f"timeout after {app_timeout_s} s"
    elif not result.tests and returncode != 0:
        result.status = "setup failed"
    elif returncode not in (0, 1):
        result.status = f"exit {returncode}"
    if target.server is not None and not target.server.alive():
        result.status = "server crashed"
        result.log_tail += "\n--- freshet stderr ---\n" + target.server.stderr_tail()
    return result


# --- Reporting -------------------------------------------------------------------


def mark_not_run(by_target: dict[str, dict[str, AppResult]]) -> None:
    """Count, per app, the tests that ran on one target but not the other."""
    names = list(by_target)
    for name in names:
        for other in names:
            if other == name:
                continue
            for app, result in by_target[name].items():
                other_result = by_target[other].get(app)
                if other_result is None or not other_result.tests:
                    continue
                missing = set(other_result.tests) - set(result.tests)
                # Placeholders for failed class setup stand for their tests.
                missing = {t for t in missing if not t.startswith("setUp")}
                result.not_run = max(result.not_run, len(missing))


def rates(counts: Counter[str]) -> tuple[float | None, float | None]:
    """(pass rate, pass rate counting expected failures as passes)."""
    ran = sum(counts[o] for o in OUTCOMES if o != "skipped")
    if ran == 0:
        return None, None
    return (
        counts["passed"] / ran,
        (counts["passed"] + counts["expected_failure"]) / ran,
    )


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def cell(result: AppResult | None) -> str:
    if result is None:
        return "-"
    c = result.counts()
    text = f"{c['passed']}/{c['failed']}/{c['errored']}/{c['skipped']}"
    extra = []
    if c["expected_failure"]:
        extra.append(f"xf {c['expected_failure']}")
    if c["unexpected_success"]:
        extra.append(f"us {c['unexpected_success']}")
    if c["not_run"]:
        extra.append(f"not run {c['not_run']}")
    if result.status != "ok":
        extra.append(result.status)
    return text + (f" ({', '.join(extra)})" if extra else "")


def total_counts(results: dict[str, AppResult]) -> Counter[str]:
    total: Counter[str] = Counter()
    for result in results.values():
        total.update(result.counts())
    return total


def expected_failure_reasons() -> dict[str, str]:
    try:
        from django_freshet.features import EXPECTED_FAILURES
    except Exception:
        return {}
    return {
        test: reason for reason, tests in EXPECTED_FAILURES.items() for test in tests
    }


def summary_table(
    apps: list[str], by_target: dict[str, dict[str, AppResult]]
) -> list[str]:
    targets = [t for t in ("freshet", "postgresql") if t in by_target]
    header = "| app | " + " | ".join(
        f"{t} pass/fail/error/skip | {t} pass rate" for t in targets
    )
    lines = [header + " |", "|" + " --- |" * (1 + 2 * len(targets))]
    for app in apps:
        row = [app]
        for t in targets:
            result = by_target[t].get(app)
            row.append(cell(result))
            row.append(pct(rates(result.counts())[0]) if result else "-")
        lines.append("| " + " | ".join(row) + " |")
    row = ["**total**"]
    for t in targets:
        c = total_counts(by_target[t])
        row.append(
            f"**{c['passed']}/{c['failed']}/{c['errored']}/{c['skipped']}**"
            + (f" (xf {c['expected_failure']})" if c["expected_failure"] else "")
        )
        row.append(f"**{pct(rates(c)[0])}**")
    lines.append("| " + " | ".join(row) + " |")
    return lines


def overall_lines(by_target: dict[str, dict[str, AppResult]]) -> list[str]:
    lines = []
    for t, results in by_target.items():
        c = total_counts(results)
        raw, excused = rates(c)
        ran = sum(c[o] for o in OUTCOMES if o != "skipped")
        lines.append(
            f"- {t}: {c['passed']} of {ran} tests that ran passed: "
            f"pass rate {pct(raw)} counting expected failures as failures, "
            f"{pct(excused)} counting them as passes "
            f"({c['expected_failure']} expected failures, "
            f"{c['unexpected_success']} unexpected successes, "
            f"{c['not_run']} not run, "
            f"{c['skipped']} skipped)."
        )
    return lines


def versions(targets: list[Target]) -> list[str]:
    import django
    import psycopg

    lines = [
        f"- Date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Django {django.__version__}, psycopg {psycopg.__version__}, "
        f"Python {platform.python_version()}",
    ]
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "crates"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        lines.append(
            f"- Repository at {commit}"
            + (" (with uncommitted server changes)" if dirty else "")
        )
    except (OSError, subprocess.CalledProcessError):
        pass
    for target in targets:
        lines.append(f"- {target.name}: {target.version} ({target.engine})")
        if target.server is not None:
            lines.append(f"  - binary: `{target.server.binary}`")
    return lines


def feature_differences() -> list[str]:
    """The feature flags django_freshet sets differently from postgresql."""
    try:
        from django.db.backends.postgresql.features import (
            DatabaseFeatures as PostgresqlFeatures,
        )

        from django_freshet.features import DatabaseFeatures
    except Exception as exc:  # Reported, not fatal.
        return [f"- (could not import the features: {exc})"]
    lines = []
    for name, value in sorted(vars(DatabaseFeatures).items()):
        if name.startswith("_") or callable(value) or hasattr(value, "__get__"):
            continue
        if not hasattr(PostgresqlFeatures, name):
            continue
        original = getattr(PostgresqlFeatures, name)
        if isinstance(original, property):
            lines.append(f"- `{name} = {value!r}` (postgresql: by server version)")
        elif original != value:
            lines.append(f"- `{name} = {value!r}` (postgresql: `{original!r}`)")
    return lines


def write_suite_md(
    path: Path,
    apps: list[str],
    by_target: dict[str, dict[str, AppResult]],
    targets: list[Target],
    command: str,
    time_zone: str | None,
) -> None:
    reasons = expected_failure_reasons()
    configuration = [
        f"- TIME_ZONE: {time_zone!r} for both targets (instead of Django's"
        " default, 'America/Chicago')"
        if time_zone
        else "- TIME_ZONE: Django's default, 'America/Chicago'",
    ]
    lines = [
        "# Django's test suite on Freshet",
        "",
        "Written by `tests/run_django_suite.py`; do not edit by hand. Each cell is",
        "passed/failed/errored/skipped (xf: expected failures, us: unexpected",
        "successes). The pass rate is passed / (tests that ran, i.e. not skipped).",
        "PostgreSQL is the yardstick: the same apps with Django's own postgresql",
        "backend against a real PostgreSQL server.",
        "",
        *versions(targets),
        f"- Command: `{command}`",
        *configuration,
        "",
        *summary_table(apps, by_target),
        "",
        *overall_lines(by_target),
        "",
        "## Expected failures (`django_freshet.features.EXPECTED_FAILURES`)",
        "",
    ]
    if reasons:
        lines += [f"- `{test}`: {reason}" for test, reason in sorted(reasons.items())]
    else:
        lines.append("None: every failure above is a difference to fix in the server.")
    lines += [
        "",
        "## Feature flags that differ from the postgresql backend",
        "",
        "Features the server does not implement yet (see `django_freshet/features.py`",
        "for the evidence); the tests that need them are skipped, and each is a server",
        "to-do.",
        "",
        *feature_differences(),
        "",
    ]
    path.write_text("\n".join(lines))


# --- Failure analysis -------------------------------------------------------------

QUOTED = re.compile(r'"[^"]*"')
NUMBER = re.compile(r"\b\d+\b")


def normalize(message: str) -> str:
    """A message with the test-specific parts (names, numbers) blanked."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    first = QUOTED.sub('"…"', first)
    first = NUMBER.sub("N", first)
    return first[:200]


def primary_sql_error(errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first server error that is not a consequence of an earlier one
    (25P02: the transaction was already aborted)."""
    for error in errors:
        if error.get("sqlstate") != "25P02":
            return error
    return None


def error_key(error: dict[str, Any]) -> str:
    code = error.get("sqlstate") or error.get("exception")
    return f"{code}: {normalize(error.get('message', ''))}"


@dataclasses.dataclass
class Cause:
    """One root cause and the tests it broke."""

    key: str
    tests: list[str] = dataclasses.field(default_factory=list)
    # Tests that only hit 25P02: an earlier failure (this cause) had left the
    # session in an aborted transaction.
    cascaded: list[str] = dataclasses.field(default_factory=list)
    errors: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    example: dict[str, Any] | None = None

    @property
    def count(self) -> int:
        return len(self.tests) + len(self.cascaded)


def classify_failures(
    freshet: dict[str, AppResult], pg_outcome: dict[str, str]
) -> tuple[dict[str, Cause], list[str]]:
    """Group Freshet's failing tests by root cause (see ``failure_analysis``)."""
    causes: dict[str, Cause] = {}
    also_on_pg: list[str] = []
    for result in freshet.values():
        last_root: str | None = None
        seen: set[str] = set()
        for record in result.sequence:
            errors = (
                [record]
                if record.get("outcome") == "sql_error_outside_test"
                else record.get("sql_errors", [])
            )
            primary = primary_sql_error(errors)
            test_id = str(record.get("test") or "")
            final = result.tests.get(test_id) if test_id else None
            failing = (
                final is not None
                and final["outcome"] in ("failed", "errored", "unexpected_success")
                and test_id not in seen
            )
            if failing and pg_outcome.get(test_id) in ("failed", "errored"):
                also_on_pg.append(test_id)
                seen.add(test_id)
                failing = False
            if failing and final is not None:
                seen.add(test_id)
                final_errors = final.get("sql_errors", [])
                final_primary = primary_sql_error(final_errors)
                if final_primary is not None:
                    key, cascaded, error = (
                        error_key(final_primary),
                        False,
                        final_primary,
                    )
                elif final_errors and last_root is not None:
                    key, cascaded, error = last_root, True, None
                elif final_errors:
                    key, cascaded, error = (
                        error_key(final_errors[0]),
                        False,
                        final_errors[0],
                    )
                elif final.get("timed_out"):
                    key, cascaded, error = (
                        "timeout: ran past the per-test limit",
                        False,
                        None,
                    )
                else:
                    exception = str(final.get("exception", "?")).rsplit(".", 1)[-1]
                    message = normalize(final.get("message", ""))
                    key = f"no server error; {exception}: {message}"
                    cascaded, error = False, None
                cause = causes.setdefault(key, Cause(key))
                (cause.cascaded if cascaded else cause.tests).append(test_id)
                if error is not None:
                    cause.errors.append(error)
                if cause.example is None and not cascaded:
                    cause.example = final
            if primary is not None:
                last_root = error_key(primary)
    return causes, also_on_pg


def failure_analysis(
    freshet: dict[str, AppResult], postgresql: dict[str, AppResult] | None
) -> list[str]:
    """Freshet's failures grouped by root cause, as Markdown.

    A test's cause is the first server error it hit that is not 25P02 (which
    only follows an earlier error). A test that hit nothing but 25P02 is
    counted as a cascade of the last root error before it, in the same app:
    that failure left the session in an aborted transaction. A test without
    any server error is grouped by its exception and message (a wrong result
    or a client-side error). Tests that also fail on PostgreSQL are listed
    apart.
    """
    pg_outcome: dict[str, str] = {}
    if postgresql:
        for result in postgresql.values():
            for test_id, record in result.tests.items():
                pg_outcome[test_id] = record["outcome"]
    causes, also_on_pg = classify_failures(freshet, pg_outcome)
    lines = [
        "# Freshet failures grouped by root cause",
        "",
        "A test's cause is the first server error it hit that is not 25P02 (which",
        "only follows an earlier error). Tests that hit nothing but 25P02 are counted",
        "as cascades of the last root error before them: that failure left the",
        "session in an aborted transaction. Tests with no server error are grouped",
        "by their exception (wrong results, client-side errors). Tests that also",
        "fail on PostgreSQL are listed apart at the end.",
        "",
    ]
    ranked = sorted(causes.values(), key=lambda c: (-c.count, c.key))
    for rank, cause in enumerate(ranked, start=1):
        extra = f", {len(cause.cascaded)} of them cascaded" if cause.cascaded else ""
        lines += [f"## {rank}. {cause.key} ({cause.count} tests{extra})", ""]
        statements = [e.get("executed") or e.get("sql") or "" for e in cause.errors]
        if statements:
            shortest = min(statements, key=len)
            lines += ["Shortest statement:", "", "```sql", shortest[:2000], "```", ""]
            messages = Counter(e["message"].splitlines()[0] for e in cause.errors)
            lines.append(
                "Messages: "
                + "; ".join(f"`{m[:160]}` x{n}" for m, n in messages.most_common(5))
            )
            lines.append("")
        elif cause.example is not None:
            lines += [
                "Example traceback:",
                "",
                "```",
                str(cause.example.get("traceback", ""))[-1500:],
                "```",
                "",
            ]
        tests = cause.tests + cause.cascaded
        lines.append("Tests: " + ", ".join(f"`{t}`" for t in tests[:12]))
        if len(tests) > 12:
            lines[-1] += f" and {len(tests) - 12} more"
        lines.append("")
    if also_on_pg:
        lines += [f"## Also failing on PostgreSQL ({len(also_on_pg)} tests)", ""]
        lines += [f"- `{t}`" for t in sorted(also_on_pg)]
        lines.append("")
    if postgresql:
        not_run = []
        for app, result in freshet.items():
            pg_result = postgresql.get(app)
            if pg_result is None:
                continue
            missing = set(pg_result.tests) - set(result.tests)
            if missing:
                not_run.append(f"- {app}: {len(missing)} tests")
        if not_run:
            lines += [
                "## Tests that ran on PostgreSQL but not on Freshet",
                "",
                "(their class or module setup failed, or the app did not finish)",
                "",
                *not_run,
                "",
            ]
    stopped = []
    for app, result in freshet.items():
        if result.status == "ok":
            continue
        exceptions = [
            line.strip()
            for line in result.log_tail.splitlines()
            if re.match(r"^[\w.]+(Error|Exception|NotSupported\w*): ", line.strip())
        ]
        last = exceptions[-1] if exceptions else "(no exception in the log's tail)"
        stopped.append(f"- {app}: {result.status}: `{last[:300]}`")
    if stopped:
        lines += ["## Apps that did not run to completion", "", *stopped, ""]
    setup_errors = Counter(
        error_key(e) for result in freshet.values() for e in result.outside_errors
    )
    if setup_errors:
        lines += ["## Server errors outside tests (database setup, class setup)", ""]
        lines += [f"- {key} x{n}" for key, n in setup_errors.most_common(30)]
        lines.append("")
    return lines


# --- Main ----------------------------------------------------------------------------


def pg_oracle_url() -> str:
    script = REPO_ROOT / "scripts" / "pg-oracle.sh"
    status = subprocess.run(["bash", str(script), "status"], capture_output=True)
    if status.returncode != 0:
        log("starting the PostgreSQL oracle (scripts/pg-oracle.sh start)")
        subprocess.run(["bash", str(script), "start"], check=True)
    return subprocess.run(
        ["bash", str(script), "url"], capture_output=True, text=True, check=True
    ).stdout.strip()


def make_targets(args: argparse.Namespace, scratch: Path) -> Iterator[Target]:
    names = ["freshet", "postgresql"] if args.target == "both" else [args.target]
    for name in names:
        if name == "freshet":
            if args.freshet_url:
                p = parse_url(args.freshet_url)
                yield Target(
                    name="freshet",
                    engine="django_freshet",
                    host=p.get("host", "127.0.0.1"),
                    port=int(p.get("port", "4566")),
                    user=p.get("user", "root"),
                    password=p.get("password", ""),
                    name_default=p.get("dbname", "dev"),
                )
            else:
                binary = Path(args.freshet_bin)
                if not binary.is_file():
                    sys.exit(
                        f"no freshet binary at {binary}: run "
                        "`cargo build --release --bin freshet` or pass --freshet-bin"
                    )
                server = FreshetServer(binary, scratch / "freshet")
                yield Target(
                    name="freshet",
                    engine="django_freshet",
                    host="127.0.0.1",
                    port=0,
                    user="root",
                    password="",
                    name_default="dev",
                    server=server,
                )
        else:
            p = parse_url(args.pg_url or pg_oracle_url())
            yield Target(
                name="postgresql",
                engine="django.db.backends.postgresql",
                host=p.get("host", "127.0.0.1"),
                port=int(p.get("port", "5432")),
                user=p.get("user", "postgres"),
                password=p.get("password", ""),
                name_default=p.get("dbname", "postgres"),
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("apps", nargs="*", help="test apps (default: --apps core)")
    parser.add_argument(
        "--apps",
        dest="app_set",
        choices=["core", "full", "all"],
        default=None,
        help="core: the CI subset; full: the core apps and the issue's full "
        "list (schema, backends, admin_views, auth_tests, ...); all: every "
        "app in Django's tests/",
    )
    parser.add_argument(
        "--target", choices=["freshet", "postgresql", "both"], default="both"
    )
    parser.add_argument(
        "--freshet-bin", default=str(REPO_ROOT / "target" / "release" / "freshet")
    )
    parser.add_argument("--freshet-url", help="use this running Freshet instead")
    parser.add_argument("--pg-url", help="PostgreSQL URL (default: the pg-oracle)")
    parser.add_argument("--django-src", type=Path, help="an extracted Django sdist")
    parser.add_argument(
        "--work-dir", type=Path, default=REPO_ROOT / ".ci" / "tmp" / "django-suite"
    )
    parser.add_argument(
        "--time-zone",
        help="TIME_ZONE for both targets (default: Django's, America/Chicago, "
        "which the backend sets on every connection when USE_TZ is False)",
    )
    parser.add_argument(
        "--log-sql",
        action="store_true",
        help="log every statement to <work>/results/<target>/<app>.sql",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing; rebuild the reports from the last run's results",
    )
    parser.add_argument("--test-timeout", type=int, default=120, help="seconds")
    parser.add_argument("--app-timeout", type=int, default=1800, help="seconds")
    parser.add_argument(
        "--total-timeout", type=int, default=4 * 3600, help="seconds for everything"
    )
    parser.add_argument(
        "--suite-md",
        type=Path,
        default=PACKAGE_ROOT / "SUITE.md",
        help="where to write the table ('-' for nowhere)",
    )
    parser.add_argument(
        "--min-ratio",
        type=float,
        default=None,
        help="exit 1 unless Freshet passes at least this fraction of the "
        "tests PostgreSQL passes (issue 5's goal is 0.95; needs --target both)",
    )
    args = parser.parse_args(argv)

    work_dir: Path = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    tests_dir = ensure_django_tests(work_dir, args.django_src)
    if args.apps:
        apps = args.apps
    elif args.app_set == "all":
        apps = sorted(
            p.name
            for p in tests_dir.iterdir()
            if p.is_dir() and (p / "__init__.py").is_file()
        )
    elif args.app_set == "full":
        apps = FULL_APPS
    else:
        apps = CORE_APPS

    scratch = Path(tempfile.mkdtemp(prefix="django-suite-", dir=work_dir))
    deadline = time.monotonic() + args.total_timeout
    targets = list(make_targets(args, scratch))
    by_target: dict[str, dict[str, AppResult]] = {}
    incomplete = False
    try:
        for target in targets if args.report_only else []:
            by_target[target.name] = {
                app: load_app(target, app, work_dir) for app in apps
            }
            versions_path = work_dir / "results" / target.name / "version.txt"
            target.version = (
                versions_path.read_text().strip()
                if versions_path.is_file()
                else "(unknown: from an earlier run)"
            )
        for target in [] if args.report_only else targets:
            if target.server is not None:
                target.server.start()
                target.port = target.server.port
            target.version = server_version(target)
            (work_dir / "results" / target.name).mkdir(parents=True, exist_ok=True)
            (work_dir / "results" / target.name / "version.txt").write_text(
                target.version
            )
            write_settings(target, work_dir, args.time_zone)
            results: dict[str, AppResult] = {}
            by_target[target.name] = results
            for app in apps:
                remaining = int(deadline - time.monotonic())
                if remaining <= 60:
                    log(f"total timeout reached; {app} and later apps not run")
                    incomplete = True
                    break
                if target.server is not None and not target.server.alive():
                    log("freshet is down; restarting it on a fresh data directory")
                    target.server.start()
                    target.port = target.server.port
                    write_settings(target, work_dir, args.time_zone)
                log(f"{target.name}: {app}")
                result = run_app(
                    target,
                    app,
                    tests_dir,
                    work_dir,
                    min(args.app_timeout, remaining),
                    args.test_timeout,
                    args.log_sql,
                )
                results[app] = result
                c = result.counts()
                log(
                    f"{target.name}: {app}: {c['passed']} passed, "
                    f"{c['failed']} failed, "
                    f"{c['errored']} errored, {c['skipped']} skipped "
                    f"in {result.seconds:.0f} s ({result.status})"
                )
                if result.status != "ok":
                    incomplete = True
                    log(f"{app} on {target.name}: {result.status}\n{result.log_tail}")
            if target.server is not None:
                target.server.stop()
    finally:
        for target in targets:
            if target.server is not None:
                target.server.stop()

    mark_not_run(by_target)
    print()
    print("\n".join(summary_table(apps, by_target)))
    print()
    print("\n".join(overall_lines(by_target)))
    for name, results in by_target.items():
        c = total_counts(results)
        # The plain closing line, per target.
        print(f"{name}: {c['passed']} passed, {c['failed'] + c['errored']} failed")
    command = "python python/django-freshet/tests/run_django_suite.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if "freshet" in by_target:
        analysis = failure_analysis(by_target["freshet"], by_target.get("postgresql"))
        path = work_dir / "freshet-failures.md"
        path.write_text("\n".join(analysis))
        log(f"wrote {path}")
    summary = {
        name: {app: dataclasses.asdict(r) for app, r in results.items()}
        for name, results in by_target.items()
    }
    (work_dir / "summary.json").write_text(json.dumps(summary))
    if str(args.suite_md) != "-":
        write_suite_md(
            args.suite_md,
            apps,
            by_target,
            targets,
            command.strip(),
            args.time_zone,
        )
        log(f"wrote {args.suite_md}")
    shutil.rmtree(scratch, ignore_errors=True)
    if args.min_ratio is not None:
        if "freshet" not in by_target or "postgresql" not in by_target:
            log("--min-ratio needs both targets")
            return 2
        ours = total_counts(by_target["freshet"])["passed"]
        theirs = total_counts(by_target["postgresql"])["passed"]
        ratio = ours / theirs if theirs else 0.0
        verdict = "meets" if ratio >= args.min_ratio else "misses"
        log(
            f"goal: freshet passes {ours} of the {theirs} tests PostgreSQL passes "
            f"({ratio:.1%}); {verdict} the {args.min_ratio:.0%} goal"
        )
        if ratio < args.min_ratio:
            return 1
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
