"""The served ``/openapi.json``: the file next to ``server.py``, valid OpenAPI 3.2, every event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV32SpecValidator
from server_harness import LiveServer, client, generate, package_dir

from roccogen.pipeline import load_api

SPECS = ["prices", "jobs", "channels", "configured", "notifications", "kitchen"]


async def _anyone(request: Any) -> Any:
    return None


def _service(module: Any) -> Any:
    base = next(v for k, v in vars(module).items() if k.endswith("Service") and isinstance(v, type))
    methods = {name: _noop for name in base.__abstractmethods__}
    return type("Impl", (base,), methods)()


async def _noop(self: Any, request: Any, stream: Any) -> None:
    return None


@pytest.mark.parametrize("spec", SPECS)
def test_served_openapi_is_valid_32_and_describes_every_event(spec: str) -> None:
    module = generate(spec)
    on_disk = (package_dir(spec) / "openapi.json").read_bytes()
    with LiveServer(module.create_app(_service(module), authenticator=_anyone)) as srv:
        with client() as http:
            r = http.get(srv.url + "/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == on_disk
    doc = r.json()
    assert doc["openapi"].startswith("3.2")
    OpenAPIV32SpecValidator(doc).validate()

    api, _ = load_api(next(p for p in _spec_paths() if p.stem == spec))
    assert api is not None
    for stream in api.streams:
        operation = doc["paths"][stream.path][stream.method.lower()]
        media = operation["responses"]["200"]["content"]["text/event-stream"]
        members = media["itemSchema"]["oneOf"]
        described = {m["properties"]["event"]["const"]: m for m in members}
        for event in stream.all_events:
            member = described.pop(event.name)
            data = member["properties"]["data"]
            if event.model is None:
                assert data.get("type") == "string"
            else:
                assert data["contentMediaType"] == "application/json"
                assert data["contentSchema"] == {"$ref": f"#/components/schemas/{event.model}"}
                assert event.model in doc["components"]["schemas"]
        assert described == {}, f"undeclared events described: {sorted(described)}"
        params = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        assert {(p.location, p.name) for p in stream.params} <= params
        if stream.body is not None:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body == {"$ref": f"#/components/schemas/{stream.body.model}"}
        for err in stream.errors:
            assert str(err.status) in operation["responses"]
        if stream.auth is not None and stream.auth.required:
            assert operation.get("security")


def _spec_paths() -> list[Any]:
    from server_harness import SPECS as MAIN
    from server_harness import TEST_SPECS

    return [*MAIN.glob("*.yaml"), *TEST_SPECS.glob("*.yaml")]


def test_missing_openapi_file_is_a_json_404(tmp_path: Any) -> None:
    module = generate("prices")
    path = package_dir("prices") / "openapi.json"
    saved = path.read_bytes()
    path.unlink()
    try:
        app = module.create_app(_service(module))
    finally:
        path.write_bytes(saved)
    with LiveServer(app) as srv, client() as http:
        r = http.get(srv.url + "/openapi.json")
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"


def test_openapi_can_be_turned_off() -> None:
    module = generate("prices")
    app = module.create_app(_service(module), settings=module.ServerSettings(serve_openapi=False))
    with LiveServer(app) as srv, client() as http:
        assert http.get(srv.url + "/openapi.json").status_code == 404
    assert json.loads((package_dir("prices") / "openapi.json").read_text())["openapi"]
