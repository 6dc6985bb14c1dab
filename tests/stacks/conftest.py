"""Fixtures for the CDK tests: each config is synthesised once per session (cdk-nag on)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.cdk import Synthesised, set_output_root, synth_config

CONFIG_NAMES = ("default", "staging", "production")


@pytest.fixture(scope="session", autouse=True)
def _cdk_output_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    set_output_root(tmp_path_factory.mktemp("cdk-out"))
    yield


@pytest.fixture(scope="session")
def default_app() -> Synthesised:
    return synth_config("default")


@pytest.fixture(scope="session")
def staging_app() -> Synthesised:
    return synth_config("staging")


@pytest.fixture(scope="session")
def production_app() -> Synthesised:
    return synth_config("production")


@pytest.fixture(scope="session", params=CONFIG_NAMES)
def any_app(request: pytest.FixtureRequest) -> Synthesised:
    """Each of the three shipped configs, synthesised (shared with the named fixtures above)."""
    return synth_config(request.param)
