"""Canary paths on a WebSocket (``protocols: [ws]``, a ws:// or wss:// URL): probed by the cold-started
handler against real servers, refused where they cannot work, shown on the dashboard beside SSE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamcheck.reference_app import app as reference_app
from streampath_canary.contract import CanarySpec, CanarySpecError, PathSpec, request_options

from streampath.config.canary import CanaryPathConfig
from tests.canary.support import assert_design_emf, config, run_handler
from tests.canary.test_stack import canary_config, dashboard_body, synth
from tests.support.servers import RunningServer, uvicorn_server
from tests.support.ws_servers import WsServer, websockets_server

WS_STREAM = "/api/streamcheck/ws?events=10&interval_ms=50"


@pytest.fixture(scope="module")
def app_server() -> Iterator[RunningServer]:
    with uvicorn_server(reference_app) as srv:
        yield srv


@pytest.fixture(scope="module")
def ws_server() -> Iterator[WsServer]:
    with websockets_server() as srv:
        yield srv


def test_ws_paths_are_probed_and_published_under_protocol_ws(
    app_server: RunningServer, ws_server: WsServer
) -> None:
    run = run_handler(
        config(
            {
                "name": "socket",
                "url": app_server.url(WS_STREAM).replace("http", "ws", 1),
                "protocols": ["ws"],
            },
            {"name": "chat", "url": ws_server.url("/echo"), "protocols": ["ws"], "body": "three short words"},
            {
                "name": "sse",
                "url": app_server.url("/api/streamcheck?events=5&interval_ms=20"),
                "protocols": ["h1"],
            },
        )
    )
    assert run.returned is not None and run.returned["failed"] == 0, run.stderr
    socket = run.probe_log("socket", "ws")["result"]
    assert (socket["transport"], socket["mode"], socket["verdict"], socket["events"]) == (
        "websocket",
        "streamcheck",
        "streaming",
        11,
    ), socket
    assert assert_design_emf(run.emf_for("socket", "ws"))["BufferingDelay"] == socket["buffering_delay_ms"]
    chat = run.probe_log("chat", "ws")["result"]  # the body went first: one message per word came back
    assert (chat["transport"], chat["events"], chat["close_code"]) == ("websocket", 3, 1000), chat
    assert run.probe_log("sse", "h1")["result"]["transport"] == "http"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            {"url": "https://a.example.com/api/streamcheck/ws", "protocols": ["ws"]},
            "needs a ws:// or wss:// URL",
        ),
        ({"url": "wss://a.example.com/api/streamcheck/ws", "protocols": ["h1"]}, r"needs protocols: \[ws\]"),
        ({"url": "wss://a.example.com/api/streamcheck/ws", "protocols": ["ws", "h2"]}, "a path of its own"),
        (
            {"url": "wss://a.example.com/x", "protocols": ["ws"], "method": "POST", "body": "{}"},
            "opens with a GET",
        ),
    ],
    ids=["ws-on-https", "wss-over-h1", "ws-beside-h2", "ws-post"],
)
def test_a_ws_path_that_cannot_work_is_refused_naming_the_key(path: dict[str, Any], message: str) -> None:
    with pytest.raises(CanarySpecError, match=message):
        CanarySpec.from_json(json.dumps(config({"name": "p", **path})))
    with pytest.raises(ValueError, match=message):  # the YAML: the same rule, from the contract
        CanaryPathConfig.model_validate({"name": "p", **path})


def test_a_front_door_ws_path_probes_its_wss_url() -> None:
    path = CanaryPathConfig.model_validate(
        {
            "name": "socket",
            "front_door": "cloudfront",
            "path": "/api/streamcheck/ws?events=20",
            "protocols": ["ws"],
        }
    )
    url = path.target_url({"cloudfront": "https://d111.cloudfront.net"})
    assert url == "wss://d111.cloudfront.net/api/streamcheck/ws?events=20"
    assert PathSpec(name="socket", url=url, protocols=("ws",), body='{"prompt": "hi"}').body is not None


def test_request_options_send_a_ws_body_as_the_first_message() -> None:
    assert request_options("ws", "GET", "hi") == {"http": "h1", "method": "GET", "data": None, "send": "hi"}
    assert request_options("h2", "POST", "{}") == {
        "http": "h2",
        "method": "POST",
        "data": b"{}",
        "send": None,
    }


@pytest.mark.slow
def test_the_dashboard_shows_ws_series_beside_sse(tmp_path: Path) -> None:
    paths = [
        {"name": "alb", "url": "https://api.example.com/api/streamcheck?events=20"},
        {"name": "alb-ws", "url": "wss://api.example.com/api/streamcheck/ws?events=20", "protocols": ["ws"]},
    ]
    _, raw = synth(canary_config(paths=paths), tmp_path)
    body = dashboard_body(raw)
    summary = next(
        w for w in body["widgets"] if w["properties"].get("title", "").startswith("Buffering delay:")
    )
    lines = [(m[3], m[5], m[-1]["label"]) for m in summary["properties"]["metrics"]]
    assert lines == [
        ("alb", "h1", "alb HTTP/1.1"),
        ("alb", "h2", "alb HTTP/2"),
        ("alb-ws", "ws", "alb-ws WebSocket"),
    ]
    intro = body["widgets"][0]["properties"]["markdown"]
    assert "WebSocket paths (**ws**)" in intro
