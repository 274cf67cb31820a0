"""OpenAPI schemas → IR models: names, ``$ref`` rewriting, hoisting, OpenAPI 3.0 normalisation.

Only schemas the streams reach become models (a 1,400-schema document generates what its streams
use). Component names become PascalCase class names; every ``$ref`` in a model is rewritten to
``#/components/schemas/<Class>``; a ``$ref`` to anything else (a nested pointer, another file) is
hoisted into a model of its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from roccogen.diagnostics import Diagnostic
from roccogen.ir import Model
from roccogen.names import RESERVED, is_identifier, pascal
from roccogen.openapi.refs import Loc, Resolver, unescape

COMPONENTS = "/components/schemas/"
_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
PREFIX = "#/components/schemas/"
# Keywords whose values are data, not schemas: a "$ref" key inside them is not a reference.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "example", "examples", "x-examples"})
_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


def class_name(raw: str) -> str:
    """A schema name as a class name: kept when it already is one, else PascalCase."""
    # Underscores would be dropped by the model generator, so only plain PascalCase is kept.
    name = raw if _PASCAL.match(raw) and is_identifier(raw) else pascal(raw)
    if not name or not is_identifier(name):
        name = "Model" + name if name else "Model"
    if name in RESERVED:
        name += "Model"
    return name


class SchemaRegistry:
    """Assigns model names to schema locations and turns the reached ones into IR models."""

    def __init__(self, resolver: Resolver, diags: list[Diagnostic], openapi_30: bool) -> None:
        self.resolver = resolver
        self.diags = diags
        self.openapi_30 = openapi_30
        self.root = resolver.root
        self.by_loc: dict[tuple[str, str], str] = {}
        self.taken: set[str] = set()
        self._pending: list[tuple[str, Loc]] = []
        self._done: dict[str, str] = {}
        self._renamed: dict[str, str] = {}  # class → why it is not the schema's own name
        self._current = ""
        self._component_names()

    def _component_names(self) -> None:
        components = self.root.data.get("components") if isinstance(self.root.data, dict) else None
        schemas = components.get("schemas") if isinstance(components, dict) else None
        if not isinstance(schemas, dict):
            return
        wanted: dict[str, list[str]] = {}
        for raw in schemas:
            wanted.setdefault(class_name(raw), []).append(raw)
        # An exact name keeps its name; the others of a colliding group get a number.
        for name, raws in wanted.items():
            raws.sort(key=lambda r: (r != name, r))
            for i, raw in enumerate(raws):
                final = name if i == 0 else self._unique(name)
                self.taken.add(final)
                pointer = COMPONENTS + raw.replace("~", "~0").replace("/", "~1")
                self.by_loc[(self.root.path, pointer)] = final
                if i:
                    self._renamed[final] = f"schema {raw!r} is class {final!r}: schema {raws[0]!r} is class {name!r}"
                elif name.endswith("Model") and not raw.endswith("Model") and name[:-5] in RESERVED:
                    self._renamed[final] = f"schema {raw!r} is class {final!r}: {name[:-5]!r} is a name generated code uses"

    def _unique(self, base: str) -> str:
        if base not in self.taken:
            return base
        i = 2
        while f"{base}{i}" in self.taken:
            i += 1
        return f"{base}{i}"

    def reserve(self, name: str) -> str:
        """A fresh model name starting with ``name``."""
        final = self._unique(class_name(name))
        self.taken.add(final)
        return final

    def checkpoint(self) -> tuple[dict[tuple[str, str], str], set[str], list[tuple[str, Loc]]]:
        """The registry's state, to forget the models of an operation that turns out skipped."""
        return dict(self.by_loc), set(self.taken), list(self._pending)

    def restore(self, state: tuple[dict[tuple[str, str], str], set[str], list[tuple[str, Loc]]]) -> None:
        """Go back to a :meth:`checkpoint`."""
        self.by_loc, self.taken, self._pending = dict(state[0]), set(state[1]), list(state[2])

    # -- references to models -----------------------------------------------------------------
    def name_for_target(self, target: Loc) -> str:
        """The model name of the schema at ``target`` (hoisting it when it is not a component)."""
        name = self.by_loc.get(target.key)
        if name is None:
            tokens = [unescape(t) for t in target.pointer.split("/")[1:]]
            base = tokens[-1] if tokens else target.doc.path.rsplit("/", 1)[-1].split(".")[0]
            if tokens and base.isdigit() and len(tokens) > 1:
                base = tokens[-2] + base
            name = self.reserve(base)
            self.by_loc[target.key] = name
        if name not in self._done and all(n != name for n, _ in self._pending):
            self._pending.append((name, target))
        return name

    def model_ref(self, loc: Loc) -> str | None:
        """The model for a ``{$ref: ...}`` schema, or None when the reference is broken."""
        target = self.resolver.target(loc.node["$ref"], loc.child("$ref"))
        if target is None:
            return None
        # A component that is itself only a $ref to another component names the same model.
        return self.name_for_target(target)

    def model_for(self, loc: Loc, suggested: str) -> str | None:
        """The model for a schema: its ``$ref`` target, or a new model named after ``suggested``."""
        if isinstance(loc.node, dict) and isinstance(loc.node.get("$ref"), str) and len(loc.node) == 1:
            return self.model_ref(loc)
        name = self.by_loc.get(loc.key)
        if name is None:
            name = self.reserve(suggested)
            self.by_loc[loc.key] = name
            self._pending.append((name, loc))
        return name

    # -- conversion ----------------------------------------------------------------------------
    def models(self) -> list[Model]:
        """Every reached schema as an IR model (reaching further models while converting)."""
        while self._pending:
            name, loc = self._pending.pop()
            if name in self._done:
                continue
            self._done[name] = ""
            self._current = name
            converted = self._convert(loc.node, loc)
            self._done[name] = json.dumps(converted, ensure_ascii=False)
        self._report_renames()
        return [Model(name, text) for name, text in sorted(self._done.items())]

    def _report_renames(self) -> None:
        components = Loc(self.root.data, self.root, "").child("components", "schemas").node
        if not isinstance(components, dict):
            return
        by_name = {v: k for k, v in self.by_loc.items() if k[0] == self.root.path}
        for name in sorted(self._done):
            if name in self._renamed and name in by_name:
                pointer = by_name[name][1]
                if unescape(pointer.rsplit("/", 1)[-1]) in components:
                    self.diags.append(self.root.diag("warning", "RG012", self._renamed[name], pointer, key=True))

    def _ref(self, ref: str, at: Loc) -> str:
        target = self.resolver.target(ref, at)
        if target is None:
            return ref
        return PREFIX + self.name_for_target(target)

    def _convert(self, node: Any, loc: Loc) -> Any:
        if isinstance(node, list):
            return [self._convert(v, loc.child(i)) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = loc.child(key)
            if key == "$ref" and isinstance(value, str):
                out[key] = self._ref(value, child)
            elif key == "$recursiveRef" and value == "#":
                out["$ref"] = PREFIX + self._current  # JSON Schema 2019-09 recursion, as 2020-12 sees it
            elif key == "$recursiveAnchor":
                continue
            elif key in _DATA_KEYWORDS or key.startswith("x-"):
                out[key] = value
            elif key in _MAP_KEYWORDS and isinstance(value, dict):
                out[key] = {k: self._convert(v, child.child(k)) for k, v in value.items()}
            elif key == "discriminator" and isinstance(value, dict):
                out[key] = self._discriminator(value, child)
            else:
                out[key] = self._convert(value, child)
        if self.openapi_30:
            out = _from_openapi_30(out)
        out = _merge_nullable_scalar(out)
        if isinstance(out.get("pattern"), str) and not _compiles(out["pattern"]):
            self.diags.append(loc.doc.diag(
                "warning", "RG039", f"pattern {out['pattern']!r} is not a valid regular expression; dropped",
                loc.child("pattern").pointer,
            ))
            del out["pattern"]
        if "default" in out and not _default_fits(out["default"], out.get("type")):
            # A generated model would not type-check (and the default would fail validation).
            self.diags.append(loc.doc.diag(
                "warning", "RG039",
                f"default {json.dumps(out['default'], ensure_ascii=False)[:60]} is not of type {_type_text(out.get('type'))}; dropped",
                loc.child("default").pointer,
            ))
            del out["default"]
        return out

    def _discriminator(self, value: dict[str, Any], loc: Loc) -> dict[str, Any]:
        out = dict(value)
        mapping = value.get("mapping")
        if isinstance(mapping, dict):
            fixed: dict[str, Any] = {}
            for key, ref in mapping.items():
                if isinstance(ref, str) and "#" not in ref and "/" not in ref and "." not in ref:
                    ref = PREFIX + ref  # OpenAPI allows a bare schema name here
                fixed[key] = self._ref(ref, loc.child("mapping", key)) if isinstance(ref, str) else ref
            out["mapping"] = fixed
        return out


def _from_openapi_30(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0 schema dialect → JSON Schema 2020-12 (``nullable``, boolean exclusive bounds)."""
    out = dict(schema)
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
    if out.pop("nullable", False) is True:
        if out.get("default") == "null":
            out["default"] = None  # a common 3.0 slip: the string "null" meant null
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif kind is None:
            meta: dict[str, Any] = {k: out.pop(k) for k in ("description", "title", "default") if k in out}
            out = {**meta, "anyOf": [out, {"type": "null"}]}
    return out


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "null": (type(None),), "object": (dict,), "array": (list,),
}


def _default_fits(value: Any, kind: Any) -> bool:
    kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else None
    if not kinds or not all(isinstance(k, str) and k in _JSON_TYPES for k in kinds):
        return True  # no (known) type to check against
    for k in kinds:
        if isinstance(value, bool) and k not in ("boolean",):
            continue
        if isinstance(value, _JSON_TYPES[k]):
            return True
    return False


def _type_text(kind: Any) -> str:
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return True


_SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean"})
_COMPOSED = frozenset({"$ref", "anyOf", "oneOf", "allOf", "not", "if", "properties", "items"})


def _merge_nullable_scalar(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [{type: number, maximum: 2}, {type: null}]`` → ``{type: [number, null], maximum: 2}``.

    The same set of values (scalar keywords do not apply to null), but the model generator then
    writes ``float | None`` with its constraints instead of a root model whose default mypy rejects.
    """
    members = schema.get("anyOf")
    if not isinstance(members, list) or len(members) != 2 or "type" in schema:
        return schema
    nulls = [m for m in members if m == {"type": "null"}]
    others = [m for m in members if m != {"type": "null"}]
    if len(nulls) != 1 or len(others) != 1 or not isinstance(others[0], dict):
        return schema
    inner = others[0]
    if inner.get("type") not in _SCALAR_TYPES or _COMPOSED & set(inner):
        return schema
    merged = {k: v for k, v in schema.items() if k != "anyOf"}
    for key, value in inner.items():
        merged.setdefault(key, value)
    merged["type"] = [inner["type"], "null"]
    if "const" in merged:
        merged["enum"] = [merged.pop("const")]
    if isinstance(merged.get("enum"), list) and None not in merged["enum"]:
        merged["enum"] = [*merged["enum"], None]
    return merged
