"""The frozen intermediate representation every input format ends in and every backend reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ParamLocation = Literal["path", "query", "header"]
ScalarType = Literal["string", "integer", "number", "boolean"]
EventRole = Literal["data", "terminal", "error"]
JsonScalar = str | int | float | bool | None


@dataclass(frozen=True)
class Param:
    """One path, query or header parameter of a stream endpoint."""

    name: str  # the name on the wire (path placeholder, query key, header name)
    py_name: str  # a safe Python identifier
    location: ParamLocation
    type: ScalarType
    required: bool
    description: str | None = None
    enum: tuple[JsonScalar, ...] | None = None
    default: JsonScalar = None
    has_default: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: float | int | None = None
    maximum: float | int | None = None
    exclusive_minimum: float | int | None = None
    exclusive_maximum: float | int | None = None


@dataclass(frozen=True)
class Event:
    """One kind of event a stream may send.

    ``name`` is the SSE ``event:`` field; an unnamed data event has name ``message`` and
    ``named=False`` (no ``event:`` line is written, which clients read as ``message``).
    ``model`` is the pydantic class name of the JSON payload, or None for plain string data.
    """

    name: str
    named: bool
    py_name: str  # method name on the server stream / handler key, e.g. ``price``
    class_name: str  # client event class, e.g. ``PriceEvent``
    model: str | None
    role: EventRole = "data"
    description: str | None = None
    # Terminal events only: the exact ``data`` that marks the end of the stream (``[DONE]``), for
    # dialects whose terminal event is an unnamed sentinel rather than a named event.
    sentinel: str | None = None


@dataclass(frozen=True)
class Body:
    """The JSON request body of a stream endpoint (POST streams)."""

    model: str
    required: bool = True
    description: str | None = None


@dataclass(frozen=True)
class Auth:
    """Authentication requirements, with rocco's semantics.

    ``scopes`` and ``roles`` are tuples of groups: the identity needs at least one entry of every
    group (OR inside a group, AND across groups).
    """

    required: bool
    scopes: tuple[tuple[str, ...], ...] = ()
    roles: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ErrorResponse:
    """An error the endpoint may answer with before the stream starts."""

    status: int
    code: str
    description: str | None = None
    py_name: str = ""  # exception class name, e.g. ``ChannelNotFoundError``


@dataclass(frozen=True)
class StreamEndpoint:
    """One Server-Sent Events endpoint."""

    name: str  # rocco handler name, e.g. ``price-stream``; also the operationId
    py_name: str  # snake_case identifier, e.g. ``price_stream``
    class_name: str  # PascalCase identifier, e.g. ``PriceStream``
    method: str  # upper case
    path: str
    summary: str | None
    description: str | None
    tags: tuple[str, ...]
    params: tuple[Param, ...]  # sorted: path params in template order, then query, header by name
    body: Body | None
    events: tuple[Event, ...]  # data events sorted by name (unnamed ``message`` included)
    terminal: Event | None
    error: Event | None
    keepalive_ms: int | None
    resumable: bool
    retry_ms: int | None
    auth: Auth | None
    errors: tuple[ErrorResponse, ...]  # sorted by status, then code

    @property
    def all_events(self) -> tuple[Event, ...]:
        """Data events, then the terminal event, then the error event."""
        extra = tuple(e for e in (self.terminal, self.error) if e is not None)
        return self.events + extra


@dataclass(frozen=True)
class Model:
    """A named JSON Schema that becomes a pydantic model."""

    name: str  # PascalCase class name
    # ``json.dumps(schema, ensure_ascii=False)`` keeping the spec's key order (property order is
    # field order); ``$ref``s point at ``#/components/schemas/<name>``.
    schema_json: str


@dataclass(frozen=True)
class AuthScheme:
    """How clients present credentials (for OpenAPI and the generated client)."""

    kind: Literal["bearer", "api_key"] = "bearer"
    api_key_name: str | None = None  # header/query/cookie name for api_key
    api_key_in: Literal["header", "query", "cookie"] | None = None


@dataclass(frozen=True)
class Api:
    """A whole spec: the contract between readers and backends."""

    package: str  # Python package name of the generated code
    class_name: str  # PascalCase stem: ``<class_name>Service``, ``<class_name>Client``
    title: str
    version: str
    description: str | None
    streams: tuple[StreamEndpoint, ...]  # sorted by name
    models: tuple[Model, ...]  # sorted by name
    auth_scheme: AuthScheme = field(default_factory=AuthScheme)
    source: str = ""  # the spec file, for messages only (never rendered)
