"""The app's own service, as it was before any streaming front door: an ECS Fargate service in private
subnets of a VPC the app already has. Nothing here comes from streampath."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

#: The port the service listens on inside each task.
SERVICE_PORT = 8080


class OrdersService(Construct):
    """``service``: the Fargate service whose tasks serve ``/api/orders/stream`` (SSE) on port 8080."""

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, image: str) -> None:
        super().__init__(scope, construct_id)
        cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        task = ecs.FargateTaskDefinition(self, "Task", cpu=512, memory_limit_mib=1024)
        task.add_container(
            "Api",
            image=ecs.ContainerImage.from_registry(image),
            port_mappings=[ecs.PortMapping(container_port=SERVICE_PORT)],
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="orders",
                log_group=logs.LogGroup(
                    self,
                    "Logs",
                    retention=logs.RetentionDays.ONE_MONTH,
                    removal_policy=cdk.RemovalPolicy.DESTROY,
                ),
            ),
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            desired_count=2,
            min_healthy_percent=100,
            max_healthy_percent=200,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )
