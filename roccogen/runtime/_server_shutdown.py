"""The open streams of an app, and how they end when the server stops.

uvicorn drains open responses before it runs the lifespan shutdown, so the streams learn about
the exit signal from a handler chained in front of uvicorn's; handlers get ``done``, then a grace
period, then cancellation. Copied verbatim into every generated package; imports only the
standard library, starlette, pydantic and its siblings.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from ._server_sse import ServerSettings, logger

if TYPE_CHECKING:
    from ._server_flow import StreamRun


class StreamRegistry:
    """The open streams of one app, and how they end when the server stops."""

    def __init__(self, settings: ServerSettings) -> None:
        self._settings = settings
        self._active: set[StreamRun] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self.shutting_down = False

    @property
    def active(self) -> int:
        """How many streams are open."""
        return len(self._active)

    def add(self, run: StreamRun) -> None:
        """Track an open stream."""
        self._loop = run.loop
        self._active.add(run)
        if self._sweeper is None:
            self._arm()

    def _limit(self) -> float | None:
        limit = self._settings.send_timeout
        if self.shutting_down:
            grace = self._settings.shutdown_grace
            limit = grace if limit is None else min(limit, grace)
        return limit

    def _arm(self) -> None:
        limit = self._limit()
        if limit is not None and self._active and self._loop is not None:
            self._sweeper = self._loop.call_later(max(0.05, limit / 4), self._sweep)
        else:
            self._sweeper = None

    def _sweep(self) -> None:
        limit = self._limit()
        if limit is not None and self._loop is not None:
            now = self._loop.time()
            for run in list(self._active):
                run.check_write(now, limit)
        self._arm()

    def discard(self, run: StreamRun) -> None:
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
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._arm()
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
