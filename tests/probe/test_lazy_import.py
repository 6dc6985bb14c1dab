"""``import streamprobe`` is lazy (PEP 562): the package loads a public name's module on first use, so a
standard-library-only module can be shared (the canary's contract and chain) without the HTTP stack."""

from __future__ import annotations

import json
import subprocess
import sys

import streamprobe

CHECK = """
import json, sys
import streamprobe
loaded_by_import = sorted(m for m in sys.modules if m.startswith(("streamprobe", "httpx", "h2")))
import streamprobe.probing  # the module behind `probe`: the package attribute stays the function
names = {name: type(getattr(streamprobe, name)).__name__ for name in streamprobe.__all__}
star = {}
exec("from streamprobe import *", star)
star_names = sorted(k for k in star if k != "__builtins__")
print(json.dumps({"import": loaded_by_import, "names": names, "star": star_names,
                  "httpx_after_use": "httpx" in sys.modules}))
"""


def test_import_loads_nothing_and_every_public_name_resolves() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(proc.stdout)
    assert report["import"] == ["streamprobe"]
    assert report["names"]["probe"] == "function" and report["names"]["ProbeResult"] == "type"
    assert report["names"]["__version__"] == "str"
    assert report["star"] == sorted(streamprobe.__all__)
    assert report["httpx_after_use"] is True


def test_dir_lists_the_public_names() -> None:
    assert set(streamprobe.__all__) <= set(dir(streamprobe))
