"""Turning spec names into safe Python identifiers and spec strings into safe Python source."""

from __future__ import annotations

import keyword
import math
import re
import unicodedata

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|\b|_)|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# Names a generated module defines or imports at top level; a spec name must not shadow them.
RESERVED = frozenset(
    {
        "annotations", "Any", "BaseModel", "Field", "RootModel", "Annotated", "Literal", "Union",
        "Optional", "Enum", "self", "cls", "request", "stream", "str", "int", "float", "bool",
        "list", "dict", "type", "object", "None", "True", "False", "string",
    }
)


def is_identifier(name: str) -> bool:
    """True when ``name`` is an ASCII Python identifier that is not a keyword."""
    return bool(_IDENT.match(name)) and not keyword.iskeyword(name) and not keyword.issoftkeyword(
        name
    )


def _words(text: str) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _WORDS.findall(ascii_text)


def snake(text: str) -> str:
    """``price-stream`` / ``PriceStream`` / ``price stream`` → ``price_stream`` (may need fixing)."""
    out = "_".join(w.lower() for w in _words(text))
    if not out:
        return ""
    if out[0].isdigit():
        out = "n" + out
    if keyword.iskeyword(out) or keyword.issoftkeyword(out):
        out += "_"
    return out


def pascal(text: str) -> str:
    """``price-stream`` / ``price_stream`` / ``NOT_FOUND`` → ``PriceStream`` / ``NotFound``."""
    if not any(ch.islower() for ch in text):
        text = text.lower()
    out = "".join(w[:1].upper() + w[1:] for w in _words(text))
    if out and out[0].isdigit():
        out = "N" + out
    return out


def py_literal(value: object) -> str:
    """A Python source literal for a JSON value; the only way spec data enters generated code."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite number cannot be a literal")
        return repr(float(value))
    if isinstance(value, str):
        return _string_literal(str(value))
    if isinstance(value, (list, tuple)):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        )
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot express {type(value).__name__} as a literal")


def _string_literal(text: str) -> str:
    """``repr`` in black's quote style: double quotes unless they would need more escapes."""
    source = repr(text)
    if source[0] == "'" and '"' not in text and "'" not in text:
        return f'"{source[1:-1]}"'
    return source


def docstring(text: str | None) -> str:
    """Text that is safe between triple double quotes: no closing quotes, no escapes, no NULs."""
    if not text:
        return ""
    cleaned = "".join(ch for ch in text if ch in "\n\t" or (ch.isprintable() and ch != "\x00")).strip()
    cleaned = cleaned.replace("\\", "\\\\")

    def quote_run(match: re.Match[str]) -> str:
        run = match.group(0)
        # Runs of three or more quotes would close the docstring; a run at the very end would
        # merge with the closing quotes. Escape every quote of such a run.
        if len(run) >= 3 or match.end() == len(cleaned):
            return '\\"' * len(run)
        return run

    return re.sub(r'"+', quote_run, cleaned)


def all_sort_key(name: str) -> tuple[int, list[tuple[int, int | str]]]:
    """The order ruff wants in ``__all__`` (RUF022): CONSTANTS, Classes, the rest; natural order."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    parts = re.split(r"(\d+)", name)
    return kind, [(0, int(p)) if p.isdigit() else (1, p) for p in parts if p]
