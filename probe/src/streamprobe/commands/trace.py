"""``streamprobe trace [NAME=]URL ...``: probe each hop from the application outward and name the first
one that buffers, its cause and fixes."""

from __future__ import annotations

import argparse
import json
from typing import Final

from ..exceptions import InvalidRequest
from ..output import render_trace
from ..progress import Progress
from ..request_args import add_request_arguments, probe_options_from
from ..trace import parse_hops, run_trace
from ..usage import UsageError
from .arguments import add_concurrency_argument, add_json_argument

NAME: Final = "trace"
HELP: Final = "probe each hop from the app outward; name the first that buffers"
DESCRIPTION: Final = """Probe the hops of one path, ordered from the application outward (the pod,
the in-cluster proxy, the load balancer, the CDN), one after another, and name the first hop that
buffers (partial or buffered while the hop before it streamed), the delay it adds, the doctor's cause
for it and the fixes for that kind of hop. Inner hops are read over HTTP/1.1, as the next hop reads
them; the outermost like a browser (--http1/--http2 read every hop that way). Headers go to every hop.

The kind of a hop (for its fixes) is guessed from its name (ingress, nginx, haproxy, alb, nlb,
cloudfront/cdn, apigw/api-gateway, app/pod/direct) or its AWS host name (*.execute-api.*, *.cloudfront.net),
or told with --kind NAME=KIND. Then a few streams at once through the outermost hop that streamed show
a concurrency cap, and the first hop from the application outward that has it is named."""
EPILOG: Final = (
    "exit status: 0 every hop streams, no concurrency cap seen; 1 a hop buffers (or is inconclusive), or a "
    "cap; 2 an error or a usage error"
)


def _kind(text: str) -> tuple[str, str]:
    name, eq, kind = text.partition("=")
    if not eq or not name or not kind:
        raise argparse.ArgumentTypeError(f"expected NAME=KIND, got {text!r}")
    return name, kind


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description, parser.epilog = DESCRIPTION, EPILOG
    parser.add_argument(
        "hops",
        nargs="+",
        metavar="[NAME=]URL",
        help="the hops from the application outward (at most 10, distinct names; default hop1, ...)",
    )
    parser.add_argument(
        "--kind",
        action="append",
        type=_kind,
        default=[],
        metavar="NAME=KIND",
        help="the kind of a hop, for its fixes: app, nginx, ingress-nginx, haproxy, alb, nlb, "
        "cloudfront, apigateway or proxy (repeatable; default: guessed from the name)",
    )
    add_request_arguments(parser, http_flags=("h1", "h2"))
    add_concurrency_argument(parser)
    add_json_argument(parser)


def run(args: argparse.Namespace) -> int:
    options = probe_options_from(args)
    try:
        hops = parse_hops(args.hops, dict(args.kind))
    except InvalidRequest as exc:
        raise UsageError(str(exc)) from None
    progress = Progress.for_terminal("trace: ", json_output=args.json)
    traced = run_trace(hops, options, concurrent_streams=args.concurrent_streams, progress=progress)
    print(json.dumps(traced.to_dict(), indent=2) if args.json else render_trace(traced))
    return traced.exit_code
