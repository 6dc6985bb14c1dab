"""The reference app behind a wrapper that remembers each connection it served (the client's address
and port: every stream of one HTTP/2 connection shares them). ``GET /connections`` lists them, so a
test can count, from the server's side, the connections a client used."""

from __future__ import annotations

import json
from typing import Any

from streamcheck.reference_app import create_app

_inner = create_app()
_seen: set[str] = set()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == "/connections":
        body = json.dumps(sorted(_seen)).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    if scope["type"] == "http" and scope.get("client"):
        host, port = scope["client"]
        _seen.add(f"{host}:{port}")
    await _inner(scope, receive, send)
