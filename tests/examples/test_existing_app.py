"""examples/existing-app: an app with its own VPC, service and feature flags adopts the streaming constructs.

It is synthesised the way its user would: the CDK CLI in its folder (its own cdk.json), no AWS credentials
and no lookups, cdk-nag on (``app.py`` registers the AwsSolutions checks, so a finding fails the synth), then
cfn-lint at error level, then the streaming-critical properties of its templates. Twice: from this clone
(the dev venv's editable installs), and as a user installs it: the example copied out of the clone into a
fresh venv that has the streampath-cdk, streampath-canary and streamprobe wheels (built from this clone,
not editable) and the rest of its requirements.txt. The canary's asset holds the same files both ways.
That venv is kept between runs for the same wheels, requirements and pins (tests/support/run_cache.py).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from streampath_cdk.local_bundling import WHEEL_CACHE_ENV_VAR, wheel_dir
from tests.support import run_cache
from tests.support.cdk import CDK_CLI, REPO_ROOT, assert_no_node_banner, cfn_lint_errors, jsii_package_cache
from tests.support.installs import CONSTRAINTS, Venv, clean_env

pytestmark = pytest.mark.slow

EXAMPLE = REPO_ROOT / "examples" / "existing-app"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


#: The example's own modules: everything else it imports must be a dependency of its requirements.txt.
OWN_MODULES = {"orders_service"}
#: Its imports besides streampath_cdk: the CDK itself, and cdk-nag's rule pack that its app registers.
THIRD_PARTY = {"aws_cdk", "constructs", "cdk_nag"}


@dataclass
class Synth:
    out: Path
    result: subprocess.CompletedProcess[str]

    def template(self, stack: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / f"{stack}.template.json").read_text())
        return data

    def canary_asset_files(self) -> set[str]:
        """The files of the canary's code asset (the one asset directory that holds a handler)."""
        (asset,) = [p for p in self.out.glob("asset.*") if (p / "streampath_canary" / "handler.py").is_file()]
        return {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}


def _offline_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in clean_env().items() if not key.startswith(("AWS_", "CDK_"))}
    env.update(
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
            "HOME": str(home),
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            # The wheel cache bootstrap filled: the synth stays offline whatever HOME is.
            WHEEL_CACHE_ENV_VAR: str(wheel_dir()),
            **jsii_package_cache(),
        }
    )
    return env


def _wheels_install(root: Path, distributions: Path, downloads: Path) -> tuple[Path, Path]:
    """The example copied to ``root/app``, and a fresh venv with its requirements.txt installed from
    the wheels in ``distributions`` (and third-party wheels): ``(app folder, python)``."""
    app = root / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("__pycache__", "cdk.out"))
    requirements = ["-r", str(app / "requirements.txt")]

    def build(folder: Path) -> bool:
        venv = Venv.create(folder / "venv")
        venv.install(requirements, wanted=requirements, downloads=downloads, links=[distributions])
        return True

    # Kept between runs for the same wheels, requirements and pins (tests/support/run_cache.py).
    key = run_cache.digest([], [app / "requirements.txt", CONSTRAINTS, *sorted(distributions.glob("*.whl"))])
    python = run_cache.entry("example-app-venv", key, build, lambda folder: Venv(folder / "venv").python)
    return app, python


def _synth(root: Path, app_dir: Path, python: Path) -> Synth:
    assert CDK_CLI.exists(), "the pinned CDK CLI is not installed: run make bootstrap"
    (root / "home").mkdir()
    result = subprocess.run(
        # The app command of its cdk.json, with the interpreter of the venv that has streampath_cdk.
        [
            str(CDK_CLI),
            "synth",
            "--quiet",
            "--no-notices",
            "--app",
            f"{python} app.py",
            "-o",
            str(root / "out"),
        ],
        cwd=app_dir,
        env=_offline_env(root / "home"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Synth(out=root / "out", result=result)


@pytest.fixture(scope="module")
def clone_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """In the example's folder of this clone, with the dev venv's interpreter."""
    return _synth(tmp_path_factory.mktemp("existing-app-clone"), EXAMPLE, Path(sys.executable))


@pytest.fixture(scope="module")
def wheels_synth(tmp_path_factory: pytest.TempPathFactory, distributions: Path, downloads: Path) -> Synth:
    """Outside the clone, in a fresh venv with the wheels installed."""
    root = tmp_path_factory.mktemp("existing-app-wheels")
    app_dir, python = _wheels_install(root, distributions, downloads)
    return _synth(root, app_dir, python)


@pytest.fixture(scope="module", params=["clone", "wheels"])
def synth(request: pytest.FixtureRequest) -> Synth:
    found: Synth = request.getfixturevalue(f"{request.param}_synth")
    return found


def test_synthesises_offline_with_cdk_nag_clean(synth: Synth) -> None:
    assert synth.result.returncode == 0, synth.result.stdout + synth.result.stderr
    assert_no_node_banner(synth.result.stderr)
    manifest = json.loads((synth.out / "manifest.json").read_text())
    assert "missing" not in manifest  # no lookups: nothing for cdk.context.json
    assert sorted(p.name for p in synth.out.glob("*.template.json")) == [
        "Orders.template.json",
        "OrdersCanary.template.json",
    ]


def test_cfn_lint_has_no_errors(synth: Synth) -> None:
    templates = sorted(str(p) for p in synth.out.glob("*.template.json"))
    assert templates
    assert cfn_lint_errors(templates) is None


def test_its_own_flags_are_not_ours() -> None:
    theirs = json.loads((EXAMPLE / "cdk.json").read_text())["context"]
    ours = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    assert len(theirs) < 10 < len(ours)
    # The flag whose absence used to break LogBucket.
    assert "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy" not in theirs


def test_nlb_front_door_streams_http1_to_the_ecs_tasks(synth: Synth) -> None:
    template = Template.from_json(synth.template("Orders"))
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Protocol": "TLS",
            "Port": 443,
            "AlpnPolicy": ["HTTP1Only"],
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        },
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "TargetType": "ip",
            "Port": 8080,
            "HealthCheckPath": "/healthz",
            "TargetGroupAttributes": Match.array_with(
                [
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "300"},
                    {"Key": "deregistration_delay.connection_termination.enabled", "Value": "true"},
                ]
            ),
        },
    )
    # The app's own ECS service registers its tasks in the streaming target group.
    template.has_resource_properties(
        "AWS::ECS::Service",
        {"LoadBalancers": [Match.object_like({"ContainerName": "Api", "ContainerPort": 8080})]},
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": Match.array_with([{"Key": "access_logs.s3.enabled", "Value": "true"}])},
    )


def test_distribution_streams_uncached_uncompressed_with_long_origin_timeouts(synth: Synth) -> None:
    template = Template.from_json(synth.template("Orders"))
    (distribution,) = template.find_resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert [b.get("PathPattern") for b in behaviours] == [None, "/api/*"]
    for behaviour in behaviours:
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["Compress"] is False
    (origin,) = config["Origins"]
    assert origin["DomainName"] == "orders-nlb.example.com"
    assert origin["CustomOriginConfig"]["OriginReadTimeout"] == 60
    assert origin["CustomOriginConfig"]["OriginKeepaliveTimeout"] == 60
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert "ResponseCompletionTimeout" not in origin
    assert config["HttpVersion"] == "http2and3"
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"


def test_log_buckets_deliver_by_policy_without_the_flag(synth: Synth) -> None:
    template = Template.from_json(synth.template("Orders"))
    buckets = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 4  # two LogBuckets, each with its access-log bucket
    assert not [b for b in buckets.values() if "AccessControl" in b["Properties"]]
    template.resource_properties_count_is(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Principal": {"Service": "logging.s3.amazonaws.com"}})]
                )
            }
        },
        2,
    )


def test_canary_probes_its_own_endpoint_through_both_front_doors(synth: Synth) -> None:
    template = Template.from_json(synth.template("OrdersCanary"))
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    config = json.loads(variables["CANARY_CONFIG"])
    assert config["namespace"] == "Orders/Streaming"
    assert [(p["name"], p["url"], p["protocols"]) for p in config["paths"]] == [
        ("nlb", "https://orders-nlb.example.com/api/streamcheck?events=20&interval_ms=100", ["h1"]),
        ("cloudfront", "https://orders.example.com/api/streamcheck?events=20&interval_ms=100", ["h1", "h2"]),
    ]
    template.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "rate(1 minute)"})
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "Orders/Streaming",
            "MetricName": "BufferingDelay",
            "Dimensions": Match.array_with([{"Name": "Path", "Value": "cloudfront"}]),
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "orders-oncall@example.com"}
    )
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": "orders-streaming"})


def test_app_registers_cdk_nag() -> None:
    """The example's own ``build`` turns cdk-nag on: a non-compliant bucket added next to it fails synth."""
    # Loaded by path under its own name: the project has an ``app`` module of its own.
    spec = importlib.util.spec_from_file_location("existing_app_example", EXAMPLE / "app.py")
    assert spec is not None and spec.loader is not None
    example_app = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(EXAMPLE))  # for its sibling module orders_service
    try:
        spec.loader.exec_module(example_app)
    finally:
        sys.path.remove(str(EXAMPLE))
    context = json.loads((EXAMPLE / "cdk.json").read_text())["context"]
    app = cdk.App(context=context)
    example_app.build(app)
    s3.Bucket(cdk.Stack(app, "Extra", env=example_app.ENV), "Unlogged")  # AwsSolutions-S1, S10
    with pytest.raises(Exception, match=r"(?i)validation"):
        app.synth()


def test_the_canary_asset_holds_the_same_files_from_the_clone_and_from_wheels(
    clone_synth: Synth, wheels_synth: Synth
) -> None:
    for synthesised in (clone_synth, wheels_synth):
        assert synthesised.result.returncode == 0, synthesised.result.stdout + synthesised.result.stderr
    from_clone, from_wheels = clone_synth.canary_asset_files(), wheels_synth.canary_asset_files()
    assert from_clone == from_wheels, (sorted(from_clone - from_wheels), sorted(from_wheels - from_clone))
    assert {
        "streampath_canary/handler.py",
        "streamprobe/probing.py",
        "streamprobe-0.2.0.dist-info/METADATA",
    } <= (from_wheels)


def test_the_example_imports_only_streampath_cdk_and_its_own_code() -> None:
    """A CDK user's surface: the top level of streampath_cdk, never the canary runtime or a submodule."""
    for path in sorted(EXAMPLE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert name == "streampath_cdk" or top in {
                    "__future__",
                    "typing",
                    *OWN_MODULES,
                    *THIRD_PARTY,
                }, f"{path.name} imports {name}"


def test_requirements_name_the_wheels_not_the_clone() -> None:
    lines = [
        line.split("#")[0].strip()
        for line in (EXAMPLE / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert not [line for line in lines if line.startswith(("-e", ".", "/")) or "../" in line]
    assert (
        "streampath-cdk=="
        + tomllib.loads((REPO_ROOT / "cdk" / "pyproject.toml").read_text())["project"]["version"]
        in lines
    )
    readme = (EXAMPLE / "README.md").read_text()
    assert "pip install -e" not in readme and "-r requirements.txt" in readme
