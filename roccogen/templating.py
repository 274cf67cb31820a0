"""The jinja2 environment shared by every backend: templates only loop and print."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from roccogen.names import docstring, py_literal


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
    env.filters["json"] = lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False)
    return env


def render(template: str, **context: Any) -> str:
    """Render one template with the given context."""
    return environment().get_template(template).render(**context)
