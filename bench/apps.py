"""The servers under comparison, each one ``GET /ticks`` sending ``event: tick`` frames.

- ``generated``: the roccogen package's ``FeedService`` subclassed the way a user would;
- ``sse_starlette``: a hand-written sse-starlette ``EventSourceResponse`` yielding dicts whose
  data is the model's JSON (its documented usage);
- ``starlette``: a raw Starlette ``StreamingResponse`` yielding pre-encoded frames (the ceiling
  for one write per event).

Every stream ends after ``?n=`` events (default: never). Modes: ``burst`` sends as fast as the
client reads, one event per handler step (no artificial yields to the loop); ``paced`` is the same
but yields to the event loop after every event (``asyncio.sleep(0)``), as a handler fed by another
task one event per loop iteration would, so nothing can be coalesced; ``ticker`` sends one
event per second; ``firehose`` (raw Starlette only) writes 128 pre-encoded frames per write, a
source fast enough that a client benchmark measures the client.

Tight burst loops never yield to the event loop, so a client that hangs up early would leave the
raw peers spinning (uvicorn's h11 ``send`` does not raise after a disconnect): burst clients always
read their ``n`` events to the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bench.feed import EVENT, PATH, TICK_FIELDS, frame, import_generated

APPS = ("generated", "sse_starlette", "starlette")
MODES = ("burst", "paced", "ticker", "firehose")
TICK_INTERVAL = 1.0
FIREHOSE_BATCH = 128
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _count(value: str | None) -> int | None:
    return int(value) if value else None


def generated_app(root: Path, mode: str) -> Starlette:
    """The generated server with a handler subclass written the way the docs show."""
    server = import_generated(root, "server")
    models = import_generated(root, "models")
    tick = models.Tick(**TICK_FIELDS)

    class FeedImpl(server.FeedService):  # type: ignore[misc, name-defined]
        async def ticks(self, request: Any, stream: Any) -> None:
            send = stream.tick
            n = request.n
            if mode == "ticker":
                while n is None or n > 0:
                    await asyncio.sleep(TICK_INTERVAL)
                    await send(tick)
                    n = None if n is None else n - 1
            elif mode == "paced":
                for _ in range(n if n is not None else 1 << 62):
                    await send(tick)
                    await asyncio.sleep(0)
            else:
                for _ in range(n if n is not None else 1 << 62):
                    await send(tick)

    app: Starlette = server.create_app(FeedImpl())
    return app


def sse_starlette_app(root: Path, mode: str) -> Starlette:
    """sse-starlette as its README shows it: an async generator of event dicts."""
    from sse_starlette import EventSourceResponse

    models = import_generated(root, "models")
    tick = models.Tick(**TICK_FIELDS)

    async def events(n: int | None) -> AsyncIterator[dict[str, str]]:
        if mode == "ticker":
            while n is None or n > 0:
                await asyncio.sleep(TICK_INTERVAL)
                yield {"event": EVENT, "data": tick.model_dump_json()}
                n = None if n is None else n - 1
        elif mode == "paced":
            for _ in range(n if n is not None else 1 << 62):
                yield {"event": EVENT, "data": tick.model_dump_json()}
                await asyncio.sleep(0)
        else:
            for _ in range(n if n is not None else 1 << 62):
                yield {"event": EVENT, "data": tick.model_dump_json()}

    async def ticks(request: Request) -> Response:
        return EventSourceResponse(events(_count(request.query_params.get("n"))))

    return Starlette(routes=[Route(PATH, ticks)])


def starlette_app(root: Path, mode: str) -> Starlette:
    """Raw Starlette streaming pre-encoded bytes: no serialization, no framing work per event."""
    one = frame()

    async def body(n: int | None) -> AsyncIterator[bytes]:
        if mode == "ticker":
            while n is None or n > 0:
                await asyncio.sleep(TICK_INTERVAL)
                yield one
                n = None if n is None else n - 1
        elif mode == "firehose":
            total = n if n is not None else 1 << 62
            batch = one * FIREHOSE_BATCH
            for _ in range(total // FIREHOSE_BATCH):
                yield batch
            if total % FIREHOSE_BATCH:
                yield one * (total % FIREHOSE_BATCH)
        elif mode == "paced":
            for _ in range(n if n is not None else 1 << 62):
                yield one
                await asyncio.sleep(0)
        else:
            for _ in range(n if n is not None else 1 << 62):
                yield one

    async def ticks(request: Request) -> Response:
        n = _count(request.query_params.get("n"))
        return StreamingResponse(body(n), media_type="text/event-stream", headers=SSE_HEADERS)

    return Starlette(routes=[Route(PATH, ticks)])


FACTORIES: dict[str, Callable[[Path, str], Starlette]] = {
    "generated": generated_app,
    "sse_starlette": sse_starlette_app,
    "starlette": starlette_app,
}


def make_app(name: str, root: Path, mode: str) -> Starlette:
    """The app ``name`` in ``mode``; ``root`` holds the generated package."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    return FACTORIES[name](root, mode)
