"""Formatting generated Python with black, in-process, with a pinned mode."""

from __future__ import annotations

import ast
import sys

import black

# Pinned: never read from the user's configuration, so output is the same everywhere.
MODE = black.Mode(
    target_versions={black.TargetVersion.PY311},
    line_length=100,
    string_normalization=True,
    magic_trailing_comma=True,
    preview=False,
)


def format_python(source: str) -> str:
    """Black-formatted source with LF line ends."""
    return black.format_str(sort_imports(source.replace("\r\n", "\n")), mode=MODE)


def _section(module: str, level: int) -> int:
    if level:
        return 3
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    return 1 if top in sys.stdlib_module_names else 2


def _name_key(name: str) -> tuple[int, str]:
    # isort's order-by-type: CONSTANTS, then Classes, then functions and variables.
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def sort_imports(source: str) -> str:
    """Rewrite the module's leading import block in isort order (what ruff's I001 expects)."""
    tree = ast.parse(source)
    body = list(tree.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    block: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            break
        block.append(node)
    if not block:
        return source
    plain: dict[int, set[str]] = {}
    froms: dict[tuple[int, int, str], set[str]] = {}
    for node in block:
        if isinstance(node, ast.Import):
            for alias in node.names:
                text = alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
                plain.setdefault(_section(alias.name, 0), set()).add(text)
        else:
            module = node.module or ""
            key = (_section(module, node.level), node.level, module)
            for alias in node.names:
                text = alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
                froms.setdefault(key, set()).add(text)
    groups: list[list[str]] = []
    for section in range(4):
        lines = [f"import {name}" for name in sorted(plain.get(section, ()))]
        for (sec, level, module), names in sorted(froms.items(), key=lambda kv: (kv[0][2].lower(), kv[0][1])):
            if sec == section:
                joined = ", ".join(sorted(names, key=_name_key))
                lines.append(f"from {'.' * level}{module} import {joined}")
        if lines:
            groups.append(lines)
    lines_in = source.splitlines(keepends=True)
    start, end = block[0].lineno - 1, block[-1].end_lineno or block[-1].lineno
    rendered = "\n\n".join("\n".join(g) for g in groups) + "\n"
    return "".join(lines_in[:start]) + rendered + "".join(lines_in[end:])
