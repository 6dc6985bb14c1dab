"""The reference app behind a wrapper that remembers each connection it served (the client's address
and port: every stream of one HTTP/2 connection shares them, and every stream of one QUIC connection
its UDP address) and each request it received. ``GET /connections`` lists the connections, so a test
can count, from the server's side, the connections a client used; ``GET /requests`` lists the requests
(the client's address, the target, HTTP version, method, the body's headers and its bytes, hex-encoded),
so a test can check the body that arrived, or which requests came on which connection."""

from __future__ import annotations

import json
from typing import Any

from streamcheck.reference_app import create_app

_inner = create_app()
_seen: set[str] = set()
_requests: list[dict[str, Any]] = []


async def _answer(send: Any, document: object) -> None:
    body = json.dumps(document).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == "/connections":
        await _answer(send, sorted(_seen))
        return
    if scope["type"] == "http" and scope["path"] == "/requests":
        await _answer(send, _requests)
        return
    if scope["type"] != "http":
        await _inner(scope, receive, send)
        return
    client = None
    if scope.get("client"):
        host, port = scope["client"]
        client = f"{host}:{port}"
        _seen.add(client)
    # The whole body first (a probe's is small), then handed on to the app as one message.
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    _requests.append(
        {
            "client": client,
            "target": scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else ""),
            "http_version": scope["http_version"],
            "method": scope["method"],
            "content_type": headers.get("content-type"),
            "content_length": headers.get("content-length"),
            "body_hex": bytes(body).hex(),
        }
    )
    delivered = False

    async def replay() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}
        message: dict[str, Any] = await receive()
        return message

    await _inner(scope, replay, send)
