"""The canary contract: importable with nothing but the standard library, one JSON form both ways."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import FrozenInstanceError
from typing import Any

import pytest
from streampath_canary.contract import (
    CONFIG_ENV_VAR,
    DEFAULT_NAMESPACE,
    DEFAULT_PROTOCOLS,
    METRIC_UNITS,
    PROTOCOL_LABELS,
    PROTOCOLS,
    SERVICE_NAME,
    AuthSecretSpec,
    CanarySpec,
    CanarySpecError,
    PathSpec,
    environment_bytes,
    function_environment,
)

from tests.canary.support import CANARY_DIR, DESIGN_METRICS

PROBE_SRC = CANARY_DIR.parents[1] / "probe" / "src"

# Imports a module in an isolated interpreter (-I -S: no site-packages, no PYTHONPATH, no user site) whose
# path is the standard library plus lambda/canary and the probe's sources, and lists every module loaded
# that is not part of the standard library.
IMPORT_ALONE = """
import importlib, sys
sys.path[:0] = [{canary_dir!r}, {probe_src!r}]
module = importlib.import_module({module!r})
stdlib = sys.stdlib_module_names | set(sys.builtin_module_names)
print(module.__file__)
print(sorted(m for m in sys.modules if m != "__main__" and m.split(".")[0] not in stdlib))
print(sorted(p for p in sys.path if "site-packages" in p))
"""
#: The probe's modules the contract shares: standard library only, as ``import streamprobe`` itself.
SHARED_PROBE_MODULES = ("streamprobe", "streamprobe.body", "streamprobe.redact")


def import_alone(module: str) -> tuple[str, list[str]]:
    """(the module's file, the modules outside the standard library that importing it loaded)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            IMPORT_ALONE.format(canary_dir=str(CANARY_DIR), probe_src=str(PROBE_SRC), module=module),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    location, foreign, site_paths = proc.stdout.splitlines()
    assert site_paths == "[]", "the interpreter could not have found anything else anyway"
    return location, ast.literal_eval(foreign)


def test_contract_imports_nothing_but_the_standard_library_and_the_probes_shared_modules() -> None:
    location, foreign = import_alone("streampath_canary.contract")
    assert location == str(CANARY_DIR / "streampath_canary" / "contract.py")
    assert foreign == sorted(["streampath_canary", "streampath_canary.contract", *SHARED_PROBE_MODULES])


@pytest.mark.parametrize(
    "module",
    ["streamprobe", "streamprobe.chain", "streamprobe.body", "streamprobe.redact", "streamprobe.result"],
)
def test_the_probes_shared_modules_do_not_import_its_http_stack(module: str) -> None:
    """``import streamprobe`` is lazy (PEP 562): these load no httpx, h2 or anything else outside the
    standard library, so the canary's contract and chain can share them instead of copying them."""
    location, foreign = import_alone(module)
    assert location.startswith(str(PROBE_SRC / "streamprobe"))
    assert all(name == "streamprobe" or name.startswith("streamprobe.") for name in foreign), foreign
    assert not {"streamprobe.probing", "streamprobe.options", "streamprobe.errors"} & set(foreign)


def test_the_canary_chain_shares_the_probes_judge() -> None:
    _, foreign = import_alone("streampath_canary.chain")
    assert "streamprobe.chain" in foreign
    assert all(name.startswith(("streamprobe", "streampath_canary")) for name in foreign), foreign


def test_metrics_and_protocols() -> None:
    assert dict(METRIC_UNITS) == DESIGN_METRICS
    assert PROTOCOLS == ("h1", "h2", "h3", "ws")
    assert dict(PROTOCOL_LABELS) == {"h1": "HTTP/1.1", "h2": "HTTP/2", "h3": "HTTP/3", "ws": "HTTP/1.1"}
    # HTTP/3 only where asked for: a path that names no protocols probes h1 and h2.
    assert DEFAULT_PROTOCOLS == ("h1", "h2") == PathSpec(name="a", url="https://a/").protocols


def spec() -> CanarySpec:
    return CanarySpec(
        namespace="Custom/NS",
        probe_timeout_s=5,
        max_duration_s=20.5,
        deadline_s=40,
        paths=[
            PathSpec(name="nlb", url="https://nlb.example.com/api/streamcheck?events=20"),
            PathSpec(
                name="direct",
                url="http://10.0.0.1:8080/api/streamcheck",
                protocols=["h1"],
                headers={"X-Env": "staging"},
                auth_secret=AuthSecretSpec(arn="arn:aws:secretsmanager:eu-west-1:1:secret:x", json_key="t"),
                verify=False,
            ),
        ],
    )


def test_json_form_round_trips() -> None:
    original = spec()
    assert CanarySpec.from_json(original.to_json()) == original
    assert CanarySpec.from_document(json.loads(original.to_json())) == original


def test_json_form_is_the_documented_one() -> None:
    document = json.loads(spec().to_json())
    assert document == {
        "namespace": "Custom/NS",
        "probe_timeout_s": 5,
        "max_duration_s": 20.5,
        "deadline_s": 40,
        "paths": [
            {
                "name": "nlb",
                "url": "https://nlb.example.com/api/streamcheck?events=20",
                "protocols": ["h1", "h2"],
                "headers": {},
                "auth_secret": None,
            },
            {
                "name": "direct",
                "url": "http://10.0.0.1:8080/api/streamcheck",
                "protocols": ["h1"],
                "headers": {"X-Env": "staging"},
                "auth_secret": {
                    "arn": "arn:aws:secretsmanager:eu-west-1:1:secret:x",
                    "header": "Authorization",
                    "json_key": "t",
                },
                "verify": False,
            },
        ],
    }
    # Whole seconds stay integers in the text (10, not 10.0): the document reads as the YAML was written.
    assert '"probe_timeout_s":5,' in spec().to_json()


def test_defaults_match_between_the_dataclasses_and_the_parser() -> None:
    minimal = CanarySpec.from_json(json.dumps({"paths": [{"name": "a", "url": "https://a.example.com/"}]}))
    assert minimal == CanarySpec(paths=[PathSpec(name="a", url="https://a.example.com/")])
    assert minimal.namespace == DEFAULT_NAMESPACE


def test_specs_are_frozen_all_the_way_down() -> None:
    path = spec().paths[1]
    with pytest.raises(FrozenInstanceError):
        path.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        path.headers["X-Env"] = "changed"  # type: ignore[index]
    assert isinstance(spec().paths, tuple) and isinstance(path.protocols, tuple)


def test_protocols_used() -> None:
    assert spec().protocols == ("h1", "h2")
    assert CanarySpec(paths=[PathSpec(name="a", url="https://a/", protocols=["h1"])]).protocols == ("h1",)
    both = CanarySpec(
        paths=[
            PathSpec(name="a", url="https://a/", protocols=["h3", "h1"]),
            PathSpec(name="b", url="https://b/", protocols=["h2"]),
        ]
    )
    assert both.protocols == ("h1", "h2", "h3")
    # Round trip: h3 in the document as written.
    assert CanarySpec.from_json(both.to_json()).paths[0].protocols == ("h3", "h1")


def test_function_environment_and_its_size() -> None:
    env = function_environment(spec())
    assert env == {
        CONFIG_ENV_VAR: spec().to_json(),
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": "Custom/NS",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert environment_bytes(env) == sum(len(k) + len(v) for k, v in env.items())
    assert environment_bytes({"K": "é"}) == 3, "Lambda counts bytes, not characters"
    # A stack encodes the document itself (tokens in URLs): the encoder gets exactly to_document().
    seen: list[dict[str, Any]] = []

    def encode(document: dict[str, Any]) -> str:
        seen.append(document)
        return "TOKENS"

    encoded = function_environment(spec(), encode=encode)
    assert encoded[CONFIG_ENV_VAR] == "TOKENS" and seen == [spec().to_document()]


def test_error_is_one_class_named_for_the_spec() -> None:
    with pytest.raises(CanarySpecError, match="CANARY_CONFIG: paths: must be a non-empty list"):
        CanarySpec.from_json('{"paths": []}')
    assert issubclass(CanarySpecError, ValueError)


def test_a_paths_slo_spec_round_trips_and_is_left_out_when_absent() -> None:
    with_spec = CanarySpec(
        paths=[PathSpec(name="a", url="https://a.example.com/", good="first_event<=1500,gap_p99<=250")]
    )
    document = json.loads(with_spec.to_json())
    assert document["paths"][0]["good"] == "first_event<=1500,gap_p99<=250"
    assert CanarySpec.from_json(with_spec.to_json()) == with_spec
    # Absent: the SLO module's default spec judges the probes, and the document stays as it was.
    assert "good" not in json.loads(spec().to_json())["paths"][0]
    assert spec().paths[0].good is None


@pytest.mark.parametrize(
    ("good", "message"),
    [
        ("first_event<2000", r"paths\[0\]\.good: SLO token 'first_event<2000': expected METRIC<=MS"),
        ("latency<=5", r"paths\[0\]\.good: SLO token 'latency<=5': unknown metric 'latency'"),
        ("", r"paths\[0\]\.good: empty SLO spec"),
        (5, r"paths\[0\]\.good: must be an SLO spec string, got 5"),
    ],
)
def test_a_bad_slo_spec_is_refused_naming_the_key(good: object, message: str) -> None:
    document = {"paths": [{"name": "a", "url": "https://a.example.com/", "good": good}]}
    with pytest.raises(CanarySpecError, match="^CANARY_CONFIG: " + message):
        CanarySpec.from_document(document)
    if isinstance(good, str):  # the dataclass refuses it too, before it reaches a template
        with pytest.raises(ValueError, match="SLO"):
            PathSpec(name="a", url="https://a.example.com/", good=good)
