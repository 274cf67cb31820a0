"""The generated server on the wire: headers, events, fields, keep-alive, errors mid-stream.

Every test runs a real uvicorn on a loopback port and reads it with a streaming httpx client.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import Any

import pytest
from server_harness import (
    LiveServer,
    all_blocks,
    client,
    events,
    eventually,
    frames,
    generate,
    parse,
    wait_for,
)

prices = generate("prices")
jobs = generate("jobs")
channels = generate("channels")
PriceUpdate = sys.modules["srvt_prices.models"].PriceUpdate
VolumeUpdate = sys.modules["srvt_prices.models"].VolumeUpdate
Progress = sys.modules["srvt_jobs.models"].Progress
JobResult = sys.modules["srvt_jobs.models"].JobResult
JobError = sys.modules["srvt_jobs.models"].JobError
ChannelEvent = sys.modules["srvt_channels.models"].ChannelEvent


class Prices(prices.PricesService):
    def __init__(self, body: Any) -> None:
        self.body = body

    async def price_stream(self, request: Any, stream: Any) -> None:
        await self.body(request, stream)


class Jobs(jobs.JobsService):
    def __init__(self, body: Any) -> None:
        self.body = body

    async def job_progress(self, request: Any, stream: Any) -> None:
        await self.body(request, stream)


class Channels(channels.ChannelsService):
    def __init__(self, body: Any) -> None:
        self.body = body

    async def channel_stream(self, request: Any, stream: Any) -> None:
        await self.body(request, stream)


def test_headers_reach_the_client_before_the_first_event() -> None:
    gate = threading.Event()

    async def body(request: Any, stream: Any) -> None:
        # The first event waits until the client has seen the headers.
        await wait_for(gate.is_set, timeout=20)
        await stream.send(PriceUpdate(symbol="BTC", price=1.0))

    with LiveServer(prices.create_app(Prices(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/prices/stream") as r:
            assert r.status_code == 200
            assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert r.headers["cache-control"] == "no-cache"
            assert r.headers["x-accel-buffering"] == "no"
            assert "content-length" not in r.headers
            gate.set()
            assert json.loads(events(r, 1)[0]["data"]) == {"symbol": "BTC", "price": 1.0}


def test_open_flushes_headers_at_once_when_the_open_delay_is_off() -> None:
    gate = threading.Event()

    async def body(request: Any, stream: Any) -> None:
        await stream.open()
        await wait_for(gate.is_set, timeout=20)
        await stream.price(PriceUpdate(symbol="ETH", price=2.0))

    settings = prices.ServerSettings(open_after=None)
    with LiveServer(prices.create_app(Prices(body), settings=settings)) as srv, client() as http:
        with http.stream("GET", srv.url + "/prices/stream") as r:
            assert r.status_code == 200
            gate.set()
            assert events(r, 1)[0]["event"] == "price"


def test_unnamed_and_named_events_and_comments_on_the_wire() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.send(PriceUpdate(symbol="A", price=1))
        await stream.message(PriceUpdate(symbol="B", price=2))
        await stream.price(PriceUpdate(symbol="C", price=3.5))
        await stream.volume(VolumeUpdate(symbol="D", volume=4))
        await stream.send_event("volume", VolumeUpdate(symbol="E", volume=5))
        await stream.send_comment("hello")

    with LiveServer(prices.create_app(Prices(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/prices/stream") as r:
            raw = r.read()
    assert raw == (
        b'data: {"symbol":"A","price":1.0}\n\n'
        b'data: {"symbol":"B","price":2.0}\n\n'
        b'event: price\ndata: {"symbol":"C","price":3.5}\n\n'
        b'event: volume\ndata: {"symbol":"D","volume":4}\n\n'
        b'event: volume\ndata: {"symbol":"E","volume":5}\n\n'
        b": hello\n\n"
    )


def test_multiline_string_data_is_split_into_data_lines() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.log("first\nsecond\r\nthird\rfourth")
        await stream.send(ChannelEvent(channel=request.channel, kind="k", payload={"a": "x\ny"}))

    with LiveServer(channels.create_app(Channels(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/channels/news/events") as r:
            raw = r.read()
    assert raw.startswith(b"event: log\ndata: first\ndata: second\ndata: third\ndata: fourth\n\n")
    last = parse(raw.split(b"\n\n")[1])
    assert json.loads(last["data"]) == {"channel": "news", "kind": "k", "payload": {"a": "x\ny"}}


@pytest.mark.parametrize(
    "attempt",
    ["name-lf", "name-cr", "name-nul", "comment-lf", "comment-cr", "id-lf", "id-cr", "id-nul"],
)
def test_cr_lf_nul_in_fields_raise_in_the_handler_and_write_nothing(attempt: str) -> None:
    caught: list[BaseException] = []

    async def body(request: Any, stream: Any) -> None:
        bad = {"lf": "x\nevent: forged", "cr": "x\revent: forged", "nul": "x\x00forged"}
        value = bad[attempt.split("-")[1]]
        try:
            if attempt.startswith("name"):
                await stream.send_event("price" + value, PriceUpdate(symbol="X", price=1))
            elif attempt.startswith("comment"):
                await stream.send_comment(value)
            else:
                await stream.price(PriceUpdate(symbol="X", price=1), id=value)
        except Exception as exc:  # noqa: BLE001
            caught.append(exc)
        await stream.send(PriceUpdate(symbol="after", price=0))

    with LiveServer(prices.create_app(Prices(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/prices/stream") as r:
            raw = r.read()
    assert [type(e).__name__ for e in caught] == ["SseFieldError"]
    assert isinstance(caught[0], ValueError)
    assert b"forged" not in raw
    assert raw == b'data: {"symbol":"after","price":0.0}\n\n'


def test_wrong_payloads_and_undeclared_names_are_refused() -> None:
    caught: list[str] = []

    async def body(request: Any, stream: Any) -> None:
        for attempt in (
            lambda: stream.price(VolumeUpdate(symbol="X", volume=1)),
            lambda: stream.send_event("volume", PriceUpdate(symbol="X", price=1)),
            lambda: stream.send_event("trade", PriceUpdate(symbol="X", price=1)),
            lambda: stream.send({"symbol": "X", "price": 1}),
        ):
            try:
                await attempt()
            except (TypeError, ValueError) as exc:
                caught.append(type(exc).__name__)

    with LiveServer(prices.create_app(Prices(body))) as srv, client() as http:
        assert http.get(srv.url + "/prices/stream").content == b""
    assert caught == ["TypeError", "TypeError", "ValueError", "TypeError"]


def test_ids_retry_last_event_id_and_the_terminal_event() -> None:
    after_terminal: list[str] = []

    async def body(request: Any, stream: Any) -> None:
        start = int(request.last_event_id or 0)
        for step in range(start + 1, start + 3):
            await stream.progress(Progress(step=step, total=9), id=str(step))
        await stream.log("line", id="line")
        await stream.done_event(JobResult(status="succeeded"), id="end")
        try:
            await stream.log("too late", id="late")
        except jobs.StreamClosed:
            after_terminal.append("closed")

    with LiveServer(jobs.create_app(Jobs(body))) as srv, client() as http:
        headers = {"Last-Event-ID": "4"}
        with http.stream("GET", srv.url + "/jobs/j1/progress", headers=headers) as r:
            blocks = all_blocks(r)
    assert [(b["event"], b["id"], b["retry"]) for b in blocks] == [
        ("progress", "5", "2000"),
        ("progress", "6", None),
        ("log", "line", None),
        ("done", "end", None),
    ]
    assert json.loads(blocks[0]["data"]) == {"step": 5, "total": 9}
    assert json.loads(blocks[-1]["data"]) == {"status": "succeeded"}
    assert after_terminal == ["closed"]


def test_typed_error_event_closes_the_stream() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.progress(Progress(step=1, total=2), id="1")
        await stream.error(JobError(code="DISK_FULL", message="no space"))
        await stream.log("never sent", id="2")

    with LiveServer(jobs.create_app(Jobs(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/jobs/j1/progress") as r:
            blocks = all_blocks(r)
    assert [b["event"] for b in blocks] == ["progress", "error"]
    assert json.loads(blocks[1]["data"]) == {"code": "DISK_FULL", "message": "no space"}


def test_declared_error_before_the_first_event_is_its_status() -> None:
    async def body(request: Any, stream: Any) -> None:
        await asyncio.sleep(0.01)
        raise jobs.JobNotFoundError(f"no job {request.job_id}", details={"job_id": request.job_id})

    with LiveServer(jobs.create_app(Jobs(body))) as srv, client() as http:
        r = http.get(srv.url + "/jobs/j9/progress")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {
        "code": "JOB_NOT_FOUND",
        "message": "no job j9",
        "details": {"job_id": "j9"},
    }


def test_declared_error_after_the_first_event_is_the_error_event() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.progress(Progress(step=1, total=2), id="p1")
        await asyncio.sleep(0.05)
        raise jobs.JobNotFoundError("job vanished")

    with LiveServer(jobs.create_app(Jobs(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/jobs/j1/progress") as r:
            assert r.status_code == 200
            blocks = all_blocks(r)
    assert [b["event"] for b in blocks] == ["progress", "error"]
    assert json.loads(blocks[1]["data"]) == {"code": "JOB_NOT_FOUND", "message": "job vanished"}
    assert blocks[1]["id"] == "p1"  # resuming after the error starts where the stream was


def test_unexpected_exception_is_a_500_before_and_an_error_event_after() -> None:
    async def before(request: Any, stream: Any) -> None:
        raise RuntimeError("secret detail")

    async def after(request: Any, stream: Any) -> None:
        await stream.log("one", id="1")
        raise RuntimeError("secret detail")

    with LiveServer(jobs.create_app(Jobs(before))) as srv, client() as http:
        r = http.get(srv.url + "/jobs/j1/progress")
        assert r.status_code == 500
        assert r.json() == {"code": "INTERNAL_ERROR", "message": "internal server error"}
    with LiveServer(jobs.create_app(Jobs(after))) as srv, client() as http:
        with http.stream("GET", srv.url + "/jobs/j1/progress") as r:
            blocks = all_blocks(r)
    assert [b["event"] for b in blocks] == ["log", "error"]
    assert json.loads(blocks[1]["data"])["code"] == "INTERNAL_ERROR"
    assert "secret" not in blocks[1]["data"]


def test_error_after_the_first_event_without_an_error_event_just_closes() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.log("one")
        raise channels.ChannelNotFoundError("gone")

    with LiveServer(channels.create_app(Channels(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/channels/news/events") as r:
            assert r.read() == b"event: log\ndata: one\n\n"


def test_keepalive_comments_only_while_idle() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.log("start")
        await asyncio.sleep(1.3)  # idle: keep-alives due every 0.3 s
        for i in range(40):  # busy: an event every 20 ms, no keep-alive due
            await stream.log(f"busy {i}")
            await asyncio.sleep(0.02)

    settings = channels.ServerSettings(default_keepalive=0.3)
    with (
        LiveServer(channels.create_app(Channels(body), settings=settings)) as srv,
        client() as http,http.stream("GET", srv.url + "/channels/news/events") as r
    ):
        blocks = all_blocks(r)
    kinds = ["comment" if b["data"] is None else b["data"] for b in blocks]
    first_busy = kinds.index("busy 0")
    idle = kinds[1:first_busy]
    assert kinds[0] == "start"
    assert idle and set(idle) == {"comment"}, kinds
    assert all(b["comments"] == ["keep-alive"] for b in blocks if b["data"] is None)
    assert "comment" not in kinds[first_busy:], kinds


def test_no_keepalive_when_the_spec_sets_none() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.log("start")
        await asyncio.sleep(0.8)
        await stream.log("end")

    with LiveServer(channels.create_app(Channels(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/channels/news/events") as r:
            assert r.read() == b"event: log\ndata: start\n\nevent: log\ndata: end\n\n"


def test_client_disconnect_is_seen_while_the_handler_waits_on_its_own_source() -> None:
    seen: dict[str, Any] = {}
    cleaned = threading.Event()

    async def body(request: Any, stream: Any) -> None:
        source: asyncio.Queue[int] = asyncio.Queue()  # nothing ever arrives
        try:
            await stream.send(PriceUpdate(symbol="A", price=1))
            await source.get()
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise
        finally:
            seen["done_when_cleaning_up"] = stream.done.is_set()
            cleaned.set()

    with LiveServer(prices.create_app(Prices(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/prices/stream") as r:
            next(frames(r))
        assert cleaned.wait(10), "the handler never noticed the client left"
        assert srv.app.state.streams.active == 0
    assert seen == {"cancelled": True, "done_when_cleaning_up": True}


def test_every_event_of_a_resumable_stream_needs_an_id() -> None:
    caught: list[str] = []

    async def body(request: Any, stream: Any) -> None:
        for attempt in (
            lambda: stream.log("no id", id=None),
            lambda: stream.send_event("log", "no id", id=None),
            lambda: stream.done_event(JobResult(status="failed"), id=None),
        ):
            try:
                await attempt()
            except ValueError as exc:
                caught.append(str(exc))
        await stream.error(JobError(code="X", message="an error event may go without one"))

    with LiveServer(jobs.create_app(Jobs(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/jobs/j1/progress") as r:
            blocks = all_blocks(r)
    assert len(caught) == 3 and all("needs an id" in c for c in caught)
    assert [(b["event"], b["id"]) for b in blocks] == [("error", None)]


kitchen = generate("kitchen")
KitchenModels = sys.modules["srvt_kitchen.models"]


class Kitchen(kitchen.KitchenService):
    def __init__(self, feed: Any = None, upload: Any = None) -> None:
        self._feed = feed
        self._upload = upload

    async def feed(self, request: Any, stream: Any) -> None:
        await self._feed(request, stream)

    async def upload(self, request: Any, stream: Any) -> None:
        await self._upload(request, stream)

    async def secure(self, request: Any, stream: Any) -> None:
        raise NotImplementedError

    async def maybe_auth(self, request: Any, stream: Any) -> None:
        raise NotImplementedError

    async def optional_body(self, request: Any, stream: Any) -> None:
        raise NotImplementedError


async def _nobody(request: Any) -> None:
    return None


def test_keepalive_follows_the_spec_interval() -> None:
    async def upload(request: Any, stream: Any) -> None:
        await stream.send(KitchenModels.Tick(n=1))
        await asyncio.sleep(2.6)  # the spec says keepalive: 1s
        await stream.send(KitchenModels.Tick(n=2))

    app = kitchen.create_app(Kitchen(upload=upload), authenticator=_nobody)
    with LiveServer(app) as srv, client() as http:
        with http.stream("POST", srv.url + "/upload/b", json={"symbols": ["A"]}) as r:
            blocks = all_blocks(r)
    comments = [b for b in blocks if b["data"] is None]
    assert 1 <= len(comments) <= 3, blocks
    assert blocks[0]["data"] is not None and blocks[-1]["data"] is not None


def test_no_keepalive_work_after_the_stream_closed() -> None:
    flow = sys.modules["srvt_kitchen._server_flow"]
    calls = 0
    original = flow.StreamRun._keepalive_due

    def counting(self: Any) -> None:
        nonlocal calls
        calls += 1
        original(self)

    async def feed(request: Any, stream: Any) -> None:
        await stream.end(KitchenModels.Summary(total=1), id="1")
        await asyncio.sleep(0.6)  # the handler lingers after its terminal event

    settings = kitchen.ServerSettings(default_keepalive=0.05)
    app = kitchen.create_app(Kitchen(feed=feed), authenticator=_nobody, settings=settings)
    flow.StreamRun._keepalive_due = counting
    try:
        with LiveServer(app) as srv, client() as http:
            with http.stream("GET", srv.url + "/feed/news") as r:
                blocks = all_blocks(r)
    finally:
        flow.StreamRun._keepalive_due = original
    assert [b["event"] for b in blocks] == ["end"]
    assert calls <= 3, calls


def test_terminal_event_ends_the_response_while_the_handler_finishes_its_cleanup() -> None:
    gate = threading.Event()
    outcome: list[str] = []

    async def body(request: Any, stream: Any) -> None:
        try:
            await stream.done_event(JobResult(status="succeeded"), id="1")
            await wait_for(gate.is_set, timeout=20)  # cleanup still running after the response
            outcome.append("finished")
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    with LiveServer(jobs.create_app(Jobs(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/jobs/j1/progress") as r:
            blocks = all_blocks(r)  # returns at the end of the response
        gate.set()
        assert eventually(lambda: bool(outcome))
    assert [b["event"] for b in blocks] == ["done"]
    assert outcome == ["finished"]


@pytest.mark.parametrize("how", ["open", "open_after"])
def test_declared_error_after_the_stream_opened_is_an_event_even_before_any_event(how: str) -> None:
    async def body(request: Any, stream: Any) -> None:
        if how == "open":
            await stream.open()
        await asyncio.sleep(0.5)  # longer than open_after below
        raise jobs.JobNotFoundError("late")

    settings = jobs.ServerSettings(open_after=None if how == "open" else 0.1)
    with LiveServer(jobs.create_app(Jobs(body), settings=settings)) as srv, client() as http:
        with http.stream("GET", srv.url + "/jobs/j1/progress") as r:
            assert r.status_code == 200
            blocks = all_blocks(r)
    assert [(b["event"], json.loads(b["data"])["code"]) for b in blocks] == [
        ("error", "JOB_NOT_FOUND")
    ]


def test_middleware_added_by_the_user_wraps_stream_routes_too() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.send(PriceUpdate(symbol="A", price=1))

    class Stamp:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            async def stamped(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message["headers"], (b"x-stamp", b"1")]}
                await send(message)

            await self.app(scope, receive, stamped)

    plain = prices.create_app(Prices(body))
    wrapped = prices.create_app(Prices(body))
    wrapped.add_middleware(Stamp)
    for app, stamped in ((plain, False), (wrapped, True)):
        with LiveServer(app) as srv, client() as http:
            r = http.get(srv.url + "/prices/stream")
            assert r.text == 'data: {"symbol":"A","price":1.0}\n\n'
            assert ("x-stamp" in r.headers) is stamped
            assert http.get(srv.url + "/nowhere").json()["code"] == "NOT_FOUND"
            assert http.post(srv.url + "/prices/stream").status_code == 405
