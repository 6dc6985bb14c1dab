"""Incremental content decoding (gzip, deflate, br if a brotli module is installed).

The probe reads the raw body with ``iter_raw()`` so that it sees each chunk the moment it
arrives, and decodes here; zlib returns whatever is decodable so far, never holding data back
beyond what the sender's compressor held.
"""

from __future__ import annotations

import importlib
import zlib
from types import ModuleType
from typing import Protocol


def _brotli_module() -> ModuleType | None:
    for name in ("brotli", "brotlicffi"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


BROTLI = _brotli_module()
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br"


def default_accept_encoding() -> tuple[str, str | None]:
    """(header value, note) — like a browser, minus br when it could not be decoded here."""
    if BROTLI is not None:
        return BROWSER_ACCEPT_ENCODING, None
    return "gzip, deflate", "Accept-Encoding without br: no brotli decoder installed"


class UnsupportedEncoding(Exception):
    pass


class _Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Identity:
    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Zlib:
    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        self._first = True

    def decode(self, data: bytes) -> bytes:
        if self._first and not self._gzip and data:
            self._first = False
            try:
                return self._obj.decompress(data)
            except zlib.error:  # "deflate" sent as a raw deflate stream (no zlib header)
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        self._first = False
        return self._obj.decompress(data)

    def flush(self) -> bytes:
        return self._obj.flush()


class _Brotli:
    def __init__(self, module: ModuleType) -> None:
        self._obj = module.Decompressor()

    def decode(self, data: bytes) -> bytes:
        method = getattr(self._obj, "process", None) or self._obj.decompress
        return bytes(method(data))

    def flush(self) -> bytes:
        return b""


class Decoder:
    """Decodes a ``Content-Encoding`` list (applied in order, so undone in reverse)."""

    def __init__(self, content_encoding: str | None) -> None:
        self.names = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
        self._chain: list[_Decoder] = []
        for name in reversed(self.names):
            if name in ("identity", ""):
                self._chain.append(_Identity())
            elif name in ("gzip", "x-gzip"):
                self._chain.append(_Zlib(gzip=True))
            elif name == "deflate":
                self._chain.append(_Zlib(gzip=False))
            elif name == "br" and BROTLI is not None:
                self._chain.append(_Brotli(BROTLI))
            elif name == "br":
                raise UnsupportedEncoding(
                    "the server sent brotli (br) but no brotli module is installed here"
                )
            else:
                raise UnsupportedEncoding(f"the server used an unknown content-encoding {name!r}")

    def decode(self, data: bytes) -> bytes:
        for step in self._chain:
            data = step.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for step in self._chain:
            data = step.decode(data) + step.flush()
        return data
