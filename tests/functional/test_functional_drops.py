"""Forced disconnects between the generated server and the generated client.

A TCP proxy on loopback forwards each connection and cuts it after a fixed number of response
bytes, wherever that falls (inside headers of an event, inside a UTF-8 sequence, between CR and
LF). The client must resume with Last-Event-ID and deliver every event exactly once.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from functional_packages import package, quick
from sse_live import live_server


@contextmanager
def cutting_proxy(upstream: str, cut_after: int) -> Iterator[tuple[str, list[int]]]:
    """Forward to ``upstream``; close each connection after ``cut_after`` response bytes."""
    host, port = upstream.removeprefix("http://").split(":")
    cuts: list[int] = []
    loop = asyncio.new_event_loop()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    writer.write(data[: limit - sent])
                    await writer.drain()
                    cuts.append(limit)
                    break
                sent += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(host, int(port))
        up = asyncio.ensure_future(pipe(client_r, server_w, None))
        await pipe(server_r, client_w, cut_after)
        server_w.close()
        up.cancel()

    async def serve() -> asyncio.base_events.Server:
        return await asyncio.start_server(handle, sock=sock)

    server = loop.run_until_complete(serve())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", cuts
    finally:

        async def shutdown() -> None:
            server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


@pytest.mark.parametrize("cut_after", [700, 911, 1303])
def test_jobs_survive_connections_cut_anywhere(cut_after: int) -> None:
    mods = package("jobs.yaml")
    server, client, models = mods["server"], mods["client"], mods["models"]
    total = 40

    class Jobs(server.JobsService):  # type: ignore[name-defined,misc]
        async def job_progress(self, request: Any, stream: Any) -> None:
            start = int(request.last_event_id or 0) + 1
            for step in range(start, total + 1):
                message = "étape ✓ " * (step % 3)  # multi-byte text, so some cuts split a character
                await stream.progress(models.Progress(step=step, total=total, message=message), id=str(step))
            await stream.done_event(models.JobResult(status="succeeded"), id="end")

    with (
        live_server(server.create_app(Jobs())) as url,
        cutting_proxy(url, cut_after) as (proxy_url, cuts),
        client.JobsClient(proxy_url, reconnect=quick(client)) as api,
        api.job_progress("j") as stream,
    ):
        events = list(stream)
    steps = [e.data.step for e in events if isinstance(e, client.ProgressEvent)]
    assert steps == list(range(1, total + 1))
    assert all(e.data.message == "étape ✓ " * (e.data.step % 3) for e in events[:-1])
    assert isinstance(events[-1], client.DoneEvent)
    assert len(cuts) >= 2 and stream.reconnects == len(cuts)
