"""Client measurements: typed events/s over loopback, and in-memory decode rate.

The source is a raw Starlette server writing 128 pre-encoded frames per write, far faster than
any of the clients, so each figure measures the client. The target compares the sync flavours:
- ``httpx_sse``: httpx + httpx-sse ``iter_sse``, events left as ``ServerSentEvent`` (the target's
  peer);
- ``httpx_sse_validated``: the same plus ``Tick.model_validate_json`` on each event (what a user
  writes by hand to get typed events; context);
- ``generated``: the generated ``FeedClient`` — typed, validated ``TickEvent``s;
- ``generated_async`` and ``httpx_sse_async``: ``AsyncFeedClient`` against ``aconnect_sse`` +
  ``aiter_sse`` (context; each stream in its own ``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import codecs
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse, connect_sse
from httpx_sse._decoders import SSEDecoder, SSELineDecoder  # not re-exported by httpx-sse

from bench.feed import PATH, frame, import_generated
from bench.procs import ServerProcess
from bench.server_bench import rotated
from bench.stats import Summary, paired_ratios

CLIENTS = ("generated", "httpx_sse", "httpx_sse_validated", "generated_async", "httpx_sse_async")
DECODE_CHUNK = 64 * 1024  # what httpcore asks the socket for per read


def _httpx_sse(url: str, n: int, root: Path) -> int:
    count = 0
    with (
        httpx.Client(timeout=None) as http,
        connect_sse(http, "GET", url + PATH, params={"n": n}) as es,
    ):
        for _ in es.iter_sse():
            count += 1
    return count


def _httpx_sse_validated(url: str, n: int, root: Path) -> int:
    tick = import_generated(root, "models").Tick
    validate = tick.model_validate_json
    count = 0
    with (
        httpx.Client(timeout=None) as http,
        connect_sse(http, "GET", url + PATH, params={"n": n}) as es,
    ):
        for sse in es.iter_sse():
            validate(sse.data)
            count += 1
    return count


def _generated(url: str, n: int, root: Path) -> int:
    client_module = import_generated(root, "client")
    count = 0
    with client_module.FeedClient(url) as client, client.ticks(n=n) as stream:
        for _ in stream:
            count += 1
    return count


async def _async_generated(url: str, n: int, root: Path) -> int:
    client_module = import_generated(root, "client")
    count = 0
    async with client_module.AsyncFeedClient(url) as client, client.ticks(n=n) as stream:
        async for _ in stream:
            count += 1
    return count


async def _async_httpx_sse(url: str, n: int, root: Path) -> int:
    count = 0
    async with (
        httpx.AsyncClient(timeout=None) as http,
        aconnect_sse(http, "GET", url + PATH, params={"n": n}) as es,
    ):
        async for _ in es.aiter_sse():
            count += 1
    return count


def _in_loop(
    runner: Callable[[str, int, Path], Coroutine[Any, Any, int]],
) -> Callable[[str, int, Path], int]:
    def run(url: str, n: int, root: Path) -> int:
        return asyncio.run(runner(url, n, root))

    return run


RUNNERS: dict[str, Callable[[str, int, Path], int]] = {
    "generated": _generated,
    "httpx_sse": _httpx_sse,
    "httpx_sse_validated": _httpx_sse_validated,
    "generated_async": _in_loop(_async_generated),
    "httpx_sse_async": _in_loop(_async_httpx_sse),
}


def _timed(
    runner: Callable[[str, int, Path], int], url: str, n: int, root: Path
) -> tuple[float, float]:
    """Events per wall-clock second and per CPU second of this (the client's) process."""
    start, cpu = time.perf_counter(), time.process_time()
    count = runner(url, n, root)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    if count != n:
        raise RuntimeError(f"expected {n} events, got {count}")
    return count / seconds, count / max(cpu_seconds, 1e-9)


def client_rates(root: Path, *, rounds: int, events: int) -> dict[str, Any]:
    """Measurement 3a: events/s each client consumes from the same server."""
    rates: dict[str, list[float]] = {c: [] for c in CLIENTS}
    per_cpu: dict[str, list[float]] = {c: [] for c in CLIENTS}
    with ServerProcess("starlette", "firehose", root) as server:
        url = server.url
        for name in CLIENTS:  # warm-up: imports, connection pools, code paths
            _timed(RUNNERS[name], url, events // 10, root)
        for r in range(rounds):
            for name in rotated(CLIENTS, r):
                rate, cpu_rate = _timed(RUNNERS[name], url, events, root)
                rates[name].append(rate)
                per_cpu[name].append(cpu_rate)
                print(f"  client         round {r + 1}/{rounds}  {name:<20} {rate:>11,.0f} ev/s")

    def ratios(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
        pairs = (
            ("generated", "httpx_sse"),
            ("generated", "httpx_sse_validated"),
            ("generated_async", "httpx_sse_async"),
        )
        return {
            f"{a} / {b}": Summary.of(paired_ratios(samples[a], samples[b])).as_dict()
            for a, b in pairs
        }

    return {
        "events_per_stream": events,
        "rates": {c: Summary.of(r).as_dict() for c, r in rates.items()},
        "rates_per_cpu_second": {c: Summary.of(r).as_dict() for c, r in per_cpu.items()},
        "samples": rates,
        "ratios": ratios(rates),
        "cpu_ratios": ratios(per_cpu),
    }


def _decode_ours(chunks: list[bytes], decoder_class: Any) -> int:
    decoder = decoder_class()
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    return count


def _decode_httpx_sse(chunks: list[bytes]) -> int:
    # iter_sse's own pipeline: incremental UTF-8 (httpx's iter_text), line splitting, decoding.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = SSELineDecoder()
    decoder = SSEDecoder()
    count = 0
    for chunk in chunks:
        for line in lines.decode(text.decode(chunk)):
            if decoder.decode(line.rstrip("\n")) is not None:
                count += 1
    return count


def decode_rates(root: Path, *, rounds: int, events: int) -> dict[str, Any]:
    """Measurement 3b: in-memory decode of the same bytes, our decoder vs httpx-sse's."""
    decoder_class = import_generated(root, "_client_decoder").SseDecoder
    payload = frame() * events
    chunks = [payload[i : i + DECODE_CHUNK] for i in range(0, len(payload), DECODE_CHUNK)]
    decoders: dict[str, Callable[[], int]] = {
        "generated": lambda: _decode_ours(chunks, decoder_class),
        "httpx_sse": lambda: _decode_httpx_sse(chunks),
    }
    rates: dict[str, list[float]] = {d: [] for d in decoders}
    for name, run in decoders.items():  # warm-up
        run()
    for r in range(rounds):
        for name in rotated(tuple(decoders), r):
            start = time.perf_counter()
            count = decoders[name]()
            seconds = time.perf_counter() - start
            if count != events:
                raise RuntimeError(f"{name} decoded {count} of {events} events")
            rates[name].append(count / seconds)
    for name, samples in rates.items():
        print(f"  decode         {name:<20} {Summary.of(samples).median:>11,.0f} ev/s")
    return {
        "events": events,
        "chunk_bytes": DECODE_CHUNK,
        "rates": {d: Summary.of(r).as_dict() for d, r in rates.items()},
        "samples": rates,
        "ratio": Summary.of(paired_ratios(rates["generated"], rates["httpx_sse"])).as_dict(),
    }
