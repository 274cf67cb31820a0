"""The server backend: verbatim runtime, allowed imports, names, and types that catch mistakes."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

from server_harness import TEST_SPECS, generate, package_dir

from roccogen.backends.models import HEADER
from roccogen.backends.server import RUNTIME_FILES, render_server
from roccogen.pipeline import load_api

RUNTIME = Path(__file__).resolve().parents[2] / "roccogen" / "runtime"
ALLOWED = {"pydantic", "starlette"} | set(sys.stdlib_module_names)


def test_runtime_modules_are_copied_verbatim() -> None:
    pkg = package_dir("prices")
    for source, target in RUNTIME_FILES.items():
        text = (RUNTIME / source).read_text(encoding="utf-8")
        assert (pkg / target).read_text(encoding="utf-8") == f"{HEADER}\n{text}", target


def test_runtime_imports_only_stdlib_starlette_pydantic_and_its_siblings() -> None:
    siblings = {Path(t).stem for t in RUNTIME_FILES.values()}
    for source in RUNTIME_FILES:
        tree = ast.parse((RUNTIME / source).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in ALLOWED, (source, alias.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    assert node.module in siblings, (source, node.module)
                else:
                    assert (node.module or "").split(".")[0] in ALLOWED, (source, node.module)


def test_render_server_returns_server_and_runtime_files() -> None:
    api, _ = load_api(TEST_SPECS / "kitchen.yaml")
    assert api is not None
    files = render_server(api)
    assert set(files) == {PurePosixPath("server.py")} | {
        PurePosixPath(t) for t in RUNTIME_FILES.values()
    }
    compile(files[PurePosixPath("server.py")], "server.py", "exec")


def test_colliding_names_are_renamed_and_still_work() -> None:
    server = generate("collide")
    models = sys.modules["srvt_collide.models"]
    assert server.FeedRequest.json.__doc__  # ``json`` is a property, not BaseModel.json
    assert server.ServerSettings.__module__.endswith("_server_sse")  # the runtime's, not the model
    assert server.FeedStream.send_event_event.__doc__ and server.FeedStream.open_event.__doc__
    assert "model_config_" in server.FeedParams.model_fields
    assert server.FeedStream._by_name["send"].model is models.Identity
    assert server.FeedStream._by_name["done"].model is models.ServerSettings


GOOD = """
from __future__ import annotations

from srvt_prices.models import PriceUpdate, VolumeUpdate
from srvt_prices.server import (
    Identity, PriceStreamRequest, PriceStreamStream, PricesService, ServerSettings, create_app,
)
from srvt_jobs.models import JobResult, Progress, Status
from srvt_jobs.server import JobProgressRequest, JobProgressStream, JobsService
from srvt_kitchen.models import Tick
from srvt_kitchen.server import SecureRequest, SecureStream
from starlette.requests import Request


class Prices(PricesService):
    async def price_stream(self, request: PriceStreamRequest, stream: PriceStreamStream) -> None:
        await stream.send(PriceUpdate(symbol="A", price=1))
        await stream.price(PriceUpdate(symbol="A", price=1), id="1", retry=500)
        await stream.volume(VolumeUpdate(symbol="A", volume=1))
        await stream.send_event("volume", VolumeUpdate(symbol="A", volume=1))
        await stream.send_comment("hi")
        await stream.done.wait()


class Jobs(JobsService):
    async def job_progress(self, request: JobProgressRequest, stream: JobProgressStream) -> None:
        start: str | None = request.last_event_id
        verbose: bool = request.verbose
        job: str = request.job_id
        await stream.progress(Progress(step=1, total=2), id=job + str(start) + str(verbose))
        await stream.done_event(JobResult(status=Status.succeeded), id="2")


async def auth(request: Request) -> Identity | None:
    return Identity(id="x")


app = create_app(Prices(), authenticator=auth, settings=ServerSettings(send_timeout=5))


async def secure(request: SecureRequest, stream: SecureStream) -> None:
    user: str = request.identity.id  # required auth: never None
    await stream.send(Tick(n=1, text=user))
"""

BAD = """
from __future__ import annotations

from srvt_prices.models import PriceUpdate, VolumeUpdate
from srvt_prices.server import PriceStreamRequest, PriceStreamStream, PricesService
from srvt_jobs.models import Progress
from srvt_jobs.server import JobProgressRequest, JobProgressStream, JobsService


class Prices(PricesService):
    async def price_stream(self, request: PriceStreamRequest, stream: PriceStreamStream) -> None:
        await stream.price(VolumeUpdate(symbol="A", volume=1))  # E: wrong payload
        await stream.send_event("volume", PriceUpdate(symbol="A", price=1))  # E: wrong payload
        await stream.send_event("trade", PriceUpdate(symbol="A", price=1))  # E: undeclared
        await stream.send("text")  # E: wrong payload


class Jobs(JobsService):
    async def job_progress(self, request: JobProgressRequest, stream: JobProgressStream) -> None:
        await stream.progress(Progress(step=1, total=2))  # E: resumable needs an id
        await stream.log(42, id="1")  # E: str payload
        count: int = request.job_id  # E: job_id is a str
        who: str = request.identity.id  # E: optional auth: identity may be None
"""


def test_handlers_type_check_and_wrong_payloads_are_type_errors(tmp_path: Path) -> None:
    for spec in ("prices", "jobs", "kitchen"):
        pkg = package_dir(spec)
        shutil.copytree(pkg, tmp_path / pkg.name)
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null",
         "--no-error-summary", "good.py", "bad.py"],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if not e.startswith("bad.py")], proc.stdout
    flagged = {int(line.split(":")[1]) for line in errors}
    expected = {i + 1 for i, line in enumerate(BAD.splitlines()) if "# E:" in line}
    assert flagged == expected, proc.stdout


def test_generated_servers_of_odd_specs_pass_mypy_strict_and_ruff(tmp_path: Path) -> None:
    from server_harness import _OUT  # every generated package of this session lives there

    for spec in ("kitchen", "collide"):
        generate(spec)
    hostile_api, _ = load_api(Path(__file__).resolve().parents[1] / "hostile" / "hostile.yaml")
    assert hostile_api is not None
    from roccogen.output import write_files
    from roccogen.pipeline import render_api

    write_files(tmp_path, render_api(hostile_api))
    for name in ("srvt_kitchen", "srvt_collide"):
        shutil.copytree(_OUT / name, tmp_path / name)
    packages = ["srvt_kitchen", "srvt_collide", hostile_api.package]
    server_files = [f"{p}/{f}" for p in packages for f in ("server.py", *RUNTIME_FILES.values())]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null",
         *server_files],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", *server_files],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
