"""TLS material made at start: a throwaway CA and a certificate for 127.0.0.1 and localhost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TlsFiles:
    ca_pem: Path  # give this to the probe (verify=...)
    cert_pem: Path  # leaf + chain (nginx ssl_certificate)
    key_pem: Path  # nginx ssl_certificate_key
    combined_pem: Path  # chain + key in one file (haproxy crt)


def make_tls(directory: Path) -> TlsFiles:
    ca = trustme.CA(organization_name="streampath lab")
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(
        ca_pem=directory / "ca.pem",
        cert_pem=directory / "cert.pem",
        key_pem=directory / "key.pem",
        combined_pem=directory / "combined.pem",
    )
    ca.cert_pem.write_to_path(str(files.ca_pem))
    leaf.private_key_pem.write_to_path(str(files.key_pem))
    with files.cert_pem.open("wb") as f:
        for blob in leaf.cert_chain_pems:
            f.write(blob.bytes())
    with files.combined_pem.open("wb") as f:
        for blob in leaf.cert_chain_pems:
            f.write(blob.bytes())
        f.write(leaf.private_key_pem.bytes())
    for path in (files.key_pem, files.combined_pem):
        path.chmod(0o600)
    return files
