"""The edge's typed request and response: reading a capped body, the request's text forms."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from qkms.domain.errors import RequestEntityTooLargeException
from qkms.wire.messages import ApiRequest, Message, api_response, read_body


def body_of(messages: list[Message], limit: int = 10, headers: Any = ()) -> bytes | None:
    """read_body over `messages` as an ASGI server would deliver them, one per receive()."""
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0)

    return asyncio.run(read_body(list(headers), receive, limit))


def part(body: bytes, more: bool = False) -> Message:
    return {"type": "http.request", "body": body, "more_body": more}


def test_a_body_in_one_message_is_that_message() -> None:
    assert body_of([part(b"{}")]) == b"{}"


def test_a_body_in_several_messages_is_joined_in_order() -> None:
    assert body_of([part(b"", True), part(b"ab", True), part(b"c", True), part(b"d")]) == b"abcd"


def test_a_body_at_the_limit_is_read() -> None:
    assert body_of([part(b"12345", True), part(b"67890")]) == b"1234567890"


def test_a_body_past_the_limit_is_refused_as_it_arrives() -> None:
    with pytest.raises(RequestEntityTooLargeException, match=r"^Request body exceeds 10 bytes\.$"):
        body_of([part(b"123456", True), part(b"78901")])


def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(RequestEntityTooLargeException):
        body_of([], headers=[(b"content-length", b"11")])  # receive() would fail: never called


def test_a_client_that_leaves_has_no_body() -> None:
    assert body_of([part(b"ab", True), {"type": "http.disconnect"}]) is None


def test_request_text_forms_are_what_sigv4_canonicalises() -> None:
    scope = {
        "method": "POST",
        "raw_path": b"/caf\xc3\xa9/\xff?x=1",
        "query_string": b"a=b",
        "headers": [(b"user-agent", b"first"), (b"user-agent", b"second")],
        "client": ("192.0.2.1", 4321),
        "scheme": "https",
    }
    request = ApiRequest.of(scope, b"{}")
    assert request.path == "/café/\udcff"  # any byte kept, the query cut off
    assert request.query_string == "a=b"
    assert (request.client_ip, request.is_secure, request.body) == ("192.0.2.1", True, b"{}")
    assert request.header(b"user-agent") == b"first"
    assert request.header(b"x-amz-target") == b""


def test_a_request_without_client_or_path_has_empty_defaults() -> None:
    request = ApiRequest.of({"method": "POST", "headers": []}, b"")
    assert (request.path, request.query_string, request.client_ip) == ("/", "", "")
    assert not request.is_secure


def test_api_responses_are_never_cached_and_name_their_error() -> None:
    response = api_response(400, b"{}", request_id="rid", error_code="NotFoundException")
    assert response.status == 400
    assert response.headers == [
        (b"content-type", b"application/x-amz-json-1.1"),
        (b"content-length", b"2"),
        (b"cache-control", b"no-store"),
        (b"x-amzn-requestid", b"rid"),
        (b"x-amzn-errortype", b"NotFoundException"),
    ]
