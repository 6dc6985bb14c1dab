"""HTTP/2 control frames are not data: PINGs alone are silence (``stalled`` after ``timeout``), and a
flood of control frames is a ``protocol`` error that names it, not a verdict about the path. A real
misbehaving server: the ``h2`` library over TLS on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from streamprobe.h2flood import CONTROL_FRAMES_PER_S, ControlFlood, FrameCounter

from tests.hostile import servers as hs
from tests.hostile.conftest import bounded_probe, no_leaks
from tests.support.tls import TLSFiles


def test_pings_alone_are_silence(tls: TLSFiles) -> None:
    with no_leaks(), hs.h2_server(tls, hs.pings_only(duration=8.0)) as srv:
        run = bounded_probe(srv.url("/sse"), http="h2", verify=tls.ca_pem, timeout=1.0, max_duration=8.0)
    assert run.result.protocol == "HTTP/2"
    assert run.kind == "stalled", run.result.to_dict()
    assert 1.0 <= run.elapsed < 1.0 + 1.0  # after --timeout, not at max_duration


def test_a_few_pings_between_events_are_fine(tls: TLSFiles) -> None:
    def script(peer: hs.H2Peer) -> None:
        peer.headers()
        for seq in range(5):
            peer.send_raw(hs.PING_FRAME * 3)
            peer.data(f"data: {seq}\n\n".encode())
            peer.wait(0.1)
        peer.h2.end_stream(peer.stream_id)
        peer.flush()

    with no_leaks(), hs.h2_server(tls, script) as srv:
        run = bounded_probe(srv.url("/sse"), http="h2", verify=tls.ca_pem, timeout=2.0, max_duration=5.0)
    assert run.kind is None and run.result.events == 5, run.result.to_dict()
    assert run.result.verdict == "streaming"


def test_ping_flood_between_events_is_a_protocol_error(tls: TLSFiles) -> None:
    with no_leaks(), hs.h2_server(tls, hs.ping_flood(pings=100_000, events=5, interval=0.2)) as srv:
        run = bounded_probe(srv.url("/sse"), http="h2", verify=tls.ca_pem, timeout=2.0, max_duration=8.0)
    assert run.kind == "protocol", run.result.to_dict()
    assert "control-frame flood" in run.message and "PING" in run.message, run.message
    assert run.result.verdict == "error"


@pytest.mark.parametrize("frame", [hs.empty_data_frame, hs.settings_frame], ids=["empty-data", "settings"])
def test_other_control_floods_are_protocol_errors(tls: TLSFiles, frame: Callable[[int], bytes]) -> None:
    with no_leaks(), hs.h2_server(tls, hs.frame_flood(frame, count=20_000)) as srv:
        run = bounded_probe(srv.url("/sse"), http="h2", verify=tls.ca_pem, timeout=2.0, max_duration=8.0)
    assert run.kind == "protocol", run.result.to_dict()
    assert "control-frame flood" in run.message, run.message


def test_frame_counter_reads_headers_in_any_chunking() -> None:
    ping, data = hs.PING_FRAME, b"\x00\x00\x05\x00\x00\x00\x00\x00\x01hello"
    stream = (data + ping) * (CONTROL_FRAMES_PER_S + 1)
    for size in (1, 7, 9, 17, 4096):
        counter = FrameCounter(limit=CONTROL_FRAMES_PER_S)
        with pytest.raises(ControlFlood) as info:
            for i in range(0, len(stream), size):
                counter.feed(stream[i : i + size])
        assert "PING" in info.value.frames
    counter = FrameCounter(limit=10)
    counter.feed(ping * 10 + data * 100)  # DATA that carries bytes is never counted
    time.sleep(1.0)
    counter.feed(ping * 10)  # a new second
