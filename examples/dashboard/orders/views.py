"""The dashboard page: the four rankings, read from their views."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .models import (
    Order,
    TopItemByAverageQuantity,
    TopItemByQuantity,
    TopItemByTurnover,
    TopStateByTurnover,
)

REFRESH_SECONDS = 2


@dataclass(frozen=True)
class Ranking:
    slug: str
    title: str
    key_label: str
    figure_label: str
    rows: list[tuple[str, str]]


def figure(value: Decimal | int) -> str:
    """A figure as the page shows it: integers as they are, decimals to two
    places (half up), with no thousands separators."""
    if isinstance(value, int):
        return str(value)
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def item(item_id: int) -> str:
    return f"item {item_id}"


def rankings() -> list[Ranking]:
    return [
        Ranking(
            "states-by-turnover",
            "Top 5 states by turnover",
            "State",
            "Turnover",
            [(r.state, figure(r.turnover)) for r in TopStateByTurnover.objects.all()],
        ),
        Ranking(
            "items-by-average-quantity",
            "Top 5 items by average quantity per order",
            "Item",
            "Average quantity",
            [
                (item(r.item_id), figure(r.average_quantity))
                for r in TopItemByAverageQuantity.objects.all()
            ],
        ),
        Ranking(
            "items-by-quantity",
            "Top 5 best-selling items by quantity",
            "Item",
            "Quantity",
            [
                (item(r.item_id), figure(r.total_quantity))
                for r in TopItemByQuantity.objects.all()
            ],
        ),
        Ranking(
            "items-by-turnover",
            "Top 5 best-selling items by turnover",
            "Item",
            "Turnover",
            [
                (item(r.item_id), figure(r.turnover))
                for r in TopItemByTurnover.objects.all()
            ],
        ),
    ]


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "orders/dashboard.html",
        {
            "rankings": rankings(),
            "order_lines": Order.objects.count(),
            "rendered_at": timezone.now(),
            "refresh_seconds": REFRESH_SECONDS,
        },
    )
