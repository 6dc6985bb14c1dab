"""streamcheck and the reference chat as NDJSON / plain text, against a real uvicorn server on loopback
(docs/contracts/streamcheck.md, "NDJSON: format=ndjson")."""

from __future__ import annotations

import json

import httpx
import pytest


def test_streamcheck_sends_its_events_as_ndjson_lines(base_url: str) -> None:
    r = httpx.get(f"{base_url}/api/streamcheck?events=5&interval_ms=20&pad=3&format=ndjson", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    assert r.headers["cache-control"] == "no-cache, no-transform" and r.headers["x-accel-buffering"] == "no"
    assert r.content.endswith(b"\n") and b"\r" not in r.content
    lines = [json.loads(line) for line in r.content.split(b"\n")[:-1]]
    assert [(x["event"], x["seq"]) for x in lines] == [("tick", i) for i in range(5)] + [("done", 5)]
    assert all(x["pad"] == "xxx" for x in lines[:5]) and "pad" not in lines[5]
    sent = [x["sent_ms"] for x in lines]
    assert sent == sorted(sent) and sent[4] >= 4 * 20 - 1


def test_sse_stays_the_default(base_url: str) -> None:
    r = httpx.get(f"{base_url}/api/streamcheck?events=1&interval_ms=0&format=sse", timeout=10)
    assert r.headers["content-type"] == "text/event-stream" and r.content.startswith(b"id: 0\nevent: tick\n")


@pytest.mark.parametrize("query", ["format=xml", "format=ndjson&format=sse", "format="])
def test_a_bad_format_is_a_422_naming_it(base_url: str, query: str) -> None:
    r = httpx.get(f"{base_url}/api/streamcheck?events=1&{query}", timeout=10)
    assert r.status_code == 422 and r.json()["parameter"] == "format"


def test_the_chat_stream_as_ndjson_and_as_text(plain_base_url: str) -> None:
    nd = httpx.get(f"{plain_base_url}/api/chat/stream?tokens=3&interval_ms=0&format=ndjson", timeout=10)
    assert nd.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line) for line in nd.content.splitlines()] == [
        {"token": "Streaming"},
        {"token": " works"},
        {"token": " when"},
        {"done": True},
    ]
    text = httpx.get(f"{plain_base_url}/api/chat/stream?tokens=3&interval_ms=0&format=text", timeout=10)
    assert (
        text.headers["content-type"] == "text/plain; charset=utf-8" and "content-length" not in text.headers
    )
    assert text.content == b"Streaming works when"


def test_stamped_ndjson_chat_differs_only_by_stamp_lines(base_url: str, plain_base_url: str) -> None:
    path = "/api/chat/stream?tokens=4&interval_ms=10&format=ndjson"
    stamped = httpx.get(base_url + path, headers={"X-Streampath-Stamp": "1"}, timeout=10).content
    plain = httpx.get(plain_base_url + path, timeout=10).content
    lines = stamped.split(b"\n")
    assert b"\n".join(x for x in lines if not x.startswith(b'{"sp-sent":')) == plain
    assert sum(x.startswith(b'{"sp-sent":') for x in lines) == 5  # one per piece the app sent
