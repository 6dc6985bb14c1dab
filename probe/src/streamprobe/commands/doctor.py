"""``streamprobe doctor URL``: probe a URL over {HTTP/1.1, HTTP/2} x {identity, compressed} and name the
likely cause of buffering."""

from __future__ import annotations

import argparse
import json
from typing import Final

from ..doctor import run_doctor
from ..output import render_doctor, render_result
from ..progress import Progress
from ..request_args import add_request_arguments, probe_options_from
from .arguments import (
    add_browser_argument,
    add_concurrency_argument,
    add_json_argument,
    add_url_arguments,
)

NAME: Final = "doctor"
HELP: Final = "probe it over {HTTP/1.1, HTTP/2} x {identity, compressed}; name the cause"
DESCRIPTION: Final = """Probe an SSE URL over {HTTP/1.1, HTTP/2} x {identity, compressed} and name the likely
cause of buffering: compression, the HTTP/2 front end, a hop that buffers HTTP/1.1, or a proxy that
buffers everything. An HTTP/3 row is added when the server advertises h3 (Alt-Svc) or with --http3.
Then a few streams at once show a hop that serves only some of them at a time (a concurrency cap)."""
EPILOG: Final = (
    "exit status: 0 streaming in every combination the server offers, no concurrency cap seen; "
    "1 buffering somewhere, or a cap; 2 an error"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    add_url_arguments(parser)
    parser.add_argument(
        "--http3",
        dest="h3_row",  # not the request option --http3: the doctor chooses each row's protocol itself
        action="store_true",
        help="add the HTTP/3 row even when the server does not advertise h3 (needs the [h3] extra)",
    )
    add_request_arguments(parser, http_flags=(), accept_encoding=False)
    add_concurrency_argument(parser)
    add_json_argument(parser)
    add_browser_argument(parser, what="also read the URL once in headless Chromium, shown after the matrix")


def run(args: argparse.Namespace) -> int:
    options = probe_options_from(args)
    progress = Progress.for_terminal("doctor: ", json_output=args.json)
    report = run_doctor(
        args.url,
        options,
        browser=args.browser,
        http3=args.h3_row,
        concurrent_streams=args.concurrent_streams,
        progress=progress,
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else render_doctor(report))
    if report.browser is not None and not args.json:
        print("\nbrowser (headless Chromium, fetch + getReader()):\n" + render_result(report.browser))
    return report.exit_code
