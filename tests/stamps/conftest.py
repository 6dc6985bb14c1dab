"""Real servers for the stamp tests: the reference app (it mounts StampMiddleware) under uvicorn, and
raw-socket proxies in front of it that hold the whole response or forward it in 4 KiB blocks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamcheck.reference_app import create_app

from tests.support import servers
from tests.support.servers import RunningServer, uvicorn_server

#: The issue's case: 300 tokens 10 ms apart (a 3 s answer, ~15 KiB with stamps: four 4 KiB blocks).
CHAT = "/api/chat/stream?tokens=300&interval_ms=10"


@pytest.fixture(scope="session")
def app_server() -> Iterator[RunningServer]:
    with uvicorn_server(create_app()) as srv:
        yield srv


@pytest.fixture(scope="session")
def block_4k(app_server: RunningServer) -> Iterator[servers.RawServer]:
    with servers.block_proxy(app_server.port, 4096) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def hold_all(app_server: RunningServer) -> Iterator[servers.RawServer]:
    with servers.hold_all_proxy(app_server.port) as proxy:
        yield proxy
