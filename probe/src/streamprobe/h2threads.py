"""HTTP/2 connections that streams read by many threads share (``streamprobe.shared``).

httpcore's synchronous HTTP/2 connection serialises its socket reads and its socket writes, each under a
lock of its own, but it calls h2's connection state machine from every thread with neither held: a
stream's id is taken (``get_next_available_stream_id``), and only later, after the request's trace
hook ran, are its HEADERS queued (``send_headers``), while other threads queue their own HEADERS,
acknowledge received data or feed the bytes they read (``receive_data``). When a thread is switched out
in between (twenty streams opening at once on a busy machine), two streams get the same id: the second
HEADERS go out as trailers of the first stream, the server ends the connection (GOAWAY
PROTOCOL_ERROR), every stream on it fails and the pool opens another connection, so a run uses more
connections than it was asked for. h2's state (stream table, flow-control windows, HPACK encoder) is
also read and changed on two threads at once ("dictionary changed size during iteration").

Here every call into the state machine is made under one lock, and a stream id is held from the moment
it is taken until that stream's HEADERS are queued, so ids are never handed out twice and go out in
increasing order (RFC 9113, section 5.1.1). Sending a request body spends flow-control credit under the
same lock as the check that saw it. Socket reads and writes stay outside that lock: a thread waiting
for bytes never keeps another from opening its stream.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import h2.config
import h2.connection
import httpcore

_T = TypeVar("_T")


def _serialised(method: Callable[..., _T]) -> Callable[..., _T]:
    """``method`` of the state machine, called under its lock."""

    @functools.wraps(method)
    def call(self: SerialH2State, *args: Any, **kwargs: Any) -> _T:
        with self.lock:
            return method(self, *args, **kwargs)

    return call


class SerialH2State(h2.connection.H2Connection):
    """h2's connection state machine, safe to call from many threads."""

    def __init__(self, config: h2.config.H2Configuration) -> None:
        #: Held for each call; re-entrant, since h2's methods call one another.
        self.lock = threading.RLock()
        # Held from a stream id's allocation until that stream's HEADERS are queued.
        self._opening = threading.Lock()
        self._opener: int | None = None  # the thread holding _opening
        super().__init__(config=config)

    initiate_connection = _serialised(h2.connection.H2Connection.initiate_connection)
    send_data = _serialised(h2.connection.H2Connection.send_data)
    end_stream = _serialised(h2.connection.H2Connection.end_stream)
    increment_flow_control_window = _serialised(h2.connection.H2Connection.increment_flow_control_window)
    ping = _serialised(h2.connection.H2Connection.ping)
    reset_stream = _serialised(h2.connection.H2Connection.reset_stream)
    close_connection = _serialised(h2.connection.H2Connection.close_connection)
    update_settings = _serialised(h2.connection.H2Connection.update_settings)
    local_flow_control_window = _serialised(h2.connection.H2Connection.local_flow_control_window)
    remote_flow_control_window = _serialised(h2.connection.H2Connection.remote_flow_control_window)
    acknowledge_received_data = _serialised(h2.connection.H2Connection.acknowledge_received_data)
    data_to_send = _serialised(h2.connection.H2Connection.data_to_send)
    receive_data = _serialised(h2.connection.H2Connection.receive_data)

    def get_next_available_stream_id(self) -> int:
        """The next stream id, held by the calling thread until it queues that stream's HEADERS
        (``send_headers``) or gives the stream up (``release_opening``)."""
        self._opening.acquire()
        try:
            with self.lock:
                stream_id = super().get_next_available_stream_id()
        except BaseException:
            self._opening.release()
            raise
        self._opener = threading.get_ident()
        return stream_id

    def send_headers(self, *args: Any, **kwargs: Any) -> None:
        try:
            with self.lock:
                super().send_headers(*args, **kwargs)
        finally:
            self.release_opening()

    def release_opening(self) -> None:
        """Let the next stream open, if the calling thread holds the opening (no-op otherwise)."""
        if self._opener == threading.get_ident():
            self._opener = None
            self._opening.release()


class SerialHTTP2Connection(httpcore.HTTP2Connection):
    """httpcore's HTTP/2 connection over :class:`SerialH2State`."""

    def __init__(
        self, origin: httpcore.Origin, stream: httpcore.NetworkStream, keepalive_expiry: float | None = None
    ) -> None:
        super().__init__(origin=origin, stream=stream, keepalive_expiry=keepalive_expiry)
        self._serial = SerialH2State(self.CONFIG)
        self._h2_state = self._serial

    def _response_closed(self, stream_id: int) -> None:
        # A request that failed between taking its stream id and queueing its HEADERS ends here, on
        # its own thread: the next stream may open.
        self._serial.release_opening()
        super()._response_closed(stream_id)

    def _send_stream_data(self, request: httpcore.Request, stream_id: int, data: bytes) -> None:
        while data:
            self._wait_for_outgoing_flow(request, stream_id)
            with self._serial.lock:
                # Another stream may have spent the connection's credit since the wait saw it.
                flow = min(
                    self._serial.local_flow_control_window(stream_id), self._serial.max_outbound_frame_size
                )
                if flow > 0:
                    chunk, data = data[:flow], data[flow:]
                    self._serial.send_data(stream_id, chunk)
            self._write_outgoing_data(request)


class SharedHTTPConnection(httpcore.HTTPConnection):
    """httpcore's connection, speaking HTTP/2 through :class:`SerialHTTP2Connection`."""

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        if not self.can_handle_request(request.url.origin):
            raise RuntimeError(f"a request to {request.url.origin} on a connection to {self._origin}")
        try:
            with self._request_lock:
                if self._connection is None:
                    stream = self._connect(request)
                    ssl_object = stream.get_extra_info("ssl_object")
                    negotiated = ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2"
                    if negotiated or (self._http2 and not self._http1):
                        self._connection = SerialHTTP2Connection(self._origin, stream, self._keepalive_expiry)
                    else:
                        self._connection = httpcore.HTTP11Connection(
                            origin=self._origin, stream=stream, keepalive_expiry=self._keepalive_expiry
                        )
        except BaseException:
            self._connect_failed = True
            raise
        return self._connection.handle_request(request)


class SharedConnectionPool(httpcore.ConnectionPool):
    """httpcore's pool, whose connections are :class:`SharedHTTPConnection` (no proxies: a probe
    dials its own addresses)."""

    def create_connection(self, origin: httpcore.Origin) -> httpcore.ConnectionInterface:
        return SharedHTTPConnection(
            origin=origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            http1=self._http1,
            http2=self._http2,
            retries=self._retries,
            local_address=self._local_address,
            uds=self._uds,
            network_backend=self._network_backend,
            socket_options=self._socket_options,
        )
