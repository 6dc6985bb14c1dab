"""A fake StreamPath deployment in moto's server mode, for the ops CLI's tests and its README transcript.

Everything goes through the real AWS APIs over HTTP (boto3 -> moto on 127.0.0.1):
- the stacks are created with CloudFormation ``CreateStack`` from small templates whose outputs carry the
  ``streampath.naming`` keys (moto builds the VPC, security group, NLB, target group, IAM role, Lambda
  function, SNS topic and S3 bucket they reference; CloudFront is not modelled by moto, so that stack's
  distribution outputs are fixed example values next to a real S3 log bucket);
- the canary's metrics are put with ``PutMetricData``, its alarms with ``PutMetricAlarm`` / ``SetAlarmState``;
- Lambda runs without Docker: moto's "simple" Lambda backend (switched on through ``/moto-api/config``)
  returns, for each Invoke, the next payload queued at ``/moto-api/static/lambda-simple/response``.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import yaml
from moto.server import ThreadedMotoServer

from streampath import naming
from streampath.naming import Unit, stack_name

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
# Distinctive fake credentials, so the tests can assert they never appear in the CLI's output.
ACCESS_KEY_ID = "FAKEOPSTESTKEYID0001"  # not AKIA-shaped: secret scanners stay quiet
SECRET_ACCESS_KEY = "fake-secret-do-not-print-7f3a9c"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Moto:
    endpoint: str

    def env(self) -> dict[str, str]:
        """Environment for a CLI subprocess (or ``monkeypatch``): fake credentials, moto's endpoint,
        and nothing that could reach a real credential source (files, SSO, instance metadata)."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service: str, region: str = REGION) -> Any:
        session = boto3.session.Session()
        return session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def post(self, path: str, document: Mapping[str, Any]) -> bytes:
        request = urllib.request.Request(
            self.endpoint + path,
            data=json.dumps(document).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            data: bytes = response.read()
            return data

    def queue_lambda_results(self, *payloads: str, region: str = REGION) -> None:
        """The next Invoke calls (in this region) return these payloads, in order (moto's simple backend)."""
        self.post(
            "/moto-api/static/lambda-simple/response",
            {"results": list(payloads), "region": region, "account_id": ACCOUNT},
        )


@contextmanager
def moto_server() -> Iterator[Moto]:
    """A ThreadedMotoServer on 127.0.0.1 with Lambda in its Docker-free mode.

    moto's backends and its config are process-wide: on the way out this resets both, so the next test
    module (or another ThreadedMotoServer) starts clean.
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto = Moto(endpoint=f"http://{host}:{port}")
    try:
        moto.post("/moto-api/config", {"lambda": {"use_docker": False}})
        yield moto
    finally:
        try:
            moto.post("/moto-api/config", {"lambda": {"use_docker": True}})
            moto.post("/moto-api/reset", {})
        finally:
            server.stop()


# --- configs -----------------------------------------------------------------------------------------------


def write_config(directory: Path, env: str, **overrides: Any) -> Path:
    """``<directory>/<env>.yaml``: the repo's offline example config under another name (and overrides)."""
    data = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
    data["name"] = env
    data["region"] = REGION
    data["account"] = ACCOUNT
    data.get("tags", {}).update({"Environment": env})
    data.update(overrides)
    path = directory / f"{env}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def canary_pairs(config_path: Path, region: str | None = None) -> list[tuple[str, str]]:
    """The (path, protocol) pairs the config's canary probes (in ``region``: default the home Region), as
    the validated config gives them (protocols a path leaves out are the config's defaults)."""
    from streampath.config import load_config

    cfg = load_config(config_path)
    canary = cfg.enabled_canary
    assert canary is not None
    probed = cfg.canary_path_regions()
    region = region or cfg.region
    return [(p.name, proto) for p in canary.paths if region in probed[p.name] for proto in p.protocols]


# --- stacks ------------------------------------------------------------------------------------------------


def nlb_template(omit_outputs: tuple[str, ...] = (), region: str = REGION) -> dict[str, Any]:
    outputs = {
        naming.OUTPUT_NLB_DNS_NAME: {"Value": {"Fn::GetAtt": ["Nlb", "DNSName"]}},
        naming.OUTPUT_NLB_ARN: {"Value": {"Ref": "Nlb"}},
        naming.OUTPUT_TARGET_GROUP_ARN: {"Value": {"Ref": "TargetGroup"}},
        naming.OUTPUT_NLB_SECURITY_GROUP_ID: {"Value": {"Fn::GetAtt": ["NlbSecurityGroup", "GroupId"]}},
    }
    return {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "SubnetA": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {
                    "VpcId": {"Ref": "Vpc"},
                    "CidrBlock": "10.0.0.0/24",
                    "AvailabilityZone": f"{region}a",
                },
            },
            "SubnetB": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {
                    "VpcId": {"Ref": "Vpc"},
                    "CidrBlock": "10.0.1.0/24",
                    "AvailabilityZone": f"{region}b",
                },
            },
            "NlbSecurityGroup": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "streaming NLB", "VpcId": {"Ref": "Vpc"}},
            },
            "Nlb": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {
                    "Type": "network",
                    "Scheme": "internet-facing",
                    "Subnets": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}],
                    "SecurityGroups": [{"Ref": "NlbSecurityGroup"}],
                },
            },
            "TargetGroup": {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {"TargetType": "ip", "Protocol": "TCP", "Port": 8080, "VpcId": {"Ref": "Vpc"}},
            },
        },
        "Outputs": {k: v for k, v in outputs.items() if k not in omit_outputs},
    }


def cloudfront_template(env: str) -> dict[str, Any]:
    return {
        "Resources": {"LogBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {
            naming.OUTPUT_DISTRIBUTION_DOMAIN_NAME: {"Value": "d111111abcdef8.cloudfront.net"},
            naming.OUTPUT_DISTRIBUTION_ID: {"Value": "E2EXAMPLE0STREAM"},
        },
    }


def canary_template(
    env: str, omit_outputs: tuple[str, ...] = (), region: str = REGION, home_region: str | None = None
) -> dict[str, Any]:
    # The DashboardUrl as stacks/canary_stack.py writes it: the one dashboard, in the home Region.
    home = home_region or region
    outputs = {
        naming.OUTPUT_CANARY_FUNCTION_NAME: {"Value": {"Ref": "CanaryFunction"}},
        naming.OUTPUT_DASHBOARD_URL: {
            "Value": f"https://console.aws.amazon.com/cloudwatch/home?region={home}"
            f"#dashboards:name={naming.canary_dashboard_name(env)}"
        },
        naming.OUTPUT_ALARM_TOPIC_ARN: {"Value": {"Ref": "AlarmTopic"}},
        naming.OUTPUT_METRIC_NAMESPACE: {"Value": "StreamPath"},
    }
    return {
        "Resources": {
            "CanaryRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "CanaryFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "handler.handler",
                    "Role": {"Fn::GetAtt": ["CanaryRole", "Arn"]},
                    "Timeout": 60,
                    "Code": {"ZipFile": "def handler(event, context):\n    return {}\n"},
                },
            },
            "AlarmTopic": {"Type": "AWS::SNS::Topic"},
        },
        "Outputs": {k: v for k, v in outputs.items() if k not in omit_outputs},
    }


def create_stack(moto: Moto, name: str, template: dict[str, Any], region: str = REGION) -> dict[str, str]:
    cfn = moto.client("cloudformation", region)
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack["StackStatus"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deploy(
    moto: Moto,
    env: str,
    units: tuple[Unit, ...] = ("Nlb", "CloudFront", "Canary"),
    region: str = REGION,
) -> dict[Unit, dict[str, str]]:
    """``cdk deploy`` stand-in: the env's stacks, each with the outputs the CLI reads. Returns them."""
    templates: dict[Unit, dict[str, Any]] = {
        "Nlb": nlb_template(region=region),
        "CloudFront": cloudfront_template(env),
        "Canary": canary_template(env, region=region),
    }
    return {unit: create_stack(moto, stack_name(env, unit), templates[unit], region) for unit in units}


# --- metrics and alarms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One canary datapoint set for a path x protocol (what the handler's EMF would produce)."""

    path: str
    protocol: str
    ttfb: float
    first_event: float
    buffering_delay: float
    success: bool = True
    buffered: bool = False
    partial: bool = False


def put_probe(
    moto: Moto, probe: Probe, at: datetime, namespace: str = "StreamPath", region: str = REGION
) -> None:
    dims = [{"Name": "Path", "Value": probe.path}, {"Name": "Protocol", "Value": probe.protocol}]
    data = [
        ("TimeToFirstByte", probe.ttfb, "Milliseconds"),
        ("TimeToFirstEvent", probe.first_event, "Milliseconds"),
        ("BufferingDelay", probe.buffering_delay, "Milliseconds"),
        ("Success", 1.0 if probe.success else 0.0, "Count"),
        ("Buffered", 1.0 if probe.buffered else 0.0, "Count"),
        ("Partial", 1.0 if probe.partial else 0.0, "Count"),
    ]
    moto.client("cloudwatch", region).put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": name, "Dimensions": dims, "Value": value, "Unit": unit, "Timestamp": at}
            for name, value, unit in data
        ],
    )


# The story of the fake deployment: the existing ALB buffers over HTTP/2, everything else streams.
STAGING_PROBES = (
    Probe("alb", "h1", ttfb=41.0, first_event=42.5, buffering_delay=3.2),
    Probe("alb", "h2", ttfb=44.0, first_event=1968.0, buffering_delay=1921.4, buffered=True),
    Probe("nlb", "h1", ttfb=23.5, first_event=24.1, buffering_delay=2.1),
    Probe("nlb", "h2", ttfb=23.9, first_event=24.8, buffering_delay=2.4),
    Probe("cloudfront", "h1", ttfb=38.2, first_event=39.0, buffering_delay=4.8),
    Probe("cloudfront", "h2", ttfb=36.7, first_event=37.9, buffering_delay=5.1),
    Probe("direct", "h1", ttfb=5.1, first_event=5.6, buffering_delay=0.9),
)


def probes_for(pairs: list[tuple[str, str]] | None = None) -> list[Probe]:
    """STAGING_PROBES for these path x protocol pairs (a streaming probe for a pair it lacks)."""
    known = {(p.path, p.protocol): p for p in STAGING_PROBES}
    if pairs is None:
        return list(STAGING_PROBES)
    return [known.get(pair, Probe(*pair, ttfb=30.0, first_event=31.0, buffering_delay=2.5)) for pair in pairs]


def put_staging_metrics(
    moto: Moto, now: datetime | None = None, pairs: list[tuple[str, str]] | None = None, region: str = REGION
) -> datetime:
    """Two canary runs: 5 minutes ago (all failing, to prove the newest value wins) and 2 minutes ago."""
    now = now or datetime.now(UTC)
    old, recent = now - timedelta(minutes=5), now - timedelta(minutes=2)
    for probe in probes_for(pairs):
        stale = Probe(probe.path, probe.protocol, 9999.0, 9999.0, 9999.0, success=False, buffered=True)
        put_probe(moto, stale, old, region=region)
        put_probe(moto, probe, recent, region=region)
    return recent


def alarm_name(env: str, suffix: str) -> str:
    """``StreamPath-<env>-canary-<suffix>``, as stacks/canary_stack.py names the canary's alarms."""
    return f"{naming.STACK_PREFIX}-{env}-canary-{suffix}"


def put_alarms(moto: Moto, env: str, topic_arn: str | None = None, region: str = REGION) -> list[str]:
    cloudwatch = moto.client("cloudwatch", region)
    created = []
    for path, protocol, metric, threshold, state, reason in (
        ("alb", "h2", "BufferingDelay", 1000.0, "ALARM", "Threshold Crossed: 3 out of the last 5 datapoints"),
        ("nlb", "h1", "BufferingDelay", 1000.0, "OK", "Threshold Crossed: no datapoints were breaching"),
        (
            "cloudfront",
            "h2",
            "TimeToFirstEvent",
            5000.0,
            "OK",
            "Threshold Crossed: no datapoints were breaching",
        ),
    ):
        name = alarm_name(env, f"{path}-{protocol}-{metric}")
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="StreamPath",
            MetricName=metric,
            Dimensions=[{"Name": "Path", "Value": path}, {"Name": "Protocol", "Value": protocol}],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=5,
            DatapointsToAlarm=3,
            Threshold=threshold,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="breaching",
            AlarmActions=[topic_arn] if topic_arn else [],
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)
        created.append(name)
    # The function's own alarm, in OK.
    name = alarm_name(env, "FunctionErrors")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=5,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="Threshold Crossed: no errors")
    created.append(name)
    # Alarms of other environments (one whose name starts like this one's), which status must not show.
    for other in ("other", f"{env}2"):
        cloudwatch.put_metric_alarm(
            AlarmName=alarm_name(other, "nlb-h1-BufferingDelay"),
            Namespace="StreamPath",
            MetricName="BufferingDelay",
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    return created


# --- what the canary Lambda returns (lambda/canary/handler.py's shape) ---------------------------------


def handler_payload(pairs: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The handler's return value for one run over config/default.yaml's paths: ``{"probes", "failed",
    "duration_ms", "results": [{"path", "protocol", "ok", "verdict", "error_kind", "status", "timings_ms",
    "events", "buffering_delay_ms"}]}``."""
    results = [
        {
            "path": p.path,
            "protocol": p.protocol,
            "ok": p.success,
            "verdict": "buffered" if p.buffered else "streaming",
            "error_kind": None,
            "status": 200,
            "timings_ms": {"ttfb": p.ttfb, "first_event": p.first_event},
            "events": 21,
            "buffering_delay_ms": p.buffering_delay,
        }
        for p in probes_for(pairs)
    ]
    return {"probes": len(results), "failed": 0, "duration_ms": 2290.4, "results": results}
