"""Broken documents give diagnostics, never a traceback: real documents with values swapped for junk."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SPECS

from roccogen.openapi.reader import read_openapi
from roccogen.yaml_source import SourceDocument, load_source

HERE = Path(__file__).parent
DOCUMENTS = [
    SPECS / "chat.openapi.yaml",
    HERE / "documents" / "hostile" / "openapi.yaml",
    HERE / "documents" / "external" / "openapi.yaml",
    HERE / "real_specs" / "typespec-sse-import-scenarios-service.yml",
    HERE / "real_specs" / "fern-server-sent-events-openapi-openapi.yml",
]
JUNK: list[Any] = [None, 5, "x", [], {}, True, {"$ref": "#/nope"}, {"$ref": 5}, [None], {"type": 7}, -1.5]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if p.is_file()], ids=lambda p: p.name)
def test_junk_anywhere_gives_diagnostics_not_exceptions(path: Path) -> None:
    doc, _ = load_source(path, str(path))
    assert doc is not None
    targets = [p for p in _paths(doc.data) if p]
    rng = random.Random(path.name)
    for _ in range(150):
        data = copy.deepcopy(doc.data)
        for _ in range(rng.randint(1, 3)):
            where = rng.choice(targets)
            parent = data
            try:
                for key in where[:-1]:
                    parent = parent[key]
                parent[where[-1]] = copy.deepcopy(rng.choice(JUNK))
            except (KeyError, IndexError, TypeError):
                continue
        mutated = SourceDocument(doc.path, data, doc.positions, doc.key_positions)
        api, diagnostics = read_openapi(mutated, "fuzz", path)
        assert api is not None or any(d.level == "error" for d in diagnostics)
