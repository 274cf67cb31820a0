"""Server measurements: single-stream events/s, and CPU and memory under fan-out.

Peers run under the same uvicorn settings in their own processes; rounds interleave them (the
order rotates each round) so machine noise hits every peer alike, and every ratio is taken
within one round.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.apps import APPS
from bench.loadgen import WARM, read_stream
from bench.procs import ServerProcess, servers
from bench.stats import Summary, paired_ratios

CALIBRATION_EVENTS = 20_000


def rotated(items: tuple[str, ...] | list[str], k: int) -> list[str]:
    """``items`` starting at position ``k`` (mod len): each peer goes first in turn."""
    k %= len(items)
    return list(items[k:]) + list(items[:k])


@dataclass
class SingleStream:
    """Events/s per server, per round, and how many events each stream carried."""

    events: dict[str, int] = field(default_factory=dict)
    rates: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Medians, spreads and the paired ratios the targets are stated in."""
        per_cpu = {
            app: [rate / max(cpu / 100.0, 1e-9) for rate, cpu in zip(r, self.cpu[app], strict=True)]
            for app, r in self.rates.items()
        }
        return {
            "events_per_stream": self.events,
            "rates": {app: Summary.of(r).as_dict() for app, r in self.rates.items()},
            "server_cpu_pct": {app: Summary.of(c).as_dict() for app, c in self.cpu.items()},
            "events_per_cpu_second": {app: Summary.of(r).as_dict() for app, r in per_cpu.items()},
            "samples": self.rates,
            "ratios": _ratios(self.rates),
            "cpu_ratios": _ratios(per_cpu),
        }


def _ratios(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    pairs = (
        ("generated", "sse_starlette"),
        ("generated", "starlette"),
        ("sse_starlette", "starlette"),
    )
    return {
        f"{a} / {b}": Summary.of(paired_ratios(samples[a], samples[b])).as_dict() for a, b in pairs
    }


def single_stream(
    root: Path, *, rounds: int, seconds: float, mode: str = "burst"
) -> dict[str, Any]:
    """Measurement 1: one client reads one stream as fast as it can, for each server."""
    result = SingleStream()
    with servers(list(APPS), mode, root) as procs:
        for app, proc in procs.items():
            read_stream(proc.port, CALIBRATION_EVENTS)  # warm up imports and code paths
            rate = read_stream(proc.port, CALIBRATION_EVENTS).rate
            # Size each stream to last about ``seconds`` so slow and fast peers are equally sampled.
            result.events[app] = max(CALIBRATION_EVENTS, int(rate * seconds))
            result.rates[app], result.cpu[app] = [], []
        for r in range(rounds):
            for app in rotated(APPS, r):
                proc = procs[app]
                cpu0 = proc.cpu_seconds()
                sample = read_stream(proc.port, result.events[app])
                result.rates[app].append(sample.rate)
                result.cpu[app].append(100.0 * (proc.cpu_seconds() - cpu0) / sample.seconds)
                print(
                    f"  {mode:<6} stream  round {r + 1}/{rounds}  {app:<14} {sample.rate:>11,.0f} ev/s"
                )
    return result.summary()


@dataclass(frozen=True)
class FanOutTrial:
    """One server under ``connections`` streams at 1 event/s, measured over a window."""

    app: str
    connections: int
    cpu_pct: float
    rss_delta_per_conn: float
    rss_before: int
    rss_after: int
    delivered: float  # events received / expected in the window
    connect_seconds: float
    failed: int


def _expect(stream: IO[str], prefix: str) -> str:
    line = stream.readline().strip()
    if not line.startswith(prefix):
        raise RuntimeError(f"load generator said {line!r}, expected {prefix!r}")
    return line


def _send(stream: IO[str], command: str) -> None:
    stream.write(command + "\n")
    stream.flush()


def fan_out_trial(
    app: str, root: Path, connections: int, *, window: float, settle: float
) -> FanOutTrial:
    """Start a fresh server, open ``connections`` streams from a separate process, measure."""
    with ServerProcess(app, "ticker", root) as server:
        cmd = [sys.executable, "-m", "bench.loadgen", str(server.port), str(connections)]
        cwd = Path(__file__).resolve().parent.parent
        load = subprocess.Popen(
            cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert load.stdin is not None and load.stdout is not None
        try:
            _expect(load.stdout, "warm")
            rss_before = server.rss()
            _send(load.stdin, "go")
            _, seconds, failed = _expect(load.stdout, "connected").split()
            time.sleep(settle)
            _send(load.stdin, "mark")
            cpu0, t0 = server.cpu_seconds(), time.perf_counter()
            time.sleep(window)
            cpu1, t1 = server.cpu_seconds(), time.perf_counter()
            rss_after = server.rss()
            _send(load.stdin, "stop")
            report = json.loads(_expect(load.stdout, "{"))
            load.wait(timeout=30)
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
    added = connections - WARM
    return FanOutTrial(
        app=app,
        connections=connections,
        cpu_pct=100.0 * (cpu1 - cpu0) / (t1 - t0),
        rss_delta_per_conn=(rss_after - rss_before) / added,
        rss_before=rss_before,
        rss_after=rss_after,
        delivered=report["events"] / (report["alive"] * (t1 - t0)),
        connect_seconds=float(seconds),
        failed=int(failed) + int(report["failed"]),
    )


def _trial_ratio(
    trials: dict[str, list[FanOutTrial]], a: str, b: str, metric: str
) -> dict[str, float]:
    """Paired per-round ratio of ``metric`` between peers ``a`` and ``b``."""
    ours = [getattr(t, metric) for t in trials[a]]
    return Summary.of(paired_ratios(ours, [getattr(t, metric) for t in trials[b]])).as_dict()


def fan_out(root: Path, *, sizes: dict[int, int], window: float, settle: float) -> dict[str, Any]:
    """Measurement 2: CPU % of a core and RSS per connection, generated vs sse-starlette.

    ``sizes`` maps a connection count to its number of rounds. A bare Starlette
    ``StreamingResponse`` runs alongside as context: the cost of the write alone.
    """
    peers = ("generated", "sse_starlette", "starlette")
    out: dict[str, Any] = {}
    for size, rounds in sizes.items():
        trials: dict[str, list[FanOutTrial]] = {p: [] for p in peers}
        for r in range(rounds):
            for app in rotated(peers, r):
                trial = fan_out_trial(app, root, size, window=window, settle=settle)
                trials[app].append(trial)
                print(
                    f"  fan-out {size:>5}  round {r + 1}/{rounds}  {app:<14} cpu {trial.cpu_pct:5.1f}%"
                    f"  {trial.rss_delta_per_conn / 1024:5.1f} kB/conn  delivered {trial.delivered:.2f}"
                )

        ratio = functools.partial(_trial_ratio, trials)

        out[str(size)] = {
            "cpu_pct": {p: Summary.of([t.cpu_pct for t in trials[p]]).as_dict() for p in peers},
            "kb_per_conn": {
                p: Summary.of([t.rss_delta_per_conn / 1024 for t in trials[p]]).as_dict()
                for p in peers
            },
            "cpu_ratio": ratio("generated", "sse_starlette", "cpu_pct"),
            "mem_ratio": ratio("generated", "sse_starlette", "rss_delta_per_conn"),
            "floor_cpu_ratio": ratio("starlette", "sse_starlette", "cpu_pct"),
            "cpu_vs_floor": ratio("generated", "starlette", "cpu_pct"),
            "delivered": {p: min(t.delivered for t in trials[p]) for p in peers},
            "failed": {p: sum(t.failed for t in trials[p]) for p in peers},
            "connect_seconds": {p: max(t.connect_seconds for t in trials[p]) for p in peers},
            "trials": {p: [t.__dict__ for t in trials[p]] for p in peers},
        }
    return out
