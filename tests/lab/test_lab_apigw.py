"""The lab's API Gateway stand-ins as rows of ``python -m lab``: BUFFERED holds the whole stream and the
doctor names the integration's transfer mode; STREAM streams, and cuts a stream silent past its idle
timeout, which the doctor names with the heartbeat fix.

Read from the session's lab report (``tests/lab/conftest.py``): the rows cost no stream of their own here.
"""

from __future__ import annotations

import pytest
from streamprobe.idle import idle_cut

from lab.report import render_table
from lab.run import IDLE_INTERVAL_MS, LabReport
from lab.topology import APIGW_IDLE_TIMEOUT_S

pytestmark = pytest.mark.lab


def test_buffered_standin_holds_the_stream_and_the_doctor_names_buffered_mode(report: LabReport) -> None:
    row = report.path("apigw-buffered")
    h1 = row.cells["h1"]
    assert h1 is not None and h1.verdict == "buffered" and h1.via == ["apigateway"]
    assert row.doctor is not None and row.doctor["diagnosis_code"] == "everything"
    assert "ResponseTransferMode BUFFERED" in (row.diagnosis or "")
    assert [f["id"] for f in row.doctor["fixes"]] == ["apigateway.stream_mode"]
    assert "STREAM" in row.doctor["fixes"][0]["change"]


def test_stream_standin_streams(report: LabReport) -> None:
    row = report.path("apigw-stream")
    h1 = row.cells["h1"]
    assert h1 is not None and h1.verdict == "streaming" and h1.via == ["apigateway"]
    assert row.doctor is None  # nothing to explain


def test_idle_row_names_the_cut_and_the_heartbeat(report: LabReport) -> None:
    assert report.idle is not None
    doctor = report.idle.doctor
    assert doctor.diagnosis_code == "idle_timeout", doctor.diagnosis
    cut = doctor.cells[("h1", "identity")]
    assert cut.error is not None and cut.error.kind == "protocol"
    found = idle_cut(cut)
    # cut by the stand-in's idle timeout, well before the next event would have come
    assert found is not None and APIGW_IDLE_TIMEOUT_S * 1000 - 100 <= found.silence_ms < IDLE_INTERVAL_MS
    assert "API Gateway answered (x-amz-apigw-id)" in doctor.diagnosis
    assert "30 s on an edge-optimized endpoint, 5 min on a Regional" in doctor.diagnosis
    assert [f.fix.id for f in doctor.fixes] == ["app.heartbeat", "apigateway.regional_endpoint"]
    assert doctor.concurrency is None  # the plainest request failed: no streams at once


def test_table_shows_both_standins_and_the_idle_row(report: LabReport) -> None:
    table = render_table(report)
    assert "\napigw-buffered " in table and "\napigw-stream " in table
    assert "fixes: apigateway.stream_mode" in table
    assert f"(idle timeout {APIGW_IDLE_TIMEOUT_S:g} s here" in table
    assert "doctor (idle_timeout): the stream was cut after" in table
    assert report.to_dict()["apigw_idle"]["doctor"]["diagnosis_code"] == "idle_timeout"
