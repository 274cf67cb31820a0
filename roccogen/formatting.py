"""Formatting generated Python with black, in-process, with a pinned mode."""

from __future__ import annotations

import ast
import concurrent.futures
import hashlib
import multiprocessing
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import black
from black.strings import str_width

# Pinned: never read from the user's configuration, so output is the same everywhere.
MODE = black.Mode(
    target_versions={black.TargetVersion.PY311},
    line_length=100,
    string_normalization=True,
    magic_trailing_comma=True,
    preview=False,
)
LINE_LENGTH = MODE.line_length

CACHE_ENV = "ROCCOGEN_CACHE_DIR"
NO_CACHE_ENV = "ROCCOGEN_NO_CACHE"
# Below this much source to format, forking workers costs more than it saves.
_PARALLEL_FROM_BYTES = 96 * 1024


def format_python(source: str) -> str:
    """Imports sorted, then black on the whole module (what ``format_modules`` must equal)."""
    return black.format_str(sort_imports(source.replace("\r\n", "\n")), mode=MODE)


def format_modules(sources: dict[str, str], *, foreign: frozenset[str] = frozenset()) -> dict[str, str]:
    """Format modules, imports sorted first, running black only where it would change something.

    Each module is cut into units (top-level statements, and methods of top-level classes), and
    only the units black could change are formatted, in one parallel pass. Template output is
    written in black's layout, so few units need it. Modules in ``foreign`` come from another
    tool (datamodel-code-generator): any of their units with a string or docstring goes to black
    too, since their quoting and blank lines are that tool's.
    """
    texts = {name: _normalized(source) for name, source in sources.items()}
    units = {name: _units(text, strict=name in foreign) for name, text in texts.items()}
    todo = {unit.source for module in units.values() for unit in module if unit.needs_black}
    done = _format_all(sorted(todo, key=len, reverse=True))
    result: dict[str, str] = {}
    for name, module in units.items():
        if all(done.get(unit.source) is not None for unit in module if unit.needs_black):
            result[name] = "".join(unit.formatted(done) for unit in module)
        else:  # a unit was cut inside a string or bracket: format the module whole
            result[name] = black.format_str(texts[name], mode=MODE)
    return result


def _normalized(source: str) -> str:
    """LF line ends, imports sorted, one line end at the end of the file (as black leaves it)."""
    text = sort_imports(source.replace("\r\n", "\n")).rstrip("\n")
    return text + "\n" if text else ""


_TOP_START = re.compile(r"[A-Za-z_@]")
_METHOD_START = re.compile(r"    (?:def |async def |@)")
# Every method unit is formatted inside this stand-in class header.
_CLASS_WRAPPER = "class _RoccogenPart:\n"


def needs_black(text: str, *, strict: bool = False) -> bool:
    """Whether black could change a unit, long lines aside (``_units`` finds those).

    Templates emit black's layout for lines that fit; what they cannot know is how black
    normalizes escapes, tabs, trailing spaces and a docstring that starts with a quote. Strict
    checking (for another tool's output) also sends every unit with a quote or docstring.
    """
    if "\\" in text or "\t" in text or " \n" in text or '""""' in text:
        return True
    return strict and ("'" in text or '"""' in text)


def _too_long(line: str) -> bool:
    if len(line) <= LINE_LENGTH + 1:  # the line end is not counted
        return not line.isascii() and str_width(line.rstrip("\n")) > LINE_LENGTH
    return True


@dataclass(frozen=True)
class Unit:
    """A top-level statement or a method of a top-level class, and the blank lines after it."""

    source: str  # what black formats: a method inside the stand-in class header
    gap: str
    in_class: bool
    needs_black: bool

    def formatted(self, done: dict[str, str | None]) -> str:
        """The unit as black formats it (or as it is, when black would not change it)."""
        if not self.needs_black:
            return self.source + self.gap
        text = done[self.source] or ""
        return (text.removeprefix(_CLASS_WRAPPER) if self.in_class else text) + self.gap


def _units(text: str, *, strict: bool = False) -> list[Unit]:
    """Cut a module before each statement that follows a blank line.

    A cut never falls inside a triple-quoted string (quotes are counted per line); a cut in some
    other string or bracket leaves a unit black cannot parse, and the module is formatted whole.
    A unit needs black when a line is too long, except inside a docstring: black never splits
    those, and moves closing quotes only when the closing line is too long.
    """
    lines = text.splitlines(keepends=True)
    starts: list[tuple[int, bool]] = [(0, False)]
    long_lines: set[int] = set()  # the index in ``starts`` of units with a line black would split
    in_string = False
    top_is_class = False
    for index, line in enumerate(lines):
        if index and not in_string and lines[index - 1] == "\n":
            if _TOP_START.match(line):
                top_is_class = line.startswith(("class ", "@"))
                starts.append((index, False))
            elif top_is_class and _METHOD_START.match(line):
                starts.append((index, True))
        elif index == 0:
            top_is_class = line.startswith(("class ", "@"))
        quotes = line.count('"""')
        if quotes:
            stripped = line.strip()
            if quotes > 2 or not (stripped.startswith('"""') or stripped.endswith('"""')):
                long_lines.add(len(starts) - 1)  # triple quotes inside a line: not a docstring
        closing = in_string and quotes % 2 == 1
        # Inside a docstring only its closing line counts; an opening or one-line one may be long.
        may_be_long = (in_string and not closing) or (quotes > 0 and not in_string)
        if not may_be_long and len(line) > LINE_LENGTH // 2 and _too_long(line):
            long_lines.add(len(starts) - 1)
        if quotes % 2:
            in_string = not in_string
    units = []
    bounds = zip(starts, starts[1:] + [(len(lines), False)])
    for number, ((begin, in_class), (end, _)) in enumerate(bounds):
        stop = end
        while stop > begin and lines[stop - 1] == "\n":
            stop -= 1
        source = "".join(lines[begin:stop])
        flagged = number in long_lines or needs_black(source, strict=strict)
        if flagged and in_class:
            source = _CLASS_WRAPPER + source
        units.append(Unit(source, "".join(lines[stop:end]), in_class, flagged))
    return units


def _cache_dir() -> Path | None:
    if os.environ.get(NO_CACHE_ENV):
        return None
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "roccogen"
    )
    mode_key = hashlib.sha256(repr((black.__version__, MODE)).encode()).hexdigest()[:16]
    return Path(base) / f"black-{mode_key}"


def _format_all(pieces: list[str]) -> dict[str, str | None]:
    """Black on every piece (None where black cannot parse it), from the cache when it can."""
    cache = _cache_dir()
    done: dict[str, str | None] = {}
    keys = {p: hashlib.sha256(p.encode("utf-8")).hexdigest() for p in pieces}
    if cache is not None:
        for piece in pieces:
            try:
                done[piece] = (cache / keys[piece]).read_text("utf-8")
            except OSError:
                pass
    missing = [p for p in pieces if p not in done]
    workers = max(1, min(os.cpu_count() or 1, 8))
    if len(missing) > 1 and workers > 1 and sum(map(len, missing)) > _PARALLEL_FROM_BYTES and (
        "fork" in multiprocessing.get_all_start_methods()
    ):
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            chunk = max(1, len(missing) // (4 * workers))  # many small units: fewer round trips
            results = list(pool.map(_format_or_none, missing, chunksize=chunk))
    else:
        results = [_format_or_none(p) for p in missing]
    for piece, result in zip(missing, results):
        done[piece] = result
        if cache is not None and result is not None:
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


def _format_or_none(piece: str) -> str | None:
    try:
        return black.format_str(piece, mode=MODE)
    except black.InvalidInput:  # a piece cut inside a string or bracket
        return None


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


def _from_import(prefix: str, names: list[str]) -> str:
    line = prefix + ", ".join(names)
    if len(line) <= LINE_LENGTH:
        return line
    return prefix + "(\n" + "".join(f"    {name},\n" for name in names) + ")"


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
                lines.append(_from_import(prefix, plain_names))
            # Aliased names stay on lines of their own (ruff's combine-as-imports is off).
            lines.extend(prefix + n for n in sorted((n for n in names if " as " in n), key=_name_key))
        if lines:
            groups.append(lines)
    lines_in = source.splitlines(keepends=True)
    start, end = block[0].lineno - 1, block[-1].end_lineno or block[-1].lineno
    rendered = "\n\n".join("\n".join(g) for g in groups) + "\n"
    return "".join(lines_in[:start]) + rendered + "".join(lines_in[end:])
