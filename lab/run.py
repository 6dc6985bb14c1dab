"""Probe every lab path over HTTP/1.1, with HTTP/2 offered and (behind an HTTP/3 front) over HTTP/3, then ask
the doctor about buffered paths.

The chat rows read the app's own chat stream three ways at once -- the probe with stamps, the probe
without (generic mode: the arrival pattern alone), and curl's reading of the stamps (the reference,
``lab.curl_reference``) -- so stamped and generic verdicts sit side by side and the stamped delay can be
checked against a reader that shares no code with the probe."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamprobe import HttpChoice, ProbeOptions, ProbeResult, probe
from streamprobe.doctor import DoctorReport
from streamprobe.load import LoadPlan, LoadSummary, run_load
from streamprobe.progress import Progress

from lab.caddy import chromium_quic_args, quic_url
from lab.curl_reference import CurlReading, read_with_curl
from lab.topology import APIGW_IDLE_TIMEOUT_S, CHAT_PATH_NAMES, Lab, LabPath

COLUMNS = ("h1", "h2", "h3", "ws")
# What each column asks for: HTTP/1.1 forced, HTTP/2 offered next to HTTP/1.1 (ALPN) as a browser does
# on a first visit, HTTP/3 required (paths with an HTTP/3 front only) as a browser does once Alt-Svc
# has told it, and the same events over a WebSocket (an HTTP/1.1 upgrade, ws:// or wss://).
COLUMN_HTTP: dict[str, HttpChoice] = {"h1": "h1", "h2": "auto", "h3": "h3", "ws": "h1"}
WEBSOCKET = "ws"


def column_url(path: LabPath, column: str, events: int, interval_ms: int) -> str:
    """What a column reads: the streamcheck SSE URL, or for the WebSocket column its WebSocket."""
    if column == WEBSOCKET:
        return path.websocket_url(events, interval_ms)
    return path.streamcheck_url(events, interval_ms)


NOT_STREAMING = ("buffered", "partial")
# --- browser column: headless Chromium reads each path with fetch + getReader() ---
BROWSER = "browser"  # cells["browser"]: None when not run (--no-browser, or Chromium missing)
# --- end browser column ---


@dataclass
class PathReport:
    path: LabPath
    cells: dict[str, ProbeResult | None]  # None: not applicable (no TLS, so no HTTP/2 to offer)
    diagnosis: str | None = None
    doctor: dict[str, Any] | None = None
    # A cell first judged "partial" is probed again alone; the first result is kept here. On a busy
    # machine a CPU stall of a few hundred ms looks like partial buffering; real buffering repeats.
    rechecked: dict[str, ProbeResult] = field(default_factory=dict)

    @property
    def buffered(self) -> bool:
        return any(c is not None and c.verdict in NOT_STREAMING for c in self.cells.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.path.name,
            "hops": self.path.hops,
            "stands_for": self.path.stands_for,
            "url": self.path.base_url,
            "tls": self.path.tls,
            "results": {k: (None if v is None else v.to_dict()) for k, v in self.cells.items()},
            "diagnosis": self.diagnosis,
            "doctor": self.doctor,
            "rechecked": {k: v.to_dict() for k, v in self.rechecked.items()},
        }


#: The chat rows' stream: 300 tokens 10 ms apart, a 3 s answer (~15 KiB with stamps: four 4 KiB blocks).
CHAT_TOKENS, CHAT_INTERVAL_MS = 300, 10


#: The upgrade row's stream: short (its doctor reads it five times), long enough to judge on a busy core
#: (900 ms: streaming within 90 ms; a 300 ms stream's 50 ms floor was missed next to other timing work).
UPGRADE_EVENTS, UPGRADE_INTERVAL_MS = 10, 100

#: The load row: 8 streams at once of 5 events 100 ms apart (each holds the capped hop ~400 ms): 4 steps
#: behind a cap of 2, the last first event ~1.2 s late, within the default SLO's 2 s.
LOAD_STREAMS, LOAD_EVENTS, LOAD_INTERVAL_MS = 8, 5, 100

#: The idle row: a first event at once, then a silence past the STREAM stand-in's idle timeout.
IDLE_EVENTS, IDLE_INTERVAL_MS = 2, int(APIGW_IDLE_TIMEOUT_S * 1000 * 1.5)
IDLE_PATH = "apigw-stream"


@dataclass
class IdleRow:
    """The doctor on a stream silent longer than the STREAM stand-in's idle timeout: the cut, named."""

    path: LabPath
    url: str
    doctor: DoctorReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.path.name,
            "idle_timeout_s": APIGW_IDLE_TIMEOUT_S,
            "silence_ms": IDLE_INTERVAL_MS,
            "doctor": self.doctor.to_dict(),
        }


@dataclass
class ChatRow:
    """The chat stream through one path: stamped and generic side by side, and curl's reading."""

    path: LabPath
    stamped: ProbeResult
    generic: ProbeResult
    curl: CurlReading | None  # None: curl could not run (see ``curl_note``)
    curl_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.path.name,
            "hops": self.path.hops,
            "url": self.path.base_url,
            "stamped": self.stamped.to_dict(),
            "generic": self.generic.to_dict(),
            "curl": None if self.curl is None else self.curl.to_dict(),
            "curl_note": self.curl_note,
        }


@dataclass
class UpgradeRow:
    """SSE and the WebSocket through an nginx that drops the upgrade, and what the doctor says of it."""

    path: LabPath
    sse: ProbeResult
    websocket: ProbeResult
    doctor: dict[str, Any] | None
    diagnosis: str | None  # the doctor's WebSocket sentence (or why the doctor could not run)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.path.name,
            "hops": self.path.hops,
            "url": self.path.base_url,
            "sse": self.sse.to_dict(),
            "websocket": self.websocket.to_dict(),
            "diagnosis": self.diagnosis,
            "doctor": self.doctor,
        }


@dataclass
class LabReport:
    events: int
    interval_ms: int
    paths: list[PathReport] = field(default_factory=list)
    elapsed_s: float = 0.0
    browser_note: str | None = None  # why the browser column is empty, when it is
    chat: list[ChatRow] = field(default_factory=list)
    load: LoadSummary | None = None  # the load row: many streams at once through the capped hop
    capped_doctor: DoctorReport | None = None  # the doctor on the capped hop (its few streams at once)
    idle: IdleRow | None = None  # the STREAM stand-in cutting a silent stream
    upgrade: UpgradeRow | None = None  # the upgrade row: a WebSocket through an nginx that drops Upgrade
    chat_tokens: int = CHAT_TOKENS
    chat_interval_ms: int = CHAT_INTERVAL_MS

    def chat_row(self, name: str) -> ChatRow:
        for row in self.chat:
            if row.path.name == name:
                return row
        raise KeyError(name)

    @property
    def stream_ms(self) -> int:
        return (self.events - 1) * self.interval_ms

    def path(self, name: str) -> PathReport:
        for p in self.paths:
            if p.path.name == name:
                return p
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lab": {
                "events": self.events,
                "interval_ms": self.interval_ms,
                "stream_ms": self.stream_ms,
                "columns": {
                    "h1": "HTTP/1.1 forced",
                    "h2": "HTTP/2 offered with HTTP/1.1 (ALPN), like a browser",
                    "h3": "HTTP/3 over QUIC required, on paths with an HTTP/3 front",
                    WEBSOCKET: "the same events over a WebSocket (ws:// or wss://, an HTTP/1.1 upgrade)",
                    BROWSER: "headless Chromium: fetch + getReader() on the path's origin",
                },
                "browser_note": self.browser_note,
                "elapsed_s": round(self.elapsed_s, 2),
            },
            "paths": [p.to_dict() for p in self.paths],
            "chat": {
                "tokens": self.chat_tokens,
                "interval_ms": self.chat_interval_ms,
                "rows": [row.to_dict() for row in self.chat],
            },
            "load": None if self.load is None else self.load.to_dict(),
            "capped_doctor": None if self.capped_doctor is None else self.capped_doctor.to_dict(),
            "apigw_idle": None if self.idle is None else self.idle.to_dict(),
            "upgrade": None if self.upgrade is None else self.upgrade.to_dict(),
        }


def probe_options(lab: Lab, path: LabPath, column: str, timeout: float) -> ProbeOptions:
    assert lab.tls is not None
    return ProbeOptions(
        name=path.name,
        http=COLUMN_HTTP[column],
        verify=str(lab.tls.ca_pem),
        timeout=timeout,
        max_duration=timeout * 6,
    )


def read_chat(lab: Lab, path: LabPath, tokens: int, interval_ms: int, timeout: float) -> ChatRow:
    """The chat stream through ``path`` read three ways at the same time (the same load on each)."""
    url = path.chat_url(tokens, interval_ms)
    options = probe_options(lab, path, "h1", timeout)
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="lab-chat") as pool:
        stamped = pool.submit(probe, url, options)
        generic = pool.submit(probe, url, dataclasses.replace(options, stamp=False))
        # --compressed: the probe asks for compression like a browser, so curl does too.
        curl = pool.submit(read_with_curl, url, compressed=True, timeout=timeout * 6)
        reading: CurlReading | None = None
        note = None
        try:
            reading = curl.result()
        except (OSError, RuntimeError) as exc:
            note = f"curl could not run: {exc}"
        return ChatRow(path, stamped.result(), generic.result(), reading, note)


def run_chat(
    lab: Lab, *, tokens: int, interval_ms: int, timeout: float, only: list[str] | None = None
) -> list[ChatRow]:
    """One chat row per path of ``CHAT_PATH_NAMES`` (those in ``only``, if given), one path at a time."""
    names = [n for n in CHAT_PATH_NAMES if only is None or n in only]
    return [read_chat(lab, lab.chat_paths[n], tokens, interval_ms, timeout) for n in names]


def run_doctor(lab: Lab, path: LabPath, url: str, timeout: float) -> tuple[str, dict[str, Any] | None]:
    try:
        from streamprobe.doctor import run_doctor as doctor
    except ImportError:
        return "doctor not available (streamprobe.doctor is missing)", None
    try:
        report = doctor(url, probe_options(lab, path, "h2", timeout))
    except Exception as exc:  # the table must still print
        return f"doctor failed: {type(exc).__name__}: {exc}", None
    return str(report.diagnosis), report.to_dict()


# --- browser column ---
def run_browser(
    paths: list[LabPath], events: int, interval_ms: int, timeout: float, *, quic_cert: Path | None = None
) -> tuple[dict[str, ProbeResult], str | None]:
    """Each path read by headless Chromium, like the seed's frontend; ({}, why) when it cannot run.

    Chromium offers h2 and http/1.1 like the probe's "h2" column. It cannot be given the lab's CA
    file, so lab certificates are accepted (verify=False) here and only here. Paths with an HTTP/3
    front are read over QUIC by a second Chromium (``quic_cert``: the lab's certificate), like the
    probe's "h3" column.
    """
    from streamprobe.browser import BrowserSession, BrowserUnavailable, probe_browser

    try:
        session = BrowserSession()
    except BrowserUnavailable as exc:
        return {}, str(exc)
    cells: dict[str, ProbeResult] = {}
    quic = [p for p in paths if p.offers_h3 and quic_cert is not None]
    with session:
        for path in paths:
            if path in quic:
                continue
            options = ProbeOptions(name=path.name, verify=False, timeout=timeout, max_duration=timeout * 6)
            cells[path.name] = probe_browser(
                path.streamcheck_url(events, interval_ms), options, session=session
            )
    if quic and quic_cert is not None:
        urls = {p.name: quic_url(p.streamcheck_url(events, interval_ms)) for p in quic}
        with BrowserSession(extra_args=chromium_quic_args(list(urls.values()), quic_cert)) as over_quic:
            for path in quic:
                options = ProbeOptions(
                    name=path.name, verify=False, timeout=timeout, max_duration=timeout * 6
                )
                cells[path.name] = probe_browser(urls[path.name], options, session=over_quic)
    return cells, None


# --- end browser column ---


def recheck_partial(lab: Lab, report: LabReport, timeout: float) -> None:
    """Probe every "partial" cell once more, alone, and show that result (the first is kept)."""
    for p in report.paths:
        for column in COLUMNS:
            first = p.cells.get(column)
            if first is None or first.verdict != "partial":
                continue
            url = column_url(p.path, column, report.events, report.interval_ms)
            p.rechecked[column] = first
            p.cells[column] = probe(url, probe_options(lab, p.path, column, timeout))


def _announce(progress: Progress, label: str) -> Callable[[Future[ProbeResult]], None]:
    """A done-callback telling ``progress`` a cell's result as it lands."""

    def done(future: Future[ProbeResult]) -> None:
        progress.result(label, future.result())

    return done


def run_upgrade_row(lab: Lab, path: LabPath, events: int, interval_ms: int, timeout: float) -> UpgradeRow:
    """SSE and the WebSocket through ``path`` (an nginx without the upgrade headers), then the doctor on
    the SSE URL: its WebSocket row names the dropped upgrade and the fix."""
    sse = probe(path.streamcheck_url(events, interval_ms), probe_options(lab, path, "h1", timeout))
    websocket = probe(path.websocket_url(events, interval_ms), probe_options(lab, path, WEBSOCKET, timeout))
    diagnosis, doctor = run_doctor(lab, path, path.streamcheck_url(events, interval_ms), timeout)
    if doctor is not None:
        row = doctor.get("websocket")
        diagnosis = "the doctor offered no WebSocket row" if row is None else str(row["sentence"])
    return UpgradeRow(path, sse, websocket, doctor, diagnosis)


def run_load_row(path: LabPath) -> LoadSummary:
    """``LOAD_STREAMS`` streams at once through the capped hop: first bytes come in steps of one stream,
    and ``streamprobe load`` names the cap."""
    url = path.streamcheck_url(LOAD_EVENTS, LOAD_INTERVAL_MS)
    plan = LoadPlan(concurrency=LOAD_STREAMS, streams=LOAD_STREAMS)
    return run_load(url, ProbeOptions(name=path.name), plan)


def run_capped_doctor(path: LabPath, timeout: float) -> DoctorReport:
    """The doctor on the capped hop: its matrix streams, its few streams at once show the cap."""
    from streamprobe.doctor import run_doctor as doctor

    url = path.streamcheck_url(LOAD_EVENTS, LOAD_INTERVAL_MS)
    return doctor(url, ProbeOptions(name=path.name, timeout=timeout))


def run_idle_row(path: LabPath, timeout: float) -> IdleRow:
    """The doctor on a stream silent past the STREAM stand-in's idle timeout: it names the cut."""
    from streamprobe.doctor import run_doctor as doctor

    url = path.streamcheck_url(IDLE_EVENTS, IDLE_INTERVAL_MS)
    return IdleRow(path, url, doctor(url, ProbeOptions(name=path.name, timeout=timeout)))


def run_lab(
    lab: Lab,
    *,
    events: int = 20,
    interval_ms: int = 100,
    doctor: bool = True,
    workers: int = 7,
    timeout: float = 10.0,
    only: list[str] | None = None,
    browser: bool = True,
    chat: bool = True,
    load: bool = True,
    progress: Progress | None = None,
) -> LabReport:
    """Probe each path x column concurrently (one fresh connection per probe), then the chat rows (one
    path at a time), then the browser column with the doctors beside it. ``progress`` hears each cell
    as it lands."""
    progress = progress or Progress.off()
    started = time.monotonic()
    report = LabReport(events=events, interval_ms=interval_ms)
    paths = [p for p in lab.paths.values() if only is None or p.name in only]
    jobs: dict[tuple[str, str], Any] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lab-probe") as pool:
        for path in paths:
            for column in COLUMNS:
                if (
                    (column == "h2" and not path.tls)
                    or (column == "h3" and not path.offers_h3)
                    or (column == WEBSOCKET and not path.offers_websocket)
                ):
                    continue
                url = column_url(path, column, events, interval_ms)
                future = pool.submit(probe, url, probe_options(lab, path, column, timeout))
                future.add_done_callback(_announce(progress, f"{path.name} {column}"))
                jobs[(path.name, column)] = future
        for path in paths:
            cells: dict[str, ProbeResult | None] = {}
            for column in COLUMNS:
                job = jobs.get((path.name, column))
                cells[column] = None if job is None else job.result()
            report.paths.append(PathReport(path, cells))
        recheck_partial(lab, report, timeout)
        idle = (
            pool.submit(run_idle_row, lab.paths[IDLE_PATH], timeout)
            if doctor and IDLE_PATH in {p.name for p in paths}
            else None
        )
        if chat:
            report.chat = run_chat(
                lab,
                tokens=report.chat_tokens,
                interval_ms=report.chat_interval_ms,
                timeout=timeout,
                only=only,
            )
        if only is None and lab.no_upgrade is not None:  # alone, as the chat rows: a short stream
            report.upgrade = run_upgrade_row(
                lab, lab.no_upgrade, UPGRADE_EVENTS, UPGRADE_INTERVAL_MS, timeout
            )
            progress.done(f"{report.upgrade.path.name} WebSocket", report.upgrade.diagnosis or "")
        if load and only is None and lab.capped is not None:
            report.load = run_load_row(lab.capped)
            progress.done("capped-haproxy load", f"{report.load.good} of {report.load.finished} good")
            # after the load row, never beside it: both would queue for the same capped slots
            if doctor:
                report.capped_doctor = run_capped_doctor(lab.capped, timeout)
                progress.done("capped-haproxy doctor", report.capped_doctor.diagnosis)
        # The doctors (of the paths that did not stream) beside the browser column, as they already run
        # beside each other: Chromium times each read in the page itself, not in this process.
        doctor_jobs = (
            {
                p.path.name: pool.submit(
                    run_doctor, lab, p.path, p.path.streamcheck_url(events, interval_ms), timeout
                )
                for p in report.paths
                if p.buffered
            }
            if doctor
            else {}
        )
        # --- browser column: after the probes, one path at a time (a single Chromium) ---
        browser_cells, report.browser_note = (
            run_browser(paths, events, interval_ms, timeout, quic_cert=lab.tls.cert_pem if lab.tls else None)
            if browser
            else ({}, "not run (--no-browser)")
        )
        for p in report.paths:
            p.cells[BROWSER] = browser_cells.get(p.path.name)
        # --- end browser column ---
        if doctor_jobs:
            for p in report.paths:
                if p.path.name in doctor_jobs:
                    p.diagnosis, p.doctor = doctor_jobs[p.path.name].result()
                    progress.done(f"{p.path.name} doctor", p.diagnosis)
        if idle is not None:
            report.idle = idle.result()
            progress.done(f"{IDLE_PATH} idle doctor", report.idle.doctor.diagnosis)
    report.elapsed_s = time.monotonic() - started
    return report
