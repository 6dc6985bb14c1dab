"""Session-wide fixtures: the repository's distributions built once, and one folder of downloaded wheels,
shared by the tests that install them into fresh venvs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.installs import Built, build_distributions


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_distributions(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def distributions(built: Built) -> Path:
    """The folder of the sdists and wheels ``make dist`` builds (and ``twine check --strict`` passed)."""
    assert built.result.returncode == 0, built.result.stdout + built.result.stderr
    return built.out


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Third-party wheels a fresh venv needs and the caches lack, downloaded at most once a session."""
    return tmp_path_factory.mktemp("downloads")
