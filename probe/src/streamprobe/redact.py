"""What a result may show: secrets replaced by ``***``, bodies as one printable line.

Header values and URL credentials are secret (docs/contracts/probe-cli.md): a result carries header
names only, masks the URL's userinfo, and redacts any secret a server echoed into a message or note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import httpx

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_AUTH_SCHEMES = frozenset({"bearer", "basic", "digest", "token", "negotiate"})
#: Shorter parts of a secret are not replaced: "abc" would mangle ordinary words in a message.
MIN_SECRET_CHARS = 4


def sanitise(data: bytes | str, limit: int = 200) -> str:
    """Printable, one-line, at most ``limit`` characters: for showing a body's first bytes."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = _CONTROL.sub("?", _SPACE.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a secret value (or its non-trivial parts) with ``***``."""
    for secret in secrets:
        parts = {secret, *(p for p in secret.split() if p.lower() not in _AUTH_SCHEMES)}
        for value in sorted(parts, key=len, reverse=True):
            if len(value) >= MIN_SECRET_CHARS:
                text = text.replace(value, "***")
    return text


def display_url(url: httpx.URL) -> str:
    """The URL as results show it: userinfo is a credential (httpx sends it as Basic auth), so it
    is masked as ``***``."""
    return str(url.copy_with(userinfo=b"***")) if url.userinfo else str(url)


def url_secrets(url: httpx.URL) -> list[str]:
    """Credentials carried by the URL itself (the password, or a token given as the user name)."""
    return [v for v in (url.password or url.username,) if v]


def request_secrets(headers: Mapping[str, str], url: httpx.URL) -> list[str]:
    """Every secret a request carries: its header values and the URL's credentials."""
    return [str(v) for v in headers.values() if str(v)] + url_secrets(url)
