"""tests/support/run_cache.py: what the suite keeps between runs is keyed by what went into it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import run_cache
from tests.support.cdk import REPO_ROOT


def test_the_digest_follows_the_bytes_not_the_temporary_folder(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        (folder / "requirements.txt").write_text("streampath-cdk==0.1.0\n")

    def key(folder: Path) -> str:
        return run_cache.digest([], [folder / "requirements.txt"])

    assert key(one) == key(two)
    (two / "requirements.txt").write_text("streampath-cdk==0.2.0\n")
    assert key(one) != key(two)
    # The texts (tool versions) count, and so does a file's name in the checkout.
    assert run_cache.digest(["build==1"], []) != run_cache.digest(["build==2"], [])
    assert run_cache.digest([], [REPO_ROOT / "README.md"]) != run_cache.digest(
        [], [REPO_ROOT / "probe" / "README.md"]
    )


def test_an_entry_is_built_once_and_a_failure_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_cache, "ROOT", tmp_path / "kept")
    builds: list[Path] = []

    def build(ok: bool) -> Callable[[Path], bool]:
        def fill(folder: Path) -> bool:
            builds.append(folder)
            (folder / "made").write_text(str(len(builds)))
            return ok

        return fill

    def read(folder: Path) -> str:
        return (folder / "made").read_text()

    assert run_cache.entry("kind", "a", build(False), read) == "1"
    assert run_cache.entry("kind", "a", build(True), read) == "2"  # the failure was built again
    assert run_cache.entry("kind", "a", build(True), read) == "2"  # kept: not built a third time
    assert run_cache.entry("kind", "b", build(True), read) == "3"  # new inputs: built afresh
    assert sorted(p.name for p in (tmp_path / "kept").glob("kind-*")) == ["kind-b"]  # only the newest
