"""The lab's load row: many streams at once through the capped hop, and the cap streamprobe load names;
the doctor and trace name it too, with their few streams at once."""

from __future__ import annotations

import pytest
from streamprobe.fixes import CONCURRENCY_CAP_FIXES
from streamprobe.options import ProbeOptions
from streamprobe.trace import parse_hops, run_trace

from lab.report import render_load_row
from lab.run import LOAD_EVENTS, LOAD_INTERVAL_MS, LOAD_STREAMS, LabReport, run_load_row
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


def test_the_doctor_names_the_capped_hop(report: LabReport) -> None:
    doctor = report.capped_doctor
    assert doctor is not None and doctor.concurrency is not None
    assert doctor.diagnosis_code == "none"  # nothing buffers: the cap is reported beside the code
    assert doctor.concurrency.cap is not None and doctor.concurrency.cap.cap == CAPPED_MAXCONN
    assert f"streams queue behind a concurrency cap of about {CAPPED_MAXCONN}" in doctor.diagnosis
    assert [f.fix.id for f in doctor.fixes] == list(CONCURRENCY_CAP_FIXES)
    assert doctor.exit_code == 1
    assert report.to_dict()["capped_doctor"]["concurrency"]["cap"]["cap"] == CAPPED_MAXCONN
    assert f"concurrency cap of about {CAPPED_MAXCONN}" in "\n".join(render_load_row(report))


def test_trace_names_the_capped_hop_not_the_app(lab: Lab) -> None:
    assert lab.capped is not None
    direct = lab.paths["direct"].streamcheck_url(LOAD_EVENTS, LOAD_INTERVAL_MS)
    capped = lab.capped.streamcheck_url(LOAD_EVENTS, LOAD_INTERVAL_MS)
    traced = run_trace(parse_hops([f"pod={direct}", f"capped-haproxy={capped}"]), ProbeOptions())
    assert traced.capped_hop == "capped-haproxy" and traced.diagnosis_code == "none"
    d = traced.to_dict()
    assert d["concurrency"]["hop"] == "capped-haproxy" and d["concurrency"]["cap"]["cap"] == CAPPED_MAXCONN
    assert d["fixes"][0] == {**d["fixes"][0], "hop": "capped-haproxy", "id": "haproxy.maxconn"}
    assert "alb.target_optimizer_max_concurrency" in [f["id"] for f in d["fixes"]]
    assert traced.summary == f"no hop buffers; capped-haproxy serves about {CAPPED_MAXCONN} streams at a time"
    assert traced.exit_code == 1
