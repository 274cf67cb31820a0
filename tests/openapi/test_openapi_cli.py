"""`roccogen openapi SPEC -o FILE` writes the document the generated server serves; it reads back."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import EXAMPLES, SPECS
from typer.testing import CliRunner

from roccogen.cli import app
from roccogen.openapi.writer import build_openapi
from roccogen.pipeline import load_api


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_openapi_command_writes_a_document_that_reads_back(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"prices.openapi{suffix}"
    result = CliRunner().invoke(app, ["openapi", str(SPECS / "prices.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    native, _ = load_api(SPECS / "prices.yaml")
    again, diagnostics = load_api(out)
    assert native is not None and again is not None, [d.format() for d in diagnostics]
    assert diagnostics == []
    assert replace(again, source=native.source) == native


def test_generated_package_serves_the_same_document() -> None:
    for package in ("prices", "jobs", "chat"):
        served = json.loads((EXAMPLES / package / "openapi.json").read_text(encoding="utf-8"))
        spec = next(p for p in SPECS.iterdir() if p.name.split(".")[0] == package)
        api, _ = load_api(spec)
        assert api is not None
        assert served == build_openapi(api)
