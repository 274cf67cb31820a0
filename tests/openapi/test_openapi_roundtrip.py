"""spec → IR → OpenAPI 3.2 → IR gives back the same IR, for every spec in specs/ and beyond."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import spec_files

from roccogen.ir import (
    Api,
    Auth,
    AuthScheme,
    Body,
    ErrorResponse,
    Event,
    Model,
    Param,
    StreamEndpoint,
)
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


def _everything() -> Api:
    """An IR using every feature, including what no example spec uses."""
    model = Model("Tick", json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}}))
    nested = Model("Wrapper", json.dumps({"type": "object", "properties": {"tick": {"$ref": "#/components/schemas/Tick"}}}))
    body = Model("Filter", json.dumps({"type": "object", "properties": {"q": {"type": "string"}}}))
    params = (
        Param("region", "region", "path", "string", True, "The region.", enum=("eu", "us")),
        Param("limit", "limit", "query", "integer", False, None, default=10, has_default=True,
              minimum=1, maximum=100),
        Param("ratio", "ratio", "query", "number", False, exclusive_minimum=0, exclusive_maximum=1.5),
        Param("strict", "strict", "query", "boolean", True),
        Param("X-Trace", "x_trace", "header", "string", False, min_length=1, max_length=8, pattern="^[a-f0-9]+$"),
    )
    sentinel = Event("message", False, "done_event", "FeedDoneEvent", None, "terminal", None, "[DONE]")
    feed = StreamEndpoint(
        name="feed", py_name="feed", class_name="Feed", method="POST", path="/regions/{region}/feed",
        summary="Feed", description="All of it.", tags=("a", "b"), params=params,
        body=Body("Filter", required=False, description="What to send."),
        events=(
            Event("message", False, "message", "FeedMessageEvent", "Tick", "data", "Plain data."),
            Event("tick", True, "tick", "TickEvent", "Wrapper"),
        ),
        terminal=sentinel, error=Event("oops", True, "oops", "OopsEvent", None, "error"),
        keepalive_ms=5000, resumable=True, retry_ms=1500,
        auth=Auth(True, scopes=(("read", "admin"), ("feed",)), roles=(("ops",), ("eu", "us"))),
        errors=(
            ErrorResponse(404, "NO_REGION", "Unknown region.", "NoRegionError"),
            ErrorResponse(409, "BUSY", None, "BusyError"),
            ErrorResponse(409, "LOCKED", "Locked.", "CustomLockedError"),
            ErrorResponse(422, "BAD_FILTER", "Bad filter.", "BadFilterError"),
        ),
    )
    other = StreamEndpoint(
        name="other-feed", py_name="custom_other", class_name="OtherFeed", method="GET", path="/other",
        summary=None, description=None, tags=(), params=(), body=None,
        events=(Event("message", True, "message", "OtherFeedMessageEvent", None),
                Event("tick", True, "tick", "TickEvent", "Wrapper")),
        terminal=None, error=None, keepalive_ms=None, resumable=False, retry_ms=None,
        auth=Auth(False), errors=(),
    )
    return Api(
        package="everything", class_name="Everything", title="Everything", version="2.0",
        description=None, streams=(feed, other), models=(body, model, nested),
        auth_scheme=AuthScheme("api_key", "key", "query"),
    )


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_every_ir_feature_round_trips(fmt: str) -> None:
    api = _everything()
    back, messages = _round_trip(api, fmt)
    assert back is not None, messages
    assert messages == []
    assert replace(back, source="") == api


def test_scope_groups_become_openapi_alternatives() -> None:
    document = build_openapi(_everything())
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
