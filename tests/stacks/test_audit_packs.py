"""The Serverless and NIST 800-53 R5 cdk-nag packs over the default config: each finding fixed or reasoned.

AwsSolutions gates every synth; these two packs are an auditor's view (``make audit``). A rule they report
that the README's security review neither reasons nor records as fixed fails here, and so does a row the
README keeps for a rule that no longer fires (a stale reason reads like a live one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks import audit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[audit.Finding]:
    return audit.run_packs("default", tmp_path_factory.mktemp("audit"))


def test_both_packs_ran_and_reported(findings: list[audit.Finding]) -> None:
    rules = {finding.rule for finding in findings}
    assert any(rule.startswith("Serverless-") for rule in rules)
    assert any(rule.startswith("NIST.800.53.R5-") for rule in rules)


def test_every_finding_is_reasoned_in_the_readme(findings: list[audit.Finding]) -> None:
    review = audit.reasoned_rules()
    unreviewed = sorted({f.rule for f in findings if review.get(f.rule) != "reasoned"})
    assert unreviewed == [], f"reason these in README.md ({audit.REVIEW_HEADING}) or fix them"


def test_no_reason_is_kept_for_a_rule_that_no_longer_fires(findings: list[audit.Finding]) -> None:
    fired = {finding.rule for finding in findings}
    stale = sorted(
        rule for rule, status in audit.reasoned_rules().items() if status == "reasoned" and rule not in fired
    )
    assert stale == [], "these rules no longer fire on the default config: mark them fixed or drop the row"


def test_fixed_rules_do_not_fire(findings: list[audit.Finding]) -> None:
    fired = {finding.rule for finding in findings}
    fixed = {rule for rule, status in audit.reasoned_rules().items() if status == "fixed"}
    assert fired & fixed == set()


def test_an_unreasoned_rule_fails_the_audit(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    table = "| rule | status | why |\n|---|---|---|\n| `Serverless-LambdaTracing` | reasoned | x |\n"
    readme.write_text(f"{audit.REVIEW_HEADING}\n\n{table}")
    assert audit.reasoned_rules(readme) == {"Serverless-LambdaTracing": "reasoned"}
    readme.write_text("# no such section\n")
    with pytest.raises(LookupError):
        audit.reasoned_rules(readme)
