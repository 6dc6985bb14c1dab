"""The lab's story: chains of real nginx, haproxy and uvicorn on loopback, traced hop by hop; each fix
the trace names applied to that hop (config re-rendered and reloaded, or the app restarted), traced again."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.chains import CHAIN_NAMES, CHAINS, HOPS, ChainLab
from lab.story import StoryReport, render_story, run_story
from tests.lab.conftest import EVENTS, INTERVAL_MS
from tests.trace.test_progress import run_with_tty_stderr

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
STREAM_MS = (EVENTS - 1) * INTERVAL_MS
EXPECTED = {"healthy": None, "compression": "direct", "nginx-buffering": "nginx", "alb-defaults": "alb-like"}
CAUSE = {"compression": "compression", "nginx-buffering": "compression", "alb-defaults": "h1_only"}


@pytest.fixture(scope="module")
def chains() -> Iterator[ChainLab]:
    running = ChainLab()
    with running:
        yield running


@pytest.fixture(scope="module")
def story(chains: ChainLab) -> StoryReport:
    return run_story(chains, events=EVENTS, interval_ms=INTERVAL_MS)


def test_every_chain_is_traced_hop_by_hop_in_order(story: StoryReport) -> None:
    assert [c.spec.name for c in story.chains] == list(CHAIN_NAMES) == list(EXPECTED)
    for c in story.chains:
        assert [h.hop.name for h in c.trace.hops] == list(HOPS)
        for h in c.trace.hops:
            assert h.result.ok, (c.spec.name, h.hop.name, h.result.error)
            assert h.result.mode == "streamcheck" and h.result.events == EVENTS + 1
        # inner hops as the next hop reads them (HTTP/1.1), the CloudFront stand-in like a browser
        assert [h.result.protocol for h in c.trace.hops] == ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/2"]


def test_the_healthy_chain_streams_through_every_hop(story: StoryReport) -> None:
    healthy = story.chain("healthy").trace
    assert [h.result.verdict for h in healthy.hops] == ["streaming"] * len(HOPS)
    assert (healthy.first_buffering_hop, healthy.diagnosis_code, healthy.fixes) == (None, "none", [])


@pytest.mark.parametrize("name", ["compression", "nginx-buffering", "alb-defaults"])
def test_each_faulty_chain_names_its_hop_with_the_delay_it_adds(story: StoryReport, name: str) -> None:
    traced = story.chain(name).trace
    hop = EXPECTED[name]
    assert hop is not None and traced.first_buffering_hop == hop
    i = list(HOPS).index(hop)
    assert all(h.result.verdict == "streaming" for h in traced.hops[:i])
    assert all(h.result.verdict == "buffered" for h in traced.hops[i:])
    added = traced.hops[i].added_delay_ms
    assert added is not None and added > 0.8 * STREAM_MS  # the hop holds the whole stream
    assert traced.diagnosis_code == CAUSE[name]
    assert traced.fixes and all(f.hop == hop for f in traced.fixes)


def test_each_fix_applied_to_the_named_hop_makes_its_row_stream(story: StoryReport) -> None:
    applied = {}
    for c in story.chains:
        if c.spec.fault_hop is None:
            assert c.attempts == []
            continue
        tried = [a for a in c.attempts if a.applied]
        assert tried, f"{c.spec.name}: no fix applied"
        for a in tried:
            assert a.after is not None and a.fix.hop == c.spec.fault_hop
            row = next(h for h in a.after.hops if h.hop.name == a.fix.hop)
            assert row.result.verdict == "streaming", (
                c.spec.name,
                a.fix.fix.id,
                row.result.buffering_delay_ms,
            )
            assert a.streams_after and a.after.first_buffering_hop is None
        applied[c.spec.name] = [a.fix.fix.id for a in tried]
    assert applied == {
        "compression": ["app.starlette_gzip"],
        "nginx-buffering": ["nginx.gzip_types", "nginx.proxy_buffering_off"],
        "alb-defaults": ["nginx.proxy_buffering_off"],
    }


def test_fixes_were_applied_to_the_running_hop_then_reverted(story: StoryReport, chains: ChainLab) -> None:
    how = {(c.spec.name, a.fix.fix.id): a.how for c in story.chains for a in c.attempts if a.applied}
    assert (
        "re-rendered chain-nginx/nginx.conf and reloaded nginx"
        in how[("nginx-buffering", "nginx.gzip_types")]
    )
    assert "re-rendered chain-alb/nginx.conf" in how[("alb-defaults", "nginx.proxy_buffering_off")]
    assert "lab.apps:create_starlette_gzip_app" in how[("compression", "app.starlette_gzip")]
    # every chain is back at its faulty state (each fix was tried alone)
    assert chains.faults == {c.name: c.faults for c in CHAINS}
    assert "gzip_types text/event-stream application/json;" in chains.config_text("nginx")
    assert chains.config_text("alb-like").count("proxy_buffering on;") == 1


def test_the_story_text_names_each_hop(story: StoryReport) -> None:
    text = render_story(story)
    assert "buffering starts at direct: +" in text
    assert "buffering starts at nginx (after direct): +" in text
    assert "buffering starts at alb-like (after nginx): +" in text
    assert "try: alb-like (nginx): proxy_buffering off;" in text
    assert "fix nginx.gzip_types at nginx: " in text and "every hop streams now" in text
    data = json.loads(json.dumps(story.to_dict()))
    assert [c["trace"]["first_buffering_hop"] for c in data["chains"]] == list(EXPECTED.values())


def test_make_lab_ends_with_the_story_and_reports_progress_on_a_terminal() -> None:
    # `python -m lab` as `make lab` runs it (the slow columns off), stderr on a real pty, stdout piped.
    code, out, shown = run_with_tty_stderr(
        [
            sys.executable,
            "-m",
            "lab",
            "--json",
            "--no-browser",
            "--no-chat",
            "--no-doctor",
            "--interval-ms",
            "150",
        ],
        cwd=ROOT,
        timeout=300,
    )
    assert code == 0, shown[-2000:]
    data = json.loads(out)  # stdout: the JSON object alone
    assert [c["trace"]["first_buffering_hop"] for c in data["story"]["chains"]] == list(EXPECTED.values())
    assert "lab: direct h1: streaming" in shown
    assert "lab: story compression: hop 1/4 direct: buffered" in shown
    assert "lab: story nginx-buffering: fix nginx.gzip_types at nginx applied" in shown
