"""Real installs into fresh venvs, the way users install: ``python -m venv`` (its own pip), then
``pip install --no-index`` from local folders only, every version pinned by constraints.txt.

The folders: wheels a test built (this repository's distributions), the canary's wheel cache, and a
folder of downloads that a missing wheel is fetched into once per session (``pip download``, pinned by
constraints.txt; pip's own cache makes that fast after the first time). Every command runs outside the
checkout, with an environment that cannot reach the dev venv's packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from streampath_cdk.local_bundling import canonical_name, wheel_dir
from tests.support import run_cache
from tests.support.cdk import REPO_ROOT
from tests.support.run_cache import tool_versions

CONSTRAINTS = REPO_ROOT / "constraints.txt"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment minus what would point a venv at the dev venv's packages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1", **extra}


def run_outside(
    argv: Sequence[str | Path],
    timeout: float = 300,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run outside the checkout (by default in ``/``: ``python -c`` puts the working directory on
    ``sys.path``)."""
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or clean_env(),
        cwd=cwd or Path(os.path.abspath(os.sep)),
        check=False,
    )


def _dist_name(path: Path) -> str:
    """``streampath_cdk-0.1.0-py3-none-any.whl`` -> ``streampath-cdk``."""
    return canonical_name(path.name.split("-")[0])


def find_links(*folders: Path) -> list[str]:
    return [arg for folder in folders if folder.is_dir() for arg in ("--find-links", str(folder))]


@dataclass(frozen=True)
class Venv:
    """A fresh venv: ``python``, ``pip`` and its console scripts under ``bin``."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @classmethod
    def create(cls, root: Path) -> Venv:
        made = run_outside([sys.executable, "-m", "venv", root], timeout=120)
        assert made.returncode == 0, made.stderr
        return cls(root)

    def install(
        self,
        specs: Sequence[str | Path],
        *,
        wanted: Sequence[str],
        downloads: Path,
        links: Sequence[Path] = (),
    ) -> None:
        """``pip install --no-index`` of ``specs`` from ``links``, the canary's wheel cache and
        ``downloads``; when a wheel is missing, ``wanted`` (pip arguments, pinned by constraints.txt) is
        downloaded into ``downloads`` first. A distribution of ``links`` always comes from ``links``."""

        def install() -> subprocess.CompletedProcess[str]:
            folders = find_links(*links, wheel_dir(), downloads)
            argv = [self.python, "-m", "pip", "install", "--no-index", *folders, "-c", CONSTRAINTS, *specs]
            return run_outside(argv)

        installed = install()
        if installed.returncode != 0:
            argv: list[str | Path] = [
                self.python,
                "-m",
                "pip",
                "download",
                "--dest",
                downloads,
                *find_links(*links),
            ]
            fetched = run_outside([*argv, "-c", CONSTRAINTS, *wanted], timeout=600)
            assert fetched.returncode == 0, (
                f"offline: {installed.stderr[-1500:]}\ndownload: {fetched.stderr[-1500:]}"
            )
            ours = {_dist_name(wheel) for folder in links for wheel in folder.iterdir()}
            for path in downloads.iterdir():
                if _dist_name(path) in ours:  # a copy, or a namesake from the index
                    path.unlink()
            installed = install()
        assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]

    def importable(self, modules: Sequence[str]) -> list[str]:
        """Which of ``modules`` this venv's interpreter can import."""
        code = f"import importlib.util as u; print(' '.join(n for n in {list(modules)!r} if u.find_spec(n)))"
        proc = run_outside([self.python, "-c", code], timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()


def distribution_folders() -> list[str]:
    """The folders of this repository's distributions, as ``make dist`` builds them."""
    listed = subprocess.run(
        [REPO_ROOT / "scripts" / "dist.sh", "--list"], capture_output=True, text=True, check=True, timeout=60
    )
    return listed.stdout.split()


@dataclass(frozen=True)
class Built:
    """``scripts/dist.sh`` run into ``out``: its exit status and output (twine's report included)."""

    out: Path
    result: subprocess.CompletedProcess[str]


def build_distributions(out: Path) -> Built:
    """Every distribution's sdist and wheel, built as ``make dist`` builds them, into ``out``.

    Built once for the inputs of the build (every file ``scripts/dist.sh`` copies, the script itself,
    constraints.txt, the build tools' versions) and kept between runs (tests/support/run_cache.py): a
    re-run with the same inputs gets the same files and the same ``twine check`` report.
    """
    script = REPO_ROOT / "scripts" / "dist.sh"

    def build(folder: Path) -> bool:
        result = subprocess.run(
            [script, folder / "files"], capture_output=True, text=True, timeout=900, cwd=REPO_ROOT
        )
        report = {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
        (folder / "result.json").write_text(json.dumps(report))
        return result.returncode == 0

    def use(folder: Path) -> Built:
        report = json.loads((folder / "result.json").read_text())
        if (folder / "files").is_dir():
            shutil.copytree(folder / "files", out, dirs_exist_ok=True)
        result = subprocess.CompletedProcess([str(script), str(out)], **report)
        return Built(out, result)

    key = run_cache.digest(
        tool_versions("build", "setuptools", "wheel", "twine"), [script, CONSTRAINTS, *distribution_files()]
    )
    return run_cache.entry("dist", key, build, use)


def distribution_files() -> list[Path]:
    """The files ``scripts/dist.sh`` copies into its builds (it lists them: ``--files``)."""
    listed = subprocess.run(
        [REPO_ROOT / "scripts" / "dist.sh", "--files"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return sorted(REPO_ROOT / name for name in listed.stdout.decode().split("\0") if name)
