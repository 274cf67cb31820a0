"""Generated clients against real uvicorn servers on loopback: events, dispatch, policies, errors."""

from __future__ import annotations

import asyncio
import json
import time
from types import ModuleType
from typing import Any

import httpx
import pytest
from sse_live import (
    drain_request,
    generated,
    header,
    live_server,
    send_chunk,
    send_end,
    send_head,
    sibling,
)


@pytest.fixture(scope="module")
def prices() -> ModuleType:
    return generated("prices.yaml")


@pytest.fixture(scope="module")
def jobs() -> ModuleType:
    return generated("jobs.yaml")


@pytest.fixture(scope="module")
def channels() -> ModuleType:
    return generated("channels.yaml")


def body_app(*chunks: bytes, status: int = 200, content_type: str = "text/event-stream") -> Any:
    """An app that answers every request with the given chunks, then ends cleanly."""
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append({"path": scope["path"], "query": scope["query_string"], "headers": scope["headers"]})
        await drain_request(receive)
        await send_head(send, status, content_type)
        for chunk in chunks:
            await send_chunk(send, chunk)
            await asyncio.sleep(0)
        await send_end(send)

    app.seen = seen  # type: ignore[attr-defined]
    return app


PRICE_STREAM = (
    b": hello\n\n",
    b'data: {"symbol": "ACME", "price": 1.5}\n\n',
    b'event: price\ndata: {"symbol": "ACME", "price": 2.5}\nid: p1\n\n',
    b'event: volume\r\ndata: {"symbol": "ACME", "volume": 7}\r\nretry: 3000\r\n\r\n',
    b'event: surprise\ndata: {"what": 1}\n\n',
    b": keep-alive\n\n",
)


def test_every_event_type_is_typed(prices: ModuleType) -> None:
    models = sibling(prices, "models")
    app = body_app(*PRICE_STREAM)
    with (
        live_server(app) as url,
        prices.PricesClient(url) as client,
        client.price_stream() as stream,
    ):
        events = list(stream)
    kinds = []
    for event in events:
        match event:
            case prices.MessageEvent(data=data):
                kinds.append(("message", data.price))
            case prices.PriceEvent(data=data, id=event_id):
                kinds.append(("price", data.price, event_id))
            case prices.VolumeEvent(data=data, retry=retry):
                kinds.append(("volume", data.volume, retry))
    assert kinds == [("message", 1.5), ("price", 2.5, "p1"), ("volume", 7, 3000)]
    assert isinstance(events[0].data, models.PriceUpdate)
    assert events[1].raw.event == "price" and events[1].raw.data.startswith("{")
    assert events[2].id == "p1"  # the last event id carries over, as the standard says
    assert stream.ignored_events == 1  # the undeclared "surprise" event was counted, not yielded
    assert app.seen[0]["path"] == "/prices/stream"


def test_async_iteration(prices: ModuleType) -> None:
    async def main(url: str) -> list[Any]:
        async with prices.AsyncPricesClient(url) as client, client.price_stream() as stream:
            return [event async for event in stream]

    with live_server(body_app(*PRICE_STREAM)) as url:
        events = asyncio.run(main(url))
    assert [type(e).__name__ for e in events] == ["MessageEvent", "PriceEvent", "VolumeEvent"]


def test_dispatch_sync(prices: ModuleType) -> None:
    got: list[tuple[str, Any]] = []
    with live_server(body_app(*PRICE_STREAM)) as url, prices.PricesClient(url) as client:
        stream = client.price_stream()

        @stream.on("price")
        def on_price(event: Any) -> None:
            got.append(("price", event.data.price))

        stream.on("volume", lambda event: got.append(("volume", event.data.volume)))
        stream.on("message", lambda event: got.append(("message", event.data.symbol)))
        stream.run()
    assert got == [("message", "ACME"), ("price", 2.5), ("volume", 7)]
    assert stream.response is None  # closed after run()


def test_dispatch_async_awaits_coroutine_handlers(prices: ModuleType) -> None:
    got: list[str] = []

    async def main(url: str) -> None:
        async with prices.AsyncPricesClient(url) as client:
            stream = client.price_stream()

            @stream.on("price")
            async def on_price(event: Any) -> None:
                await asyncio.sleep(0)
                got.append("price")

            stream.on("volume", lambda event: got.append("volume"))
            await stream.run()

    with live_server(body_app(*PRICE_STREAM)) as url:
        asyncio.run(main(url))
    assert got == ["price", "volume"]


def test_on_rejects_names_the_stream_cannot_send(prices: ModuleType, jobs: ModuleType) -> None:
    client = prices.PricesClient("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="surprise"):
        client.price_stream().on("surprise")
    with pytest.raises(ValueError, match="error"):  # the error event raises; it is not dispatched
        jobs.JobsClient("http://127.0.0.1:9").job_progress("j").on("error")


def test_unknown_event_policy_raise(prices: ModuleType) -> None:
    seen: list[Any] = []
    with (
        live_server(body_app(*PRICE_STREAM)) as url,
        prices.PricesClient(url) as client,
        client.price_stream(unknown_events="raise") as stream,
        pytest.raises(prices.UnknownEventError) as info,
    ):
        seen.extend(stream)
    assert len(seen) == 3
    assert info.value.raw.event == "surprise" and json.loads(info.value.raw.data) == {"what": 1}


def test_unknown_event_policy_raw(prices: ModuleType) -> None:
    raw_seen: list[Any] = []
    with live_server(body_app(*PRICE_STREAM)) as url, prices.PricesClient(url) as client:
        with client.price_stream(unknown_events="raw") as stream:
            events = list(stream)
        stream2 = client.price_stream(unknown_events="raw")
        stream2.on_unknown(raw_seen.append)
        stream2.run()
    unknown = [e for e in events if isinstance(e, prices.UnknownEvent)]
    assert [(u.event, u.data) for u in unknown] == [("surprise", '{"what": 1}')]
    assert [u.event for u in raw_seen] == ["surprise"]


def test_invalid_data_raises_with_the_raw_event(prices: ModuleType) -> None:
    bad = b'event: price\ndata: {"symbol": "ACME", "price": "lots"}\n\n'
    good = b'event: price\ndata: {"symbol": "ACME", "price": 3}\n\n'
    with live_server(body_app(good, bad, good)) as url, prices.PricesClient(url) as client:
        with client.price_stream() as stream, pytest.raises(prices.EventValidationError) as info:
            for _ in stream:
                pass
        assert info.value.raw.data == '{"symbol": "ACME", "price": "lots"}'
        with client.price_stream(invalid_events="skip") as stream:
            events = list(stream)
        assert [e.data.price for e in events] == [3, 3]
        assert stream.skipped_events == 1
    with live_server(body_app(b"data: not json\n\n")) as url:
        client = prices.PricesClient(url, invalid_events="skip")
        with client.price_stream() as stream:
            assert list(stream) == []
        assert stream.skipped_events == 1


def test_plain_string_events_and_params(channels: ModuleType) -> None:
    app = body_app(
        b'data: {"channel": "a/b", "kind": "k", "payload": {"x": [1]}}\n\n',
        b"event: log\ndata: line one\ndata: line two\n\n",
    )
    with (
        live_server(app) as url,
        channels.ChannelsClient(url, token="s3cret") as client,
        client.channel_stream("a/b c", filter="ki") as stream,
    ):
        events = list(stream)
    assert events[0].data.payload == {"x": [1]}
    assert isinstance(events[1], channels.LogEvent) and events[1].data == "line one\nline two"
    request = app.seen[0]
    assert request["path"] == "/channels/a/b c/events"  # the slash was sent percent-encoded
    assert request["query"] == b"filter=ki"
    headers = dict(request["headers"])
    assert headers[b"authorization"] == b"Bearer s3cret"
    assert headers[b"accept"] == b"text/event-stream"


def test_raw_path_is_percent_encoded(channels: ModuleType) -> None:
    seen: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["raw_path"])
        await send_head(send)
        await send_end(send)

    with live_server(app) as url, channels.ChannelsClient(url) as client:
        assert list(client.channel_stream("a/b?c")) == []
    assert seen == [b"/channels/a%2Fb%3Fc/events"]


def test_borrowed_http_client_and_header_params(jobs: ModuleType) -> None:
    app = body_app(b'event: done\ndata: {"status": "succeeded"}\n\n')
    with live_server(app) as url:
        http = httpx.Client(base_url=url, headers={"X-Tenant": "t1"})
        client = jobs.JobsClient(http_client=http)
        with client.job_progress("job 1", verbose=True, x_request_id="r-1") as stream:
            events = list(stream)
        client.close()
        assert not http.is_closed  # a borrowed client stays open
        http.close()
    assert [type(e).__name__ for e in events] == ["DoneEvent"]
    headers = dict(app.seen[0]["headers"])
    assert headers[b"x-tenant"] == b"t1" and headers[b"x-request-id"] == b"r-1"
    assert app.seen[0]["query"] == b"verbose=true"


def test_post_body_is_sent_as_json() -> None:
    configured = generated("configured.yaml")
    models = sibling(configured, "models")
    bodies: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        bodies.append(await drain_request(receive))
        assert scope["method"] == "POST" and header(scope, "content-type") == "application/json"
        await send_head(send)
        await send_chunk(send, b'data: {"symbol": "X", "price": 1}\n\n')
        await send_end(send)

    with (
        live_server(app) as url,
        configured.ConfiguredClient(url) as client,
        client.configured_stream(models.StreamConfig(symbols=["X"])) as stream,
    ):
        events = list(stream)
    assert json.loads(bodies[0]) == {"symbols": ["X"]}
    assert events[0].data.symbol == "X"


def endless_app(disconnected: list[str]) -> Any:
    """Sends events until the client goes away, then records that it did."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await drain_request(receive)
        await send_head(send)
        for i in range(100_000):
            await send_chunk(send, f'event: price\ndata: {{"symbol": "S", "price": {i}}}\n\n'.encode())
            try:
                message = await asyncio.wait_for(receive(), 0.001)
            except TimeoutError:
                continue
            if message["type"] == "http.disconnect":
                disconnected.append("gone")
                return
        await send_end(send)

    return app


def test_abandoning_iteration_closes_the_response(prices: ModuleType) -> None:
    disconnected: list[str] = []
    with live_server(endless_app(disconnected)) as url, prices.PricesClient(url) as client:
        with client.price_stream() as stream:
            for event in stream:
                if event.data.price >= 3:
                    break
            response = stream.response
        assert stream.response is None and response is not None and response.is_closed
        for _ in range(500):  # the server notices the disconnect on its next send
            if disconnected:
                break
            time.sleep(0.01)
    assert disconnected == ["gone"]


def test_abandoning_async_iteration_closes_the_response(prices: ModuleType) -> None:
    disconnected: list[str] = []

    async def main(url: str) -> bool:
        async with prices.AsyncPricesClient(url) as client:
            async with client.price_stream() as stream:
                async for event in stream:
                    if event.data.price >= 3:
                        break
            for _ in range(500):
                if disconnected:
                    break
                await asyncio.sleep(0.01)
            return stream.response is None

    with live_server(endless_app(disconnected)) as url:
        assert asyncio.run(main(url))
    assert disconnected == ["gone"]


def test_a_handler_can_stop_the_run(prices: ModuleType) -> None:
    disconnected: list[str] = []
    seen: list[float] = []
    with live_server(endless_app(disconnected)) as url, prices.PricesClient(url) as client:
        stream = client.price_stream()

        @stream.on("price")
        def on_price(event: Any) -> None:
            seen.append(event.data.price)
            if len(seen) == 5:
                stream.close()

        stream.run()

        async def main() -> list[float]:
            got: list[float] = []
            async with prices.AsyncPricesClient(url) as async_client:
                astream = async_client.price_stream()

                @astream.on("price")
                async def on_async_price(event: Any) -> None:
                    got.append(event.data.price)
                    if len(got) == 3:
                        await astream.aclose()

                await astream.run()
            return got

        assert asyncio.run(main()) == [0, 1, 2]
    assert seen == [0, 1, 2, 3, 4]
