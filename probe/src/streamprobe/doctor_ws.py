"""The doctor's WebSocket row: the same streamcheck events over ``<prefix>/streamcheck/ws``, when the
service offers that endpoint, so one run compares the transports on the same path.

A service without the endpoint refuses the upgrade with ``404`` (``403`` from Starlette and uvicorn, which
answer a WebSocket to no route so): no row. The endpoint answers a request that
reached it without ``Upgrade`` with ``426`` (docs/contracts/streamcheck.md): a proxy in between dropped the
upgrade, and the row names it with the fix.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import httpx

from .fixes import HopFix, websocket_upgrade_fixes
from .messages import UPGRADE_REQUIRED
from .options import STREAMCHECK_WS_PATH, ProbeOptions, is_streamcheck_url
from .probing import probe
from .result import ProbeResult

#: The answers of a service that does not offer the endpoint (Starlette refuses a WebSocket to a path it
#: does not route with 403).
NOT_OFFERED = (403, 404)


@dataclass
class WebSocketRow:
    result: ProbeResult
    sentence: str
    fixes: list[HopFix] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.result.verdict,
            "sentence": self.sentence,
            "fixes": [f.to_dict() for f in self.fixes],
            "result": self.result.to_dict(),
        }


def websocket_url_of(url: httpx.URL) -> str | None:
    """The streamcheck WebSocket beside a streamcheck SSE URL (same host, prefix and query), else None."""
    if url.scheme not in ("http", "https") or not is_streamcheck_url(url):
        return None
    params = url.params.remove("nonce")  # the read adds its own
    path = url.path.rstrip("/") + STREAMCHECK_WS_PATH.removeprefix("/streamcheck")
    return str(url.copy_with(scheme="ws" if url.scheme == "http" else "wss", path=path, params=params))


def websocket_row(url: httpx.URL, options: ProbeOptions) -> WebSocketRow | None:
    """Read the WebSocket beside ``url`` once; None when ``url`` is no streamcheck URL or the service
    does not offer the endpoint (``NOT_OFFERED``)."""
    ws_url = websocket_url_of(url)
    if ws_url is None:
        return None
    ws_options = dataclasses.replace(options, http="auto", accept_encoding=None, method="GET", data=None)
    result = probe(ws_url, ws_options)
    if result.error is not None and result.status in NOT_OFFERED:
        return None
    if result.error is None:
        delay = result.buffering_delay_ms
        shown = "" if delay is None else f" (buffering delay {delay:.0f} ms)"
        return WebSocketRow(result, f"the same events over a WebSocket: {result.verdict}{shown}")
    if result.status == UPGRADE_REQUIRED:
        return WebSocketRow(
            result,
            "the WebSocket upgrade was refused (426 Upgrade Required from the service): a proxy in front "
            "of it dropped the request's Upgrade and Connection headers",
            websocket_upgrade_fixes(),
        )
    return WebSocketRow(result, f"the WebSocket failed ({result.error.kind}): {result.error.message}")
