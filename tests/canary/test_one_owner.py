"""Each canary default and rule has one owner, the contract: a second copy in the YAML models, the
constructs or the stack fails here (docs/INTERFACES.md, "Who owns which value")."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import pytest
from streampath_canary import contract

from tests.support.cdk import REPO_ROOT

#: The modules that read the canary's values; none may write one of them down again.
READERS = (
    "streampath/config/canary.py",
    "streampath/config/model.py",
    "cdk/streampath_cdk/canary_alarms.py",
    "cdk/streampath_cdk/canary_dashboard.py",
    "cdk/streampath_cdk/canary_function.py",
    "cdk/streampath_cdk/streaming_canary.py",
    "cdk/streampath_cdk/slo_alarms.py",
    "stacks/canary_stack.py",
    "stacks/canary_slo.py",
)
#: Where the rules' words may appear besides the contract: nowhere in the product's code.
SOURCE_DIRS = ("streampath", "streampath_cdk", "stacks", "lambda/canary", "examples")
CONTRACT = REPO_ROOT / "lambda" / "canary" / "streampath_canary" / "contract.py"

DEFAULTS = {
    name: value
    for name, value in vars(contract).items()
    if name.startswith("DEFAULT_") and isinstance(value, int | float) and not isinstance(value, bool)
}
#: What each rule says when it refuses (its own words, which only its function should hold).
RULE_WORDS = (
    "'h2' needs an https URL",
    "'h3' needs an https URL",
    "so runs cannot overlap",
    "must be greater than max_duration",
    "must not carry credentials",
    "a body needs method",
    "must be at most evaluation_periods",
    "bytes of environment variables",
    "must be a lower-case name like",
)


def written_defaults(tree: ast.Module) -> Iterator[tuple[int, object]]:
    """Numbers written down as a default: argument defaults, class fields, module constants."""
    for node in ast.walk(tree):
        values: list[ast.expr | None] = []
        if isinstance(node, ast.arguments):
            values = [*node.defaults, *node.kw_defaults]
        elif isinstance(node, ast.ClassDef | ast.Module):
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign | ast.Assign):
                    values.append(statement.value)
        for value in values:
            if isinstance(value, ast.Constant) and type(value.value) in (int, float):
                yield value.lineno, value.value


def test_the_contract_holds_every_default() -> None:
    assert {
        "DEFAULT_MEMORY_MB": 512,
        "DEFAULT_TIMEOUT_S": 60,
        "DEFAULT_PROBE_TIMEOUT_S": 10,
        "DEFAULT_MAX_DURATION_S": 30,
        "DEFAULT_BUFFERING_DELAY_MS": 1000,
        "DEFAULT_TIME_TO_FIRST_EVENT_MS": 5000,
        "DEFAULT_EVALUATION_PERIODS": 5,
        "DEFAULT_DATAPOINTS_TO_ALARM": 3,
    }.items() <= DEFAULTS.items()


@pytest.mark.parametrize("module", READERS)
def test_no_reader_writes_a_default_down_again(module: str) -> None:
    tree = ast.parse((REPO_ROOT / module).read_text())
    copies = [
        f"{module}:{line}: {value} (the contract's {', '.join(n for n, v in DEFAULTS.items() if v == value)})"
        for line, value in written_defaults(tree)
        if value in DEFAULTS.values()
    ]
    assert not copies, "import these from streampath_canary.contract:\n" + "\n".join(copies)


def test_a_planted_copy_is_found() -> None:
    """The check above can fail: a YAML field with a default of its own is a copy."""
    planted = ast.parse("class AlarmsConfig:\n    buffering_delay_ms: int = 1000\n")
    assert [value for _, value in written_defaults(planted) if value in DEFAULTS.values()] == [1000]


@pytest.mark.parametrize("words", RULE_WORDS)
def test_each_rule_is_written_once(words: str) -> None:
    holders = [
        path.relative_to(REPO_ROOT).as_posix()
        for directory in SOURCE_DIRS
        for path in sorted((REPO_ROOT / directory).rglob("*.py"))
        if words in path.read_text()
    ]
    assert holders == [CONTRACT.relative_to(REPO_ROOT).as_posix()]
    # ... and once inside the contract: one *_problem() function says it.
    assert len(re.findall(re.escape(words), CONTRACT.read_text())) == 1
