"""The Docker-free bundle: what goes in, and that the handler runs from it alone in a clean interpreter
(``python -I -S``: no site-packages, no PYTHONPATH, only the asset directory on ``sys.path``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamcheck.reference_app import app as reference_app

from streampath_cdk.canary_function import CANARY_SOURCE_DIR, REQUIREMENTS
from streampath_cdk.local_bundling import LocalPythonBundler, inputs_hash
from tests.canary.support import assert_design_emf, run_handler
from tests.support.servers import RunningServer, hypercorn_server, uvicorn_server
from tests.support.tls import tls_files


@pytest.fixture(scope="module")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("canary-asset")
    bundler = LocalPythonBundler(source_dir=CANARY_SOURCE_DIR, requirements=REQUIREMENTS)
    assert bundler.try_bundle(str(out)) is True
    yield out
    shutil.rmtree(out, ignore_errors=True)


def asset_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_asset_contents(asset: Path) -> None:
    names = {p.name for p in asset.iterdir()}
    assert {"handler.py", "canary_config.py", "canary_runner.py", "streamprobe"} <= names
    assert {"httpx", "h2", "aws_lambda_powertools"} <= names
    assert not {"boto3", "botocore"} & names, "boto3 is part of the Lambda Python runtime"
    assert not list(asset.rglob("__pycache__")) and not list(asset.rglob("*.pyc"))
    assert not (asset / "tests").exists()
    # Pure Python only (the asset is built on x86 for arm64).
    assert not [p for p in asset.rglob("*") if p.suffix in (".so", ".pyd", ".dylib")]
    size = asset_size(asset)
    print(f"\ncanary asset: {size / 1e6:.1f} MB unzipped")
    assert size < 25e6


def test_asset_hash_is_stable_and_tracks_sources(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "handler.py").write_text("x = 1\n")
    first = inputs_hash(src, REQUIREMENTS, ("--platform", "p"))
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    assert inputs_hash(src, REQUIREMENTS, ("--platform", "p")) == first, "bytecode does not change the hash"
    (src / "handler.py").write_text("x = 2\n")
    assert inputs_hash(src, REQUIREMENTS, ("--platform", "p")) != first
    assert inputs_hash(src, ("httpx==0.0.1",), ("--platform", "p")) != first


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
