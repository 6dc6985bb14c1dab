"""Fixtures for the browser reader's tests: Debian's Chromium (required: missing is a failure, not a
skip -- CI installs it from scripts/apt-packages.txt) and real loopback servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamprobe.browser import BrowserSession, BrowserUnavailable, check_browser

from tests.support.servers import RunningServer, hypercorn_server, uvicorn_server
from tests.support.tls import tls_files


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        return check_browser()
    except BrowserUnavailable as exc:
        pytest.fail(f"the browser tests need Debian's Chromium and Playwright: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[BrowserSession]:
    """One headless Chromium for the whole session (each read gets its own context)."""
    with BrowserSession(executable=chromium) as session:
        yield session


@pytest.fixture(scope="session")
def browser_h1(chromium: str) -> Iterator[BrowserSession]:
    """Chromium with HTTP/2 turned off (``--disable-http2``)."""
    with BrowserSession(http="h1", executable=chromium) as session:
        yield session


@pytest.fixture(scope="module")
def h1_server() -> Iterator[RunningServer]:
    """The reference app under uvicorn (HTTP/1.1, no TLS)."""
    from streamcheck.reference_app import create_app

    with uvicorn_server(create_app()) as srv:
        yield srv


@pytest.fixture(scope="module")
def h2_server() -> Iterator[RunningServer]:
    """The reference app under hypercorn with TLS (a trustme CA) offering h2 and http/1.1."""
    from streamcheck.reference_app import create_app

    with hypercorn_server(create_app(), tls=tls_files()) as srv:
        yield srv


@pytest.fixture(scope="module")
def gzip_server() -> Iterator[RunningServer]:
    """The reference app whose compression middleware holds text/event-stream (pre-0.46 Starlette)."""
    from streamcheck.reference_app import create_app

    with uvicorn_server(create_app(gzip_sse=True)) as srv:
        yield srv
