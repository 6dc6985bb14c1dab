"""What 10,000 streams cost through ``streampath run-load`` (the canary function's ``load`` event).

Runs the handler's load-event code (``streampath_canary.load_event.run_load_event``) here, in process,
against the reference app (uvicorn, its own process) on loopback: N streams per invocation, each 10 s at
10 events/s, started over 1 s. Measures the invocation's wall time (what Lambda bills) and the CPU it
used, then prices 10,000 streams (10,000 / N invocations) at Lambda arm64 list prices
(bench/canary_bench.py's, us-east-1) for a few memory sizes. ``CPU share`` is the CPU the run needed over
the vCPU the memory buys (1769 MB = 1 vCPU): above ~50 % the timings start to measure the function, not
the path, so pick the smallest size below that.

Streams download only (inbound data is free); the load event logs no line per stream.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "service"), str(ROOT / "lambda" / "canary")]

from streampath_canary.auth_secrets import SecretCache  # noqa: E402
from streampath_canary.contract import CanarySpec  # noqa: E402
from streampath_canary.load_event import run_load_event  # noqa: E402

from bench.canary_bench import LAMBDA_ARM_GB_S, LAMBDA_REQUEST  # noqa: E402
from lab.procs import ManagedProcess, free_ports  # noqa: E402

STREAM = "/api/streamcheck?events=100&interval_ms=100"  # 10 s, 10 events/s
MEMORY_MB = (512, 1024, 1769)
STREAMS_TOTAL = 10_000
FULL_VCPU_MB = 1769


def measure(url: str, per_invocation: int) -> tuple[float, float, int]:
    """(wall s, CPU s, streams judged streaming) of one load event of ``per_invocation`` streams."""
    spec = CanarySpec.from_document({"paths": [{"name": "bench", "url": url, "protocols": ["h1"]}]})
    event = {"path": "bench", "concurrency": per_invocation, "streams": per_invocation, "ramp": 1}
    wall, cpu = time.monotonic(), time.process_time()
    part = run_load_event(spec, event, budget_s=120, secrets=SecretCache())["load"]
    return time.monotonic() - wall, time.process_time() - cpu, int(part["verdicts"]["streaming"])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--per-invocation", default="100,200", help="streams per invocation (comma-separated)"
    )
    args = parser.parse_args()
    (port,) = free_ports(1)
    with tempfile.TemporaryDirectory(prefix="load-cost-") as tmp:
        argv = [sys.executable, "-m", "uvicorn", "streamcheck.reference_app:create_app", "--factory"]
        argv += ["--port", str(port), "--log-level", "warning", "--no-access-log", "--backlog", "4096"]
        env = dict(os.environ, PYTHONPATH=str(ROOT / "service"))
        app = ManagedProcess("app", argv, log_path=Path(tmp) / "app.log", ports=[port], env=env)
        try:
            app.start()
            rows = [
                (n, *measure(f"http://127.0.0.1:{port}{STREAM}", n))
                for n in map(int, args.per_invocation.split(","))
            ]
        finally:
            app.stop()
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; streams of {STREAM}\n")
    print("| streams per invocation | streaming | duration | CPU | memory | CPU share | per 10,000 streams |")
    print("|---|---|---|---|---|---|---|")
    for n, wall, cpu, streaming in rows:
        invocations = STREAMS_TOTAL / n
        for memory in MEMORY_MB:
            gb = memory / 1024
            cost = invocations * (wall * gb * LAMBDA_ARM_GB_S + LAMBDA_REQUEST)
            share = cpu / wall / (memory / FULL_VCPU_MB)
            cells = [str(n), f"{streaming}/{n}", f"{wall:.1f} s", f"{cpu:.1f} s", f"{memory} MB"]
            print("| " + " | ".join([*cells, f"{share:.0%}", f"${cost:.4f}"]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
