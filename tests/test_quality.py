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
