"""``streamprobe [probe] URL``: probe one SSE URL (or read it in headless Chromium) and give a verdict."""

from __future__ import annotations

import argparse
import json
import time
from typing import Final

from ..exporter import check_available
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
#: What the probe prints: a report for people (``--json`` for scripts), or OpenMetrics.
FORMATS: Final = ("text", "openmetrics")
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
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="openmetrics: the exporter's metrics of this one probe, labelled name and target, for "
        "node_exporter's textfile collector (needs the [exporter] extra; docs/exporter.md)",
    )
    add_browser_argument(parser, what="read the URL in headless Chromium instead of the probe")


def run(args: argparse.Namespace) -> int:
    options = probe_options_from(args)
    openmetrics = args.format == "openmetrics"
    if openmetrics:
        if args.json or args.repeat > 1:
            raise UsageError(
                "--format openmetrics prints one probe: it does not combine with --json or --repeat"
            )
        check_available()
    if args.browser and args.repeat > 1:
        raise UsageError("--browser reads once: it does not combine with --repeat")
    if args.repeat > 1:
        report = run_repeat(args.url, options, args.repeat)
        print(json.dumps(report.to_dict(), indent=2) if args.json else render_repeat(report))
        return EXIT[report.verdict]
    started = time.perf_counter()
    if args.browser:  # one read in headless Chromium instead of the probe
        from ..browser import probe_browser

        result = probe_browser(args.url, options)
    else:
        result = probe(args.url, options)
    if openmetrics:  # for node_exporter's textfile collector (docs/exporter.md)
        from ..exporter.metrics import Measured, one_shot

        print(one_shot(Measured(result, time.perf_counter() - started), args.url), end="")
    else:
        print(json.dumps(result.to_dict(), indent=2) if args.json else render_result(result))
    return EXIT[result.verdict]
