"""Helpers for client tests: real uvicorn servers on loopback, and generated packages."""

from __future__ import annotations

import dataclasses
import importlib
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import uvicorn

from roccogen.output import write_files
from roccogen.pipeline import load_api, render_api

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free loopback port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="critical", lifespan="off", timeout_graceful_shutdown=1, ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def load_generated(spec: str, out_dir: Path, prefix: str = "clt_") -> ModuleType:
    """Generate ``specs/<spec>`` into ``out_dir`` as package ``<prefix><name>`` and import it.

    The prefix keeps the package apart from other tests' imports of the same spec.
    """
    api, diagnostics = load_api(SPECS / spec)
    assert api is not None, [d.format() for d in diagnostics]
    api = dataclasses.replace(api, package=prefix + api.package)
    write_files(out_dir, render_api(api))
    for name in [m for m in sys.modules if m == api.package or m.startswith(api.package + ".")]:
        del sys.modules[name]
    sys.path.insert(0, str(out_dir))
    try:
        return importlib.import_module(api.package)
    finally:
        sys.path.remove(str(out_dir))


@cache
def _generated_modules(spec: str) -> dict[str, ModuleType]:
    out = Path(tempfile.mkdtemp(prefix="roccogen-client-"))
    package = load_generated(spec, out)
    names = ("client", "models", "_client_runtime", "server")
    return {name: submodule(package, name) for name in names}


def generated(spec: str, module: str = "client") -> ModuleType:
    """A module of the package generated from ``specs/<spec>``, built once per test session.

    The modules are kept together, so classes compare equal across them even after another test
    imported a package of the same name from elsewhere.
    """
    return _generated_modules(spec)[module]


def submodule(package: ModuleType, name: str) -> ModuleType:
    """``package.<name>``, imported."""
    return importlib.import_module(f"{package.__name__}.{name}")


def sibling(module: ModuleType, name: str) -> ModuleType:
    """Another module of the same generated package (``client`` → ``models``)."""
    return importlib.import_module(f"{module.__name__.rpartition('.')[0]}.{name}")


async def send_head(send: Any, status: int = 200, content_type: str = "text/event-stream") -> None:
    """Start a streamed ASGI response."""
    headers = [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def send_chunk(send: Any, data: bytes) -> None:
    """One body chunk of a streamed response."""
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def send_end(send: Any) -> None:
    """End the response cleanly."""
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def send_json(send: Any, status: int, body: bytes, content_type: str = "application/json") -> None:
    """A complete non-streamed response."""
    await send_head(send, status, content_type)
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def drain_request(receive: Any) -> bytes:
    """Read the whole request body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def header(scope: dict[str, Any], name: str) -> str | None:
    """A request header, decoded, or None."""
    wanted = name.lower().encode()
    for key, value in scope["headers"]:
        if key == wanted:
            return str(value.decode("latin-1"))
    return None
