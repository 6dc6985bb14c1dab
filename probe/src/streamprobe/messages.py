"""The sentences a result says, written once for the probe and the browser reader.

Both readers name the same facts the same way (who answered what, which bound was hit), so a person
comparing the two columns compares facts, not wording. Excerpts of a body are redacted of the
request's secrets and sanitised before they go into a sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from .formats import EVENT_STREAM, media_type
from .redact import cut_secret_tail, mask_url_text, redact, sanitise, shown
from .result import ErrorInfo, EventArrival

#: How far a read got: "headers" means the request was sent and no response has come yet.
Phase = Literal["connect", "tls", "headers", "body"]

#: Characters of a body shown in an error message.
EXCERPT_CHARS: Final = 200
#: Characters of a server's header value (reason phrase, Content-Type, Location...) a message repeats.
HEADER_CHARS: Final = 120
#: The longest message or note a result carries: a server cannot make a result (or a log line) large.
MESSAGE_CHARS: Final = 1000
NO_EVENTS_NOTE: Final = "the stream ended without a single event"
NO_DONE_NOTE: Final = "the stream ended without the streamcheck 'done' event"


def peer_name(host: str, port: int) -> str:
    """``host:port`` as messages name the peer (``[::1]:443`` for IPv6)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def excerpt_budget(secrets: Iterable[str]) -> int:
    """How much of a body to read for an excerpt: a little more than shown, so that a secret echoed
    across the cut is still recognised (and redacted) whole."""
    return EXCERPT_CHARS + max((len(s.encode()) for s in secrets), default=0)


def shown_excerpt(text: str, secrets: Iterable[str], *, cut: bool = True) -> str:
    """A body's first characters as an error message shows them: redacted, one printable line.

    ``cut``: the text is where a read stopped (the body may go on), so a secret may begin at its very
    end with too few characters to be recognised: those are dropped."""
    secrets = list(secrets)
    text = redact(text, secrets)
    if cut:
        text = cut_secret_tail(text, secrets)
    return sanitise(text, EXCERPT_CHARS)


def timeout_error(phase: Phase, where: str, timeout: float) -> ErrorInfo:
    """The ``timeout`` bound passed in ``phase`` (in the body: the stream went silent)."""
    if phase == "connect":
        return ErrorInfo("timeout", f"TCP connect to {where} did not finish within {timeout:g} s")
    if phase == "tls":
        return ErrorInfo("timeout", f"TLS handshake with {where} did not finish within {timeout:g} s")
    if phase == "body":
        return ErrorInfo("stalled", f"the stream went silent: no data for {timeout:g} s")
    return ErrorInfo("timeout", f"no response headers from {where} within {timeout:g} s after the request")


def stalled_error(timeout: float, events: int) -> ErrorInfo:
    return ErrorInfo("stalled", f"the stream went silent: no data for {timeout:g} s after {events} event(s)")


def max_duration_error(where: str, max_duration: float) -> ErrorInfo:
    """The whole-probe bound passed before any response."""
    return ErrorInfo("timeout", f"no response from {where} within max_duration {max_duration:g} s")


def http_status_error(
    where: str,
    status: int,
    reason: str,
    excerpt: str,
    *,
    redirect_to: str | None = None,
    secrets: Iterable[str] = (),
) -> ErrorInfo:
    """A status other than 2xx; ``redirect_to`` is a Location already stripped of credentials;
    ``excerpt`` is already shown (:func:`shown_excerpt`). The server's texts are redacted of
    ``secrets`` before they are cut."""
    secrets = list(secrets)
    message = f"{where} answered HTTP {status} {shown(reason, secrets, HEADER_CHARS)}".rstrip()
    if redirect_to:
        message += f", redirecting to {mask_url_text(redact(redirect_to, secrets))}"
    if excerpt:
        message += f"; the body starts: {excerpt}"
    return ErrorInfo("http_status", message)


def is_event_stream(content_type: str | None) -> bool:
    return media_type(content_type) == EVENT_STREAM


def content_type_error(
    where: str, content_type: str | None, excerpt: str, *, secrets: Iterable[str] = ()
) -> ErrorInfo:
    """Not ``text/event-stream``: what came instead, and a hint when it is an HTML page."""
    sent = shown(content_type or "no Content-Type", secrets, 80)
    message = f"expected Content-Type text/event-stream but {where} sent {sent}"
    if "html" in (content_type or "").lower() or excerpt.lstrip().lower().startswith(("<!doctype", "<html")):
        message += " (an HTML page: often a login or error page in front of the service)"
    message += f"; the body starts: {excerpt}" if excerpt else "; the body is empty"
    return ErrorInfo("content_type", message)


def too_large_error(where: str, max_event_bytes: int) -> ErrorInfo:
    """``max_event_bytes`` passed: it counts every line since the last event dispatched, so blank and
    comment lines that never make an event are bounded too."""
    return ErrorInfo(
        "too_large",
        f"an event from {where} grew past max_event_bytes ({max_event_bytes} bytes) without ending "
        "(a line without a newline, blank or comment lines that never make an event, or a stream "
        "that is not SSE)",
    )


#: A server that wanted an upgrade the request did not ask for (RFC 9110 15.5.22): the endpoint exists,
#: but a hop in between dropped the request's ``Upgrade``/``Connection`` headers.
UPGRADE_REQUIRED: Final = 426
#: What a ws:// URL needs where the probe was installed without its WebSocket extra.
WEBSOCKET_INSTALL_HINT: Final = "WebSocket URLs need the websockets package: pip install 'streamprobe[ws]'"


def message_too_large_error(where: str, max_event_bytes: int) -> ErrorInfo:
    """A WebSocket message (its frames together) passed ``max_event_bytes``."""
    return ErrorInfo(
        "too_large",
        f"a WebSocket message from {where} is larger than max_event_bytes ({max_event_bytes} bytes)",
    )


def unknown_encoding_error(where: str, name: str, why: str, secrets: Iterable[str]) -> ErrorInfo:
    """A ``Content-Encoding`` the probe cannot undo (the name is the server's: redacted, cut)."""
    return ErrorInfo("protocol", f"{where} used content-encoding {shown(name, secrets, 80)!r}: {why}")


def corrupt_body_error(where: str, encoding: str, detail: str) -> ErrorInfo:
    """A compressed body that does not decode: the server sent something malformed."""
    return ErrorInfo(
        "protocol", f"the {encoding} body from {where} is corrupt: {sanitise(detail, HEADER_CHARS)}"
    )


def flood_error(where: str, frames: str, limit: int) -> ErrorInfo:
    """An HTTP/2 server that sends control frames faster than ``limit`` a second."""
    return ErrorInfo(
        "protocol",
        f"HTTP/2 control-frame flood from {where}: {frames} within one second, more than the limit of "
        f"{limit} (a probe busy answering them would read the events late)",
    )


def bounded_message(text: str, secrets: Iterable[str]) -> str:
    """A message or note as a result carries it: redacted, then at most MESSAGE_CHARS characters."""
    text = redact(text, secrets)
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def cut_note(max_duration: float, events: int) -> str:
    """The stream was still open when the whole-probe bound passed: judged on what arrived."""
    return (
        f"stream still open after max_duration {max_duration:g} s: "
        f"judged on the {events} event(s) that arrived"
    )


def end_note(arrivals: list[EventArrival], *, cut: bool, ended: bool, max_duration: float) -> str | None:
    """The note on how the stream ended: cut by max_duration, or a streamcheck stream that ended
    (``ended``: the body finished normally) without its 'done' event; else None."""
    if cut:
        return cut_note(max_duration, len(arrivals))
    if (
        ended
        and any(a.sent_ms is not None for a in arrivals)
        and not any(a.event == "done" for a in arrivals)
    ):
        return NO_DONE_NOTE
    return None
