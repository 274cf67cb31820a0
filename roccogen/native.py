"""Native roccogen YAML spec → frozen IR, with every semantic check positioned in the file."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from roccogen.diagnostics import Diagnostic
from roccogen.event_classes import qualify_event_classes
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
from roccogen.names import RESERVED, is_identifier, pascal, snake
from roccogen.schema_check import check_against_schema
from roccogen.yaml_source import SourceDocument, join_pointer

_PLACEHOLDER = re.compile(r"\{([^{}/]*)\}")
_DURATION = re.compile(r"^([0-9]+)(ms|s|m|h)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_FORBIDDEN_IN_EVENT_NAME = ("\r", "\n", "\x00", ":")
STRING_DATA = "string"
# Methods of the generated stream and client objects; events whose names collide get a suffix.
STREAM_MEMBERS = frozenset(
    {"send", "send_event", "send_comment", "done", "close", "aclose", "closed", "request", "on",
     "run", "response", "raw", "events_sent", "last_event_id"}
)
UNNAMED_EVENT = "message"


def _article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def duration_ms(text: str) -> int:
    """``15s`` → 15000 (the text was validated by the schema)."""
    match = _DURATION.match(text)
    assert match is not None
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def rewrite_refs(schema: Any, rename: dict[str, str], bad: list[tuple[str, str]], pointer: str) -> Any:
    """Copy of a model schema with ``#/models/X`` refs pointed at ``#/components/schemas/<class>``."""
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            child = join_pointer(pointer, key)
            if key == "$ref" and isinstance(value, str):
                target = value.removeprefix("#/models/")
                if not value.startswith("#/models/") or target not in rename:
                    bad.append((child, value))
                    out[key] = value
                else:
                    out[key] = f"#/components/schemas/{rename[target]}"
            else:
                out[key] = rewrite_refs(value, rename, bad, child)
        return out
    if isinstance(schema, list):
        return [rewrite_refs(v, rename, bad, join_pointer(pointer, i)) for i, v in enumerate(schema)]
    return schema


class _NativeReader:
    def __init__(self, doc: SourceDocument, default_package: str) -> None:
        self.doc = doc
        self.default_package = default_package
        self.diags: list[Diagnostic] = []
        self.models: dict[str, str] = {}  # spec name → class name

    def error(self, code: str, message: str, pointer: str, *, key: bool = False) -> None:
        self.diags.append(self.doc.diag("error", code, message, pointer, key=key))

    def warn(self, code: str, message: str, pointer: str) -> None:
        self.diags.append(self.doc.diag("warning", code, message, pointer))

    # -- top level ---------------------------------------------------------------------------
    def read(self) -> Api | None:
        data = self.doc.data
        if not isinstance(data, dict):
            self.error("RG004", "a roccogen spec must be a mapping at the top level", "")
            return None
        if data.get("roccogen") != 1 and "roccogen" in data:
            self.error("RG018", f"unsupported spec version {data['roccogen']!r} (this roccogen reads 1)", "/roccogen")
            return None
        self.diags += check_against_schema(self.doc)
        if self.diags:
            return None
        package = data.get("package") or snake(self.default_package)
        if not is_identifier(package):
            self.error("RG011", f"package name {package!r} is not a valid Python identifier; set `package:`", "/package" if "package" in data else "")
            package = "api"
        models = self._models(data.get("models", {}))
        streams = self._streams(data["streams"])
        auth = data.get("auth", {})
        scheme = AuthScheme(
            kind=auth.get("scheme", "bearer"),
            api_key_name=auth.get("name") if auth.get("scheme") == "api_key" else None,
            api_key_in=auth.get("in", "header") if auth.get("scheme") == "api_key" else None,
        )
        if scheme.kind == "api_key" and not scheme.api_key_name:
            self.error("RG003", "auth with scheme api_key needs a `name`", "/auth")
        streams = qualify_event_classes(streams)
        api = Api(
            package=package,
            class_name=pascal(package) or "Api",
            title=data.get("title", pascal(package)),
            version=str(data.get("version", "0.1.0")),
            description=data.get("description"),
            streams=tuple(sorted(streams, key=lambda s: s.name)),
            models=tuple(sorted(models, key=lambda m: m.name)),
            auth_scheme=scheme,
            source=self.doc.path,
        )
        self._check_generated_names(api)
        return api

    # -- models ------------------------------------------------------------------------------
    def _models(self, raw: dict[str, Any]) -> list[Model]:
        seen: dict[str, str] = {}
        for name in raw:
            pointer = join_pointer("/models", name)
            cls = name if is_identifier(name) and name[0].isupper() else pascal(name)
            if not cls or not is_identifier(cls):
                self.error("RG011", f"model name {name!r} cannot be turned into a Python class name", pointer, key=True)
                continue
            if cls in RESERVED:
                self.error("RG012", f"model name {name!r} would shadow {cls!r}, which generated code uses; rename it", pointer, key=True)
                continue
            if cls in seen:
                self.error("RG012", f"model names {seen[cls]!r} and {name!r} both become class {cls!r}", pointer, key=True)
                continue
            seen[cls] = name
            self.models[name] = cls
        out: list[Model] = []
        for name, schema in raw.items():
            if name not in self.models:
                continue
            bad: list[tuple[str, str]] = []
            pointer = join_pointer("/models", name)
            rewritten = rewrite_refs(schema, self.models, bad, pointer)
            for where, ref in bad:
                known = ", ".join(sorted(self.models)) or "none"
                self.error("RG009", f"$ref {ref!r} does not name a model (use '#/models/<Name>'; models: {known})", where)
            out.append(Model(self.models[name], json.dumps(rewritten, ensure_ascii=False)))
        return out

    def _model_ref(self, name: str, pointer: str) -> str | None:
        if name in self.models:
            return self.models[name]
        hint = [m for m in self.models if m.lower() == name.lower()]
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        known = ", ".join(sorted(self.models)) or "none declared"
        self.error("RG009", f"unknown model {name!r}{extra}; models: {known}", pointer)
        return None

    # -- streams -----------------------------------------------------------------------------
    def _streams(self, raw: list[dict[str, Any]]) -> list[StreamEndpoint]:
        out: list[StreamEndpoint] = []
        names: dict[str, str] = {}
        py_names: dict[str, str] = {}
        routes: dict[tuple[str, str], str] = {}
        for i, spec in enumerate(raw):
            pointer = f"/streams/{i}"
            name = spec["name"]
            # A stream with a bad name is still checked whole, so one run reports everything.
            named_ok = name not in names
            if not named_ok:
                self.error("RG005", f"duplicate stream name {name!r} (first at {names[name]})", pointer + "/name")
            names.setdefault(name, self._where(pointer + "/name"))
            py = snake(name)
            if not py:
                self.error("RG011", f"stream name {name!r} has no letters or digits to build a Python name from", pointer + "/name")
                named_ok, py = False, "stream"
            elif named_ok and py in py_names:
                self.error("RG012", f"stream names {py_names[py]!r} and {name!r} both become {py!r}", pointer + "/name")
                named_ok = False
            py_names.setdefault(py, name)
            route = (spec["method"], re.sub(r"\{[^}]*\}", "{}", spec["path"]))
            if route in routes:
                self.error("RG006", f"{spec['method']} {spec['path']} is already declared by stream {routes[route]!r}", pointer + "/path")
            routes.setdefault(route, name)
            stream = self._stream(spec, pointer, name, py)
            if stream is not None and named_ok:
                out.append(stream)
        return out

    def _where(self, pointer: str) -> str:
        line, col = self.doc.position(pointer)
        return f"{line}:{col}"

    def _stream(self, spec: dict[str, Any], pointer: str, name: str, py: str) -> StreamEndpoint | None:
        before = len(self.diags)
        method = spec["method"]
        params = self._params(spec, pointer)
        body = None
        if "body" in spec:
            raw_body = spec["body"]
            body_ptr = pointer + "/body"
            if isinstance(raw_body, str):
                raw_body = {"model": raw_body}
            else:
                body_ptr += "/model"
            if method == "GET":
                self.error("RG004", "a GET stream cannot take a request body; use POST", pointer + "/body")
            model = self._model_ref(raw_body["model"], body_ptr)
            if model is not None:
                body = Body(model, raw_body.get("required", True), raw_body.get("description"))
        events = self._events(spec, pointer)
        resumable = spec.get("resumable", False)
        retry_ms = None
        if isinstance(resumable, dict):
            retry_ms = duration_ms(resumable["retry"]) if "retry" in resumable else None
            resumable = True
        keepalive = spec.get("keepalive")
        keepalive_ms = duration_ms(keepalive) if isinstance(keepalive, str) else None
        if keepalive_ms == 0:
            self.error("RG014", "keepalive must be longer than 0; use `keepalive: false` to turn it off", pointer + "/keepalive")
        auth = None
        if "auth" in spec:
            raw_auth = spec["auth"]
            auth = Auth(
                required=raw_auth.get("required", True),
                scopes=self._groups(raw_auth.get("scopes", [])),
                roles=self._groups(raw_auth.get("roles", [])),
            )
            if not auth.required and (auth.scopes or auth.roles):
                self.error("RG004", "scopes and roles need `required: true`", pointer + "/auth")
        errors = self._errors(spec.get("errors", []), pointer)
        if len(self.diags) != before or events is None:
            return None
        data_events, terminal, error = events
        return StreamEndpoint(
            name=name,
            py_name=py,
            class_name=pascal(name),
            method=method,
            path=spec["path"],
            summary=spec.get("summary"),
            description=spec.get("description"),
            tags=tuple(spec.get("tags", ())),
            params=params,
            body=body,
            events=data_events,
            terminal=terminal,
            error=error,
            keepalive_ms=keepalive_ms,
            resumable=bool(resumable),
            retry_ms=retry_ms,
            auth=auth,
            errors=errors,
        )

    @staticmethod
    def _groups(raw: list[Any]) -> tuple[tuple[str, ...], ...]:
        if not raw:
            return ()
        if all(isinstance(x, str) for x in raw):
            return (tuple(raw),)
        return tuple(tuple(group) for group in raw)

    def _errors(self, raw: list[dict[str, Any]], pointer: str) -> tuple[ErrorResponse, ...]:
        seen: set[tuple[int, str]] = set()
        out: list[ErrorResponse] = []
        for i, item in enumerate(raw):
            key = (item["status"], item["code"])
            if key in seen:
                self.error("RG021", f"error {item['status']} {item['code']} is declared twice", f"{pointer}/errors/{i}")
                continue
            seen.add(key)
            out.append(ErrorResponse(item["status"], item["code"], item.get("description"), pascal(item["code"]) + "Error"))
        return tuple(sorted(out, key=lambda e: (e.status, e.code)))

    # -- parameters --------------------------------------------------------------------------
    def _params(self, spec: dict[str, Any], pointer: str) -> tuple[Param, ...]:
        path = spec["path"]
        raw = spec.get("params", {})
        placeholders: list[str] = []
        stripped = _PLACEHOLDER.sub("", path)
        if "{" in stripped or "}" in stripped or "?" in path or "#" in path or "//" in path:
            self.error("RG016", f"invalid path template {path!r}: braces must wrap one parameter name; no query or fragment", pointer + "/path")
        for match in _PLACEHOLDER.finditer(path):
            placeholder = match.group(1)
            if not placeholder:
                self.error("RG016", f"empty placeholder '{{}}' in path {path!r}", pointer + "/path")
            elif placeholder in placeholders:
                self.error("RG016", f"placeholder {{{placeholder}}} appears twice in path {path!r}", pointer + "/path")
            else:
                placeholders.append(placeholder)
        declared = raw.get("path", {})
        for placeholder in placeholders:
            if placeholder not in declared:
                self.error("RG008", f"path {path!r} has {{{placeholder}}} but params.path does not declare {placeholder!r}", pointer + "/path")
        for name in declared:
            if name not in placeholders:
                self.error("RG007", f"path parameter {name!r} does not appear in the path {path!r}", f"{pointer}/params/path/{name}", key=True)
        params: list[Param] = []
        for location in ("path", "query", "header"):
            entries = raw.get(location, {})
            names = [p for p in placeholders if p in entries] if location == "path" else sorted(entries)
            for name in names:
                params.append(self._param(name, location, entries[name], f"{pointer}/params/{location}/{name}"))
        # Attributes every generated request object has besides the parameters.
        seen = {"body": "the request body", "last_event_id": "the Last-Event-ID header",
                "identity": "the authenticated identity"}
        for param in params:
            where = f"{pointer}/params/{param.location}/{param.name}"
            if not param.py_name:
                self.error("RG011", f"parameter {param.name!r} cannot be turned into a Python name", where, key=True)
            elif param.py_name in seen:
                self.error("RG012", f"{param.location} parameter {param.name!r} and {seen[param.py_name]} both become {param.py_name!r}", where, key=True)
            seen[param.py_name] = f"{param.location} parameter {param.name!r}"
        return tuple(params)

    def _param(self, name: str, location: str, raw: dict[str, Any], pointer: str) -> Param:
        kind = raw["type"]
        required = True if location == "path" else raw.get("required", False)
        if location == "path" and raw.get("required") is False:
            self.error("RG004", "path parameters are always required", pointer + "/required")
        if location == "header" and not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            self.error("RG004", f"{name!r} is not a valid HTTP header name", pointer, key=True)
        py_types = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}[kind]

        def fits(value: Any) -> bool:
            return isinstance(value, py_types) and (kind == "boolean" or not isinstance(value, bool))

        enum = raw.get("enum")
        for i, value in enumerate(enum or []):
            if not fits(value):
                self.error("RG004", f"enum value {value!r} is not {_article(kind)}", f"{pointer}/enum/{i}")
        has_default = "default" in raw
        default = raw.get("default")
        if has_default:
            if not fits(default):
                self.error("RG004", f"default {default!r} is not {_article(kind)}", pointer + "/default")
            elif enum is not None and default not in enum:
                self.error("RG004", f"default {default!r} is not one of the enum values", pointer + "/default")
            if location == "path":
                self.error("RG004", "a path parameter cannot have a default", pointer + "/default")
        if "pattern" in raw:
            try:
                re.compile(raw["pattern"])
            except re.error as exc:
                self.error("RG004", f"pattern is not a valid regular expression: {exc}", pointer + "/pattern")
        if isinstance(default, float) and not math.isfinite(default):
            self.error("RG004", "default must be a finite number", pointer + "/default")
        return Param(
            name=name,
            py_name=snake(name),
            location=location,  # type: ignore[arg-type]
            type=kind,
            required=required and not has_default,
            description=raw.get("description"),
            enum=tuple(enum) if enum is not None else None,
            default=default,
            has_default=has_default,
            min_length=raw.get("minLength"),
            max_length=raw.get("maxLength"),
            pattern=raw.get("pattern"),
            minimum=raw.get("minimum"),
            maximum=raw.get("maximum"),
            exclusive_minimum=raw.get("exclusiveMinimum"),
            exclusive_maximum=raw.get("exclusiveMaximum"),
        )

    # -- events ------------------------------------------------------------------------------
    def _events(self, spec: dict[str, Any], pointer: str) -> tuple[tuple[Event, ...], Event | None, Event | None] | None:
        before = len(self.diags)
        seen: dict[str, str] = {}
        py_seen: dict[str, str] = {}
        events: list[Event] = []

        def make(raw: dict[str, Any], where: str, role: str) -> Event | None:
            named = "name" in raw
            name = raw["name"] if named else UNNAMED_EVENT
            data = raw["data"]  # checked first: a bad name below does not hide a bad model
            model = None if data == STRING_DATA else self._model_ref(data, where + "/data")
            if named:
                bad = [c for c in _FORBIDDEN_IN_EVENT_NAME if c in name]
                if not name:
                    self.error("RG010", "event name must not be empty; omit `name` for unnamed events", where + "/name")
                    return None
                if bad:
                    shown = ", ".join(repr(c) for c in bad)
                    self.error("RG010", f"event name {name!r} contains {shown}; CR, LF, NUL and ':' cannot appear in an SSE event name", where + "/name")
                    return None
                if name != name.strip():
                    self.error("RG010", f"event name {name!r} has leading or trailing spaces", where + "/name")
                    return None
            if name in seen:
                label = "unnamed events (message)" if name == UNNAMED_EVENT else f"event {name!r}"
                self.error("RG015", f"{label} declared twice in this stream (first at {seen[name]})", where + ("/name" if named else ""))
                return None
            seen[name] = self._where(where)
            py = snake(name)
            if not py:
                self.error("RG011", f"event name {name!r} has no letters or digits to build a Python name from", where + "/name")
                return None
            if py in STREAM_MEMBERS:
                py += "_event"
            if py in py_seen:
                self.error("RG012", f"event names {py_seen[py]!r} and {name!r} both become {py!r}", where + "/name")
                return None
            py_seen[py] = name
            if data != STRING_DATA and model is None:
                return None
            return Event(name, named, py, pascal(name) + "Event", model, role, raw.get("description"))  # type: ignore[arg-type]

        for i, raw in enumerate(spec["events"]):
            event = make(raw, f"{pointer}/events/{i}", "data")
            if event is not None:
                events.append(event)
        terminal = make(spec["terminal"], pointer + "/terminal", "terminal") if "terminal" in spec else None
        error = make(spec["error"], pointer + "/error", "error") if "error" in spec else None
        if len(self.diags) != before:
            return None
        return tuple(sorted(events, key=lambda e: e.name)), terminal, error

    # -- names across the whole generated package ----------------------------------------------
    def _check_generated_names(self, api: Api) -> None:
        owners: dict[str, str] = {m.name: f"model {m.name!r}" for m in api.models}
        fixed = {
            f"{api.class_name}Service": "the service base class",
            f"{api.class_name}Client": "the client class",
            f"Async{api.class_name}Client": "the async client class",
        }

        def claim(name: str, owner: str, pointer: str) -> None:
            if name in owners and owners[name] != owner:
                self.error("RG012", f"{owner} and {owners[name]} both need the Python name {name!r}; rename one", pointer)
            owners.setdefault(name, owner)

        for name, owner in fixed.items():
            claim(name, owner, "/package")
        by_name = {s.name: s for s in api.streams}
        for index, stream in enumerate(self.doc.data["streams"]):
            found = by_name.get(stream.get("name"))
            if found is None:
                continue
            s = found
            where = f"/streams/{index}/name"
            for suffix in ("Request", "Stream", "Event", "Events"):
                claim(s.class_name + suffix, f"stream {s.name!r}", where)
            for event in s.all_events:
                claim(event.class_name, f"event {event.name!r} ({event.model or 'string'})", where)
            for error in s.errors:
                claim(error.py_name, f"error {error.code!r}", where)


def read_native(doc: SourceDocument, default_package: str) -> tuple[Api | None, list[Diagnostic]]:
    """Validate a native spec and build its IR; errors come back as diagnostics."""
    reader = _NativeReader(doc, default_package)
    api = reader.read()
    if any(d.level == "error" for d in reader.diags):
        return None, sorted(reader.diags)
    return api, sorted(reader.diags)
