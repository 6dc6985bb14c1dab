"""The handler publishes ``GoodStream`` for every probe, judged by each path's SLO spec: real servers on
loopback, the handler cold-started in a subprocess, its EMF read as CloudWatch Logs would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamcheck.reference_app import app as reference_app

from tests.canary.support import assert_design_emf, run_handler
from tests.support.servers import RunningServer, hold_all_proxy, refused_port, uvicorn_server

STREAM = "/api/streamcheck?events=10&interval_ms=100"  # ~0.9 s of stream


@pytest.fixture(scope="module")
def h1_server() -> Iterator[RunningServer]:
    with uvicorn_server(reference_app) as srv:
        yield srv


def test_good_stream_per_probe_by_the_paths_spec(h1_server: RunningServer) -> None:
    refused = refused_port()
    with hold_all_proxy(h1_server.port) as proxy:
        held = proxy.url(STREAM)
        run = run_handler(
            {
                "namespace": "StreamPath",
                "probe_timeout_s": 5,
                "max_duration_s": 20,
                "deadline_s": 40,
                "paths": [
                    # The default spec (first_event<=2000,buffering<=500): a streamed path is good...
                    {"name": "direct", "url": h1_server.url(STREAM), "protocols": ["h1"]},
                    # ...a proxy that holds the ~900 ms stream is not (buffering > 500 ms)...
                    {"name": "held", "url": held, "protocols": ["h1"]},
                    # ...unless the path's own spec tolerates it...
                    {"name": "lenient", "url": held, "protocols": ["h1"], "good": "buffering<=5000"},
                    # ...and a spec the stream cannot meet makes even a streamed path bad.
                    {
                        "name": "strict",
                        "url": h1_server.url(STREAM),
                        "protocols": ["h1"],
                        "good": "ttfb<=0.001",
                    },
                    # A failed probe is a bad stream.
                    {
                        "name": "refused",
                        "url": f"http://127.0.0.1:{refused}/api/streamcheck",
                        "protocols": ["h1"],
                    },
                ],
            }
        )
    good = {path: assert_design_emf(run.emf_for(path, "h1"))["GoodStream"] for path in
            ("direct", "held", "lenient", "strict", "refused")}  # fmt: skip
    assert good == {"direct": 1.0, "held": 0.0, "lenient": 1.0, "strict": 0.0, "refused": 0.0}
    held_values = assert_design_emf(run.emf_for("held", "h1"))
    assert held_values["Success"] == 1.0 and held_values["BufferingDelay"] > 500, "judged, but not good"
    assert assert_design_emf(run.emf_for("refused", "h1"))["Success"] == 0.0
