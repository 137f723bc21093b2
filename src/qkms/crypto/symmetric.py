"""AES-256-GCM with random 96-bit nonces: the cipher of SYMMETRIC_DEFAULT keys (DESIGN §4a)."""

from __future__ import annotations

import secrets
from typing import Final, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qkms.crypto.errors import CiphertextError, KeyMaterialError

__all__ = [
    "GCM_NONCE_SIZE",
    "GCM_TAG_SIZE",
    "SYMMETRIC_KEY_SIZE",
    "SymmetricKey",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
]

# AWS: SYMMETRIC_DEFAULT is AES-256-GCM; imported symmetric material is exactly 256 bits
# ("Requirements for imported key material", AWS KMS Developer Guide).
SYMMETRIC_KEY_SIZE: Final = 32
# The GCM standard nonce. Random 96-bit nonces stay below NIST SP 800-38D's 2^-32 collision
# bound for 2^32 encryptions per key; rotation gives each key material a fresh budget.
GCM_NONCE_SIZE: Final = 12
GCM_TAG_SIZE: Final = 16


class SymmetricKey:
    """One AES-256 key material; opaque, never equal to another, `repr` without the key."""

    __slots__ = ("_aead", "_key")

    def __init__(self, material: bytes) -> None:
        if not isinstance(material, bytes | bytearray) or len(material) != SYMMETRIC_KEY_SIZE:
            raise KeyMaterialError(f"symmetric key material must be {SYMMETRIC_KEY_SIZE} bytes")
        self._key = bytes(material)
        self._aead = AESGCM(self._key)

    @classmethod
    def generate(cls) -> Self:
        return cls(secrets.token_bytes(SYMMETRIC_KEY_SIZE))

    def to_bytes(self) -> bytes:
        """The raw key, for wrapping under the root key before it is stored; nothing else."""
        return self._key

    def __repr__(self) -> str:
        return "SymmetricKey(<redacted>)"


def aes_gcm_encrypt(
    key: SymmetricKey, plaintext: bytes, associated_data: bytes
) -> tuple[bytes, bytes]:
    """(nonce, ciphertext followed by the 16-byte tag) under a fresh random nonce."""
    nonce = secrets.token_bytes(GCM_NONCE_SIZE)
    return nonce, key._aead.encrypt(nonce, plaintext, associated_data)


def aes_gcm_decrypt(
    key: SymmetricKey, nonce: bytes, ciphertext_and_tag: bytes, associated_data: bytes
) -> bytes:
    """The plaintext, or CiphertextError if anything differs from what was encrypted."""
    if len(nonce) != GCM_NONCE_SIZE or len(ciphertext_and_tag) < GCM_TAG_SIZE:
        raise CiphertextError("ciphertext is malformed")
    try:
        return key._aead.decrypt(nonce, ciphertext_and_tag, associated_data)
    except InvalidTag:
        raise CiphertextError(
            "ciphertext failed authentication: tampered, another key or another context"
        ) from None
