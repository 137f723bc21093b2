"""HMAC keys and MACs for GENERATE_VERIFY_MAC keys: HMAC_224/256/384/512 (RFC 2104).

AWS KMS pairs each HMAC key spec with exactly one MAC algorithm (HMAC_224 → HMAC_SHA_224, ...;
"Key specs for HMAC KMS keys") and always returns the full-length tag. Key lengths follow
"Requirements for imported key material" (AWS KMS Developer Guide): "The key length must be at
least the same length specified by the key spec. The maximum key length is 1024-bits", i.e.
HMAC_224: 224 to 1024 bits, HMAC_256: 256 to 1024, HMAC_384: 384 to 1024, HMAC_512: 512 to 1024.
Keys QKMS generates have exactly the key spec's length.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from typing import Final, Self

from qkms.crypto.errors import KeyMaterialError, MacVerificationError

__all__ = [
    "MAX_HMAC_KEY_SIZE",
    "HmacKey",
    "HmacKeySpec",
    "MacAlgorithm",
    "generate_mac",
    "verify_mac",
]

MAX_HMAC_KEY_SIZE: Final = 128  # 1024 bits


class MacAlgorithm(enum.Enum):
    """KMS's MAC algorithms; values are AWS's MacAlgorithmSpec strings."""

    HMAC_SHA_224 = "HMAC_SHA_224"
    HMAC_SHA_256 = "HMAC_SHA_256"
    HMAC_SHA_384 = "HMAC_SHA_384"
    HMAC_SHA_512 = "HMAC_SHA_512"

    @property
    def mac_length(self) -> int:
        """Bytes in a MAC of this algorithm: the full digest, as KMS returns it."""
        return int(self.value.removeprefix("HMAC_SHA_")) // 8


class HmacKeySpec(enum.Enum):
    """HMAC key specs; values are AWS's KeySpec strings."""

    HMAC_224 = "HMAC_224"
    HMAC_256 = "HMAC_256"
    HMAC_384 = "HMAC_384"
    HMAC_512 = "HMAC_512"

    @property
    def mac_algorithm(self) -> MacAlgorithm:
        """The one MAC algorithm KMS allows with this key spec."""
        return MacAlgorithm("HMAC_SHA_" + self.value.removeprefix("HMAC_"))

    @property
    def key_size(self) -> int:
        """Bytes of key material QKMS generates, and the least it imports."""
        return int(self.value.removeprefix("HMAC_")) // 8


# hashlib names of the SHA-2 digests, as hmac.digest takes them.
_DIGESTS: Final[dict[MacAlgorithm, str]] = {
    MacAlgorithm.HMAC_SHA_224: "sha224",
    MacAlgorithm.HMAC_SHA_256: "sha256",
    MacAlgorithm.HMAC_SHA_384: "sha384",
    MacAlgorithm.HMAC_SHA_512: "sha512",
}


class HmacKey:
    """HMAC key material of one key spec; opaque, never equal to another, `repr` without it."""

    __slots__ = ("_key", "_spec")

    def __init__(self, spec: HmacKeySpec, material: bytes) -> None:
        if not isinstance(material, bytes | bytearray) or not (
            spec.key_size <= len(material) <= MAX_HMAC_KEY_SIZE
        ):
            raise KeyMaterialError(
                f"{spec.value} key material must be {spec.key_size} to {MAX_HMAC_KEY_SIZE} bytes"
            )
        self._spec = spec
        self._key = bytes(material)

    @classmethod
    def generate(cls, spec: HmacKeySpec) -> Self:
        return cls(spec, secrets.token_bytes(spec.key_size))

    @property
    def spec(self) -> HmacKeySpec:
        return self._spec

    def to_bytes(self) -> bytes:
        """The raw key, for wrapping under the root key before it is stored; nothing else."""
        return self._key

    def __repr__(self) -> str:
        return f"HmacKey(spec={self._spec.value}, material=<redacted>)"


def generate_mac(key: HmacKey, message: bytes) -> bytes:
    """The full-length HMAC of `message` with the algorithm of `key`'s spec."""
    return hmac.digest(key._key, message, _DIGESTS[key._spec.mac_algorithm])


def verify_mac(key: HmacKey, message: bytes, mac: bytes) -> None:
    """Return if `mac` is the MAC of `message` under `key`, else MacVerificationError.

    Compared in constant time over the full length; a truncated MAC is simply wrong (KMS
    offers no truncation).
    """
    if not hmac.compare_digest(generate_mac(key, message), bytes(mac)):
        raise MacVerificationError("the MAC does not match the message under this key")
