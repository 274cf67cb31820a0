"""Diagnostics are values: collected while reading a spec, printed as ``file:line:col: level[CODE] msg``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["error", "warning"]

# Every code roccogen reports, with what it means (docs/diagnostics.md is generated from this).
CODES: dict[str, str] = {
    "RG001": "the file cannot be read or is not valid YAML/JSON",
    "RG002": "unknown key",
    "RG003": "missing required field",
    "RG004": "wrong type or invalid value",
    "RG005": "duplicate stream name",
    "RG006": "duplicate method and path",
    "RG007": "path parameter declared but not in the path template",
    "RG008": "path template placeholder without a declared path parameter",
    "RG009": "reference to an unknown model",
    "RG010": "invalid event name",
    "RG011": "name is not a valid identifier and cannot be converted",
    "RG012": "names collide after conversion to Python identifiers",
    "RG013": "unsupported HTTP method",
    "RG014": "malformed duration",
    "RG015": "duplicate event name",
    "RG016": "invalid path template",
    "RG017": "duplicate key",
    "RG018": "unsupported spec version",
    "RG019": "invalid model schema",
    "RG020": "model code generation failed",
    "RG021": "duplicate error response",
    "RG030": "not an OpenAPI document or unsupported OpenAPI version",
    "RG031": "oneOf member without an event const",
    "RG032": "event names differ only in case",
    "RG033": "itemSchema in an OpenAPI 3.0/3.1 document",
    "RG034": "resumable stream without event ids",
    "RG035": "terminal event not declared",
    "RG036": "$ref that does not resolve",
    "RG037": "untyped string stream",
    "RG038": "operations that do not stream were skipped",
    "RG039": "unsupported construct ignored",
}


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in a spec, with its position."""

    file: str
    line: int
    column: int
    level: Level = field(compare=False)
    code: str = field(compare=False)
    message: str = field(compare=False)
    pointer: str = field(default="", compare=False)

    def format(self) -> str:
        """``specs/x.yaml:12:5: error[RG012] message``."""
        return f"{self.file}:{self.line}:{self.column}: {self.level}[{self.code}] {self.message}"


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """`` (did you mean 'x'?)`` when a close choice exists, else an empty string."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    """True when any diagnostic is an error (errors stop output, warnings don't)."""
    return any(d.level == "error" for d in diagnostics)
