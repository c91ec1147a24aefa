"""Django database backend for Freshet.

Freshet speaks the PostgreSQL wire protocol, so this backend is Django's own
``django.db.backends.postgresql`` backend over psycopg 3, with Freshet's
connection defaults (``127.0.0.1:4566``, user ``root``, database ``dev``) and
a ``DatabaseFeatures`` that states what the server supports. Use it with::

    DATABASES = {"default": {"ENGINE": "django_freshet"}}

What this package deliberately does not do: rewrite SQL or switch features
off to hide a server bug. A difference from PostgreSQL that Freshet should
not have is fixed in the server; ``features.py`` only describes real,
intended limitations, each with its reason.
"""

__version__ = "0.1.0"
