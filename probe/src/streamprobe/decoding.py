"""Incremental content decoding (gzip, deflate, br if a brotli module is installed).

The probe reads the raw body with ``iter_raw()`` so that it sees each chunk the moment it
arrives, and decodes here; zlib returns whatever is decodable so far, never holding data back
beyond what the sender's compressor held.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterator
from types import ModuleType
from typing import Final, Protocol


def _brotli_module() -> ModuleType | None:
    for name in ("brotli", "brotlicffi"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


BROTLI = _brotli_module()
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br"
#: Largest piece of decoded output produced at once (zlib can inflate ~1000:1; brotli's limit is soft
#: and may overshoot by one internal buffer).
PIECE_BYTES: Final = 64 * 1024


def default_accept_encoding() -> tuple[str, str | None]:
    """(header value, note) — like a browser, minus br when it could not be decoded here."""
    if BROTLI is not None:
        return BROWSER_ACCEPT_ENCODING, None
    return "gzip, deflate", "Accept-Encoding without br: no brotli decoder installed"


class UnsupportedEncoding(Exception):
    pass


class _Decoder(Protocol):
    def pieces(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> bytes: ...


class _Identity:
    def pieces(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> bytes:
        return b""


class _Zlib:
    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        # "deflate" is zlib-wrapped by the RFC but often sent raw: decide on the first two bytes,
        # which may arrive in separate chunks.
        self._head: bytes | None = None if gzip else b""

    def pieces(self, data: bytes) -> Iterator[bytes]:
        if self._head is not None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, None
            cmf, flg = data[0], data[1]
            if not (cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0):
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        out = self._obj.decompress(data, PIECE_BYTES)
        while True:
            if out:
                yield out
            tail = self._obj.unconsumed_tail
            if not tail:
                return
            out = self._obj.decompress(tail, PIECE_BYTES)

    def flush(self) -> bytes:
        return self._obj.flush()


class _Brotli:
    def __init__(self, module: ModuleType) -> None:
        self._obj = module.Decompressor()

    def pieces(self, data: bytes) -> Iterator[bytes]:
        obj = self._obj
        if not hasattr(obj, "can_accept_more_data"):  # brotlicffi / old brotli: no output limit
            method = getattr(obj, "process", None) or obj.decompress
            if out := bytes(method(data)):
                yield out
            return
        out = obj.process(data, output_buffer_limit=PIECE_BYTES)
        while True:
            if out:
                yield bytes(out)
            if obj.is_finished() or obj.can_accept_more_data():
                return
            out = obj.process(b"", output_buffer_limit=PIECE_BYTES)

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

    def iter_decode(self, data: bytes) -> Iterator[bytes]:
        """Decoded ``data`` in pieces of at most ``PIECE_BYTES``: a compression bomb is inflated only as
        far as the caller reads (the SSE parser stops at ``max_event_bytes``)."""
        return self._through(0, data)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._chain):
            if data:
                yield data
            return
        for piece in self._chain[index].pieces(data):
            yield from self._through(index + 1, piece)

    def decode(self, data: bytes) -> bytes:
        return b"".join(self.iter_decode(data))

    def flush(self) -> bytes:
        data = b""
        for step in self._chain:
            data = b"".join(step.pieces(data)) + step.flush()
        return data
