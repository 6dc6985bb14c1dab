"""Caddy as the lab's HTTP/3 front: TLS with the lab's certificate, h1 + h2 + h3, each site a reverse proxy.

Caddy 2.6 (Debian) is the one HTTP/3 server Debian ships (its nginx, haproxy and curl have none). It
serves HTTP/3 on the UDP port of the same number as each site's TCP port and advertises it on h1/h2
responses with ``Alt-Svc: h3=":<port>"``, as CloudFront does with ``http_version: HTTP2_AND_3``.

With a URL on an IP literal the client sends no SNI, so ``default_sni localhost`` picks the certificate;
a URL on ``localhost`` sends SNI as a CDN's clients do.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from lab.procs import ManagedProcess


@dataclass(frozen=True)
class CaddySite:
    """One HTTPS site: ``port`` (TCP and UDP) proxied to 127.0.0.1:``upstream_port`` over HTTP/1.1.

    ``h3_upstream_port``: HTTP/3 requests go there instead (Caddy's ``protocol http/3`` matcher): with a
    holding proxy there, the site stands for an HTTP/3 edge that buffers while its h1/h2 edge streams.
    """

    port: int
    upstream_port: int
    h3_upstream_port: int | None = None


def _proxy(upstream_port: int, matcher: str = "") -> str:
    return f"""	reverse_proxy {matcher}127.0.0.1:{upstream_port} {{
		flush_interval -1
	}}
"""


def caddyfile(tmp: Path, sites: Sequence[CaddySite], *, cert_pem: Path | str, key_pem: Path | str) -> str:
    """The Caddyfile: no admin endpoint, no automatic HTTPS (no ACME, no redirects), nothing outside ``tmp``.

    ``flush_interval -1`` makes ``reverse_proxy`` write every piece of the upstream's body at once, as a
    CDN forwarding a chunked response does; it is also what Caddy does by itself for
    ``text/event-stream``, so the row shows the protocol hop, not a setting.
    """
    blocks = ""
    for site in sites:
        h3_only = ""
        if site.h3_upstream_port is not None:
            h3_only = "\t@h3 protocol http/3\n" + _proxy(site.h3_upstream_port, "@h3 ")
        blocks += f"""
https://:{site.port} {{
	bind 127.0.0.1
	tls {cert_pem} {key_pem}
{h3_only}{_proxy(site.upstream_port)}}}
"""
    return f"""# rendered by lab/caddy.py
{{
	admin off
	auto_https off
	default_sni localhost
	grace_period 1s
	storage file_system {{
		root {tmp}/data
	}}
	servers {{
		protocols h1 h2 h3
	}}
	log {{
		output file {tmp}/caddy.log
		level WARN
	}}
}}
{blocks}"""


def quic_url(url: str) -> str:
    """The URL on ``localhost`` (a name, so Chromium sends SNI over QUIC) instead of 127.0.0.1."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"localhost:{parts.port}"))


def chromium_quic_args(urls: Sequence[str], cert_pem: Path | str) -> list[str]:
    """Chromium switches that read ``urls`` (see :func:`quic_url`) over HTTP/3, as a browser does once a
    CDN's Alt-Svc told it: QUIC forced on their origins, the lab's leaf certificate accepted by the hash
    of its public key (QUIC ignores the "accept any certificate" of a browser context), and ``localhost``
    mapped to 127.0.0.1 (Chromium would try ::1, where Caddy does not listen)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    leaf = x509.load_pem_x509_certificate(Path(cert_pem).read_bytes())
    spki = leaf.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    origins = ",".join(sorted({urlsplit(u).netloc for u in urls}))
    return [
        f"--origin-to-force-quic-on={origins}",
        f"--ignore-certificate-errors-spki-list={base64.b64encode(hashlib.sha256(spki).digest()).decode()}",
        "--host-resolver-rules=MAP localhost 127.0.0.1",
    ]


def udp_bound(port: int, host_hex: str = "0100007F") -> bool:
    """Whether a UDP socket is bound to 127.0.0.1:``port`` (Linux /proc; True where it cannot be read)."""
    try:
        rows = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return True
    local = f"{host_hex}:{port:04X}"
    return any(len(fields) > 1 and fields[1] == local for fields in (row.split() for row in rows))


def caddy_process(
    binary: str, tmp: Path, sites: Sequence[CaddySite], *, cert_pem: Path | str, key_pem: Path | str
) -> ManagedProcess:
    """Caddy with its config, data and logs in ``tmp``; ready when every site listens on TCP and UDP."""
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "Caddyfile"
    conf.write_text(caddyfile(tmp, sites, cert_pem=cert_pem, key_pem=key_pem))
    argv = [binary, "run", "--config", str(conf), "--adapter", "caddyfile"]
    # Caddy keeps state under $HOME / XDG directories: point them at the lab's directory.
    env = {
        "HOME": str(tmp),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "PATH": "/usr/bin:/bin",
    }
    ports = [site.port for site in sites]
    return ManagedProcess(
        "caddy",
        argv,
        log_path=tmp / "stderr.log",
        ports=ports,
        cwd=tmp,
        env=env,
        ready=lambda: all(udp_bound(p) for p in ports),
    )
