"""Real WebSocket servers on loopback for the probe's WebSocket tests: the websockets package's asyncio
server in a thread, one handler per path, misbehaving on purpose where a test asks it to."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from tests.support.servers import HOST

WsHandler = Callable[[ServerConnection], Awaitable[None]]
#: Every PING the server sends (the stalled case: pings, no data); fast so a test waits little.
PING_INTERVAL_S = 0.1


async def spread(ws: ServerConnection) -> None:
    """Ten plain-text messages 60 ms apart (no send times: judged by arrival pattern)."""
    for i in range(10):
        await ws.send(f"token {i}")
        await asyncio.sleep(0.06)


async def held(ws: ServerConnection) -> None:
    """Ten messages held 400 ms, then sent in one burst: what a buffering hop does to a stream."""
    await asyncio.sleep(0.4)
    for i in range(10):
        await ws.send(f"token {i}")


async def echo_prompt(ws: ServerConnection) -> None:
    """Answers the first message with its words, one message each, carrying sent_ms."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    prompt = await ws.recv()
    assert isinstance(prompt, str)
    for seq, word in enumerate(prompt.split()):
        await ws.send(json.dumps({"seq": seq, "sent_ms": (loop.time() - t0) * 1000, "word": word}))
        await asyncio.sleep(0.05)


async def close_at_once(ws: ServerConnection) -> None:
    await ws.close(1011, "no model loaded")


async def pings_only(ws: ServerConnection) -> None:
    """Open, then nothing but the server's PINGs."""
    await ws.wait_closed()


async def two_then_big(ws: ServerConnection) -> None:
    await ws.send("small 1")
    await ws.send("small 2")
    await ws.send("x" * 5000)


HANDLERS: dict[str, WsHandler] = {
    "/spread": spread,
    "/held": held,
    "/echo": echo_prompt,
    "/close": close_at_once,
    "/pings": pings_only,
    "/big": two_then_big,
}


def _refuse(connection: ServerConnection, request: Request) -> Response | None:
    """``/forbidden``: refuse the upgrade with a body that repeats the request's Authorization."""
    if request.path.startswith("/forbidden"):
        said = request.headers.get("Authorization", "")
        return connection.respond(HTTPStatus.FORBIDDEN, f"token {said} is not allowed\n")
    return None


async def _route(ws: ServerConnection) -> None:
    assert ws.request is not None
    await HANDLERS[ws.request.path.split("?")[0]](ws)


@dataclass
class WsServer:
    port: int

    def url(self, path: str) -> str:
        return f"ws://{HOST}:{self.port}{path}"


@contextmanager
def websockets_server() -> Iterator[WsServer]:
    """The handlers above on a free port; the server PINGs every ``PING_INTERVAL_S``."""
    ready = threading.Event()
    stop: list[Callable[[], object]] = []
    ports: list[int] = []

    async def main() -> None:
        done = asyncio.Event()
        async with serve(
            _route, HOST, 0, process_request=_refuse, ping_interval=PING_INTERVAL_S, ping_timeout=5
        ) as server:
            ports.append(server.sockets[0].getsockname()[1])
            loop = asyncio.get_running_loop()
            stop.append(functools.partial(loop.call_soon_threadsafe, done.set))
            ready.set()
            await done.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="websockets-server", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the websockets server did not start")
    try:
        yield WsServer(ports[0])
    finally:
        stop[0]()
        thread.join(10)
