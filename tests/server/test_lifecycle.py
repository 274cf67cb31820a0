"""Lifecycle: hooks and logging, disconnect cleanup over many cycles, slow clients, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest
from server_harness import (
    LiveServer,
    all_blocks,
    client,
    events,
    eventually,
    frames,
    generate,
    package_dir,
)

prices = generate("prices")
channels = generate("channels")
PriceUpdate = sys.modules["srvt_prices.models"].PriceUpdate


class Prices(prices.PricesService):
    def __init__(self, body: Any) -> None:
        self.body = body

    async def price_stream(self, request: Any, stream: Any) -> None:
        await self.body(request, stream)


class Channels(channels.ChannelsService):
    def __init__(self, body: Any) -> None:
        self.body = body

    async def channel_stream(self, request: Any, stream: Any) -> None:
        await self.body(request, stream)


def _recording_settings(module: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
    settings = module.ServerSettings(**kwargs)
    seen: list[Any] = []
    settings.hooks.subscribe_all(seen.append)
    return settings, seen


def test_hooks_carry_endpoint_duration_events_and_error(caplog: pytest.LogCaptureFixture) -> None:
    async def body(request: Any, stream: Any) -> None:
        mode = request.http.query_params["mode"]
        await stream.send(PriceUpdate(symbol="A", price=1))
        if mode == "error":
            raise RuntimeError("boom")
        if mode == "wait":
            await asyncio.Event().wait()
        await stream.price(PriceUpdate(symbol="A", price=2))
        await stream.send_comment("not an event")

    settings, seen = _recording_settings(prices)
    caplog.set_level(logging.INFO)
    with LiveServer(prices.create_app(Prices(body), settings=settings)) as srv, client() as http:
        http.get(srv.url + "/prices/stream?mode=ok").read()
        assert eventually(lambda: len(seen) == 3)
        http.get(srv.url + "/prices/stream?mode=error").read()
        assert eventually(lambda: len(seen) == 6)
        with http.stream("GET", srv.url + "/prices/stream?mode=wait") as r:
            events(r, 1)
        assert eventually(lambda: len(seen) == 9)
    S = prices.StreamSignal
    assert [s.signal for s in seen] == [
        S.EXECUTING, S.STARTED, S.ENDED,
        S.EXECUTING, S.STARTED, S.ERROR,
        S.EXECUTING, S.STARTED, S.CLIENT_DISCONNECTED,
    ]  # fmt: skip
    assert {s.endpoint for s in seen} == {"price-stream"}
    assert {s.method for s in seen} == {"GET"} and {s.path for s in seen} == {"/prices/stream"}
    assert [s.events for s in seen[:3]] == [0, 2, 2]
    assert seen[2].reason == "completed" and seen[2].error is None
    assert isinstance(seen[5].error, RuntimeError) and seen[5].events == 1
    assert seen[8].reason == "client disconnected" and seen[8].events == 1
    assert all(s.duration >= 0 for s in seen)
    assert seen[0].duration <= seen[1].duration <= seen[2].duration
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert any("price-stream" in r.getMessage() for r in failures)
    assert all(r.name == "srvt_prices.server" for r in failures if "price-stream" in r.getMessage())


def test_a_failing_hook_never_breaks_a_stream() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.send(PriceUpdate(symbol="A", price=1))

    settings = prices.ServerSettings()

    def broken(info: Any) -> None:
        raise ValueError("hook bug")

    settings.hooks.subscribe(prices.StreamSignal.STARTED, broken)
    with LiveServer(prices.create_app(Prices(body), settings=settings)) as srv, client() as http:
        assert http.get(srv.url + "/prices/stream").text == 'data: {"symbol":"A","price":1.0}\n\n'


def test_many_connect_disconnect_cycles_leak_no_task_and_always_clean_up() -> None:
    cleanups = 0
    lock = threading.Lock()

    async def body(request: Any, stream: Any) -> None:
        nonlocal cleanups
        try:
            await stream.send(PriceUpdate(symbol="A", price=1))
            await asyncio.Event().wait()
        finally:
            with lock:
                cleanups += 1

    async def task_count() -> int:
        return len(asyncio.all_tasks())

    settings, seen = _recording_settings(prices)
    cycles = 40
    with LiveServer(prices.create_app(Prices(body), settings=settings)) as srv:
        with client() as http, http.stream("GET", srv.url + "/prices/stream") as r:
            events(r, 1)  # warm-up
        assert eventually(lambda: cleanups == 1 and srv.app.state.streams.active == 0)
        time.sleep(0.2)
        baseline = srv.call(task_count)
        for _ in range(cycles):
            with client() as http, http.stream("GET", srv.url + "/prices/stream") as r:
                events(r, 1)
        assert eventually(lambda: cleanups == cycles + 1), cleanups
        assert eventually(lambda: srv.app.state.streams.active == 0)
        assert eventually(lambda: srv.call(task_count) <= baseline), (
            srv.call(task_count),
            baseline,
        )
    disconnected = [s for s in seen if s.signal == prices.StreamSignal.CLIENT_DISCONNECTED]
    assert len(disconnected) == cycles + 1


@pytest.mark.parametrize("pace", [0.0, 0.005], ids=["burst", "paced"])
def test_a_slow_client_is_dropped_and_memory_stays_bounded(pace: float) -> None:
    peak = 0
    finished = threading.Event()
    chunk = "x" * 32 * 1024

    async def body(request: Any, stream: Any) -> None:
        nonlocal peak
        try:
            while True:
                # burst: events queue and coalesce; paced: each event is written by the handler
                await stream.log(chunk)
                peak = max(peak, stream._buffered)
                if pace:
                    await asyncio.sleep(pace)
        finally:
            finished.set()

    settings, seen = _recording_settings(channels, send_timeout=0.5, max_buffer_bytes=128 * 1024)
    with LiveServer(channels.create_app(Channels(body), settings=settings)) as srv:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", srv.port))
        sock.sendall(b"GET /channels/news/events HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            assert finished.wait(30), "the slow client was never dropped"
        finally:
            sock.close()
        assert eventually(lambda: srv.app.state.streams.active == 0)
    assert peak <= 128 * 1024 + len(chunk) + 64
    last = [s for s in seen if s.signal == channels.StreamSignal.CLIENT_DISCONNECTED]
    assert [s.reason for s in last] == ["send timeout"]


def test_shutdown_ends_open_streams_within_the_grace_period() -> None:
    cancelled = threading.Event()

    async def body(request: Any, stream: Any) -> None:
        await stream.send(PriceUpdate(symbol="hello", price=0))
        if request.http.query_params.get("stubborn"):
            try:
                while True:  # ignores done: cancelled once the grace period is over
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                cancelled.set()
                raise
        await stream.done.wait()
        await stream.price(PriceUpdate(symbol="bye", price=0))

    settings, seen = _recording_settings(prices, shutdown_grace=1.0)
    srv = LiveServer(prices.create_app(Prices(body), settings=settings)).__enter__()
    http = httpx.Client(timeout=20)
    stack = contextlib.ExitStack()
    streams = [
        stack.enter_context(http.stream("GET", srv.url + "/prices/stream" + q))
        for q in ("", "", "?stubborn=1")
    ]
    readers = [frames(r) for r in streams]
    for reader in readers:
        next(reader)
    stopper = threading.Thread(target=srv.stop)
    stopper.start()
    rest = [[block for block in reader] for reader in readers]
    stopper.join(30)
    assert not stopper.is_alive() and not srv.thread.is_alive()
    assert rest[0] == rest[1] == [b'event: price\ndata: {"symbol":"bye","price":0.0}']
    assert rest[2] == [] and cancelled.is_set()
    ended = [s for s in seen if s.signal == prices.StreamSignal.ENDED]
    assert [s.reason for s in ended] == ["shutdown"] * 3
    stack.close()
    http.close()


def test_streams_requested_during_shutdown_end_at_once() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.send(PriceUpdate(symbol="never", price=0))

    with LiveServer(prices.create_app(Prices(body))) as srv, client() as http:

        async def begin() -> None:
            srv.app.state.streams.begin_shutdown()

        srv.call(begin)
        r = http.get(srv.url + "/prices/stream")
        assert r.status_code == 200
        assert r.text == ": shutting down\n\n"


SERVER_SCRIPT = """
import asyncio, sys
sys.path.insert(0, {root!r})
import uvicorn
from {package}.server import PricesService, ServerSettings, create_app
from {package}.models import PriceUpdate

class Service(PricesService):
    async def price_stream(self, request, stream):
        await stream.send(PriceUpdate(symbol="hello", price=0))
        if request.http.query_params.get("stubborn"):
            while True:
                await asyncio.sleep(10)
        await stream.done.wait()
        await stream.price(PriceUpdate(symbol="bye", price=0))

app = create_app(Service(), settings=ServerSettings(shutdown_grace=1.0))
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="info")
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_uvicorn_exits_promptly_on_a_signal_with_streams_open(tmp_path: Any, sig: int) -> None:
    pkg = package_dir("prices")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = tmp_path / "serve.py"
    script.write_text(SERVER_SCRIPT.format(root=str(pkg.parent), package=pkg.name, port=port))
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert eventually(lambda: _up(url), timeout=30), "the server did not start"
        http = httpx.Client(timeout=30)
        stack = contextlib.ExitStack()
        streams = [
            stack.enter_context(http.stream("GET", url + "/prices/stream" + q))
            for q in ("", "", "?stubborn=1")
        ]
        readers = [frames(r) for r in streams]
        for reader in readers:
            assert b"hello" in next(reader)
        proc.send_signal(sig)
        rest = [[block for block in reader] for reader in readers]
        proc.wait(timeout=30)
        output = proc.stdout.read().decode() if proc.stdout else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rest[0] == rest[1] == [b'event: price\ndata: {"symbol":"bye","price":0.0}']
    assert rest[2] == []
    assert proc.returncode in (0, -sig), output
    assert "Exception in ASGI application" not in output, output
    assert "without completing response" not in output, output
    assert "Cancel" not in output, output  # no forced cancellation by uvicorn
    stack.close()
    http.close()


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/openapi.json", timeout=1).status_code in (200, 404)
    except httpx.HTTPError:
        return False


def test_all_blocks_helper_sees_clean_end() -> None:
    async def body(request: Any, stream: Any) -> None:
        await stream.send(PriceUpdate(symbol="A", price=1))

    with LiveServer(prices.create_app(Prices(body))) as srv, client() as http:
        with http.stream("GET", srv.url + "/prices/stream") as r:
            assert len(all_blocks(r)) == 1
