"""Bundle a pure-Python Lambda asset without Docker.

``python_asset_code()`` returns ``lambda_.Code.from_asset(src, bundling=BundlingOptions(image=<unused>,
local=LocalPythonBundler(...)))``. The bundler:

1. installs the runtime requirements for the Lambda's platform (``manylinux2014_aarch64``, CPython
   3.14, **pure-Python wheels only**: ``--implementation py --only-binary=:all:``) from a local wheel
   cache (``.wheels/``, git-ignored) with ``--no-index``, so ``cdk synth`` works offline;
2. only when that cache cannot satisfy the requirements, fills it once with ``pip download``
   (the only step that needs PyPI);
3. keeps the installed tree under ``.wheels/site-<hash>/`` so later bundles are a copy;
4. copies the handler sources (no ``__pycache__``, ``*.pyc`` or ``tests``) on top.

The asset hash is an explicit hash of the inputs (source files, requirements, platform), so an
unchanged canary keeps its hash and ``cdk.out`` is not rebundled; any change to them re-bundles.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
DEFAULT_WHEEL_DIR: Final = REPO_ROOT / ".wheels"
EXCLUDE_DIRS: Final = frozenset({"__pycache__", "tests", ".pytest_cache", ".mypy_cache"})
EXCLUDE_SUFFIXES: Final = (".pyc", ".pyo")


class BundlingError(RuntimeError):
    """The local bundle could not be built (message says what to do)."""


def wheel_dir() -> Path:
    """The wheel cache: ``$STREAMPATH_WHEEL_CACHE`` or ``<repo>/.wheels``."""
    return Path(os.environ.get("STREAMPATH_WHEEL_CACHE", str(DEFAULT_WHEEL_DIR)))


def source_files(source_dir: Path) -> Iterator[Path]:
    """The files copied into the asset, in a stable order."""
    for root, dirs, files in os.walk(source_dir):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDE_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(EXCLUDE_SUFFIXES):
                yield Path(root) / name


def inputs_hash(source_dir: Path, requirements: Sequence[str], pip_args: Sequence[str]) -> str:
    """sha256 over the relative path and bytes of every source file plus requirements and platform."""
    digest = hashlib.sha256()
    for item in (*requirements, "--", *pip_args, "--"):
        digest.update(item.encode() + b"\0")
    for path in source_files(source_dir):
        digest.update(path.relative_to(source_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@jsii.implements(cdk.ILocalBundling)
class LocalPythonBundler:
    """``ILocalBundling``: pip-installs pure-Python wheels for the Lambda platform, then copies sources."""

    def __init__(
        self,
        *,
        source_dir: Path,
        requirements: Sequence[str],
        python_version: str = "3.14",
        platform: str = "manylinux2014_aarch64",
        cache_dir: Path | None = None,
    ) -> None:
        self.source_dir = source_dir
        self.requirements = tuple(requirements)
        self.cache_dir = cache_dir or wheel_dir()
        # --implementation py: only pure-Python wheels (py3-none-any) qualify, as the asset requires.
        self.pip_args = (
            "--only-binary=:all:",
            "--platform",
            platform,
            "--implementation",
            "py",
            "--python-version",
            python_version,
        )

    def _pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def _install(self, target: Path) -> subprocess.CompletedProcess[str]:
        return self._pip(
            "install",
            "--no-index",
            "--find-links",
            str(self.cache_dir),
            "--target",
            str(target),
            "--no-compile",
            *self.pip_args,
            *self.requirements,
        )

    def site_packages(self) -> Path:
        """The installed requirements for this platform, built once per requirement set."""
        key = hashlib.sha256("\0".join((*self.requirements, *self.pip_args)).encode()).hexdigest()[:16]
        site = self.cache_dir / f"site-{key}"
        if (site / ".complete").exists():
            return site
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="site-", dir=self.cache_dir))
        try:
            result = self._install(staging)
            if result.returncode != 0:
                # The cache is missing or lacks a wheel: fill it once (needs PyPI), then retry offline.
                download = self._pip(
                    "download", "--dest", str(self.cache_dir), *self.pip_args, *self.requirements
                )
                if download.returncode != 0:
                    raise BundlingError(
                        f"cannot fill the wheel cache {self.cache_dir} "
                        f"(run `make synth` once with network access):\n{download.stderr[-2000:]}"
                    )
                shutil.rmtree(staging)
                staging.mkdir()
                result = self._install(staging)
                if result.returncode != 0:
                    raise BundlingError(f"pip install from {self.cache_dir} failed:\n{result.stderr[-2000:]}")
            (staging / ".complete").write_text("\n".join(self.requirements) + "\n")
            if site.exists():
                shutil.rmtree(site)
            staging.rename(site)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return site

    def try_bundle(self, output_dir: str, *args: Any, **options: Any) -> bool:
        out = Path(output_dir)
        shutil.copytree(
            self.site_packages(),
            out,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(".complete", "__pycache__", "bin"),
        )
        for path in source_files(self.source_dir):
            dest = out / path.relative_to(self.source_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        return True


def python_asset_code(
    source_dir: Path,
    *,
    requirements: Sequence[str],
    python_version: str = "3.14",
    platform: str = "manylinux2014_aarch64",
) -> lambda_.Code:
    """A Lambda ``Code`` for ``source_dir`` plus ``requirements``, bundled locally (no Docker)."""
    bundler = LocalPythonBundler(
        source_dir=source_dir, requirements=requirements, python_version=python_version, platform=platform
    )
    return lambda_.Code.from_asset(
        str(source_dir),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=inputs_hash(source_dir, bundler.requirements, bundler.pip_args),
        exclude=["**/__pycache__", "**/*.pyc", "tests"],
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("unused-local-bundling-only"),
            local=bundler,
        ),
    )
