"""Unit tests of run_compliance.py's bookkeeping (no server needed): the
regression check must be able to fail, outcomes must be counted the way
pytest counts them, and failures must group by server error.

    .venv/bin/pytest tests/sqlalchemy -q
"""

from __future__ import annotations

import json
from pathlib import Path

import run_compliance as rc
from sqla_outcomes_plugin import _final_outcome, base_class_name, normalize_message


def make_run(target: str, driver: str, outcomes: dict[str, str]) -> rc.Run:
    run = rc.Run(target=target, driver=driver)
    for test, outcome in outcomes.items():
        run.tests[f"test/dialect/test_suite.py::{test}"] = {
            "outcome": outcome,
            "error": None,
            "detail": None,
        }
    return run


def test_base_class_name_strips_the_per_database_suffix() -> None:
    assert base_class_name("HasTableTest_postgresql+psycopg_15_0") == "HasTableTest"
    assert base_class_name(
        "ComponentReflectionTestExtra_postgresql+psycopg2_15_18"
    ) == ("ComponentReflectionTestExtra")
    assert base_class_name("HasTableTest") == "HasTableTest"


def test_ids_compare_across_targets() -> None:
    pg = rc.normalize_test_id(
        "test/dialect/test_suite.py::JoinTest_postgresql+psycopg_15_18::test_a[x]"
    )
    freshet = rc.normalize_test_id(
        "test/dialect/test_suite.py::JoinTest_postgresql+psycopg_15_0::test_a[x]"
    )
    assert pg == freshet == "JoinTest::test_a[x]"


def test_final_outcome_matches_pytest() -> None:
    assert (
        _final_outcome({"setup": "passed", "call": "passed", "teardown": "passed"})
        == "passed"
    )
    assert _final_outcome({"setup": "failed", "teardown": "passed"}) == "error"
    assert (
        _final_outcome({"setup": "passed", "call": "passed", "teardown": "failed"})
        == "error"
    )
    assert (
        _final_outcome({"setup": "passed", "call": "failed", "teardown": "failed"})
        == "failed"
    )
    assert _final_outcome({"setup": "skipped", "teardown": "passed"}) == "skipped"
    assert (
        _final_outcome({"setup": "passed", "call": "skipped", "teardown": "passed"})
        == "skipped"
    )


def test_check_fails_below_the_baseline() -> None:
    baseline = {"subset": {"psycopg": {"freshet_passed_min": 3}}}
    pg = make_run(
        "postgresql", "psycopg", {"T::a": "passed", "T::b": "passed", "T::c": "passed"}
    )
    good = make_run(
        "freshet", "psycopg", {"T::a": "passed", "T::b": "passed", "T::c": "passed"}
    )
    worse = make_run(
        "freshet", "psycopg", {"T::a": "passed", "T::b": "failed", "T::c": "passed"}
    )
    assert rc.check([pg, good], baseline, "subset") == []
    problems = rc.check([pg, worse], baseline, "subset")
    assert len(problems) == 1 and "fewer than the baseline's 3" in problems[0]


def test_check_fails_without_a_baseline_entry_or_when_postgresql_fails() -> None:
    freshet = make_run("freshet", "psycopg2", {"T::a": "passed"})
    assert rc.check([freshet], {}, "subset")
    pg = make_run("postgresql", "psycopg2", {"T::a": "error"})
    baseline = {"subset": {"psycopg2": {"freshet_passed_min": 1}}}
    assert any(
        "against PostgreSQL" in p for p in rc.check([pg, freshet], baseline, "subset")
    )


def test_check_fails_on_timeout_dead_server_or_empty_run() -> None:
    baseline = {"full": {"psycopg": {"freshet_passed_min": 0}}}
    timed_out = make_run("freshet", "psycopg", {"T::a": "passed"})
    timed_out.timed_out = True
    died = make_run("freshet", "psycopg", {"T::a": "passed"})
    died.server_died = "freshet exited with -9"
    empty = make_run("freshet", "psycopg", {})
    for run in (timed_out, died, empty):
        assert rc.check([run], baseline, "full"), run


def test_update_baseline_then_check_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    run = make_run("freshet", "psycopg", {"T::a": "passed", "T::b": "failed"})
    rc.update_baseline(path, [run], "subset")
    baseline = json.loads(path.read_text())
    assert baseline["subset"]["psycopg"]["freshet_passed_min"] == 1
    assert rc.check([run], baseline, "subset") == []
    regressed = make_run("freshet", "psycopg", {"T::a": "failed", "T::b": "passed"})
    assert rc.newly_failing(regressed, baseline, "subset") == ["T::a"]


def test_failures_group_by_sqlstate_and_normalized_message() -> None:
    run = make_run(
        "freshet",
        "psycopg",
        {"T::a": "failed", "T::b": "error", "U::c": "failed", "U::d": "passed"},
    )
    tests = list(run.tests.values())
    tests[0]["error"] = {
        "sqlstate": "42P01",
        "message": 'relation "t1" does not exist',
        "statement": "SELECT 1",
    }
    tests[1]["error"] = {
        "sqlstate": "42P01",
        "message": 'relation "t2" does not exist',
        "statement": None,
    }
    tests[2]["detail"] = "AssertionError: 1 != 2"
    groups = rc.failure_groups(run)
    assert [(g["count"], g["sqlstate"]) for g in groups] == [(2, "42P01"), (1, "")]
    assert groups[0]["message"] == 'relation "?" does not exist'
    assert normalize_message("expected 12 got 'x'") == 'expected N got "?"'


def test_results_sections_are_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    rc.write_results(path, "subset", "## subset\n\nfirst\n")
    rc.write_results(path, "full", "## full\n\nfull run\n")
    rc.write_results(path, "subset", "## subset\n\nsecond\n")
    text = path.read_text()
    assert "second" in text and "first" not in text and "full run" in text
    assert text.index("## subset") < text.index("## full")
