"""A hostile OpenAPI document cannot inject code either: its strings stay data."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from test_hostile import ALLOWED_IMPORTS

from roccogen.output import write_files
from roccogen.pipeline import build_spec

HOSTILE = Path(__file__).parent / "documents" / "hostile" / "openapi.yaml"


def _generated() -> dict[str, str]:
    result = build_spec(HOSTILE)
    assert result.ok, "\n".join(d.format() for d in result.diagnostics)
    return {str(rel): text for rel, text in result.files.items() if rel.suffix == ".py"}


def test_hostile_document_generates_code_without_smuggled_statements() -> None:
    files = _generated()
    assert {"hostile/server.py", "hostile/client.py", "hostile/models.py"} <= set(files)
    for name, text in files.items():
        tree = ast.parse(compile(text, name, "exec", ast.PyCF_ONLY_AST))
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


def test_hostile_strings_reach_the_code_as_exact_literals() -> None:
    files = _generated()
    client = {n.value for n in ast.walk(ast.parse(files["hostile/client.py"])) if isinstance(n, ast.Constant)}
    assert '"); PWNED(); ("' in client  # the event name and the sentinel


def test_hostile_package_imports(tmp_path: Path) -> None:
    result = build_spec(HOSTILE)
    write_files(tmp_path, result.files)
    proc = subprocess.run(
        [sys.executable, "-c", "import hostile.server, hostile.client, hostile.models"],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
