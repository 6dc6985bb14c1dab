"""``streamprobe.h2threads``: h2's state machine called from many threads at once, as the streams that
share one HTTP/2 connection call it. The thread switches are made frequent so that a thread is
switched out between taking a stream id and queueing its HEADERS."""

from __future__ import annotations

import sys
import threading

import h2.config
import h2.connection
from streamprobe.h2threads import SerialH2State

HEADERS = [(":method", "GET"), (":authority", "a.test"), (":scheme", "https"), (":path", "/")]


def open_streams(state: h2.connection.H2Connection, threads: int, each: int) -> tuple[list[int], list[str]]:
    """Stream ids opened by ``threads`` threads, ``each`` streams apiece, and the errors they met."""
    opened: list[int] = []
    errors: list[str] = []
    start = threading.Barrier(threads)

    def opener() -> None:
        start.wait()
        for _ in range(each):
            try:
                stream_id = state.get_next_available_stream_id()
                state.send_headers(stream_id, HEADERS, end_stream=True)
                state.data_to_send()
                opened.append(stream_id)
            except Exception as exc:
                errors.append(type(exc).__name__)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=opener) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
    finally:
        sys.setswitchinterval(interval)
    return opened, errors


def test_streams_opened_from_many_threads_get_distinct_ids_in_order() -> None:
    state = SerialH2State(h2.config.H2Configuration(client_side=True))
    state.initiate_connection()
    opened, errors = open_streams(state, threads=8, each=100)
    assert errors == []
    assert sorted(opened) == list(range(1, 1600, 2))
    assert state.highest_outbound_stream_id == 1599


def test_h2s_own_state_machine_is_not_safe_to_share_between_threads() -> None:
    # What SerialH2State is for: without it the same threads take ids twice (h2 refuses the second
    # HEADERS on a stream already open, or an id lower than one already sent).
    state = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    state.initiate_connection()
    opened, errors = open_streams(state, threads=8, each=100)
    assert errors and len(opened) + len(errors) == 800
