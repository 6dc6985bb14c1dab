"""A proxy that forwards responses in fixed-size blocks: the lab's stand-in for a hop with a 4 KiB buffer.

Many proxies and sidecars read the upstream into a buffer and write it on only when the buffer is full
(or the response ends); an SSE stream then arrives in blocks: a chat answer in three or four clumps a
second apart. nginx at ``proxy_buffering on`` holds a whole small response instead, so this hop is a few
lines of asyncio of our own.

HTTP/1.1, one request per connection: the request head is forwarded with ``Connection: close`` (so the
upstream ends the response by closing, and the last partial block is flushed then), the request body as
it comes; the response -- status line and headers included -- leaves in ``--block``-byte pieces.

Usage: ``python -m lab.block_proxy --port 8081 --upstream 8080 [--block 4096]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence

HOST = "127.0.0.1"
MAX_HEAD = 64 * 1024


def close_connection(head: bytes) -> bytes:
    """The request head with ``Connection: close`` instead of whatever it said."""
    lines = head.split(b"\r\n")
    kept = [line for line in lines if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Client -> upstream, as it comes (a POST body)."""
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()


async def _blocks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, block: int) -> None:
    """Upstream -> client, only in whole ``block``-byte pieces; the rest when the upstream ends."""
    pending = bytearray()
    while data := await reader.read(65536):
        pending += data
        while len(pending) >= block:
            writer.write(bytes(pending[:block]))
            del pending[:block]
            await writer.drain()
    if pending:
        writer.write(bytes(pending))
        await writer.drain()


#: Writes the upstream's response to the client, the proxy's own way.
Respond = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def handle(
    client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, upstream: int, block: int
) -> None:
    await proxy_one_request(client_r, client_w, upstream, lambda up, client: _blocks(up, client, block))


async def proxy_one_request(
    client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, upstream: int, respond: Respond
) -> None:
    """One request: its head (``Connection: close``) and body to ``upstream`` as they come, the response
    back through ``respond``; a connection that breaks or times out is closed quietly."""
    try:
        try:
            head = await client_r.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return
        up_r, up_w = await asyncio.open_connection(HOST, upstream, limit=MAX_HEAD)
        try:
            up_w.write(close_connection(head[:-4]))
            await up_w.drain()
            body = asyncio.create_task(_pipe(client_r, up_w))
            try:
                await respond(up_r, client_w)
            finally:
                body.cancel()
        finally:
            up_w.close()
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        with contextlib.suppress(ConnectionError):
            client_w.close()


async def serve(port: int, upstream: int, block: int) -> None:
    await serve_until_signalled(lambda r, w: handle(r, w, upstream, block), port)


async def serve_until_signalled(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]], port: int
) -> None:
    """Serve ``handler`` on 127.0.0.1:``port`` until SIGTERM or SIGINT (the lab's stop)."""
    server = await asyncio.start_server(handler, HOST, port, limit=MAX_HEAD)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.block_proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="listen on 127.0.0.1:PORT")
    parser.add_argument("--upstream", type=int, required=True, help="forward to 127.0.0.1:UPSTREAM")
    parser.add_argument("--block", type=int, default=4096, help="bytes per forwarded piece (4096)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.upstream, args.block))
    return 0


if __name__ == "__main__":
    sys.exit(main())
