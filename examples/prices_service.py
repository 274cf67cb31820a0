"""A user's implementation of the Prices API: the only hand-written server code.

It lives outside the generated package, so `roccogen build` never overwrites it.
"""

from __future__ import annotations

import asyncio
import math

from prices.models import PriceUpdate, VolumeUpdate
from prices.server import PricesService, PriceStreamRequest, PriceStreamStream


class RandomWalkPrices(PricesService):
    """Sends a price (unnamed and as a named `price` event) and a `volume` every tick."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval

    async def price_stream(self, request: PriceStreamRequest, stream: PriceStreamStream) -> None:
        tick = 0
        while not stream.done.is_set():
            price = round(100 + 5 * math.sin(tick / 3), 2)
            await stream.send(PriceUpdate(symbol="ACME", price=price))
            await stream.price(PriceUpdate(symbol="ACME", price=price))
            await stream.volume(VolumeUpdate(symbol="ACME", volume=1000 + 10 * tick))
            tick += 1
            await asyncio.sleep(self.interval)
