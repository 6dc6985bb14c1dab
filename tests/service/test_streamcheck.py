"""The streamcheck router against a real uvicorn server on loopback (docs/contracts/streamcheck.md)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from streamcheck import stats


@dataclass
class Event:
    raw: bytes
    fields: dict[str, str]
    arrived_ms: float

    @property
    def data(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.fields["data"])
        return value


def read_events(response: httpx.Response, started: float, limit: int | None = None) -> list[Event]:
    """Split an LF-framed SSE body into events, stamping each when its blank line arrives."""
    events: list[Event] = []
    buffer = b""
    for chunk in response.iter_bytes():
        buffer += chunk
        while b"\n\n" in buffer:
            raw, buffer = buffer.split(b"\n\n", 1)
            fields = dict(line.split(": ", 1) for line in raw.decode().split("\n"))
            events.append(Event(raw + b"\n\n", fields, (time.monotonic() - started) * 1000))
            if limit is not None and len(events) >= limit:
                return events
    assert buffer == b"", f"trailing bytes after the last event: {buffer!r}"
    return events


def stream(url: str, limit: int | None = None, **kw: Any) -> tuple[httpx.Response, list[Event]]:
    with httpx.Client(timeout=30) as client:
        started = time.monotonic()
        with client.stream("GET", url, **kw) as response:
            events = read_events(response, started, limit)
    return response, events


def test_headers(base_url: str) -> None:
    response, events = stream(f"{base_url}/api/streamcheck?events=1&interval_ms=0")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache, no-transform"
    assert response.headers["x-accel-buffering"] == "no"
    assert "content-encoding" not in response.headers
    assert [e.fields["event"] for e in events] == ["tick", "done"]


def test_event_format_byte_for_byte(base_url: str) -> None:
    with httpx.Client(timeout=30) as client:
        body = client.get(f"{base_url}/api/streamcheck?events=3&interval_ms=0&pad=4").content
    pattern = (
        rb'id: 0\nevent: tick\ndata: \{"seq": 0, "sent_ms": (\d+\.\d+), "pad": "xxxx"\}\n\n'
        rb'id: 1\nevent: tick\ndata: \{"seq": 1, "sent_ms": (\d+\.\d+), "pad": "xxxx"\}\n\n'
        rb'id: 2\nevent: tick\ndata: \{"seq": 2, "sent_ms": (\d+\.\d+), "pad": "xxxx"\}\n\n'
        rb'id: 3\nevent: done\ndata: \{"seq": 3, "sent_ms": (\d+\.\d+)\}\n\n'
    )
    match = re.fullmatch(pattern, body)
    assert match, body
    sent = [float(x) for x in match.groups()]
    assert sent == sorted(sent)


def test_defaults_ordering_and_unknown_parameters(base_url: str) -> None:
    # Defaults: 20 events every 100 ms, no pad; nonce (and anything unknown) is ignored.
    response, events = stream(f"{base_url}/api/streamcheck?nonce=3f2a&foo=bar")
    assert response.status_code == 200
    assert len(events) == 21
    ticks, done = events[:-1], events[-1]
    assert [e.fields["event"] for e in ticks] == ["tick"] * 20
    assert [e.data["seq"] for e in ticks] == list(range(20))
    assert [e.fields["id"] for e in events] == [str(i) for i in range(21)]
    assert all(e.data["pad"] == "" for e in ticks)
    assert done.fields["event"] == "done"
    assert set(done.data) == {"seq", "sent_ms"} and done.data["seq"] == 20
    sent = [e.data["sent_ms"] for e in events]
    assert sent == sorted(sent)
    assert 1800 <= done.data["sent_ms"] < 3500


def test_mounted_at_root_too(base_url: str) -> None:
    response, events = stream(f"{base_url}/streamcheck?events=2&interval_ms=0")
    assert response.status_code == 200 and len(events) == 3


def test_timing_events_spaced_by_interval(base_url: str) -> None:
    n, interval = 10, 100
    _, events = stream(f"{base_url}/api/streamcheck?events={n}&interval_ms={interval}")
    ticks = events[:-1]
    # The first event is sent at once.
    assert ticks[0].data["sent_ms"] < 100
    assert ticks[0].arrived_ms < 500
    # The schedule is absolute (no drift): event i is sent at i x interval, generous margin for a busy CI.
    for i, e in enumerate(ticks):
        assert i * interval - 1 <= e.data["sent_ms"] <= i * interval + 150, (i, e.data)
    # And they arrive spread out, as sent (streamed: arrival - sent is about constant).
    # (buffered would be about 900 ms; 150 ms leaves room for a busy 2-core machine)
    lags = [e.arrived_ms - e.data["sent_ms"] for e in ticks]
    assert max(lags) - min(lags) < 150
    assert ticks[-1].arrived_ms - ticks[0].arrived_ms > (n - 1) * interval * 0.8


def test_pad_at_its_upper_bound(base_url: str) -> None:
    _, events = stream(f"{base_url}/api/streamcheck?events=1&interval_ms=0&pad=65536")
    assert len(events[0].data["pad"]) == 65536


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("events=0", "events"),
        ("events=501", "events"),
        ("events=-1", "events"),
        ("events=2.5", "events"),
        ("events=ten", "events"),
        ("events=", "events"),
        ("interval_ms=-1", "interval_ms"),
        ("interval_ms=10001", "interval_ms"),
        ("interval_ms=1.5", "interval_ms"),
        ("pad=65537", "pad"),
        ("pad=-1", "pad"),
        ("pad=x", "pad"),
        ("events=500&interval_ms=241", "interval_ms"),  # 120500 > 120000
        ("events=13&interval_ms=10000", "interval_ms"),  # 130000 > 120000
        ("events=1&events=2", "events"),
    ],
)
def test_out_of_bounds_is_422_naming_the_parameter(base_url: str, query: str, parameter: str) -> None:
    with httpx.Client(timeout=10) as client:
        response = client.get(f"{base_url}/api/streamcheck?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["parameter"] == parameter
    assert parameter in body["message"]
    assert body["detail"][0]["loc"] == ["query", parameter]


@pytest.mark.parametrize(
    "query",
    ["events=1&interval_ms=0&pad=0", "events=500&interval_ms=240", "events=12&interval_ms=10000"],
)
def test_bounds_are_inclusive(base_url: str, query: str) -> None:
    # N x I == 120000 is allowed; read the first event only, then hang up.
    response, events = stream(f"{base_url}/api/streamcheck?{query}", limit=1)
    assert response.status_code == 200
    assert events[0].data["seq"] == 0


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def assert_stopped_at_once_after_one_event(before: dict[str, int], hung_up: float) -> None:
    """The generator was cancelled within 3 s of the client's hang-up, having sent one event."""
    assert wait_for(lambda: stats.snapshot()["cancelled"] > before["cancelled"], timeout=3)
    assert time.monotonic() - hung_up < 3
    assert stats.snapshot()["events_sent"] - before["events_sent"] == 1


def test_disconnect_stops_the_generator(base_url: str) -> None:
    before = stats.snapshot()
    _, events = stream(f"{base_url}/api/streamcheck?events=500&interval_ms=20", limit=3)
    assert len(events) == 3
    # The client is gone: the generator must be closed, not run on for 10 s.
    assert wait_for(lambda: stats.snapshot()["cancelled"] > before["cancelled"], timeout=3)
    assert wait_for(lambda: stats.snapshot()["active"] == before["active"], timeout=3)
    sent = stats.snapshot()["events_sent"]
    time.sleep(0.6)  # 30 more events would have been due by now
    assert stats.snapshot()["events_sent"] == sent
    assert sent - before["events_sent"] < 3 + 15


def test_disconnect_during_a_long_interval_stops_at_once(base_url: str) -> None:
    # Between events the generator sleeps 10 s; a disconnect must cancel that sleep, not wait it out.
    before = stats.snapshot()
    _, events = stream(f"{base_url}/api/streamcheck?events=12&interval_ms=10000", limit=1)
    assert len(events) == 1
    assert_stopped_at_once_after_one_event(before, hung_up=time.monotonic())


def test_completed_stream_is_counted_as_finished(base_url: str) -> None:
    before = stats.snapshot()
    stream(f"{base_url}/api/streamcheck?events=2&interval_ms=0")
    assert wait_for(lambda: stats.snapshot()["finished"] == before["finished"] + 1)


@pytest.mark.parametrize("path", ["/healthz", "/api/healthz"])
def test_healthz(base_url: str, path: str) -> None:
    with httpx.Client(timeout=10) as client:
        response = client.get(base_url + path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
