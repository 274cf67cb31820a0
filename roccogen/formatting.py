"""Formatting generated Python with black, in-process, with a pinned mode."""

from __future__ import annotations

import ast
import concurrent.futures
import hashlib
import itertools
import multiprocessing
import os
import re
import sys
import tempfile
from pathlib import Path

import black

# Pinned: never read from the user's configuration, so output is the same everywhere.
MODE = black.Mode(
    target_versions={black.TargetVersion.PY311},
    line_length=100,
    string_normalization=True,
    magic_trailing_comma=True,
    preview=False,
)


# Modules are cut into pieces of about this size at top-level definitions; the pieces of all
# modules of a package are formatted together, on every core.
PIECE_BYTES = 48 * 1024
CACHE_ENV = "ROCCOGEN_CACHE_DIR"
NO_CACHE_ENV = "ROCCOGEN_NO_CACHE"


def format_python(source: str, *, chunk_bytes: int = PIECE_BYTES) -> str:
    """Black-formatted source with LF line ends (identical to black on the whole file)."""
    return format_modules({"module": source}, piece_bytes=chunk_bytes)["module"]


def format_modules(sources: dict[str, str], *, piece_bytes: int = PIECE_BYTES) -> dict[str, str]:
    """Format several modules at once: imports sorted, then black on pieces in parallel."""
    texts = {name: sort_imports(source.replace("\r\n", "\n")) for name, source in sources.items()}
    plans = {name: _plan(text, piece_bytes) for name, text in texts.items()}
    todo = sorted({part for plan in plans.values() for piece in plan for part in piece}, key=len, reverse=True)
    try:
        done = _format_all(todo)
    except black.InvalidInput:
        # A piece was cut inside a string or bracket: format every module whole instead.
        return {name: _format_piece(text) for name, text in texts.items()}
    return {name: _assemble(plan, done) for name, plan in plans.items()}


# A module is planned as top-level pieces (joined by two blank lines, as black separates top-level
# definitions); a large class is one piece made of parts split at its methods (joined by one blank
# line). Every part after a class's first is formatted inside this stand-in class header.
Plan = list[list[str]]
_CLASS_WRAPPER = "class _RoccogenPart:\n"


def _plan(text: str, piece_bytes: int) -> Plan:
    if len(text) < piece_bytes:
        return [[text]]
    return [_class_parts(piece, piece_bytes) for piece in _pieces(text, piece_bytes)]


def _assemble(plan: Plan, done: dict[str, str]) -> str:
    if len(plan) == 1 and len(plan[0]) == 1:
        return done[plan[0][0]]
    pieces = []
    for parts in plan:
        texts = [done[parts[0]]] + [done[p].removeprefix(_CLASS_WRAPPER) for p in parts[1:]]
        pieces.append("\n".join(t.strip("\n") + "\n" for t in texts))
    return "\n\n".join(pieces)


def _is_stub(node: ast.stmt) -> bool:
    body = getattr(node, "body", [])
    return len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and (
        body[0].value.value is Ellipsis
    )


def _class_parts(piece: str, target: int) -> list[str]:
    """Split a large top-level class between methods; a lone piece comes back as it is.

    A cut falls only after a method with a real body and before another method (overload stubs
    stay with what follows them), where black puts exactly one blank line.
    """
    if len(piece) < 2 * target or not re.match(r"(?:[#@][^\n]*\n)*class ", piece):
        return [piece]
    try:
        tree = ast.parse(piece)
    except SyntaxError:
        return [piece]
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.ClassDef):
        return [piece]
    lines = piece.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    members = tree.body[0].body
    parts: list[str] = []
    begin = 0
    for prev, node in itertools.pairwise(members):
        if not (isinstance(prev, functions) and isinstance(node, functions)) or _is_stub(prev):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        while start > begin and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        if offsets[start] - offsets[begin] >= target:
            parts.append("".join(lines[begin:start]))
            begin = start
    parts.append("".join(lines[begin:]))
    return [parts[0]] + [_CLASS_WRAPPER + part for part in parts[1:]]


def _cache_dir() -> Path | None:
    if os.environ.get(NO_CACHE_ENV):
        return None
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "roccogen"
    )
    mode_key = hashlib.sha256(repr((black.__version__, MODE)).encode()).hexdigest()[:16]
    return Path(base) / f"black-{mode_key}"


def _format_all(pieces: list[str]) -> dict[str, str]:
    """Black on every piece: from the cache when black already formatted the same text."""
    cache = _cache_dir()
    done: dict[str, str] = {}
    keys = {p: hashlib.sha256(p.encode("utf-8")).hexdigest() for p in pieces}
    if cache is not None:
        for piece in pieces:
            try:
                done[piece] = (cache / keys[piece]).read_text("utf-8")
            except OSError:
                pass
    missing = [p for p in pieces if p not in done]
    workers = max(1, min(os.cpu_count() or 1, 8))
    if len(missing) > 1 and workers > 1 and sum(map(len, missing)) > 2 * PIECE_BYTES and (
        "fork" in multiprocessing.get_all_start_methods()
    ):
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(_format_piece, missing))
    else:
        results = [_format_piece(p) for p in missing]
    for piece, result in zip(missing, results):
        done[piece] = result
        if cache is not None:
            _store(cache, keys[piece], result)
    return done


def _store(cache: Path, key: str, text: str) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=cache)
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temp, cache / key)
    except OSError:
        pass  # the cache only saves time; never fail a build for it


def _format_piece(piece: str) -> str:
    return black.format_str(piece, mode=MODE)


def _is_definition(node: ast.stmt) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


_DEFINITION = re.compile(r"(?:class |def |async def |@)")


def _pieces(source: str, target: int) -> list[str]:
    """Cut before top-level definitions into pieces of about ``target`` characters.

    A cut falls only where the previous top-level statement is a definition too: black puts
    exactly two blank lines there, so joining formatted pieces with two blank lines is what black
    does. Lines are classified by their first column only; a cut inside a string or bracket
    leaves a piece black cannot parse, which ``_format_all`` detects (it then formats the whole).
    """
    lines = source.splitlines(keepends=True)
    pieces: list[str] = []
    begin = size = 0
    prev_is_definition = False
    for index, line in enumerate(lines):
        size += len(line)
        head = line[:1]
        if not head or head in " \t\n)]}#":
            continue
        is_definition = bool(_DEFINITION.match(line))
        if is_definition and prev_is_definition and size - len(line) >= target:
            first = index
            while first > begin and lines[first - 1].lstrip().startswith(("#", "@")):
                first -= 1  # comments and decorators belong to the definition below them
            pieces.append("".join(lines[begin:first]))
            begin, size = first, sum(len(x) for x in lines[first : index + 1])
        if not line.startswith("@"):
            prev_is_definition = is_definition
    pieces.append("".join(lines[begin:]))
    return pieces


def format_in_pieces(source: str, chunk_bytes: int = PIECE_BYTES) -> str:
    """Black, run on pieces of the module, joined as black joins them (for tests)."""
    plan = [_class_parts(piece, chunk_bytes) for piece in _pieces(source, chunk_bytes)]
    return _assemble(plan, {part: _format_piece(part) for parts in plan for part in parts})


def _section(module: str, level: int) -> int:
    if level:
        return 3
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    return 1 if top in sys.stdlib_module_names else 2


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p]


def _name_key(name: str) -> tuple[int, list[tuple[int, int | str]], str]:
    # isort's order-by-type: CONSTANTS, then Classes, then functions and variables; each
    # case-insensitively and in natural order (Tick2 before Tick10), as ruff sorts them.
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return (kind, _natural(name.lower()), name)


def sort_imports(source: str) -> str:
    """Rewrite the module's leading import block in isort order (what ruff's I001 expects)."""
    match = re.search(r"^(?:class |def |async def |@)", source, re.MULTILINE)
    if match is not None:
        head, tail = source[: match.start()], source[match.start() :]
        try:
            ast.parse(head)
        except SyntaxError:  # the cut fell inside a string: use the whole module
            pass
        else:
            return sort_imports_whole(head) + tail
    return sort_imports_whole(source)


def sort_imports_whole(source: str) -> str:
    """``sort_imports`` on a module parsed whole."""
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
        lines = [f"import {name}" for name in sorted(plain.get(section, ()), key=lambda n: (_natural(n.lower()), n))]
        for (sec, level, module), names in sorted(froms.items(), key=lambda kv: (_natural(kv[0][2].lower()), kv[0][1])):
            if sec != section:
                continue
            prefix = f"from {'.' * level}{module} import "
            plain_names = sorted((n for n in names if " as " not in n), key=_name_key)
            if plain_names:
                lines.append(prefix + ", ".join(plain_names))
            # Aliased names stay on lines of their own (ruff's combine-as-imports is off).
            lines.extend(prefix + n for n in sorted((n for n in names if " as " in n), key=_name_key))
        if lines:
            groups.append(lines)
    lines_in = source.splitlines(keepends=True)
    start, end = block[0].lineno - 1, block[-1].end_lineno or block[-1].lineno
    rendered = "\n\n".join("\n".join(g) for g in groups) + "\n"
    return "".join(lines_in[:start]) + rendered + "".join(lines_in[end:])
