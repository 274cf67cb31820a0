"""Run the benchmarks and write ``bench/results.md``, ``bench/results.json`` and the plots.

``python -m bench`` runs everything (what ``make bench`` does); ``--only server,fanout,client,
generator`` runs a subset; ``--quick`` runs fewer rounds (for trying changes, not for quoting).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import plots
from bench.client_bench import client_rates, decode_rates
from bench.feed import TICK_FIELDS, build_package, frame, tick_json
from bench.generator_bench import generator_times
from bench.procs import raise_fd_limit
from bench.report import GENERATOR_TARGET_SECONDS, render
from bench.serve import UVICORN_SETTINGS
from bench.server_bench import fan_out, single_stream
from bench.stats import machine_info

HERE = Path(__file__).resolve().parent
PARTS = ("server", "fanout", "client", "generator")


def _uvicorn_impl() -> str:
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"loop={loop}, http={http}"


def run(parts: tuple[str, ...], quick: bool) -> dict[str, Any]:
    """Every selected measurement, in one process, one after the other."""
    started = time.perf_counter()
    raise_fd_limit()
    results: dict[str, Any] = {"machine": machine_info()}
    meta: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "payload": tick_json().decode(),
        "payload_bytes": len(tick_json()),
        "frame_bytes": len(frame()),
        "tick": TICK_FIELDS,
        "uvicorn": ", ".join(f"{k}={v!r}" for k, v in UVICORN_SETTINGS.items()),
        "uvicorn_impl": _uvicorn_impl(),
        "stream_seconds": 0.5 if quick else 1.0,
        "fanout_window": 3.0 if quick else 4.0,
        "fanout_settle": 1.0,
        "quick": quick,
    }
    results["meta"] = meta
    with tempfile.TemporaryDirectory(prefix="roccogen-bench-pkg-") as tmp:
        root = build_package(Path(tmp))
        durations: dict[str, float] = {}
        meta["durations"] = durations
        mark = time.perf_counter()
        if "server" in parts:
            print("1. server, one stream")
            results["single_stream"] = single_stream(
                root, rounds=3 if quick else 7, seconds=meta["stream_seconds"]
            )
            results["single_stream_paced"] = single_stream(
                root, rounds=3, seconds=meta["stream_seconds"], mode="paced"
            )
            durations["server, one stream"] = time.perf_counter() - mark
            mark = time.perf_counter()
        if "client" in parts:
            print("3. client")
            results["client"] = client_rates(
                root, rounds=3 if quick else 7, events=50_000 if quick else 150_000
            )
            results["decode"] = decode_rates(
                root, rounds=3 if quick else 7, events=50_000 if quick else 100_000
            )
            durations["client"] = time.perf_counter() - mark
            mark = time.perf_counter()
        if "fanout" in parts:
            print("2. server fan-out")
            results["fan_out"] = fan_out(
                root,
                # Small trials are cheap and their ratio is the noisier: more rounds.
                sizes={1000: 1, 5000: 1} if quick else {1000: 5, 5000: 3},
                window=meta["fanout_window"],
                settle=meta["fanout_settle"],
            )
            durations["fan-out"] = time.perf_counter() - mark
    if "generator" in parts:
        print("4. generator")
        sizes = {10: 1, 100: 1} if quick else {10: 3, 100: 3, 1000: 1}
        mark = time.perf_counter()
        results["generator"] = generator_times(sizes)
        meta["durations"]["generator"] = time.perf_counter() - mark
    meta["seconds"] = time.perf_counter() - started
    return results


def write(results: dict[str, Any], out: Path) -> None:
    """results.json, results.md and the PNG plots into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    plots.events_plot(results, out / "events_per_second.png")
    plots.fanout_plot(results, out / "fan_out.png")
    plots.generator_plot(results, out / "generator_time.png", GENERATOR_TARGET_SECONDS)
    (out / "results.md").write_text(render(results), encoding="utf-8")


def main() -> None:
    """Parse arguments, run, write."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated subset of {PARTS}"
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds; not for quoting")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.md and plots go")
    parser.add_argument(
        "--render", action="store_true", help="only rewrite results.md and plots from results.json"
    )
    args = parser.parse_args()
    if args.render:
        write(json.loads((args.out / "results.json").read_text(encoding="utf-8")), args.out)
        return
    parts = tuple(p.strip() for p in args.only.split(",") if p.strip())
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {sorted(unknown)}")
    results = run(parts, args.quick)
    write(results, args.out)
    print(f"wrote {args.out / 'results.md'} in {results['meta']['seconds']:.0f} s")


if __name__ == "__main__":
    main()
