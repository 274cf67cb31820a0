"""IR → an OpenAPI 3.2 document: ``itemSchema`` per stream, one ``oneOf`` member per event.

What OpenAPI cannot say (keep-alive, resumption, roles, rocco's scope groups) travels in
``x-roccogen-*`` extensions, so :func:`roccogen.openapi.reader.read_openapi` rebuilds the exact IR.
Key order is fixed by construction: the same IR always gives the same document.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from roccogen.ir import Api, Auth, AuthScheme, ErrorResponse, Event, Param, StreamEndpoint
from roccogen.openapi import naming as n

SCHEMA_PREFIX = "#/components/schemas/"
BEARER_SCHEME = "bearerAuth"
API_KEY_SCHEME = "apiKeyAuth"
# Answers the generated server may give before a stream starts, besides the declared errors.
IMPLICIT_ERRORS: dict[int, tuple[str, str]] = {
    401: ("UNAUTHORIZED", "Missing or invalid credentials."),
    403: ("FORBIDDEN", "The credentials lack a required scope or role."),
    413: ("PAYLOAD_TOO_LARGE", "The request body is too large."),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The request body is not JSON."),
    422: ("VALIDATION_FAILED", "A parameter or the request body is invalid."),
    500: ("INTERNAL_ERROR", "The handler failed before the stream started."),
}
UNNAMED_NOTE = (
    "Sent without an `event:` line; clients see the default event type `message` "
    "(an absent `event` field and `message` mean the same)."
)


def build_openapi(api: Api) -> dict[str, Any]:
    """The OpenAPI 3.2.0 document for ``api`` (what the generated server serves)."""
    info: dict[str, Any] = {"title": api.title, "version": api.version}
    if api.description:
        info["description"] = api.description
    doc: dict[str, Any] = {"openapi": "3.2.0", "info": info, n.X_PACKAGE: api.package}
    if api.class_name != n.api_class_name(api.package):
        doc[n.X_CLASS_NAME] = api.class_name
    tags = sorted({t for s in api.streams for t in s.tags})
    if tags:
        doc["tags"] = [{"name": t} for t in tags]
    paths: dict[str, dict[str, Any]] = {}
    for stream in sorted(api.streams, key=lambda s: (s.path, s.method, s.name)):
        paths.setdefault(stream.path, {})[stream.method.lower()] = _operation(api, stream)
    doc["paths"] = paths
    components: dict[str, Any] = {
        "schemas": {m.name: json.loads(m.schema_json) for m in api.models},
    }
    if api.auth_scheme != AuthScheme() or any(s.auth is not None for s in api.streams):
        components["securitySchemes"] = {_scheme_name(api.auth_scheme): _security_scheme(api.auth_scheme)}
    doc["components"] = components
    return doc


def _scheme_name(scheme: AuthScheme) -> str:
    return BEARER_SCHEME if scheme.kind == "bearer" else API_KEY_SCHEME


def _security_scheme(scheme: AuthScheme) -> dict[str, Any]:
    if scheme.kind == "bearer":
        return {"type": "http", "scheme": "bearer"}
    return {"type": "apiKey", "name": scheme.api_key_name or "", "in": scheme.api_key_in or "header"}


def _operation(api: Api, stream: StreamEndpoint) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": stream.name}
    if stream.summary is not None:
        op["summary"] = stream.summary
    if stream.description is not None:
        op["description"] = stream.description
    if stream.tags:
        op["tags"] = list(stream.tags)
    if stream.py_name != n.stream_py_name(stream.name):
        op[n.X_PY_NAME] = stream.py_name
    if stream.class_name != n.stream_class_name(stream.name):
        op[n.X_CLASS_NAME] = stream.class_name
    params = [_parameter(p) for p in stream.params]
    if stream.resumable:
        params.append(
            {
                "name": n.LAST_EVENT_ID,
                "in": "header",
                "required": False,
                "description": "The id of the last event received; the stream resumes after it.",
                "schema": {"type": "string"},
            }
        )
    if params:
        op["parameters"] = params
    if stream.body is not None:
        body: dict[str, Any] = {}
        if stream.body.description is not None:
            body["description"] = stream.body.description
        body["required"] = stream.body.required
        body["content"] = {"application/json": {"schema": {"$ref": SCHEMA_PREFIX + stream.body.model}}}
        op["requestBody"] = body
    op["responses"] = _responses(stream)
    if stream.auth is not None:
        op["security"] = _security(api.auth_scheme, stream.auth)
        if stream.auth.scopes:
            op[n.X_SCOPES] = [list(g) for g in stream.auth.scopes]
        if stream.auth.roles:
            op[n.X_ROLES] = [list(g) for g in stream.auth.roles]
    if stream.keepalive_ms is not None:
        op[n.X_KEEPALIVE] = stream.keepalive_ms
    if stream.resumable:
        op[n.X_RESUMABLE] = True
    if stream.retry_ms is not None:
        op[n.X_RETRY] = stream.retry_ms
    if stream.errors:
        op[n.X_ERRORS] = [_error_entry(e) for e in stream.errors]
    return op


def _parameter(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": param.name, "in": param.location, "required": param.required}
    if param.description is not None:
        out["description"] = param.description
    if param.py_name != n.param_py_name(param.name):
        out[n.X_PY_NAME] = param.py_name
    schema: dict[str, Any] = {"type": param.type}
    if param.enum is not None:
        schema["enum"] = list(param.enum)
    if param.has_default:
        schema["default"] = param.default
    for key, value in (
        ("minLength", param.min_length),
        ("maxLength", param.max_length),
        ("pattern", param.pattern),
        ("minimum", param.minimum),
        ("maximum", param.maximum),
        ("exclusiveMinimum", param.exclusive_minimum),
        ("exclusiveMaximum", param.exclusive_maximum),
    ):
        if value is not None:
            schema[key] = value
    out["schema"] = schema
    return out


def _security(scheme: AuthScheme, auth: Auth) -> list[dict[str, list[str]]]:
    """rocco's groups (OR inside, AND across) as OpenAPI alternatives (AND inside, OR across)."""
    name = _scheme_name(scheme)
    alternatives: list[dict[str, list[str]]] = []
    if not auth.required:
        alternatives.append({})
    if auth.scopes:
        seen: list[list[str]] = []
        for combo in itertools.product(*auth.scopes):
            scopes = list(dict.fromkeys(combo))
            if scopes not in seen:
                seen.append(scopes)
                alternatives.append({name: scopes})
    else:
        alternatives.append({name: []})
    return alternatives


def _error_entry(error: ErrorResponse) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": error.status, "code": error.code}
    if error.description is not None:
        entry["description"] = error.description
    if error.py_name != n.error_py_name(error.code):
        entry[n.X_PY_NAME] = error.py_name
    return entry


def _error_schema(codes: list[str]) -> dict[str, Any]:
    code: dict[str, Any] = {"type": "string"}
    if codes:
        code["enum"] = codes
    return {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": code,
            "message": {"type": "string"},
            "details": {"description": "Anything that helps to understand the error."},
        },
    }


def _implicit_statuses(stream: StreamEndpoint) -> list[int]:
    statuses: list[int] = []
    if stream.auth is not None:
        statuses.append(401)
        if stream.auth.scopes or stream.auth.roles:
            statuses.append(403)
    if stream.body is not None:
        statuses += [413, 415]
    if stream.body is not None or stream.params:
        statuses.append(422)
    statuses.append(500)
    return statuses


def _responses(stream: StreamEndpoint) -> dict[str, Any]:
    ok: dict[str, Any] = {
        "description": "A stream of Server-Sent Events.",
        "content": {"text/event-stream": {"itemSchema": _item_schema(stream)}},
    }
    responses: dict[str, Any] = {"200": ok}
    declared: dict[int, list[ErrorResponse]] = {}
    for error in stream.errors:
        declared.setdefault(error.status, []).append(error)
    implicit = _implicit_statuses(stream)
    for status in sorted(set(declared) | set(implicit)):
        errors = declared.get(status, [])
        if len(errors) == 1:
            description = errors[0].description or errors[0].code
        elif errors:
            description = " ".join(f"`{e.code}`: {e.description or e.code}." for e in errors)
        else:
            description = IMPLICIT_ERRORS[status][1]
        # The server may answer an implicit status with its own code, so only list codes alone.
        codes = [e.code for e in errors] if status not in implicit else []
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": _error_schema(codes)}},
        }
        if not errors:
            response[n.X_IMPLICIT] = True
        responses[str(status)] = response
    return responses


def _item_schema(stream: StreamEndpoint) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "event": {"type": "string"},
        "data": {"type": "string"},
    }
    required = ["data"]
    if stream.resumable:
        properties["id"] = {"type": "string", "description": "Send it back as `Last-Event-ID` to resume."}
        retry: dict[str, Any] = {"type": "integer", "minimum": 0}
        if stream.retry_ms is not None:
            retry["description"] = f"Reconnection delay in milliseconds ({stream.retry_ms} on this stream)."
        properties["retry"] = retry
        required.append("id")
    sentinels = [e.sentinel for e in stream.all_events if e.sentinel is not None]
    members = [_member(event, sentinels) for event in stream.all_events]
    return {"type": "object", "properties": properties, "required": required, "oneOf": members}


def _member(event: Event, sentinels: list[str]) -> dict[str, Any]:
    member: dict[str, Any] = {}
    if event.description is not None:
        member["description"] = event.description
    data: dict[str, Any]
    if event.sentinel is not None:
        data = {"contentMediaType": "text/plain", "const": event.sentinel}
    elif event.model is not None:
        data = {"contentMediaType": "application/json", "contentSchema": {"$ref": SCHEMA_PREFIX + event.model}}
    else:
        data = {"type": "string"}
    if not event.named and event.sentinel is None and sentinels:
        # Keep oneOf exclusive: the sentinel is not an ordinary unnamed event.
        data["not"] = {"enum": sentinels}
    name: dict[str, Any] = {"const": event.name}
    if not event.named:
        name["description"] = UNNAMED_NOTE
    member["properties"] = {"event": name, "data": data}
    member["required"] = ["event", "data"] if event.named else ["data"]
    if event.named and event.name == "message":
        member[n.X_NAMED] = True
    if event.role == "terminal":
        member[n.X_MS_TERMINAL] = True
    if event.role != "data":
        member[n.X_ROLE] = event.role
    base = n.sentinel_base(event.sentinel) if event.sentinel is not None else event.name
    if event.py_name != n.event_py_name(base):
        member[n.X_PY_NAME] = event.py_name
    if event.class_name != n.event_class_name(base):
        member[n.X_CLASS_NAME] = event.class_name
    return member

