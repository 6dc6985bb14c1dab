"""Real servers for the exporter's tests: the reference app under uvicorn (it streams), the same app
behind a real nginx with ``proxy_buffering on`` as the lab configures it (buffers), and the exporter."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamcheck.reference_app import create_app
from streamprobe.exporter.config import ExporterConfig
from streamprobe.exporter.server import ExporterHTTPServer, Settings

from lab.configs import nginx_buffering
from lab.procs import ManagedProcess, free_port
from lab.topology import find_binary
from tests.support.servers import RunningServer, uvicorn_server

from .support import running_exporter


@pytest.fixture(scope="session")
def h1_server() -> Iterator[RunningServer]:
    with uvicorn_server(create_app()) as srv:
        yield srv


@pytest.fixture(scope="session")
def buffering_nginx(h1_server: RunningServer) -> Iterator[RunningServer]:
    with tempfile.TemporaryDirectory(prefix="exporter-nginx-") as tmp:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(nginx_buffering(Path(tmp), port=port, app_port=h1_server.port))
        argv = [find_binary("nginx"), "-p", f"{tmp}/", "-c", str(conf), "-e", f"{tmp}/error.log"]
        nginx = ManagedProcess("nginx", argv, log_path=Path(tmp) / "stderr.log", ports=[port], cwd=Path(tmp))
        nginx.start()
        try:
            yield RunningServer("127.0.0.1", port)
        finally:
            nginx.stop()


@pytest.fixture(scope="session")
def exporter(h1_server: RunningServer, buffering_nginx: RunningServer) -> Iterator[ExporterHTTPServer]:
    """The exporter, allowed to probe exactly the two servers' /api/ paths."""
    allow = (f"http://127.0.0.1:{h1_server.port}/api/*", f"http://127.0.0.1:{buffering_nginx.port}/api/*")
    with running_exporter(Settings(config=ExporterConfig(), allow_targets=allow, max_concurrent=4)) as srv:
        yield srv
