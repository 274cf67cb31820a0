"""A hostile spec cannot inject code: everything it says lands in literals, docstrings, comments."""

from __future__ import annotations

import ast
from pathlib import Path

from roccogen.pipeline import build_spec

HOSTILE = Path(__file__).parent / "hostile"
ALLOWED_IMPORTS = {
    "__future__", "typing", "enum", "json", "asyncio", "logging", "time", "dataclasses", "abc",
    "collections", "collections.abc", "contextlib", "random", "re", "math", "pathlib", "functools",
    "types", "weakref", "codecs", "inspect", "os", "itertools", "datetime", "uuid", "http", "email",
    "pydantic", "starlette", "httpx", "httpx_sse", "anyio", "typing_extensions", "warnings",
    "threading", "sys", "signal",
}


def _generated() -> dict[str, str]:
    result = build_spec(HOSTILE / "hostile.yaml")
    assert result.ok, "\n".join(d.format() for d in result.diagnostics)
    return {str(rel): text for rel, text in result.files.items() if rel.suffix == ".py"}


def test_hostile_spec_generates_code_that_compiles():
    files = _generated()
    assert {"hostile/models.py", "hostile/__init__.py"} <= set(files)
    for name, text in files.items():
        compile(text, name, "exec")


def test_no_smuggled_statement_in_ast():
    for name, text in _generated().items():
        tree = ast.parse(text)
        for node in ast.walk(tree):
            assert not (isinstance(node, ast.Name) and node.id == "PWNED"), f"{name}: injected name"
            assert not (isinstance(node, ast.Attribute) and node.attr == "system"), f"{name}: os.system"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "__import__", "compile"}, name
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in ALLOWED_IMPORTS, f"{name}: import {alias.name}"
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] in ALLOWED_IMPORTS, f"{name}: from {node.module}"


def test_payload_strings_survive_as_data():
    """The hostile values are not dropped either: they reach the code as exact literals."""
    models = _generated()["hostile/models.py"]
    constants = {n.value for n in ast.walk(ast.parse(models)) if isinstance(n, ast.Constant)}
    assert '"""; PWNED(); """' in constants
    assert 'a"); PWNED(); ("' in constants


def test_package_name_cannot_escape_the_output_directory(tmp_path):
    spec = tmp_path / "escape.yaml"
    spec.write_text(
        "roccogen: 1\npackage: ../../escaped\nstreams:\n"
        "  - {name: a, method: GET, path: /a, events: [{data: string}]}\n",
        encoding="utf-8",
    )
    result = build_spec(spec)
    assert not result.ok and not result.files
    assert any(d.code == "RG004" and d.line == 2 for d in result.diagnostics)
