"""Plain data of the client runtime: undeclared events, endpoint tables, policies, requests."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import httpx
from httpx_sse import ServerSentEvent
from pydantic import BaseModel, PydanticUserError

from ._client_errors import ApiError

__all__ = [
    "Endpoint",
    "EventKind",
    "InvalidPolicy",
    "ReconnectPolicy",
    "StreamOptions",
    "StreamRequest",
    "UnknownEvent",
    "UnknownPolicy",
    "json_model",
    "text",
]

UnknownPolicy: TypeAlias = Literal["ignore", "raise", "raw"]
InvalidPolicy: TypeAlias = Literal["raise", "skip"]


def text(data: str) -> str:
    """The parser of plain-string events: the data as is."""
    return data


def json_model(model: type[BaseModel]) -> Callable[[str], Any]:
    """The parser of JSON events: validate ``data`` into ``model``.

    The model's core validator is called directly: the same validation as
    ``model.model_validate_json``, without its per-call Python overhead.
    """
    try:
        validate: Callable[[str], Any] = model.__pydantic_validator__.validate_json
    except (AttributeError, PydanticUserError):  # a model pydantic could not build yet
        return model.model_validate_json
    return validate


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event the spec does not declare, handed over as received (policy ``"raw"``)."""

    raw: ServerSentEvent = field(compare=False)

    @property
    def event(self) -> str:
        """The event type."""
        return self.raw.event

    @property
    def data(self) -> str:
        """The data, as text."""
        return self.raw.data

    @property
    def id(self) -> str:
        """The last event ID when it arrived."""
        return self.raw.id

    @property
    def retry(self) -> int | None:
        """The ``retry`` field of the event's block, if any."""
        return self.raw.retry


@dataclass(frozen=True, slots=True)
class EventKind:
    """How to turn one declared event into its typed event.

    ``key`` is the name handlers are registered under with ``on()``: the event name, or for a
    sentinel terminal (an unnamed ``data: [DONE]``) its own Python name.
    """

    key: str
    cls: type[Any]  # the TypedEvent subclass: cls(data, (event, text, id, retry))
    parse: Callable[[str], Any]
    role: Literal["data", "terminal", "error"] = "data"
    error: Callable[[Any], Exception] | None = None  # raised with the typed event (error role)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The static description of one stream endpoint, built once per generated module."""

    method: str
    path: str
    kinds: Mapping[str, EventKind]  # by event name
    sentinels: Mapping[tuple[str, str], EventKind] = field(default_factory=dict)  # (name, data)
    resumable: bool = False
    retry_ms: int | None = None
    keepalive_ms: int | None = None
    errors: Mapping[tuple[int, str], type[ApiError]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Reconnection of resumable streams: capped exponential backoff with jitter.

    The n-th consecutive failed attempt waits ``base * multiplier ** (n - 1)`` seconds, capped at
    ``max_delay`` (but never below the server's ``retry``), then shortened by up to ``jitter``
    (a fraction). ``base`` is the server's ``retry`` when it sent one (and
    ``honour_server_retry``), else ``initial_delay``, else the spec's retry hint, else 1 s.
    ``max_attempts`` bounds consecutive failures (None: retry for ever; 0: never reconnect).
    """

    max_attempts: int | None = 8
    initial_delay: float | None = None
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.25
    honour_server_retry: bool = True

    def delay(self, failures: int, server_retry_ms: int | None, spec_retry_ms: int | None) -> float:
        """Seconds to wait before reconnection attempt number ``failures`` (1-based)."""
        if self.honour_server_retry and server_retry_ms is not None:
            base = server_retry_ms / 1000
        elif self.initial_delay is not None:
            base = self.initial_delay
        elif spec_retry_ms is not None:
            base = spec_retry_ms / 1000
        else:
            base = 1.0
        wait = min(base * self.multiplier ** max(0, failures - 1), max(self.max_delay, base))
        if self.jitter > 0:
            wait *= 1.0 - min(1.0, self.jitter) * random.random()
        return max(0.0, wait)


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """Per-stream behaviour: event policies, reconnection, idle timeout."""

    unknown_events: UnknownPolicy = "ignore"
    invalid_events: InvalidPolicy = "raise"
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    idle_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """Everything needed to (re)open one stream."""

    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    content: bytes | None
    timeout: httpx.Timeout
    last_event_id: str = ""
