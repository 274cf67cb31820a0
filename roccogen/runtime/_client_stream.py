"""Stream objects: connection checks, typed conversion, dispatch, reconnection, idle timeout."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Generic, Self, TypeVar

import httpx
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse, connect_sse

from ._client_decoder import Fields, SseDecoder
from ._client_errors import (
    MAX_ERROR_BODY,
    ApiError,
    EventValidationError,
    IdleTimeoutError,
    ReconnectExhaustedError,
    StreamError,
    UnknownEventError,
    check_content_type,
    error_for_response,
)
from ._client_types import Endpoint, StreamOptions, StreamRequest, UnknownEvent

__all__ = ["AsyncStream", "HandlerRegistry", "Stream", "StreamCore"]

logger = logging.getLogger(__name__)

EvT = TypeVar("EvT")
_SKIP: Any = object()  # a received event that produces nothing (policy ignore / skip)


class HandlerRegistry:
    """Handlers registered per event (by the name given to ``on()``), and for undeclared events."""

    _by_key: dict[str, Any]  # key → EventKind of every event handlers may be registered for
    _handlers: dict[Any, list[Callable[[Any], object]]]  # event class → handlers
    _unknown_handlers: list[Callable[[UnknownEvent], object]]

    def _on(self, name: str, handler: Callable[[Any], object] | None) -> Any:
        kind = self._by_key.get(name)
        if kind is None:
            raise ValueError(f"{name!r} is not an event this stream can dispatch")

        def register(func: Callable[[Any], object]) -> Callable[[Any], object]:
            self._handlers.setdefault(kind.cls, []).append(func)
            return func

        return register if handler is None else register(handler)

    def on_unknown(
        self, handler: Callable[[UnknownEvent], object]
    ) -> Callable[[UnknownEvent], object]:
        """Register a handler for undeclared events (delivered with ``unknown_events="raw"``)."""
        self._unknown_handlers.append(handler)
        return handler

    def _handlers_for(self, event: object) -> list[Callable[[Any], object]]:
        if isinstance(event, UnknownEvent):
            return list(self._unknown_handlers)
        return self._handlers.get(type(event), [])


class StreamCore(HandlerRegistry, Generic[EvT]):
    """State and decisions shared by the sync and async streams."""

    def __init__(self, endpoint: Endpoint, request: StreamRequest, options: StreamOptions) -> None:
        self.endpoint = endpoint
        self.request = request
        self.options = options
        self.last_event_id = request.last_event_id  # sent as Last-Event-ID when reconnecting
        self.retry: int | None = None  # the server's reconnection time (ms), once it sent one
        self.reconnects = 0
        self.ignored_events = 0  # undeclared events dropped under the "ignore" policy
        self.skipped_events = 0  # invalid events dropped under the "skip" policy
        self._handlers = {}
        self._unknown_handlers = []
        every = [*endpoint.kinds.values(), *endpoint.sentinels.values()]
        self._by_key = {k.key: k for k in every if k.role != "error"}
        self._sentinels = endpoint.sentinels
        shadowed = {name for name, _ in endpoint.sentinels}
        self._fast = {
            name: (kind.parse, kind.cls)
            for name, kind in endpoint.kinds.items()
            if kind.role == "data" and name not in shadowed
        }
        self._ended = False  # the terminal event arrived
        self._finished = False
        self._connected_once = False
        self._since = time.monotonic()
        self._can_resume = endpoint.resumable and options.reconnect.max_attempts != 0

    def _convert(self, fields: Fields) -> Any:
        name, text, event_id, _ = fields
        kind = self._sentinels.get((name, text)) if self._sentinels else None
        if kind is None:
            kind = self.endpoint.kinds.get(name)
        if kind is None:
            policy = self.options.unknown_events
            if policy == "raw":
                return UnknownEvent(ServerSentEvent(*fields))
            if policy == "raise":
                raise UnknownEventError(ServerSentEvent(*fields))
            self.ignored_events += 1
            logger.debug("ignoring undeclared event %r (id=%r)", name, event_id)
            return _SKIP
        try:
            data = kind.parse(text)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            if self.options.invalid_events == "skip":
                self.skipped_events += 1
                logger.warning("skipping invalid %r event (id=%r): %s", name, event_id, exc)
                return _SKIP
            raise EventValidationError(ServerSentEvent(*fields), exc) from exc
        event = kind.cls(data, fields)
        if kind.error is not None:
            raise kind.error(event)
        if kind.role == "terminal":
            self._ended = True
        return event

    def _connect_args(self) -> tuple[str, str, dict[str, Any]]:
        req = self.request
        headers = dict(req.headers)
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        timeout = req.timeout
        idle = self.options.idle_timeout
        if idle is not None and (timeout.read is None or timeout.read > idle):
            # A read that waits longer than the idle timeout can only end in an idle timeout.
            timeout = httpx.Timeout(
                connect=timeout.connect, read=idle, write=timeout.write, pool=timeout.pool
            )
        kwargs: dict[str, Any] = {"params": req.params, "headers": headers, "timeout": timeout}
        if req.content is not None:
            kwargs["content"] = req.content
        return req.method, req.url, kwargs

    def _accept(self, response: httpx.Response) -> bool:
        """True to read the stream, False on 204; non-2xx is handled by the caller."""
        if response.status_code == 204:
            return False
        check_content_type(response)
        self._connected_once = True
        self._since = time.monotonic()
        return True

    def _api_error(self, response: httpx.Response, body: bytes) -> ApiError:
        return error_for_response(response, body, self.endpoint.errors)

    def _recoverable(self, exc: Exception) -> bool:
        """Whether a failure may be answered by reconnecting."""
        if isinstance(exc, StreamError) or not self._can_resume or not self._connected_once:
            return False
        return isinstance(exc, httpx.TransportError)

    def _idle(self, exc: Exception) -> IdleTimeoutError | None:
        idle = self.options.idle_timeout
        if idle is None or not isinstance(exc, httpx.ReadTimeout):
            return None
        if time.monotonic() - self._since < idle * 0.99:
            return None  # the user's own read timeout, shorter than the idle timeout
        return IdleTimeoutError(f"no event for {idle} s")

    def _backoff(self, failures: int, cause: BaseException | None) -> float:
        policy = self.options.reconnect
        if policy.max_attempts is not None and failures > policy.max_attempts:
            raise ReconnectExhaustedError(failures - 1, self.last_event_id) from cause
        return policy.delay(failures, self.retry, self.endpoint.retry_ms)


class Stream(StreamCore[EvT]):
    """A sync event stream: a context manager and an iterator of typed events."""

    def __init__(
        self,
        client: httpx.Client,
        endpoint: Endpoint,
        request: StreamRequest,
        options: StreamOptions,
    ) -> None:
        super().__init__(endpoint, request, options)
        self._client = client
        self._cm: AbstractContextManager[EventSource] | None = None
        self._response: httpx.Response | None = None
        self._gen: Generator[EvT, None, None] | None = None

    @property
    def response(self) -> httpx.Response | None:
        """The current HTTP response (None before connecting and after closing)."""
        return self._response

    def _open(self) -> bool:
        method, url, kwargs = self._connect_args()
        cm = connect_sse(self._client, method, url, **kwargs)
        response = cm.__enter__().response
        try:
            if not response.is_success:
                body = bytearray()
                for part in response.iter_bytes():
                    body += part
                    if len(body) >= MAX_ERROR_BODY:
                        break
                raise self._api_error(response, bytes(body))
            if not self._accept(response):
                cm.__exit__(None, None, None)
                return False
        except BaseException:
            cm.__exit__(None, None, None)
            raise
        self._cm, self._response = cm, response
        return True

    def _drop(self) -> None:
        cm, self._cm, self._response = self._cm, None, None
        if cm is not None:
            cm.__exit__(None, None, None)

    def _events(self) -> Generator[EvT, None, None]:
        failures = 0
        idle = self.options.idle_timeout
        clock = time.monotonic
        fast = self._fast
        new = object.__new__
        try:
            while not self._finished:
                cause: Exception | None = None
                try:
                    if self._response is None and not self._open():
                        return
                    assert self._response is not None
                    decoder = SseDecoder(self.last_event_id)
                    feed = decoder.feed_fields
                    for chunk in self._response.iter_bytes():
                        batch = feed(chunk)
                        if decoder.retry is not None:
                            self.retry = decoder.retry
                        if batch:
                            failures = 0
                            # Converted one at a time, so each event dies young (cheap for the GC).
                            for fields in batch:
                                entry = fast.get(fields[0])
                                if entry is not None:
                                    parse, make = entry
                                    try:
                                        data = parse(fields[1])
                                    except ValueError:
                                        pass  # the slow path below applies the policy
                                    else:
                                        # TypedEvent.__init__, inlined: this loop is the client's hot path.
                                        event = new(make)
                                        event.data = data
                                        event._fields = fields
                                        self.last_event_id = fields[2]
                                        yield event
                                        continue
                                event = self._convert(fields)
                                if event is not _SKIP:
                                    self.last_event_id = fields[2]
                                    yield event
                                if self._ended:
                                    return
                            if idle is not None:
                                self._since = clock()
                        elif idle is not None and clock() - self._since >= idle:
                            raise IdleTimeoutError(f"no event for {idle} s")
                        self.last_event_id = decoder.last_event_id
                    decoder.end()
                except Exception as exc:
                    idle_error = self._idle(exc)
                    if idle_error is not None:
                        raise idle_error from exc
                    if not self._recoverable(exc):
                        raise
                    cause = exc
                self._drop()
                if not self._can_resume:
                    return
                failures += 1
                delay = self._backoff(failures, cause)
                logger.info("reconnecting in %.2f s (last event id %r)", delay, self.last_event_id)
                time.sleep(delay)
                self.reconnects += 1
        finally:
            self._finished = True
            self._drop()

    def __enter__(self) -> Self:
        fresh = self._response is None and not self._finished and self._gen is None
        if fresh and not self._open():
            self._finished = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[EvT]:
        if self._gen is None:
            self._gen = self._events()
        return self._gen  # iterating the generator itself saves a call per event

    def __next__(self) -> EvT:
        if self._gen is None:
            self._gen = self._events()
        return next(self._gen)

    def close(self) -> None:
        """Stop reading and close the connection (safe to call more than once)."""
        self._finished = True
        if self._gen is not None:
            self._gen.close()
        self._drop()

    def run(self) -> None:
        """Read the whole stream, calling the handlers registered with ``on()`` for each event."""
        with self:
            for event in self:
                for handler in self._handlers_for(event):
                    handler(event)


class AsyncStream(StreamCore[EvT]):
    """An async event stream: an async context manager and an async iterator of typed events."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        endpoint: Endpoint,
        request: StreamRequest,
        options: StreamOptions,
    ) -> None:
        super().__init__(endpoint, request, options)
        self._client = client
        self._cm: AbstractAsyncContextManager[EventSource] | None = None
        self._response: httpx.Response | None = None
        self._gen: AsyncGenerator[EvT, None] | None = None

    @property
    def response(self) -> httpx.Response | None:
        """The current HTTP response (None before connecting and after closing)."""
        return self._response

    async def _open(self) -> bool:
        method, url, kwargs = self._connect_args()
        cm = aconnect_sse(self._client, method, url, **kwargs)
        response = (await cm.__aenter__()).response
        try:
            if not response.is_success:
                body = bytearray()
                async for part in response.aiter_bytes():
                    body += part
                    if len(body) >= MAX_ERROR_BODY:
                        break
                raise self._api_error(response, bytes(body))
            if not self._accept(response):
                await cm.__aexit__(None, None, None)
                return False
        except BaseException:
            await cm.__aexit__(None, None, None)
            raise
        self._cm, self._response = cm, response
        return True

    async def _drop(self) -> None:
        cm, self._cm, self._response = self._cm, None, None
        if cm is not None:
            await cm.__aexit__(None, None, None)

    async def _chunks(self, response: httpx.Response) -> AsyncGenerator[bytes, None]:
        idle = self.options.idle_timeout
        chunks = response.aiter_bytes()
        try:
            if idle is None:
                async for chunk in chunks:
                    yield chunk
                return
            while True:
                remaining = self._since + idle - time.monotonic()
                try:
                    async with asyncio.timeout(max(0.0, remaining)):
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise IdleTimeoutError(f"no event for {idle} s") from None
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    async def _events(self) -> AsyncGenerator[EvT, None]:
        failures = 0
        idle = self.options.idle_timeout
        fast = self._fast
        new = object.__new__
        try:
            while not self._finished:
                cause: Exception | None = None
                try:
                    if self._response is None and not await self._open():
                        return
                    assert self._response is not None
                    decoder = SseDecoder(self.last_event_id)
                    chunks = self._chunks(self._response)
                    try:
                        async for chunk in chunks:
                            batch = decoder.feed_fields(chunk)
                            if decoder.retry is not None:
                                self.retry = decoder.retry
                            if batch:
                                failures = 0
                                for fields in batch:
                                    entry = fast.get(fields[0])
                                    if entry is not None:
                                        parse, make = entry
                                        try:
                                            data = parse(fields[1])
                                        except ValueError:
                                            pass  # the slow path below applies the policy
                                        else:
                                            # TypedEvent.__init__, inlined: this loop is the client's hot path.
                                            event = new(make)
                                            event.data = data
                                            event._fields = fields
                                            self.last_event_id = fields[2]
                                            yield event
                                            continue
                                    event = self._convert(fields)
                                    if event is not _SKIP:
                                        self.last_event_id = fields[2]
                                        yield event
                                    if self._ended:
                                        return
                                if idle is not None:
                                    self._since = time.monotonic()
                            self.last_event_id = decoder.last_event_id
                    finally:
                        await chunks.aclose()
                    decoder.end()
                except Exception as exc:
                    idle_error = self._idle(exc)
                    if idle_error is not None:
                        raise idle_error from exc
                    if not self._recoverable(exc):
                        raise
                    cause = exc
                await self._drop()
                if not self._can_resume:
                    return
                failures += 1
                delay = self._backoff(failures, cause)
                logger.info("reconnecting in %.2f s (last event id %r)", delay, self.last_event_id)
                await asyncio.sleep(delay)
                self.reconnects += 1
        finally:
            self._finished = True
            await self._drop()

    async def __aenter__(self) -> Self:
        fresh = self._response is None and not self._finished and self._gen is None
        if fresh and not await self._open():
            self._finished = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[EvT]:
        if self._gen is None:
            self._gen = self._events()
        return self._gen

    async def __anext__(self) -> EvT:
        if self._gen is None:
            self._gen = self._events()
        return await anext(self._gen)

    async def aclose(self) -> None:
        """Stop reading and close the connection (safe to call more than once)."""
        self._finished = True
        if self._gen is not None:
            await self._gen.aclose()
        await self._drop()

    async def run(self) -> None:
        """Read the whole stream, calling (and awaiting) the handlers registered with ``on()``."""
        async with self:
            async for event in self:
                for handler in self._handlers_for(event):
                    result = handler(event)
                    if inspect.isawaitable(result):
                        await result
