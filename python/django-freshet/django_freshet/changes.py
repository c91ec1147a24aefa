"""A materialized view's changes as they happen, as a Python generator.

::

    from django_freshet.changes import changes

    for change in changes(StateTurnover, full=True):
        print(change.op, change.instance, change.rw_timestamp)

This reads the server's change stream: a subscription to the view
(``CREATE SUBSCRIPTION``, RisingWave's syntax; created if missing) and a
subscription cursor (``DECLARE ... SUBSCRIPTION CURSOR``) fetched with a
timeout, so the generator blocks until changes arrive, never polls the
view, and yields each one once, in commit order. Each commit's changes
come as ``Insert`` / ``Delete`` rows, or ``UpdateDelete`` followed by
``UpdateInsert`` when a row with the same key (the view's ``GROUP BY``
columns) changed.

It uses a connection of its own (a second one for the same database alias,
closed when the generator is closed or garbage-collected), so it can run
beside the ORM in the same thread; run it in a thread or a worker process
when the application must do other work meanwhile.

Resuming without gaps or duplicates: remember ``change.rw_timestamp`` and
pass it back as ``since=`` (changes committed at or after that time
are replayed, so the changes of that last commit may come again). The server
keeps changes for the subscription's ``retention`` (at most 65536
commits, and not across a server restart); an older ``since`` fails
with a ``django.db.OperationalError`` naming the problem.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, router

#: The ``op`` values the server sends.
INSERT, DELETE, UPDATE_DELETE, UPDATE_INSERT = (
    "Insert",
    "Delete",
    "UpdateDelete",
    "UpdateInsert",
)


_DURATION = re.compile(r"\d+(\.\d+)?\s*[a-zA-Z]*")


@dataclass(frozen=True)
class Change:
    """One row change of a view."""

    #: ``"Insert"``, ``"Delete"``, ``"UpdateDelete"`` or ``"UpdateInsert"``.
    op: str
    #: The row as ``{column: value}``.
    row: dict[str, Any]
    #: The commit's time in milliseconds since the Unix epoch.
    rw_timestamp: int
    #: The row as an instance of the model (``None`` for a view given by name).
    instance: models.Model | None = None

    @property
    def is_insert(self) -> bool:
        """Whether the row is now in the view (``Insert``/``UpdateInsert``)."""
        return self.op in (INSERT, UPDATE_INSERT)


def changes(
    view: type[models.Model] | str,
    *,
    using: str | None = None,
    full: bool = False,
    since: int | None = None,
    subscription: str | None = None,
    retention: str = "1h",
    batch: int = 100,
    wait: float = 1.0,
    idle_timeout: float | None = None,
) -> Iterator[Change]:
    """Yields the changes of ``view`` (a ``MaterializedView`` model or a
    view name) from now on.

    - ``full``: first the view's current rows, as ``Insert`` changes.
    - ``since``: a ``rw_timestamp`` to resume from instead (see the module
      comment); excludes ``full``.
    - ``subscription``: the subscription to read (default
      ``<view>_changes``, created with ``retention`` if missing).
    - ``batch``/``wait``: at most ``batch`` rows per read; a read returns
      as soon as one change is there, or after ``wait`` seconds without
      one.
    - ``idle_timeout``: stop after this many seconds without a change
      (``None``: never; close the generator to stop).
    """
    if full and since is not None:
        raise ValueError("changes(): full=True and since= exclude each other")
    if isinstance(view, str):
        model = None
        table = view
        alias = using or DEFAULT_DB_ALIAS
    else:
        model = view
        table = view._meta.db_table
        alias = using or router.db_for_read(view) or DEFAULT_DB_ALIAS
    conn = connections.create_connection(alias)
    try:
        conn.ensure_connection()
        conn.set_autocommit(True)
        qn = conn.ops.quote_name
        sub = subscription or f"{table}_changes"
        with conn.cursor() as cursor:
            if not _DURATION.fullmatch(retention):
                raise ValueError(f"changes(): retention {retention!r} is not a duration like '1h'")
            cursor.execute(
                f"CREATE SUBSCRIPTION IF NOT EXISTS {qn(sub)} FROM {qn(table)} "
                f"WITH (retention = '{retention}')"
            )
            if full:
                start = " FULL"
            elif since is not None:
                start = f" SINCE {int(since)}"
            else:
                start = ""
            cursor.execute(f"DECLARE freshet_changes SUBSCRIPTION CURSOR FOR {qn(sub)}{start}")
        fields = _fields_by_column(model) if model is not None else {}
        idle_since = time.monotonic()
        while True:
            with conn.cursor() as cursor:
                # A FETCH with a timeout waits for all the rows it asks
                # for, so wait for one, then take what else is there.
                cursor.execute(f"FETCH 1 FROM freshet_changes WITH (timeout = '{float(wait)}s')")
                names = [d.name for d in cursor.description]
                rows = cursor.fetchall()
                if rows and batch > 1:
                    cursor.execute(f"FETCH {int(batch) - 1} FROM freshet_changes")
                    rows += cursor.fetchall()
            for values in rows:
                record = dict(zip(names, values))
                op = record.pop("op")
                stamp = record.pop("rw_timestamp")
                instance = _instance(model, alias, record, fields) if model is not None else None
                yield Change(op=op, row=record, rw_timestamp=stamp, instance=instance)
            if rows:
                idle_since = time.monotonic()
            elif idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                return
    finally:
        conn.close()


def _fields_by_column(model: type[models.Model]) -> dict[str, models.Field]:
    return {f.column: f for f in model._meta.concrete_fields}


def _instance(
    model: type[models.Model], alias: str, record: dict[str, Any], fields: dict[str, models.Field]
) -> models.Model:
    """``record`` as a model instance, as the ORM would load it."""
    attnames = [fields[c].attname for c in record if c in fields]
    values = [record[c] for c in record if c in fields]
    return model.from_db(alias, attnames, values)
