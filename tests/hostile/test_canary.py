"""The canary against hostile servers and a hostile CANARY_CONFIG: no secret in any form in its results or
log lines, every error line bounded, and no thread or socket (or core) left busy after a run."""

from __future__ import annotations

import json
import resource
import threading
import time
from typing import Any

import pytest
from streampath_canary.auth_secrets import SecretCache
from streampath_canary.contract import AuthSecretSpec, CanarySpec, CanarySpecError, PathSpec
from streampath_canary.runner import ABANDON_GRACE_S, run_probes

from tests.canary.support import run_handler
from tests.hostile import servers as hs
from tests.hostile.conftest import GRACE_S, no_leaks
from tests.hostile.secrets import API_KEY, BEARER, PASSWORD, assert_clean, with_userinfo
from tests.hostile.test_echoes import ECHOES
from tests.support.servers import never_answers

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:canary-token-AbCdEf"
#: What any error line may repeat of a value it refuses (with its own words around it).
LINE_CHARS = 1000


class _Denied:
    """A Secrets Manager client whose every call is refused."""

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        error = Exception("AccessDenied")
        error.response = {"Error": {"Code": "AccessDeniedException"}}  # type: ignore[attr-defined]
        raise error


class _Holds:
    """A Secrets Manager client that returns one value."""

    def __init__(self, value: str) -> None:
        self.value = value

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        return {"SecretString": self.value}


def _spec(*paths: PathSpec, **bounds: float) -> CanarySpec:
    return CanarySpec(paths=paths, **{"probe_timeout_s": 2.0, "max_duration_s": 8.0, **bounds})  # type: ignore[arg-type]


def _shown(outcomes: list[Any]) -> str:
    return json.dumps([o.result for o in outcomes])


def test_a_secret_that_cannot_be_read_does_not_log_the_urls_userinfo() -> None:
    path = PathSpec(
        name="p",
        url=with_userinfo("http://127.0.0.1:9/api/streamcheck"),
        protocols=("h1",),
        auth_secret=AuthSecretSpec(arn=ARN),
    )
    outcomes = run_probes(_spec(path), budget_s=5.0, secrets=SecretCache(client_factory=_Denied))
    (outcome,) = outcomes
    assert outcome.result["error"]["kind"] == "other"
    assert "AccessDeniedException" in outcome.result["error"]["message"]
    assert outcome.result["url"] == "http://***@127.0.0.1:9/api/streamcheck"
    assert_clean(_shown(outcomes))


def test_a_probe_abandoned_at_the_deadline_does_not_log_the_urls_userinfo_nor_outlive_it() -> None:
    with no_leaks(), never_answers() as srv:
        path = PathSpec(name="p", url=with_userinfo(srv.url("/api/streamcheck")), protocols=("h1", "h2"))
        spec = _spec(path, probe_timeout_s=30.0, max_duration_s=30.0, deadline_s=50.0)
        start = time.monotonic()
        outcomes = run_probes(spec, budget_s=1.0, secrets=SecretCache())
        assert time.monotonic() - start < 1.0 + 1.0
        for outcome in outcomes:
            assert outcome.result["error"]["kind"] == "timeout"
            assert "budget" in outcome.result["error"]["message"]
            assert outcome.result["url"].startswith("http://***@127.0.0.1:")
        assert_clean(_shown(outcomes))
    # no_leaks: the abandoned probes stopped on their own a moment after the deadline, not at 30 s


def test_echoed_secrets_never_reach_the_canarys_results() -> None:
    for name in ("content-encoding-lowercased", "body-echo-swapped-case", "body-cut-by-server", "location"):
        with hs.echoes(ECHOES[name], then_wait=0.5) as srv:
            path = PathSpec(
                name="p",
                url=with_userinfo(srv.url("/sse")),
                protocols=("h1",),
                headers={"X-Api-Key": API_KEY},
                auth_secret=AuthSecretSpec(arn=ARN),
            )
            outcomes = run_probes(
                _spec(path), budget_s=6.0, secrets=SecretCache(client_factory=lambda: _Holds(BEARER))
            )
        assert outcomes[0].result["error"] is not None, name
        assert_clean(_shown(outcomes))


def test_a_bomb_ends_the_canarys_probe_and_leaves_no_core_busy() -> None:
    with no_leaks():
        with hs.answers(hs.sse_head("Content-Encoding: br"), [hs.br_newline_bomb()]) as srv:
            path = PathSpec(name="bomb", url=srv.url("/sse"), protocols=("h1",))
            start = time.monotonic()
            outcomes = run_probes(_spec(path), budget_s=4.0, secrets=SecretCache())
            elapsed = time.monotonic() - start
        assert outcomes[0].result["error"]["kind"] == "too_large", outcomes[0].result
        assert elapsed < 4.0
    before = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(0.5)
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) < 0.1


def _probe_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("probe", "streamprobe"))]


def test_a_fast_endless_stream_abandoned_at_the_deadline_stops_soon_after() -> None:
    """The server streams on: the abandoned probe must stop by itself (its max_duration was cut to the
    run's deadline plus the grace), not when the server lets it go."""
    with no_leaks(), hs.answers(hs.sse_head(), hs.endless(b"data: x\n\n" * 50), pause=0.01) as srv:
        path = PathSpec(name="fast", url=srv.url("/sse"), protocols=("h1",))
        spec = _spec(path, probe_timeout_s=5.0, max_duration_s=30.0, deadline_s=50.0)
        start = time.monotonic()
        outcomes = run_probes(spec, budget_s=1.5, secrets=SecretCache())
        assert outcomes[0].result["error"]["kind"] == "timeout", outcomes[0].result
        while _probe_threads() and time.monotonic() - start < 1.5 + ABANDON_GRACE_S + GRACE_S:
            time.sleep(0.05)
        assert not _probe_threads(), time.monotonic() - start


# -- CANARY_CONFIG -----------------------------------------------------------------------------------


def _error(doc: dict[str, Any]) -> str:
    text = json.dumps(doc)
    start = time.monotonic()
    with pytest.raises(CanarySpecError) as info:
        CanarySpec.from_json(text)
    assert time.monotonic() - start < 2.0
    return str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        f"ftp://user:{PASSWORD}@host.example/x",
        f"http://user:{PASSWORD}@/x",
        f"{PASSWORD}@host.example/x",
        f"https://user:{PASSWORD}@host.example:99x/x",
    ],
)
def test_a_bad_url_in_canary_config_is_refused_without_its_password(url: str) -> None:
    message = _error({"paths": [{"name": "p", "url": url}]})
    assert "paths[0].url" in message
    assert_clean(message)


BIG = "N" * (10 * 1024 * 1024)


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"namespace": BIG, "paths": [{"name": "p", "url": "https://h.example/x"}]}, "namespace"),
        ({BIG: 1, "paths": []}, "unknown key"),
        ({"paths": [{"name": BIG, "url": "https://h.example/x"}]}, "paths[0].name"),
        ({"paths": [{"name": "p", "url": "https://h.example/" + BIG}], "deadline_s": BIG}, "deadline_s"),
        ({"paths": [{"name": "p", "url": "https://h.example/x", "headers": {BIG + " ": "v"}}]}, "headers"),
        ({"paths": [{"name": "p", "url": "https://h.example/x", "protocols": [BIG, BIG]}]}, "protocols"),
        ({"paths": [[BIG, BIG, *range(10_000)]]}, "paths[0]"),
        ({"paths": [{"name": "p", "url": "https://h.example/x", "auth_secret": {"arn": 1, BIG: 2}}]}, "auth"),
    ],
    ids=["namespace", "root-key", "name", "deadline", "header-name", "protocols", "path", "secret-key"],
)
def test_a_huge_value_in_canary_config_is_not_echoed_whole(doc: dict[str, Any], key: str) -> None:
    message = _error(doc)
    assert key in message
    assert len(message) < LINE_CHARS, len(message)


def test_the_handlers_config_error_line_is_bounded_and_clean() -> None:
    doc = {
        "namespace": "N" * 100_000,  # an environment variable holds at most 128 KiB
        "paths": [{"name": "p", "url": f"ftp://user:{PASSWORD}@host.example/x"}],
    }
    for bad in (doc, {"paths": [{"name": "p", "url": f"ftp://user:{PASSWORD}@host.example/x"}]}):
        run = run_handler(bad, mode="config")
        assert run.returned is not None and run.returned["error"]
        lines = [line for line in run.logs if line.get("message") == "invalid canary config"]
        assert len(lines) == 1
        assert all(len(json.dumps(line)) < LINE_CHARS + 500 for line in run.logs)
        assert_clean(run.stdout, run.stderr)
