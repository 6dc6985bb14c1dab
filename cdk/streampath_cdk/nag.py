"""cdk-nag (3.x) registration and the one helper for acknowledging a finding on a construct.

``apply(app)`` registers the AwsSolutions pack as a CDK policy-validation plugin: any finding that is not
acknowledged (warnings included) fails ``cdk synth``. Acknowledge on the narrowest construct, with a reason
specific to that construct, through :func:`acknowledge` so every acknowledgement is greppable.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks
from constructs import IConstruct


def apply(app: cdk.App) -> None:
    """Run the AwsSolutions checks on every stack of ``app`` when it synthesises."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def apply_audit_packs(app: cdk.App) -> None:
    """Also run the Serverless and NIST 800-53 R5 packs: an auditor's view, not the synth gate."""
    cdk.Validations.of(app).add_plugins(ServerlessChecks(app), NIST80053R5Checks(app))


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (``AwsSolutions-EC23``, ``AwsSolutions-IAM5[Resource::*]``)."""
    if len(reason) < 20:
        raise ValueError(f"acknowledgement of {rule_id} needs a specific reason, got {reason!r}")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
