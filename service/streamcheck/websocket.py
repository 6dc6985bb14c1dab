"""streamcheck over a WebSocket: ``<prefix>/streamcheck/ws?events=N&interval_ms=I&pad=P``.

The same events as the SSE endpoint, on the same schedule (``streamcheck.ticks``), each one JSON text
message: the event's data plus its type, ``{"event": "tick", "seq": 0, "sent_ms": 0.2, "pad": ""}``,
then ``{"event": "done", ...}`` and a normal close (1000). Messages the client sends (a prompt) are read
and ignored. A plain GET of the path (no ``Upgrade``) is ``426 Upgrade Required``: the endpoint exists,
so a 426 seen through a proxy means the proxy dropped the upgrade. Starlette only.
"""

from __future__ import annotations

import json
import time
from typing import Final

import anyio
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from streamcheck.params import ParamError
from streamcheck.ticks import parse_stream_params, ticks

#: Below the router's prefix, like ``/streamcheck``.
WEBSOCKET_PATH: Final = "/streamcheck/ws"
#: The ASGI extension that lets an app answer a refused handshake with an HTTP response.
DENIAL_EXTENSION: Final = "websocket.http.response"
#: Close code of a handshake refused for a bad parameter on a server without that extension.
POLICY_VIOLATION: Final = 1008
#: The longest close reason a close frame carries (125 bytes of payload less the 2-byte code).
MAX_CLOSE_REASON: Final = 123


def upgrade_required() -> Response:
    """The answer to a GET that did not ask for the WebSocket."""
    return JSONResponse(
        {
            "error": "upgrade required",
            "message": f"{WEBSOCKET_PATH} is a WebSocket: the request must carry Upgrade: websocket and "
            "Connection: Upgrade (a proxy in between may have dropped them)",
        },
        status_code=426,
        headers={"Upgrade": "websocket", "Connection": "Upgrade", "Cache-Control": "no-cache"},
    )


async def streamcheck_websocket(websocket: WebSocket) -> None:
    t0 = time.monotonic()  # when the handshake arrived; every sent_ms is relative to it
    try:
        params = parse_stream_params(websocket.query_params)
    except ParamError as exc:
        if DENIAL_EXTENSION in websocket.scope.get("extensions", {}):
            await websocket.send_denial_response(exc.response())  # the SSE endpoint's 422
        else:
            reason = str(exc).encode()[:MAX_CLOSE_REASON].decode(errors="ignore")
            await websocket.close(POLICY_VIOLATION, reason)
        return
    await websocket.accept()
    async with anyio.create_task_group() as group:

        async def listen() -> None:
            # A gone client ends the stream at once (mid-sleep), not at the next send.
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass  # a client's own message (a prompt) is not used
            group.cancel_scope.cancel()

        group.start_soon(listen)
        await _send_ticks(websocket, t0, params)
        group.cancel_scope.cancel()


async def _send_ticks(websocket: WebSocket, t0: float, params: dict[str, int]) -> None:
    stream = ticks(t0, params["events"], params["interval_ms"], params["pad"])
    try:
        async for tick in stream:
            await websocket.send_text(json.dumps({"event": tick.event, **tick.data}))
        await websocket.close(1000)
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # the client went: nothing more to send
    finally:
        with anyio.CancelScope(shield=True):
            await stream.aclose()
