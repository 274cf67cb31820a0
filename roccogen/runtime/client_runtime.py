"""Client runtime of a generated package: typed events, dispatch, reconnection, idle timeout.

Copied verbatim into every generated package (as ``_client_runtime.py``, next to
``_client_decoder.py``, ``_client_errors.py`` and ``_client_stream.py``); it imports only the
standard library, httpx, httpx-sse and pydantic. Generated ``client.py`` modules are thin typed
wrappers around the classes here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Self, TypeAlias, TypeVar

import httpx
import httpx_sse
from httpx_sse import ServerSentEvent

from ._client_decoder import MAX_EVENT_BYTES, EventTooLargeError, Fields, SseDecoder
from ._client_errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    ContentTypeError,
    ErrorEventReceived,
    EventValidationError,
    ForbiddenError,
    IdleTimeoutError,
    NotFoundError,
    RateLimitedError,
    ReconnectExhaustedError,
    ServerError,
    StreamError,
    UnauthorizedError,
    UnknownEventError,
    UnprocessableEntityError,
    check_content_type,
    content_type_essence,
    status_error_class,
)
from ._client_stream import AsyncStream, HandlerRegistry, Stream, StreamCore
from ._client_types import (
    Endpoint,
    EventKind,
    InvalidPolicy,
    ReconnectPolicy,
    StreamOptions,
    StreamRequest,
    UnknownEvent,
    UnknownPolicy,
    json_model,
    text,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_EVENT_BYTES",
    "ApiError",
    "AsyncClientBase",
    "AsyncStream",
    "BadRequestError",
    "ClientBase",
    "ConflictError",
    "ContentTypeError",
    "Credentials",
    "Decorator",
    "Endpoint",
    "ErrorEventReceived",
    "EventKind",
    "EventSource",
    "EventTooLargeError",
    "EventValidationError",
    "Fields",
    "ForbiddenError",
    "Handler",
    "HandlerRegistry",
    "IdleTimeoutError",
    "InvalidPolicy",
    "NotFoundError",
    "RateLimitedError",
    "ReconnectExhaustedError",
    "ReconnectPolicy",
    "ServerError",
    "ServerSentEvent",
    "SseDecoder",
    "Stream",
    "StreamCore",
    "StreamError",
    "StreamOptions",
    "StreamRequest",
    "TypedEvent",
    "UnauthorizedError",
    "UnknownEvent",
    "UnknownEventError",
    "UnknownPolicy",
    "UnprocessableEntityError",
    "aconnect_sse",
    "api_key_credentials",
    "bearer_credentials",
    "connect_sse",
    "content_type_essence",
    "json_model",
    "status_error_class",
    "text",
]

DataT = TypeVar("DataT")
EvT = TypeVar("EvT")

Handler: TypeAlias = Callable[[EvT], object]
Decorator: TypeAlias = Callable[[Callable[[EvT], object]], Callable[[EvT], object]]

# Connect, write and pool limits apply; reads wait for as long as the stream lasts (use an idle
# timeout to bound silence between events).
DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=None)
MAX_LAST_EVENT_ID = 1024


class TypedEvent(Generic[DataT]):
    """One received event: its validated ``data``, its ``id`` and ``retry``, and ``raw``.

    ``raw`` (the ``httpx_sse.ServerSentEvent`` as received) is built when asked for: most
    consumers never look at it, and the stream reads faster without it. Events are values.
    """

    __slots__ = ("_fields", "data")
    __match_args__ = ("data", "id", "retry")
    event: ClassVar[str] = ""
    data: DataT

    def __init__(self, data: DataT, fields: Fields) -> None:
        self.data = data
        self._fields = fields  # (event, data text, id, retry) as decoded

    @property
    def id(self) -> str:
        """The last event ID when the event arrived ("" when none was set)."""
        return self._fields[2]

    @property
    def retry(self) -> int | None:
        """The ``retry`` field of the event's block, if any."""
        return self._fields[3]

    @property
    def raw(self) -> ServerSentEvent:
        """The event as received, with its data as text."""
        return ServerSentEvent(*self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, TypedEvent)
        return (self.data, self.id, self.retry) == (other.data, other.id, other.retry)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data={self.data!r}, id={self.id!r}, retry={self.retry!r})"


class EventSource(httpx_sse.EventSource):
    """httpx-sse's ``EventSource`` with the conformant decoder and the exact Content-Type check.

    For code written against httpx-sse that wants standard decoding and nothing else.
    """

    def _check_content_type(self) -> None:
        check_content_type(self.response)

    def iter_sse(self) -> Iterator[ServerSentEvent]:
        """The events of the response, decoded as the standard says."""
        self._check_content_type()
        decoder = SseDecoder()
        for chunk in self.response.iter_bytes():
            yield from decoder.feed(chunk)
        decoder.end()

    async def aiter_sse(self) -> AsyncGenerator[ServerSentEvent, None]:
        """The events of the response, decoded as the standard says (async)."""
        self._check_content_type()
        decoder = SseDecoder()
        async for chunk in self.response.aiter_bytes():
            for event in decoder.feed(chunk):
                yield event
        decoder.end()


@contextmanager
def connect_sse(
    client: httpx.Client, method: str, url: str, **kwargs: Any
) -> Iterator[EventSource]:
    """``httpx_sse.connect_sse``, yielding the conformant ``EventSource``."""
    with httpx_sse.connect_sse(client, method, url, **kwargs) as source:
        yield EventSource(source.response)


@asynccontextmanager
async def aconnect_sse(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> AsyncIterator[EventSource]:
    """``httpx_sse.aconnect_sse``, yielding the conformant ``EventSource``."""
    async with httpx_sse.aconnect_sse(client, method, url, **kwargs) as source:
        yield EventSource(source.response)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What authenticates each request: headers and query parameters."""

    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


def bearer_credentials(token: str | None) -> Credentials:
    """``Authorization: Bearer <token>`` (nothing when token is None)."""
    if token is None:
        return Credentials()
    _check_header_value("token", token)
    return Credentials(headers={"Authorization": f"Bearer {token}"})


def api_key_credentials(key: str | None, name: str, location: str) -> Credentials:
    """An API key in a header, query parameter or cookie (nothing when key is None)."""
    if key is None:
        return Credentials()
    if location == "query":
        return Credentials(params={name: key})
    if location == "cookie":
        return Credentials(headers={"Cookie": f"{name}={quote(key)}"})
    _check_header_value("api_key", key)
    return Credentials(headers={name: key})


def _check_header_value(what: str, value: str) -> None:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError(f"{what} must not contain CR, LF or NUL")


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def quote(text: str) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters (``/`` included)."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode())


def _wire(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _ClientCommon:
    """Request building shared by the sync and async clients."""

    _base_url: str
    _headers: dict[str, str]
    _credentials: Credentials
    _timeout: httpx.Timeout
    _defaults: StreamOptions

    def _configure(
        self,
        base_url: str | httpx.URL | None,
        headers: Mapping[str, str] | None,
        credentials: Credentials,
        timeout: float | httpx.Timeout | None,
        idle_timeout: float | None,
        reconnect: ReconnectPolicy | None,
        invalid_events: InvalidPolicy,
    ) -> None:
        self._base_url = str(base_url).rstrip("/") if base_url else ""
        self._headers = dict(headers or {})
        self._credentials = credentials
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._defaults = StreamOptions(
            invalid_events=invalid_events,
            reconnect=reconnect or ReconnectPolicy(),
            idle_timeout=idle_timeout,
        )

    def _prepare(
        self,
        endpoint: Endpoint,
        *,
        path: Mapping[str, object],
        query: Mapping[str, object],
        headers: Mapping[str, object],
        body: Any,
        last_event_id: str | None,
        extra_headers: Mapping[str, str] | None,
        timeout: float | httpx.Timeout | None,
        unknown_events: UnknownPolicy,
        invalid_events: InvalidPolicy | None,
        reconnect: ReconnectPolicy | None,
        idle_timeout: float | None,
    ) -> tuple[StreamRequest, StreamOptions]:
        url = endpoint.path
        for name, value in path.items():
            piece = _wire(value)
            if not piece:
                raise ValueError(f"path parameter {name!r} must not be empty")
            url = url.replace("{" + name + "}", quote(piece))
        params = dict(self._credentials.params)
        params.update((k, _wire(v)) for k, v in query.items() if v is not None)
        merged = dict(self._headers)
        merged.update(self._credentials.headers)
        merged.update((k, _wire(v)) for k, v in headers.items() if v is not None)
        if extra_headers:
            merged.update(extra_headers)
        content: bytes | None = None
        if body is not None:
            content = body.model_dump_json(by_alias=True, exclude_unset=True).encode()
            merged["Content-Type"] = "application/json"
        if last_event_id:
            if not endpoint.resumable:
                raise ValueError("last_event_id is only meaningful for a resumable stream")
            if len(last_event_id) > MAX_LAST_EVENT_ID or any(
                c in last_event_id for c in "\r\n\x00"
            ):
                raise ValueError("last_event_id must be short and free of CR, LF and NUL")
        chosen = self._timeout if timeout is None else timeout
        tmo = chosen if isinstance(chosen, httpx.Timeout) else httpx.Timeout(chosen)
        if tmo.read is None and endpoint.keepalive_ms:
            # Keep-alives are promised: three missed ones mean the connection is dead.
            tmo = httpx.Timeout(
                connect=tmo.connect,
                read=max(5.0, 3 * endpoint.keepalive_ms / 1000),
                write=tmo.write,
                pool=tmo.pool,
            )
        request = StreamRequest(
            method=endpoint.method,
            url=self._base_url + url,
            params=params,
            headers=merged,
            content=content,
            timeout=tmo,
            last_event_id=last_event_id or "",
        )
        options = StreamOptions(
            unknown_events=unknown_events,
            invalid_events=invalid_events or self._defaults.invalid_events,
            reconnect=reconnect or self._defaults.reconnect,
            idle_timeout=self._defaults.idle_timeout if idle_timeout is None else idle_timeout,
        )
        return request, options


class ClientBase(_ClientCommon):
    """Base of generated sync clients: owns (or borrows) an ``httpx.Client``."""

    def __init__(
        self,
        base_url: str | httpx.URL | None = None,
        *,
        http_client: httpx.Client | None = None,
        headers: Mapping[str, str] | None = None,
        credentials: Credentials | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        idle_timeout: float | None = None,
        reconnect: ReconnectPolicy | None = None,
        invalid_events: InvalidPolicy = "raise",
    ) -> None:
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self._configure(
            base_url,
            headers,
            credentials or Credentials(),
            timeout,
            idle_timeout,
            reconnect,
            invalid_events,
        )

    @property
    def http_client(self) -> httpx.Client:
        """The underlying httpx client."""
        return self._http

    def close(self) -> None:
        """Close the httpx client if this object created it."""
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClientBase(_ClientCommon):
    """Base of generated async clients: owns (or borrows) an ``httpx.AsyncClient``."""

    def __init__(
        self,
        base_url: str | httpx.URL | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        headers: Mapping[str, str] | None = None,
        credentials: Credentials | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        idle_timeout: float | None = None,
        reconnect: ReconnectPolicy | None = None,
        invalid_events: InvalidPolicy = "raise",
    ) -> None:
        self._owns_client = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self._configure(
            base_url,
            headers,
            credentials or Credentials(),
            timeout,
            idle_timeout,
            reconnect,
            invalid_events,
        )

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The underlying httpx client."""
        return self._http

    async def aclose(self) -> None:
        """Close the httpx client if this object created it."""
        if self._owns_client:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
