"""A copy of the canary's asset that this machine can run: each aarch64 shared object swapped for the dev
venv's build of the same module (the same distribution at the same version: tests/canary checks the pins).

The asset's own Python code, the probe's HTTP/3 path included, then runs here in a clean interpreter; only
the native code is this machine's. Used by tests/canary_h3 and bench/canary_bench.py.
"""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path
from typing import Final

#: How CPython 3.14 on aarch64 Linux names the extension files the asset holds.
LAMBDA_SUFFIXES: Final = (".cpython-314-aarch64-linux-gnu.so", ".abi3.so")


def module_stem(name: str) -> str:
    """``_cffi_backend.cpython-314-aarch64-linux-gnu.so`` -> ``_cffi_backend``."""
    for suffix in LAMBDA_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    raise ValueError(f"{name}: not a CPython 3.14 aarch64 extension file name")


def host_runnable_copy(asset: Path, out: Path) -> int:
    """Copy ``asset`` to ``out`` (which must not exist) with every ``*.so`` replaced by this interpreter's
    build of the same module from its site-packages; returns how many were swapped."""
    venv = Path(sysconfig.get_paths()["purelib"])
    shutil.copytree(asset, out)
    swapped = 0
    for so in sorted(out.rglob("*.so")):
        relative = so.relative_to(out)
        builds = sorted(venv.joinpath(*relative.parts[:-1]).glob(f"{module_stem(so.name)}.*.so"))
        if len(builds) != 1:
            raise FileNotFoundError(f"no single build of {relative} in {venv}: {builds}")
        so.unlink()
        shutil.copy2(builds[0], so.with_name(builds[0].name))
        swapped += 1
    return swapped
