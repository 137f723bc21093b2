"""RSA-OAEP encryption for ENCRYPT_DECRYPT RSA keys, with KMS's algorithms and size limits.

AWS KMS ("RSA key specs for encryption and decryption", Developer Guide, asymmetric key specs):
RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256 use the same hash for OAEP and for MGF1 and an empty
label, and one Encrypt call takes at most (key bits / 8) - 2 * (hash bits / 8) - 2 bytes:

    key spec   RSAES_OAEP_SHA_1   RSAES_OAEP_SHA_256
    RSA_2048   214                190
    RSA_3072   342                318
    RSA_4096   470                446
"""

from __future__ import annotations

import enum
from typing import Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from qkms.crypto._keys import (
    LIBRARY_ERRORS,
    load_pkcs8_private_key,
)
from qkms.crypto.errors import (
    CiphertextError,
    KeyMaterialError,
    PlaintextTooLongError,
    PrivateKeyError,
)

__all__ = [
    "RSA_KEY_SIZES",
    "RsaEncryptionAlgorithm",
    "RsaPrivateKey",
    "RsaPublicKey",
    "load_rsa_private_key",
    "load_rsa_public_key",
    "max_rsa_plaintext_length",
    "rsa_oaep_decrypt",
    "rsa_oaep_encrypt",
]

# The modulus sizes of KMS's RSA key specs; imported keys must be one of them, too
# ("Requirements for imported key material": modulus 2048, 3072 or 4096 bits).
RSA_KEY_SIZES: Final = (2048, 3072, 4096)


class RsaEncryptionAlgorithm(enum.Enum):
    """KMS's RSA encryption algorithms; values are AWS's EncryptionAlgorithmSpec strings."""

    RSAES_OAEP_SHA_1 = "RSAES_OAEP_SHA_1"
    RSAES_OAEP_SHA_256 = "RSAES_OAEP_SHA_256"

    @property
    def digest_size(self) -> int:
        return 20 if self is RsaEncryptionAlgorithm.RSAES_OAEP_SHA_1 else 32

    def _padding(self) -> padding.OAEP:
        digest: hashes.HashAlgorithm = (
            hashes.SHA1()  # noqa: S303 - AWS's RSAES_OAEP_SHA_1; OAEP does not rely on collisions
            if self is RsaEncryptionAlgorithm.RSAES_OAEP_SHA_1
            else hashes.SHA256()
        )
        # KMS always uses an empty label (AWS: "along with an empty label").
        return padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)


def max_rsa_plaintext_length(key_size: int, algorithm: RsaEncryptionAlgorithm) -> int:
    """AWS's maximum plaintext for one Encrypt with an RSA key of `key_size` bits."""
    if key_size not in RSA_KEY_SIZES:
        raise ValueError(f"RSA key size must be one of {RSA_KEY_SIZES}")
    return key_size // 8 - 2 * algorithm.digest_size - 2


class RsaPublicKey:
    """An RSA public key of a KMS key size, loaded from DER SPKI."""

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        self._key = key

    @property
    def key_size(self) -> int:
        return self._key.key_size

    def public_key_der(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        return f"RsaPublicKey(key_size={self.key_size})"


class RsaPrivateKey:
    """An RSA private key of a KMS key size; opaque so key material stays in this package."""

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key

    @property
    def key_size(self) -> int:
        return self._key.key_size

    def public_key(self) -> RsaPublicKey:
        return RsaPublicKey(self._key.public_key())

    def __repr__(self) -> str:
        return f"RsaPrivateKey(key_size={self.key_size})"


def load_rsa_private_key(private_pkcs8_der: bytes) -> RsaPrivateKey:
    """Load an unencrypted PKCS#8 DER RSA private key of 2048, 3072 or 4096 bits."""
    key = load_pkcs8_private_key(private_pkcs8_der)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PrivateKeyError("private key is not an RSA key")
    if key.key_size not in RSA_KEY_SIZES:
        raise PrivateKeyError(f"RSA key size must be one of {RSA_KEY_SIZES} bits")
    return RsaPrivateKey(key)


def load_rsa_public_key(public_spki_der: bytes) -> RsaPublicKey:
    """Load a DER SubjectPublicKeyInfo RSA public key of 2048, 3072 or 4096 bits."""
    try:
        key = serialization.load_der_public_key(public_spki_der)
    except LIBRARY_ERRORS:
        raise KeyMaterialError("public key is not a DER SubjectPublicKeyInfo") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size not in RSA_KEY_SIZES:
        raise KeyMaterialError(f"public key is not an RSA key of {RSA_KEY_SIZES} bits")
    return RsaPublicKey(key)


def rsa_oaep_encrypt(
    public_key: RsaPublicKey, algorithm: RsaEncryptionAlgorithm, plaintext: bytes
) -> bytes:
    """RSA-OAEP ciphertext of `plaintext` (one modulus long); PlaintextTooLongError past AWS's limit."""
    limit = max_rsa_plaintext_length(public_key.key_size, algorithm)
    if len(plaintext) > limit:
        raise PlaintextTooLongError(
            f"plaintext is longer than {limit} bytes, the most an RSA_{public_key.key_size} key "
            f"can encrypt with {algorithm.value}"
        )
    return public_key._key.encrypt(plaintext, algorithm._padding())


def rsa_oaep_decrypt(
    private_key: RsaPrivateKey, algorithm: RsaEncryptionAlgorithm, ciphertext: bytes
) -> bytes:
    """The plaintext; one CiphertextError without detail for every failure (Manger's attack)."""
    if len(ciphertext) != (private_key.key_size + 7) // 8:
        raise CiphertextError("ciphertext could not be decrypted")
    try:
        return private_key._key.decrypt(ciphertext, algorithm._padding())
    except LIBRARY_ERRORS:
        raise CiphertextError("ciphertext could not be decrypted") from None
