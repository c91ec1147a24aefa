"""Models for Freshet's streaming side: materialized views and streaming tables.

A materialized view is declared as a Django model whose rows Freshet
maintains from the tables its query reads::

    from django.db import models
    from django.db.models import F, Sum
    from django_freshet.models import MaterializedView

    class StateTurnover(MaterializedView):
        state = models.CharField(max_length=2, primary_key=True)
        turnover = models.DecimalField(max_digits=20, decimal_places=2)

        view_query = (
            Order.objects.values("state")
            .annotate(turnover=Sum(F("quantity") * F("price")))
            .order_by("-turnover", "state")[:5]
        )

``view_query`` is SQL text or a ``QuerySet`` (or a callable returning
either, for queries that must be built lazily). ``makemigrations`` (with
``"django_freshet"`` in ``INSTALLED_APPS``) writes the model's unmanaged
``CreateModel`` followed by ``django_freshet.operations.CreateMaterializedView``
with the query frozen as SQL text, after the operations that create the
tables it reads.

What this module deliberately does not do: write to a view. Freshet keeps a
view equal to its query, so ``save()``, ``delete()`` and the write methods
of its ``QuerySet`` raise ``django.db.NotSupportedError`` before any SQL is
sent; write to the tables the view reads instead.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.apps import apps
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, models, router
from django.db.models.base import ModelBase
from psycopg import sql as psycopg_sql


class StreamingMixin:
    """Marks a model as living on Freshet (see ``django_freshet.routers``).

    A plain class rather than a model, so that migrations record it in the
    model's ``bases`` and historical models (the ones migrations and
    routers see) are still recognisable as streaming.
    """


class MaterializedViewMixin(StreamingMixin):
    """Makes a model read-only; ``MaterializedView`` models have it.

    Recorded in migrations like ``StreamingMixin``, so the historical model
    of a view is read-only too and the autodetector can tell a view model's
    state from a table's.
    """

    def save(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _read_only(type(self), "save()")

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _read_only(type(self), "delete()")


def _read_only(model: type, what: str) -> NotSupportedError:
    name = getattr(getattr(model, "_meta", None), "label", model.__name__)
    return NotSupportedError(
        f"{what} is not supported on {name}: it is a materialized view, whose "
        "rows Freshet maintains from the tables its query reads; write to "
        "those tables instead"
    )


class MaterializedViewQuerySet(models.QuerySet):
    """A ``QuerySet`` that reads a view and refuses every bulk write."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise _read_only(self.model, "QuerySet.update()")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise _read_only(self.model, "QuerySet.delete()")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _read_only(self.model, "QuerySet.bulk_create()")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _read_only(self.model, "QuerySet.bulk_update()")


class MaterializedViewBase(ModelBase):
    """Makes every concrete ``MaterializedView`` unmanaged.

    Django inherits an abstract parent's ``Meta`` only when the child
    declares none, so a view model with its own ``class Meta`` would
    otherwise be managed and ``migrate`` would create a table in the view's
    place. An explicit ``managed = True`` is refused.
    """

    def __new__(
        mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any
    ) -> MaterializedViewBase:
        meta = attrs.get("Meta")
        if meta is not None and not getattr(meta, "abstract", False):
            if getattr(meta, "managed", False):
                raise TypeError(
                    f"{name}: a MaterializedView is never managed; its "
                    "CREATE MATERIALIZED VIEW comes from "
                    "django_freshet.operations.CreateMaterializedView"
                )
            meta.managed = False
        return super().__new__(mcs, name, bases, attrs, **kwargs)


class MaterializedView(
    MaterializedViewMixin, models.Model, metaclass=MaterializedViewBase
):
    """Abstract base of a model that reads a Freshet materialized view.

    Subclasses set ``view_query`` and declare one field per output column of
    the query (named like the column), one of them ``primary_key=True``
    (or a ``models.CompositePrimaryKey``) over columns that are unique in
    the view, such as the ``GROUP BY`` keys. The view is named by
    ``Meta.db_table`` as usual (``<app>_<model>`` by default).
    """

    #: SQL text, a ``QuerySet``, or a callable returning either.
    view_query: Any = None

    objects = MaterializedViewQuerySet.as_manager()

    class Meta:
        abstract = True
        managed = False


def is_streaming(model: type) -> bool:
    """Whether ``model`` (a model class, current or historical) is on Freshet."""
    return isinstance(model, type) and issubclass(model, StreamingMixin)


def is_materialized_view(model: type) -> bool:
    """Whether ``model`` (current or historical) reads a materialized view."""
    return isinstance(model, type) and issubclass(model, MaterializedViewMixin)


def view_sql(model: type[MaterializedView]) -> str:
    """The SQL text of ``model.view_query``, as ``CREATE MATERIALIZED VIEW``
    takes it.

    A ``QuerySet`` is compiled for the database that the routers pick for
    reading the view (``default`` without routers) and its parameters are
    inlined as SQL literals, because DDL takes no parameters. No
    connection is opened.
    """
    query = model.view_query
    if callable(query) and not isinstance(query, models.QuerySet):
        query = query()
    if isinstance(query, str):
        text = query.strip().rstrip(";").strip()
        if not text:
            raise TypeError(f"{model._meta.label}.view_query is empty")
        return text
    if isinstance(query, models.QuerySet):
        alias = router.db_for_read(model) or DEFAULT_DB_ALIAS
        compiled, params = query.query.get_compiler(using=alias).as_sql()
        # Django escapes a literal % as %% whether or not there are
        # parameters, so the substitution always runs.
        return compiled % tuple(psycopg_sql.Literal(p).as_string() for p in params)
    raise TypeError(
        f"{model._meta.label}.view_query must be SQL text, a QuerySet or a "
        f"callable returning one, not {type(query).__name__}"
    )


@checks.register(checks.Tags.models)
def check_views_need_the_app(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """A ``MaterializedView`` model without the ``django_freshet`` app would
    get no view: the stock ``makemigrations`` writes only its unmanaged
    ``CreateModel``. Registered here, not in the app, because it is about
    the app's absence."""
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
