"""The written OpenAPI 3.2 documents are valid, and their ``itemSchema`` says what the stream sends."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from conftest import spec_files
from ir_samples import everything
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV32SpecValidator

from roccogen.ir import Api, StreamEndpoint
from roccogen.openapi.writer import build_openapi
from roccogen.pipeline import load_api


def _api(spec: Path) -> Api:
    api, diagnostics = load_api(spec)
    assert api is not None, [d.format() for d in diagnostics]
    return api


def _media(document: dict[str, Any], stream: StreamEndpoint) -> dict[str, Any]:
    operation = document["paths"][stream.path][stream.method.lower()]
    media: dict[str, Any] = operation["responses"]["200"]["content"]["text/event-stream"]
    return media


@pytest.mark.parametrize("spec", [*spec_files(), None], ids=lambda p: p.name if p else "every-feature")
def test_written_document_is_valid_openapi_3_2(spec: Path | None) -> None:
    document = build_openapi(_api(spec) if spec is not None else everything())
    assert document["openapi"] == "3.2.0"
    errors = [e.message for e in OpenAPIV32SpecValidator(document).iter_errors()]
    assert errors == []


def test_the_validator_does_look_at_item_schemas() -> None:
    api = _api(spec_files()[0])
    document = build_openapi(api)
    _media(document, api.streams[0])["itemSchema"] = 5
    assert list(OpenAPIV32SpecValidator(document).iter_errors())


@pytest.mark.parametrize("spec", spec_files(), ids=lambda p: p.name)
def test_item_schema_has_one_member_per_event(spec: Path) -> None:
    api = _api(spec)
    document = build_openapi(api)
    schemas = document["components"]["schemas"]
    for stream in api.streams:
        operation = document["paths"][stream.path][stream.method.lower()]
        assert operation["operationId"] == stream.name
        item = _media(document, stream)["itemSchema"]
        Draft202012Validator.check_schema(item)
        members = item["oneOf"]
        assert len(members) == len(stream.all_events)
        for member, event in zip(members, stream.all_events):
            assert member["properties"]["event"]["const"] == event.name
            assert ("event" in member["required"]) == event.named
            data = member["properties"]["data"]
            if event.model is not None:
                assert data["contentMediaType"] == "application/json"
                ref = data["contentSchema"]["$ref"]
                assert ref == f"#/components/schemas/{event.model}" and event.model in schemas
            else:
                assert data == {"type": "string"}
            assert member.get("x-ms-sse-terminal-event", False) == (event.role == "terminal")
        if stream.resumable:
            assert "id" in item["required"] and "id" in item["properties"]
            assert any(p["name"] == "Last-Event-ID" for p in operation["parameters"])
        assert [int(s) for s in operation["responses"] if s != "200"] == sorted(
            {e.status for e in stream.errors}
            | ({401} if stream.auth else set())
            | ({403} if stream.auth and (stream.auth.scopes or stream.auth.roles) else set())
            | ({413, 415} if stream.body else set())
            | ({422} if stream.body or stream.params else set())
            | {500}
        )


def _items(stream: StreamEndpoint) -> list[tuple[dict[str, Any], str]]:
    """One wire event per declared event, as OpenAPI 3.2 parses SSE items, and its event name."""
    out = []
    for event in stream.all_events:
        item: dict[str, Any] = {"data": event.sentinel or ("{}" if event.model else "text")}
        if event.named:
            item["event"] = event.name
        if stream.resumable:
            item["id"] = "7"
        out.append((item, event.name))
    return out


@pytest.mark.parametrize("spec", [*spec_files(), None], ids=lambda p: p.name if p else "every-feature")
def test_each_event_matches_exactly_its_own_member(spec: Path | None) -> None:
    api = _api(spec) if spec is not None else everything()
    document = build_openapi(api)
    for stream in api.streams:
        item_schema = copy.deepcopy(_media(document, stream)["itemSchema"])
        validator = Draft202012Validator(item_schema)
        for item, name in _items(stream):
            assert validator.is_valid(item), (stream.name, item)
            matching = [
                m for m in item_schema["oneOf"]
                if Draft202012Validator({**item_schema, "oneOf": [m]}).is_valid(item)
            ]
            assert [m["properties"]["event"]["const"] for m in matching] == [name]
        assert not validator.is_valid({"event": "not-declared", "data": "x", "id": "1"})


def test_declared_errors_carry_a_json_error_body() -> None:
    api = _api(Path(__file__).parents[2] / "specs" / "channels.yaml")
    document = build_openapi(api)
    response = document["paths"]["/channels/{channel}/events"]["get"]["responses"]["404"]
    schema = response["content"]["application/json"]["schema"]
    assert schema["required"] == ["code", "message"]
    assert schema["properties"]["code"]["enum"] == ["CHANNEL_NOT_FOUND"]
    assert set(schema["properties"]) == {"code", "message", "details"}


def test_parameters_keep_their_constraints() -> None:
    api = _api(Path(__file__).parents[2] / "specs" / "channels.yaml")
    operation = build_openapi(api)["paths"]["/channels/{channel}/events"]["get"]
    by_name = {p["name"]: p for p in operation["parameters"]}
    assert by_name["channel"]["in"] == "path" and by_name["channel"]["required"] is True
    assert by_name["channel"]["schema"] == {"type": "string", "pattern": "^[a-z0-9-]{1,32}$"}
    assert by_name["filter"]["schema"] == {"type": "string", "maxLength": 64}
