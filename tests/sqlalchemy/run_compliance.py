#!/usr/bin/env python3
"""Runs SQLAlchemy's dialect compliance suite against Freshet and against
PostgreSQL with SQLAlchemy's own ``postgresql`` dialect, and compares them.

The suite is ``test/dialect/test_suite.py`` from the source distribution of
the SQLAlchemy version installed in this interpreter (fetched once with
``pip download`` into ``.ci/tmp/sqlalchemy-suite/``), run with the sdist's
own conftest and ``setup.cfg``, so SQLAlchemy's ``DefaultRequirements``
decide what is skipped on PostgreSQL, exactly as in SQLAlchemy's CI. A small
plugin (``sqla_outcomes_plugin.py``) records each test's outcome and the
server error behind each failure; it changes no test (see its docstring for
the two provisioning chores it tolerates).

Each target gets a fresh database ``sqlalchemy_suite`` with the schemas
``test_schema`` and ``test_schema_2`` (and the extensions ``citext`` and
``hstore`` where the server has them). Freshet is a server this script
starts on a free port with an empty data directory, one per driver run,
unless ``--freshet-url`` names a running one.

Usage (from the repository root, with the project venv):

    scripts/pg-oracle.sh start
    .venv/bin/python tests/sqlalchemy/run_compliance.py            # full suite
    .venv/bin/python tests/sqlalchemy/run_compliance.py --subset --check

The full and subset runs rewrite their section of tests/sqlalchemy/RESULTS.md
(not with ``--k``, ``--check`` or ``--results``). ``--check`` exits 1 when
Freshet passes fewer subset (or full) tests than tests/sqlalchemy/baseline.json
records, when PostgreSQL fails any test, or when a run timed out or the
Freshet server died; ``--update-baseline`` records the current pass counts.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE_DIR = REPO / ".ci" / "tmp" / "sqlalchemy-suite"
RESULTS_MD = HERE / "RESULTS.md"
BASELINE_JSON = HERE / "baseline.json"
SUITE_DATABASE = "sqlalchemy_suite"
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")

sys.path.insert(0, str(HERE))
from sqla_outcomes_plugin import base_class_name, normalize_message  # noqa: E402

# The subset CI runs: the suite's classes for core DDL, DML (insert,
# returning, update/delete, rowcount), SELECT (limits, joins, set operations,
# IN/LIKE/IS DISTINCT FROM, CTEs), reflection (tables, indexes, columns,
# keys, constraints, comments) and the everyday column types, plus the
# dialect's error, isolation and sequence behaviour. It leaves out JSON,
# ARRAY, enums, identity/computed columns, odd identifiers and the
# historic-date variants. About 1,100 of the suite's ~1,900 tests.
SUBSET_CLASSES = [
    # DDL
    "TableDDLTest",
    "FutureTableDDLTest",
    "LongNameBlowoutTest",
    # DML
    "InsertBehaviorTest",
    "ReturningTest",
    "LastrowidTest",
    "SimpleUpdateDeleteTest",
    "RowCountTest",
    # SELECT
    "CompoundSelectTest",
    "ExistsTest",
    "FetchLimitOffsetTest",
    "JoinTest",
    "OrderByLabelTest",
    "ExpandingBoundInTest",
    "LikeFunctionsTest",
    "IsOrIsNotDistinctFromTest",
    "DistinctOnTest",
    "ValuesExpressionTest",
    "CTETest",
    "RowFetchTest",
    "WindowFunctionTest",
    # reflection
    "HasTableTest",
    "HasIndexTest",
    "ComponentReflectionTest",
    "ComponentReflectionTestExtra",
    "CompositeKeyReflectionTest",
    # types
    "IntegerTest",
    "NumericTest",
    "StringTest",
    "TextTest",
    "BooleanTest",
    "DateTimeTest",
    "DateTest",
    "TimeTest",
    "IntervalTest",
    "NativeUUIDTest",
    # dialect behaviour
    "ExceptionTest",
    "IsolationLevelTest",
    "AutocommitIsolationTest",
    "SequenceTest",
    "HasSequenceTest",
]


def log(message: str) -> None:
    print(f"run_compliance: {message}", file=sys.stderr, flush=True)


# --- the SQLAlchemy source distribution --------------------------------------


def ensure_sdist(version: str, cache_dir: Path) -> Path:
    """The unpacked sdist of SQLAlchemy ``version``, downloaded once.

    Only SQLAlchemy itself is fetched as source (``--no-binary sqlalchemy``):
    with ``--no-binary :all:`` pip would also build its build dependencies
    (Cython) from source to prepare the metadata, which takes minutes."""
    root = cache_dir / f"sqlalchemy-{version}"
    if (root / "test" / "dialect" / "test_suite.py").is_file():
        return root
    cache_dir.mkdir(parents=True, exist_ok=True)
    archive = cache_dir / f"sqlalchemy-{version}.tar.gz"
    if not archive.is_file():
        log(f"downloading the SQLAlchemy {version} sdist into {cache_dir}")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                "sqlalchemy",
                f"sqlalchemy=={version}",
                "--dest",
                str(cache_dir),
            ],
            check=True,
        )
    if not archive.is_file():
        raise SystemExit(f"pip download did not produce {archive}")
    log(f"unpacking {archive.name}")
    with tarfile.open(archive) as tar:
        tar.extractall(cache_dir, filter="data")
    if not (root / "test" / "dialect" / "test_suite.py").is_file():
        raise SystemExit(f"{archive} has no test/dialect/test_suite.py")
    return root


# --- servers -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FreshetServer:
    """``freshet serve`` on a free loopback port with an empty data
    directory, stopped (and the directory removed) by ``stop``."""

    def __init__(self, binary: Path, log_dir: Path, name: str) -> None:
        self.binary = binary
        self.data_dir = Path(tempfile.mkdtemp(prefix="freshet-sqla-"))
        self.port = free_port()
        self.log_path = log_dir / f"freshet-{name}.server.log"
        self.log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(
            [
                str(binary),
                "serve",
                "--data-dir",
                str(self.data_dir / "data"),
                "--listen",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
            ],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.url = f"postgresql://root@127.0.0.1:{self.port}/dev"
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"freshet exited with {self.process.returncode} at startup:\n"
                    + self.log_tail()
                )
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        "freshet did not accept connections in 60 s"
                    ) from None
                time.sleep(0.1)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        self.log_file.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def server_url(
    url: str, *, database: str | None = None, driver: str | None = None
) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    drivername = "postgresql" if driver is None else f"postgresql+{driver}"
    parsed = parsed.set(drivername=drivername)
    return parsed.render_as_string(hide_password=False)


def prepare_database(admin_url: str) -> tuple[str, list[str]]:
    """Creates a fresh ``sqlalchemy_suite`` database with what SQLAlchemy's
    provisioning expects. Returns the database's URL and the statements the
    server refused (a refusal is reported, not fatal)."""
    import psycopg

    refused: list[str] = []

    def attempt(conn: Any, statement: str) -> bool:
        try:
            conn.execute(statement)
            return True
        except psycopg.Error as err:
            sqlstate = getattr(err, "sqlstate", "") or ""
            refused.append(
                f"`{statement}`: {sqlstate} {str(err).strip().splitlines()[0]}"
            )
            return False

    admin = server_url(admin_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not attempt(conn, f"DROP DATABASE IF EXISTS {SUITE_DATABASE} WITH (FORCE)"):
            refused.pop()
            attempt(conn, f"DROP DATABASE IF EXISTS {SUITE_DATABASE}")
        created = attempt(conn, f"CREATE DATABASE {SUITE_DATABASE}")
    suite_url = server_url(admin_url, database=SUITE_DATABASE) if created else admin
    with psycopg.connect(suite_url, autocommit=True) as conn:
        for statement in (
            "CREATE SCHEMA IF NOT EXISTS test_schema",
            "CREATE SCHEMA IF NOT EXISTS test_schema_2",
            "CREATE EXTENSION IF NOT EXISTS citext",
            "CREATE EXTENSION IF NOT EXISTS hstore",
        ):
            attempt(conn, statement)
    return suite_url, refused


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(server_url(url)) as conn:
        row = conn.execute("SELECT version()").fetchone()
        return str(row[0]) if row else "?"


# --- running the suite ---------------------------------------------------------


@dataclass
class Run:
    """One pytest run of the suite: a target and a driver."""

    target: str  # "freshet" or "postgresql"
    driver: str
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)
    provisioning_gaps: list[dict[str, Any]] = field(default_factory=list)
    setup_refused: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    timed_out: bool = False
    server_died: str | None = None
    exitstatus: int | None = None
    version: str = ""

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for record in self.tests.values():
            counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
        return counts

    def by_test(self) -> dict[str, str]:
        """Outcome by test id without the per-database class suffix, so the
        two targets' ids compare."""
        return {normalize_test_id(k): v["outcome"] for k, v in self.tests.items()}


def normalize_test_id(nodeid: str) -> str:
    parts = nodeid.split("::")
    if len(parts) >= 2:
        parts[1] = base_class_name(parts[1])
    return "::".join(parts[1:])


def run_suite(
    sdist: Path,
    target: str,
    driver: str,
    url: str,
    args: argparse.Namespace,
    out_dir: Path,
    server: FreshetServer | None,
) -> Run:
    run = Run(target=target, driver=driver)
    dburi = server_url(url, driver=driver)
    outcomes_file = out_dir / f"{target}-{driver}.jsonl"
    outcomes_file.unlink(missing_ok=True)
    log_file = out_dir / f"{target}-{driver}.pytest.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["SQLA_OUTCOMES_FILE"] = str(outcomes_file)
    env.pop("SQLA_ONLY_CLASSES", None)
    if args.subset:
        env["SQLA_ONLY_CLASSES"] = ",".join(SUBSET_CLASSES)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "test/dialect/test_suite.py",
        "--dburi",
        dburi,
        "-p",
        "no:cacheprovider",
        "-p",
        "sqla_outcomes_plugin",
        # Native tracebacks: pytest's own formatting of ~1,000 SQLAlchemy
        # failures takes minutes.
        "-q",
        "--tb=native",
        "-rN",
        "--maxfail=1000000",
    ]
    if args.k:
        command += ["-k", args.k]
    log(f"{target}/{driver}: pytest {' '.join(command[3:])}")
    started = time.monotonic()
    with open(log_file, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=sdist,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            run.exitstatus = process.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            run.timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    run.elapsed_s = round(time.monotonic() - started, 1)
    if outcomes_file.is_file():
        for line in outcomes_file.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("kind") == "test":
                run.tests[record.pop("id")] = record
            elif record.get("kind") == "session":
                run.provisioning_gaps = record.get("provisioning_gaps", [])
    if server is not None and not server.alive():
        code = server.process.returncode
        run.server_died = f"freshet exited with {code}; log tail:\n{server.log_tail()}"
    if not run.tests:
        tail = log_file.read_text(errors="replace").splitlines()[-40:]
        log(f"{target}/{driver}: no test ran; pytest output tail:\n" + "\n".join(tail))
    counts = run.counts()
    status = " TIMED OUT" if run.timed_out else ""
    log(
        f"{target}/{driver}: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['error']} errors, {counts['skipped']} skipped "
        f"in {run.elapsed_s}s{status}"
    )
    return run


# --- analysis --------------------------------------------------------------------


def failure_key(record: dict[str, Any]) -> tuple[str, str]:
    """(SQLSTATE, normalized primary message) of the server error behind a
    failure, or ("", exception text) when no server error was involved."""
    error = record.get("error")
    if error and (error.get("sqlstate") or error.get("message")):
        return error.get("sqlstate") or "", normalize_message(
            error.get("message") or ""
        )
    detail = record.get("detail") or "(no detail)"
    return "", "no server error: " + normalize_message(detail)[:160]


def failure_groups(run: Run) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for nodeid, record in run.tests.items():
        if record["outcome"] not in ("failed", "error"):
            continue
        key = failure_key(record)
        group = groups.setdefault(
            key,
            {
                "sqlstate": key[0],
                "message": key[1],
                "count": 0,
                "examples": [],
                "classes": set(),
            },
        )
        group["count"] += 1
        group["classes"].add(
            base_class_name(nodeid.split("::")[1]) if "::" in nodeid else ""
        )
        if len(group["examples"]) < 3:
            error = record.get("error") or {}
            group["examples"].append(
                {
                    "test": normalize_test_id(nodeid),
                    "message": error.get("message") or record.get("detail"),
                    "statement": error.get("statement"),
                }
            )
    return sorted(
        groups.values(), key=lambda g: (-g["count"], g["sqlstate"], g["message"])
    )


def pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def summary_rows(runs: list[Run]) -> list[list[str]]:
    rows = []
    pg_passed = {
        r.driver: r.counts()["passed"] for r in runs if r.target == "postgresql"
    }
    for run in runs:
        c = run.counts()
        vs_pg = ""
        if run.target == "freshet" and run.driver in pg_passed:
            vs_pg = pct(c["passed"], pg_passed[run.driver])
        notes = []
        if run.timed_out:
            notes.append("timed out")
        if run.server_died:
            notes.append("server died")
        rows.append(
            [
                run.target,
                run.driver,
                str(c["passed"]),
                str(c["failed"]),
                str(c["error"]),
                str(c["skipped"]),
                str(c["xfailed"] + c["xpassed"]),
                str(sum(c.values())),
                vs_pg,
                f"{run.elapsed_s:.0f}s" + (" " + ", ".join(notes) if notes else ""),
            ]
        )
    return rows


HEADER = [
    "target",
    "driver",
    "passed",
    "failed",
    "errors",
    "skipped",
    "xfail/xpass",
    "total",
    "passed vs PG",
    "time",
]


def print_table(runs: list[Run]) -> None:
    rows = [HEADER] + summary_rows(runs)
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def differences(runs: list[Run]) -> dict[str, dict[str, list[str]]]:
    """Per driver: tests that pass on PostgreSQL but not on Freshet, and the
    reverse (which would point at a test that only fails on PostgreSQL)."""
    result: dict[str, dict[str, list[str]]] = {}
    by = {(r.target, r.driver): r.by_test() for r in runs}
    for (target, driver), freshet in by.items():
        if target != "freshet" or ("postgresql", driver) not in by:
            continue
        pg = by[("postgresql", driver)]
        result[driver] = {
            "pg_only": sorted(
                t for t, o in pg.items() if o == "passed" and freshet.get(t) != "passed"
            ),
            "freshet_only": sorted(
                t for t, o in freshet.items() if o == "passed" and pg.get(t) != "passed"
            ),
        }
    return result


def md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_gaps(runs: list[Run]) -> list[str]:
    """What each server refused of the suite's setup: the database
    preparation's statements, the tolerated provisioning hooks, a dead
    server. One list per target; a line names its drivers when they differ."""
    lines: list[str] = []
    for target in dict.fromkeys(run.target for run in runs):
        target_runs = [run for run in runs if run.target == target]
        gaps: dict[str, list[str]] = {}
        for run in target_runs:
            texts = list(run.setup_refused)
            for gap in run.provisioning_gaps:
                statement = str(gap.get("statement"))
                if any(f"`{statement}`" in t for t in run.setup_refused):
                    continue  # the same refusal as in the database setup
                times = f" ({gap['times']} times)" if gap.get("times") else ""
                texts.append(
                    f"provisioning hook `{gap.get('hook')}` ran "
                    f"`{md_escape(statement)[:200]}`: "
                    f"{gap.get('sqlstate')} {md_escape(str(gap.get('message')))}"
                    f"{times}"
                )
            if run.server_died:
                first = run.server_died.splitlines()[0]
                texts.append("the server died during the run: " + md_escape(first))
            for text in texts:
                gaps.setdefault(text, []).append(run.driver)
        if not gaps:
            continue
        lines += [f"Refused by {target} during setup (tolerated):", ""]
        for text, drivers in gaps.items():
            only = (
                "" if len(drivers) == len(target_runs) else f" ({', '.join(drivers)})"
            )
            lines.append(f"- {text}{only}")
        lines.append("")
    return lines


def render_groups(run: Run, top: int) -> list[str]:
    """The table of Freshet's failure groups for one driver."""
    groups = failure_groups(run)
    if not groups:
        return []
    total = sum(g["count"] for g in groups)
    lines = [
        f"### Freshet failures and errors with {run.driver}, by first server error",
        "",
        f"{total} tests in {len(groups)} groups; "
        f"the top {min(top, len(groups))}, largest first "
        '(identifiers and numbers in messages are collapsed to `"?"` and `N`; '
        "statements are shown as the driver received them, `%%` is `%`):",
        "",
        "| tests | SQLSTATE | message | suite classes | example |",
        "|---|---|---|---|---|",
    ]
    for group in groups[:top]:
        statement = next(
            (e["statement"] for e in group["examples"] if e["statement"]), None
        )
        if statement:
            example = " ".join(str(statement).split())
            if len(example) > 160:
                example = example[:157] + "..."
            example = f"`{md_escape(example)}`"
        else:
            first = group["examples"][0]
            example = f"test `{first['test']}`: {md_escape(str(first['message']))}"
        classes = sorted(c for c in group["classes"] if c)
        class_text = ", ".join(classes[:4]) + (
            f" +{len(classes) - 4}" if len(classes) > 4 else ""
        )
        lines.append(
            f"| {group['count']} | {group['sqlstate'] or '-'} "
            f"| {md_escape(group['message'])[:200]} | {class_text} | {example} |"
        )
    if len(groups) > top:
        rest = sum(g["count"] for g in groups[top:])
        lines.append(f"| {rest} | | ({len(groups) - top} smaller groups) | | |")
    lines.append("")
    return lines


def render_group_differences(first: Run, other: Run) -> list[str]:
    """How another driver's failure groups differ from the first driver's."""
    counts_first = {
        (g["sqlstate"], g["message"]): g["count"] for g in failure_groups(first)
    }
    counts_other = {
        (g["sqlstate"], g["message"]): g["count"] for g in failure_groups(other)
    }
    changed = [
        (key, counts_first.get(key, 0), counts_other.get(key, 0))
        for key in dict.fromkeys([*counts_first, *counts_other])
        if counts_first.get(key, 0) != counts_other.get(key, 0)
    ]
    if not changed:
        return [f"With {other.driver} the failure groups are the same.", ""]
    lines = [
        f"With {other.driver} the failure groups are the same except "
        f"(tests with {first.driver} -> with {other.driver}):",
        "",
    ]
    for (sqlstate, message), a, b in changed:
        lines.append(f"- {sqlstate or '-'} {md_escape(message)[:200]}: {a} -> {b}")
    lines.append("")
    return lines


def render_section(
    mode: str, runs: list[Run], versions: dict[str, str], command: str, top: int
) -> str:
    now = datetime.datetime.now(datetime.UTC)
    lines = [
        f"## {mode}",
        "",
        f"Run {now:%Y-%m-%d %H:%M} UTC with `{command}`.",
        "",
    ]
    for name, value in versions.items():
        lines.append(f"- {name}: {value}")
    lines += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in summary_rows(runs):
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for driver, diff in differences(runs).items():
        lines.append(
            f"With {driver}, {len(diff['pg_only'])} tests pass on PostgreSQL "
            "and not on Freshet; "
            f"{len(diff['freshet_only'])} pass on Freshet and not on PostgreSQL"
            + (
                ": " + ", ".join(f"`{t}`" for t in diff["freshet_only"][:10])
                if diff["freshet_only"]
                else ""
            )
            + "."
        )
    lines.append("")
    lines += render_gaps(runs)
    freshet_runs = [run for run in runs if run.target == "freshet"]
    if freshet_runs:
        lines += render_groups(freshet_runs[0], top)
    for run in freshet_runs[1:]:
        lines += render_group_differences(freshet_runs[0], run)
    return "\n".join(lines).rstrip() + "\n"


def write_results(path: Path, mode: str, section: str) -> None:
    """Replaces this mode's section of RESULTS.md (between markers), keeping
    the other mode's section."""
    begin, end = f"<!-- begin {mode} -->", f"<!-- end {mode} -->"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
    else:
        text = (
            "# SQLAlchemy dialect compliance suite: Freshet vs PostgreSQL\n\n"
            "Written by `tests/sqlalchemy/run_compliance.py` (see tests/README.md); "
            "each section is replaced by the run of that mode.\n\n"
            "<!-- begin subset -->\n<!-- end subset -->\n\n"
            "<!-- begin full -->\n<!-- end full -->\n"
        )
    block = f"{begin}\n{section}{end}"
    if begin in text and end in text:
        text = re.sub(
            re.escape(begin) + r".*?" + re.escape(end),
            lambda _: block,
            text,
            flags=re.S,
        )
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


# --- the regression check ------------------------------------------------------------


def check(runs: list[Run], baseline: dict[str, Any], mode: str) -> list[str]:
    """Problems that make ``--check`` fail; empty when the run is good.

    Freshet must pass at least the baseline's count for each driver it
    records for this mode; PostgreSQL (the harness's own check) must have
    no failures or errors; no run may time out, and the Freshet server must
    survive."""
    problems = []
    expected = baseline.get(mode, {})
    for run in runs:
        c = run.counts()
        label = f"{run.target}/{run.driver}"
        if run.timed_out:
            problems.append(f"{label}: timed out")
        if run.server_died:
            problems.append(f"{label}: {run.server_died}")
        if not run.tests:
            problems.append(f"{label}: no test ran")
        if run.target == "postgresql" and c["failed"] + c["error"]:
            problems.append(
                f"{label}: {c['failed']} failed and {c['error']} errors "
                "against PostgreSQL "
                "(the harness or the oracle's setup is broken)"
            )
        if run.target == "freshet":
            floor = expected.get(run.driver, {}).get("freshet_passed_min")
            if floor is None:
                problems.append(
                    f"{label}: baseline.json has no "
                    f"{mode}.{run.driver}.freshet_passed_min"
                )
            elif c["passed"] < floor:
                problems.append(
                    f"{label}: {c['passed']} passed, fewer than the baseline's {floor}"
                )
    return problems


def newly_failing(run: Run, baseline: dict[str, Any], mode: str) -> list[str]:
    passing = set(baseline.get(mode, {}).get(run.driver, {}).get("freshet_passing", []))
    now = run.by_test()
    return sorted(t for t in passing if now.get(t) != "passed")


def update_baseline(path: Path, runs: list[Run], mode: str) -> None:
    baseline = json.loads(path.read_text()) if path.is_file() else {}
    section = baseline.setdefault(mode, {})
    for run in runs:
        if run.target != "freshet":
            continue
        section[run.driver] = {
            "freshet_passed_min": run.counts()["passed"],
            "freshet_passing": sorted(
                t for t, o in run.by_test().items() if o == "passed"
            ),
        }
    baseline["_comment"] = (
        "Written by run_compliance.py --update-baseline from a real run; "
        "--check fails when Freshet passes fewer tests than freshet_passed_min. "
        "Raise it when Freshet improves."
    )
    path.write_text(json.dumps(baseline, indent=1, sort_keys=True) + "\n")


# --- main --------------------------------------------------------------------------


def default_pg_url() -> str | None:
    script = REPO / "scripts" / "pg-oracle.sh"
    try:
        out = subprocess.run(
            [str(script), "url"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def versions_of(runs: list[Run], freshet_bin: Path | None) -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    for package in ("SQLAlchemy", "psycopg", "psycopg2-binary", "pytest"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    if freshet_bin is not None:
        out = subprocess.run(
            [str(freshet_bin), "--version"], capture_output=True, text=True
        )
        versions["freshet binary"] = out.stdout.strip() or out.stderr.strip()
    for run in runs:
        if run.version:
            versions[f"{run.target} server"] = run.version
    return versions


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--subset", action="store_true", help="run the CI subset (SUBSET_CLASSES)"
    )
    p.add_argument("--k", help="pytest -k expression, passed through")
    p.add_argument(
        "--driver",
        action="append",
        choices=["psycopg", "psycopg2"],
        help="DBAPI driver(s); repeatable (default: psycopg and psycopg2)",
    )
    p.add_argument(
        "--freshet-bin",
        type=Path,
        default=REPO / "target" / "release" / "freshet",
        help="freshet binary to start (default: target/release/freshet)",
    )
    p.add_argument(
        "--freshet-url", help="use this running Freshet server instead of starting one"
    )
    p.add_argument("--no-freshet", action="store_true", help="skip the Freshet target")
    p.add_argument(
        "--pg-url", help="PostgreSQL server URL (default: scripts/pg-oracle.sh url)"
    )
    p.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL target")
    p.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="seconds per target and driver (default 900)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="fail on a regression against baseline.json",
    )
    p.add_argument("--baseline", type=Path, default=BASELINE_JSON)
    p.add_argument(
        "--update-baseline",
        action="store_true",
        help="record Freshet's pass counts and passing tests in baseline.json",
    )
    p.add_argument(
        "--results",
        type=Path,
        help="markdown file to write (default: RESULTS.md for a plain run)",
    )
    p.add_argument(
        "--top",
        type=int,
        default=25,
        help="failure groups listed in the results (default 25)",
    )
    p.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    drivers = args.driver or ["psycopg", "psycopg2"]
    mode = "subset" if args.subset else "full"
    version = importlib.metadata.version("sqlalchemy")
    sdist = ensure_sdist(version, args.cache_dir)
    out_dir = args.cache_dir / "runs" / mode
    out_dir.mkdir(parents=True, exist_ok=True)

    pg_url = None
    if not args.no_pg:
        pg_url = (
            args.pg_url or os.environ.get("FRESHET_TEST_PG_URL") or default_pg_url()
        )
        if not pg_url:
            raise SystemExit(
                "no PostgreSQL URL: pass --pg-url or start scripts/pg-oracle.sh"
            )
    freshet_bin = None
    if not args.no_freshet and not args.freshet_url:
        freshet_bin = args.freshet_bin.resolve()
        if not freshet_bin.is_file():
            raise SystemExit(
                f"{freshet_bin} does not exist: "
                "build it or pass --freshet-bin or --freshet-url"
            )

    runs: list[Run] = []
    for driver in drivers:
        if pg_url:
            suite_url, refused = prepare_database(pg_url)
            run = run_suite(sdist, "postgresql", driver, suite_url, args, out_dir, None)
            run.setup_refused = refused
            run.version = server_version(suite_url)
            runs.append(run)
        if not args.no_freshet:
            server = None
            try:
                if args.freshet_url:
                    url = args.freshet_url
                else:
                    assert freshet_bin is not None
                    server = FreshetServer(freshet_bin, out_dir, driver)
                    url = server.url
                suite_url, refused = prepare_database(url)
                run = run_suite(
                    sdist, "freshet", driver, suite_url, args, out_dir, server
                )
                run.setup_refused = refused
                if run.server_died is None:
                    run.version = server_version(suite_url)
                runs.append(run)
            finally:
                if server is not None:
                    server.stop()

    # Order the table: per driver, PostgreSQL then Freshet.
    runs.sort(key=lambda r: (drivers.index(r.driver), r.target != "postgresql"))
    print()
    print(
        f"SQLAlchemy {version} dialect compliance suite ({mode}"
        + (f", -k {args.k!r}" if args.k else "")
        + ")"
    )
    print_table(runs)
    for driver, diff in differences(runs).items():
        print(
            f"{driver}: {len(diff['pg_only'])} tests pass on PostgreSQL only, "
            f"{len(diff['freshet_only'])} on Freshet only"
        )
    for run in runs:
        if run.target == "freshet":
            groups = failure_groups(run)
            if groups:
                print(f"\nlargest Freshet failure groups ({run.driver}):")
                for group in groups[:10]:
                    print(
                        f"  {group['count']:5d}  {group['sqlstate'] or '-----'}  "
                        f"{group['message'][:110]}"
                    )

    command = "tests/sqlalchemy/run_compliance.py" + (
        " --subset" if args.subset else ""
    )
    results_path = args.results
    if results_path is None and not (args.k or args.check):
        results_path = RESULTS_MD
    if results_path is not None:
        section = render_section(
            mode, runs, versions_of(runs, freshet_bin), command, args.top
        )
        if results_path.resolve() == RESULTS_MD.resolve():
            write_results(results_path, mode, section)
        else:
            results_path.parent.mkdir(parents=True, exist_ok=True)
            results_path.write_text(section, encoding="utf-8")
        log(f"wrote {results_path}")

    status = 0
    if args.update_baseline:
        if args.k:
            raise SystemExit("--update-baseline with --k would record a partial run")
        update_baseline(args.baseline, runs, mode)
        log(f"updated {args.baseline} ({mode})")
    if args.check:
        baseline = (
            json.loads(args.baseline.read_text()) if args.baseline.is_file() else {}
        )
        if args.k:
            raise SystemExit(
                "--check with --k would compare a partial run to the baseline"
            )
        for run in runs:
            if run.target == "freshet":
                lost = newly_failing(run, baseline, mode)
                if lost:
                    print(
                        f"\n{run.driver}: {len(lost)} tests passed at the baseline "
                        "and do not now:"
                    )
                    for test in lost[:50]:
                        print(f"  {test}")
        problems = check(runs, baseline, mode)
        if problems:
            print("\ncheck FAILED:")
            for problem in problems:
                print(f"  {problem}")
            status = 1
        else:
            print("\ncheck passed")
    log(f"pytest logs and per-test outcomes: {out_dir}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
