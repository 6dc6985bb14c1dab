"""What a read is asked to do: ``ProbeOptions``, and the URL checked and prepared for it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

import httpx

from .body import body_problem, message_problem
from .dial import Resolver
from .exceptions import InvalidRequest
from .redact import mask_url_text, redact, url_secrets

#: ``auto`` offers HTTP/2 and HTTP/1.1 (ALPN) like a browser; ``h1`` forces HTTP/1.1; ``h2`` requires HTTP/2;
#: ``h3`` requires HTTP/3 over QUIC.
HttpChoice = Literal["auto", "h1", "h2", "h3"]
HTTP_CHOICES: Final[tuple[HttpChoice, ...]] = get_args(HttpChoice)
#: ``GET`` reads a stream; ``POST`` sends a body first, as a chat frontend sends the user's message.
Method = Literal["GET", "POST"]
METHODS: Final[tuple[Method, ...]] = get_args(Method)
#: The request header that asks ``StampMiddleware`` for send-time stamps (docs/contracts/stamps.md).
STAMP_HEADER: Final = "X-Streampath-Stamp"
#: URL schemes of a WebSocket (``streamprobe.websocket``); every other read is over HTTP.
WEBSOCKET_SCHEMES: Final = ("ws", "wss")
#: The streamcheck endpoints' path endings: the SSE stream, and the same events over a WebSocket.
STREAMCHECK_SSE_PATH: Final = "/streamcheck"
STREAMCHECK_WS_PATH: Final = "/streamcheck/ws"


@dataclass
class ProbeOptions:
    name: str = "probe"  # path_name in the result
    http: HttpChoice = "auto"
    headers: Mapping[str, str] = field(default_factory=dict)  # values are secret
    accept_encoding: str | None = None  # None: like a browser ("gzip, deflate, br"; br only if decodable)
    timeout: float = 10.0  # connect, TLS, waiting for headers, any silence in the stream
    max_duration: float = 60.0  # the whole probe
    max_event_bytes: int = 1 << 20
    verify: bool | str = True  # True | False (insecure) | path to a CA bundle (PEM)
    add_nonce: bool = True  # streamcheck URLs get a unique `nonce` query parameter
    resolver: Resolver | None = None  # (host, port) -> [(family, sockaddr)]; default getaddrinfo
    stamp: bool = True  # send X-Streampath-Stamp: 1 (an app with StampMiddleware stamps its events)
    method: Method = "GET"
    data: bytes | None = None  # the request body (POST only); not secret: see streamprobe.body
    send: str | None = None  # a WebSocket's first message (a chat prompt); not secret, like ``data``

    def content_type(self) -> str | None:
        """The Content-Type given in ``headers`` (any case), or None."""
        return next((str(v) for k, v in self.headers.items() if k.lower() == "content-type"), None)

    def validate(self) -> None:
        """``InvalidRequest`` for an option no read can use (the message never shows a header value)."""
        if self.http not in HTTP_CHOICES:
            raise InvalidRequest(f"http must be 'auto', 'h1', 'h2' or 'h3', not {self.http!r}")
        if not self.timeout > 0:
            raise InvalidRequest("timeout must be > 0 seconds")
        if not self.max_duration > 0:
            raise InvalidRequest("max_duration must be > 0 seconds")
        if self.max_event_bytes < 1:
            raise InvalidRequest("max_event_bytes must be >= 1")
        for name, value in self.headers.items():
            if not name or any(c in name for c in ":\r\n ") or any(c in str(value) for c in "\r\n"):
                raise InvalidRequest(f"invalid header {name!r} (the value is not shown)")
            if not str(value).isascii():  # httpx sends values as ASCII; its error would show a character
                raise InvalidRequest(f"header {name!r}: the value must be ASCII (the value is not shown)")
        if self.method not in METHODS:
            raise InvalidRequest(f"method must be 'GET' or 'POST', not {self.method!r}")
        if self.data is not None:
            if self.method == "GET":
                raise InvalidRequest("a request body needs method POST (--method POST)")
            problem = body_problem(self.data, self.content_type())
            if problem:
                raise InvalidRequest(f"the body {problem}")
        if self.send is not None:
            problem = message_problem(self.send)
            if problem:
                raise InvalidRequest(f"the message to send {problem}")

    def validate_websocket(self) -> None:
        """``InvalidRequest`` for an option a WebSocket read cannot use (it opens with an HTTP/1.1 GET)."""
        if self.http not in ("auto", "h1"):
            raise InvalidRequest(
                "a WebSocket opens with an HTTP/1.1 upgrade: --http2/--http3 do not apply to ws:// URLs"
            )
        if self.method != "GET" or self.data is not None:
            raise InvalidRequest(
                "a WebSocket opens with a GET: send the first message with --send, not --data/--method"
            )

    def validate_http(self) -> None:
        """``InvalidRequest`` for an option only a WebSocket read uses."""
        if self.send is not None:
            raise InvalidRequest("--send is a WebSocket's first message (ws:// URLs); over HTTP use --data")


def is_streamcheck_url(url: httpx.URL) -> bool:
    path = url.path.rstrip("/")
    return path.endswith(STREAMCHECK_WS_PATH if is_websocket(url) else STREAMCHECK_SSE_PATH)


def is_websocket(url: httpx.URL) -> bool:
    return url.scheme in WEBSOCKET_SCHEMES


def is_websocket_url(url: str) -> bool:
    """``url`` starts with ws:// or wss:// (any case): a WebSocket read, not an HTTP one."""
    return str(url).strip().lower().startswith(tuple(f"{s}://" for s in WEBSOCKET_SCHEMES))


def prepare_url(url: str, options: ProbeOptions, *, websocket: bool = False) -> httpx.URL:
    """Validate the URL (InvalidRequest if unusable) and add a nonce to streamcheck URLs.
    ``websocket``: the URL must be ws:// or wss:// instead of http:// or https://."""
    shown = repr(mask_url_text(str(url)))  # a message never repeats the URL's credentials
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidRequest(f"invalid URL {shown}: {redact(str(exc), url_secrets(str(url)))}") from None
    if websocket and parsed.scheme not in WEBSOCKET_SCHEMES:
        raise InvalidRequest(f"URL must start with ws:// or wss://, got {shown}")
    if not websocket and parsed.scheme not in ("http", "https"):
        raise InvalidRequest(f"URL must start with http:// or https://, got {shown}")
    if not parsed.host:
        raise InvalidRequest(f"URL has no host: {shown}")
    if options.add_nonce and is_streamcheck_url(parsed) and "nonce" not in parsed.params:
        parsed = parsed.copy_add_param("nonce", uuid.uuid4().hex[:16])
    return parsed
