#!/usr/bin/env python3
"""An existing CDK app (its own VPC and ECS service) that adopts streampath's constructs:

- a streaming NLB front door for its service (TLS with ALPN HTTP/1.1, long drain, cross-zone),
- a streaming CloudFront distribution in front of that NLB (no cache, no compression, long timeouts),
- the streaming canary probing its own SSE endpoint through both, with alarms and a dashboard (a stack of
  its own).

Everything is known offline: the VPC by its attributes, the certificates and the hosted zone by their ids,
so ``cdk synth`` needs no credentials and does no lookups.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from constructs import Construct
from orders_service import SERVICE_PORT, OrdersService

from streampath_cdk import (
    AlarmedPath,
    CanaryAlarms,
    CanaryDashboard,
    CanaryFunction,
    IpTargets,
    LogBucket,
    PathSpec,
    StreamingDistribution,
    StreamingNlb,
    TlsListener,
    acknowledge,
    streaming_http_origin,
)

ENV = cdk.Environment(account="111122223333", region="eu-west-1")
ZONE_ID, ZONE_NAME = "Z0EXAMPLEORDERS000001", "example.com"
NLB_HOST, CDN_HOST = "orders-nlb.example.com", "orders.example.com"
#: The CloudWatch namespace of the canary's metrics.
METRIC_NAMESPACE = "Orders/Streaming"
#: The SSE endpoint the canary probes (the streamcheck router mounted in the service).
STREAM_PATH = "/api/streamcheck?events=20&interval_ms=100"


class OrdersStack(cdk.Stack):
    """The app's stack: its service, and now the streaming front doors in front of it."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id="vpc-0e1f2a3b4c5d60001",
            vpc_cidr_block="10.50.0.0/16",
            availability_zones=["eu-west-1a", "eu-west-1b"],
            public_subnet_ids=["subnet-0e1f2a3b4c5d60001", "subnet-0e1f2a3b4c5d60002"],
            public_subnet_route_table_ids=["rtb-0e1f2a3b4c5d60001", "rtb-0e1f2a3b4c5d60001"],
            private_subnet_ids=["subnet-0e1f2a3b4c5d60011", "subnet-0e1f2a3b4c5d60012"],
            private_subnet_route_table_ids=["rtb-0e1f2a3b4c5d60011", "rtb-0e1f2a3b4c5d60012"],
        )
        orders = OrdersService(self, "Orders", vpc=vpc, image="public.ecr.aws/example/orders-api:1.4.2")

        # The NLB front door: TLS at the NLB, ALPN HTTP/1.1 (the tasks speak HTTP/1.1), IP targets that the
        # ECS service registers itself.
        nlb_logs = LogBucket(self, "NlbLogs", expiration=cdk.Duration.days(30))
        door = StreamingNlb(
            self,
            "StreamingNlb",
            vpc=vpc,
            listener=TlsListener(
                certificate=acm.Certificate.from_certificate_arn(
                    self,
                    "NlbCertificate",
                    "arn:aws:acm:eu-west-1:111122223333:certificate/0e1f2a3b-0000-4000-8000-000000000001",
                )
            ),
            targets=IpTargets(port=SERVICE_PORT, deregistration_delay=cdk.Duration.minutes(5)),
            access_log_bucket=nlb_logs.bucket,
            ingress_peers=[ec2.Peer.any_ipv4()],
        )
        acknowledge(
            door.security_group,
            "AwsSolutions-EC23",
            "Public streaming front door: browsers and the canary connect from anywhere, on port 443 only.",
        )
        orders.service.attach_to_network_target_group(door.target_group)
        orders.service.connections.allow_from(
            door.security_group, ec2.Port.tcp(SERVICE_PORT), "streaming NLB front door"
        )

        # The CloudFront front door, reaching the NLB by the name its certificate covers.
        cdn_logs = LogBucket(
            self,
            "CdnLogs",
            expiration=cdk.Duration.days(30),
            # CloudFront's standard logs are written with an ACL grant.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        )
        cdn = StreamingDistribution(
            self,
            "StreamingCdn",
            origin=streaming_http_origin(NLB_HOST),
            log_bucket=cdn_logs.bucket,
            streaming_path_patterns=["/api/*"],
            domain_names=[CDN_HOST],
            certificate=acm.Certificate.from_certificate_arn(
                self,
                "CdnCertificate",
                "arn:aws:acm:us-east-1:111122223333:certificate/0e1f2a3b-0000-4000-8000-000000000002",
            ),
            web_acl_id=(
                "arn:aws:wafv2:us-east-1:111122223333:global/webacl/orders-edge/"
                "0e1f2a3b-0000-4000-8000-000000000003"
            ),
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            comment="orders: streaming front door",
        )
        acknowledge(
            cdn.distribution,
            "AwsSolutions-CFR1",
            "Orders are placed from every country the shop ships to; no geo restriction is wanted.",
        )

        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=ZONE_ID, zone_name=ZONE_NAME
        )
        route53.ARecord(
            self,
            "NlbAlias",
            zone=zone,
            record_name=NLB_HOST,
            target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(door.load_balancer)),
        )
        route53.ARecord(
            self,
            "CdnAlias",
            zone=zone,
            record_name=CDN_HOST,
            target=route53.RecordTarget.from_alias(route53_targets.CloudFrontTarget(cdn.distribution)),
        )
        #: What the canary probes, by front door.
        self.stream_urls = {
            "nlb": f"https://{NLB_HOST}{STREAM_PATH}",
            "cloudfront": f"https://{CDN_HOST}{STREAM_PATH}",
        }


class OrdersCanaryStack(cdk.Stack):
    """The streaming canary for the app's own SSE endpoint, through each front door, with alarms and a
    dashboard. Its metrics go to the app's own namespace."""

    def __init__(
        self, scope: Construct, construct_id: str, *, stream_urls: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        period = cdk.Duration.minutes(1)
        paths = [
            # The NLB offers HTTP/1.1 only (ALPN HTTP1Only); CloudFront offers both to viewers.
            PathSpec(name="nlb", url=stream_urls["nlb"], protocols=("h1",)),
            PathSpec(name="cloudfront", url=stream_urls["cloudfront"], protocols=("h1", "h2")),
        ]
        canary = CanaryFunction(
            self, "Canary", paths=paths, namespace=METRIC_NAMESPACE, schedule_period=period
        )
        alarmed = [AlarmedPath.of(path) for path in paths]
        alarms = CanaryAlarms(
            self,
            "Alarms",
            namespace=METRIC_NAMESPACE,
            alarm_name_prefix="orders-streaming",
            paths=alarmed,
            function=canary.function,
            period=period,
            notify_emails=["orders-oncall@example.com"],
        )
        CanaryDashboard(
            self,
            "Dashboard",
            dashboard_name="orders-streaming",
            namespace=METRIC_NAMESPACE,
            paths=alarmed,
            alarms=alarms.by_path,
            function_alarms=[*alarms.function_alarms, alarms.composite],
            function=canary.function,
            period=period,
        )


def build(app: cdk.App) -> OrdersStack:
    """The app's stacks, with cdk-nag's AwsSolutions checks failing synth on any unacknowledged finding."""
    orders = OrdersStack(app, "Orders", env=ENV)
    OrdersCanaryStack(app, "OrdersCanary", stream_urls=orders.stream_urls, env=ENV)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return orders


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
