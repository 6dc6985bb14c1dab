"""What the suite builds once and keeps between runs: each entry under the digest of every input that
went into it, so a re-run with the same inputs reuses it and any change builds it afresh.

Only the newest entry of each kind is kept (``<kind>-<digest>``); ``make clean`` removes them all with
``.pytest_cache``. An entry is written under an exclusive lock, and marked complete last, so workers that
want the same entry at once build it once and never read half of one. A failed build is never kept.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from tests.support.cdk import REPO_ROOT

T = TypeVar("T")

ROOT = REPO_ROOT / ".pytest_cache" / "streampath-builds"
COMPLETE = ".complete"


def digest(texts: Iterable[str], files: Iterable[Path]) -> str:
    """A digest of ``texts``, each file's name and bytes (a missing file counts as missing), and the
    interpreter's version. A file's name is its path in the checkout, or its base name outside it (a
    test's temporary folder differs every run; what is in it does not)."""
    h = hashlib.sha256(sys.version.encode())
    for text in texts:
        h.update(b"\0t" + text.encode())
    for path in files:
        name = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else Path(path.name)
        h.update(b"\0f" + name.as_posix().encode())
        h.update(path.read_bytes() if path.is_file() else b"\0missing")
    return h.hexdigest()[:24]


def tool_versions(*distributions: str) -> list[str]:
    """``name==version`` of installed distributions that shape a build (pip, setuptools, twine ...)."""
    return [f"{name}=={metadata.version(name)}" for name in distributions]


@contextmanager
def _locked(kind: str) -> Iterator[None]:
    ROOT.mkdir(parents=True, exist_ok=True)
    with open(ROOT / f"{kind}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def entry(kind: str, key: str, build: Callable[[Path], bool], use: Callable[[Path], T]) -> T:
    """``use(folder)`` of the folder of ``kind`` for ``key``, built by ``build(folder)`` unless a complete
    one is kept.

    ``build`` fills the empty folder and says whether it succeeded; a failure is not kept (the next call
    builds again). ``use`` runs under the lock too, so no other worker replaces the folder meanwhile.
    """
    folder = ROOT / f"{kind}-{key}"
    with _locked(kind):
        if not (folder / COMPLETE).is_file():
            for stale in ROOT.glob(f"{kind}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            folder.mkdir(parents=True)
            if build(folder):
                (folder / COMPLETE).write_text(key)
        return use(folder)
