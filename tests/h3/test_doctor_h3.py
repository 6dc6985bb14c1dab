"""The doctor's HTTP/3 row: probed when the server advertises h3 or with --http3, and the diagnosis
when only HTTP/3 buffers (the HTTP/3 front end)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from streamprobe import ProbeOptions
from streamprobe.cli import main
from streamprobe.doctor import diagnose, run_doctor
from streamprobe.result import ProbeResult

from tests.h3.conftest import Fronts
from tests.support.servers import RunningServer, hypercorn_server
from tests.support.tls import TLSFiles


def options(tls: TLSFiles) -> ProbeOptions:
    return ProbeOptions(verify=tls.ca_pem, timeout=3, max_duration=20)


def test_advertised_h3_adds_the_row(fronts: Fronts) -> None:
    report = run_doctor(fronts.url(fronts.streamed), options(fronts.tls))
    assert report.rows == ("h1", "h2", "h3")
    assert {report.cells[("h3", e)].protocol for e in ("identity", "compressed")} == {"HTTP/3"}
    assert {report.state(h, e) for h, e in report.cells} == {"streaming"}
    assert report.exit_code == 0
    assert "no buffering found" in report.diagnosis


def test_only_h3_buffers_names_the_http3_front(fronts: Fronts, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", fronts.url(fronts.h3_buffers), "--cacert", fronts.tls.ca_pem, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    states = {(c["http"], c["encoding"]): c["state"] for c in data["cells"]}
    assert states[("HTTP/3", "identity")] == "buffered" and states[("HTTP/3", "compressed")] == "buffered"
    assert {s for (h, _), s in states.items() if h != "HTTP/3"} == {"streaming"}
    assert data["diagnosis"].startswith("buffered only over HTTP/3")


def test_table_shows_the_http3_row(fronts: Fronts, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", fronts.url(fronts.buffered), "--cacert", fronts.tls.ca_pem])
    out = capsys.readouterr().out
    assert code == 1
    row = next(line for line in out.splitlines() if line.strip().startswith("HTTP/3"))
    assert row.count("buffered") == 2
    assert "buffered in every combination" in out


@pytest.fixture(scope="module")
def h2_only(tls: TLSFiles) -> Iterator[RunningServer]:
    from streamcheck.reference_app import create_app

    with hypercorn_server(create_app(), tls=tls) as srv:
        yield srv


def test_not_advertised_means_no_row_unless_asked(h2_only: RunningServer, tls: TLSFiles) -> None:
    url = h2_only.url("/api/streamcheck?events=5&interval_ms=50")
    assert run_doctor(url, options(tls)).rows == ("h1", "h2")
    asked = run_doctor(url, options(tls), http3=True)
    assert asked.rows == ("h1", "h2", "h3")
    assert asked.state("h3", "identity") == "not offered"  # nothing answers QUIC on that UDP port
    assert asked.exit_code == 0
    assert "(the server does not offer HTTP/3)" in asked.diagnosis


def test_http3_doctor_needs_https() -> None:
    with pytest.raises(ValueError, match="https://"):
        run_doctor("http://127.0.0.1:1/api/streamcheck", http3=True)


def _result(protocol: str, verdict: str) -> ProbeResult:
    return ProbeResult(url="u", path_name="p", protocol=protocol, status=200, verdict=verdict)  # type: ignore[arg-type]


def test_diagnosis_blames_h3_only_when_h1_and_h2_stream() -> None:
    cells = {
        (h, e): _result(label, "buffered" if h == "h3" else "streaming")
        for h, label in (("h1", "HTTP/1.1"), ("h2", "HTTP/2"), ("h3", "HTTP/3"))
        for e in ("identity", "compressed")
    }
    assert diagnose(cells).startswith("buffered only over HTTP/3")  # type: ignore[arg-type]
    cells[("h2", "identity")] = _result("HTTP/2", "buffered")
    assert not diagnose(cells).startswith("buffered only over HTTP/3")  # type: ignore[arg-type]
