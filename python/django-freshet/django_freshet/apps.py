"""The ``django_freshet`` app: add it to ``INSTALLED_APPS`` to use
``MaterializedView`` models (its ``makemigrations`` writes their views)."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.core import checks


class FreshetConfig(AppConfig):
    name = "django_freshet"
    verbose_name = "Freshet"


@checks.register(checks.Tags.models)
def check_views_need_the_app(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """A ``MaterializedView`` model without this app would get no view: the
    stock ``makemigrations`` writes only its unmanaged ``CreateModel``."""
    from .models import is_materialized_view

    if apps.is_installed("django_freshet"):
        return []
    return [
        checks.Error(
            f"{model._meta.label} is a MaterializedView but 'django_freshet' is "
            "not in INSTALLED_APPS",
            hint="Add 'django_freshet' to INSTALLED_APPS so that makemigrations "
            "writes its CreateMaterializedView operation.",
            obj=model,
            id="django_freshet.E001",
        )
        for model in apps.get_models()
        if is_materialized_view(model)
    ]
