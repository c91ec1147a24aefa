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
EXPECTED_FAILURES: dict[str, set[str]] = {}

# Tests skipped on Freshet, by reason (same rule as above).
SKIPS: dict[str, set[str]] = {}


class DatabaseFeatures(postgresql_features.DatabaseFeatures):
    """The postgresql feature set, less what Freshet does not do."""

    # Freshet does not implement CREATE DATABASE ... TEMPLATE, which Django
    # uses to clone the test database for `runtests.py --parallel N`.
    # Parallel test runs therefore use one process.
    can_clone_databases = False

    @cached_property
    def django_test_expected_failures(self) -> set[str]:
        expected = set(super().django_test_expected_failures)
        for tests in EXPECTED_FAILURES.values():
            expected |= tests
        return expected

    @cached_property
    def django_test_skips(self) -> dict[str, set[str]]:
        skips = {reason: set(tests) for reason, tests in super().django_test_skips.items()}
        for reason, tests in SKIPS.items():
            skips.setdefault(reason, set()).update(tests)
        return skips
