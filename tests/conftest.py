"""Shared test helpers: building generated packages from specs and importing them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from roccogen.output import write_files
from roccogen.pipeline import build_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
EXAMPLES = ROOT / "generated_examples"


def spec_files() -> list[Path]:
    """Every spec in specs/, found by directory."""
    return sorted(p for p in SPECS.iterdir() if p.suffix in {".yaml", ".yml", ".json"})


def build_package(spec: Path, out_dir: Path) -> str:
    """Generate ``spec`` into ``out_dir`` and return the package name; fails the test on errors."""
    result = build_spec(spec)
    problems = "\n".join(d.format() for d in result.diagnostics if d.level == "error")
    assert result.ok and result.api is not None, problems
    write_files(out_dir, result.files)
    return result.api.package


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[object]:
    """``generated(spec)`` → the generated package imported from a fresh directory."""
    added: list[str] = []

    def load(spec: Path | str) -> object:
        path = spec if isinstance(spec, Path) else SPECS / spec
        out = tmp_path / f"gen_{path.stem.replace('.', '_')}"
        package = build_package(path, out)
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
        sys.path.insert(0, str(out))
        added.append(str(out))
        return importlib.import_module(package)

    yield load
    for entry in added:
        if entry in sys.path:
            sys.path.remove(entry)
