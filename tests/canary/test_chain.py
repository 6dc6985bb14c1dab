"""``chain`` in CANARY_CONFIG: each run names the first path that buffers and the delay it adds, logs it
and returns it; the canary's rule is held to the same cases as ``streamprobe trace``'s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from streamcheck.reference_app import app as reference_app
from streampath_canary import chain
from streampath_canary.contract import CanarySpec, CanarySpecError, PathSpec
from streamprobe.chain import judge_chain
from streamprobe.result import ErrorInfo, ProbeResult, Verdict

from tests.canary.support import run_handler
from tests.support.servers import RunningServer, block_proxy, hold_all_proxy, refused_port, uvicorn_server

STREAM = "/api/streamcheck?events=10&interval_ms=100"  # ~0.9 s of stream


@pytest.fixture(scope="module")
def app() -> Iterator[RunningServer]:
    with uvicorn_server(reference_app) as srv:
        yield srv


def doc(paths: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    return {"probe_timeout_s": 5, "max_duration_s": 20, "deadline_s": 40, "paths": paths, **top}


def test_a_run_names_the_first_buffering_path_logs_and_returns_it(app: RunningServer) -> None:
    with ExitStack() as stack:
        nginx = stack.enter_context(block_proxy(app.port, block=1))
        alb = stack.enter_context(hold_all_proxy(nginx.port))
        cdn = stack.enter_context(block_proxy(alb.port, block=1))
        paths = [
            {"name": name, "url": srv.url(STREAM), "protocols": ["h1"]}
            for name, srv in (("cdn", cdn), ("alb", alb), ("direct", app), ("nginx", nginx))
        ]
        # the paths in any order; the chain orders them from the app outward
        run = run_handler(doc(paths, chain=["direct", "nginx", "alb", "cdn"]))
    assert run.returned is not None
    [answer] = run.returned["chain"]
    assert answer["protocol"] == "h1" and answer["hops"] == ["direct", "nginx", "alb", "cdn"]
    assert (answer["outcome"], answer["first_buffering_hop"], answer["previous_hop"]) == (
        "buffering",
        "alb",
        "nginx",
    )
    assert answer["added_delay_ms"] > 600  # the hold of a ~0.9 s stream
    assert answer["summary"].startswith("buffering starts at alb (h1, after nginx): +")
    logged = [line for line in run.logs if "chain" in line]
    assert len(logged) == 1 and logged[0]["message"] == answer["summary"]
    assert logged[0]["chain"] == answer


def test_a_failed_path_ends_the_judgement(app: RunningServer) -> None:
    broken = f"http://127.0.0.1:{refused_port()}/api/streamcheck"
    paths = [
        {"name": "direct", "url": app.url(STREAM), "protocols": ["h1"]},
        {"name": "nlb", "url": broken, "protocols": ["h1"]},
    ]
    run = run_handler(doc(paths, chain=["direct", "nlb"]))
    assert run.returned is not None
    [answer] = run.returned["chain"]
    assert (answer["outcome"], answer["stopped_at"]) == ("error", "nlb")
    assert answer["summary"] == "cannot tell beyond nlb (h1): its probe failed"


def test_no_chain_no_answer(app: RunningServer) -> None:
    run = run_handler(doc([{"name": "direct", "url": app.url(STREAM), "protocols": ["h1"]}]))
    assert run.returned is not None and "chain" not in run.returned
    assert not [line for line in run.logs if "chain" in line]


def paths_doc(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "url": f"https://{n}.example.com/api/streamcheck"} for n in names]


def test_the_document_carries_the_chain_both_ways() -> None:
    spec = CanarySpec.from_document(doc(paths_doc("direct", "nlb", "cloudfront"), chain=["direct", "nlb"]))
    assert spec.chain == ("direct", "nlb")
    assert spec.to_document()["chain"] == ["direct", "nlb"]
    assert CanarySpec.from_json(spec.to_json()) == spec
    plain = CanarySpec.from_document(doc(paths_doc("direct")))
    assert plain.chain == () and "chain" not in plain.to_document()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["direct", "alb"], "CANARY_CONFIG: chain: unknown path name(s) alb (the paths are direct, nlb)"),
        (["direct", "nlb", "direct"], "CANARY_CONFIG: chain: path name(s) listed twice: direct"),
        ("direct,nlb", "CANARY_CONFIG: chain: must be a list of path names, got 'direct,nlb'"),
        ([1], "CANARY_CONFIG: chain: must be a list of path names, got [1]"),
    ],
)
def test_a_bad_chain_is_refused_naming_the_key(value: Any, message: str) -> None:
    with pytest.raises(CanarySpecError) as err:
        CanarySpec.from_document(doc(paths_doc("direct", "nlb"), chain=value))
    assert str(err.value) == message


def test_the_spec_refuses_a_chain_of_unknown_paths() -> None:
    with pytest.raises(ValueError, match="chain: unknown path name"):
        CanarySpec(paths=[PathSpec(name="direct", url="https://x.example.com/")], chain=["nope"])


CASES: list[list[tuple[Verdict, float | None]]] = [
    [("streaming", 1.0), ("streaming", 2.0), ("buffered", 1900.0), ("buffered", 1901.0)],
    [("partial", 400.0), ("buffered", 1800.0)],
    [("streaming", 1.0), ("error", None), ("buffered", 1800.0)],
    [("streaming", 1.0), ("inconclusive", None), ("buffered", 1800.0)],
    [("streaming", 1.0), ("inconclusive", None)],
    [("streaming", 3.0), ("streaming", 1.0)],
    [("streaming", 1.0), ("partial", None)],
]


@pytest.mark.parametrize("case", CASES)
def test_the_canary_and_the_trace_judge_alike(case: list[tuple[Verdict, float | None]]) -> None:
    names = [f"p{i}" for i in range(len(case))]
    results = [
        ProbeResult(
            url="u",
            path_name=n,
            protocol="HTTP/1.1",
            verdict=v,
            buffering_delay_ms=d,
            error=ErrorInfo("connect", "refused") if v == "error" else None,
        )
        for n, (v, d) in zip(names, case, strict=True)
    ]
    trace = judge_chain(results)
    canary = chain.judge("h1", [chain.HopReading(n, v, d) for n, (v, d) in zip(names, case, strict=True)])
    assert canary.outcome == trace.outcome
    first = None if trace.first_buffering is None else names[trace.first_buffering]
    assert canary.first_buffering_hop == first
    previous = trace.previous()
    assert canary.previous_hop == (None if previous is None else names[previous])
    if first is not None:
        assert canary.added_delay_ms == trace.added_delay_ms[trace.first_buffering or 0]
    stopped = trace.stopped_at if trace.outcome == "error" else trace.ambiguous_at
    assert canary.stopped_at == (None if stopped is None else names[stopped])
