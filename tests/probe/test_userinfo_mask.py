"""The one URL-userinfo masker (``streamprobe.redact.mask_userinfo``): the probe's messages, the canary's
contract and the config's error lines all show URLs through it."""

from __future__ import annotations

import pytest
from streamprobe.redact import mask_url_text, mask_userinfo


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("ftp://user:pass@host/x", "ftp://***@host/x"),
        ("https://user:pass@host/", "https://***@host/"),
        ("HTTPS://USER:PASS@HOST", "HTTPS://***@HOST"),
        ("http://user@host:8080/p?q=a@b", "http://***@host:8080/p?q=a@b"),
        ("https://user:p@ss@host/x", "https://***@host/x"),  # every '@' before the path is userinfo
        ("https://user:pa ss@host/x", "https://***@host/x"),  # so is a space
        ("got 'ftp://u:secret@h/x' and 'https://a:b@c/'", "got 'ftp://***@h/x' and 'https://***@c/'"),
        ("https://api.example.com/x", "https://api.example.com/x"),
        ("oncall@example.com", "oncall@example.com"),  # an address, not a URL
        ("user:pw@host/x", "***@host/x"),  # a URL without its scheme
        ("token@host/x", "***@host/x"),
        ("user:pw@host", "***@host"),
        ("://user:pw@host/x", "://***@host/x"),
        ("http://user:pw@/x", "http://***@/x"),
        ("see a b@c/d", "see a b@c/d"),  # a sentence, not a URL
    ],
)
def test_userinfo_is_masked(text: str, masked: str) -> None:
    assert mask_userinfo(text) == masked


def test_a_url_in_a_message_is_masked_then_made_one_short_line() -> None:
    assert (
        mask_url_text("https://u:pw@host/x\n" + "y" * 300, limit=40) == "https://***@host/x " + "y" * 20 + "…"
    )
