"""``python -m stacks.audit [CONFIG]``: the cdk-nag packs an auditor runs beyond AwsSolutions.

AwsSolutions is the gate: it runs on every synth and fails it (``streampath_cdk.nag.apply``). The Serverless
and NIST 800-53 R5 packs are run here, on demand, over one config's stacks: every finding is either fixed in
the templates or reasoned in the README's security review (its table of these packs' rules, one row per
rule with the rule's id in backticks). This prints each finding's rule, how many constructs it names and
whether the README reasons it, and exits 1 when a rule is neither fixed nor reasoned.

The findings come from the CDK's own policy-validation report (``validation-report.json``), not from
parsing what cdk-nag prints.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from stacks.app_builder import build_app
from streampath.config import load_config_by_name
from streampath_cdk import nag

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
#: The heading of the README section whose table reasons the audit packs' rules.
REVIEW_HEADING = "### The other cdk-nag packs"
#: A rule id as the README names it (``Serverless-LambdaTracing``, ``NIST.800.53.R5-LambdaDLQ``).
RULE_ID = re.compile(r"`((?:Serverless|NIST\.800\.53\.R5)-[A-Za-z0-9]+)`")


@dataclass(frozen=True)
class Finding:
    rule: str
    construct_path: str


def run_packs(config_name: str, outdir: Path) -> list[Finding]:
    """Synthesise ``config_name`` with AwsSolutions and the audit packs; every audit-pack finding."""
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(context={**context, "config": config_name}, outdir=str(outdir))
    build_app(app, load_config_by_name(config_name))
    nag.apply(app)
    nag.apply_audit_packs(app)
    report = outdir / "validation-report.json"
    try:
        app.synth()
    except Exception:
        # A failed validation is the expected outcome, and its report says why; anything else is raised.
        if not report.exists():
            raise
    if not report.exists():
        return []
    return _findings(json.loads(report.read_text()))


def _findings(report: dict[str, Any]) -> list[Finding]:
    found = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                found.append(Finding(violation["ruleName"], construct["constructPath"]))
    return found


def reasoned_rules(readme: Path = README) -> dict[str, str]:
    """``{rule id: "fixed" | "reasoned"}`` from the README's table of the audit packs' rules."""
    text = readme.read_text(encoding="utf-8")
    start = text.find(REVIEW_HEADING)
    if start < 0:
        raise LookupError(f"{readme.name} has no section {REVIEW_HEADING!r}")
    section = text[start:].split("\n## ", 1)[0]
    rules: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) >= 3:
            for rule in RULE_ID.findall(cells[0]):
                rules[rule] = cells[1].lower()
    return rules


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    config_name = args[0] if args else "default"
    with tempfile.TemporaryDirectory(prefix="streampath-audit-") as out:
        findings = run_packs(config_name, Path(out))
    review = reasoned_rules()
    counts = Counter(finding.rule for finding in findings)
    unreviewed = sorted(rule for rule in counts if review.get(rule) != "reasoned")
    print(f"cdk-nag Serverless + NIST 800-53 R5 over config '{config_name}': {sum(counts.values())} findings")
    for rule, count in sorted(counts.items()):
        print(f"  {rule:<52} x{count:<3} {review.get(rule, 'NOT REVIEWED')}")
    if unreviewed:
        print(f"not reasoned in README.md ({REVIEW_HEADING}): {', '.join(unreviewed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
