"""The probe against the reference app: streaming over HTTP/1.1 and HTTP/2."""

from __future__ import annotations

from streamprobe import ProbeOptions, probe

from tests.probe.conftest import STREAM
from tests.support.servers import RunningServer


def test_streams_over_http11(h1_server: RunningServer) -> None:
    result = probe(h1_server.url(STREAM), ProbeOptions(name="direct"))
    d = result.to_dict()
    assert d["ok"] and d["error"] is None, d
    assert d["protocol"] == "HTTP/1.1" and d["status"] == 200
    assert d["mode"] == "streamcheck" and d["events"] == 11
    assert d["verdict"] == "streaming", d
    assert d["path_name"] == "direct"
    t = d["timings_ms"]
    assert t["tls"] is None and t["dns"] is None  # plain http to an IP literal
    assert 0 < t["connect"] <= t["ttfb"] <= t["first_event"] < t["total"]
    assert t["total"] >= 900  # 10 intervals of 100 ms
    assert "nonce=" in d["url"]


def test_streams_over_http2_with_tls_and_dns(h2_server: RunningServer) -> None:
    url = h2_server.url(STREAM).replace("127.0.0.1", "localhost")
    result = probe(url, ProbeOptions(verify=h2_server.verify))
    assert result.ok, result.error
    assert result.protocol == "HTTP/2"
    assert result.verdict == "streaming"
    t = result.timings_ms
    assert all(t[k] is not None for k in ("dns", "connect", "tls", "ttfb", "first_event", "total"))
