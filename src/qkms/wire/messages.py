"""The edge's typed request and response, and the ASGI plumbing that reads and writes them.

Everything past this module sees an `ApiRequest` and returns an `ApiResponse`; only here (and in
the router) do ASGI's dicts appear.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

from qkms.domain.errors import RequestEntityTooLargeException

__all__ = [
    "JSON_TYPE",
    "ApiRequest",
    "ApiResponse",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "api_response",
    "read_body",
    "send_response",
]

# ASGI's own types: plain mappings, typed as loosely as the specification leaves them.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_TYPE = b"application/x-amz-json-1.1"


# gc=False: both hold only str, bytes and the server's list of header pairs, so they can never
# be part of a reference cycle, and the collector need not track one object per request.
class ApiRequest(msgspec.Struct, frozen=True, gc=False):
    """One API request as received: the text forms are what SigV4 canonicalises (UTF-8 for the
    path and query, surrogateescape keeping any byte intact; header names stay lower-case bytes,
    as ASGI servers give them)."""

    method: str
    path: str
    query_string: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    client_ip: str
    is_secure: bool  # arrived over TLS (aws:SecureTransport)

    @classmethod
    def of(cls, scope: Scope, body: bytes) -> ApiRequest:
        return cls(
            method=scope["method"],
            path=(scope.get("raw_path") or b"/")
            .decode("utf-8", "surrogateescape")
            .split("?", 1)[0],
            query_string=scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
            headers=scope["headers"],
            body=body,
            client_ip=str((scope.get("client") or ("", 0))[0]),
            is_secure=scope.get("scheme") == "https",
        )

    def header(self, name: bytes) -> bytes:
        """The first value of header `name` (lower-case), or b"" when it is absent."""
        for header, value in self.headers:
            if header == name:
                return value
        return b""


class ApiResponse(msgspec.Struct, frozen=True, gc=False):
    """One answer of the edge, API or not: status, header pairs and the whole body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def api_response(
    status: int,
    body: bytes,
    content_type: bytes = JSON_TYPE,
    request_id: str | None = None,
    error_code: str | None = None,
) -> ApiResponse:
    headers = [
        (b"content-type", content_type),
        (b"content-length", b"%d" % len(body)),
        # Every API response may carry key facts or a shared secret: never cache any.
        (b"cache-control", b"no-store"),
    ]
    if request_id is not None:
        headers.append((b"x-amzn-requestid", request_id.encode()))
    if error_code is not None:
        headers.append((b"x-amzn-errortype", error_code.encode()))
    return ApiResponse(status, headers, body)


async def send_response(send: Send, response: ApiResponse) -> None:
    await send(
        {"type": "http.response.start", "status": response.status, "headers": response.headers}
    )
    await send({"type": "http.response.body", "body": response.body})


async def read_body(
    headers: list[tuple[bytes, bytes]], receive: Receive, limit: int
) -> bytes | None:
    """The whole body, refused past `limit` bytes (as declared or as sent); None if the client
    left (or was cut off) before its request was whole."""
    for name, value in headers:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _too_large(limit)
    size = 0
    body = b""
    parts: list[bytes] | None = None  # only a body sent in several messages needs joining
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        if parts is not None:
            parts.append(chunk)
        elif body:
            parts = [body, chunk]
        else:
            body = chunk
        if not message.get("more_body", False):
            return body if parts is None else b"".join(parts)


def _too_large(limit: int) -> RequestEntityTooLargeException:
    return RequestEntityTooLargeException(f"Request body exceeds {limit} bytes.")
