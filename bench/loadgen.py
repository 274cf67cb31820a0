"""Low-overhead SSE load: a raw-socket single-stream reader and a fan-out load generator.

Neither parses events beyond counting ``data:`` fields, so the client costs far less than the
server it measures. The fan-out generator runs as its own process
(``python -m bench.loadgen PORT CONNECTIONS``) and is driven by lines on stdin:

- it opens ``WARM`` connections and waits for an event on each, then prints ``warm``;
- ``go``: it opens the rest (``BATCH`` at a time) and prints ``connected <seconds> <failures>``
  once every connection has its response headers;
- ``mark`` starts counting events; ``stop`` prints a JSON line of counts and exits.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from dataclasses import dataclass

from bench.feed import PATH
from bench.procs import raise_fd_limit

WARM = 10
BATCH = 1000
DATA = b"data:"


def request_bytes(port: int, path: str = PATH, *, close: bool = False) -> bytes:
    """The HTTP/1.1 request an EventSource sends (``close``: ask the server to hang up after)."""
    extra = "Connection: close\r\n" if close else ""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
        f"Cache-Control: no-cache\r\n{extra}\r\n"
    ).encode()


@dataclass(frozen=True)
class StreamSample:
    """One stream of ``events`` events read to its end in ``seconds``."""

    events: int
    nbytes: int
    seconds: float

    @property
    def rate(self) -> float:
        """Events per second."""
        return self.events / self.seconds


def read_stream(port: int, n: int) -> StreamSample:
    """Read a stream of ``n`` events to its end as fast as a socket can; check the count."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        start = time.perf_counter()
        sock.sendall(request_bytes(port, f"{PATH}?n={n}", close=True))
        events = nbytes = 0
        tail = b""
        while chunk := sock.recv(1 << 18):
            if not nbytes and not chunk.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected response: {chunk[:200]!r}")
            events += (tail + chunk).count(DATA)
            nbytes += len(chunk)
            tail = chunk[-4:]
        seconds = time.perf_counter() - start
    if events != n:
        raise RuntimeError(f"expected {n} events, counted {events}")
    return StreamSample(events, nbytes, seconds)


class _Conn(asyncio.Protocol):
    """One SSE connection that counts ``data:`` fields."""

    def __init__(self, stats: _Stats, request: bytes) -> None:
        self.stats = stats
        self.request = request
        self.headers = False
        self.events = 0
        self.tail = b""
        self.transport: asyncio.Transport | None = None
        self.headers_seen = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.headers:
            if not data.startswith(b"HTTP/1.1 200"):
                self.stats.bad += 1
            self.headers = True
            if not self.headers_seen.done():
                self.headers_seen.set_result(None)
        n = (self.tail + data).count(DATA)
        self.tail = data[-4:]
        self.events += n
        if self.stats.counting:
            self.stats.events += n

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.lost += 1
        if not self.headers_seen.done():
            self.headers_seen.set_exception(ConnectionError("closed before headers"))


@dataclass
class _Stats:
    counting: bool = False
    events: int = 0
    lost: int = 0
    bad: int = 0
    failed: int = 0


async def _open(port: int, stats: _Stats, request: bytes, attempts: int = 5) -> _Conn | None:
    loop = asyncio.get_running_loop()
    for attempt in range(attempts):
        try:
            _, conn = await loop.create_connection(lambda: _Conn(stats, request), "127.0.0.1", port)
            await asyncio.wait_for(conn.headers_seen, 30)
            return conn
        except (OSError, ConnectionError, TimeoutError):
            await asyncio.sleep(0.05 * (attempt + 1))
    stats.failed += 1
    return None


async def _line() -> str:
    line: str = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.strip()


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def fan_out(port: int, connections: int) -> None:
    """The driven protocol described in the module docstring."""
    stats = _Stats()
    request = request_bytes(port)
    conns: list[_Conn] = []
    warm = [
        c for c in await asyncio.gather(*(_open(port, stats, request) for _ in range(WARM))) if c
    ]
    conns.extend(warm)
    while any(c.events == 0 for c in warm):
        await asyncio.sleep(0.05)
    _say("warm")
    if await _line() != "go":
        return
    started = time.perf_counter()
    remaining = connections - len(conns)
    while remaining > 0:
        n = min(BATCH, remaining)
        opened = await asyncio.gather(*(_open(port, stats, request) for _ in range(n)))
        conns.extend(c for c in opened if c is not None)
        remaining -= n
    _say(f"connected {time.perf_counter() - started:.3f} {stats.failed}")
    while (command := await _line()) != "stop":
        if command == "mark":
            stats.counting = True
    alive = sum(1 for c in conns if c.transport is not None and not c.transport.is_closing())
    report = {"connected": len(conns), "alive": alive, "events": stats.events}
    report |= {"lost": stats.lost, "bad": stats.bad, "failed": stats.failed}
    _say(json.dumps(report))
    for c in conns:
        if c.transport is not None:
            c.transport.abort()


def main() -> None:
    """``python -m bench.loadgen PORT CONNECTIONS``."""
    raise_fd_limit()
    port, connections = int(sys.argv[1]), int(sys.argv[2])
    asyncio.run(fan_out(port, connections))


if __name__ == "__main__":
    main()
