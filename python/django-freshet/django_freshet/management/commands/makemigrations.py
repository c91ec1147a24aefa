"""``makemigrations`` that also writes materialized view operations (see
``django_freshet.autodetector``)."""

from django.core.management.commands import makemigrations

from django_freshet.autodetector import FreshetMigrationAutodetector


class Command(makemigrations.Command):
    autodetector = FreshetMigrationAutodetector
