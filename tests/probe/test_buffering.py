"""streaming / partial / buffered against real buffering servers, over HTTP/1.1 and HTTP/2.

Streams are 10 intervals of 100 ms so the verdict margins are wide: streaming <= ~100 ms,
buffered >= ~800 ms; a 4 KiB buffer with ~1 KiB events delays events by up to ~300 ms (partial).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamcheck.reference_app import create_app
from streamprobe import ProbeOptions, probe

from tests.probe.conftest import STREAM
from tests.support import servers
from tests.support.servers import RunningServer
from tests.support.tls import TLSFiles

PADDED = STREAM + "&pad=1000"  # ~1.1 KiB per event: a 4 KiB block holds ~3.7 events
CHAT = "/api/chat/stream?tokens=20&interval_ms=50"


@pytest.fixture(scope="module")
def hold_all_h1(h1_server: RunningServer) -> Iterator[servers.RawServer]:
    with servers.hold_all_proxy(h1_server.port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def block_h1(h1_server: RunningServer) -> Iterator[servers.RawServer]:
    with servers.block_proxy(h1_server.port, 4096) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def hold_all_h2(tls: TLSFiles) -> Iterator[RunningServer]:
    with servers.hypercorn_server(servers.buffered_asgi(create_app(), block=None), tls=tls) as srv:
        yield srv


@pytest.fixture(scope="module")
def block_h2(tls: TLSFiles) -> Iterator[RunningServer]:
    with servers.hypercorn_server(servers.buffered_asgi(create_app(), block=4096), tls=tls) as srv:
        yield srv


def test_h1_streaming_direct(h1_server: RunningServer) -> None:
    r = probe(h1_server.url(PADDED))
    assert (r.protocol, r.mode, r.verdict) == ("HTTP/1.1", "streamcheck", "streaming"), r.to_dict()


def test_h1_hold_all_proxy_is_buffered(hold_all_h1: servers.RawServer) -> None:
    r = probe(hold_all_h1.url(STREAM))
    assert r.ok, r.to_dict()
    assert r.verdict == "buffered", r.to_dict()
    assert r.buffering_delay_ms is not None and r.buffering_delay_ms >= 800
    # the first event waited for the last: first_event is close to total
    assert r.timings_ms["first_event"] is not None and r.timings_ms["first_event"] >= 900


def test_h1_4k_block_proxy_is_partial(block_h1: servers.RawServer) -> None:
    r = probe(block_h1.url(PADDED))
    assert r.ok, r.to_dict()
    assert r.verdict == "partial", r.to_dict()
    assert r.buffering_delay_ms is not None and 150 <= r.buffering_delay_ms <= 600


def test_h1_4k_block_proxy_streams_small_events_only_in_blocks(block_h1: servers.RawServer) -> None:
    # without pad, all 11 tiny events (~1.1 KiB) fit in one 4 KiB block: held to the end
    r = probe(block_h1.url(STREAM))
    assert r.verdict == "buffered", r.to_dict()


def test_h2_streaming_direct(h2_server: RunningServer) -> None:
    r = probe(h2_server.url(PADDED), ProbeOptions(verify=h2_server.verify))
    assert (r.protocol, r.verdict) == ("HTTP/2", "streaming"), r.to_dict()


def test_h2_hold_all_is_buffered(hold_all_h2: RunningServer) -> None:
    r = probe(hold_all_h2.url(STREAM), ProbeOptions(verify=hold_all_h2.verify, http="h2"))
    assert (r.protocol, r.verdict) == ("HTTP/2", "buffered"), r.to_dict()


def test_h2_4k_blocks_is_partial(block_h2: RunningServer) -> None:
    r = probe(block_h2.url(PADDED), ProbeOptions(verify=block_h2.verify, http="h2"))
    assert (r.protocol, r.verdict) == ("HTTP/2", "partial"), r.to_dict()


def test_h1_over_tls_to_the_h2_server_still_streams(h2_server: RunningServer) -> None:
    r = probe(h2_server.url(STREAM), ProbeOptions(verify=h2_server.verify, http="h1"))
    assert (r.protocol, r.verdict) == ("HTTP/1.1", "streaming"), r.to_dict()


def test_generic_chat_stream_streaming_then_buffered(
    h1_server: RunningServer, hold_all_h1: servers.RawServer
) -> None:
    # Without stamps (the reference app stamps when asked): judged by the arrival pattern alone.
    unstamped = ProbeOptions(stamp=False)
    direct = probe(h1_server.url(CHAT), unstamped)
    assert (direct.mode, direct.verdict) == ("generic", "streaming"), direct.to_dict()
    assert direct.buffering_delay_ms is None
    held = probe(hold_all_h1.url(CHAT), unstamped)
    assert (held.mode, held.verdict) == ("generic", "buffered"), held.to_dict()
    assert any(n.startswith("generic mode:") for n in held.notes)


@pytest.fixture(scope="module")
def gzip_server() -> Iterator[RunningServer]:
    with servers.uvicorn_server(create_app(gzip_sse=True)) as srv:
        yield srv


def test_compression_middleware_buffers_only_when_compression_is_asked(gzip_server: RunningServer) -> None:
    compressed = probe(gzip_server.url(STREAM))  # browser default Accept-Encoding
    assert compressed.content_encoding == "gzip"
    assert compressed.verdict == "buffered", compressed.to_dict()
    assert compressed.events == 11  # decoded correctly
    identity = probe(gzip_server.url(STREAM), ProbeOptions(accept_encoding="identity"))
    assert identity.content_encoding is None
    assert identity.verdict == "streaming", identity.to_dict()


def test_default_accept_encoding_is_browser_like_without_undecodable_br(h1_server: RunningServer) -> None:
    from streamprobe.decoding import BROTLI, default_accept_encoding

    value, note = default_accept_encoding()
    if BROTLI is None:
        assert value == "gzip, deflate" and note is not None and "br" in note
        r = probe(h1_server.url(STREAM), ProbeOptions(accept_encoding="gzip, deflate, br"))
        assert any("br removed" in n for n in r.notes)
    else:
        assert value == "gzip, deflate, br" and note is None


def test_gzip_that_flushes_per_event_streams_and_decodes() -> None:
    with servers.uvicorn_server(servers.gzip_flushing_asgi(create_app())) as srv:
        r = probe(srv.url(STREAM))
    assert r.content_encoding == "gzip"
    assert (r.events, r.verdict) == (11, "streaming"), r.to_dict()


def test_brotli_that_flushes_per_event_streams_and_decodes() -> None:
    """Browsers ask for br; with a brotli module installed (a project dependency) the probe asks too."""
    with servers.uvicorn_server(servers.brotli_flushing_asgi(create_app())) as srv:
        r = probe(srv.url(STREAM))
    assert r.content_encoding == "br"
    assert (r.events, r.verdict) == (11, "streaming"), r.to_dict()
    assert not any("br" in note for note in r.notes)
