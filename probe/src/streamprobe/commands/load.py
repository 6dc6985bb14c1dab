"""``streamprobe load URL --concurrency N (--streams M | --duration S) ...``: many streams at once, each
judged like a single probe, against an SLO (docs/contracts/load.md)."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from typing import Any, Final

from ..load.engine import run_load
from ..load.plan import DEFAULT_MIN_GOODPUT, MAX_SECONDS, MAX_STREAMS, plan_from
from ..load.records import Records
from ..load.render import render_load
from ..probing import check_request
from ..progress import Progress
from ..request_args import add_request_arguments, probe_options_from
from ..slo import DEFAULT_SLO

NAME: Final = "load"
HELP: Final = "open many streams at once: percentiles, goodput against an SLO, concurrency caps"
DESCRIPTION: Final = f"""Open --concurrency streams at once until --streams have started or --duration has
passed. Each stream is measured and judged exactly as a single probe judges it; the run reports
percentiles of ttfb, first event, buffering delay and gap p99, and the goodput: the share of streams
judged without an error that meet every bound of the SLO (default {DEFAULT_SLO}).
Over HTTP/2 and HTTP/3 the streams share --connections connections (default 1, as a browser); over
HTTP/1.1 each stream has a connection of its own. When first bytes come in steps of about one
stream's length, it names the concurrency cap the streams queue behind."""
EPILOG: Final = (
    "exit status: 0 goodput >= --min-goodput; 1 below it, or interrupted (Ctrl-C); "
    "2 a usage error, or every stream failed"
)


def _within(convert: Callable[[str], float], low: float, high: float, unit: str = "") -> Callable[[str], Any]:
    """An argparse type: ``convert`` (int or float), then ``low`` <= value <= ``high`` (finite)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            what = "an integer" if convert is int else "a number"
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be {low:g}..{high:g}{unit}, got {text}")
        return value

    return parse


_count = _within(int, 1, MAX_STREAMS)
_seconds = _within(float, 0, MAX_SECONDS, " seconds")
_percent = _within(float, 0, 100, " (a percentage)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.add_argument("url", metavar="URL", help="an http:// or https:// URL of an SSE stream")
    parser.add_argument("--name", default="load", help="path name reported in each stream's record (load)")
    parser.add_argument("--concurrency", type=_count, required=True, metavar="N", help="streams open at once")
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--streams", type=_count, metavar="M", help="run M streams in all")
    amount.add_argument(
        "--duration", type=_seconds, metavar="S", help="start streams for S seconds (those open then finish)"
    )
    parser.add_argument(
        "--ramp", type=_seconds, default=0.0, metavar="S", help="start the first N streams over S seconds (0)"
    )
    parser.add_argument(
        "--connections",
        type=_count,
        default=1,
        metavar="K",
        help="HTTP/2 and HTTP/3: connections the streams share, round robin (1, as a browser)",
    )
    add_goodput_arguments(parser)
    parser.add_argument("--records", metavar="FILE", help="write one NDJSON result per stream as it finishes")
    add_request_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def add_goodput_arguments(parser: argparse.ArgumentParser) -> None:
    """``--slo`` and ``--min-goodput``: what a good stream is, and the share of them a run must reach
    (here and in ``streampath run-load``)."""
    parser.add_argument(
        "--slo", default=DEFAULT_SLO, metavar="SPEC", help=f"bounds in ms a good stream meets ({DEFAULT_SLO})"
    )
    parser.add_argument(
        "--min-goodput",
        type=_percent,
        default=DEFAULT_MIN_GOODPUT,
        metavar="PCT",
        help=f"exit 0 only when at least this percentage of streams is good ({DEFAULT_MIN_GOODPUT:g})",
    )


def run(args: argparse.Namespace) -> int:
    options = probe_options_from(args)
    plan = plan_from(vars(args))
    check_request(args.url, options)  # a bad URL is told before the records file is made
    records = Records(args.records) if args.records else None
    try:
        progress = Progress.for_terminal("load: ", json_output=args.json)
        summary = run_load(args.url, options, plan, records=records, progress=progress)
    finally:
        if records is not None:
            records.close()
    print(json.dumps(summary.to_dict(), indent=2) if args.json else render_load(summary))
    return summary.exit_code(plan.min_goodput)
