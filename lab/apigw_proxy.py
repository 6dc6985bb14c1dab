"""The lab's stand-in for API Gateway (REST, HTTP_PROXY integration) in either response transfer mode.

What it copies from API Gateway, because the doctor and trace must recognise it and what it does:

- every response carries ``x-amz-apigw-id`` and ``x-amzn-RequestId``, as API Gateway's REST responses do
  (the probe reads these to name the hop);
- ``--mode buffered`` (``ResponseTransferMode: BUFFERED``, API Gateway's default) holds the whole
  response until the integration ends it, then sends it; an integration that takes longer than
  ``--integration-timeout`` (API Gateway's 29 s by default) gets a ``504`` instead;
- ``--mode stream`` (``STREAM``) forwards each piece as it arrives and cuts the connection when the
  integration is silent for ``--idle-timeout`` (5 minutes on a Regional endpoint, 30 s on an
  edge-optimized one: the lab passes a few seconds), the way API Gateway ends an idle stream.

No Debian proxy does both: nginx and HAProxy forward a response as their buffers fill or flush (neither
holds a whole response until it ends), and neither adds a per-request id. So, like ``lab.block_proxy``,
this is a few lines of asyncio. HTTP/1.1, one request per connection (``Connection: close`` upstream).

Usage: ``python -m lab.apigw_proxy --port 8082 --upstream 8080 --mode stream --idle-timeout 300``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence
from typing import Literal

from lab.block_proxy import proxy_one_request, serve_until_signalled

Mode = Literal["stream", "buffered"]
#: API Gateway's default integration timeout for a buffered integration.
BUFFERED_INTEGRATION_TIMEOUT_S = 29.0


def with_gateway_headers(head: bytes) -> bytes:
    """The response head (ending in a blank line) with API Gateway's request-id headers added."""
    request_id = uuid.uuid4()
    extra = f"x-amzn-RequestId: {request_id}\r\nx-amz-apigw-id: {request_id.hex[:16]}=\r\n".encode("ascii")
    status_line, _, rest = head.partition(b"\r\n")
    return status_line + b"\r\n" + extra + rest


def gateway_timeout() -> bytes:
    body = b'{"message": "Endpoint request timed out"}'
    head = (
        b"HTTP/1.1 504 Gateway Timeout\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("ascii")
    )
    return with_gateway_headers(head) + body


async def _stream(upstream: asyncio.StreamReader, client: asyncio.StreamWriter, idle_timeout: float) -> None:
    """STREAM: the head once complete, then each piece as it arrives; a silence of ``idle_timeout``
    cuts the connection mid-response (no last chunk)."""
    head = await asyncio.wait_for(upstream.readuntil(b"\r\n\r\n"), idle_timeout)
    client.write(with_gateway_headers(head))
    await client.drain()
    while True:
        try:
            data = await asyncio.wait_for(upstream.read(65536), idle_timeout)
        except TimeoutError:
            client.transport.abort()
            return
        if not data:
            return
        client.write(data)
        await client.drain()


async def _buffered(
    upstream: asyncio.StreamReader, client: asyncio.StreamWriter, integration_timeout: float
) -> None:
    """BUFFERED: everything once the integration has finished, or a 504 when it takes too long."""

    async def whole() -> bytes:
        return await upstream.read(-1)

    try:
        response = await asyncio.wait_for(whole(), integration_timeout)
    except TimeoutError:
        client.write(gateway_timeout())
        await client.drain()
        return
    head, sep, body = response.partition(b"\r\n\r\n")
    client.write(with_gateway_headers(head + sep) + body if sep else response)
    await client.drain()


async def handle(
    client_r: asyncio.StreamReader,
    client_w: asyncio.StreamWriter,
    upstream: int,
    mode: Mode,
    idle_timeout: float,
    integration_timeout: float,
) -> None:
    async def respond(up: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        if mode == "stream":
            await _stream(up, client, idle_timeout)
        else:
            await _buffered(up, client, integration_timeout)

    await proxy_one_request(client_r, client_w, upstream, respond)


async def serve(
    port: int, upstream: int, mode: Mode, idle_timeout: float, integration_timeout: float
) -> None:
    await serve_until_signalled(
        lambda r, w: handle(r, w, upstream, mode, idle_timeout, integration_timeout), port
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.apigw_proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="listen on 127.0.0.1:PORT")
    parser.add_argument("--upstream", type=int, required=True, help="the integration at 127.0.0.1:UPSTREAM")
    parser.add_argument("--mode", choices=("stream", "buffered"), default="stream", help="transfer mode")
    parser.add_argument(
        "--idle-timeout", type=float, default=300.0, help="STREAM: cut after this many silent seconds (300)"
    )
    parser.add_argument(
        "--integration-timeout",
        type=float,
        default=BUFFERED_INTEGRATION_TIMEOUT_S,
        help="BUFFERED: a 504 when the integration takes longer (29)",
    )
    args = parser.parse_args(argv)
    if args.idle_timeout <= 0 or args.integration_timeout <= 0:
        parser.error("timeouts must be positive")
    asyncio.run(serve(args.port, args.upstream, args.mode, args.idle_timeout, args.integration_timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
