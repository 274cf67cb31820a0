"""Formatting: black runs only where it would change something, and the result is black's.

The pipeline skips black for units of template output written in black's layout. These tests hold
it to the contract that matters: black leaves every generated module exactly as it is.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

import pytest
from conftest import ROOT, spec_files

from roccogen.backends.models import render_models
from roccogen.formatting import _units, format_modules, format_python, sort_imports
from roccogen.pipeline import build_spec, load_api

sys.path.insert(0, str(ROOT / "bench"))
from synth import synth_spec

TESTS = ROOT / "tests"
CORPUS = [
    *spec_files(),
    *sorted((TESTS / "server" / "specs").glob("*.yaml")),
    TESTS / "hostile" / "hostile.yaml",
    TESTS / "formatting" / "long_names.yaml",
]


def _python_files(spec: Path) -> dict[str, str]:
    result = build_spec(spec)
    assert result.ok, [d.format() for d in result.diagnostics]
    runtime = {k for k in result.files if k.name.startswith("_") and k.name != "__init__.py"}
    return {str(k): v for k, v in result.files.items() if k.suffix == ".py" and k not in runtime}


@pytest.fixture(scope="module")
def synth_spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = tmp_path_factory.mktemp("synth") / "synth.yaml"
    spec.write_text(synth_spec(60), encoding="utf-8")
    return spec


@pytest.mark.parametrize("spec", CORPUS, ids=lambda p: p.name)
def test_generated_modules_are_what_black_makes_of_them(spec: Path) -> None:
    files = _python_files(spec)
    assert {"server.py", "client.py", "models.py", "__init__.py"} <= {Path(n).name for n in files}
    for name, text in files.items():
        assert format_python(text) == text, f"{name}: black would still change it"


def test_a_large_spec_is_black_clean_without_running_black(
    synth_spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roccogen import formatting

    asked: list[str] = []
    real = formatting._format_all

    def spy(pieces: list[str]) -> dict[str, str | None]:
        asked.extend(pieces)
        return real(pieces)

    monkeypatch.setattr(formatting, "_format_all", spy)
    files = _python_files(synth_spec_file)
    assert sum(map(len, files.values())) > 500_000
    assert asked == []
    for name, text in files.items():
        assert format_python(text) == text, name


@pytest.mark.parametrize("spec", [*CORPUS, None], ids=lambda p: p.name if p else "synth")
def test_models_skip_black_only_where_black_agrees(spec: Path | None, synth_spec_file: Path) -> None:
    api, diagnostics = load_api(spec or synth_spec_file)
    assert api is not None, diagnostics
    raw = render_models(api)[PurePosixPath("models.py")]
    fast = format_modules({"models.py": raw}, foreign=frozenset({"models.py"}))["models.py"]
    assert fast == format_python(sort_imports(raw))


def test_long_lines_are_left_to_black() -> None:
    source = (
        "class A:\n"
        '    """Doc."""\n'
        "\n"
        "    def short(self) -> None:\n"
        "        pass\n"
        "\n"
        "    def long(self) -> None:\n"
        f"        call({', '.join(f'argument_{i}' for i in range(12))})\n"
        "\n"
        "\n"
        f"VALUE = [{', '.join(str(i) for i in range(40))}]\n"
    )
    units = _units(source)
    assert [u.needs_black for u in units] == [False, False, True, True]
    out = format_modules({"m": source})["m"]
    assert out == format_python(source) != source


def test_escapes_tabs_and_trailing_spaces_are_left_to_black() -> None:
    for source in ("import os\n\nX = 'a\\'b'\n", "import os\n\nX = 1  \n", 'def f():\n    """\ttab."""\n'):
        out = format_modules({"m": source})["m"]
        assert out == format_python(source) != source, source


def test_a_cut_inside_a_string_falls_back_to_black_on_the_whole_module() -> None:
    long_text = " ".join(["word"] * 30)
    source = (
        f'"""Module.\n\nclass NotCode {long_text}\n"""\n\nX = 1\n\n'
        f"Y = '''\n\ndef inside_a_string(): {long_text}\n'''\n"
    )
    assert format_modules({"m": source})["m"] == format_python(source)


def test_many_units_needing_black_are_formatted_in_parallel() -> None:
    classes = "".join(
        f"class C{i}:\n    def f(self) -> None:\n        g({', '.join(f'a_{i}_{j}' for j in range(14))})\n\n\n"
        for i in range(900)
    )
    source = "from __future__ import annotations\n\n\n" + classes.rstrip("\n") + "\n"
    assert len(source) > 96 * 1024
    assert format_modules({"m": source})["m"] == format_python(source)


def test_sort_imports_orders_sections_like_isort():
    source = "from pydantic import Field, BaseModel\nimport json\nfrom __future__ import annotations\nfrom . import models\nfrom typing import Any, TYPE_CHECKING\nx = 1\n"
    assert sort_imports(source) == (
        "from __future__ import annotations\n\nimport json\nfrom typing import TYPE_CHECKING, Any\n\n"
        "from pydantic import BaseModel, Field\n\nfrom . import models\nx = 1\n"
    )


def test_sort_imports_splits_a_long_import_as_black_does():
    names = [f"Name{i}" for i in range(20)]
    source = f"from .models import {', '.join(names)}\n\nx = 1\n"
    out = sort_imports(source)
    assert out.startswith("from .models import (\n    Name0,\n    Name1,\n    Name2,\n")
    assert format_python(out) == out


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


def test_models_made_in_a_forked_process_are_the_same(synth_spec_file: Path) -> None:
    api, _ = load_api(synth_spec_file)
    assert api is not None and len(api.models) >= 100  # enough for the forked path
    assert build_spec(synth_spec_file).files == build_spec(synth_spec_file, parallel=False).files


def test_a_model_failure_in_the_forked_process_is_a_diagnostic(
    synth_spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roccogen import pipeline
    from roccogen.backends.models import ModelGenerationError

    def failing(api: object) -> dict[PurePosixPath, str]:
        raise ModelGenerationError("schema X cannot be generated")

    monkeypatch.setattr(pipeline, "BACKENDS", (failing, *pipeline.BACKENDS[1:]))
    result = build_spec(synth_spec_file)
    assert not result.ok and not result.files
    assert [d.code for d in result.diagnostics] == ["RG020"]
    assert "schema X cannot be generated" in result.diagnostics[0].message
