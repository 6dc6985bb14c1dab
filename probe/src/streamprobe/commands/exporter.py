"""``streamprobe exporter``: serve probes to Prometheus (``GET /probe?target=URL[&module=NAME]``)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Final

from ..exporter import DEFAULT_MAX_CONCURRENT, check_available
from ..request_args import positive_int
from ..usage import UsageError

NAME: Final = "exporter"
HELP: Final = "serve probes to Prometheus at /probe?target=URL (the [exporter] extra)"
LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("streamprobe.exporter")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        required=True,
        metavar="HOST:PORT",
        help="where to serve /probe, /metrics and / (e.g. 0.0.0.0:9116; [::]:9116 for IPv6)",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="YAML: modules and allowed_targets (docs/exporter.md)"
    )
    parser.add_argument(
        "--allow-target",
        action="append",
        default=[],
        metavar="PATTERN",
        help="a glob over the whole target URL that may be probed, e.g. 'http://*.svc.cluster.local:8080/*' "
        "(repeatable; added to the config's allowed_targets; with none, every probe is refused)",
    )
    parser.add_argument(
        "--max-concurrent",
        type=positive_int,
        default=DEFAULT_MAX_CONCURRENT,
        metavar="N",
        help=f"probes at once; past it /probe answers 503 ({DEFAULT_MAX_CONCURRENT})",
    )


def run(args: argparse.Namespace) -> int:
    try:
        check_available()
        from ..exporter.config import ExporterConfig, load_config
        from ..exporter.server import Settings, make_server, parse_listen
        from ..exporter.targets import check_pattern

        host, port = parse_listen(args.listen)
        config = load_config(args.config) if args.config else ExporterConfig()
        allow = tuple(check_pattern(p) for p in args.allow_target)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = Settings(config=config, allow_targets=allow, max_concurrent=args.max_concurrent)
    try:
        server = make_server(host, port, settings)
    except OSError as exc:
        print(f"streamprobe exporter: cannot listen on {args.listen}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    log.info(
        "listening on %s; modules: %s; %d allowed target patterns; at most %d probes at once",
        server.url,
        ", ".join(sorted(config.modules)),
        len(settings.patterns),
        settings.max_concurrent,
    )
    if not settings.patterns:
        log.warning("no --allow-target and no allowed_targets: every probe is refused (403)")

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, name="shutdown").start()

    if threading.current_thread() is threading.main_thread():  # Kubernetes stops a pod with SIGTERM
        signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
