"""The lab's HTTP/3 rows: Caddy (h1 + h2 + h3) in front of the app streams over every protocol, and in
front of the buffering nginx is held over every protocol; paths without an HTTP/3 front have no h3 cell."""

from __future__ import annotations

import dataclasses
import json

import pytest
from streamprobe.altsvc import advertises_h3
from streamprobe.probing import probe

from lab.run import LabReport, probe_options
from lab.topology import Lab
from tests.lab.conftest import EVENTS, INTERVAL_MS

pytestmark = pytest.mark.lab

H3_PATHS = ("caddy-h3", "caddy-h3-buffering")
STREAM_MS = (EVENTS - 1) * INTERVAL_MS


def test_only_the_caddy_rows_have_an_h3_cell(report: LabReport) -> None:
    for p in report.paths:
        assert (p.cells["h3"] is not None) == (p.path.name in H3_PATHS), p.path.name
        assert p.path.offers_h3 == (p.path.name in H3_PATHS)


def test_caddy_streams_over_h3_h2_and_h1(report: LabReport) -> None:
    p = report.path("caddy-h3")
    h3, h2, h1 = p.cells["h3"], p.cells["h2"], p.cells["h1"]
    assert h3 is not None and h2 is not None and h1 is not None
    assert (h3.protocol, h2.protocol, h1.protocol) == ("HTTP/3", "HTTP/2", "HTTP/1.1")
    assert [r.verdict for r in (h3, h2, h1)] == ["streaming"] * 3, [
        r.buffering_delay_ms for r in (h3, h2, h1)
    ]
    assert advertises_h3(h2.alt_svc) and advertises_h3(h1.alt_svc)  # what makes browsers switch


def test_a_chat_post_over_h3_is_judged_like_over_h2(lab: Lab) -> None:
    """The app's chat endpoint, POSTed to through Caddy as a chat frontend sends the user's message: the
    HTTP/3 reading gives the same verdict, mode and events as the HTTP/2 one."""
    path = lab.paths["caddy-h3"]
    url = path.chat_url(40, 50)  # a 2 s answer: streaming <= 200 ms of delay
    body = json.dumps({"messages": [{"role": "user", "content": "Say hello in five words."}]}).encode()
    read = {}
    for http in ("h2", "h3"):
        options = dataclasses.replace(probe_options(lab, path, "h1", 10.0), http=http)
        read[http] = probe(url, dataclasses.replace(options, method="POST", data=body))
    h2, h3 = read["h2"], read["h3"]
    assert h2.error is None and h3.error is None, (h2.error, h3.error)
    assert (h2.protocol, h3.protocol) == ("HTTP/2", "HTTP/3")
    assert (h3.verdict, h3.mode) == (h2.verdict, h2.mode) == ("streaming", "stamped")
    assert [(e.event, e.seq, e.stamp_ms is not None) for e in h3.arrivals] == [
        (e.event, e.seq, e.stamp_ms is not None) for e in h2.arrivals
    ]
    assert len(h3.arrivals) == 41  # 40 tokens and [DONE]


def test_h3_does_not_undo_a_buffering_hop_behind_it(report: LabReport) -> None:
    p = report.path("caddy-h3-buffering")
    h3 = p.cells["h3"]
    assert h3 is not None and h3.error is None, h3 and h3.error
    assert (h3.protocol, h3.verdict) == ("HTTP/3", "buffered")
    assert h3.buffering_delay_ms is not None and h3.buffering_delay_ms >= STREAM_MS * 0.8
    assert h3.content_encoding == "gzip"  # nginx's gzip, passed through by Caddy, decoded by the probe
    assert "compress" in (p.diagnosis or "").lower()


def test_table_has_the_h3_column(report: LabReport) -> None:
    from lab.report import render_table

    table = render_table(report)
    assert "h3 (HTTP/3 over QUIC required)" in table
    assert "n/a: no HTTP/3 front" in table
    row = next(line for line in table.splitlines() if line.startswith("caddy-h3-buffering "))
    assert row.count("buffered") >= 3  # h1, h2 and h3 cells


@pytest.mark.browser
@pytest.mark.parametrize("path", H3_PATHS)
def test_browser_reads_the_h3_rows_over_quic(report: LabReport, path: str) -> None:
    """Chromium forced onto QUIC for those origins: its h3 reading sits next to the probe's."""
    p = report.path(path)
    seen, probed = p.cells["browser"], p.cells["h3"]
    assert seen is not None and probed is not None, report.browser_note
    assert seen.error is None, seen.error
    assert (seen.protocol, probed.protocol) == ("HTTP/3", "HTTP/3")
    assert seen.verdict == probed.verdict == ("buffered" if path.endswith("buffering") else "streaming")
