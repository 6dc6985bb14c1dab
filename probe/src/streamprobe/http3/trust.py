"""The server certificate check for QUIC, with the CA store loaded once per process.

aioquic checks the chain inside the handshake by loading the CA bundle anew for every connection
(about 7 ms of CPU for certifi's bundle): that would land in every HTTP/3 probe's ``tls`` phase, where
the TCP probes use a TLS context loaded once, before any clock. So aioquic is left to check the
handshake's own proof (the server's CertificateVerify signature over the handshake) and the probe
checks the certificate here -- validity dates, the name, the chain up to a trusted CA -- after the
handshake and before the request is sent: no request header leaves before the server is trusted.
"""

from __future__ import annotations

import functools
import ipaddress
from datetime import UTC, datetime

import certifi
import service_identity
from aioquic.quic.connection import QuicConnection
from cryptography import x509
from OpenSSL import crypto

from ..errors import sanitise
from ..exceptions import ProbeFailure


@functools.cache
def ca_store(cafile: str | None) -> crypto.X509Store:
    """The trusted CAs: ``cafile`` (``--cacert``), or certifi's bundle as httpx and aioquic use.

    Loaded once and shared: OpenSSL's store is read-only while certificates are verified against it.
    """
    store = crypto.X509Store()
    store.load_locations(cafile or certifi.where())
    return store


def _untrusted(where: str, reason: str) -> ProbeFailure:
    return ProbeFailure(
        "tls",
        f"TLS handshake with {where} over QUIC failed: certificate not trusted: {sanitise(reason, 160)}",
    )


def _check_name(certificate: x509.Certificate, server_name: str) -> None:
    try:
        ipaddress.ip_address(server_name)
    except ValueError:
        service_identity.cryptography.verify_certificate_hostname(certificate, server_name)
    else:
        service_identity.cryptography.verify_certificate_ip_address(certificate, server_name)


def check_peer(quic: QuicConnection, server_name: str, cafile: str | None, where: str) -> None:
    """ProbeFailure (kind ``tls``) unless the server's certificate is valid now, names
    ``server_name`` and chains up to a CA in :func:`ca_store`."""
    # aioquic keeps what the server sent with its TLS state (not a public API; pinned below 2).
    leaf: x509.Certificate | None = getattr(quic.tls, "_peer_certificate", None)
    chain: list[x509.Certificate] = list(getattr(quic.tls, "_peer_certificate_chain", []))
    if leaf is None:
        raise _untrusted(where, "the server sent no certificate")
    moment = datetime.now(UTC)
    if not leaf.not_valid_before_utc <= moment <= leaf.not_valid_after_utc:
        raise _untrusted(where, f"valid only from {leaf.not_valid_before_utc} to {leaf.not_valid_after_utc}")
    try:
        _check_name(leaf, server_name)
    except (service_identity.CertificateError, service_identity.VerificationError, ValueError) as exc:
        raise _untrusted(where, f"it is not for {server_name} ({exc})") from None
    context = crypto.X509StoreContext(
        ca_store(cafile),
        crypto.X509.from_cryptography(leaf),
        [crypto.X509.from_cryptography(c) for c in chain],
    )
    try:
        context.verify_certificate()
    except crypto.X509StoreContextError as exc:
        raise _untrusted(where, str(exc.args[0]) if exc.args else "chain not verified") from None
