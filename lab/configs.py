"""The proxy configurations the lab runs, each one a stand-in for a hop of a production path.

Every config is rendered into the component's own temporary directory; nothing outside it is written.
Each function's docstring says what the config stands for and why it is set the way it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from lab.certs import TlsFiles

# The stand-ins for AWS front doors don't honour nginx's X-Accel-Buffering response header (the AWS
# services don't), so nginx-based stand-ins ignore it. Our seed nginx strips it anyway (proxy_hide_header
# default), so it only matters for an nginx that talks to the app directly.


#: nginx's documented WebSocket proxying (https://nginx.org/en/docs/http/websocket.html): ``Upgrade`` and
#: ``Connection`` are hop-by-hop, so nginx passes a client's upgrade only when told. With this map an
#: upgrade request gets ``Connection: upgrade`` upstream and every other request ``Connection: ""`` (the
#: kept-alive upstream SSE needs), so one location serves both. What a team switching to WebSockets
#: adds; ``nginx_seed``'s ``no_upgrade_port`` is the seed's location without it.
UPGRADE_MAP = """
    map $http_upgrade $connection_upgrade { default upgrade; '' ''; }"""
UPGRADE_HEADERS = """proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;"""
NO_UPGRADE_HEADERS = 'proxy_set_header Connection "";'


def nginx_main(tmp: Path, servers: str) -> str:
    """nginx as a non-daemon child: own pid/temp/log paths; ``user`` only when started as root."""
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""# rendered by lab/configs.py
{user}daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    server_tokens off;
{servers}
}}
"""


def nginx_seed(
    tmp: Path, *, port: int, app_port: int, fault_port: int, fault_app_port: int, no_upgrade_port: int
) -> str:
    """The seed's web nginx: ``location /api/`` with ``proxy_buffering off``, HTTP/1.1 keep-alive upstream.

    Three server blocks: ``port`` in front of the reference app, ``fault_port`` in front of the app variant
    whose compression middleware holds SSE (the compression-fault row: same nginx, faulty app), both passing
    WebSocket upgrades (``UPGRADE_MAP``); and ``no_upgrade_port``, the seed's location exactly as the seed
    wrote it (``Connection ""``, no ``Upgrade``): SSE streams, a WebSocket's upgrade never reaches the app.
    """

    def server(listen: int, upstream: str, headers: str) -> str:
        return f"""
    server {{
        listen 127.0.0.1:{listen};
        location /api/ {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            {headers}
            proxy_set_header Host $host;
            proxy_buffering off;
            proxy_read_timeout 3600s;
        }}
        location = /healthz {{ proxy_pass http://{upstream}; }}
    }}"""

    servers = f"""{UPGRADE_MAP}
    upstream app {{ server 127.0.0.1:{app_port}; keepalive 8; }}
    upstream fault_app {{ server 127.0.0.1:{fault_app_port}; keepalive 8; }}
{server(port, "app", UPGRADE_HEADERS)}
{server(fault_port, "fault_app", UPGRADE_HEADERS)}
{server(no_upgrade_port, "app", NO_UPGRADE_HEADERS)}"""
    return nginx_main(tmp, servers)


def nginx_buffering(tmp: Path, *, port: int, app_port: int) -> str:
    """A known buffering nginx: ``gzip on`` with ``text/event-stream`` in ``gzip_types`` and
    ``proxy_buffering on`` (measured: the whole stream is held until the end).

    NDJSON (``application/x-ndjson``, ``application/jsonl``) is in ``gzip_types`` too, the same fault for
    the other stream format: measured, ``proxy_buffering on`` alone forwards each upstream read at once
    (an NDJSON stream through this nginx without gzip for its type streamed, delay under 5 ms).

    It also ignores ``X-Accel-Buffering``: streamcheck sends ``X-Accel-Buffering: no``, which an nginx
    directly in front of the app would honour (turning buffering off, and gzip then flushes per chunk),
    so without this line the test stream would stream while an app stream without that header is held.
    """
    servers = f"""{UPGRADE_MAP}
    upstream app {{ server 127.0.0.1:{app_port}; keepalive 8; }}
    gzip on;
    gzip_types text/event-stream application/x-ndjson application/jsonl application/json;
    gzip_proxied any;
    server {{
        listen 127.0.0.1:{port};
        location /api/ {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            {UPGRADE_HEADERS}
            proxy_set_header Host $host;
            proxy_buffering on;
            proxy_ignore_headers X-Accel-Buffering;
            proxy_read_timeout 3600s;
        }}
    }}"""
    return nginx_main(tmp, servers)


def nginx_alb_like(tmp: Path, *, port: int, defaults_port: int, upstream_port: int, tls: TlsFiles) -> str:
    """ALB stand-in: TLS with HTTP/2 to clients (ALPN h2, http/1.1), HTTP/1.1 keep-alive to the seed nginx,
    forwarding as it arrives (``proxy_buffering off``), idle timeout 60 s like the ALB default.

    No AWS document says the ALB buffers; this is the documented-behaviour stand-in, so the row isolates
    the protocol hop (h2 to the client, h1 to the target). The real ALB is what the canary measures.

    A second server block on ``defaults_port`` is the same TLS front end with nginx's proxy defaults
    (``proxy_buffering on``): measured here, nginx then holds HTTP/1.1 responses in its TLS write buffer
    (``ssl_buffer_size``, 16 KiB) with no flush between events, while HTTP/2 clients get each event at
    once. A front end can stream one protocol and hold the other; that is why every path is probed twice.
    """

    def server(listen: int, buffering: str) -> str:
        return f"""
    server {{
        listen 127.0.0.1:{listen} ssl http2;
        ssl_certificate {tls.cert_pem};
        ssl_certificate_key {tls.key_pem};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            proxy_pass http://seed;
            proxy_http_version 1.1;
            {UPGRADE_HEADERS}
            proxy_set_header Host $host;
            proxy_buffering {buffering};
            proxy_ignore_headers X-Accel-Buffering;
            proxy_read_timeout 60s;
        }}
    }}"""

    servers = f"""{UPGRADE_MAP}
    upstream seed {{ server 127.0.0.1:{upstream_port}; keepalive 8; }}
{server(port, "off")}
{server(defaults_port, "on")}"""
    return nginx_main(tmp, servers)


def haproxy_nlb_like(*, port: int, upstream_port: int, tls: TlsFiles) -> str:
    """NLB stand-in: layer 4. TLS is terminated with ALPN ``http/1.1`` only (the NLB's ``HTTP1Only``
    policy) and the decrypted bytes are passed through to the seed nginx as they come; no HTTP parsing.
    TCP idle timeout 350 s, the NLB's fixed value on TLS listeners.
    """
    return f"""# rendered by lab/configs.py
global
    maxconn 512
defaults
    mode tcp
    timeout connect 5s
    timeout client 350s
    timeout server 350s
frontend nlb
    bind 127.0.0.1:{port} ssl crt {tls.combined_pem} alpn http/1.1
    default_backend pods
backend pods
    server seed 127.0.0.1:{upstream_port}
"""


#: HAProxy ``mode http`` defaults shared by the CloudFront stand-ins (here and in ``lab/chains.py``):
#: each chunk forwarded at once, CloudFront's 30 s origin read timeout.
HAPROXY_HTTP_DEFAULTS = """global
    maxconn 512
defaults
    mode http
    option http-no-delay
    timeout connect 5s
    timeout client 60s
    timeout server 30s
    timeout http-request 10s
"""


def haproxy_cloudfront_like(*, port: int, upstream_port: int, tls: TlsFiles) -> str:
    """CloudFront stand-in: an HTTP proxy with no cache (no ``cache`` section) and no compression (no
    ``compression`` directive), HTTP/2 or HTTP/1.1 to the viewer (ALPN h2, http/1.1), HTTP/1.1 to the
    origin (the seed nginx), origin read timeout 30 s (CloudFront's default, between packets).

    ``option http-no-delay``: CloudFront forwards a chunked response as it arrives, so the stand-in sends
    each chunk at once too. (HAProxy 2.6 at defaults has been reported to delay the first event by
    ~200 ms; in this lab, without the option, it streamed with 0.4-2 ms of buffering delay, so the option
    is belt and braces, not a fix for something reproduced here.)
    """
    return f"""# rendered by lab/configs.py
{HAPROXY_HTTP_DEFAULTS}frontend cloudfront
    bind 127.0.0.1:{port} ssl crt {tls.combined_pem} alpn h2,http/1.1
    default_backend origin
backend origin
    http-reuse safe
    server seed 127.0.0.1:{upstream_port}
"""


def haproxy_capped(*, port: int, upstream_port: int, maxconn: int) -> str:
    """A concurrency-capped hop: HAProxy forwarding over plain HTTP/1.1 to one server line with
    ``maxconn`` -- the shape of an ALB Target Optimizer's ``maxConcurrency``, uvicorn's
    ``--limit-concurrency`` or a worker pool. Streams beyond the cap wait in HAProxy's queue (``timeout
    queue``) until one ends, so each holds its slot for its whole length and first bytes come in steps;
    ``streamprobe load`` names the cap from them.
    """
    return f"""# rendered by lab/configs.py
{HAPROXY_HTTP_DEFAULTS}    timeout queue 60s
frontend capped
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server app 127.0.0.1:{upstream_port} maxconn {maxconn}
"""
