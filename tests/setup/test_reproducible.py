"""Reproducible installs: the pins, the stamps that re-install on a change, the app launcher, CI's exit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.setup.conftest import clean_env
from tests.support.cdk import REPO_ROOT, assert_no_node_banner

PROJECT_DISTRIBUTIONS = {"streampath", "streamprobe", "streamcheck", "streampath-canary", "streampath-cdk"}
# Pinned too, because bootstrap upgrades them under the same constraints; no project distribution needs them.
BOOTSTRAP_TOOLS = {"pip", "setuptools", "wheel"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt: not an exact pin: {line!r}"
        pins[normalise(name)] = version.strip()
    return pins


def requirement_closure(roots: dict[str, set[str]]) -> set[str]:
    """Every installed distribution the roots (name -> extras) need, transitively, markers evaluated."""
    needed: dict[str, set[str]] = {}
    todo = list(roots.items())
    while todo:
        name, extras = todo.pop()
        key = normalise(name)
        if key in needed and extras <= needed[key]:
            continue
        needed[key] = needed.get(key, set()) | extras
        for text in metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in needed[key] | {""}):
                todo.append((requirement.name, set(requirement.extras)))
    return set(needed)


def test_constraints_pin_exactly_what_the_dev_venv_is_installed_from() -> None:
    # The venv as bootstrap installs it: the project with the extras of scripts/bootstrap.sh. Packages
    # installed into .venv by hand are not the project's and need no pin.
    needed = requirement_closure(
        {
            "streampath": {"dev", "browser", "chart"},
            "streamprobe": {"brotli", "browser", "h3", "exporter"},
            "streamcheck": {"fastapi"},
        }
    )
    needed -= PROJECT_DISTRIBUTIONS
    pins = constraints()
    assert not PROJECT_DISTRIBUTIONS & pins.keys(), "the project's own distributions come from the checkout"
    unpinned = sorted(needed - pins.keys())
    assert not unpinned, f"run `make lock`: not in constraints.txt: {unpinned}"
    assert pins.keys() - needed == BOOTSTRAP_TOOLS, "run `make lock`: constraints.txt pins what nothing needs"
    differ = {
        name: (metadata.version(name), pins[name]) for name in pins if metadata.version(name) != pins[name]
    }
    assert not differ, f".venv differs from constraints.txt (installed, pinned): {differ}; make bootstrap"


def test_cdk_nag_is_pinned_exactly_to_the_installed_version() -> None:
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    nag = [
        spec
        for spec in dependencies
        if normalise(re.split(r"[\s=<>!~\[;]", spec, maxsplit=1)[0]) == "cdk-nag"
    ]
    assert nag == [f"cdk-nag=={metadata.version('cdk-nag')}"]
    assert constraints()["cdk-nag"] == metadata.version("cdk-nag")


def test_node_version_is_declared_and_the_cli_matches_the_lock() -> None:
    package = json.loads((REPO_ROOT / "package.json").read_text())
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    # jsii supports ^22 and ^24: Node 20 is end-of-life.
    assert package["engines"] == {"node": ">=22"}
    assert lock["packages"][""]["engines"] == package["engines"], "package-lock.json is out of date"
    # The exact version bootstrap installs where the system's Node is older (nvm reads it too).
    nvmrc = (REPO_ROOT / ".nvmrc").read_text().strip()
    assert re.fullmatch(r"22\.\d+\.\d+", nvmrc), nvmrc
    installed = json.loads((REPO_ROOT / "node_modules" / "aws-cdk" / "package.json").read_text())["version"]
    assert (
        installed
        == lock["packages"]["node_modules/aws-cdk"]["version"]
        == package["devDependencies"]["aws-cdk"]
    )


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def bootstrap_python(root: Path, home: Path) -> subprocess.CompletedProcess[str]:
    # Frozen: the copy shares this checkout's .venv, so a stale stamp must be reported, never acted on.
    return subprocess.run(
        ["scripts/bootstrap.sh", "python"],
        cwd=root,
        env=clean_env("/usr/bin:/bin", home),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "changed",
    [
        "constraints.txt",
        "pyproject.toml",
        "probe/pyproject.toml",
        "service/pyproject.toml",
        "lambda/canary/pyproject.toml",
        "cdk/pyproject.toml",
    ],
)
def test_venv_is_reinstalled_when_an_input_changes(checkout_copy: Path, home: Path, changed: str) -> None:
    unchanged = bootstrap_python(checkout_copy, home)
    assert unchanged.returncode == 0, unchanged.stderr
    assert unchanged.stdout == ""
    path = checkout_copy / changed
    original = path.read_text()
    try:
        path.write_text(original + "# edited\n")
        edited = bootstrap_python(checkout_copy, home)
    finally:
        path.write_text(original)
    assert edited.returncode != 0
    assert ".venv does not match constraints.txt and the pyproject.toml files" in edited.stderr
    assert bootstrap_python(checkout_copy, home).returncode == 0, "restoring the file restores the stamp"


def launcher_root(tmp_path: Path) -> Path:
    """A tree with the real launcher and an app.py that reports the interpreter that runs it and its PATH
    (jsii starts the first ``node`` on it)."""
    root = tmp_path / "app"
    (root / "scripts").mkdir(parents=True)
    for name in ("cdk-app", "project-node.sh"):
        script = root / "scripts" / name
        script.write_bytes((REPO_ROOT / "scripts" / name).read_bytes())
        script.chmod(0o755)
    (root / "app.py").write_text("import os, sys\nprint(sys.executable, os.environ['PATH'])\n")
    return root


def run_launcher(root: Path, path: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(root / "scripts" / "cdk-app")],
        cwd=root,
        env=clean_env(path, home),
        capture_output=True,
        text=True,
        timeout=60,
    )


def project_node(root: Path) -> Path:
    """A stand-in for the Node bootstrap installs into ``root/.node`` (never run: only found on PATH)."""
    node = root / ".node" / "bin" / "node"
    node.parent.mkdir(parents=True)
    node.write_text("#!/bin/sh\nexit 1\n")
    node.chmod(0o755)
    return node


def test_launcher_prefers_the_project_venv(tmp_path: Path, home: Path) -> None:
    root = launcher_root(tmp_path)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    # Without a project Node, jsii gets the system's: the launcher puts nothing of its own first.
    result = run_launcher(root, "/usr/bin:/bin", home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(root / ".venv" / "bin" / "python"), "/usr/bin:/bin"]


def test_launcher_puts_the_project_node_first(tmp_path: Path, home: Path) -> None:
    root = launcher_root(tmp_path)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "python").symlink_to(Path(sys.executable).resolve())
    node = project_node(root)
    result = run_launcher(root, "/usr/bin:/bin", home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(root / ".venv" / "bin" / "python"), f"{node.parent}:/usr/bin:/bin"]


def test_launcher_falls_back_to_python3_with_the_cdk(tmp_path: Path, home: Path) -> None:
    root = launcher_root(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # An activated venv of the user's own: the dev venv's interpreter, which has aws_cdk.
    (bin_dir / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python3").chmod(0o755)
    node = project_node(root)
    result = run_launcher(root, f"{bin_dir}:/usr/bin:/bin", home)
    assert result.returncode == 0, result.stderr
    interpreter, path = result.stdout.split()
    assert interpreter == sys.executable
    # (this venv's own Node, when it has one, comes first: the interpreter put it there on start)
    assert path.endswith(f"{node.parent}:{bin_dir}:/usr/bin:/bin"), path


def test_launcher_says_what_to_do_when_no_python_has_the_cdk(tmp_path: Path, home: Path) -> None:
    root = launcher_root(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(Path(sys.executable).resolve())  # the bare interpreter: no aws_cdk
    result = run_launcher(root, f"{bin_dir}:/usr/bin:/bin", home)
    assert result.returncode == 1
    assert "run 'make bootstrap'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [["streampath", "--help"], ["streamprobe", "--help"]])
def test_readme_commands_outside_make_print_no_jsii_banner(argv: list[str], home: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / argv[0]), *argv[1:]],
        env=clean_env("/usr/bin:/bin", home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert_no_node_banner(result.stdout + result.stderr)


def test_the_venv_runs_jsii_on_a_node_jsii_supports(home: Path) -> None:
    # A new shell's PATH (the system's Node first), as a README or benchmark command typed by hand has it.
    probe = "import aws_cdk, shutil; print(shutil.which('node'))"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=clean_env("/usr/bin:/bin", home), capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert_no_node_banner(result.stderr)
    node = result.stdout.decode().strip()
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True, timeout=30)
    package = json.loads((REPO_ROOT / "package.json").read_text())
    minimum = int(re.search(r"\d+", package["engines"]["node"]).group())  # type: ignore[union-attr]
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= minimum, (node, version.stdout)


def test_bench_imports_only_prints_no_node_banner(home: Path) -> None:
    """The command of bench/canary_bench.py's docstring, from a new shell's PATH."""
    result = subprocess.run(
        [sys.executable, "bench/canary_bench.py", "--imports-only"],
        cwd=REPO_ROOT,
        env=clean_env("/usr/bin:/bin", home),
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert_no_node_banner(result.stdout + result.stderr)


def test_ci_runs_make_test_and_make_test_fails_when_pytest_collects_nothing(
    checkout_copy: Path, home: Path, tmp_path: Path
) -> None:
    commands = [
        line.strip()
        for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert commands[-1] == "make test"
    assert "set -euo pipefail" in commands
    empty = tmp_path / "no-tests"
    empty.mkdir()
    # The real PATH: on this Debian machine the system packages are installed, so bootstrap passes.
    result = subprocess.run(
        ["make", "test", f"PYTEST_ARGS={empty}"],
        cwd=checkout_copy,
        env=clean_env(os.environ["PATH"], home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "no tests ran" in result.stdout, result.stdout + result.stderr
    assert result.returncode != 0, "pytest's exit 5 (nothing collected) must fail make test, and so CI"
