"""Settings of the dashboard example: SQLite for the transactional side,
Freshet for the streaming side, as in the seed tutorial's OLTP/OLAP split.

The Freshet server is taken from the environment: ``FRESHET_HOST``
(127.0.0.1), ``FRESHET_PORT`` (4566), ``FRESHET_DB`` (dev), ``FRESHET_USER``
(root), ``FRESHET_PASSWORD`` (none). ``DASHBOARD_SQLITE`` is the SQLite file
(``oltp.sqlite3`` beside this project).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "dashboard-example-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    # Its makemigrations writes the CREATE MATERIALIZED VIEW operations.
    "django_freshet",
    "orders",
]

MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "dashboard_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]

DATABASES = {
    # The transactional database: here it only records Django's migrations,
    # in a real project it holds users, sessions and the like.
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DASHBOARD_SQLITE", str(BASE_DIR / "oltp.sqlite3")),
    },
    # Orders and the dashboard's materialized views.
    "freshet": {
        "ENGINE": "django_freshet",
        "HOST": os.environ.get("FRESHET_HOST", "127.0.0.1"),
        "PORT": os.environ.get("FRESHET_PORT", "4566"),
        "NAME": os.environ.get("FRESHET_DB", "dev"),
        "USER": os.environ.get("FRESHET_USER", "root"),
        "PASSWORD": os.environ.get("FRESHET_PASSWORD", ""),
    },
}
DATABASE_ROUTERS = ["django_freshet.routers.StreamingRouter"]
FRESHET_DATABASE = "freshet"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
