"""Showing what a config file contains inside an error message, safely.

A message must stay one line, must not be able to move the cursor or recolour a terminal, must not repeat a
credential, and must not repeat a megabyte of input. So every echoed value goes through :func:`shown`
(quoted with control characters escaped, URL userinfo masked, at most :data:`MAX_SHOWN_CHARS`), every key
through :func:`dotted`, and every finished line through :func:`one_line`, which escapes whatever slipped
through (a message from PyYAML, an odd file name) and bounds the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from streamprobe.redact import mask_userinfo

__all__ = ["MAX_LINE_CHARS", "MAX_SHOWN_CHARS", "dotted", "one_line", "shown"]

#: Longest echo of one value (quotes included); longer values are cut with an ellipsis.
MAX_SHOWN_CHARS = 200
#: Longest message line; only a message built from several long parts can reach it.
MAX_LINE_CHARS = 1000
ELLIPSIS = "…"

# A key shown as-is in a path; any other key (spaces, quotes, dots, control characters, long) is quoted.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_:/=+@-]{1,64}")


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    quote = text[0] if text[:1] in ("'", '"') and text[-1:] == text[:1] else ""
    return text[: limit - len(ELLIPSIS) - len(quote)] + ELLIPSIS + quote


def shown(value: object) -> str:
    """A value as an error message shows it: ``null``, ``true``, ``a list``, ``'quoted\\x1b[0m'``, ``42``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        # repr escapes every non-printable character (control, ANSI, U+2028, lone surrogates) as \x.. / \u....
        return _cut(repr(mask_userinfo(value)), MAX_SHOWN_CHARS)
    return _cut(mask_userinfo(repr(value)), MAX_SHOWN_CHARS)


def _key(part: str) -> str:
    return part if _PLAIN_KEY.fullmatch(part) else shown(part)


def dotted(loc: Iterable[object]) -> str:
    """``canary.paths[0].url`` from ``("canary", "paths", 0, "url")``; odd keys are quoted: ``tags.'a b'``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif part == "[key]":  # pydantic's marker: the problem is the dict key itself, not its value
            out += " (key)"
        else:
            key = _key(part) if isinstance(part, str) else shown(part)
            out += f".{key}" if out else key
    return out


def _escape(char: str) -> str:
    return char if char.isprintable() else char.encode("unicode_escape", "backslashreplace").decode("ascii")


def one_line(text: str) -> str:
    """``text`` made safe to print as one line: credentials masked, control characters escaped, bounded."""
    safe = "".join(_escape(char) for char in mask_userinfo(text))
    return _cut(safe, MAX_LINE_CHARS)
