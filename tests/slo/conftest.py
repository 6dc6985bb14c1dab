"""The SLO example config, synthesised once per session (cdk-nag on)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cdk import Synthesised, set_output_root, synth_config


@pytest.fixture(scope="session", autouse=True)
def _cdk_output_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    set_output_root(tmp_path_factory.mktemp("cdk-out"))
    yield


@pytest.fixture(scope="session")
def slo_app() -> Synthesised:
    return synth_config("slo")
