"""Synthesized native specs of N endpoints (each with its own models) for the generator benchmark."""

from __future__ import annotations

from typing import Any

import yaml


def synth_spec(n: int) -> str:
    """A valid spec with ``n`` streams: params, a body on every third, three events, two models each."""
    streams: list[dict[str, Any]] = []
    models: dict[str, Any] = {}
    for i in range(n):
        tick, stat = f"Tick{i}", f"Stat{i}"
        models[tick] = {
            "type": "object",
            "required": ["symbol", "price"],
            "properties": {
                "symbol": {"type": "string", "maxLength": 12},
                "price": {"type": "number"},
                "stat": {"$ref": f"#/models/{stat}"},
            },
        }
        models[stat] = {"type": "object", "properties": {"count": {"type": "integer", "minimum": 0}}}
        stream: dict[str, Any] = {
            "name": f"stream-{i}",
            "method": "POST" if i % 3 == 0 else "GET",
            "path": f"/s{i}/{{room}}/events",
            "summary": f"Stream number {i}",
            "params": {
                "path": {"room": {"type": "string", "maxLength": 32}},
                "query": {"limit": {"type": "integer", "minimum": 1, "default": 10}},
            },
            "events": [
                {"data": tick},
                {"name": "stat", "data": stat},
                {"name": "log", "data": "string"},
            ],
            "keepalive": "15s",
        }
        if i % 3 == 0:
            stream["body"] = stat
        if i % 2 == 0:
            stream["resumable"] = {"retry": "1s"}
            stream["terminal"] = {"name": "done", "data": stat}
        streams.append(stream)
    doc = {"roccogen": 1, "package": f"synth{n}", "title": f"Synth {n}", "streams": streams, "models": models}
    return yaml.safe_dump(doc, sort_keys=False)
