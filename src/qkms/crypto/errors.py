"""Exceptions of the crypto package, in crypto terms; operations map them to KMS error codes.

Hierarchy::

    CryptoError            base of everything `qkms.crypto` raises on purpose
    ├── PeerKeyError       a caller's public key is unusable; `reason` says why (PeerKeyProblem)
    ├── PrivateKeyError    a stored private key blob does not parse, or is of another curve
    ├── UnwrapError        a wrapped blob cannot be opened under this root key
    ├── RootKeyError       root key material of the wrong size or encoding
    ├── ImportTokenError   an import token that is malformed or not ours (`key_import`)
    ├── GrantTokenError    a grant token that is malformed, altered or not ours (`grant_tokens`)
    ├── CiphertextError    a caller's ciphertext does not open: not ours, truncated, tampered,
    │                      another key or another encryption context (one error for all)
    ├── PlaintextTooLongError   more plaintext than an RSA-OAEP key can take in one block
    ├── EncryptionContextError  an encryption context that is not valid Unicode text
    ├── KeyMaterialError   key material that does not fit its key spec (length, type, size)
    └── MacVerificationError    a MAC that does not match the message under this key

Messages are fixed texts that may name curves, formats or key check values, never key bytes,
secrets or the caller's input.
"""

from __future__ import annotations

import enum

__all__ = [
    "CiphertextError",
    "CryptoError",
    "EncryptionContextError",
    "KeyMaterialError",
    "MacVerificationError",
    "PeerKeyError",
    "PeerKeyProblem",
    "PlaintextTooLongError",
    "PrivateKeyError",
    "RootKeyError",
    "UnwrapError",
]


class CryptoError(Exception):
    """Base class of the errors `qkms.crypto` raises."""


class PeerKeyProblem(enum.Enum):
    """Why a peer public key was refused; one member per way it can be wrong (DESIGN §3)."""

    NOT_DER_SPKI = "NOT_DER_SPKI"
    NOT_EC_KEY = "NOT_EC_KEY"
    WRONG_CURVE = "WRONG_CURVE"
    UNSUPPORTED_CURVE = "UNSUPPORTED_CURVE"
    POINT_NOT_ON_CURVE = "POINT_NOT_ON_CURVE"
    POINT_AT_INFINITY = "POINT_AT_INFINITY"
    INVALID_ENCODING = "INVALID_ENCODING"


_PEER_KEY_MESSAGES: dict[PeerKeyProblem, str] = {
    PeerKeyProblem.NOT_DER_SPKI: "public key is not a DER-encoded SubjectPublicKeyInfo",
    PeerKeyProblem.NOT_EC_KEY: "public key is not an elliptic curve key",
    PeerKeyProblem.WRONG_CURVE: "public key is on another curve than the private key",
    PeerKeyProblem.UNSUPPORTED_CURVE: "public key is not on a supported named curve",
    PeerKeyProblem.POINT_NOT_ON_CURVE: "public key point is not on the curve",
    PeerKeyProblem.POINT_AT_INFINITY: "public key point is the point at infinity",
    PeerKeyProblem.INVALID_ENCODING: "public key point has an invalid encoding",
}


class PeerKeyError(CryptoError):
    """A peer public key that cannot be used for key agreement; `reason` says why."""

    reason: PeerKeyProblem

    def __init__(self, reason: PeerKeyProblem, detail: str = "") -> None:
        # `detail` only ever carries names (curves), never bytes from the input.
        message = _PEER_KEY_MESSAGES[reason]
        super().__init__(f"{message} ({detail})" if detail else message)
        self.reason = reason


class PrivateKeyError(CryptoError):
    """A private key blob that is not PKCS#8 DER of an EC key on the expected curve."""


class UnwrapError(CryptoError):
    """A wrapped blob that cannot be opened: bad format, another root key, or tampered."""


class RootKeyError(CryptoError):
    """Root key material that is not exactly 32 bytes, or not valid base64."""


class CiphertextError(CryptoError):
    """A ciphertext that does not decrypt; every cause is this one error (DESIGN §4a).

    Foreign or garbled blobs, truncation, tampering, another key, another encryption context
    and bad OAEP padding are deliberately not told apart: telling padding failures apart is
    Manger's attack on OAEP, and KMS answers all of them with InvalidCiphertextException.
    """


class PlaintextTooLongError(CryptoError):
    """Plaintext longer than the RSA-OAEP maximum for the key size and hash."""


class EncryptionContextError(CryptoError):
    """An encryption context key or value that cannot be encoded as UTF-8 (a lone surrogate)."""


class KeyMaterialError(CryptoError):
    """Key material its key spec does not allow: a symmetric or HMAC key of the wrong length,
    a public key of another type or size."""


class MacVerificationError(CryptoError):
    """A MAC that is not the MAC of the message under the key (compared in constant time)."""
