"""Generator measurement: wall time of ``build_spec`` + writing, by stage, for synthesized specs.

Stages are timed by wrapping the pipeline's own functions for the duration of a run: loading and
IR building, each backend (models, server, client, OpenAPI), black formatting and writing. The
wrappers add a few microseconds per call and nothing else.
"""

from __future__ import annotations

import contextlib
import itertools
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
STAGES = ("load + IR", "models", "server", "client", "openapi", "format", "write", "other")


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
        saved = {name: getattr(pipeline, name) for name in ("load_api", "BACKENDS", "format_python")}
        names = ("models", "server", "client", "openapi")
        setattr(pipeline, "load_api", self.wrap("load + IR", saved["load_api"]))  # noqa: B010
        setattr(  # noqa: B010
            pipeline,
            "BACKENDS",
            tuple(self.wrap(n, fn) for n, fn in zip(names, saved["BACKENDS"], strict=True)),
        )
        setattr(pipeline, "format_python", self.wrap("format", saved["format_python"]))  # noqa: B010
        try:
            yield self
        finally:
            for name, value in saved.items():
                setattr(pipeline, name, value)


def generate_once(spec: Path, out_dir: Path) -> dict[str, float]:
    """One full generation (build + write) with its stage times; ``total`` is the wall time."""
    clock = StageClock()
    with clock.installed():
        start = time.perf_counter()
        result = pipeline.build_spec(spec)
        if not result.ok:
            raise RuntimeError("\n".join(str(d) for d in result.diagnostics))
        clock.wrap("write", write_files)(out_dir, result.files)
        total = time.perf_counter() - start
    stages = {s: clock.seconds.get(s, 0.0) for s in STAGES if s != "other"}
    stages["other"] = max(0.0, total - sum(stages.values()))
    stages["total"] = total
    stages["output_bytes"] = float(sum(len(t.encode()) for t in result.files.values()))
    return stages


def generator_times(sizes: dict[int, int]) -> dict[str, Any]:
    """Measurement 4: ``sizes`` maps endpoint count → repetitions."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="roccogen-bench-") as tmp:
        for n, reps in sizes.items():
            spec = Path(tmp) / f"synth{n}.yaml"
            spec.write_text(synth_spec(n), encoding="utf-8")
            runs = []
            for rep in range(reps):
                runs.append(generate_once(spec, Path(tmp) / f"out{n}-{rep}"))
                print(
                    f"  generator {n:>5} endpoints  run {rep + 1}/{reps}  {runs[-1]['total']:7.2f} s"
                    f"  (format {runs[-1]['format']:.2f} s)"
                )
            totals = [r["total"] for r in runs]
            median_run = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
            out[str(n)] = {
                "total": Summary.of(totals).as_dict(),
                "per_endpoint_ms": 1000 * Summary.of(totals).median / n,
                "format_share": Summary.of([r["format"] / r["total"] for r in runs]).as_dict(),
                "stages": {s: median_run[s] for s in STAGES},
                "output_mb": median_run["output_bytes"] / 1e6,
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
