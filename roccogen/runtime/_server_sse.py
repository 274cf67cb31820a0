"""Server-Sent Events wire format, JSON errors, auth rules, lifecycle hooks and settings.

Copied verbatim into every generated package next to ``_server_runtime.py``; imports only the
standard library, starlette and pydantic.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

logger = logging.getLogger(__name__.rpartition(".")[0] + ".server")

_FORBIDDEN = ("\r", "\n", "\x00")


class SseFieldError(ValueError):
    """An event name, id or comment contains CR, LF or NUL and would forge SSE fields."""


class StreamClosed(RuntimeError):
    """The stream no longer accepts frames: the client left, it ended, or the server stopped."""


class ConfigurationError(RuntimeError):
    """The app cannot be built as configured (e.g. auth required but no authenticator)."""


def check_field(kind: str, value: str) -> bytes:
    """``value`` as UTF-8, refusing CR, LF and NUL (they would end the field or the event)."""
    if "\r" in value or "\n" in value or "\x00" in value:
        raise SseFieldError(f"SSE {kind} must not contain CR, LF or NUL: {value!r}")
    return value.encode("utf-8")


def encode_comment(text: str) -> bytes:
    """One comment frame; CR, LF and NUL are refused."""
    raw = check_field("comment", text)
    return b": " + raw + b"\n\n" if raw else b":\n\n"


def encode_text(text: str) -> bytes:
    """``data:`` lines for plain string data; CRLF, CR and LF each start a new data line."""
    if "\n" not in text and "\r" not in text:
        return b"data: " + text.encode("utf-8") + b"\n"
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return b"".join(b"data: " + line.encode("utf-8") + b"\n" for line in lines)


class EventKind:
    """One declared event: its wire name, payload type and pre-encoded ``event:`` line."""

    __slots__ = ("key", "model", "name", "named", "prefix", "role")

    def __init__(
        self,
        key: str,
        name: str,
        *,
        named: bool,
        model: type[BaseModel] | None,
        role: str = "data",
    ) -> None:
        self.key = key
        self.name = name
        self.named = named
        self.model = model
        self.role = role
        self.prefix = b"event: " + check_field("event name", name) + b"\n" if named else b""

    def encode(self, data: object, head: bytes) -> bytes:
        """The whole frame: ``head`` (id/retry lines), the event line, the data lines."""
        model = self.model
        if model is None:
            if not isinstance(data, str):
                raise TypeError(f"event {self.name!r} carries str data, got {type(data).__name__}")
            return head + self.prefix + encode_text(data) + b"\n"
        if not isinstance(data, model):
            raise TypeError(
                f"event {self.name!r} carries {model.__name__}, got {type(data).__name__}"
            )
        # JSON on one line: pydantic escapes control characters inside strings.
        payload = data.__pydantic_serializer__.to_json(data, by_alias=True, exclude_unset=True)
        return b"%s%sdata: %s\n\n" % (head, self.prefix, payload)


# ---------------------------------------------------------------------------------------------
# JSON errors, rocco's shape: {"code": ..., "message": ..., "details": ...}


def error_body(code: str, message: str, details: object = None) -> bytes:
    """The JSON bytes of one error."""
    doc: dict[str, object] = {"code": code, "message": message}
    if details is not None:
        doc["details"] = details
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def error_response(
    status: int,
    code: str,
    message: str,
    details: object = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON error response."""
    return Response(
        error_body(code, message, details),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json",
    )


class HttpError(Exception):
    """An error answered before the stream starts, as ``{code, message, details}``."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str = "", *, details: object = None) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details

    def response(self, headers: Mapping[str, str] | None = None) -> Response:
        """This error as a JSON response."""
        return error_response(self.status, self.code, self.message, self.details, headers)


class ValidationFailed(HttpError):
    """Parameters, ``Last-Event-ID`` or the body did not validate: 422."""

    status = 422
    code = "VALIDATION_FAILED"


class PayloadTooLarge(HttpError):
    """The request body is over ``max_body_bytes``: 413."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(HttpError):
    """A body that is not JSON: 415."""

    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class MethodNotAllowed(HttpError):
    """The endpoint is not served for this method: 405."""

    status = 405
    code = "METHOD_NOT_ALLOWED"


class DeclaredError(HttpError):
    """Base of the errors a spec declares; generated subclasses fix ``status`` and ``code``.

    Raised by a handler before its first event it becomes the HTTP status and JSON body; after
    the first event it becomes the endpoint's error event, then the stream closes.
    """


class Unauthorized(HttpError):
    """No or bad credentials: 401."""

    status = 401
    code = "UNAUTHORIZED"


class Forbidden(HttpError):
    """Credentials fine, permissions not: 403."""

    status = 403
    code = "FORBIDDEN"


# ---------------------------------------------------------------------------------------------
# Authentication


@dataclass(frozen=True)
class Identity:
    """Who is calling, as the authenticator established it."""

    id: str
    scopes: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    tenant_id: str | None = None
    claims: Mapping[str, object] = field(default_factory=dict)

    def has_scope(self, scope: str) -> bool:
        """True when the identity holds ``scope``."""
        return scope in self.scopes

    def has_role(self, role: str) -> bool:
        """True when the identity holds ``role``."""
        return role in self.roles


Authenticator = Callable[[Request], Awaitable[Identity | None]]
"""Returns the caller's identity, or None when no credentials were presented.

Raise ``Unauthorized`` for bad credentials (401 even on endpoints where auth is optional)."""


@dataclass(frozen=True)
class AccessRule:
    """rocco's auth: groups of scopes and roles, OR inside a group, AND across groups."""

    required: bool
    scopes: tuple[tuple[str, ...], ...] = ()
    roles: tuple[tuple[str, ...], ...] = ()

    def missing(self, identity: Identity) -> dict[str, list[list[str]]]:
        """The groups ``identity`` satisfies no entry of (empty when permitted)."""
        out: dict[str, list[list[str]]] = {}
        scopes = [list(g) for g in self.scopes if not any(s in identity.scopes for s in g)]
        roles = [list(g) for g in self.roles if not any(r in identity.roles for r in g)]
        if scopes:
            out["scopes"] = scopes
        if roles:
            out["roles"] = roles
        return out


# ---------------------------------------------------------------------------------------------
# Lifecycle hooks


class StreamSignal(StrEnum):
    """rocco's stream lifecycle signals."""

    EXECUTING = "http.stream.executing"
    STARTED = "http.stream.started"
    ENDED = "http.stream.ended"
    CLIENT_DISCONNECTED = "http.stream.client.disconnected"
    ERROR = "http.stream.error"


@dataclass(frozen=True)
class StreamLifecycle:
    """What a hook receives.

    Every stream emits ``executing``, usually ``started``, then exactly one of ``ended``,
    ``client.disconnected`` or ``error``. ``duration`` is seconds since ``executing``;
    ``events`` counts events (not comments) handed to the stream.
    """

    signal: StreamSignal
    endpoint: str
    method: str
    path: str
    duration: float
    events: int
    error: BaseException | None = None
    reason: str | None = None
    identity: Identity | None = None


Hook = Callable[[StreamLifecycle], None]


class StreamHooks:
    """Subscribe callables to lifecycle signals; a failing hook is logged, never propagated."""

    def __init__(self) -> None:
        self._subscribers: dict[StreamSignal, list[Hook]] = {s: [] for s in StreamSignal}

    def subscribe(self, signal: StreamSignal | str, hook: Hook) -> Callable[[], None]:
        """Call ``hook`` on every ``signal``; returns a function that unsubscribes it."""
        hooks = self._subscribers[StreamSignal(signal)]
        hooks.append(hook)

        def unsubscribe() -> None:
            if hook in hooks:
                hooks.remove(hook)

        return unsubscribe

    def subscribe_all(self, hook: Hook) -> Callable[[], None]:
        """Call ``hook`` on every signal."""
        undo = [self.subscribe(s, hook) for s in StreamSignal]

        def unsubscribe() -> None:
            for u in undo:
                u()

        return unsubscribe

    def active(self, signal: StreamSignal) -> bool:
        """True when someone listens to ``signal``."""
        return bool(self._subscribers[signal])

    def emit(self, info: StreamLifecycle) -> None:
        """Deliver ``info`` to the subscribers of its signal."""
        for hook in tuple(self._subscribers[info.signal]):
            try:
                hook(info)
            except Exception:
                logger.exception("stream hook %r failed on %s", hook, info.signal.value)


# ---------------------------------------------------------------------------------------------
# Settings


@dataclass
class ServerSettings:
    """Knobs of the generated server; every field has a safe default.

    - ``max_body_bytes``: request bodies above this are refused with 413.
    - ``send_timeout``: seconds one write may block on a slow client before it is dropped
      (None: never).
    - ``max_buffer_bytes``: frames queued beyond this make ``send`` wait for the client.
    - ``open_after``: seconds after which the response headers go out even if the handler has
      sent nothing yet (None: wait for the first frame, ``stream.open()`` or a keep-alive).
    - ``default_keepalive``: keep-alive interval (seconds) for endpoints whose spec sets none.
    - ``shutdown_grace``: seconds streams get after ``done`` fires on shutdown before their
      handlers are cancelled.
    - ``max_event_id_bytes``: longest accepted ``Last-Event-ID`` (and longest ``id`` sent).
    - ``install_signal_handlers``: chain SIGINT/SIGTERM (uvicorn's) to end streams on shutdown.
    - ``serve_openapi``: serve ``/openapi.json``.
    """

    max_body_bytes: int = 1024 * 1024
    send_timeout: float | None = 30.0
    max_buffer_bytes: int = 256 * 1024
    open_after: float | None = 0.5
    default_keepalive: float | None = None
    shutdown_grace: float = 5.0
    max_event_id_bytes: int = 256
    install_signal_handlers: bool = True
    serve_openapi: bool = True
    hooks: StreamHooks = field(default_factory=StreamHooks)


def monotonic() -> float:
    """The clock durations are measured with."""
    return time.monotonic()


def json_safe(value: Any) -> Any:
    """``value`` reduced to JSON types (pydantic error contexts may hold exceptions)."""
    return json.loads(json.dumps(value, default=str))
