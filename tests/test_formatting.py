"""Formatting in parallel pieces gives exactly what black gives on the whole file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import ROOT, spec_files

from roccogen.formatting import format_in_pieces, format_python, sort_imports
from roccogen.pipeline import build_spec

sys.path.insert(0, str(ROOT / "bench"))
from synth import synth_spec


def _python_files(spec: Path) -> dict[str, str]:
    result = build_spec(spec)
    assert result.ok, [d.format() for d in result.diagnostics]
    return {str(k): v for k, v in result.files.items() if k.suffix == ".py"}


@pytest.mark.parametrize("spec", spec_files(), ids=lambda p: p.name)
def test_pieces_equal_whole_file_for_examples(spec):
    for name, text in _python_files(spec).items():
        source = sort_imports(text)
        assert format_in_pieces(source, 256) == text, name


def test_pieces_equal_whole_file_for_a_large_spec(tmp_path):
    spec = tmp_path / "synth.yaml"
    spec.write_text(synth_spec(60), encoding="utf-8")
    for name, text in _python_files(spec).items():
        assert format_python(text, chunk_bytes=4096) == text, name


def test_sort_imports_orders_sections_like_isort():
    source = "from pydantic import Field, BaseModel\nimport json\nfrom __future__ import annotations\nfrom . import models\nfrom typing import Any, TYPE_CHECKING\nx = 1\n"
    assert sort_imports(source) == (
        "from __future__ import annotations\n\nimport json\nfrom typing import TYPE_CHECKING, Any\n\n"
        "from pydantic import BaseModel, Field\n\nfrom . import models\nx = 1\n"
    )


def test_runtime_modules_are_already_formatted():
    """The pipeline copies runtime modules without formatting them; they must be black-clean."""
    from roccogen.backends.models import HEADER
    from roccogen.pipeline import VERBATIM

    runtime = ROOT / "roccogen" / "runtime"
    sources = {p.name: p for p in runtime.glob("*.py") if p.name != "__init__.py"}
    assert len(VERBATIM) == len(sources)
    for path in sources.values():
        text = f"{HEADER}\n{path.read_text(encoding='utf-8')}"
        assert format_python(text) == text, f"{path.name} is not black-clean; run black on it"
