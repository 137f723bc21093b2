"""kms:SigningAlgorithm, kms:MessageType and kms:MacAlgorithm in identity policies (AWS
"AWS KMS condition keys"): each request is judged on the values it carries; grants for Sign."""

from __future__ import annotations

from typing import Any

import pytest

from qkms.domain.errors import KmsError
from qkms.operations.access.create_grant import create_grant
from qkms.operations.mac import generate_mac
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import CreateGrantRequest
from qkms.operations.shapes.mac import GenerateMacRequest
from qkms.operations.shapes.signing import SignRequest, VerifyRequest
from qkms.operations.signing import sign, verify
from tests.unit.support import ACCOUNT, add_user, allow, context, new_key, policy, user_ctx


def outcome(call: Any, ctx: OperationContext, request: Any) -> str:
    try:
        call(ctx, request)
    except KmsError as error:
        return error.code
    return "ok"


@pytest.mark.parametrize(
    ("condition", "algorithm", "message_type", "expected"),
    [
        ({"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA_256"}}, "RSASSA_PSS_SHA_256", None, "ok"),
        ({"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA_256"}}, "RSASSA_PKCS1_V1_5_SHA_256", None, "AccessDeniedException"),
        ({"StringLike": {"kms:SigningAlgorithm": "RSASSA_PSS_*"}}, "RSASSA_PSS_SHA_512", None, "ok"),
        # A request without MessageType is RAW, in conditions too.
        ({"StringEquals": {"kms:MessageType": "RAW"}}, "RSASSA_PSS_SHA_256", None, "ok"),
        ({"StringEquals": {"kms:MessageType": "RAW"}}, "RSASSA_PSS_SHA_256", "DIGEST", "AccessDeniedException"),
        ({"StringEquals": {"kms:MessageType": "DIGEST"}}, "RSASSA_PSS_SHA_256", "DIGEST", "ok"),
    ],
)  # fmt: skip
def test_sign_conditions(
    services: Services,
    condition: dict[str, Any],
    algorithm: str,
    message_type: str | None,
    expected: str,
) -> None:
    add_user(services, "una", policy(allow("kms:Sign", Condition=condition)))
    key_id = new_key(services, spec="RSA_2048", usage="SIGN_VERIFY")
    message = bytes(int(algorithm[-3:]) // 8) if message_type == "DIGEST" else b"m"
    request = SignRequest(
        key_id=key_id, message=message, message_type=message_type, signing_algorithm=algorithm
    )
    assert outcome(sign, user_ctx(services, "una"), request) == expected


@pytest.mark.parametrize(
    ("allowed", "expected"), [("HMAC_SHA_256", "ok"), ("HMAC_SHA_512", "AccessDeniedException")]
)
def test_mac_algorithm_condition(services: Services, allowed: str, expected: str) -> None:
    condition = {"StringEquals": {"kms:MacAlgorithm": allowed}}
    add_user(services, "una", policy(allow("kms:GenerateMac", Condition=condition)))
    key_id = new_key(services, spec="HMAC_256", usage="GENERATE_VERIFY_MAC")
    request = GenerateMacRequest(key_id=key_id, message=b"m", mac_algorithm="HMAC_SHA_256")
    assert outcome(generate_mac, user_ctx(services, "una"), request) == expected


def test_a_sign_grant_with_its_token_lets_a_user_sign_and_nothing_else(
    services: Services,
) -> None:
    add_user(services, "una")
    key_id = new_key(services, spec="ECC_NIST_P256", usage="SIGN_VERIFY")
    grant = create_grant(
        context(services),
        CreateGrantRequest(
            key_id=key_id, grantee_principal=f"arn:verenc:{ACCOUNT}:user/una", operations=["Sign"]
        ),
    )
    una = user_ctx(services, "una")
    request = SignRequest(key_id=key_id, message=b"m", signing_algorithm="ECDSA_SHA_256")
    tokened = SignRequest(
        key_id=key_id,
        message=b"m",
        signing_algorithm="ECDSA_SHA_256",
        grant_tokens=[grant.grant_token],
    )
    assert outcome(sign, una, tokened) == "ok"
    verify_request = VerifyRequest(
        key_id=key_id,
        message=b"m",
        signature=b"s",
        signing_algorithm="ECDSA_SHA_256",
        grant_tokens=[grant.grant_token],
    )
    assert outcome(verify, una, verify_request) == "AccessDeniedException"
    assert outcome(sign, user_ctx(services, "vic"), request) == "AccessDeniedException"
