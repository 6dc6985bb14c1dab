"""Hostile HTTP/1.1 answers: every case ends within max_duration + 2 s with a classified result and
leaves no thread or socket behind; the body cases stay under 100 MB peak in a child process."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.hostile import servers as hs
from tests.hostile.conftest import PEAK_RSS_MB, bounded_probe, no_leaks, probe_in_child
from tests.support.servers import RawServer, huge_line

FAST = {"timeout": 2.0, "max_duration": 4.0}


@dataclass(frozen=True)
class Case:
    name: str
    server: Callable[[], RawServer]
    kinds: tuple[str | None, ...]  # the classification(s) allowed (None: no error)
    options: tuple[tuple[str, object], ...] = ()

    @property
    def max_duration(self) -> float:
        value = dict(self.options).get("max_duration", FAST["max_duration"])
        assert isinstance(value, float)
        return value


def _br_bomb() -> RawServer:
    return hs.answers(hs.sse_head("Content-Encoding: br"), [hs.br_newline_bomb()])


def _gzip_bomb() -> RawServer:
    return hs.answers(hs.sse_head("Content-Encoding: gzip"), [hs.gzip_newline_bomb()])


BODY_CASES = [
    # 1 GiB of blank lines: they never make an event, and count toward max_event_bytes
    Case("br-newline-bomb", _br_bomb, ("too_large",)),
    Case("gzip-newline-bomb", _gzip_bomb, ("too_large",)),
    # the same with a bound too large to help: max_duration stops the decoding itself
    Case("br-newline-bomb-huge-bound", _br_bomb, (None,), (("max_event_bytes", 1 << 31),)),
    Case("gzip-newline-bomb-huge-bound", _gzip_bomb, (None,), (("max_event_bytes", 1 << 31),)),
    Case(
        "comment-flood",
        lambda: hs.answers(hs.sse_head(), hs.endless(b": x\n" * 16384)),
        ("too_large",),
    ),
    Case(
        "comment-flood-huge-bound",
        lambda: hs.answers(hs.sse_head(), hs.endless(b": x\n" * 16384)),
        (None,),
        (("max_event_bytes", 1 << 31),),
    ),
    Case(
        "blank-line-flood",
        lambda: hs.answers(hs.sse_head(), hs.endless(b"\n" * 65536)),
        ("too_large",),
    ),
    Case(
        "ignored-fields-flood",  # id: and retry: lines never make an event either
        lambda: hs.answers(hs.sse_head(), hs.endless(b"id: 1\nretry: 5\n\n" * 4096)),
        ("too_large",),
    ),
    Case("endless-data-line", lambda: huge_line(), ("too_large",)),
    Case(
        "many-tiny-events",
        lambda: hs.answers(hs.sse_head(), hs.endless(b"data: x\n\n" * 8192)),
        ("too_large",),
        # the event limit is reached after 100,000 parsed events: seconds of CPU on a busy shared core
        (("max_duration", 20.0),),
    ),
]


@pytest.mark.parametrize("case", BODY_CASES, ids=lambda c: c.name)
def test_body_case_is_bounded_classified_and_leaves_nothing(case: Case) -> None:
    with no_leaks(), case.server() as srv:
        run = bounded_probe(srv.url("/sse"), **{**FAST, **dict(case.options)})
    assert run.kind in case.kinds, run.result.to_dict()
    if run.kind is None:  # cut by max_duration: judged on what arrived, and said so
        assert run.result.verdict == "inconclusive" and run.result.events == 0
        assert any("max_duration" in n for n in run.result.notes), run.result.notes


@pytest.mark.parametrize("case", BODY_CASES, ids=lambda c: c.name)
def test_body_case_peak_memory_in_a_child_process(case: Case) -> None:
    with case.server() as srv:
        out = probe_in_child(srv.url("/sse"), **{**FAST, **dict(case.options)})
    assert out["elapsed"] <= case.max_duration + 2.0, out
    assert out["maxrss_kb"] < PEAK_RSS_MB * 1024, out
    kind = out["result"]["error"] and out["result"]["error"]["kind"]
    assert kind in case.kinds, out["result"]


def test_corrupt_gzip_is_a_protocol_error() -> None:
    with no_leaks(), hs.answers(hs.sse_head("Content-Encoding: gzip"), [hs.corrupt_gzip()]) as srv:
        run = bounded_probe(srv.url("/sse"), **FAST)
    assert run.kind == "protocol", run.result.to_dict()
    assert "gzip" in run.message and "corrupt" in run.message


def test_invalid_brotli_is_a_protocol_error() -> None:
    with no_leaks(), hs.answers(hs.sse_head("Content-Encoding: br"), [hs.INVALID_BROTLI]) as srv:
        run = bounded_probe(srv.url("/sse"), **FAST)
    assert run.kind == "protocol", run.result.to_dict()
    assert "br" in run.message and "corrupt" in run.message


def test_gzip_members_one_after_the_other_are_all_read() -> None:
    import gzip

    body = b"".join(gzip.compress(b"data: %d\n\n" % i) for i in range(5))
    with hs.answers(hs.sse_head("Content-Encoding: gzip"), [body], then_wait=0) as srv:
        run = bounded_probe(srv.url("/sse"), **FAST)
    assert run.kind is None and run.result.events == 5, run.result.to_dict()


def test_too_many_content_codings_are_refused() -> None:
    codings = ", ".join(["gzip"] * 5000)
    with no_leaks(), hs.answers(hs.sse_head(f"Content-Encoding: {codings}"), [b"x"]) as srv:
        run = bounded_probe(srv.url("/sse"), **FAST)
    assert run.kind == "protocol", run.result.to_dict()
    assert len(run.message) < 400 and len(run.result.content_encoding or "") <= 200


FRAMING_CASES = [
    (
        "truncated-chunked",
        lambda: hs.answers(
            b"HTTP/1.1 200 OK\r\n" + hs.SSE + b"Transfer-Encoding: chunked\r\n\r\n",
            [b"10\r\ndata: 1\n\n", b""],  # a 16-byte chunk announced, 9 bytes sent, then closed
            then_wait=0,
        ),
        "protocol",
    ),
    (
        "content-length-lie",
        lambda: hs.answers(
            b"HTTP/1.1 200 OK\r\n" + hs.SSE + b"Content-Length: 100000\r\n\r\n",
            [b"data: 1\n\n"],
            then_wait=0,
        ),
        "protocol",
    ),
    (
        "huge-header",
        lambda: hs.answers(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n" + hs.SSE + b"\r\n"),
        "protocol",
    ),
    (
        "endless-header-line",
        lambda: hs.answers(b"HTTP/1.1 200 OK\r\nX-Endless: ", hs.endless(b"b" * 65536)),
        "protocol",
    ),
    ("informational-forever", lambda: hs.informational_forever(), "timeout"),
]


@pytest.mark.parametrize(("name", "server", "kind"), FRAMING_CASES, ids=[c[0] for c in FRAMING_CASES])
def test_broken_framing_is_classified(name: str, server: Callable[[], RawServer], kind: str) -> None:
    with no_leaks(), server() as srv:
        run = bounded_probe(srv.url("/sse"), **FAST)
    assert run.kind == kind, run.result.to_dict()
    if kind == "timeout":
        assert run.elapsed <= FAST["timeout"] + 1.0


def test_invalid_utf8_and_nul_bytes_in_data_lines() -> None:
    body = b"data: \xff\xfe\xc3\x28 caf\xc3\xa9\n\n" + b"data: a\x00b\n\nid: x\x00y\ndata: 3\n\n"
    with no_leaks(), hs.answers(hs.sse_head(), [body], then_wait=0) as srv:
        run = bounded_probe(srv.url("/sse"), **FAST)
    assert run.kind is None and run.result.events == 3, run.result.to_dict()
    json.dumps(run.result.to_dict(), ensure_ascii=True)  # serialisable
    assert all("\x00" not in n for n in run.result.notes)
