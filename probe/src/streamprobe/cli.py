"""The streamprobe command line (docs/contracts/probe-cli.md): ``streamprobe URL [options]``,
``streamprobe doctor URL [options]``, ``streamprobe trace [NAME=]URL ... [options]``,
``streamprobe --version``.

Exit status: 0 streaming, 1 partial/buffered/inconclusive, 2 error or usage error (message on
stderr, no JSON). Header values given with --header are never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, Final, NoReturn

from ._version import package_version
from .body import MAX_BODY_BYTES
from .browser import BrowserUnavailable
from .doctor import run_doctor
from .options import METHODS, HttpChoice, Method, ProbeOptions
from .output import render_doctor, render_repeat, render_result, render_trace
from .probe import probe
from .progress import Progress
from .repeat import run_repeat
from .result import Verdict
from .trace import parse_hops, run_trace

EXIT: Final[dict[Verdict, int]] = {"streaming": 0, "partial": 1, "buffered": 1, "inconclusive": 1, "error": 2}

USAGE = """streamprobe URL [options]
       streamprobe doctor URL [options]
       streamprobe trace [NAME=]URL [[NAME=]URL ...] [options]
       streamprobe --version"""
DOCTOR_USAGE = "streamprobe doctor URL [options]"
TRACE_USAGE = "streamprobe trace [NAME=]URL [[NAME=]URL ...] [options]"
DESCRIPTION = """Measure whether a Server-Sent Events stream really streams: TTFB, first event, buffering.

commands:
  URL                   probe one SSE URL and give a verdict: streaming, partial, buffered
  doctor URL            probe it over {HTTP/1.1, HTTP/2} x {identity, compressed} and name the
                        likely cause of buffering (see 'streamprobe doctor --help')
  trace [NAME=]URL ...  probe each hop from the application outward and name the first one
                        that buffers, its cause and fixes (see 'streamprobe trace --help')"""
DOCTOR_DESCRIPTION = """Probe an SSE URL over {HTTP/1.1, HTTP/2} x {identity, compressed} and name the likely
cause of buffering: compression, the HTTP/2 front end, a hop that buffers HTTP/1.1, or a proxy that
buffers everything. An HTTP/3 row is added when the server advertises h3 (Alt-Svc) or with --http3."""
EPILOG = "exit status: 0 streaming; 1 partial, buffered or inconclusive; 2 an error or a usage error"
DOCTOR_EPILOG = (
    "exit status: 0 streaming in every combination the server offers; 1 buffering somewhere; 2 an error"
)
TRACE_DESCRIPTION = """Probe the hops of one path, ordered from the application outward (the pod,
the in-cluster proxy, the load balancer, the CDN), one after another, and name the first hop that
buffers (partial or buffered while the hop before it streamed), the delay it adds, the doctor's cause
for it and the fixes for that kind of hop. Inner hops are read over HTTP/1.1, as the next hop reads
them; the outermost like a browser (--http1/--http2 read every hop that way). Headers go to every hop.

The kind of a hop (for its fixes) is guessed from its name (ingress, nginx, haproxy, alb, nlb,
cloudfront/cdn, apigw/api-gateway, app/pod/direct) or its AWS host name (*.execute-api.*, *.cloudfront.net),
or told with --kind NAME=KIND."""
TRACE_EPILOG = (
    "exit status: 0 every hop streams; 1 a hop buffers (or is inconclusive); 2 an error or a usage error"
)


#: Bytes of a ``--data @FILE`` read: one more than the body limit, so an oversized file is told so.
MAX_DATA_READ: Final = MAX_BODY_BYTES + 1


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class _VersionAction(argparse.Action):
    """``--version``: the installed package's version (read only when asked for)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        print(f"streamprobe {package_version()}")
        parser.exit()


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not name or any(c in name for c in " \t\r\n"):
        # never echo the argument: it may be a secret
        raise argparse.ArgumentTypeError("expected 'Name: value' (the value is not shown)")
    return name, value.strip()


def _data(text: str) -> bytes:
    """``--data``: the body itself, or ``@FILE`` for a file's bytes (read here; size checked later)."""
    if not text.startswith("@"):
        return text.encode("utf-8")
    path = text[1:]
    try:
        with open(path, "rb") as f:
            return f.read(MAX_DATA_READ)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path!r}: {exc.strerror or exc}") from None


def _kind(text: str) -> tuple[str, str]:
    name, eq, kind = text.partition("=")
    if not eq or not name or not kind:
        raise argparse.ArgumentTypeError(f"expected NAME=KIND, got {text!r}")
    return name, kind


def build_parser(doctor: bool, trace: bool = False) -> argparse.ArgumentParser:
    prog = "streamprobe doctor" if doctor else "streamprobe trace" if trace else "streamprobe"
    p = _Parser(
        prog=prog,
        usage=DOCTOR_USAGE if doctor else TRACE_USAGE if trace else USAGE,
        description=DOCTOR_DESCRIPTION if doctor else TRACE_DESCRIPTION if trace else DESCRIPTION,
        epilog=DOCTOR_EPILOG if doctor else TRACE_EPILOG if trace else EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action=_VersionAction, help="print the version and exit")
    if trace:
        p.add_argument(
            "hops",
            nargs="+",
            metavar="[NAME=]URL",
            help="the hops from the application outward (at most 10, distinct names; default hop1, ...)",
        )
        p.add_argument(
            "--kind",
            action="append",
            type=_kind,
            default=[],
            metavar="NAME=KIND",
            help="the kind of a hop, for its fixes: app, nginx, ingress-nginx, haproxy, alb, nlb, "
            "cloudfront, apigateway or proxy (repeatable; default: guessed from the name)",
        )
    else:
        p.add_argument("url", metavar="URL", help="an http:// or https:// URL of an SSE stream")
        p.add_argument("--name", default="cli", help="path name reported in the result (default: cli)")
    if not doctor:
        proto = p.add_mutually_exclusive_group()
        proto.add_argument("--http1", action="store_true", help="force HTTP/1.1")
        proto.add_argument("--http2", action="store_true", help="require HTTP/2 (an error if not negotiated)")
    if not doctor and not trace:
        proto.add_argument(
            "--http3",
            action="store_true",
            help="require HTTP/3 over QUIC, UDP to the URL's port (an error if it cannot be had); "
            "needs the [h3] extra",
        )
    if not doctor:
        p.add_argument(
            "--accept-encoding",
            metavar="VALUE",
            help="Accept-Encoding (default like a browser: gzip, deflate[, br]; 'identity' for none)",
        )
    if not doctor and not trace:
        p.add_argument(
            "--repeat", type=_positive_int, default=1, metavar="N", help="run N probes; medians + worst delay"
        )
    if doctor:
        p.add_argument(
            "--http3",
            action="store_true",
            help="add the HTTP/3 row even when the server does not advertise h3 (needs the [h3] extra)",
        )
    p.add_argument(
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="'K: V'",
        help="extra request header (repeatable)",
    )
    p.add_argument(
        "--no-stamp",
        action="store_true",
        help="do not send X-Streampath-Stamp: 1 (an app with StampMiddleware then sends no send-time "
        "stamps, and its stream is judged by arrival pattern)",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        type=str.upper,
        help="request method (default GET; POST when --data is given), e.g. a chat endpoint's POST",
    )
    p.add_argument(
        "--data",
        type=_data,
        metavar="'JSON' | @FILE",
        help=f"request body (at most {MAX_BODY_BYTES // 1024} KiB), sent as application/json unless "
        "--header sets Content-Type; not secret: a body holding a credential is refused (use --header)",
    )
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="connect/TLS/headers/silence bound (10)",
    )
    p.add_argument(
        "--max-duration", type=_positive_float, default=60.0, metavar="S", help="whole-probe bound (60)"
    )
    p.add_argument(
        "--max-event-bytes", type=_positive_int, default=1 << 20, metavar="N", help="largest event (1 MiB)"
    )
    tls = p.add_mutually_exclusive_group()
    tls.add_argument("--insecure", action="store_true", help="do not verify the server certificate")
    tls.add_argument("--cacert", metavar="FILE", help="trust this CA bundle (PEM)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    if trace:
        return p
    p.add_argument(
        "--browser",
        action="store_true",
        help=(
            "also read the URL once in headless Chromium, shown after the matrix"
            if doctor
            else "read the URL in headless Chromium instead of the probe"
        )
        + " (fetch + getReader(); judged by the same rules); needs Debian's chromium and the [browser] "
        "extra; --cacert does not apply there (--insecure accepts lab certificates)",
    )
    return p


def _options(args: argparse.Namespace, doctor: bool) -> ProbeOptions:
    http: HttpChoice = "auto"
    if not doctor:
        http = (
            "h1" if args.http1 else "h2" if args.http2 else "h3" if getattr(args, "http3", False) else "auto"
        )
    verify: bool | str = False if args.insecure else (args.cacert or True)
    method: Method = args.method or ("POST" if args.data is not None else "GET")
    return ProbeOptions(
        name=getattr(args, "name", "cli"),
        http=http,
        headers=dict(args.header),
        accept_encoding=None if doctor else args.accept_encoding,
        timeout=args.timeout,
        max_duration=args.max_duration,
        max_event_bytes=args.max_event_bytes,
        verify=verify,
        stamp=not args.no_stamp,
        method=method,
        data=args.data,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    doctor = bool(argv) and argv[0] == "doctor"
    trace = bool(argv) and argv[0] == "trace"
    parser = build_parser(doctor, trace)
    try:
        if trace:  # hops and options in any order
            args = parser.parse_intermixed_args(argv[1:])
        else:
            args = parser.parse_args(argv[1:] if doctor else argv)
        options = _options(args, doctor)
        if trace:
            hops = parse_hops(args.hops, dict(args.kind))
            progress = Progress.for_terminal("trace: ", json_output=args.json)
            traced = run_trace(hops, options, progress=progress)
            print(json.dumps(traced.to_dict(), indent=2) if args.json else render_trace(traced))
            return traced.exit_code
        if doctor:
            progress = Progress.for_terminal("doctor: ", json_output=args.json)
            report = run_doctor(args.url, options, browser=args.browser, http3=args.http3, progress=progress)
            print(json.dumps(report.to_dict(), indent=2) if args.json else render_doctor(report))
            if report.browser is not None and not args.json:
                print("\nbrowser (headless Chromium, fetch + getReader()):\n" + render_result(report.browser))
            return report.exit_code
        if args.browser:  # one read in headless Chromium instead of the probe
            if args.repeat > 1:
                raise UsageError("--browser reads once: it does not combine with --repeat")
            from .browser import probe_browser

            result = probe_browser(args.url, options)
        elif args.repeat > 1:
            rep = run_repeat(args.url, options, args.repeat)
            print(json.dumps(rep.to_dict(), indent=2) if args.json else render_repeat(rep))
            return EXIT[rep.verdict]
        else:
            result = probe(args.url, options)
    except BrowserUnavailable as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return 2
    except (UsageError, ValueError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        print(f"usage: see '{parser.prog} --help'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(json.dumps(result.to_dict(), indent=2) if args.json else render_result(result))
    return EXIT[result.verdict]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
