"""One lab per test session: every component started once, every path probed once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.run import LabReport, run_lab
from lab.topology import Lab

# A 2.85 s stream: streaming <= 285 ms of delay, buffered >= 2280 ms (wide: 2 cores shared with others).
EVENTS, INTERVAL_MS = 20, 150


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with Lab() as running:
        yield running


@pytest.fixture(scope="session")
def report(lab: Lab) -> LabReport:
    return run_lab(lab, events=EVENTS, interval_ms=INTERVAL_MS, doctor=True, workers=8)


def lab_processes(workdir: Path) -> list[tuple[int, str]]:
    """Processes whose command line or working directory is inside ``workdir`` (ours, by construction)."""
    found = []
    needle = str(workdir)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            try:
                cwd = str((entry / "cwd").readlink())
            except OSError:
                cwd = ""
        except OSError:
            continue
        if state != "Z" and (needle in cmdline or cwd.startswith(needle)):
            found.append((int(entry.name), cmdline))
    return found
