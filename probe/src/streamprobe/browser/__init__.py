"""The browser reader: what headless Chromium sees when a page reads an SSE URL with fetch + getReader().

Optional (``pip install 'streamprobe[browser]'`` plus Debian's ``chromium``): Playwright is imported only
when a session starts, so ``streamprobe`` imports (and the canary runs) without it.

* :mod:`.chromium` -- finding and starting Chromium: :class:`BrowserSession`, :func:`check_browser`.
* :mod:`.page` -- the read inside a page on the target's origin (``reader.js``): a :class:`BrowserRead`.
* :mod:`.judge` -- a read judged into the probe's own :class:`~streamprobe.result.ProbeResult`.
"""

from __future__ import annotations

from ..body import JSON_CONTENT_TYPE
from ..exceptions import BrowserUnavailable, InvalidRequest
from ..messages import excerpt_budget
from ..options import STAMP_HEADER, ProbeOptions, prepare_url
from ..redact import request_secrets
from ..result import ProbeResult
from .chromium import (
    CHROMIUM_ARGS,
    CHROMIUM_ENV,
    DEFAULT_CHROMIUM,
    BrowserSession,
    SessionHttp,
    check_browser,
    chromium_path,
)
from .judge import net_error_kind, protocol_name, to_probe_result
from .page import BrowserEvent, BrowserRead

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_ENV",
    "DEFAULT_CHROMIUM",
    "BrowserEvent",
    "BrowserRead",
    "BrowserSession",
    "BrowserUnavailable",
    "SessionHttp",
    "check_browser",
    "chromium_path",
    "net_error_kind",
    "probe_browser",
    "protocol_name",
    "request_headers",
    "to_probe_result",
]


def request_headers(options: ProbeOptions) -> dict[str, str]:
    """The headers the page's ``fetch`` sends: the options' own, plus the stamp request and a JSON
    Content-Type for a body, unless they already name them (as the probe does)."""
    headers = {name: str(value) for name, value in options.headers.items()}
    given = {name.lower() for name in headers}
    if options.stamp and STAMP_HEADER.lower() not in given:
        headers[STAMP_HEADER] = "1"
    if options.data is not None and "content-type" not in given:
        headers["Content-Type"] = JSON_CONTENT_TYPE
    return headers


def probe_browser(
    url: str, options: ProbeOptions | None = None, *, session: BrowserSession | None = None
) -> ProbeResult:
    """Read ``url`` in headless Chromium and judge it like :func:`streamprobe.probe`: a ``ProbeResult``.

    Takes the probe's :class:`~streamprobe.ProbeOptions`: ``name``, ``http`` (``"h1"`` turns
    HTTP/2 off in Chromium; ``"h2"`` is checked after the fact, as a browser cannot be made to insist),
    ``headers``, ``stamp`` (``X-Streampath-Stamp: 1``), ``method`` and ``data`` (the ``fetch``'s body),
    ``timeout``, ``max_duration``, ``max_event_bytes``, ``verify`` (``False`` accepts any
    certificate -- lab certificates only; a CA file cannot be handed to Chromium and is an ``InvalidRequest``)
    and ``add_nonce``. ``accept_encoding`` is ignored: Chromium sends its own, which is the point.
    ``session`` reuses a running :class:`BrowserSession` (the lab, doctor); else one is started and
    closed. Never raises for network trouble; raises :class:`BrowserUnavailable` without Chromium or
    Playwright and ``InvalidRequest`` for an unusable URL or option.
    """
    o = options or ProbeOptions(name="browser")
    o.validate()
    if isinstance(o.verify, str):
        raise InvalidRequest(
            "the browser reader cannot use a CA file (--cacert): use --insecure for lab certificates"
        )
    target = prepare_url(url, o)
    wanted: SessionHttp = "h1" if o.http == "h1" else "auto"
    if session is not None and session.http != wanted:
        raise InvalidRequest(
            f"this browser session was started with http={session.http!r}; {o.http!r} needs {wanted!r}"
        )
    sess = session or BrowserSession(http=wanted)
    try:
        read = sess.read(
            str(target),
            headers=request_headers(o),
            timeout=o.timeout,
            max_duration=o.max_duration,
            max_event_bytes=o.max_event_bytes,
            excerpt_chars=excerpt_budget(request_secrets(o.headers, target)),
            insecure=o.verify is False,
            method=o.method,
            body=None if o.data is None else o.data.decode("utf-8", errors="replace"),
        )
    finally:
        if session is None:
            sess.close()
    return to_probe_result(read, o)
