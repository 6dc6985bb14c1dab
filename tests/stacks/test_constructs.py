"""Construct-level checks on small stacks (no config file): the CDK-typed props, their defaults, the checks
CDK cannot make, and the same secure template in an app with no feature flags as with the project's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from stacks.app_builder import front_door_base_urls
from streampath_cdk import (
    IpTargets,
    LogBucket,
    OriginTimeouts,
    StreamingDistribution,
    StreamingNlb,
    TcpListener,
    TlsListener,
    nag,
    streaming_http_origin,
    streaming_vpc_origin,
)
from tests.support.cdk import Synthesised, cdk_context

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
NLB_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
CF_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000"
WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/streaming/a1b2c3d4-5678-90ab-cdef-000000000001"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
DISTRIBUTION = "AWS::CloudFront::Distribution"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def _vpc(stack: cdk.Stack) -> ec2.IVpc:
    """A VPC known by its attributes, as an app that owns one would pass it (no lookup)."""
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0a1b2c3d4e5f60001",
        vpc_cidr_block="10.40.0.0/16",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        public_subnet_ids=["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        public_subnet_route_table_ids=["rtb-0a1b2c3d4e5f60001", "rtb-0a1b2c3d4e5f60002"],
        private_subnet_ids=["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60012"],
        private_subnet_route_table_ids=["rtb-0a1b2c3d4e5f60011", "rtb-0a1b2c3d4e5f60012"],
    )


def _stack(context: dict[str, Any] | None = None, outdir: Path | None = None) -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(context=context, outdir=str(outdir) if outdir is not None else None)
    return app, cdk.Stack(app, "Probe", env=ENV)


def build_log_bucket(stack: cdk.Stack) -> None:
    LogBucket(stack, "Logs", expiration=cdk.Duration.days(30))


def build_tls_nlb(stack: cdk.Stack) -> None:
    logs = LogBucket(stack, "Logs", expiration=cdk.Duration.days(30))
    StreamingNlb(
        stack,
        "Door",
        vpc=_vpc(stack),
        listener=TlsListener(certificate=NLB_CERT),
        targets=IpTargets(port=8080),
        access_log_bucket=logs.bucket,
        ingress_peers=[ec2.Peer.ipv4("203.0.113.0/24")],
    )


def build_tcp_nlb_and_vpc_origin(stack: cdk.Stack) -> None:
    logs = LogBucket(
        stack,
        "Logs",
        expiration=cdk.Duration.days(30),
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    )
    door = StreamingNlb(
        stack,
        "Door",
        vpc=_vpc(stack),
        internet_facing=False,
        listener=TcpListener(port=80),
        targets=IpTargets(port=8080),
        access_log_bucket=logs.bucket,
        ingress_peers=[ec2.Peer.ipv4("10.40.0.0/16")],
    )
    StreamingDistribution(
        stack,
        "Cdn",
        origin=streaming_vpc_origin(door, protocol_policy=cloudfront.OriginProtocolPolicy.HTTP_ONLY),
        log_bucket=logs.bucket,
        domain_names=["stream.example.com"],
        certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CF_CERT),
        web_acl_id=WEB_ACL,
        geo_restriction=cloudfront.GeoRestriction.allowlist("DE", "FR"),
        streaming_path_patterns=["/api/*"],
    )


def build_public_distribution(stack: cdk.Stack) -> None:
    logs = LogBucket(
        stack,
        "Logs",
        expiration=cdk.Duration.days(30),
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    )
    StreamingDistribution(
        stack,
        "Cdn",
        origin=streaming_http_origin("api.example.com"),
        log_bucket=logs.bucket,
        domain_names=["stream.example.com"],
        certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CF_CERT),
        web_acl_id=WEB_ACL,
        geo_restriction=cloudfront.GeoRestriction.allowlist("DE"),
    )


BUILDERS: dict[str, Callable[[cdk.Stack], None]] = {
    "log-bucket": build_log_bucket,
    "tls-nlb": build_tls_nlb,
    "tcp-nlb-vpc-origin": build_tcp_nlb_and_vpc_origin,
    "public-distribution": build_public_distribution,
}


def _synth(
    build: Callable[[cdk.Stack], None], context: dict[str, Any] | None, outdir: Path
) -> dict[str, Any]:
    """Synthesise with cdk-nag on (an unacknowledged finding fails here); the template as JSON."""
    app, stack = _stack(context, outdir)
    build(stack)
    nag.apply(app)
    assembly = app.synth()
    template: dict[str, Any] = json.loads(
        (outdir / assembly.get_stack_artifact(stack.artifact_id).template_file).read_text()
    )
    return template


def _partition_literal(node: Any) -> Any:
    """``{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::1:root"]]}`` -> ``arn:aws:iam::1:root``

    The one difference the ``@aws-cdk/core:enablePartitionLiterals`` flag makes: the same ARN in the ``aws``
    partition, written literally or computed.
    """
    if isinstance(node, dict):
        join = node.get("Fn::Join")
        if len(node) == 1 and isinstance(join, list) and join[0] == "":
            parts = ["aws" if part == {"Ref": "AWS::Partition"} else part for part in join[1]]
            if all(isinstance(part, str) for part in parts):
                return "".join(parts)
        return {key: _partition_literal(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_partition_literal(item) for item in node]
    return node


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_same_template_without_feature_flags(name: str, tmp_path: Path) -> None:
    """An app with no context at all (no cdk.json) gets the template the project's flags give, and cdk-nag
    passes on it too. Only partition literals may differ, and they name the same ARNs."""
    with_flags = _synth(BUILDERS[name], cdk_context(), tmp_path / "flags")
    without = _synth(BUILDERS[name], None, tmp_path / "bare")
    assert _partition_literal(without) == _partition_literal(with_flags)


def test_cdk_nag_runs_in_an_app_without_flags(tmp_path: Path) -> None:
    def open_to_the_world(stack: cdk.Stack) -> None:
        StreamingNlb(
            stack,
            "Door",
            vpc=_vpc(stack),
            listener=TlsListener(certificate=NLB_CERT),
            targets=IpTargets(port=8080),
            access_log_bucket=None,
            ingress_peers=[ec2.Peer.any_ipv4()],
        )

    with pytest.raises(Exception, match=r"(?i)validation"):  # AwsSolutions-EC23 and -ELB2
        _synth(open_to_the_world, None, tmp_path)


def _bare_template(build: Callable[[cdk.Stack], None], tmp_path: Path) -> Template:
    return Template.from_json(_synth(build, None, tmp_path))


def test_log_bucket_without_flags_is_private_encrypted_and_logged_by_policy(tmp_path: Path) -> None:
    template = _bare_template(build_log_bucket, tmp_path)
    buckets = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert "AccessControl" not in props  # no LogDeliveryWrite ACL: log delivery is granted by policy
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ] == {"SSEAlgorithm": "AES256"}
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert bucket["DeletionPolicy"] == "Retain"
    (logged,) = [key for key, b in buckets.items() if "LoggingConfiguration" in b["Properties"]]
    (target,) = [key for key in buckets if key != logged]
    assert buckets[logged]["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": target},
        "LogFilePrefix": "s3-access-logs/",
    }
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": target},
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                    ),
                    {
                        "Action": "s3:PutObject",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Resource": {
                            "Fn::Join": ["", [{"Fn::GetAtt": [target, "Arn"]}, "/s3-access-logs/*"]]
                        },
                        "Condition": {
                            "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [logged, "Arn"]}},
                            "StringEquals": {"aws:SourceAccount": "123456789012"},
                        },
                    },
                ],
                "Version": "2012-10-17",
            },
        },
    )


def test_tls_nlb_without_flags_keeps_every_streaming_default(tmp_path: Path) -> None:
    template = _bare_template(build_tls_nlb, tmp_path)
    template.has_resource_properties(
        LISTENER,
        {
            "Protocol": "TLS",
            "Port": 443,
            "AlpnPolicy": ["HTTP1Only"],
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "Certificates": [{"CertificateArn": NLB_CERT}],
            "ListenerAttributes": Match.absent(),  # a TLS listener's idle timeout is AWS's fixed 350 s
        },
    )
    template.has_resource_properties(
        TARGET_GROUP,
        {
            "TargetType": "ip",
            "Protocol": "TCP",
            "Port": 8080,
            "HealthCheckProtocol": "HTTP",
            "HealthCheckPath": "/healthz",
            "HealthCheckPort": "traffic-port",
            "HealthCheckIntervalSeconds": 10,
            "HealthCheckTimeoutSeconds": 5,
            "HealthyThresholdCount": 2,
            "UnhealthyThresholdCount": 2,
            "TargetGroupAttributes": Match.array_with(
                [
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "120"},
                    {"Key": "preserve_client_ip.enabled", "Value": "false"},
                    {"Key": "deregistration_delay.connection_termination.enabled", "Value": "true"},
                ]
            ),
            "Targets": Match.absent(),
        },
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Type": "network",
            "Scheme": "internet-facing",
            "Subnets": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "load_balancing.cross_zone.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.prefix", "Value": "nlb"},
                ]
            ),
        },
    )
    (group,) = template.find_resources("AWS::EC2::SecurityGroup").values()
    assert group["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": "203.0.113.0/24",
            "Description": "clients from 203.0.113.0/24",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    # The only way out is to the targets' port in the VPC (the default peer is the VPC's CIDR block).
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "10.40.0.0/16",
            "Description": "to the pods (traffic and health checks)",
            "FromPort": 8080,
            "IpProtocol": "tcp",
            "ToPort": 8080,
        }
    ]


def test_tcp_nlb_and_vpc_origin_without_flags(tmp_path: Path) -> None:
    template = _bare_template(build_tcp_nlb_and_vpc_origin, tmp_path)
    template.has_resource_properties(
        LISTENER,
        {
            "Protocol": "TCP",
            "Port": 80,
            "ListenerAttributes": [{"Key": "tcp.idle_timeout.seconds", "Value": "3600"}],
            "AlpnPolicy": Match.absent(),
            "SslPolicy": Match.absent(),
        },
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"Scheme": "internal", "Subnets": ["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60012"]},
    )
    template.has_resource_properties(
        "AWS::CloudFront::VpcOrigin",
        {"VpcOriginEndpointConfig": Match.object_like({"HTTPPort": 80, "OriginProtocolPolicy": "http-only"})},
    )
    (distribution,) = template.find_resources(DISTRIBUTION).values()
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["VpcOriginConfig"]["OriginReadTimeout"] == 60
    assert origin["VpcOriginConfig"]["OriginKeepaliveTimeout"] == 60
    assert "ResponseCompletionTimeout" not in origin
    for behaviour in (config["DefaultCacheBehavior"], *config["CacheBehaviors"]):
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["Compress"] is False
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"


def test_public_distribution_without_flags_is_tls12_logged_and_uncached(tmp_path: Path) -> None:
    template = _bare_template(build_public_distribution, tmp_path)
    (distribution,) = template.find_resources(DISTRIBUTION).values()
    config = distribution["Properties"]["DistributionConfig"]
    assert config["HttpVersion"] == "http2and3"
    assert config["IPV6Enabled"] is True
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CF_CERT,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert config["WebACLId"] == WEB_ACL
    assert config["Logging"]["Prefix"] == "cloudfront/"
    assert config["Logging"]["IncludeCookies"] is False
    assert config["DefaultCacheBehavior"]["CachePolicyId"] == CACHING_DISABLED
    assert config["DefaultCacheBehavior"]["Compress"] is False
    (origin,) = config["Origins"]
    assert origin["CustomOriginConfig"] == {
        "HTTPSPort": 443,
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
        "OriginReadTimeout": 60,
        "OriginKeepaliveTimeout": 60,
    }
    assert (origin["ConnectionAttempts"], origin["ConnectionTimeout"]) == (3, 10)


def test_http1_only_distribution_with_a_response_cap() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Probe", env=ENV)
    origin = origins.HttpOrigin(
        "api.example.com",
        read_timeout=cdk.Duration.seconds(120),
        keepalive_timeout=cdk.Duration.seconds(90),
        response_completion_timeout=cdk.Duration.seconds(900),
    )
    StreamingDistribution(
        stack,
        "Door",
        origin=origin,
        streaming_path_patterns=["/api/*", "/events/*"],
        http_version=cloudfront.HttpVersion.HTTP1_1,
        price_class=cloudfront.PriceClass.PRICE_CLASS_200,
        enable_ipv6=False,
        comment="probe",
        log_bucket=s3.Bucket(stack, "Logs", object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED),
        log_includes_cookies=False,
        geo_restriction=cloudfront.GeoRestriction.allowlist("DE", "FR"),
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {
                    "HttpVersion": "http1.1",
                    "IPV6Enabled": False,
                    "PriceClass": "PriceClass_200",
                    "Restrictions": {
                        "GeoRestriction": {"Locations": ["DE", "FR"], "RestrictionType": "whitelist"}
                    },
                    "CacheBehaviors": [
                        Match.object_like({"PathPattern": "/api/*", "Compress": False}),
                        Match.object_like({"PathPattern": "/events/*", "Compress": False}),
                    ],
                    "Origins": [
                        Match.object_like(
                            {
                                "ResponseCompletionTimeout": 900,
                                "CustomOriginConfig": Match.object_like(
                                    {"OriginReadTimeout": 120, "OriginKeepaliveTimeout": 90}
                                ),
                            }
                        )
                    ],
                }
            )
        },
    )


def test_streaming_http_origin_timeouts_and_headers() -> None:
    _, stack = _stack()
    StreamingDistribution(
        stack,
        "Door",
        origin=streaming_http_origin(
            "api.example.com",
            https_port=8443,
            custom_headers={"X-Origin-Verify": "{{resolve:secretsmanager:arn:example}}"},
            timeouts=OriginTimeouts(
                read_timeout=cdk.Duration.seconds(120), response_completion_timeout=cdk.Duration.hours(1)
            ),
        ),
        log_bucket=None,
    )
    (distribution,) = Template.from_stack(stack).find_resources(DISTRIBUTION).values()
    config = distribution["Properties"]["DistributionConfig"]
    assert "Logging" not in config
    (origin,) = config["Origins"]
    assert origin["ResponseCompletionTimeout"] == 3600
    assert origin["CustomOriginConfig"]["HTTPSPort"] == 8443
    assert origin["CustomOriginConfig"]["OriginReadTimeout"] == 120
    assert origin["OriginCustomHeaders"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": "{{resolve:secretsmanager:arn:example}}"}
    ]


def _certificate(kind: str, stack: cdk.Stack) -> str | elbv2.IListenerCertificate | acm.ICertificate:
    if kind == "listener-certificate":
        return elbv2.ListenerCertificate.from_arn(NLB_CERT)
    if kind == "acm-certificate":
        return acm.Certificate.from_certificate_arn(stack, "Cert", NLB_CERT)
    return NLB_CERT


@pytest.mark.parametrize("kind", ["arn", "listener-certificate", "acm-certificate"])
def test_tls_listener_takes_an_arn_or_either_certificate_interface(kind: str) -> None:
    _, stack = _stack()
    cert = _certificate(kind, stack)
    StreamingNlb(
        stack,
        "Door",
        vpc=_vpc(stack),
        listener=TlsListener(certificate=cert, port=8443, alpn_policy=elbv2.AlpnPolicy.HTTP2_OPTIONAL),
        targets=IpTargets(
            port=8080,
            peer=ec2.Peer.ipv4("10.40.8.0/21"),
            health_check=elbv2.HealthCheck(protocol=elbv2.Protocol.HTTPS, path="/ready"),
            deregistration_delay=cdk.Duration.minutes(5),
            preserve_client_ip=True,
        ),
        access_log_bucket=None,
        cross_zone_enabled=False,
        deletion_protection=True,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        LISTENER,
        {"Port": 8443, "AlpnPolicy": ["HTTP2Optional"], "Certificates": [{"CertificateArn": NLB_CERT}]},
    )
    template.has_resource_properties(
        TARGET_GROUP,
        {
            "HealthCheckProtocol": "HTTPS",
            "HealthCheckPath": "/ready",
            "TargetGroupAttributes": Match.array_with(
                [
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "300"},
                    {"Key": "preserve_client_ip.enabled", "Value": "true"},
                ]
            ),
        },
    )
    (group,) = template.find_resources("AWS::EC2::SecurityGroup").values()
    assert group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "10.40.8.0/21"
    (balancer,) = template.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    assert attributes["load_balancing.cross_zone.enabled"] == "false"
    assert attributes["deletion_protection.enabled"] == "true"
    assert "access_logs.s3.enabled" not in attributes


def test_allow_clients_from_a_prefix_list_with_a_description() -> None:
    _, stack = _stack()
    door = StreamingNlb(
        stack,
        "Door",
        vpc=_vpc(stack),
        listener=TcpListener(port=443, idle_timeout=cdk.Duration.seconds(6000)),
        targets=IpTargets(port=8443),
        access_log_bucket=None,
    )
    door.allow_clients_from(ec2.Peer.prefix_list("pl-4fa04526"), "CloudFront origin-facing servers")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "SourcePrefixListId": "pl-4fa04526",
            "FromPort": 443,
            "ToPort": 443,
            "Description": "CloudFront origin-facing servers",
        },
    )
    template.has_resource_properties(
        LISTENER, {"ListenerAttributes": [{"Key": "tcp.idle_timeout.seconds", "Value": "6000"}]}
    )
    assert door.listener_props.effective_idle_timeout.to_seconds() == 6000
    assert TlsListener(certificate=NLB_CERT).effective_idle_timeout.to_seconds() == 350


@pytest.mark.parametrize(
    ("make", "prop"),
    [
        (
            lambda: TlsListener(certificate=NLB_CERT, idle_timeout=cdk.Duration.seconds(3600)),
            "TlsListener.idle_timeout",
        ),
        (lambda: TcpListener(port=80, idle_timeout=cdk.Duration.seconds(30)), "TcpListener.idle_timeout"),
        (lambda: TcpListener(port=80, idle_timeout=cdk.Duration.seconds(7200)), "TcpListener.idle_timeout"),
        (lambda: TcpListener(port=0), "TcpListener.port"),
        (lambda: TlsListener(certificate=NLB_CERT, port=70000), "TlsListener.port"),
        (
            lambda: IpTargets(port=8080, deregistration_delay=cdk.Duration.hours(2)),
            "IpTargets.deregistration_delay",
        ),
    ],
)
def test_props_aws_would_refuse_fail_naming_the_prop(make: Callable[[], object], prop: str) -> None:
    with pytest.raises(ValueError, match=rf"^{prop}: "):
        make()


def test_tls_listener_accepts_its_fixed_idle_timeout_spelled_out() -> None:
    TlsListener(certificate=NLB_CERT, idle_timeout=cdk.Duration.seconds(350))


def test_vpc_origin_refuses_a_tls_listener() -> None:
    _, stack = _stack()
    door = StreamingNlb(
        stack,
        "Door",
        vpc=_vpc(stack),
        listener=TlsListener(certificate=NLB_CERT),
        targets=IpTargets(port=8080),
        access_log_bucket=None,
    )
    with pytest.raises(
        ValueError, match=r"^nlb: a CloudFront VPC origin cannot use an NLB with a TLS listener"
    ):
        streaming_vpc_origin(door)
    with pytest.raises(ValueError, match=r"^protocol_policy: "):
        streaming_vpc_origin(door.load_balancer, protocol_policy=cloudfront.OriginProtocolPolicy.MATCH_VIEWER)


def test_custom_domain_without_certificate_fails_naming_the_prop() -> None:
    _, stack = _stack()
    with pytest.raises(ValueError, match=r"^certificate: domain_names need an ACM certificate"):
        StreamingDistribution(
            stack,
            "Door",
            origin=streaming_http_origin("api.example.com"),
            log_bucket=None,
            domain_names=["stream.example.com"],
        )


def test_front_door_base_urls_for_the_canary(default_app: Synthesised, staging_app: Synthesised) -> None:
    urls = front_door_base_urls(default_app.stacks)
    assert urls["nlb"] == "https://stream-nlb.example.com"
    assert urls["cloudfront"].startswith("https://")  # the distribution's domain name (a token)
    staging = front_door_base_urls(staging_app.stacks)
    assert staging["cloudfront"] == "https://stage-api.example.com"
    assert staging["nlb"].startswith("http://")  # internal TCP listener on port 80: plain HTTP in the VPC


def test_cloudfront_deploys_after_its_nlb_origin(any_app: Synthesised) -> None:
    assert any_app.stacks["Nlb"] in any_app.stacks["CloudFront"].dependencies
