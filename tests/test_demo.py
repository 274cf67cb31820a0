"""The README's main job: generate the Prices package, serve it, read it with the client."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def test_readme_demo_runs(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "CI": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "roccogen", "build", "specs/prices.yaml", "-o", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 0, build.stderr
    demo = subprocess.run(
        [sys.executable, "examples/demo.py", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    lines = demo.stdout.splitlines()
    assert "HTTP 200  content-type: text/event-stream; charset=utf-8" in lines
    assert sum(line.strip().startswith("message  ACME") for line in lines) == 4
    assert sum(line.strip().startswith("volume   ACME") for line in lines) == 4
    assert lines[-1] == "done: stream closed, server stopped"


def test_example_service_type_checks_against_generated_code(tmp_path):
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "roccogen", "build", "specs/prices.yaml", "-o", str(out)],
        cwd=ROOT, check=True, capture_output=True, timeout=120,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null",
         str(ROOT / "examples" / "prices_service.py")],
        cwd=tmp_path, env={**os.environ, "MYPYPATH": str(out)}, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
