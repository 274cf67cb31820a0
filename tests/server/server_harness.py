"""Helpers of the server tests: generated packages, a real uvicorn on loopback, SSE frames."""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import importlib
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import uvicorn

from roccogen.output import write_files
from roccogen.pipeline import load_api, render_api

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
TEST_SPECS = Path(__file__).resolve().parent / "specs"

_OUT = Path(tempfile.mkdtemp(prefix="roccogen-server-tests-"))
atexit.register(shutil.rmtree, _OUT, ignore_errors=True)
_CACHE: dict[str, ModuleType] = {}


def generate(spec: str) -> ModuleType:
    """The ``server`` module generated from ``spec`` (``prices`` or ``kitchen``), imported once.

    The package is renamed ``srvt_<name>`` so it never meets another test's import of the same
    spec in ``sys.modules``.
    """
    if spec in _CACHE:
        return _CACHE[spec]
    path = SPECS / f"{spec}.yaml"
    if not path.exists():
        path = TEST_SPECS / f"{spec}.yaml"
    api, diagnostics = load_api(path)
    assert api is not None, [d.format() for d in diagnostics]
    api = dataclasses.replace(api, package=f"srvt_{api.package}")
    write_files(_OUT, render_api(api))
    if str(_OUT) not in sys.path:
        sys.path.insert(0, str(_OUT))
    module = importlib.import_module(f"{api.package}.server")
    _CACHE[spec] = module
    return module


def package_dir(spec: str) -> Path:
    """Where the generated package of ``spec`` lives."""
    module = generate(spec)
    assert module.__file__ is not None
    return Path(module.__file__).parent


class LiveServer:
    """uvicorn serving ``app`` on a free loopback port, in a thread with its own event loop."""

    def __init__(self, app: Any, **config: Any) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config.setdefault("log_level", "warning")
        self.server = uvicorn.Server(uvicorn.Config(app, lifespan="on", **config))
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        finally:
            self.loop.close()

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert self.thread.is_alive(), "uvicorn died while starting"
            time.sleep(0.01)
        return self

    def call(self, fn: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 10) -> Any:
        """Run ``fn()`` on the server's loop and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(fn(), self.loop).result(timeout)

    def stop(self, timeout: float = 20) -> None:
        """Stop as an embedding application would: end the streams, then uvicorn."""
        if self.thread.is_alive():
            self.app.state.streams.begin_shutdown_threadsafe()
            self.server.should_exit = True
            self.thread.join(timeout)
        assert not self.thread.is_alive(), "uvicorn did not stop"

    def __exit__(self, *exc: object) -> None:
        self.stop()


def frames(response: httpx.Response) -> Iterator[bytes]:
    """The raw SSE blocks of a streaming response, one per blank-line-terminated block."""
    buffer = b""
    for chunk in response.iter_raw():
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            yield block


def parse(block: bytes) -> dict[str, Any]:
    """One block as ``{"event", "data", "id", "retry", "comments"}`` (data lines joined by LF)."""
    out: dict[str, Any] = {"event": None, "data": None, "id": None, "retry": None, "comments": []}
    data: list[str] = []
    for line in block.decode().split("\n"):
        if line.startswith(":"):
            out["comments"].append(line[1:].lstrip(" "))
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name in ("event", "id", "retry"):
            out[name] = value
        else:
            raise AssertionError(f"unexpected field {name!r} in {block!r}")
    out["data"] = "\n".join(data) if data else None
    return out


def events(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    """The next ``count`` blocks that carry data (comments skipped)."""
    out = []
    for block in frames(response):
        parsed = parse(block)
        if parsed["data"] is not None:
            out.append(parsed)
            if len(out) == count:
                break
    return out


def all_blocks(response: httpx.Response) -> list[dict[str, Any]]:
    """Every block until the server ends the response."""
    return [parse(b) for b in frames(response)]


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``predicate`` on the running loop (for handlers waiting on a test thread)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` from the test thread; True once it holds, False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def client(timeout: float = 15.0) -> httpx.Client:
    """A plain httpx client with generous timeouts."""
    return httpx.Client(timeout=httpx.Timeout(timeout))
