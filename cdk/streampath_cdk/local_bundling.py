"""Bundle a Python Lambda asset without Docker, from the distributions installed where ``cdk synth`` runs:
their own files for this project's pure-Python distributions, and wheels of the same versions for the
Lambda's platform for everything they depend on.

``python_asset_code(bundler)`` returns ``lambda_.Code.from_asset(<handler package>, bundling=
BundlingOptions(image=<unused>, local=bundler))`` for a :class:`LocalPythonBundler`, which:

1. reads what the asset needs from the installed metadata: the ``requirements`` (names and extras), and
   for each of them that is ``copied`` (a distribution installed here, not fetched: the probe), its own
   requirements, recursively; every other distribution is a dependency fetched as a wheel;
2. installs those dependencies, every one pinned at the version installed here (``pins``; default: this
   environment's), for the Lambda's platform from a local wheel cache (:func:`wheel_dir`: a user cache
   directory, or ``$STREAMPATH_WHEEL_CACHE``) with ``--no-index``, so ``cdk synth`` works offline. Wheels
   only (``--only-binary=:all:``), never a build from source: without ``binary_packages`` only
   pure-Python ones qualify (``--implementation py``); with them, also CPython wheels for the Lambda's
   Python (``cp314``) or the stable ABI (``abi3``) built for its ``platforms`` (manylinux, aarch64), and
   only the ``binary_packages`` may install one: any other distribution must come as a pure wheel
   (``*-none-any``), so the asset holds compiled code exactly where it was asked for;
3. only when that cache cannot satisfy them, fills it once with ``pip download`` (the only step that
   needs the package index);
4. refuses a tree in which a distribution is not installed here, or installed at another version (the
   Lambda then runs exactly what the tests and the CDK app's own environment run);
5. drops what the Lambda never runs: the ``exclude`` patterns, console scripts (``bin/``), and pip's
   bookkeeping in ``*.dist-info`` (``RECORD``, ``INSTALLER``, ``REQUESTED``, ``direct_url.json``,
   ``entry_points.txt``, ``top_level.txt``; ``METADATA``, ``WHEEL`` (the tags a wheel was built for, which
   the asset can be checked against) and licence files stay);
6. keeps that tree under ``<cache>/site-<key>/`` (later bundles are a copy) and copies on top the files
   of the ``copied`` distributions (their packages, and the ``*.dist-info`` files that stay) and of the
   ``handler`` package (no ``__pycache__``, ``*.pyc``, ``tests`` or ``exclude`` matches), from wherever
   they are installed: a wheel's files in site-packages, or an editable install's source folder.

The asset hash is an explicit hash of what the asset holds: the copied files (asset paths and bytes), the
name and version of every installed distribution, the platform and wheel tags, the compiled packages and
the exclusions. An unchanged canary keeps its hash (``cdk.out`` is not rebundled, the function not
redeployed), whatever else is installed next to it; any change to those inputs re-bundles.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
import jsii
import platformdirs
from aws_cdk import aws_lambda as lambda_
from packaging.requirements import InvalidRequirement, Requirement

#: Where the wheels for the Lambda's platform, and the trees installed from them, are kept.
WHEEL_CACHE_ENV_VAR: Final = "STREAMPATH_WHEEL_CACHE"
EXCLUDE_DIRS: Final = frozenset({"__pycache__", "tests", ".pytest_cache", ".mypy_cache"})
EXCLUDE_SUFFIXES: Final = (".pyc", ".pyo")
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
_FORMAT: Final = "site-v4"
_PIN_RE: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(?:#.*)?$")
_REQUIREMENT_RE: Final = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._-]+\])?$")


class BundlingError(RuntimeError):
    """The local bundle could not be built (message says what to do)."""


def wheel_dir() -> Path:
    """The wheel cache: ``$STREAMPATH_WHEEL_CACHE``, or ``wheels`` in the user cache directory of
    ``streampath`` (``~/.cache/streampath/wheels`` on Linux, ``~/Library/Caches/streampath/wheels`` on
    macOS)."""
    override = os.environ.get(WHEEL_CACHE_ENV_VAR)
    return Path(override) if override else platformdirs.user_cache_path("streampath") / "wheels"


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


def installed_versions() -> dict[str, str]:
    """``canonical name -> version`` of every distribution installed in this environment."""
    return {
        canonical_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    }


def pinned_requirements(requirements: Sequence[str], pins: Mapping[str, str], source: str) -> tuple[str, ...]:
    """``("httpx[http2]",)`` -> ``("httpx[http2]==0.28.1",)``: versions come from ``pins`` only."""
    pinned: list[str] = []
    for requirement in requirements:
        match = _REQUIREMENT_RE.match(requirement)
        if match is None:
            raise BundlingError(
                f"requirement {requirement!r}: give a name (and extras) only; its version comes from {source}"
            )
        version = pins.get(canonical_name(match.group(1)))
        if version is None:
            raise BundlingError(f"{source} has no version of {match.group(1)}")
        pinned.append(f"{requirement}=={version}")
    return tuple(pinned)


def _distribution(name: str) -> importlib.metadata.Distribution:
    """The installed distribution ``name``: the first with a ``*.dist-info`` (an installed wheel or an
    editable install), not an ``*.egg-info`` a build left in a source folder on ``sys.path``."""
    found = list(importlib.metadata.distributions(name=name))
    for dist in found:
        if any(file.parts[0].endswith(".dist-info") for file in dist.files or ()):
            return dist
    if found:
        return found[0]
    raise BundlingError(f"{name} is not installed in {sys.prefix}: pip install {name}")


def requirement_names(distribution: str, extras: Iterable[str] = ()) -> tuple[str, ...]:
    """The requirements of an installed distribution with ``extras``, as ``name[extras]`` (markers
    evaluated, versions left out: the bundle takes each version from what is installed)."""
    names = []
    wanted = {"", *extras}
    for text in _distribution(distribution).requires or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise BundlingError(f"{distribution}: unreadable requirement {text!r}: {exc}") from None
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": extra}) for extra in wanted):
            continue
        extra_list = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        names.append(f"{requirement.name}{extra_list}")
    return tuple(names)


def _walk(root: Path, skip_dir: Iterable[str] | None = None) -> Iterator[Path]:
    skip = frozenset(skip_dir or ())
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if d not in skip and not d.startswith(".") and not d.endswith(".egg-info")
        )
        for name in sorted(files):
            if not name.endswith(EXCLUDE_SUFFIXES):
                yield Path(here) / name


def package_dir(package: str) -> Path:
    """Where an importable package's files are: site-packages for a wheel, the source folder for an
    editable install."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if len(locations) != 1:
        raise BundlingError(f"cannot find the package {package} (is its distribution installed?)")
    return Path(locations[0])


def package_files(package: str) -> Iterator[tuple[str, Path]]:
    """``(asset path, file)`` for an installed package's files (no bytecode, caches or tests)."""
    root = package_dir(package)
    for path in _walk(root, EXCLUDE_DIRS):
        yield f"{package}/{path.relative_to(root).as_posix()}", path


def top_level_packages(distribution: str) -> tuple[str, ...]:
    """The import packages an installed distribution provides (its ``top_level.txt``, else its files)."""
    dist = _distribution(distribution)
    listed = dist.read_text("top_level.txt")
    if listed:
        return tuple(sorted({line.strip() for line in listed.splitlines() if line.strip()}))
    tops = {
        file.parts[0]
        for file in dist.files or ()
        if len(file.parts) > 1
        and not file.parts[0].endswith((".dist-info", ".data"))
        and file.parts[0] != ".."
    }
    if not tops:
        raise BundlingError(f"{distribution} lists no packages (no top_level.txt, no RECORD)")
    return tuple(sorted(tops))


def dist_info_files(distribution: str) -> Iterator[tuple[str, Path]]:
    """``(asset path, file)`` for the ``*.dist-info`` files an installed distribution keeps in the asset
    (:data:`DIST_INFO_KEEP`), under the directory name a wheel install gives it."""
    dist = _distribution(distribution)
    info = f"{canonical_name(dist.metadata['Name']).replace('-', '_')}-{dist.version}.dist-info"
    found = False
    for file in dist.files or ():
        top, _, rest = file.as_posix().partition("/")
        if top.endswith(".dist-info") and _excluded(rest, DIST_INFO_KEEP):
            found = True
            yield f"{info}/{rest}", Path(str(dist.locate_file(file)))
    if not found:
        raise BundlingError(f"{distribution} has no METADATA listed in its RECORD")


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
    files: Sequence[tuple[str, Path]],
    distributions: Sequence[str],
    items: Sequence[str],
) -> str:
    """sha256 over the copied files (asset paths and bytes), the installed distributions
    (``name==version``) and ``items`` (platform, exclusions): not over the unrelated distributions of
    the environment."""
    digest = hashlib.sha256()
    for item in (_FORMAT, *distributions, "--", *items, "--"):
        digest.update(item.encode() + b"\0")
    for relative, path in sorted(files):
        digest.update(relative.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
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
    """``ILocalBundling``: pip-installs the dependencies as pinned wheels for the Lambda platform (pure
    ones, and compiled ones for ``binary_packages`` only), drops what the Lambda never runs, then copies
    the installed files of the ``copied`` distributions and of the ``handler`` package on top.

    ``handler``: the import package holding the handler (copied without its metadata).
    ``requirements``: what the handler needs, as ``name[extras]`` (versions come from ``pins``).
    ``copied``: distributions, among the requirements and theirs, copied from this environment rather
    than fetched as wheels (this project's own, which no package index serves).
    ``binary_packages``: the distributions that may (and must) come as compiled wheels for ``platforms``
    and ``python_version``; each is pinned like everything else.
    ``pins``: ``canonical name -> version`` of every distribution the asset may hold. Default: the
    versions installed in this environment.
    """

    def __init__(
        self,
        *,
        handler: str,
        requirements: Sequence[str] = (),
        copied: Sequence[str] = (),
        binary_packages: Sequence[str] = (),
        exclude: Sequence[str] = (),
        python_version: str = "3.14",
        platforms: Sequence[str] = ("manylinux2014_aarch64",),
        cache_dir: Path | None = None,
        pins: Mapping[str, str] | None = None,
    ) -> None:
        self.handler = handler
        self.source_dir = package_dir(handler)
        self.pins = dict(pins) if pins is not None else installed_versions()
        self.copied = tuple(sorted({canonical_name(name) for name in copied}))
        self.requirements = self._dependencies(requirements)
        self.binary_packages = tuple(sorted({canonical_name(name) for name in binary_packages}))
        # Compiled code, too, runs exactly the version installed here.
        pinned_requirements(self.binary_packages, self.pins, "this environment")
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
        #: What else decides the installed tree: the packages allowed to be compiled.
        self.recipe = tuple(f"binary:{name}" for name in self.binary_packages)

    def _dependencies(self, requirements: Sequence[str]) -> tuple[str, ...]:
        """The requirements to fetch as wheels, pinned: ``requirements`` with each ``copied`` one replaced
        by its own requirements (with the extras asked for), recursively."""
        fetched: set[str] = set()
        seen: set[str] = set()
        todo = list(requirements)
        while todo:
            requirement = todo.pop()
            match = _REQUIREMENT_RE.match(requirement)
            if match is None:
                raise BundlingError(f"requirement {requirement!r}: give a name (and extras) only")
            name, extras = match.group(1), (match.group(2) or "[]")[1:-1]
            if canonical_name(name) not in self.copied:
                fetched.add(requirement)
            elif requirement not in seen:
                seen.add(requirement)
                todo += requirement_names(name, [e for e in extras.split(",") if e])
        unused = sorted(set(self.copied) - {canonical_name(r.partition("[")[0]) for r in seen})
        if unused:
            raise BundlingError(f"copied names {', '.join(unused)}, which no requirement brings")
        return pinned_requirements(sorted(fetched), self.pins, "this environment")

    # --- inputs -------------------------------------------------------------------------------------

    def copied_files(self) -> list[tuple[str, Path]]:
        """``(asset path, file)`` of everything copied from this environment, exclusions applied."""
        files = [
            entry
            for name in self.copied
            for package in top_level_packages(name)
            for entry in package_files(package)
        ]
        files += [entry for name in self.copied for entry in dist_info_files(name)]
        files += list(package_files(self.handler))
        return [(relative, path) for relative, path in files if not _excluded(relative, self.exclude)]

    def copied_versions(self) -> tuple[str, ...]:
        return tuple(f"{name}=={_distribution(name).version}" for name in self.copied)

    def site_key(self) -> str:
        """The cached tree's key: everything that can change what pip installs or what is pruned."""
        digest = hashlib.sha256()
        items = (_FORMAT, *self.requirements, "--", *self.pip_args, "--", *self.recipe, "--", *self.exclude)
        pins = (f"{name}=={version}" for name, version in sorted(self.pins.items()))
        for item in (*items, "--", *pins):
            digest.update(item.encode() + b"\0")
        return digest.hexdigest()[:16]

    def asset_hash(self) -> str:
        """:func:`inputs_hash` of this bundler's inputs (builds the installed tree once if needed)."""
        return inputs_hash(
            files=self.copied_files(),
            distributions=(*installed_distributions(self.site_packages()), *self.copied_versions()),
            items=(*self.pip_args, "--", *self.recipe, "--", *self.exclude),
        )

    # --- building -----------------------------------------------------------------------------------

    def _pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def _install(self, target: Path, constraints: Path) -> subprocess.CompletedProcess[str]:
        return self._pip(
            "install",
            "--no-index",
            "--find-links",
            str(self.cache_dir),
            "--target",
            str(target),
            "--no-compile",
            "--constraint",
            str(constraints),
            *self.pip_args,
            *self.requirements,
        )

    def _fill_cache(self, constraints: Path) -> None:
        download = self._pip(
            "download",
            "--dest",
            str(self.cache_dir),
            "--constraint",
            str(constraints),
            *self.pip_args,
            *self.requirements,
        )
        if download.returncode != 0:
            raise BundlingError(
                f"cannot fill the wheel cache {self.cache_dir} (run the synth once with network access, "
                f"or point ${WHEEL_CACHE_ENV_VAR} at a filled one):\n{download.stderr[-2000:]}"
            )

    def _check_pins(self, site: Path) -> None:
        wrong = []
        for installed in installed_distributions(site):
            name, _, version = installed.partition("==")
            if self.pins.get(name) != version:
                wrong.append(f"{installed} (here: {self.pins.get(name, 'not installed')})")
        if wrong:
            raise BundlingError(
                "the asset would hold distributions not installed here at that version: "
                f"{', '.join(wrong)}; install them at the asset's versions, or upgrade them both"
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
            constraints = Path(tmp) / "constraints.txt"
            pins = (f"{name}=={version}" for name, version in sorted(self.pins.items()))
            constraints.write_text("".join(f"{pin}\n" for pin in pins), encoding="utf-8")
            result = self._install(staging, constraints)
            if result.returncode != 0:
                # The cache is missing or lacks a wheel: fill it once (needs the index), then retry offline.
                self._fill_cache(constraints)
                shutil.rmtree(staging)
                staging.mkdir()
                result = self._install(staging, constraints)
                if result.returncode != 0:
                    raise BundlingError(f"pip install from {self.cache_dir} failed:\n{result.stderr[-2000:]}")
        self._check_pins(staging)
        self._check_wheels(staging)
        prune(staging, self.exclude)

    def site_packages(self) -> Path:
        """The installed, pruned tree of the dependencies, built once per :meth:`site_key`."""
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
        # Each change to what is installed makes a new tree; drop those unused for a day (long after any
        # synth that could still be copying one).
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
        for relative, path in self.copied_files():
            dest = out / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        return True


def python_asset_code(bundler: LocalPythonBundler) -> lambda_.Code:
    """A Lambda ``Code`` for the bundler's handler and requirements, bundled locally (no Docker)."""
    return lambda_.Code.from_asset(
        str(bundler.source_dir),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=bundler.asset_hash(),
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("unused-local-bundling-only"),
            local=bundler,
        ),
    )
