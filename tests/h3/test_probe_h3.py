"""``streamprobe --http3`` against real Caddy: HTTP/3 with the right verdict and delay for a streamed
and a buffered hop, the same phases and secrets rules as h1/h2, and ``alt_svc`` reported over h2."""

from __future__ import annotations

import json

import pytest
from streamprobe import ProbeOptions, probe
from streamprobe.altsvc import advertises_h3
from streamprobe.cli import main

from tests.h3.conftest import STREAM_MS, Fronts, nothing_left_behind

SECRET = "Bearer h3-secret-value-7Q2x"


def h3(fronts: Fronts, **kw: object) -> ProbeOptions:
    return ProbeOptions(http="h3", verify=fronts.tls.ca_pem, timeout=5, max_duration=20, **kw)  # type: ignore[arg-type]


def test_streamed_hop_over_h3(fronts: Fronts) -> None:
    with nothing_left_behind(fronts.upstreams):
        r = probe(fronts.url(fronts.streamed), h3(fronts))
    assert r.error is None, r.error
    assert (r.protocol, r.status, r.mode, r.verdict) == ("HTTP/3", 200, "streamcheck", "streaming")
    assert r.events == 11  # 10 ticks and "done"
    assert r.buffering_delay_ms is not None and r.buffering_delay_ms <= 90
    t = r.timings_ms
    connect, tls, ttfb, first = t["connect"], t["tls"], t["ttfb"], t["first_event"]
    assert connect is not None and tls is not None and ttfb is not None and first is not None
    assert connect > 0 and tls > 0
    assert ttfb >= connect + tls  # the headers come after the handshake, on the same clock
    assert first >= ttfb
    assert r.request_sent_ms is not None and r.request_sent_ms <= ttfb


def test_buffered_hop_over_h3(fronts: Fronts) -> None:
    r = probe(fronts.url(fronts.buffered), h3(fronts))
    assert r.error is None, r.error
    assert (r.protocol, r.verdict) == ("HTTP/3", "buffered")
    # held to the end: the first event waited for the last, ~the whole stream
    assert r.buffering_delay_ms is not None and 0.8 * STREAM_MS <= r.buffering_delay_ms <= STREAM_MS + 1100


def test_sni_host_name_over_h3(fronts: Fronts) -> None:
    """A URL on a host name sends SNI (as a CDN's clients do); the probe dials the address it resolved."""
    options = h3(fronts, resolver=lambda host, port: [(2, ("127.0.0.1", port))])
    r = probe(fronts.url(fronts.streamed, host="localhost"), options)
    assert (r.protocol, r.verdict) == ("HTTP/3", "streaming"), r.error
    assert r.timings_ms["dns"] is not None


def test_alt_svc_reported_over_h2(fronts: Fronts) -> None:
    r = probe(fronts.url(fronts.streamed), ProbeOptions(verify=fronts.tls.ca_pem, timeout=5))
    assert (r.protocol, r.verdict) == ("HTTP/2", "streaming"), r.error
    assert r.alt_svc is not None and f'h3=":{fronts.streamed}"' in r.alt_svc
    assert advertises_h3(r.alt_svc)
    assert r.to_dict()["alt_svc"] == r.alt_svc


@pytest.mark.parametrize("flag", ["--http1", "--http2"])
def test_cli_says_h3_advertised(fronts: Fronts, flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([fronts.url(fronts.streamed), flag, "--cacert", fronts.tls.ca_pem, "--timeout", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "(h3 advertised)" in out


def test_cli_http3_json(fronts: Fronts, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([fronts.url(fronts.buffered), "--http3", "--cacert", fronts.tls.ca_pem, "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1  # buffered
    assert (result["protocol"], result["verdict"], result["status"]) == ("HTTP/3", "buffered", 200)
    assert set(result["timings_ms"]) == {"dns", "connect", "tls", "ttfb", "first_event", "total"}
    assert "(h3 advertised)" not in json.dumps(result)


def test_cli_http3_needs_https(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["http://127.0.0.1:1/api/streamcheck", "--http3"]) == 2
    assert "https://" in capsys.readouterr().err


def test_header_values_never_shown_over_h3(fronts: Fronts, capsys: pytest.CaptureFixture[str]) -> None:
    """The page behind Caddy echoes the request head (Authorization included) into the body the error
    message quotes: the value is redacted there, and named, not shown, in the result."""
    url = fronts.url(fronts.echo, "/login")
    code = main(
        [url, "--http3", "--cacert", fronts.tls.ca_pem, "--header", f"Authorization: {SECRET}", "--json"]
    )
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert code == 2
    assert (result["protocol"], result["error"]["kind"]) == ("HTTP/3", "content_type")
    assert "<pre>" in result["error"]["message"] and "***" in result["error"]["message"]
    assert result["header_names"] == ["Authorization"]
    assert "h3-secret-value" not in out.out + out.err


def test_insecure_and_untrusted_certificate(fronts: Fronts) -> None:
    untrusted = probe(fronts.url(fronts.streamed), ProbeOptions(http="h3", timeout=5))
    assert untrusted.error is not None and untrusted.error.kind == "tls", untrusted.error
    assert "QUIC" in untrusted.error.message
    insecure = probe(fronts.url(fronts.streamed), ProbeOptions(http="h3", verify=False, timeout=5))
    assert (insecure.protocol, insecure.verdict) == ("HTTP/3", "streaming"), insecure.error


def test_certificate_for_another_name_is_refused_before_the_request(fronts: Fronts) -> None:
    """The name is checked after the QUIC handshake and before any request header is sent."""
    options = h3(fronts, resolver=lambda host, port: [(2, ("127.0.0.1", port))])
    r = probe(fronts.url(fronts.echo, "/login", host="streampath.example"), options)
    assert r.error is not None and r.error.kind == "tls", r.error
    assert "not for streampath.example" in r.error.message
    assert r.status is None and r.timings_ms["ttfb"] is None
