"""The HTTP/1.1 connection edge: read deadlines, idle close, a connection cap, JSON framing errors.

uvicorn's httptools protocol, plus what DESIGN §1 ("never a hang") needs from the edge:
- a client has `request_timeout_seconds` from connecting (or from the first byte of a later
  request on a kept-alive connection) to deliver the whole request, headers and body; a slow
  or stalled sender is answered 408 `RequestTimeoutException` and closed, so half-sent requests
  cannot pile up (uvicorn alone arms no timer before the first request or while one arrives);
- an idle kept-alive connection is closed after `keepalive_timeout_seconds` (uvicorn's timer);
- a worker holds at most `max_connections` connections; one more is answered at once with 503
  `ServiceUnavailableException` and closed, before anything is read, so a flood of clients is
  refused cleanly instead of slowing everyone (uvicorn's own limit answers in plain text, and
  only once a request's headers have arrived);
- a request line and headers over 64 KiB, and malformed HTTP framing, get AWS's JSON error
  shape (400 `SerializationException`) instead of uvicorn's plain-text 400.
The limits are per worker process; `configure` is called once per worker by the composition
root, before the worker accepts connections (uvicorn builds one protocol object per connection
from this class, so the class is where a worker's limits live).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from qkms.domain.errors import (
    KmsError,
    RequestTimeoutException,
    SerializationException,
    ServiceUnavailableException,
)
from qkms.wire.errors import render_error

__all__ = ["EdgeLimits", "QkmsHttpProtocol"]

_log = logging.getLogger("qkms.edge")
# Request line and headers together; KMS requests need well under 8 KiB. uvicorn's httptools
# protocol sets no bound, so a client could grow one request's headers for the whole deadline.
_MAX_HEAD_BYTES = 64 * 1024
# A refused client gets this long to read its 503 before the socket is closed under it.
_REFUSAL_LINGER_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    request_timeout_seconds: float = 10.0
    keepalive_timeout_seconds: float = 5.0
    max_connections: int = 1000


class QkmsHttpProtocol(HttpToolsProtocol):
    limits: ClassVar[EdgeLimits] = EdgeLimits()

    @classmethod
    def configure(cls, limits: EdgeLimits) -> None:
        cls.limits = limits

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn hands this to loop.call_later, which takes fractions of a second too.
        self.timeout_keep_alive = self.limits.keepalive_timeout_seconds  # type: ignore[assignment]
        # One timer per connection, re-aimed lazily: a request moves `_deadline_at` and the
        # timer, when it fires early for a later request, sleeps again (no timer per request).
        self._timer: asyncio.TimerHandle | None = None
        self._deadline_at = 0.0
        self._awaiting = False  # a request (or the first one) is due and not yet whole
        self._request_started = False
        self._refused = False
        self._head_bytes = 0

    # --- connection ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse()
            return
        self._start_clock()  # the first request must arrive in time, even if no byte of it does

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the answer is already sent; what the client says no longer matters
        if not self._awaiting and (self.cycle is None or self.cycle.response_complete):
            # Any byte after an answer stops uvicorn's idle timer, even one the parser skips
            # (a stray line break starts no request): the read deadline takes over from here.
            self._start_clock()
        super().data_received(data)

    # --- parser callbacks: the read deadline runs from a request's first byte to its end ------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._awaiting:  # a later request on a kept-alive connection: a fresh clock
            self._start_clock()
        self._request_started = True
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_message_complete(self) -> None:
        self._awaiting = self._request_started = False
        super().on_message_complete()

    # --- answers uvicorn would give in plain text -------------------------------------------
    def send_400_response(self, msg: str) -> None:
        # AWS's answer to broken framing comes from its load balancer, not the service; the
        # closest KMS code for "the request could not be read" is SerializationException.
        self._awaiting = False
        problem = (
            f"The request line and headers exceed {_MAX_HEAD_BYTES // 1024} KiB."
            if self._head_bytes > _MAX_HEAD_BYTES
            else "The request is not well-formed HTTP/1.1."
        )
        self._write_error(SerializationException(problem))
        self.transport.close()

    def _refuse(self) -> None:
        self._refused = True
        _log.warning(
            "refused a connection: this worker holds its limit of %d (--max-connections)",
            self.limits.max_connections,
        )
        # AWS's common error for a temporary failure of the server; clients retry 503s.
        self._write_error(
            ServiceUnavailableException(
                "The request has failed due to a temporary failure of the server."
            )
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the client reads the whole answer, then end of stream
        self.loop.call_later(_REFUSAL_LINGER_SECONDS, self._close)

    def _on_timer(self) -> None:
        self._timer = None
        if not self._awaiting or self.transport.is_closing():
            return
        if self.loop.time() < self._deadline_at:  # a later request restarted the clock
            self._timer = self.loop.call_at(self._deadline_at, self._on_timer)
            return
        # Say why only if nothing else is being written: the stalled request is the one in
        # hand (its headers not yet complete, or its body still awaited by the app) and no
        # earlier pipelined answer is still to come.
        cycle = self.cycle
        between = cycle is None or cycle.response_complete
        awaiting_body = cycle is not None and cycle.more_body and not cycle.response_started
        if self._request_started and not self.pipeline and (between or awaiting_body):
            self._write_error(
                RequestTimeoutException(
                    "The request was not received in full within "
                    f"{self.limits.request_timeout_seconds:g} seconds."
                )
            )
        self._close()

    # --- helpers ------------------------------------------------------------------------------
    def _start_clock(self) -> None:
        self._awaiting = True
        self._deadline_at = self.loop.time() + self.limits.request_timeout_seconds
        if self._timer is None:
            self._timer = self.loop.call_at(self._deadline_at, self._on_timer)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > _MAX_HEAD_BYTES:
            # httptools turns this into a parser error, answered by send_400_response.
            raise ValueError("request head too large")

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def _write_error(self, error: KmsError) -> None:
        status, body = render_error(error)
        head = [
            STATUS_LINE[status],
            b"content-type: application/x-amz-json-1.1\r\n",
            b"content-length: %d\r\n" % len(body),
            b"x-amzn-requestid: " + str(uuid.uuid4()).encode() + b"\r\n",
            b"x-amzn-errortype: " + error.code.encode() + b"\r\n",
            b"cache-control: no-store\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
