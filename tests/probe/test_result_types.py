"""The result is typed (Literal aliases, the runtime tuples derived from them) and the probe and the browser
reader share one set of sentences, one judge and one redaction: the same facts read the same way.

The browser's side is judged from a :class:`BrowserRead` written out by hand (what Chromium would have
reported for the same server), so these tests need no browser; tests/browser reads with a real one.
"""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest
from streamprobe import (
    ERROR_KINDS,
    MODES,
    PROTOCOL_LABELS,
    VERDICTS,
    ErrorInfo,
    ErrorKind,
    InvalidRequest,
    Mode,
    ProbeOptions,
    ProtocolLabel,
    StreamprobeError,
    Verdict,
    probe,
)
from streamprobe.browser import BrowserEvent, BrowserRead, to_probe_result

from tests.support import servers

CONTRACT_KINDS = [
    "dns", "connect", "tls", "timeout", "http_status",
    "content_type", "protocol", "stalled", "too_large", "other",
]  # fmt: skip


def test_the_runtime_tuples_are_the_literal_types() -> None:
    assert get_args(ErrorKind) == ERROR_KINDS and list(ERROR_KINDS) == CONTRACT_KINDS
    assert VERDICTS == get_args(Verdict) == ("streaming", "partial", "buffered", "inconclusive", "error")
    assert get_args(Mode) == MODES and {"streamcheck", "generic"} <= set(MODES)
    assert get_args(ProtocolLabel) == PROTOCOL_LABELS and {"HTTP/1.1", "HTTP/2"} <= set(PROTOCOL_LABELS)


def test_error_info_is_a_value_not_a_dict() -> None:
    err = ErrorInfo("connect", "connection refused")
    assert (err.kind, err.message) == ("connect", "connection refused")
    assert err.to_dict() == {"kind": "connect", "message": "connection refused"}
    assert not hasattr(err, "get") and not hasattr(err, "__getitem__")
    with pytest.raises(TypeError):
        err["kind"]  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown error kind 'nope'"):
        ErrorInfo("nope", "x")  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        err.kind = "tls"  # type: ignore[misc]


def test_everything_the_probe_raises_is_a_streamprobe_error() -> None:
    """Values apart from what is raised: ``ErrorInfo`` is a result's value, never raised; every exception
    the probe raises to a caller is a ``StreamprobeError``."""
    from streamprobe.browser import BrowserUnavailable
    from streamprobe.exceptions import ProbeFailure
    from streamprobe.trace import parse_hops
    from streamprobe.usage import UsageError

    assert not issubclass(ErrorInfo, BaseException)
    for raised in (InvalidRequest, BrowserUnavailable, ProbeFailure, UsageError):
        assert issubclass(raised, StreamprobeError)
    assert issubclass(InvalidRequest, ValueError)  # as the probe documented before it had its own
    with pytest.raises(InvalidRequest, match="URL must start with http:// or https://"):
        probe("ftp://127.0.0.1/x")
    with pytest.raises(InvalidRequest, match="timeout must be > 0"):
        probe("http://127.0.0.1:9/x", ProbeOptions(timeout=0))
    with pytest.raises(InvalidRequest, match="at least one"):
        parse_hops([])
    assert ProbeFailure("stalled", "no bytes for 10 s").error == ErrorInfo("stalled", "no bytes for 10 s")


def _read(url: str, **facts: object) -> BrowserRead:
    return dataclasses.replace(BrowserRead(url=url), **facts)  # type: ignore[arg-type]


def test_an_error_status_reads_the_same_from_both() -> None:
    with servers.status_error(502, "Bad Gateway", "no healthy upstream") as srv:
        url = srv.url("/api/streamcheck")
        seen_by_probe = probe(url, ProbeOptions(add_nonce=False))
    seen_by_browser = to_probe_result(
        _read(
            url,
            status=502,
            status_text="Bad Gateway",
            content_type="text/plain",
            excerpt="no healthy upstream",
        )
    )
    assert seen_by_probe.error is not None and seen_by_browser.error is not None
    assert seen_by_browser.error == seen_by_probe.error
    assert (
        seen_by_probe.error.message
        == f"127.0.0.1:{srv.port} answered HTTP 502 Bad Gateway; the body starts: no healthy upstream"
    )


def test_a_login_page_reads_the_same_from_both_and_the_secret_is_redacted() -> None:
    secret = "Bearer s3cr3t-t0ken-99"
    options = ProbeOptions(headers={"Authorization": secret}, add_nonce=False)
    with servers.wrong_content_type(echo_request=True) as srv:
        url = srv.url("/api/streamcheck")
        seen_by_probe = probe(url, options)
        echoed = (
            f"<pre>GET /api/streamcheck HTTP/1.1\r\nAuthorization: {secret}\r\n</pre>" + servers.LOGIN_PAGE
        )
    seen_by_browser = to_probe_result(
        _read(url, status=200, content_type="text/html; charset=utf-8", excerpt=echoed), options
    )
    for result in (seen_by_probe, seen_by_browser):
        assert result.error is not None and result.error.kind == "content_type", result.error
        assert result.error.message.startswith(
            f"expected Content-Type text/event-stream but 127.0.0.1:{srv.port} sent "
            "text/html; charset=utf-8 (an HTML page: often a login or error page in front of the service); "
            "the body starts: <pre>GET"
        )
        assert "s3cr3t-t0ken-99" not in str(result.to_dict()) and "Authorization: ***" in result.error.message
        assert result.verdict == "error" and result.header_names == ["Authorization"]


def test_the_browsers_read_is_judged_and_noted_by_the_probes_rules() -> None:
    url = "http://127.0.0.1:9/api/streamcheck?events=3&interval_ms=100"
    events = [BrowserEvent(10.0 + 100 * i, "message", str(i), 20, 1000.0 + 100 * i, i) for i in range(3)]
    read = _read(
        url,
        status=200,
        content_type="text/event-stream",
        done=True,
        events=events,
        timing={"fetchStart": 0.0, "responseStart": 5.0, "requestStart": 1.0},
    )
    r = to_probe_result(read, ProbeOptions(name="b"))
    assert (r.ok, r.verdict, r.mode, r.events, r.protocol) == (
        True,
        "streaming",
        "streamcheck",
        3,
        "HTTP/1.1",
    )
    assert r.buffering_delay_ms == pytest.approx(0.0) and r.timings_ms["first_event"] == 10.0
    assert "the stream ended without the streamcheck 'done' event" in r.notes
    assert any(n.startswith("streamcheck mode: the server sent 3 events over 200 ms") for n in r.notes)
    cut = to_probe_result(
        dataclasses.replace(read, done=False, stop_reason="max_duration"), ProbeOptions(max_duration=2)
    )
    assert (
        cut.ok
        and "stream still open after max_duration 2 s: judged on the 3 event(s) that arrived" in cut.notes
    )
    stalled = to_probe_result(
        dataclasses.replace(read, done=False, stop_reason="stalled"), ProbeOptions(timeout=1)
    )
    assert stalled.error == ErrorInfo("stalled", "the stream went silent: no data for 1 s after 3 event(s)")
