"""The Python names the IR derives from spec names, shared by the OpenAPI reader and writer.

They follow the native loader exactly, so a document written from a native spec reads back into
the same IR; the writer records a name in an ``x-roccogen-*`` extension only when it differs.
"""

from __future__ import annotations

from roccogen.names import pascal, snake
from roccogen.native import STREAM_MEMBERS

# Extension keys the writer emits and the reader honours.
X_PACKAGE = "x-roccogen-package"
X_CLASS_NAME = "x-roccogen-class-name"
X_PY_NAME = "x-roccogen-py-name"
X_KEEPALIVE = "x-roccogen-keepalive-ms"
X_RESUMABLE = "x-roccogen-resumable"
X_RETRY = "x-roccogen-retry-ms"
X_SCOPES = "x-roccogen-scopes"
X_ROLES = "x-roccogen-roles"
X_ERRORS = "x-roccogen-errors"
X_IMPLICIT = "x-roccogen-implicit"
X_ROLE = "x-roccogen-role"
X_NAMED = "x-roccogen-named"
X_MS_TERMINAL = "x-ms-sse-terminal-event"

LAST_EVENT_ID = "Last-Event-ID"
# Request attributes every generated request object has besides its parameters.
REQUEST_MEMBERS = frozenset({"body", "last_event_id", "identity"})


def api_class_name(package: str) -> str:
    """``chat_api`` → ``ChatApi``."""
    return pascal(package) or "Api"


def stream_py_name(name: str) -> str:
    """``price-stream`` → ``price_stream``."""
    return snake(name)


def stream_class_name(name: str) -> str:
    """``price-stream`` → ``PriceStream``."""
    return pascal(name)


def event_py_name(name: str) -> str:
    """``price`` → ``price``; names of stream members get ``_event``."""
    py = snake(name)
    return py + "_event" if py in STREAM_MEMBERS else py


def event_class_name(name: str) -> str:
    """``price`` → ``PriceEvent``."""
    return pascal(name) + "Event"


def sentinel_base(sentinel: str) -> str:
    """The name a sentinel terminal event's Python names start from: ``[DONE]`` → ``DONE``."""
    return sentinel if snake(sentinel) else "end"


def param_py_name(name: str) -> str:
    """``X-Request-Id`` → ``x_request_id``."""
    return snake(name)


def error_py_name(code: str) -> str:
    """``JOB_NOT_FOUND`` → ``JobNotFoundError``."""
    return pascal(code) + "Error"
