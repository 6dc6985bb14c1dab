"""The browser reader (headless Chromium) against servers that echo the request's secrets: the same
redaction as the probe's, in every field its result shows."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from streamprobe import ProbeOptions
from streamprobe.browser import BrowserSession, BrowserUnavailable, check_browser, probe_browser

from tests.hostile.secrets import HEADERS, assert_clean
from tests.hostile.test_echoes import ECHOES, _server

pytestmark = pytest.mark.browser

CASES = ["reason-phrase", "content-type", "body-echo", "body-echo-swapped-case", "body-cut-by-server"]


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserSession]:
    try:
        executable = check_browser()
    except BrowserUnavailable as exc:
        pytest.fail(f"the browser reader needs Debian's Chromium and Playwright: {exc}", pytrace=False)
    with BrowserSession(executable=executable) as session:
        yield session


@pytest.mark.parametrize("name", CASES)
def test_an_echoed_secret_never_reaches_the_browser_readers_result(
    browser: BrowserSession, name: str
) -> None:
    with _server(ECHOES[name]) as srv:
        result = probe_browser(
            srv.url("/sse"), ProbeOptions(headers=HEADERS, timeout=3.0, max_duration=5.0), session=browser
        )
    shown = json.dumps(result.to_dict())
    assert result.error is not None, shown
    assert_clean(shown)
