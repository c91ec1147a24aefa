"""What Freshet supports, stated honestly for Django.

Every flag that differs from Django's postgresql backend says why. A flag is
switched off only for a real, intended limitation of Freshet, never to hide
a bug that should be fixed in the server: such a bug shows up as a failing
test in Django's suite (see ``SUITE.md``) until the server is fixed.

Expected failures and skips extend the postgresql backend's own sets (they
do not replace them), and each one carries its reason.
"""

from __future__ import annotations

from django.db.backends.postgresql import features as postgresql_features
from django.utils.functional import cached_property

# Tests of Django's own suite that are known to fail on Freshet, by reason.
# Only for limitations that are intended (a non-goal of the server, or a
# behaviour Freshet documents as different); a server bug belongs in the
# server's issue tracker, not here. The suite runner reports the pass rate
# both with and without these.
EXPECTED_FAILURES: dict[str, set[str]] = {
    "Relies on the order in which PostgreSQL happens to return SELECT "
    "DISTINCT ON (...) without ORDER BY (sorted by the DISTINCT ON "
    "expressions); SQL leaves that order unspecified.": {
        "model_fields.test_jsonfield.TestQuerying.test_deep_distinct",
    },
}

# Tests skipped on Freshet, by reason (same rule as above).
SKIPS: dict[str, set[str]] = {}


class DatabaseFeatures(postgresql_features.DatabaseFeatures):
    """The postgresql feature set, less what Freshet does not do (yet).

    Each flag below is a feature the server does not implement today, checked
    against the server (the statement in the comment fails or misbehaves on
    Freshet and works on PostgreSQL). Each one is also a server to-do: when
    the server implements the feature, delete the line, and Django's suite
    (``tests/run_django_suite.py``) exercises it again.
    """

    # UNIQUE ... DEFERRABLE INITIALLY DEFERRED is accepted but checked at once
    # (23505 on the statement, not at COMMIT).
    supports_deferrable_unique_constraints = False

    # Text compares by code point: the collations are the code-point ones
    # ("C", "POSIX", "ucs_basic"); any other is refused with 0A000 naming
    # it (NotSupportedError) rather than ignored. There are no
    # non-deterministic (case-insensitive) collations. Django's suite tests
    # with these names instead of the postgresql backend's ICU ones; the
    # tests that need a second, differently ordered collation skip
    # themselves.
    supports_non_deterministic_collations = False
    test_collations = {"deterministic": "C", "virtual": "POSIX"}

    @cached_property
    def django_test_expected_failures(self) -> set[str]:
        expected = set(super().django_test_expected_failures)
        for tests in EXPECTED_FAILURES.values():
            expected |= tests
        return expected

    @cached_property
    def django_test_skips(self) -> dict[str, set[str]]:
        skips = {
            reason: set(tests) for reason, tests in super().django_test_skips.items()
        }
        for reason, tests in SKIPS.items():
            skips.setdefault(reason, set()).update(tests)
        return skips
