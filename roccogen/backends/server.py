"""Server backend: IR → ``server.py`` and the verbatim server runtime modules.

Every name of the generated module is decided here; the template only loops and prints. Spec
strings stay raw in the view and reach the code through the ``literal``/``docstring`` filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from roccogen.backends.runtime_files import runtime_sources
from roccogen.ir import Api, Event, JsonScalar, Param, StreamEndpoint
from roccogen.names import all_sort_key, is_identifier, py_literal
from roccogen.templating import Call, render

# runtime source in the repository → module name in the generated package
RUNTIME_FILES = {
    "server_runtime.py": "_server_runtime.py",
    "_server_sse.py": "_server_sse.py",
    "_server_stream.py": "_server_stream.py",
    "_server_flow.py": "_server_flow.py",
    "_server_route.py": "_server_route.py",
    "_server_shutdown.py": "_server_shutdown.py",
}

# What server.py re-exports from the runtime for the user's module.
RUNTIME_EXPORTS = (
    "ConfigurationError",
    "DeclaredError",
    "Forbidden",
    "HttpError",
    "Identity",
    "ServerSettings",
    "SseFieldError",
    "StreamClosed",
    "StreamHooks",
    "StreamLifecycle",
    "StreamSignal",
    "Unauthorized",
)
# Top-level names server.py defines or imports besides the generated classes.
_MODULE_NAMES = frozenset(
    {"abc", "Path", "Annotated", "Literal", "overload", "BaseModel", "ConfigDict", "Field"}
    | {"Starlette", "create_app", "annotations", "models"}
    | set(RUNTIME_EXPORTS)
)
_BASEMODEL_NAMES = frozenset(
    {"construct", "copy", "dict", "json", "schema", "schema_json", "validate", "from_orm"}
    | {"parse_file", "parse_obj", "parse_raw", "update_forward_refs", "model_config"}
)
_REQUEST_NAMES = frozenset({"http", "params", "body", "identity", "last_event_id"})
_STREAM_NAMES = frozenset(
    {"send", "send_event", "send_comment", "done", "closed", "open", "events", "KINDS"}
)
_PY_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class ParamView:
    """One parameter as server.py spells it."""

    field: str  # attribute of the params model
    prop: str  # property of the request class
    name: str  # wire name
    location: str
    key: str  # path placeholder (Starlette) / query key / header name
    type: str  # the spec's scalar type
    base_type: str
    enum: tuple[JsonScalar, ...] | None  # spelled as ``Literal[...]``
    choices: tuple[JsonScalar, ...] | None  # checked by ``one_of`` (number enums)
    constraints: tuple[tuple[str, JsonScalar], ...]
    required: bool
    has_default: bool
    default: JsonScalar
    description: str | None

    @property
    def spec_call(self) -> Call:
        """The runtime ``ParamSpec`` of this parameter, as source."""
        fields = (self.name, self.location, self.field, self.key, self.type)
        return Call("_server_runtime.ParamSpec(", tuple(py_literal(f) for f in fields), ")")


@dataclass(frozen=True)
class EventView:
    """One event: its typed method and its runtime ``EventKind``."""

    key: str  # method name and runtime key
    name: str  # wire name
    named: bool
    model: str | None  # class expression of the payload model
    data_type: str  # ``model`` or ``str``
    role: str
    description: str | None

    @property
    def kind_call(self) -> Call:
        """The runtime ``EventKind`` of this event, as source."""
        args = (py_literal(self.key), py_literal(self.name), f"named={self.named}")
        model, role = self.model or "None", py_literal(self.role)
        return Call("_server_runtime.EventKind(", (*args, f"model={model}", f"role={role}"), ")")


@dataclass(frozen=True)
class ErrorView:
    """A declared error class."""

    class_name: str
    status: int
    code: str
    description: str | None


@dataclass(frozen=True)
class EndpointView:
    """One endpoint with every generated name decided."""

    name: str
    handler: str
    method: str
    path: str  # the spec path (docs)
    route_path: str  # the Starlette route path
    summary: str | None
    description: str | None
    params_class: str
    request_class: str
    stream_class: str
    params: tuple[ParamView, ...]
    body_model: str | None
    body_type: str
    body_required: bool
    data_events: tuple[EventView, ...]
    closing_events: tuple[EventView, ...]
    all_events: tuple[EventView, ...]
    named_events: tuple[EventView, ...]
    unnamed: EventView | None
    named_union: str
    keepalive: float | None
    resumable: bool
    retry_ms: int | None
    auth_required: bool | None
    scopes: tuple[tuple[str, ...], ...]
    roles: tuple[tuple[str, ...], ...]
    error_event: str | None
    errors: tuple[ErrorView, ...]


def _free(name: str, taken: set[str], suffix: str) -> str:
    """``name`` if unused (and a valid identifier), else ``name`` + ``suffix`` (+ a number)."""
    if not is_identifier(name):
        raise ValueError(f"not an identifier: {name!r}")
    candidate, n = name, 1
    while candidate in taken:
        candidate = f"{name}{suffix}" if n == 1 else f"{name}{suffix}{n}"
        n += 1
    taken.add(candidate)
    return candidate


def _constraints(p: Param) -> tuple[tuple[str, JsonScalar], ...]:
    pairs: list[tuple[str, JsonScalar]] = [
        ("min_length", p.min_length),
        ("max_length", p.max_length),
        ("pattern", p.pattern),
        ("ge", p.minimum),
        ("le", p.maximum),
        ("gt", p.exclusive_minimum),
        ("lt", p.exclusive_maximum),
    ]
    out = [(k, v) for k, v in pairs if v is not None]
    if p.type == "number":
        out.append(("allow_inf_nan", False))  # JSON has no inf or nan
    return tuple(out)


def _params(ep: StreamEndpoint) -> tuple[ParamView, ...]:
    fields: set[str] = set(_BASEMODEL_NAMES)
    props: set[str] = set(_REQUEST_NAMES)
    views = []
    for p in ep.params:
        field = p.py_name if not p.py_name.startswith("model_") else p.py_name + "_"
        views.append(
            ParamView(
                field=_free(field, fields, "_"),
                prop=_free(p.py_name, props, "_param"),
                name=p.name,
                location=p.location,
                key=p.py_name if p.location == "path" else p.name,
                type=p.type,
                base_type=_PY_TYPES[p.type],
                enum=p.enum if p.type != "number" else None,
                choices=p.enum if p.type == "number" else None,
                constraints=_constraints(p),
                required=p.required,
                has_default=p.has_default,
                default=p.default,
                description=p.description,
            )
        )
    return tuple(views)


def _route_path(ep: StreamEndpoint) -> str:
    keys = {p.name: p.py_name for p in ep.params if p.location == "path"}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in keys:
            raise ValueError(f"{ep.name}: path placeholder {{{name}}} has no path parameter")
        return "{" + keys[name] + "}"

    return _PLACEHOLDER.sub(replace, ep.path)


def _event(e: Event, taken: set[str], model_ref: dict[str, str]) -> EventView:
    model = model_ref[e.model] if e.model is not None else None
    return EventView(
        key=_free(e.py_name, taken, "_event"),
        name=e.name,
        named=e.named,
        model=model,
        data_type=model if model is not None else "str",
        role=e.role,
        description=e.description,
    )


def _endpoint(
    ep: StreamEndpoint, model_ref: dict[str, str], classes: set[str], errors: dict[tuple[int, str], ErrorView]
) -> EndpointView:
    taken = set(_STREAM_NAMES)
    data = tuple(_event(e, taken, model_ref) for e in ep.events)
    closing = tuple(
        _event(e, taken, model_ref) for e in (ep.terminal, ep.error) if e is not None
    )
    named = tuple(e for e in data if e.named)
    unnamed = next((e for e in data if not e.named), None)
    union = " | ".join(dict.fromkeys(e.data_type for e in named))
    error_key = closing[-1].key if ep.error is not None else None
    body_model = model_ref[ep.body.model] if ep.body is not None else None
    body_type = "None"
    if ep.body is not None and body_model is not None:
        body_type = body_model if ep.body.required else f"{body_model} | None"
    return EndpointView(
        name=ep.name,
        handler=ep.py_name,
        method=ep.method,
        path=ep.path,
        route_path=_route_path(ep),
        summary=ep.summary,
        description=ep.description,
        params_class=_free(f"{ep.class_name}Params", classes, "_"),
        request_class=_free(f"{ep.class_name}Request", classes, "_"),
        stream_class=_free(f"{ep.class_name}Stream", classes, "_"),
        params=_params(ep),
        body_model=body_model,
        body_type=body_type,
        body_required=ep.body.required if ep.body is not None else False,
        data_events=data,
        closing_events=closing,
        all_events=data + closing,
        named_events=named,
        unnamed=unnamed,
        named_union=union,
        keepalive=ep.keepalive_ms / 1000 if ep.keepalive_ms is not None else None,
        resumable=ep.resumable,
        retry_ms=ep.retry_ms,
        auth_required=ep.auth.required if ep.auth is not None else None,
        scopes=ep.auth.scopes if ep.auth is not None else (),
        roles=ep.auth.roles if ep.auth is not None else (),
        error_event=error_key,
        errors=tuple(errors[(e.status, e.code)] for e in ep.errors),
    )


def server_view(api: Api) -> dict[str, object]:
    """The template context of ``server.py``: every name decided, spec strings left raw."""
    classes: set[str] = set(_MODULE_NAMES)
    service = _free(f"{api.class_name}Service", classes, "_")
    # Endpoint classes first: they are the API users type; models yield to them.
    for ep in api.streams:
        for suffix in ("Params", "Request", "Stream"):
            classes.add(f"{ep.class_name}{suffix}")
    errors: dict[tuple[int, str], ErrorView] = {}
    for ep in api.streams:
        for err in ep.errors:
            if (err.status, err.code) not in errors:
                errors[(err.status, err.code)] = ErrorView(
                    class_name=_free(err.py_name, classes, "_"),
                    status=err.status,
                    code=err.code,
                    description=err.description,
                )
    used = {
        name
        for ep in api.streams
        for name in [e.model for e in ep.all_events] + [ep.body.model if ep.body else None]
        if name is not None
    }
    for m in used:
        if not is_identifier(m):
            raise ValueError(f"model name is not an identifier: {m!r}")
    direct = sorted(m for m in used if m not in classes)
    model_ref = {m: (m if m in direct else f"models.{m}") for m in used}
    for ep in api.streams:
        for suffix in ("Params", "Request", "Stream"):
            classes.discard(f"{ep.class_name}{suffix}")
    endpoints = [_endpoint(ep, model_ref, classes, errors) for ep in api.streams]
    challenge = "Bearer" if api.auth_scheme.kind == "bearer" else None
    exports = [
        *RUNTIME_EXPORTS,
        *(e.class_name for e in errors.values()),
        *(n for ep in endpoints for n in (ep.params_class, ep.request_class, ep.stream_class)),
        service,
        "create_app",
    ]
    return {
        "api": api,
        "service": service,
        "endpoints": endpoints,
        "errors": sorted(errors.values(), key=lambda e: e.class_name),
        "direct_models": direct,
        "qualified_models": any(ref.startswith("models.") for ref in model_ref.values()),
        "exports": RUNTIME_EXPORTS,
        "all_names": sorted(exports, key=all_sort_key),
        "challenge": challenge,
        "typing_imports": _typing_imports(endpoints),
        "pydantic_imports": ["BaseModel", "ConfigDict"]
        + (["Field"] if any(p.constraints for ep in endpoints for p in ep.params) else []),
    }


def _typing_imports(endpoints: list[EndpointView]) -> list[str]:
    names = []
    if any(p.constraints or p.choices for ep in endpoints for p in ep.params):
        names.append("Annotated")
    overloads = any(len(ep.named_events) > 1 for ep in endpoints)
    if overloads or any(p.enum for ep in endpoints for p in ep.params):
        names.append("Literal")
    if overloads:
        names.append("overload")
    return names


def render_server(api: Api) -> dict[PurePosixPath, str]:
    """Files of the server side, relative to the generated package directory."""
    files = {PurePosixPath("server.py"): render("server.py.jinja", **server_view(api))}
    files.update(runtime_sources(RUNTIME_FILES))
    return files
