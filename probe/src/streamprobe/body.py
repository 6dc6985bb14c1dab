"""A request body for a chat endpoint (``--method POST --data``): its size cap and its secret check.

Header values are secret and never shown; a body is not: it is read from the command line or a file,
and a canary's body lands in its template. So a body that carries a credential is refused, with a hint
to send it as a header instead. The check looks for what credentials look like -- an ``Authorization``
or ``Bearer``/``Basic`` value, a JSON key that names a credential, a token format (a JWT, a cloud or
vendor key prefix, a long mixed-case random string) -- and never echoes what it found.

Standard library only: the canary's contract (``streampath_canary.contract``) refuses a canary path's
body by these same rules, with its own hint.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

#: Largest request body: a chat prompt is a few hundred bytes; a probe is not an upload.
MAX_BODY_BYTES: Final = 64 * 1024
JSON_CONTENT_TYPE: Final = "application/json"

#: JSON keys (lower case, without ``-`` and ``_``) that name a credential.
_SECRET_KEYS: Final = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "apikey",
        "xapikey",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "authtoken",
        "sessiontoken",
        "token",
        "bearer",
        "password",
        "passwd",
        "secret",
        "clientsecret",
        "privatekey",
        "cookie",
    }
)
#: What a credential looks like in text, each with the words that name it in a refusal.
_SECRET_PATTERNS: Final = (
    (re.compile(r"\bauthorization\s*[:=]", re.IGNORECASE), "an Authorization value"),
    (re.compile(r"\bbearer\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE), "a Bearer token"),
    (re.compile(r"\bbasic\s+[A-Za-z0-9+/]{12,}={0,2}", re.IGNORECASE), "Basic credentials"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\."), "a JSON Web Token"),
    (
        re.compile(
            r"\b(?:sk-[A-Za-z0-9_-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{20,}"
            r"|github_pat_[A-Za-z0-9_]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|A[KS]IA[0-9A-Z]{16}"
            r"|AIza[0-9A-Za-z_-]{35})"
        ),
        "an API key",
    ),
    # A long run with upper- and lower-case letters and digits: random like a key, unlike words or
    # lower-case ids (a UUID has no upper case).
    (
        re.compile(
            r"(?=[A-Za-z0-9+/_=-]*[A-Z])(?=[A-Za-z0-9+/_=-]*[a-z])(?=[A-Za-z0-9+/_=-]*[0-9])"
            r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{40,}"
        ),
        "a token-like value",
    ),
)
SECRET_HINT: Final = (
    "the body is not kept secret (it is shown and stored like any option); send credentials in a "
    "header instead (--header 'Authorization: ...', whose value is never shown; a canary path's "
    "auth_secret)"
)


def is_secret_key(key: str) -> bool:
    """Whether a JSON key or a header name names a credential (``api_key``, ``Authorization``, ...)."""
    return key.lower().replace("-", "").replace("_", "") in _SECRET_KEYS


def _secret_keys(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(str(key)):
                return f"a key named {str(key)[:40]!r}"
            found = _secret_keys(item)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _secret_keys(item)
            if found:
                return found
    return None


def secret_in_body(body: bytes | str) -> str | None:
    """What in ``body`` looks like a credential (``"a Bearer token"``, ...), or None. Never the value."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    found = _secret_keys(parsed)
    if found:
        return found
    for pattern, what in _SECRET_PATTERNS:
        if pattern.search(text):
            return what
    return None


def body_problem(
    body: bytes | str, content_type: str | None = None, *, secret_hint: str = SECRET_HINT
) -> str | None:
    """Why ``body`` cannot be sent, or None: over :data:`MAX_BODY_BYTES` (UTF-8), what looks like a
    credential (then ``secret_hint`` says where credentials go), or not the JSON its ``content_type``
    (``None``: the default, JSON) says. The reason reads after the body's name: ``"is 70000 bytes,
    more than the limit of 65536"``."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    if len(data) > MAX_BODY_BYTES:
        return f"is {len(data)} bytes, more than the limit of {MAX_BODY_BYTES}"
    found = secret_in_body(body)
    if found:
        return f"holds what looks like a credential ({found}): {secret_hint}"
    media = (content_type or JSON_CONTENT_TYPE).split(";")[0].strip().lower()
    if media == JSON_CONTENT_TYPE or media.endswith("+json"):
        try:
            json.loads(data.decode("utf-8"))
        except ValueError as exc:
            # The position only, never the text: it may be long, and it is the user's.
            where = f" at position {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
            return f"is not valid JSON{where} (Content-Type {media}; a Content-Type header names another)"
    return None


def message_problem(message: str, *, secret_hint: str = SECRET_HINT) -> str | None:
    """Why ``message`` cannot be a WebSocket's first message, or None: a body's rules (size, what looks
    like a credential) for any text -- a message is JSON only when the service says so."""
    return body_problem(message, "text/plain", secret_hint=secret_hint)
