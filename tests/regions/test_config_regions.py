"""``canary.regions``: which Regions run the canary, which probe each path, whose secret each reads, and
what validation refuses (one line per problem: ``<file>: <key>: <reason>``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streampath.config import canary as canary_section
from streampath.config.canary import COMMERCIAL_REGIONS, CanaryPathConfig, vpc_need
from tests.regions.support import HOME, THREE_REGIONS, config_data, load, problems, secret_arn

DIRECT = 3  # config/default.yaml's in-VPC path: http://core-api.internal.example.com:8080/...
ALB = 0


def test_default_is_the_home_region_alone(tmp_path: Path) -> None:
    cfg = load(tmp_path, config_data())
    assert cfg.canary_regions == (HOME,)
    (only,) = cfg.canary_deployments
    assert (only.region, only.home) == (HOME, True)
    assert only.path_names == ("alb", "nlb", "cloudfront", "direct")


def test_three_regions_public_paths_everywhere_vpc_path_at_home(tmp_path: Path) -> None:
    cfg = load(tmp_path, config_data(THREE_REGIONS))
    assert cfg.canary_regions == tuple(THREE_REGIONS)
    by_region = {d.region: d for d in cfg.canary_deployments}
    assert list(by_region) == THREE_REGIONS
    assert by_region[HOME].home and not by_region["us-east-1"].home
    assert by_region[HOME].path_names == ("alb", "nlb", "cloudfront", "direct")
    for region in THREE_REGIONS[1:]:
        assert by_region[region].path_names == ("alb", "nlb", "cloudfront"), region
    assert cfg.canary_path_regions()["direct"] == (HOME,)


def test_a_path_can_say_otherwise(tmp_path: Path) -> None:
    """A VPC-looking name is a guess: a path listing Regions is probed from those (and only those)."""

    def edit(data: dict[str, Any]) -> None:
        paths = data["canary"]["paths"]
        paths[DIRECT]["regions"] = [HOME, "us-east-1"]
        paths[ALB]["regions"] = ["ap-southeast-2"]

    cfg = load(tmp_path, config_data(THREE_REGIONS, edit))
    regions = cfg.canary_path_regions()
    assert regions["direct"] == (HOME, "us-east-1")
    assert regions["alb"] == ("ap-southeast-2",)
    by_region = {d.region: d.path_names for d in cfg.canary_deployments}
    assert by_region[HOME] == ("nlb", "cloudfront", "direct")
    assert by_region["us-east-1"] == ("nlb", "cloudfront", "direct")
    assert by_region["ap-southeast-2"] == ("alb", "nlb", "cloudfront")


def test_secret_arns_per_region(tmp_path: Path) -> None:
    arns = {region: secret_arn(region) for region in THREE_REGIONS}

    def edit(data: dict[str, Any]) -> None:
        data["canary"]["paths"][ALB]["auth_secret"] = {"arns": arns, "json_key": "token"}
        data["canary"]["paths"][DIRECT]["auth_secret"] = {"arn": secret_arn(HOME, "canary/direct-XyZ123")}

    cfg = load(tmp_path, config_data(THREE_REGIONS, edit))
    for deployment in cfg.canary_deployments:
        expected = {"alb": arns[deployment.region]}
        if deployment.home:
            expected["direct"] = secret_arn(HOME, "canary/direct-XyZ123")
        assert dict(deployment.secret_arns) == expected, deployment.region


def with_paths(**edits: Any) -> Any:
    """An edit of path ALB (``alb=...``) / DIRECT (``direct=...``): keys merged into that path."""

    def edit(data: dict[str, Any]) -> None:
        index = {"alb": ALB, "nlb": 1, "cloudfront": 2, "direct": DIRECT}
        for name, changes in edits.items():
            data["canary"]["paths"][index[name]].update(changes)

    return edit


def restricted_nlb(data: dict[str, Any]) -> None:
    # An internet-facing NLB that admits only a corporate range (and CloudFront by its prefix list).
    data["nlb"]["ingress"]["cidrs"] = ["203.0.113.0/24"]


def restricted_nlb_from_everywhere(data: dict[str, Any]) -> None:
    restricted_nlb(data)
    data["canary"]["paths"][1]["regions"] = [HOME, "us-east-1"]


CASES: list[tuple[str, list[str] | None, Any, str]] = [
    (
        "home-not-first",
        ["us-east-1", HOME],
        None,
        "canary.regions[0]: must be the environment's region 'eu-west-1' (the home Region: it holds the "
        "dashboard and the only canary placed in the VPC), got 'us-east-1'",
    ),
    (
        "duplicate-region",
        [HOME, "us-east-1", HOME],
        None,
        "canary.regions[2]: duplicate region 'eu-west-1' (also regions[0])",
    ),
    (
        "path-region-not-listed",
        [HOME, "us-east-1"],
        with_paths(alb={"regions": ["us-west-2"]}),
        "canary.paths[0].regions[0]: 'us-west-2' is not in canary.regions (eu-west-1, us-east-1)",
    ),
    (
        "path-region-duplicate",
        [HOME, "us-east-1"],
        with_paths(alb={"regions": ["us-east-1", "us-east-1"]}),
        "canary.paths[0].regions[1]: duplicate region 'us-east-1' (also regions[0])",
    ),
    (
        "private-address-from-another-region",
        [HOME, "us-east-1"],
        with_paths(direct={"url": "http://10.0.12.7:8080/api/streamcheck", "regions": [HOME, "us-east-1"]}),
        "canary.paths[3].regions: path 'direct' is reachable only inside the VPC (its URL's address "
        "10.0.12.7 is private), and only the home Region's canary (eu-west-1) runs there; remove us-east-1",
    ),
    (
        "region-that-probes-nothing",
        [HOME, "us-east-1"],
        lambda data: [p.update(regions=[HOME]) for p in data["canary"]["paths"][:3]],
        "canary.regions[1]: no path is probed from 'us-east-1': paths that need the VPC are probed from the "
        "home Region only; list the Region in a public path's regions or remove it",
    ),
    (
        "secret-of-another-region",
        None,
        with_paths(alb={"auth_secret": {"arn": secret_arn("us-east-1")}}),
        "canary.paths[0].auth_secret.arn: the secret is in 'us-east-1', but path 'alb' is probed from "
        "'eu-west-1' and its canary reads the secret in its own Region: use the ARN of a replica there",
    ),
    (
        "one-arn-for-three-regions",
        THREE_REGIONS,
        with_paths(alb={"auth_secret": {"arn": secret_arn(HOME)}}),
        "canary.paths[0].auth_secret.arn: path 'alb' is probed from eu-west-1, us-east-1, ap-southeast-2 and "
        "each Region's canary reads the secret in its own Region: replicate the secret and list each "
        "Region's ARN in auth_secret.arns",
    ),
    (
        "replica-arn-of-the-wrong-region",
        THREE_REGIONS,
        with_paths(
            alb={"auth_secret": {"arns": {HOME: secret_arn(HOME), "us-east-1": secret_arn("us-west-2")}}}
        ),
        "canary.paths[0].auth_secret.arns.us-east-1: the secret is in 'us-west-2', not 'us-east-1': each "
        "Region's canary reads the replica in its own Region",
    ),
    (
        "replica-missing-for-a-region",
        THREE_REGIONS,
        with_paths(alb={"auth_secret": {"arns": {r: secret_arn(r) for r in THREE_REGIONS[:2]}}}),
        "canary.paths[0].auth_secret.arns: no ARN for 'ap-southeast-2', which probes path 'alb' (probed from "
        "eu-west-1, us-east-1, ap-southeast-2)",
    ),
    (
        "replica-for-a-region-that-does-not-probe",
        THREE_REGIONS,
        with_paths(direct={"auth_secret": {"arns": {r: secret_arn(r) for r in THREE_REGIONS[:2]}}}),
        "canary.paths[3].auth_secret.arns.us-east-1: 'us-east-1' does not probe path 'direct' (probed from "
        "eu-west-1)",
    ),
    (
        "arn-and-arns",
        THREE_REGIONS,
        with_paths(alb={"auth_secret": {"arn": secret_arn(HOME), "arns": {HOME: secret_arn(HOME)}}}),
        "canary.paths[0].auth_secret.arn: set exactly one of arn (one Region) or arns (Region -> that "
        "Region's replica ARN)",
    ),
    (
        "restricted-nlb-from-another-region",
        [HOME, "us-east-1"],
        restricted_nlb_from_everywhere,
        "canary.paths[1].regions: path 'nlb' is reachable only inside the VPC (the nlb front door admits "
        "only nlb.ingress.cidrs, which no other Region's Lambda addresses fall into), and only the home "
        "Region's canary (eu-west-1) runs there; remove us-east-1",
    ),
]


@pytest.mark.parametrize(
    ("regions", "edit", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_refused_with_key_and_reason(
    tmp_path: Path, regions: list[str] | None, edit: Any, expected: str
) -> None:
    assert problems(tmp_path, config_data(regions, edit)) == [expected]


def test_unknown_region_shows_the_known_ones(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, config_data([HOME, "eu-west-9"]))
    head = (
        "canary.regions[1]: must be a commercial AWS Region, got 'eu-west-9'; did you mean 'eu-west-3'? "
        "known: "
    )
    assert line.startswith(head), line
    assert line[len(head) :].split(", ") == list(COMMERCIAL_REGIONS)


def test_govcloud_is_not_a_canary_region(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, config_data([HOME, "us-gov-west-1"]))
    assert line.startswith("canary.regions[1]: must be a commercial AWS Region, got 'us-gov-west-1'; ")


def test_restricted_nlb_is_probed_from_home_only(tmp_path: Path) -> None:
    cfg = load(tmp_path, config_data(THREE_REGIONS, restricted_nlb))
    assert cfg.canary_path_regions()["nlb"] == (HOME,)
    assert cfg.canary_path_regions()["cloudfront"] == tuple(THREE_REGIONS)


#: What the canary stack deploys in every Region it runs in (the feature -> its CloudFormation type): a
#: Region whose registry lacked one could not hold the stack.
CANARY_REGION_FEATURES = {
    "EventBridge Scheduler (the canary's schedule)": "AWS::Scheduler::Schedule",
    "AWS Lambda (the canary function)": "AWS::Lambda::Function",
    "CloudWatch composite alarms (one page per Region)": "AWS::CloudWatch::CompositeAlarm",
    "CloudWatch alarms": "AWS::CloudWatch::Alarm",
    "Amazon SNS (the alarm topic)": "AWS::SNS::Topic",
    "AWS KMS (the topic's key)": "AWS::KMS::Key",
    "CloudWatch Logs (the function's log group)": "AWS::Logs::LogGroup",
}


def cfn_registries() -> dict[str, set[str]]:
    """Region -> the resource types of its CloudFormation registry, from cfn-lint's per-Region snapshot."""
    import cfnlint

    providers = Path(cfnlint.__file__).parent / "data" / "schemas" / "providers"
    return {p.stem: set(json.loads(p.read_text())) for p in providers.glob("*.json")}


#: Commercial Regions cfn-lint ships no registry snapshot for (so nothing offline says what they lack).
NO_SNAPSHOT = {"me-south-1"}


def test_every_commercial_region_has_what_the_canary_deploys() -> None:
    """Every Region :data:`COMMERCIAL_REGIONS` admits can hold the canary stack, by cfn-lint's per-Region
    registry snapshot: a Region that lacks a feature fails here (and must then leave that list)."""
    registries = cfn_registries()
    assert {r for r in COMMERCIAL_REGIONS if r not in registries} == NO_SNAPSHOT
    computed = {}
    for region in sorted(set(COMMERCIAL_REGIONS) - NO_SNAPSHOT):
        types = registries[region]
        missing = frozenset(f for f, kind in CANARY_REGION_FEATURES.items() if kind not in types)
        if missing:
            computed[region] = missing
    assert computed == {}


def test_commercial_regions_are_the_sdks_aws_partition() -> None:
    import botocore

    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    (aws,) = [p for p in endpoints["partitions"] if p["partition"] == "aws"]
    assert sorted(aws["regions"]) == list(COMMERCIAL_REGIONS)
    for service in ("lambda", "scheduler", "monitoring", "sns", "kms", "logs", "secretsmanager", "events"):
        served = set(aws["services"][service]["endpoints"])
        assert set(COMMERCIAL_REGIONS) <= served, service


@pytest.mark.parametrize(
    ("url", "reason", "certain"),
    [
        ("http://core-api.internal.example.com:8080/x", "has the private DNS label 'internal'", False),
        ("http://core-api.default.svc:8080/x", "has the private DNS label 'svc'", False),
        ("http://core-api:8080/x", "is a single-label (in-VPC) name", False),
        ("http://10.1.2.3/x", "address 10.1.2.3 is private", True),
        ("http://[fd00::5]/x", "address fd00::5 is private", True),
        ("http://169.254.10.1/x", "address 169.254.10.1 is private", True),
        ("https://api.example.com/x", None, False),
        ("http://100.64.7.7/x", "address 100.64.7.7 is private", True),  # shared address space
        ("https://52.95.110.1/x", None, False),
        ("https://internal-api.example.com/x", None, False),  # a label *containing* 'internal' is public
    ],
)
def test_vpc_need(url: str, reason: str | None, certain: bool) -> None:
    need = vpc_need(CanaryPathConfig(name="p", url=url, protocols=("h1",)), {})
    if reason is None:
        assert need is None
    else:
        assert need is not None and reason in need.reason and need.certain is certain


def test_internal_front_door_needs_the_vpc() -> None:
    path = CanaryPathConfig(name="p", front_door="nlb", path="/x")
    assert vpc_need(path, {"nlb": "internal"}) == canary_section.VpcNeed("internal", certain=True)
    assert vpc_need(path, {}) is None
