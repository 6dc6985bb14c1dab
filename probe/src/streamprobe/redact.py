"""What a result may show: secrets replaced by ``***``, bodies as one printable line.

Header values and URL credentials are secret (docs/contracts/probe-cli.md): a result carries header
names only, masks the URL's userinfo, and redacts any secret a server echoed into a field, a message
or a note. A server can echo a secret in more forms than it was sent in, so each secret is searched
for as:

* each of its words (``Bearer SEKRET123, SEKRET456`` is ``SEKRET123`` and ``SEKRET456``; the auth
  scheme is not secret), in any letter case (servers and error messages lower-case headers);
* the ``Basic base64(user:password)`` header that URL userinfo is sent as, and the credentials inside
  a ``Basic`` value given as a header, decoded;
* any run of :data:`PREFIX_CHARS` or more characters that begins one of those words, wherever it
  appears: an echo cut short by the server (or by a 200-character excerpt) still shows a secret.

Only the standard library is imported here, so that the canary can redact its own lines with it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, unquote

if TYPE_CHECKING:  # pragma: no cover - typing only
    import httpx

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_WORDS = re.compile(r"[\s,;]+")
_AUTH_SCHEMES: Final = frozenset({"bearer", "basic", "digest", "token", "negotiate"})
#: Shorter words of a secret are not replaced: "abc" would mangle ordinary words in a message.
MIN_SECRET_CHARS: Final = 4
#: A run this long that begins a secret's word is a secret too (a prefix left by a cut).
PREFIX_CHARS: Final = 6
MASK: Final = "***"
#: How much of a URL a message repeats.
URL_CHARS: Final = 200
# ``scheme://`` (or a bare ``://``) and the userinfo after it, up to the last ``@`` before the path.
_URL_USERINFO: Final = re.compile(r"(?i)((?:\b[a-z][a-z0-9+.-]*)?://)[^/?#]*@")
_PATH_START: Final = re.compile(r"[/?#]")


def sanitise(data: bytes | str, limit: int = 200) -> str:
    """Printable, one-line, at most ``limit`` characters: for showing a body's first bytes."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = _CONTROL.sub("?", _SPACE.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def secret_words(secrets: Iterable[str]) -> tuple[str, ...]:
    """The words searched for with their prefixes (see the module docstring), longest first."""
    return _forms(tuple(secrets))[1]


@functools.lru_cache(maxsize=64)
def _forms(secrets: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(whole values, words): a whole value is replaced whole (``Bearer x`` -> ``***``), words and
    their prefixes wherever they appear."""
    whole: set[str] = set()
    words: set[str] = set()
    for secret in secrets:
        whole.add(secret.strip())
        parts = [p for p in _WORDS.split(secret) if p]
        for i, part in enumerate(parts):
            if part.lower() in _AUTH_SCHEMES:
                if part.lower() == "basic" and i + 1 < len(parts):
                    words.update(_basic_credentials(parts[i + 1]))
                continue
            words.add(part)

    def kept(forms: set[str]) -> tuple[str, ...]:
        return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_CHARS), key=len, reverse=True))

    return kept(whole), kept(words)


def _basic_credentials(token: str) -> list[str]:
    """``user:password`` and the password inside a ``Basic`` token (nothing if it is not one)."""
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return []
    if not decoded.isprintable() or ":" not in decoded:
        return []
    return [decoded, decoded.partition(":")[2]]


def _spans(text: str, whole: tuple[str, ...], words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where ``text`` shows a whole value, a word, or a run of at least PREFIX_CHARS characters
    beginning a word (letter case ignored)."""
    spans = [m.span() for value in whole for m in re.finditer(re.escape(value), text, re.IGNORECASE)]
    for word in words:
        head = word[:PREFIX_CHARS]
        for match in re.finditer(re.escape(head), text, re.IGNORECASE):
            start, end = match.start(), match.end()
            k = len(head)
            while k < len(word) and end < len(text) and text[end].lower() == word[k].lower():
                end, k = end + 1, k + 1
            spans.append((start, end))
    return spans


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret (see the module docstring) replaced by ``***``."""
    whole, words = _forms(tuple(secrets))
    if not (whole or words) or not text:
        return text
    spans = sorted(_spans(text, whole, words))
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if end <= pos:
            continue
        if start >= pos:
            out.append(text[pos:start])
            out.append(MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def cut_secret_tail(text: str, secrets: Iterable[str]) -> str:
    """``text`` without a trailing start of a secret's word shorter than PREFIX_CHARS: for a text that
    was cut (a read stopped at a budget), where the rest of the word was not read."""
    for word in secret_words(secrets):
        for k in range(min(len(word), PREFIX_CHARS) - 1, 0, -1):
            if text[-k:].lower() == word[:k].lower():
                return text[:-k]
    return text


def shown(text: str, secrets: Iterable[str], limit: int) -> str:
    """What a message repeats of a server's text: redacted first, then one printable line of at most
    ``limit`` characters (cutting a redacted text cannot leave a piece of a secret)."""
    return sanitise(redact(text, secrets), limit)


# -- URL credentials -------------------------------------------------------------------------------


def display_url(url: httpx.URL) -> str:
    """The URL as results show it: userinfo is a credential (httpx sends it as Basic auth), so it
    is masked as ``***``."""
    return str(url.copy_with(userinfo=b"***")) if url.userinfo else str(url)


def userinfo_of(url_text: str) -> str | None:
    """The userinfo of a URL given as text, parsed or not (``ftp://u:p@h``, ``u:p@h/x``); None if none."""
    rest = url_text.partition("://")[2] if "://" in url_text else url_text
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return authority.rpartition("@")[0] if "@" in authority else None


def mask_userinfo(text: str) -> str:
    """``text`` with the userinfo of every URL in it as ``***``: ``ftp://user:pass@host/x`` ->
    ``ftp://***@host/x``, in a URL alone or inside a sentence.

    ``scheme://`` then everything up to the last ``@`` before the path is userinfo (``user:p@ss
    word@host`` is all userinfo to a URL parser), so the mask stops neither at an ``@`` nor at a space:
    masking a little too much of a free text is harmless, showing a part of a password is not. A text
    without ``://`` is a URL without its scheme when it reads as one -- ``user:pass@host``, or
    ``token@host/path`` -- and is masked the same way; an address such as ``oncall@example.com`` is not.
    """
    if "://" in text:
        return _URL_USERINFO.sub(rf"\1{MASK}@", text)
    userinfo = userinfo_of(text)
    if userinfo is None or _SPACE.search(userinfo) or (":" not in userinfo and not _PATH_START.search(text)):
        return text
    return MASK + text[len(userinfo) :]


def mask_url_text(url_text: str, limit: int = URL_CHARS) -> str:
    """A URL as a message may repeat it, whatever it is: userinfo masked, one line, at most ``limit``."""
    return sanitise(mask_userinfo(url_text), limit)


def credential_forms(username: str, password: str) -> list[str]:
    """What a server may echo of URL credentials: each part as written and percent-decoded, and the
    ``Basic`` token httpx sends them as. The user name alone is secret only without a password (a
    token given as the user name)."""
    user, pw = unquote(username), unquote(password)
    forms = [pw, password, quote(pw, safe="")] if pw else [user, username, quote(user, safe="")]
    forms.append(base64.b64encode(f"{user}:{pw}".encode()).decode("ascii"))
    return [f for f in dict.fromkeys(forms) if f]


def url_secrets(url: httpx.URL | str) -> list[str]:
    """Credentials carried by the URL itself, in every form a server can echo them."""
    if isinstance(url, str):
        userinfo = userinfo_of(url)
        if not userinfo:
            return []
        username, _, password = userinfo.partition(":")
        return credential_forms(username, password)
    if not url.userinfo:
        return []
    username, _, password = url.userinfo.decode("ascii", errors="replace").partition(":")
    return credential_forms(username, password)


def request_secrets(headers: Mapping[str, str], url: httpx.URL | str) -> list[str]:
    """Every secret a request carries: its header values and the URL's credentials."""
    return [str(v) for v in headers.values() if str(v)] + url_secrets(url)
