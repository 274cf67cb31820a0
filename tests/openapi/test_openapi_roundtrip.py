"""spec → IR → OpenAPI 3.2 → IR gives back the same IR, for every spec in specs/ and beyond."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import spec_files
from ir_samples import everything

from roccogen.ir import Api, Auth, AuthScheme
from roccogen.openapi.reader import read_openapi
from roccogen.openapi.writer import build_openapi
from roccogen.pipeline import load_api
from roccogen.yaml_source import parse_source


def _serialize(document: dict[str, object], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _round_trip(api: Api, fmt: str) -> tuple[Api | None, list[str]]:
    text = _serialize(build_openapi(api), fmt)
    doc, problems = parse_source(text, f"written.{fmt}")
    assert doc is not None and not problems, problems
    back, diagnostics = read_openapi(doc, "not_the_package")
    return back, [d.format() for d in diagnostics]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("spec", spec_files(), ids=lambda p: p.name)
def test_spec_round_trips_through_openapi(spec: Path, fmt: str) -> None:
    api, diagnostics = load_api(spec)
    assert api is not None, [d.format() for d in diagnostics]
    back, messages = _round_trip(api, fmt)
    assert back is not None, messages
    assert messages == []
    assert replace(back, source=api.source) == api


def test_the_writer_is_deterministic() -> None:
    for spec in spec_files():
        api, _ = load_api(spec)
        assert api is not None
        first = json.dumps(build_openapi(api), indent=2)
        again, _ = load_api(spec)
        assert again is not None
        assert json.dumps(build_openapi(again), indent=2) == first


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_every_ir_feature_round_trips(fmt: str) -> None:
    api = everything()
    back, messages = _round_trip(api, fmt)
    assert back is not None, messages
    assert messages == []
    assert replace(back, source="") == api


def test_scope_groups_become_openapi_alternatives() -> None:
    document = build_openapi(everything())
    security = document["paths"]["/regions/{region}/feed"]["post"]["security"]
    # (read OR admin) AND feed  ==  (read AND feed) OR (admin AND feed)
    assert security == [{"apiKeyAuth": ["read", "feed"]}, {"apiKeyAuth": ["admin", "feed"]}]
    optional = document["paths"]["/other"]["get"]["security"]
    assert optional == [{}, {"apiKeyAuth": []}]


def test_a_third_party_document_without_extensions_reads_scopes_as_and() -> None:
    text = """
openapi: 3.1.0
info: {title: T, version: "1"}
paths:
  /s:
    get:
      operationId: s
      security: [{oauth: [a, b]}]
      responses:
        "200": {description: x, content: {text/event-stream: {schema: {type: object, properties: {n: {type: integer}}}}}}
  /t:
    get:
      operationId: t
      security: [{oauth: [a, c]}, {oauth: [b, c]}]
      responses:
        "200": {description: x, content: {text/event-stream: {schema: {type: object, properties: {n: {type: integer}}}}}}
components:
  securitySchemes:
    oauth: {type: oauth2, flows: {}}
"""
    doc, _ = parse_source(text, "t.yaml")
    assert doc is not None
    api, diagnostics = read_openapi(doc, "t")
    assert api is not None, diagnostics
    s, t = api.streams
    assert s.auth == Auth(True, scopes=(("a",), ("b",)))
    # (a AND c) OR (b AND c)  ==  (a OR b) AND c, after absorbing the (c OR c) clause.
    assert t.auth == Auth(True, scopes=(("a", "b"), ("c",)))
    assert api.auth_scheme == AuthScheme()
