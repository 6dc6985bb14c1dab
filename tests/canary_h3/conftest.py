"""The canary's asset as ``cdk synth`` bundles it, and a copy of it that this machine can run.

``asset``: exactly what the Lambda gets (manylinux aarch64 shared objects included). ``host_asset``: the
same tree with each of those shared objects swapped for the dev venv's build of the same distribution at
the same version (tests/canary checks the versions match), so that the asset's own Python code, the probe's
HTTP/3 path included, runs here, on whatever machine the tests run. The HTTP/3 fronts are the probe's:
Debian's Caddy on loopback (tests/h3).
"""

from __future__ import annotations

import shutil
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from streampath_cdk.canary_function import canary_bundler
from tests.h3.conftest import fronts, tls

__all__ = ["asset", "fronts", "host_asset", "tls"]

#: A shared object's name under the asset -> the module it is, as CPython names its extension files.
LAMBDA_SUFFIXES = (".cpython-314-aarch64-linux-gnu.so", ".abi3.so")


def module_stem(name: str) -> str:
    """``_cffi_backend.cpython-314-aarch64-linux-gnu.so`` -> ``_cffi_backend``."""
    for suffix in LAMBDA_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    raise AssertionError(f"{name}: not a CPython 3.14 aarch64 extension file name")


@pytest.fixture(scope="session")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("canary-asset-h3")
    assert canary_bundler().try_bundle(str(out)) is True
    yield out
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="session")
def host_asset(asset: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    venv = Path(sysconfig.get_paths()["purelib"])
    out = tmp_path_factory.mktemp("canary-asset-host") / "asset"
    shutil.copytree(asset, out)
    swapped = 0
    for so in sorted(out.rglob("*.so")):
        relative = so.relative_to(out)
        stem = module_stem(so.name)
        (host_build,) = sorted(venv.joinpath(*relative.parts[:-1]).glob(f"{stem}.*.so"))
        so.unlink()
        shutil.copy2(host_build, so.with_name(host_build.name))
        swapped += 1
    assert swapped == 4
    yield out
    shutil.rmtree(out.parent, ignore_errors=True)
