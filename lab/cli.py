"""``python -m lab``: start the lab, probe every path, print the table (or JSON), stop everything; then
the chain story (lab.story) in a lab of its own: each chain traced hop by hop, each fix tried."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from streamprobe.progress import Progress

from lab.procs import LabError
from lab.topology import PATH_NAMES, Lab, install_signal_handlers

if TYPE_CHECKING:
    from lab.story import StoryReport


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lab",
        description="Run the reference app behind real proxies on loopback and probe each path over "
        "HTTP/1.1 and HTTP/2: which path streams, which buffers, and why.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument(
        "--chart", type=Path, metavar="OUT.png", help="also draw the buffering delay per path"
    )
    parser.add_argument("--events", type=int, default=20, help="events per stream (default 20)")
    parser.add_argument("--interval-ms", type=int, default=100, help="ms between events (default 100)")
    parser.add_argument("--no-doctor", action="store_true", help="skip the doctor for buffered paths")
    parser.add_argument(  # browser column
        "--no-browser", action="store_true", help="skip the browser column (headless Chromium)"
    )
    parser.add_argument(
        "--no-chat",
        action="store_true",
        help="skip the chat rows (the app's own stream, stamped and generic)",
    )
    parser.add_argument(
        "--no-load",
        action="store_true",
        help="skip the load row (many streams at once through the capped hop; also skipped with --path)",
    )
    parser.add_argument(
        "--path", action="append", choices=PATH_NAMES, help="probe only this path (repeatable)"
    )
    parser.add_argument(
        "--no-story",
        action="store_true",
        help="skip the chain story (each chain traced hop by hop, each fix applied and traced again); "
        "it is also skipped with --path",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the lab's temporary directory (configs, logs)"
    )
    parser.add_argument(
        "--serve", action="store_true", help="print the paths' URLs and keep the lab running until Ctrl-C"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.events <= 500 or not 0 <= args.interval_ms <= 10000:
        parser.error("--events must be 1..500 and --interval-ms 0..10000")
    if args.events * args.interval_ms > 120000:
        parser.error("--events x --interval-ms must be at most 120000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_signal_handlers()
    try:
        with Lab(keep_workdir=args.keep) as lab:
            if args.keep:
                print(f"lab directory: {lab.workdir}", file=sys.stderr)
            if args.serve:
                return serve(lab)
            from lab.report import render_chart, render_table
            from lab.run import run_lab

            progress = Progress.for_terminal("lab: ", json_output=args.json)
            report = run_lab(
                lab,
                events=args.events,
                interval_ms=args.interval_ms,
                doctor=not args.no_doctor,
                only=args.path,
                browser=not args.no_browser,
                chat=not args.no_chat,
                load=not args.no_load,
                progress=progress,
            )
        story = None if args.no_story or args.path else tell_story(args, progress)
    except LabError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lab: interrupted; every component was stopped", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps({**report.to_dict(), **({"story": story.to_dict()} if story else {})}, indent=2))
    else:
        print(render_table(report))
        if story is not None:
            from lab.story import render_story

            print("\n" + render_story(story))
    if args.chart:
        render_chart(report, args.chart)
        print(f"chart written to {args.chart}", file=sys.stderr)
    return 0


def tell_story(args: argparse.Namespace, progress: Progress) -> StoryReport:
    """The chains (lab.chains) in a lab of their own, after the paths' lab has stopped."""
    from lab.chains import ChainLab
    from lab.story import run_story

    chains = ChainLab(keep_workdir=args.keep)
    with chains:
        if args.keep:
            print(f"chain lab directory: {chains.workdir}", file=sys.stderr)
        return run_story(
            chains, events=args.events, interval_ms=args.interval_ms, progress=progress.child("story ")
        )


def serve(lab: Lab) -> int:
    import time

    assert lab.tls is not None
    print(f"CA certificate: {lab.tls.ca_pem}")
    for path in lab.paths.values():
        print(f"{path.name:<18} {path.streamcheck_url(20, 100)}")
    print(f"{'block-proxy':<18} {lab.chat_paths['block-proxy'].chat_url(300, 10)}")
    if lab.capped is not None:
        print(f"{lab.capped.name:<18} {lab.capped.streamcheck_url(5, 100)}")
    print("Ctrl-C stops every component.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
