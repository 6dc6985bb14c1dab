"""Real servers for the probe tests: the reference app under uvicorn (HTTP/1.1) and under
hypercorn with TLS + ALPN h2 (trustme CA), started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamcheck.reference_app import create_app

from tests.support.servers import RunningServer, hypercorn_server, uvicorn_server
from tests.support.tls import TLSFiles, tls_files

# Long enough that verdict margins are wide on a busy machine: 10 intervals of 100 ms.
STREAM = "/api/streamcheck?events=10&interval_ms=100"


@pytest.fixture(scope="session")
def tls() -> TLSFiles:
    return tls_files()


@pytest.fixture(scope="session")
def h1_server() -> Iterator[RunningServer]:
    with uvicorn_server(create_app()) as srv:
        yield srv


@pytest.fixture(scope="session")
def h2_server(tls: TLSFiles) -> Iterator[RunningServer]:
    with hypercorn_server(create_app(), tls=tls) as srv:
        yield srv
