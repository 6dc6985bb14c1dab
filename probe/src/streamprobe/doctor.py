"""streamprobe doctor: the matrix {HTTP/1.1, HTTP/2[, HTTP/3]} x {identity, compressed} and a diagnosis.

The HTTP/3 row is probed when the server advertises h3 (``Alt-Svc``) on the HTTP/1.1 or HTTP/2 answers,
or when asked (``--http3``): browsers switch to it once told, so it is the protocol many users see.

Every cell is the same request as the options say -- stamps asked for (``stamp``), ``method`` and body
(``data``) included -- so an application's own chat endpoint is diagnosed as exactly as streamcheck
when it mounts ``StampMiddleware``; over HTTP/3 too.

After the matrix, a few streams at once (``streamprobe.concurrency``) show a hop that serves only some of
them at a time; a cap found is reported beside the matrix's ``diagnosis_code``, never as one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Final

from .altsvc import advertises_h3
from .concurrency import (
    ConcurrencyCheck,
    cap_fixes,
    check_concurrency,
    streams_to_open,
)
from .decoding import default_accept_encoding
from .diagnosis import DiagnosisCode, classify
from .doctor_ws import WebSocketRow, websocket_row
from .exceptions import InvalidRequest
from .fixes import HopFix, fixes_for, hop_kind
from .matrix import (  # re-exported: the doctor's vocabulary, as callers have imported it from here
    BAD,
    BASE_ROWS,
    ENCODINGS,
    ROW_LABELS,
    ROWS,
    Cell,
    CellState,
    Encoding,
    HttpRow,
    cell_state,
    not_offered,
)
from .options import ProbeOptions, prepare_url
from .probing import probe
from .progress import Progress
from .redact import display_url, mask_url_text
from .result import ErrorKind, ProbeResult

__all__ = [
    "BAD",
    "BASE_ROWS",
    "ENCODINGS",
    "ROWS",
    "ROW_LABELS",
    "Cell",
    "CellState",
    "DoctorReport",
    "Encoding",
    "HttpRow",
    "cell_state",
    "connection_failed",
    "diagnose",
    "not_offered",
    "run_doctor",
]

#: Error kinds that mean the connection itself failed (no name, no TCP connection, no answer within
#: --timeout): every other cell would fail the same way, each after as long a wait.
CONNECTION_FAILURES: Final[tuple[ErrorKind, ...]] = ("dns", "connect", "timeout")


def connection_failed(result: ProbeResult) -> bool:
    """The request never got a response head because the connection failed (not an HTTP problem)."""
    return result.error is not None and result.error.kind in CONNECTION_FAILURES and result.status is None


@dataclass
class DoctorReport:
    url: str
    cells: dict[Cell, ProbeResult]
    compressed_encoding: str
    diagnosis: str
    browser: ProbeResult | None = None  # headless Chromium's read: shown, not part of the diagnosis
    diagnosis_code: DiagnosisCode = "none"
    fixes: list[HopFix] = field(default_factory=list)
    stopped_early: str | None = None  # why the other cells were skipped (the connection itself failed)
    #: A few streams at once (``streamprobe.concurrency``): None when not run (asked not to, or the
    #: plainest request failed).
    concurrency: ConcurrencyCheck | None = None
    #: What the reader should know beside the diagnosis (a check that was not run, and how to run it).
    notes: list[str] = field(default_factory=list)

    @property
    def capped(self) -> bool:
        """Streams queued behind a concurrency cap."""
        return self.concurrency is not None and self.concurrency.cap is not None

    websocket: WebSocketRow | None = None  # the streamcheck WebSocket beside it, when the service offers one

    def state(self, http: HttpRow, encoding: Encoding) -> CellState:
        result = self.cells.get((http, encoding))
        return "skipped" if result is None else cell_state(result, http)

    @property
    def rows(self) -> tuple[HttpRow, ...]:
        """The protocols probed (or skipped after an early stop), in the matrix's order."""
        skipped = BASE_ROWS if self.stopped_early else ()
        return tuple(h for h in ROWS if (h, "identity") in self.cells or h in skipped)

    @property
    def exit_code(self) -> int:
        states = [self.state(h, e) for h, e in self.cells]
        if "error" in states:
            return 2
        if all(s in ("streaming", "not offered") for s in states) and not self.capped:
            return 0
        return 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "compressed_accept_encoding": self.compressed_encoding,
            "cells": [
                {
                    "http": ROW_LABELS[h],
                    "encoding": e,
                    "state": self.state(h, e),
                    "result": r.to_dict(),
                }
                for (h, e), r in self.cells.items()
            ]
            + [
                {"http": ROW_LABELS[h], "encoding": e, "state": "skipped", "result": None}
                for h in self.rows
                for e in ENCODINGS
                if (h, e) not in self.cells
            ],
            "diagnosis": self.diagnosis,
            "diagnosis_code": self.diagnosis_code,
            "fixes": [f.to_dict() for f in self.fixes],
            "stopped_early": self.stopped_early,
            "concurrency": None if self.concurrency is None else self.concurrency.to_dict(),
            "notes": list(self.notes),
            **({"browser": self.browser.to_dict()} if self.browser is not None else {}),
            "websocket": None if self.websocket is None else self.websocket.to_dict(),
        }


def diagnose(cells: dict[Cell, ProbeResult]) -> str:
    """The diagnosis sentence (``streamprobe.diagnosis.classify`` also gives its code)."""
    return classify(cells).sentence


def h3_available() -> bool:
    """Whether HTTP/3 can be probed here (aioquic installed); an advertised h3 is skipped otherwise."""
    from .http3 import check_available

    try:
        check_available()
    except ValueError:
        return False
    return True


def _probe_cell(
    url: str, options: ProbeOptions, http: HttpRow, encoding: Encoding, compressed: str, progress: Progress
) -> ProbeResult:
    label = f"{options.name} {ROW_LABELS[http]} {encoding}"
    progress.start(label)
    cell_options = dataclasses.replace(
        options, http=http, accept_encoding="identity" if encoding == "identity" else compressed
    )
    result = probe(url, cell_options)
    progress.result(label, result)
    return result


def run_doctor(
    url: str,
    options: ProbeOptions | None = None,
    *,
    browser: bool = False,
    http3: bool = False,
    concurrent_streams: int | None = None,
    progress: Progress | None = None,
) -> DoctorReport:
    """Probe ``url`` four times (sequentially, so the probes do not disturb each other), and twice more
    over HTTP/3 when ``http3`` is asked for or an answer advertised h3 (``Alt-Svc``).

    When the first probe (HTTP/1.1, identity) fails to connect at all (``CONNECTION_FAILURES``), the
    other cells are skipped: a host that accepts and never answers costs one ``--timeout``, not four.

    ``browser``: also read it once in headless Chromium (``report.browser``; raises
    ``streamprobe.browser.BrowserUnavailable`` before any probe when Chromium/Playwright is missing).
    ``concurrent_streams``: then open that many streams at once (HTTP/1.1, identity) to see a
    concurrency cap (``streamprobe.concurrency``; 0: not done; None: ``streams_to_open``'s default,
    none for a request with a body, and a note says so); skipped when the HTTP/1.1 identity cell failed.
    A cap is added to the diagnosis sentence, its fixes to ``fixes``, the check to
    ``report.concurrency``; ``diagnosis_code`` stays the matrix's.
    ``progress``: told which cell runs and each result (stderr on a terminal, in the CLI).
    """
    options = options or ProbeOptions()
    options.validate()
    concurrent_streams, skipped_check = streams_to_open(concurrent_streams, options)
    progress = progress or Progress.off()
    # A bad URL is an InvalidRequest before anything is probed.
    target = prepare_url(url, dataclasses.replace(options, add_nonce=False))
    shown = display_url(target)
    if http3:  # a usage error (no aioquic, an http:// URL) before the matrix
        from .http3 import check_available

        check_available()
        if not url.lower().startswith("https://"):
            raise InvalidRequest(
                "HTTP/3 runs over QUIC with TLS: the URL must start with https://, "
                f"got {mask_url_text(url)!r}"
            )
    if browser:  # fail fast, before the matrix
        from .browser import check_browser

        check_browser()
    compressed, _note = default_accept_encoding()
    cells: dict[Cell, ProbeResult] = {}
    stopped: str | None = None
    for http in BASE_ROWS:
        for encoding in ENCODINGS:
            cells[(http, encoding)] = result = _probe_cell(url, options, http, encoding, compressed, progress)
            if connection_failed(result):
                assert result.error is not None
                stopped = (
                    f"the other combinations were not probed: the connection itself failed "
                    f"({result.error.kind}) over {ROW_LABELS[http]} {encoding}"
                )
                break
        if stopped:
            break
    advertised = any(advertises_h3(r.alt_svc) for r in cells.values())
    wants_h3 = http3 or (advertised and shown.startswith("https://") and h3_available())
    if wants_h3 and stopped is None:
        for encoding in ENCODINGS:
            cells[("h3", encoding)] = _probe_cell(url, options, "h3", encoding, compressed, progress)
    found = classify(cells)
    concurrency = None
    if concurrent_streams and cells[("h1", "identity")].error is None:
        label = f"{options.name} {concurrent_streams} streams at once"
        progress.start(label)
        concurrency = check_concurrency(url, options, concurrent_streams)
        progress.done(label, concurrency.cap.message if concurrency.cap else "no concurrency cap seen")
    sentence = found.sentence + (f" ({stopped})" if stopped else "")
    if concurrency is not None and concurrency.cap is not None:
        sentence += f"; {concurrency.cap.message}"
    fixes = fixes_for(
        found.code,
        hop_kind(found.hop),
        errors=[r.error.kind for r in cells.values() if r.error is not None],
    )
    report = DoctorReport(
        shown,
        cells,
        compressed,
        sentence,
        diagnosis_code=found.code,
        fixes=fixes + [f for f in cap_fixes(concurrency) if f not in fixes],
        stopped_early=stopped,
        concurrency=concurrency,
        notes=[skipped_check] if skipped_check else [],
    )
    if stopped is None:
        report.websocket = websocket_row(target, options)
    if browser:
        from .browser import probe_browser

        report.browser = probe_browser(url, dataclasses.replace(options, http="auto", accept_encoding=None))
    return report
