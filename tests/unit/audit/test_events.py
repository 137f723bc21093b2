"""Audit event building: CloudTrail's fields, and redaction by rule (DESIGN §3)."""

from __future__ import annotations

import base64
import hashlib
import json

from qkms.audit.events import (
    MAX_EVENT_BYTES,
    ApiCall,
    Identity,
    build_event,
    claimed_access_key_id,
    encode_event,
    event_name_from_target,
)
from qkms.operations.shapes import (
    CreateGrantRequest,
    CreateGrantResponse,
    CreateKeyRequest,
    DeriveSharedSecretRequest,
    DeriveSharedSecretResponse,
    DescribeKeyRequest,
    DescribeKeyResponse,
    DisableKeyRequest,
    KeyMetadata,
    PutKeyPolicyRequest,
    RecipientInfo,
    RetireGrantRequest,
    Tag,
)

ACCOUNT = "111122223333"
KEY_ID = "0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"
KEY_ARN = f"arn:verenc:{ACCOUNT}:key/{KEY_ID}"
ADMIN = Identity(ACCOUNT, f"arn:verenc:{ACCOUNT}:user/admin", "QKMSADMIN", "admin")
SECRET = hashlib.sha256(b"a shared secret for the test").digest()
PEER = b"0Y0\x13\x06\x07*\x86H\xce=\x02\x01" + b"\x04" * 40


def key_arn(account_id: str, key_id: str) -> str:
    return f"arn:verenc:{account_id}:key/{key_id}"


def call(
    request: object = None,
    response: object = None,
    error_code: str | None = None,
    identity: Identity | None = ADMIN,
    name: str = "DeriveSharedSecret",
    claimed: str | None = None,
) -> ApiCall:
    return ApiCall(
        request_id="req-1",
        event_time=1_700_000_000.25,
        event_name=name,
        source_ip="192.0.2.7",
        user_agent="test-agent",
        identity=identity,
        claimed_access_key_id=claimed,
        request=request,  # type: ignore[arg-type]
        response=response,  # type: ignore[arg-type]
        error_code=error_code,
        error_message="boom" if error_code else None,
    )


def event_of(api_call: ApiCall, read_only: bool = True) -> dict[str, object]:
    line = encode_event(
        build_event(api_call, region="us-east-1", read_only=read_only, key_arn=key_arn)
    )
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    decoded = json.loads(line)
    assert isinstance(decoded, dict)
    return decoded


def derive_call() -> ApiCall:
    return call(
        DeriveSharedSecretRequest(
            key_id=KEY_ID,
            public_key=PEER,
            key_agreement_algorithm="ECDH",
            grant_tokens=["bearer-token-1", "bearer-token-2"],
        ),
        DeriveSharedSecretResponse(
            key_id=KEY_ARN,
            shared_secret=SECRET,
            key_agreement_algorithm="ECDH",
            key_origin="AWS_KMS",
        ),
    )


def test_derive_event_has_cloudtrail_fields_and_no_secret() -> None:
    event = event_of(derive_call())
    assert event["eventName"] == "DeriveSharedSecret"
    assert event["eventTime"] == "2023-11-14T22:13:20.250Z"
    assert event["requestID"] == "req-1"
    assert event["sourceIPAddress"] == "192.0.2.7"
    assert event["userAgent"] == "test-agent"
    assert event["readOnly"] is True
    assert event["userIdentity"] == {
        "type": "IAMUser",
        "principalId": f"{ACCOUNT}:admin",
        "arn": f"arn:verenc:{ACCOUNT}:user/admin",
        "accountId": ACCOUNT,
        "accessKeyId": "QKMSADMIN",
        "userName": "admin",
    }
    assert event["requestParameters"] == {
        "keyId": KEY_ID,
        "publicKeySha256": hashlib.sha256(PEER).hexdigest(),
        "keyAgreementAlgorithm": "ECDH",
        "grantTokensCount": 2,
    }
    assert event["responseElements"] == {
        "keyId": KEY_ARN,
        "keyAgreementAlgorithm": "ECDH",
        "keyOrigin": "AWS_KMS",
    }
    assert event["resources"] == [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]
    assert "errorCode" not in event


def test_no_secret_token_or_blob_in_any_spelling() -> None:
    text = encode_event(
        build_event(derive_call(), region="us-east-1", read_only=True, key_arn=key_arn)
    )
    for spelling in (
        SECRET,
        base64.b64encode(SECRET),
        SECRET.hex().encode(),
        SECRET.hex().upper().encode(),
        base64.b64encode(PEER),
        b"bearer-token",
        b'"sharedSecret"',
        b'"SharedSecret"',
    ):
        assert spelling not in text


def test_failed_call_records_error_and_no_response() -> None:
    event = event_of(call(DisableKeyRequest(key_id="alias/x"), None, "NotFoundException"))
    assert event["errorCode"] == "NotFoundException"
    assert event["errorMessage"] == "boom"
    assert event["responseElements"] is None
    assert event["requestParameters"] == {"keyId": "alias/x"}
    assert event["resources"] == []  # an alias cannot be resolved without the store


def test_bare_key_id_names_a_key_of_the_callers_account() -> None:
    event = event_of(call(DisableKeyRequest(key_id=KEY_ID), None, name="DisableKey"))
    assert event["resources"] == [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]
    assert event["recipientAccountId"] == ACCOUNT


def test_unauthenticated_call_is_unknown_with_the_claimed_key_id() -> None:
    event = event_of(
        call(None, None, "InvalidSignatureException", identity=None, claimed="QKMSWHOEVER")
    )
    assert event["userIdentity"] == {"type": "Unknown", "accessKeyId": "QKMSWHOEVER"}
    assert event["requestParameters"] is None
    assert "recipientAccountId" not in event
    assert (
        claimed_access_key_id(
            "AWS4-HMAC-SHA256 Credential=QKMSABC123/20240101/us-east-1/kms/aws4_request, ..."
        )
        == "QKMSABC123"
    )
    assert claimed_access_key_id("garbage") is None


def test_grant_token_and_nested_blobs_are_dropped() -> None:
    retire = event_of(
        call(RetireGrantRequest(grant_token="tok-secret", key_id=KEY_ARN, grant_id="g1"))
    )
    assert retire["requestParameters"] == {"keyId": KEY_ARN, "grantId": "g1"}
    derive = event_of(
        call(
            DeriveSharedSecretRequest(
                key_id=KEY_ID,
                public_key=PEER,
                recipient_info=b"recipient-blob",
                recipient=RecipientInfo(
                    key_encryption_algorithm="RSAES_OAEP_SHA_256",
                    attestation_document=b"attestation",
                ),
            ),
            None,
            "UnsupportedOperationException",
        )
    )
    parameters = derive["requestParameters"]
    assert isinstance(parameters, dict)
    assert parameters["recipient"] == {"keyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}
    assert "recipientInfo" not in parameters


def test_create_grant_response_keeps_the_id_not_the_token() -> None:
    event = event_of(
        call(
            CreateGrantRequest(
                key_id=KEY_ID,
                grantee_principal=f"arn:verenc:{ACCOUNT}:user/bob",
                operations=["DeriveSharedSecret"],
            ),
            CreateGrantResponse(grant_token="opaque-grant-token", grant_id="gid-1"),
            name="CreateGrant",
        )
    )
    assert event["responseElements"] == {"grantId": "gid-1"}
    assert b"opaque-grant-token" not in json.dumps(event).encode()


def test_policy_and_tags_are_recorded_capped() -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [], "Pad": "x" * 9000})
    event = event_of(call(PutKeyPolicyRequest(key_id=KEY_ID, policy_name="default", policy=policy)))
    parameters = event["requestParameters"]
    assert isinstance(parameters, dict)
    assert parameters["policy"].startswith('{"Version"')
    assert len(parameters["policy"]) <= 4096 + len("...(truncated)")
    tags = event_of(
        call(CreateKeyRequest(key_spec="ECC_NIST_P256", tags=[Tag(tag_key="k", tag_value="v")]))
    )
    assert tags["requestParameters"] == {
        "keySpec": "ECC_NIST_P256",
        "tags": [{"tagKey": "k", "tagValue": "v"}],
    }


def test_oversized_event_stays_one_bounded_line() -> None:
    tags = [Tag(tag_key=f"k{i:03d}" + "k" * 120, tag_value="v" * 256) for i in range(50)]
    line = encode_event(
        build_event(
            call(
                CreateKeyRequest(description="d" * 8000, tags=tags), None, "LimitExceededException"
            ),
            region="us-east-1",
            read_only=False,
            key_arn=key_arn,
        )
    )
    assert len(line) <= MAX_EVENT_BYTES
    event = json.loads(line)
    assert event["errorCode"] == "LimitExceededException"
    assert event["requestParameters"]["omitted"]


def test_event_name_from_target_is_sanitised() -> None:
    assert event_name_from_target("TrentService.DescribeKey") == "DescribeKey"
    assert event_name_from_target("Other.Thing") == "Other.Thing"
    assert event_name_from_target("") == "-"
    assert event_name_from_target('Trent"\n{}') == "Trent????"
    assert len(event_name_from_target("A" * 1000)) == 128


def test_describe_key_records_no_response_yet_names_the_key() -> None:
    """As CloudTrail's DescribeKey entry: "responseElements": null; the key's ARN (known from
    the response when the request named an alias) is still in `resources`."""
    metadata = KeyMetadata(
        aws_account_id=ACCOUNT,
        key_id=KEY_ID,
        arn=KEY_ARN,
        creation_date=1.0,
        enabled=True,
        description="",
        key_usage="KEY_AGREEMENT",
        key_state="Enabled",
        origin="AWS_KMS",
        key_manager="CUSTOMER",
        customer_master_key_spec="ECC_NIST_P256",
        key_spec="ECC_NIST_P256",
        multi_region=False,
    )
    event = event_of(
        call(
            DescribeKeyRequest(key_id="alias/mine"),
            DescribeKeyResponse(key_metadata=metadata),
            name="DescribeKey",
        )
    )
    assert event["responseElements"] is None
    assert event["requestParameters"] == {"keyId": "alias/mine"}
    assert event["resources"] == [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]
