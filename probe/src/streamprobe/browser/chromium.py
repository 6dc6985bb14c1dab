"""Finding and starting headless Chromium, through Playwright (imported only when a session starts).

Chromium is ``/usr/bin/chromium`` (Debian's package) or ``$STREAMPROBE_CHROMIUM``. It starts headless
with no background networking and a fresh profile; each read gets a new browser context (its own
connections, cache and cookies).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal, cast

from ..exceptions import BrowserUnavailable, InvalidRequest
from .page import BrowserRead, read_page

if TYPE_CHECKING:  # pragma: no cover - typing only; playwright is imported lazily
    from playwright.sync_api import Browser, Playwright

    from ..options import HttpChoice

CHROMIUM_ENV: Final = "STREAMPROBE_CHROMIUM"
DEFAULT_CHROMIUM: Final = "/usr/bin/chromium"
INSTALL_PLAYWRIGHT: Final = "pip install 'streamprobe[browser]'"
INSTALL_CHROMIUM: Final = "apt-get install chromium"

# Headless, no sandbox (root in containers), and nothing that talks to the outside world on its own.
CHROMIUM_ARGS: Final[tuple[str, ...]] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--no-pings",
)
# Chromium has no way to require HTTP/2; HTTP/1.1 can be forced by turning HTTP/2 off.
DISABLE_HTTP2_ARG: Final = "--disable-http2"
# QUIC is off so that a read uses what a first visit uses; a session given this switch for some origins
# (``extra_args``) keeps QUIC on, so those origins are read over HTTP/3.
FORCE_QUIC_ARG: Final = "--origin-to-force-quic-on"

#: What a session offers: ``auto`` (h2 and http/1.1, like any browser) or ``h1`` (HTTP/2 turned off).
SessionHttp = Literal["auto", "h1"]


def chromium_path() -> str:
    """The Chromium binary the reader starts: ``$STREAMPROBE_CHROMIUM`` or ``/usr/bin/chromium``."""
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


def check_browser() -> str:
    """Return the Chromium path if the reader can run; raise :class:`BrowserUnavailable` if not."""
    path = chromium_path()
    resolved = path if os.path.isabs(path) else shutil.which(path)
    if not resolved or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        hint = f" (set by {CHROMIUM_ENV})" if os.environ.get(CHROMIUM_ENV) else ""
        raise BrowserUnavailable(f"Chromium not found at {path}{hint}: {INSTALL_CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise BrowserUnavailable(
            f"Playwright for Python is not installed ({exc}): {INSTALL_PLAYWRIGHT}"
        ) from exc
    return resolved


# Playwright's sync API allows one driver per thread: sessions in a thread share it (counted).
_PLAYWRIGHT = threading.local()


def _acquire_playwright() -> Playwright:
    from playwright.sync_api import sync_playwright

    if getattr(_PLAYWRIGHT, "users", 0) == 0:
        _PLAYWRIGHT.pw = sync_playwright().start()
        _PLAYWRIGHT.users = 0
    _PLAYWRIGHT.users += 1
    return cast("Playwright", _PLAYWRIGHT.pw)


def _release_playwright() -> None:
    _PLAYWRIGHT.users -= 1
    if _PLAYWRIGHT.users == 0:
        pw, _PLAYWRIGHT.pw = _PLAYWRIGHT.pw, None
        pw.stop()


class BrowserSession:
    """One headless Chromium, reused for several reads; each read gets a fresh context and connections.

    ``http="h1"`` starts Chromium with HTTP/2 disabled (a browser cannot be told to require HTTP/2:
    the judge checks the protocol it got instead). ``extra_args`` are more Chromium switches, e.g.
    ``--origin-to-force-quic-on=HOST:PORT`` (then QUIC stays on).
    """

    def __init__(
        self, *, http: HttpChoice = "auto", executable: str | None = None, extra_args: Sequence[str] = ()
    ) -> None:
        if http not in ("auto", "h1", "h2"):
            raise InvalidRequest(f"http must be auto, h1 or h2, got {http!r}")
        self.http: SessionHttp = "h1" if http == "h1" else "auto"
        self.executable = executable or check_browser()
        self.extra_args = tuple(extra_args)
        self._pw: Playwright | None = None
        self._browser: Browser | None = None

    def __enter__(self) -> BrowserSession:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        if self._browser is not None:
            return
        args = list(CHROMIUM_ARGS)
        if self.http == "h1":
            args.append(DISABLE_HTTP2_ARG)
        if any(a.startswith(FORCE_QUIC_ARG) for a in self.extra_args):
            args.remove("--disable-quic")
        args += self.extra_args
        pw = _acquire_playwright()
        try:
            # Playwright gives launch() a fresh temporary --user-data-dir and deletes it on close.
            self._browser = pw.chromium.launch(
                executable_path=self.executable, headless=True, args=args, chromium_sandbox=False
            )
        except BaseException:
            _release_playwright()
            raise
        self._pw = pw

    def close(self) -> None:
        browser, pw = self._browser, self._pw
        self._browser = self._pw = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if pw is not None:
                _release_playwright()

    def read(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        max_duration: float = 60.0,
        max_event_bytes: int = 1 << 20,
        excerpt_chars: int = 200,
        insecure: bool = False,
        method: str = "GET",
        body: str | None = None,
    ) -> BrowserRead:
        """Read ``url`` the way a page does (``fetch`` with ``method`` and ``body``) and return what it
        saw. Never raises for network problems."""
        if timeout <= 0 or max_duration <= 0 or max_event_bytes <= 0:
            raise InvalidRequest("timeout, max_duration and max_event_bytes must be positive")
        self.start()
        assert self._browser is not None
        context = self._browser.new_context(ignore_https_errors=insecure, service_workers="block")
        try:
            return read_page(
                context.new_page(),
                url,
                headers=dict(headers or {}),
                timeout=timeout,
                max_duration=max_duration,
                max_event_bytes=max_event_bytes,
                excerpt_chars=excerpt_chars,
                method=method,
                body=body,
            )
        finally:
            context.close()
