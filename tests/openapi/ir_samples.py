"""IR values for OpenAPI tests that use features no example spec uses."""

from __future__ import annotations

import json

from roccogen.ir import (
    Api,
    Auth,
    AuthScheme,
    Body,
    ErrorResponse,
    Event,
    Model,
    Param,
    StreamEndpoint,
)


def everything() -> Api:
    """An IR using every feature, including what no example spec uses."""
    model = Model("Tick", json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}}))
    nested = Model("Wrapper", json.dumps({"type": "object", "properties": {"tick": {"$ref": "#/components/schemas/Tick"}}}))
    body = Model("Filter", json.dumps({"type": "object", "properties": {"q": {"type": "string"}}}))
    params = (
        Param("region", "region", "path", "string", True, "The region.", enum=("eu", "us")),
        Param("limit", "limit", "query", "integer", False, None, default=10, has_default=True,
              minimum=1, maximum=100),
        Param("ratio", "ratio", "query", "number", False, exclusive_minimum=0, exclusive_maximum=1.5),
        Param("strict", "strict", "query", "boolean", True),
        Param("X-Trace", "x_trace", "header", "string", False, min_length=1, max_length=8, pattern="^[a-f0-9]+$"),
    )
    sentinel = Event("message", False, "done_event", "FeedDoneEvent", None, "terminal", None, "[DONE]")
    feed = StreamEndpoint(
        name="feed", py_name="feed", class_name="Feed", method="POST", path="/regions/{region}/feed",
        summary="Feed", description="All of it.", tags=("a", "b"), params=params,
        body=Body("Filter", required=False, description="What to send."),
        events=(
            Event("message", False, "message", "FeedMessageEvent", "Tick", "data", "Plain data."),
            Event("tick", True, "tick", "TickEvent", "Wrapper"),
        ),
        terminal=sentinel, error=Event("oops", True, "oops", "OopsEvent", None, "error"),
        keepalive_ms=5000, resumable=True, retry_ms=1500,
        auth=Auth(True, scopes=(("read", "admin"), ("feed",)), roles=(("ops",), ("eu", "us"))),
        errors=(
            ErrorResponse(404, "NO_REGION", "Unknown region.", "NoRegionError"),
            ErrorResponse(409, "BUSY", None, "BusyError"),
            ErrorResponse(409, "LOCKED", "Locked.", "CustomLockedError"),
            ErrorResponse(422, "BAD_FILTER", "Bad filter.", "BadFilterError"),
        ),
    )
    other = StreamEndpoint(
        name="other-feed", py_name="custom_other", class_name="OtherFeed", method="GET", path="/other",
        summary=None, description=None, tags=(), params=(), body=None,
        events=(Event("message", True, "message", "OtherFeedMessageEvent", None),
                Event("tick", True, "tick", "TickEvent", "Wrapper")),
        terminal=None, error=None, keepalive_ms=None, resumable=False, retry_ms=None,
        auth=Auth(False), errors=(),
    )
    return Api(
        package="everything", class_name="Everything", title="Everything", version="2.0",
        description=None, streams=(feed, other), models=(body, model, nested),
        auth_scheme=AuthScheme("api_key", "key", "query"),
    )
