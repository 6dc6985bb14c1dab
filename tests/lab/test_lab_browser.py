"""The lab's browser column: headless Chromium's verdict equals the probe's on every path.

The browser offers h2 and http/1.1 like the probe's "h2" column, so it is compared with that column on
TLS paths and with "h1" on cleartext ones. A disagreement is a finding to explain, not a tolerance.
"""

from __future__ import annotations

import pytest

from lab.run import LabReport
from lab.topology import PATH_NAMES
from tests.lab.conftest import EVENTS

pytestmark = [pytest.mark.lab, pytest.mark.browser]


def test_browser_column_ran(report: LabReport) -> None:
    # Chromium missing is a failure with the install hint, not a skip (CI installs it).
    assert report.browser_note is None, report.browser_note


@pytest.mark.parametrize("path", PATH_NAMES)
def test_browser_agrees_with_the_probe(report: LabReport, path: str) -> None:
    p = report.path(path)
    seen = p.cells["browser"]
    assert seen is not None, report.browser_note
    assert seen.error is None, seen.error
    column = "h3" if p.path.offers_h3 else "h2" if p.path.tls else "h1"  # h3 fronts: Chromium on QUIC
    probed = p.cells[column]
    assert probed is not None and probed.error is None
    assert seen.protocol == probed.protocol
    assert (seen.verdict, seen.mode, seen.events) == (probed.verdict, probed.mode, EVENTS + 1), (
        f"browser {seen.verdict} ({seen.buffering_delay_ms} ms) vs probe {column} {probed.verdict} "
        f"({probed.buffering_delay_ms} ms)"
    )


def test_table_has_the_browser_column(report: LabReport) -> None:
    from lab.report import render_table

    table = render_table(report)
    assert "browser (Chromium fetch + getReader)" in table
    assert "streaming (h2)" in table and "buffered (h1)" in table
