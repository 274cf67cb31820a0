"""Client backend: IR → ``client.py`` plus the client runtime modules, copied verbatim."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from roccogen.backends.runtime_files import runtime_sources
from roccogen.ir import Api, Event, Param, StreamEndpoint
from roccogen.names import all_sort_key, is_identifier, py_literal, snake
from roccogen.templating import render

# Runtime modules: source file in roccogen.runtime → file in the generated package.
RUNTIME_FILES = {
    "client_runtime.py": "_client_runtime.py",
    "_client_decoder.py": "_client_decoder.py",
    "_client_errors.py": "_client_errors.py",
    "_client_types.py": "_client_types.py",
    "_client_stream.py": "_client_stream.py",
}

# The runtime's generic exception class per status (its ``status_error_class``); the generator
# names it without importing the runtime, which needs httpx. A test keeps the two in step.
_ERROR_BASES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitedError",
}


def error_base_class(status: int) -> str:
    """Name of the runtime exception class a declared error of ``status`` derives from."""
    return "ServerError" if status >= 500 else _ERROR_BASES.get(status, "ApiError")

# Names client.py imports or re-exports at top level; generated names must avoid them.
REEXPORTS = (
    "ApiError",
    "ContentTypeError",
    "ErrorEventReceived",
    "EventTooLargeError",
    "EventValidationError",
    "IdleTimeoutError",
    "ReconnectExhaustedError",
    "ReconnectPolicy",
    "ServerSentEvent",
    "StreamError",
    "UnknownEvent",
    "UnknownEventError",
)
_TOP_LEVEL = frozenset(
    {"annotations", "httpx", "Any", "ClassVar", "Literal", "Mapping", "TypeAlias", "TypeVar"}
    | {"overload", "_E", "_rt", "__all__"}
    | set(REEXPORTS)
)
# Keyword arguments every endpoint method has; parameters must not take these names.
_METHOD_KWARGS = frozenset(
    {"self", "body", "last_event_id", "unknown_events", "invalid_events", "reconnect"}
    | {"idle_timeout", "timeout", "extra_headers", "httpx"}
)
# Attributes of the client base classes; endpoint methods must not shadow them.
_CLIENT_MEMBERS = frozenset({"close", "aclose", "http_client"})
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


@dataclass(frozen=True)
class ParamView:
    """One endpoint method parameter, ready to print."""

    py_name: str
    wire: str  # Python literal of the wire name
    location: str
    annotation: str
    default: str | None  # Python source of the default, or None when required
    description: str | None

    @property
    def entry(self) -> str:
        """``"wire-name": py_name``, as the request's dict of this parameter's location holds it."""
        return f"{self.wire}: {self.py_name}"


@dataclass(frozen=True)
class EventView:
    """One event class."""

    class_name: str
    wire: str  # the SSE event name
    name: str  # Python literal of the SSE event name
    key: str  # Python literal of the name handlers are registered under
    sentinel: str | None  # Python literal of a sentinel terminal's data
    data_type: str
    parse: str
    role: str
    description: str | None


@dataclass(frozen=True)
class ErrorView:
    """One declared error response exception class."""

    class_name: str
    base: str
    status: int
    code: str  # Python literal
    code_text: str
    description: str | None


@dataclass(frozen=True)
class EndpointView:
    """Everything the template prints for one stream endpoint."""

    stream: StreamEndpoint
    method_name: str
    const: str
    union: str
    sync_stream: str
    async_stream: str
    handlers: str | None
    error_exception: str | None
    events: tuple[EventView, ...]  # every event of the stream
    dispatch: tuple[EventView, ...]  # events handlers may be registered for
    union_members: tuple[str, ...]
    positional: tuple[ParamView, ...]
    keyword: tuple[ParamView, ...]
    body_type: str | None
    body_required: bool
    errors: tuple[tuple[int, str, str], ...]  # status, code literal, class name
    doc: str


class _Names:
    """Hands out top-level names of client.py, never twice and never a reserved one."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def claim(self, wanted: str) -> str:
        if not is_identifier(wanted):
            raise ValueError(f"not a safe Python identifier: {wanted!r}")
        name = wanted
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name


def _checked(name: str) -> str:
    if not is_identifier(name):
        raise ValueError(f"not a safe Python identifier: {name!r}")
    return name


def _param_view(param: Param, taken: set[str]) -> ParamView:
    py_name = _checked(param.py_name)
    while py_name in taken or py_name in _METHOD_KWARGS:
        py_name += "_"
    taken.add(py_name)
    if param.enum:
        annotation = "Literal[" + ", ".join(py_literal(v) for v in param.enum) + "]"
    else:
        annotation = _SCALARS[param.type]
    default: str | None = None
    if param.has_default:
        default = py_literal(param.default)
    elif not param.required:
        default = "None"
        annotation += " | None"
    return ParamView(
        py_name=py_name,
        wire=py_literal(param.name),
        location=param.location,
        annotation=annotation,
        default=default,
        description=param.description,
    )


def _model_ref(model: str) -> str:
    return _checked(model)


def _dispatch_key(event: Event, stream: StreamEndpoint) -> str:
    if event.sentinel is None:
        return event.name
    others = {e.name for e in stream.all_events if e is not event}
    return event.py_name if event.py_name not in others else event.sentinel


def _event_view(event: Event, class_name: str, key: str) -> EventView:
    if event.model is None or event.sentinel is not None:  # a sentinel's data is its own text
        data_type, parse = "str", "_rt.text"
    else:
        data_type = _model_ref(event.model)
        parse = f"_rt.json_model({data_type})"
    return EventView(
        class_name=class_name,
        wire=event.name,
        name=py_literal(event.name),
        key=py_literal(key),
        sentinel=py_literal(event.sentinel) if event.sentinel is not None else None,
        data_type=data_type,
        parse=parse,
        role=event.role,
        description=event.description,
    )


def _doc(stream: StreamEndpoint) -> str:
    parts = [p for p in (stream.summary, stream.description) if p]
    if not parts:
        parts.append(f"Open the {stream.name} stream.")
    auth = stream.auth
    if auth is not None and auth.required:
        needs = [" or ".join(group) for group in (*auth.scopes, *auth.roles) if group]
        parts.append("Requires credentials" + (f" with {'; '.join(needs)}." if needs else "."))
    if stream.resumable:
        parts.append(
            "Resumable: a dropped connection is resumed with Last-Event-ID (see ``reconnect``)."
        )
    return "\n\n".join(parts)


def build_views(api: Api) -> tuple[list[EventView], list[ErrorView], list[EndpointView]]:
    """Decide every name and type of client.py; the template only prints them."""
    names = _Names(set(_TOP_LEVEL) | {f"{api.class_name}Client", f"Async{api.class_name}Client"})
    clash = sorted({m.name for m in api.models} & _TOP_LEVEL)
    if clash:
        raise ValueError(f"model names {clash} clash with names client.py imports")
    names.taken.update(m.name for m in api.models)
    _checked(api.class_name)
    event_classes: dict[tuple[str, str | None, str, str, str | None], str] = {}
    all_events: list[EventView] = []
    error_classes: dict[tuple[int, str], str] = {}
    all_errors: list[ErrorView] = []
    endpoints: list[EndpointView] = []
    method_names: set[str] = set(_CLIENT_MEMBERS)
    for stream in api.streams:
        _checked(stream.class_name)
        views: list[EventView] = []
        for event in stream.all_events:
            key = (event.class_name, event.model, event.role, event.name, event.sentinel)
            dispatch_key = _dispatch_key(event, stream)
            if key not in event_classes:
                event_classes[key] = names.claim(event.class_name)
                all_events.append(_event_view(event, event_classes[key], dispatch_key))
            views.append(_event_view(event, event_classes[key], dispatch_key))
        errors: list[tuple[int, str, str]] = []
        for err in stream.errors:
            status = int(err.status)  # printed as a number: never text from the spec
            ekey = (status, err.code)
            if ekey not in error_classes:
                wanted = err.py_name or (stream.class_name + "Error")
                error_classes[ekey] = names.claim(wanted)
                all_errors.append(
                    ErrorView(
                        class_name=error_classes[ekey],
                        base=error_base_class(status),
                        status=status,
                        code=py_literal(err.code),
                        code_text=err.code,
                        description=err.description,
                    )
                )
            errors.append((status, py_literal(err.code), error_classes[ekey]))
        dispatch = tuple(v for v in views if v.role != "error")
        method = _checked(stream.py_name)
        while method in method_names:
            method += "_"
        method_names.add(method)
        taken: set[str] = set()
        params = [_param_view(p, taken) for p in stream.params]
        endpoints.append(
            EndpointView(
                stream=stream,
                method_name=method,
                const=names.claim("_" + snake(stream.class_name).upper()),
                union=names.claim(stream.class_name + "Event"),
                sync_stream=names.claim(stream.class_name + "Stream"),
                async_stream=names.claim("Async" + stream.class_name + "Stream"),
                handlers=names.claim("_" + stream.class_name + "Handlers") if dispatch else None,
                error_exception=(
                    names.claim(stream.class_name + "Error") if stream.error is not None else None
                ),
                events=tuple(views),
                dispatch=dispatch,
                union_members=tuple(v.class_name for v in dispatch) or ("_rt.UnknownEvent",),
                positional=tuple(p for p in params if p.location == "path"),
                keyword=tuple(p for p in params if p.location != "path"),
                body_type=_model_ref(stream.body.model) if stream.body else None,
                body_required=bool(stream.body and stream.body.required),
                errors=tuple(errors),
                doc=_doc(stream),
            )
        )
    return all_events, all_errors, endpoints


def render_client(api: Api) -> dict[PurePosixPath, str]:
    """Files of the client side, relative to the generated package directory."""
    events, errors, endpoints = build_views(api)
    used = {e.data_type for e in events if e.data_type != "str"}
    used.update(ep.body_type for ep in endpoints if ep.body_type)
    exported = [*REEXPORTS, *(e.class_name for e in errors), *(e.class_name for e in events)]
    for ep in endpoints:
        exported += [ep.union, ep.sync_stream, ep.async_stream]
        exported += [ep.error_exception] if ep.error_exception else []
    exported += [f"{api.class_name}Client", f"Async{api.class_name}Client"]
    auth = api.auth_scheme
    credential: tuple[str, str, str | None, str | None]
    if auth.kind == "api_key":
        credential = ("api_key", "API key", auth.api_key_name or "X-API-Key", auth.api_key_in)
    else:
        credential = ("token", "bearer token", None, None)
    source = render(
        "client.py.jinja",
        api=api,
        events=events,
        errors=errors,
        endpoints=endpoints,
        reexports=REEXPORTS,
        models=sorted(used, key=all_sort_key),
        exported=sorted(exported, key=all_sort_key),
        credential_arg=credential[0],
        credential_label=credential[1],
        api_key_name=py_literal(credential[2]) if credential[2] else None,
        api_key_in=py_literal(credential[3] or "header"),
    )
    files = {PurePosixPath("client.py"): source}
    files.update(runtime_sources(RUNTIME_FILES))
    return files
