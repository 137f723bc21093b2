"""The codec: one typed decode per request, AWS's ValidationException wording, blob rules."""

from __future__ import annotations

import pytest

from qkms.domain.errors import (
    InvalidPublicKeyException,
    SerializationException,
    ValidationException,
)
from qkms.operations.shapes import (
    CreateKeyRequest,
    DeriveSharedSecretRequest,
    DescribeKeyResponse,
    KeyMetadata,
    ListKeysRequest,
    ScheduleKeyDeletionRequest,
)
from qkms.wire.codec import decode_request, encode_response


def test_decodes_aws_member_names_and_blobs() -> None:
    request = decode_request(
        b'{"KeyId": "k", "PublicKey": "AAEC", "KeyAgreementAlgorithm": "ECDH", "GrantTokens": []}',
        DeriveSharedSecretRequest,
    )
    assert request.key_id == "k"
    assert request.public_key == b"\x00\x01\x02"
    assert request.grant_tokens == []


def test_unknown_members_are_ignored_like_aws() -> None:
    request = decode_request(
        b'{"KeyId": "k", "PublicKey": "AA==", "Future": 1}', DeriveSharedSecretRequest
    )
    assert request.key_id == "k"


def test_empty_body_is_an_empty_object() -> None:
    assert decode_request(b"", ListKeysRequest) == ListKeysRequest()


@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe"])
def test_not_json_is_a_serialization_error(body: bytes) -> None:
    with pytest.raises(SerializationException):
        decode_request(body, ListKeysRequest)


@pytest.mark.parametrize(
    "body", [b"[]", b'{"Limit": "10"}', b'{"Limit": 1.5}', b'{"Marker": 5}', b'{"Limit": true}']
)
def test_wrong_member_type_is_a_serialization_error(body: bytes) -> None:
    with pytest.raises(SerializationException):
        decode_request(body, ListKeysRequest)


def test_public_key_that_is_not_base64_is_an_invalid_public_key() -> None:
    # DESIGN §3 lists "not base64" among the InvalidPublicKeyException conditions.
    with pytest.raises(InvalidPublicKeyException, match="PublicKey is not valid base64"):
        decode_request(b'{"KeyId": "k", "PublicKey": "!!!"}', DeriveSharedSecretRequest)


def test_other_blob_that_is_not_base64_is_a_serialization_error() -> None:
    with pytest.raises(SerializationException):
        decode_request(
            b'{"KeyId": "k", "PublicKey": "AA==", "RecipientInfo": "!!!"}',
            DeriveSharedSecretRequest,
        )


def test_missing_required_members_in_aws_wording() -> None:
    with pytest.raises(ValidationException) as raised:
        decode_request(b"{}", DeriveSharedSecretRequest)
    assert raised.value.message == (
        "2 validation errors detected: "
        "Value null at 'keyId' failed to satisfy constraint: Member must not be null; "
        "Value null at 'publicKey' failed to satisfy constraint: Member must not be null"
    )


def test_enum_in_aws_wording() -> None:
    with pytest.raises(ValidationException) as raised:
        decode_request(
            b'{"KeyId": "k", "PublicKey": "AA==", "KeyAgreementAlgorithm": "FOO"}',
            DeriveSharedSecretRequest,
        )
    assert raised.value.message == (
        "1 validation error detected: Value 'FOO' at 'keyAgreementAlgorithm' failed to "
        "satisfy constraint: Member must satisfy enum value set: [ECDH]"
    )


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        (
            b'{"Limit": 0}',
            "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ),
        (b'{"Limit": 1001}', "Member must have value less than or equal to 1000"),
        (b'{"Marker": ""}', "Member must have length greater than or equal to 1"),
    ],
)
def test_ranges_and_lengths(body: bytes, phrase: str) -> None:
    with pytest.raises(ValidationException, match="1 validation error detected") as raised:
        decode_request(body, ListKeysRequest)
    assert phrase in raised.value.message


@pytest.mark.parametrize("days", [6, 31])
def test_pending_window_is_7_to_30(days: int) -> None:
    with pytest.raises(ValidationException, match="pendingWindowInDays"):
        decode_request(
            b'{"KeyId": "k", "PendingWindowInDays": %d}' % days, ScheduleKeyDeletionRequest
        )


def test_description_length() -> None:
    body = b'{"Description": "' + b"x" * 8193 + b'"}'
    with pytest.raises(ValidationException, match="'description'"):
        decode_request(body, CreateKeyRequest)


def test_blob_values_are_not_echoed() -> None:
    body = b'{"KeyId": "k", "PublicKey": "' + b"QUFB" * 3000 + b'"}'
    with pytest.raises(ValidationException) as raised:
        decode_request(body, DeriveSharedSecretRequest)
    assert "QUFB" not in raised.value.message and "AAA" not in raised.value.message


def test_response_encoding_uses_aws_names_and_omits_absent_members() -> None:
    metadata = KeyMetadata(
        aws_account_id="111122223333",
        key_id="k",
        arn="arn",
        creation_date=1.5,
        enabled=False,
        description="",
        key_usage="KEY_AGREEMENT",
        key_state="Disabled",
        origin="AWS_KMS",
        key_manager="CUSTOMER",
        customer_master_key_spec="ECC_NIST_P256",
        key_spec="ECC_NIST_P256",
        key_agreement_algorithms=["ECDH"],
        multi_region=False,
    )
    encoded = encode_response(DescribeKeyResponse(key_metadata=metadata))
    assert encoded.startswith(b'{"KeyMetadata":{"AWSAccountId":"111122223333","KeyId":"k"')
    assert b'"Enabled":false' in encoded and b'"MultiRegion":false' in encoded
    assert b"DeletionDate" not in encoded and b"SigningAlgorithms" not in encoded
