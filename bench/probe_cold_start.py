"""The first probe of a fresh process against curl's: whole processes, one probe each.

Starts the reference app under uvicorn on loopback (``uvicorn streamcheck.reference_app:app``), then
runs pairs of fresh processes, alternating which goes first::

    streamprobe URL --json                                     -> timings_ms.connect, timings_ms.ttfb
    curl -w '%{time_connect} %{time_starttransfer}' URL        -> connect, ttfb

Every process pays its own first-connection costs (lazy imports, codec lookups, first-call setup);
a probe that does such work inside its timed region reads slower than curl although the network is
the same. Prints a table of medians (connect and TTFB, probe vs curl, and the median of the pairwise
differences) and a last line of JSON.

Usage: .venv/bin/python bench/probe_cold_start.py [--pairs N] [--url URL]   (loopback, needs curl)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STREAM = "/api/streamcheck?events=1&interval_ms=0"
MIN_PAIRS = 7


@dataclass(frozen=True)
class Sample:
    connect_ms: float
    ttfb_ms: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def reference_app() -> Iterator[str]:
    """The reference app under uvicorn in its own process; yields its base URL once it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "service")}
    argv = [sys.executable, "-m", "uvicorn", "streamcheck.reference_app:app", "--port", str(port)]
    server = subprocess.Popen(
        [*argv, "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + STREAM, timeout=2) as resp:
                    resp.read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    err = server.stderr.read().decode() if server.stderr else ""
                    raise RuntimeError(f"uvicorn did not start: {err[-2000:]}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)


def streamprobe_command() -> list[str]:
    """The console script installed next to this interpreter (what a user runs), else ``-m``."""
    script = Path(sys.executable).parent / "streamprobe"
    return [str(script)] if script.exists() else [sys.executable, "-m", "streamprobe.cli"]


def run_probe(url: str) -> Sample:
    proc = subprocess.run([*streamprobe_command(), url, "--json"], capture_output=True, text=True, timeout=60)
    result = json.loads(proc.stdout)
    if not result["ok"]:
        raise RuntimeError(f"the probe failed: {result['error']}")
    t = result["timings_ms"]
    return Sample(float(t["connect"]), float(t["ttfb"]))


def run_curl(url: str) -> Sample:
    proc = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-H",
            "Accept: text/event-stream",
            "-w",
            "%{time_connect} %{time_starttransfer}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    connect, ttfb = (float(x) * 1000 for x in proc.stdout.split())
    return Sample(connect, ttfb)


def measure(url: str, pairs: int) -> tuple[list[Sample], list[Sample]]:
    run_probe(url), run_curl(url)  # warm-up: page cache, the server's first request
    probes: list[Sample] = []
    curls: list[Sample] = []
    for i in range(pairs):
        # alternate which goes first, so a drift of the machine's speed does not favour either
        if i % 2 == 0:
            probes.append(run_probe(url))
            curls.append(run_curl(url))
        else:
            curls.append(run_curl(url))
            probes.append(run_probe(url))
    return probes, curls


def table(probes: list[Sample], curls: list[Sample]) -> tuple[list[str], dict[str, float]]:
    """The Markdown table of medians, and the same figures for the JSON line."""
    med = statistics.median
    pairs = list(zip(probes, curls, strict=True))
    summary = {
        "probe_connect_ms": med(s.connect_ms for s in probes),
        "curl_connect_ms": med(s.connect_ms for s in curls),
        "connect_diff_ms": med(p.connect_ms - c.connect_ms for p, c in pairs),
        "probe_ttfb_ms": med(s.ttfb_ms for s in probes),
        "curl_ttfb_ms": med(s.ttfb_ms for s in curls),
        "ttfb_diff_ms": med(p.ttfb_ms - c.ttfb_ms for p, c in pairs),
    }

    def ms(key: str, sign: str = "") -> str:
        return f"{summary[key]:{sign}.2f} ms"

    rows = [
        ("phase", "streamprobe", "curl", f"difference (median of {len(pairs)} pairs)", "goal"),
        ("connect", ms("probe_connect_ms"), ms("curl_connect_ms"), ms("connect_diff_ms", "+"), ""),
        ("ttfb", ms("probe_ttfb_ms"), ms("curl_ttfb_ms"), ms("ttfb_diff_ms", "+"), "within 1 ms"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    lines = [line(rows[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows[1:])]
    diffs = [p.ttfb_ms - c.ttfb_ms for p, c in pairs]
    lines.append(f"ttfb difference, min .. max of pairs: {min(diffs):+.2f} .. {max(diffs):+.2f} ms")
    return lines, {k: round(v, 3) for k, v in summary.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15, help=f"pairs of processes (at least {MIN_PAIRS})")
    parser.add_argument("--url", help="probe this URL instead of starting the reference app")
    args = parser.parse_args()
    if args.pairs < MIN_PAIRS:
        parser.error(f"--pairs must be at least {MIN_PAIRS}")
    if shutil.which("curl") is None:
        print("curl is not installed", file=sys.stderr)
        return 1
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(reference_app()) + STREAM
        probes, curls = measure(url, args.pairs)
    curl_version = subprocess.run(["curl", "-V"], capture_output=True, text=True).stdout.split()[1]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"curl {curl_version}; loopback HTTP/1.1, one probe per process; {url}"
    )
    lines, summary = table(probes, curls)
    print("\n".join(lines))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
