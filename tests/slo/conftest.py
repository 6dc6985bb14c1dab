"""The SLO example config, synthesised once per session (cdk-nag on), where tests/stacks writes its own."""

from __future__ import annotations

import pytest

from tests.stacks.conftest import _cdk_output_root
from tests.support.cdk import Synthesised, synth_config

__all__ = ["_cdk_output_root", "slo_app"]


@pytest.fixture(scope="session")
def slo_app() -> Synthesised:
    return synth_config("slo")
