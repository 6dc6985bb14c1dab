"""Config loading and validation: every error names the file, the key path and the reason, on one line."""

from __future__ import annotations

import copy
from pathlib import Path

import pydantic
import pytest

from streampath.config import (
    CONFIG_DIR,
    AppConfig,
    ConfigError,
    available_configs,
    display_path,
    load_config,
    load_config_by_name,
)
from tests.config.mutations import DEFAULT, Mutation, all_of, problems_of, removing, setting, write_config

TCP_LISTENER = all_of(
    setting("nlb", "listener", "mode", value="tcp"),
    removing("nlb", "listener", "certificate_arn"),
    removing("nlb", "listener", "alpn_policy"),
)
VPC_ORIGIN = all_of(
    TCP_LISTENER,
    setting("nlb", "internet_facing", value=False),
    setting("nlb", "ingress", "cidrs", value=["10.0.0.0/16"]),
    setting("cloudfront", "origin", "type", value="vpc_origin"),
)
PATH0 = ("canary", "paths", 0)

CASES: list[tuple[str, Mutation, str]] = [
    # --- NLB ---------------------------------------------------------------------------------------------
    (
        "tcp-idle-timeout-out-of-range",
        all_of(TCP_LISTENER, setting("nlb", "listener", "idle_timeout_seconds", value=7200)),
        "nlb.listener.idle_timeout_seconds: must be 60..6000, got 7200",
    ),
    (
        "idle-timeout-on-tls-listener",
        setting("nlb", "listener", "idle_timeout_seconds", value=600),
        "nlb.listener.idle_timeout_seconds: cannot be set on a TLS listener (fixed at 350 s); "
        "use mode: tcp for a longer idle timeout, or remove the key",
    ),
    (
        "tls-without-certificate",
        removing("nlb", "listener", "certificate_arn"),
        "nlb.listener.certificate_arn: required when mode is 'tls' (an ACM certificate ARN)",
    ),
    (
        "alpn-on-tcp-listener",
        all_of(TCP_LISTENER, setting("nlb", "listener", "alpn_policy", value="HTTP2Optional")),
        "nlb.listener.alpn_policy: only used when mode is 'tls' (ALPN needs TLS termination)",
    ),
    (
        "bad-certificate-arn",
        setting("nlb", "listener", "certificate_arn", value="arn:aws:acm:eu-west-1:123:certificate/x"),
        "nlb.listener.certificate_arn: must be an ACM certificate ARN "
        "(arn:aws:acm:<region>:<account>:certificate/<uuid>), got 'arn:aws:acm:eu-west-1:123:certificate/x'",
    ),
    (
        "port-out-of-range",
        setting("nlb", "listener", "port", value=70000),
        "nlb.listener.port: must be 1..65535, got 70000",
    ),
    (
        "port-as-string",
        setting("nlb", "listener", "port", value="443"),
        "nlb.listener.port: must be an integer, got '443'",
    ),
    (
        "port-as-bool",
        setting("nlb", "listener", "port", value=True),
        "nlb.listener.port: must be an integer, got true",
    ),
    (
        "unknown-listener-mode",
        setting("nlb", "listener", "mode", value="tlss"),
        "nlb.listener.mode: must be one of 'tls' or 'tcp', got 'tlss'",
    ),
    (
        "unknown-alpn-policy",
        setting("nlb", "listener", "alpn_policy", value="h2"),
        "nlb.listener.alpn_policy: must be one of 'HTTP1Only', 'HTTP2Only', 'HTTP2Optional', "
        "'HTTP2Preferred' "
        "or 'None', got 'h2'",
    ),
    (
        "misspelt-key",
        lambda data: data["nlb"].update(listner={}),
        "nlb.listner: unknown key (did you mean 'listener'?)",
    ),
    (
        "unknown-top-level-key",
        lambda data: data.update(colour="blue"),
        "colour: unknown key (allowed: name, account, region, tags, vpc, service, nlb, cloudfront, "
        "apigateway, canary)",
    ),
    (
        "deregistration-delay-out-of-range",
        setting("nlb", "target_group", "deregistration_delay_seconds", value=4000),
        "nlb.target_group.deregistration_delay_seconds: must be 0..3600, got 4000",
    ),
    (
        "health-check-timeout-not-below-interval",
        setting("nlb", "target_group", "health_check", value={"interval_seconds": 10, "timeout_seconds": 10}),
        "nlb.target_group.health_check.timeout_seconds: must be less than interval_seconds (10), got 10",
    ),
    (
        "no-ingress-source",
        setting("nlb", "ingress", value={"cidrs": []}),
        "nlb.ingress.cidrs: list at least one CIDR, or set cloudfront_prefix_list_id",
    ),
    (
        "bad-cidr",
        setting("nlb", "ingress", "cidrs", value=["10.0.0.0/33"]),
        "nlb.ingress.cidrs[0]: must be an IPv4 CIDR like '10.0.0.0/16', got '10.0.0.0/33'",
    ),
    (
        "internet-facing-in-private-subnets",
        setting("nlb", "subnets", value="private"),
        "nlb.subnets: an internet-facing load balancer needs public subnets, got 'private'",
    ),
    (
        "nlb-subnet-group-empty",
        setting("vpc", "public_subnets", value=[]),
        "nlb.subnets: the load balancer goes into public subnets but vpc.public_subnets is empty",
    ),
    (
        "alias-outside-zone",
        setting("nlb", "dns", "record_name", value="stream.example.org"),
        "nlb.dns.record_name: 'stream.example.org' is not inside zone 'example.com'",
    ),
    # --- VPC, account, region ----------------------------------------------------------------------------
    (
        "subnet-in-unlisted-az",
        setting("vpc", "public_subnets", 0, "availability_zone", value="eu-west-1d"),
        "vpc.public_subnets[0].availability_zone: 'eu-west-1d' is not in vpc.availability_zones "
        "(eu-west-1a, eu-west-1b, eu-west-1c)",
    ),
    (
        "bad-subnet-id",
        setting("vpc", "private_subnets", 1, "id", value="subnet-xyz"),
        "vpc.private_subnets[1].id: must be a subnet id like 'subnet-0123456789abcdef0', got 'subnet-xyz'",
    ),
    ("vpc-missing", removing("vpc"), "vpc: required when the nlb front door is enabled"),
    ("service-missing", removing("service"), "service: required key is missing"),
    (
        "account-not-quoted",
        setting("account", value=123456789012),
        "account: must be a string (quote it in YAML), got 123456789012",
    ),
    (
        "bad-region",
        setting("region", value="europe"),
        "region: must be an AWS region like 'eu-west-1', got 'europe'",
    ),
    # --- front doors ---------------------------------------------------------------------------------------
    (
        "no-front-door",
        all_of(setting("nlb", "enabled", value=False), setting("cloudfront", "enabled", value=False)),
        "nlb: at least one front door must be enabled (nlb and/or cloudfront)",
    ),
    (
        "nlb-origin-without-nlb",
        all_of(setting("nlb", "enabled", value=False), removing("canary", "paths", 1)),
        "cloudfront.origin.type: 'nlb' needs the nlb front door enabled",
    ),
    (
        "nlb-origin-without-certificate-name",
        removing("nlb", "dns"),
        "cloudfront.origin.domain_name: required for origin type 'nlb' unless nlb.dns is set: CloudFront "
        "validates the origin certificate against this name, which the NLB's *.elb.amazonaws.com name "
        "never matches",
    ),
    (
        "nlb-origin-not-admitted",
        all_of(
            setting("nlb", "ingress", value={"cidrs": ["10.0.0.0/8"]}),
        ),
        "nlb.ingress.cloudfront_prefix_list_id: required so the NLB security group admits CloudFront (the "
        "region's com.amazonaws.global.cloudfront.origin-facing prefix list id)",
    ),
    (
        "vpc-origin-needs-tcp-listener",
        setting("cloudfront", "origin", "type", value="vpc_origin"),
        "nlb.listener.mode: must be 'tcp' for a CloudFront VPC origin (VPC origins refuse NLBs with TLS "
        "listeners), got 'tls'",
    ),
    (
        "vpc-origin-needs-internal-nlb",
        all_of(VPC_ORIGIN, setting("nlb", "internet_facing", value=True)),
        "nlb.internet_facing: must be false for a CloudFront VPC origin (a private, internal NLB)",
    ),
    (
        "vpc-origin-refuses-secret-header",
        all_of(
            VPC_ORIGIN,
            setting(
                "cloudfront",
                "origin",
                "secret_header",
                value={"secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf"},
            ),
        ),
        "cloudfront.origin.secret_header: only for a public origin: a VPC origin is reachable from "
        "CloudFront alone",
    ),
    (
        "origin-port-mismatch",
        setting("cloudfront", "origin", "port", value=8443),
        "cloudfront.origin.port: must match nlb.listener.port (443) for origin type 'nlb', got 8443",
    ),
    (
        "plain-http-to-public-origin",
        setting("cloudfront", "origin", "protocol", value="http"),
        "cloudfront.origin.protocol: must be 'https' for a public origin (type 'nlb'); 'http' is for "
        "vpc_origin only",
    ),
    (
        "domain-origin-without-name",
        setting("cloudfront", "origin", value={"type": "domain"}),
        "cloudfront.origin.domain_name: required when type is 'domain'",
    ),
    (
        "read-timeout-out-of-range",
        setting("cloudfront", "origin", "read_timeout_seconds", value=3601),
        "cloudfront.origin.read_timeout_seconds: must be 1..3600, got 3601",
    ),
    (
        "completion-timeout-below-read-timeout",
        setting("cloudfront", "origin", "response_completion_timeout_seconds", value=30),
        "cloudfront.origin.response_completion_timeout_seconds: must be at least read_timeout_seconds "
        "(60), got 30",
    ),
    (
        "unknown-http-version",
        setting("cloudfront", "http_version", value="HTTP1"),
        "cloudfront.http_version: must be one of 'HTTP1_1', 'HTTP2', 'HTTP2_AND_3' or 'HTTP3', got 'HTTP1'",
    ),
    (
        "certificate-outside-us-east-1",
        setting(
            "cloudfront",
            "custom_domain",
            value={
                "domain_names": ["stream.example.com"],
                "certificate_arn": (
                    "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
                ),
            },
        ),
        "cloudfront.custom_domain.certificate_arn: must be a certificate in us-east-1 (CloudFront's region), "
        "got one in 'eu-west-1'",
    ),
    (
        "cloudfront-alias-without-custom-domain",
        setting(
            "cloudfront",
            "dns",
            value={
                "hosted_zone_id": "Z0123456789EXAMPLE0AB",
                "zone_name": "example.com",
                "record_name": "a.example.com",
            },
        ),
        "cloudfront.dns: needs custom_domain (the record name must be one of its domain_names)",
    ),
    (
        "regional-waf-acl",
        setting(
            "cloudfront",
            "web_acl_arn",
            value="arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        ),
        "cloudfront.web_acl_arn: must be a WAFv2 web ACL ARN with CLOUDFRONT scope "
        "(arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>), "
        "got 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'",
    ),
    (
        "streaming-patterns-empty",
        setting("cloudfront", "streaming_path_patterns", value=[]),
        "cloudfront.streaming_path_patterns: must have at least 1 item(s), got 0",
    ),
    # --- canary -------------------------------------------------------------------------------------------
    (
        "front-door-not-enabled",
        all_of(
            setting("cloudfront", "enabled", value=False),
        ),
        "canary.paths[2].front_door: 'cloudfront' is not an enabled front door (enabled: nlb)",
    ),
    (
        "url-and-front-door",
        setting(*PATH0, "front_door", value="nlb"),
        "canary.paths[0].url: set exactly one of url or front_door",
    ),
    (
        "neither-url-nor-front-door",
        removing(*PATH0, "url"),
        "canary.paths[0].url: set exactly one of url or front_door",
    ),
    (
        "front-door-without-path",
        removing("canary", "paths", 1, "path"),
        "canary.paths[1].path: required with front_door (for example '/api/streamcheck?events=20')",
    ),
    (
        "not-http-url",
        setting("canary", "paths", 2, value={"name": "cloudfront", "url": "ftp://example.com/x"}),
        "canary.paths[2].url: must be an absolute http(s) URL with a host, like "
        "'https://api.example.com/api/streamcheck' (or ws(s):// for a WebSocket), "
        "got 'ftp://example.com/x'",
    ),
    (
        "secret-in-headers",
        setting(*PATH0, "headers", value={"Authorization": "Bearer abc"}),
        "canary.paths[0].headers.Authorization: looks like a credential and would be stored in clear text; "
        "use auth_secret instead",
    ),
    (
        "api-key-in-headers",
        setting(*PATH0, "headers", value={"X-Env": "a", "x-api-key": "abc"}),
        "canary.paths[0].headers.x-api-key: looks like a credential and would be stored in clear text; "
        "use auth_secret instead",
    ),
    (
        "duplicate-path-name",
        setting("canary", "paths", 3, "name", value="alb"),
        "canary.paths: duplicate name(s) alb",
    ),
    (
        "bad-path-name",
        setting(*PATH0, "name", value="ALB path"),
        "canary.paths[0].name: must be a lower-case name like 'nlb' (a-z, 0-9, '-', at most 31 characters), "
        "got 'ALB path'",
    ),
    (
        "unknown-protocol",
        setting(*PATH0, "protocols", value=["h1", "h4"]),
        "canary.paths[0].protocols[1]: must be one of 'h1', 'h2', 'h3' or 'ws', got 'h4'",
    ),
    (
        "no-protocols",
        setting(*PATH0, "protocols", value=[]),
        "canary.paths[0].protocols: must have at least 1 item(s), got 0",
    ),
    (
        "bad-secret-arn",
        setting(*PATH0, "auth_secret", value={"arn": "arn:aws:ssm:eu-west-1:123456789012:parameter/x"}),
        "canary.paths[0].auth_secret.arn: must be a Secrets Manager secret ARN "
        "(arn:aws:secretsmanager:<region>:<account>:secret:<name>), got "
        "'arn:aws:ssm:eu-west-1:123456789012:parameter/x'",
    ),
    ("no-paths", setting("canary", "paths", value=[]), "canary.paths: must have at least 1 item(s), got 0"),
    (
        "too-many-paths",
        setting(
            "canary", "paths", value=[{"name": f"p{i}", "url": "https://example.com/"} for i in range(26)]
        ),
        "canary.paths: must have at most 25 item(s), got 26",
    ),
    (
        "probe-does-not-fit-timeout",
        setting("canary", "timeout_seconds", value=40),
        "canary.timeout_seconds: must be greater than max_duration_seconds + probe_timeout_seconds (30 + "
        "10), got 40",
    ),
    (
        "datapoints-above-periods",
        setting("canary", "alarms", "datapoints_to_alarm", value=6),
        "canary.alarms.datapoints_to_alarm: must be at most evaluation_periods (5), got 6",
    ),
    (
        "schedule-out-of-range",
        setting("canary", "schedule_minutes", value=0),
        "canary.schedule_minutes: must be 1..60, got 0",
    ),
    (
        "retention-not-allowed",
        setting("canary", "log_retention_days", value=2),
        "canary.log_retention_days: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
        "545, 731, "
        "1096, 1827, 2192, 2557, 2922, 3288, 3653, got 2",
    ),
    (
        "bad-email",
        setting("canary", "notify_emails", value=["oncall"]),
        "canary.notify_emails[0]: must be an email address, got 'oncall'",
    ),
    (
        "bad-security-group",
        setting("canary", "vpc_placement", "security_group_ids", value=["sg-1"]),
        "canary.vpc_placement.security_group_ids[0]: must be a security group id like "
        "'sg-0123456789abcdef0', got 'sg-1'",
    ),
    # --- deploy-time limits that synth alone would not catch (each passed validation before) --------------
    (
        "alarm-window-longer-than-a-day",
        all_of(
            setting("canary", "schedule_minutes", value=30),
            setting("canary", "alarms", "evaluation_periods", value=49),
        ),
        "canary.alarms.evaluation_periods: must be at most 48 with a 1800 s period (CloudWatch caps "
        "period x evaluation periods at 24 h), got 49",
    ),
    (
        "h2-over-plain-http-url",
        setting("canary", "paths", 3, "protocols", value=["h1", "h2"]),
        "canary.paths[3].protocols: 'h2' needs an https URL: over plain http HTTP/2 means prior knowledge "
        "(h2c), which browsers never use and HTTP/1.1 servers refuse, so every h2 probe would fail; set "
        "protocols: [h1]",
    ),
    (
        "h2-over-plain-http-nlb-front-door",
        all_of(
            VPC_ORIGIN,
            setting("nlb", "listener", "port", value=80),
            setting("canary", "paths", 1, "protocols", value=["h1", "h2"]),
        ),
        "canary.paths[1].protocols: 'h2' needs an https URL: over plain http HTTP/2 means prior knowledge "
        "(h2c), which browsers never use and HTTP/1.1 servers refuse, so every h2 probe would fail; set "
        "protocols: [h1]",
    ),
    (
        "canary-environment-over-4kb",
        setting(
            "canary",
            "paths",
            value=[
                {"name": f"p{i}", "url": f"https://api.example.com/api/streamcheck?events=20&pad={'x' * 150}"}
                for i in range(20)
            ],
        ),
        "canary.paths: the canary's configuration needs about 5878 bytes of environment variables and "
        "Lambda allows 4096 in all: shorten URLs and headers or split the paths over two environments",
    ),
    (
        "too-many-cidrs-next-to-cloudfront-prefix-list",
        setting("nlb", "ingress", "cidrs", value=[f"10.0.{i}.0/24" for i in range(6)]),
        "nlb.ingress.cidrs: at most 5 CIDRs fit next to cloudfront_prefix_list_id (which counts as 55 rules) "
        "in a security group with security_group_rules_quota 60; the deployment would fail with "
        "RulesPerSecurityGroupLimitExceeded, got 6 (raise the VPC quota and security_group_rules_quota, or "
        "list fewer CIDRs)",
    ),
    (
        "cloudfront-in-opt-in-region",
        setting("region", value="eu-south-1"),
        "region: the cloudfront front door's standard-logging bucket would be in 'eu-south-1', an opt-in "
        "Region CloudFront does not deliver standard logs to; deploy from a default Region",
    ),
    (
        "canary-regions-without-home-first",
        setting("canary", "regions", value=["us-east-1", "eu-west-1"]),
        "canary.regions[0]: must be the environment's region 'eu-west-1' (the home Region: it holds the "
        "dashboard and the only canary placed in the VPC), got 'us-east-1'",
    ),
    (
        "canary-region-twice",
        setting("canary", "regions", value=["eu-west-1", "us-east-1", "us-east-1"]),
        "canary.regions[2]: duplicate region 'us-east-1' (also regions[1])",
    ),
    (
        "canary-secret-in-another-region",
        setting(
            *PATH0, "auth_secret", value={"arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"}
        ),
        "canary.paths[0].auth_secret.arn: the secret is in 'us-east-1', but path 'alb' is probed from "
        "'eu-west-1' and its canary reads the secret in its own Region: use the ARN of a replica there",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_config_error_names_key_and_reason(tmp_path: Path, mutate: Mutation, expected: str) -> None:
    assert problems_of(tmp_path, mutate) == [expected]


def test_every_problem_is_reported_on_its_own_line(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        all_of(setting("region", value="mars"), setting("canary", "schedule_minutes", value=99)),
    )
    assert problems == [
        "region: must be an AWS region like 'eu-west-1', got 'mars'",
        "canary.schedule_minutes: must be 1..60, got 99",
    ]


def test_file_inside_repo_is_shown_relative() -> None:
    assert display_path(CONFIG_DIR / "staging.yaml") == "config/staging.yaml"


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "name: x\nregion: eu-west-1\nnlb:\n  listener: [443\n  mode: tls\n")
    with pytest.raises(ConfigError, match=rf"^{path}: line \d+, column \d+: YAML syntax error: "):
        load_config(path)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "name: a\nregion: eu-west-1\nname: b\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: line 3, column 1: YAML syntax error: duplicate key 'name'"


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "the file is empty"), ("- a\n- b\n", "the top level must be a mapping of keys, got list")],
)
def test_file_that_is_not_a_mapping(tmp_path: Path, text: str, reason: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {reason}"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r": file not found$"):
        load_config(tmp_path / "nope.yaml")


def test_unknown_config_name_lists_the_available_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_by_name("stagin")
    message = str(caught.value)
    assert message.startswith("no config named 'stagin' (config/stagin.yaml not found); available configs: ")
    for name in ("default", "production", "staging"):
        assert name in message


def test_config_name_cannot_escape_the_config_dir() -> None:
    with pytest.raises(ConfigError, match="is not valid"):
        load_config_by_name("../pyproject")


@pytest.mark.parametrize("name", ["default", "staging", "production"])
def test_shipped_configs_load(name: str) -> None:
    cfg = load_config_by_name(name)
    assert cfg.name == name
    assert set(cfg.enabled_front_doors) == {"nlb", "cloudfront"}
    assert cfg.enabled_canary is not None
    assert name in available_configs()


def test_defaults_and_derived_values() -> None:
    cfg = load_config_by_name("default")
    assert (
        cfg.enabled_nlb is not None and cfg.enabled_canary is not None and cfg.enabled_cloudfront is not None
    )
    assert cfg.enabled_nlb.listener.effective_idle_timeout_seconds == 350
    assert cfg.enabled_nlb.subnet_group == "public"
    assert cfg.enabled_cloudfront.origin.response_completion_timeout_seconds is None
    assert cfg.enabled_canary.paths[1].protocols == ("h1", "h2")
    assert cfg.nlb_origin_domain_name == "stream-nlb.example.com"
    staging = load_config_by_name("staging")
    assert staging.enabled_nlb is not None
    assert staging.enabled_nlb.listener.effective_idle_timeout_seconds == 3600
    assert staging.enabled_nlb.listener.url_scheme == "http"


def test_tcp_listener_defaults_to_one_hour_idle_timeout(tmp_path: Path) -> None:
    data = copy.deepcopy(DEFAULT)
    TCP_LISTENER(data)
    data["cloudfront"]["origin"] = {"type": "domain", "domain_name": "api.example.com"}
    cfg = load_config(write_config(tmp_path, data))
    assert cfg.enabled_nlb is not None
    assert cfg.enabled_nlb.listener.effective_idle_timeout_seconds == 3600


def test_disabled_section_builds_nothing(tmp_path: Path) -> None:
    data = copy.deepcopy(DEFAULT)
    data["canary"]["enabled"] = False
    data["cloudfront"]["enabled"] = False
    cfg = load_config(write_config(tmp_path, data))
    assert cfg.enabled_front_doors == ("nlb",)
    assert cfg.enabled_canary is None


def test_config_is_frozen() -> None:
    cfg = load_config_by_name("default")
    with pytest.raises(pydantic.ValidationError):
        cfg.name = "other"
    assert isinstance(cfg, AppConfig)


def test_raised_security_group_quota_admits_more_cidrs(tmp_path: Path) -> None:
    data = copy.deepcopy(DEFAULT)
    data["nlb"]["ingress"]["cidrs"] = [f"10.0.{i}.0/24" for i in range(6)]
    data["nlb"]["ingress"]["security_group_rules_quota"] = 100
    assert len(load_config(write_config(tmp_path, data)).nlb.ingress.cidrs) == 6  # type: ignore[union-attr]
