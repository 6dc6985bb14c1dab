"""Fixtures for the set-up tests: a copy of the checkout, and a PATH with no apt-get, dpkg, sudo or curl.

The copy holds every file git would commit (tracked and untracked, not ignored) as the working tree has them
now; its ``.venv``, ``node_modules`` (and ``.node``, where bootstrap installed a Node) are symlinks to this
checkout's, and the canary's wheel cache and jsii's package cache are this user's (whatever ``HOME`` is),
so nothing is downloaded, built or unpacked again. ``BOOTSTRAP_FROZEN=1`` makes the copy's bootstrap fail
rather than install into that shared ``.venv``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from streampath_cdk.local_bundling import WHEEL_CACHE_ENV_VAR, wheel_dir
from tests.support.cdk import REPO_ROOT, jsii_package_cache

# What `make synth` may use: a shell, make, Python, Node with npm, and the POSIX basics the scripts call.
PORTABLE_TOOLS = (
    "bash",
    "sh",
    "make",
    "env",
    "node",
    "npm",
    "basename",
    "cat",
    "chmod",
    "cksum",
    "cp",
    "cut",
    "date",
    "dirname",
    "grep",
    "head",
    "id",
    "ln",
    "ls",
    "mkdir",
    "mktemp",
    "mv",
    "readlink",
    "rm",
    "rmdir",
    "sed",
    "sort",
    "tail",
    "touch",
    "tr",
    "uname",
    "wc",
)
# What a macOS laptop or a non-Debian CI image does not have (or a user without root cannot use).
ABSENT_TOOLS = ("apt-get", "apt", "dpkg", "dpkg-query", "sudo", "curl")
SHARED_DIRS = (".venv", "node_modules")
#: The Node bootstrap installed where the system's is older than package.json's engines (absent otherwise).
PROJECT_NODE_DIR = ".node"


@pytest.fixture(scope="session")
def portable_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of symlinks to exactly ``PORTABLE_TOOLS``, and ``python3`` (the real interpreter)."""
    bin_dir = tmp_path_factory.mktemp("portable-bin")
    for name in PORTABLE_TOOLS:
        found = shutil.which(name)
        assert found, f"{name} is not installed on this machine"
        (bin_dir / name).symlink_to(found)
    # The interpreter behind .venv, not a pyenv shim (a shell script that needs pyenv on PATH).
    (bin_dir / "python3").symlink_to(Path(sys.executable).resolve())
    return bin_dir


def _checkout_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO_ROOT / name).is_file()]


@pytest.fixture(scope="module")
def checkout_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree as a fresh clone would have it, plus this checkout's .venv and node_modules."""
    root = tmp_path_factory.mktemp("checkout") / "streampath"
    for name in _checkout_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    for name in SHARED_DIRS:
        assert (REPO_ROOT / name).is_dir(), f"{name}/ is missing: run make bootstrap"
        (root / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
    if (REPO_ROOT / PROJECT_NODE_DIR).is_dir():
        (root / PROJECT_NODE_DIR).symlink_to(REPO_ROOT / PROJECT_NODE_DIR, target_is_directory=True)
    return root


def clean_env(path: str, home: Path) -> dict[str, str]:
    """The environment of a new shell on a laptop: no AWS credentials, no jsii setting (but where its
    package cache is: speed only), no outer make."""
    dropped = ("JSII_", "MAKE", "MFLAGS", "PYTEST_", "VIRTUAL_ENV", "PYTHON")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", *dropped)) and key not in ("PYTHONPATH",)
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "PATH": path,
            "HOME": str(home),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
            "BOOTSTRAP_FROZEN": "1",
            WHEEL_CACHE_ENV_VAR: str(wheel_dir()),
            **jsii_package_cache(),
        }
    )
    return env
