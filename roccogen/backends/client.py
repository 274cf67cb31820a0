"""Client backend: IR → ``client.py`` and the verbatim client runtime (placeholder until filled)."""

from __future__ import annotations

from pathlib import PurePosixPath

from roccogen.ir import Api


def render_client(api: Api) -> dict[PurePosixPath, str]:
    """Files of the client side, relative to the generated package directory."""
    return {}
