"""The probe's folder is a distribution of its own: ``pip install ./probe`` into a fresh venv, nothing else.

The venv is made with ``python -m venv`` (its own pip), and the install runs offline from the wheel cache
the canary's bundler keeps (``.wheels/``); a wheel that cache lacks (setuptools for the build; on a
fresh clone the runtime wheels too) is first downloaded into a scratch folder, pinned by constraints.txt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.probe.conftest import STREAM
from tests.support.servers import RunningServer

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "probe"
WHEEL_CACHE = ROOT / ".wheels"
CONSTRAINTS = ROOT / "constraints.txt"
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


def _env() -> dict[str, str]:
    """This process's environment minus what would point the venv at the dev venv's packages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}


def _run(argv: Sequence[str | Path], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run outside the checkout: ``python -c`` puts the working directory on ``sys.path``."""
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=Path(os.path.abspath(os.sep)),
        check=False,
    )


def _find_links(*folders: Path) -> list[str]:
    return [arg for folder in folders if folder.is_dir() for arg in ("--find-links", str(folder))]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with ``./probe`` installed into it (from a copy: the build writes into its tree)."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "probe"
    shutil.copytree(PROBE, source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
    made = _run([sys.executable, "-m", "venv", tmp / "venv"], timeout=120)
    assert made.returncode == 0, made.stderr
    pip = tmp / "venv" / "bin" / "pip"
    downloads = tmp / "downloads"

    def install() -> subprocess.CompletedProcess[str]:
        links = _find_links(WHEEL_CACHE, downloads)
        return _run([pip, "install", "--no-index", *links, "-c", CONSTRAINTS, source])

    installed = install()
    if installed.returncode != 0:  # the cache lacks a wheel: fetch what the build and the probe need
        wanted: list[str] = [*PYPROJECT["build-system"]["requires"], *PYPROJECT["project"]["dependencies"]]
        fetched = _run([pip, "download", "--dest", downloads, "-c", CONSTRAINTS, *wanted])
        assert fetched.returncode == 0, (
            f"offline: {installed.stderr[-1500:]}\ndownload: {fetched.stderr[-1500:]}"
        )
        installed = install()
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    yield tmp / "venv"


def test_version_is_the_distributions(venv: Path) -> None:
    expected = f"streamprobe {PYPROJECT['project']['version']}"
    commands: list[list[str | Path]] = [
        [venv / "bin" / "streamprobe", "--version"],
        [venv / "bin" / "python", "-m", "streamprobe", "--version"],
    ]
    for argv in commands:
        proc = _run(argv, timeout=60)
        assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, expected, ""), proc


def test_help_lists_doctor(venv: Path) -> None:
    proc = _run([venv / "bin" / "streamprobe", "--help"], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "streamprobe doctor URL" in proc.stdout and "--version" in proc.stdout


def test_probes_a_loopback_stream(venv: Path, h1_server: RunningServer) -> None:
    proc = _run([venv / "bin" / "streamprobe", h1_server.url(STREAM), "--json"], timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert (result["ok"], result["verdict"], result["mode"], result["events"]) == (
        True,
        "streaming",
        "streamcheck",
        11,
    )


def test_nothing_but_httpx_is_installed(venv: Path) -> None:
    code = (
        "import importlib.metadata as m, importlib.util as u, json\n"
        f"forbidden = {list(FORBIDDEN)!r}\n"
        "dists = sorted({d.metadata['Name'].lower().replace('_', '-') for d in m.distributions()})\n"
        "print(json.dumps({'dists': dists, 'importable': [n for n in forbidden if u.find_spec(n)]}))\n"
    )
    proc = _run([venv / "bin" / "python", "-c", code], timeout=60)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["importable"] == []
    assert set(seen["dists"]) <= ALLOWED, set(seen["dists"]) - ALLOWED
    assert {"streamprobe", "httpx", "h2"} <= set(seen["dists"])
    for module in ("aws_cdk", "fastapi", "boto3"):
        imported = _run([venv / "bin" / "python", "-c", f"import {module}"], timeout=60)
        assert imported.returncode != 0 and "ModuleNotFoundError" in imported.stderr, module


def test_the_browser_readers_script_is_packaged(venv: Path) -> None:
    code = "from streamprobe.browser.page import reader_js; print(reader_js().lstrip().startswith('//'))"
    proc = _run([venv / "bin" / "python", "-c", code], timeout=60)
    assert (proc.returncode, proc.stdout.strip()) == (0, "True"), proc.stderr
