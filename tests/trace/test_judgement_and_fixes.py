"""The chain's judgement (first buffering hop, added delay) and the fix catalogue, checked against the
project's own config models and ``streampath alb-fix``."""

from __future__ import annotations

from typing import get_args

import pytest
from streamprobe.chain import judge_chain
from streamprobe.diagnosis import BUFFERING_CODES, DiagnosisCode
from streamprobe.fixes import FIXES, HOP_KINDS, HopKind, fixes_for, kind_of
from streamprobe.result import ErrorInfo, ProbeResult, Verdict

from streampath import alb_fix
from streampath.config.apigateway import ApiGatewayConfig
from streampath.config.cloudfront import CloudFrontConfig, HttpVersionName, OriginConfig
from streampath.config.nlb import AlpnPolicyName, ListenerConfig, NlbConfig


def reading(verdict: Verdict, delay: float | None = None) -> ProbeResult:
    error = ErrorInfo("connect", "refused") if verdict == "error" else None
    return ProbeResult(
        url="u", path_name="p", protocol="HTTP/1.1", verdict=verdict, buffering_delay_ms=delay, error=error
    )


def test_the_first_hop_that_buffers_after_one_that_streamed() -> None:
    j = judge_chain([reading("streaming", 1.0), reading("streaming", 2.0), reading("buffered", 1900.0),
                     reading("buffered", 1902.0)])  # fmt: skip
    assert (j.outcome, j.first_buffering, j.previous()) == ("buffering", 2, 1)
    assert j.added_delay_ms == [1.0, 1.0, 1898.0, 2.0]


def test_the_first_hop_itself() -> None:
    j = judge_chain([reading("partial", 400.0), reading("buffered", 1800.0)])
    assert (j.outcome, j.first_buffering, j.previous()) == ("buffering", 0, None)
    assert j.added_delay_ms == [400.0, 1400.0]


def test_an_error_stops_the_judgement() -> None:
    j = judge_chain([reading("streaming", 1.0), reading("error"), reading("buffered", 1800.0)])
    assert (j.outcome, j.stopped_at, j.first_buffering) == ("error", 1, None)
    assert j.added_delay_ms == [1.0, None, None]


def test_a_buffering_hop_after_an_inconclusive_one_is_ambiguous() -> None:
    j = judge_chain([reading("streaming", 1.0), reading("inconclusive"), reading("buffered", 1800.0)])
    assert (j.outcome, j.ambiguous_at, j.first_buffering, j.unsure) == ("ambiguous", 2, None, [1])


def test_streams_and_inconclusive() -> None:
    assert judge_chain([reading("streaming", 1.0)]).outcome == "streams"
    assert judge_chain([reading("streaming", 1.0), reading("inconclusive")]).outcome == "inconclusive"


def test_a_streaming_hop_after_the_buffering_one_is_flagged() -> None:
    j = judge_chain([reading("buffered", 1800.0), reading("streaming", 2.0)])
    assert j.out_of_order == [1]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("pod", "app"), ("direct", "app"), ("in-cluster-nginx", "nginx"), ("ingress", "ingress-nginx"),
     ("ingress-nginx", "ingress-nginx"), ("alb", "alb"), ("NLB", "nlb"), ("cloudfront", "cloudfront"),
     ("cdn", "cloudfront"), ("haproxy-edge", "haproxy"), ("edge", "proxy"), ("albatross", "proxy")],
)  # fmt: skip
def test_kind_of_a_name(name: str, kind: HopKind) -> None:
    assert kind_of(name) == kind


@pytest.mark.parametrize("code", sorted(BUFFERING_CODES))
@pytest.mark.parametrize("kind", HOP_KINDS)
def test_every_buffering_cause_has_a_fix_for_every_kind(code: DiagnosisCode, kind: HopKind) -> None:
    fixes = fixes_for(code, kind, "hop")
    assert fixes and all(f.hop == "hop" for f in fixes)
    assert len({f.fix.id for f in fixes}) == len(fixes)


@pytest.mark.parametrize("code", ["none", "inconclusive", "error"])
def test_no_fix_when_nothing_buffers(code: DiagnosisCode) -> None:
    assert fixes_for(code) == []


def test_a_stream_cut_by_silence_gets_the_timeouts_and_the_heartbeat() -> None:
    ids = [f.fix.id for f in fixes_for("error", "nginx", "nginx", errors=["stalled"])]
    assert ids == ["nginx.read_timeout", "app.heartbeat"]
    every = {f.fix.id for f in fixes_for("error", errors=["stalled"])}
    assert {"cloudfront.read_timeout", "alb.idle_timeout", "ingress-nginx.read_timeout"} <= every


def test_ids_name_their_kind() -> None:
    for fid, fix in FIXES.items():
        assert fid.split(".")[0] == fix.kind and fix.kind in get_args(HopKind)


def test_the_yaml_keys_named_are_the_config_models_keys_and_values() -> None:
    # A renamed key or value in streampath.config would make these fixes wrong: they must follow.
    assert "nlb.listener.alpn_policy: HTTP1Only" in FIXES["nlb.alpn_http1"].change
    assert "listener" in NlbConfig.model_fields and "alpn_policy" in ListenerConfig.model_fields
    assert "HTTP1Only" in get_args(AlpnPolicyName)
    for fid, value in (
        ("cloudfront.http_version_http1", "HTTP1_1"),
        ("cloudfront.http_version_http2", "HTTP2"),
    ):
        assert f"cloudfront.http_version: {value} " in FIXES[fid].change
        assert value in get_args(HttpVersionName)
    assert "http_version" in CloudFrontConfig.model_fields
    assert "cloudfront.origin.read_timeout_seconds" in FIXES["cloudfront.read_timeout"].change
    assert "origin" in CloudFrontConfig.model_fields and "read_timeout_seconds" in OriginConfig.model_fields
    assert "apigateway.endpoint_type: regional" in FIXES["apigateway.regional_endpoint"].change
    assert "regional" in get_args(get_args(ApiGatewayConfig.model_fields["endpoint_type"].annotation)[0])


def test_the_alb_fix_is_what_streampath_alb_fix_writes() -> None:
    attrs = ",".join(f"{k}={v}" for k, v in alb_fix.attributes(alb_fix.DEFAULT_IDLE_TIMEOUT).items())
    assert f"{alb_fix.ANNOTATION}: {attrs}" in FIXES["alb.http2_off"].change
    assert f"{alb_fix.ANNOTATION}: {attrs}" in alb_fix.render(alb_fix.DEFAULT_IDLE_TIMEOUT)
