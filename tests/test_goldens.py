"""generated_examples/ is exactly what roccogen makes from specs/ (found by directory)."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES, spec_files

from roccogen.output import compare_files
from roccogen.pipeline import build_spec

UPDATE = "roccogen build specs/* -o generated_examples"


@pytest.mark.parametrize("spec", spec_files(), ids=lambda p: p.name)
def test_example_matches_golden(spec):
    result = build_spec(spec)
    assert result.ok, "\n".join(d.format() for d in result.diagnostics)
    comparison = compare_files(EXAMPLES, result.files)
    assert comparison.clean, (
        f"generated_examples is out of date for {spec.name}; update with:\n    {UPDATE}\n\n"
        + comparison.diff[:6000]
    )


def test_no_orphan_examples():
    packages = set()
    for spec in spec_files():
        result = build_spec(spec)
        assert result.api is not None
        packages.add(result.api.package)
    present = {p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert present == packages, f"generated_examples has packages no spec makes; update with:\n    {UPDATE}"
