"""Incremental content decoding (gzip, deflate, br if a brotli module is installed).

The probe reads the raw body with ``iter_raw()`` so that it sees each chunk the moment it
arrives, and decodes here; zlib returns whatever is decodable so far, never holding data back
beyond what the sender's compressor held.

Decoding is bounded: output comes in pieces of at most :data:`PIECE_BYTES` (one compressed chunk of
a few KB can inflate to a GiB, so the caller checks its deadlines between pieces), at most
:data:`MAX_CODINGS` codings are undone, and a body that does not decode raises :class:`CorruptBody`.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterator
from types import ModuleType
from typing import Final, Protocol


def _brotli_module() -> ModuleType | None:
    """A brotli module whose decoder can limit its output (brotli >= 1.2): one without that would
    inflate a bomb whole, so br is then neither asked for nor decoded."""
    for name in ("brotli", "brotlicffi"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module.Decompressor(), "can_accept_more_data"):
            return module
    return None


BROTLI = _brotli_module()
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br"
#: Largest piece of decoded output produced at once (zlib can inflate ~1000:1; brotli's limit is soft
#: and may overshoot by one internal buffer).
PIECE_BYTES: Final = 64 * 1024
#: The most content-codings undone for one body (real servers apply one; each is a decoder kept).
MAX_CODINGS: Final = 4


def default_accept_encoding() -> tuple[str, str | None]:
    """(header value, note) — like a browser, minus br when it could not be decoded here."""
    if BROTLI is not None:
        return BROWSER_ACCEPT_ENCODING, None
    return "gzip, deflate", "Accept-Encoding without br: no brotli decoder installed"


class UnsupportedEncoding(Exception):
    """A ``Content-Encoding`` the probe cannot undo: ``name`` is the server's text (not redacted),
    ``why`` says why in words."""

    def __init__(self, name: str, why: str = "unknown to the probe") -> None:
        super().__init__(why)
        self.name = name
        self.why = why


class CorruptBody(Exception):
    """The body does not decode as its ``Content-Encoding`` says (``encoding``)."""

    def __init__(self, encoding: str, detail: str) -> None:
        super().__init__(f"corrupt {encoding} body: {detail}")
        self.encoding = encoding
        self.detail = detail


def _brotli_error() -> type[Exception]:
    error = getattr(BROTLI, "error", None)
    return error if isinstance(error, type) and issubclass(error, Exception) else zlib.error


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
        while data:
            try:
                out = self._obj.decompress(data, PIECE_BYTES)
            except zlib.error as exc:
                raise CorruptBody("gzip" if self._gzip else "deflate", str(exc)) from None
            if out:
                yield out
            data = self._obj.unconsumed_tail
            if not data and self._gzip and self._obj.eof and self._obj.unused_data:
                # gzip allows several members one after the other (some servers flush that way)
                data = self._obj.unused_data
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def flush(self) -> bytes:
        try:
            return self._obj.flush()
        except zlib.error as exc:
            raise CorruptBody("gzip" if self._gzip else "deflate", str(exc)) from None


class _Brotli:
    def __init__(self, module: ModuleType) -> None:
        self._obj = module.Decompressor()

    def pieces(self, data: bytes) -> Iterator[bytes]:
        try:
            yield from self._pieces(data)
        except _brotli_error() as exc:
            raise CorruptBody("br", str(exc) or type(exc).__name__) from None

    def _pieces(self, data: bytes) -> Iterator[bytes]:
        obj = self._obj
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
        if len(self.names) > MAX_CODINGS:
            raise UnsupportedEncoding(
                content_encoding or "",
                f"{len(self.names)} codings, more than the {MAX_CODINGS} a probe undoes",
            )
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
                raise UnsupportedEncoding(name, "no brotli module (>= 1.2) is installed here to decode it")
            else:
                raise UnsupportedEncoding(name)

    def iter_decode(self, data: bytes) -> Iterator[bytes]:
        """Decoded ``data`` in pieces of at most ``PIECE_BYTES``: a compression bomb is inflated only as
        far as the caller reads (the SSE parser stops at ``max_event_bytes``)."""
        if not self._chain:  # no Content-Encoding: the bytes as they came, without a generator per read
            return iter((data,) if data else ())
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

    def iter_flush(self) -> Iterator[bytes]:
        """What the decoders still hold at the end of the body, in pieces like :meth:`iter_decode`."""
        return self._flush_from(0)

    def _flush_from(self, index: int) -> Iterator[bytes]:
        if index == len(self._chain):
            return
        tail = self._chain[index].flush()
        if tail:
            yield from self._through(index + 1, tail)
        yield from self._flush_from(index + 1)

    def flush(self) -> bytes:
        return b"".join(self.iter_flush())
