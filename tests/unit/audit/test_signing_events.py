"""Audit events of Sign, Verify, GenerateMac and VerifyMac never hold the message, signature or
MAC, in any encoding; they are read-only events as in CloudTrail."""

from __future__ import annotations

import base64
import json

import msgspec
import pytest

from qkms.audit import is_read_only
from qkms.audit.events import ApiCall, Identity, build_event
from qkms.operations.shapes.mac import (
    GenerateMacRequest,
    GenerateMacResponse,
    VerifyMacRequest,
    VerifyMacResponse,
)
from qkms.operations.shapes.signing import SignRequest, SignResponse, VerifyRequest, VerifyResponse

ACCOUNT = "111122223333"
KEY_ARN = f"arn:verenc:{ACCOUNT}:key/0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"
MESSAGE = b"a confidential message to sign, never to be audited"
SIGNATURE = b"\x30\x45" + bytes(range(67))
MAC = bytes(range(100, 132))

CALLS: list[tuple[str, msgspec.Struct, msgspec.Struct]] = [
    (
        "Sign",
        SignRequest(key_id=KEY_ARN, message=MESSAGE, signing_algorithm="ECDSA_SHA_256"),
        SignResponse(key_id=KEY_ARN, signature=SIGNATURE, signing_algorithm="ECDSA_SHA_256"),
    ),
    (
        "Verify",
        VerifyRequest(
            key_id=KEY_ARN, message=MESSAGE, signature=SIGNATURE, signing_algorithm="ECDSA_SHA_256"
        ),
        VerifyResponse(key_id=KEY_ARN, signature_valid=True, signing_algorithm="ECDSA_SHA_256"),
    ),
    (
        "GenerateMac",
        GenerateMacRequest(key_id=KEY_ARN, message=MESSAGE, mac_algorithm="HMAC_SHA_256"),
        GenerateMacResponse(key_id=KEY_ARN, mac=MAC, mac_algorithm="HMAC_SHA_256"),
    ),
    (
        "VerifyMac",
        VerifyMacRequest(key_id=KEY_ARN, message=MESSAGE, mac=MAC, mac_algorithm="HMAC_SHA_256"),
        VerifyMacResponse(key_id=KEY_ARN, mac_valid=True, mac_algorithm="HMAC_SHA_256"),
    ),
]


@pytest.mark.parametrize(("name", "request_", "response"), CALLS, ids=[c[0] for c in CALLS])
def test_no_message_signature_or_mac_in_the_event(
    name: str, request_: msgspec.Struct, response: msgspec.Struct
) -> None:
    call = ApiCall(
        request_id="req-1",
        event_time=1_700_000_000.0,
        event_name=name,
        source_ip="192.0.2.7",
        user_agent="test",
        identity=Identity(ACCOUNT, f"arn:verenc:{ACCOUNT}:user/admin", "AK", "admin"),
        claimed_access_key_id=None,
        request=request_,
        response=response,
        error_code=None,
        error_message=None,
    )
    event = build_event(call, region="us-east-1", read_only=True, key_arn=lambda a, k: KEY_ARN)
    text = json.dumps(event)
    for secret in (MESSAGE, SIGNATURE, MAC):
        for spelling in (secret, base64.b64encode(secret), secret.hex().encode()):
            assert spelling.decode("latin-1") not in text
    assert event["requestParameters"]["keyId"] == KEY_ARN
    assert event["resources"][0]["ARN"] == KEY_ARN
    assert is_read_only(name)
    assert repr(request_).count("message") == 0
