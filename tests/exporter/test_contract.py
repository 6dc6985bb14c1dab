"""docs/contracts/exporter-metrics.md lists exactly the metric names the code emits."""

from __future__ import annotations

import re

from streamprobe.exporter.metrics import METRIC_NAMES

from .support import REPO


def test_contract_table_is_the_codes_names() -> None:
    text = (REPO / "docs" / "contracts" / "exporter-metrics.md").read_text()
    table = re.findall(r"^\| `([a-z0-9_]+)` \|", text, re.MULTILINE)
    assert table == list(METRIC_NAMES)


def test_guide_table_names_every_metric() -> None:
    text = (REPO / "docs" / "exporter.md").read_text()
    table = [
        name.split("{")[0] for name in re.findall(r"^\| `([a-z0-9_{}]+)` \| gauge \|", text, re.MULTILINE)
    ]
    assert table == list(METRIC_NAMES)
