"""Resumption, connection checks, typed errors, terminal and error events, and the idle timeout."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import httpx_sse
import pytest
from sse_live import drain_request, generated, header, live_server, send_chunk, send_end, send_head

from roccogen.runtime.client_runtime import ReconnectPolicy


def fast(client_module: Any) -> Any:
    """Quick reconnection, from the generated package's own runtime."""
    return client_module.ReconnectPolicy(initial_delay=0.01, max_delay=0.05, max_attempts=20)


def progress(i: int) -> bytes:
    return f'id: {i}\nevent: progress\ndata: {{"step": {i}, "total": 40}}\n\n'.encode()


DONE = b'event: done\ndata: {"status": "succeeded"}\n\n'


async def wait_disconnect(receive: Any, seconds: float) -> bool:
    """True when the client went away within ``seconds``."""
    try:
        message = await asyncio.wait_for(receive(), seconds)
    except TimeoutError:
        return False
    return bool(message["type"] == "http.disconnect")


class JobServer:
    """A resumable job stream that drops every connection after ``per_connection`` events.

    The drop happens in the middle of the next event (id, event and half its data written), so
    a client that kept the partial block would lose or duplicate it.
    """

    def __init__(self, total: int = 40, per_connection: int = 6, clean_end: bool = False) -> None:
        self.total = total
        self.per_connection = per_connection
        self.clean_end = clean_end
        self.last_event_ids: list[str | None] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        last = header(scope, "last-event-id")
        self.last_event_ids.append(last)
        await drain_request(receive)
        await send_head(send)
        await send_chunk(send, b"retry: 5\n\n: connected\n\n")
        first = int(last) + 1 if last else 1
        for sent, i in enumerate(range(first, self.total + 1)):
            if sent == self.per_connection:
                if self.clean_end:
                    await send_end(send)
                else:
                    await send_chunk(send, f'id: {i}\nevent: progress\ndata: {{"step": '.encode())
                return  # returning without ending the body makes uvicorn drop the connection
            await send_chunk(send, progress(i))
            if i % 4 == 0:
                await send_chunk(send, b": keep-alive\n\n")
        await send_chunk(send, DONE)
        await wait_disconnect(receive, 5)  # the client must stop at the terminal event by itself
        await send_end(send)


def collect_sync(url: str, **kwargs: Any) -> tuple[list[Any], Any]:
    jobs = generated("jobs.yaml")
    with (
        jobs.JobsClient(url, reconnect=fast(jobs)) as client,
        client.job_progress("j1", **kwargs) as stream,
    ):
        return list(stream), stream


def collect_async(url: str, **kwargs: Any) -> tuple[list[Any], Any]:
    jobs = generated("jobs.yaml")

    async def main() -> tuple[list[Any], Any]:
        async with (
            jobs.AsyncJobsClient(url, reconnect=fast(jobs)) as client,
            client.job_progress("j1", **kwargs) as stream,
        ):
            return [event async for event in stream], stream

    return asyncio.run(main())


@pytest.mark.parametrize("collect", [collect_sync, collect_async], ids=["sync", "async"])
@pytest.mark.parametrize("clean_end", [False, True], ids=["dropped", "clean-eof"])
def test_resumes_without_loss_or_duplicates(collect: Any, clean_end: bool) -> None:
    server = JobServer(total=40, per_connection=6, clean_end=clean_end)
    with live_server(server) as url:
        events, stream = collect(url)
    steps = [e.data.step for e in events if type(e).__name__ == "ProgressEvent"]
    assert steps == list(range(1, 41))  # zero lost, zero duplicated
    assert type(events[-1]).__name__ == "DoneEvent" and events[-1].data.status == "succeeded"
    assert server.last_event_ids == [None, "6", "12", "18", "24", "30", "36"]
    assert stream.reconnects == 6
    assert stream.retry == 5  # the server's reconnection time was read
    assert stream.response is None


def test_resumes_from_a_given_last_event_id() -> None:
    server = JobServer(total=40, per_connection=100)
    with live_server(server) as url:
        events, _ = collect_sync(url, last_event_id="35")
    assert [e.data.step for e in events[:-1]] == [36, 37, 38, 39, 40]
    assert server.last_event_ids == ["35"]


def test_gives_up_after_max_attempts() -> None:
    jobs = generated("jobs.yaml")
    server = JobServer(total=40, per_connection=0)
    policy = jobs.ReconnectPolicy(initial_delay=0.001, max_delay=0.01, max_attempts=3)
    with (
        live_server(server) as url,
        jobs.JobsClient(url, reconnect=policy) as client,
        pytest.raises(jobs.ReconnectExhaustedError) as info,
        client.job_progress("j") as stream,
    ):
        list(stream)
    assert info.value.attempts == 3
    assert isinstance(info.value.__cause__, httpx.TransportError)
    assert len(server.last_event_ids) == 4  # the first connection and three attempts


def test_reconnect_can_be_switched_off() -> None:
    jobs = generated("jobs.yaml")
    server = JobServer(total=40, per_connection=3)
    with live_server(server) as url, jobs.JobsClient(url) as client:
        stream = client.job_progress("j", reconnect=jobs.ReconnectPolicy(max_attempts=0))
        with pytest.raises(httpx.RemoteProtocolError), stream:
            list(stream)
    assert server.last_event_ids == [None]


def test_post_stream_that_is_not_resumable_is_never_replayed() -> None:
    configured = generated("configured.yaml")
    models = generated("configured.yaml", "models")
    bodies: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        bodies.append(await drain_request(receive))
        await send_head(send)
        await send_chunk(send, b'data: {"symbol": "X", "price": 1}\n\ndata: {"sym')

    got: list[Any] = []
    with live_server(app) as url, configured.ConfiguredClient(url, reconnect=fast(configured)) as client:
        stream = client.configured_stream(models.StreamConfig(symbols=["X"]))
        with pytest.raises(httpx.TransportError), stream:
            got.extend(stream)
    assert [e.data.price for e in got] == [1]
    assert len(bodies) == 1


def test_get_stream_that_is_not_resumable_ends_at_clean_eof() -> None:
    prices = generated("prices.yaml")
    calls: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(1)
        await send_head(send)
        await send_chunk(send, b'event: price\ndata: {"symbol": "X", "price": 1}\n\n')
        await send_end(send)

    with live_server(app) as url, prices.PricesClient(url, reconnect=fast(prices)) as client:
        assert len(list(client.price_stream())) == 1
    assert calls == [1]


def error_app(status: int, body: bytes, content_type: str, calls: list[int]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(status)
        await send_head(send, status, content_type)
        await send_chunk(send, body)
        await send_end(send)

    return app


def test_declared_error_response_is_typed() -> None:
    jobs = generated("jobs.yaml")
    calls: list[int] = []
    body = json.dumps({"code": "JOB_NOT_FOUND", "message": "no job j", "details": {"id": "j"}})
    app = error_app(404, body.encode(), "application/json", calls)
    with live_server(app) as url, jobs.JobsClient(url, reconnect=fast(jobs)) as client:
        with pytest.raises(jobs.JobNotFoundError) as info:  # noqa: SIM117 (raised on entering)
            with client.job_progress("j"):
                pass
        with pytest.raises(jobs.JobNotFoundError):
            list(client.job_progress("j"))  # also without a with block
    error = info.value
    assert isinstance(error, jobs.ApiError) and type(error).__mro__[1].__name__ == "NotFoundError"
    assert (error.status, error.code, error.message, error.details) == (404, "JOB_NOT_FOUND", "no job j", {"id": "j"})
    assert calls == [404, 404]  # never retried, although the stream is resumable


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected", "code"),
    [
        (401, b'{"code": "UNAUTHORIZED", "message": "token"}', "application/json", "UnauthorizedError", "UNAUTHORIZED"),
        (403, b'{"code": "FORBIDDEN", "message": "scope"}', "application/json", "ForbiddenError", "FORBIDDEN"),
        (422, b'{"code": "VALIDATION_FAILED", "message": "x", "details": [1]}', "application/json", "UnprocessableEntityError", "VALIDATION_FAILED"),
        (429, b"slow down", "text/plain", "RateLimitedError", None),
        (503, b"<html>down</html>", "text/html", "ServerError", None),
        (404, b'{"code": "OTHER", "message": "?"}', "application/json", "NotFoundError", "OTHER"),
    ],
)
def test_other_error_statuses(status: int, body: bytes, content_type: str, expected: str, code: str | None) -> None:
    jobs = generated("jobs.yaml")
    runtime = generated("jobs.yaml", "_client_runtime")
    calls: list[int] = []
    with (
        live_server(error_app(status, body, content_type, calls)) as url,
        jobs.JobsClient(url) as client,
        pytest.raises(jobs.ApiError) as info,
    ):
        list(client.job_progress("j"))
    assert type(info.value) is getattr(runtime, expected)
    assert info.value.status == status and info.value.code == code
    assert calls == [status]


def test_wrong_content_type_fails_without_reconnecting() -> None:
    jobs = generated("jobs.yaml")
    calls: list[int] = []
    app = error_app(200, b'{"not": "a stream"}', "application/json", calls)
    with (
        live_server(app) as url,
        jobs.JobsClient(url, reconnect=fast(jobs)) as client,
        pytest.raises(jobs.ContentTypeError) as info,
    ):
        list(client.job_progress("j"))
    assert isinstance(info.value, httpx_sse.SSEError)
    assert calls == [200]


def test_charset_parameter_is_ignored_and_utf8_used() -> None:
    prices = generated("prices.yaml")
    calls: list[int] = []
    payload = '\ufeffevent: price\ndata: {"symbol": "€", "price": 1}\n\n'.encode()
    app = error_app(200, payload, "text/event-stream; charset=iso-8859-1", calls)
    with live_server(app) as url, prices.PricesClient(url) as client:
        events = list(client.price_stream())
    assert [e.data.symbol for e in events] == ["€"]


def test_204_ends_the_stream_without_reconnecting() -> None:
    jobs = generated("jobs.yaml")
    calls: list[int] = []
    with (
        live_server(error_app(204, b"", "text/plain", calls)) as url,
        jobs.JobsClient(url, reconnect=fast(jobs)) as client,
        client.job_progress("j") as stream,
    ):
        assert list(stream) == []
        assert list(client.job_progress("j")) == []
    assert calls == [204, 204]


def test_error_event_raises_typed_exception() -> None:
    jobs = generated("jobs.yaml")
    calls: list[int] = []
    body = progress(1) + b'id: 2\nevent: error\ndata: {"code": "CRASH", "message": "disk"}\n\n' + progress(3)
    with live_server(error_app(200, body, "text/event-stream", calls)) as url, jobs.JobsClient(url, reconnect=fast(jobs)) as client:
        got: list[Any] = []
        with pytest.raises(jobs.JobProgressError) as info, client.job_progress("j") as stream:
            got.extend(stream)
    assert [e.data.step for e in got] == [1]
    assert info.value.event.data.code == "CRASH" and info.value.event.id == "2"
    assert isinstance(info.value, jobs.ErrorEventReceived)
    assert calls == [200]  # an error event is final: no reconnection


def test_terminal_event_ends_iteration_although_the_server_keeps_the_connection() -> None:
    jobs = generated("jobs.yaml")
    server = JobServer(total=2, per_connection=10)
    got: list[Any] = []
    with live_server(server) as url, jobs.JobsClient(url) as client:
        stream = client.job_progress("j")

        @stream.on("done")
        def finished(event: Any) -> None:
            got.append(event.data.status)

        stream.on("progress", lambda event: got.append(event.data.step))
        stream.run()
    assert got == [1, 2, "succeeded"]
    assert server.last_event_ids == [None]


def ticking_app(events: int, comments_every: float) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await drain_request(receive)
        await send_head(send)
        for i in range(events):
            await send_chunk(send, f'event: price\ndata: {{"symbol": "S", "price": {i}}}\n\n'.encode())
            if await wait_disconnect(receive, comments_every):
                return
        for _ in range(400):
            await send_chunk(send, b": keep-alive\n\n")
            if await wait_disconnect(receive, comments_every):
                return
        await send_end(send)

    return app


def test_idle_timeout_ignores_keepalive_comments_sync() -> None:
    prices = generated("prices.yaml")
    got: list[Any] = []
    with (
        live_server(ticking_app(3, 0.02)) as url,
        prices.PricesClient(url, idle_timeout=1.0) as client,
        pytest.raises(prices.IdleTimeoutError),
        client.price_stream() as stream,
    ):
        got.extend(stream)
    assert [e.data.price for e in got] == [0, 1, 2]
    assert isinstance(prices.IdleTimeoutError("x"), TimeoutError)


def test_idle_timeout_ignores_keepalive_comments_async() -> None:
    prices = generated("prices.yaml")
    got: list[Any] = []

    async def main(url: str) -> None:
        async with prices.AsyncPricesClient(url) as client, client.price_stream(idle_timeout=1.0) as stream:
            async for event in stream:
                got.append(event)

    with live_server(ticking_app(3, 0.02)) as url, pytest.raises(prices.IdleTimeoutError):
        asyncio.run(main(url))
    assert [e.data.price for e in got] == [0, 1, 2]


def test_idle_timeout_when_the_server_sends_nothing_at_all() -> None:
    prices = generated("prices.yaml")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await drain_request(receive)
        await send_head(send)
        await wait_disconnect(receive, 10)

    with (
        live_server(app) as url,
        prices.PricesClient(url) as client,
        pytest.raises(prices.IdleTimeoutError),
        client.price_stream(idle_timeout=0.2) as stream,
    ):
        list(stream)


def test_reconnect_policy_delays() -> None:
    policy = ReconnectPolicy(initial_delay=0.5, max_delay=4.0, multiplier=2.0, jitter=0.0)
    assert [policy.delay(n, None, None) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.delay(1, 250, 2000) == 0.25  # the server's retry wins
    assert policy.delay(3, 10_000, None) == 10.0  # never below the server's retry
    assert ReconnectPolicy(jitter=0.0).delay(1, None, 2000) == 2.0  # the spec's hint
    assert ReconnectPolicy(jitter=0.0, honour_server_retry=False).delay(1, 250, None) == 1.0
    jittered = [ReconnectPolicy(initial_delay=1.0, jitter=0.5).delay(1, None, None) for _ in range(50)]
    assert all(0.5 <= d <= 1.0 for d in jittered) and len(set(jittered)) > 1
