"""The probe's folder is a distribution of its own: ``pip install ./probe`` into a fresh venv, nothing else.

The venv is made with ``python -m venv`` (its own pip), and the install runs offline from the canary's
wheel cache (tests/support/installs.py); a wheel that cache lacks (setuptools for the build; on a fresh
clone the runtime wheels too) is first downloaded into a scratch folder, pinned by constraints.txt.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.probe.conftest import STREAM
from tests.support import run_cache
from tests.support.installs import CONSTRAINTS, Venv, distribution_files, run_outside
from tests.support.servers import RunningServer

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "probe"
PYPROJECT = tomllib.loads((PROBE / "pyproject.toml").read_text())
# What `pip install ./probe` may bring: the probe, httpx[http2] and theirs, and the venv's own pip/setuptools.
ALLOWED = {
    "streamprobe", "httpx", "httpcore", "h11", "h2", "hpack", "hyperframe", "anyio", "sniffio", "idna",
    "certifi", "typing-extensions", "pip", "setuptools",
}  # fmt: skip
FORBIDDEN = (
    "aws_cdk",
    "constructs",
    "cdk_nag",
    "fastapi",
    "starlette",
    "uvicorn",
    "boto3",
    "botocore",
    "playwright",
)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with ``./probe`` installed into it (from a copy: the build writes into its tree).

    Kept between runs for the same probe files and pins (tests/support/run_cache.py)."""
    tmp = tmp_path_factory.mktemp("install")

    def build(folder: Path) -> bool:
        source = tmp / "probe"
        shutil.copytree(PROBE, source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
        made = Venv.create(folder / "venv")
        wanted: list[str] = [*PYPROJECT["build-system"]["requires"], *PYPROJECT["project"]["dependencies"]]
        made.install([source], wanted=wanted, downloads=tmp / "downloads")
        return True

    probe_files = [path for path in distribution_files() if path.is_relative_to(PROBE)]
    key = run_cache.digest([], [CONSTRAINTS, *probe_files])
    return run_cache.entry("probe-install-venv", key, build, lambda folder: Venv(folder / "venv").root)


def test_version_is_the_distributions(venv: Path) -> None:
    expected = f"streamprobe {PYPROJECT['project']['version']}"
    commands: list[list[str | Path]] = [
        [venv / "bin" / "streamprobe", "--version"],
        [venv / "bin" / "python", "-m", "streamprobe", "--version"],
    ]
    for argv in commands:
        proc = run_outside(argv, timeout=60)
        assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, expected, ""), proc


def test_help_lists_doctor(venv: Path) -> None:
    proc = run_outside([venv / "bin" / "streamprobe", "--help"], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "streamprobe doctor URL" in proc.stdout and "--version" in proc.stdout


def test_probes_a_loopback_stream(venv: Path, h1_server: RunningServer) -> None:
    proc = run_outside([venv / "bin" / "streamprobe", h1_server.url(STREAM), "--json"], timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert (result["ok"], result["verdict"], result["mode"], result["events"]) == (
        True,
        "streaming",
        "streamcheck",
        11,
    )


def test_a_websocket_url_without_the_ws_extra_names_it(venv: Path) -> None:
    proc = run_outside([venv / "bin" / "streamprobe", "ws://127.0.0.1:9/api/streamcheck/ws"], timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "pip install 'streamprobe[ws]'" in proc.stderr and "Traceback" not in proc.stderr


def test_nothing_but_httpx_is_installed(venv: Path) -> None:
    code = (
        "import importlib.metadata as m, importlib.util as u, json\n"
        f"forbidden = {list(FORBIDDEN)!r}\n"
        "dists = sorted({d.metadata['Name'].lower().replace('_', '-') for d in m.distributions()})\n"
        "print(json.dumps({'dists': dists, 'importable': [n for n in forbidden if u.find_spec(n)]}))\n"
    )
    proc = run_outside([venv / "bin" / "python", "-c", code], timeout=60)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["importable"] == []
    assert set(seen["dists"]) <= ALLOWED, set(seen["dists"]) - ALLOWED
    assert {"streamprobe", "httpx", "h2"} <= set(seen["dists"])
    for module in ("aws_cdk", "fastapi", "boto3"):
        imported = run_outside([venv / "bin" / "python", "-c", f"import {module}"], timeout=60)
        assert imported.returncode != 0 and "ModuleNotFoundError" in imported.stderr, module


def test_the_browser_readers_script_is_packaged(venv: Path) -> None:
    code = "from streamprobe.browser.page import reader_js; print(reader_js().lstrip().startswith('//'))"
    proc = run_outside([venv / "bin" / "python", "-c", code], timeout=60)
    assert (proc.returncode, proc.stdout.strip()) == (0, "True"), proc.stderr
