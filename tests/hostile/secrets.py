"""The secrets the hostile cases send, and the check that none of them shows in any form a server can
echo: as sent, in another letter case, as the ``Basic`` token of URL userinfo, or cut after 6+ chars."""

from __future__ import annotations

import base64
from typing import Final

BEARER: Final = "Bearer SEKRET123, SEKRET456"
API_KEY: Final = "APIKEY-987654"
USER, PASSWORD = "probe", "PASSW0RD789"
BASIC: Final = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
HEADERS: Final = {"Authorization": BEARER, "X-Api-Key": API_KEY}
#: The secret words (the auth scheme is not one); their first 6 characters are enough to give them away.
WORDS: Final = ("SEKRET123", "SEKRET456", API_KEY, PASSWORD, BASIC)


def with_userinfo(url: str) -> str:
    return url.replace("://", f"://{USER}:{PASSWORD}@", 1)


def leaks(text: str) -> list[str]:
    """The secret words whose first 6 characters appear in ``text`` (any letter case)."""
    low = text.lower()
    return [w for w in WORDS if w[:6].lower() in low]


def assert_clean(*texts: str) -> None:
    for text in texts:
        found = leaks(text)
        assert not found, f"{found} in {text[:2000]!r}"
