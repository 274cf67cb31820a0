"""load → IR → render → format: the typed stages every command shares."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path, PurePosixPath
from typing import cast

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

# datamodel-code-generator's output, checked more strictly before it skips black.
FOREIGN = frozenset({"models.py"})

BACKENDS: tuple[Callable[[Api], Files], ...] = (render_models, render_server, render_client, _openapi_json)


def render_api(api: Api, *, parallel: bool = True) -> Files:
    """Every file of the generated package, keyed by path relative to the output directory.

    With ``parallel``, a spec with many models has them generated in a forked process while
    this one renders and formats the rest (the output is the same either way).
    """
    models_backend, *backends = BACKENDS
    models_job = _Background(models_backend, api) if parallel and _worth_forking(api) else None
    files: Files = {
        PurePosixPath("__init__.py"): render("package_init.py.jinja", api=api),
        PurePosixPath("py.typed"): "",
    }
    for backend in backends:
        files.update(backend(api))
    models = models_job.result() if models_job is not None else models_backend(api)
    files.update(models)
    python = {
        str(rel): text if text.startswith(HEADER) else f"{HEADER}\n{text}"
        for rel, text in files.items()
        if rel.suffix == ".py"
    }
    formatted = format_modules(
        {rel: text for rel, text in python.items() if PurePosixPath(rel) not in VERBATIM},
        foreign=FOREIGN,
    )
    formatted.update({rel: text for rel, text in python.items() if PurePosixPath(rel) in VERBATIM})
    return {
        PurePosixPath(api.package) / rel: formatted.get(str(rel), text)
        for rel, text in sorted(files.items())
    }


# Below this many models, datamodel-code-generator takes less time than forking saves.
_FORK_FROM_MODELS = 100


def _worth_forking(api: Api) -> bool:
    return len(api.models) >= _FORK_FROM_MODELS and "fork" in multiprocessing.get_all_start_methods()


class _Background:
    """``backend(api)`` in a forked process; ``result()`` returns it or raises what it raised."""

    def __init__(self, backend: Callable[[Api], Files], api: Api) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=self._run, args=(backend, api, send), daemon=True)
        self._process.start()
        send.close()

    @staticmethod
    def _run(backend: Callable[[Api], Files], api: Api, send: Connection) -> None:
        try:
            outcome: tuple[bool, object] = (True, backend(api))
        except Exception as exc:  # noqa: BLE001  (handed to the parent, which raises it)
            outcome = (False, exc)
        try:
            send.send(outcome)
        except Exception as exc:  # noqa: BLE001  (an exception that does not pickle)
            send.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        send.close()

    def result(self) -> Files:
        try:
            ok, value = self._receive.recv()
        except EOFError:
            raise RuntimeError("the models process ended without a result") from None
        finally:
            self._receive.close()
            self._process.join()
        if not ok:
            raise value if isinstance(value, BaseException) else RuntimeError(str(value))
        return cast(Files, value)


def build_spec(path: Path, display: str | None = None, *, parallel: bool = True) -> SpecResult:
    """One spec through every stage; never raises for a bad spec."""
    name = display if display is not None else str(path)
    result = SpecResult(name)
    result.api, result.diagnostics = load_api(path, name)
    if result.api is None or not result.ok:
        return result
    try:
        result.files = render_api(result.api, parallel=parallel)
    except ModelGenerationError as exc:
        result.diagnostics.append(
            Diagnostic(name, 1, 1, "error", "RG020", f"models could not be generated: {exc}", "/models")
        )
    return result
