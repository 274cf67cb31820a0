"""Parameters, security and error responses of an OpenAPI operation → their IR values."""

from __future__ import annotations

import http
import itertools
import re
from dataclasses import replace
from typing import Any, Literal

from roccogen.diagnostics import Diagnostic
from roccogen.ir import Auth, AuthScheme, ErrorResponse, JsonScalar, Param, ScalarType
from roccogen.openapi import naming as n
from roccogen.openapi.refs import Loc, Resolver

SCALARS: tuple[ScalarType, ...] = ("string", "integer", "number", "boolean")
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
MAX_SCOPE_CLAUSES = 64


def placeholders(path: str) -> list[str]:
    """Path template placeholders in order."""
    out: list[str] = []
    for match in _PLACEHOLDER.finditer(path):
        if match.group(1) not in out:
            out.append(match.group(1))
    return out


def _fits(kind: str, value: Any) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int)
    if kind == "number":
        return isinstance(value, (int, float))
    return False


class PartsReader:
    """Reads the parts of an operation other than its events."""

    def __init__(self, resolver: Resolver, diags: list[Diagnostic]) -> None:
        self.resolver = resolver
        self.diags = diags

    def warn(self, loc: Loc, code: str, message: str) -> None:
        """A positioned warning."""
        self.diags.append(loc.doc.diag("warning", code, message, loc.pointer))

    # -- parameters ----------------------------------------------------------------------------
    def params(self, path: str, op: Loc, item: Loc) -> tuple[list[Param], bool]:
        """The parameters, sorted like the native loader sorts them, and whether ``Last-Event-ID`` is one."""
        declared: dict[tuple[str, str], Loc] = {}
        for owner in (item, op):
            raw = owner.node.get("parameters") if isinstance(owner.node, dict) else None
            for i, _ in enumerate(raw if isinstance(raw, list) else []):
                target = self.resolver.deref(owner.child("parameters", i))
                if target is None or not isinstance(target.node, dict):
                    continue
                name, where = target.node.get("name"), target.node.get("in")
                if isinstance(name, str) and isinstance(where, str):
                    declared[(name, where)] = target
        template = placeholders(path)
        resumable = False
        found: list[Param] = []
        for (name, where), loc in declared.items():
            if where == "header" and name.lower() == n.LAST_EVENT_ID.lower():
                resumable = True
                continue
            if where == "header" and name.lower() in _IGNORED_HEADERS:
                continue
            if where not in ("path", "query", "header"):
                self.warn(loc, "RG039", f"{where} parameter {name!r} is not supported and was left out")
                continue
            if where == "header" and not _HEADER_NAME.match(name):
                self.diags.append(loc.doc.diag("error", "RG004", f"{name!r} is not a valid HTTP header name", loc.child("name").pointer))
                continue
            if where == "path" and name not in template:
                self.warn(loc, "RG007", f"path parameter {name!r} does not appear in the path {path!r}; left out")
                continue
            found.append(self._param(name, where, loc))
        for name in template:
            if not any(p.location == "path" and p.name == name for p in found):
                self.warn(op, "RG008", f"path {path!r} has {{{name}}} but the operation does not declare it; read as a required string")
                found.append(Param(name, n.param_py_name(name), "path", "string", True))
        order = {name: i for i, name in enumerate(template)}
        found.sort(key=lambda p: (("path", "query", "header").index(p.location), order.get(p.name, 0), p.name))
        return self._unique_py_names(found, op), resumable

    def _unique_py_names(self, params: list[Param], op: Loc) -> list[Param]:
        taken = set(n.REQUEST_MEMBERS)
        out: list[Param] = []
        for param in params:
            py = param.py_name or "param"
            if py in taken:
                base, i = py, 2
                py = f"{base}_param" if f"{base}_param" not in taken else f"{base}_{i}"
                while py in taken:
                    i += 1
                    py = f"{base}_{i}"
                self.warn(op, "RG012", f"{param.location} parameter {param.name!r} is called {py!r} in Python (its own name is taken)")
            taken.add(py)
            out.append(replace(param, py_name=py))
        return out

    def _scalar_schema(self, loc: Loc) -> tuple[dict[str, Any], str | None]:
        """The schema of a parameter with nullable wrappers taken off, and its scalar type."""
        target = self.resolver.deref(loc)
        node: dict[str, Any] = target.node if target is not None and isinstance(target.node, dict) else {}
        kind = node.get("type")
        if isinstance(kind, list):
            rest = [k for k in kind if k != "null"]
            kind = rest[0] if len(rest) == 1 else None
        if kind is None and target is not None:
            for keyword in ("anyOf", "oneOf"):
                members = node.get(keyword)
                if not isinstance(members, list):
                    continue
                resolved = [self.resolver.deref(target.child(keyword, i)) for i in range(len(members))]
                real = [m for m in resolved if m is not None and isinstance(m.node, dict) and m.node.get("type") != "null"]
                if len(real) == 1:
                    inner, inner_kind = self._scalar_schema(real[0])
                    outer = {k: v for k, v in node.items() if k in ("default", "description")}
                    return {**inner, **outer}, inner_kind
        if kind is None and isinstance(node.get("enum"), list) and node["enum"]:
            kinds = {next((s for s in SCALARS if _fits(s, v)), None) for v in node["enum"] if v is not None}
            kind = kinds.pop() if len(kinds) == 1 else None
        return node, kind if kind in SCALARS else None

    def _param(self, name: str, where: str, loc: Loc) -> Param:
        node = loc.node
        schema_loc = loc.child("schema")
        schema, kind = self._scalar_schema(schema_loc) if "schema" in node else ({}, None)
        if kind is None:
            shown = schema.get("type") or ("a union" if "anyOf" in schema or "oneOf" in schema else "no type")
            self.warn(schema_loc if "schema" in node else loc, "RG039", f"parameter {name!r} has {shown!r}, not a single scalar type; read as a string (pass values joined as the server expects)")
            kind = "string"
            schema = {k: v for k, v in schema.items() if k == "description"}
        py = node.get(n.X_PY_NAME)
        enum = schema.get("enum")
        enum_values: tuple[JsonScalar, ...] | None = None
        if isinstance(enum, list):
            if all(_fits(kind, v) for v in enum):
                enum_values = tuple(enum)
            elif all(_fits(kind, v) or v is None for v in enum):
                enum_values = tuple(v for v in enum if v is not None)
            else:
                self.warn(schema_loc, "RG039", f"parameter {name!r}: enum values that are not {kind} are ignored")
        has_default = "default" in schema and _fits(kind, schema["default"])
        if "default" in schema and not has_default and schema["default"] is not None:
            self.warn(schema_loc.child("default"), "RG039", f"parameter {name!r}: default {schema['default']!r} is not {kind}; ignored")
        if where == "path":
            has_default = False
        bounds = {k: schema.get(k) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")}
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if isinstance(bounds[exclusive], bool):
                bounds[exclusive] = bounds[bound] if bounds[exclusive] else None
                if bounds[exclusive] is not None:
                    bounds[bound] = None
        numbers = {k: v if isinstance(v, (int, float)) and not isinstance(v, bool) else None for k, v in bounds.items()}
        pattern = schema.get("pattern") if isinstance(schema.get("pattern"), str) else None
        if pattern is not None and not valid_pattern(pattern):
            self.warn(schema_loc.child("pattern"), "RG039", f"parameter {name!r}: pattern {pattern!r} is not a valid regular expression; ignored")
            pattern = None
        required = where == "path" or node.get("required") is True
        description = node.get("description") if isinstance(node.get("description"), str) else None
        return Param(
            name=name,
            py_name=py if isinstance(py, str) else n.param_py_name(name),
            location=where,  # type: ignore[arg-type]
            type=kind,  # type: ignore[arg-type]
            required=required and not has_default,
            description=description,
            enum=enum_values,
            default=schema["default"] if has_default else None,
            has_default=has_default,
            min_length=_int(schema.get("minLength")),
            max_length=_int(schema.get("maxLength")),
            pattern=pattern,
            minimum=numbers["minimum"],
            maximum=numbers["maximum"],
            exclusive_minimum=numbers["exclusiveMinimum"],
            exclusive_maximum=numbers["exclusiveMaximum"],
        )

    # -- security ------------------------------------------------------------------------------
    def requirements(self, op: Loc, root: Loc) -> tuple[Loc, list[dict[str, list[str]]]] | None:
        """The security requirements that apply to ``op`` (its own, else the document's)."""
        owner = op if isinstance(op.node, dict) and "security" in op.node else root
        raw = owner.node.get("security") if isinstance(owner.node, dict) else None
        if not isinstance(raw, list) or not raw:
            return None
        alts = [
            {k: [s for s in v if isinstance(s, str)] if isinstance(v, list) else [] for k, v in alt.items()}
            for alt in raw if isinstance(alt, dict)
        ]
        return owner.child("security"), alts

    def auth(self, op: Loc, root: Loc) -> tuple[Auth | None, list[str]]:
        """The stream's Auth and the security scheme names it uses."""
        found = self.requirements(op, root)
        if found is None:
            return None, []
        where, alts = found
        schemes = list(dict.fromkeys(name for alt in alts for name in alt))
        required = all(alt for alt in alts)
        node = op.node if isinstance(op.node, dict) else {}
        roles = _groups(node.get(n.X_ROLES))
        if n.X_SCOPES in node:
            scopes = _groups(node.get(n.X_SCOPES))
        else:
            scopes = self._scopes([alt for alt in alts if alt], where)
        if not required and (scopes or roles):
            self.warn(where, "RG039", "scopes and roles of optional authentication cannot be enforced; ignored")
            scopes, roles = (), ()
        return Auth(required=required, scopes=scopes, roles=roles), schemes

    def _scopes(self, alts: list[dict[str, list[str]]], where: Loc) -> tuple[tuple[str, ...], ...]:
        """OpenAPI alternatives (AND inside, OR across) → rocco groups (OR inside, AND across)."""
        options = [list(dict.fromkeys(s for scopes in alt.values() for s in scopes)) for alt in alts]
        if not options or any(not o for o in options):
            return ()
        if len(options) == 1:
            return tuple((s,) for s in options[0])
        total = 1
        for option in options:
            total *= len(option)
        if total > MAX_SCOPE_CLAUSES:
            self.warn(where, "RG039", "these scope alternatives are too many to combine; only the first alternative's scopes are required")
            return tuple((s,) for s in options[0])
        clauses: list[tuple[str, ...]] = []
        for combo in itertools.product(*options):
            clause = tuple(sorted(set(combo)))
            if clause not in clauses:
                clauses.append(clause)
        kept = [c for c in clauses if not any(set(o) < set(c) for o in clauses)]
        return tuple(kept)

    def auth_scheme(self, root: Loc, used: list[str]) -> AuthScheme:
        """The one credential scheme the generated code supports, from the schemes the streams use."""
        components = root.child("components", "securitySchemes")
        declared = components.node if isinstance(components.node, dict) else {}
        names = used or list(declared)
        if not names:
            return AuthScheme()
        kinds: list[AuthScheme] = []
        for name in names:
            if name not in declared:
                self.warn(components if used else root, "RG036", f"security scheme {name!r} is not declared in components.securitySchemes")
                continue
            target = self.resolver.deref(components.child(name))
            if target is not None and isinstance(target.node, dict):
                kinds.append(self._scheme(target))
        if not kinds:
            return AuthScheme()
        if len(set(kinds)) > 1:
            self.warn(components, "RG039", f"the streams use several kinds of credentials; the generated code supports the first ({names[0]!r}) only")
        return kinds[0]

    def _scheme(self, loc: Loc) -> AuthScheme:
        node = loc.node
        kind = node.get("type")
        if kind == "apiKey":
            where = node.get("in")
            located: Literal["header", "query", "cookie"] = where if where in ("query", "cookie") else "header"
            return AuthScheme("api_key", str(node.get("name") or "X-API-Key"), located)
        if kind == "http" and str(node.get("scheme", "")).lower() != "bearer":
            self.warn(loc, "RG039", f"HTTP {node.get('scheme')!r} authentication is not supported; clients send a bearer token")
        elif kind not in ("http", "oauth2", "openIdConnect"):
            self.warn(loc, "RG039", f"security scheme type {kind!r} is not supported; clients send a bearer token")
        return AuthScheme()

    # -- errors --------------------------------------------------------------------------------
    def errors(self, op: Loc) -> list[ErrorResponse]:
        """Errors the operation answers with before streaming, sorted by status then code."""
        node = op.node
        out: list[ErrorResponse] = []
        if isinstance(node.get(n.X_ERRORS), list):
            for entry in node[n.X_ERRORS]:
                if isinstance(entry, dict) and isinstance(entry.get("status"), int) and isinstance(entry.get("code"), str):
                    py = entry.get(n.X_PY_NAME)
                    out.append(ErrorResponse(entry["status"], entry["code"], entry.get("description"),
                                             py if isinstance(py, str) else n.error_py_name(entry["code"])))
        else:
            responses = op.child("responses")
            for key in responses.node if isinstance(responses.node, dict) else {}:
                if not (len(key) == 3 and key.isdigit() and int(key) >= 400):
                    continue
                target = self.resolver.deref(responses.child(key))
                if target is None or not isinstance(target.node, dict) or target.node.get(n.X_IMPLICIT):
                    continue
                status = int(key)
                try:
                    code = http.HTTPStatus(status).name
                except ValueError:
                    code = f"HTTP_{status}"
                description = target.node.get("description")
                out.append(ErrorResponse(status, code, description if isinstance(description, str) and description else None, n.error_py_name(code)))
        return sorted(out, key=lambda e: (e.status, e.code))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _groups(raw: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(tuple(str(s) for s in group) for group in raw if isinstance(group, list))


def valid_pattern(pattern: str) -> bool:
    """True when Python can compile the regular expression (generated validators need it to)."""
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return True
