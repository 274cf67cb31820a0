"""Formatting generated Python with black, in-process, with a pinned mode."""

from __future__ import annotations

import ast
import concurrent.futures
import multiprocessing
import os
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


# Files larger than this are formatted in pieces split at top-level statements, on every core.
CHUNKED_FORMAT_BYTES = 96 * 1024


def format_python(source: str, *, chunk_bytes: int = CHUNKED_FORMAT_BYTES) -> str:
    """Black-formatted source with LF line ends (identical to black on the whole file)."""
    source = sort_imports(source.replace("\r\n", "\n"))
    if len(source) < chunk_bytes:
        return black.format_str(source, mode=MODE)
    return format_in_pieces(source, chunk_bytes)


def _format_piece(piece: str) -> str:
    return black.format_str(piece, mode=MODE)


def _is_definition(node: ast.stmt) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


def _pieces(source: str, target: int) -> list[tuple[str, bool, bool]]:
    """Cut at top-level statements into pieces of about ``target`` characters.

    Each piece comes with whether its first and last statements are definitions: black puts two
    blank lines around top-level definitions, which is all the seams need.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    starts: list[tuple[int, ast.stmt]] = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        while first > 0 and lines[first - 1].lstrip().startswith("#"):
            first -= 1  # comments directly above a statement belong to it
        starts.append((first, node))
    pieces: list[tuple[str, bool, bool]] = []
    begin, size, first_node = 0, 0, tree.body[0] if tree.body else None
    for index, (start, node) in enumerate(starts):
        if index == 0:
            continue
        size = sum(len(line) for line in lines[begin:start])
        prev = starts[index - 1][1]
        # Only cut between two definitions: their seam is always exactly two blank lines.
        if size >= target and _is_definition(prev) and _is_definition(node):
            assert first_node is not None
            pieces.append(("".join(lines[begin:start]), _is_definition(first_node), True))
            begin, first_node = start, node
    assert first_node is not None
    pieces.append(("".join(lines[begin:]), _is_definition(first_node), _is_definition(starts[-1][1])))
    return pieces


def format_in_pieces(source: str, chunk_bytes: int = CHUNKED_FORMAT_BYTES) -> str:
    """Black, run on pieces of the module in parallel, joined as black joins them."""
    workers = max(1, min(os.cpu_count() or 1, 8))
    target = max(chunk_bytes // 2, len(source) // (workers * 2) + 1)
    pieces = _pieces(source, target)
    texts = [p[0] for p in pieces]
    if len(texts) > 1 and workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            formatted = list(pool.map(_format_piece, texts))
    else:
        formatted = [_format_piece(t) for t in texts]
    return "\n\n".join(f.strip("\n") + "\n" for f in formatted)


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
