"""Options from ``[tool.roccogen]`` in the nearest pyproject.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """The ``[tool.roccogen]`` table is malformed."""


@dataclass(frozen=True)
class Config:
    """Defaults for the CLI; command-line arguments win."""

    specs: tuple[Path, ...] = ()
    output: Path | None = None
    source: Path | None = None
    extra: tuple[str, ...] = field(default=())


KNOWN = {"specs", "output"}


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start``."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path) -> Config:
    """Read ``[tool.roccogen]``: ``specs`` (list of paths or globs) and ``output`` (a directory)."""
    path = find_pyproject(start)
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    table = data.get("tool", {}).get("roccogen")
    if table is None:
        return Config()
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.roccogen] must be a table")
    unknown = sorted(set(table) - KNOWN)
    if unknown:
        raise ConfigError(f"{path}: unknown [tool.roccogen] key(s): {', '.join(unknown)} (known: specs, output)")
    base = path.parent
    specs_raw = table.get("specs", [])
    if not isinstance(specs_raw, list) or not all(isinstance(s, str) for s in specs_raw):
        raise ConfigError(f"{path}: [tool.roccogen] specs must be a list of paths")
    specs: list[Path] = []
    for pattern in specs_raw:
        matches = sorted(base.glob(pattern)) if any(c in pattern for c in "*?[") else [base / pattern]
        specs.extend(matches)
    output = table.get("output")
    if output is not None and not isinstance(output, str):
        raise ConfigError(f"{path}: [tool.roccogen] output must be a path")
    return Config(tuple(specs), base / output if output else None, path)
