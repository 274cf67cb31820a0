"""The events of one ``text/event-stream`` media type, in every dialect seen in the wild.

- OpenAPI 3.2 ``itemSchema``: the parsed event (``event``/``data``/``id``/``retry``), one
  ``oneOf`` member per event kind keyed by an ``event`` const (or a discriminator mapping);
- ``schema`` describing the event object (Speakeasy: ``{event, data}``, ``oneOf`` +
  ``discriminator.propertyName: event``);
- ``schema`` describing the JSON in ``data`` (the pre-3.2 convention: one unnamed event kind);
- ``schema: {type: string}``: untyped string events (rocco, FastAPI before ``itemSchema``);
- terminal events: ``x-ms-sse-terminal-event``, ``x-speakeasy-sse-sentinel``, Fern's terminator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from roccogen.diagnostics import Diagnostic
from roccogen.names import pascal
from roccogen.native import UNNAMED_EVENT
from roccogen.openapi import naming as n
from roccogen.openapi.refs import Loc, Resolver
from roccogen.openapi.schemas import SchemaRegistry

ENVELOPE_FIELDS = frozenset({"event", "data", "id", "retry"})
_JSON_TYPES = frozenset({"object", "array", "number", "integer", "boolean", "null"})
_SCHEMA_SHAPES = ("properties", "items", "oneOf", "anyOf", "allOf", "additionalProperties", "prefixItems")
_EXAMPLE_EVENT = re.compile(r"^event:[ ]?(.*)$", re.MULTILINE)
_NOT_A_STREAM = re.compile(r"\bnot used\b|\bdo(?:es)? not support streaming\b", re.IGNORECASE)


@dataclass
class Shape:
    """A schema seen through ``$ref`` and ``allOf``: merged properties, branches, extensions."""

    props: dict[str, Loc] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    branches: list[Loc] = field(default_factory=list)
    branch_keyword: str = ""
    discriminator: Loc | None = None
    ext: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    type: Any = None
    other_keys: bool = False


@dataclass
class FoundEvent:
    """An event read from the document, before Python names are given."""

    name: str
    named: bool
    model: str | None
    role: str
    description: str | None
    loc: Loc
    sentinel: str | None = None
    ext: dict[str, Any] = field(default_factory=dict)


@dataclass
class FoundStream:
    """What the media type says about the stream."""

    events: list[FoundEvent] = field(default_factory=list)
    has_ids: bool = False
    item_schema: bool = False
    not_a_stream: str | None = None  # why the document says this "stream" is not one


class EventReader:
    """Reads the events of one stream's media type object."""

    def __init__(self, resolver: Resolver, registry: SchemaRegistry, diags: list[Diagnostic], version: tuple[int, int]) -> None:
        self.resolver = resolver
        self.registry = registry
        self.diags = diags
        self.version = version

    def warn(self, loc: Loc, code: str, message: str) -> None:
        """A positioned warning."""
        self.diags.append(loc.doc.diag("warning", code, message, loc.pointer))

    def error(self, loc: Loc, code: str, message: str) -> None:
        """A positioned error."""
        self.diags.append(loc.doc.diag("error", code, message, loc.pointer))

    # -- shapes --------------------------------------------------------------------------------
    def shape(self, loc: Loc, depth: int = 0) -> Shape:
        """Properties, required names and branches of a schema, through ``$ref`` and ``allOf``."""
        out = Shape()
        node = loc.node
        if not isinstance(node, dict) or depth > 24:
            return out
        if isinstance(node.get("$ref"), str):
            target = self.resolver.target(node["$ref"], loc.child("$ref"))
            if target is not None:
                self._merge(out, self.shape(target, depth + 1))
        for i, _ in enumerate(node.get("allOf") or []):
            self._merge(out, self.shape(loc.child("allOf", i), depth + 1))
        props = node.get("properties")
        if isinstance(props, dict):
            for key in props:
                out.props[key] = loc.child("properties", key)
        if isinstance(node.get("required"), list):
            out.required |= {r for r in node["required"] if isinstance(r, str)}
        for keyword in ("oneOf", "anyOf"):
            if isinstance(node.get(keyword), list):
                out.branches = [loc.child(keyword, i) for i in range(len(node[keyword]))]
                out.branch_keyword = keyword
                break
        if isinstance(node.get("discriminator"), dict):
            out.discriminator = loc.child("discriminator")
        out.ext.update({k: v for k, v in node.items() if k.startswith("x-")})
        if isinstance(node.get("description"), str):
            out.description = node["description"]
        if "type" in node:
            out.type = node["type"]
        if any(k in node for k in ("items", "additionalProperties", "prefixItems", "enum", "const")):
            out.other_keys = True
        return out

    @staticmethod
    def _merge(into: Shape, other: Shape) -> None:
        into.props.update(other.props)
        into.required |= other.required
        if other.branches and not into.branches:
            into.branches, into.branch_keyword = other.branches, other.branch_keyword
        if other.discriminator is not None and into.discriminator is None:
            into.discriminator = other.discriminator
        into.ext.update(other.ext)
        into.description = other.description or into.description
        into.type = other.type if other.type is not None else into.type
        into.other_keys = into.other_keys or other.other_keys

    def _branch_shapes(self, base: Shape, loc: Loc) -> list[tuple[Loc, Shape]]:
        out: list[tuple[Loc, Shape]] = []
        for branch in base.branches or [loc]:
            if branch is loc:
                out.append((loc, base))
                continue
            own = self.shape(branch)
            merged = Shape(
                props={**base.props, **own.props},
                required=base.required | own.required,
                ext=own.ext,
                description=own.description,
                type=own.type,
                other_keys=own.other_keys,
            )
            out.append((branch, merged))
        return out

    @staticmethod
    def _is_envelope(shape: Shape) -> bool:
        return bool(shape.props) and set(shape.props) <= ENVELOPE_FIELDS and not shape.other_keys

    # -- the media type ------------------------------------------------------------------------
    def read(self, media: Loc, op: Loc, stream_class: str) -> FoundStream:
        """The events of ``media`` (a Media Type Object) of operation ``op``."""
        found = FoundStream()
        node = media.node if isinstance(media.node, dict) else {}
        if "itemSchema" in node:
            found.item_schema = True
            item = media.child("itemSchema")
            if self.version < (3, 2):
                self.warn(item, "RG033", f"`itemSchema` is OpenAPI 3.2; this document says {self.version[0]}.{self.version[1]} — read as 3.2 (set `openapi: 3.2.0`)")
            self._read_schema(item, found, stream_class, item_schema=True)
        elif "schema" in node:
            self._read_schema(media.child("schema"), found, stream_class, item_schema=False)
        else:
            self.warn(media, "RG037", "the event stream has no schema: every event is read as plain string data; describe the events with `itemSchema` (OpenAPI 3.2)")
            found.events.append(FoundEvent(UNNAMED_EVENT, False, None, "data", None, media))
        if found.not_a_stream:
            return found
        self._sentinel(media, op, found)
        self._check_names(media, found)
        return found

    def _read_schema(self, loc: Loc, found: FoundStream, stream_class: str, *, item_schema: bool) -> None:
        target = self.resolver.deref(loc)
        if target is None:
            return
        base = self.shape(loc)
        node = target.node if isinstance(target.node, dict) else {}
        if not item_schema and base.type == "string" and not base.props and not base.branches:
            text = node.get("description") or ""
            if isinstance(text, str) and _NOT_A_STREAM.search(text):
                found.not_a_stream = text.strip()
                return
            self.warn(loc, "RG037", "untyped string stream (`schema: {type: string}`): every event is read as unnamed plain-string data; to type it, replace `schema` with an OpenAPI 3.2 `itemSchema` whose `oneOf` has one member per event: `properties: {event: {const: <name>}, data: {contentMediaType: application/json, contentSchema: {$ref: ...}}}`")
            found.events.append(FoundEvent(UNNAMED_EVENT, False, None, "data", None, loc))
            return
        branches = self._branch_shapes(base, loc)
        envelope = [self._is_envelope(s) for _, s in branches]
        if item_schema and not all(envelope):
            if any(envelope):
                odd = next(b for (b, _), e in zip(branches, envelope) if not e)
                self.warn(odd, "RG039", "this oneOf member has fields besides event/data/id/retry, which an SSE event cannot carry; they are ignored")
            else:
                self.warn(loc, "RG039", "`itemSchema` describes fields besides event/data/id/retry, which an SSE event cannot carry; read as the JSON `data` of unnamed events")
                model = self.registry.model_for(loc, stream_class + "Data")
                found.events.append(FoundEvent(UNNAMED_EVENT, False, model, "data", None, loc))
                return
        if not item_schema and not (all(envelope) and all("data" in s.props for _, s in branches)):
            model = self.registry.model_for(loc, stream_class + "Data")
            found.events.append(FoundEvent(UNNAMED_EVENT, False, model, "data", None, loc))
            return
        found.has_ids = "id" in base.props or all("id" in s.props for _, s in branches)
        mapping = self._mapping(base)
        several = len(branches) > 1
        if not several:
            inferred = self._named_by_data(branches[0][1])
            if inferred:
                found.events += inferred
                return
        for branch, shape in branches:
            names = self._enum(shape.props.get("event"))
            if len(names) > 1:  # one member for several event names sharing a payload
                for name in names:
                    one = Shape({**shape.props, "event": Loc({"const": name}, branch.doc, branch.pointer)},
                                shape.required, ext=shape.ext, description=shape.description)
                    event = self._member(branch, one, mapping, stream_class, several, branch is not loc)
                    if event is not None:
                        found.events.append(event)
                continue
            event = self._member(branch, shape, mapping, stream_class, several, branch is not loc)
            if event is not None:
                found.events.append(event)

    def _named_by_data(self, shape: Shape) -> list[FoundEvent]:
        """Events named by the data's discriminator, when the frame's ``event`` is any string.

        Anthropic-style streams (OpenRouter's ``/messages``) send ``event: message_start`` with
        ``data: {"type": "message_start", ...}``: the data's discriminator mapping names the events.
        """
        event, data = shape.props.get("event"), shape.props.get("data")
        if event is None or data is None or "event" not in shape.required or self._const(event) is not None:
            return []
        target = self.resolver.deref(data)
        if target is None:
            return []
        disc = self.shape(target).discriminator
        mapping = disc.node.get("mapping") if disc is not None and isinstance(disc.node, dict) else None
        if disc is None or not isinstance(mapping, dict) or not mapping:
            return []
        targets: list[tuple[str, Loc, Loc]] = []
        for name, ref in mapping.items():
            if not isinstance(name, str) or not isinstance(ref, str):
                return []
            if "#" not in ref and "/" not in ref:
                ref = "#/components/schemas/" + ref
            where = disc.child("mapping", name)
            member = self.resolver.target(ref, where)
            if member is None:
                return []
            targets.append((name, where, member))
        events = [
            FoundEvent(name, name != UNNAMED_EVENT, self.registry.name_for_target(member), "data", None, where)
            for name, where, member in targets
        ]
        prop = disc.node.get("propertyName")
        self.warn(event, "RG031", f"`event` may be any string; the event names are taken from the data's discriminator (`{prop}`): {', '.join(mapping)} — give each kind a oneOf member with an `event` const to say so explicitly")
        return events

    def _mapping(self, base: Shape) -> dict[tuple[str, str], str]:
        """Discriminator mapping on ``event``: target location → event name."""
        out: dict[tuple[str, str], str] = {}
        disc = base.discriminator
        if disc is None or not isinstance(disc.node, dict) or disc.node.get("propertyName") != "event":
            return out
        mapping = disc.node.get("mapping")
        if isinstance(mapping, dict):
            for name, ref in mapping.items():
                if isinstance(ref, str):
                    if "#" not in ref and "/" not in ref:
                        ref = "#/components/schemas/" + ref
                    target = self.resolver.target(ref, disc.child("mapping", name))
                    if target is not None:
                        out[target.key] = name
        return out

    def _member(self, branch: Loc, shape: Shape, mapping: dict[tuple[str, str], str], stream_class: str, several: bool, is_member: bool) -> FoundEvent | None:
        name = self._const(shape.props.get("event"))
        if name is None and isinstance(branch.node, dict) and isinstance(branch.node.get("$ref"), str):
            target = self.resolver.deref(branch)
            if target is not None:
                name = mapping.get(target.key)
        terminal = shape.ext.get(n.X_MS_TERMINAL) is True or shape.ext.get(n.X_ROLE) == "terminal"
        role = "terminal" if terminal else ("error" if shape.ext.get(n.X_ROLE) == "error" else "data")
        data = shape.props.get("data")
        description = shape.description if is_member else None
        if name is None:
            sentinel = self._const(data) if data is not None else None
            if terminal and sentinel is not None:
                return FoundEvent(UNNAMED_EVENT, False, None, "terminal", description, branch, sentinel, shape.ext)
            if terminal:
                self.error(branch, "RG035", "this terminal event can be recognised neither by an `event` const nor by a `data` const; give it one")
                return None
            event_prop = shape.props.get("event")
            if several:
                self.warn(branch, "RG031", "oneOf member without an `event` const: read as the unnamed `message` event; add `properties: {event: {const: <name>}}`")
            elif event_prop is not None and "event" in shape.required and self._const(event_prop) is None:
                self.warn(event_prop, "RG031", "`event` may be any string, so event kinds cannot be told apart: every event is read as the unnamed `message` event; give each kind a oneOf member with an `event` const")
            name = UNNAMED_EVENT
        named = name != UNNAMED_EVENT or shape.ext.get(n.X_NAMED) is True
        sentinel = self._const(data) if terminal and data is not None and not named else None
        model: str | None = None
        if sentinel is None and data is not None:
            suggested = stream_class + (pascal(name) if named else "") + "Data"
            ok, model = self._data_model(data, suggested)
            if not ok:
                return None
        return FoundEvent(name, named, model, role, description, branch, sentinel, shape.ext)

    def _enum(self, loc: Loc | None) -> list[str]:
        """The names an ``event`` property allows with a string ``enum``."""
        target = self.resolver.deref(loc) if loc is not None else None
        enum = target.node.get("enum") if target is not None and isinstance(target.node, dict) else None
        return [v for v in enum if isinstance(v, str)] if isinstance(enum, list) else []

    def _const(self, loc: Loc | None) -> str | None:
        if loc is None:
            return None
        target = self.resolver.deref(loc)
        node = target.node if target is not None else None
        if not isinstance(node, dict):
            return None
        if isinstance(node.get("const"), str):
            return str(node["const"])
        enum = node.get("enum")
        if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
            return enum[0]
        return None

    def _data_model(self, data: Loc, suggested: str) -> tuple[bool, str | None]:
        """``(resolved, model)`` of an event's data; the model is None for plain string data."""
        target = self.resolver.deref(data)
        if target is None:
            return False, None
        node = target.node
        if not isinstance(node, dict):
            return True, None
        if "contentSchema" in node:
            media = node.get("contentMediaType", "application/json")
            schema = target.child("contentSchema")
            ref = schema.node.get("$ref") if isinstance(schema.node, dict) else None
            if isinstance(ref, str) and self.resolver.target(ref, schema.child("$ref")) is None:
                return False, None
            if not isinstance(media, str) or not (media == "application/json" or media.endswith("+json")):
                self.warn(target.child("contentMediaType"), "RG039", f"data of type {media!r} is read as plain string data (only JSON data is decoded)")
                return True, None
            model = self.registry.model_for(schema, suggested)
            return model is not None, model
        kind = node.get("type")
        kinds = set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()
        if kinds & _JSON_TYPES or (not kinds and any(k in node for k in _SCHEMA_SHAPES)):
            model = self.registry.model_for(data, suggested)
            return model is not None, model
        return True, None

    # -- terminal sentinels and lint -------------------------------------------------------------
    def _sentinel(self, media: Loc, op: Loc, found: FoundStream) -> None:
        sentinel: str | None = None
        where = media
        node = media.node if isinstance(media.node, dict) else {}
        if isinstance(node.get("x-speakeasy-sse-sentinel"), str):
            sentinel, where = node["x-speakeasy-sse-sentinel"], media.child("x-speakeasy-sse-sentinel")
        fern = op.node.get("x-fern-streaming") if isinstance(op.node, dict) else None
        if sentinel is None and isinstance(fern, dict) and isinstance(fern.get("terminator"), str):
            sentinel, where = fern["terminator"], op.child("x-fern-streaming", "terminator")
        if n.X_MS_TERMINAL in node:
            self.error(media.child(n.X_MS_TERMINAL), "RG035", f"`{n.X_MS_TERMINAL}` belongs on the oneOf member of the terminal event, not on the media type")
        if sentinel is None:
            return
        terminals = [e for e in found.events if e.role == "terminal"]
        if terminals:
            if terminals[0].sentinel != sentinel:
                self.warn(where, "RG039", f"terminator {sentinel!r} ignored: the stream already declares terminal event {terminals[0].name!r}")
            return
        found.events.append(FoundEvent(UNNAMED_EVENT, False, None, "terminal", None, where, sentinel))

    def _check_names(self, media: Loc, found: FoundStream) -> None:
        seen: dict[str, FoundEvent] = {}
        kept: list[FoundEvent] = []
        by_role: dict[str, FoundEvent] = {}
        for event in found.events:
            key = event.name if event.role == "data" else f"{event.role}:{event.name}:{event.sentinel}"
            if event.role == "data" and event.name in seen:
                label = "unnamed `message` event" if not event.named else f"event {event.name!r}"
                first = seen[event.name].loc
                line, col = first.doc.position(first.pointer)
                self.error(event.loc, "RG015", f"{label} is declared twice in this stream (first at {line}:{col})")
                continue
            if event.role != "data":
                if event.role in by_role:
                    self.error(event.loc, "RG035", f"a stream has at most one {event.role} event; {by_role[event.role].name!r} is one already")
                    continue
                by_role[event.role] = event
            seen.setdefault(key, event)
            kept.append(event)
        found.events = kept
        for event in list(kept):
            bad = [c for c in ("\r", "\n", "\x00", ":") if c in event.name]
            if event.named and (not event.name or bad or event.name != event.name.strip()):
                shown = ", ".join(repr(c) for c in bad) or "leading or trailing spaces" if event.name else "nothing"
                self.error(event.loc, "RG010", f"event name {event.name!r} contains {shown}; CR, LF, NUL, ':' and surrounding spaces cannot appear in an SSE event name")
                kept.remove(event)
        lower: dict[str, str] = {}
        for event in kept:
            if not event.named and event.sentinel is None:
                continue
            other = lower.setdefault(event.name.lower(), event.name)
            if other != event.name:
                self.warn(event.loc, "RG032", f"event names {other!r} and {event.name!r} differ only in case; SSE event names are case-sensitive")
        names = {e.name for e in kept}
        for name, where in self._example_names(media):
            if name not in names and name.lower() in lower:
                self.warn(where, "RG032", f"the example sends event {name!r}, but the schema declares {lower[name.lower()]!r}; SSE event names are case-sensitive")

    def _example_names(self, media: Loc) -> list[tuple[str, Loc]]:
        node = media.node if isinstance(media.node, dict) else {}
        values: list[Loc] = []
        if "example" in node:
            values.append(media.child("example"))
        if isinstance(node.get("examples"), dict):
            for key in node["examples"]:
                example = self.resolver.deref(media.child("examples", key))
                if example is not None and isinstance(example.node, dict):
                    # 3.2 adds dataValue and serializedValue (the event-stream text) beside value.
                    values += [example.child(k) for k in ("value", "dataValue", "serializedValue") if k in example.node]
        out: list[tuple[str, Loc]] = []
        for loc in values:
            value = loc.node
            if isinstance(value, str):
                out += [(m.group(1).strip(), loc) for m in _EXAMPLE_EVENT.finditer(value)]
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if isinstance(item, dict) and isinstance(item.get("event"), str):
                    out.append((item["event"], loc.child(i) if isinstance(value, list) else loc))
        return out
