"""The Docker-free bundle: what goes in, that its versions are the dev venv's, that its hash follows its
inputs, and that the handler runs from it alone in a clean interpreter (``python -I -S``: no
site-packages, no PYTHONPATH, only the asset directory on ``sys.path``)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamcheck.reference_app import app as reference_app

from streampath_cdk.canary_function import canary_bundler, canary_requirements
from streampath_cdk.local_bundling import (
    WHEEL_CACHE_ENV_VAR,
    BundlingError,
    canonical_name,
    inputs_hash,
    installed_distributions,
    installed_versions,
    package_dir,
    pinned_requirements,
    read_constraints,
    wheel_dir,
)
from tests.canary.support import PROBE_STACK, assert_design_emf, run_handler
from tests.support.cdk import REPO_ROOT
from tests.support.servers import RunningServer, hypercorn_server, uvicorn_server
from tests.support.tls import tls_files

CONSTRAINTS_FILE = REPO_ROOT / "constraints.txt"
PROBE_PROJECT_DIR = REPO_ROOT / "probe"


@pytest.fixture(scope="module")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("canary-asset")
    assert canary_bundler().try_bundle(str(out)) is True
    yield out
    shutil.rmtree(out, ignore_errors=True)


def asset_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def relative_files(path: Path) -> set[str]:
    return {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}


def test_asset_contents(asset: Path) -> None:
    names = {p.name for p in asset.iterdir()}
    files = relative_files(asset)
    handler_package = {"handler.py", "contract.py", "runner.py", "metrics.py", "auth_secrets.py"}
    assert {f"streampath_canary/{name}" for name in handler_package} <= files
    # The probe is installed from its own distribution (a wheel built from probe/), not copied.
    assert {"streamprobe/__init__.py", "streamprobe/probing.py"} <= files
    assert any(name.startswith("streamprobe-") and name.endswith(".dist-info") for name in names)
    assert {"httpx", "h2", "aws_lambda_powertools"} <= names
    assert not {"boto3", "botocore"} & names, "boto3 is part of the Lambda Python runtime"
    assert not list(asset.rglob("__pycache__")) and not list(asset.rglob("*.pyc"))
    assert not (asset / "tests").exists() and not (asset / "bin").exists()
    # Compiled code only where HTTP/3 and WebSockets need it, and only Linux shared objects (built for the
    # Lambda's arm64, whatever machine bundles: tests/canary_h3 reads their ELF headers and wheel tags).
    assert not [p for p in asset.rglob("*") if p.suffix in (".pyd", ".dylib")]
    compiled = {p.relative_to(asset).parts[0] for p in asset.rglob("*.so")}
    assert compiled == {
        "aioquic",
        "pylsqpack",
        "cryptography",
        "_cffi_backend.cpython-314-aarch64-linux-gnu.so",
        "websockets",
    }
    size = asset_size(asset)
    print(f"\ncanary asset: {size / 1e6:.1f} MB unzipped, {len(files)} files")
    assert size < 25e6


def test_asset_holds_only_what_the_lambda_runs(asset: Path) -> None:
    files = relative_files(asset)
    # Browser-side files (the probe's reader script, Powertools' Swagger UI) and the probe's CLI.
    assert not [f for f in files if f.endswith((".js", ".css"))]
    assert not [f for f in files if f.startswith(("streamprobe/browser", "streamprobe/cli.py"))]
    assert not [f for f in files if f.endswith("/py.typed")], "type checkers' markers, ours included"
    # pip's bookkeeping goes; the metadata importlib.metadata reads, the wheel tags and the licences stay.
    infos = [f for f in files if f.split("/")[0].endswith(".dist-info")]
    assert infos and not [f for f in infos if f.rsplit("/", 1)[-1] in ("RECORD", "INSTALLER")]
    assert all((info / "WHEEL").is_file() for info in asset.glob("*.dist-info"))
    assert (asset / "httpx-0.28.1.dist-info" / "METADATA").is_file()
    assert [f for f in infos if f.startswith("httpx-") and "LICENSE" in f]


def _imported_modules(path: Path, module: str) -> Iterator[str]:
    """Every module an ``import`` statement anywhere in ``path`` names (lazy ones inside functions too)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            yield name
            yield from (f"{name}.{alias.name}" for alias in node.names)


def test_nothing_left_in_the_asset_imports_what_was_dropped(asset: Path) -> None:
    """The exclusions are safe: no import statement of a kept module reaches a dropped probe module."""
    installed = package_dir("streamprobe").parent
    dropped = {
        p.relative_to(installed).with_suffix("").as_posix().replace("/", ".")
        for p in (installed / "streamprobe").rglob("*.py")
        if not (asset / p.relative_to(installed)).exists()
    }
    assert "streamprobe.cli" in dropped
    offending = []
    for path in asset.rglob("*.py"):
        relative = path.relative_to(asset).with_suffix("")
        module = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
        offending += [
            f"{module} imports {name}" for name in _imported_modules(path, module) if name in dropped
        ]
    assert not offending


def test_asset_versions_are_the_dev_venvs(asset: Path) -> None:
    """The Lambda runs exactly the versions the tests run: both come from constraints.txt (the asset's
    through the versions installed in the dev venv)."""
    pins = read_constraints(CONSTRAINTS_FILE)
    probe_version = tomllib.loads((PROBE_PROJECT_DIR / "pyproject.toml").read_text())["project"]["version"]
    installed = dict(d.split("==") for d in installed_distributions(asset))
    assert installed.pop("streamprobe") == probe_version == importlib.metadata.version("streamprobe")
    assert {"httpx", "h2", "httpcore", "aws-lambda-powertools"} <= set(installed)
    # The HTTP/3 stack too, compiled parts included.
    assert {"aioquic", "pylsqpack", "cryptography", "cffi", "pyopenssl", "service-identity"} <= set(installed)
    for name, version in installed.items():
        assert pins[name] == version, name
        assert importlib.metadata.version(name) == version, f"{name}: dev venv differs from the asset"


def test_requirements_come_from_the_canarys_metadata_and_versions_from_this_environment(
    tmp_path: Path,
) -> None:
    canary = tomllib.loads((REPO_ROOT / "lambda" / "canary" / "pyproject.toml").read_text())
    declared = [re.split(r"[=<>]", spec, maxsplit=1)[0] for spec in canary["project"]["dependencies"]]
    assert canary_requirements() == tuple(declared) == ("streamprobe[h3,ws]", "aws-lambda-powertools")
    pins = installed_versions()
    assert pinned_requirements(("httpx[http2]", "aws-lambda-powertools"), pins, "here") == (
        f"httpx[http2]=={pins['httpx']}",
        f"aws-lambda-powertools=={pins['aws-lambda-powertools']}",
    )
    # The probe is copied as installed; what it and Powertools need is fetched, at the versions here.
    assert canary_bundler().requirements == tuple(
        sorted(
            f"{name}=={pins[canonical_name(name.partition('[')[0])]}"
            for name in (
                "aioquic",
                "aws-lambda-powertools",
                "certifi",
                "httpx[http2]",
                "pyopenssl",
                "service-identity",
                "websockets",
            )
        )
    )
    assert canonical_name("aws_lambda_powertools") == "aws-lambda-powertools"
    with pytest.raises(BundlingError, match="give a name"):
        pinned_requirements(("httpx==0.1",), pins, "here")
    with pytest.raises(BundlingError, match="here has no version of not-pinned-anywhere"):
        pinned_requirements(("not-pinned-anywhere",), pins, "here")
    with pytest.raises(BundlingError, match="is missing"):
        read_constraints(tmp_path / "constraints.txt")


def test_inputs_hash_tracks_the_copied_files_and_versions_not_bytecode(tmp_path: Path) -> None:
    handler = tmp_path / "streampath_canary" / "handler.py"
    handler.parent.mkdir()
    handler.write_text("x = 1\n")
    probe = tmp_path / "streamprobe" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("y = 1\n")
    files = [("streampath_canary/handler.py", handler), ("streamprobe/probe.py", probe)]

    def digest(distributions: tuple[str, ...] = ("httpx==0.28.1",), platform: str = "p") -> str:
        return inputs_hash(files=files, distributions=distributions, items=("--platform", platform))

    first = digest()
    assert (
        inputs_hash(files=files[::-1], distributions=("httpx==0.28.1",), items=("--platform", "p")) == first
    )
    assert digest(distributions=("httpx==0.28.2",)) != first
    assert digest(platform="q") != first
    probe.write_text("y = 2\n")
    second = digest()
    assert second != first, "the probe's files are an input"
    handler.write_text("x = 2\n")
    assert digest() != second
    # Where a file is in the asset counts, not where it was copied from.
    moved = tmp_path / "elsewhere.py"
    shutil.copy2(handler, moved)
    assert (
        inputs_hash(
            files=[("streampath_canary/handler.py", moved), files[1]],
            distributions=("httpx==0.28.1",),
            items=("--platform", "p"),
        )
        == digest()
    )


def test_asset_hash_ignores_distributions_outside_the_asset(tmp_path: Path) -> None:
    """Another version of a dev tool installed next to the canary keeps the asset hash, so the function
    is not redeployed; it does rebuild the cached tree (offline, from the wheel cache)."""
    pins = installed_versions()
    assert "ruff" in pins
    cache = tmp_path / "wheels"  # the same wheels, so that the shared cache gets no extra tree
    cache.mkdir()
    for wheel in wheel_dir().glob("*.whl"):
        shutil.copy2(wheel, cache / wheel.name)
    edited = canary_bundler(pins={**pins, "ruff": "0.0.1"}, cache_dir=cache)
    ours = canary_bundler()
    assert ours.site_key() != edited.site_key()
    assert ours.asset_hash() == edited.asset_hash()


def test_clean_interpreter_validates_config_at_cold_start(asset: Path) -> None:
    good = run_handler(
        {"paths": [{"name": "nlb", "url": "https://example.invalid/api/streamcheck"}]},
        mode="config",
        asset_dir=asset,
    )
    assert good.returned == {"error": None, "paths": ["nlb"]}
    bad = run_handler(
        {"paths": [{"name": "nlb", "url": "x", "protocols": ["h3"]}]}, mode="config", asset_dir=asset
    )
    assert bad.returned is not None and "CANARY_CONFIG: paths[0].url" in (bad.returned["error"] or "")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[RunningServer, RunningServer]]:
    with uvicorn_server(reference_app) as h1, hypercorn_server(reference_app, tls=tls_files()) as h2:
        yield h1, h2


def test_clean_interpreter_runs_probes_over_h1_and_h2(
    asset: Path, servers: tuple[RunningServer, RunningServer]
) -> None:
    h1, h2 = servers
    stream = "/api/streamcheck?events=3&interval_ms=20"
    run = run_handler(
        {
            "paths": [
                {"name": "plain", "url": h1.url(stream), "protocols": ["h1"]},
                {"name": "tls", "url": h2.url(stream), "protocols": ["h1", "h2"], "verify": h2.ca_pem},
            ]
        },
        asset_dir=asset,
    )
    assert run.returned is not None and run.returned["failed"] == 0, run.logs
    for path, protocol in (("plain", "h1"), ("tls", "h1"), ("tls", "h2")):
        assert assert_design_emf(run.emf_for(path, protocol))["Success"] == 1.0
    assert run.probe_log("tls", "h2")["result"]["protocol"] == "HTTP/2"
    # The probe's HTTP stack is imported by the first probe, not by `import handler` (which loads only
    # the probe's standard-library-only modules the contract and the chain share).
    assert set(run.modules_at_import) <= {"streamprobe"}
    assert set(run.modules_after) == set(PROBE_STACK)


def test_the_wheel_cache_is_the_users_unless_overridden(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(WHEEL_CACHE_ENV_VAR, raising=False)
    default = wheel_dir()
    assert default.parts[-2:] == ("streampath", "wheels")
    assert not default.is_relative_to(REPO_ROOT), "a user cache directory, not the checkout's"
    monkeypatch.setenv(WHEEL_CACHE_ENV_VAR, str(tmp_path))
    assert wheel_dir() == tmp_path == canary_bundler().cache_dir
    assert canary_bundler(cache_dir=tmp_path / "prop").cache_dir == tmp_path / "prop"
