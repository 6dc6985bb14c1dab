"""``streampath status``: deployed front doors, the canary's latest metrics, the alarms' states.

A canary in several Regions (``canary.regions``) is read in each of them (or in the one ``--region`` picks):
its stack, its metrics (each Region's canary publishes in its own Region) and its alarms. Every row has a
Region and every problem line names its Region.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from streampath_canary import chain
from streampath_canary.contract import (
    BUFFERED,
    BUFFERING_DELAY,
    DEFAULT_NAMESPACE,
    DIMENSION_PATH,
    DIMENSION_PROTOCOL,
    PARTIAL,
    PROTOCOLS,
    SUCCESS,
    TIME_TO_FIRST_BYTE,
    TIME_TO_FIRST_EVENT,
)

from streampath import naming, slo_status
from streampath.aws import Aws, aws_errors
from streampath.config import AppConfig
from streampath.errors import EXIT_OK, EXIT_PROBLEM, Refusal
from streampath.naming import Unit, canary_stack_name, stack_name
from streampath.outputs import DeployedStack, StackNotDeployed, describe_stack
from streampath.render import iso, table, to_json

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

# The canary's metrics read here (names from the contract) -> statistic over one period: a failure or a
# buffered stream anywhere in the minute shows.
METRICS: dict[str, str] = {
    SUCCESS: "Minimum",
    BUFFERED: "Maximum",
    PARTIAL: "Maximum",
    TIME_TO_FIRST_BYTE: "Average",
    TIME_TO_FIRST_EVENT: "Average",
    BUFFERING_DELAY: "Average",
}
PERIOD_S = 60
MAX_QUERIES = 500  # GetMetricData's limit per call
_ENDPOINT_OUTPUTS: dict[Unit, str] = {
    "Nlb": naming.OUTPUT_NLB_DNS_NAME,
    "CloudFront": naming.OUTPUT_DISTRIBUTION_DOMAIN_NAME,
    "ApiGateway": naming.OUTPUT_API_URL,
    "Canary": naming.OUTPUT_DASHBOARD_URL,
}


@dataclass
class FrontDoor:
    unit: str  # "Nlb", "CloudFront", "ApiGateway", "Canary" (home Region), "Canary-<region>"
    stack: str
    state: str  # the stack status, or "not deployed"
    endpoint: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    region: str = ""


@dataclass
class Datapoint:
    value: float
    timestamp: datetime


@dataclass
class PathResult:
    path: str
    protocol: str
    metrics: dict[str, Datapoint] = field(default_factory=dict)
    region: str = ""

    @property
    def last_seen(self) -> datetime | None:
        return max((d.timestamp for d in self.metrics.values()), default=None)


@dataclass
class AlarmState:
    name: str
    state: str
    since: datetime | None
    reason: str
    region: str = ""


@dataclass
class Status:
    env: str
    region: str
    account: str
    namespace: str
    minutes: int
    stacks: list[FrontDoor]
    results: list[PathResult]
    alarms: list[AlarmState]
    problems: list[str]
    #: The canary's Regions this report covers (the home Region first).
    regions: list[str] = field(default_factory=list)
    #: ``canary.chain`` judged on the newest metrics: per Region and protocol, where buffering starts.
    chain: list[dict[str, Any]] = field(default_factory=list)
    #: With ``canary.slo``: per path and Region, the error budget left and the current burn rates.
    slo: list[slo_status.SloReading] = field(default_factory=list)

    def exit_code(self) -> int:
        return EXIT_PROBLEM if self.problems else EXIT_OK


def collect(
    cfg: AppConfig,
    aws: Aws,
    account: str,
    minutes: int,
    now: datetime | None = None,
    regions: list[str] | None = None,
) -> Status:
    """The report over ``regions`` (default: every Region of the canary); ``aws`` is the home Region's."""
    if not 1 <= minutes <= 60 * 24 * 14:
        raise Refusal(f"--minutes: must be 1..20160 (14 days), got {minutes}")
    canary = cfg.enabled_canary
    if canary is None:
        raise Refusal(f"config {cfg.name} has no canary (absent or disabled): nothing to report")
    regions = list(regions or cfg.canary_regions)
    probed = cfg.canary_path_regions()
    # Whole minutes (CloudWatch aligns periods to the clock; the current minute is included).
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    report = Status(
        env=cfg.name,
        region=cfg.region,
        account=account,
        namespace=canary.namespace or DEFAULT_NAMESPACE,
        minutes=minutes,
        stacks=[],
        results=[],
        alarms=[],
        problems=[],
        regions=regions,
    )
    namespaces: list[str] = []
    for region in regions:
        regional = aws if region == aws.region else aws.in_region(region)
        canary_stack = _read_stacks(cfg, regional, report)
        namespace = (
            (canary_stack.outputs.get(naming.OUTPUT_METRIC_NAMESPACE) if canary_stack else None)
            or canary.namespace
            or DEFAULT_NAMESPACE
        )
        namespaces.append(namespace)
        pairs: list[tuple[str, str]] = [
            (p.name, proto) for p in canary.paths if region in probed[p.name] for proto in p.protocols
        ]
        results = read_metrics(regional, namespace, pairs, end - timedelta(minutes=minutes), end)
        report.results += results
        report.problems += _metric_problems(results, pairs, namespace, region, minutes)
        chained = canary.chain_in([p.name for p in canary.paths if region in probed[p.name]])
        report.chain += [{"region": region, **a.to_dict()} for a in chain_answers(chained, results)]
        if canary.slo is not None:
            targets = [
                slo_status.SloTarget(p.name, tuple(p.protocols), canary.slo.for_path(p.slo).objective)
                for p in canary.paths
                if region in probed[p.name]
            ]
            readings = slo_status.read_slo(regional, namespace, targets, canary.slo.window_days, end)
            report.slo += readings
            report.problems += slo_status.problems(readings)
        alarms = read_alarms(regional, alarm_prefix(cfg.name))
        report.alarms += alarms
        report.problems += [
            f"alarm {a.name} in {a.region} is in ALARM: {a.reason}" for a in alarms if a.state == "ALARM"
        ]
    report.namespace = namespaces[0] if namespaces else report.namespace
    order = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}
    report.alarms.sort(key=lambda a: (order.get(a.state, 3), a.name))
    return report


def _read_stacks(cfg: AppConfig, aws: Aws, report: Status) -> DeployedStack | None:
    """This Region's stacks (the front doors live in the home Region) into ``report``; the canary's."""
    region = aws.region
    home = region == cfg.region
    units: list[tuple[Unit, Any]] = [("Canary", cfg.enabled_canary)]
    if home:
        api = cfg.apigateway if cfg.apigateway is not None and cfg.apigateway.enabled else None
        units = [
            ("Nlb", cfg.enabled_nlb),
            ("CloudFront", cfg.enabled_cloudfront),
            ("ApiGateway", api),
            *units,
        ]
    cfn = aws.cloudformation()
    canary_stack: DeployedStack | None = None
    for unit, section in units:
        if section is None:
            continue
        name = canary_stack_name(cfg.name, region, cfg.region) if unit == "Canary" else None
        shown_unit = unit if home or unit != "Canary" else f"Canary-{region}"
        try:
            deployed = describe_stack(cfn, region, cfg.name, unit, name=name)
        except StackNotDeployed as exc:
            report.problems.append(str(exc))
            report.stacks.append(
                FrontDoor(
                    unit=shown_unit,
                    stack=name or stack_name(cfg.name, unit),
                    state="not deployed",
                    region=region,
                )
            )
            continue
        if unit == "Canary":
            canary_stack = deployed
        endpoint = deployed.outputs.get(_ENDPOINT_OUTPUTS[unit])
        if endpoint is None:
            report.problems.append(
                f"stack {deployed.name} in {region} has no output {_ENDPOINT_OUTPUTS[unit]}"
            )
        report.stacks.append(
            FrontDoor(
                unit=shown_unit,
                stack=deployed.name,
                state=deployed.status,
                endpoint=endpoint,
                outputs=dict(deployed.outputs),
                region=region,
            )
        )
    return canary_stack


def _metric_problems(
    results: list[PathResult], pairs: list[tuple[str, str]], namespace: str, region: str, minutes: int
) -> list[str]:
    problems = []
    for path in dict.fromkeys(p for p, _ in pairs):
        if not any(r.metrics for r in results if r.path == path):
            problems.append(
                f"no data yet for path {path} (namespace {namespace}, {region}, last {minutes} min): "
                "the canary has not run or publishes elsewhere"
            )
    for r in results:
        if not r.metrics:
            continue
        verdict = minute_verdict(r.metrics)
        if verdict == "error":
            problems.append(f"path {r.path} {r.protocol} in {region}: the last probe failed (Success=0)")
        elif verdict == "buffered":
            problems.append(
                f"path {r.path} {r.protocol} in {region}: the last probe saw a buffered stream (Buffered=1)"
            )
        elif verdict == "partial":
            problems.append(
                f"path {r.path} {r.protocol} in {region}: the last probe saw a partly buffered stream "
                "(Partial=1)"
            )
    return problems


def minute_verdict(metrics: dict[str, Datapoint]) -> str | None:
    """The probe's verdict as one minute's metrics carry it: ``error`` (a probe failed: ``Success`` 0),
    ``buffered`` or ``partial`` (a probe of the minute was judged so: the Maximum of ``Buffered`` resp.
    ``Partial``; buffered wins), else ``streaming``; None with no data. The same verdict the run summary
    prints, so a hop that holds part of the stream is ``partial`` here too."""
    if not metrics:
        return None
    success, buffered, partial = (metrics.get(m) for m in (SUCCESS, BUFFERED, PARTIAL))
    if success is not None and success.value < 1:
        return "error"
    if buffered is not None and buffered.value >= 0.5:
        return "buffered"
    if partial is not None and partial.value >= 0.5:
        return "partial"
    return "streaming"


def chain_answers(order: tuple[str, ...], results: list[PathResult]) -> list[chain.ChainAnswer]:
    """The chain judged on the newest minute of each path by :func:`minute_verdict` (failed, buffered,
    partial or streamed), with its BufferingDelay; a path with no data yet stops the judgement."""
    by_pair = {(r.path, r.protocol): r for r in results}

    def reading(name: str, protocol: str) -> chain.HopReading | None:
        r = by_pair.get((name, protocol))
        if r is None:
            return None  # not probed over this protocol
        verdict = minute_verdict(r.metrics)
        if verdict is None:
            return chain.HopReading(name, chain.NO_DATA)
        delay = r.metrics.get(BUFFERING_DELAY)
        return chain.HopReading(name, verdict, None if delay is None else delay.value)

    return chain.answers(order, PROTOCOLS, reading) if order else []


def metric_queries(namespace: str, pairs: list[tuple[str, str]]) -> list[MetricDataQueryTypeDef]:
    queries: list[MetricDataQueryTypeDef] = []
    for i, (path, protocol) in enumerate(pairs):
        for j, (metric, stat) in enumerate(METRICS.items()):
            queries.append(
                {
                    "Id": f"q{i}_{j}",
                    "Label": f"{path}/{protocol}/{metric}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": metric,
                            "Dimensions": [
                                {"Name": DIMENSION_PATH, "Value": path},
                                {"Name": DIMENSION_PROTOCOL, "Value": protocol},
                            ],
                        },
                        "Period": PERIOD_S,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    return queries


def read_metrics(
    aws: Aws, namespace: str, pairs: list[tuple[str, str]], start: datetime, end: datetime
) -> list[PathResult]:
    """The newest datapoint of each metric per (path, protocol) in ``aws``'s Region: one GetMetricData call
    per 500 queries (one call for up to 83 path x protocol pairs, 6 metrics each), newest first, following
    NextToken."""
    results = [PathResult(path=p, protocol=proto, region=aws.region) for p, proto in pairs]
    queries = metric_queries(namespace, pairs)
    metric_names = list(METRICS)
    cloudwatch = aws.cloudwatch()
    for first in range(0, len(queries), MAX_QUERIES):
        batch = queries[first : first + MAX_QUERIES]
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": batch,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampDescending",
            }
            if token:
                kwargs["NextToken"] = token
            with aws_errors("CloudWatch GetMetricData"):
                response = cloudwatch.get_metric_data(**kwargs)
            for item in response.get("MetricDataResults", []):
                i, j = (int(n) for n in item["Id"][1:].split("_"))
                pairs_ts = list(zip(item.get("Timestamps", []), item.get("Values", []), strict=False))
                if not pairs_ts:
                    continue
                timestamp, value = max(pairs_ts, key=lambda tv: tv[0])  # newest, whatever the order
                current = results[i].metrics.get(metric_names[j])
                if current is None or timestamp > current.timestamp:
                    results[i].metrics[metric_names[j]] = Datapoint(value=float(value), timestamp=timestamp)
            token = response.get("NextToken")
            if not token:
                break
    return results


def alarm_prefix(env_name: str) -> str:
    """``StreamPath-<env>-``: every alarm of the environment's stacks in a Region (the canary stack names its
    alarms ``StreamPath-<env>-canary[-<region>]-<path>-<protocol>-<Metric>``, ``...-<path>-Degraded``,
    ``...-FunctionErrors``). The trailing dash keeps ``staging2``'s alarms out of ``staging``."""
    return f"{naming.STACK_PREFIX}-{env_name}-"


def read_alarms(aws: Aws, prefix: str) -> list[AlarmState]:
    alarms: list[AlarmState] = []
    paginator = aws.cloudwatch().get_paginator("describe_alarms")
    with aws_errors("CloudWatch DescribeAlarms"):
        for page in paginator.paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                alarms.append(
                    AlarmState(
                        name=alarm.get("AlarmName", "?"),
                        state=alarm.get("StateValue", "?"),
                        since=alarm.get("StateUpdatedTimestamp"),
                        reason=" ".join(str(alarm.get("StateReason", "")).split()),
                        region=aws.region,
                    )
                )
    order = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}
    return sorted(alarms, key=lambda a: (order.get(a.state, 3), a.name))


def render_text(status: Status, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    head = f"StreamPath {status.env}: account {status.account}, {status.region}"
    if status.regions != [status.region]:
        head += f"; canary in {', '.join(status.regions)}"
    out = [head, "", "Stacks"]
    out.append(
        table(
            ["UNIT", "STACK", "STATE", "REGION", "ENDPOINT"],
            [[s.unit, s.stack, s.state, s.region, s.endpoint] for s in status.stacks]
            or [["-", "-", "-", "-", "-"]],
        )
    )
    out += [
        "",
        f"Canary results (namespace {status.namespace}, "
        f"newest 1-minute value in the last {status.minutes} min)",
    ]
    rows = []
    for r in status.results:
        m = r.metrics
        rows.append(
            [
                r.path,
                r.protocol,
                _flag(m.get(SUCCESS), "ok", "FAIL"),
                _VERDICT_CELL.get(minute_verdict(m) or ""),
                _value(m.get(TIME_TO_FIRST_BYTE)),
                _value(m.get(TIME_TO_FIRST_EVENT)),
                _value(m.get(BUFFERING_DELAY)),
                r.region,
                _age(r.last_seen, now) if r.metrics else "no data yet",
            ]
        )
    headers = ["PATH", "PROTO", "SUCCESS", "VERDICT", "TTFB_MS", "FIRST_EVENT_MS", "BUFFERING_MS"]
    out.append(table([*headers, "REGION", "AT"], rows))
    if status.chain:
        several = len(status.regions) > 1
        out += ["", "Chain (canary.chain, from the app outward; the newest minute of each path)"]
        out += [f"  {c['region'] + ': ' if several else ''}{c['summary']}" for c in status.chain]
    out += slo_status.render(status.slo)
    out += ["", f"Alarms ({len(status.alarms)}, prefix {alarm_prefix(status.env)})"]
    if status.alarms:
        out.append(
            table(
                ["STATE", "NAME", "REGION", "SINCE", "REASON"],
                [[a.state, a.name, a.region, a.since, _truncate(a.reason, 80)] for a in status.alarms],
            )
        )
    else:
        out.append("  none found")
    return "\n".join(out) + "\n"


def render_json(status: Status) -> str:
    document = asdict(status)
    document["ok"] = not status.problems
    for result in document["results"]:
        result["metrics"] = {
            k: {"value": v["value"], "timestamp": iso(v["timestamp"])} for k, v in result["metrics"].items()
        }
    return to_json(document) + "\n"


#: How the table shows a minute's verdict: a held stream stands out in capitals, as a failure does.
_VERDICT_CELL: dict[str, str] = {
    "streaming": "streaming",
    "partial": "PARTIAL",
    "buffered": "BUFFERED",
    "error": "error",
}


def _flag(point: Datapoint | None, if_one: str, if_zero: str) -> str | None:
    if point is None:
        return None
    return if_one if point.value >= 0.5 else if_zero


def _value(point: Datapoint | None) -> float | None:
    return None if point is None else point.value


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    minutes = max(0, int((now - moment).total_seconds() // 60))
    return f"{iso(moment)} ({minutes} min ago)"


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
