"""Small OpenAPI documents with SSE mistakes, each with its committed diagnostics.

Every case is a folder under ``lint_cases/`` holding ``openapi.yaml`` and ``stderr.txt`` (the
diagnostics, one per line, as ``roccogen build`` prints them); cases are found by directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from roccogen.diagnostics import CODES, has_errors
from roccogen.openapi.reader import looks_like_openapi, read_openapi
from roccogen.yaml_source import load_source

CASES = Path(__file__).parent / "lint_cases"
UPDATE_ENV = "ROCCOGEN_UPDATE_CASES"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "openapi.yaml").is_file())


def _read(case: Path) -> tuple[bool, str]:
    doc, problems = load_source(case / "openapi.yaml", f"{case.name}/openapi.yaml")
    assert doc is not None and not problems, problems
    assert looks_like_openapi(doc.data)
    api, diagnostics = read_openapi(doc, case.name)
    assert (api is None) == has_errors(diagnostics)
    return api is not None, "".join(d.format() + "\n" for d in diagnostics)


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_lint_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    _, got = _read(Path(case.name))
    expected_file = case / "stderr.txt"
    if os.environ.get(UPDATE_ENV):
        expected_file.write_text(got, encoding="utf-8")
    assert expected_file.is_file(), f"no stderr.txt; create it with: {UPDATE_ENV}=1 pytest tests/openapi"
    assert got, "a lint case must produce at least one diagnostic"
    assert got == expected_file.read_text(encoding="utf-8"), (
        f"diagnostics changed; if intended, update with: {UPDATE_ENV}=1 pytest tests/openapi"
    )


def test_lint_cases_cover_every_openapi_code() -> None:
    seen = "".join((case / "stderr.txt").read_text(encoding="utf-8") for case in _cases())
    missing = [code for code in CODES if code.startswith("RG03") and f"[{code}]" not in seen]
    assert not missing, f"no lint case shows {missing}"


def test_every_lint_diagnostic_points_into_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    for case in _cases():
        _, text = _read(Path(case.name))
        for line in text.splitlines():
            where = line.split(": ", 1)[0]
            file, row, col = where.rsplit(":", 2)
            assert file.startswith(case.name + "/") and int(row) >= 1 and int(col) >= 1, line


def test_warnings_alone_still_give_an_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    for name in ("case_only_names", "item_schema_in_31", "member_without_event_const",
                 "resumable_without_ids", "unsupported_constructs", "untyped_string_stream"):
        ok, text = _read(Path(name))
        assert ok and "error[" not in text, (name, text)
