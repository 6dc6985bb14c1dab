"""The bundler's rules for compiled wheels: only the named distributions may install one, each of them
must, every one is pinned at the version installed here, and the asset's versions are the dev venv's."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from streampath_cdk.canary_function import (
    ASSET_EXCLUDE,
    BINARY_PACKAGES,
    CANARY_PACKAGE,
    COPIED_DISTRIBUTIONS,
    LAMBDA_PLATFORMS,
    RUNTIME_PYTHON_VERSION,
    canary_bundler,
)
from streampath_cdk.local_bundling import (
    BundlingError,
    LocalPythonBundler,
    installed_distributions,
    is_pure,
    read_constraints,
    wheel_tags,
)
from tests.support.cdk import REPO_ROOT


def fake_site(tmp_path: Path, wheels: dict[str, list[str]]) -> Path:
    """A site tree with one ``<name>-1.0.dist-info/WHEEL`` per distribution, tagged as given."""
    for name, tags in wheels.items():
        info = tmp_path / f"{name}-1.0.dist-info"
        info.mkdir(parents=True)
        lines = ["Wheel-Version: 1.0", f"Root-Is-Purelib: {str(is_pure(tags)).lower()}"]
        (info / "WHEEL").write_text("\n".join([*lines, *(f"Tag: {tag}" for tag in tags)]) + "\n")
    return tmp_path


def test_tags_and_purity(tmp_path: Path) -> None:
    site = fake_site(
        tmp_path,
        {
            "a": ["py3-none-any"],
            "b": ["cp311-abi3-manylinux2014_aarch64", "cp311-abi3-manylinux_2_28_aarch64"],
        },
    )
    assert wheel_tags(site / "a-1.0.dist-info") == ("py3-none-any",)
    assert wheel_tags(site / "b-1.0.dist-info") == (
        "cp311-abi3-manylinux2014_aarch64",
        "cp311-abi3-manylinux_2_28_aarch64",
    )
    assert is_pure(["py2.py3-none-any"]) and not is_pure(["py3-none-manylinux2014_aarch64"])
    assert not is_pure([]), "no tags: not known to be pure"


def test_compiled_wheels_only_for_the_named_packages(tmp_path: Path) -> None:
    bundler = canary_bundler()
    allowed = {name: ["cp311-abi3-manylinux2014_aarch64"] for name in BINARY_PACKAGES}
    bundler._check_wheels(fake_site(tmp_path / "ok", {**allowed, "httpx": ["py3-none-any"]}))
    with pytest.raises(BundlingError, match=r"pip installed pyyaml \(cp314-cp314-manylinux2014_aarch64\)"):
        bundler._check_wheels(
            fake_site(tmp_path / "extra", {**allowed, "PyYAML": ["cp314-cp314-manylinux2014_aarch64"]})
        )
    with pytest.raises(BundlingError, match="binary_packages names cffi"):
        bundler._check_wheels(
            fake_site(tmp_path / "missing", {k: v for k, v in allowed.items() if k != "cffi"})
        )


def test_a_pure_only_bundler_refuses_any_compiled_wheel(tmp_path: Path) -> None:
    pure = LocalPythonBundler(handler=CANARY_PACKAGE)
    assert (
        "--implementation" in pure.pip_args
        and pure.pip_args[pure.pip_args.index("--implementation") + 1] == "py"
    )
    with pytest.raises(BundlingError, match="compiled wheels only for no package"):
        pure._check_wheels(fake_site(tmp_path, {"aioquic": ["cp311-abi3-manylinux2014_aarch64"]}))


def test_the_canarys_pip_arguments() -> None:
    args = canary_bundler().pip_args
    flags = list(zip(args[1::2], args[2::2], strict=False))
    assert args[0] == "--only-binary=:all:", "wheels only: never a build from source for another machine"
    assert [v for k, v in flags if k == "--platform"] == list(LAMBDA_PLATFORMS)
    assert ("--implementation", "cp") in flags and ("--python-version", "3.14") in flags
    assert {v for k, v in flags if k == "--abi"} == {"cp314", "abi3", "none"}


def test_recipe_errors_name_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(BundlingError, match="this environment has no version of not-a-package"):
        LocalPythonBundler(handler=CANARY_PACKAGE, binary_packages=("not-a-package",))
    with pytest.raises(BundlingError, match="copied names streamprobe, which no requirement brings"):
        LocalPythonBundler(handler=CANARY_PACKAGE, requirements=("httpx",), copied=("streamprobe",))
    with pytest.raises(BundlingError, match="not-installed-here is not installed"):
        LocalPythonBundler(
            handler=CANARY_PACKAGE, requirements=("not-installed-here",), copied=("not-installed-here",)
        )
    with pytest.raises(BundlingError, match="cannot find the package no_such_package"):
        LocalPythonBundler(handler="no_such_package")


def test_the_recipe_is_part_of_the_cache_key_and_the_asset_hash() -> None:
    ours = canary_bundler()
    assert "aioquic==" + importlib.metadata.version("aioquic") in ours.requirements

    def bundler(probe: str) -> LocalPythonBundler:
        return LocalPythonBundler(
            handler=CANARY_PACKAGE,
            requirements=(probe, "aws-lambda-powertools"),
            copied=COPIED_DISTRIBUTIONS,
            binary_packages=BINARY_PACKAGES,
            exclude=ASSET_EXCLUDE,
            python_version=RUNTIME_PYTHON_VERSION,
            platforms=LAMBDA_PLATFORMS,
        )

    assert bundler("streamprobe[h3,ws]").site_key() == ours.site_key(), "the same recipe"
    without_h3 = bundler("streamprobe")
    assert not [r for r in without_h3.requirements if r.startswith("aioquic")]
    assert without_h3.site_key() != ours.site_key(), "the extras change what is installed"


def test_compiled_versions_are_the_dev_venvs(asset: Path) -> None:
    """The same pins for the compiled part: the Lambda's aioquic is the one the tests ran."""
    pins = read_constraints(REPO_ROOT / "constraints.txt")
    installed = dict(d.split("==") for d in installed_distributions(asset))
    for name in (*BINARY_PACKAGES, "pyopenssl", "service-identity", "attrs", "certifi", "pycparser"):
        assert installed[name] == pins[name] == importlib.metadata.version(name), name
