"""Judging a browser read: a :class:`BrowserRead` becomes the probe's own :class:`ProbeResult`.

The sentences, the verdict rules and the redaction are the probe's (:mod:`streamprobe.messages`,
:func:`streamprobe.conclude.conclude`), so the two readers are judged by one set of rules; only what a
browser alone can say (Chromium's net errors, a connection it had already opened) is said here.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

import httpx

from ..conclude import conclude
from ..dial import is_ip_literal
from ..messages import (
    content_type_error,
    end_note,
    http_status_error,
    is_event_stream,
    max_duration_error,
    peer_name,
    shown_excerpt,
    stalled_error,
    timeout_error,
    too_large_error,
)
from ..options import ProbeOptions
from ..redact import display_url, request_secrets
from ..result import ErrorInfo, ErrorKind, EventArrival, ProbeResult, ProtocolLabel, empty_timings
from ..sse import BAD_STAMPS, stamp_notes
from .page import BrowserRead, origin_of

_CHROMIUM_PROTOCOLS: Final[dict[str, ProtocolLabel]] = {
    "h3": "HTTP/3",
    "h2": "HTTP/2",
    "http/1.1": "HTTP/1.1",
    "http/1.0": "HTTP/1.1",
}

# Chromium's net errors (Playwright's request.failure) -> the probe's error kinds, before any response.
_NET_ERROR_KINDS: Final[tuple[tuple[str, ErrorKind], ...]] = (
    ("ERR_NAME_NOT_RESOLVED", "dns"),
    ("ERR_NAME_RESOLUTION_FAILED", "dns"),
    ("ERR_CONNECTION_TIMED_OUT", "timeout"),
    ("ERR_TIMED_OUT", "timeout"),
    ("ERR_CONNECTION_REFUSED", "connect"),
    ("ERR_ADDRESS_UNREACHABLE", "connect"),
    ("ERR_ADDRESS_INVALID", "connect"),
    ("ERR_CONNECTION_FAILED", "connect"),
    ("ERR_INTERNET_DISCONNECTED", "connect"),
    ("ERR_CERT_", "tls"),
    ("ERR_SSL_", "tls"),
    ("ERR_BAD_SSL_CLIENT_AUTH_CERT", "tls"),
    ("ERR_ALPN_NEGOTIATION_FAILED", "protocol"),
)


def protocol_name(chromium_protocol: str | None) -> ProtocolLabel | None:
    """``"h3"`` -> ``"HTTP/3"``, ``"h2"`` -> ``"HTTP/2"``, ``"http/1.1"`` (or 1.0) -> ``"HTTP/1.1"``,
    as the probe names them; None for anything else."""
    return _CHROMIUM_PROTOCOLS.get((chromium_protocol or "").lower())


def net_error_kind(failure: str | None) -> ErrorKind:
    """The probe's error kind for a request that failed before a response, from Chromium's net error."""
    text = failure or ""
    for marker, kind in _NET_ERROR_KINDS:
        if marker in text:
            return kind
    return "protocol" if "ERR_" in text else "other"


def _where(url: str) -> str:
    parts = urlsplit(url)
    return peer_name(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))


def timings(read: BrowserRead) -> tuple[dict[str, float | None], bool]:
    """The result's timings from the Resource Timing entry; and whether the connection was already open."""
    out = empty_timings()
    t = read.timing or {}
    fetch_start = t.get("fetchStart")
    reused = False
    if fetch_start is not None and t.get("responseStart") is not None:
        dns_start, dns_end = t.get("domainLookupStart"), t.get("domainLookupEnd")
        c_start, c_end, tls_start = t.get("connectStart"), t.get("connectEnd"), t.get("secureConnectionStart")
        # Resource Timing's sign of a reused connection: every connection phase collapses onto fetchStart.
        reused = dns_start == dns_end == c_start == c_end == fetch_start
        if not reused:
            looked_up = not is_ip_literal(urlsplit(read.url).hostname or "")
            if dns_start is not None and dns_end is not None and looked_up:
                out["dns"] = dns_end - dns_start
            if c_start is not None and c_end is not None:
                tls = tls_start is not None and tls_start >= c_start
                out["connect"] = (tls_start if tls else c_end) - c_start
                if tls:
                    out["tls"] = c_end - tls_start
        out["ttfb"] = t["responseStart"] - fetch_start
    elif read.headers_ms is not None:
        out["ttfb"] = read.headers_ms  # no Resource Timing entry: when fetch() resolved
    out["total"] = read.end_ms
    return out, reused


def read_error(read: BrowserRead, options: ProbeOptions, secrets: list[str]) -> ErrorInfo | None:
    """The probe's error for a read: the same kinds and, where the facts allow, the same sentences."""
    where, o = _where(read.url), options
    if read.status is None:
        if read.stop_reason == "max_duration":
            return max_duration_error(where, o.max_duration)
        if read.stop_reason is not None:
            return timeout_error("headers", where, o.timeout)
        detail = read.failure or read.js_error_text() or "no response"
        kind = net_error_kind(read.failure)
        if kind == "tls" and "ERR_CERT_" in detail:
            detail += " (certificate not trusted; --insecure accepts lab certificates)"
        return ErrorInfo(kind, f"Chromium could not fetch from {where}: {detail}")
    excerpt = shown_excerpt(read.excerpt or "", secrets)
    if not 200 <= read.status < 300:
        return http_status_error(where, read.status, read.status_text or "", excerpt, secrets=secrets)
    if not is_event_stream(read.content_type):
        return content_type_error(where, read.content_type, excerpt, secrets=secrets)
    if read.stop_reason == "stalled":
        return stalled_error(o.timeout, len(read.events))
    if read.stop_reason == "too_large":
        return too_large_error(where, o.max_event_bytes)
    if read.js_error is not None and read.stop_reason is None:
        detail = read.failure or read.js_error_text() or "the read failed"
        return ErrorInfo("protocol", f"the connection to {where} broke mid-stream in Chromium: {detail}")
    return None


def to_probe_result(read: BrowserRead, options: ProbeOptions | None = None) -> ProbeResult:
    """Judge a read with the probe's own result type, sentences and verdict rules."""
    o = options or ProbeOptions(name="browser")
    url = httpx.URL(read.url)
    secrets = request_secrets(o.headers, url)
    timings_ms, reused = timings(read)
    protocol = protocol_name(read.protocol) or ("HTTP/2" if o.http == "h2" else "HTTP/1.1")
    arrivals = [
        EventArrival(
            arrive_ms=e.arrive_ms,
            event=e.type,
            sent_ms=e.sent_ms,
            seq=e.seq,
            size=e.size,
            stamp_ms=e.stamp_ms,
        )
        for e in read.events
    ]
    r = ProbeResult(
        url=display_url(url),
        path_name=o.name,
        protocol=protocol,
        status=read.status,
        timings_ms=timings_ms,
        content_encoding=read.content_encoding,
        header_names=list(o.headers),
        arrivals=arrivals,
        request_sent_ms=(read.timing or {}).get("requestStart"),
    )
    r.notes.append(
        f"browser: headless Chromium read the stream with fetch + getReader() on {origin_of(read.url)}"
    )
    if o.accept_encoding is not None:
        r.notes.append("browser: accept_encoding is ignored: Chromium sends its own Accept-Encoding")
    if read.protocol is not None and protocol_name(read.protocol) is None:
        r.notes.append(
            f"browser: Chromium reported the protocol {read.protocol!r}, which the probe does not name"
        )
    if read.protocol is not None and read.protocol_source == "playwright":
        r.notes.append("browser: protocol from Playwright (no Resource Timing entry)")
    if reused:
        r.notes.append(
            "browser: the connection was already open (Chromium preconnects to the page's origin), "
            "so dns/connect/tls are not measured and ttfb starts at the request"
        )
    r.error = read_error(read, o, secrets)
    if r.error is None and o.http == "h2" and protocol != "HTTP/2":
        r.error = ErrorInfo(
            "protocol", f"HTTP/2 was required but Chromium used {protocol} with {_where(read.url)}"
        )
    cut = read.status is not None and read.stop_reason == "max_duration"
    note = end_note(arrivals, cut=cut, ended=read.done, max_duration=o.max_duration)
    if note:
        r.notes.append(note)
    bad = {reason: n for reason, n in read.bad_stamps.items() if reason in BAD_STAMPS}
    r.notes += stamp_notes(bad, asked=o.stamp, arrivals=arrivals)
    return conclude(r, secrets)
