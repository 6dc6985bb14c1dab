"""The operator's policy for ``streampath run-canary`` / ``run-load``: the canary function, invoked and its
configuration read, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cdk import Synthesised

pytestmark = pytest.mark.slow


def test_the_operator_may_invoke_the_canary_function_only(default_app: Synthesised) -> None:
    template: dict[str, Any] = default_app.templates["Canary"]
    resources = template["Resources"]
    policies = [r for r in resources.values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    (function_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    assert len(policies) == 1
    (statement,) = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"]
    assert statement["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert not policies[0]["Properties"].get("Roles") and not policies[0]["Properties"].get("Users")
