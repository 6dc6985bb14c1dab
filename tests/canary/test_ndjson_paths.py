"""A canary path on an NDJSON stream: the contract takes it like any other URL (nothing in it restricts the
response's content type), and the cold-started handler judges it exactly, as streamcheck or by stamps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamcheck.reference_app import app as reference_app
from streampath_canary.contract import CanarySpec

from tests.canary.support import assert_design_emf, run_handler
from tests.support.servers import RunningServer, uvicorn_server

STREAMCHECK = "/api/streamcheck?events=10&interval_ms=100&format=ndjson"
CHAT = "/api/chat/stream?tokens=10&interval_ms=100&format=ndjson"


@pytest.fixture(scope="module")
def app_server() -> Iterator[RunningServer]:
    with uvicorn_server(reference_app) as srv:
        yield srv


def test_the_contract_accepts_ndjson_paths() -> None:
    spec = CanarySpec.from_json(
        '{"paths": [{"name": "nd", "url": "https://app.example.com'
        + STREAMCHECK
        + '", "protocols": ["h1", "h2"]}]}'
    )
    assert spec.paths[0].url.endswith("format=ndjson")


def test_ndjson_paths_are_judged_exactly_and_published(app_server: RunningServer) -> None:
    config = {
        "namespace": "StreamPath",
        "probe_timeout_s": 5,
        "max_duration_s": 20,
        "deadline_s": 40,
        "paths": [
            {"name": "nd", "url": app_server.url(STREAMCHECK), "protocols": ["h1"]},
            {"name": "chat-nd", "url": app_server.url(CHAT), "protocols": ["h1"]},
        ],
    }
    run = run_handler(config)
    assert run.returned is not None and run.returned["failed"] == 0, run.stderr
    nd = run.probe_log("nd", "h1")["result"]
    assert (nd["mode"], nd["verdict"], nd["events"]) == ("streamcheck", "streaming", 11), nd
    chat = run.probe_log("chat-nd", "h1")["result"]
    assert (chat["mode"], chat["verdict"], chat["events"]) == ("stamped", "streaming", 11), chat
    values = assert_design_emf(run.emf_for("nd", "h1"))
    assert values["BufferingDelay"] == nd["buffering_delay_ms"] < 100
