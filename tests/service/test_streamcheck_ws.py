"""The streamcheck WebSocket endpoint ``<prefix>/streamcheck/ws`` against real servers on loopback: uvicorn
(its websockets protocol) and hypercorn (wsproto), read with the websockets package's own client
(docs/contracts/streamcheck.md)."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from streamcheck import stats
from streamcheck.reference_app import create_app
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.service.test_streamcheck import assert_stopped_at_once_after_one_event, wait_for
from tests.support.servers import hypercorn_server
from tests.support.tls import tls_files


def ws(base_url: str, query: str, prefix: str = "/api") -> str:
    return f"{base_url.replace('http', 'ws', 1)}{prefix}/streamcheck/ws{query}"


def read_all(
    url: str, tls: ssl.SSLContext | None = None
) -> tuple[list[dict[str, Any]], list[float], int | None]:
    """Every message (parsed), when each arrived (ms since the handshake began), and the close code."""
    started = time.monotonic()
    messages: list[dict[str, Any]] = []
    arrived: list[float] = []
    with connect(url, open_timeout=10, close_timeout=5, ssl=tls) as conn:
        for message in conn:
            assert isinstance(message, str)  # text messages
            messages.append(json.loads(message))
            arrived.append((time.monotonic() - started) * 1000)
        code = conn.protocol.close_code
    return messages, arrived, code


@pytest.fixture(scope="module")
def hypercorn_tls() -> Iterator[tuple[str, ssl.SSLContext]]:
    """hypercorn with TLS (it serves nothing in the clear here), and a client context trusting it."""
    files = tls_files()
    with hypercorn_server(create_app(), tls=files, alpn=("http/1.1",)) as srv:
        yield srv.base_url, ssl.create_default_context(cafile=files.ca_pem)


def test_same_events_as_sse_as_json_messages(base_url: str) -> None:
    messages, _, code = read_all(ws(base_url, "?events=3&interval_ms=0&pad=4"))
    assert [m["event"] for m in messages] == ["tick", "tick", "tick", "done"]
    assert [m["seq"] for m in messages] == [0, 1, 2, 3]
    assert [m.get("pad") for m in messages] == ["xxxx"] * 3 + [None]
    assert set(messages[0]) == {"event", "seq", "sent_ms", "pad"} and set(messages[3]) == {
        "event",
        "seq",
        "sent_ms",
    }
    sent = [m["sent_ms"] for m in messages]
    assert sent == sorted(sent) and all(isinstance(s, float) for s in sent)
    assert code == 1000


def test_mounted_at_root_too(base_url: str) -> None:
    messages, _, _ = read_all(ws(base_url, "?events=1&interval_ms=0", prefix=""))
    assert [m["event"] for m in messages] == ["tick", "done"]


def test_events_spaced_by_interval(base_url: str) -> None:
    messages, arrived, _ = read_all(ws(base_url, "?events=5&interval_ms=100"))
    sent = [m["sent_ms"] for m in messages[:5]]
    # Event i is due at i x 100 ms (no drift accumulates): never sent early, at most 100 ms late on a busy
    # machine. (Gaps between neighbours can be under 100 ms when the first one was late.)
    assert all(i * 100 <= ms <= i * 100 + 100 for i, ms in enumerate(sent)), sent
    assert arrived[4] - arrived[0] >= 380  # they arrive spread out, not together


def test_over_hypercorn_wsproto(hypercorn_tls: tuple[str, ssl.SSLContext]) -> None:
    base_url, trust = hypercorn_tls
    messages, _, code = read_all(ws(base_url, "?events=2&interval_ms=10"), trust)
    assert [m["seq"] for m in messages] == [0, 1, 2] and code == 1000


def test_a_prompt_from_the_client_is_ignored(base_url: str) -> None:
    with connect(ws(base_url, "?events=2&interval_ms=50"), open_timeout=10) as conn:
        conn.send("hello, model")
        messages = [json.loads(m) for m in conn]
    assert [m["event"] for m in messages] == ["tick", "tick", "done"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?events=0", "events"),
        ("?interval_ms=x", "interval_ms"),
        ("?events=500&interval_ms=1000", "interval_ms"),
    ],
)
def test_bad_parameter_is_the_sse_endpoints_422(base_url: str, query: str, parameter: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws(base_url, query), open_timeout=10)
    response = refused.value.response
    assert response.status_code == 422
    assert json.loads(response.body)["parameter"] == parameter


def test_plain_get_is_426_upgrade_required(base_url: str) -> None:
    response = httpx.get(ws(base_url, "").replace("ws", "http", 1), timeout=10)
    assert response.status_code == 426
    assert response.headers["upgrade"] == "websocket"
    assert "Upgrade: websocket" in response.json()["message"]


def test_disconnect_stops_the_generator(base_url: str) -> None:
    before = stats.snapshot()
    with connect(ws(base_url, "?events=12&interval_ms=10000"), open_timeout=10) as conn:
        conn.recv(timeout=5)
    assert_stopped_at_once_after_one_event(before, hung_up=time.monotonic())


def test_completed_stream_is_counted_as_finished(base_url: str) -> None:
    before = stats.snapshot()
    read_all(ws(base_url, "?events=2&interval_ms=0"))
    assert wait_for(lambda: stats.snapshot()["finished"] == before["finished"] + 1)
