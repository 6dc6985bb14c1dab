"""Nothing is lost: every test id collected before the suite was parallelised is still collected.

tests/collected-ids.txt is that baseline (``pytest --collect-only -q``, sorted). New ids need no entry; an
id that disappears (a test dropped, renamed or re-parametrized) fails here until it is back, or until it is
listed in tests/retired-ids.txt with where the test went and why (a rename, a move, a message in a
parametrized id), in the same commit, for review.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

# One worker for the module: its one collection of the suite (collected_ids) serves both tests that read it.
pytestmark = pytest.mark.xdist_group("tests/test_collected_ids.py")

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "collected-ids.txt"
RETIRED = ROOT / "tests" / "retired-ids.txt"


def baseline_ids() -> set[str]:
    lines = BASELINE.read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def retired_ids() -> dict[str, str]:
    """Baseline id -> where the test went and why (tests/retired-ids.txt: id, a tab, the reason)."""
    retired = {}
    for line in RETIRED.read_text().splitlines():
        if line and not line.startswith("#"):
            test_id, tab, reason = line.partition("\t")
            assert tab and reason.strip(), f"tests/retired-ids.txt: {test_id!r} needs a tab and a reason"
            retired[test_id] = reason
    return retired


def collected_ids(session: pytest.Session) -> frozenset[str]:
    """Every test id of the suite: this run's own collection when it is the whole suite, else a collection
    of the whole suite in a child process."""
    return ids_of_this_run(session) or collect_whole_suite()


def ids_of_this_run(session: pytest.Session) -> frozenset[str] | None:
    """The ids this run collected, if it collected the whole suite (``testpaths``, nothing deselected)."""
    config = session.config
    option = config.option
    narrowed = (
        option.keyword,
        option.markexpr,
        getattr(option, "deselect", None),
        getattr(option, "ignore", None),
        getattr(option, "ignore_glob", None),
        getattr(option, "lf", False),
        getattr(option, "stepwise", False),
    )
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS or any(narrowed):
        return None
    return frozenset(item.nodeid for item in session.items)


@functools.cache  # one collection of the whole suite serves every test here (they run on one worker)
def collect_whole_suite() -> frozenset[str]:
    # Not under xdist (its output differs), and with no PYTEST_ADDOPTS of the caller's shell.
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_ADDOPTS"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return frozenset(line for line in proc.stdout.splitlines() if "::" in line)


def test_the_baseline_is_sorted_and_unique() -> None:
    ids = [line for line in BASELINE.read_text().splitlines() if line and not line.startswith("#")]
    assert ids == sorted(set(ids)), "keep tests/collected-ids.txt sorted, one id per line"
    # 1485 before the change, less one retired id whose text held an access-key-shaped string (dropped from
    # both files so no credential-like text is tracked).
    assert len(ids) >= 1484


def test_every_baseline_id_is_still_collected(request: pytest.FixtureRequest) -> None:
    missing = sorted(baseline_ids() - collected_ids(request.session) - retired_ids().keys())
    assert not missing, f"{len(missing)} test ids are no longer collected:\n" + "\n".join(missing[:50])


def test_a_retired_id_is_really_gone_and_was_in_the_baseline(request: pytest.FixtureRequest) -> None:
    retired = retired_ids().keys()
    assert retired <= baseline_ids(), sorted(retired - baseline_ids())[:20]
    assert not retired & collected_ids(request.session), "collected again: drop it from tests/retired-ids.txt"
