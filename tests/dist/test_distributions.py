"""The four distributions: each builds an sdist and a wheel that pass ``twine check --strict`` (as
``make dist`` builds them), each is complete (README, licence, ``py.typed``), and the pins between them and
the project's are the versions in their own pyproject.toml files."""

from __future__ import annotations

import re
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from streampath_cdk.local_bundling import canonical_name
from tests.support.cdk import REPO_ROOT
from tests.support.installs import Built, distribution_folders

#: The import package of each distribution (names fixed by the design notes).
PACKAGES = {
    "streamprobe": "streamprobe",
    "streamcheck": "streamcheck",
    "streampath-canary": "streampath_canary",
    "streampath-cdk": "streampath_cdk",
}


def pyproject(folder: str) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((REPO_ROOT / folder / "pyproject.toml").read_text())
    return data


def ours() -> dict[str, str]:
    """``name -> version`` of this repository's distributions."""
    return {
        canonical_name(p["project"]["name"]): p["project"]["version"]
        for p in map(pyproject, distribution_folders())
    }


def test_the_four_distributions_and_their_import_names() -> None:
    assert set(ours()) == set(PACKAGES)
    for folder in distribution_folders():
        name = canonical_name(pyproject(folder)["project"]["name"])
        package = PACKAGES[name]
        assert list((REPO_ROOT / folder).glob(f"**/{package}/py.typed")), f"{folder}: {package}/py.typed"


@pytest.mark.parametrize("folder", [".", *distribution_folders()])
def test_pins_between_the_distributions_are_their_versions(folder: str) -> None:
    project = pyproject(folder)["project"]
    versions = ours()
    requirements = [
        Requirement(text)
        for text in [
            *project.get("dependencies", ()),
            *(r for rs in project.get("optional-dependencies", {}).values() for r in rs),
        ]
    ]
    for requirement in requirements:
        name = canonical_name(requirement.name)
        if name in versions:
            assert str(requirement.specifier) == f"=={versions[name]}", f"{folder}: {requirement}"


def test_the_project_depends_on_all_four_and_bootstrap_installs_each_folder() -> None:
    names = {canonical_name(Requirement(r).name) for r in pyproject(".")["project"]["dependencies"]}
    assert set(ours()) <= names
    bootstrap = (REPO_ROOT / "scripts" / "bootstrap.sh").read_text()
    specs = re.search(r"^project_specs=\((.*)\)$", bootstrap, re.M)
    assert specs is not None
    for folder in distribution_folders():
        assert re.search(rf"-e '\./{re.escape(folder)}[\['\]]", specs.group(1)), folder
    # Installed from the checkout, never pinned from an index.
    constraints = (REPO_ROOT / "constraints.txt").read_text()
    assert not [n for n in ours() if re.search(rf"^{n}==", constraints, re.M | re.I)]


def test_make_dist_builds_an_sdist_and_a_wheel_of_each_passing_twine_check(built: Built) -> None:
    assert built.result.returncode == 0, built.result.stdout + built.result.stderr
    expected = set()
    for name, version in ours().items():
        stem = f"{name.replace('-', '_')}-{version}"
        expected |= {f"{stem}.tar.gz", f"{stem}-py3-none-any.whl"}
    assert {p.name for p in built.out.iterdir()} == expected
    # twine's report: one PASSED per file, and --strict turns any warning into a failure.
    assert built.result.stdout.count("PASSED") == 8, built.result.stdout


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_each_wheel_is_complete_and_holds_only_its_package(built: Built, name: str) -> None:
    version = ours()[name]
    stem = f"{name.replace('-', '_')}-{version}"
    with zipfile.ZipFile(built.out / f"{stem}-py3-none-any.whl") as wheel:
        files = wheel.namelist()
        metadata = Parser().parsestr(wheel.read(f"{stem}.dist-info/METADATA").decode())
    package = PACKAGES[name]
    assert {f.split("/")[0] for f in files} == {package, f"{stem}.dist-info"}
    assert f"{package}/py.typed" in files and f"{package}/__init__.py" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc") or "/tests/" in f]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert str(metadata.get_payload()).lstrip().startswith(f"# {name}")
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    with tarfile.open(built.out / f"{stem}.tar.gz") as sdist:
        members = sdist.getnames()
    assert f"{stem}/README.md" in members and f"{stem}/pyproject.toml" in members
