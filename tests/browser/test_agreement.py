"""The browser and the probe judge the same server the same way (one set of verdict rules, two clients)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from streamprobe import probe
from streamprobe.browser import BrowserSession, probe_browser
from streamprobe.probing import ProbeOptions

from tests.support.servers import RunningServer, hold_all_proxy

pytestmark = pytest.mark.browser

STREAM = "/api/streamcheck?events=10&interval_ms=100"


@contextmanager
def direct(srv: RunningServer) -> Iterator[str]:
    yield srv.url(STREAM)


@contextmanager
def behind_hold_all(srv: RunningServer) -> Iterator[str]:
    with hold_all_proxy(srv.port) as proxy:
        yield proxy.url(STREAM)


@pytest.mark.parametrize(
    ("server", "route", "verify", "expected"),
    [
        ("h1_server", direct, True, "streaming"),
        ("h2_server", direct, False, "streaming"),
        ("h1_server", behind_hold_all, True, "buffered"),
        ("gzip_server", direct, True, "buffered"),
    ],
    ids=["h1-direct", "h2-direct", "h1-hold-all-proxy", "gzip-holds-sse"],
)
def test_browser_and_probe_agree(
    browser: BrowserSession,
    request: pytest.FixtureRequest,
    server: str,
    route: object,
    verify: bool,
    expected: str,
) -> None:
    srv: RunningServer = request.getfixturevalue(server)
    options = ProbeOptions(name=server, verify=verify, timeout=10.0, max_duration=30.0)
    with route(srv) as url:  # type: ignore[operator]
        seen_by_probe = probe(url, options)
    with route(srv) as url:  # type: ignore[operator]
        seen_by_browser = probe_browser(url, options, session=browser)
    assert seen_by_probe.error is None, seen_by_probe.error
    assert seen_by_browser.error is None, seen_by_browser.error
    assert (seen_by_browser.verdict, seen_by_browser.mode, seen_by_browser.events) == (
        seen_by_probe.verdict,
        seen_by_probe.mode,
        seen_by_probe.events,
    )
    assert seen_by_browser.verdict == expected
    assert seen_by_browser.protocol == seen_by_probe.protocol
    assert seen_by_browser.content_encoding == seen_by_probe.content_encoding
