"""Chains of real servers on loopback: the reference app under uvicorn, and proxies in front of it
that forward each byte at once (a streaming hop) or hold the whole response (a buffering hop)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send
from streamcheck.reference_app import create_app

from tests.support import servers
from tests.support.servers import RunningServer

# 10 events 100 ms apart: a 0.9 s stream, streaming <= 90 ms of delay, buffered >= 720 ms.
STREAM = "/api/streamcheck?events=10&interval_ms=100"


@dataclass(frozen=True)
class Chain:
    """``pod`` -> ``nginx`` (streams) -> ``alb`` (holds everything) -> ``cdn`` (streams)."""

    pod: str
    nginx: str
    alb: str
    cdn: str

    def args(self) -> list[str]:
        return [f"pod={self.pod}", f"nginx={self.nginx}", f"alb={self.alb}", f"cdn={self.cdn}"]


@pytest.fixture(scope="session")
def app() -> Iterator[RunningServer]:
    with servers.uvicorn_server(create_app()) as srv:
        yield srv


@pytest.fixture(scope="session")
def chain(app: RunningServer) -> Iterator[Chain]:
    with ExitStack() as stack:
        nginx = stack.enter_context(servers.block_proxy(app.port, block=1))
        alb = stack.enter_context(servers.hold_all_proxy(nginx.port))
        cdn = stack.enter_context(servers.block_proxy(alb.port, block=1))
        yield Chain(app.url(STREAM), nginx.url(STREAM), alb.url(STREAM), cdn.url(STREAM))


def recording_asgi(app: ASGIApp, seen: list[dict[str, str]]) -> ASGIApp:
    """Wrap ``app`` to record each request's headers (names lower-cased) as it arrives."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen.append({k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]})
        await app(scope, receive, send)

    return wrapped
