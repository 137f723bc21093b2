"""Exceptions of the crypto package, in crypto terms; operations map them to KMS error codes.

Hierarchy::

    CryptoError            base of everything `qkms.crypto` raises on purpose
    ├── PeerKeyError       a caller's public key is unusable; `reason` says why (PeerKeyProblem)
    ├── PrivateKeyError    a stored private key blob does not parse, or is of another curve
    ├── UnwrapError        a wrapped blob cannot be opened under this root key
    ├── RootKeyError       root key material of the wrong size or encoding
    ├── PublicKeyError     a public key (DER SPKI) to verify with or encapsulate to is unusable
    ├── SigningInputError  a Sign/Verify request this key cannot serve; `reason` (SigningProblem)
    ├── KemCiphertextError an ML-KEM ciphertext of the wrong length for the key
    └── UnsupportedKeySpecError  a key spec the installed crypto library cannot serve

A signature that does not verify is not an error: `verify` answers False.

Messages are fixed texts that may name curves, formats or key check values, never key bytes,
secrets or the caller's input.
"""

from __future__ import annotations

import enum

__all__ = [
    "CryptoError",
    "KemCiphertextError",
    "PeerKeyError",
    "PeerKeyProblem",
    "PrivateKeyError",
    "PublicKeyError",
    "RootKeyError",
    "SigningInputError",
    "SigningProblem",
    "UnsupportedKeySpecError",
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
    # X25519/X448 (RFC 7748 §6.1): a small-order point makes the shared secret all zeros.
    SMALL_ORDER_POINT = "SMALL_ORDER_POINT"


_PEER_KEY_MESSAGES: dict[PeerKeyProblem, str] = {
    PeerKeyProblem.NOT_DER_SPKI: "public key is not a DER-encoded SubjectPublicKeyInfo",
    PeerKeyProblem.NOT_EC_KEY: "public key is not an elliptic curve key",
    PeerKeyProblem.WRONG_CURVE: "public key is on another curve than the private key",
    PeerKeyProblem.UNSUPPORTED_CURVE: "public key is not on a supported named curve",
    PeerKeyProblem.POINT_NOT_ON_CURVE: "public key point is not on the curve",
    PeerKeyProblem.POINT_AT_INFINITY: "public key point is the point at infinity",
    PeerKeyProblem.INVALID_ENCODING: "public key point has an invalid encoding",
    PeerKeyProblem.SMALL_ORDER_POINT: "public key is a small-order point",
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


class PublicKeyError(CryptoError):
    """A public key that is not DER SPKI of the expected algorithm and size, or is malformed."""


class SigningProblem(enum.Enum):
    """Why a Sign or Verify request cannot be served by this key (AWS "Sign" / "Verify" pages)."""

    ALGORITHM_NOT_FOR_KEY = "ALGORITHM_NOT_FOR_KEY"
    MESSAGE_TYPE_NOT_FOR_ALGORITHM = "MESSAGE_TYPE_NOT_FOR_ALGORITHM"
    WRONG_DIGEST_LENGTH = "WRONG_DIGEST_LENGTH"


_SIGNING_MESSAGES: dict[SigningProblem, str] = {
    SigningProblem.ALGORITHM_NOT_FOR_KEY: "the signing algorithm is not valid for this key spec",
    SigningProblem.MESSAGE_TYPE_NOT_FOR_ALGORITHM: (
        "the message type is not valid for this signing algorithm"
    ),
    SigningProblem.WRONG_DIGEST_LENGTH: (
        "the message length does not match the digest length of the signing algorithm"
    ),
}


class SigningInputError(CryptoError):
    """A Sign or Verify request this key cannot serve; `reason` says why."""

    reason: SigningProblem

    def __init__(self, reason: SigningProblem, detail: str = "") -> None:
        # `detail` only names algorithms, specs and lengths, never message bytes.
        message = _SIGNING_MESSAGES[reason]
        super().__init__(f"{message} ({detail})" if detail else message)
        self.reason = reason


class KemCiphertextError(CryptoError):
    """An ML-KEM ciphertext whose length is not the parameter set's (FIPS 203 §7.3 input check).

    A ciphertext of the right length never raises: it decapsulates to the real secret or, by
    implicit rejection, to a pseudo-random one.
    """


class UnsupportedKeySpecError(CryptoError):
    """A key spec the installed `cryptography` does not implement (e.g. ML-KEM-512)."""
