"""Arguments several commands share besides the request options (:mod:`streamprobe.request_args`): the
URL and the name a result reports, ``--json``, and ``--browser``."""

from __future__ import annotations

import argparse
from typing import Final

from ..concurrency import DEFAULT_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS, check_stream_count

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


def _stream_count(text: str) -> int:
    try:
        streams = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    try:
        check_stream_count(streams)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return streams


def add_concurrency_argument(parser: argparse.ArgumentParser) -> None:
    """``--concurrent-streams N``: the streams opened at once to see a concurrency cap."""
    parser.add_argument(
        "--concurrent-streams",
        type=_stream_count,
        default=None,
        metavar="N",
        help=f"then open N streams at once (HTTP/1.1) to see a hop that serves fewer at a time (ALB Target "
        f"Optimizer, HAProxy maxconn, uvicorn --limit-concurrency); 0 or 2..{MAX_CONCURRENT_STREAMS}, "
        f"0 skips it (default {DEFAULT_CONCURRENT_STREAMS}: caps below it show; 0 for a request with a "
        "body, whose every stream is another answer)",
    )
