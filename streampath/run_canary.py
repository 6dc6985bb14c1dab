"""``streampath run-canary``: invoke the canary Lambda once and show what each probe saw.

A canary in several Regions is invoked in each of them at once (one thread per Region: a run takes up to
the function's timeout) or in the one ``--region`` picks. One Region's report is :func:`render_text` /
:func:`render_json`; several Regions' are :func:`render_regions_text` / :func:`render_regions_json`, with a
REGION column. Every refusal names the Region.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from streampath_canary import chain
from streamprobe.redact import mask_userinfo

from streampath import naming
from streampath.aws import Aws, aws_errors
from streampath.errors import EXIT_OK, EXIT_PROBLEM, EXIT_REFUSED, Refusal
from streampath.outputs import describe_stack
from streampath.render import table, to_json

# What the function gets: the handler treats any event like its schedule's (it probes every configured path).
INVOKE_EVENT = {"source": "streampath.run-canary", "detail-type": "Manual canary run"}


@dataclass
class CanaryRun:
    function: str
    region: str
    payload: dict[str, Any]

    @property
    def results(self) -> list[dict[str, Any]]:
        return list(self.payload.get("results", []))

    def exit_code(self) -> int:
        healthy = all(r.get("ok") and r.get("verdict") == "streaming" for r in self.results)
        return EXIT_OK if self.results and healthy else EXIT_PROBLEM


@dataclass
class RegionOutcome:
    """One Region's run, or why there is none."""

    region: str
    run: CanaryRun | None = None
    refusal: Refusal | None = None


def invoke(aws: Aws, env_name: str, home_region: str | None = None) -> CanaryRun:
    """Invoke the canary of ``aws``'s Region (``home_region``: the environment's, default the same)."""
    function, payload, where, text = invoke_function(aws, env_name, home_region, INVOKE_EVENT)
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise Refusal(
            f"canary function {where} returned no results list "
            f'(expected {{"results": [...]}}): {text[:200]!r}'
        )
    return CanaryRun(function=function, region=aws.region, payload=payload)


def canary_function(aws: Aws, env_name: str, home_region: str | None) -> tuple[str, str]:
    """The canary function of ``aws``'s Region (its stack's output) and where it is, for messages."""
    region = aws.region
    name = naming.canary_stack_name(env_name, region, home_region or region)
    stack = describe_stack(aws.cloudformation(), region, env_name, "Canary", name=name)
    function = stack.output(naming.OUTPUT_CANARY_FUNCTION_NAME)
    return function, f"{function} in {region}"


def invoke_function(
    aws: Aws, env_name: str, home_region: str | None, event: dict[str, Any]
) -> tuple[str, Any, str, str]:
    """Invoke the canary function of ``aws``'s Region with ``event``: (function name, the JSON it returned,
    where it ran, the raw text). A Refusal when it failed or returned no JSON."""
    function, where = canary_function(aws, env_name, home_region)
    with aws_errors(f"Lambda Invoke {where}"):
        response = aws.lambda_().invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        raw = response["Payload"].read()
    text = raw.decode("utf-8", errors="replace")
    if response.get("FunctionError"):
        raise Refusal(f"canary function {where} failed ({response['FunctionError']}): {_error_summary(text)}")
    try:
        return function, json.loads(text), where, text
    except ValueError:
        raise Refusal(
            f"canary function {where} returned a payload that is not JSON: {text[:200]!r}"
        ) from None


def invoke_regions(aws: Aws, env_name: str, home_region: str, regions: Sequence[str]) -> list[RegionOutcome]:
    """Invoke every Region's canary at once; the outcomes in ``regions``' order."""

    def one(region: str) -> RegionOutcome:
        try:
            regional = aws if region == aws.region else aws.in_region(region)
            return RegionOutcome(region=region, run=invoke(regional, env_name, home_region))
        except Refusal as refusal:
            return RegionOutcome(region=region, refusal=refusal)

    with ThreadPoolExecutor(max_workers=max(1, len(regions))) as pool:
        return list(pool.map(one, regions))


def regions_exit_code(outcomes: Sequence[RegionOutcome]) -> int:
    """Refused (2) when a Region could not run, else a problem (1) when a Region's run found one."""
    if any(o.refusal is not None for o in outcomes):
        return EXIT_REFUSED
    return max((o.run.exit_code() for o in outcomes if o.run is not None), default=EXIT_PROBLEM)


def _error_summary(text: str) -> str:
    """``errorType: errorMessage`` from Lambda's error payload (the stack trace stays in the logs)."""
    try:
        error = json.loads(text)
    except ValueError:
        return text[:300]
    if not isinstance(error, dict):
        return text[:300]
    kind, message = error.get("errorType"), error.get("errorMessage")
    summary = ": ".join(str(part) for part in (kind, message) if part) or text[:300]
    return " ".join(summary.split())[:500]


# (header, how to read it from one result). The handler's summary carries path/protocol/ok/verdict/
# error_kind; a full probe result (docs/contracts/result.md) also has status, timings and events.
# Empty columns are dropped.
_COLUMNS: list[tuple[str, Any]] = [
    ("VERDICT", lambda r: r.get("verdict") or ("ok" if r.get("ok") else "failed")),
    ("PATH", lambda r: r.get("path_name") or r.get("path")),
    ("PROTOCOL", lambda r: r.get("protocol")),
    ("OK", lambda r: None if r.get("ok") is None else ("yes" if r.get("ok") else "NO")),
    ("STATUS", lambda r: r.get("status")),
    ("TTFB_MS", lambda r: (r.get("timings_ms") or {}).get("ttfb")),
    ("FIRST_EVENT_MS", lambda r: (r.get("timings_ms") or {}).get("first_event")),
    ("BUFFERING_MS", lambda r: r.get("buffering_delay_ms")),
    ("EVENTS", lambda r: r.get("events")),
    ("ERROR", lambda r: _error_cell(r)),
]


def _error_cell(result: dict[str, Any]) -> str | None:
    error = result.get("error")
    if isinstance(error, dict) and error:
        return " ".join(f"{error.get('kind')}: {error.get('message')}".split())[:120]
    kind = result.get("error_kind")
    return str(kind) if kind else None


def render_text(run: CanaryRun) -> str:
    results = run.results  # in the handler's order (the config's path order)
    head = f"Canary {run.function} ({run.region}): {len(results)} probe(s)"
    extra = {k: run.payload[k] for k in ("failed", "duration_ms") if k in run.payload}
    if extra:
        head += ", " + ", ".join(f"{k} {v}" for k, v in extra.items())
    if not results:
        return head + "\n  the function returned no probe results\n"
    grid = [[read(r) for _, read in _COLUMNS] for r in results]
    keep = [i for i in range(len(_COLUMNS)) if i < 3 or any(row[i] is not None for row in grid)]
    body = table([_COLUMNS[i][0] for i in keep], [[row[i] for i in keep] for row in grid])
    urls = sorted({_display_url(str(r["url"])) for r in results if r.get("url")})
    lines = [head, body, *(["  urls: " + ", ".join(urls)] if urls else []), *chain_lines(run)]
    return "\n".join(lines) + "\n"


def chain_lines(run: CanaryRun, region: bool = False) -> list[str]:
    """The run's ``canary.chain`` answers, one line per protocol: ``chain: buffering starts at alb (h1,
    after nlb): +1894 ms`` (rebuilt from the fields the handler returns, so the line is ours)."""
    answers = run.payload.get("chain")
    if not isinstance(answers, list):
        return []
    where = f" ({run.region})" if region else ""
    read = [chain.ChainAnswer.from_dict(a) for a in answers]
    return [f"  chain{where}: {a.sentence()}" for a in read if a is not None]


def render_regions_text(outcomes: Sequence[RegionOutcome]) -> str:
    """Several Regions' runs: one head line per Region, then one table with a REGION column."""
    runs = [o.run for o in outcomes if o.run is not None]
    heads = []
    for run in runs:
        head = f"Canary {run.function} ({run.region}): {len(run.results)} probe(s)"
        extra = {k: run.payload[k] for k in ("failed", "duration_ms") if k in run.payload}
        heads.append(head + ("".join(f", {k} {v}" for k, v in extra.items())))
    heads += [f"Canary in {o.region}: not run (see the error below)" for o in outcomes if o.refusal]
    columns = [*_COLUMNS[:3], ("REGION", None), *_COLUMNS[3:]]
    grid = [
        [run.region if read is None else read(r) for _, read in columns] for run in runs for r in run.results
    ]
    if not grid:
        return "\n".join([*heads, "  no probe results"]) + "\n"
    keep = [i for i in range(len(columns)) if i < 4 or any(row[i] is not None for row in grid)]
    body = table([columns[i][0] for i in keep], [[row[i] for i in keep] for row in grid])
    urls = sorted({_display_url(str(r["url"])) for run in runs for r in run.results if r.get("url")})
    chains = [line for run in runs for line in chain_lines(run, region=True)]
    return "\n".join([*heads, body, *(["  urls: " + ", ".join(urls)] if urls else []), *chains]) + "\n"


def render_regions_json(outcomes: Sequence[RegionOutcome]) -> str:
    """``{"runs": [<one Region's render_json document>, ...], "refused": [{"region", "error"}]}``."""
    runs = [json.loads(render_json(o.run)) for o in outcomes if o.run is not None]
    refused = [{"region": o.region, "error": str(o.refusal)} for o in outcomes if o.refusal is not None]
    return to_json({"runs": runs, "refused": refused}) + "\n"


def render_json(run: CanaryRun) -> str:
    payload = dict(run.payload)
    payload["results"] = [
        {**r, "url": mask_userinfo(str(r["url"]))} if r.get("url") else r for r in run.results
    ]
    return to_json({"function": run.function, "region": run.region, **payload}) + "\n"


def _display_url(url: str) -> str:
    """Scheme, host and path only: credentials or tokens in userinfo/query never reach the terminal."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
