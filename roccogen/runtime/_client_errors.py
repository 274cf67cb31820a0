"""Typed exceptions of the generated client, and the checks made before a stream is read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import httpx
import httpx_sse

__all__ = [
    "ApiError",
    "BadRequestError",
    "ConflictError",
    "ContentTypeError",
    "ErrorEventReceived",
    "EventValidationError",
    "ForbiddenError",
    "IdleTimeoutError",
    "NotFoundError",
    "RateLimitedError",
    "ReconnectExhaustedError",
    "ServerError",
    "StreamError",
    "UnauthorizedError",
    "UnknownEventError",
    "UnprocessableEntityError",
    "check_content_type",
    "content_type_essence",
    "error_for_response",
    "status_error_class",
]

MAX_ERROR_BODY = 64 * 1024  # bytes of an error body kept; a hostile server cannot exhaust memory

EventT = TypeVar("EventT")


class StreamError(Exception):
    """Base class of every error the generated client raises itself."""


class ApiError(StreamError):
    """The server answered with a non-2xx status before the stream started.

    ``code``, ``message`` and ``details`` come from the JSON error body ``{code, message,
    details}`` when the server sent one; ``body`` is the raw text (truncated to 64 KiB).
    """

    status: int = 0
    default_code: str | None = None

    def __init__(
        self,
        status: int,
        *,
        code: str | None = None,
        message: str = "",
        details: Any = None,
        body: str = "",
        response: httpx.Response | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.body = body
        self.response = response
        label = f"HTTP {status}" + (f" {code}" if code else "")
        super().__init__(f"{label}: {message}" if message else label)


class BadRequestError(ApiError):
    """400 Bad Request."""


class UnauthorizedError(ApiError):
    """401: credentials missing or invalid."""


class ForbiddenError(ApiError):
    """403: authenticated but not allowed."""


class NotFoundError(ApiError):
    """404 Not Found."""


class ConflictError(ApiError):
    """409 Conflict."""


class UnprocessableEntityError(ApiError):
    """422: the request failed validation."""


class RateLimitedError(ApiError):
    """429 Too Many Requests."""


class ServerError(ApiError):
    """5xx: the server failed."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitedError,
}


def status_error_class(status: int) -> type[ApiError]:
    """The generic exception class for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)


class ContentTypeError(StreamError, httpx_sse.SSEError):
    """The response is not ``text/event-stream``: the connection fails and is not retried."""


class UnknownEventError(StreamError):
    """An event the spec does not declare arrived and the policy is ``"raise"``."""

    def __init__(self, raw: httpx_sse.ServerSentEvent) -> None:
        self.raw = raw
        super().__init__(f"undeclared event {raw.event!r} (id={raw.id!r})")


class EventValidationError(StreamError):
    """An event's data did not match its declared schema; ``raw`` is the event as received."""

    def __init__(self, raw: httpx_sse.ServerSentEvent, error: Exception) -> None:
        self.raw = raw
        self.error = error
        super().__init__(f"event {raw.event!r} (id={raw.id!r}) failed validation: {error}")


class ErrorEventReceived(StreamError, Generic[EventT]):
    """The server sent the stream's declared error event; ``event`` is it, typed."""

    def __init__(self, event: EventT) -> None:
        self.event = event
        super().__init__(f"the server sent an error event: {getattr(event, 'data', event)!r}")


class IdleTimeoutError(StreamError, TimeoutError):
    """No event arrived for ``idle_timeout`` seconds (keep-alive comments do not count)."""


class ReconnectExhaustedError(StreamError):
    """Reconnection gave up after ``attempts`` consecutive failures; the cause is chained."""

    def __init__(self, attempts: int, last_event_id: str) -> None:
        self.attempts = attempts
        self.last_event_id = last_event_id
        super().__init__(f"gave up reconnecting after {attempts} attempts")


def error_for_response(
    response: httpx.Response,
    body: bytes,
    declared: Mapping[tuple[int, str], type[ApiError]],
) -> ApiError:
    """Build the typed exception for a non-2xx response from its (bounded) body."""
    text = body[:MAX_ERROR_BODY].decode("utf-8", "replace")
    code: str | None = None
    message = ""
    details: Any = None
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        raw_code, raw_message = parsed.get("code"), parsed.get("message")
        code = raw_code if isinstance(raw_code, str) else None
        message = raw_message if isinstance(raw_message, str) else ""
        details = parsed.get("details")
    elif text.strip():
        message = text.strip()[:500]
    status = response.status_code
    cls = declared.get((status, code or ""), None) or status_error_class(status)
    return cls(status, code=code, message=message, details=details, body=text, response=response)


def check_content_type(response: httpx.Response) -> None:
    """Fail unless the Content-Type essence is exactly ``text/event-stream``."""
    essence = content_type_essence(response.headers.get("content-type"))
    if essence != "text/event-stream":
        raise ContentTypeError(
            f"expected Content-Type text/event-stream, got {essence or 'none'!r}",
            request=response.request,
        )


def content_type_essence(value: str | None) -> str:
    """The MIME type essence of a Content-Type header: type/subtype, lower case, no parameters."""
    if not value:
        return ""
    return value.partition(";")[0].strip().lower()
