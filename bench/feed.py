"""The benchmark's generated package (``bench/specs/feed.yaml``), its payload and its wire frames.

Every server in the comparison sends the same event: ``event: tick`` with one ~64-byte JSON
``Tick``. The generated package is built fresh by each run into a scratch directory and imported
from there, exactly as a user would import the package ``roccogen build`` wrote.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from roccogen.output import write_files
from roccogen.pipeline import build_spec

SPEC = Path(__file__).with_name("specs") / "feed.yaml"
PACKAGE = "feed"
PATH = "/ticks"
EVENT = "tick"
TICK_FIELDS: dict[str, Any] = {
    "symbol": "ACME",
    "price": 187.25,
    "size": 300,
    "seq": 4096,
    "venue": "XNYS",
}


def build_package(out_dir: Path) -> Path:
    """Generate the feed package into ``out_dir``; return the directory to put on ``sys.path``."""
    result = build_spec(SPEC)
    if not result.ok:
        problems = "\n".join(str(d) for d in result.diagnostics)
        raise RuntimeError(f"the benchmark spec does not build:\n{problems}")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_files(out_dir, result.files)
    return out_dir


def import_generated(root: Path, module: str) -> ModuleType:
    """``feed.<module>`` from the package generated under ``root``."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"{PACKAGE}.{module}")


def tick_json() -> bytes:
    """The payload as every server puts it on the wire (pydantic's compact JSON)."""
    from pydantic import BaseModel

    class Tick(BaseModel):
        symbol: str
        price: float
        size: int
        seq: int
        venue: str | None = None

    return Tick(**TICK_FIELDS).model_dump_json().encode()


def frame() -> bytes:
    """One pre-encoded event frame, LF line ends (what the generated server writes)."""
    return b"event: " + EVENT.encode() + b"\ndata: " + tick_json() + b"\n\n"
