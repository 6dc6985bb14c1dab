"""What does StampMiddleware cost? Prints a Markdown table.

* Cost per event: the middleware called directly over ASGI (no server, a no-op ``send``), many chat-sized
  events, against the same app without it; the best of several runs each, in microseconds per event.
  Rows: a request without the header (pass-through), with it (one stamp per piece), pieces split
  mid-line (the line-end search), and 4 KiB pieces (the copy a stamp inserted into a piece costs).
* Events/s through uvicorn: the reference app's chat stream (``tokens=2000&interval_ms=0``) from a
  uvicorn in its own process on loopback, with and without the middleware; median of several streams.

Usage: .venv/bin/python bench/stamp_middleware.py [--quick]     (loopback only; bounded loops)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "service")]

import anyio  # noqa: E402
import httpx  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402
from streamcheck import StampMiddleware, format_event  # noqa: E402

SSE_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
}
CHAT_EVENT = format_event({"token": " streaming"})  # 29 bytes, like one chat token
BIG_EVENT = format_event("x" * 4080)
ASKED = [(b"x-streampath-stamp", b"1")]

SERVER = """
import sys, uvicorn
from streamcheck.reference_app import create_app
uvicorn.run(create_app(stamp=sys.argv[2] == "stamp"), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning", access_log=False)
"""


def streaming_app(pieces: Sequence[bytes]) -> ASGIApp:
    messages = [{"type": "http.response.body", "body": p, "more_body": True} for p in pieces]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(SSE_START)
        for message in messages:
            await send(message)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


async def _no_send(message: Message) -> None:
    return None


def best_time(app: ASGIApp, headers: list[tuple[bytes, bytes]], runs: int) -> float:
    """The fastest of ``runs`` calls of ``app`` (seconds), all in one event loop."""
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""}

    async def measure() -> float:
        best = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            await app(scope, _no_receive, _no_send)
            best = min(best, time.perf_counter() - started)
        return best

    return anyio.run(measure)


def direct_rows(events: int, runs: int) -> list[tuple[str, str]]:
    half = len(CHAT_EVENT) // 2
    cases: list[tuple[str, list[bytes], list[tuple[bytes, bytes]]]] = [
        ("no header (pass-through)", [CHAT_EVENT] * events, []),
        ("stamped, one event per piece", [CHAT_EVENT] * events, ASKED),
        ("stamped, pieces split mid-line", [CHAT_EVENT[:half], CHAT_EVENT[half:]] * events, ASKED),
        ("stamped, 4 KiB pieces", [BIG_EVENT] * events, ASKED),
    ]
    rows = []
    for name, pieces, headers in cases:
        app = streaming_app(pieces)
        baseline = best_time(app, headers, runs)
        wrapped = best_time(StampMiddleware(app), headers, runs)
        per_event_us = (wrapped - baseline) / events * 1e6
        rows.append(
            (
                f"cost per event, {name}",
                f"{per_event_us:.2f} µs ({baseline / events * 1e6:.2f} → {wrapped / events * 1e6:.2f} µs)",
            )
        )
    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(variant: str) -> Iterator[str]:
    """The reference app under uvicorn in its own process (its own GIL, as a real service would be)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "service")}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), variant],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"uvicorn ({variant}) did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def stream_rate(client: httpx.Client, url: str, headers: dict[str, str], tokens: int) -> float:
    """Events per second of one whole chat stream, request sent to last byte."""
    started = time.perf_counter()
    data = bytearray()
    with client.stream("GET", url, headers=headers) as response:
        for chunk in response.iter_raw():
            data += chunk
    elapsed = time.perf_counter() - started
    events = data.count(b"\n\n")
    if events != tokens + 1:
        raise RuntimeError(f"expected {tokens + 1} events, got {events}")
    return events / elapsed


def served_rows(tokens: int, streams: int) -> list[tuple[str, str]]:
    query = f"/api/chat/stream?tokens={tokens}&interval_ms=0"
    variants: list[tuple[str, str, dict[str, str]]] = [
        ("without the middleware", "plain", {}),
        ("with it, request without the header", "stamp", {}),
        ("with it, stamped", "stamp", {"X-Streampath-Stamp": "1"}),
    ]
    rates: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    with server("plain") as plain_url, server("stamp") as stamp_url, httpx.Client(timeout=60) as client:
        urls = {"plain": plain_url, "stamp": stamp_url}
        for _, variant, headers in variants:  # warm-up: imports, first connection
            stream_rate(client, urls[variant] + query, headers, tokens)
        for _ in range(streams):  # interleaved, so a busy moment of the machine hits all variants alike
            for name, variant, headers in variants:
                rates[name].append(stream_rate(client, urls[variant] + query, headers, tokens))
    base = statistics.median(rates[variants[0][0]])
    rows = []
    for name, _, _ in variants:
        rate = statistics.median(rates[name])
        rows.append((f"uvicorn events/s, {name}", f"{rate:,.0f} ({(rate / base - 1) * 100:+.1f} %)"))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer events and streams")
    args = parser.parse_args(argv)
    events, runs, tokens, streams = (5_000, 3, 500, 3) if args.quick else (20_000, 7, 2000, 7)
    sections: list[Callable[[], list[tuple[str, str]]]] = [
        lambda: direct_rows(events, runs),
        lambda: served_rows(tokens, streams),
    ]
    print("| StampMiddleware | measured |")
    print("|---|---|")
    for section in sections:
        for name, value in section():
            print(f"| {name} | {value} |")
    print(
        f"\n(direct: {events} events per call, best of {runs}; uvicorn: {tokens + 1}-event chat stream,"
        f" median of {streams}; {platform.python_implementation()} {platform.python_version()},"
        f" {os.cpu_count()} CPUs shared with the client)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
