"""A Django test runner for ``run_django_suite.py`` that records every outcome.

Django's ``runtests.py`` takes the runner from ``settings.TEST_RUNNER``; the
settings module that ``run_django_suite.py`` writes names
``recording_runner.RecordingRunner``. The runner behaves like
``DiscoverRunner`` (same verbose output, same exit status) and in addition:

- writes one JSON line per outcome to ``$DJANGO_SUITE_RESULTS``: the test id,
  the outcome (``passed``, ``failed``, ``errored``, ``skipped``,
  ``expected_failure``, ``unexpected_success``), the exception for failures
  and errors, and the database errors raised while the test ran, each with
  its SQLSTATE, message and the SQL statement that caused it. Lines are
  written (and flushed) as the tests run, so a run that is killed keeps what
  it had;
- bounds each test by ``$DJANGO_SUITE_TEST_TIMEOUT`` seconds (default 120):
  when a test runs that long, it sends a CancelRequest on every open
  connection (the server should answer 57014 and the test errors), and if
  the test is still running ``CANCEL_GRACE_S`` later, it raises
  ``SuiteTestTimeout`` in the test. Class- and module-level setup are bounded
  only by the caller's per-app timeout.

Database errors are caught by wrapping
``django.db.backends.utils.CursorWrapper._execute`` and ``_executemany``,
the innermost place that sees both the SQL and the error. Errors that a test
expects (``assertRaises(IntegrityError)``) are recorded too; the analysis
only looks at the errors of tests that did not pass.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import traceback
import unittest
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from django.db import connections
from django.db.backends import utils as backend_utils
from django.test.runner import DiscoverRunner

if TYPE_CHECKING:
    from _typeshed import OptExcInfo as ErrInfo

# Grace period between the CancelRequest and raising in the test.
CANCEL_GRACE_S = 15
# Bounds on what one record keeps, so a runaway test cannot fill the disk.
SQL_CHARS_MAX = 4000
MESSAGE_CHARS_MAX = 2000
TRACEBACK_CHARS_MAX = 6000
SQL_ERRORS_PER_TEST_MAX = 20


class SuiteTestTimeout(Exception):
    """A test ran longer than the per-test timeout."""


class _State:
    """What the runner knows about the test that is running now."""

    test_id: str | None = None
    sql_errors: list[dict[str, Any]] = []
    timed_out: bool = False
    results_file: TextIO | None = None


_state = _State()


def _sqlstate_and_message(exc: BaseException) -> tuple[str | None, str]:
    """The SQLSTATE and primary message of the database error behind ``exc``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        sqlstate = getattr(current, "sqlstate", None)
        if sqlstate:
            diag = getattr(current, "diag", None)
            primary = getattr(diag, "message_primary", None) if diag else None
            return str(sqlstate), str(primary or current).strip()
        current = current.__cause__ or current.__context__
    return None, str(exc).strip()


def _executed_query(cursor_wrapper: Any, sql: object, params: object) -> str | None:
    """The statement as sent to the server, parameters bound (client-side
    binding is the postgresql backend's default), or None if unknown."""
    try:
        query = cursor_wrapper.db.ops.last_executed_query(
            cursor_wrapper.cursor, sql, params
        )
    except Exception:
        return None
    return str(query) if query else None


def _record_sql_error(
    cursor_wrapper: Any, sql: object, params: object, exc: BaseException
) -> None:
    sqlstate, message = _sqlstate_and_message(exc)
    if isinstance(sql, bytes):
        sql = sql.decode(errors="replace")
    executed = _executed_query(cursor_wrapper, sql, params)
    error = {
        "executed": executed[:SQL_CHARS_MAX] if executed else None,
        "sqlstate": sqlstate,
        "message": message[:MESSAGE_CHARS_MAX],
        "exception": type(exc).__name__,
        "sql": str(sql)[:SQL_CHARS_MAX],
        "params": repr(params)[:500],
    }
    # Kept until the next outcome is written: Django's TestCase flushes the
    # database (TransactionTestCase) after unittest's stopTest, and an error
    # there is reported as the test's error after that.
    if len(_state.sql_errors) < SQL_ERRORS_PER_TEST_MAX:
        _state.sql_errors.append(error)
    if _state.test_id is None and _state.results_file is not None:
        # Outside the test body: database setup (migrations), class setup or
        # teardown. Also recorded on its own, since no outcome may carry it.
        record = {"test": None, "outcome": "sql_error_outside_test", **error}
        _state.results_file.write(json.dumps(record) + "\n")
        _state.results_file.flush()


def _log_statement(
    cursor_wrapper: Any, sql: object, params: object, error: str
) -> None:
    """Append the statement to ``$DJANGO_SUITE_LOG_SQL`` (for building repros)."""
    path = os.environ.get("DJANGO_SUITE_LOG_SQL")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        executed = _executed_query(cursor_wrapper, sql, params) or str(sql)
        alias = getattr(cursor_wrapper.db, "alias", "?")
        out.write(
            f"-- [{alias}] {_state.test_id}{' ERROR ' + error if error else ''}\n"
        )
        out.write(executed.rstrip().rstrip(";") + ";\n")


def _wrap(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, sql: object, *args: Any, **kwargs: Any) -> Any:
        params = args[0] if args else kwargs.get("params")
        try:
            result = method(self, sql, *args, **kwargs)
        except Exception as exc:
            _record_sql_error(self, sql, params, exc)
            _log_statement(
                self, sql, params, f"{type(exc).__name__}: {exc}".splitlines()[0]
            )
            raise
        _log_statement(self, sql, params, "")
        return result

    wrapper.__name__ = method.__name__
    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    return wrapper


def _install_sql_error_capture() -> None:
    cursor_wrapper = backend_utils.CursorWrapper
    if getattr(cursor_wrapper, "_suite_capture_installed", False):
        return
    cursor_wrapper._execute = _wrap(cursor_wrapper._execute)  # type: ignore[method-assign]
    cursor_wrapper._executemany = _wrap(cursor_wrapper._executemany)  # type: ignore[method-assign]
    cursor_wrapper._suite_capture_installed = True  # type: ignore[attr-defined]


def _cancel_open_queries() -> None:
    for connection in connections.all(initialized_only=True):
        raw = getattr(connection, "connection", None)
        if raw is None:
            continue
        # The connection may be broken; then there is nothing to cancel.
        with contextlib.suppress(Exception):
            raw.cancel()


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if not _state.timed_out:
        _state.timed_out = True
        _cancel_open_queries()
        signal.alarm(CANCEL_GRACE_S)
        return
    raise SuiteTestTimeout(
        f"test {_state.test_id} still running {CANCEL_GRACE_S} s after its "
        "queries were cancelled"
    )


def _test_timeout_s() -> int:
    return int(os.environ.get("DJANGO_SUITE_TEST_TIMEOUT", "120"))


def _describe(err: ErrInfo) -> dict[str, Any]:
    exc_type, exc, tb = err
    if exc_type is None or exc is None:
        return {"exception": "?", "message": "", "sqlstate": None, "traceback": ""}
    sqlstate, message = _sqlstate_and_message(exc)
    formatted = "".join(traceback.format_exception(exc_type, exc, tb))
    return {
        "exception": f"{exc_type.__module__}.{exc_type.__qualname__}",
        "message": message[:MESSAGE_CHARS_MAX],
        "sqlstate": sqlstate,
        "traceback": formatted[-TRACEBACK_CHARS_MAX:],
    }


class RecordingResult(unittest.TextTestResult):
    """``TextTestResult`` that also writes each outcome as a JSON line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._started_at = 0.0
        self._subtest_failed: set[str] = set()

    def _write(self, test: unittest.TestCase, outcome: str, **extra: Any) -> None:
        if _state.results_file is None:
            return
        record = {
            "test": test.id(),
            "outcome": outcome,
            "seconds": round(time.monotonic() - self._started_at, 3),
            "timed_out": _state.timed_out,
            "sql_errors": list(_state.sql_errors),
            **extra,
        }
        _state.results_file.write(json.dumps(record) + "\n")
        _state.results_file.flush()
        _state.sql_errors = []

    def startTest(self, test: unittest.TestCase) -> None:  # noqa: N802
        _state.test_id = test.id()
        _state.sql_errors = []
        _state.timed_out = False
        self._started_at = time.monotonic()
        signal.alarm(_test_timeout_s())
        super().startTest(test)

    def stopTest(self, test: unittest.TestCase) -> None:  # noqa: N802
        signal.alarm(0)
        super().stopTest(test)
        _state.test_id = None

    def addSuccess(self, test: unittest.TestCase) -> None:  # noqa: N802
        super().addSuccess(test)
        if test.id() not in self._subtest_failed:
            self._write(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: ErrInfo) -> None:  # noqa: N802
        super().addFailure(test, err)
        self._write(test, "failed", **_describe(err))

    def addError(self, test: unittest.TestCase, err: ErrInfo) -> None:  # noqa: N802
        super().addError(test, err)
        # Errors in setUpClass/setUpModule arrive with a placeholder "test"
        # whose id names the class or module; they are recorded as such.
        self._write(test, "errored", **_describe(err))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:  # noqa: N802
        super().addSkip(test, reason)
        self._write(test, "skipped", reason=reason)

    def addExpectedFailure(  # noqa: N802
        self, test: unittest.TestCase, err: ErrInfo
    ) -> None:
        super().addExpectedFailure(test, err)
        self._write(test, "expected_failure", **_describe(err))

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:  # noqa: N802
        super().addUnexpectedSuccess(test)
        self._write(test, "unexpected_success")

    def addSubTest(  # noqa: N802
        self,
        test: unittest.TestCase,
        subtest: unittest.TestCase,
        err: ErrInfo | None,
    ) -> None:
        super().addSubTest(test, subtest, err)
        if err is None:
            return
        # A failing subtest fails its test; unittest then does not call
        # addSuccess. Record the first failing subtest as the test's outcome.
        if test.id() in self._subtest_failed:
            return
        self._subtest_failed.add(test.id())
        failed = err[0] is not None and issubclass(err[0], test.failureException)
        outcome = "failed" if failed else "errored"
        self._write(test, outcome, subtest=str(subtest), **_describe(err))


class RecordingRunner(DiscoverRunner):
    """``DiscoverRunner`` that records outcomes (see the module docs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _install_sql_error_capture()
        path = os.environ.get("DJANGO_SUITE_RESULTS")
        if path and _state.results_file is None:
            _state.results_file = open(path, "a", encoding="utf-8")  # noqa: SIM115
        signal.signal(signal.SIGALRM, _on_alarm)
        if self.parallel > 1:
            print(
                "recording_runner: per-test records need --parallel 1",
                file=sys.stderr,
            )

    def get_resultclass(self) -> type[unittest.TextTestResult] | None:
        if self.debug_sql or self.pdb:
            return super().get_resultclass()
        return RecordingResult
