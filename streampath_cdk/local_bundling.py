"""Bundle a Python Lambda asset without Docker: pure-Python wheels, and prebuilt wheels for the Lambda's
platform where a package needs compiled code.

``python_asset_code(bundler)`` returns ``lambda_.Code.from_asset(src, bundling=BundlingOptions(
image=<unused>, local=bundler))`` for a :class:`LocalPythonBundler`, which:

1. builds a wheel of each local project (``pip wheel --no-deps --no-build-isolation``) from a copy of its
   source, so the checkout gets no ``build/`` or ``*.egg-info`` and two builds never share a directory;
2. installs those wheels (with their ``extras``) and the requirements, every distribution pinned by the
   constraints file, for the Lambda's platform from a local wheel cache (``.wheels/``, git-ignored) with
   ``--no-index``, so ``cdk synth`` works offline. Wheels only (``--only-binary=:all:``), never a build
   from source: without ``binary_packages`` only pure-Python ones qualify (``--implementation py``); with
   them, also CPython wheels for the Lambda's Python (``cp314``) or the stable ABI (``abi3``) built for its
   ``platforms`` (manylinux, aarch64), and only the ``binary_packages`` may install one: any other
   distribution must come as a pure wheel (``*-none-any``), so the asset holds compiled code exactly where
   it was asked for, never for a machine other than the Lambda's;
3. only when that cache cannot satisfy them, fills it once with ``pip download`` (the only step that
   needs PyPI);
4. refuses a tree in which a distribution is not pinned, or pinned at another version, by the
   constraints file (the Lambda then runs exactly what the dev venv, installed from the same file, runs);
5. drops what the Lambda never runs: the ``exclude`` patterns, console scripts (``bin/``), and pip's
   bookkeeping in ``*.dist-info`` (``RECORD``, ``INSTALLER``, ``REQUESTED``, ``direct_url.json``,
   ``entry_points.txt``, ``top_level.txt``; ``METADATA``, ``WHEEL`` (the tags a wheel was built for, which
   the asset can be checked against) and licence files stay);
6. keeps that tree under ``.wheels/site-<key>/`` (later bundles are a copy) and copies the handler's
   sources (no ``__pycache__``, ``*.pyc``, ``tests`` or ``exclude`` matches) on top.

The asset hash is an explicit hash of the inputs: the handler's and the local projects' source files, the
name and version of every installed distribution, the platform and wheel tags, the extras, the compiled
packages and the exclusions. An unchanged canary
keeps its hash (``cdk.out`` is not rebundled, the function not redeployed), whatever else changes in the
constraints file; any change to those inputs re-bundles.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
DEFAULT_WHEEL_DIR: Final = REPO_ROOT / ".wheels"
EXCLUDE_DIRS: Final = frozenset({"__pycache__", "tests", ".pytest_cache", ".mypy_cache"})
EXCLUDE_SUFFIXES: Final = (".pyc", ".pyo")
#: What a project's build never needs: build output, metadata a previous build left, caches.
PROJECT_EXCLUDE_DIRS: Final = frozenset({"__pycache__", "build", "dist", ".pytest_cache", ".mypy_cache"})
#: Always dropped from the installed tree: console scripts (the Lambda runs a handler, not commands).
ALWAYS_EXCLUDE: Final = ("bin/*",)
#: What stays of a ``*.dist-info`` directory: the metadata ``importlib.metadata`` reads, and licences.
DIST_INFO_KEEP: Final = (
    "METADATA",
    "WHEEL",
    "licenses/*",
    "LICENSE*",
    "LICENCE*",
    "COPYING*",
    "NOTICE*",
    "AUTHORS*",
)
#: An installed tree not used for this long is deleted when a new one is built.
STALE_SITE_S: Final = 24 * 3600
# Bump when the tree this module builds changes for the same inputs.
_FORMAT: Final = "site-v3"
_PIN_RE: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(?:#.*)?$")
_REQUIREMENT_RE: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._-]+\])?$")


class BundlingError(RuntimeError):
    """The local bundle could not be built (message says what to do)."""


def wheel_dir() -> Path:
    """The wheel cache: ``$STREAMPATH_WHEEL_CACHE`` or ``<repo>/.wheels``."""
    return Path(os.environ.get("STREAMPATH_WHEEL_CACHE", str(DEFAULT_WHEEL_DIR)))


def canonical_name(name: str) -> str:
    """A distribution name as PyPI compares them (``aws_lambda_powertools`` == ``aws-lambda-powertools``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_constraints(path: Path) -> dict[str, str]:
    """``canonical name -> version`` for every ``name==version`` line of a pip constraints file."""
    if not path.is_file():
        raise BundlingError(f"constraints file {path} is missing (scripts/lock.sh writes it)")
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN_RE.match(line.strip())
        if match:
            pins[canonical_name(match.group(1))] = match.group(2)
    return pins


def pinned_requirements(
    requirements: Sequence[str], pins: Mapping[str, str], source: Path
) -> tuple[str, ...]:
    """``("httpx[http2]",)`` -> ``("httpx[http2]==0.28.1",)``: versions come from the constraints only."""
    pinned: list[str] = []
    for requirement in requirements:
        match = _REQUIREMENT_RE.match(requirement)
        if match is None:
            raise BundlingError(
                f"requirement {requirement!r}: give a name (and extras) only; its version comes from {source}"
            )
        version = pins.get(canonical_name(match.group(1)))
        if version is None:
            raise BundlingError(f"{source} pins no version of {match.group(1)} (regenerate it: make lock)")
        pinned.append(f"{requirement}=={version}")
    return tuple(pinned)


def _walk(root: Path, skip_dir: Iterable[str] | None = None) -> Iterator[Path]:
    skip = frozenset(skip_dir or ())
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if d not in skip and not d.startswith(".") and not d.endswith(".egg-info")
        )
        for name in sorted(files):
            if not name.endswith(EXCLUDE_SUFFIXES):
                yield Path(here) / name


def source_files(source_dir: Path) -> Iterator[Path]:
    """The handler's files copied into the asset, in a stable order."""
    return _walk(source_dir, EXCLUDE_DIRS)


def project_files(project_dir: Path) -> Iterator[Path]:
    """A local project's files a wheel is built from, in a stable order."""
    return _walk(project_dir, PROJECT_EXCLUDE_DIRS)


def project_name(project_dir: Path) -> str:
    """``[project].name`` of a local project's ``pyproject.toml``."""
    with (project_dir / "pyproject.toml").open("rb") as handle:
        name = tomllib.load(handle).get("project", {}).get("name")
    if not isinstance(name, str):
        raise BundlingError(f"{project_dir / 'pyproject.toml'} has no [project].name")
    return name


def _hash_files(digest: Any, label: str, root: Path, files: Iterable[Path]) -> None:
    digest.update(f"[{label}]".encode() + b"\0")
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


def installed_distributions(site: Path) -> tuple[str, ...]:
    """``name==version`` of every distribution installed in ``site`` (from its ``*.dist-info``)."""
    found = []
    for info in site.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        found.append(f"{canonical_name(name)}=={version}")
    return tuple(sorted(found))


def wheel_tags(info_dir: Path) -> tuple[str, ...]:
    """The ``Tag:`` lines of a ``*.dist-info/WHEEL`` file (``cp311-abi3-manylinux2014_aarch64``, ...)."""
    wheel = info_dir / "WHEEL"
    if not wheel.is_file():
        return ()
    lines = wheel.read_text(encoding="utf-8").splitlines()
    return tuple(line.partition(":")[2].strip() for line in lines if line.startswith("Tag:"))


def is_pure(tags: Sequence[str]) -> bool:
    """A wheel that runs anywhere: every tag is ``<python>-none-any``."""
    return bool(tags) and all(tag.split("-")[1:] == ["none", "any"] for tag in tags)


def inputs_hash(
    *,
    source_dir: Path,
    local_projects: Sequence[Path],
    distributions: Sequence[str],
    items: Sequence[str],
) -> str:
    """sha256 over the handler's and the local projects' source files (paths and bytes, no bytecode), the
    installed distributions (``name==version``) and ``items`` (platform, exclusions): not over the
    unrelated pins of the constraints file."""
    digest = hashlib.sha256()
    for item in (_FORMAT, *distributions, "--", *items):
        digest.update(item.encode() + b"\0")
    for project in local_projects:
        _hash_files(digest, f"project:{project.name}", project, project_files(project))
    _hash_files(digest, "source", source_dir, source_files(source_dir))
    return digest.hexdigest()


def _excluded(relative: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns)


def prune(site: Path, exclude: Sequence[str]) -> None:
    """Delete from ``site`` what matches ``exclude`` (``fnmatch`` on the relative POSIX path: ``*`` also
    crosses ``/``), console scripts and the dist-info bookkeeping, then directories left empty."""
    patterns = (*ALWAYS_EXCLUDE, *exclude)
    # Deepest first (paths sort by their parts), so a directory is visited after everything inside it.
    for path in sorted(site.rglob("*"), reverse=True):
        if path.is_dir():
            if not any(path.iterdir()):
                path.rmdir()
            continue
        relative = path.relative_to(site).as_posix()
        top, _, rest = relative.partition("/")
        if top.endswith(".dist-info"):
            drop = not _excluded(rest, DIST_INFO_KEEP)
        else:
            drop = _excluded(relative, patterns) or path.suffix in EXCLUDE_SUFFIXES
        if drop:
            path.unlink()


@jsii.implements(cdk.ILocalBundling)
class LocalPythonBundler:
    """``ILocalBundling``: pip-installs local projects and pinned wheels for the Lambda platform (pure
    ones, and compiled ones for ``binary_packages`` only), drops what the Lambda never runs, then copies
    the handler's sources on top.

    ``extras``: local project name -> the extras installed with it (``{"streamprobe": ("h3",)}``).
    ``binary_packages``: the distributions that may (and must) come as compiled wheels for ``platforms``
    and ``python_version``; each is pinned by the constraints file like everything else.
    """

    def __init__(
        self,
        *,
        source_dir: Path,
        constraints: Path,
        requirements: Sequence[str] = (),
        local_projects: Sequence[Path] = (),
        extras: Mapping[str, Sequence[str]] | None = None,
        binary_packages: Sequence[str] = (),
        exclude: Sequence[str] = (),
        python_version: str = "3.14",
        platforms: Sequence[str] = ("manylinux2014_aarch64",),
        cache_dir: Path | None = None,
    ) -> None:
        self.source_dir = source_dir
        self.constraints = constraints
        self.pins = read_constraints(constraints)
        self.requirements = pinned_requirements(requirements, self.pins, constraints)
        self.local_projects = tuple(local_projects)
        self.local_names = frozenset(canonical_name(project_name(p)) for p in self.local_projects)
        self.extras = {canonical_name(name): tuple(sorted(e)) for name, e in (extras or {}).items()}
        unknown = sorted(set(self.extras) - self.local_names)
        if unknown:
            raise BundlingError(f"extras given for {', '.join(unknown)}, which is not a local project")
        self.binary_packages = tuple(sorted({canonical_name(name) for name in binary_packages}))
        # Compiled code, too, runs exactly the version the dev venv runs.
        pinned_requirements(self.binary_packages, self.pins, constraints)
        self.exclude = tuple(exclude)
        self.cache_dir = cache_dir or wheel_dir()
        platform_args = tuple(arg for platform in platforms for arg in ("--platform", platform))
        if self.binary_packages:
            # CPython wheels for this Python (cp314) or the stable ABI (abi3), and pure ones (none);
            # _check_wheels then keeps the compiled ones to binary_packages.
            abi = f"cp{python_version.replace('.', '')}"
            tags: tuple[str, ...] = ("--implementation", "cp", "--abi", abi, "--abi", "abi3", "--abi", "none")
        else:
            # --implementation py: only pure-Python wheels (py3-none-any) qualify.
            tags = ("--implementation", "py")
        self.pip_args = ("--only-binary=:all:", *platform_args, *tags, "--python-version", python_version)
        #: What else decides the installed tree: the extras and the packages allowed to be compiled.
        self.recipe = (
            *(f"extras:{name}[{','.join(e)}]" for name, e in sorted(self.extras.items())),
            *(f"binary:{name}" for name in self.binary_packages),
        )

    # --- inputs -------------------------------------------------------------------------------------

    def site_key(self) -> str:
        """The cached tree's key: everything that can change what pip installs or what is pruned."""
        digest = hashlib.sha256()
        items = (_FORMAT, *self.requirements, "--", *self.pip_args, "--", *self.recipe, "--", *self.exclude)
        for item in (*items, "--"):
            digest.update(item.encode() + b"\0")
        digest.update(self.constraints.read_bytes() + b"\0")
        for project in self.local_projects:
            _hash_files(digest, f"project:{project.name}", project, project_files(project))
        return digest.hexdigest()[:16]

    def asset_hash(self) -> str:
        """:func:`inputs_hash` of this bundler's inputs (builds the installed tree once if needed)."""
        return inputs_hash(
            source_dir=self.source_dir,
            local_projects=self.local_projects,
            distributions=installed_distributions(self.site_packages()),
            items=(*self.pip_args, "--", *self.recipe, "--", *self.exclude),
        )

    # --- building -----------------------------------------------------------------------------------

    def _pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def _build_wheel(self, project: Path, scratch: Path) -> Path:
        copy = scratch / "src" / project.name
        for path in project_files(project):
            dest = copy / path.relative_to(project)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        out = scratch / "wheels" / project.name
        result = self._pip(
            "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", str(out), str(copy)
        )
        wheels = sorted(out.glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            raise BundlingError(f"pip wheel {project} failed:\n{(result.stdout + result.stderr)[-2000:]}")
        return wheels[0]

    def _wheel_specs(self, wheels: Sequence[Path]) -> list[str]:
        """The local wheels as pip arguments, each with its project's extras (``<file>.whl[h3]``)."""
        specs = []
        for wheel in wheels:
            extras = self.extras.get(canonical_name(wheel.name.split("-")[0]))
            specs.append(f"{wheel}[{','.join(extras)}]" if extras else str(wheel))
        return specs

    def _install(self, target: Path, wheels: Sequence[Path]) -> subprocess.CompletedProcess[str]:
        return self._pip(
            "install",
            "--no-index",
            "--find-links",
            str(self.cache_dir),
            "--target",
            str(target),
            "--no-compile",
            "--constraint",
            str(self.constraints),
            *self.pip_args,
            *self._wheel_specs(wheels),
            *self.requirements,
        )

    def _fill_cache(self, wheels: Sequence[Path]) -> None:
        download = self._pip(
            "download",
            "--dest",
            str(self.cache_dir),
            "--constraint",
            str(self.constraints),
            *self.pip_args,
            *self._wheel_specs(wheels),
            *self.requirements,
        )
        if download.returncode != 0:
            raise BundlingError(
                f"cannot fill the wheel cache {self.cache_dir} "
                f"(run `make bootstrap` once with network access):\n{download.stderr[-2000:]}"
            )
        # pip download copies the local wheels too; the cache holds only what PyPI serves.
        for wheel in wheels:
            (self.cache_dir / wheel.name).unlink(missing_ok=True)

    def _check_pins(self, site: Path) -> None:
        wrong = []
        for installed in installed_distributions(site):
            name, _, version = installed.partition("==")
            if name not in self.local_names and self.pins.get(name) != version:
                wrong.append(f"{installed} (constraints: {self.pins.get(name, 'not pinned')})")
        if wrong:
            raise BundlingError(
                f"the asset would hold distributions {self.constraints} does not pin at that version: "
                f"{', '.join(wrong)}; regenerate it with `make lock`"
            )

    def _check_wheels(self, site: Path) -> None:
        compiled = {}
        for info in site.glob("*.dist-info"):
            tags = wheel_tags(info)
            if not is_pure(tags):
                compiled[canonical_name(info.name.partition("-")[0])] = tags
        unexpected = sorted(set(compiled) - set(self.binary_packages))
        if unexpected:
            found = ", ".join(f"{name} ({' '.join(compiled[name])})" for name in unexpected)
            raise BundlingError(
                f"compiled wheels only for {', '.join(self.binary_packages) or 'no package'}, but pip "
                f"installed {found}: name it in binary_packages, or pin a version with a pure wheel"
            )
        missing = sorted(set(self.binary_packages) - set(compiled))
        if missing:
            raise BundlingError(
                f"binary_packages names {', '.join(missing)}, which the asset does not install as a "
                "compiled wheel: drop it from binary_packages"
            )

    def _build_site(self, staging: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
            wheels = [self._build_wheel(project, Path(tmp)) for project in self.local_projects]
            result = self._install(staging, wheels)
            if result.returncode != 0:
                # The cache is missing or lacks a wheel: fill it once (needs PyPI), then retry offline.
                self._fill_cache(wheels)
                shutil.rmtree(staging)
                staging.mkdir()
                result = self._install(staging, wheels)
                if result.returncode != 0:
                    raise BundlingError(f"pip install from {self.cache_dir} failed:\n{result.stderr[-2000:]}")
        self._check_pins(staging)
        self._check_wheels(staging)
        prune(staging, self.exclude)

    def site_packages(self) -> Path:
        """The installed, pruned tree for these inputs, built once per :meth:`site_key`."""
        site = self.cache_dir / f"site-{self.site_key()}"
        marker = site / ".complete"
        if marker.exists():
            marker.touch()  # last used: what _forget_stale_sites goes by
            return site
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="staging-", dir=self.cache_dir))
        try:
            self._build_site(staging)
            (staging / ".complete").write_text("\n".join(installed_distributions(staging)) + "\n")
            if site.exists():
                shutil.rmtree(site)  # an interrupted build: no .complete
            try:
                staging.rename(site)
            except OSError:
                if not marker.exists():  # not a concurrent build that just finished
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._forget_stale_sites(keep=site)
        return site

    def _forget_stale_sites(self, *, keep: Path) -> None:
        # Each change to a local project's source makes a new tree; drop those unused for a day (long
        # after any synth that could still be copying one).
        cutoff = time.time() - STALE_SITE_S
        for other in self.cache_dir.glob("site-*"):
            marker = other / ".complete"
            if other != keep and marker.exists() and marker.stat().st_mtime < cutoff:
                shutil.rmtree(other, ignore_errors=True)

    def try_bundle(self, output_dir: str, *args: Any, **options: Any) -> bool:
        out = Path(output_dir)
        shutil.copytree(
            self.site_packages(), out, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete")
        )
        for path in source_files(self.source_dir):
            relative = path.relative_to(self.source_dir)
            if _excluded(relative.as_posix(), self.exclude):
                continue
            dest = out / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        return True


def python_asset_code(bundler: LocalPythonBundler) -> lambda_.Code:
    """A Lambda ``Code`` for the bundler's sources and requirements, bundled locally (no Docker)."""
    return lambda_.Code.from_asset(
        str(bundler.source_dir),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=bundler.asset_hash(),
        exclude=["**/__pycache__", "**/*.pyc", "tests"],
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("unused-local-bundling-only"),
            local=bundler,
        ),
    )
