"""Shapes of the ML-KEM pair Encapsulate / Decapsulate (DESIGN §4a), as botocore's `kms` model
names them."""

from __future__ import annotations

from qkms.operations.shapes.base import GRANT_TOKENS, KEY_ID, Member, Request, Response

__all__ = [
    "DecapsulateRequest",
    "DecapsulateResponse",
    "EncapsulateRequest",
    "EncapsulateResponse",
]

_ALGORITHM = Member("EncapsulationAlgorithm", required=True, enum=("ML_KEM",))


class EncapsulateRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    encapsulation_algorithm: str | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (KEY_ID, _ALGORITHM, GRANT_TOKENS)


class DecapsulateRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    shared_secret_ciphertext_blob: bytes | None = None
    encapsulation_algorithm: str | None = None
    grant_tokens: list[str] | None = None
    dry_run: bool | None = None

    constraints = (
        KEY_ID,
        Member("SharedSecretCiphertextBlob", required=True, min_length=1, max_length=6144),
        _ALGORITHM,
        GRANT_TOKENS,
    )

    def __repr__(self) -> str:
        return f"DecapsulateRequest(key_id={self.key_id!r}, shared_secret_ciphertext_blob=<...>)"


class EncapsulateResponse(Response, frozen=True, kw_only=True):
    key_id: str
    shared_secret: bytes
    shared_secret_ciphertext_blob: bytes
    encapsulation_algorithm: str

    def __repr__(self) -> str:  # the shared secret never reaches a log line (DESIGN §4a)
        return f"EncapsulateResponse(key_id={self.key_id!r}, shared_secret=<redacted>)"


class DecapsulateResponse(Response, frozen=True, kw_only=True):
    key_id: str
    shared_secret: bytes
    encapsulation_algorithm: str

    def __repr__(self) -> str:  # the shared secret never reaches a log line (DESIGN §4a)
        return f"DecapsulateResponse(key_id={self.key_id!r}, shared_secret=<redacted>)"
