"""The request options every command that probes takes (``--header``, ``--timeout``, ``--http2`` ...),
and the :class:`~streamprobe.options.ProbeOptions` they make."""

from __future__ import annotations

import argparse
from collections.abc import Collection
from typing import Final

from .body import MAX_BODY_BYTES
from .options import METHODS, HttpChoice, Method, ProbeOptions
from .usage import UsageError

#: Bytes of a ``--data @FILE`` read: one more than the body limit, so an oversized file is told so.
MAX_DATA_READ: Final = MAX_BODY_BYTES + 1
#: ``--http1``, ``--http2``, ``--http3``: the ``ProbeOptions.http`` each asks for, and its help.
HTTP_FLAGS: Final[dict[HttpChoice, str]] = {
    "h1": "force HTTP/1.1",
    "h2": "require HTTP/2 (an error if not negotiated)",
    "h3": "require HTTP/3 over QUIC, UDP to the URL's port (an error if it cannot be had); "
    "needs the [h3] extra",
}


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def positive_int(text: str) -> int:
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


def _send(text: str) -> str:
    """``--send``: the message itself, or ``@FILE`` for a file's text (UTF-8; size checked later)."""
    if not text.startswith("@"):
        return text
    data = _data(text)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{text[1:]!r} is not UTF-8 text") from None


def add_request_arguments(
    parser: argparse.ArgumentParser,
    *,
    http_flags: Collection[HttpChoice] = tuple(HTTP_FLAGS),
    accept_encoding: bool = True,
) -> None:
    """Add the request options to ``parser``. ``http_flags``: which of ``--http1/--http2/--http3`` are
    offered (a command that chooses protocols itself, as the doctor does, offers none);
    ``accept_encoding``: whether ``--accept-encoding`` is offered (the doctor tries both encodings)."""
    if http_flags:
        choice = parser.add_mutually_exclusive_group()
        for http, help_text in HTTP_FLAGS.items():
            if http in http_flags:
                choice.add_argument(_flag(http), action="store_true", help=help_text)
    if accept_encoding:
        parser.add_argument(
            "--accept-encoding",
            metavar="VALUE",
            help="Accept-Encoding (default like a browser: gzip, deflate[, br]; 'identity' for none)",
        )
    parser.add_argument(
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="'K: V'",
        help="extra request header (repeatable)",
    )
    parser.add_argument(
        "--no-stamp",
        action="store_true",
        help="do not send X-Streampath-Stamp: 1 (an app with StampMiddleware then sends no send-time "
        "stamps, and its stream is judged by arrival pattern)",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        type=str.upper,
        help="request method (default GET; POST when --data is given), e.g. a chat endpoint's POST",
    )
    parser.add_argument(
        "--data",
        type=_data,
        metavar="'JSON' | @FILE",
        help=f"request body (at most {MAX_BODY_BYTES // 1024} KiB), sent as application/json unless "
        "--header sets Content-Type; not secret: a body holding a credential is refused (use --header)",
    )
    parser.add_argument(
        "--send",
        type=_send,
        metavar="TEXT | @FILE",
        help=f"ws:// and wss:// URLs: a first text message to send once the socket is open (a chat "
        f"prompt; at most {MAX_BODY_BYTES // 1024} KiB; not secret, like --data)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        metavar="S",
        help="connect/TLS/headers/silence bound (10)",
    )
    parser.add_argument(
        "--max-duration", type=positive_float, default=60.0, metavar="S", help="whole-probe bound (60)"
    )
    parser.add_argument(
        "--max-event-bytes", type=positive_int, default=1 << 20, metavar="N", help="largest event (1 MiB)"
    )
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--insecure", action="store_true", help="do not verify the server certificate")
    tls.add_argument("--cacert", metavar="FILE", help="trust this CA bundle (PEM)")


def _flag(http: HttpChoice) -> str:
    return f"--http{http[1:]}"  # h1 -> --http1


def _http_choice(args: argparse.Namespace) -> HttpChoice:
    """The protocol flag given (at most one: they exclude each other), else ``auto``."""
    return next((http for http in HTTP_FLAGS if getattr(args, _flag(http)[2:], False)), "auto")


def probe_options_from(args: argparse.Namespace) -> ProbeOptions:
    """The options of a read from parsed request options (and ``--name`` where the command has one);
    :class:`UsageError` for a combination no read can use (the message never shows a header value)."""
    method: Method = args.method or ("POST" if args.data is not None else "GET")
    options = ProbeOptions(
        name=getattr(args, "name", "cli"),
        http=_http_choice(args),
        headers=dict(args.header),
        accept_encoding=getattr(args, "accept_encoding", None),
        timeout=args.timeout,
        max_duration=args.max_duration,
        max_event_bytes=args.max_event_bytes,
        verify=False if args.insecure else (args.cacert or True),
        stamp=not args.no_stamp,
        method=method,
        data=args.data,
        send=args.send,
    )
    try:
        options.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return options
