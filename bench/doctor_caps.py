"""What the doctor's few streams at once cost, and what they find, on the lab's paths.

For each path (the app direct, the lab's ``capped-haproxy``: HAProxy ``maxconn 2``, the API Gateway
stand-in in STREAM mode), ``streamprobe doctor`` on a 5 x 100 ms streamcheck stream, ``--runs`` times
with ``--concurrent-streams 0`` and 4: the median wall time, the cap named and the exit status. Prints a
Markdown table with the machine's 1-minute load average (the 2 vCPU are shared).

``.venv/bin/python bench/doctor_caps.py --runs 3``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamprobe import ProbeOptions  # noqa: E402
from streamprobe.doctor import DoctorReport, run_doctor  # noqa: E402

from lab.topology import CAPPED_MAXCONN, Lab, LabPath  # noqa: E402

STREAMS = (0, 4)


def timed(url: str, name: str, streams: int) -> tuple[float, DoctorReport]:
    started = time.monotonic()
    report = run_doctor(url, ProbeOptions(name=name), concurrent_streams=streams)
    return time.monotonic() - started, report


def row(path: LabPath, runs: int) -> list[str]:
    url = path.streamcheck_url(5, 100)
    cells = []
    for streams in STREAMS:
        readings = [timed(url, path.name, streams) for _ in range(runs)]
        median = statistics.median(seconds for seconds, _ in readings)
        last = readings[-1][1]
        check = last.concurrency
        cap = "-" if check is None else (str(check.cap.cap) if check.cap else "none")
        rounds = "" if check is None else f", {len(check.rounds)} round{'s' if len(check.rounds) > 1 else ''}"
        cells.append(f"{median:.2f} s (cap {cap}{rounds}, exit {last.exit_code})")
    return [path.name, *cells]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="doctor runs per cell (median; default 3)")
    args = parser.parse_args()
    with Lab() as lab:
        assert lab.capped is not None
        paths = [lab.paths["direct"], lab.capped, lab.paths["apigw-stream"]]
        rows = [row(path, args.runs) for path in paths]
    load = os.getloadavg()[0]
    print(
        f"doctor on a 5 x 100 ms stream, median of {args.runs} "
        f"(capped-haproxy: maxconn {CAPPED_MAXCONN}; load {load:.1f})"
    )
    print("| path | --concurrent-streams 0 | --concurrent-streams 4 |")
    print("|---|---|---|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
