"""The canary's asset as ``cdk synth`` bundles it, and a copy of it that this machine can run.

``asset``: exactly what the Lambda gets (manylinux aarch64 shared objects included). ``host_asset``: the
same tree with each of those shared objects swapped for the dev venv's build of the same distribution at
the same version (tests/canary checks the versions match), so that the asset's own Python code, the probe's
HTTP/3 path included, runs here, on whatever machine the tests run. The HTTP/3 fronts are the probe's:
Debian's Caddy on loopback (tests/h3).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from streampath_cdk.canary_function import BINARY_PACKAGES, canary_bundler
from tests.canary_h3.host_asset import host_runnable_copy
from tests.h3.conftest import fronts, tls

__all__ = ["asset", "fronts", "host_asset", "tls"]


@pytest.fixture(scope="session")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("canary-asset-h3")
    assert canary_bundler().try_bundle(str(out)) is True
    yield out
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="session")
def host_asset(asset: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("canary-asset-host") / "asset"
    assert host_runnable_copy(asset, out) == len(BINARY_PACKAGES)  # one shared object each
    yield out
    shutil.rmtree(out.parent, ignore_errors=True)
