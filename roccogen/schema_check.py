"""Check a loaded spec against the format's own JSON Schema, reporting positioned diagnostics.

Only the JSON Schema keywords the format's schema uses are understood; the schema file shipped
in ``roccogen/schema`` is the single source of which keys exist.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from roccogen.diagnostics import Diagnostic, did_you_mean
from roccogen.yaml_source import SourceDocument, join_pointer

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


@lru_cache(maxsize=1)
def spec_schema() -> dict[str, Any]:
    """The native format's JSON Schema, as shipped in the package."""
    text = resources.files("roccogen.schema").joinpath("roccogen-spec.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Checker:
    def __init__(self, doc: SourceDocument, root: dict[str, Any]) -> None:
        self.doc = doc
        self.root = root

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            ref = schema["$ref"]
            target: Any = self.root
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def check(self, value: Any, schema: dict[str, Any], pointer: str, what: str) -> list[Diagnostic]:
        schema = self.resolve(schema)
        if "oneOf" in schema:
            return self._one_of(value, schema["oneOf"], pointer, what)
        out: list[Diagnostic] = []
        if "const" in schema and value != schema["const"]:
            return [self._err("RG004", f"{what} must be {json.dumps(schema['const'])}", pointer)]
        if schema.get("x-roccogen-code") == "RG014" and not (
            isinstance(value, str) and re.search(schema["pattern"], value)
        ):
            return [self._err("RG014", f"{what}: malformed duration {value!r} (use e.g. 500ms, 15s, 5m, 1h)", pointer)]
        if "enum" in schema and value not in schema["enum"]:
            choices = ", ".join(str(c) for c in schema["enum"])
            hint = did_you_mean(str(value), [str(c) for c in schema["enum"]])
            code = schema.get("x-roccogen-code", "RG004")
            return [self._err(code, f"{what} must be one of: {choices}; got {value!r}{hint}", pointer)]
        expected = schema.get("type")
        if expected is not None:
            ok = isinstance(value, _TYPES[expected]) and not (
                expected in ("integer", "number") and isinstance(value, bool)
            )
            if not ok:
                noun = "mapping" if expected == "object" else "list" if expected == "array" else expected
                article = "an" if noun[0] in "aeiou" else "a"
                return [
                    self._err("RG004", f"{what} must be {article} {noun}, not {_type_name(value)}", pointer)
                ]
        if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(self._err("RG004", f"{what} {value!r} does not match {schema['pattern']}", pointer))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                out.append(self._err("RG004", f"{what} must be at least {schema['minimum']}", pointer))
            if "maximum" in schema and value > schema["maximum"]:
                out.append(self._err("RG004", f"{what} must be at most {schema['maximum']}", pointer))
        if isinstance(value, list):
            if len(value) < schema.get("minItems", 0):
                out.append(self._err("RG004", f"{what} needs at least {schema['minItems']} item(s)", pointer))
            if "items" in schema:
                for i, item in enumerate(value):
                    out += self.check(item, schema["items"], join_pointer(pointer, i), f"{what}[{i}]")
        if isinstance(value, dict):
            out += self._object(value, schema, pointer, what)
        return out

    def _object(self, value: dict[str, Any], schema: dict[str, Any], pointer: str, what: str) -> list[Diagnostic]:
        out: list[Diagnostic] = []
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key in schema.get("required", []):
            if key not in value:
                out.append(self._err("RG003", f"{what} is missing required field {key!r}", pointer))
        for key, item in value.items():
            child = join_pointer(pointer, key)
            label = f"{what}.{key}" if what else key
            if key in props:
                out += self.check(item, props[key], child, label)
            elif extra is False:
                hint = did_you_mean(key, list(props))
                where = f" in {what}" if what else ""
                out.append(self.doc.diag("error", "RG002", f"unknown key {key!r}{where}{hint}", child, key=True))
            elif isinstance(extra, dict):
                out += self.check(item, extra, child, label)
        return out

    def _one_of(self, value: Any, options: list[dict[str, Any]], pointer: str, what: str) -> list[Diagnostic]:
        results = [self.check(value, option, pointer, what) for option in options]
        if any(not r for r in results):
            return []
        # Prefer the alternative whose shape matched (its problems are deeper than a type mismatch).
        matching = [
            r for r, o in zip(results, options)
            if self._shape_matches(value, self.resolve(o))
        ]
        if len(matching) == 1:
            return matching[0]
        shapes = " or ".join(self._describe(self.resolve(o)) for o in options)
        return [self._err("RG004", f"{what} must be {shapes}, not {_type_name(value)}", pointer)]

    def _shape_matches(self, value: Any, schema: dict[str, Any]) -> bool:
        if "const" in schema:
            return bool(value == schema["const"])
        if "type" not in schema:
            return False
        if schema["type"] == "array" and isinstance(value, list) and value:
            item_schema = self.resolve(schema.get("items", {}))
            return self._shape_matches(value[0], item_schema) if "type" in item_schema else True
        return isinstance(value, _TYPES[schema["type"]]) and not isinstance(value, bool) or (
            schema["type"] == "boolean" and isinstance(value, bool)
        )

    def _describe(self, schema: dict[str, Any]) -> str:
        if "const" in schema:
            return json.dumps(schema["const"])
        if schema.get("pattern") == "^[0-9]+(ms|s|m|h)$":
            return "a duration like 15s"
        kind = schema.get("type", "a value")
        return {"object": "a mapping", "array": "a list"}.get(kind, f"a {kind}")

    def _err(self, code: str, message: str, pointer: str) -> Diagnostic:
        return self.doc.diag("error", code, message, pointer)


def check_against_schema(doc: SourceDocument) -> list[Diagnostic]:
    """Structural problems of a native spec: unknown keys, missing fields, wrong types."""
    schema = spec_schema()
    return _Checker(doc, schema).check(doc.data, schema, "", "")
