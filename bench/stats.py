"""Medians, spreads and paired ratios of repeated measurements, and the machine they ran on."""

from __future__ import annotations

import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata

import psutil


@dataclass(frozen=True)
class Summary:
    """Median and full range (min–max) of repeated samples."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        """Summarize ``samples`` (at least one)."""
        if not samples:
            raise ValueError("no samples")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def as_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return asdict(self)

    def spread_pct(self) -> float:
        """Half the range, as a percentage of the median."""
        return 50.0 * (self.high - self.low) / self.median if self.median else 0.0


def paired_ratios(ours: Sequence[float], peer: Sequence[float]) -> list[float]:
    """Per-round ratios ``ours[i] / peer[i]``: each round measured both back to back."""
    if len(ours) != len(peer):
        raise ValueError("unpaired samples")
    return [a / b for a, b in zip(ours, peer, strict=True) if b]


def fmt_ratio(s: Summary, digits: int = 2) -> str:
    """``1.62× (1.55–1.70)``."""
    return f"{s.median:.{digits}f}× ({s.low:.{digits}f}–{s.high:.{digits}f})"


def fmt_num(value: float, digits: int = 0) -> str:
    """``123,456`` style numbers."""
    return f"{value:,.{digits}f}"


def fmt_summary(s: Summary, digits: int = 0, unit: str = "") -> str:
    """``98,000 (95,100–99,800)``."""
    return f"{fmt_num(s.median, digits)}{unit} ({fmt_num(s.low, digits)}–{fmt_num(s.high, digits)})"


LIBRARIES = (
    "starlette",
    "uvicorn",
    "h11",
    "httptools",
    "uvloop",
    "sse-starlette",
    "httpx",
    "httpx-sse",
    "pydantic",
    "pydantic-core",
    "black",
    "datamodel-code-generator",
    "anyio",
)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _dirty_generator_files() -> str:
    """Uncommitted changes in what the benchmark exercises (the run uses the working tree)."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", "roccogen", "templates"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    files = [line[3:] for line in out.stdout.splitlines() if line.strip()]
    if not files:
        return "clean"
    return f"{len(files)} uncommitted: " + ", ".join(files[:8]) + (" …" if len(files) > 8 else "")


def machine_info() -> dict[str, str]:
    """CPU, cores, memory, OS, Python and the versions of every library in the comparison."""
    info = {
        "cpu": _cpu_model(),
        "cores": f"{psutil.cpu_count(logical=True)} logical / {psutil.cpu_count(logical=False)} physical",
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load average at start": " ".join(f"{x:.2f}" for x in psutil.getloadavg()),
        "commit": _git_commit(),
        "roccogen/ and templates/ at run time": _dirty_generator_files(),
    }
    for lib in LIBRARIES:
        info[lib] = _version(lib)
    return info
