"""The style gates are part of `make test`, so CI enforces them, not only a developer's editor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["ruff", "check", "."], id="ruff-check"),
        pytest.param(["ruff", "format", "--check", "."], id="ruff-format"),
        pytest.param(["mypy", "."], id="mypy"),
    ],
)
def test_code_quality_gate(argv: list[str]) -> None:
    proc = subprocess.run(
        [str(BIN / argv[0]), *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"


# A clone must explain itself: code cites the repo's own docs/, never notes kept outside it.
OUTSIDE_REFERENCES = ("DESIGN.md", "AWS_FACTS", "../shared", "shared/")
CODE_SUFFIXES = (".py", ".js", ".sh", ".toml", ".yaml", ".yml", ".json")


def test_no_code_points_outside_the_repo() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.split(b"\0")
    offenders = []
    for name in (n.decode() for n in tracked if n):
        path = ROOT / name
        if name == "tests/test_code_quality.py" or not path.is_file():
            continue
        if not name.endswith(CODE_SUFFIXES) and path.name != "Makefile":
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if any(ref in line for ref in OUTSIDE_REFERENCES):
                offenders.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not offenders, "code points outside the repo (cite docs/ instead):\n" + "\n".join(offenders)
