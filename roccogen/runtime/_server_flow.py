"""One stream request from first byte to last: checks, the handler task, writes, shutdown.

Copied verbatim into every generated package; imports only the standard library, starlette,
pydantic and its siblings ``_server_sse`` and ``_server_stream``.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from ._server_sse import (
    Authenticator,
    Forbidden,
    HttpError,
    MethodNotAllowed,
    PayloadTooLarge,
    ServerSettings,
    StreamClosed,
    StreamLifecycle,
    StreamSignal,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    error_response,
    json_safe,
    logger,
)
from ._server_stream import Endpoint, EventStream, Handler

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_KEEPALIVE = b": keep-alive\n\n"
_END: Message = {"type": "http.response.body", "body": b"", "more_body": False}
_START: Message = {"type": "http.response.start", "status": 200, "headers": SSE_HEADERS}


class _ClientGone(Exception):
    pass


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class StreamRoute:
    """The ASGI app of one endpoint: auth, params, ``Last-Event-ID``, body, then the stream."""

    def __init__(
        self,
        endpoint: Endpoint,
        handler: Handler,
        authenticator: Authenticator | None,
        settings: ServerSettings,
        registry: StreamRegistry,
        auth_challenge: str | None,
    ) -> None:
        self.endpoint = endpoint
        self.handler = handler
        self.settings = settings
        self.registry = registry
        self._authenticator = authenticator
        self._challenge = {"WWW-Authenticate": auth_challenge} if auth_challenge else None
        self._fields = {p.field: p for p in endpoint.params}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["method"] != self.endpoint.method:
                raise MethodNotAllowed(f"use {self.endpoint.method}")
            prepared = await self._prepare(Request(scope, receive), scope, receive)
        except HttpError as exc:
            headers = self._challenge if isinstance(exc, Unauthorized) else None
            await exc.response(headers)(scope, _no_receive, send)
            return
        except _ClientGone:
            return
        except Exception:  # noqa: BLE001  (an authenticator bug must still answer JSON)
            logger.exception("checking a request to %s failed", self.endpoint.name)
            await error_response(500, "INTERNAL_ERROR", "internal server error")(
                scope, _no_receive, send
            )
            return
        if self.registry.shutting_down:
            # 200 and a clean end: EventSource reconnects (to another instance) instead of failing.
            await send(_START)
            await send({"type": "http.response.body", "body": b": shutting down\n\n"})
            return
        await _StreamRun(self, prepared, scope).execute(receive, send)

    async def _prepare(self, request: Request, scope: Scope, receive: Receive) -> Any:
        ep = self.endpoint
        identity = None
        if ep.auth is not None and self._authenticator is not None:
            identity = await self._authenticator(request)
            if identity is None and ep.auth.required:
                raise Unauthorized("authentication required")
            if identity is not None:
                missing = ep.auth.missing(identity)
                if missing:
                    raise Forbidden("insufficient scopes or roles", details=missing)
        params = self._params(request, scope)
        last_event_id = self._last_event_id(scope) if ep.resumable else None
        body = None
        if ep.body_model is not None:
            body = await self._body(ep.body_model, request, receive)
        return ep.request_class(request, params, body, identity, last_event_id)

    def _params(self, request: Request, scope: Scope) -> BaseModel:
        raw: dict[str, str] = {}
        path_params = scope.get("path_params", {})
        for p in self.endpoint.params:
            if p.location == "path":
                value = path_params.get(p.key)
            elif p.location == "query":
                value = request.query_params.get(p.key)
            else:
                value = request.headers.get(p.key)
            if value is not None:
                raw[p.field] = value
        try:
            return self.endpoint.params_model.model_validate(raw)
        except ValidationError as exc:
            fields = []
            for err in exc.errors(include_url=False):
                spec = self._fields.get(str(err["loc"][0])) if err["loc"] else None
                fields.append(
                    {
                        "in": spec.location if spec else "query",
                        "name": spec.name if spec else "",
                        "message": err["msg"],
                        "type": err["type"],
                    }
                )
            raise ValidationFailed("invalid parameters", details={"fields": fields}) from None

    def _last_event_id(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name != b"last-event-id":
                continue
            problem = None
            if len(value) > self.settings.max_event_id_bytes:
                problem = f"longer than {self.settings.max_event_id_bytes} bytes"
            else:
                try:
                    text = value.decode("utf-8")
                except UnicodeDecodeError:
                    problem = "not UTF-8"
                else:
                    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
                        problem = "contains control characters"
            if problem is not None:
                field = {"in": "header", "name": "Last-Event-ID", "message": problem}
                raise ValidationFailed("invalid Last-Event-ID", details={"fields": [field]})
            return text or None
        return None

    async def _body(self, model: type[BaseModel], request: Request, receive: Receive) -> Any:
        limit = self.settings.max_body_bytes
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is over {limit} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        if not raw.strip():
            if not self.endpoint.body_required:
                return None
            field = {
                "in": "body",
                "name": "",
                "message": "a JSON body is required",
                "type": "missing",
            }
            raise ValidationFailed("request body is required", details={"fields": [field]})
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise UnsupportedMediaType("the body must be application/json")
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            fields = [
                {
                    "in": "body",
                    "name": ".".join(str(part) for part in err["loc"]),
                    "message": err["msg"],
                    "type": err["type"],
                }
                for err in exc.errors(include_url=False)
            ]
            raise ValidationFailed("invalid request body", details={"fields": fields}) from None


class _StreamRun:
    """One open stream: the handler task, the disconnect watcher and the writing loop."""

    def __init__(self, route: StreamRoute, request: Any, scope: Scope) -> None:
        ep = route.endpoint
        settings = route.settings
        self.route = route
        self.request = request
        self.scope = scope
        self.stream: EventStream = ep.stream_class(
            retry_ms=ep.retry_ms,
            max_buffer=settings.max_buffer_bytes,
            max_id_bytes=settings.max_event_id_bytes,
            require_id=ep.resumable,
        )
        self.keepalive = ep.keepalive if ep.keepalive is not None else settings.default_keepalive
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.task: asyncio.Task[None] | None = None
        self.finished = False
        self.opened = False
        self.completed = False
        self.error: Exception | None = None
        self.gone: str | None = None
        self.shutdown_reason: str | None = None

    async def execute(self, receive: Receive, send: Send) -> None:
        registry = self.route.registry
        self._signal(StreamSignal.EXECUTING)
        self.task = self.loop.create_task(self._call())
        watcher = self.loop.create_task(self._watch(receive))
        registry.add(self)
        try:
            await self._pump(send)
        finally:
            registry.discard(self)
            watcher.cancel()
            outcome = self._outcome()
            self.stream._close()
            if not self.task.done():
                self.task.cancel()
            await asyncio.wait({self.task, watcher}, timeout=self.route.settings.shutdown_grace)
            if not self.task.done():
                logger.warning("the %s handler ignored cancellation", self.route.endpoint.name)
            self._signal(*outcome)

    def _outcome(self) -> tuple[StreamSignal, BaseException | None, str | None]:
        if self.gone is not None:
            return StreamSignal.CLIENT_DISCONNECTED, None, self.gone
        if self.error is not None:
            return StreamSignal.ERROR, self.error, None
        if not self.finished:
            return StreamSignal.ERROR, None, "aborted"
        reason = self.shutdown_reason or ("closed" if self.stream.closed else "completed")
        return StreamSignal.ENDED, None, reason

    def _signal(
        self, signal: StreamSignal, error: BaseException | None = None, reason: str | None = None
    ) -> None:
        hooks = self.route.settings.hooks
        if hooks.active(signal):
            ep = self.route.endpoint
            hooks.emit(
                StreamLifecycle(
                    signal=signal,
                    endpoint=ep.name,
                    method=ep.method,
                    path=self.scope["path"],
                    duration=self.loop.time() - self.t0,
                    events=self.stream.events,
                    error=error,
                    reason=reason,
                    identity=self.request.identity,
                )
            )

    async def _call(self) -> None:
        try:
            await self.route.handler(self.request, self.stream)
        except StreamClosed:
            pass  # the client left, the stream ended or the server stopped: not a handler error
        except Exception as exc:  # noqa: BLE001  (any handler error ends the stream cleanly)
            if self.gone is None:
                self.error = exc
        finally:
            self.finished = True
            self.stream._wakeup.set()

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.lost("client disconnected")

    def lost(self, reason: str) -> None:
        """The client is gone (or too slow): close the stream, cancel the handler."""
        if self.gone is None and not self.completed:
            self.gone = reason
            logger.debug("%s: %s", self.route.endpoint.name, reason)
            self.stream._close()
            if self.task is not None and not self.task.done():
                self.task.cancel()

    def shutdown(self) -> None:
        """The server is stopping: set ``done``; the handler may still send until the grace ends."""
        self.shutdown_reason = "shutdown"
        self.stream._done.set()

    def expire(self) -> None:
        """The shutdown grace is over: close the stream and cancel the handler."""
        self.stream._close()
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _pump(self, send: Send) -> None:
        stream = self.stream
        chunks = stream._chunks
        keepalive = self.keepalive
        open_after = self.route.settings.open_after
        open_at = None if open_after is None else self.t0 + open_after
        if keepalive is not None:
            open_at = self.t0 + keepalive if open_at is None else min(open_at, self.t0 + keepalive)
        last = self.t0
        while self.gone is None:
            if chunks:
                if not self.opened and not await self._start(send):
                    return
                body = b"".join(chunks) if len(chunks) > 1 else chunks[0]
                chunks.clear()
                stream._buffered = 0
                stream._drained.set()
                message = {"type": "http.response.body", "body": body, "more_body": True}
                if not await self._write(send, message):
                    return
                last = self.loop.time()
                continue
            if self.finished:
                break
            if not self.opened and stream._open_requested:
                if not await self._start(send):
                    return
                last = self.loop.time()
                continue
            stream._wakeup.clear()
            deadline = (
                open_at if not self.opened else (None if keepalive is None else last + keepalive)
            )
            try:
                async with asyncio.timeout_at(deadline):
                    await stream._wakeup.wait()
            except TimeoutError:
                if not self.opened:
                    if not await self._start(send):
                        return
                    last = self.loop.time()
                else:
                    chunks.append(_KEEPALIVE)
        if self.gone is not None:
            return
        await self._finish(send)

    async def _finish(self, send: Send) -> None:
        error = self.error
        if error is not None:
            if isinstance(error, HttpError):
                logger.info("%s answered %s %s", self.route.endpoint.name, error.status, error.code)
            else:
                logger.error("the %s handler failed", self.route.endpoint.name, exc_info=error)
            if not self.opened:
                self.completed = True
                if isinstance(error, HttpError):
                    response = error.response()
                else:
                    response = error_response(500, "INTERNAL_ERROR", "internal server error")
                await response(self.scope, _no_receive, send)
                return
        if not self.opened and not await self._start(send):
            return
        if error is not None and not self.stream.closed:
            frame = self._error_frame(error)
            if frame is not None:
                self.stream.events += 1
                message = {"type": "http.response.body", "body": frame, "more_body": True}
                if not await self._write(send, message):
                    return
        self.completed = True
        await self._write(send, _END)

    def _error_frame(self, error: Exception) -> bytes | None:
        key = self.route.endpoint.error_event
        if key is None:
            return None
        kind = self.stream._by_key[key]
        if isinstance(error, HttpError):
            code, message, details = error.code, error.message, error.details
        else:
            code, message, details = "INTERNAL_ERROR", "internal server error", None
        data: object = message
        if kind.model is not None:
            candidates: list[dict[str, Any]] = [{"code": code, "message": message}]
            if details is not None:
                candidates.insert(
                    0, {"code": code, "message": message, "details": json_safe(details)}
                )
            for candidate in candidates:
                try:
                    data = kind.model.model_validate(candidate)
                    break
                except ValidationError:
                    continue
            else:
                logger.warning("%s cannot carry an error's code and message", kind.model.__name__)
                return None
        # The last id again: a reconnecting client resumes from the same place.
        last = self.stream.last_id
        return kind.encode(data, b"id: " + last.encode() + b"\n" if last is not None else b"")

    async def _start(self, send: Send) -> bool:
        self.opened = True
        if not await self._write(send, _START):
            return False
        self._signal(StreamSignal.STARTED)
        return True

    async def _write(self, send: Send, message: Message) -> bool:
        timeout = self.route.settings.send_timeout
        if self.route.registry.shutting_down:
            timeout = (
                self.route.settings.shutdown_grace
                if timeout is None
                else min(timeout, self.route.settings.shutdown_grace)
            )
        try:
            if timeout is None:
                await send(message)
            else:
                async with asyncio.timeout(timeout):
                    await send(message)
        except TimeoutError:
            logger.warning(
                "%s: dropping a client that did not read for %ss", self.route.endpoint.name, timeout
            )
            self.lost("send timeout")
            return False
        except OSError:
            self.lost("client disconnected")
            return False
        return True


class StreamRegistry:
    """The open streams of one app, and how they end when the server stops."""

    def __init__(self, settings: ServerSettings) -> None:
        self._settings = settings
        self._active: set[_StreamRun] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.shutting_down = False

    @property
    def active(self) -> int:
        """How many streams are open."""
        return len(self._active)

    def add(self, run: _StreamRun) -> None:
        """Track an open stream."""
        self._loop = run.loop
        self._active.add(run)

    def discard(self, run: _StreamRun) -> None:
        """Forget a finished stream."""
        self._active.discard(run)

    def begin_shutdown(self) -> None:
        """Set ``done`` on every open stream; cancel handlers still running after the grace."""
        if self.shutting_down:
            return
        self.shutting_down = True
        if self._active:
            logger.info("ending %d open stream(s)", len(self._active))
        for run in list(self._active):
            run.shutdown()
        asyncio.get_running_loop().call_later(self._settings.shutdown_grace, self._expire)

    def begin_shutdown_threadsafe(self) -> None:
        """``begin_shutdown`` from another thread (or a signal handler)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.begin_shutdown)

    def _expire(self) -> None:
        for run in list(self._active):
            run.expire()

    async def shutdown(self, timeout: float | None = None) -> None:
        """Begin the shutdown and wait (at most ``timeout`` seconds) until every stream ended."""
        self.begin_shutdown()
        limit = self._settings.shutdown_grace + 1.0 if timeout is None else timeout
        deadline = asyncio.get_running_loop().time() + limit
        while self._active and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """Starlette lifespan: chain the server's exit signals, end streams on the way out."""
        self._loop = asyncio.get_running_loop()
        restore = self._chain_signals() if self._settings.install_signal_handlers else None
        try:
            yield
        finally:
            if restore is not None:
                restore()
            await self.shutdown()

    def _chain_signals(self) -> Callable[[], None] | None:
        # uvicorn drains open responses before it runs the lifespan shutdown, so streams must
        # learn about the exit signal itself; its own handler still runs right after ours.
        if threading.current_thread() is not threading.main_thread():
            return None
        loop = asyncio.get_running_loop()
        installed: list[tuple[int, Any, Any]] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if callable(previous):
                handler = _chained(loop, self.begin_shutdown, previous)
                signal.signal(sig, handler)
                installed.append((sig, previous, handler))

        def restore() -> None:
            for sig, previous, handler in installed:
                if signal.getsignal(sig) is handler:
                    signal.signal(sig, previous)

        return restore


def _chained(
    loop: asyncio.AbstractEventLoop,
    begin: Callable[[], None],
    previous: Callable[[int, FrameType | None], Any],
) -> Callable[[int, FrameType | None], Any]:
    def handler(signum: int, frame: FrameType | None) -> Any:
        loop.call_soon_threadsafe(begin)
        return previous(signum, frame)

    return handler
