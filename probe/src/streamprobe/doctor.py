"""streamprobe doctor: the matrix {HTTP/1.1, HTTP/2[, HTTP/3]} x {identity, compressed} and a diagnosis.

The HTTP/3 row is probed when the server advertises h3 (``Alt-Svc``) on the HTTP/1.1 or HTTP/2 answers,
or when asked (``--http3``): browsers switch to it once told, so it is the protocol many users see.

Every cell is the same request as the options say -- stamps asked for (``stamp``), ``method`` and body
(``data``) included -- so an application's own chat endpoint is diagnosed as exactly as streamcheck
when it mounts ``StampMiddleware``. An advertised HTTP/3 row is skipped for a request with a body (the
HTTP/3 transport sends none yet).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from .altsvc import advertises_h3
from .decoding import default_accept_encoding
from .options import ProbeOptions, prepare_url
from .probe import probe
from .redact import display_url
from .result import ProbeResult, Protocol, Verdict

#: The doctor's rows: each protocol probed on its own (``h2``, ``h3`` required, not merely offered).
HttpRow = Literal["h1", "h2", "h3"]
#: The doctor's columns: no compression asked for, or compression asked for like a browser.
Encoding = Literal["identity", "compressed"]
#: A cell: the probe's verdict, or "not offered" when the server does not speak HTTP/2.
CellState = Verdict | Literal["not offered"]
#: The rows always probed; ``h3`` is added when advertised or asked for.
PROTOCOLS: Final[tuple[HttpRow, ...]] = ("h1", "h2")
ROWS: Final[tuple[HttpRow, ...]] = get_args(HttpRow)
ENCODINGS: Final[tuple[Encoding, ...]] = get_args(Encoding)
PROTOCOL_LABEL: Final[dict[HttpRow, Protocol]] = {"h1": "HTTP/1.1", "h2": "HTTP/2", "h3": "HTTP/3"}
BAD: Final[tuple[Verdict, ...]] = ("partial", "buffered")
Cell = tuple[HttpRow, Encoding]


def not_offered(result: ProbeResult, http: HttpRow) -> bool:
    """HTTP/2 or HTTP/3 required but not to be had (not negotiated; for HTTP/3 also no UDP answer):
    a fact about the server or the network path, not a fault."""
    return (
        http in ("h2", "h3")
        and result.error is not None
        and result.error.kind == "protocol"
        and result.status is None
    )


def cell_state(result: ProbeResult, http: HttpRow) -> CellState:
    return "not offered" if not_offered(result, http) else result.verdict


@dataclass
class DoctorReport:
    url: str
    cells: dict[Cell, ProbeResult]
    compressed_encoding: str
    diagnosis: str
    browser: ProbeResult | None = None  # headless Chromium's read: shown, not part of the diagnosis

    def state(self, http: HttpRow, encoding: Encoding) -> CellState:
        return cell_state(self.cells[(http, encoding)], http)

    @property
    def rows(self) -> tuple[HttpRow, ...]:
        """The protocols probed, in the matrix's order."""
        return tuple(h for h in ROWS if (h, "identity") in self.cells)

    @property
    def exit_code(self) -> int:
        states = [self.state(h, e) for h, e in self.cells]
        if "error" in states:
            return 2
        if all(s in ("streaming", "not offered") for s in states):
            return 0
        return 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "compressed_accept_encoding": self.compressed_encoding,
            "cells": [
                {
                    "http": PROTOCOL_LABEL[h],
                    "encoding": e,
                    "state": self.state(h, e),
                    "result": r.to_dict(),
                }
                for (h, e), r in self.cells.items()
            ],
            "diagnosis": self.diagnosis,
            **({"browser": self.browser.to_dict()} if self.browser is not None else {}),
        }


def diagnose(cells: dict[Cell, ProbeResult]) -> str:
    state = {key: cell_state(r, key[0]) for key, r in cells.items()}
    base = cells[("h1", "identity")]
    if base.error is not None:
        return (
            f"the probe fails even over HTTP/1.1 without compression ({base.error.kind}): "
            f"{base.error.message}"
        )
    failed = [
        (h, e, r.error) for (h, e), r in cells.items() if r.error is not None and state[(h, e)] == "error"
    ]
    if failed:
        shown = ", ".join(f"{PROTOCOL_LABEL[h]} {e} ({err.kind})" for h, e, err in failed)
        return f"some combinations fail: {shown}; see their messages"
    offered = {k: s for k, s in state.items() if s != "not offered"}
    missing = {h for (h, _), s in state.items() if s == "not offered"}
    h2_note = "".join(
        f" (the server does not offer {PROTOCOL_LABEL[h]})" for h in ("h2", "h3") if h in missing
    )
    bad = {k for k, s in offered.items() if s in BAD}
    if not bad:
        if any(s == "inconclusive" for s in offered.values()):
            return (
                "no buffering seen, but the arrival pattern was inconclusive: probe a streamcheck URL, "
                "or mount StampMiddleware in the application, for an exact verdict" + h2_note
            )
        return "streams in every combination tried: no buffering found" + h2_note
    if bad == set(offered):
        return (
            "buffered in every combination: a buffering proxy or the application itself holds the stream, "
            "whatever the protocol and compression" + h2_note
        )
    if all(e == "compressed" for _, e in bad) and all(
        s == "streaming" for (_, e), s in offered.items() if e == "identity"
    ):
        return (
            "buffered only when compression is requested: a compressing proxy or middleware holds the stream "
            "(exclude text/event-stream from compression)"
        )
    if all(h == "h2" for h, _ in bad) and all(s == "streaming" for (h, _), s in offered.items() if h == "h1"):
        return (
            "buffered only over HTTP/2: the HTTP/2 front end (load balancer or CDN) holds the stream; "
            "serve HTTP/1.1 to clients (ALPN HTTP1Only) or fix that hop"
        )
    if all(h == "h3" for h, _ in bad) and all(s == "streaming" for (h, _), s in offered.items() if h != "h3"):
        return (
            "buffered only over HTTP/3: the HTTP/3 front end (the CDN's QUIC edge) holds the stream while "
            "HTTP/1.1 and HTTP/2 stream; browsers that switched to h3 (Alt-Svc) see it buffered: fix that "
            "hop, or stop advertising HTTP/3 (CloudFront http_version HTTP2)"
        )
    if all(h == "h1" for h, _ in bad) and all(s == "streaming" for (h, _), s in offered.items() if h == "h2"):
        return (
            "buffered only over HTTP/1.1: a hop buffers HTTP/1.1 responses (e.g. a TLS-terminating "
            "nginx left at proxy_buffering on) while HTTP/2 streams; browsers on h2 see it stream, "
            "HTTP/1.1 clients (curl, an HTTP1Only front door) do not: turn that hop's buffering off"
        )
    shown = ", ".join(f"{PROTOCOL_LABEL[h]} {e}: {state[(h, e)]}" for h, e in sorted(bad))
    return (
        f"buffering in some combinations ({shown}): more than one cause, or an intermittent one; "
        "repeat with --repeat"
    )


def h3_available() -> bool:
    """Whether HTTP/3 can be probed here (aioquic installed); an advertised h3 is skipped otherwise."""
    from .http3 import check_available

    try:
        check_available()
    except ValueError:
        return False
    return True


def run_doctor(
    url: str, options: ProbeOptions | None = None, *, browser: bool = False, http3: bool = False
) -> DoctorReport:
    """Probe ``url`` four times (sequentially, so the probes do not disturb each other), and twice more
    over HTTP/3 when ``http3`` is asked for or an answer advertised h3 (``Alt-Svc``).

    ``browser``: also read it once in headless Chromium (``report.browser``; raises
    ``streamprobe.browser.BrowserUnavailable`` before any probe when Chromium/Playwright is missing).
    """
    options = options or ProbeOptions()
    options.validate()
    shown = display_url(prepare_url(url, dataclasses.replace(options, add_nonce=False)))  # ValueError first
    if http3:  # a usage error (no aioquic, an http:// URL) before the matrix
        from .http3 import check_available

        check_available()
        if not url.lower().startswith("https://"):
            raise ValueError(f"HTTP/3 runs over QUIC with TLS: the URL must start with https://, got {url!r}")
    if browser:  # fail fast, before the matrix
        from .browser import check_browser

        check_browser()
    compressed, _note = default_accept_encoding()
    cells: dict[Cell, ProbeResult] = {}
    for http in PROTOCOLS:
        for encoding in ENCODINGS:
            cell_options = dataclasses.replace(
                options, http=http, accept_encoding="identity" if encoding == "identity" else compressed
            )
            cells[(http, encoding)] = probe(url, cell_options)
    advertised = any(advertises_h3(r.alt_svc) for r in cells.values())
    if http3 or (advertised and shown.startswith("https://") and options.data is None and h3_available()):
        for encoding in ENCODINGS:
            cell_options = dataclasses.replace(
                options, http="h3", accept_encoding="identity" if encoding == "identity" else compressed
            )
            cells[("h3", encoding)] = probe(url, cell_options)
    report = DoctorReport(shown, cells, compressed, diagnose(cells))
    if browser:
        from .browser import probe_browser

        report.browser = probe_browser(url, dataclasses.replace(options, http="auto", accept_encoding=None))
    return report
