"""tests/conftest.py's grouping, applied by the installed pytest-xdist as `make test` runs it.

A small project with this suite's conftest: tests that share an area's session fixture, tests marked
``lab``, ``browser`` or ``timing`` in different areas, and tests that share nothing. Each group must run
on one worker; a pytest or xdist release that drops the groups (every test scheduled alone) fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

AREA_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def server():
    return "started once"
"""
# Each test takes a moment, so that both workers are busy and tests scheduled alone alternate between them.
AREA_TESTS = "import time\n" + "".join(
    f"\ndef test_shares_{i}(server):\n    time.sleep(0.2)\n" for i in range(4)
)
MARKED_TESTS = """
import time

import pytest

pytestmark = pytest.mark.{marker}

def test_one():
    time.sleep(0.2)

def test_two():
    time.sleep(0.2)
"""
LONE_TESTS = "import time\n" + "".join(f"\ndef test_alone_{i}():\n    time.sleep(0.2)\n" for i in range(6))


def write_project(root: Path) -> None:
    (root / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'markers = ["lab: l", "browser: b", "timing: t"]\n'
        'addopts = "--strict-markers"\n'
    )
    tests = root / "tests"
    for area in ("area", "lab", "web", "load", "plain"):
        (tests / area).mkdir(parents=True)
        (tests / area / "__init__.py").write_text("")
    (tests / "__init__.py").write_text("")
    (tests / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (tests / "area" / "conftest.py").write_text(AREA_CONFTEST)
    (tests / "area" / "test_area.py").write_text(AREA_TESTS)
    (tests / "lab" / "test_lab.py").write_text(MARKED_TESTS.format(marker="lab"))
    (tests / "web" / "test_web.py").write_text(MARKED_TESTS.format(marker="browser"))
    (tests / "load" / "test_load.py").write_text(MARKED_TESTS.format(marker="timing"))
    (tests / "plain" / "test_plain.py").write_text(LONE_TESTS)


def test_groups_run_on_one_worker_each(tmp_path: Path) -> None:
    write_project(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder", "-v"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    passed = re.findall(r"\[(gw\d+)\] \[\s*\d+%\] PASSED (\S+)", proc.stdout)
    assert len(passed) == 4 + 2 + 2 + 2 + 6, proc.stdout
    workers: dict[str, set[str]] = {}
    for worker, nodeid in passed:
        area = nodeid.split("/")[1]
        group = {"area": "tests/area", "lab": "timing-lab", "web": "timing", "load": "timing"}.get(area, area)
        workers.setdefault(group, set()).add(worker)
    # One worker for each group (with 2 workers both timing lanes on gw0); the tests that share nothing
    # were spread over both.
    assert {group: len(seen) for group, seen in workers.items()} == {
        "tests/area": 1,
        "timing-lab": 1,
        "timing": 1,
        "plain": 2,
    }, proc.stdout
    assert workers["timing-lab"] == workers["timing"] == {"gw0"}, proc.stdout


def test_each_timing_lane_runs_on_its_own_worker_and_everything_else_steps_back(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write_project(project)
    seen = tmp_path / "seen"
    seen.mkdir()
    # Every test records its worker and that worker's niceness.
    for test_file in (project / "tests").rglob("test_*.py"):
        text = test_file.read_text().replace("time.sleep(0.2)", "time.sleep(0.2); record_here()")
        test_file.write_text(
            text
            + "\n\ndef record_here():\n"
            + "    import inspect, os\n"
            + "    caller = inspect.stack()[1]\n"
            + "    worker = os.environ['PYTEST_XDIST_WORKER']\n"
            + "    name = f'{os.path.basename(caller.filename)}.{caller.function}.{worker}'\n"
            + f"    with open(os.path.join({str(seen)!r}, name), 'w') as out:\n"
            + "        out.write(str(os.nice(0)))\n"
        )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "3", "--dist", "loadgroup", "--no-loadscope-reorder", "-q"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    base = os.nice(0)
    records = {path.name: int(path.read_text()) for path in seen.iterdir()}
    assert len(records) == 4 + 2 + 2 + 2 + 6, sorted(records)
    lab_lane = [name for name in records if name.startswith("test_lab.")]
    other_lane = [name for name in records if name.startswith(("test_web.", "test_load."))]
    # The lab's lane on gw0, the other lane on gw1, at normal priority; every other test stepped back,
    # wherever it ran (on a lane's worker too, once its lane was done).
    assert len(lab_lane) == 2 and all(name.endswith(".gw0") for name in lab_lane), sorted(records)
    assert len(other_lane) == 4 and all(name.endswith(".gw1") for name in other_lane), sorted(records)
    for name, niceness in records.items():
        in_lane = name in lab_lane or name in other_lane
        assert niceness == (base if in_lane else min(base + 10, 19)), (name, niceness)
    assert {name.rsplit(".", 1)[1] for name in records if name not in lab_lane + other_lane} >= {"gw2"}


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_skip_fails_only_under_ci(tmp_path: Path, ci: str) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (tmp_path / "tests" / "test_skip.py").write_text(
        "import pytest\n\ndef test_needs_a_tool():\n    pytest.skip('the tool is not installed')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-ra", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env={**_env_without_ci(), **({"CI": ci} if ci else {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ci:
        assert proc.returncode == 1, proc.stdout
        assert "skipped under CI=true" in proc.stdout and "the tool is not installed" in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout
        assert "SKIPPED [1]" in proc.stdout and "the tool is not installed" in proc.stdout


def _env_without_ci() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("CI", "PYTEST_ADDOPTS")}
