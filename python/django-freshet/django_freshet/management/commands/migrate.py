"""``migrate`` whose "models have changes not yet reflected" check also sees
changed materialized views (see ``django_freshet.autodetector``)."""

from django.core.management.commands import migrate

from django_freshet.autodetector import FreshetMigrationAutodetector


class Command(migrate.Command):
    autodetector = FreshetMigrationAutodetector
