"""Exceptions of the crypto package, in crypto terms; operations map them to KMS error codes.

Hierarchy::

    CryptoError            base of everything `qkms.crypto` raises on purpose
    ├── PeerKeyError       a caller's public key is unusable; `reason` says why (PeerKeyProblem)
    ├── PrivateKeyError    a stored private key blob does not parse, or is of another curve
    ├── UnwrapError        a wrapped blob cannot be opened under this root key
    ├── RootKeyError       root key material of the wrong size or encoding
    ├── ImportUnwrapError  imported key material that does not open under the wrapping key
    ├── ImportTokenError   an import token that is malformed or not ours (`key_import`)
    ├── GrantTokenError    a grant token that is malformed, altered or not ours (`grant_tokens`)
    ├── CiphertextError    a caller's ciphertext does not open: not ours, truncated, tampered,
    │                      another key or another encryption context (one error for all)
    ├── PlaintextTooLongError   more plaintext than an RSA-OAEP key can take in one block
    ├── EncryptionContextError  an encryption context that is not valid Unicode text
    ├── KeyMaterialError   key material that does not fit its key spec (length, type, size)
    ├── MacVerificationError    a MAC that does not match the message under this key
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
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

__all__ = [
    "CiphertextError",
    "CryptoError",
    "EncryptionContextError",
    "ImportTokenError",
    "ImportUnwrapError",
    "KemCiphertextError",
    "KeyMaterialError",
    "MacVerificationError",
    "PeerKeyError",
    "PeerKeyProblem",
    "PlaintextTooLongError",
    "PrivateKeyError",
    "PublicKeyError",
    "ReasonedError",
    "RootKeyError",
    "SigningInputError",
    "SigningProblem",
    "UnsupportedKeySpecError",
    "UnwrapError",
]


class CryptoError(Exception):
    """Base class of the errors `qkms.crypto` raises."""


_Problem = TypeVar("_Problem", bound=enum.Enum)


class ReasonedError(CryptoError, Generic[_Problem]):
    """A refusal with a `reason`: one member of a problem enum, each with one fixed message.

    `detail` only ever names things (curves, algorithms, specs, lengths, checks), never bytes
    or values taken from the caller's input.
    """

    _messages: ClassVar[Mapping[Any, str]]  # every member of the subclass's problem enum
    reason: _Problem

    def __init__(self, reason: _Problem, detail: str = "") -> None:
        message = self._messages[reason]
        super().__init__(f"{message} ({detail})" if detail else message)
        self.reason = reason


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


class PeerKeyError(ReasonedError[PeerKeyProblem]):
    """A peer public key that cannot be used for key agreement; `reason` says why."""

    _messages = _PEER_KEY_MESSAGES


class PrivateKeyError(CryptoError):
    """A private key blob that is not PKCS#8 DER of an EC key on the expected curve."""


class UnwrapError(CryptoError):
    """A wrapped blob that cannot be opened: bad format, another root key, or tampered."""


class RootKeyError(CryptoError):
    """Root key material that is not exactly 32 bytes, or not valid base64."""


class ImportUnwrapError(CryptoError):
    """Wrapped key material that does not open under this wrapping key and algorithm."""


class ImportTokenError(CryptoError):
    """An import token that is malformed, or was not made with this root key (tampered)."""


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


class SigningInputError(ReasonedError[SigningProblem]):
    """A Sign or Verify request this key cannot serve; `reason` says why (never message bytes)."""

    _messages = _SIGNING_MESSAGES


class KemCiphertextError(CryptoError):
    """An ML-KEM ciphertext whose length is not the parameter set's (FIPS 203 §7.3 input check).

    A ciphertext of the right length never raises: it decapsulates to the real secret or, by
    implicit rejection, to a pseudo-random one.
    """


class UnsupportedKeySpecError(CryptoError):
    """A key spec the installed `cryptography` does not implement (e.g. ML-KEM-512)."""
