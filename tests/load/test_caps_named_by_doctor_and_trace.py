"""``streamprobe doctor`` and ``trace`` name a concurrency-capped hop (HAProxy ``maxconn``, the shape of an
ALB Target Optimizer's ``maxConcurrency``) with a few streams at once, by ``streamprobe load``'s rule;
``--concurrent-streams`` bounds them. Real servers on loopback (tests/load/conftest.py).

Timing-sensitive (first bytes in steps): ``timing``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamprobe.concurrency import MAX_CONCURRENT_STREAMS, ConcurrencyCheck
from streamprobe.fixes import CONCURRENCY_CAP_FIXES, concurrency_cap_fixes
from streamprobe.load import LoadSummary
from streamprobe.load.steps import CapEstimate
from streamprobe.slo import DEFAULT_SLO, parse_slo

from tests.load.conftest import CAP

pytestmark = pytest.mark.timing

STREAMPROBE = str(Path(sys.executable).parent / "streamprobe")


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}/api/streamcheck?events=4&interval_ms=100"  # ~300 ms a stream


def streamprobe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STREAMPROBE, *args], capture_output=True, text=True, timeout=120, check=False)


def test_doctor_names_the_cap_beside_its_code(capped_port: int) -> None:
    proc = streamprobe("doctor", url(capped_port), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # streams, but queues behind a cap
    d = json.loads(proc.stdout)
    assert d["diagnosis_code"] == "none"  # the matrix's code: nothing buffers
    at_once = d["concurrency"]
    assert (at_once["streams"], at_once["finished"], at_once["rounds"]) == (4, 4, 2)  # confirmed once more
    assert at_once["cap"]["cap"] == CAP and at_once["cap"]["code"] == "concurrency_cap"
    assert f"streams queue behind a concurrency cap of about {CAP}" in d["diagnosis"]
    assert [f["id"] for f in d["fixes"]] == list(CONCURRENCY_CAP_FIXES)


def test_doctor_without_the_check_and_without_a_cap(capped_port: int, app_port: int) -> None:
    skipped = streamprobe("doctor", url(capped_port), "--concurrent-streams", "0", "--json")
    assert skipped.returncode == 0, skipped.stdout
    assert json.loads(skipped.stdout)["concurrency"] is None
    human = streamprobe("doctor", url(app_port))
    assert human.returncode == 0, human.stdout
    assert "at once: 4 streams, first bytes " in human.stdout
    assert "concurrency cap" not in human.stdout


def test_a_request_with_a_body_is_repeated_only_when_asked(capped_port: int) -> None:
    chat = f"http://127.0.0.1:{capped_port}/api/chat/stream?tokens=4&interval_ms=100"
    body = ("--data", '{"prompt": "hi"}', "--header", "Content-Type: application/json")
    default = streamprobe("doctor", chat, *body, "--json")
    d = json.loads(default.stdout)
    assert d["concurrency"] is None, default.stdout  # a POST is another answer each time: not repeated
    assert any("--concurrent-streams 4 runs it" in note for note in d["notes"]), d["notes"]
    human = streamprobe("trace", f"haproxy={chat}", *body)
    assert "note: no concurrency check: the request has a body" in human.stdout, human.stdout
    asked = streamprobe("doctor", chat, *body, "--concurrent-streams", "3", "--json")
    checked = json.loads(asked.stdout)
    assert checked["concurrency"]["streams"] == 3 and checked["notes"] == [], asked.stdout
    assert checked["concurrency"]["cap"]["cap"] == CAP, asked.stdout


def test_trace_names_the_capped_hop_with_its_own_fix_first(capped_port: int, app_port: int) -> None:
    proc = streamprobe(
        "trace", f"pod={url(app_port)}", f"haproxy={url(capped_port)}", "--concurrent-streams", "3"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert f"no hop buffers; haproxy serves about {CAP} streams at a time" in lines
    assert any(line.startswith("at once through haproxy: 3 streams") for line in lines)
    assert next(line for line in lines if line.startswith("try: ")).startswith(
        "try: haproxy: raise the server"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1", f"concurrent streams must be 0 (no check) or 2..{MAX_CONCURRENT_STREAMS}, got 1"),
        (str(MAX_CONCURRENT_STREAMS + 1), f"got {MAX_CONCURRENT_STREAMS + 1}"),
        ("four", "expected a whole number, got 'four'"),
    ],
)
@pytest.mark.parametrize("command", ["doctor", "trace"])
def test_a_bad_stream_count_is_a_usage_error(command: str, value: str, message: str) -> None:
    proc = streamprobe(command, "http://127.0.0.1:9/api/streamcheck", "--concurrent-streams", value)
    assert proc.returncode == 2 and proc.stdout == ""
    first, *rest = proc.stderr.splitlines()
    assert (
        first.startswith(f"streamprobe {command}: error: argument --concurrent-streams: ")
        and message in first
    )
    assert rest == [f"usage: see 'streamprobe {command} --help'"]


# -- without servers: the confirmation and the fixes' order ---------------------------------------------


def summary(cap: int | None) -> LoadSummary:
    found = LoadSummary("http://x/", "HTTP/1.1", 4, "per-stream", parse_slo(DEFAULT_SLO))
    found.cap = None if cap is None else CapEstimate(cap, 2, 400.0, 400.0)
    return found


def test_a_cap_is_named_only_when_it_shows_again() -> None:
    assert ConcurrencyCheck(4, (summary(None),)).cap is None
    assert ConcurrencyCheck(4, (summary(2), summary(None))).cap is None  # a stall, not a cap
    assert ConcurrencyCheck(4, (summary(2), summary(3))).cap is None
    confirmed = ConcurrencyCheck(4, (summary(2), summary(2))).cap
    assert confirmed is not None and confirmed.cap == 2


def test_the_capping_hops_own_fix_comes_first_named_after_it() -> None:
    fixes = concurrency_cap_fixes("alb", "ingress-alb")
    assert [(f.hop, f.fix.id) for f in fixes][:2] == [
        ("ingress-alb", "alb.target_optimizer_max_concurrency"),
        ("haproxy", "haproxy.maxconn"),
    ]
    app = concurrency_cap_fixes("app", "pod")
    assert [f.hop for f in app[:2]] == ["pod", "pod"] and len(app) == len(CONCURRENCY_CAP_FIXES)
    assert [f.hop for f in concurrency_cap_fixes()] == ["alb", "haproxy", "app", "app"]
