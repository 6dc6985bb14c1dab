"""In-process checks of the handler's pure parts: config validation and the EMF mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from streampath_canary.contract import METRICS, CanarySpec, CanarySpecError
from streampath_canary.metrics import emf_document, metric_values

from tests.canary.support import DESIGN_METRICS, assert_design_emf

GOOD_PATH = {"name": "nlb", "url": "https://nlb.example.com/api/streamcheck?events=20"}


def doc(**top: Any) -> str:
    base: dict[str, Any] = {"paths": [GOOD_PATH]}
    base.update(top)
    return json.dumps(base)


def test_defaults() -> None:
    cfg = CanarySpec.from_json(doc())
    assert cfg.namespace == "StreamPath"
    assert (cfg.probe_timeout_s, cfg.max_duration_s, cfg.deadline_s) == (10, 30, 50)
    (path,) = cfg.paths
    assert path.protocols == ("h1", "h2") and path.auth_secret is None and path.verify is True


def test_h3_is_a_protocol_of_https_paths() -> None:
    cfg = CanarySpec.from_json(doc(paths=[{**GOOD_PATH, "protocols": ["h1", "h2", "h3"]}]))
    assert cfg.paths[0].protocols == ("h1", "h2", "h3") and cfg.protocols == ("h1", "h2", "h3")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "CANARY_CONFIG: is not set"),
        ("{", "not valid JSON"),
        ("[]", "(root): must be an object"),
        (doc(paths=[]), "paths: must be a non-empty list"),
        (doc(extra=1), "unknown key(s) extra"),
        (doc(probe_timeout_s=0), "probe_timeout_s: must be a number"),
        (doc(max_duration_s=60, deadline_s=50), "max_duration_s: must be <= deadline_s"),
        (doc(namespace="AWS/Lambda"), "namespace"),
        (doc(paths=[{**GOOD_PATH, "protocols": ["h4"]}]), "paths[0].protocols"),
        (doc(paths=[{**GOOD_PATH, "protocols": ["h3", "h3"]}]), "paths[0].protocols"),
        (
            doc(paths=[{**GOOD_PATH, "url": "http://nlb.example.com/s", "protocols": ["h1", "h3"]}]),
            'paths[0].protocols: "h3" needs an https URL',
        ),
        (doc(paths=[{**GOOD_PATH, "protocols": ["h1", "h1"]}]), "paths[0].protocols"),
        (doc(paths=[{**GOOD_PATH, "url": "nlb.example.com"}]), "paths[0].url"),
        (doc(paths=[{**GOOD_PATH, "name": "bad name"}]), "paths[0].name"),
        (doc(paths=[GOOD_PATH, GOOD_PATH]), "duplicate name(s) nlb"),
        (doc(paths=[{**GOOD_PATH, "auth_secret": {"header": "Authorization"}}]), "paths[0].auth_secret.arn"),
        (
            doc(paths=[{**GOOD_PATH, "auth_secret": {"arn": "a", "header": "Bad Header"}}]),
            "auth_secret.header",
        ),
    ],
)
def test_invalid_config_names_the_key(text: str | None, message: str) -> None:
    with pytest.raises(CanarySpecError) as info:
        CanarySpec.from_json(text)
    assert message in str(info.value)


def test_header_values_are_not_echoed_in_errors() -> None:
    with pytest.raises(CanarySpecError) as info:
        CanarySpec.from_json(doc(paths=[{**GOOD_PATH, "headers": {"X-Key": 12345}}]))
    assert "12345" not in str(info.value) and "X-Key" in str(info.value)


def test_metric_names_are_design_md() -> None:
    # One definition (streampath_canary.contract) serves the handler, the alarms and the dashboard;
    # this pins it to docs/contracts/metrics.md's table, copied independently into tests/canary/support.py.
    assert dict(METRICS) == DESIGN_METRICS


OK_RESULT = {
    "url": "https://x/api/streamcheck?nonce=1",
    "path_name": "nlb",
    "protocol": "HTTP/2",
    "status": 200,
    "ok": True,
    "error": None,
    "timings_ms": {
        "dns": 1.0,
        "connect": 2.0,
        "tls": 3.0,
        "ttfb": 10.0,
        "first_event": 11.0,
        "total": 2000.0,
    },
    "events": 21,
    "mode": "streamcheck",
    "buffering_delay_ms": 3.5,
    "verdict": "streaming",
}


def test_emf_for_a_streamed_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    # The stack sets POWERTOOLS_SERVICE_NAME for the logger; it must not become a metric dimension.
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "streampath-canary")
    emf = emf_document("StreamPath", "nlb", "h2", OK_RESULT)
    values = assert_design_emf(emf)
    assert values == {
        "TimeToFirstByte": 10.0,
        "TimeToFirstEvent": 11.0,
        "BufferingDelay": 3.5,
        "StreamDuration": 2000.0,
        "DnsTime": 1.0,
        "ConnectTime": 2.0,
        "TlsTime": 3.0,
        "EventsReceived": 21.0,
        "Success": 1.0,
        "Buffered": 0.0,
        "Partial": 0.0,
    }
    assert emf["Path"] == "nlb" and emf["Protocol"] == "h2" and emf["Verdict"] == "streaming"
    assert "service" not in emf


def test_emf_for_a_failed_probe() -> None:
    failed = {
        **OK_RESULT,
        "ok": False,
        "status": None,
        "error": {"kind": "tls", "message": "certificate verify failed"},
        "timings_ms": {
            "dns": 1.0,
            "connect": 2.0,
            "tls": None,
            "ttfb": None,
            "first_event": None,
            "total": 5.0,
        },
        "events": 0,
        "buffering_delay_ms": None,
        "verdict": "error",
    }
    emf = emf_document("Custom/NS", "cf", "h1", failed)
    values = assert_design_emf(emf, namespace="Custom/NS")
    assert values["Success"] == 0.0 and values["EventsReceived"] == 0.0
    assert "TimeToFirstByte" not in values and "Buffered" not in values and "BufferingDelay" not in values
    assert "Partial" not in values
    assert emf["ErrorKind"] == "tls"


def test_buffered_verdict_sets_buffered() -> None:
    assert (
        metric_values({**OK_RESULT, "verdict": "buffered", "buffering_delay_ms": 1900.0})["Buffered"] == 1.0
    )
    assert metric_values({**OK_RESULT, "verdict": "partial"})["Buffered"] == 0.0


def test_partial_verdict_sets_partial_only() -> None:
    partial = metric_values({**OK_RESULT, "verdict": "partial", "buffering_delay_ms": 420.0})
    assert (partial["Partial"], partial["Buffered"]) == (1.0, 0.0)
    buffered = metric_values({**OK_RESULT, "verdict": "buffered", "buffering_delay_ms": 1900.0})
    assert (buffered["Partial"], buffered["Buffered"]) == (0.0, 1.0)
    assert metric_values(OK_RESULT)["Partial"] == 0.0
