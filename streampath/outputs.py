"""Deployed stacks and their outputs, found only through ``streampath.naming`` (the stacks' contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from streampath.aws import aws_errors
from streampath.errors import Refusal
from streampath.naming import Unit, stack_name

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

# States in which a stack has no (or no trustworthy) outputs.
UNUSABLE_STATES = frozenset(
    {
        "CREATE_IN_PROGRESS",
        "CREATE_FAILED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_FAILED",
        "ROLLBACK_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_FAILED",
        "DELETE_COMPLETE",
        "REVIEW_IN_PROGRESS",
    }
)


class StackNotDeployed(Refusal):
    """The stack does not exist (or is not in a usable state) in the region."""


@dataclass(frozen=True)
class DeployedStack:
    name: str
    region: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)

    def output(self, key: str) -> str:
        """The output's value, or a refusal naming the stack, the region and the output key."""
        value = self.outputs.get(key)
        if not value:
            have = ", ".join(sorted(self.outputs)) or "none"
            raise Refusal(
                f"stack {self.name} in {self.region} has no output {key} (outputs: {have}): "
                "deploy the current version of the stack"
            )
        return value


def describe_stack(
    cfn: CloudFormationClient, region: str, env_name: str, unit: Unit, *, name: str | None = None
) -> DeployedStack:
    """The deployed ``StreamPath-<env>-<unit>`` stack (or the one called ``name``: another Region's canary,
    ``streampath.naming.canary_stack_name``); raises StackNotDeployed when it is not there."""
    name = name or stack_name(env_name, unit)
    with aws_errors(f"CloudFormation DescribeStacks {name}"):
        try:
            stacks = cfn.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ValidationError" and "does not exist" in str(error.get("Message")):
                raise StackNotDeployed(
                    f"stack {name} is not deployed in {region}: run `cdk deploy -c config={env_name} {name}` "
                    "(or check the config's region and your AWS account)"
                ) from None
            raise
    if not stacks:
        raise StackNotDeployed(f"stack {name} is not deployed in {region}")
    stack = stacks[0]
    status = stack["StackStatus"]
    if status in UNUSABLE_STATES:
        raise StackNotDeployed(f"stack {name} in {region} is {status}, so it has no usable outputs")
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", []) if "OutputKey" in o}
    return DeployedStack(name=name, region=region, status=status, outputs=outputs)
