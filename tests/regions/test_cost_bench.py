"""bench/canary_cost.py prints the per-Region and N-Region table from bench/canary_bench.py's prices."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from streampath_canary.contract import METRICS

from tests.regions.support import THREE_REGIONS, config_data, load
from tests.support.cdk import assert_no_node_banner

REPO = Path(__file__).resolve().parents[2]


def money(cell: str) -> float:
    match = re.fullmatch(r"\$(\d+\.\d\d)", cell.strip())
    assert match, cell
    return float(match.group(1))


def test_table_adds_up(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "canary_cost.py"), "--duration-ms", "2000", "--regions", "1,3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert_no_node_banner(proc.stderr)
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in proc.stdout.splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    by_label = {row[0]: row for row in rows}
    home = by_label["home Region (all 4 paths)"]
    other = by_label["each other Region (3 public paths)"]
    # what config/default.yaml probes: every path at home, the three public ones elsewhere
    cfg = load(tmp_path, config_data(THREE_REGIONS))
    probes = [sum(len(p.protocols) for p in d.paths) for d in cfg.canary_deployments[:2]]
    assert [int(home[1]), int(other[1])] == probes
    # 43,200 runs x (0.5 GB x 2 s x arm64 GB-s price + request price); each contract metric per probe
    assert money(home[3]) == money(other[3]) == 0.58
    assert [money(home[4]), money(other[4])] == [round(n * len(METRICS) * 0.30, 2) for n in probes]
    # 3 alarms per probe + 2 function alarms at $0.10, a composite per path + the top one at $0.50
    assert [money(home[5]), money(other[5])] == [
        round((3 * n + 2) * 0.10 + (paths + 1) * 0.50, 2) for n, paths in zip(probes, (4, 3), strict=True)
    ]
    one, three = by_label["1"], by_label["3"]
    assert money(one[1]) == round(money(home[6]) + 3.00, 2)
    assert abs(money(three[1]) - (money(home[6]) + 2 * money(other[6]) + 3.00)) < 0.02
    assert (money(one[2]), money(three[2])) == (51.84, 155.52)  # $0.0012 x 43,200 runs per location
