"""HTTP/3 for the probe: one request over one QUIC connection (``ProbeOptions(http="h3")``, ``--http3``).

The probe's ``_Probe`` runs an h3 probe exactly like an h1/h2 one -- same request headers, response
checks, SSE parser, decoding, verdict, error kinds and redaction -- with :class:`H3Transport` in place
of httpx's TCP transport. Only the connection differs, so only the phases need defining over QUIC:

* ``dns``: as for TCP (the probe resolves the host itself and dials the address it got).
* ``connect``: the client's first Initial packet sent -> the first packet from the server accepted.
  One round trip, like TCP's SYN -> SYN/ACK (the server's first flight also starts the TLS handshake).
* ``tls``: that first server packet -> the QUIC handshake complete (the server's certificate checked,
  the client's Finished sent): ``connect + tls`` is the time to a usable connection, as over TCP.
* ``ttfb``: since the probe's clock started, until the response's HEADERS frame was decoded.
* ``first_event`` and every event's arrival: the time the UDP datagram was read whose STREAM data
  completed the event (its blank line), as over TCP.

Bounds: ``timeout`` bounds the whole handshake (kind ``protocol``, with the reason: no UDP answer,
handshake failed, ALPN refused), the wait for the response headers (``timeout``) and any silence of
the response stream (``stalled``); ``max_duration`` the whole probe (the probe's ``Watchdog``). Nothing
runs in the background: one UDP socket is driven in the probe's own thread and closed at the end.

aioquic is an optional dependency (``pip install 'streamprobe[h3]'``): this package imports it only
from :mod:`.transport`, which the probe imports when an h3 probe runs.
"""

from __future__ import annotations

import importlib.util

from ..exceptions import InvalidRequest

INSTALL_HINT = "HTTP/3 needs aioquic: pip install 'streamprobe[h3]'"


def check_available() -> None:
    """Raise InvalidRequest (a usage error) when aioquic is not installed."""
    if importlib.util.find_spec("aioquic") is None:
        raise InvalidRequest(INSTALL_HINT)
