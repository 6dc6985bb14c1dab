"""`make synth` in a copy of the checkout, on a PATH without apt-get, dpkg, sudo or curl, as on a Mac.

The same PATH shows what `make test` and `make lab` say there, and a bad config's failed synth leaves the
previous cdk.out as it was.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.setup.conftest import ABSENT_TOOLS, clean_env
from tests.support.cdk import assert_no_node_banner


@dataclass(frozen=True)
class Run:
    """One command's exit status and its output (stdout and stderr as the terminal shows them)."""

    returncode: int
    output: str


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> Run:
    proc = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
    )
    return Run(proc.returncode, proc.stdout)


def tree_digest(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def laptop_env(portable_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_env(str(portable_bin), tmp_path_factory.mktemp("laptop-home"))


@pytest.fixture(scope="module")
def synthesised_copy(checkout_copy: Path, laptop_env: dict[str, str]) -> tuple[Path, Run]:
    """`make synth` once in the copy, over a stale cdk.out that a good synth must replace whole."""
    stale = checkout_copy / "cdk.out"
    stale.mkdir()
    (stale / "stale-marker").write_text("from an earlier synth\n")
    return checkout_copy, run(["make", "synth"], checkout_copy, laptop_env)


def test_the_laptop_path_has_no_debian_tooling(portable_bin: Path) -> None:
    for name in ABSENT_TOOLS:
        assert shutil.which(name, path=str(portable_bin)) is None, name
    assert shutil.which("node", path=str(portable_bin))
    assert shutil.which("python3", path=str(portable_bin))


@pytest.mark.slow
def test_make_synth_passes_without_apt_dpkg_sudo_or_curl(synthesised_copy: tuple[Path, Run]) -> None:
    root, result = synthesised_copy
    assert result.returncode == 0, result.output
    assert "command not found" not in result.output
    assert_no_node_banner(result.output)
    out = root / "cdk.out"
    names = sorted(path.name for path in out.glob("*.template.json"))
    assert names == [
        "StreamPath-default-Canary.template.json",
        "StreamPath-default-CloudFront.template.json",
        "StreamPath-default-Nlb.template.json",
    ]
    assert not (out / "stale-marker").exists(), "a good synth replaces cdk.out whole"
    for name in names:
        assert f"cdk.out/{name}" in result.output
    # The staging directory is gone, and nothing in the assembly points into it.
    assert not list((root / "build").glob("cdk.out.synth-*"))
    assert "cdk.out.synth-" not in (out / "manifest.json").read_text()


@pytest.mark.slow
def test_a_failed_synth_leaves_the_previous_cdk_out(
    synthesised_copy: tuple[Path, Run], laptop_env: dict[str, str]
) -> None:
    root, first = synthesised_copy
    assert first.returncode == 0, first.output
    before = tree_digest(root / "cdk.out")
    bad = root.parent / "bad.yaml"
    text = (root / "config" / "default.yaml").read_text()
    assert "    alpn_policy: HTTP1Only\n" in text
    bad.write_text(
        text.replace(
            "    alpn_policy: HTTP1Only\n", "    alpn_policy: HTTP1Only\n    idle_timeout_seconds: 7200\n"
        )
    )
    result = run(["make", "synth", f"CONFIG={bad}"], root, laptop_env)
    assert result.returncode != 0
    assert "nlb.listener.idle_timeout_seconds: must be 60..6000, got 7200" in result.output
    assert "the previous cdk.out/ is left as it was" in result.output
    assert tree_digest(root / "cdk.out") == before
    assert not list((root / "build").glob("cdk.out.synth-*"))


@pytest.mark.parametrize("target", ["test", "lab", "bench"])
def test_targets_needing_system_packages_say_what_to_install_without_apt(
    target: str, checkout_copy: Path, laptop_env: dict[str, str]
) -> None:
    # nginx and haproxy may still be found in /usr/sbin (where the lab looks too); curl is off this PATH,
    # and the browser reader's Chromium is pointed at nothing.
    env = {**laptop_env, "STREAMPROBE_CHROMIUM": str(checkout_copy.parent / "no-chromium")}
    result = run(["make", target], checkout_copy, env, timeout=120)
    assert result.returncode != 0
    assert "command not found" not in result.output, result.output
    assert "there is no apt-get here" in result.output, result.output
    lines = result.output.splitlines()
    assert any("system programs this machine lacks:" in line and "curl" in line for line in lines)
    assert any("(Debian packages:" in line and "curl chromium caddy" in line for line in lines), result.output
    assert any(
        line.startswith("bootstrap:   Homebrew (macOS):  brew install ")
        and "curl caddy && brew install --cask chromium" in line
        for line in lines
    ), result.output
    assert "scripts/apt-packages.txt" in result.output
    assert "make synth needs none of them" in result.output
    # The bootstrap stopped before anything else ran.
    assert "test session starts" not in result.output
    assert "installing" not in result.output


def test_system_packages_found_on_path_need_no_apt(
    checkout_copy: Path, portable_bin: Path, laptop_env: dict[str, str], tmp_path: Path
) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    curl = shutil.which("curl")
    assert curl, "curl is not installed: make bootstrap-all"
    extra = tmp_path / "bin"
    extra.mkdir()
    (extra / "curl").symlink_to(curl)
    # Every command of scripts/apt-packages.txt (its second column; curl and chromium are handled above).
    commands = [
        [*line.split(), line.split()[0]][1]
        for line in (checkout_copy / "scripts" / "apt-packages.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name in (c for c in commands if c not in ("curl", "chromium")):
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")
        assert found, f"{name} is not installed: make bootstrap-all"
        (extra / name).symlink_to(found)
    env = {**laptop_env, "PATH": f"{extra}:{portable_bin}", "STREAMPROBE_CHROMIUM": chromium}
    result = run(["scripts/bootstrap.sh", "system"], checkout_copy, env, timeout=60)
    assert result.returncode == 0, result.output
    assert result.output == ""
