"""Tests of run_django_suite.py's parsing and failure analysis (no server)."""

from __future__ import annotations

import json
from typing import Any

import run_django_suite as suite

VERBOSE = """\
test_a (basic.tests.ModelTests.test_a) ... ok
test_b (basic.tests.ModelTests.test_b)
A docstring line. ... FAIL
test_c (basic.tests.ModelTests.test_c) ... ERROR
test_d (basic.tests.ModelTests.test_d) ... skipped 'Database has feature(s) x'
test_e (basic.tests.ModelTests.test_e) ... expected failure
"""


def test_parse_verbose_output() -> None:
    tests = suite.parse_verbose_output(VERBOSE)
    assert {t: r["outcome"] for t, r in tests.items()} == {
        "basic.tests.ModelTests.test_a": "passed",
        "basic.tests.ModelTests.test_b": "failed",
        "basic.tests.ModelTests.test_c": "errored",
        "basic.tests.ModelTests.test_d": "skipped",
        "basic.tests.ModelTests.test_e": "expected_failure",
    }


def _error(sqlstate: str, message: str, sql: str = "SELECT 1") -> dict[str, Any]:
    return {"sqlstate": sqlstate, "message": message, "executed": sql, "sql": sql}


def _result(app: str, records: list[dict[str, Any]]) -> suite.AppResult:
    result = suite.AppResult(app=app)
    suite.merge_records([json.dumps(r) for r in records], result)
    return result


def test_merge_keeps_the_worst_outcome_and_all_errors() -> None:
    result = _result(
        "m",
        [
            {"test": "m.T.t", "outcome": "passed", "sql_errors": []},
            {
                "test": "m.T.t",
                "outcome": "errored",
                "sql_errors": [_error("0A000", "flush failed")],
            },
        ],
    )
    assert result.tests["m.T.t"]["outcome"] == "errored"
    assert result.counts() == {"errored": 1}


def test_cascades_are_counted_against_the_error_that_began_them() -> None:
    abort = _error("25P02", "current transaction is aborted")
    result = _result(
        "m",
        [
            {"test": "m.T.a", "outcome": "passed", "sql_errors": []},
            {
                "test": "m.T.b",
                "outcome": "errored",
                "sql_errors": [_error("40001", "could not serialize access"), abort],
            },
            {"test": "m.T.c", "outcome": "errored", "sql_errors": [abort]},
            {"test": "m.T.d", "outcome": "errored", "sql_errors": [abort]},
            {
                "test": "m.T.e",
                "outcome": "failed",
                "sql_errors": [],
                "exception": "builtins.AssertionError",
                "message": "1 != 2",
            },
        ],
    )
    causes, also_on_pg = suite.classify_failures({"m": result}, {"m.T.e": "failed"})
    assert also_on_pg == ["m.T.e"]
    assert list(causes) == ["40001: could not serialize access"]
    cause = causes["40001: could not serialize access"]
    assert cause.tests == ["m.T.b"]
    assert cause.cascaded == ["m.T.c", "m.T.d"]
    assert cause.count == 3


def test_not_run_counts_tests_missing_on_one_target() -> None:
    freshet = _result("m", [{"test": "m.T.a", "outcome": "passed", "sql_errors": []}])
    postgresql = _result(
        "m",
        [
            {"test": "m.T.a", "outcome": "passed", "sql_errors": []},
            {"test": "m.T.b", "outcome": "passed", "sql_errors": []},
        ],
    )
    suite.mark_not_run({"freshet": {"m": freshet}, "postgresql": {"m": postgresql}})
    assert freshet.not_run == 1
    assert postgresql.not_run == 0
    assert suite.rates(freshet.counts())[0] == 0.5


def test_normalize_blanks_names_and_numbers() -> None:
    assert (
        suite.normalize('relation "app_model_id_seq" does not exist at line 3\nmore')
        == 'relation "…" does not exist at line N'
    )
