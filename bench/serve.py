"""Run one benchmark server under uvicorn: ``python -m bench.serve APP MODE PORT GENERATED_ROOT``.

Every server gets the same uvicorn settings (uvicorn's defaults for loop and HTTP parser, access
log off, a backlog large enough for the fan-out ramp).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from bench.apps import APPS, MODES, make_app
from bench.procs import raise_fd_limit

UVICORN_SETTINGS: dict[str, object] = {
    "host": "127.0.0.1",
    "log_level": "warning",
    "access_log": False,
    "backlog": 4096,
    "timeout_graceful_shutdown": 2,
}


def main() -> None:
    """Parse the arguments and serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", choices=APPS)
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("port", type=int)
    parser.add_argument("root", type=Path)
    args = parser.parse_args()
    raise_fd_limit()
    app = make_app(args.app, args.root, args.mode)
    config = uvicorn.Config(app, port=args.port, **UVICORN_SETTINGS)  # type: ignore[arg-type]
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
