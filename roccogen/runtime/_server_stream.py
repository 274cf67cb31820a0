"""The typed request and event-stream bases of a generated server, and endpoint descriptions.

Copied verbatim into every generated package; imports only the standard library, starlette,
pydantic and its sibling ``_server_sse``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel
from starlette.requests import Request

from ._server_sse import (
    AccessRule,
    EventKind,
    Identity,
    SseFieldError,
    StreamClosed,
    check_field,
    encode_comment,
)

ParamsT = TypeVar("ParamsT", bound=BaseModel)
BodyT = TypeVar("BodyT")


class StreamRequest(Generic[ParamsT, BodyT]):
    """What a handler receives besides its stream: validated params, body and identity."""

    __slots__ = ("_identity", "_last_event_id", "body", "http", "params")

    def __init__(
        self,
        http: Request,
        params: ParamsT,
        body: BodyT,
        identity: Identity | None,
        last_event_id: str | None,
    ) -> None:
        self.http = http
        self.params = params
        self.body = body
        self._identity = identity
        self._last_event_id = last_event_id

    @property
    def identity(self) -> Identity | None:
        """What the authenticator returned (None: anonymous, or the endpoint has no auth)."""
        return self._identity


class Flag:
    """An event to await, like ``asyncio.Event`` (``wait``, ``is_set``, ``set``, ``clear``).

    Smaller than ``asyncio.Event`` (which carries a deque): a server holds three per stream.
    """

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        """True once set (until cleared)."""
        return self._set

    def set(self) -> None:
        """Set the flag and wake every waiter."""
        if not self._set:
            self._set = True
            waiters, self._waiters = self._waiters, None
            for future in waiters or ():
                if not future.done():
                    future.set_result(None)

    def clear(self) -> None:
        """Unset the flag."""
        self._set = False

    async def wait(self) -> bool:
        """Return once the flag is set (at once if it is)."""
        if self._set:
            return True
        future = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = [future]
        else:
            self._waiters.append(future)
        try:
            await future
        finally:
            if self._waiters is not None and future in self._waiters:
                self._waiters.remove(future)
        return True


class EventStream:
    """The push side of one SSE response; generated subclasses add one typed method per event.

    Frames queue in memory and are written by the response task, many per write; ``send`` waits
    only when more than ``max_buffer_bytes`` are queued (the client is slower than the handler).
    """

    KINDS: ClassVar[tuple[EventKind, ...]] = ()
    _by_key: ClassVar[dict[str, EventKind]] = {}
    _by_name: ClassVar[dict[str, EventKind]] = {}

    __slots__ = (
        "_buffered",
        "_chunks",
        "_closed",
        "_direct",
        "_done",
        "_drained",
        "_max_buffer",
        "_max_id",
        "_open_requested",
        "_require_id",
        "_retry_line",
        "_wakeup",
        "events",
        "last_id",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._by_key = {}
        cls._by_name = {}
        for kind in cls.KINDS:
            cls._by_key[kind.key] = kind
            if kind.named and kind.role == "data":
                cls._by_name[kind.name] = kind

    def __init__(
        self,
        *,
        retry_ms: int | None,
        max_buffer: int,
        max_id_bytes: int,
        require_id: bool = False,
    ) -> None:
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._wakeup = Flag()
        self._drained = Flag()
        self._done = Flag()
        # The response's writer once the stream is open: lone events skip the queue.
        self._direct: Any = None
        self._closed = False
        self._open_requested = False
        self._retry_line = b"retry: %d\n" % retry_ms if retry_ms is not None else b""
        self._max_buffer = max_buffer
        self._max_id = max_id_bytes
        self._require_id = require_id
        self.last_id: str | None = None
        self.events = 0

    @property
    def done(self) -> Flag:
        """Set when the client goes away, the stream ended, or the server is shutting down."""
        return self._done

    @property
    def closed(self) -> bool:
        """True once no more frames are accepted."""
        return self._closed

    async def open(self) -> None:
        """Send the response headers now, before the first event (ends the 'error → status' phase)."""
        if self._closed:
            raise StreamClosed("the stream is closed")
        self._open_requested = True
        self._wakeup.set()

    async def send_comment(self, text: str) -> None:
        """A comment frame (``: text``); CR, LF and NUL are refused."""
        await self._push(encode_comment(text))

    def _head(self, id: str | None, retry: int | None) -> bytes:
        head = self._retry_line
        if retry is not None:
            if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
                raise ValueError(f"retry must be a non-negative int of milliseconds: {retry!r}")
            head = b"retry: %d\n" % retry
        if id is not None:
            raw = check_field("id", id)
            if len(raw) > self._max_id:
                raise SseFieldError(f"SSE id longer than {self._max_id} bytes")
            head += b"id: " + raw + b"\n"
        return head

    async def _emit(self, key: str, data: object, id: str | None, retry: int | None) -> None:
        if self._closed:
            raise StreamClosed("the stream is closed")
        kind = self._by_key[key]
        if id is None and self._require_id and kind.role != "error":
            raise ValueError(f"every event of this resumable stream needs an id ({kind.name!r})")
        if id is None and retry is None and not self._retry_line:
            frame = kind.encode(data, b"")
        else:
            frame = kind.encode(data, self._head(id, retry))
            # Only an event that was actually queued consumes the retry hint and moves the id.
            self._retry_line = b""
            if id is not None:
                self.last_id = id
        self.events += 1
        await self._push(frame)

    async def _emit_final(self, key: str, data: object, id: str | None, retry: int | None) -> None:
        await self._emit(key, data, id, retry)
        self._close()

    async def _emit_named(self, name: str, data: object, id: str | None, retry: int | None) -> None:
        check_field("event name", name)
        kind = self._by_name.get(name)
        if kind is None:
            raise ValueError(f"event {name!r} is not a declared data event of this stream")
        await self._emit(kind.key, data, id, retry)

    async def _push(self, frame: bytes) -> None:
        if self._closed:
            raise StreamClosed("the stream is closed")
        direct = self._direct
        if direct is not None and not self._chunks and direct.can_write_now():
            await direct.write_now(frame)
            return
        self._chunks.append(frame)
        self._buffered += len(frame)
        self._wakeup.set()
        if self._buffered > self._max_buffer:
            self._drained.clear()
            await self._drained.wait()
            if self._closed and self._chunks:
                raise StreamClosed("the stream closed before the frame was written")

    def _close(self) -> None:
        self._closed = True
        self._done.set()
        self._drained.set()
        self._wakeup.set()


@dataclass(frozen=True)
class ParamSpec:
    """Where one parameter comes from: ``field`` of the params model, ``key`` in the request.

    ``type`` is the spec's scalar type: numbers and booleans are converted from their text
    before validation, so that enums of them (``Literal[1, 2]``) match.
    """

    name: str
    location: str
    field: str
    key: str
    type: str = "string"

    def convert(self, text: str) -> object:
        """``text`` as the parameter's type when it is spelled as one, else unchanged."""
        kind = self.type
        if kind == "integer" and _INTEGER.match(text):
            return int(text)
        if kind == "number" and _NUMBER.match(text):
            return float(text)
        if kind == "boolean":
            return _BOOLEANS.get(text.lower(), text)
        return text


def one_of(*values: object) -> AfterValidator:
    """A validator for enums a ``Literal`` cannot spell (numbers): the value is one of these."""

    def check(value: object) -> object:
        if value not in values:
            raise ValueError(f"Input should be one of {', '.join(map(repr, values))}")
        return value

    return AfterValidator(check)


_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True}
_BOOLEANS.update({"false": False, "0": False, "no": False, "off": False})


@dataclass(frozen=True)
class Endpoint:
    """Everything the runtime needs about one stream endpoint (built by generated code)."""

    name: str
    handler: str
    method: str
    path: str
    params_model: type[BaseModel]
    params: tuple[ParamSpec, ...]
    body_model: type[BaseModel] | None
    body_required: bool
    request_class: type[StreamRequest[Any, Any]]
    stream_class: type[EventStream]
    keepalive: float | None
    resumable: bool
    retry_ms: int | None
    auth: AccessRule | None
    error_event: str | None


Handler = Callable[[Any, Any], Awaitable[None]]
