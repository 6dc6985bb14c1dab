"""``streamcheck`` from its wheel alone, as a team puts it into its service image: first with nothing but
its own dependency (Starlette), then with FastAPI and uvicorn; never the CDK, boto3 or the probe. A small
service of the team's, with ``StampMiddleware``, served by that venv's uvicorn on loopback, is judged
``stamped`` by the probe."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamprobe import ProbeOptions, probe

from tests.support.installs import Venv, clean_env, run_outside
from tests.support.servers import HOST, listening_socket

pytestmark = pytest.mark.slow

#: What the service image must never get from streamcheck.
FORBIDDEN = ("aws_cdk", "constructs", "cdk_nag", "boto3", "botocore", "streamprobe", "streampath_cdk")

SERVICE = """
import anyio
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from streamcheck import StampMiddleware

app = FastAPI()
app.add_middleware(StampMiddleware)


@app.get("/chat")
async def chat() -> StreamingResponse:
    async def tokens():
        for i in range(8):
            yield f"data: token {i}\\n\\n"
            await anyio.sleep(0.03)

    return StreamingResponse(tokens(), media_type="text/event-stream")
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, distributions: Path, downloads: Path) -> Venv:
    return Venv.create(tmp_path_factory.mktemp("streamcheck") / "venv")


def test_installs_with_starlette_alone(venv: Venv, distributions: Path, downloads: Path) -> None:
    (wheel,) = distributions.glob("streamcheck-*.whl")
    venv.install([wheel], wanted=["starlette"], downloads=downloads, links=[distributions])
    assert venv.importable(["streamcheck", "starlette", "fastapi", *FORBIDDEN]) == [
        "streamcheck",
        "starlette",
    ]
    code = "from streamcheck import StampMiddleware; print(StampMiddleware.__name__)"
    proc = run_outside([venv.python, "-c", code], timeout=60)
    assert (proc.returncode, proc.stdout.strip()) == (0, "StampMiddleware"), proc.stderr
    # The router needs the extra, and says so when it is missing.
    proc = run_outside([venv.python, "-c", "from streamcheck import router"], timeout=60)
    assert proc.returncode != 0 and "streamcheck[fastapi]" in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def service(
    venv: Venv, distributions: Path, downloads: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    (wheel,) = distributions.glob("streamcheck-*.whl")
    venv.install(
        [f"{wheel}[fastapi]", "uvicorn"],
        wanted=["fastapi", "uvicorn"],
        downloads=downloads,
        links=[distributions],
    )
    app_dir = tmp_path_factory.mktemp("service")
    (app_dir / "service.py").write_text(SERVICE)
    sock = listening_socket()
    port = sock.getsockname()[1]
    server = subprocess.Popen(
        [venv.bin / "uvicorn", "--fd", str(sock.fileno()), "--log-level", "warning", "service:app"],
        cwd=app_dir,
        env=clean_env(),
        pass_fds=(sock.fileno(),),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sock.close()  # uvicorn holds its own copy; the kernel queues connections until it accepts
    try:
        yield f"http://{HOST}:{port}/chat"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
        assert "Traceback" not in output, output


def test_no_cdk_boto3_or_probe_next_to_fastapi(venv: Venv, service: str) -> None:
    assert venv.importable(["fastapi", "uvicorn", *FORBIDDEN]) == ["fastapi", "uvicorn"]


def test_a_service_with_stamp_middleware_is_judged_stamped(service: str) -> None:
    result = probe(service, ProbeOptions(name="service", timeout=20.0, max_duration=30.0))
    assert result.error is None, result.error
    assert (result.status, result.mode, result.verdict, result.events) == (200, "stamped", "streaming", 8)
