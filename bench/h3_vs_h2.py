"""HTTP/3 against HTTP/2 through the same front, on loopback: what does the probe see, and what does it cost?

Caddy (h1 h2 h3, TLS) in front of the reference app, both in child processes; this process probes
``/api/streamcheck`` alternately with ``http="h2"`` and ``http="h3"`` (one fresh connection each).

* TTFB and handshake (connect + tls): as the probe reports them (for QUIC, see ``streamprobe.http3``).
* Event arrival error: for each event, its lag (arrival at the probe - streamcheck's ``sent_ms``)
  minus the smallest lag of its probe: how much later than the best of its stream an event came,
  i.e. what the path and the client add (the clocks' offset cancels, as in the buffering delay).
* CPU per probe: this process's CPU time (all threads) around ``probe()``; the servers are not counted.

Usage: .venv/bin/python bench/h3_vs_h2.py [--probes N] [--events N] [--interval-ms MS] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamprobe import ProbeOptions, ProbeResult, probe  # noqa: E402

from lab.caddy import CaddySite, caddy_process  # noqa: E402
from lab.certs import make_tls  # noqa: E402
from lab.procs import ManagedProcess, free_ports  # noqa: E402
from lab.topology import find_binary  # noqa: E402

PROTOCOLS = ("h2", "h3")
UVICORN = (sys.executable, "-m", "uvicorn", "streamcheck.reference_app:app", "--host", "127.0.0.1")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def arrival_errors(result: ProbeResult) -> list[float]:
    lags = [a.arrive_ms - a.sent_ms for a in result.arrivals if a.sent_ms is not None]
    return [lag - min(lags) for lag in lags] if lags else []


def measure(url: str, ca_pem: str, probes: int) -> dict[str, dict[str, Any]]:
    samples: dict[str, dict[str, list[float]]] = {
        http: {"ttfb": [], "handshake": [], "errors": [], "cpu": []} for http in PROTOCOLS
    }
    failures: dict[str, list[str]] = {http: [] for http in PROTOCOLS}
    for http in PROTOCOLS:  # one warm-up each: imports, TLS contexts, Caddy's first connection
        probe(url, ProbeOptions(http=http, verify=ca_pem, timeout=5))  # type: ignore[arg-type]
    for _ in range(probes):
        for http in PROTOCOLS:
            cpu = time.process_time()
            r = probe(url, ProbeOptions(http=http, verify=ca_pem, timeout=5, max_duration=30))  # type: ignore[arg-type]
            used = (time.process_time() - cpu) * 1000
            if r.error is not None:
                failures[http].append(f"{r.error.kind}: {r.error.message}")
                continue
            s = samples[http]
            t = r.timings_ms
            s["cpu"].append(used)
            if t["ttfb"] is not None:
                s["ttfb"].append(t["ttfb"])
            if t["connect"] is not None and t["tls"] is not None:
                s["handshake"].append(t["connect"] + t["tls"])
            s["errors"].extend(arrival_errors(r))
    summary: dict[str, dict[str, Any]] = {}
    for http in PROTOCOLS:
        s = samples[http]
        summary[http] = {
            "probes": len(s["cpu"]),
            "failed": len(failures[http]),
            "ttfb_ms_p50": percentile(s["ttfb"], 50) if s["ttfb"] else None,
            "ttfb_ms_p99": percentile(s["ttfb"], 99) if s["ttfb"] else None,
            "handshake_ms_p50": percentile(s["handshake"], 50) if s["handshake"] else None,
            "arrival_error_ms_p50": percentile(s["errors"], 50) if s["errors"] else None,
            "arrival_error_ms_p99": percentile(s["errors"], 99) if s["errors"] else None,
            "cpu_ms_per_probe": statistics.median(s["cpu"]) if s["cpu"] else None,
            "first_failure": failures[http][0] if failures[http] else None,
        }
    return summary


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(summary: dict[str, dict[str, Any]], events: int, interval_ms: int) -> str:
    lines = [
        f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        f"Caddy h1/h2/h3 -> reference app, loopback; {events} events x {interval_ms} ms per probe",
        "",
        f"{'protocol':<9}{'probes':>7}{'ttfb p50':>10}{'ttfb p99':>10}{'handshake':>11}"
        f"{'arrival err p50':>17}{'p99':>8}{'cpu/probe':>11}",
    ]
    for http, label in (("h2", "HTTP/2"), ("h3", "HTTP/3")):
        s = summary[http]
        lines.append(
            f"{label:<9}{s['probes']:>7}{_fmt(s['ttfb_ms_p50']):>10}{_fmt(s['ttfb_ms_p99']):>10}"
            f"{_fmt(s['handshake_ms_p50']):>11}{_fmt(s['arrival_error_ms_p50']):>17}"
            f"{_fmt(s['arrival_error_ms_p99']):>8}{_fmt(s['cpu_ms_per_probe']):>11}"
        )
        if s["failed"]:
            lines.append(f"  {label}: {s['failed']} probe(s) failed, first: {s['first_failure']}")
    lines += [
        "",
        "ms; handshake = connect + tls (p50); arrival err = lag - the probe's smallest lag;",
        "cpu/probe = median CPU time of this process per probe (the servers run in other processes)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=30, help="probes per protocol (1..500, default 30)")
    parser.add_argument("--events", type=int, default=20, help="events per stream (default 20)")
    parser.add_argument("--interval-ms", type=int, default=25, help="ms between events (default 25)")
    parser.add_argument("--json", action="store_true", help="print only the JSON summary")
    args = parser.parse_args(argv)
    if not 1 <= args.probes <= 500 or not 1 <= args.events <= 500 or not 0 <= args.interval_ms <= 1000:
        parser.error("--probes 1..500, --events 1..500, --interval-ms 0..1000")
    with tempfile.TemporaryDirectory(prefix="streampath-h3-bench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "tls").mkdir()
        tls = make_tls(tmp / "tls")
        app_port, front_port = free_ports(2)
        app = ManagedProcess(
            "app",
            [*UVICORN, "--port", str(app_port), "--log-level", "warning", "--no-access-log"],
            log_path=tmp / "app.log",
            ports=[app_port],
            cwd=tmp,
        )
        caddy = caddy_process(
            find_binary("caddy"),
            tmp / "caddy",
            [CaddySite(front_port, app_port)],
            cert_pem=tls.cert_pem,
            key_pem=tls.key_pem,
        )
        try:
            app.start()
            caddy.start()
            url = (
                f"https://127.0.0.1:{front_port}/api/streamcheck?events={args.events}"
                f"&interval_ms={args.interval_ms}"
            )
            summary = measure(url, str(tls.ca_pem), args.probes)
        finally:
            caddy.stop()
            app.stop()
    if not args.json:
        print(render(summary, args.events, args.interval_ms))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
