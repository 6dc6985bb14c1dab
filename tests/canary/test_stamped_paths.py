"""A canary path on an application's own chat endpoint: POSTed like its frontend, judged by the stamps
``StampMiddleware`` writes, and the stream's shape published as InterEventGapP99 / MaxInterEventGap.

The handler is cold-started in a subprocess against the reference app (which mounts the middleware)
under uvicorn, directly and through a proxy that forwards 4 KiB blocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from streamcheck.reference_app import app as reference_app
from streampath_canary import metrics
from streampath_canary.contract import (
    INTER_EVENT_GAP_P99,
    MAX_INTER_EVENT_GAP,
    METRIC_UNITS,
    CanarySpec,
    CanarySpecError,
    PathSpec,
    body_problem,
)

from tests.canary.support import assert_design_emf, config, run_handler
from tests.support.servers import RunningServer, block_proxy, uvicorn_server

CHAT = "/api/chat/stream?tokens=150&interval_ms=10"  # 1.5 s; ~7.5 KiB with stamps: two 4 KiB blocks
PROMPT = json.dumps({"messages": [{"role": "user", "content": "Say hello in five words."}], "max_tokens": 20})


@pytest.fixture(scope="module")
def app_server() -> Iterator[RunningServer]:
    with uvicorn_server(reference_app) as srv:
        yield srv


def test_posted_chat_paths_are_judged_stamped_and_publish_the_gaps(app_server: RunningServer) -> None:
    with block_proxy(app_server.port, 4096) as blocks:
        run = run_handler(
            config(
                {
                    "name": "chat",
                    "url": app_server.url(CHAT),
                    "protocols": ["h1"],
                    "method": "POST",
                    "body": PROMPT,
                },
                {
                    "name": "chat-blocks",
                    "url": blocks.url(CHAT),
                    "protocols": ["h1"],
                    "method": "POST",
                    "body": PROMPT,
                },
            )
        )
    assert run.returned is not None and run.returned["failed"] == 0, run.stderr

    direct = run.probe_log("chat", "h1")["result"]
    assert (direct["mode"], direct["verdict"], direct["events"]) == ("stamped", "streaming", 151), direct
    values = assert_design_emf(run.emf_for("chat", "h1"))
    assert values["BufferingDelay"] == direct["buffering_delay_ms"] < 100
    # 10 ms between tokens, streamed: the p99 gap stays near the pace, and both are published.
    assert values[INTER_EVENT_GAP_P99] == direct["gaps_ms"]["p99"]
    assert 5 < values[INTER_EVENT_GAP_P99] < 100
    assert values[MAX_INTER_EVENT_GAP] == direct["gaps_ms"]["max"] >= values[INTER_EVENT_GAP_P99]

    held = run.probe_log("chat-blocks", "h1")["result"]
    assert (held["mode"], held["verdict"]) == ("stamped", "partial"), held
    blocked = assert_design_emf(run.emf_for("chat-blocks", "h1"))
    assert blocked["BufferingDelay"] > 300  # the first block waited for ~80 tokens of 10 ms
    assert blocked[MAX_INTER_EVENT_GAP] > 300  # the silence between the blocks
    assert blocked["Buffered"] == 0.0  # partial, not buffered
    assert blocked["Partial"] == 1.0  # and said so, for status and the chain answer


def test_gap_metrics_are_milliseconds_and_left_out_without_two_events() -> None:
    assert METRIC_UNITS[INTER_EVENT_GAP_P99] == METRIC_UNITS[MAX_INTER_EVENT_GAP] == "Milliseconds"
    one_event = {"ok": True, "error": None, "events": 1, "verdict": "inconclusive",
                 "gaps_ms": {"p50": None, "p99": None, "max": None}}  # fmt: skip
    values = metrics.metric_values(one_event)
    assert INTER_EVENT_GAP_P99 not in values and MAX_INTER_EVENT_GAP not in values
    older = {"ok": True, "error": None, "events": 3, "verdict": "streaming"}  # a result without gaps_ms
    assert INTER_EVENT_GAP_P99 not in metrics.metric_values(older)


def test_method_and_body_round_trip_and_stay_out_of_a_get_path() -> None:
    spec = CanarySpec(
        paths=[
            PathSpec(name="chat", url="https://app.example.com/api/chat/stream", method="POST", body=PROMPT),
            PathSpec(name="nlb", url="https://nlb.example.com/api/streamcheck"),
        ]
    )
    doc = spec.to_document()
    assert doc["paths"][0]["method"] == "POST" and doc["paths"][0]["body"] == PROMPT
    assert "method" not in doc["paths"][1] and "body" not in doc["paths"][1]  # defaults left out
    again = CanarySpec.from_json(spec.to_json())
    assert again.paths[0].method == "POST" and again.paths[0].body == PROMPT
    assert again.paths[1].method == "GET" and again.paths[1].body is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ({"method": "PUT"}, 'paths[0].method: must be "GET" or "POST"'),
        ({"body": PROMPT}, "a body needs method: POST"),
        ({"method": "POST", "body": 42}, "paths[0].body: must be a string"),
        ({"method": "POST", "body": "{not json"}, "is not valid JSON at position 1"),
        (
            {"method": "POST", "body": "x" * (64 * 1024 + 1), "headers": {"Content-Type": "text/plain"}},
            "65537 bytes",
        ),
        (
            {"method": "POST", "body": json.dumps({"prompt": "hi", "api_key": "k-123"})},
            "a key named 'api_key'",
        ),
        (
            {"method": "POST", "body": json.dumps({"h": "Authorization: Bearer abc.def.ghi-123"})},
            "credential",
        ),
    ],
)
def test_a_bad_method_or_body_names_the_key_and_never_the_body(path: dict[str, Any], message: str) -> None:
    doc = config({"name": "chat", "url": "https://app.example.com/api/chat/stream", **path})
    with pytest.raises(CanarySpecError) as info:
        CanarySpec.from_json(json.dumps(doc))
    assert message in str(info.value)
    assert "k-123" not in str(info.value) and "abc.def" not in str(info.value)


def test_a_path_spec_refuses_a_credential_in_its_body_before_any_template() -> None:
    with pytest.raises(ValueError, match="auth_secret"):
        PathSpec(name="chat", url="https://x/api/chat", method="POST", body='{"token": "abc"}')
    assert body_problem('{"max_tokens": 20, "prompt": "Explain OAuth authorization flows"}') is None
