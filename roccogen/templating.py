"""The jinja2 environment shared by every backend: templates only loop and print."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from roccogen.formatting import LINE_LENGTH
from roccogen.names import docstring, py_literal


@dataclass(frozen=True)
class Call:
    """A bracketed expression laid out the way black lays it out: ``head`` items ``tail``.

    ``atom`` marks a tuple, list or dict display (black puts its items one a line as soon as it
    splits it); otherwise it is a call or a signature, whose items black keeps together on one
    indented line when they fit there.
    """

    head: str
    items: tuple[str | Call, ...]
    tail: str
    atom: bool = False

    def line(self) -> str:
        """The expression on one line."""
        return f"{self.head}{self._inner()}{self.tail}"

    def _inner(self) -> str:
        inner = ", ".join(item if isinstance(item, str) else item.line() for item in self.items)
        return inner + ("," if self.atom and self.head.endswith("(") and len(self.items) == 1 else "")

    def layout(self, indent: int, after: int = 0) -> str:
        """Black's layout at ``indent``; ``after`` counts what follows on the last line.

        One line when it fits; else a call's items on one indented line when they fit there;
        else one item a line with trailing commas (items that are calls laid out the same way).
        A line that fits is never split, and a magic trailing comma keeps a split one split, so
        black leaves every layout this chooses as it is.
        """
        line = self.line()
        if indent + len(line) + after <= LINE_LENGTH or not self.items:
            return line
        pad = " " * (indent + 4)
        inner = self._inner()
        if not self.atom and indent + 4 + len(inner) <= LINE_LENGTH:
            return f"{self.head}\n{pad}{inner}\n{' ' * indent}{self.tail}"
        rows = [item if isinstance(item, str) else item.layout(indent + 4, 1) for item in self.items]
        return self.head + "\n" + "".join(f"{pad}{row},\n" for row in rows) + " " * indent + self.tail


def fit(indent: int, head: str, items: Sequence[str | Call], tail: str, *, atom: bool = False) -> str:
    """``Call(head, items, tail, atom).layout(indent)``, for templates."""
    return Call(head, tuple(items), tail, atom).layout(indent)


def union_alias(target: str, members: Sequence[str]) -> str:
    """``target = A | B | C`` as black lays it out: on one line, in parentheses, or a member a line."""
    line = f"{target} = {' | '.join(members)}"
    if len(line) <= LINE_LENGTH:
        return line
    inner = " | ".join(members)
    if 4 + len(inner) <= LINE_LENGTH:
        return f"{target} = (\n    {inner}\n)"
    return f"{target} = (\n    " + "\n    | ".join(members) + "\n)"


def _template_loader() -> jinja2.BaseLoader:
    root = resources.files("roccogen.templates")
    return jinja2.FunctionLoader(lambda name: (root / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one jinja2 environment: strict undefined, no autoescape (output is Python, not HTML)."""
    env = jinja2.Environment(
        loader=_template_loader(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    # Every spec string reaches generated code through one of these filters.
    env.filters["literal"] = py_literal
    env.filters["docstring"] = docstring
    env.globals["fit"] = fit
    env.globals["union_alias"] = union_alias
    env.filters["json"] = lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False)
    return env


def render(template: str, **context: Any) -> str:
    """Render one template with the given context."""
    return environment().get_template(template).render(**context)
