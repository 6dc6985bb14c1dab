"""What to change, per cause (a diagnosis code) and per kind of hop: the doctor's and trace's "try:" lines.

Each fix has a stable ``id`` (``nginx.proxy_buffering_off``) a script or the lab can act on, the
``kind`` of hop it applies to, and the ``change`` as its user writes it. The kind of a trace hop is
told (``--kind NAME=KIND``) or guessed from its name (``ingress``, ``nginx``, ``alb``, ...); a hop of an
unknown kind gets the fixes of every kind that commonly causes what was diagnosed, most likely first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, get_args
from urllib.parse import urlsplit

from .diagnosis import DiagnosisCode
from .result import ErrorKind

HopKind = Literal[
    "app", "nginx", "ingress-nginx", "haproxy", "alb", "nlb", "cloudfront", "apigateway", "proxy"
]
HOP_KINDS: Final[tuple[HopKind, ...]] = get_args(HopKind)


@dataclass(frozen=True)
class Fix:
    id: str
    kind: HopKind
    change: str


@dataclass(frozen=True)
class HopFix:
    """A fix for one hop: ``hop`` is the trace hop's name, or the kind of hop for the doctor."""

    hop: str
    fix: Fix

    def to_dict(self) -> dict[str, str]:
        return {"hop": self.hop, "kind": self.fix.kind, "id": self.fix.id, "change": self.fix.change}

    def line(self) -> str:
        where = self.hop if self.hop == self.fix.kind else f"{self.hop} ({self.fix.kind})"
        return f"try: {where}: {self.fix.change}"


_FIXES: Final[tuple[Fix, ...]] = (
    # -- the application (Starlette / FastAPI) --------------------------------------------------------
    Fix(
        "app.starlette_gzip",
        "app",
        "Starlette/FastAPI GZipMiddleware: upgrade Starlette to >= 0.46 (it leaves text/event-stream "
        "uncompressed), or add the middleware only to the routes that do not stream",
    ),
    Fix(
        "app.compression_exclude",
        "app",
        "any other compressing middleware: exclude text/event-stream, or flush the compressor after "
        "every event (zlib Z_SYNC_FLUSH)",
    ),
    Fix(
        "app.send_each_event",
        "app",
        "send each event as it is produced (StreamingResponse over an async generator) and keep "
        "middleware that reads the whole body (BaseHTTPMiddleware, logging) off the streaming route",
    ),
    Fix(
        "app.heartbeat",
        "app",
        "send a heartbeat comment (': ping') more often than the shortest idle timeout on the path "
        "(nginx proxy_read_timeout 60 s, ALB idle 60 s, CloudFront origin read 30 s by default, "
        "API Gateway 30 s edge-optimized and 5 min Regional)",
    ),
    # -- nginx ----------------------------------------------------------------------------------------
    Fix(
        "nginx.proxy_buffering_off",
        "nginx",
        "proxy_buffering off; in the location that proxies the stream (or let the app's "
        "X-Accel-Buffering: no through: drop it from proxy_ignore_headers)",
    ),
    Fix(
        "nginx.gzip_types",
        "nginx",
        "take text/event-stream out of gzip_types (or gzip off; in that location): with "
        "proxy_buffering on, gzip holds the whole stream",
    ),
    Fix(
        "nginx.upstream_http11",
        "nginx",
        'proxy_http_version 1.1; and proxy_set_header Connection ""; (a kept-alive, chunked upstream)',
    ),
    Fix(
        "nginx.read_timeout",
        "nginx",
        "proxy_read_timeout above the stream's longest silence, e.g. 3600s (default 60s), with a "
        "heartbeat more often than that",
    ),
    Fix(
        "nginx.http1_to_clients",
        "nginx",
        "serve HTTP/1.1 to clients at this hop: listen ... ssl; without http2 "
        "(http2 off; on nginx >= 1.25.1)",
    ),
    # -- ingress-nginx --------------------------------------------------------------------------------
    Fix(
        "ingress-nginx.proxy_buffering",
        "ingress-nginx",
        'annotation nginx.ingress.kubernetes.io/proxy-buffering: "off" on the Ingress of the streaming route',
    ),
    Fix(
        "ingress-nginx.gzip_types",
        "ingress-nginx",
        'controller ConfigMap: gzip-types without text/event-stream (or use-gzip: "false")',
    ),
    Fix(
        "ingress-nginx.upstream_http11",
        "ingress-nginx",
        'annotation nginx.ingress.kubernetes.io/proxy-http-version: "1.1"',
    ),
    Fix(
        "ingress-nginx.read_timeout",
        "ingress-nginx",
        'annotations nginx.ingress.kubernetes.io/proxy-read-timeout: "3600" and '
        'nginx.ingress.kubernetes.io/proxy-send-timeout: "3600" (above the heartbeat interval)',
    ),
    Fix(
        "ingress-nginx.http1_to_clients",
        "ingress-nginx",
        'controller ConfigMap: use-http2: "false" (HTTP/1.1 to clients)',
    ),
    # -- HAProxy --------------------------------------------------------------------------------------
    Fix(
        "haproxy.http_no_delay",
        "haproxy",
        "option http-no-delay in the defaults or the backend of the stream (each chunk sent at once)",
    ),
    Fix(
        "haproxy.no_buffer_request",
        "haproxy",
        "no option http-buffer-request where the stream passes",
    ),
    Fix(
        "haproxy.compression",
        "haproxy",
        "leave text/event-stream out of 'compression type' (or drop 'compression algo') "
        "where the stream passes",
    ),
    Fix(
        "haproxy.http1_to_clients",
        "haproxy",
        "serve HTTP/1.1 to clients: bind ... alpn http/1.1",
    ),
    Fix(
        "haproxy.timeouts",
        "haproxy",
        "timeout server (and timeout tunnel) above the stream's longest silence",
    ),
    # -- AWS: ALB (AWS Load Balancer Controller), NLB, CloudFront; the YAML keys are streampath's ------
    Fix(
        "alb.http2_off",
        "alb",
        "`streampath alb-fix`: the AWS Load Balancer Controller annotation "
        "alb.ingress.kubernetes.io/load-balancer-attributes: routing.http2.enabled=false,"
        "idle_timeout.timeout_seconds=3600 (browsers then use HTTP/1.1: at most 6 streams per origin)",
    ),
    Fix(
        "alb.use_nlb",
        "alb",
        "serve the stream through streampath's NLB front door (nlb.listener.alpn_policy: HTTP1Only) "
        "or CloudFront instead of the ALB",
    ),
    Fix(
        "alb.idle_timeout",
        "alb",
        "`streampath alb-fix --idle-timeout S`: idle_timeout.timeout_seconds above the heartbeat interval",
    ),
    Fix(
        "nlb.alpn_http1",
        "nlb",
        "nlb.listener.alpn_policy: HTTP1Only in config/<env>.yaml (the TLS listener offers HTTP/1.1 only)",
    ),
    Fix(
        "cloudfront.http_version_http1",
        "cloudfront",
        "cloudfront.http_version: HTTP1_1 in config/<env>.yaml (viewers then use HTTP/1.1)",
    ),
    Fix(
        "cloudfront.http_version_http2",
        "cloudfront",
        "cloudfront.http_version: HTTP2 in config/<env>.yaml (stop advertising HTTP/3 to browsers)",
    ),
    Fix(
        "cloudfront.no_cache_no_compress",
        "cloudfront",
        "the streaming behaviour: cache policy CachingDisabled and Compress off "
        "(streampath_cdk.StreamingDistribution sets both; cloudfront.streaming_path_patterns must match)",
    ),
    Fix(
        "cloudfront.read_timeout",
        "cloudfront",
        "cloudfront.origin.read_timeout_seconds in config/<env>.yaml above the heartbeat interval "
        "(CloudFront cuts an origin silent that long between packets)",
    ),
    Fix(
        "apigateway.stream_mode",
        "apigateway",
        "set the integration's response transfer mode to STREAM (CloudFormation ResponseTransferMode: "
        "STREAM on the HTTP_PROXY or AWS_PROXY integration; streampath_cdk.StreamingRestApi sets it): "
        "BUFFERED, the default, holds the whole response",
    ),
    Fix(
        "apigateway.regional_endpoint",
        "apigateway",
        "apigateway.endpoint_type: regional in config/<env>.yaml (a Regional endpoint cuts a silent stream "
        "after 5 min, an edge-optimized one after 30 s), and heartbeat more often than that",
    ),
    # -- concurrency caps: a stream holds its slot for its whole length --------------------------------
    Fix(
        "alb.target_optimizer_max_concurrency",
        "alb",
        "ALB Target Optimizer: raise maxConcurrency (the agent's per-target cap, default 1) to the streams "
        "one target serves at once, or keep streaming targets in a target group without a "
        "TargetControlPort; watch TargetControlRequestRejectCount",
    ),
    Fix(
        "haproxy.maxconn",
        "haproxy",
        "raise the server line's maxconn (and the frontend's/global maxconn) to the streams the backend "
        "serves at once: each open stream holds a connection slot for its whole length",
    ),
    Fix(
        "app.uvicorn_limit_concurrency",
        "app",
        "uvicorn --limit-concurrency N refuses or queues connections beyond N: raise it to the streams a "
        "worker holds open at once (or drop it and bound work elsewhere)",
    ),
    Fix(
        "app.gunicorn_workers",
        "app",
        "gunicorn: use the uvicorn worker class (-k uvicorn.workers.UvicornWorker), not sync workers that "
        "hold one stream each; with threads (gthread) raise --threads, or raise --workers",
    ),
    # -- WebSockets: the upgrade's headers are hop-by-hop, so a proxy passes them only when told ---------
    Fix(
        "nginx.websocket_upgrade",
        "nginx",
        "in the location of the WebSocket: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
        "proxy_set_header Connection $connection_upgrade; with map $http_upgrade $connection_upgrade "
        "{ default upgrade; '' ''; } in http {} (SSE keeps its kept-alive upstream), and proxy_read_timeout "
        "above the socket's longest silence",
    ),
    Fix(
        "proxy.websocket_upgrade",
        "proxy",
        "pass the request's Upgrade and Connection headers (hop-by-hop: dropped unless told) and the 101 "
        "answer through this hop, over HTTP/1.1 to the upstream",
    ),
    # -- any other proxy ------------------------------------------------------------------------------
    Fix(
        "proxy.no_h3",
        "proxy",
        "stop advertising HTTP/3 at this hop (no h3 in Alt-Svc; Caddy: servers { protocols h1 h2 })",
    ),
    Fix(
        "proxy.flush",
        "proxy",
        "turn response buffering off for text/event-stream at this hop (flush every chunk), and keep "
        "compression off for it",
    ),
)
FIXES: Final[dict[str, Fix]] = {f.id: f for f in _FIXES}

#: A stream cut by a silence: every hop's idle timeout, and the heartbeat that keeps it open.
_SILENCE: Final[dict[HopKind, tuple[str, ...]]] = {
    "app": ("app.heartbeat",),
    "nginx": ("nginx.read_timeout",),
    "ingress-nginx": ("ingress-nginx.read_timeout",),
    "haproxy": ("haproxy.timeouts",),
    "alb": ("alb.idle_timeout",),
    "cloudfront": ("cloudfront.read_timeout",),
    "apigateway": ("apigateway.regional_endpoint",),
}
#: Per cause: the fixes for each kind of hop, most likely first.
_BY_CAUSE: Final[dict[DiagnosisCode, dict[HopKind, tuple[str, ...]]]] = {
    "compression": {
        "app": ("app.starlette_gzip", "app.compression_exclude"),
        "nginx": ("nginx.gzip_types", "nginx.proxy_buffering_off"),
        "ingress-nginx": ("ingress-nginx.gzip_types", "ingress-nginx.proxy_buffering"),
        "haproxy": ("haproxy.compression",),
        "cloudfront": ("cloudfront.no_cache_no_compress",),
        "proxy": ("proxy.flush",),
    },
    "everything": {
        "nginx": (
            "nginx.proxy_buffering_off",
            "nginx.gzip_types",
            "nginx.upstream_http11",
            "nginx.read_timeout",
        ),
        "ingress-nginx": (
            "ingress-nginx.proxy_buffering",
            "ingress-nginx.gzip_types",
            "ingress-nginx.upstream_http11",
            "ingress-nginx.read_timeout",
        ),
        "haproxy": ("haproxy.http_no_delay", "haproxy.no_buffer_request", "haproxy.compression"),
        "app": ("app.send_each_event", "app.compression_exclude"),
        "alb": ("alb.use_nlb",),
        "cloudfront": ("cloudfront.no_cache_no_compress",),
        "apigateway": ("apigateway.stream_mode",),
        "proxy": ("proxy.flush",),
    },
    "h1_only": {
        "nginx": ("nginx.proxy_buffering_off", "nginx.upstream_http11"),
        "ingress-nginx": ("ingress-nginx.proxy_buffering", "ingress-nginx.upstream_http11"),
        "haproxy": ("haproxy.http_no_delay",),
        "proxy": ("proxy.flush",),
    },
    "h2_front": {
        "alb": ("alb.http2_off",),
        "nlb": ("nlb.alpn_http1",),
        "cloudfront": ("cloudfront.http_version_http1",),
        "ingress-nginx": ("ingress-nginx.http1_to_clients",),
        "nginx": ("nginx.http1_to_clients",),
        "haproxy": ("haproxy.http1_to_clients",),
    },
    "h3_front": {
        "cloudfront": ("cloudfront.http_version_http2",),
        "proxy": ("proxy.no_h3",),
    },
    "mixed": {
        "nginx": ("nginx.proxy_buffering_off", "nginx.gzip_types"),
        "ingress-nginx": ("ingress-nginx.proxy_buffering", "ingress-nginx.gzip_types"),
        "haproxy": ("haproxy.http_no_delay", "haproxy.compression"),
        "app": ("app.starlette_gzip", "app.send_each_event"),
        "proxy": ("proxy.flush",),
    },
    # A stream cut by a hop's idle timeout: the heartbeat first, then that hop's longer timeout.
    "idle_timeout": {kind: ("app.heartbeat", *ids) for kind, ids in _SILENCE.items() if kind != "app"},
}
#: Streams that queue behind a concurrency cap: the hops that commonly cap, most likely first.
CONCURRENCY_CAP_FIXES: Final[tuple[str, ...]] = (
    "alb.target_optimizer_max_concurrency",
    "haproxy.maxconn",
    "app.uvicorn_limit_concurrency",
    "app.gunicorn_workers",
)
#: A WebSocket upgrade that reached the service without its Upgrade header: the hops that drop it.
WEBSOCKET_UPGRADE_FIXES: Final[tuple[str, ...]] = ("nginx.websocket_upgrade", "proxy.websocket_upgrade")
#: Error kinds that mean the stream was cut by a silence somewhere on the path.
SILENCE_ERRORS: Final[frozenset[ErrorKind]] = frozenset({"stalled"})

_WORDS: Final[tuple[tuple[HopKind, frozenset[str]], ...]] = (
    ("ingress-nginx", frozenset({"ingress"})),
    ("nginx", frozenset({"nginx"})),
    ("haproxy", frozenset({"haproxy"})),
    ("alb", frozenset({"alb", "elb"})),
    ("nlb", frozenset({"nlb"})),
    ("cloudfront", frozenset({"cloudfront", "cdn", "cf"})),
    ("apigateway", frozenset({"apigateway", "apigw"})),
    ("app", frozenset({"app", "pod", "direct", "service", "svc", "uvicorn", "fastapi", "starlette"})),
)


#: Host names only one kind of hop serves (AWS's default names for an API and a distribution).
_HOSTS: Final[tuple[tuple[HopKind, re.Pattern[str]], ...]] = (
    ("apigateway", re.compile(r".+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")),
    ("cloudfront", re.compile(r".+\.cloudfront\.net")),
)


def kind_of(name: str, url: str | None = None) -> HopKind:
    """The kind of hop a name suggests (``in-cluster-nginx`` -> nginx, ``pod`` -> app, ``api-gateway``
    -> apigateway), else the kind the URL's host names (``*.execute-api.<region>.amazonaws.com``,
    ``*.cloudfront.net``), else ``proxy``."""
    words = set(re.split(r"[^a-z0-9]+", re.sub(r"api[-_.]gateway", "apigateway", name.lower())))
    for kind, names in _WORDS:
        if words & names:
            return kind
    host = (urlsplit(url).hostname or "").rstrip(".") if url is not None else ""
    for kind, pattern in _HOSTS:
        if pattern.fullmatch(host):
            return kind
    return "proxy"


def hop_kind(name: str | None) -> HopKind:
    """``name`` as a hop kind (a diagnosis's ``hop``), ``proxy`` when it names none."""
    return {str(kind): kind for kind in HOP_KINDS}.get(name or "", "proxy")


def fixes_for(
    code: DiagnosisCode, kind: HopKind = "proxy", hop: str | None = None, errors: Iterable[ErrorKind] = ()
) -> list[HopFix]:
    """The fixes for ``code`` at a hop of ``kind``; every kind's (most likely first) when the kind is
    unknown (``proxy``) or has none for that cause. ``errors``: the error kinds seen (a stream cut by a
    silence adds the timeout and heartbeat fixes)."""
    by_kind = _BY_CAUSE.get(code, {})
    ids: list[str] = []
    if kind != "proxy" and kind in by_kind:
        ids += by_kind[kind]
    elif by_kind:
        ids += [fid for kind_ids in by_kind.values() for fid in kind_ids]
    if SILENCE_ERRORS & set(errors):
        if kind != "proxy" and kind in _SILENCE:
            ids += _SILENCE[kind]
        else:
            ids += [fid for kind_ids in _SILENCE.values() for fid in kind_ids]
        ids.append("app.heartbeat")
    return [HopFix(hop or FIXES[fid].kind, FIXES[fid]) for fid in dict.fromkeys(ids)]


def websocket_upgrade_fixes() -> list[HopFix]:
    """The fixes for a proxy that dropped a WebSocket's upgrade, per kind of hop, most likely first."""
    return [HopFix(FIXES[fid].kind, FIXES[fid]) for fid in WEBSOCKET_UPGRADE_FIXES]


def concurrency_cap_fixes(kind: HopKind = "proxy", hop: str | None = None) -> list[HopFix]:
    """The fixes for streams that queue behind a concurrency cap, per kind of hop that caps: when the
    capping hop's ``kind`` is known, its own fixes first, named ``hop``; the others after, named by kind."""
    fixes = [FIXES[fid] for fid in CONCURRENCY_CAP_FIXES]
    own = [f for f in fixes if f.kind == kind]
    return [HopFix(hop or f.kind, f) for f in own] + [HopFix(f.kind, f) for f in fixes if f not in own]
