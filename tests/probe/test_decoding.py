"""Content decoding: correct, chunk-boundary safe, and never inflating more than one piece at a time."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
from streamprobe.decoding import PIECE_BYTES, Decoder

TEXT = b"".join(b'id: %d\nevent: tick\ndata: {"seq": %d}\n\n' % (i, i) for i in range(2000))


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", _raw_deflate(TEXT)),  # "deflate" as servers often send it: no zlib header
        ("br", brotli.compress(TEXT)),
        ("identity", TEXT),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "br", "identity"],
)
def test_round_trip_in_any_chunking(encoding: str, body: bytes) -> None:
    for size in (1, 7, 1000, len(body)):
        decoder = Decoder(encoding)
        out = b"".join(
            piece for i in range(0, len(body), size) for piece in decoder.iter_decode(body[i : i + size])
        )
        assert out + decoder.flush() == TEXT, (encoding, size)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_a_compression_bomb_is_inflated_one_piece_at_a_time(encoding: str) -> None:
    bomb_size = 64 * 1024 * 1024
    plain = b"data: " + b"x" * bomb_size
    body = gzip.compress(plain, 9) if encoding == "gzip" else brotli.compress(plain)
    assert len(body) < bomb_size // 200  # it really is a bomb
    bound = PIECE_BYTES if encoding == "gzip" else 2 * PIECE_BYTES  # brotli's output limit is soft
    pieces = Decoder(encoding).iter_decode(body)
    first = next(pieces)
    assert 0 < len(first) <= bound
    # Reading on yields the rest, still piece by piece; the caller decides when to stop.
    sizes = [len(p) for _, p in zip(range(50), pieces, strict=False)]
    assert sizes and max(sizes) <= bound
