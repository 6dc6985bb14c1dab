"""The NLB front door: each streaming-critical property, asserted on the synthesised templates."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import yaml
from aws_cdk.assertions import Capture, Match, Template

from stacks.nlb_stack import NlbStack, NlbStackProps
from streampath import naming
from streampath.config import CONFIG_DIR, load_config
from tests.support.cdk import Synthesised, cdk_context

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"


def test_tls_listener_terminates_tls_with_http1_alpn_and_recommended_policy(default_app: Synthesised) -> None:
    template = default_app.template("Nlb")
    template.resource_count_is(LISTENER, 1)
    template.has_resource_properties(
        LISTENER,
        {
            "Protocol": "TLS",
            "Port": 443,
            "AlpnPolicy": ["HTTP1Only"],
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "Certificates": [
                {
                    "CertificateArn": (
                        "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
                    )
                }
            ],
        },
    )


def test_tls_listener_has_no_idle_timeout_attribute(default_app: Synthesised) -> None:
    # TLS listeners are fixed at 350 s: setting tcp.idle_timeout.seconds on one fails the deployment.
    listener = default_app.template("Nlb").find_resources(LISTENER)
    (props,) = (resource["Properties"] for resource in listener.values())
    assert "ListenerAttributes" not in props


def test_tcp_listener_sets_long_idle_timeout(staging_app: Synthesised) -> None:
    template = staging_app.template("Nlb")
    template.has_resource_properties(
        LISTENER,
        {
            "Protocol": "TCP",
            "Port": 80,
            "ListenerAttributes": Match.array_with([{"Key": "tcp.idle_timeout.seconds", "Value": "3600"}]),
            "AlpnPolicy": Match.absent(),
            "SslPolicy": Match.absent(),
        },
    )


def test_ip_target_group_tuned_for_long_streams(default_app: Synthesised) -> None:
    default_app.template("Nlb").has_resource_properties(
        TARGET_GROUP,
        {
            "TargetType": "ip",
            "Protocol": "TCP",
            "Port": 8080,
            "HealthCheckProtocol": "HTTP",
            "HealthCheckPath": "/healthz",
            "HealthCheckPort": "traffic-port",
            "TargetGroupAttributes": Match.array_with(
                [
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "120"},
                    {"Key": "preserve_client_ip.enabled", "Value": "false"},
                    {"Key": "deregistration_delay.connection_termination.enabled", "Value": "true"},
                ]
            ),
            "Targets": Match.absent(),  # the AWS Load Balancer Controller's TargetGroupBinding owns targets
        },
    )


def test_production_drains_longer(production_app: Synthesised) -> None:
    production_app.template("Nlb").has_resource_properties(
        TARGET_GROUP,
        {
            "TargetGroupAttributes": Match.array_with(
                [{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}]
            )
        },
    )


def test_load_balancer_cross_zone_access_logs_and_security_group(default_app: Synthesised) -> None:
    template = default_app.template("Nlb")
    log_bucket = Capture()
    security_group = Capture()
    template.has_resource_properties(
        LOAD_BALANCER,
        {
            "Type": "network",
            "Scheme": "internet-facing",
            "Subnets": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003"],
            "SecurityGroups": [{"Fn::GetAtt": [security_group, "GroupId"]}],
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "load_balancing.cross_zone.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": log_bucket}},
                ]
            ),
        },
    )
    resources = template.to_json()["Resources"]
    assert resources[log_bucket.as_string()]["Type"] == "AWS::S3::Bucket"
    sg = resources[security_group.as_string()]["Properties"]
    assert sg["SecurityGroupIngress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "clients from 0.0.0.0/0",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    # Egress only to the pods' port inside the VPC (no allow-all outbound).
    assert sg["SecurityGroupEgress"] == [
        {
            "CidrIp": "10.0.0.0/16",
            "Description": "to the pods (traffic and health checks)",
            "FromPort": 8080,
            "IpProtocol": "tcp",
            "ToPort": 8080,
        }
    ]
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"SourcePrefixListId": "pl-4fa04526", "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp"},
    )


def test_internal_nlb_in_private_subnets(staging_app: Synthesised) -> None:
    staging_app.template("Nlb").has_resource_properties(
        LOAD_BALANCER,
        {"Scheme": "internal", "Subnets": ["subnet-0a57a91e000000011", "subnet-0a57a91e000000012"]},
    )


def test_production_nlb_admits_only_cloudfront(production_app: Synthesised) -> None:
    template = production_app.template("Nlb")
    sg = template.find_resources("AWS::EC2::SecurityGroup")
    (props,) = (resource["Properties"] for resource in sg.values())
    assert "SecurityGroupIngress" not in props
    template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {"SourcePrefixListId": "pl-3b927c52"})
    template.has_resource_properties(
        LOAD_BALANCER,
        {
            "LoadBalancerAttributes": Match.array_with(
                [{"Key": "deletion_protection.enabled", "Value": "true"}]
            )
        },
    )


def test_log_buckets_encrypted_ssl_only_private_expiring_and_logged(any_app: Synthesised) -> None:
    for unit in ("Nlb", "CloudFront"):
        template = any_app.template(unit)
        buckets = template.find_resources("AWS::S3::Bucket")
        assert len(buckets) == 2  # the log bucket and the bucket holding its S3 server access logs
        for bucket in buckets.values():
            props = bucket["Properties"]
            assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
                "ServerSideEncryptionByDefault"
            ] == {"SSEAlgorithm": "AES256"}
            assert props["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }
            assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] > 0
            assert bucket["DeletionPolicy"] == "Retain"
        logged = [b for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
        assert len(logged) == 1
        template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                }
            },
        )


def test_alias_record_without_lookup(default_app: Synthesised) -> None:
    default_app.template("Nlb").has_resource_properties(
        "AWS::Route53::RecordSet",
        {"Name": "stream-nlb.example.com.", "Type": "A", "HostedZoneId": "Z0123456789EXAMPLE0AB"},
    )


def test_outputs_use_the_contract_names(any_app: Synthesised) -> None:
    outputs = any_app.templates["Nlb"]["Outputs"]
    for key in (
        naming.OUTPUT_NLB_DNS_NAME,
        naming.OUTPUT_NLB_ARN,
        naming.OUTPUT_TARGET_GROUP_ARN,
        naming.OUTPUT_NLB_SECURITY_GROUP_ID,
    ):
        assert key in outputs, key


def test_stack_names_and_environment(any_app: Synthesised) -> None:
    stack = any_app.stacks["Nlb"]
    assert stack.stack_name == naming.stack_name(any_app.config_name, "Nlb")
    assert stack.account == "123456789012"
    assert stack.region in ("eu-west-1", "us-east-1")


def test_tls_passthrough_listener_health_checks_over_https(tmp_path: Path) -> None:
    """A TCP listener on 443 passes TLS through: the pods speak TLS on the target port, so an HTTP health
    check would mark every target unhealthy. TLS termination at the NLB keeps HTTP (see above)."""
    data = yaml.safe_load((CONFIG_DIR / "default.yaml").read_text())
    listener = data["nlb"]["listener"]
    listener.update(mode="tcp", port=443)
    del listener["certificate_arn"], listener["alpn_policy"]
    path = tmp_path / "passthrough.yaml"
    path.write_text(yaml.safe_dump(data))
    cfg = load_config(path)
    app = cdk.App(context=cdk_context())
    assert cfg.nlb is not None and cfg.vpc is not None
    props = NlbStackProps(nlb=cfg.nlb, vpc=cfg.vpc, service=cfg.service)
    stack = NlbStack(app, "Passthrough", props=props, env=cdk.Environment(region=cfg.region))
    template = Template.from_stack(stack)
    template.has_resource_properties(LISTENER, {"Protocol": "TCP", "Port": 443})
    template.has_resource_properties(
        TARGET_GROUP, {"HealthCheckProtocol": "HTTPS", "HealthCheckPath": "/healthz", "Port": 8080}
    )
