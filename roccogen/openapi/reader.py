"""OpenAPI 3.0 / 3.1 / 3.2 document → the frozen IR, with positioned diagnostics.

Every operation with a ``text/event-stream`` response becomes a stream endpoint; the others are
listed in one warning. The IR comes out sorted exactly as the native loader sorts it, so a
document written by :mod:`roccogen.openapi.writer` reads back into the IR it was written from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from roccogen.diagnostics import Diagnostic, has_errors
from roccogen.event_classes import qualify_event_classes
from roccogen.ir import Api, Auth, Body, ErrorResponse, Event, Param, StreamEndpoint
from roccogen.names import is_identifier, snake
from roccogen.openapi import naming as n
from roccogen.openapi.events import EventReader, FoundEvent, FoundStream
from roccogen.openapi.parts import PartsReader
from roccogen.openapi.refs import Loc, Resolver
from roccogen.openapi.schemas import PREFIX, SchemaRegistry
from roccogen.yaml_source import SourceDocument

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
SUPPORTED_METHODS = frozenset({"GET", "POST", "PUT", "PATCH"})
_VERSION = re.compile(r"^3\.([0-9]+)\.[0-9]+")
_TEMPLATE = re.compile(r"\{[^{}/]+\}")
_MAX_LISTED = 25


def is_event_stream(media_type: str) -> bool:
    """True for ``text/event-stream`` (parameters after ``;`` ignored, case-insensitive)."""
    return media_type.split(";", 1)[0].strip().lower() == "text/event-stream"


def looks_like_openapi(data: Any) -> bool:
    """True for an OpenAPI document, a Swagger 2 document or an OpenAPI fragment (for routing)."""
    if not isinstance(data, dict) or "roccogen" in data:
        return False
    return any(key in data for key in ("openapi", "swagger", "itemSchema")) or (
        "content" in data and "streams" not in data
    )


def read_openapi(
    doc: SourceDocument, default_package: str | None = None, file: Path | None = None
) -> tuple[Api | None, list[Diagnostic]]:
    """Read an OpenAPI document into the IR; every problem comes back as a diagnostic.

    ``file`` is where the document is on disk, for relative ``$ref``s, when ``doc.path`` (the name
    shown in messages) is not a path from the current directory.
    """
    package = default_package or snake(Path(doc.path).name.split(".", 1)[0]) or "api"
    reader = _OpenApiReader(doc, package, file)
    api = reader.read()
    diags = sorted(reader.diags)
    return (None if has_errors(diags) else api), diags


@dataclass
class _Draft:
    """An operation that streams, before names are settled across the document."""

    name: str
    method: str
    path: str
    op: Loc
    found: FoundStream
    params: list[Param]
    body: Body | None
    auth: Auth | None
    errors: list[ErrorResponse]
    resumable: bool
    schemes: list[str]


class _OpenApiReader:
    def __init__(self, doc: SourceDocument, package: str, file: Path | None) -> None:
        self.doc = doc
        self.package = package
        self.file = file
        self.diags: list[Diagnostic] = []
        self.root = Loc(doc.data, doc, "")
        self._explicit: dict[tuple[str, str, str], str] = {}

    def error(self, loc: Loc, code: str, message: str) -> None:
        self.diags.append(loc.doc.diag("error", code, message, loc.pointer))

    def warn(self, loc: Loc, code: str, message: str) -> None:
        self.diags.append(loc.doc.diag("warning", code, message, loc.pointer))

    # -- the document --------------------------------------------------------------------------
    def _version(self) -> tuple[int, int] | None:
        data = self.doc.data
        if not isinstance(data, dict):
            self.error(self.root, "RG030", "not an OpenAPI document: the top level must be a mapping")
            return None
        if "openapi" not in data:
            if "swagger" in data:
                self.error(self.root.child("swagger"), "RG030", "Swagger 2.0 is not supported; convert the document to OpenAPI 3 first")
            elif "content" in data or "itemSchema" in data:
                self.error(self.root, "RG030", "this is an OpenAPI fragment (a Request Body, Response or Media Type Object), not a document: put it in a document with `openapi: 3.2.0`, `info` and `paths` (e.g. under paths./x.get.responses.'200')")
            elif "type" in data or "properties" in data:
                self.error(self.root, "RG030", "this is an OpenAPI Schema Object, not a document: put it under components.schemas of a document with `openapi: 3.2.0`, `info` and `paths`")
            else:
                self.error(self.root, "RG030", "not an OpenAPI document: no `openapi` field")
            return None
        match = _VERSION.match(str(data["openapi"]))
        if match is None or int(match.group(1)) > 2:
            self.error(self.root.child("openapi"), "RG030", f"unsupported OpenAPI version {data['openapi']!r}: roccogen reads 3.0.x, 3.1.x and 3.2.x")
            return None
        return (3, int(match.group(1)))

    def read(self) -> Api | None:
        version = self._version()
        if version is None:
            return None
        data: dict[str, Any] = self.doc.data
        resolver = Resolver(self.doc, self.diags, self.file)
        self.registry = SchemaRegistry(resolver, self.diags, version < (3, 1))
        self.events = EventReader(resolver, self.registry, self.diags, version)
        self.parts = PartsReader(resolver, self.diags)
        self.resolver = resolver
        self._check_identifiers(self.root)
        package = data.get(n.X_PACKAGE, self.package)
        if not isinstance(package, str) or not is_identifier(package):
            self.error(self.root.child(n.X_PACKAGE), "RG011", f"package name {package!r} is not a valid Python identifier")
            package = self.package
        info = self.root.child("info")
        info_node = info.node if isinstance(info.node, dict) else {}
        drafts, skipped = self._operations()
        if skipped:
            shown = ", ".join(skipped[:_MAX_LISTED]) + (f" and {len(skipped) - _MAX_LISTED} more" if len(skipped) > _MAX_LISTED else "")
            self.warn(self.root.child("paths"), "RG038", f"{len(skipped)} operation(s) without a text/event-stream response were skipped: {shown}")
        used: list[str] = []
        streams = self._streams(drafts, used)
        scheme = self.parts.auth_scheme(self.root, list(dict.fromkeys(used)))
        class_name = data.get(n.X_CLASS_NAME)
        api = Api(
            package=package,
            class_name=class_name if isinstance(class_name, str) and is_identifier(class_name) else n.api_class_name(package),
            title=str(info_node.get("title") or n.api_class_name(package)),
            version=str(info_node.get("version", "0.1.0")),
            description=info_node.get("description") if isinstance(info_node.get("description"), str) else None,
            streams=tuple(sorted(streams, key=lambda s: s.name)),
            models=(),
            auth_scheme=scheme,
            source=self.doc.path,
        )
        models = self.registry.models()
        api = replace(api, models=tuple(models))
        return self._settle_model_names(api)

    def _check_identifiers(self, loc: Loc) -> None:
        """Names a document spells out for generated code must be plain identifiers."""
        stack = [loc]
        while stack:
            here = stack.pop()
            if isinstance(here.node, dict):
                for key, value in here.node.items():
                    if key in (n.X_PY_NAME, n.X_CLASS_NAME) and not (isinstance(value, str) and is_identifier(value)):
                        self.error(here.child(key), "RG011", f"{key} {value!r} is not a valid Python identifier")
                    elif isinstance(value, (dict, list)):
                        stack.append(here.child(key))
            elif isinstance(here.node, list):
                stack.extend(here.child(i) for i, v in enumerate(here.node) if isinstance(v, (dict, list)))

    # -- operations ----------------------------------------------------------------------------
    def _operations(self) -> tuple[list[_Draft], list[str]]:
        paths = self.root.child("paths")
        drafts: list[_Draft] = []
        skipped: list[str] = []
        request_streams: list[str] = []
        if not isinstance(paths.node, dict):
            if "paths" in self.doc.data:
                self.error(paths, "RG004", "`paths` must be a mapping")
            return drafts, skipped
        for path in paths.node:
            item = self.resolver.deref(paths.child(path))
            if item is None or not isinstance(item.node, dict):
                continue
            for method in METHODS:
                if not isinstance(item.node.get(method), dict):
                    continue
                op = item.child(method)
                label = f"{method.upper()} {path}"
                media = self._stream_media(op)
                if media is None:
                    if self._streams_in_request(op):
                        request_streams.append(label)
                    skipped.append(label)
                    continue
                if "?" in path or "#" in path:
                    self.warn(paths.child(path), "RG039", f"{label}: a path key cannot hold a query string or fragment (OpenAPI path templating); this stream was skipped")
                    continue
                if not path.startswith("/") or "{" in _TEMPLATE.sub("", path) or "}" in _TEMPLATE.sub("", path) or "{}" in path:
                    self.error(paths.child(path), "RG016", f"invalid path template {path!r}: it must start with '/' and braces must wrap one parameter name")
                    continue
                if method.upper() not in SUPPORTED_METHODS:
                    self.warn(op, "RG039", f"{label}: roccogen generates GET, POST, PUT and PATCH streams; this stream was skipped")
                    continue
                draft = self._draft(path, method.upper(), op, item, media)
                if draft is not None:
                    drafts.append(draft)
        if request_streams:
            self.warn(paths, "RG039", f"request bodies that are event streams (client → server) are not generated: {', '.join(request_streams)}")
        return drafts, skipped

    def _streams_in_request(self, op: Loc) -> bool:
        body = self.resolver.deref(op.child("requestBody")) if "requestBody" in op.node else None
        content = body.node.get("content") if body is not None and isinstance(body.node, dict) else None
        return isinstance(content, dict) and any(is_event_stream(k) for k in content)

    def _stream_media(self, op: Loc) -> Loc | None:
        responses = op.child("responses")
        if isinstance(responses.node, dict):
            keys = sorted(k for k in responses.node if str(k).startswith("2"))
            keys += [k for k in responses.node if k == "default"]  # a stream described only as the default answer
            for key in keys:
                response = self.resolver.deref(responses.child(key))
                if response is None or not isinstance(response.node, dict):
                    continue
                content = response.node.get("content")
                for media_type in content if isinstance(content, dict) else {}:
                    if is_event_stream(media_type):
                        # OpenAPI 3.2 lets a Media Type Object be a $ref to components.mediaTypes.
                        media = self.resolver.deref(response.child("content", media_type))
                        return media if media is not None and isinstance(media.node, dict) else None
        fern = op.node.get("x-fern-streaming")
        if isinstance(fern, dict) and fern.get("format") == "sse" and "response-stream" in fern:
            stream = op.child("x-fern-streaming", "response-stream")
            return Loc({"schema": stream.node}, stream.doc, stream.pointer.rsplit("/", 1)[0])
        return None

    def _draft(self, path: str, method: str, op: Loc, item: Loc, media: Loc) -> _Draft | None:
        node = op.node
        op_id = node.get("operationId")
        name = op_id if isinstance(op_id, str) and op_id.strip() else snake(f"{method} {path}") or "stream"
        klass = node.get(n.X_CLASS_NAME)
        stream_class = klass if isinstance(klass, str) else n.stream_class_name(name) or "Stream"
        checkpoint = self.registry.checkpoint()
        body = self._body(op, stream_class, f"{method} {path}")
        found = self.events.read(media, op, stream_class) if body is not False else FoundStream()
        if found.not_a_stream is not None:
            self.warn(media, "RG038", f"{method} {path}: the document says this is not a stream ({found.not_a_stream!r}); skipped")
        if body is False or found.not_a_stream is not None:
            self.registry.restore(checkpoint)  # its models are not needed
            return None
        params, last_event_id = self.parts.params(path, op, item)
        fern = node.get("x-fern-streaming")
        resumable = bool(node.get(n.X_RESUMABLE)) or last_event_id or (isinstance(fern, dict) and fern.get("resumable") is True)
        if resumable and found.item_schema and not found.has_ids:
            self.warn(media, "RG034", "the stream is resumable but its events declare no `id`; add `id: {type: string}` to the event properties (and to `required`)")
        auth, schemes = self.parts.auth(op, self.root)
        return _Draft(name, method, path, op, found, params, body if isinstance(body, Body) else None, auth, self.parts.errors(op), bool(resumable), schemes)

    def _body(self, op: Loc, stream_class: str, label: str) -> Body | None | bool:
        if "requestBody" not in op.node:
            return None
        body = self.resolver.deref(op.child("requestBody"))
        if body is None or not isinstance(body.node, dict):
            return False
        content = body.child("content")
        types = list(content.node) if isinstance(content.node, dict) else []
        json_types = [t for t in types if t.split(";")[0].strip() == "application/json" or t.split(";")[0].strip().endswith("+json")]
        if not json_types:
            if any(is_event_stream(t) for t in types):
                self.warn(content, "RG039", f"{label}: the request body is an event stream (client → server), which roccogen does not generate; this operation was skipped")
            else:
                self.warn(content, "RG039", f"{label}: the request body is {', '.join(types) or 'empty'}; roccogen generates JSON request bodies only, so this stream was skipped")
            return False
        schema = content.child(json_types[0], "schema")
        if schema.node is None:
            schema = Loc({}, schema.doc, schema.pointer)
        model = self.registry.model_for(schema, stream_class + "Body")
        if model is None:
            return False
        description = body.node.get("description")
        return Body(model, body.node.get("required") is True, description if isinstance(description, str) else None)

    # -- names across the document -------------------------------------------------------------
    def _streams(self, drafts: list[_Draft], used: list[str]) -> list[StreamEndpoint]:
        names: dict[str, Loc] = {}
        py_names: set[str] = set()
        out: list[StreamEndpoint] = []
        for draft in drafts:
            if draft.name in names:
                first = names[draft.name]
                line, col = first.doc.position(first.pointer)
                self.error(draft.op.child("operationId"), "RG005", f"operationId {draft.name!r} is used twice (first at {line}:{col})")
                continue
            names[draft.name] = draft.op.child("operationId")
            node = draft.op.node
            py = node.get(n.X_PY_NAME) if isinstance(node.get(n.X_PY_NAME), str) else n.stream_py_name(draft.name)
            if not py:
                py = "stream"
            if py in py_names:
                base, i = py, 2
                while f"{base}_{i}" in py_names:
                    i += 1
                py = f"{base}_{i}"
                self.warn(draft.op.child("operationId"), "RG012", f"operationId {draft.name!r} becomes {py!r} (its Python name was taken)")
            py_names.add(py)
            klass = node.get(n.X_CLASS_NAME) if isinstance(node.get(n.X_CLASS_NAME), str) else n.stream_class_name(draft.name) or "Stream"
            used.extend(draft.schemes)
            data, terminal, error = self._events(draft.found, draft.name)
            summary, description, tags = node.get("summary"), node.get("description"), node.get("tags")
            keepalive, retry = node.get(n.X_KEEPALIVE), node.get(n.X_RETRY)
            out.append(StreamEndpoint(
                name=draft.name,
                py_name=py,
                class_name=klass,
                method=draft.method,
                path=draft.path,
                summary=summary if isinstance(summary, str) else None,
                description=description if isinstance(description, str) else None,
                tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
                params=tuple(draft.params),
                body=draft.body,
                events=data,
                terminal=terminal,
                error=error,
                keepalive_ms=keepalive if isinstance(keepalive, int) and not isinstance(keepalive, bool) else None,
                resumable=draft.resumable,
                retry_ms=retry if isinstance(retry, int) and not isinstance(retry, bool) else None,
                auth=draft.auth,
                errors=tuple(draft.errors),
            ))
        qualified = qualify_event_classes(out)
        return [self._explicit_classes(s) for s in qualified]

    def _explicit_classes(self, stream: StreamEndpoint) -> StreamEndpoint:
        """Class names the document spells out (``x-roccogen-class-name``) win over derived ones."""

        def fix(event: Event | None) -> Event | None:
            if event is None:
                return None
            klass = self._explicit.get((stream.name, event.role, event.name))
            return replace(event, class_name=klass) if klass is not None else event

        return replace(
            stream,
            events=tuple(e for e in (fix(e) for e in stream.events) if e is not None),
            terminal=fix(stream.terminal),
            error=fix(stream.error),
        )

    def _events(self, found: FoundStream, stream: str) -> tuple[tuple[Event, ...], Event | None, Event | None]:
        data: list[Event] = []
        terminal: Event | None = None
        error: Event | None = None
        taken: set[str] = set()
        classes: set[str] = set()
        for fe in sorted(found.events, key=lambda e: ({"data": 0, "terminal": 1, "error": 2}[e.role], e.name)):
            event = self._event(fe, taken, classes)
            if isinstance(fe.ext.get(n.X_CLASS_NAME), str):
                self._explicit[(stream, event.role, event.name)] = event.class_name
            if fe.role == "terminal":
                terminal = event
            elif fe.role == "error":
                error = event
            else:
                data.append(event)
        return tuple(data), terminal, error

    def _event(self, fe: FoundEvent, taken: set[str], classes: set[str]) -> Event:
        base = n.sentinel_base(fe.sentinel) if fe.sentinel is not None else fe.name
        py = fe.ext.get(n.X_PY_NAME)
        py = py if isinstance(py, str) else n.event_py_name(base) or "event"
        if py in taken:
            original, i = py, 2
            while f"{original}_{i}" in taken:
                i += 1
            py = f"{original}_{i}"
            self.warn(fe.loc, "RG012", f"event {fe.name!r} is called {py!r} in Python (its own name is taken)")
        taken.add(py)
        klass = fe.ext.get(n.X_CLASS_NAME)
        klass = klass if isinstance(klass, str) else n.event_class_name(base)
        if klass in classes:
            stem, i = klass.removesuffix("Event"), 2
            while f"{stem}{i}Event" in classes:
                i += 1
            klass = f"{stem}{i}Event"
        classes.add(klass)
        return Event(fe.name, fe.named, py, klass, fe.model, fe.role, fe.description, fe.sentinel)  # type: ignore[arg-type]

    def _settle_model_names(self, api: Api) -> Api:
        """Rename models whose names the generated code needs for something else."""
        claimed: set[str] = {f"{api.class_name}Service", f"{api.class_name}Client", f"Async{api.class_name}Client"}
        claimed |= _backend_names()
        bodies = {s.body.model for s in api.streams if s.body is not None}
        for stream in api.streams:
            claimed |= {stream.class_name + suffix for suffix in ("Request", "Stream", "Event", "Events")}
            claimed |= {e.class_name for e in stream.all_events}
            claimed |= {e.py_name for e in stream.errors}
        names = {m.name for m in api.models}
        rename: dict[str, str] = {}
        for model in api.models:
            if model.name in claimed:
                base = model.name + ("Body" if model.name in bodies else "Model")
                new, i = base, 2
                while new in names or new in claimed:
                    new, i = f"{base}{i}", i + 1
                names.add(new)
                rename[model.name] = new
        if not rename:
            return api
        self.warn(self.root.child("components", "schemas"), "RG012", "schema names the generated code needs for its own classes were renamed: " + ", ".join(f"{a} → {b}" for a, b in sorted(rename.items())))

        def fix(name: str | None) -> str | None:
            return rename.get(name, name) if name is not None else None

        def fix_event(event: Event | None) -> Event | None:
            return replace(event, model=fix(event.model)) if event is not None else None

        models = []
        for model in api.models:
            text = model.schema_json
            for old, new in rename.items():
                text = text.replace(f'"{PREFIX}{old}"', f'"{PREFIX}{new}"')
            models.append(replace(model, name=rename.get(model.name, model.name), schema_json=text))
        streams = [
            replace(
                s,
                body=replace(s.body, model=rename.get(s.body.model, s.body.model)) if s.body is not None else None,
                events=tuple(e for e in (fix_event(e) for e in s.events) if e is not None),
                terminal=fix_event(s.terminal),
                error=fix_event(s.error),
            )
            for s in api.streams
        ]
        return replace(api, models=tuple(sorted(models, key=lambda m: m.name)), streams=tuple(streams))


def _backend_names() -> set[str]:
    """Top-level names the generated modules import, which a model must not shadow."""
    try:
        from roccogen.backends import client
    except ImportError:  # pragma: no cover - the backend is always installed
        return set()
    return set(getattr(client, "REEXPORTS", ()))
