"""load → IR → render → format: the typed stages every command shares."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from roccogen.backends.client import RUNTIME_FILES as CLIENT_RUNTIME
from roccogen.backends.client import render_client
from roccogen.backends.models import HEADER, ModelGenerationError, render_models
from roccogen.backends.server import RUNTIME_FILES as SERVER_RUNTIME
from roccogen.backends.server import render_server
from roccogen.diagnostics import Diagnostic, has_errors
from roccogen.formatting import format_modules
from roccogen.ir import Api
from roccogen.names import snake
from roccogen.native import read_native
from roccogen.templating import render
from roccogen.yaml_source import SourceDocument, load_source

Files = dict[PurePosixPath, str]


@dataclass
class SpecResult:
    """What one spec turned into: its IR (when valid), rendered files and diagnostics."""

    spec: str
    api: Api | None = None
    files: Files = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error diagnostics."""
        return not has_errors(self.diagnostics)


def default_package(path: Path) -> str:
    """``specs/chat.openapi.yaml`` → ``chat``."""
    return snake(path.name.split(".", 1)[0]) or "api"


def read_document(doc: SourceDocument, package: str) -> tuple[Api | None, list[Diagnostic]]:
    """Pick the reader by the document's shape: native (``roccogen:``) or OpenAPI (``openapi:``)."""
    from roccogen.openapi.reader import looks_like_openapi, read_openapi

    data = doc.data
    if looks_like_openapi(data):
        return read_openapi(doc, package)
    if isinstance(data, dict) and "roccogen" not in data and "streams" not in data:
        return None, [
            doc.diag(
                "error", "RG018",
                "not a roccogen spec or an OpenAPI document: add `roccogen: 1` (native format) "
                "or `openapi: 3.x` at the top",
                "",
            )
        ]
    return read_native(doc, package)


def load_api(path: Path, display: str | None = None) -> tuple[Api | None, list[Diagnostic]]:
    """Read and validate one spec file into the IR."""
    doc, problems = load_source(path, display)
    if doc is None or has_errors(problems):
        return None, problems
    api, diagnostics = read_document(doc, default_package(path))
    return api, sorted(problems + diagnostics)


def _openapi_json(api: Api) -> Files:
    try:
        from roccogen.openapi.writer import build_openapi
    except ImportError:  # the writer is optional until it exists
        return {}
    document = build_openapi(api)
    return {PurePosixPath("openapi.json"): json.dumps(document, indent=2, ensure_ascii=False) + "\n"}


# Runtime modules are copied verbatim: they are black-clean in the repository (a test holds
# them to it), so formatting them again would only cost time.
VERBATIM = frozenset(PurePosixPath(name) for name in (*SERVER_RUNTIME.values(), *CLIENT_RUNTIME.values()))

BACKENDS: tuple[Callable[[Api], Files], ...] = (render_models, render_server, render_client, _openapi_json)


def render_api(api: Api) -> Files:
    """Every file of the generated package, keyed by path relative to the output directory."""
    files: Files = {
        PurePosixPath("__init__.py"): render("package_init.py.jinja", api=api),
        PurePosixPath("py.typed"): "",
    }
    for backend in BACKENDS:
        files.update(backend(api))
    python = {
        str(rel): text if text.startswith(HEADER) else f"{HEADER}\n{text}"
        for rel, text in files.items()
        if rel.suffix == ".py"
    }
    formatted = format_modules({k: v for k, v in python.items() if PurePosixPath(k) not in VERBATIM})
    formatted.update({k: v for k, v in python.items() if PurePosixPath(k) in VERBATIM})
    return {
        PurePosixPath(api.package) / rel: formatted.get(str(rel), text)
        for rel, text in sorted(files.items())
    }


def build_spec(path: Path, display: str | None = None) -> SpecResult:
    """One spec through every stage; never raises for a bad spec."""
    name = display if display is not None else str(path)
    result = SpecResult(name)
    result.api, result.diagnostics = load_api(path, name)
    if result.api is None or not result.ok:
        return result
    try:
        result.files = render_api(result.api)
    except ModelGenerationError as exc:
        result.diagnostics.append(
            Diagnostic(name, 1, 1, "error", "RG020", f"models could not be generated: {exc}", "/models")
        )
    return result
