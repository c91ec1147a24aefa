"""The Freshet ``DatabaseWrapper``: Django's postgresql wrapper with Freshet's
defaults and feature set.

Freshet is a PostgreSQL-compatible server, so everything that talks SQL is
inherited from ``django.db.backends.postgresql``: the SQL compiler, the
operations, the schema editor (``CREATE TABLE`` with identity columns, etc.)
and catalog introspection through ``pg_catalog``. ``vendor`` stays
``"postgresql"`` on purpose: Django gates PostgreSQL-specific code paths
(``DISTINCT ON``, ``RETURNING``, ``ON CONFLICT``, JSON operators,
``django.contrib.postgres``) and its test suite's vendor-specific tests on
it, and Freshet's goal is to behave like PostgreSQL on all of them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, NotSupportedError
from django.db.backends.postgresql import base as postgresql_base
from django.db.backends.postgresql.psycopg_any import is_psycopg3

from .features import DatabaseFeatures

if not is_psycopg3:
    raise ImproperlyConfigured(
        "django_freshet requires psycopg 3 (pip install 'psycopg[binary]'); "
        "only psycopg2 was found"
    )

# Freshet's embedded defaults: `freshet serve` listens on 127.0.0.1:4566 and
# has a database `dev` owned by the trusted user `root`. Freshet listens on
# TCP only, so an empty HOST means loopback rather than libpq's Unix socket.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_USER = "root"
DEFAULT_NAME = "dev"


def apply_defaults(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """Fill the empty connection settings with Freshet's defaults, in place.

    In place because Django keeps ``settings.DATABASES[alias]`` and the
    wrapper's ``settings_dict`` as one object (the test runner renames the
    database through both). ``NAME=None`` is left alone: it means "the
    maintenance database" (``postgres``), which Freshet also has.
    """
    if settings_dict.get("NAME") == "" and not settings_dict.get("OPTIONS", {}).get(
        "service"
    ):
        settings_dict["NAME"] = DEFAULT_NAME
    if not settings_dict.get("USER"):
        settings_dict["USER"] = DEFAULT_USER
    if not settings_dict.get("HOST"):
        settings_dict["HOST"] = DEFAULT_HOST
    if not settings_dict.get("PORT"):
        settings_dict["PORT"] = str(DEFAULT_PORT)
    return settings_dict


class DatabaseWrapper(postgresql_base.DatabaseWrapper):
    """A connection to a Freshet server."""

    vendor = "postgresql"
    display_name = "Freshet"
    features_class = DatabaseFeatures

    def __init__(
        self, settings_dict: dict[str, Any], alias: str = DEFAULT_DB_ALIAS
    ) -> None:
        super().__init__(apply_defaults(settings_dict), alias)

    def check_database_version_supported(self) -> None:
        """Django's check, naming what the version is a version of.

        Freshet reports the PostgreSQL version it is compatible with
        (``server_version`` 15.0), and Django's minimum is a PostgreSQL
        version, so the message says "PostgreSQL 14 or later", not
        "Freshet 14 or later" (Freshet's own version is 0.1).
        """
        minimum = self.features.minimum_database_version
        found = self.get_database_version()
        if minimum is not None and found < minimum:
            raise NotSupportedError(
                f"PostgreSQL {'.'.join(map(str, minimum))} or later is required "
                f"(found {'.'.join(map(str, found))})."
            )
