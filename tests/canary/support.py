"""Helpers for the canary tests: run the handler in a fresh interpreter (a real cold start) and read its
stdout the way CloudWatch Logs would (one JSON document per line), plus an EMF specification check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streampath_canary.contract import PROTOCOLS

REPO = Path(__file__).resolve().parents[2]
CANARY_DIR = REPO / "lambda" / "canary"
RETURN_MARK = "CANARY-RETURN "
MODULES_MARK = "CANARY-MODULES "
#: The probe's HTTP stack: imported by the first probe of a container, never by ``import handler``.
PROBE_STACK = ("anyio", "h11", "h2", "hpack", "httpcore", "httpx", "hyperframe", "streamprobe")

# docs/contracts/metrics.md: metric names and units (the contract), dimensions Path + Protocol.
DESIGN_METRICS = {
    "TimeToFirstByte": "Milliseconds",
    "TimeToFirstEvent": "Milliseconds",
    "BufferingDelay": "Milliseconds",
    "InterEventGapP99": "Milliseconds",
    "MaxInterEventGap": "Milliseconds",
    "StreamDuration": "Milliseconds",
    "DnsTime": "Milliseconds",
    "ConnectTime": "Milliseconds",
    "TlsTime": "Milliseconds",
    "EventsReceived": "Count",
    "Success": "Count",
    "Buffered": "Count",
    "Partial": "Count",
    "GoodStream": "Count",
}
DESIGN_DIMENSIONS = ["Path", "Protocol"]

# The driver: a fake Lambda context, one invocation, the return value on a marked line, and which of the
# probe's modules were loaded after the import and after the invocation. os._exit skips joining
# abandoned probe threads (in Lambda the process is frozen instead).
DRIVER = """
import json, os, sys
{path_setup}
from streampath_canary import handler

def probe_stack():
    return sorted({{name.split(".")[0] for name in sys.modules}} & set({probe_stack!r}))

at_import = probe_stack()

class Context:
    function_name = "streampath-canary-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:streampath-canary-test"
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/test"
    log_stream_name = "test"
    def __init__(self, remaining_ms):
        import time
        self._end = time.monotonic() + remaining_ms / 1000
    def get_remaining_time_in_millis(self):
        import time
        return int((self._end - time.monotonic()) * 1000)

mode = sys.argv[1]
if mode == "invoke":
    out = handler.handler({{}}, Context(int(sys.argv[2])))
    sys.stdout.write("{mark}" + json.dumps(out) + "\\n")
elif mode == "config":
    err = handler.SPEC_ERROR
    sys.stdout.write("{mark}" + json.dumps({{"error": None if err is None else str(err),
                                              "paths": None if handler.SPEC is None else
                                              [p.name for p in handler.SPEC.paths]}}) + "\\n")
sys.stdout.write("{modules_mark}" + json.dumps({{"at_import": at_import, "after": probe_stack()}}) + "\\n")
sys.stdout.flush()
os._exit(0)
"""


@dataclass
class Run:
    returned: dict[str, Any] | None
    emf: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    wall_s: float = 0.0
    #: Top-level modules of :data:`PROBE_STACK` loaded right after ``import handler`` / at the end.
    modules_at_import: list[str] = field(default_factory=list)
    modules_after: list[str] = field(default_factory=list)

    def emf_for(self, path: str, protocol: str) -> dict[str, Any]:
        found = [d for d in self.emf if d.get("Path") == path and d.get("Protocol") == protocol]
        assert len(found) == 1, f"expected one EMF document for {path}/{protocol}, got {len(found)}"
        return found[0]

    def probe_log(self, path: str, protocol: str) -> dict[str, Any]:
        found = [
            line
            for line in self.logs
            if line.get("message") == "probe result"
            and line.get("path") == path
            and line.get("requested_protocol") == protocol
        ]
        assert len(found) == 1, f"expected one probe log line for {path}/{protocol}, got {len(found)}"
        return found[0]


def base_env(config: dict[str, Any] | str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "CANARY_"))}
    env.update(
        POWERTOOLS_SERVICE_NAME="streampath-canary",
        POWERTOOLS_METRICS_NAMESPACE="StreamPath",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_EC2_METADATA_DISABLED="true",
    )
    if config is not None:
        env["CANARY_CONFIG"] = config if isinstance(config, str) else json.dumps(config)
    return env


def run_handler(
    config: dict[str, Any] | str | None,
    *,
    mode: str = "invoke",
    remaining_ms: int = 60_000,
    extra_env: dict[str, str] | None = None,
    asset_dir: Path | None = None,
    timeout: float = 120,
) -> Run:
    """Cold-start the handler in a subprocess. ``asset_dir``: a clean interpreter (``-I -S``) whose
    only import path besides the standard library is the bundled asset."""
    env = base_env(config)
    env.update(extra_env or {})
    if asset_dir is None:
        args = [sys.executable]
        path_setup = f"sys.path[:0] = [{str(CANARY_DIR)!r}]"
    else:
        args = [sys.executable, "-I", "-S"]
        path_setup = f"sys.path[:0] = [{str(asset_dir)!r}]"
    code = DRIVER.format(
        path_setup=path_setup, mark=RETURN_MARK, modules_mark=MODULES_MARK, probe_stack=PROBE_STACK
    )
    start = time.monotonic()
    proc = subprocess.run(
        [*args, "-c", code, mode, str(remaining_ms)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(asset_dir or REPO),
        timeout=timeout,
        check=False,
    )
    wall = time.monotonic() - start
    run = Run(returned=None, stdout=proc.stdout, stderr=proc.stderr, wall_s=wall)
    for line in proc.stdout.splitlines():
        if line.startswith(RETURN_MARK):
            run.returned = json.loads(line[len(RETURN_MARK) :])
            continue
        if line.startswith(MODULES_MARK):
            modules = json.loads(line[len(MODULES_MARK) :])
            run.modules_at_import, run.modules_after = modules["at_import"], modules["after"]
            continue
        doc = json.loads(line)  # every other stdout line must be one JSON document
        (run.emf if "_aws" in doc else run.logs).append(doc)
    assert proc.returncode == 0, f"handler subprocess failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return run


EMF_UNITS = {
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
}


def assert_emf_spec(doc: dict[str, Any]) -> None:
    """The CloudWatch Embedded Metric Format specification (root node, metric directive, members)."""
    aws = doc["_aws"]
    assert isinstance(aws, dict)
    timestamp = aws["Timestamp"]
    assert isinstance(timestamp, int) and not isinstance(timestamp, bool)
    assert abs(timestamp - time.time() * 1000) < 10 * 60 * 1000, "Timestamp must be epoch milliseconds, now"
    directives = aws["CloudWatchMetrics"]
    assert isinstance(directives, list) and directives
    for directive in directives:
        assert set(directive) <= {"Namespace", "Dimensions", "Metrics"}
        namespace = directive["Namespace"]
        assert isinstance(namespace, str) and 1 <= len(namespace) <= 255
        dimension_sets = directive["Dimensions"]
        assert isinstance(dimension_sets, list)
        for dimension_set in dimension_sets:
            assert isinstance(dimension_set, list) and len(dimension_set) <= 30
            for name in dimension_set:
                assert isinstance(doc.get(name), str) and doc[name], f"dimension {name} needs a string member"
        metrics = directive["Metrics"]
        assert isinstance(metrics, list) and 1 <= len(metrics) <= 100
        for metric in metrics:
            assert set(metric) <= {"Name", "Unit", "StorageResolution"}
            name = metric["Name"]
            assert isinstance(name, str) and 1 <= len(name) <= 255
            assert metric.get("Unit", "None") in EMF_UNITS
            value = doc.get(name)
            values = value if isinstance(value, list) else [value]
            assert values and len(values) <= 100, f"metric {name} needs a value member"
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in values), name


def assert_design_emf(doc: dict[str, Any], *, namespace: str = "StreamPath") -> dict[str, float]:
    """EMF spec + the metrics contract (docs/contracts/metrics.md); returns ``{metric: value}``."""
    assert_emf_spec(doc)
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == namespace
    assert directive["Dimensions"] == [DESIGN_DIMENSIONS], "exactly Path + Protocol (no powertools 'service')"
    assert doc["Protocol"] in PROTOCOLS
    values: dict[str, float] = {}
    for metric in directive["Metrics"]:
        name = metric["Name"]
        assert name in DESIGN_METRICS, f"{name} is not a contract metric (docs/contracts/metrics.md)"
        assert metric["Unit"] == DESIGN_METRICS[name], f"{name}: unit {metric['Unit']}"
        value = doc[name]
        values[name] = float(value[0] if isinstance(value, list) else value)
    assert "Success" in values and values["Success"] in (0.0, 1.0)
    return values


def config(*paths: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A handler config (CANARY_CONFIG) with short bounds for loopback servers, ``top`` keys over them."""
    doc: dict[str, Any] = {
        "namespace": "StreamPath",
        "probe_timeout_s": 5,
        "max_duration_s": 20,
        "deadline_s": 40,
    }
    doc.update(top)
    doc["paths"] = list(paths)
    return doc
