"""Shapes of Sign and Verify, mirroring AWS's (botocore's kms 2014-11-01 model; STYLE §2, §4)."""

from __future__ import annotations

from typing import Final

from qkms.operations.shapes.base import GRANT_TOKENS, KEY_ID, Member, Request, Response

__all__ = [
    "MESSAGE_TYPES",
    "SIGNING_ALGORITHM_SPECS",
    "SignRequest",
    "SignResponse",
    "VerifyRequest",
    "VerifyResponse",
]

# Every value AWS's model knows, so a valid-but-unserved value (SM2DSA, Ed25519) is told apart
# from a typo: the first is answered by the operation, the second by the codec.
SIGNING_ALGORITHM_SPECS: Final = (
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "ECDSA_SHA_256",
    "ECDSA_SHA_384",
    "ECDSA_SHA_512",
    "SM2DSA",
    "ML_DSA_SHAKE_256",
    "ED25519_SHA_512",
    "ED25519_PH_SHA_512",
)
MESSAGE_TYPES: Final = ("RAW", "DIGEST", "EXTERNAL_MU")
# AWS: Message is 1 to 4096 bytes (a DIGEST or EXTERNAL_MU is checked for its exact length).
_MESSAGE: Final = Member("Message", required=True, min_length=1, max_length=4096)
_MESSAGE_TYPE: Final = Member("MessageType", enum=MESSAGE_TYPES)
_ALGORITHM: Final = Member("SigningAlgorithm", required=True, enum=SIGNING_ALGORITHM_SPECS)


class SignRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    message: bytes | None = None
    message_type: str | None = None
    grant_tokens: list[str] | None = None
    signing_algorithm: str | None = None
    dry_run: bool | None = None

    constraints = (KEY_ID, _MESSAGE, _MESSAGE_TYPE, GRANT_TOKENS, _ALGORITHM)

    def __repr__(self) -> str:  # the message stays out of log lines
        return f"SignRequest(key_id={self.key_id!r}, signing_algorithm={self.signing_algorithm!r})"


class VerifyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    message: bytes | None = None
    message_type: str | None = None
    signature: bytes | None = None
    signing_algorithm: str | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (
        KEY_ID,
        _MESSAGE,
        _MESSAGE_TYPE,
        Member("Signature", required=True, min_length=1, max_length=6144),
        _ALGORITHM,
        GRANT_TOKENS,
    )

    def __repr__(self) -> str:
        return (
            f"VerifyRequest(key_id={self.key_id!r}, signing_algorithm={self.signing_algorithm!r})"
        )


class SignResponse(Response, frozen=True, kw_only=True):
    key_id: str
    signature: bytes
    signing_algorithm: str


class VerifyResponse(Response, frozen=True, kw_only=True):
    key_id: str
    signature_valid: bool
    signing_algorithm: str
