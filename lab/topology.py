"""The lab's topology: which processes run, on which ports, and the paths a probe can take through them.

```
direct             client ──────────────────────────────────────────────────────────▶ app (uvicorn)
seed-nginx         client ──────────────────────────────────▶ seed nginx ───────────▶ app
alb-like-h2        client ══TLS h2/h1══▶ nginx (ALB stand-in) ─▶ seed nginx ─────────▶ app
nlb-like           client ══TLS h1═════▶ haproxy tcp (L4) ─────▶ seed nginx ─────────▶ app
cloudfront-like    client ══TLS h2/h1══▶ haproxy http ─────────▶ seed nginx ─────────▶ app
compression-fault  client ──────────────────────────────────▶ seed nginx ───────────▶ app + gzip holding SSE
buffering-nginx    client ──────────────────────────────────▶ nginx gzip+buffering ─▶ app
tls-nginx-defaults client ══TLS h2/h1══▶ nginx proxy_buffering on ─▶ seed nginx ─────▶ app
caddy-h3           client ══TLS h3/h2/h1═▶ caddy (QUIC on UDP too) ──────────────────▶ app
caddy-h3-buffering client ══TLS h3/h2/h1═▶ caddy ──────────▶ nginx gzip+buffering ──▶ app
apigw-buffered     client ──────────────────────────────────▶ API Gateway stand-in ─▶ app  (BUFFERED)
apigw-stream       client ──────────────────────────────────▶ API Gateway stand-in ─▶ app  (STREAM)
```

The API Gateway stand-ins (``lab.apigw_proxy``) act as a REST API's HTTP_PROXY integration in each
response transfer mode: ``BUFFERED`` holds the whole response, ``STREAM`` forwards each piece and cuts a
stream silent for ``APIGW_IDLE_TIMEOUT_S`` (API Gateway: 30 s edge-optimized, 5 min Regional; a few
seconds here, so the idle row's slow stream crosses it quickly).

The chat rows (``Lab.chat_paths``) read the app's own chat stream (no ``X-Accel-Buffering``, stamped by
``StampMiddleware`` when asked) through ``direct``, ``compression-fault``, ``buffering-nginx`` and one
more hop that only they use::

block-proxy        client ──────────────────────────────────▶ block proxy (4 KiB) ──▶ app

The upgrade row (``Lab.no_upgrade``) reads SSE and the WebSocket through the seed nginx's location as the
seed wrote it, without ``proxy_set_header Upgrade``/``Connection``::

nginx-no-upgrade   client ──────────────────────────────────▶ seed nginx (no Upgrade) ▶ app

Every other nginx passes upgrades (``lab.configs.UPGRADE_MAP``), so the WebSocket column is measured
through each path's own hops.

The load row (``Lab.capped``) opens many streams at once (``streamprobe load``) through a hop that serves
at most ``CAPPED_MAXCONN`` of them at a time (fewer than the doctor's few streams at once, so the doctor and
trace name it too)::

capped-haproxy     client ──────────────────────────────────▶ haproxy maxconn 2 ────▶ app
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from lab import configs
from lab.caddy import CaddySite, caddy_process
from lab.certs import TlsFiles, make_tls
from lab.procs import LabError, ManagedProcess, PortConflict, free_ports

#: The checkout: the block proxy runs as ``python -m lab.block_proxy`` from its own directory.
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LabPath:
    """One way through the lab to the reference app's ``/api/`` routes."""

    name: str
    base_url: str  # ends with /api
    hops: str
    stands_for: str
    tls: bool  # TLS paths are probed over HTTP/1.1 and with h2 offered; cleartext ones over HTTP/1.1 only
    offers_h2: bool
    offers_h3: bool = False  # HTTP/3 over QUIC on the same port number (UDP), advertised with Alt-Svc
    #: An upgrade to a WebSocket passes. Not through the API Gateway stand-ins: a REST API has no
    #: WebSocket (API Gateway's WebSocket APIs are another API type, with their own routes and integrations).
    offers_websocket: bool = True

    def chat_url(self, tokens: int, interval_ms: int) -> str:
        """The reference app's chat stream (``data: {"token": ...}`` events, no send times of its own)."""
        return f"{self.base_url}/chat/stream?tokens={tokens}&interval_ms={interval_ms}"

    def websocket_url(self, events: int, interval_ms: int) -> str:
        """The same streamcheck events over the path's WebSocket (ws:// or wss://, an HTTP/1.1 upgrade)."""
        base = (
            "wss" + self.base_url.removeprefix("https")
            if self.tls
            else "ws" + self.base_url.removeprefix("http")
        )
        return f"{base}/streamcheck/ws?events={events}&interval_ms={interval_ms}"

    def streamcheck_url(self, events: int, interval_ms: int, pad: int = 0, nonce: str | None = None) -> str:
        url = f"{self.base_url}/streamcheck?events={events}&interval_ms={interval_ms}"
        if pad:
            url += f"&pad={pad}"
        if nonce:
            url += f"&nonce={nonce}"
        return url


PATH_NAMES = (
    "direct",
    "seed-nginx",
    "alb-like-h2",
    "nlb-like",
    "cloudfront-like",
    "compression-fault",
    "buffering-nginx",
    "tls-nginx-defaults",
    "caddy-h3",
    "caddy-h3-buffering",
    "apigw-buffered",
    "apigw-stream",
)
#: The paths the chat rows read, in order: streamed, held by the app's own compression middleware, held by
#: a buffering nginx (X-Accel ignored), forwarded in 4 KiB blocks.
#: Streams the capped hop serves at once (the load row opens more than this).
CAPPED_MAXCONN = 2
#: The STREAM stand-in's idle timeout: a few seconds, where API Gateway's are 30 s (edge-optimized) and
#: 5 min (Regional).
APIGW_IDLE_TIMEOUT_S = 2.0
CHAT_PATH_NAMES = ("direct", "compression-fault", "buffering-nginx", "block-proxy")
BLOCK_BYTES = 4096


def find_binary(name: str) -> str:
    """A system binary, also where a non-root PATH leaves out /usr/sbin."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")
    if not found:
        raise LabError(f"{name} is not installed: run `scripts/bootstrap.sh apt` (scripts/apt-packages.txt)")
    return found


class Lab:
    """Start every component on free loopback ports in its own temporary directory; stop them all.

    Use as a context manager. ``stop()`` is idempotent and also registered with ``atexit``; the CLI turns
    SIGTERM/SIGHUP into a normal exit so the same clean-up runs.
    """

    def __init__(self, workdir: Path | None = None, keep_workdir: bool = False) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="streampath-lab-")) if workdir is None else workdir
        self.keep_workdir = keep_workdir
        self.processes: list[ManagedProcess] = []
        self.paths: dict[str, LabPath] = {}
        self.chat_paths: dict[str, LabPath] = {}  # CHAT_PATH_NAMES
        self.capped: LabPath | None = None  # the load row's concurrency-capped hop
        self.no_upgrade: LabPath | None = None  # the upgrade row's nginx, which drops WebSocket upgrades
        self.tls: TlsFiles | None = None
        self._lock = threading.Lock()
        self._stopped = False

    # ---- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 20.0, attempts: int = 3) -> None:
        """Start every component; a port taken between choosing and binding it means fresh ports."""
        atexit.register(self.stop)
        try:
            for attempt in range(1, attempts + 1):
                try:
                    self._start(timeout)
                    return
                except PortConflict:
                    self._stop_processes()
                    self.processes = []
                    if attempt == attempts:
                        raise
        except BaseException:
            self.stop()
            raise

    def _stop_processes(self) -> None:
        """Stop every component, even when stopping one of them fails or is interrupted."""
        failure: BaseException | None = None
        for proc in reversed(self.processes):
            try:
                proc.stop()
            except BaseException as exc:  # a second Ctrl-C: still stop the others, then re-raise
                failure = failure or exc
                with contextlib.suppress(Exception):
                    proc.stop(grace=0.5)
        if failure is not None:
            raise failure

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            self._stop_processes()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self._own_workdir and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    # ---- components ------------------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _uvicorn(self, name: str, target: str, port: int, factory: bool = False) -> ManagedProcess:
        tmp = self._dir(name)
        argv = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "1"]
        if factory:
            argv.append("--factory")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        return ManagedProcess(name, argv, log_path=tmp / "uvicorn.log", ports=[port], cwd=tmp, env=env)

    def _nginx(self, name: str, config: str, ports: list[int]) -> ManagedProcess:
        tmp = self._dir(name)
        conf = tmp / "nginx.conf"
        conf.write_text(config)
        argv = [find_binary("nginx"), "-p", f"{tmp}/", "-c", str(conf), "-e", str(tmp / "error.log")]
        return ManagedProcess(name, argv, log_path=tmp / "stderr.log", ports=ports, cwd=tmp)

    def _python_proxy(self, name: str, module: str, port: int, upstream: int, *args: str) -> ManagedProcess:
        """One of the lab's own proxies (``python -m lab.<module>``), run from the checkout."""
        tmp = self._dir(name)
        argv = [
            sys.executable,
            "-m",
            f"lab.{module}",
            "--port",
            str(port),
            "--upstream",
            str(upstream),
            *args,
        ]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        return ManagedProcess(name, argv, log_path=tmp / f"{name}.log", ports=[port], cwd=tmp, env=env)

    def _haproxy(self, name: str, config: str, port: int) -> ManagedProcess:
        tmp = self._dir(name)
        conf = tmp / "haproxy.cfg"
        conf.write_text(config)
        argv = [find_binary("haproxy"), "-db", "-f", str(conf)]
        return ManagedProcess(name, argv, log_path=tmp / "haproxy.log", ports=[port], cwd=tmp)

    def _start(self, timeout: float) -> None:
        self.tls = tls = make_tls(self._dir("tls"))
        names = (
            "app",
            "fault_app",
            "seed",
            "seed_fault",
            "seed_no_upgrade",
            "buffering",
            "alb",
            "alb_defaults",
            "nlb",
            "cloudfront",
            "caddy",
            "caddy_buffering",
            "block",
            "capped",
            "apigw_buffered",
            "apigw_stream",
        )
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        p = ports
        self.processes = [
            self._uvicorn("app", "streamcheck.reference_app:app", p["app"]),
            self._uvicorn("fault-app", "streamcheck.reference_app:create_gzip_sse_app", p["fault_app"], True),
            self._nginx(
                "seed-nginx",
                configs.nginx_seed(
                    self._dir("seed-nginx"),
                    port=p["seed"],
                    app_port=p["app"],
                    fault_port=p["seed_fault"],
                    fault_app_port=p["fault_app"],
                    no_upgrade_port=p["seed_no_upgrade"],
                ),
                [p["seed"], p["seed_fault"], p["seed_no_upgrade"]],
            ),
            self._nginx(
                "buffering-nginx",
                configs.nginx_buffering(self._dir("buffering-nginx"), port=p["buffering"], app_port=p["app"]),
                [p["buffering"]],
            ),
            self._nginx(
                "alb-like",
                configs.nginx_alb_like(
                    self._dir("alb-like"),
                    port=p["alb"],
                    defaults_port=p["alb_defaults"],
                    upstream_port=p["seed"],
                    tls=tls,
                ),
                [p["alb"], p["alb_defaults"]],
            ),
            self._haproxy(
                "nlb-like",
                configs.haproxy_nlb_like(port=p["nlb"], upstream_port=p["seed"], tls=tls),
                p["nlb"],
            ),
            self._haproxy(
                "cloudfront-like",
                configs.haproxy_cloudfront_like(port=p["cloudfront"], upstream_port=p["seed"], tls=tls),
                p["cloudfront"],
            ),
            caddy_process(
                find_binary("caddy"),
                self._dir("caddy"),
                [CaddySite(p["caddy"], p["app"]), CaddySite(p["caddy_buffering"], p["buffering"])],
                cert_pem=tls.cert_pem,
                key_pem=tls.key_pem,
            ),
            self._python_proxy(
                "block-proxy", "block_proxy", p["block"], p["app"], "--block", str(BLOCK_BYTES)
            ),
            self._haproxy(
                "capped-haproxy",
                configs.haproxy_capped(port=p["capped"], upstream_port=p["app"], maxconn=CAPPED_MAXCONN),
                p["capped"],
            ),
            self._python_proxy(
                "apigw-buffered", "apigw_proxy", p["apigw_buffered"], p["app"], "--mode", "buffered"
            ),
            self._python_proxy(
                "apigw-stream",
                "apigw_proxy",
                p["apigw_stream"],
                p["app"],
                "--mode",
                "stream",
                "--idle-timeout",
                str(APIGW_IDLE_TIMEOUT_S),
            ),
        ]
        for proc in self.processes:
            proc.launch()
        for proc in self.processes:
            proc.wait_ready(timeout)

        def http(port: int) -> str:
            return f"http://127.0.0.1:{port}/api"

        def https(port: int) -> str:
            return f"https://127.0.0.1:{port}/api"

        paths = [
            LabPath("direct", http(p["app"]), "app", "kubectl port-forward to the pod", False, False),
            LabPath(
                "seed-nginx",
                http(p["seed"]),
                "seed nginx -> app",
                "the pod's web nginx (proxy_buffering off)",
                False,
                False,
            ),
            LabPath(
                "alb-like-h2",
                https(p["alb"]),
                "nginx TLS h2 -> seed nginx -> app",
                "the ALB: HTTP/2 to the browser, HTTP/1.1 to the targets",
                True,
                True,
            ),
            LabPath(
                "nlb-like",
                https(p["nlb"]),
                "haproxy TLS (ALPN http/1.1) L4 -> seed nginx -> app",
                "the NLB front door: TLS listener, ALPN HTTP1Only, bytes passed through",
                True,
                False,
            ),
            LabPath(
                "cloudfront-like",
                https(p["cloudfront"]),
                "haproxy TLS h2 http -> seed nginx -> app",
                "CloudFront: no cache, no compression, HTTP/1.1 to the origin",
                True,
                True,
            ),
            LabPath(
                "compression-fault",
                http(p["seed_fault"]),
                "seed nginx -> app with gzip middleware",
                "the app behind a compression middleware that holds SSE (Starlette < 0.46 GZipMiddleware)",
                False,
                False,
            ),
            LabPath(
                "buffering-nginx",
                http(p["buffering"]),
                "nginx gzip + proxy_buffering on -> app",
                "an nginx with gzip on for text/event-stream and proxy_buffering on",
                False,
                False,
            ),
            LabPath(
                "tls-nginx-defaults",
                https(p["alb_defaults"]),
                "nginx TLS h2 (proxy_buffering on) -> seed nginx -> app",
                "a TLS-terminating nginx left at proxy defaults",
                True,
                True,
            ),
            LabPath(
                "caddy-h3",
                https(p["caddy"]),
                "caddy TLS h3/h2/h1 -> app",
                "CloudFront at http_version HTTP2_AND_3: h3 to browsers that switched, h1 to the origin",
                True,
                True,
                offers_h3=True,
            ),
            LabPath(
                "caddy-h3-buffering",
                https(p["caddy_buffering"]),
                "caddy TLS h3/h2/h1 -> nginx gzip + proxy_buffering on -> app",
                "the same HTTP/3 front before a buffering hop: h3 does not undo what a hop behind holds",
                True,
                True,
                offers_h3=True,
            ),
            LabPath(
                "apigw-buffered",
                http(p["apigw_buffered"]),
                "API Gateway stand-in (BUFFERED) -> app",
                "API Gateway whose HTTP_PROXY integration is left at ResponseTransferMode BUFFERED",
                False,
                False,
                offers_websocket=False,
            ),
            LabPath(
                "apigw-stream",
                http(p["apigw_stream"]),
                f"API Gateway stand-in (STREAM, idle {APIGW_IDLE_TIMEOUT_S:g} s) -> app",
                "an API Gateway REST API whose integration streams (ResponseTransferMode STREAM)",
                False,
                False,
                offers_websocket=False,
            ),
        ]
        self.paths = {path.name: path for path in paths}
        assert tuple(self.paths) == PATH_NAMES
        block = LabPath(
            "block-proxy",
            http(p["block"]),
            f"block proxy ({BLOCK_BYTES} B) -> app",
            "a proxy or sidecar that forwards the upstream only when its 4 KiB buffer is full",
            False,
            False,
        )
        every = {**self.paths, block.name: block}
        self.chat_paths = {name: every[name] for name in CHAT_PATH_NAMES}
        self.no_upgrade = LabPath(
            "nginx-no-upgrade",
            http(p["seed_no_upgrade"]),
            'seed nginx (Connection "", no Upgrade) -> app',
            "an nginx in front of a WebSocket without proxy_set_header Upgrade/Connection",
            False,
            False,
        )
        self.capped = LabPath(
            "capped-haproxy",
            http(p["capped"]),
            f"haproxy maxconn {CAPPED_MAXCONN} -> app",
            "a hop that serves a few streams at a time: ALB Target Optimizer maxConcurrency, uvicorn "
            "--limit-concurrency, a worker pool",
            False,
            False,
        )


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into SystemExit so context managers and atexit clean up (CLI only)."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
