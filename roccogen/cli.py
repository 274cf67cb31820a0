"""The ``roccogen`` command line."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from roccogen import __version__
from roccogen.config import ConfigError, load_config
from roccogen.diagnostics import Diagnostic
from roccogen.output import OutputError, compare_files, write_files
from roccogen.pipeline import SpecResult, build_spec, load_api

app = typer.Typer(
    name="roccogen",
    help="Generate typed Server-Sent Events servers (Starlette) and clients (httpx-sse) from a spec.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SpecArgs = Annotated[
    list[Path] | None,
    typer.Argument(help="Spec files (native roccogen YAML or OpenAPI). Default: [tool.roccogen] specs.", show_default=False),
]


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _report(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        _err(d.format())


def _version(value: bool) -> None:
    if value:
        typer.echo(f"roccogen {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """roccogen: spec in, typed SSE server and client out."""


def _specs(specs: list[Path] | None) -> tuple[list[Path], Path | None]:
    try:
        config = load_config(Path.cwd())
    except ConfigError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from exc
    chosen = list(specs) if specs else list(config.specs)
    if not chosen:
        _err("error: no spec given (pass SPEC... or set specs in [tool.roccogen] of pyproject.toml)")
        raise typer.Exit(2)
    return chosen, config.output


def _interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def _build_all(specs: list[Path]) -> list[SpecResult]:
    if not _interactive():
        return [build_spec(s) for s in specs]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    results: list[SpecResult] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("generating", total=len(specs))
        for spec in specs:
            progress.update(task, description=f"generating {spec.name}")
            results.append(build_spec(spec))
            progress.advance(task)
    return results


@app.command()
def build(
    specs: SpecArgs = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output directory (default: [tool.roccogen] output, else the current directory).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 with a diff when OUTPUT is not up to date.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only problems.")] = False,
) -> None:
    """Generate a Python package per SPEC: models, Starlette server, httpx-sse client."""
    paths, configured_out = _specs(specs)
    out_dir = output or configured_out or Path.cwd()
    results = _build_all(paths)
    failed = False
    owners: dict[str, str] = {}
    for result in results:
        _report(result.diagnostics)
        if not result.ok:
            failed = True
            continue
        for rel in result.files:
            package = rel.parts[0]
            if owners.setdefault(package, result.spec) != result.spec:
                _err(f"error: {result.spec} and {owners[package]} both generate package {package!r}; set `package:` in one")
                failed = True
    if failed:
        _err("error: nothing was written")
        raise typer.Exit(1)
    merged = {rel: text for result in results for rel, text in result.files.items()}
    try:
        if check:
            comparison = compare_files(out_dir, merged)
            if not comparison.clean:
                sys.stdout.write(comparison.diff)
                _err(
                    f"error: {out_dir} is out of date ({len(comparison.changed)} changed, "
                    f"{len(comparison.missing)} missing, {len(comparison.extra)} extra); "
                    f"run: roccogen build {' '.join(str(p) for p in paths)} -o {out_dir}"
                )
                raise typer.Exit(1)
            if not quiet:
                _err(f"{out_dir}: up to date ({len(merged)} files)")
            return
        written = write_files(out_dir, merged)
    except OutputError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from exc
    if not quiet:
        for result in results:
            assert result.api is not None
            _err(f"{result.spec} → {out_dir / result.api.package} ({len(result.api.streams)} streams, {len(result.api.models)} models)")
        _err(f"{len(written)} file(s) written" if written else "everything was already up to date")


@app.command()
def validate(specs: SpecArgs = None) -> None:
    """Check SPEC files and print every problem; exit 1 on errors."""
    paths, _ = _specs(specs)
    failed = False
    for path in paths:
        api, diagnostics = load_api(path)
        _report(diagnostics)
        if api is None or any(d.level == "error" for d in diagnostics):
            failed = True
        else:
            _err(f"{path}: ok ({len(api.streams)} streams, {len(api.models)} models)")
    raise typer.Exit(1 if failed else 0)


@app.command()
def ir(spec: Annotated[Path, typer.Argument(help="One spec file.")]) -> None:
    """Print the intermediate representation of SPEC as JSON."""
    api, diagnostics = load_api(spec)
    _report(diagnostics)
    if api is None:
        raise typer.Exit(1)
    data = asdict(api)
    data.pop("source", None)
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
def openapi(
    spec: Annotated[Path, typer.Argument(help="One spec file.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here (.json or .yaml); default: stdout as YAML.")] = None,
) -> None:
    """Write the OpenAPI 3.2 document of SPEC (what the generated server serves)."""
    import yaml

    from roccogen.openapi.writer import build_openapi

    api, diagnostics = load_api(spec)
    _report(diagnostics)
    if api is None:
        raise typer.Exit(1)
    document = build_openapi(api)
    if output is not None and output.suffix == ".json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8", newline="\n")
        _err(f"wrote {output}")
