"""Exceptions of the crypto package, in crypto terms; operations map them to KMS error codes.

Hierarchy::

    CryptoError            base of everything `qkms.crypto` raises on purpose
    ├── PeerKeyError       a caller's public key is unusable; `reason` says why (PeerKeyProblem)
    ├── PrivateKeyError    a stored private key blob does not parse, or is of another curve
    ├── UnwrapError        a wrapped blob cannot be opened under this root key
    ├── RootKeyError       root key material of the wrong size or encoding
    ├── ImportTokenError   an import token that is malformed or not ours (`key_import`)
    └── GrantTokenError    a grant token that is malformed, altered or not ours (`grant_tokens`)

Messages are fixed texts that may name curves, formats or key check values, never key bytes,
secrets or the caller's input.
"""

from __future__ import annotations

import enum

__all__ = [
    "CryptoError",
    "PeerKeyError",
    "PeerKeyProblem",
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
