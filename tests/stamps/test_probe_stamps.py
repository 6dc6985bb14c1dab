"""The probe on the reference app's chat stream (no sent_ms of its own, StampMiddleware mounted): stamped
mode with the same verdict and delay as curl's reading of the same stamps; without stamps, generic mode
still calls a block-forwarding proxy partial; a server's garbage stamps never decide or break a verdict."""

from __future__ import annotations

import socket
import statistics
import threading

import pytest
from streamprobe import ProbeOptions, probe
from streamprobe.sse import NO_STAMPS_NOTE

from lab.curl_reference import read_with_curl
from tests.stamps.conftest import CHAT
from tests.support import servers
from tests.support.servers import SSE_HEAD, RawServer, RunningServer, read_request

#: The agreement the issue asks for between the probe and curl's reading (separate reads of one stream).
AGREEMENT_MS = 25.0
SHORT_CHAT = "/api/chat/stream?tokens=100&interval_ms=10"


def compare(url: str, pairs: int = 3) -> tuple[list[str], list[str], list[float]]:
    """Probe and curl, alternating: (probe verdicts, curl verdicts, |probe delay - curl delay|)."""
    ours: list[str] = []
    theirs: list[str] = []
    diffs: list[float] = []
    for _ in range(pairs):
        r = probe(url)
        c = read_with_curl(url, compressed=True)  # the probe asks for compression like a browser
        assert r.error is None and c.exit_code == 0, (r.to_dict(), c.stderr)
        assert r.mode == "stamped" and r.events == len(c.events) == len(c.stamped), r.to_dict()
        assert r.buffering_delay_ms is not None and c.delay_ms is not None
        ours.append(r.verdict)
        theirs.append(c.verdict)
        diffs.append(abs(r.buffering_delay_ms - c.delay_ms))
    return ours, theirs, diffs


# Two readers' delays within 25 ms of each other: judged by wall-clock time, so it runs with the timing tests.
@pytest.mark.timing
@pytest.mark.parametrize(
    ("where", "path", "expected"),
    [
        ("direct", SHORT_CHAT, "streaming"),
        ("block_4k", CHAT, "partial"),
        ("hold_all", SHORT_CHAT, "buffered"),
    ],
)
def test_stamped_verdict_and_delay_agree_with_curls_reading(
    where: str, path: str, expected: str, request: pytest.FixtureRequest, app_server: RunningServer
) -> None:
    base = app_server.url("") if where == "direct" else request.getfixturevalue(where).url("")
    ours, theirs, diffs = compare(base + path)
    # A CPU stall on this shared machine can delay one read of the six: the majority and the median decide.
    assert ours.count(expected) >= 2, ours
    assert theirs.count(expected) >= 2, theirs
    assert statistics.median(diffs) <= AGREEMENT_MS, diffs


def test_the_issues_block_proxy_case_is_partial_without_stamps(block_4k: servers.RawServer) -> None:
    r = probe(block_4k.url(CHAT), ProbeOptions(stamp=False))
    assert (r.mode, r.verdict, r.events) == ("generic", "partial", 301), r.to_dict()
    assert r.buffering_delay_ms is None
    assert r.clumping is not None and r.clumping >= 0.9  # nearly every event arrived in a block
    assert r.gaps_ms["max"] is not None and r.gaps_ms["max"] > 300  # the silence between two blocks
    assert r.gaps_ms["p50"] is not None and r.gaps_ms["p50"] < 5  # inside a block: all at once
    assert NO_STAMPS_NOTE not in r.notes  # none were asked for
    note = next(n for n in r.notes if n.startswith("generic mode:"))
    assert "block(s)" in note and "arrived in blocks" in note


def test_the_same_stream_stamped_is_measured_exactly(block_4k: servers.RawServer) -> None:
    r = probe(block_4k.url(CHAT))
    assert (r.mode, r.verdict, r.events) == ("stamped", "partial", 301), r.to_dict()
    assert r.buffering_delay_ms is not None and 300 < r.buffering_delay_ms < 1500
    assert "stamped mode: the server stamped 301 events" in r.notes[-1]


def test_the_shape_of_a_streamed_answer(app_server: RunningServer) -> None:
    r = probe(app_server.url(SHORT_CHAT))
    assert r.verdict == "streaming" and r.events == 101
    g = r.gaps_ms
    assert g["p50"] is not None and g["p99"] is not None and g["max"] is not None
    assert 5 < g["p50"] < 20 and g["p50"] <= g["p99"] <= g["max"]
    assert r.events_per_s is not None and 50 < r.events_per_s < 150  # 100 tokens/s
    assert r.clumping == 0.0
    shape = r.to_dict()
    assert set(shape["gaps_ms"]) == {"p50", "p99", "max"} and shape["events_per_s"] == round(
        r.events_per_s, 3
    )


def test_no_stamp_sends_no_header_and_the_app_sends_no_stamps(app_server: RunningServer) -> None:
    r = probe(app_server.url(SHORT_CHAT), ProbeOptions(stamp=False))
    assert (r.mode, r.verdict) == ("generic", "streaming"), r.to_dict()
    assert all(a.stamp_ms is None for a in r.arrivals)


def test_a_streamcheck_url_keeps_its_own_send_times(app_server: RunningServer) -> None:
    # The reference app stamps streamcheck too; its own sent_ms win, and stamps are never events.
    r = probe(app_server.url("/api/streamcheck?events=5&interval_ms=50"))
    assert (r.mode, r.events) == ("streamcheck", 6), r.to_dict()
    assert all(a.stamp_ms is not None for a in r.arrivals)


def test_an_app_without_the_middleware_gets_a_hint() -> None:
    from streamcheck.reference_app import create_app

    with servers.uvicorn_server(create_app(stamp=False)) as srv:
        r = probe(srv.url(SHORT_CHAT))
    assert r.mode == "generic" and NO_STAMPS_NOTE in r.notes


def garbage_stamps(events: int = 12, interval: float = 0.03) -> RawServer:
    """Events 30 ms apart, each after a stamp: a good one every fourth event, else garbage (not a number,
    going backwards, inside a data line), as a broken middleware might write them."""

    def handler(conn: socket.socket, stopping: threading.Event) -> None:
        read_request(conn)
        conn.sendall(SSE_HEAD)
        for i in range(events):
            if stopping.wait(interval if i else 0):
                return
            good = f": sp-sent={1000 + i * 30:.3f}\n".encode()
            stamp = (good, b": sp-sent=oops\n", b": sp-sent=1.000\n", b"data: x: sp-sent=5.000\n")[i % 4]
            conn.sendall(stamp + f"data: {i}\n\n".encode())

    return RawServer(handler)


def test_garbage_stamps_are_ignored_with_a_note_and_the_good_ones_judge() -> None:
    with garbage_stamps() as srv:
        r = probe(srv.url("/sse"))
    assert r.error is None and r.events == 12, r.to_dict()
    assert (r.mode, r.verdict) == ("stamped", "streaming"), r.to_dict()
    assert sum(a.stamp_ms is not None for a in r.arrivals) == 3
    (note,) = [n for n in r.notes if n.startswith("ignored ")]
    assert note.startswith("ignored 9 malformed stamp(s)")
    assert "3 not a number" in note and "3 backwards" in note and "3 mid-line" in note
