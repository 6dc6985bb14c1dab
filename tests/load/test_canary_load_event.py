"""The canary function's ``load`` event, in process: a configured path loaded from inside the handler's
code, its part merged exactly with another invocation's, and events that cannot run refused in one line."""

from __future__ import annotations

from typing import Any

import pytest
from streampath_canary.auth_secrets import SecretCache
from streampath_canary.contract import CanarySpec
from streampath_canary.load_event import LoadEventError, run_load_event
from streamprobe.load import merge_parts

pytestmark = pytest.mark.timing


def spec_for(app_port: int) -> CanarySpec:
    url = f"http://127.0.0.1:{app_port}/api/streamcheck?events=3&interval_ms=100"
    return CanarySpec.from_document({"paths": [{"name": "direct", "url": url, "protocols": ["h1"]}]})


def test_two_invocations_merge_into_one_summary(app_port: int) -> None:
    spec, secrets = spec_for(app_port), SecretCache()
    event: dict[str, Any] = {"path": "direct", "concurrency": 4, "streams": 6, "slo": "first_event<=1000"}
    parts = [run_load_event(spec, event, budget_s=30, secrets=secrets)["load"] for _ in range(2)]
    for part in parts:
        assert part["streams"]["finished"] == 6 and part["verdicts"]["streaming"] == 6
        assert part["goodput"]["slo"] == "first_event<=1000" and len(part["values"]["ttfb"]) == 6
    merged = merge_parts(parts).to_dict()
    assert merged["concurrency"] == 8 and merged["streams"]["finished"] == 12
    assert merged["goodput"] == {"slo": "first_event<=1000", "good": 12, "total": 12, "ratio": 1.0}
    union = sorted(parts[0]["values"]["ttfb"] + parts[1]["values"]["ttfb"])
    assert merged["percentiles_ms"]["ttfb"]["max"] == round(union[-1], 3)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"path": "nope", "concurrency": 1, "streams": 1}, "load.path: no configured path 'nope'"),
        ({"path": "direct", "concurrency": "9", "streams": 1}, "load.concurrency: must be an integer"),
        ({"path": "direct", "concurrency": 1, "streams": 1, "url": "http://x"}, "load.url: unknown field"),
        ({"path": "direct", "concurrency": 1, "streams": 1, "protocol": "h9"}, "load.protocol"),
        ({"path": "direct", "concurrency": 0, "streams": 1}, "concurrency must be 1..100000"),
        ({"path": "direct", "concurrency": 1, "streams": 1, "slo": "p99<=5"}, "SLO token 'p99<=5'"),
    ],
)
def test_an_event_that_cannot_run_is_refused(app_port: int, event: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        run_load_event(spec_for(app_port), event, budget_s=5, secrets=SecretCache())
    assert "\n" not in str(caught.value)
    if "path" in message or "field" in message:
        assert isinstance(caught.value, LoadEventError)
