"""Which targets the exporter may probe: the allow-list, and the refusals that come before it.

An exporter that fetches any URL it is given is a server-side request forgery hole, so nothing is
contacted unless the target matches an allowed pattern. A pattern is a shell-style glob over the
whole URL (``https://*.svc.cluster.local:8080/*``), matched part by part: the scheme, the authority
(``host:port``) and the rest (path and query) each against their own part of the pattern, so a ``*``
can never reach from the path into the host (``http://evil.example/?.svc.cluster.local:8080/`` does not
match the pattern above, as it would under a plain ``fnmatch`` of the whole text). Host names compare
in lower case; a pattern without a port means the scheme's default port, as the URL does.

A target that carries credentials (``user:password@``) is refused before anything else, and no
message repeats it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import httpx

from ..redact import mask_url_text, userinfo_of

DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class ProbeRefused(ValueError):
    """A probe request the exporter will not run (nothing was contacted); ``status`` is the HTTP status
    to answer with, ``reason`` the label of the exporter's refusal counter."""

    def __init__(self, message: str, status: int, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class _Parts:
    scheme: str
    authority: str  # host:port, host in lower case (IPv6 in brackets)
    rest: str  # path and query, starting with "/"


def _split_pattern(pattern: str) -> _Parts:
    scheme, sep, tail = pattern.partition("://")
    if not sep:
        raise ValueError("a pattern starts with http:// or https://")
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"a pattern's scheme must be http or https, got {scheme[:20]!r}")
    cut = min((i for i in (tail.find("/"), tail.find("?")) if i >= 0), default=len(tail))
    authority, rest = tail[:cut].lower(), tail[cut:]
    if not authority or "@" in authority:
        raise ValueError("a pattern needs a host (and no user@)")
    if not _has_port(authority):
        authority = f"{authority}:{DEFAULT_PORTS[scheme]}"
    return _Parts(scheme, authority, rest if rest.startswith("/") else "/" + rest)


def _has_port(authority: str) -> bool:
    host_end = authority.rfind("]")  # an IPv6 literal's colons are not a port
    return ":" in authority[host_end + 1 :]


def check_pattern(pattern: str) -> str:
    """``pattern`` if it is usable, else ValueError saying why."""
    _split_pattern(pattern)
    return pattern


def target_url(raw: str) -> httpx.URL:
    """The target of ``/probe?target=``, checked: no credentials (refused without being repeated), an
    http(s) URL with a host. ProbeRefused otherwise."""
    if userinfo_of(raw) is not None:
        raise ProbeRefused("a target with credentials (user:password@) is refused", 403, "credentials")
    shown = mask_url_text(raw, 120)
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError):
        raise ProbeRefused(f"invalid target URL {shown!r}", 400, "bad_request") from None
    if url.scheme not in DEFAULT_PORTS or not url.host:
        raise ProbeRefused(
            f"the target must be an http:// or https:// URL with a host, got {shown!r}", 400, "bad_request"
        )
    if url.userinfo:
        raise ProbeRefused("a target with credentials (user:password@) is refused", 403, "credentials")
    return url


def _target_parts(url: httpx.URL) -> _Parts:
    host = url.host.lower()
    if ":" in host:
        host = f"[{host}]"
    port = url.port or DEFAULT_PORTS[url.scheme]
    rest = url.raw_path.decode("ascii")
    return _Parts(url.scheme, f"{host}:{port}", rest if rest.startswith("/") else "/" + rest)


def is_allowed(url: httpx.URL, patterns: Iterable[str]) -> bool:
    """Whether ``url`` matches one of ``patterns`` (part by part; see the module docstring)."""
    target = _target_parts(url)
    for pattern in patterns:
        p = _split_pattern(pattern)
        if (
            p.scheme == target.scheme
            and fnmatch.fnmatchcase(target.authority, p.authority)
            and fnmatch.fnmatchcase(target.rest, p.rest)
        ):
            return True
    return False
