"""Migration operations that create and drop a materialized view.

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


class _MaterializedViewOperation(Operation):
    reduces_to_sql = True
    reversible = True

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

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        # The model's state belongs to its CreateModel/DeleteModel.
        pass

    def references_model(self, name: str, app_label: str) -> bool:
        # The SQL may read any model, so no operation may be moved across
        # this one.
        return True

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

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._create(app_label, schema_editor, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._drop(app_label, schema_editor, from_state)

    def describe(self) -> str:
        return f"Create materialized view for {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"create_view_{self.model_name_lower}"


class DropMaterializedView(_MaterializedViewOperation):
    """``DROP MATERIALIZED VIEW <model's db_table>``; ``sql`` recreates it
    when unapplied."""

    category = OperationCategory.REMOVAL

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._drop(app_label, schema_editor, from_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._create(app_label, schema_editor, to_state)

    def describe(self) -> str:
        return f"Drop materialized view for {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_view_{self.model_name_lower}"
