"""Migration operations: materialized views, sources, sinks and subscriptions.

Materialized views:

Each operation names a ``MaterializedView`` model of the migration's app and
carries the view's query as SQL text, frozen when the migration was written
(a migration must replay the same way after the model's ``view_query``
changes). The view's name is the model's ``db_table`` in the migration
state at that point. The operations change no migration state: the model
itself comes and goes with the unmanaged ``CreateModel``/``DeleteModel``
that ``makemigrations`` writes around them, so ``CreateMaterializedView``
runs after the model's ``CreateModel`` and ``DropMaterializedView`` before
its ``DeleteModel``.

Both are reversible: backwards, ``CreateMaterializedView`` drops the view and
``DropMaterializedView`` creates it again from its ``sql``. They run only
on the databases where the routers allow migrating the model
(``router.allow_migrate_model``), like ``CreateModel``.
"""

from __future__ import annotations

from typing import Any

from django.db import router
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation, OperationCategory
from django.db.migrations.state import ProjectState


class _CreateOrDrop(Operation):
    """An operation that creates an object forwards and drops it backwards
    (``forwards_creates``), or the reverse. Subclasses define ``_create``
    (run with the state the object exists in) and ``_drop`` (with the
    state it existed in). No operation may be moved across one of these:
    the SQL may read any model."""

    reduces_to_sql = True
    reversible = True
    forwards_creates = True

    def _create(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState) -> None:
        raise NotImplementedError

    def _drop(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState) -> None:
        raise NotImplementedError

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        # Models come and go with their own CreateModel/DeleteModel.
        pass

    def references_model(self, name: str, app_label: str) -> bool:
        return True

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if self.forwards_creates:
            self._create(app_label, schema_editor, to_state)
        else:
            self._drop(app_label, schema_editor, from_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if self.forwards_creates:
            self._drop(app_label, schema_editor, from_state)
        else:
            self._create(app_label, schema_editor, to_state)


class _MaterializedViewOperation(_CreateOrDrop):
    def __init__(self, model_name: str, sql: str) -> None:
        self.model_name = model_name
        self.sql = sql

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {"model_name": self.model_name, "sql": self.sql},
        )

    def _create(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        state: ProjectState,
    ) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if router.allow_migrate_model(schema_editor.connection.alias, model):
            name = schema_editor.quote_name(model._meta.db_table)
            # params=None: the SQL is complete (a literal % stays as it is).
            schema_editor.execute(
                f"CREATE MATERIALIZED VIEW {name} AS {self.sql}", None
            )

    def _drop(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        state: ProjectState,
    ) -> None:
        model = state.apps.get_model(app_label, self.model_name)
        if router.allow_migrate_model(schema_editor.connection.alias, model):
            name = schema_editor.quote_name(model._meta.db_table)
            schema_editor.execute(f"DROP MATERIALIZED VIEW {name}", None)


class CreateMaterializedView(_MaterializedViewOperation):
    """``CREATE MATERIALIZED VIEW <model's db_table> AS <sql>``."""

    category = OperationCategory.ADDITION

    def describe(self) -> str:
        return f"Create materialized view for {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"create_view_{self.model_name_lower}"


class DropMaterializedView(_MaterializedViewOperation):
    """``DROP MATERIALIZED VIEW <model's db_table>``; ``sql`` recreates it
    when unapplied."""

    category = OperationCategory.REMOVAL
    forwards_creates = False

    def describe(self) -> str:
        return f"Drop materialized view for {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_view_{self.model_name_lower}"


# Sources, sinks and subscriptions ------------------------------------------
#
# These objects are not models (a source's rows can be read through an
# unmanaged model whose ``db_table`` is the source's name), so their
# operations carry their whole definition and are written by hand in a
# migration, in the order they must run: a source before the views that
# read it, a sink or subscription after the view it reads. Each is
# reversible (backwards, a Create drops and a Drop creates again from the
# same arguments), so ``migrate app zero`` removes them in reverse order.
# Like ``RunSQL``, they run where ``router.allow_migrate(alias, app_label,
# **hints)`` allows; pass ``hints={"model_name": ...}`` to route them with
# a model.


def _options_sql(options: dict[str, Any]) -> str:
    """``(key = 'value', ...)``; keys are dotted words, values literals."""
    parts = []
    for key, value in options.items():
        if not all(part.isidentifier() or part.isdigit() for part in str(key).split(".")):
            raise ValueError(f"invalid option name {key!r}")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f"{key} = '{text.replace(chr(39), chr(39) * 2)}'")
    return "(" + ", ".join(parts) + ")"


def _format_sql(format: str | None, encode: str | None) -> str:
    if format is None:
        return ""
    if not (format.isidentifier() and (encode or "").isidentifier()):
        raise ValueError(f"invalid FORMAT {format!r} ENCODE {encode!r}")
    return f" FORMAT {format.upper()} ENCODE {encode.upper()}"  # type: ignore[union-attr]


class _StreamingObjectOperation(_CreateOrDrop):
    """Runs ``create_sql``/``drop_sql`` of a subclass where the routers
    allow migrating its app (with its ``hints``)."""

    kind = ""

    def __init__(self, name: str, hints: dict[str, Any] | None = None) -> None:
        self.name = name
        self.hints = hints or {}

    def create_sql(self, quote: Any) -> str:
        raise NotImplementedError

    def drop_sql(self, quote: Any) -> str:
        return f"DROP {self.kind} {quote(self.name)}"

    def _run(self, sql: Any, app_label: str, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if router.allow_migrate(schema_editor.connection.alias, app_label, **self.hints):
            schema_editor.execute(sql(schema_editor.quote_name), None)

    def _create(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState) -> None:
        self._run(self.create_sql, app_label, schema_editor)

    def _drop(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, state: ProjectState) -> None:
        self._run(self.drop_sql, app_label, schema_editor)

    def describe(self) -> str:
        verb = "Create" if self.forwards_creates else "Drop"
        return f"{verb} {self.kind.lower()} {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        verb = "create" if self.forwards_creates else "drop"
        return f"{verb}_{self.kind.lower()}_{self.name.lower()}"


class _SourceOperation(_StreamingObjectOperation):
    def __init__(
        self,
        name: str,
        columns: list[tuple[str, str]],
        connector: str,
        options: dict[str, Any] | None = None,
        *,
        format: str | None = "plain",
        encode: str | None = "json",
        table: bool = False,
        primary_key: list[str] | None = None,
        hints: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(name, hints)
        self.columns = [tuple(c) for c in columns]
        self.connector = connector
        self.options = dict(options or {})
        self.format = format
        self.encode = encode
        self.table = table
        self.primary_key = list(primary_key or [])
        self.kind = "TABLE" if table else "SOURCE"

    def create_sql(self, quote: Any) -> str:
        columns = [f"{quote(name)} {sql_type}" for name, sql_type in self.columns]
        if self.primary_key:
            columns.append(f"PRIMARY KEY ({', '.join(quote(c) for c in self.primary_key)})")
        options = _options_sql({"connector": self.connector, **self.options})
        return (
            f"CREATE {self.kind} {quote(self.name)} ({', '.join(columns)}) "
            f"WITH {options}{_format_sql(self.format, self.encode)}"
        )

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "name": self.name,
            "columns": [list(c) for c in self.columns],
            "connector": self.connector,
            "options": self.options,
            "format": self.format,
            "encode": self.encode,
        }
        if self.table:
            kwargs["table"] = True
        if self.primary_key:
            kwargs["primary_key"] = self.primary_key
        if self.hints:
            kwargs["hints"] = self.hints
        return (self.__class__.__qualname__, [], kwargs)


class CreateSource(_SourceOperation):
    """``CREATE SOURCE name (columns) WITH (connector = ..., options)
    FORMAT ... ENCODE ...``; with ``table=True``, ``CREATE TABLE`` (rows
    stored and writable, plus the connector's)."""

    category = OperationCategory.ADDITION


class DropSource(_SourceOperation):
    """``DROP SOURCE name`` (``DROP TABLE`` with ``table=True``); the
    arguments recreate it when unapplied."""

    category = OperationCategory.REMOVAL
    forwards_creates = False


class _SinkOperation(_StreamingObjectOperation):
    kind = "SINK"

    def __init__(
        self,
        name: str,
        connector: str,
        options: dict[str, Any] | None = None,
        *,
        from_view: str | None = None,
        query: str | None = None,
        format: str | None = None,
        encode: str | None = None,
        hints: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(name, hints)
        if (from_view is None) == (query is None):
            raise ValueError(f"sink {name}: give exactly one of from_view= and query=")
        self.connector = connector
        self.options = dict(options or {})
        self.from_view = from_view
        self.query = query
        self.format = format
        self.encode = encode

    def create_sql(self, quote: Any) -> str:
        source = f"FROM {quote(self.from_view)}" if self.from_view is not None else f"AS {self.query}"
        options = _options_sql({"connector": self.connector, **self.options})
        return f"CREATE SINK {quote(self.name)} {source} WITH {options}{_format_sql(self.format, self.encode)}"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"name": self.name, "connector": self.connector, "options": self.options}
        for key in ("from_view", "query", "format", "encode"):
            if getattr(self, key) is not None:
                kwargs[key] = getattr(self, key)
        if self.hints:
            kwargs["hints"] = self.hints
        return (self.__class__.__qualname__, [], kwargs)


class CreateSink(_SinkOperation):
    """``CREATE SINK name FROM view | AS query WITH (connector = ...)``."""

    category = OperationCategory.ADDITION


class DropSink(_SinkOperation):
    """``DROP SINK name``; the arguments recreate it when unapplied."""

    category = OperationCategory.REMOVAL
    forwards_creates = False


class _SubscriptionOperation(_StreamingObjectOperation):
    kind = "SUBSCRIPTION"

    def __init__(
        self, name: str, from_view: str, retention: str = "1h", hints: dict[str, Any] | None = None
    ) -> None:
        super().__init__(name, hints)
        self.from_view = from_view
        self.retention = retention

    def create_sql(self, quote: Any) -> str:
        return (
            f"CREATE SUBSCRIPTION {quote(self.name)} FROM {quote(self.from_view)} "
            f"WITH {_options_sql({'retention': self.retention})}"
        )

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"name": self.name, "from_view": self.from_view, "retention": self.retention}
        if self.hints:
            kwargs["hints"] = self.hints
        return (self.__class__.__qualname__, [], kwargs)


class CreateSubscription(_SubscriptionOperation):
    """``CREATE SUBSCRIPTION name FROM view WITH (retention = ...)``, the
    change feed ``django_freshet.changes`` reads."""

    category = OperationCategory.ADDITION


class DropSubscription(_SubscriptionOperation):
    """``DROP SUBSCRIPTION name``; recreated when unapplied."""

    category = OperationCategory.REMOVAL
    forwards_creates = False
