"""Event class names shared by both readers: one class per distinct event across the package."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace

from roccogen.ir import Event, StreamEndpoint


def _prefix_where(
    streams: list[StreamEndpoint], key: Callable[[Event], str], shape: Callable[[Event], Hashable]
) -> list[StreamEndpoint]:
    """Prefix the stream's class name to events whose ``key`` is shared by different shapes."""
    shapes: dict[str, set[Hashable]] = {}
    for stream in streams:
        for event in stream.all_events:
            shapes.setdefault(key(event), set()).add(shape(event))
    ambiguous = {name for name, variants in shapes.items() if len(variants) > 1}
    if not ambiguous:
        return streams

    def fix(stream: StreamEndpoint, event: Event | None) -> Event | None:
        if event is None or key(event) not in ambiguous:
            return event
        return replace(event, class_name=stream.class_name + event.class_name)

    return [
        replace(
            s,
            events=tuple(e for e in (fix(s, e) for e in s.events) if e is not None),
            terminal=fix(s, s.terminal),
            error=fix(s, s.error),
        )
        for s in streams
    ]


def qualify_event_classes(streams: list[StreamEndpoint]) -> list[StreamEndpoint]:
    """Share an event class across streams only when name, payload, role and sentinel agree.

    First events of one name with different payloads or roles get per-stream classes; then
    different events whose names still give the same class name are told apart the same way.
    """
    by_name = _prefix_where(streams, lambda e: e.name, lambda e: (e.model, e.role))
    return _prefix_where(by_name, lambda e: e.class_name, lambda e: (e.name, e.model, e.role, e.sentinel))
