"""Suite-wide rules: how `make test` spreads the tests over pytest-xdist's workers, and skips under CI.

Grouping (``--dist loadgroup``): a test joins the ``xdist_group`` of the widest state it shares with others,
so that state is built once per run, on one worker:

- a test marked ``lab`` (it starts the lab's real proxies): the lane ``timing-lab``; one marked ``browser``
  (it drives Chromium) or ``timing`` (it starts many processes or drives load, and judges by wall-clock
  timing): the lane ``timing``. A lane runs one test at a time, and the lab is started once;
- a session- or package-scoped fixture from a ``conftest.py`` under ``tests/``: the group of that conftest's
  directory (one lab, one set of synthesised apps, one Chromium, one Caddy front for the directory);
- else a module- or class-scoped fixture: the group of its test module (one moto server, one synth);
- else none: the test is scheduled alone, wherever a worker is free.

A test can also name its group itself with ``@pytest.mark.xdist_group("name")`` (kept as written). Groups are
handed out longest first, by the seconds each took in the previous run on this checkout (pytest's cache),
so the longest group never starts last.

Each lane runs on a worker of its own from the start: the lab's on ``gw0``, the other on ``gw1`` (with 2
workers both on ``gw0``). Every other worker lowers its own CPU priority (``nice`` +10, inherited by the
servers its tests start), and a lane's worker does so when its lane is done: the timing-sensitive tests
get a core whenever they want one, and a heavy neighbour (a synth, a wheel build) takes only the time they
leave. Side by side, the lanes are for a machine with cores to spare: on 2 cores, 3 workers made tight
margins flake (the default there is 2 workers, and both lanes run one after the other).

The scheduler is pytest-xdist's ``loadscope`` with these groups as its scopes: each worker writes the
groups it collected to a file named after the controller's pid, which the controller reads when it
schedules. (xdist's own ``loadgroup`` renames each node id with an ``@group`` suffix, which pytest 9.2's
structured node ids ignore: every group would be split.)

Under ``CI=true`` a skipped test fails: a skip there means the environment lacks something CI must provide.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    # Imported where used: this file is also the scheduler a test copies into a bare project of its own.
    from tests.support.installs import Built


#: Where pytest's cache keeps each group's seconds of the last run (one key per group below it).
GROUP_SECONDS_KEY = "streampath/xdist-group-seconds"
SHARED_SCOPES = ("session", "package")
MODULE_SCOPES = ("module", "class")


#: The timing-sensitive tests, in two lanes (pyproject.toml's markers say what each marker means): the
#: lab's (one lab, started once) and the rest (Chromium, load, stamped accuracy). Each lane runs one test
#: at a time; with 3 workers or more the two lanes run side by side, each on a worker of its own.
LAB_LANE = "timing-lab"
TIMING_GROUP = "timing"
TIMING_LANES = (LAB_LANE, TIMING_GROUP)
MARKER_GROUPS = {"lab": LAB_LANE, "browser": TIMING_GROUP, "timing": TIMING_GROUP}
#: Workers running a lane keep normal priority until they leave it; the others step back at once.
BACKGROUND_NICENESS = 10


def shared_state_group(item: pytest.Item) -> str | None:
    """The group of the widest state ``item`` shares (see the module docstring), or None."""
    for marker, group in MARKER_GROUPS.items():
        if item.get_closest_marker(marker) is not None:
            return group
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    shared: set[str] = set()
    module_wide = False
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if not definitions:
            continue
        definition = definitions[-1]
        # Fixtures of pytest and its plugins have no base id; this conftest defines none.
        if not definition.baseid.startswith("tests/"):
            continue
        if definition.scope in SHARED_SCOPES:
            # A conftest's directory; a session fixture defined in a test module is that module's alone.
            shared.add(definition.baseid.split("::")[0])
        elif definition.scope in MODULE_SCOPES:
            module_wide = True
    if shared:
        # Two directories' session state in one test: one group for the pair, named by both.
        return "+".join(sorted(shared))
    if module_wide:
        return item.nodeid.split("::")[0]
    return None


def group_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("xdist_group")
    if marker is not None:
        return str(marker.args[0] if marker.args else marker.kwargs.get("name", "default"))
    return None


# First: xdist's worker reads the xdist_group marks in this same hook, to name each test's group.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if group_of(item) is None:
            group = shared_state_group(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))
    # Longest group first (largest-first scheduling); a group not seen before (or no cache: `-p
    # no:cacheprovider`) counts as long. The groups are published either way: without them every test
    # would be its own scope, and the shared state (the lab, Chromium) would be started on every worker.
    cache = getattr(config, "cache", None)
    seconds: dict[str, float] = {}

    def cost(item: pytest.Item) -> float:
        group = group_of(item)
        if group is None:
            return 0.0  # single tests fill the gaps at the end
        if group not in seconds:
            known = cache.get(group_seconds_key(group), None) if cache is not None else None
            seconds[group] = float("inf") if known is None else float(known)
        return seconds[group]

    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (-cost(item), group_of(item) or "", order[id(item)]))
    if hasattr(config, "workerinput"):
        publish_groups({item.nodeid: group for item in items if (group := group_of(item)) is not None})


def groups_file(controller_pid: int) -> Path:
    return Path(tempfile.gettempdir()) / f"streampath-xdist-groups-{controller_pid}.json"


def publish_groups(groups: dict[str, str]) -> None:
    """On a worker: hand the controller (this process's parent) each test's group, atomically."""
    target = groups_file(os.getppid())
    partial = target.with_name(f"{target.name}.{os.getpid()}")
    partial.write_text(json.dumps(groups))
    partial.replace(target)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``: loadscope over this suite's groups (see the module docstring)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedStateScheduling(LoadScopeScheduling):  # type: ignore[misc]
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                # Read once, when the workers have all collected (scheduling starts only then).
                path = groups_file(os.getpid())
                self.groups = json.loads(path.read_text()) if path.exists() else {}
                path.unlink(missing_ok=True)
            return self.groups.get(nodeid, nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            scope = next_scope_for(node.gateway.id, list(self.workqueue), len(self.nodes))
            if scope is None:
                return  # only timing lanes are left, and each waits for its own worker
            self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return SharedStateScheduling(config, log)


def lane_worker(lane: str, workers: int) -> str:
    """The worker that runs ``lane``: the lab's on ``gw0``, the other on ``gw1`` when there are 3 workers
    or more (with 2, one worker for both lanes leaves the other for everything else)."""
    return "gw1" if lane != LAB_LANE and workers >= 3 else "gw0"


def lanes_of(worker: str, workers: int) -> list[str]:
    return [lane for lane in TIMING_LANES if lane_worker(lane, workers) == worker]


def next_scope_for(worker: str, queued: list[str], workers: int) -> str | None:
    """The queued group ``worker`` runs next: its timing lanes first (a lane runs on its worker only),
    else the longest other group queued."""
    own = next((lane for lane in lanes_of(worker, workers) if lane in queued), None)
    if own is not None:
        return own
    return next((scope for scope in queued if scope not in TIMING_LANES), None)


_group_seconds: defaultdict[str, float] = defaultdict(float)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    start = time.monotonic()
    try:
        return (yield)
    finally:
        group = group_of(item)
        if group is not None:
            _group_seconds[group] += time.monotonic() - start


def group_seconds_key(group: str) -> str:
    # One key per group: each group runs on one worker, so no two workers write the same key.
    return f"{GROUP_SECONDS_KEY}/{quote(group, safe='')}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    cache = getattr(session.config, "cache", None)
    if cache is None:
        return
    for group, seconds in _group_seconds.items():
        cache.set(group_seconds_key(group), round(seconds, 1))


def ci_forbids_skips() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and ci_forbids_skips() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (CI must provide what this test needs): {reason}"
    return report


def pytest_configure(config: pytest.Config) -> None:
    # Known without pytest-xdist too (-p no:xdist, --strict-markers): the groups are set either way.
    config.addinivalue_line("markers", "xdist_group(name): run on one pytest-xdist worker with its group")
    worker = getattr(config, "workerinput", None)
    if worker is not None and not lanes_of(worker["workerid"], int(worker["workercount"])):
        os.nice(BACKGROUND_NICENESS)


_stepped_back: list[bool] = []


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A lane's worker steps back (``nice``) at its first test outside the lanes: its lane is done (a
    lane is the first work its worker is given), and the other lane may still be running."""
    worker = getattr(item.config, "workerinput", None)
    if worker is None or _stepped_back or group_of(item) in TIMING_LANES:
        return
    if lanes_of(worker["workerid"], int(worker["workercount"])):
        os.nice(BACKGROUND_NICENESS)
        _stepped_back.append(True)


# --- the distributions, built once a session (tests/dist, tests/examples, tests/probe/test_install) ---


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    from tests.support.installs import build_distributions

    return build_distributions(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def distributions(built: Built) -> Path:
    """The folder of the sdists and wheels ``make dist`` builds (and ``twine check --strict`` passed)."""
    assert built.result.returncode == 0, built.result.stdout + built.result.stderr
    return built.out


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Third-party wheels a fresh venv needs and the caches lack, downloaded at most once a session."""
    return tmp_path_factory.mktemp("downloads")
