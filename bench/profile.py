"""Profiles behind the proposals in docs/benchmarks.md: ``python -m bench.profile`` (make bench-profile).

Writes text summaries to ``bench/profiles/``:
- ``generator-<n>.txt``: pyinstrument of one ``build_spec`` of a synthesized spec;
- ``client.txt``: cProfile of the generated client consuming a fast stream;
- ``fanout-<app>.txt``: py-spy samples of a server under 5,000 idle-ish connections (needs
  ``py-spy`` and root);
- ``burst-<app>.txt``, ``paced-<app>.txt``: py-spy samples of a server streaming one stream as
  fast as a client reads (tight loop; one event per loop iteration).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.client_bench import RUNNERS
from bench.collapsed import top
from bench.feed import build_package
from bench.loadgen import read_stream
from bench.procs import ServerProcess, raise_fd_limit
from bench.server_bench import _expect, _send
from bench.synth import synth_spec

OUT = Path(__file__).resolve().parent / "profiles"


def profile_generator(n: int) -> str:
    """pyinstrument text of building an ``n``-endpoint spec."""
    from pyinstrument import Profiler

    from roccogen.pipeline import build_spec

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / f"synth{n}.yaml"
        spec.write_text(synth_spec(n), encoding="utf-8")
        profiler = Profiler(interval=0.002)
        profiler.start()
        build_spec(spec)
        profiler.stop()
    text: str = profiler.output_text(unicode=True, color=False, show_all=False)
    return text


def profile_client(root: Path, events: int = 100_000) -> str:
    """cProfile (by own time) of the generated client reading ``events`` events."""
    with ServerProcess("starlette", "firehose", root) as server:
        RUNNERS["generated"](server.url, events // 10, root)
        profiler = cProfile.Profile()
        profiler.enable()
        RUNNERS["generated"](server.url, events, root)
        profiler.disable()
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(30)
    return buf.getvalue()


def _py_spy(pid: int, seconds: float, out: Path) -> None:
    subprocess.run(
        [
            "py-spy",
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds)),
            "-r",
            "250",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        check=True,
        capture_output=True,
    )


def profile_fanout(root: Path, app: str, connections: int = 5000, seconds: float = 6) -> str:
    """py-spy summary of ``app`` serving ``connections`` streams at 1 event/s."""
    with ServerProcess(app, "ticker", root) as server, tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "bench.loadgen", str(server.port), str(connections)]
        load = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert load.stdin is not None and load.stdout is not None
        try:
            _expect(load.stdout, "warm")
            _send(load.stdin, "go")
            _expect(load.stdout, "connected")
            time.sleep(1.5)
            assert server.ps is not None
            raw = Path(tmp) / "raw.txt"
            _py_spy(server.ps.pid, seconds, raw)
            _send(load.stdin, "stop")
            load.stdout.readline()
        finally:
            load.kill()
            load.wait()
        return top(raw, 30)


def profile_single(root: Path, app: str, mode: str = "burst", seconds: float = 4) -> str:
    """py-spy summary of ``app`` streaming one fast stream (``mode``) for about ``seconds``."""
    with ServerProcess(app, mode, root) as server, tempfile.TemporaryDirectory() as tmp:
        rate = read_stream(server.port, 20_000).rate
        n = int(rate * (seconds + 2))
        reader = threading.Thread(target=read_stream, args=(server.port, n))
        reader.start()
        time.sleep(0.5)
        assert server.ps is not None
        raw = Path(tmp) / "raw.txt"
        _py_spy(server.ps.pid, seconds, raw)
        reader.join()
        return top(raw, 30)


def main() -> None:
    """Run the selected profiles and write their summaries."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--only", default="generator,client,fanout,single")
    parser.add_argument("--endpoints", type=int, default=100)
    args = parser.parse_args()
    parts = set(args.only.split(","))
    raise_fd_limit()
    OUT.mkdir(exist_ok=True)
    if "generator" in parts:
        (OUT / f"generator-{args.endpoints}.txt").write_text(profile_generator(args.endpoints))
    with tempfile.TemporaryDirectory() as tmp:
        root = build_package(Path(tmp))
        if "client" in parts:
            (OUT / "client.txt").write_text(profile_client(root))
        has_spy = shutil.which("py-spy") is not None
        for app in ("generated", "sse_starlette"):
            if "fanout" in parts and has_spy:
                (OUT / f"fanout-{app}.txt").write_text(profile_fanout(root, app))
            if "single" in parts and has_spy:
                for mode in ("burst", "paced"):
                    (OUT / f"{mode}-{app}.txt").write_text(profile_single(root, app, mode))
    print(f"wrote profiles to {OUT}")


if __name__ == "__main__":
    main()
