"""Server subprocesses: start on a free loopback port, wait until they accept, measure, stop."""

from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import psutil

FD_LIMIT = 65536


def raise_fd_limit(target: int = FD_LIMIT) -> None:
    """Raise RLIMIT_NOFILE for thousands of sockets (root may raise the hard limit too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, target)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Block until ``port`` accepts connections; fail if the process died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"server on port {port} did not start in {timeout} s")


class ServerProcess:
    """``python -m bench.serve APP MODE PORT ROOT`` as a context manager, with psutil access."""

    def __init__(self, app: str, mode: str, root: Path) -> None:
        self.app = app
        self.mode = mode
        self.port = free_port()
        self._cmd = [sys.executable, "-m", "bench.serve", app, mode, str(self.port), str(root)]
        self._proc: subprocess.Popen[bytes] | None = None
        self.ps: psutil.Process | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Spawn and wait until it listens."""
        root = Path(__file__).resolve().parent.parent
        self._proc = subprocess.Popen(self._cmd, cwd=root)
        wait_for_port(self.port, self._proc)
        self.ps = psutil.Process(self._proc.pid)
        return self

    def cpu_seconds(self) -> float:
        """CPU time of the server process so far, all threads (nanosecond schedstat if any).

        psutil's user + system times tick at 10 ms, too coarse for one-second samples.
        """
        assert self.ps is not None
        total = 0
        try:
            for task in Path(f"/proc/{self.ps.pid}/task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            t = self.ps.cpu_times()
            return float(t.user + t.system)
        return total / 1e9

    def rss(self) -> int:
        """Resident set size in bytes."""
        assert self.ps is not None
        return int(self.ps.memory_info().rss)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit promptly."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def servers(apps: list[str], mode: str, root: Path) -> Iterator[dict[str, ServerProcess]]:
    """Several servers running side by side (idle unless a client streams from one)."""
    started: dict[str, ServerProcess] = {}
    try:
        for app in apps:
            started[app] = ServerProcess(app, mode, root).start()
        yield started
    finally:
        for proc in started.values():
            proc.stop()
