"""Generator measurement: wall time of ``build_spec`` + writing, by stage, for synthesized specs.

Cold builds (an empty black cache, as a first build) are what the target is judged on; warm
rebuilds (the cache of a previous build) are reported beside them.

Stages are timed by wrapping the pipeline's own functions for the duration of a run: loading and
IR building, each backend (models, server, client, OpenAPI), black formatting and writing. The
wrappers add a few microseconds per call and nothing else.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from bench.stats import Summary
from bench.synth import synth_spec
from roccogen import pipeline
from roccogen.output import write_files

F = TypeVar("F", bound=Callable[..., Any])
ROOT = Path(__file__).resolve().parent.parent
EDITED_UP_TO = 100  # endpoints: largest spec also rebuilt after a one-endpoint edit
STAGES = (
    "startup",
    "load + IR",
    "models",
    "server",
    "client",
    "openapi",
    "format",
    "write",
    "other",
)
CACHE_ENV = "ROCCOGEN_CACHE_DIR"  # the generator caches black's output per piece here


class StageClock:
    """Seconds spent per stage while installed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, stage: str, fn: F) -> F:
        """``fn``, timed into ``stage``."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start

        return timed  # type: ignore[return-value]

    @contextlib.contextmanager
    def installed(self) -> Iterator[StageClock]:
        """Patch the pipeline's stage functions with timed ones; restore them after."""
        # setattr: the pipeline calls these through its module globals, which is what we time.
        saved = {n: getattr(pipeline, n) for n in ("load_api", "BACKENDS", "format_modules")}
        names = ("models", "server", "client", "openapi")
        setattr(pipeline, "load_api", self.wrap("load + IR", saved["load_api"]))  # noqa: B010
        setattr(  # noqa: B010
            pipeline,
            "BACKENDS",
            tuple(self.wrap(n, fn) for n, fn in zip(names, saved["BACKENDS"], strict=True)),
        )
        setattr(pipeline, "format_modules", self.wrap("format", saved["format_modules"]))  # noqa: B010
        try:
            yield self
        finally:
            for name, value in saved.items():
                setattr(pipeline, name, value)


@contextlib.contextmanager
def format_cache(directory: Path) -> Iterator[None]:
    """Point the generator's on-disk black cache at ``directory`` for the duration."""
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(directory)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = before


def generate_once(spec: Path, out_dir: Path, *, parallel: bool = True) -> dict[str, float]:
    """One full generation (build + write) with its stage times; ``total`` is the wall time.

    A parallel build generates the models in a forked process, out of this clock's sight (its
    wait shows as ``other``); a serial build times every stage.
    """
    clock = StageClock()
    with clock.installed():
        start = time.perf_counter()
        result = pipeline.build_spec(spec, parallel=parallel)
        if not result.ok:
            raise RuntimeError("\n".join(str(d) for d in result.diagnostics))
        clock.wrap("write", write_files)(out_dir, result.files)
        total = time.perf_counter() - start
    stages = {s: clock.seconds.get(s, 0.0) for s in STAGES if s not in ("other", "startup")}
    stages["other"] = max(0.0, total - sum(stages.values()))
    stages["total"] = total
    stages["output_bytes"] = float(sum(len(t.encode()) for t in result.files.values()))
    return stages


def _edit_one_endpoint(spec_text: str) -> str:
    """The same spec with one endpoint's summary changed (an incremental rebuild)."""
    edited = spec_text.replace(
        "summary: Stream number 0\n", "summary: Stream number 0, edited\n", 1
    )
    if edited == spec_text:
        raise RuntimeError("the synthesized spec no longer has the summary this edit expects")
    return edited


def build_in_fresh_process(
    spec: Path, out_dir: Path, cache: Path, *, serial: bool = False
) -> dict[str, float]:
    """A build as ``roccogen build`` runs it: a new interpreter (imports, black's warm-up).

    ``total`` is the wall time of the whole process; ``startup`` is what it spent outside the
    build itself (interpreter start, imports, exit). ``serial`` times every stage instead.
    """
    cmd = [sys.executable, "-m", "bench.generator_bench", str(spec), str(out_dir), str(cache)]
    cmd += ["--serial"] if serial else []
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    stages: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    stages["startup"] = max(0.0, wall - stages["total"])
    stages["total"] = wall
    return stages


def generator_times(sizes: dict[int, int]) -> dict[str, Any]:
    """Measurement 4: ``sizes`` maps endpoint count → repetitions of a cold build.

    Every build runs in a fresh process. Each cold build gets an empty format cache. After them,
    two warm builds reuse the last cold build's cache: the same spec again, and the spec with one
    endpoint edited.
    """
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="roccogen-bench-") as tmp:
        for n, reps in sizes.items():
            spec = Path(tmp) / f"synth{n}.yaml"
            text = synth_spec(n)
            spec.write_text(text, encoding="utf-8")
            runs = []
            cache = Path(tmp) / f"cache{n}"
            for rep in range(reps):
                cache = Path(tmp) / f"cache{n}-{rep}"
                runs.append(build_in_fresh_process(spec, Path(tmp) / f"out{n}-{rep}", cache))
                print(
                    f"  generator {n:>5} endpoints  cold run {rep + 1}/{reps}  "
                    f"{runs[-1]['total']:7.2f} s  (format {runs[-1]['format']:.2f} s)"
                )
            serial = build_in_fresh_process(
                spec, Path(tmp) / f"out{n}-serial", Path(tmp) / f"cache{n}-serial", serial=True
            )
            warm = build_in_fresh_process(spec, Path(tmp) / f"out{n}-warm", cache)
            edited: dict[str, float] | None = None
            if n <= EDITED_UP_TO:  # beyond, it costs most of a cold build and tells no more
                spec.write_text(_edit_one_endpoint(text), encoding="utf-8")
                edited = build_in_fresh_process(spec, Path(tmp) / f"out{n}-edited", cache)
            print(
                f"  generator {n:>5} endpoints  warm cache: unchanged {warm['total']:.2f} s, "
                f"one endpoint edited {edited['total'] if edited else float('nan'):.2f} s"
            )
            totals = [r["total"] for r in runs]
            median_run = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
            out[str(n)] = {
                "total": Summary.of(totals).as_dict(),
                "per_endpoint_ms": 1000 * Summary.of(totals).median / n,
                "format_share": Summary.of([serial["format"] / serial["total"]]).as_dict(),
                "stages": {s: serial[s] for s in STAGES},
                "serial_total": serial["total"],
                "output_mb": median_run["output_bytes"] / 1e6,
                "warm_unchanged": warm,
                "warm_one_edited": edited,
                "runs": runs,
            }
    keys = sorted(out, key=int)
    growth = {}
    for small, large in itertools.pairwise(keys):
        factor = int(large) / int(small)
        growth[f"{small}→{large}"] = (
            out[large]["total"]["median"] / out[small]["total"]["median"] / factor
        )
    # 1.0 means linear; above 1 means each endpoint costs more in a larger spec.
    return {"sizes": out, "growth_vs_linear": growth}


def main() -> None:
    """``python -m bench.generator_bench SPEC OUT_DIR CACHE_DIR [--serial]``: one timed build, JSON out."""
    spec, out_dir, cache = (Path(a) for a in sys.argv[1:4])
    with format_cache(cache):
        stages = generate_once(spec, out_dir, parallel="--serial" not in sys.argv[4:])
    print(json.dumps(stages))


if __name__ == "__main__":
    main()
