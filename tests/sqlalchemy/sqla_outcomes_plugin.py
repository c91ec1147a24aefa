"""pytest plugin loaded (with ``-p sqla_outcomes_plugin``) into SQLAlchemy's
dialect compliance suite by ``run_compliance.py``.

It does three things and changes no test:

1. Provisioning. Two of SQLAlchemy's PostgreSQL provisioning hooks are
   test-harness chores, not dialect behaviour, yet a server that refuses
   them fails everything: ``post_configure_engine`` runs ``CREATE EXTENSION
   IF NOT EXISTS citext`` and ``... hstore`` once before any test (an error
   aborts the session; the compliance suite uses neither extension), and
   ``prepare_for_drop_tables`` reads ``pg_stat_activity`` before every table
   teardown only to warn about idle transactions (an error fails the
   teardown and leaves the tables behind for the next test). This plugin
   runs the same statements, the second inside a savepoint, and records a
   refusal as a provisioning gap instead of failing. Against PostgreSQL both
   succeed, so the savepoint is the only change there.
2. Outcomes. It appends one JSON line per finished test to
   ``SQLA_OUTCOMES_FILE``: the outcome (passed, failed, error, skipped,
   xfailed, xpassed) and, for failures and errors, the server error that
   explains them: the DBAPI error the test died of, or else the first server
   error raised while the test ran (captured with SQLAlchemy's
   ``handle_error`` engine event), with its SQLSTATE, primary message and
   statement. A last line records the provisioning gaps.
3. Selection. ``SQLA_ONLY_CLASSES`` (comma-separated suite class names)
   keeps only those classes; ``run_compliance.py --subset`` uses it.

SQLAlchemy is imported only inside hooks: the suite's conftest puts the
sdist's ``lib/`` first on ``sys.path`` and must win.
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any

import pytest

# Test id -> record. Filled by the report hook, written at session finish.
_results: dict[str, dict[str, Any]] = {}
# Server errors seen while the current test ran (setup, call and teardown).
_server_errors: list[dict[str, Any]] = []
_provisioning_gaps: list[dict[str, Any]] = []
_started = time.monotonic()
# True while a tolerated provisioning hook runs: its refusals are recorded
# as provisioning gaps, not as the server error behind the current test.
_in_provisioning = False

_EXTENSIONS = [("citext", (13,)), ("hstore", (13,))]


def _db_error_fields(exc: BaseException | None) -> dict[str, Any] | None:
    """SQLSTATE and primary message of the first DBAPI error in ``exc``'s
    chain (psycopg 3 and psycopg2 both expose them), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        orig = getattr(exc, "orig", None)
        candidate = orig if orig is not None else exc
        sqlstate = getattr(candidate, "sqlstate", None) or getattr(
            candidate, "pgcode", None
        )
        diag = getattr(candidate, "diag", None)
        if sqlstate or diag is not None:
            message = None
            if diag is not None:
                message = getattr(diag, "message_primary", None)
            if not message:
                message = (
                    str(candidate).strip().splitlines()[0]
                    if str(candidate).strip()
                    else ""
                )
            statement = getattr(exc, "statement", None)
            return {
                "sqlstate": sqlstate or "",
                "message": message,
                "statement": statement,
                "exception": type(candidate).__name__,
            }
        # A DBAPI error without server fields (e.g. a broken connection).
        if orig is not None and type(orig).__module__.startswith(
            ("psycopg", "psycopg2")
        ):
            text = str(orig).strip().splitlines()
            return {
                "sqlstate": "",
                "message": text[0] if text else type(orig).__name__,
                "statement": getattr(exc, "statement", None),
                "exception": type(orig).__name__,
            }
        exc = exc.__cause__ or exc.__context__
    return None


def _handle_error(context: Any) -> None:
    if _in_provisioning:
        return
    fields = _db_error_fields(context.original_exception)
    if fields is None:
        return
    if not fields.get("statement"):
        fields["statement"] = context.statement
    if len(_server_errors) < 20:
        _server_errors.append(fields)


def _tolerant_post_configure_engine(url: Any, engine: Any, follower_ident: Any) -> None:
    """The PostgreSQL provisioning hook's statements, one at a time, with a
    failure recorded instead of raised."""
    from sqlalchemy import text

    with engine.connect() as conn:
        for extension, min_version in _EXTENSIONS:
            if conn.dialect.server_version_info < min_version:
                continue
            statement = f"CREATE EXTENSION IF NOT EXISTS {extension}"
            try:
                conn.execute(text(statement))
                conn.commit()
            except Exception as err:  # noqa: BLE001 - any server refusal
                conn.rollback()
                fields = _db_error_fields(err) or {"sqlstate": "", "message": str(err)}
                fields["statement"] = statement
                fields["hook"] = "post_configure_engine"
                _provisioning_gaps.append(fields)


def _tolerant(original: Any, label: str) -> Any:
    """``original(config, connection)`` in a savepoint; a server error is
    recorded once per distinct message and otherwise ignored."""

    def hook(config: Any, connection: Any) -> None:
        from sqlalchemy import exc

        global _in_provisioning
        _in_provisioning = True
        try:
            with connection.begin_nested():
                original(config, connection)
        except exc.DBAPIError as err:
            fields = _db_error_fields(err) or {"sqlstate": "", "message": str(err)}
            fields["hook"] = label
            for gap in _provisioning_gaps:
                if gap.get("hook") == label and gap.get("message") == fields.get(
                    "message"
                ):
                    gap["times"] = gap.get("times", 1) + 1
                    break
            else:
                _provisioning_gaps.append(fields)
        finally:
            _in_provisioning = False

    return hook


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # Runs before SQLAlchemy's own pytest_sessionstart, which creates the
    # engine and calls the provisioning hooks.
    from sqlalchemy import event
    from sqlalchemy.dialects.postgresql import provision as pg_provision  # noqa: F401
    from sqlalchemy.engine import Engine
    from sqlalchemy.testing import provision

    provision.post_configure_engine.fns["postgresql"] = _tolerant_post_configure_engine
    provision.prepare_for_drop_tables.fns["postgresql"] = _tolerant(
        provision.prepare_for_drop_tables.fns["postgresql"], "prepare_for_drop_tables"
    )
    event.listen(Engine, "handle_error", _handle_error)


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _server_errors.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    report = outcome.get_result()
    record = _results.setdefault(
        report.nodeid, {"outcome": None, "phases": {}, "error": None, "detail": None}
    )
    if hasattr(report, "wasxfail"):
        phase_outcome = "xfailed" if report.skipped else "xpassed"
    else:
        phase_outcome = report.outcome
    record["phases"][report.when] = phase_outcome
    if report.failed and record["error"] is None:
        exc = call.excinfo.value if call.excinfo is not None else None
        fields = _db_error_fields(exc)
        if fields is None and _server_errors:
            fields = dict(_server_errors[0])
            fields["via"] = "first server error during the test"
        record["error"] = fields
        if call.excinfo is not None:
            text = call.excinfo.exconly().strip().splitlines()
            record["detail"] = (text[0] if text else call.excinfo.typename)[:500]
    if (
        report.skipped
        and record["detail"] is None
        and isinstance(report.longrepr, tuple)
    ):
        record["detail"] = str(report.longrepr[2])[:300]


def _final_outcome(phases: dict[str, str]) -> str:
    """One outcome per test, as pytest's summary line counts them, except
    that a test whose call failed and whose teardown also failed counts
    once, as failed."""
    setup = phases.get("setup")
    call = phases.get("call")
    teardown = phases.get("teardown")
    if setup == "failed":
        return "error"
    if setup in ("skipped", "xfailed") and call is None:
        return "xfailed" if setup == "xfailed" else "skipped"
    if call == "failed":
        return "failed"
    if teardown == "failed":
        return "error"
    if call in ("skipped", "xfailed", "xpassed", "passed"):
        return call
    return "error"


def _emit(line: dict[str, Any]) -> None:
    """Appends one JSON line to ``SQLA_OUTCOMES_FILE``, flushed at once so
    that a run killed by its timeout still leaves every finished test."""
    path = os.environ.get("SQLA_OUTCOMES_FILE")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line, default=str) + "\n")


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    record = _results.get(nodeid)
    if record is None:
        return
    record["outcome"] = _final_outcome(record["phases"])
    _emit({"kind": "test", "id": nodeid, **record})


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Keeps only the test classes named in ``SQLA_ONLY_CLASSES`` (comma
    separated base names such as ``HasTableTest``), when it is set. Runs
    after SQLAlchemy's hook, which generates one class per database."""
    only = os.environ.get("SQLA_ONLY_CLASSES")
    if not only:
        return
    wanted = {name.strip() for name in only.split(",") if name.strip()}
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        cls = item.getparent(pytest.Class)
        base = base_class_name(cls.name) if cls is not None else ""
        (kept if base in wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _emit(
        {
            "kind": "session",
            "exitstatus": int(exitstatus),
            "elapsed_s": round(time.monotonic() - _started, 1),
            "provisioning_gaps": _provisioning_gaps,
        }
    )


_CLASS_SUFFIX = re.compile(r"_[A-Za-z0-9]+\+[A-Za-z0-9_]+$")


def base_class_name(name: str) -> str:
    """``HasTableTest_postgresql+psycopg_15_0`` -> ``HasTableTest``: the
    suite's class without the per-database suffix SQLAlchemy adds."""
    return _CLASS_SUFFIX.sub("", name)


# Collapses identifiers and literals so that one server gap is one group.
_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')
_NUMBER = re.compile(r"\b\d+\b")


def normalize_message(message: str) -> str:
    """``relation "t1" does not exist`` -> ``relation "?" does not exist``."""
    return _NUMBER.sub("N", _QUOTED.sub('"?"', message))
