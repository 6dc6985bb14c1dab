"""The lab's load row: many streams at once through the capped hop, and the cap streamprobe load names."""

from __future__ import annotations

import pytest

from lab.report import render_load_row
from lab.run import LOAD_STREAMS, LabReport, run_load_row
from lab.topology import CAPPED_MAXCONN, Lab

pytestmark = [pytest.mark.lab, pytest.mark.timing]


def test_the_capped_hop_is_named_with_its_cap(lab: Lab) -> None:
    assert lab.capped is not None
    summary = run_load_row(lab.capped)
    assert summary.finished == LOAD_STREAMS and summary.verdicts["streaming"] == LOAD_STREAMS
    assert summary.cap is not None and summary.cap.cap == CAPPED_MAXCONN
    assert summary.good == LOAD_STREAMS  # queued, not failed: the default SLO allows 2 s to the first event
    report = LabReport(events=5, interval_ms=100, load=summary)
    shown = "\n".join(render_load_row(report))
    assert f"concurrency cap of about {CAPPED_MAXCONN}" in shown and "haproxy" in shown
    assert report.to_dict()["load"]["diagnosis"]["cap"] == CAPPED_MAXCONN
