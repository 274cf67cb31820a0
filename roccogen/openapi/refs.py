"""``$ref`` resolution for OpenAPI documents: local pointers and relative files, positioned errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from roccogen.diagnostics import Diagnostic
from roccogen.yaml_source import SourceDocument, load_source

MAX_REF_CHAIN = 64


@dataclass(frozen=True)
class Loc:
    """A value and where it sits: its document and JSON pointer."""

    node: Any
    doc: SourceDocument
    pointer: str

    def child(self, *tokens: str | int) -> Loc:
        """The value under ``tokens`` (``None`` when missing)."""
        node = self.node
        pointer = self.pointer
        for token in tokens:
            if isinstance(node, dict):
                node = node.get(str(token))
            elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
                node = node[token]
            else:
                node = None
            pointer += "/" + str(token).replace("~", "~0").replace("/", "~1")
        return Loc(node, self.doc, pointer)

    @property
    def key(self) -> tuple[str, str]:
        """Identity of the location (document path, pointer)."""
        return (self.doc.path, self.pointer)


def unescape(token: str) -> str:
    """One decoded JSON-pointer token."""
    return unquote(token).replace("~1", "/").replace("~0", "~")


class Resolver:
    """Follows ``$ref``s across the root document and the relative files it points at."""

    def __init__(self, root: SourceDocument, diags: list[Diagnostic], root_file: Path | None = None) -> None:
        self.root = root
        self.diags = diags
        self._docs: dict[str, SourceDocument | None] = {}
        # Where each loaded document really is (its ``path`` is the name shown in messages).
        self._files: dict[str, Path] = {root.path: root_file if root_file is not None else Path(root.path)}
        self._reported: set[tuple[str, str, str]] = set()

    def error(self, loc: Loc, code: str, message: str) -> None:
        """Report once per position and code."""
        key = (loc.doc.path, loc.pointer, code)
        if key not in self._reported:
            self._reported.add(key)
            self.diags.append(loc.doc.diag("error", code, message, loc.pointer))

    def _document(self, base: SourceDocument, file: str) -> SourceDocument | None:
        path = (self._files.get(base.path, Path(base.path)).parent / unquote(file)).resolve()
        key = str(path)
        if key not in self._docs:
            if not path.is_file():
                self._docs[key] = None  # reported as RG036 where the $ref is
                return None
            doc, problems = load_source(path, str(Path(base.path).parent / unquote(file)))
            self.diags.extend(problems)
            self._docs[key] = doc
            if doc is not None:
                self._files[doc.path] = path
        return self._docs[key]

    def target(self, ref: str, at: Loc) -> Loc | None:
        """Where ``ref`` (found at ``at``) points, or None after reporting RG036."""
        file, _, fragment = ref.partition("#")
        if "://" in file:
            self.error(at, "RG036", f"$ref {ref!r}: remote references are not supported; download the file and refer to it by a relative path")
            return None
        doc = self._document(at.doc, file) if file else at.doc
        if doc is None:
            self.error(at, "RG036", f"$ref {ref!r}: the file {file!r} does not exist or is not valid YAML/JSON")
            return None
        if fragment and not fragment.startswith("/"):
            self.error(at, "RG036", f"$ref {ref!r}: only JSON-pointer fragments ('#/...') are supported")
            return None
        node: Any = doc.data
        pointer = ""
        for raw in fragment.split("/")[1:] if fragment else []:
            token = unescape(raw)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                self.error(at, "RG036", f"$ref {ref!r} does not resolve: nothing at {fragment or '/'}" + (f" in {file}" if file else ""))
                return None
            pointer += "/" + token.replace("~", "~0").replace("/", "~1")
        return Loc(node, doc, pointer)

    def deref(self, loc: Loc) -> Loc | None:
        """Follow a chain of ``$ref``s (siblings ignored) to the value it ends in."""
        seen: set[tuple[str, str]] = set()
        while isinstance(loc.node, dict) and isinstance(loc.node.get("$ref"), str):
            if loc.key in seen or len(seen) > MAX_REF_CHAIN:
                self.error(loc, "RG036", f"$ref {loc.node['$ref']!r} is circular")
                return None
            seen.add(loc.key)
            nxt = self.target(loc.node["$ref"], loc.child("$ref"))
            if nxt is None:
                return None
            loc = nxt
        return loc
