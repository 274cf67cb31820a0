"""Server runtime of a generated package: what ``server.py`` builds on, and ``build_app``.

Copied verbatim into every generated package as ``_server_runtime.py``, together with
``_server_sse.py`` (wire format, errors, auth, hooks, settings), ``_server_stream.py`` (request and
stream bases), ``_server_route.py`` (checks before a stream), ``_server_flow.py`` (a stream
from first byte to last) and ``_server_shutdown.py`` (open streams; shutdown).
Imports only the standard library, starlette and pydantic.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from ._server_flow import SSE_HEADERS
from ._server_route import StreamRoute
from ._server_shutdown import StreamRegistry
from ._server_sse import (
    AccessRule,
    Authenticator,
    ConfigurationError,
    DeclaredError,
    EventKind,
    Forbidden,
    HttpError,
    Identity,
    ServerSettings,
    SseFieldError,
    StreamClosed,
    StreamHooks,
    StreamLifecycle,
    StreamSignal,
    Unauthorized,
    ValidationFailed,
    error_response,
)
from ._server_stream import Endpoint, EventStream, ParamSpec, StreamRequest, one_of

__all__ = [
    "SSE_HEADERS",
    "AccessRule",
    "Authenticator",
    "ConfigurationError",
    "DeclaredError",
    "Endpoint",
    "EventKind",
    "EventStream",
    "Forbidden",
    "HttpError",
    "Identity",
    "ParamSpec",
    "ServerSettings",
    "SseFieldError",
    "StreamClosed",
    "StreamHooks",
    "StreamLifecycle",
    "StreamRegistry",
    "StreamRequest",
    "StreamSignal",
    "Unauthorized",
    "ValidationFailed",
    "build_app",
    "one_of",
]

RUNTIME_MODULES = (
    "_server_sse",
    "_server_stream",
    "_server_flow",
    "_server_route",
    "_server_shutdown",
)


def build_app(
    *,
    service: object,
    endpoints: Sequence[Endpoint],
    authenticator: Authenticator | None,
    settings: ServerSettings | None,
    openapi_path: Path,
    auth_challenge: str | None = None,
) -> Starlette:
    """The Starlette app: one route per endpoint, ``/openapi.json``, JSON 404/405s, shutdown.

    Refuses (``ConfigurationError``) to build an app where an endpoint requires authentication
    and no authenticator is given, or where a handler is not an ``async def``.
    """
    settings = settings if settings is not None else ServerSettings()
    registry = StreamRegistry(settings)
    routes: list[Route] = []
    for ep in endpoints:
        if ep.auth is not None and ep.auth.required and authenticator is None:
            raise ConfigurationError(
                f"endpoint {ep.name!r} requires authentication but the app has no authenticator"
            )
        handler = getattr(service, ep.handler, None)
        if handler is None or not inspect.iscoroutinefunction(handler):
            raise ConfigurationError(f"{type(service).__name__}.{ep.handler} must be an async def")
        route = StreamRoute(ep, handler, authenticator, settings, registry, auth_challenge)
        routes.append(Route(ep.path, route, methods=[ep.method]))
    if settings.serve_openapi:
        routes.append(Route("/openapi.json", _openapi_endpoint(openapi_path), methods=["GET"]))
    app = StreamingStarlette(
        routes=routes,
        lifespan=registry.lifespan,
        exception_handlers={HTTPException: _http_exception},
    )
    app.stream_routes = tuple(routes[: len(endpoints)])
    app.state.streams = registry
    app.state.hooks = settings.hooks
    app.state.settings = settings
    return app


class StreamingStarlette(Starlette):
    """Starlette that hands a stream request straight to its route while no middleware is added.

    A stream route answers its own errors, and the middleware stack would wrap every write of a
    stream in two more calls. With ``add_middleware`` used, everything goes through the stack.
    """

    stream_routes: tuple[Route, ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.user_middleware:
            for route in self.stream_routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope["app"] = self
                    scope.setdefault("router", self.router)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def _openapi_endpoint(path: Path) -> Callable[[Request], Awaitable[Response]]:
    document = path.read_bytes() if path.is_file() else None

    async def openapi(request: Request) -> Response:
        if document is None:
            return error_response(404, "NOT_FOUND", "this package has no openapi.json")
        return Response(document, media_type="application/json")

    return openapi


_STATUS_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)
