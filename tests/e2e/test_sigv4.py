"""SigV4 verification on the real server: botocore-signed requests, then mutated (DESIGN §5)."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from tests.e2e.server import (
    ADMIN_SECRET,
    QkmsServer,
    kms_client,
    send,
    signed_request,
)

BODY: dict[str, Any] = {"Limit": 1}


def assert_raw_error(request: AWSRequest, code: str, status: int = 400) -> str:
    response = send(request)
    assert response.status == status, response.body
    assert response.headers["x-amzn-errortype"] == code
    uuid.UUID(response.headers["x-amzn-requestid"])
    body = response.json()
    assert body == {"__type": code, "message": body["message"]}
    message = str(body["message"])
    # The secret never comes back in an error message.
    assert ADMIN_SECRET not in message
    return message


def list_keys_request(server: QkmsServer, **signing: Any) -> AWSRequest:
    return signed_request(server.endpoint, "ListKeys", BODY, **signing)


def authorization(request: AWSRequest) -> str:
    return str(request.headers["Authorization"])


def replace_authorization(request: AWSRequest, value: str) -> AWSRequest:
    del request.headers["Authorization"]
    request.headers["Authorization"] = value
    return request


def test_correctly_signed_request_is_accepted(server: QkmsServer) -> None:
    response = send(list_keys_request(server))
    assert response.status == 200, response.body
    assert "Keys" in response.json()


def test_missing_authorization_header(server: QkmsServer) -> None:
    request = list_keys_request(server)
    del request.headers["Authorization"]
    message = assert_raw_error(request, "MissingAuthenticationTokenException")
    assert "Authentication Token" in message


def _drop_parameter(name: str) -> Callable[[str], str]:
    def mutate(header: str) -> str:
        algorithm, _, rest = header.partition(" ")
        kept = [p for p in rest.split(", ") if not p.startswith(f"{name}=")]
        return f"{algorithm} {', '.join(kept)}"

    return mutate


GARBLED: dict[str, tuple[Callable[[str], str], str]] = {
    "missing-credential": (_drop_parameter("Credential"), "'Credential'"),
    "missing-signature": (_drop_parameter("Signature"), "'Signature'"),
    "missing-signed-headers": (_drop_parameter("SignedHeaders"), "'SignedHeaders'"),
    "wrong-algorithm": (
        lambda h: h.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1),
        "algorithm",
    ),
    "short-credential-scope": (
        lambda h: re.sub(r"Credential=([^/]+)/\d{8}/", r"Credential=\1/", h),
        "5 slash-delimited elements",
    ),
    "signature-not-hex": (lambda h: re.sub(r"Signature=\w+", "Signature=xyz", h), "Signature"),
    "no-parameters": (lambda _: "AWS4-HMAC-SHA256", "'Credential'"),
}


@pytest.mark.parametrize("case", list(GARBLED.values()), ids=list(GARBLED))
def test_garbled_authorization_is_incomplete_signature(
    server: QkmsServer, case: tuple[Callable[[str], str], str]
) -> None:
    mutate, expected = case
    request = list_keys_request(server)
    garbled = mutate(authorization(request))
    assert garbled != authorization(request)
    message = assert_raw_error(
        replace_authorization(request, garbled), "IncompleteSignatureException"
    )
    assert expected in message


def test_wrong_service_in_credential_scope(server: QkmsServer) -> None:
    # AWS's JSON services answer this one with InvalidSignatureException
    # ("Credential should be scoped to correct service: 'kms'."), not IncompleteSignature.
    request = list_keys_request(server, service="s3")
    assert "/s3/aws4_request" in authorization(request)
    message = assert_raw_error(request, "InvalidSignatureException")
    assert "Credential should be scoped to correct service: 'kms'" in message


def test_missing_x_amz_date(server: QkmsServer) -> None:
    request = list_keys_request(server)
    del request.headers["X-Amz-Date"]
    assert "Date" in assert_raw_error(request, "IncompleteSignatureException")


def test_unknown_access_key(server: QkmsServer) -> None:
    request = list_keys_request(server, access_key_id="QKMSNOSUCHKEY0000000")
    message = assert_raw_error(request, "UnrecognizedClientException")
    assert message == "The security token included in the request is invalid."


def test_wrong_secret(server: QkmsServer) -> None:
    request = list_keys_request(server, secret=ADMIN_SECRET + "x")
    message = assert_raw_error(request, "InvalidSignatureException")
    assert "signature we calculated does not match" in message


def test_body_tampered_after_signing(server: QkmsServer) -> None:
    request = list_keys_request(server)
    request.data = b'{"Limit": 2}'
    assert len(request.body) == len(b'{"Limit": 1}')
    assert_raw_error(request, "InvalidSignatureException")


def test_target_header_tampered_after_signing(server: QkmsServer) -> None:
    request = list_keys_request(server)
    assert "x-amz-target" in authorization(request)
    del request.headers["X-Amz-Target"]
    request.headers["X-Amz-Target"] = "TrentService.CreateKey"
    assert_raw_error(request, "InvalidSignatureException")


def with_signature(request: AWSRequest, change: Callable[[str], str]) -> AWSRequest:
    header = authorization(request)
    changed = re.sub(r"Signature=([0-9a-f]{64})$", lambda m: "Signature=" + change(m[1]), header)
    assert changed != header
    return replace_authorization(request, changed)


def test_signature_with_its_last_hex_digit_flipped(server: QkmsServer) -> None:
    request = list_keys_request(server)
    assert send(request).status == 200  # the very same request, unchanged, is accepted
    last_flipped = with_signature(request, lambda sig: sig[:-1] + format(int(sig[-1], 16) ^ 1, "x"))
    message = assert_raw_error(last_flipped, "InvalidSignatureException")
    assert "signature we calculated does not match" in message


@pytest.mark.parametrize(
    "change",
    [lambda sig: sig + "0", lambda sig: sig[:-1]],
    ids=["one-extra-character", "last-character-missing"],
)
def test_signature_one_character_too_long_or_short(
    server: QkmsServer, change: Callable[[str], str]
) -> None:
    request = list_keys_request(server)
    assert send(request).status == 200
    message = assert_raw_error(with_signature(request, change), "IncompleteSignatureException")
    assert message == "Signature must be 64 hexadecimal characters."


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(-6, "Signature expired"), (6, "Signature not yet current")],
    ids=["6-min-past", "6-min-future"],
)
def test_signature_outside_the_clock_window(
    server: QkmsServer, minutes: int, expected: str
) -> None:
    timestamp = _utc_now() + datetime.timedelta(minutes=minutes)
    request = list_keys_request(server, timestamp=timestamp)
    assert request.headers["X-Amz-Date"] == timestamp.strftime("%Y%m%dT%H%M%SZ")
    message = assert_raw_error(request, "InvalidSignatureException")
    assert message.startswith(expected)


@pytest.mark.parametrize("minutes", [-4, 4], ids=["4-min-past", "4-min-future"])
def test_signature_inside_the_clock_window(server: QkmsServer, minutes: int) -> None:
    timestamp = _utc_now() + datetime.timedelta(minutes=minutes)
    request = list_keys_request(server, timestamp=timestamp)
    assert request.headers["X-Amz-Date"] == timestamp.strftime("%Y%m%dT%H%M%SZ")
    response = send(request)
    assert response.status == 200, response.body


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "ap-southeast-2", "qkms-local-1"])
def test_any_region_in_the_scope_is_accepted(server: QkmsServer, region: str) -> None:
    request = list_keys_request(server, region=region)
    assert f"/{region}/kms/aws4_request" in authorization(request)
    response = send(request)
    assert response.status == 200, response.body


@pytest.mark.parametrize("region", ["eu-central-1", "us-west-2"])
def test_boto3_client_in_another_region_works(server: QkmsServer, region: str) -> None:
    kms = kms_client(server.endpoint, region=region)
    assert kms.list_keys(Limit=1)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_boto3_client_with_a_wrong_secret(server: QkmsServer) -> None:
    kms = kms_client(server.endpoint, secret="definitely-not-the-secret-access-key0000")
    with pytest.raises(ClientError) as info:
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    error = info.value.response
    assert error["Error"]["Code"] == "InvalidSignatureException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == (
        "InvalidSignatureException"
    )


def test_boto3_client_with_an_unknown_access_key(server: QkmsServer) -> None:
    kms = kms_client(server.endpoint, access_key_id="QKMSUNKNOWN000000000")
    with pytest.raises(ClientError) as info:
        kms.list_keys()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_rejected_requests_change_nothing(server: QkmsServer, kms: Any) -> None:
    before = {k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"]}
    bad = signed_request(
        server.endpoint,
        "CreateKey",
        {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"},
        secret="wrong-secret",
    )
    assert send(bad).status == 400
    assert {k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"]} == before
