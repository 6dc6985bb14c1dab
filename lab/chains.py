"""The lab's chains: the path from the problem we solve, hop by hop, healthy and with one fault each.

```
direct ──▶ nginx (in-cluster) ──▶ alb-like (nginx TLS, h2) ══▶ cloudfront-like (haproxy TLS, h2)
  app       proxy_buffering off    proxy_buffering off          HTTP/1.1 over TLS to the alb-like
```

Every chain has its own app and its own server block in each proxy, so a fault (and its fix) touches
one chain only. The faulty chains:

- ``compression``: the app's compression middleware holds SSE (Starlette < 0.46 ``GZipMiddleware``).
- ``nginx-buffering``: the in-cluster nginx at ``gzip on`` for ``text/event-stream`` and
  ``proxy_buffering on`` (ignoring the app's ``X-Accel-Buffering: no``).
- ``alb-defaults``: the ALB stand-in at nginx's proxy defaults (``proxy_buffering on`` with TLS: it holds
  HTTP/1.1 -- what CloudFront reads from its origin -- and streams HTTP/2).

A fix is applied where it belongs: the app is restarted with the fix, an nginx config is re-rendered
and nginx reloaded (gracefully: the other chains' streams go on).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from streamprobe.fixes import HopKind
from streamprobe.trace import Hop

from lab.configs import HAPROXY_HTTP_DEFAULTS, nginx_main
from lab.procs import LabError, ManagedProcess, _listening_inodes, free_ports
from lab.topology import Lab, find_binary

HOPS: Final = ("direct", "nginx", "alb-like", "cloudfront-like")
#: What each hop is in the lab (its fixes are that software's): the ALB and CloudFront stand-ins are an
#: nginx and a HAProxy.
HOP_KIND: Final[dict[str, HopKind]] = {
    "direct": "app",
    "nginx": "nginx",
    "alb-like": "nginx",
    "cloudfront-like": "haproxy",
}
HOP_STANDS_FOR: Final[dict[str, str]] = {
    "direct": "kubectl port-forward to the pod",
    "nginx": "the in-cluster nginx",
    "alb-like": "the ALB (an nginx: TLS, HTTP/2 to clients, HTTP/1.1 to its targets)",
    "cloudfront-like": "CloudFront (a HAProxy: TLS, HTTP/2 to viewers, HTTP/1.1 over TLS to its origin)",
}
HOLDING_APP: Final = "streamcheck.reference_app:create_gzip_sse_app"
FIXED_APP: Final = "lab.apps:create_starlette_gzip_app"
PLAIN_APP: Final = "streamcheck.reference_app:create_app"
ROOT: Final = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Faults:
    """The knobs a chain's faults (and their fixes) turn."""

    app_holds_gzip: bool = False  # direct: a compression middleware that holds SSE
    nginx_gzip_sse: bool = False  # nginx: gzip on, text/event-stream in gzip_types
    nginx_buffering: bool = False  # nginx: proxy_buffering on, X-Accel-Buffering ignored
    alb_buffering: bool = False  # alb-like: proxy_buffering on (a TLS nginx at defaults)


@dataclass(frozen=True)
class ChainSpec:
    name: str
    stands_for: str
    faults: Faults
    fault_hop: str | None  # where the fault is: the hop a trace must name


CHAINS: Final[tuple[ChainSpec, ...]] = (
    ChainSpec("healthy", "the path of the problem we solve, every hop set for streaming", Faults(), None),
    ChainSpec(
        "compression",
        "the app behind a compression middleware that holds SSE (Starlette < 0.46 GZipMiddleware)",
        Faults(app_holds_gzip=True),
        "direct",
    ),
    ChainSpec(
        "nginx-buffering",
        "an in-cluster nginx with gzip on for text/event-stream and proxy_buffering on",
        Faults(nginx_gzip_sse=True, nginx_buffering=True),
        "nginx",
    ),
    ChainSpec(
        "alb-defaults",
        "the ALB stand-in left at nginx's proxy defaults (proxy_buffering on, TLS)",
        Faults(alb_buffering=True),
        "alb-like",
    ),
)
CHAIN_NAMES: Final = tuple(c.name for c in CHAINS)


def _upstreams(prefix: str, ports: dict[str, int]) -> str:
    return "".join(
        f"    upstream {prefix}_{name.replace('-', '_')} {{ server 127.0.0.1:{port}; keepalive 8; }}\n"
        for name, port in ports.items()
    )


def nginx_in_cluster(tmp: Path, servers: dict[str, tuple[int, int, Faults]]) -> str:
    """The in-cluster nginx: per chain (listen port, app port, faults) one server block."""
    blocks = []
    for chain, (listen, _app, faults) in servers.items():
        gzip = (
            "        gzip on;\n"
            f"        gzip_types {'text/event-stream ' if faults.nginx_gzip_sse else ''}application/json;\n"
            "        gzip_proxied any;\n"
        )
        ignore = "            proxy_ignore_headers X-Accel-Buffering;\n" if faults.nginx_buffering else ""
        blocks.append(
            f"""
    server {{
        listen 127.0.0.1:{listen};
{gzip}        location /api/ {{
            proxy_pass http://app_{chain.replace("-", "_")};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering {"on" if faults.nginx_buffering else "off"};
{ignore}            proxy_read_timeout 3600s;
        }}
    }}"""
        )
    upstreams = _upstreams("app", {chain: app for chain, (_listen, app, _f) in servers.items()})
    return nginx_main(tmp, upstreams + "".join(blocks))


def nginx_alb_like(tmp: Path, servers: dict[str, tuple[int, int, Faults]], cert: Path, key: Path) -> str:
    """The ALB stand-in: per chain (listen port, in-cluster nginx port, faults) a TLS server, h2 and
    HTTP/1.1 to clients, HTTP/1.1 to the in-cluster nginx; it ignores X-Accel-Buffering as the ALB does."""
    blocks = [
        f"""
    server {{
        listen 127.0.0.1:{listen} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            proxy_pass http://nginx_{chain.replace("-", "_")};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering {"on" if faults.alb_buffering else "off"};
            proxy_ignore_headers X-Accel-Buffering;
            proxy_read_timeout 60s;
        }}
    }}"""
        for chain, (listen, _up, faults) in servers.items()
    ]
    upstreams = _upstreams("nginx", {chain: up for chain, (_listen, up, _f) in servers.items()})
    return nginx_main(tmp, upstreams + "".join(blocks))


def haproxy_cloudfront_like(servers: dict[str, tuple[int, int]], combined: Path, ca: Path) -> str:
    """The CloudFront stand-in: per chain (listen port, alb-like port) a TLS frontend (h2, HTTP/1.1) and
    an origin over TLS (HTTP/1.1, certificate checked), no cache, no compression, each chunk at once."""
    sections = [
        f"""frontend cf_{chain}
    bind 127.0.0.1:{listen} ssl crt {combined} alpn h2,http/1.1
    default_backend origin_{chain}
backend origin_{chain}
    http-reuse safe
    server alb 127.0.0.1:{origin} ssl verify required ca-file {ca} sni str(localhost)
"""
        for chain, (listen, origin) in servers.items()
    ]
    return "# rendered by lab/chains.py\n" + HAPROXY_HTTP_DEFAULTS + "".join(sections)


def _holds_any(pid: int, inodes: set[str]) -> bool:
    """Whether process ``pid`` still has one of these socket inodes open."""
    try:
        return any(
            os.readlink(fd).removeprefix("socket:[").removesuffix("]") in inodes
            for fd in Path(f"/proc/{pid}/fd").iterdir()
        )
    except OSError:
        return False


def _children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid``: pid -> command line (nginx sets it to the worker's state)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != pid or fields[0] == "Z":
                continue
            found[int(entry.name)] = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except (OSError, IndexError, ValueError):
            continue
    return found


class ChainLab(Lab):
    """The chains' processes on free loopback ports; ``set_faults`` re-renders and reloads what changed."""

    def __init__(self, workdir: Path | None = None, keep_workdir: bool = False) -> None:
        super().__init__(workdir, keep_workdir)
        self.faults: dict[str, Faults] = {c.name: c.faults for c in CHAINS}
        self.ports: dict[str, dict[str, int]] = {}  # chain -> hop -> port
        self.components: dict[str, ManagedProcess] = {}
        self._reconfigure = threading.Lock()

    # ---- rendering -------------------------------------------------------------------------------
    def _app(self, chain: str) -> ManagedProcess:
        faults = self.faults[chain]
        spec = next(c for c in CHAINS if c.name == chain)
        target = (
            HOLDING_APP if faults.app_holds_gzip else FIXED_APP if spec.faults.app_holds_gzip else PLAIN_APP
        )
        proc = self._uvicorn(f"chain-{chain}-app", target, self.ports[chain]["direct"], factory=True)
        # lab.apps is imported from the repository, whatever directory uvicorn runs in
        env = dict(proc.env or os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        proc.env = env
        return proc

    def _nginx_config(self) -> str:
        servers = {c: (p["nginx"], p["direct"], self.faults[c]) for c, p in self.ports.items()}
        return nginx_in_cluster(self._dir("chain-nginx"), servers)

    def _alb_config(self) -> str:
        assert self.tls is not None
        servers = {c: (p["alb-like"], p["nginx"], self.faults[c]) for c, p in self.ports.items()}
        return nginx_alb_like(self._dir("chain-alb"), servers, self.tls.cert_pem, self.tls.key_pem)

    def _start(self, timeout: float) -> None:
        from lab.certs import make_tls

        self.tls = tls = make_tls(self._dir("tls"))
        ports = iter(free_ports(len(CHAINS) * len(HOPS)))
        self.ports = {c.name: {hop: next(ports) for hop in HOPS} for c in CHAINS}
        cf = {c: (p["cloudfront-like"], p["alb-like"]) for c, p in self.ports.items()}
        self.components = {f"app:{c}": self._app(c) for c in self.ports}
        self.components["nginx"] = self._nginx(
            "chain-nginx", self._nginx_config(), [p["nginx"] for p in self.ports.values()]
        )
        self.components["alb-like"] = self._nginx(
            "chain-alb", self._alb_config(), [p["alb-like"] for p in self.ports.values()]
        )
        tmp = self._dir("chain-cloudfront")
        (tmp / "haproxy.cfg").write_text(haproxy_cloudfront_like(cf, tls.combined_pem, tls.ca_pem))
        self.components["cloudfront-like"] = ManagedProcess(
            "chain-cloudfront",
            [find_binary("haproxy"), "-db", "-f", str(tmp / "haproxy.cfg")],
            log_path=tmp / "haproxy.log",
            ports=[listen for listen, _origin in cf.values()],
            cwd=tmp,
        )
        self.processes = list(self.components.values())
        for proc in self.processes:
            proc.launch()
        for proc in self.processes:
            proc.wait_ready(timeout)

    # ---- the chains ------------------------------------------------------------------------------
    def hops(self, chain: str, events: int, interval_ms: int) -> list[Hop]:
        """The chain's hops from the application outward, as ``streamprobe trace`` takes them."""
        p = self.ports[chain]
        query = f"/api/streamcheck?events={events}&interval_ms={interval_ms}"
        scheme = {"direct": "http", "nginx": "http", "alb-like": "https", "cloudfront-like": "https"}
        return [Hop(hop, f"{scheme[hop]}://127.0.0.1:{p[hop]}{query}", HOP_KIND[hop]) for hop in HOPS]

    def config_text(self, hop: str) -> str:
        """The config a proxy hop runs now (what a fix re-rendered)."""
        name = {"nginx": "chain-nginx", "alb-like": "chain-alb"}[hop]
        return (self.workdir / name / "nginx.conf").read_text()

    def set_faults(self, chain: str, faults: Faults, timeout: float = 15.0) -> list[str]:
        """Make ``chain`` run with ``faults``: restart its app, or re-render and reload the nginx that
        changed. Returns what was done (one sentence per component)."""
        with self._reconfigure:
            before = self.faults[chain]
            self.faults[chain] = faults
            done = []
            if before.app_holds_gzip != faults.app_holds_gzip:
                done.append(self._restart_app(chain, timeout))
            if (before.nginx_gzip_sse, before.nginx_buffering) != (
                faults.nginx_gzip_sse,
                faults.nginx_buffering,
            ):
                done.append(self._reload("nginx", "chain-nginx", self._nginx_config(), timeout))
            if before.alb_buffering != faults.alb_buffering:
                done.append(self._reload("alb-like", "chain-alb", self._alb_config(), timeout))
            return done

    def _restart_app(self, chain: str, timeout: float) -> str:
        key = f"app:{chain}"
        old = self.components[key]
        old.stop()
        new = self._app(chain)
        new.start(timeout)
        self.components[key] = new
        self.processes[self.processes.index(old)] = new
        return f"restarted the app as {new.argv[new.argv.index('uvicorn') + 1]}"

    def _reload(self, hop: str, name: str, config: str, timeout: float) -> str:
        """Write the new config, check it (nginx -t), send SIGHUP, and wait until only new workers accept."""
        proc = self.components[hop]
        conf = self.workdir / name / "nginx.conf"
        conf.write_text(config)
        tmp = conf.parent
        check = subprocess.run(
            [
                find_binary("nginx"),
                "-t",
                "-q",
                "-p",
                f"{tmp}/",
                "-c",
                str(conf),
                "-e",
                str(tmp / "error.log"),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check.returncode != 0:
            raise LabError(f"{name}: the re-rendered config does not load: {check.stderr.strip()}")
        assert proc.pid is not None
        old = set(_children(proc.pid))
        listening = set().union(*(_listening_inodes(port) or set() for port in proc.ports))
        os.kill(proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = _children(proc.pid)
            fresh = set(now) - old
            # Old workers finish the streams they serve but have closed the listening sockets: the new
            # config is the only one a new connection can meet.
            if fresh and not any(_holds_any(pid, listening) for pid in set(now) & old):
                return f"re-rendered {name}/nginx.conf and reloaded nginx"
            time.sleep(0.05)
        raise LabError(f"{name}: nginx did not reload within {timeout:.0f} s")
