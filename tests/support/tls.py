"""Test TLS material from trustme: a throwaway CA and a server certificate for loopback names.

tls = make_tls(tmp_path)        # or the session-wide tls_files()
hypercorn_server(app, tls=tls)  # serve with it
httpx.Client(verify=tls.ca_pem) # trust it (a path: also what `streamprobe --cacert` takes)
"""

from __future__ import annotations

import functools
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TLSFiles:
    ca_pem: str  # the CA certificate: pass as verify= / --cacert
    cert_pem: str  # server certificate chain
    key_pem: str  # server private key

    def server_context(self, alpn: tuple[str, ...] = ("h2", "http/1.1")) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_pem, self.key_pem)
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_pem)


def make_tls(directory: str | Path, names: tuple[str, ...] = SERVER_NAMES) -> TLSFiles:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert(*names)
    ca_pem = directory / "ca.pem"
    cert_pem = directory / "server-chain.pem"
    key_pem = directory / "server-key.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    with cert_pem.open("wb") as f:
        for blob in cert.cert_chain_pems:
            f.write(blob.bytes())
    return TLSFiles(str(ca_pem), str(cert_pem), str(key_pem))


@functools.cache
def tls_files() -> TLSFiles:
    """One CA + certificate per test process (in a temporary directory removed at exit)."""
    holder = tempfile.TemporaryDirectory(prefix="streampath-tls-")
    _keep.append(holder)
    return make_tls(holder.name)


_keep: list[tempfile.TemporaryDirectory[str]] = []
