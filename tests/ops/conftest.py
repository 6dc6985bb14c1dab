"""Fixtures for the ops CLI's tests: one moto server per test module, reached over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from streampath.cli import main
from tests.ops.fake_aws import Moto, moto_server

STREAMPATH = Path(sys.executable).parent / "streampath"


def clean_environ() -> dict[str, str]:
    """The current environment without any AWS_* variable (no real profile, endpoint or key leaks in)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Cli(Protocol):
    def __call__(self, *argv: str) -> Result: ...


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    with moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def aws_env(moto: Moto) -> Iterator[dict[str, str]]:
    """The process environment pointed at moto with fake credentials, for in-process ``main(argv)`` calls."""
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("AWS_"):
                patch.delenv(key)
        for key, value in moto.env().items():
            patch.setenv(key, value)
        yield moto.env()


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("config")


@pytest.fixture
def cli(aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli("status", "--config", path)`` runs ``streampath.cli.main`` in-process against moto."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_streampath(argv: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> Result:
    """The installed console script as a subprocess (``.venv/bin/streampath ...``)."""
    proc = subprocess.run(
        [str(STREAMPATH), *argv],
        env={**clean_environ(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
