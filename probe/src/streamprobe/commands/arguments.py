"""Arguments several commands share besides the request options (:mod:`streamprobe.request_args`): the
URL and the name a result reports, ``--json``, and ``--browser``."""

from __future__ import annotations

import argparse
from typing import Final

#: What ``--browser`` does and needs, whatever the command does with its read.
BROWSER_READ: Final = (
    "(fetch + getReader(); judged by the same rules); needs Debian's chromium and the [browser] extra; "
    "--cacert does not apply there (--insecure accepts lab certificates)"
)


def add_url_arguments(parser: argparse.ArgumentParser) -> None:
    """``URL`` and ``--name`` (the ``path_name`` its result reports)."""
    parser.add_argument(
        "url", metavar="URL", help="an http(s):// URL of an SSE stream, or a ws(s):// URL of a WebSocket"
    )
    parser.add_argument("--name", default="cli", help="path name reported in the result (default: cli)")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def add_browser_argument(parser: argparse.ArgumentParser, *, what: str) -> None:
    """``--browser``: ``what`` says what the command does with a read in headless Chromium."""
    parser.add_argument("--browser", action="store_true", help=f"{what} {BROWSER_READ}")
