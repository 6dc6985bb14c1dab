"""The Alt-Svc parser (RFC 7838) the probe uses to say "h3 advertised"."""

from __future__ import annotations

from streamprobe.altsvc import AltService, advertises_h3, parse_alt_svc


def test_caddy_and_cloudfront_values() -> None:
    assert parse_alt_svc('h3=":8443"; ma=2592000') == [AltService("h3", "", 8443, 2592000)]
    cloudfront = 'h3=":443"; ma=86400, h3-29=":443"; ma=86400'
    assert [s.protocol for s in parse_alt_svc(cloudfront)] == ["h3", "h3-29"]
    assert advertises_h3(cloudfront)


def test_only_final_h3_counts() -> None:
    assert not advertises_h3('h3-29=":443"; ma=86400')  # a draft: aioquic and browsers speak only h3
    assert not advertises_h3('h2=":443"')
    assert not advertises_h3("clear")
    assert not advertises_h3(None)


def test_quoted_authority_with_host_and_commas() -> None:
    value = 'h2="alt.example.com:443"; ma=60; persist=1, h3="[2001:db8::1]:4443"'
    assert parse_alt_svc(value) == [
        AltService("h2", "alt.example.com", 443, 60),
        AltService("h3", "2001:db8::1", 4443, None),
    ]


def test_garbage_parses_to_nothing() -> None:
    assert parse_alt_svc("h3") == []
    assert parse_alt_svc('h3=":notaport"') == []
    assert parse_alt_svc(",,,;") == []
