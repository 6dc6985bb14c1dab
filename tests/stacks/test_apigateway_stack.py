"""The API Gateway front door: a streaming proxy integration, its VPC link, stage, logs and config rules."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk.assertions import Capture, Match, Template

from streampath import naming
from streampath.config import CONFIG_DIR, ConfigError, load_config
from streampath_cdk.streaming_rest_api import (
    ACCESS_LOG_FIELDS,
    PublicOrigin,
    RestApiDomain,
    StreamingRestApi,
    VpcLinkOrigin,
)
from tests.config.mutations import write_config
from tests.support.cdk import Synthesised, cdk_context, cfn_lint_errors, synth_config

METHOD = "AWS::ApiGateway::Method"
STAGE = "AWS::ApiGateway::Stage"
APIGATEWAY_YAML = yaml.safe_load((CONFIG_DIR / "apigateway.yaml").read_text())


@pytest.fixture(scope="module")
def apigw_app() -> Synthesised:
    return synth_config("apigateway")


def streaming_integration(uri: Any) -> Any:
    return Match.object_like(
        {
            "Type": "HTTP_PROXY",
            "IntegrationHttpMethod": "ANY",
            "ConnectionType": "VPC_LINK",
            "ConnectionId": {"Ref": Match.string_like_regexp("VpcLink")},
            "ResponseTransferMode": "STREAM",
            "TimeoutInMillis": 900000,
            "Uri": uri,
        }
    )


def test_proxy_resource_streams_through_the_vpc_link(apigw_app: Synthesised) -> None:
    template = apigw_app.template("ApiGateway")
    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "{proxy+}"})
    uri = Capture()
    template.has_resource_properties(
        METHOD,
        {
            "HttpMethod": "ANY",
            "AuthorizationType": "NONE",
            "RequestParameters": {"method.request.path.proxy": True},
            "Integration": streaming_integration(uri),
        },
    )
    # http://<the NLB stack's DNS name>:80/{proxy}, imported from the NLB stack
    assert "/{proxy}" in json.dumps(uri.as_object())
    template.has_resource_properties(
        METHOD,
        {
            "HttpMethod": "ANY",
            "ResourceId": {"Fn::GetAtt": [Match.string_like_regexp("Api"), "RootResourceId"]},
            "Integration": streaming_integration(Match.any_value()),
        },
    )


def test_no_method_buffers(apigw_app: Synthesised) -> None:
    methods = apigw_app.template("ApiGateway").find_resources(METHOD)
    assert len(methods) == 2
    modes = {m["Properties"]["Integration"].get("ResponseTransferMode") for m in methods.values()}
    assert modes == {"STREAM"}


def test_vpc_link_targets_the_nlb_stacks_load_balancer(apigw_app: Synthesised) -> None:
    apigw_app.template("ApiGateway").has_resource_properties(
        "AWS::ApiGateway::VpcLink",
        {"TargetArns": [{"Fn::GetStackOutput": Match.object_like({"StackName": "StreamPath-apigw-Nlb"})}]},
    )


def test_nlb_lets_privatelink_traffic_past_its_inbound_rules(apigw_app: Synthesised) -> None:
    apigw_app.template("Nlb").has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"Scheme": "internal", "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic": "off"},
    )


def test_other_configs_keep_awss_privatelink_default(default_app: Synthesised) -> None:
    default_app.template("Nlb").has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic": Match.absent()},
    )


def test_stage_logs_json_throttles_and_caches_nothing(apigw_app: Synthesised) -> None:
    template = apigw_app.template("ApiGateway")
    log_format = Capture()
    template.has_resource_properties(
        STAGE,
        {
            "StageName": "live",
            "TracingEnabled": False,
            "CacheClusterEnabled": False,
            "AccessLogSetting": {
                "DestinationArn": Match.any_value(),
                "Format": log_format,
            },
            "MethodSettings": [
                Match.object_like(
                    {
                        "HttpMethod": "*",
                        "ResourcePath": "/*",
                        "ThrottlingRateLimit": 50,
                        "ThrottlingBurstLimit": 100,
                        "CachingEnabled": False,
                        "LoggingLevel": "ERROR",
                        "DataTraceEnabled": False,
                        "MetricsEnabled": True,
                    }
                )
            ],
        },
    )
    (log_group,) = template.find_resources("AWS::Logs::LogGroup")
    assert "AccessLogs" in log_group
    assert log_group in json.dumps(template.find_resources(STAGE))
    logged = json.loads(log_format.as_string())
    assert logged["requestId"] == "$context.requestId"
    assert logged["integrationLatency"] == "$context.integrationLatency"
    assert logged["status"] == "$context.status"
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})


def test_regional_endpoint_and_custom_domain_with_tls12(apigw_app: Synthesised) -> None:
    template = apigw_app.template("ApiGateway")
    template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}
    )
    template.has_resource_properties(
        "AWS::ApiGateway::DomainName",
        {
            "DomainName": "chat-api.example.com",
            "SecurityPolicy": "TLS_1_2",
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "RegionalCertificateArn": Match.string_like_regexp("^arn:aws:acm:eu-west-1:"),
        },
    )
    template.resource_count_is("AWS::ApiGateway::BasePathMapping", 1)
    template.has_output(naming.OUTPUT_API_URL, {"Value": "https://chat-api.example.com/"})


def test_canary_probes_the_api_over_h1_and_h2(apigw_app: Synthesised) -> None:
    function = apigw_app.template("Canary").find_resources("AWS::Lambda::Function")
    text = json.dumps(function)
    assert "https://chat-api.example.com/api/streamcheck" in text
    cfg = load_config(CONFIG_DIR / "apigateway.yaml")
    assert cfg.canary is not None
    (path,) = (p for p in cfg.canary.paths if p.name == "apigateway")
    assert path.protocols == ("h1", "h2")


def test_cfn_lint_has_no_errors(apigw_app: Synthesised) -> None:
    assert cfn_lint_errors(apigw_app.template_files()) is None


# -- the construct on its own -------------------------------------------------------------------------


def construct_template(**props: Any) -> Template:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Api", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    StreamingRestApi(stack, "FrontDoor", origin=PublicOrigin(base_url="https://origin.example.com"), **props)
    return Template.from_stack(stack)


def test_public_origin_streams_over_the_internet_and_edge_is_opt_in() -> None:
    template = construct_template(endpoint_type=apigw.EndpointType.EDGE, tracing_enabled=True)
    template.has_resource_properties(
        METHOD,
        {
            "Integration": Match.object_like(
                {
                    "Type": "HTTP_PROXY",
                    "ConnectionType": "INTERNET",
                    "ResponseTransferMode": "STREAM",
                    "Uri": "https://origin.example.com/{proxy}",
                }
            )
        },
    )
    template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["EDGE"]}}
    )
    template.has_resource_properties(STAGE, {"TracingEnabled": True})
    template.resource_count_is("AWS::ApiGateway::VpcLink", 0)


def test_web_acl_is_associated_with_the_stage() -> None:
    arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/chat/11111111-2222-3333-4444-555555555555"
    construct_template(web_acl_arn=arn).has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {"WebACLArn": arn, "ResourceArn": Match.any_value()},
    )


def test_access_log_fields_name_no_header_values() -> None:
    assert {"requestId", "integrationLatency", "status"} <= set(ACCESS_LOG_FIELDS)
    assert not any("header" in value.lower() for value in ACCESS_LOG_FIELDS.values())


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"endpoint_type": apigw.EndpointType.PRIVATE}, "REGIONAL or EDGE"),
        ({"integration_timeout": cdk.Duration.minutes(16)}, "15 minutes"),
        ({"throttling_rate_limit": 0}, "must be positive"),
        ({"execution_log_level": apigw.MethodLoggingLevel.OFF}, "hides cut streams"),
        ({"disable_execute_api_endpoint": True}, "needs a domain"),
    ],
)
def test_construct_refuses_props_that_break_streams(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        construct_template(**props)


def test_origins_refuse_unusable_urls() -> None:
    with pytest.raises(ValueError, match="must start with https://"):
        PublicOrigin(base_url="http://origin.example.com")
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    cert = acm.Certificate.from_certificate_arn(
        stack, "C", "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    )
    with pytest.raises(ValueError, match="TLS_1_0"):
        RestApiDomain(
            domain_name="a.example.com", certificate=cert, security_policy=apigw.SecurityPolicy.TLS_1_0
        )
    with pytest.raises(ValueError, match="must start with http:// or https://"):
        VpcLinkOrigin(load_balancer=None, base_url="ftp://x")  # type: ignore[arg-type]


# -- the config section -------------------------------------------------------------------------------


PUBLIC_SUBNETS = [
    {
        "id": "subnet-0a1b2c3d4e5f60051",
        "availability_zone": "eu-west-1a",
        "route_table_id": "rtb-0a1b2c3d4e5f60051",
    }
]


def apigw_problems(tmp_path: Path, path: tuple[Any, ...], value: Any) -> list[str]:
    data = copy.deepcopy(APIGATEWAY_YAML)
    data["vpc"]["public_subnets"] = PUBLIC_SUBNETS  # so that an internet-facing NLB is placeable
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    file = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    return [line.removeprefix(f"{file}: ") for line in str(caught.value).splitlines()]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("nlb", "internet_facing"),
            True,
            "nlb.internet_facing: must be false when apigateway.origin.type is 'nlb': clients would "
            "otherwise bypass the API (its throttling and WAF) by calling the public NLB",
        ),
        (
            ("apigateway", "custom_domain", "certificate_arn"),
            "arn:aws:acm:us-east-1:123456789012:certificate/44444444-5555-6666-7777-888888888888",
            "apigateway.custom_domain.certificate_arn: a Regional endpoint needs a certificate in "
            "'eu-west-1', got one in 'us-east-1'",
        ),
        (
            ("apigateway", "throttling", "rate_limit"),
            0,
            "apigateway.throttling.rate_limit: must be 1..10000, got 0",
        ),
        (
            ("apigateway", "origin"),
            {"type": "url"},
            "apigateway.origin.url: required when type is 'url'",
        ),
        (
            ("apigateway", "authorization"),
            "none",
            "apigateway.authorization: must be one of 'service', got 'none'",
        ),
        (
            ("apigateway", "web_acl_arn"),
            "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/11111111-2222-3333-4444-555555555555",
            "apigateway.web_acl_arn: must be a web ACL in the API's Region 'eu-west-1', got one in "
            "'us-east-1'",
        ),
    ],
)
def test_bad_apigateway_config_names_the_key(
    tmp_path: Path, path: tuple[Any, ...], value: Any, expected: str
) -> None:
    assert apigw_problems(tmp_path, path, value) == [expected]
