"""What every hostile case checks: the probe ends in bounded time, leaves no thread or descriptor behind,
and (for body cases) stays under a peak memory measured in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from streamprobe import ProbeOptions, ProbeResult, probe

from tests.support.tls import TLSFiles, tls_files

REPO = Path(__file__).resolve().parents[2]
#: The promise: a probe never runs past max_duration by more than this.
GRACE_S = 2.0
#: Peak resident memory of a process running one probe (the interpreter and its imports included).
PEAK_RSS_MB = 100
SETTLE_S = 3.0


@pytest.fixture(scope="session")
def tls() -> TLSFiles:
    return tls_files()


def thread_names() -> list[str]:
    return sorted(t.name for t in threading.enumerate())


def open_fds() -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(f"{fd}->{os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:
            continue  # the listing's own descriptor, already closed
    return sorted(out)


@contextmanager
def no_leaks() -> Iterator[None]:
    """No thread and no descriptor more after the block than before it (after a short settle)."""
    threads, fds = len(threading.enumerate()), len(open_fds())
    yield
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if len(threading.enumerate()) <= threads and len(open_fds()) <= fds:
            return
        time.sleep(0.05)
    raise AssertionError(
        f"left behind: threads {threads} -> {len(threading.enumerate())} {thread_names()}, "
        f"descriptors {fds} -> {len(open_fds())} {open_fds()}"
    )


@dataclass
class Run:
    result: ProbeResult
    elapsed: float

    @property
    def kind(self) -> str | None:
        return None if self.result.error is None else self.result.error.kind

    @property
    def message(self) -> str:
        return "" if self.result.error is None else self.result.error.message


def bounded_probe(url: str, **options: Any) -> Run:
    """One probe, checked to end within max_duration + GRACE_S."""
    o = ProbeOptions(**options)
    start = time.monotonic()
    result = probe(url, o)
    elapsed = time.monotonic() - start
    assert elapsed <= o.max_duration + GRACE_S, (elapsed, result.to_dict())
    return Run(result, elapsed)


CHILD = """
import json, resource, sys, time
from streamprobe import ProbeOptions, probe
url, options = sys.argv[1], json.loads(sys.argv[2])
start = time.monotonic()
result = probe(url, ProbeOptions(**options))
elapsed = time.monotonic() - start
print(json.dumps({"result": result.to_dict(), "elapsed": elapsed,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


# Linux carries a process's peak RSS across fork and exec, so a child of this (large) test process would
# report this process's size: the probe runs as the grandchild of a bare interpreter instead, whose
# peak is a few MB, and reports its own ru_maxrss.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def probe_in_child(url: str, **options: Any) -> dict[str, Any]:
    """One probe in a fresh interpreter: its result, elapsed time and peak RSS (``ru_maxrss``)."""
    max_duration = float(options.get("max_duration", 60.0))
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", LAUNCHER, sys.executable, "-c", CHILD, url, json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=max_duration + 30,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out
