"""The migration autodetector that writes materialized view operations.

Django's autodetector compares model states, and a model state has no room
for a view's query. This one also compares each ``MaterializedView`` model's
query (compiled to SQL text by ``django_freshet.models.view_sql``) with the
SQL that the migrations on disk last created its view with (replaying their
``CreateMaterializedView``/``DropMaterializedView`` operations in graph
order), and adds:

- ``CreateMaterializedView`` for a new view, or one whose SQL or
  ``db_table`` changed, at the end of its app's operations, depending on the
  ``CreateModel`` of every model whose table the SQL names (so it runs after
  the tables it reads, across apps too);
- ``DropMaterializedView`` (carrying the old SQL, to be reversible) for a
  removed or changed view, at the start of its app's operations, so it runs
  before the model's ``DeleteModel`` and before fields it reads go away.

A view that reads a dropped-and-recreated view is dropped and recreated too
(Freshet refuses to drop a view that another view reads). Views are created
in dependency order and dropped in the reverse order.

``makemigrations`` and ``migrate`` of this package (``django_freshet`` in
``INSTALLED_APPS``) use it through Django 5.2's ``Command.autodetector``.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps as global_apps
from django.db.migrations.autodetector import MigrationAutodetector, OperationDependency
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.state import ModelState, ProjectState

from .models import is_materialized_view, view_sql
from .operations import CreateMaterializedView, DropMaterializedView

ModelKey = tuple[str, str]

# The field name of an OperationDependency on a view operation: CREATE means
# "after this model's CreateMaterializedView", REMOVE "after its
# DropMaterializedView" (Django sorts an app's operations by dependencies
# only, not by the order they were added in).
VIEW_DEPENDENCY = "__materialized_view__"

# SQL tokens that matter for finding table names: quoted identifiers,
# unquoted identifiers and string literals (skipped, so that a literal
# naming a table is not a dependency).
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)""")


def relation_names(sql: str) -> set[str]:
    """Every identifier in ``sql`` as PostgreSQL folds it; a superset of the
    relations the SQL reads."""
    names = set()
    for match in _TOKEN.finditer(sql):
        quoted, bare = match.groups()
        if quoted is not None:
            names.add(quoted.replace('""', '"'))
        elif bare is not None:
            names.add(bare.lower())
    return names


def _db_table(key: ModelKey, state: ModelState) -> str:
    return state.options.get("db_table") or f"{key[0]}_{key[1]}"


def _is_view_state(state: ModelState) -> bool:
    return any(
        is_materialized_view(base) for base in state.bases if isinstance(base, type)
    )


def migrated_views(graph: MigrationGraph | None) -> dict[ModelKey, str]:
    """The SQL each view model's view was last created with by the
    migrations in ``graph``, keyed by (app label, lowercase model name)."""
    views: dict[ModelKey, str] = {}
    if graph is None:
        return views
    seen: set[tuple[str, str]] = set()
    for leaf in sorted(graph.leaf_nodes()):
        for node in graph.forwards_plan(leaf):
            if node in seen:
                continue
            seen.add(node)
            migration = graph.nodes[node]
            for operation in migration.operations:
                key = (migration.app_label, getattr(operation, "model_name_lower", ""))
                if isinstance(operation, CreateMaterializedView):
                    views[key] = operation.sql
                elif isinstance(operation, DropMaterializedView):
                    views.pop(key, None)
    return views


class FreshetMigrationAutodetector(MigrationAutodetector):
    """Django's autodetector plus materialized view operations."""

    def _detect_changes(
        self, convert_apps: Any = None, graph: MigrationGraph | None = None
    ) -> Any:
        self._freshet_graph = graph
        return super()._detect_changes(convert_apps, graph)

    def generate_altered_db_table(self) -> None:
        # The last generate_* step of _detect_changes, before operations are
        # sorted into migrations.
        super().generate_altered_db_table()
        self.generate_materialized_views()

    def generate_materialized_views(self) -> None:
        old_sql = migrated_views(getattr(self, "_freshet_graph", None))
        old = {
            key: (_db_table(key, self.from_state.models[key]), sql)
            for key, sql in old_sql.items()
            if key in self.from_state.models
        }
        new = self._desired_views()

        old_reads = self._reads(old, self.from_state)
        new_reads = self._reads(new, self.to_state)

        # A view goes if it is no longer wanted or differs; its readers go too.
        dropped = {key for key in old if new.get(key) != old[key]}
        changed = True
        while changed:
            changed = False
            for key in old:
                if key not in dropped and old_reads[key] & dropped:
                    dropped.add(key)
                    changed = True
        created = {key for key in new if key not in old or key in dropped}

        # Drops run readers first; inserting each at the beginning reverses
        # the order, so insert the dependency order.
        for key in _dependency_order(dropped, old_reads):
            # Dropped after the views that read it.
            readers = sorted(reader for reader in dropped if key in old_reads[reader])
            self.add_operation(
                key[0],
                DropMaterializedView(
                    model_name=self.from_state.models[key].name, sql=old[key][1]
                ),
                dependencies=[
                    OperationDependency(
                        *reader, VIEW_DEPENDENCY, OperationDependency.Type.REMOVE
                    )
                    for reader in readers
                ],
                beginning=True,
            )
        tables = self._tables(self.to_state)
        for key in _dependency_order(created, new_reads):
            read_models = {
                tables[name] for name in relation_names(new[key][1]) if name in tables
            } - {key}
            dependencies = [
                OperationDependency(
                    app_label, model_name, None, OperationDependency.Type.CREATE
                )
                for app_label, model_name in sorted(read_models)
            ] + [
                OperationDependency(
                    *view, VIEW_DEPENDENCY, OperationDependency.Type.CREATE
                )
                for view in sorted(new_reads[key] & created)
            ]
            if key in dropped:
                dependencies.append(
                    OperationDependency(
                        *key, VIEW_DEPENDENCY, OperationDependency.Type.REMOVE
                    )
                )
            self.add_operation(
                key[0],
                CreateMaterializedView(
                    model_name=self.to_state.models[key].name, sql=new[key][1]
                ),
                dependencies=dependencies,
            )

    def check_dependency(self, operation: Any, dependency: OperationDependency) -> bool:
        if dependency.field_name == VIEW_DEPENDENCY:
            kind = (
                CreateMaterializedView
                if dependency.type == OperationDependency.Type.CREATE
                else DropMaterializedView
            )
            return (
                isinstance(operation, kind)
                and operation.model_name_lower == dependency.model_name_lower
            )
        return bool(super().check_dependency(operation, dependency))

    def _desired_views(self) -> dict[ModelKey, tuple[str, str]]:
        """(db_table, SQL) of every view model in the new state."""
        views = {}
        for key, state in self.to_state.models.items():
            if not _is_view_state(state):
                continue
            try:
                model = global_apps.get_model(*key)
            except LookupError:
                continue
            if (
                is_materialized_view(model)
                and getattr(model, "view_query", None) is not None
            ):
                views[key] = (_db_table(key, state), view_sql(model))
        return views

    @staticmethod
    def _tables(state: ProjectState) -> dict[str, ModelKey]:
        return {_db_table(key, model): key for key, model in state.models.items()}

    def _reads(
        self, views: dict[ModelKey, tuple[str, str]], state: ProjectState
    ) -> dict[ModelKey, set[ModelKey]]:
        """For each view, the views among ``views`` whose tables its SQL names."""
        by_table = {table: key for key, (table, _) in views.items()}
        return {
            key: {by_table[name] for name in relation_names(sql) if name in by_table}
            - {key}
            for key, (_, sql) in views.items()
        }


def _dependency_order(
    keys: set[ModelKey], reads: dict[ModelKey, set[ModelKey]]
) -> list[ModelKey]:
    """``keys`` with every view after the views it reads (then by name)."""
    ordered: list[ModelKey] = []
    visiting: set[ModelKey] = set()

    def visit(key: ModelKey) -> None:
        if key in ordered or key in visiting:
            return
        visiting.add(key)
        for dependency in sorted(reads.get(key, set()) & keys):
            visit(dependency)
        visiting.discard(key)
        ordered.append(key)

    for key in sorted(keys):
        visit(key)
    return ordered
