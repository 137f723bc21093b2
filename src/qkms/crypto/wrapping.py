"""AES-256-GCM wrapping of private key material under the root key (DESIGN §6).

Blob layout (all wrapped keys, v1)::

    0x01 | key check value (8 bytes) | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)

The key check value names the root key that wrapped the blob without revealing it, so a blob
under another root key is reported as such instead of as tampering. The version byte and check
value are authenticated together with the caller's associated data (the key ARN).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Final, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qkms.crypto.errors import RootKeyError, UnwrapError

__all__ = ["RootKey", "unwrap", "wrap", "wrapped_key_check_value"]

ROOT_KEY_SIZE: Final = 32
_FORMAT_VERSION: Final = 0x01
_CHECK_VALUE_SIZE: Final = 8
_NONCE_SIZE: Final = 12  # the GCM standard nonce; random nonces stay safe far past our volume
_TAG_SIZE: Final = 16
_HEADER_SIZE: Final = 1 + _CHECK_VALUE_SIZE
_MIN_BLOB_SIZE: Final = _HEADER_SIZE + _NONCE_SIZE + _TAG_SIZE
_CHECK_VALUE_LABEL: Final = b"QKMS root key check value v1"


class RootKey:
    """The 256-bit root wrapping key; its `repr` shows only the key check value."""

    __slots__ = ("_aead", "_check_value", "_key", "_previous")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != ROOT_KEY_SIZE:
            raise RootKeyError(f"root key must be exactly {ROOT_KEY_SIZE} bytes")
        self._key = bytes(key)
        # HMAC rather than a hash of the key: the check value is a PRF output, useless for
        # testing guesses unless one already has the key.
        self._check_value = hmac.digest(self._key, _CHECK_VALUE_LABEL, hashlib.sha256)[
            :_CHECK_VALUE_SIZE
        ]
        self._aead = AESGCM(self._key)
        # Root keys this one replaces (during a rotation): still able to unwrap, never to wrap.
        self._previous: dict[bytes, RootKey] = {}

    @classmethod
    def generate(cls) -> Self:
        return cls(secrets.token_bytes(ROOT_KEY_SIZE))

    @classmethod
    def from_base64(cls, text: str) -> Self:
        """Read a root key from standard base64 (surrounding whitespace, e.g. a newline, ok)."""
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise RootKeyError("root key is not valid base64") from None
        return cls(key)

    def with_previous(self, *previous: RootKey) -> RootKey:
        """This key, also able to unwrap blobs wrapped under `previous` root keys.

        Wrapping always uses this key; unwrapping picks the key a blob names by its check
        value. That is what lets a root-key rotation run while servers keep serving.
        """
        ring = RootKey(self._key)
        ring._previous = {
            key._check_value: key for key in previous if key._check_value != self._check_value
        }
        return ring

    @property
    def previous_check_values(self) -> tuple[str, ...]:
        return tuple(value.hex() for value in self._previous)

    def to_base64(self) -> str:
        return base64.b64encode(self._key).decode("ascii")

    @property
    def key_check_value(self) -> str:
        """First 8 bytes of HMAC-SHA256(root, label) in hex: which root key, not the key."""
        return self._check_value.hex()

    def __repr__(self) -> str:
        return f"RootKey(key_check_value={self.key_check_value!r})"


def wrap(root: RootKey, plaintext: bytes, associated_data: bytes) -> bytes:
    """Encrypt `plaintext` under `root`, bound to `associated_data` (e.g. the key ARN)."""
    header = bytes([_FORMAT_VERSION]) + root._check_value
    nonce = secrets.token_bytes(_NONCE_SIZE)
    return header + nonce + root._aead.encrypt(nonce, plaintext, header + associated_data)


def unwrap(root: RootKey, blob: bytes, associated_data: bytes) -> bytes:
    """Decrypt a blob made by `wrap`; UnwrapError unless it is intact, ours, and for this AAD."""
    check_value = _check_value_of(blob)
    if not hmac.compare_digest(check_value, root._check_value) and check_value in root._previous:
        root = root._previous[check_value]
    if not hmac.compare_digest(check_value, root._check_value):
        raise UnwrapError(
            f"wrapped under another root key (check value {check_value.hex()}), "
            f"not this one ({root.key_check_value})"
        )
    header = blob[:_HEADER_SIZE]
    nonce = blob[_HEADER_SIZE : _HEADER_SIZE + _NONCE_SIZE]
    try:
        return root._aead.decrypt(
            nonce, blob[_HEADER_SIZE + _NONCE_SIZE :], header + associated_data
        )
    except InvalidTag:
        raise UnwrapError(
            "wrapped key failed authentication: tampered, or other associated data"
        ) from None


def wrapped_key_check_value(blob: bytes) -> str:
    """The key check value of the root key that wrapped `blob`, in hex."""
    return _check_value_of(blob).hex()


def _check_value_of(blob: bytes) -> bytes:
    if len(blob) < _MIN_BLOB_SIZE:
        raise UnwrapError(f"wrapped key is too short ({len(blob)} bytes)")
    if blob[0] != _FORMAT_VERSION:
        raise UnwrapError(f"unsupported wrapped key format version {blob[0]}")
    return bytes(blob[1:_HEADER_SIZE])
