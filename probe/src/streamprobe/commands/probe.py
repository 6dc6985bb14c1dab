"""``streamprobe [probe] URL``: probe one SSE URL (or read it in headless Chromium) and give a verdict."""

from __future__ import annotations

import argparse
import json
from typing import Final

from ..output import render_repeat, render_result
from ..probing import probe
from ..repeat import run_repeat
from ..request_args import add_request_arguments, positive_int, probe_options_from
from ..result import Verdict
from ..usage import UsageError
from .arguments import add_browser_argument, add_json_argument, add_url_arguments

NAME: Final = "probe"
HELP: Final = "probe one SSE URL and give a verdict: streaming, partial, buffered"
DESCRIPTION: Final = (
    "Probe one Server-Sent Events URL and give a verdict: streaming, partial or buffered, with TTFB,\n"
    "the first event and the buffering delay. 'streamprobe URL' is the same as 'streamprobe probe URL'."
)
EPILOG: Final = "exit status: 0 streaming; 1 partial, buffered or inconclusive; 2 an error or a usage error"
#: The exit status of a verdict (docs/contracts/probe-cli.md).
EXIT: Final[dict[Verdict, int]] = {"streaming": 0, "partial": 1, "buffered": 1, "inconclusive": 1, "error": 2}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    add_url_arguments(parser)
    add_request_arguments(parser)
    parser.add_argument(
        "--repeat", type=positive_int, default=1, metavar="N", help="run N probes; medians + worst delay"
    )
    add_json_argument(parser)
    add_browser_argument(parser, what="read the URL in headless Chromium instead of the probe")


def run(args: argparse.Namespace) -> int:
    options = probe_options_from(args)
    if args.browser:  # one read in headless Chromium instead of the probe
        if args.repeat > 1:
            raise UsageError("--browser reads once: it does not combine with --repeat")
        from ..browser import probe_browser

        result = probe_browser(args.url, options)
    elif args.repeat > 1:
        report = run_repeat(args.url, options, args.repeat)
        print(json.dumps(report.to_dict(), indent=2) if args.json else render_repeat(report))
        return EXIT[report.verdict]
    else:
        result = probe(args.url, options)
    print(json.dumps(result.to_dict(), indent=2) if args.json else render_result(result))
    return EXIT[result.verdict]
