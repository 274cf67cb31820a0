"""Specs that must fail, each with its committed diagnostics (tests/spec_cases/<case>/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from roccogen.pipeline import build_spec

CASES = Path(__file__).parent / "spec_cases"
UPDATE_ENV = "ROCCOGEN_UPDATE_CASES"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "spec.yaml").is_file())


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_case_diagnostics(case, monkeypatch):
    monkeypatch.chdir(CASES)
    result = build_spec(Path(case.name) / "spec.yaml")
    got = "".join(d.format() + "\n" for d in result.diagnostics)
    expected_file = case / "stderr.txt"
    if os.environ.get(UPDATE_ENV):
        expected_file.write_text(got, encoding="utf-8")
    assert not result.ok and not result.files, "a bad spec must produce errors and no files"
    assert expected_file.is_file(), f"no stderr.txt; create it with: {UPDATE_ENV}=1 pytest tests/test_spec_cases.py"
    assert got == expected_file.read_text(encoding="utf-8"), (
        f"diagnostics changed; if intended, update with: {UPDATE_ENV}=1 pytest tests/test_spec_cases.py"
    )


def test_every_diagnostic_has_position_and_code():
    for case in _cases():
        result = build_spec(case / "spec.yaml")
        for d in result.diagnostics:
            assert d.line >= 1 and d.column >= 1 and d.code.startswith("RG"), d


def test_every_code_is_documented():
    from roccogen.diagnostics import CODES

    doc = (Path(__file__).parent.parent / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code, meaning in CODES.items():
        assert f"| {code} | {meaning} |" in doc, f"docs/diagnostics.md lacks {code}"
