"""How accurate and how cheap is streamprobe? (prints a table; in-process, warm)

* TTFB: a local server waits a known time before its headers; streamprobe's ``ttfb`` against
  curl's ``time_starttransfer`` for the same URL, alternating, median of 20 each.
* Event arrival error: the server stamps each event with its absolute send time (CLOCK_MONOTONIC,
  shared by all processes on Linux); error = arrival as the probe timestamps it - send time.
* CPU time per probe: process CPU (all threads, incl. the watchdog) around ``probe()``; the server
  runs in another process so it is not counted.

The first probe of a fresh process, whole processes against curl's, is bench/probe_cold_start.py.

Usage: .venv/bin/python bench/probe_accuracy.py [--quick]     (loopback only, needs curl)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Connection: close\r\n\r\n"
)


# -- the server (runs in a child process: `probe_accuracy.py --serve`) --------------------------


def _handle(conn: socket.socket) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        t0 = time.perf_counter()
        target = data.split(b" ", 2)[1].decode()
        q = {k: float(v[0]) for k, v in parse_qs(urlsplit(target).query).items() if k != "nonce"}
        delay, events, interval = (
            q.get("delay_ms", 50) / 1000,
            int(q.get("events", 1)),
            q.get("interval_ms", 0) / 1000,
        )
        _sleep_until(t0 + delay)
        conn.sendall(HEAD)
        for seq in range(events):
            _sleep_until(t0 + delay + seq * interval)
            sent_ms = time.perf_counter() * 1000  # absolute: the probe compares it with its own clock
            conn.sendall(f'id: {seq}\ndata: {{"seq": {seq}, "sent_ms": {sent_ms:.4f}}}\n\n'.encode())
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)


def _sleep_until(deadline: float) -> None:
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        time.sleep(remaining if remaining > 0.002 else 0)  # sleep, then spin the last 2 ms


def serve() -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_handle, args=(conn,), daemon=True).start()


# -- measurements ---------------------------------------------------------------------------------


def curl_ttfb(url: str) -> float:
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-H",
            "Accept: text/event-stream",
            "-w",
            "%{time_starttransfer}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return float(out) * 1000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    if shutil.which("curl") is None:
        print("curl is not installed", file=sys.stderr)
        return 1
    from streamprobe import ProbeOptions, probe

    n_ttfb = 5 if args.quick else 20
    event_runs = 1 if args.quick else 5
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}/sse"
        options = ProbeOptions(name="bench", accept_encoding="identity", timeout=10, max_duration=60)
        head_delay = 50
        ttfb_url = f"{base}?delay_ms={head_delay}&events=1"
        probe(ttfb_url, options), curl_ttfb(ttfb_url)  # warm up (imports, page cache)
        probe_ttfb, curl_times, diffs = [], [], []
        for _ in range(n_ttfb):
            r = probe(ttfb_url, options)
            assert r.ok and r.timings_ms["ttfb"] is not None, r.to_dict()
            c = curl_ttfb(ttfb_url)
            probe_ttfb.append(r.timings_ms["ttfb"])
            curl_times.append(c)
            diffs.append(r.timings_ms["ttfb"] - c)

        errors: list[float] = []
        events_url = f"{base}?delay_ms=0&events=100&interval_ms=20"
        for _ in range(event_runs):
            r = probe(events_url, options)
            assert r.ok and r.clock_origin is not None, r.to_dict()
            origin_ms = r.clock_origin * 1000
            errors += [origin_ms + a.arrive_ms - a.sent_ms for a in r.arrivals if a.sent_ms is not None]

        cpu: dict[str, list[float]] = {"1 event": [], "100 events": []}
        for label, url in (
            ("1 event", f"{base}?delay_ms=0&events=1"),
            ("100 events", f"{base}?delay_ms=0&events=100&interval_ms=1"),
        ):
            for _ in range(3 if args.quick else 10):
                c0 = time.process_time()
                r = probe(url, options)
                cpu[label].append((time.process_time() - c0) * 1000)
                assert r.ok, r.to_dict()
    finally:
        server.kill()
        server.wait()

    curl_version = subprocess.run(["curl", "-V"], capture_output=True, text=True).stdout.split()[1]
    print(
        f"machine: {platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; "
        f"curl {curl_version}; loopback HTTP/1.1"
    )
    rows = [
        (
            f"TTFB streamprobe, median of {n_ttfb} (server waits {head_delay} ms)",
            f"{statistics.median(probe_ttfb):.2f} ms",
            "",
        ),
        (f"TTFB curl time_starttransfer, median of {n_ttfb}", f"{statistics.median(curl_times):.2f} ms", ""),
        (
            "TTFB difference streamprobe - curl, median of pairs",
            f"{statistics.median(diffs):+.2f} ms",
            "within 1 ms",
        ),
        ("TTFB difference, min .. max of pairs", f"{min(diffs):+.2f} .. {max(diffs):+.2f} ms", ""),
        (f"event arrival error p50 ({len(errors)} events, 20 ms apart)", f"{pct(errors, 50):.3f} ms", ""),
        ("event arrival error p99", f"{pct(errors, 99):.3f} ms", "< 2 ms"),
        ("event arrival error max", f"{max(errors):.3f} ms", ""),
        ("CPU per probe, 1 event (median)", f"{statistics.median(cpu['1 event']):.2f} ms", ""),
        ("CPU per probe, 100 events (median)", f"{statistics.median(cpu['100 events']):.2f} ms", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure'.ljust(width)} | {'value':>20} | {'goal':<11} |")
    print(f"|{'-' * (width + 2)}|{'-' * 22}|{'-' * 13}|")
    for name, value, goal in rows:
        print(f"| {name.ljust(width)} | {value:>20} | {goal:<11} |")
    print(
        json.dumps(
            {
                "ttfb_diff_ms_median": round(statistics.median(diffs), 3),
                "event_error_ms_p99": round(pct(errors, 99), 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
