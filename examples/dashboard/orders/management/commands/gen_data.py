"""``manage.py gen_data``: random orders, like the seed tutorial's
gen_data.py, written through the ORM (so to Freshet, by the router).

Each order has one to four lines (items), each item has a catalogue price,
and orders come from a handful of states. With ``--rows N`` it writes N
order lines as fast as it can and exits; without, it writes ``--batch``
lines every ``--interval`` seconds until interrupted.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Max

from orders.models import Order

STATES = ["FM", "CA", "NY", "TX", "WA", "OR", "NV", "AZ", "FL", "IL", "MA", "CO"]
ITEM_IDS = range(100001, 100031)
FIRST_ORDER_ID = 1000001


class Command(BaseCommand):
    help = "Insert random orders: N order lines, or a batch every interval forever."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, help="order lines to write, then exit")
        parser.add_argument("--batch", type=int, default=50, help="lines per INSERT")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between batches"
        )
        parser.add_argument(
            "--seed", type=int, help="random seed (for repeatable data)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])
        catalogue = {
            item_id: Decimal(rng.randint(199, 99999)) / 100 for item_id in ITEM_IDS
        }
        last = Order.objects.aggregate(last=Max("order_id"))["last"]
        lines = self.lines(rng, catalogue, (last or FIRST_ORDER_ID - 1) + 1)
        batch = max(1, options["batch"])
        remaining = options["rows"]
        written = 0
        try:
            while remaining is None or written < remaining:
                size = batch if remaining is None else min(batch, remaining - written)
                Order.objects.bulk_create(next(lines) for _ in range(size))
                written += size
                if remaining is None:
                    self.stdout.write(f"{written} order lines written")
                    time.sleep(options["interval"])
        except KeyboardInterrupt:
            pass
        self.stdout.write(f"gen_data: {written} order lines written")

    @staticmethod
    def lines(rng: random.Random, catalogue: dict[int, Decimal], order_id: int) -> Any:
        """An endless stream of order lines, order after order."""
        while True:
            state = rng.choice(STATES)
            for item_id in rng.sample(list(catalogue), rng.randint(1, 4)):
                yield Order(
                    order_id=order_id,
                    item_id=item_id,
                    quantity=rng.randint(1, 10),
                    price=catalogue[item_id],
                    state=state,
                )
            order_id += 1
