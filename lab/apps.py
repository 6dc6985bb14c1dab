"""The reference app with the compression fix applied: Starlette's own ``GZipMiddleware`` (>= 0.46).

Since Starlette 0.46.0 ``GZipMiddleware`` leaves ``text/event-stream`` uncompressed, so the app keeps
compressing its JSON while its streams stream. The lab's chain story restarts its faulty app hop
(``streamcheck.reference_app:create_gzip_sse_app``, the pre-0.46 fault) with this factory: the fix
``app.starlette_gzip`` applied to the hop that needed it.

``uvicorn --factory lab.apps:create_starlette_gzip_app`` (from the repository root).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from streamcheck.reference_app import create_app


def create_starlette_gzip_app() -> FastAPI:
    app = create_app()
    app.add_middleware(GZipMiddleware, minimum_size=0)
    return app
