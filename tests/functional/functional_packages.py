"""Generated packages for the functional tests (client, server and models of one spec)."""

from __future__ import annotations

import sys
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "client"))
from sse_live import load_generated, submodule


@cache
def package(spec: str) -> dict[str, ModuleType]:
    """client, server and models of the package generated from ``specs/<spec>``."""
    root = load_generated(spec, Path(tempfile.mkdtemp(prefix="roccogen-functional-")), "fnt_")
    return {name: submodule(root, name) for name in ("client", "server", "models")}


def quick(client_module: ModuleType) -> Any:
    """Fast reconnection that ignores the spec's multi-second retry hint."""
    return client_module.ReconnectPolicy(
        initial_delay=0.01, max_delay=0.05, honour_server_retry=False, max_attempts=10
    )
