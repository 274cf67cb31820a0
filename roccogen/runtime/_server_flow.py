"""One stream from first byte to last: the handler task, the disconnect watcher, coalesced
writes, keep-alives, the send timeout, errors after the first event, and shutdown.

Copied verbatim into every generated package; imports only the standard library, starlette,
pydantic and its siblings.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.types import Message, Receive, Scope, Send

from ._server_sse import (
    HttpError,
    StreamClosed,
    StreamLifecycle,
    StreamSignal,
    error_response,
    json_safe,
    logger,
)
from ._server_stream import EventStream

if TYPE_CHECKING:
    from ._server_route import StreamRoute

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_KEEPALIVE = b": keep-alive\n\n"
_END: Message = {"type": "http.response.body", "body": b"", "more_body": False}
START: Message = {"type": "http.response.start", "status": 200, "headers": SSE_HEADERS}


async def no_receive() -> Message:
    return {"type": "http.disconnect"}


class StreamRun:
    """One open stream: the handler task, the disconnect watcher and the writing loop."""

    __slots__ = (
        "_keepalive_timer",
        "_open_timer",
        "completed",
        "error",
        "finished",
        "gone",
        "keepalive",
        "last_write",
        "loop",
        "opened",
        "pump_task",
        "pump_waiting",
        "request",
        "route",
        "scope",
        "send",
        "shutdown_reason",
        "stream",
        "t0",
        "task",
        "timed_out",
        "writing",
        "writing_since",
    )

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
        self.writing_since: float | None = None
        self.timed_out = False
        self.pump_task: asyncio.Task[Any] | None = None
        self.last_write = self.t0
        self.send: Send | None = None
        self.writing = False  # the handler is writing an event itself (see ``write_now``)
        self.pump_waiting = False
        self._open_timer: asyncio.TimerHandle | None = None
        self._keepalive_timer: asyncio.TimerHandle | None = None

    async def execute(self, receive: Receive, send: Send) -> None:
        registry = self.route.registry
        self._signal(StreamSignal.EXECUTING)
        self.task = self.loop.create_task(self._call())
        watcher = self.loop.create_task(self._watch(receive))
        self.pump_task = asyncio.current_task()
        self.send = send
        registry.add(self)
        self._arm_timers()
        try:
            await self._pump(send)
        except asyncio.CancelledError:
            if not self._own_cancel():
                raise
        finally:
            registry.discard(self)
            for timer in (self._open_timer, self._keepalive_timer):
                if timer is not None:
                    timer.cancel()
            watcher.cancel()
            closed_by_event = self.stream.closed and self.gone is None
            grace = self.route.settings.shutdown_grace
            if closed_by_event and self.completed and not self.task.done():
                # The response ended after a terminal/error event: let the handler finish.
                await asyncio.wait({self.task}, timeout=grace)
            self.stream._close()
            if not self.task.done():
                self.task.cancel()
            await asyncio.wait({self.task, watcher}, timeout=grace)
            if not self.task.done():
                logger.warning("the %s handler ignored cancellation", self.route.endpoint.name)
            self._signal(*self._outcome(closed_by_event))

    def _outcome(
        self, closed_by_event: bool
    ) -> tuple[StreamSignal, BaseException | None, str | None]:
        if self.gone is not None:
            return StreamSignal.CLIENT_DISCONNECTED, None, self.gone
        if self.error is not None:
            return StreamSignal.ERROR, self.error, None
        reason = self.shutdown_reason or ("closed" if closed_by_event else "completed")
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
                name = self.route.endpoint.name
                if isinstance(exc, HttpError):
                    logger.info("%s answered %s %s", name, exc.status, exc.code)
                else:
                    logger.error("the %s handler failed", name, exc_info=exc)
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
        while self.gone is None:
            if self.writing:
                # The handler is writing a lone event itself; it wakes us when it is done.
                self.pump_waiting = True
                stream._wakeup.clear()
                await stream._wakeup.wait()
                self.pump_waiting = False
                continue
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
                self.last_write = self.loop.time()
                continue
            if self.finished or stream.closed:
                break  # the handler returned, or sent its terminal or error event
            if not self.opened and stream._open_requested:
                if not await self._start(send):
                    return
                continue
            stream._wakeup.clear()
            await stream._wakeup.wait()
        if self.gone is not None:
            return
        await self._finish(send)

    def can_write_now(self) -> bool:
        """True when an event may skip the queue: nothing is being written, and the last write
        is over a millisecond old (a burst is queued and coalesced into few writes)."""
        return (
            self.writing_since is None
            and self.gone is None
            and self.loop.time() - self.last_write >= 0.001
        )

    async def write_now(self, frame: bytes) -> None:
        """Write one event from the handler's task, sparing the response task a wake-up."""
        assert self.send is not None
        self.writing = True
        try:
            message = {"type": "http.response.body", "body": frame, "more_body": True}
            written = await self._write(self.send, message)
        finally:
            self.writing = False
            self.last_write = self.loop.time()
            if self.pump_waiting or self.stream._chunks:
                self.stream._wakeup.set()
        if not written:
            raise StreamClosed("the client is gone")

    def _arm_timers(self) -> None:
        # Timers rather than a timeout around every wait: a write costs no timer work at all.
        open_after = self.route.settings.open_after
        if open_after is not None:
            self._open_timer = self.loop.call_at(self.t0 + open_after, self._open_due)
        if self.keepalive is not None:
            self._keepalive_timer = self.loop.call_at(self.t0 + self.keepalive, self._keepalive_due)

    def _open_due(self) -> None:
        if not self.opened:
            self.stream._open_requested = True
            self.stream._wakeup.set()

    def _keepalive_due(self) -> None:
        assert self.keepalive is not None
        self._keepalive_timer = None
        if self.stream.closed or self.finished:
            return  # nothing more will be written: no more keep-alives either
        now = self.loop.time()
        due = self.last_write + self.keepalive
        if now >= due - 0.001:
            # Idle for a whole interval: a comment, which also opens a stream not yet open.
            self.stream._chunks.append(_KEEPALIVE)
            self.stream._wakeup.set()
            self.last_write = now
            due = now + self.keepalive
        self._keepalive_timer = self.loop.call_at(due, self._keepalive_due)

    async def _finish(self, send: Send) -> None:
        self.stream._direct = None
        error = self.error
        if error is not None and not self.opened:
            self.completed = True
            if isinstance(error, HttpError):
                response = error.response()
            else:
                response = error_response(500, "INTERNAL_ERROR", "internal server error")
            await response(self.scope, no_receive, send)
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
        if not await self._write(send, START):
            return False
        self.stream._direct = self
        self._signal(StreamSignal.STARTED)
        return True

    async def _write(self, send: Send, message: Message) -> bool:
        # The registry's sweeper cancels a write that blocks too long (see ``check_write``):
        # cheaper than a timeout per write, which would cost more than the write itself.
        self.writing_since = self.loop.time()
        try:
            await send(message)
        except asyncio.CancelledError:
            if self._own_cancel():
                return False
            raise
        except OSError:
            self.lost("client disconnected")
            return False
        finally:
            self.writing_since = None
        return True

    def _own_cancel(self) -> bool:
        # Only the response task is cancelled by ``check_write``; a handler writing an event
        # itself is cancelled by ``lost`` like any handler, and must see its CancelledError.
        task = self.pump_task
        return (
            self.timed_out
            and task is not None
            and asyncio.current_task() is task
            and task.uncancel() == 0
        )

    def check_write(self, now: float, limit: float) -> None:
        """Drop the client when the current write has been blocked for more than ``limit``."""
        since = self.writing_since
        if since is None or now - since <= limit or self.timed_out:
            return
        self.timed_out = True
        logger.warning(
            "%s: dropping a client that read nothing for %.1fs", self.route.endpoint.name, limit
        )
        self.lost("send timeout")  # cancels the handler, also when it is the one writing
        if self.pump_task is not None and not self.writing:
            self.pump_task.cancel()
