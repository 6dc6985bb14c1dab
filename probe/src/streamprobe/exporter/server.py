"""The exporter's HTTP server: ``/probe`` runs one probe, ``/metrics`` the exporter's own metrics.

Why a threaded server (the standard library's ``ThreadingHTTPServer``) and not asyncio: the probe is
blocking code by design -- its own socket backend, a watchdog thread that shuts sockets down at a
deadline, timings taken on the thread that reads -- so an event loop would only hand each probe to a
thread pool anyway, and would add a web framework to the probe's distribution. One thread per request
keeps ``/metrics`` and ``/`` answered while probes run: a probe never holds anything they need.
Probes are bounded by a semaphore (``--max-concurrent``): past it a scrape gets 503 at once instead of
queueing threads behind slow targets, and each probe is bounded in time by its module and by the
scrape's own timeout (``X-Prometheus-Scrape-Timeout-Seconds`` less an offset, as blackbox_exporter
does), so Prometheus gets an answer before it gives up.

What is logged or answered never repeats a target's credentials: such a target is refused before it
is parsed, and the server's access log shows the path without its query.
"""

from __future__ import annotations

import contextlib
import html
import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from .._version import package_version
from ..probing import probe
from ..redact import display_url
from ..result import VERDICTS
from . import DEFAULT_MAX_CONCURRENT
from .config import DEFAULT_MODULE, ExporterConfig, SecretUnavailable
from .metrics import Measured, exposition
from .targets import ProbeRefused, is_allowed, target_url

log = logging.getLogger("streamprobe.exporter")

#: Taken off Prometheus's scrape timeout, so the answer is on its way before Prometheus gives up
#: (blackbox_exporter's default --timeout-offset).
TIMEOUT_OFFSET_S: Final = 0.5
#: The shortest budget a probe gets, however short the scrape timeout.
MIN_BUDGET_S: Final = 0.1
SCRAPE_TIMEOUT_HEADER: Final = "X-Prometheus-Scrape-Timeout-Seconds"
#: Idle connections and slow request lines are dropped after this long.
REQUEST_READ_TIMEOUT_S: Final = 30.0
TEXT_PLAIN: Final = "text/plain; charset=utf-8"
#: Why a probe request was refused: the label values of ``streamprobe_exporter_refused_total``.
REFUSALS: Final = ("bad_request", "credentials", "not_allowed", "busy", "secret_unavailable")


@dataclass(frozen=True)
class Settings:
    config: ExporterConfig
    allow_targets: tuple[str, ...] = ()  # --allow-target patterns, added to the config's
    max_concurrent: int = DEFAULT_MAX_CONCURRENT

    @property
    def patterns(self) -> tuple[str, ...]:
        return self.allow_targets + self.config.allowed_targets


class OwnMetrics:
    """The exporter's own metrics (``/metrics``), in a registry of its own."""

    def __init__(self, settings: Settings) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        Info("streamprobe_exporter_build", "The exporter's version", registry=self.registry).info(
            {"version": package_version()}
        )
        self.probes = Counter(
            "streamprobe_exporter_probes",
            "Probes run, by module and verdict",
            ["module", "verdict"],
            registry=self.registry,
        )
        self.refused = Counter(
            "streamprobe_exporter_refused",
            "Probe requests refused before any connection, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "streamprobe_exporter_probes_in_flight", "Probes running now", registry=self.registry
        )
        Gauge(
            "streamprobe_exporter_max_concurrent_probes",
            "The bound on probes at once (--max-concurrent)",
            registry=self.registry,
        ).set(settings.max_concurrent)
        self.duration = Histogram(
            "streamprobe_exporter_probe_duration_seconds",
            "How long probes took, by module",
            ["module"],
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        for reason in REFUSALS:
            self.refused.labels(reason)
        for module in settings.config.modules:
            self.duration.labels(module)
            for verdict in VERDICTS:
                self.probes.labels(module, verdict)


class Exporter:
    """The state a request handler reads: settings, the probe slots and the exporter's own metrics."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.slots = threading.BoundedSemaphore(settings.max_concurrent)
        self.metrics = OwnMetrics(settings)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        if not self.slots.acquire(blocking=False):
            raise ProbeRefused(
                f"busy: {self.settings.max_concurrent} probes are running (--max-concurrent)", 503, "busy"
            )
        try:
            with self.metrics.in_flight.track_inprogress():
                yield
        finally:
            self.slots.release()

    def run_probe(self, query: str, scrape_timeout: str | None) -> bytes:
        """The exposition of one probe, or ProbeRefused (nothing was contacted then)."""
        params = parse_qs(query, keep_blank_values=True)
        unknown = sorted(set(params) - {"target", "module"})
        if unknown:
            raise ProbeRefused(
                f"unknown parameter {unknown[0][:40]!r} (known: target, module)", 400, "bad_request"
            )
        if len(params.get("target", [])) != 1 or len(params.get("module", [DEFAULT_MODULE])) != 1:
            raise ProbeRefused("give exactly one target= (and at most one module=)", 400, "bad_request")
        url = target_url(params["target"][0])
        module_name = params.get("module", [DEFAULT_MODULE])[0]
        module = self.settings.config.modules.get(module_name)
        if module is None:
            known = ", ".join(sorted(self.settings.config.modules))
            raise ProbeRefused(f"unknown module {module_name[:40]!r} (known: {known})", 400, "bad_request")
        budget = _budget(scrape_timeout)
        if not is_allowed(url, self.settings.patterns):
            raise ProbeRefused(
                f"target {display_url(url)[:200]!r} matches no allowed pattern "
                "(--allow-target, allowed_targets)",
                403,
                "not_allowed",
            )
        try:
            options = module.options(budget)
        except SecretUnavailable as exc:
            raise ProbeRefused(str(exc), 500, "secret_unavailable") from None
        with self.slot():
            started = time.perf_counter()
            try:
                result = probe(str(url), options)
            except ValueError as exc:  # an option or URL the probe cannot use; never a secret
                raise ProbeRefused(str(exc).splitlines()[0], 400, "bad_request") from None
            measured = Measured(result, time.perf_counter() - started)
        self.metrics.probes.labels(module.name, result.verdict).inc()
        self.metrics.duration.labels(module.name).observe(measured.duration_s)
        error = f" error={result.error.kind}: {result.error.message}" if result.error else ""
        log.info(
            "probe module=%s target=%s verdict=%s duration=%.3fs%s",
            module.name,
            result.url,
            result.verdict,
            measured.duration_s,
            error,
        )
        return exposition(measured)


def _budget(scrape_timeout: str | None) -> float | None:
    if scrape_timeout is None:
        return None
    try:
        seconds = float(scrape_timeout)
    except ValueError:
        raise ProbeRefused(
            f"{SCRAPE_TIMEOUT_HEADER} is not a number of seconds", 400, "bad_request"
        ) from None
    if not seconds > 0:
        raise ProbeRefused(f"{SCRAPE_TIMEOUT_HEADER} must be more than 0", 400, "bad_request")
    return max(MIN_BUDGET_S, seconds - TIMEOUT_OFFSET_S)


def _index_page() -> bytes:
    version = html.escape(package_version())
    return f"""<!doctype html>
<html><head><title>streamprobe exporter</title></head><body>
<h1>streamprobe exporter {version}</h1>
<p>Measures whether Server-Sent Events streams really stream, for Prometheus.</p>
<ul>
<li><code>/probe?target=URL&amp;module=NAME</code>: one probe of an allowed target,
in the Prometheus text format</li>
<li><a href="/metrics">/metrics</a>: the exporter's own metrics</li>
</ul>
</body></html>
""".encode()


class Handler(BaseHTTPRequestHandler):
    server: ExporterHTTPServer
    server_version = "streamprobe-exporter"
    protocol_version = "HTTP/1.1"
    timeout = REQUEST_READ_TIMEOUT_S

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        exporter = self.server.exporter
        if path == "/probe":
            try:
                body = exporter.run_probe(query, self.headers.get(SCRAPE_TIMEOUT_HEADER))
            except ProbeRefused as exc:
                exporter.metrics.refused.labels(exc.reason).inc()
                log.warning("refused (%s): %s", exc.reason, exc)
                self._reply(exc.status, TEXT_PLAIN, f"{exc}\n".encode())
                return
            except Exception as exc:  # a defect: still one line, and the exporter keeps serving
                log.error("probe failed unexpectedly: %s", type(exc).__name__)
                self._reply(500, TEXT_PLAIN, b"internal error: see the exporter's log\n")
                return
            self._reply(200, CONTENT_TYPE_PLAIN_0_0_4, body)
        elif path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._reply(200, content_type, encoder(exporter.metrics.registry))
        elif path == "/":
            self._reply(200, "text/html; charset=utf-8", _index_page())
        else:
            self._reply(404, TEXT_PLAIN, b"not found: try /probe?target=URL, /metrics or /\n")

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")  # a 403 repeats a URL: never run as HTML
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request line, a method other than GET) as one line,
        without repeating the request: it may carry a target's credentials."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # a line that did not parse: still answer with a status
            self.request_version = "HTTP/1.0"
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        log.warning("http %d %s", code, phrase)
        with contextlib.suppress(OSError):
            self._reply(code, TEXT_PLAIN, f"{code} {phrase}\n".encode())

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Before a request line parses there is no command or path.
        path = urlsplit(getattr(self, "path", "") or "").path
        log.debug("%s %s %s", getattr(self, "command", None) or "-", path or "-", code)

    def log_message(self, format: str, *args: object) -> None:
        """Nothing goes to stderr unasked: the request line may carry a target (see log_request)."""


class ExporterHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], exporter: Exporter) -> None:
        self.exporter = exporter
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class _ExporterHTTPServerV6(ExporterHTTPServer):
    address_family = socket.AF_INET6


def make_server(host: str, port: int, settings: Settings) -> ExporterHTTPServer:
    """A bound server (port 0: a free one); ``serve_forever()`` runs it, ``shutdown()`` stops it."""
    server_class = _ExporterHTTPServerV6 if ":" in host else ExporterHTTPServer
    return server_class((host, port), Exporter(settings))


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9116`` for IPv6) -> (host, port); ValueError with one line."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen expects HOST:PORT (e.g. 0.0.0.0:9116), got {text[:60]!r}")
    return host, int(port)


__all__: Sequence[str] = [
    "Exporter",
    "ExporterHTTPServer",
    "Settings",
    "make_server",
    "parse_listen",
]
