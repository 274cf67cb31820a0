"""Server backend: IR → ``server.py`` and the verbatim server runtime (placeholder until filled)."""

from __future__ import annotations

from pathlib import PurePosixPath

from roccogen.ir import Api


def render_server(api: Api) -> dict[PurePosixPath, str]:
    """Files of the server side, relative to the generated package directory."""
    return {}
