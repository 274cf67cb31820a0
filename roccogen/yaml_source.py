"""Load YAML or JSON into plain Python data while remembering where every value came from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from roccogen.diagnostics import Diagnostic

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


def escape_pointer_token(token: str | int) -> str:
    """One JSON-pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, token: str | int) -> str:
    """``/a`` + ``b`` → ``/a/b``."""
    return f"{pointer}/{escape_pointer_token(token)}"


@dataclass
class SourceDocument:
    """A loaded file: its data and a map from JSON pointer to (line, column), both 1-based."""

    path: str
    data: Any
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    def position(self, pointer: str, *, key: bool = False) -> tuple[int, int]:
        """Position of the value (or of its key) at ``pointer``, else of its nearest ancestor."""
        table = self.key_positions if key else self.positions
        probe = pointer
        while True:
            if probe in table:
                return table[probe]
            if probe in self.positions:
                return self.positions[probe]
            if not probe:
                return (1, 1)
            probe = probe.rsplit("/", 1)[0]

    def diag(
        self, level: Any, code: str, message: str, pointer: str, *, key: bool = False
    ) -> Diagnostic:
        """A diagnostic positioned at ``pointer``."""
        line, col = self.position(pointer, key=key)
        return Diagnostic(self.path, line, col, level, code, message, pointer)


# A spec that expands to more values than this (YAML aliases can multiply a small file) is refused.
MAX_VALUES = 1_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class DocumentTooLarge(Exception):
    """The document is recursive or expands to too many values."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line, self.column = line, column


class _Builder:
    def __init__(self, doc: SourceDocument, problems: list[Diagnostic]) -> None:
        self.doc = doc
        self.problems = problems
        self.count = 0
        self.active: set[int] = set()  # nodes being built: an alias back to one is a cycle

    def build(self, node: yaml.Node, pointer: str) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise DocumentTooLarge(f"the document expands to more than {MAX_VALUES:,} values (YAML aliases?)")
        if id(node) in self.active:
            mark = node.start_mark
            raise DocumentTooLarge("a YAML alias refers to a node that contains it", mark.line + 1, mark.column + 1)
        mark = node.start_mark
        self.doc.positions[pointer] = (mark.line + 1, mark.column + 1)
        if not isinstance(node, yaml.CollectionNode):
            return self._scalar(node)
        self.active.add(id(node))
        try:
            return self._collection(node, pointer)
        finally:
            self.active.discard(id(node))

    def _collection(self, node: yaml.CollectionNode, pointer: str) -> Any:
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            merged: list[yaml.Node] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
                    continue
                key = self._scalar(key_node)
                skey = key if isinstance(key, str) else json.dumps(key)
                child = join_pointer(pointer, skey)
                if skey in out:
                    km = key_node.start_mark
                    self.problems.append(
                        Diagnostic(self.doc.path, km.line + 1, km.column + 1, "error", "RG017",
                                   f"duplicate key {skey!r}", child)
                    )
                km = key_node.start_mark
                self.doc.key_positions[child] = (km.line + 1, km.column + 1)
                out[skey] = self.build(value_node, child)
            for source in merged:  # YAML merge keys (<<): explicit keys win, earlier sources win
                if not isinstance(source, yaml.MappingNode):
                    mark = source.start_mark
                    self.problems.append(
                        Diagnostic(self.doc.path, mark.line + 1, mark.column + 1, "error", "RG001",
                                   "a merge key (<<) needs a mapping or a list of mappings", pointer)
                    )
                    continue
                value = self.build(source, pointer)
                for key, item in value.items():
                    out.setdefault(key, item)
            return out
        return [self.build(item, join_pointer(pointer, i)) for i, item in enumerate(node.value)]

    def _scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            mark = node.start_mark
            self.problems.append(
                Diagnostic(self.doc.path, mark.line + 1, mark.column + 1, "error", "RG004",
                           "mapping keys must be plain strings", "")
            )
            return "<invalid key>"
        loader = _Loader("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()


def load_source(path: Path, display: str | None = None) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Read and parse ``path``; problems come back as diagnostics, never as exceptions."""
    name = display if display is not None else str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(name, 1, 1, "error", "RG001", f"cannot read file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Diagnostic(name, 1, 1, "error", "RG001", f"file is not UTF-8: {exc.reason}")]
    return parse_source(text, name)


def parse_source(text: str, name: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse YAML (JSON is accepted as YAML) with positions."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [Diagnostic(name, line, col, "error", "RG001", f"invalid YAML: {problem}")]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(name, 1, 1, "error", "RG001", f"invalid YAML: {exc}")]
    except RecursionError:
        return None, [Diagnostic(name, 1, 1, "error", "RG001", "invalid YAML: nested too deeply")]
    doc = SourceDocument(name, None)
    if node is None:
        return None, [Diagnostic(name, 1, 1, "error", "RG001", "the file is empty")]
    problems: list[Diagnostic] = []
    try:
        doc.data = _Builder(doc, problems).build(node, "")
    except yaml.YAMLError as exc:
        return None, [Diagnostic(name, 1, 1, "error", "RG001", f"invalid YAML: {exc}")]
    except DocumentTooLarge as exc:
        return None, [Diagnostic(name, exc.line, exc.column, "error", "RG001", f"cannot read the document: {exc}")]
    except RecursionError:
        return None, [Diagnostic(name, 1, 1, "error", "RG001", "cannot read the document: it is nested too deeply")]
    return doc, problems
