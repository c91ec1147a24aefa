"""The ``django_freshet`` app: add it to ``INSTALLED_APPS`` to use
``MaterializedView`` models (its ``makemigrations`` writes their views)."""

from __future__ import annotations

from django.apps import AppConfig


class FreshetConfig(AppConfig):
    name = "django_freshet"
    verbose_name = "Freshet"
