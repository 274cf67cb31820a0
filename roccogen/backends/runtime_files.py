"""The runtime modules both backends copy verbatim into every generated package."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import PurePosixPath


def runtime_sources(names: Mapping[str, str]) -> dict[PurePosixPath, str]:
    """``{module in roccogen/runtime: name in the package}`` → the modules' text, verbatim."""
    root = resources.files("roccogen.runtime")
    return {PurePosixPath(target): (root / source).read_text(encoding="utf-8") for source, target in names.items()}
