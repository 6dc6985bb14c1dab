"""The asset imports aioquic on the Lambda (arm64, Python 3.14), checked without running it there: every
compiled file is an aarch64 ELF shared object named for CPython 3.14, every wheel's tags fit the runtime,
and every module the canary's HTTP/3 stack imports at module level is in the asset."""

from __future__ import annotations

import ast
import json
import platform
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag

from streampath_cdk.canary_function import BINARY_PACKAGES
from streampath_cdk.local_bundling import canonical_name, is_pure, wheel_tags
from tests.canary_h3.host_asset import LAMBDA_SUFFIXES, module_stem

# ELF header (System V ABI): e_ident, then e_type and e_machine.
ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
ELFDATA2LSB = 1  # little-endian, as Graviton runs
ET_DYN = 3  # a shared object
EM_AARCH64 = 183
#: The Lambda runtime python3.14 on arm64: Amazon Linux 2023, glibc 2.34.
LAMBDA_GLIBC_MINOR = 34
#: Where each compiled distribution's shared objects sit (top-level name in the asset).
SHARED_OBJECTS = {
    "aioquic": "aioquic/_buffer",
    "pylsqpack": "pylsqpack/_binding",
    "cryptography": "cryptography/hazmat/bindings/_rust",
    "cffi": "_cffi_backend",
    "websockets": "websockets/speedups",
}
#: Standard-library modules of Python 3.14 that the interpreter running the tests may not have
#: (imported by attrs and typing_extensions on 3.14 only).
PY314_STDLIB = frozenset({"annotationlib"})


def lambda_tags() -> frozenset[Tag]:
    """Every wheel tag CPython 3.14 on manylinux aarch64 (glibc <= 2.34) installs, pure ones included."""
    platforms = [f"manylinux_2_{minor}_aarch64" for minor in range(LAMBDA_GLIBC_MINOR, 16, -1)]
    platforms.append("manylinux2014_aarch64")
    compiled = cpython_tags((3, 14), abis=["cp314", "abi3", "none"], platforms=platforms)
    return frozenset([*compiled, *compatible_tags((3, 14), "cp314", platforms)])


def elf_header(path: Path) -> tuple[bytes, int, int, int, int]:
    """(magic, EI_CLASS, EI_DATA, e_type, e_machine) of an ELF file."""
    head = path.read_bytes()[:20]
    byte_order = "<" if head[5] == ELFDATA2LSB else ">"
    e_type, e_machine = struct.unpack(f"{byte_order}HH", head[16:20])
    return head[:4], head[4], head[5], e_type, e_machine


def test_every_shared_object_is_an_aarch64_elf64_library(asset: Path) -> None:
    found = sorted(asset.rglob("*.so"))
    assert {p.relative_to(asset).as_posix().split(".")[0] for p in found} == set(SHARED_OBJECTS.values())
    for path in found:
        assert elf_header(path) == (ELF_MAGIC, ELFCLASS64, ELFDATA2LSB, ET_DYN, EM_AARCH64), path.name
        # Named so that CPython 3.14 on aarch64 Linux finds it as its module.
        assert path.name.endswith(LAMBDA_SUFFIXES), path.name


def test_the_elf_reader_reads_this_machines_binaries() -> None:
    """The header check can fail: this interpreter's own binary is an ELF for this machine."""
    machine = {"x86_64": 62, "aarch64": EM_AARCH64, "arm64": EM_AARCH64}[platform.machine()]
    magic, elf_class, _, _, e_machine = elf_header(Path(sys.executable).resolve())
    assert (magic, elf_class, e_machine) == (ELF_MAGIC, ELFCLASS64, machine)


def test_every_wheel_tag_fits_the_lambda_runtime(asset: Path) -> None:
    supported = lambda_tags()
    # The tag set can refuse: another machine's or another Python's wheel is not in it.
    for foreign in (
        "cp311-abi3-manylinux2014_x86_64",
        "cp313-cp313-manylinux2014_aarch64",
        "cp314-cp314-macosx_11_0_arm64",
    ):
        assert not set(parse_tag(foreign)) & supported, foreign
    compiled = set()
    infos = sorted(asset.glob("*.dist-info"))
    assert len(infos) >= 20
    for info in infos:
        tags = wheel_tags(info)
        assert tags, f"{info.name}: no Tag in WHEEL"
        parsed = {tag for text in tags for tag in parse_tag(text)}
        assert parsed & supported, f"{info.name}: {tags} do not fit CPython 3.14 on manylinux aarch64"
        wheel = (info / "WHEEL").read_text()
        if is_pure(tags):
            assert "Root-Is-Purelib: true" in wheel, info.name
            continue
        compiled.add(canonical_name(info.name.partition("-")[0]))
        for tag in parsed:
            # Built for this Python or for the stable ABI, for Linux on arm64, never for another machine.
            assert tag.abi in ("cp314", "abi3") and tag.interpreter.startswith("cp3"), (info.name, tag)
            assert tag.platform.startswith("manylinux") and tag.platform.endswith("_aarch64"), (
                info.name,
                tag,
            )
    # Compiled wheels exactly where HTTP/3 and WebSockets need them, each with its shared object there.
    assert compiled == set(BINARY_PACKAGES)
    for name in compiled:
        (so,) = [
            p for p in asset.rglob("*.so") if p.relative_to(asset).as_posix().startswith(SHARED_OBJECTS[name])
        ]
        assert module_stem(so.name) == SHARED_OBJECTS[name].rsplit("/", 1)[-1]


# --- the import closure ------------------------------------------------------------------------------


def _module_level(node: ast.AST) -> Iterator[ast.AST]:
    """Nodes that run when the module is imported (not inside functions)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield child
        yield from _module_level(child)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    caught = {name.id for name in ast.walk(handler.type) if isinstance(name, ast.Name)}
    return bool(caught & {"ImportError", "ModuleNotFoundError", "Exception"})


def _optional(tree: ast.AST) -> set[int]:
    """Nodes whose imports may fail: inside ``try`` with an ImportError handler, or ``if TYPE_CHECKING``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers)) or (
            isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        ):
            for block in node.body:
                skipped.update(id(inner) for inner in ast.walk(block))
    return skipped


def module_imports(path: Path, module: str) -> Iterator[tuple[str, list[str]]]:
    """(module, imported names) of every import that runs at import time and must succeed."""
    tree = ast.parse(path.read_bytes())
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    optional = _optional(tree)
    for node in _module_level(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            yield ".".join([*base, *([node.module] if node.module else [])]), [a.name for a in node.names]


def locate(root: Path, module: str) -> Path | None:
    """Where CPython 3.14 on aarch64 would import ``module`` from in ``root`` (None: not there)."""
    base = root.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    for suffix in LAMBDA_SUFFIXES:
        extension = base.with_name(base.name + suffix)
        if extension.is_file():
            return extension
    return base if base.is_dir() else None  # a namespace package


def import_closure(root: Path, modules: list[str]) -> tuple[dict[str, Path], set[str]]:
    """The modules reached from ``modules`` by imports that run at import time: found (in ``root``) and
    missing (neither in ``root`` nor in the standard library)."""
    stdlib = set(sys.stdlib_module_names) | PY314_STDLIB
    found: dict[str, Path] = {}
    missing: set[str] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        if module in found or module in missing or module.split(".")[0] in stdlib:
            continue
        path = locate(root, module)
        if path is None:
            missing.add(module)
            continue
        found[module] = path
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # parents are imported first
        if path.suffix == ".py":
            for name, names in module_imports(path, module):
                todo.append(name)
                todo += [f"{name}.{n}" for n in names if n != "*" and locate(root, f"{name}.{n}")]
    return found, missing


def test_the_canary_and_its_http3_stack_import_from_the_asset_alone(asset: Path) -> None:
    roots = [
        "streampath_canary.handler",
        "streampath_canary.runner",
        "streamprobe",
        "streamprobe.http3.transport",
    ]
    found, missing = import_closure(asset, roots)
    assert not missing, f"imported at import time but not in the asset: {sorted(missing)}"
    # The closure reaches the compiled modules: what `import aioquic...` needs on the Lambda is there.
    assert {"aioquic._buffer", "pylsqpack._binding", "cryptography.hazmat.bindings._rust"} <= set(found)
    assert {"OpenSSL.crypto", "service_identity", "certifi"} <= set(found)
    assert all(asset in path.parents for path in found.values())
    assert (asset / "certifi" / "cacert.pem").is_file(), "the default CA bundle h3 probes verify against"


def test_the_closure_check_sees_a_missing_module(asset: Path, tmp_path: Path) -> None:
    """The check above can fail: without pylsqpack, aioquic's HTTP/3 module cannot be imported."""
    copy = tmp_path / "asset"
    shutil.copytree(asset, copy, ignore=shutil.ignore_patterns("pylsqpack"))
    _, missing = import_closure(copy, ["streamprobe.http3.transport"])
    assert "pylsqpack" in missing


def test_a_clean_interpreter_finds_every_top_level_package_in_the_asset(asset: Path) -> None:
    """``python -I -S`` with only the asset on ``sys.path``: each package of the HTTP/3 stack is found
    there (``find_spec`` imports nothing), none from this machine's site-packages."""
    names = ["aioquic", "pylsqpack", "cryptography", "cffi", "OpenSSL", "service_identity", "attr", "certifi"]
    code = (
        "import importlib.util, json, sys\n"
        f"sys.path[:0] = [{str(asset)!r}]\n"
        f"print(json.dumps({{n: importlib.util.find_spec(n).origin for n in {names!r}}}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True, cwd=asset
    )
    origins = json.loads(proc.stdout)
    for name in names:
        assert Path(origins[name]).is_relative_to(asset), (name, origins[name])
