"""An attested call's event: CloudTrail's additionalEventData.recipient, never the document or
the CiphertextForRecipient (AWS KMS developer guide, "Monitoring requests for Nitro enclaves")."""

from __future__ import annotations

import dataclasses
import json

from qkms.audit import ApiCall, Identity, build_event, encode_event
from qkms.operations.shapes import (
    DeriveSharedSecretRequest,
    DeriveSharedSecretResponse,
    RecipientInfo,
)

DOCUMENT = b"\x84attestation-document-bytes"
ENVELOPE = b"0\x80envelope-bytes"
DETAILS = {
    "recipient": {
        "attestationDocumentModuleId": "i-0-enc1",
        "attestationDocumentEnclaveImageDigest": "q80=",
    }
}


ADMIN = Identity("111122223333", "arn:verenc:111122223333:user/admin", "AKID", "admin")


def call(request: object = None, response: object = None) -> ApiCall:
    return ApiCall(
        request_id="req-1",
        event_time=1_700_000_000.25,
        event_name="DeriveSharedSecret",
        source_ip="192.0.2.7",
        user_agent="test-agent",
        identity=ADMIN,
        claimed_access_key_id=None,
        request=request,  # type: ignore[arg-type]
        response=response,  # type: ignore[arg-type]
        error_code=None,
        error_message=None,
    )


def event_of(api_call: ApiCall) -> dict[str, object]:
    line = encode_event(
        build_event(
            api_call,
            region="us-east-1",
            read_only=True,
            key_arn=lambda account, key: f"arn:verenc:{account}:key/{key}",
        )
    )
    decoded = json.loads(line)
    assert isinstance(decoded, dict)
    return decoded


def test_the_recipient_is_recorded_and_its_document_is_not() -> None:
    request = DeriveSharedSecretRequest(
        key_id="k",
        public_key=b"peer",
        recipient=RecipientInfo(
            key_encryption_algorithm="RSAES_OAEP_SHA_256", attestation_document=DOCUMENT
        ),
        recipient_info=DOCUMENT,
    )
    response = DeriveSharedSecretResponse(
        key_id="arn:verenc:111122223333:key/k",
        ciphertext_for_recipient=ENVELOPE,
        key_agreement_algorithm="ECDH",
        key_origin="AWS_KMS",
    )
    event = event_of(dataclasses.replace(call(request, response), additional_event_data=DETAILS))
    assert event["additionalEventData"] == DETAILS
    assert event["requestParameters"] == {
        "keyId": "k",
        "publicKeySha256": event["requestParameters"]["publicKeySha256"],  # type: ignore[index]
        "recipient": {"keyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
    }
    text = json.dumps(event)
    for secret in (DOCUMENT, ENVELOPE):
        assert secret.hex() not in text
        assert secret.decode("latin-1")[1:] not in text


def test_no_details_no_field() -> None:
    assert "additionalEventData" not in event_of(call())
