"""Opt-in shims that let Django's suite get past a server gap, to see what
lies behind it. Never used by the backend, never on by default.

A gap that stops every app at database setup hides every other difference:
with a shim, ``run_django_suite.py --shim NAME`` runs past it so the failure
analysis can list the rest. The gap itself stays in the report (SUITE.md
names the shims a run used), and the shim is deleted once the server is
fixed. The settings module imports this file and calls ``install()`` with
the names from ``$DJANGO_SUITE_SHIMS`` (comma-separated).

Shims:

- ``setval-constant``: Freshet rejects ``setval()`` whose sequence argument
  is not a constant (0A000 "setval() with a non-constant sequence is not
  supported yet"), and Django's postgresql backend resets sequences with
  ``setval(pg_get_serial_sequence('"table"','column'), ...)`` (the sites
  app does so after every test database migration). The shim spells the
  sequence by name, ``'"table_column_seq"'``, which is how both PostgreSQL
  and Freshet name an identity column's sequence (short names only).
- ``inet-as-varchar``: Freshet has no ``inet`` type (42704 'type "inet" does
  not exist'), and Django's postgresql backend stores GenericIPAddressField
  and IPAddressField as ``inet``: any app with such a field (queries,
  model_fields, bulk_create) fails at database setup. The shim stores them
  as ``varchar(39)``/``varchar(15)`` for that run; lookups that apply
  ``HOST()`` still fail and show up in the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

SERIAL_SEQUENCE = re.compile(r"pg_get_serial_sequence\('\"([^\"']+)\"','([^']+)'\)")


def _constant_sequence(statements: list[str]) -> list[str]:
    return [
        SERIAL_SEQUENCE.sub(lambda m: f"'\"{m[1]}_{m[2]}_seq\"'", statement)
        for statement in statements
    ]


def _wrap(method: Callable[..., list[str]]) -> Callable[..., list[str]]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> list[str]:
        return _constant_sequence(method(self, *args, **kwargs))

    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    return wrapper


def _setval_constant() -> None:
    from django.db.backends.postgresql import operations

    ops = operations.DatabaseOperations
    ops.sequence_reset_sql = _wrap(ops.sequence_reset_sql)  # type: ignore[method-assign]
    ops.sequence_reset_by_name_sql = _wrap(ops.sequence_reset_by_name_sql)  # type: ignore[method-assign]


def _inet_as_varchar() -> None:
    from django.db.backends.postgresql import operations

    from django_freshet.base import DatabaseWrapper

    def adapt_ipaddressfield_value(self: Any, value: Any) -> str | None:
        return str(value) if value else None

    # The postgresql backend sends addresses as '...'::inet.
    operations.DatabaseOperations.adapt_ipaddressfield_value = (
        adapt_ipaddressfield_value  # type: ignore[method-assign]
    )
    DatabaseWrapper.data_types = {
        **DatabaseWrapper.data_types,
        "GenericIPAddressField": "varchar(39)",
        "IPAddressField": "varchar(15)",
    }


# One line per shim for the report: the server gap it gets past.
REASONS: dict[str, str] = {
    "setval-constant": "setval() with a non-constant sequence argument is not "
    "supported (0A000); Django resets sequences with "
    "setval(pg_get_serial_sequence(...), ...) after every test database migration",
    "inet-as-varchar": 'there is no inet type (42704 type "inet" does not exist); '
    "Django stores GenericIPAddressField as inet, so apps with such a field "
    "fail at database setup",
}

SHIMS: dict[str, Callable[[], None]] = {
    "setval-constant": _setval_constant,
    "inet-as-varchar": _inet_as_varchar,
}


def install(names: str) -> None:
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in SHIMS:
            raise SystemExit(f"unknown shim {name!r}; known: {', '.join(SHIMS)}")
        SHIMS[name]()
