"""The client backend on IR the example specs do not reach, and the typing users rely on."""

from __future__ import annotations

import ast
import asyncio
import importlib
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from sse_live import drain_request, generated, live_server, send_chunk, send_end, send_head

from roccogen.backends.client import RUNTIME_FILES, render_client
from roccogen.formatting import format_python
from roccogen.ir import Api, AuthScheme, Body, ErrorResponse, Event, Model, Param, StreamEndpoint

MODELS = '''
from pydantic import BaseModel


class Chunk(BaseModel):
    text: str


class Query(BaseModel):
    q: str
    limit: int = 10
'''


def odd_api() -> Api:
    """Sentinel terminal, api-key auth in the query, optional body, names that collide."""
    chunk = Event("message", False, "message", "MessageEvent", "Chunk", "data", 'ends with quote"')
    done = Event("message", False, "done", "DoneEvent", None, "terminal", None, sentinel="[DONE]")
    stream = StreamEndpoint(
        name="close",
        py_name="close",  # a client method name: must not shadow ClientBase.close
        class_name="Close",
        method="POST",
        path="/v1/{id}/complete",
        summary='Summary with """ quotes',
        description=None,
        tags=(),
        params=(
            Param("id", "id", "path", "string", True),
            Param("timeout", "timeout", "query", "integer", False),  # a method keyword argument
            Param("mode", "mode", "query", "string", False, enum=("fast", "slow'\""), default="fast", has_default=True),
            Param("X-Trace", "x_trace", "header", "boolean", False),
        ),
        body=Body("Query", required=False),
        events=(chunk,),
        terminal=done,
        error=None,
        keepalive_ms=None,
        resumable=False,
        retry_ms=None,
        auth=None,
        errors=(ErrorResponse(409, "ApiError", None, "ApiError"),),  # collides with a re-export
    )
    return Api(
        package="odd",
        class_name="Odd",
        title="Odd API",
        version="1",
        description=None,
        streams=(stream,),
        models=(Model("Chunk", "{}"), Model("Query", "{}")),
        auth_scheme=AuthScheme(kind="api_key", api_key_name="key", api_key_in="query"),
    )


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("odd")
    package = root / "odd_client_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    for path, text in render_client(odd_api()).items():
        (package / str(path)).write_text(format_python(text) if path.suffix == ".py" else text)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("odd_client_pkg.client"), package
    finally:
        sys.path.remove(str(root))


def test_files_and_runtime_copied_verbatim() -> None:
    files = render_client(odd_api())
    assert {str(p) for p in files} == {"client.py", *RUNTIME_FILES.values()}
    runtime = Path(__file__).resolve().parents[2] / "roccogen" / "runtime"
    for source, target in RUNTIME_FILES.items():
        assert files[PurePosixPath(target)] == (runtime / source).read_text()


def test_names_are_made_safe(odd: Any) -> None:
    client, _ = odd
    source = Path(client.__file__).read_text()
    tree = ast.parse(source)
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    assert {"ApiError_", "MessageEvent", "DoneEvent", "OddClient", "AsyncOddClient"} <= classes
    assert issubclass(client.ApiError_, client.ApiError)
    assert callable(client.OddClient.close_) and client.OddClient.close is not client.OddClient.close_
    assert "timeout_" in client.OddClient.close_.__code__.co_varnames


def test_generated_code_passes_mypy_and_ruff(odd: Any) -> None:
    _, package = odd
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null", str(package)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert mypy.returncode == 0, mypy.stdout
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", str(package)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert ruff.returncode == 0, ruff.stdout


def test_sentinel_terminal_and_api_key_in_query(odd: Any) -> None:
    client, _ = odd
    models = importlib.import_module("odd_client_pkg.models")
    seen: list[tuple[str, bytes, bytes]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append((scope["path"], scope["query_string"], await drain_request(receive)))
        await send_head(send)
        await send_chunk(send, b'data: {"text": "a"}\n\ndata: [DONE]\n\n')
        await send_chunk(send, b'data: {"text": "after the end"}\n\n')
        await send_end(send)

    with live_server(app) as url, client.OddClient(url, api_key="k&1") as api:
        events = list(api.close_("x/y", timeout_=5, x_trace=True, body=models.Query(q="hi")))
        got: list[str] = []

        async def dispatch() -> None:
            async with client.AsyncOddClient(url, api_key="k") as async_api:
                stream = async_api.close_("z")
                stream.on("message", lambda e: got.append(e.data.text))
                stream.on("done", lambda e: got.append(e.data))
                await stream.run()

        asyncio.run(dispatch())
    assert [type(e).__name__ for e in events] == ["MessageEvent", "DoneEvent"]
    assert events[1].data == "[DONE]"
    assert got == ["a", "[DONE]"]
    path, query, body = seen[0]
    assert path == "/v1/x/y/complete"
    assert sorted(query.split(b"&")) == [b"key=k%261", b"mode=fast", b"timeout=5"]
    assert body == b'{"q":"hi"}'
    assert seen[1][2] == b""  # an optional body left out sends nothing


USER_CODE = '''
from typing import assert_never

from {pkg}.client import (
    AsyncPricesClient, MessageEvent, PriceEvent, PriceStreamEvent, PricesClient, UnknownEvent,
    VolumeEvent,
)


def describe(event: PriceStreamEvent) -> str:
    match event:
        case MessageEvent(data=update) | PriceEvent(data=update):
            return update.symbol
        case VolumeEvent(data=volume):
            return str(volume.volume + 1)
        case _:
            assert_never(event)


def use(client: PricesClient) -> None:
    with client.price_stream() as stream:
        for event in stream:
            describe(event)
        @stream.on("volume")
        def on_volume(event: VolumeEvent) -> None:
            print(event.data.volume)
    raw = client.price_stream(unknown_events="raw")
    for item in raw:
        if isinstance(item, UnknownEvent):
            print(item.data)
        else:
            describe(item)


async def use_async(client: AsyncPricesClient) -> None:
    async with client.price_stream() as stream:
        async for event in stream:
            describe(event)

        @stream.on("price")
        async def on_price(event: PriceEvent) -> None:
            print(event.data.price, event.id, event.retry, event.raw.data)

        await stream.run()
'''

BAD_CODE = '''
from {pkg}.client import PriceEvent, PricesClient, VolumeEvent


def misuse(client: PricesClient) -> None:
    stream = client.price_stream()
    stream.on("volume", lambda event: print(event.data.price))  # line 7: volume has no price
    stream.on("nope")  # line 8: not an event of this stream

    def on_price(event: PriceEvent) -> None: ...

    stream.on("volume", on_price)  # line 12: wrong event class
    for event in client.price_stream(unknown_events="raw"):
        print(event.data.symbol)  # line 14: may be an UnknownEvent, whose data is str
'''


def test_users_get_precise_types() -> None:
    client = generated("prices.yaml")
    package_dir = Path(client.__file__).parent
    pkg = package_dir.name
    (package_dir.parent / "user_good.py").write_text(USER_CODE.format(pkg=pkg))
    (package_dir.parent / "user_bad.py").write_text(BAD_CODE.format(pkg=pkg))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null",
         "user_good.py", "user_bad.py"],
        cwd=package_dir.parent, capture_output=True, text=True, timeout=300, check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert not [line for line in lines if line.startswith("user_good.py")], proc.stdout
    bad_lines = {int(line.split(":")[1]) for line in lines if line.startswith("user_bad.py")}
    assert bad_lines == {7, 8, 12, 14}, proc.stdout


def test_error_base_classes_match_the_runtime() -> None:
    from roccogen.backends.client import error_base_class
    from roccogen.runtime._client_errors import status_error_class

    for status in range(400, 600):
        assert error_base_class(status) == status_error_class(status).__name__, status
