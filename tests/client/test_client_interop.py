"""Interop: generated clients against a server roccogen did not generate (plain sse-starlette)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import httpx_sse
from sse_live import generated, live_server, send_chunk, send_end, send_head
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from roccogen.runtime.client_runtime import aconnect_sse, connect_sse


def prices_app() -> Starlette:
    async def stream(request: Request) -> EventSourceResponse:
        async def events() -> AsyncIterator[Any]:
            yield {"data": json.dumps({"symbol": "A", "price": 1})}  # a dict, unnamed
            await asyncio.sleep(0.12)  # long enough for a few pings in between
            yield ServerSentEvent(data=json.dumps({"symbol": "A", "price": 2}), event="price")
            yield ServerSentEvent(data=json.dumps({"symbol": "A", "volume": 9}), event="volume", id="v1")
            yield ServerSentEvent(comment="a comment")
            yield ServerSentEvent(data="ignored by policy", event="unknown")

        return EventSourceResponse(events(), ping=0.02, sep="\r\n")

    return Starlette(routes=[Route("/prices/stream", stream)])


def test_prices_client_reads_sse_starlette() -> None:
    prices = generated("prices.yaml")
    with (
        live_server(prices_app()) as url,
        prices.PricesClient(url) as client,
        client.price_stream() as stream,
    ):
        events = list(stream)
    assert [type(e).__name__ for e in events] == ["MessageEvent", "PriceEvent", "VolumeEvent"]
    assert [e.id for e in events] == ["", "", "v1"]  # pings after an id produce no phantom events
    assert stream.ignored_events == 1


def jobs_app(seen: list[str | None]) -> Starlette:
    async def stream(request: Request) -> EventSourceResponse:
        last = request.headers.get("last-event-id")
        seen.append(last)
        start = int(last) + 1 if last else 1

        async def events() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent(comment="hello", retry=5)
            for step in range(start, 13):
                data = json.dumps({"step": step, "total": 12})
                yield ServerSentEvent(data=data, event="progress", id=str(step))
                if step % 5 == 0 and step != 12:
                    return  # the server ends this response; the client must resume
            yield ServerSentEvent(data=json.dumps({"status": "succeeded"}), event="done")

        return EventSourceResponse(events(), ping=1)

    return Starlette(routes=[Route("/jobs/{job_id}/progress", stream)])


def test_jobs_client_resumes_against_sse_starlette() -> None:
    jobs = generated("jobs.yaml")
    seen: list[str | None] = []
    policy = jobs.ReconnectPolicy(initial_delay=0.01, max_delay=0.05)

    async def main(url: str) -> list[Any]:
        async with (
            jobs.AsyncJobsClient(url, reconnect=policy) as client,
            client.job_progress("j") as stream,
        ):
            return [event async for event in stream]

    with live_server(jobs_app(seen)) as url:
        events = asyncio.run(main(url))
    assert [e.data.step for e in events[:-1]] == list(range(1, 13))
    assert type(events[-1]).__name__ == "DoneEvent"
    assert seen == [None, "5", "10"]


WIRE = (
    b"\xef\xbb\xbfid: 1\r\ndata: caf\xc3\xa9\r\n\r\n"  # BOM, CRLF, UTF-8 despite the charset below
    b": keep-alive\r\n\r\n"  # after an id: httpx-sse 0.4.3 would emit an empty event here
    b"retry: +5\r\ndata: b\r\n\r\n"
    b"data: unterminated"
)


def wire_app() -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send_head(send, 200, "text/event-stream; charset=iso-8859-1")
        for i in range(len(WIRE)):  # one byte per write: every boundary is awkward
            await send_chunk(send, WIRE[i : i + 1])
        await send_end(send)

    return app


def test_drop_in_event_source_keeps_the_httpx_sse_api() -> None:
    expected = [("message", "café", "1", None), ("message", "b", "1", None)]
    with live_server(wire_app()) as url:
        with httpx.Client() as http, connect_sse(http, "GET", url) as source:
            assert isinstance(source, httpx_sse.EventSource)
            got = [(e.event, e.data, e.id, e.retry) for e in source.iter_sse()]
        assert got == expected

        async def main() -> list[Any]:
            async with httpx.AsyncClient() as http, aconnect_sse(http, "GET", url) as source:
                return [(e.event, e.data, e.id, e.retry) async for e in source.aiter_sse()]

        assert asyncio.run(main()) == expected
        with httpx.Client() as http, httpx_sse.connect_sse(http, "GET", url) as plain:
            raw = [(e.event, e.data, e.id) for e in plain.iter_sse()]
        assert raw != [(e, d, i) for e, d, i, _ in expected]  # what the runtime corrects
