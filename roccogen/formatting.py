"""Formatting generated Python with black, in-process, with a pinned mode."""

from __future__ import annotations

import black

# Pinned: never read from the user's configuration, so output is the same everywhere.
MODE = black.Mode(
    target_versions={black.TargetVersion.PY311},
    line_length=100,
    string_normalization=True,
    magic_trailing_comma=True,
    preview=False,
)


def format_python(source: str) -> str:
    """Black-formatted source with LF line ends."""
    return black.format_str(source.replace("\r\n", "\n"), mode=MODE)
