"""Same spec → byte-identical output, whatever the hash seed, working directory or locale."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from conftest import SPECS, spec_files


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
    }


def test_builds_are_byte_identical_across_processes(tmp_path):
    specs = [str(p) for p in spec_files()]
    digests = []
    for i, (seed, lang) in enumerate([("0", "C.UTF-8"), ("12345", "en_US.UTF-8"), ("random", "C")]):
        out = tmp_path / f"run{i}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "LANG": lang, "LC_ALL": lang, "CI": "1"}
        proc = subprocess.run(
            [sys.executable, "-m", "roccogen", "build", *specs, "-o", str(out)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        digests.append(_digest(out))
    assert digests[0] == digests[1] == digests[2]


def test_output_is_lf_utf8_without_timestamps_or_versions(tmp_path):
    from roccogen import __version__
    from roccogen.pipeline import build_spec

    result = build_spec(SPECS / "jobs.yaml")
    for rel, text in result.files.items():
        assert "\r" not in text, rel
        text.encode("utf-8")
        assert __version__ not in text.splitlines()[0] if text else True
        assert "timestamp" not in text.lower(), rel
