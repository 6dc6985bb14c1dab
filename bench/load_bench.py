"""``streamprobe load`` benchmark: accuracy against curl, what one core holds, memory per stream.

Prints a Markdown table (and ``--json`` the raw figures). Servers run in processes of their own on
loopback: the reference app under uvicorn, and a HAProxy with ``maxconn`` in front of it.

(a) Through the capped HAProxy: p50, p90 and max TTFB of ``streamprobe load`` against ``curl -Z`` on the
    same URLs (same concurrency, streams, stream length), runs alternating, median of ``--runs``. Goal:
    within 10 % or 100 ms.
(b) The largest concurrency one core holds: the load runs in a child process pinned to one CPU, the app
    on the other; stamped chat streams at 10 events/s each for 5 s, started over 2 s (``--ramp``). The
    arrival error of an event is its lag (arrival - stamp) minus the smallest lag of its stream: what the
    reader (and the server's own send path) added. Goal: p99 <= 5 ms at >= 500 streams. Also the CPU
    the child used per 1000 events.
(c) Peak RSS per 1000 concurrent streams: the child's peak RSS over its RSS before the run, per 1000
    streams open at once, at the largest concurrency measured.

The machine is shared: ``uptime``'s load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "service")]

from streamprobe.load import LoadPlan, run_load  # noqa: E402
from streamprobe.options import ProbeOptions  # noqa: E402
from streamprobe.result import ProbeResult  # noqa: E402
from streamprobe.shape import percentile  # noqa: E402

from lab.configs import haproxy_capped  # noqa: E402
from lab.curl_reference import parallel_ttfb_ms  # noqa: E402
from lab.procs import ManagedProcess, free_ports  # noqa: E402
from lab.topology import find_binary  # noqa: E402

CAP, STREAMS = 4, 16
CAPPED_STREAM = "/api/streamcheck?events=5&interval_ms=200"  # holds its slot ~800 ms
CHAT_STREAM = "/api/chat/stream?tokens=50&interval_ms=100"  # stamped, 10 events/s for 5 s
GOAL_ERROR_MS = 5.0
LEVELS = (100, 200, 300, 500, 750, 1000)


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _ttfb_figures(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": percentile(ordered, 0.5), "p90": percentile(ordered, 0.9), "max": ordered[-1]}


def capped_vs_curl(base: str, runs: int) -> dict[str, Any]:
    """(a): alternating runs of streamprobe load and curl -Z; the median of each figure."""
    ours: list[dict[str, float]] = []
    curls: list[dict[str, float]] = []
    caps: list[int | None] = []
    for run in range(runs):
        plan = LoadPlan(concurrency=STREAMS, streams=STREAMS)
        summary = run_load(base + CAPPED_STREAM, ProbeOptions(), plan)
        ours.append(_ttfb_figures(list(summary.values.ttfb.values)))
        caps.append(None if summary.cap is None else summary.cap.cap)
        urls = [f"{base}{CAPPED_STREAM}&nonce=curl{run}x{i}" for i in range(STREAMS)]
        curls.append(_ttfb_figures(parallel_ttfb_ms(urls, STREAMS)))
    keys = ("p50", "p90", "max")
    return {
        "load": {k: statistics.median(r[k] for r in ours) for k in keys},
        "curl": {k: statistics.median(r[k] for r in curls) for k in keys},
        "caps": caps,
    }


def child(url: str, concurrency: int, ramp: float, cpu: int) -> dict[str, Any]:
    """(b)/(c) in this process, pinned to ``cpu``: one load run; figures as JSON."""
    os.sched_setaffinity(0, {cpu})
    errors: list[float] = []

    def on_result(result: ProbeResult) -> None:
        lags = [a.arrive_ms - a.stamp_ms for a in result.arrivals if a.stamp_ms is not None]
        if lags:
            low = min(lags)
            errors.extend(lag - low for lag in lags)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = time.process_time()
    plan = LoadPlan(concurrency=concurrency, streams=concurrency, ramp=ramp)
    summary = run_load(url, ProbeOptions(timeout=30, max_duration=60), plan, on_result=on_result)
    cpu_s = time.process_time() - cpu_before
    errors.sort()
    return {
        "concurrency": concurrency,
        "finished": summary.finished,
        "streaming": summary.verdicts["streaming"],
        "events": summary.events,
        "error_p50_ms": percentile(errors, 0.5) if errors else None,
        "error_p99_ms": percentile(errors, 0.99) if errors else None,
        "cpu_ms_per_1000_events": 1e6 * cpu_s / summary.events if summary.events else None,
        "rss_before_mb": rss_before / 1024,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def one_core(base: str, levels: tuple[int, ...], runs: int, ramp: float) -> list[dict[str, Any]]:
    rows = []
    for level in levels:
        samples = []
        for _ in range(runs):
            argv = [sys.executable, __file__, "--child", base + CHAT_STREAM, str(level), str(ramp)]
            out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300).stdout
            samples.append(json.loads(out))
        row = {k: statistics.median(s[k] for s in samples) for k in samples[0] if samples[0][k] is not None}
        row["load"] = load_average()
        rows.append(row)
        print(f"  {level} streams: {row}", file=sys.stderr)
    return rows


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def render(capped: dict[str, Any], rows: list[dict[str, Any]], loads: list[str]) -> str:
    lines = [
        f"machine: {platform.machine()} {os.cpu_count()} cpu (shared), Python {platform.python_version()}; "
        + "; ".join(loads),
        "",
        f"(a) {STREAMS} streams at once through HAProxy maxconn {CAP} ({CAPPED_STREAM}), median of runs",
        "",
        "| TTFB | streamprobe load | curl -Z | difference | within 10 % or 100 ms |",
        "|---|---|---|---|---|",
    ]
    for key in ("p50", "p90", "max"):
        ours, theirs = capped["load"][key], capped["curl"][key]
        ok = abs(ours - theirs) <= max(100.0, 0.1 * theirs)
        verdict = "yes" if ok else "NO"
        lines.append(f"| {key} | {_ms(ours)} | {_ms(theirs)} | {_ms(ours - theirs)} | {verdict} |")
    lines.append(f"\ncap named by streamprobe load in each run: {capped['caps']}")
    lines += [
        "",
        f"(b, c) one core (the load pinned to one CPU, the app on the other), stamped {CHAT_STREAM}",
        "",
        "| streams at once | streaming | arrival error p50 | p99 | CPU per 1000 events | peak RSS | "
        "RSS per 1000 streams | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        per_1000 = (r["rss_peak_mb"] - r["rss_before_mb"]) * 1000 / r["concurrency"]
        lines.append(
            f"| {r['concurrency']:.0f} | {r['streaming']:.0f}/{r['finished']:.0f} "
            f"| {_ms(r.get('error_p50_ms'))} "
            f"| {_ms(r.get('error_p99_ms'))} | {_ms(r.get('cpu_ms_per_1000_events'))} "
            f"| {r['rss_peak_mb']:.0f} MB | {per_1000:.0f} MB | {r['load']} |"
        )
    held = [r["concurrency"] for r in rows if r.get("error_p99_ms", 1e9) <= GOAL_ERROR_MS]
    lines.append(
        f"\nlargest concurrency with arrival error p99 <= {GOAL_ERROR_MS:g} ms: {max(held):.0f}"
        if held
        else f"\nno level held arrival error p99 <= {GOAL_ERROR_MS:g} ms"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrencies for (b)")
    parser.add_argument(
        "--ramp", type=float, default=2.0, help="(b): start the streams over S seconds (not a burst)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("URL", "N", "RAMP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), float(args.child[2]), cpu=1)))
        return 0
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    app_port, capped_port = free_ports(2)
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp_name:
        tmp = Path(tmp_name)
        app = ManagedProcess(
            "app",
            [
                *("taskset", "-c", "0", sys.executable, "-m", "uvicorn"),
                *("streamcheck.reference_app:create_app", "--factory", "--port", str(app_port)),
                *("--log-level", "warning", "--no-access-log"),
                *("--backlog", "4096"),
            ],
            log_path=tmp / "app.log",
            ports=[app_port],
            env=dict(os.environ, PYTHONPATH=str(ROOT / "service")),
        )
        conf = tmp / "capped.cfg"
        conf.write_text(haproxy_capped(port=capped_port, upstream_port=app_port, maxconn=CAP))
        argv = [find_binary("haproxy"), "-db", "-f", str(conf)]
        haproxy = ManagedProcess("capped", argv, log_path=tmp / "haproxy.log", ports=[capped_port])
        try:
            app.start()
            haproxy.start()
            loads = [f"(a) {load_average()}"]
            capped = capped_vs_curl(f"http://127.0.0.1:{capped_port}", args.runs)
            loads.append(f"(b) {load_average()}")
            levels = tuple(int(x) for x in args.levels.split(","))
            rows = one_core(f"http://127.0.0.1:{app_port}", levels, args.runs, args.ramp)
        finally:
            haproxy.stop()
            app.stop()
    figures = {"capped": capped, "one_core": rows}
    print(json.dumps(figures, indent=2) if args.json else render(capped, rows, loads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
