"""What the edge accepts, against a real `qkms serve`: media type, signed target, echoed values."""

from __future__ import annotations

from typing import Any

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from qkms.audit import iter_events
from tests.e2e.server import (
    ADMIN_ACCESS_KEY_ID,
    ADMIN_SECRET,
    REGION,
    QkmsServer,
    RawResponse,
    raw_call,
    send,
)


def signed(server: QkmsServer, headers: dict[str, str], body: bytes = b"{}") -> AWSRequest:
    """Signed by botocore over exactly the headers given (and host and x-amz-date)."""
    request = AWSRequest(method="POST", url=f"{server.endpoint}/", data=body, headers=headers)
    credentials = Credentials(ADMIN_ACCESS_KEY_ID, ADMIN_SECRET)
    botocore.auth.SigV4Auth(credentials, "kms", REGION).add_auth(request)
    return request


def kms_headers(target: str, content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, "X-Amz-Target": f"TrentService.{target}"}


def error_of(response: RawResponse) -> tuple[int, str]:
    return response.status, str(response.json()["__type"])


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/x-amz-json-1.2",
    ],
)
def test_another_media_type_is_an_unknown_operation(server: QkmsServer, content_type: str) -> None:
    response = send(signed(server, kms_headers("ListKeys", content_type)))
    assert error_of(response) == (400, "UnknownOperationException")
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"


def test_a_request_without_a_media_type_is_an_unknown_operation(server: QkmsServer) -> None:
    response = send(signed(server, {"X-Amz-Target": "TrentService.ListKeys"}))
    assert error_of(response) == (400, "UnknownOperationException")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-amz-json-1.1",
        "application/x-amz-json-1.0",
        "Application/X-Amz-Json-1.1; charset=utf-8",
    ],
)
def test_aws_json_media_types_are_served(server: QkmsServer, content_type: str) -> None:
    response = send(signed(server, kms_headers("ListKeys", content_type)))
    assert response.status == 200, response.body
    assert "Keys" in response.json()


def test_a_target_swapped_into_a_request_signed_without_it_is_refused(
    server: QkmsServer, kms: Any
) -> None:
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
        "KeyId"
    ]
    body = f'{{"KeyId": "{key_id}"}}'.encode()
    # Signed over content-type, host and x-amz-date only, as a captured DescribeKey might be.
    request = signed(server, {"Content-Type": "application/x-amz-json-1.1"}, body)
    assert "x-amz-target" not in request.headers["Authorization"]
    request.headers["X-Amz-Target"] = "TrentService.DisableKey"
    response = send(request)
    assert error_of(response) == (400, "InvalidSignatureException")
    assert "'X-Amz-Target' must be a 'SignedHeader'" in response.json()["message"]
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is True


def test_a_long_value_is_echoed_truncated_in_the_answer_and_the_audit_event(
    server: QkmsServer,
) -> None:
    value = "Q" * 5000
    response = raw_call(server.endpoint, "CreateKey", {"KeySpec": value})
    assert error_of(response) == (400, "ValidationException")
    message = response.json()["message"]
    assert f"Value '{'Q' * 128}...' at 'keySpec'" in message
    assert "Q" * 129 not in message
    request_id = response.headers["x-amzn-requestid"]
    (event,) = [
        e for e in iter_events(server.data_dir / "audit.log") if e.get("requestID") == request_id
    ]
    assert event["errorCode"] == "ValidationException"
    assert "Q" * 129 not in event["errorMessage"]
    assert f"'{'Q' * 128}...'" in event["errorMessage"]


def test_a_long_unknown_target_is_echoed_truncated(server: QkmsServer) -> None:
    response = raw_call(server.endpoint, "TrentService." + "Z" * 3000, {})
    assert error_of(response) == (400, "UnknownOperationException")
    assert "Z" * 129 not in response.json()["message"]
