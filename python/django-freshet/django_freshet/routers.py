"""An OLTP/OLAP database router: streaming models on Freshet, the rest elsewhere.

The seed pattern: Freshet sits beside the project's transactional database
(``default``), and the models for analytics live on Freshet::

    DATABASES = {
        "default": {"ENGINE": "django.db.backends.postgresql", ...},
        "freshet": {"ENGINE": "django_freshet"},
    }
    DATABASE_ROUTERS = ["django_freshet.routers.StreamingRouter"]
    FRESHET_DATABASE = "freshet"        # the alias; "freshet" by default
    FRESHET_APPS = ["analytics"]        # optional: whole apps on Freshet

A model is streaming when it inherits ``django_freshet.models.StreamingMixin``
(every ``MaterializedView`` does) or its app is in ``FRESHET_APPS``. Reads
and writes of a streaming model go to the Freshet alias, and it is migrated
only there (``manage.py migrate --database freshet``); every other model is
migrated everywhere but there. Relations between a streaming and another
model are refused: they would cross databases.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings

from .models import is_streaming

DEFAULT_ALIAS = "freshet"


def freshet_alias() -> str:
    """The alias of the Freshet database (``settings.FRESHET_DATABASE``)."""
    return getattr(settings, "FRESHET_DATABASE", DEFAULT_ALIAS)


class StreamingRouter:
    """Routes streaming models to Freshet; says nothing about other models,
    so the next router (or ``default``) decides for them."""

    def _streaming(self, model: Any) -> bool:
        return is_streaming(model) or model._meta.app_label in getattr(
            settings, "FRESHET_APPS", ()
        )

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return freshet_alias() if self._streaming(model) else None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return freshet_alias() if self._streaming(model) else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        if self._streaming(type(obj1)) != self._streaming(type(obj2)):
            return False
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        model = hints.get("model")
        if model is None and model_name is not None:
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                model = None
        if model is not None:
            streaming = self._streaming(model)
        elif app_label in getattr(settings, "FRESHET_APPS", ()):
            streaming = True
        else:
            # An operation without a model (RunSQL, RunPython) in an app
            # that is not wholly on Freshet: not for Freshet.
            streaming = False
        return (db == freshet_alias()) == streaming
