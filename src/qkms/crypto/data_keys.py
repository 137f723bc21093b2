"""Data keys and data key pairs: what GenerateDataKey[Pair] hand to the caller (DESIGN §4a).

A data key is plain random bytes (the caller does its own encryption with it). A data key pair
is a fresh asymmetric key pair, returned as AWS returns it: the private key as DER PKCS#8, the
public key as DER SubjectPublicKeyInfo (GenerateDataKeyPair, KMS API reference).
"""

from __future__ import annotations

import enum
import secrets
from typing import Final

from cryptography.hazmat.primitives.asymmetric import rsa

from qkms.crypto._keys import key_pair_der
from qkms.crypto.curves import Curve
from qkms.crypto.ecdh import GeneratedKeyPair, generate_key_pair
from qkms.crypto.rsa_encryption import RSA_KEY_SIZES

__all__ = [
    "MAX_DATA_KEY_SIZE",
    "DataKeyPairSpec",
    "DataKeySpec",
    "generate_data_key",
    "generate_data_key_pair",
    "generate_rsa_key_pair",
]

# GenerateDataKey's NumberOfBytes and GenerateRandom's NumberOfBytes are 1 to 1024.
MAX_DATA_KEY_SIZE: Final = 1024
_RSA_PUBLIC_EXPONENT: Final = 65537


class DataKeySpec(enum.Enum):
    """GenerateDataKey's KeySpec; values are AWS's DataKeySpec strings."""

    AES_128 = "AES_128"
    AES_256 = "AES_256"

    @property
    def size(self) -> int:
        return int(self.value.removeprefix("AES_")) // 8


class DataKeyPairSpec(enum.Enum):
    """GenerateDataKeyPair's KeyPairSpec; values are AWS's DataKeyPairSpec strings."""

    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"
    ECC_NIST_P256 = "ECC_NIST_P256"
    ECC_NIST_P384 = "ECC_NIST_P384"
    ECC_NIST_P521 = "ECC_NIST_P521"
    ECC_SECG_P256K1 = "ECC_SECG_P256K1"

    @property
    def rsa_key_size(self) -> int | None:
        """Modulus bits for an RSA spec, None for an elliptic curve spec."""
        if self.value.startswith("RSA_"):
            return int(self.value.removeprefix("RSA_"))
        return None

    @property
    def curve(self) -> Curve | None:
        """The curve of an ECC spec, None for an RSA spec."""
        return _CURVES.get(self)


_CURVES: Final = {
    DataKeyPairSpec.ECC_NIST_P256: Curve.P256,
    DataKeyPairSpec.ECC_NIST_P384: Curve.P384,
    DataKeyPairSpec.ECC_NIST_P521: Curve.P521,
    DataKeyPairSpec.ECC_SECG_P256K1: Curve.SECP256K1,
}


def generate_data_key(number_of_bytes: int) -> bytes:
    """`number_of_bytes` (1 to 1024) random bytes from the OS CSPRNG."""
    if not 1 <= number_of_bytes <= MAX_DATA_KEY_SIZE:
        raise ValueError(f"a data key is 1 to {MAX_DATA_KEY_SIZE} bytes")
    return secrets.token_bytes(number_of_bytes)


def generate_data_key_pair(spec: DataKeyPairSpec) -> GeneratedKeyPair:
    """A new key pair of `spec` (RSA_4096 takes about a second)."""
    key_size = spec.rsa_key_size
    if key_size is not None:
        return generate_rsa_key_pair(key_size)
    curve = spec.curve
    if curve is None:  # unreachable: every spec is RSA or a curve
        raise ValueError(f"no key type for {spec.value}")
    return generate_key_pair(curve)


def generate_rsa_key_pair(key_size: int) -> GeneratedKeyPair:
    """A new RSA key pair of 2048, 3072 or 4096 bits, exponent 65537."""
    if key_size not in RSA_KEY_SIZES:
        raise ValueError(f"RSA key size must be one of {RSA_KEY_SIZES} bits")
    key = rsa.generate_private_key(public_exponent=_RSA_PUBLIC_EXPONENT, key_size=key_size)
    return key_pair_der(key)
