"""Orders (a streaming table on Freshet) and the dashboard's four Top-5
rankings, each a materialized view that Freshet keeps up to date as orders
arrive. The rankings are the seed tutorial's; its queries become the views'
``view_query``, with a tie-break on the key so that a ranking is one
well-defined set of rows."""

from django.db import models
from django.db.models import Avg, F, Sum
from django.utils import timezone
from django_freshet.models import MaterializedView, StreamingMixin


class Order(StreamingMixin, models.Model):
    """One line of an order (the seed's ``orders`` table: an order has
    several lines, one per item)."""

    order_id = models.IntegerField()
    item_id = models.IntegerField()
    quantity = models.IntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    state = models.CharField(max_length=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "orders"


TURNOVER = Sum(F("quantity") * F("price"))


class TopStateByTurnover(MaterializedView):
    state = models.CharField(max_length=2, primary_key=True)
    turnover = models.DecimalField(max_digits=30, decimal_places=2)

    view_query = (
        Order.objects.values("state")
        .annotate(turnover=TURNOVER)
        .order_by("-turnover", "state")[:5]
    )

    class Meta:
        db_table = "top_states_by_turnover"
        ordering = ["-turnover", "state"]


class TopItemByAverageQuantity(MaterializedView):
    item_id = models.IntegerField(primary_key=True)
    average_quantity = models.DecimalField(max_digits=30, decimal_places=20)

    view_query = (
        Order.objects.values("item_id")
        .annotate(average_quantity=Avg("quantity"))
        .order_by("-average_quantity", "item_id")[:5]
    )

    class Meta:
        db_table = "top_items_by_average_quantity"
        ordering = ["-average_quantity", "item_id"]


class TopItemByQuantity(MaterializedView):
    item_id = models.IntegerField(primary_key=True)
    total_quantity = models.BigIntegerField()

    view_query = (
        Order.objects.values("item_id")
        .annotate(total_quantity=Sum("quantity"))
        .order_by("-total_quantity", "item_id")[:5]
    )

    class Meta:
        db_table = "top_items_by_quantity"
        ordering = ["-total_quantity", "item_id"]


class TopItemByTurnover(MaterializedView):
    item_id = models.IntegerField(primary_key=True)
    turnover = models.DecimalField(max_digits=30, decimal_places=2)

    view_query = (
        Order.objects.values("item_id")
        .annotate(turnover=TURNOVER)
        .order_by("-turnover", "item_id")[:5]
    )

    class Meta:
        db_table = "top_items_by_turnover"
        ordering = ["-turnover", "item_id"]
