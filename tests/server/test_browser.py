"""A real browser: headless Chromium's EventSource against a generated server.

It receives unnamed and named events, and when the server ends the connection it reconnects
with ``Last-Event-ID`` and resumes without losing or repeating an event.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from server_harness import LiveServer, generate
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

kitchen = generate("kitchen")
models = sys.modules["srvt_kitchen.models"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]  # fmt: skip

PAGE = """<!doctype html>
<meta charset="utf-8">
<script>
const got = [];
let opens = 0;
const report = (extra) => fetch("/results", {
  method: "POST", headers: {"Content-Type": "application/json"},
  body: JSON.stringify(Object.assign({got, opens}, extra || {})),
});
const source = new EventSource("/feed/news");
source.onopen = () => { opens += 1; };
source.onmessage = (e) => got.push(["message", e.lastEventId, JSON.parse(e.data).n]);
source.addEventListener("note", (e) => got.push(["note", e.lastEventId, e.data]));
source.addEventListener("end", (e) => {
  got.push(["end", e.lastEventId, JSON.parse(e.data).total]);
  source.close();
  report();
});
setTimeout(() => report({timeout: true}), 30000);
</script>
"""


class Feed(kitchen.KitchenService):
    def __init__(self) -> None:
        self.connections: list[str | None] = []

    async def feed(self, request: Any, stream: Any) -> None:
        last = request.last_event_id
        self.connections.append(last)
        start = int(last) + 1 if last is not None else 0
        end = min(start + 5, 10)
        for i in range(start, end):
            if i % 2 == 0:
                await stream.send(models.Tick(n=i), id=str(i))
            else:
                await stream.note(f"note {i}\nsecond line", id=str(i))
        if end == 10:
            await stream.end(models.Summary(total=10), id="10")
        # Otherwise the server ends the connection here: the browser must come back.

    async def secure(self, request: Any, stream: Any) -> None:
        raise NotImplementedError

    async def maybe_auth(self, request: Any, stream: Any) -> None:
        raise NotImplementedError

    async def upload(self, request: Any, stream: Any) -> None:
        raise NotImplementedError

    async def optional_body(self, request: Any, stream: Any) -> None:
        raise NotImplementedError


async def _deny(request: Any) -> None:
    return None


def test_chromium_eventsource_receives_events_and_resumes_after_a_drop(tmp_path: Path) -> None:
    # A missing browser is a failure, not a skip: .ci/run installs Debian's chromium.
    assert CHROMIUM is not None, "chromium is not installed: apt-get install chromium (.ci/run does)"
    service = Feed()
    app = kitchen.create_app(service, authenticator=_deny)
    results: dict[str, Any] = {}
    arrived = threading.Event()

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def collect(request: Request) -> Response:
        results.update(json.loads(await request.body()))
        arrived.set()
        return Response(status_code=204)

    app.router.routes[:0] = [Route("/", page), Route("/results", collect, methods=["POST"])]
    with LiveServer(app) as srv:
        assert CHROMIUM is not None
        browser = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", srv.url + "/"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert arrived.wait(60), "the page never reported"
        finally:
            browser.terminate()
            try:
                browser.wait(15)
            except subprocess.TimeoutExpired:
                browser.kill()
                browser.wait()
    assert "timeout" not in results, results
    expected: list[list[Any]] = []
    for i in range(10):
        if i % 2 == 0:
            expected.append(["message", str(i), i])
        else:
            expected.append(["note", str(i), f"note {i}\nsecond line"])
    expected.append(["end", "10", 10])
    assert results["got"] == expected
    assert service.connections == [None, "4"]
    assert results["opens"] == 2
