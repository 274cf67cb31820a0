"""The checks before a stream starts: method, auth, params, ``Last-Event-ID``, body.

Copied verbatim into every generated package; imports only the standard library, starlette,
pydantic and its siblings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from ._server_flow import START, StreamRun, no_receive
from ._server_shutdown import StreamRegistry
from ._server_sse import (
    Authenticator,
    Forbidden,
    HttpError,
    MethodNotAllowed,
    PayloadTooLarge,
    ServerSettings,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    error_response,
    logger,
)
from ._server_stream import Endpoint, Handler


class _ClientGone(Exception):
    pass


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
            if isinstance(exc, MethodNotAllowed):
                headers = {"Allow": self.endpoint.method}
            await exc.response(headers)(scope, no_receive, send)
            return
        except _ClientGone:
            return
        except Exception:  # noqa: BLE001  (an authenticator bug must still answer JSON)
            logger.exception("checking a request to %s failed", self.endpoint.name)
            await error_response(500, "INTERNAL_ERROR", "internal server error")(
                scope, no_receive, send
            )
            return
        if self.registry.shutting_down:
            # 200 and a clean end: EventSource reconnects (to another instance) instead of failing.
            await send(START)
            await send({"type": "http.response.body", "body": b": shutting down\n\n"})
            return
        await StreamRun(self, prepared, scope).execute(receive, send)

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
        raw: dict[str, object] = {}
        path_params = scope.get("path_params", {})
        for p in self.endpoint.params:
            if p.location == "path":
                value = path_params.get(p.key)
            elif p.location == "query":
                value = request.query_params.get(p.key)
            else:
                value = request.headers.get(p.key)
            if value is not None:
                raw[p.field] = p.convert(value)
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
