"""Generated examples pass mypy --strict and ruff; roccogen itself passes mypy --strict."""

from __future__ import annotations

import subprocess
import sys

from conftest import EXAMPLES, ROOT


def _packages() -> list[str]:
    return sorted(p.name for p in EXAMPLES.iterdir() if (p / "__init__.py").is_file())


def test_generated_examples_pass_mypy_strict():
    args = [a for p in _packages() for a in ("-p", p)]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null", *args],
        cwd=EXAMPLES, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generated_examples_pass_ruff():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "."],
        cwd=EXAMPLES, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_roccogen_passes_mypy_strict():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null", "-p", "roccogen"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_numbered_names_pass_ruff_and_mypy(tmp_path):
    """Names with numbers (Tick2, Tick10) sort the way ruff wants, in imports and __all__."""
    sys.path.insert(0, str(ROOT / "bench"))
    from synth import synth_spec

    from conftest import build_package

    spec = tmp_path / "numbered.yaml"
    spec.write_text(synth_spec(12), encoding="utf-8")
    out = tmp_path / "out"
    package = build_package(spec, out)
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "."],
        cwd=out, capture_output=True, text=True, timeout=300,
    )
    assert lint.returncode == 0, lint.stdout
    types = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null", "-p", package],
        cwd=out, capture_output=True, text=True, timeout=600,
    )
    assert types.returncode == 0, types.stdout
