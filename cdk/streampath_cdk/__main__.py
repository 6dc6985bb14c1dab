"""``python -m streampath_cdk``: fill the canary's wheel cache and build its installed tree now (the only
step that needs the package index), so that every later ``cdk synth`` is offline."""

from __future__ import annotations

from streampath_cdk.canary_function import prefetch_wheels

print(f"canary asset dependencies ready in {prefetch_wheels()}")
