"""ML-KEM (FIPS 203) key pairs, encapsulation and decapsulation behind Encapsulate/Decapsulate.

Private keys are stored as PKCS#8 DER in the seed-only form (the 64-byte seed d || z of FIPS 203
§7.1, draft-ietf-lamps-kyber-certificates), which is what `cryptography` emits; the expanded
decapsulation key is recomputed from it on load. Encapsulation keys are DER SubjectPublicKeyInfo
with the id-alg-ml-kem-* OID (2.16.840.1.101.3.4.4.1-3), as GetPublicKey returns them.

Decapsulation follows FIPS 203 §7.3: a ciphertext of the wrong length is refused
(KemCiphertextError, which Decapsulate answers with InvalidCiphertextException, as AWS
documents), while a ciphertext of the right length that was altered or made for another key
yields a pseudo-random 32-byte secret by implicit rejection, never an error.

ML-KEM-512 is an AWS key spec, but `cryptography` does not implement it: UnsupportedKeySpecError.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mlkem

from qkms.crypto._keys import (
    LIBRARY_ERRORS,
    GeneratedKeyPair,
    SpecKey,
    key_pair_der,
    load_pkcs8_private_key,
    pkcs8_der,
    spki_der,
)
from qkms.crypto.errors import (
    KemCiphertextError,
    PrivateKeyError,
    PublicKeyError,
    UnsupportedKeySpecError,
)

__all__ = [
    "SHARED_SECRET_LENGTH",
    "Encapsulation",
    "MlKemKeySpec",
    "MlKemPrivateKey",
    "MlKemPublicKey",
    "decapsulate",
    "encapsulate",
    "generate_mlkem_key_pair",
    "is_mlkem_supported",
    "load_encapsulation_key",
    "load_mlkem_private_key",
    "mlkem_private_key_from_seed",
]

# FIPS 203: every parameter set gives a 32-byte shared secret; the seed d || z is 64 bytes.
SHARED_SECRET_LENGTH: Final = 32
_SEED_LENGTH: Final = 64

_Private = mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey
_Public = mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey


class MlKemKeySpec(enum.Enum):
    """ML-KEM parameter sets; values are AWS's KeySpec strings."""

    ML_KEM_512 = "ML_KEM_512"
    ML_KEM_768 = "ML_KEM_768"
    ML_KEM_1024 = "ML_KEM_1024"

    @property
    def ciphertext_length(self) -> int:
        """Bytes in a ciphertext of this parameter set (FIPS 203 Table 3)."""
        return _SIZES[self][1]

    @property
    def encapsulation_key_length(self) -> int:
        """Bytes in a raw encapsulation key of this parameter set (FIPS 203 Table 3)."""
        return _SIZES[self][0]


# (encapsulation key, ciphertext) sizes, FIPS 203 Table 3.
_SIZES: Final[Mapping[MlKemKeySpec, tuple[int, int]]] = MappingProxyType(
    {
        MlKemKeySpec.ML_KEM_512: (800, 768),
        MlKemKeySpec.ML_KEM_768: (1184, 1088),
        MlKemKeySpec.ML_KEM_1024: (1568, 1568),
    }
)


@dataclass(frozen=True, slots=True)
class _Family:
    generate: Callable[[], _Private]
    from_seed: Callable[[bytes], _Private]
    private_type: type[_Private]
    public_type: type[_Public]


_FAMILIES: Final[Mapping[MlKemKeySpec, _Family]] = MappingProxyType(
    {
        MlKemKeySpec.ML_KEM_768: _Family(
            mlkem.MLKEM768PrivateKey.generate,
            mlkem.MLKEM768PrivateKey.from_seed_bytes,
            mlkem.MLKEM768PrivateKey,
            mlkem.MLKEM768PublicKey,
        ),
        MlKemKeySpec.ML_KEM_1024: _Family(
            mlkem.MLKEM1024PrivateKey.generate,
            mlkem.MLKEM1024PrivateKey.from_seed_bytes,
            mlkem.MLKEM1024PrivateKey,
            mlkem.MLKEM1024PublicKey,
        ),
    }
)


@dataclass(frozen=True, repr=False, eq=False)
class Encapsulation:
    """What Encapsulate returns: the shared secret and the ciphertext that carries it.

    `eq=False`: comparing would compare secrets in variable time (STYLE §7).
    """

    shared_secret: bytes
    ciphertext: bytes

    def __repr__(self) -> str:
        return f"Encapsulation(shared_secret=<redacted>, ciphertext=<{len(self.ciphertext)} bytes>)"


class MlKemPublicKey(SpecKey[_Public, MlKemKeySpec]):
    """An encapsulation key of a known parameter set that passed `load_encapsulation_key`."""

    __slots__ = ()

    def public_key_der(self) -> bytes:
        return spki_der(self._key)


class MlKemPrivateKey(SpecKey[_Private, MlKemKeySpec]):
    """A decapsulation key of a known parameter set; opaque so its seed stays here."""

    __slots__ = ()

    def public_key(self) -> MlKemPublicKey:
        return MlKemPublicKey(self._key.public_key(), self._spec)

    def public_key_der(self) -> bytes:
        return spki_der(self._key.public_key())

    def private_pkcs8_der(self) -> bytes:
        """The seed-form PKCS#8 encoding, for wrapping and storage."""
        return pkcs8_der(self._key)


def is_mlkem_supported(spec: MlKemKeySpec) -> bool:
    """Can the installed `cryptography` serve `spec`? (ML-KEM-512: no.)"""
    return spec in _FAMILIES


def generate_mlkem_key_pair(spec: MlKemKeySpec) -> GeneratedKeyPair:
    """A new key pair: private key as seed-form PKCS#8 DER, encapsulation key as DER SPKI."""
    key = _family(spec).generate()
    return key_pair_der(key)


def load_mlkem_private_key(private_pkcs8_der: bytes, spec: MlKemKeySpec) -> MlKemPrivateKey:
    """Load unencrypted PKCS#8 DER holding an ML-KEM private key of `spec`; else PrivateKeyError."""
    family = _family(spec)
    key = load_pkcs8_private_key(private_pkcs8_der)
    if not isinstance(key, family.private_type):
        raise PrivateKeyError(f"private key is not an {spec.value} key")
    return MlKemPrivateKey(key, spec)


def mlkem_private_key_from_seed(seed: bytes, spec: MlKemKeySpec) -> MlKemPrivateKey:
    """The private key FIPS 203 ML-KEM.KeyGen_internal derives from the 64-byte seed d || z."""
    family = _family(spec)
    if len(seed) != _SEED_LENGTH:
        raise PrivateKeyError(f"an ML-KEM seed is {_SEED_LENGTH} bytes, got {len(seed)}")
    try:
        return MlKemPrivateKey(family.from_seed(seed), spec)
    except LIBRARY_ERRORS:
        raise PrivateKeyError("ML-KEM seed was refused") from None


def load_encapsulation_key(spki_der: bytes, spec: MlKemKeySpec) -> MlKemPublicKey:
    """Load a DER SPKI that must be an ML-KEM encapsulation key of `spec`.

    PublicKeyError if it is not DER SPKI, not ML-KEM, of another parameter set, of the wrong
    length, or fails the modulus check of FIPS 203 §7.2 (coefficients not reduced mod q).
    """
    family = _family(spec)
    try:
        key = serialization.load_der_public_key(spki_der)
    except LIBRARY_ERRORS:
        raise PublicKeyError(
            "public key is not a valid DER SubjectPublicKeyInfo of an ML-KEM key"
        ) from None
    if not isinstance(key, family.public_type):
        raise PublicKeyError(f"public key is not an {spec.value} key")
    return MlKemPublicKey(key, spec)


def encapsulate(public_key: MlKemPublicKey) -> Encapsulation:
    """A fresh 32-byte shared secret and its ciphertext under `public_key` (FIPS 203 §7.2)."""
    shared_secret, ciphertext = public_key._key.encapsulate()
    return Encapsulation(shared_secret=shared_secret, ciphertext=ciphertext)


def decapsulate(private_key: MlKemPrivateKey, ciphertext: bytes) -> bytes:
    """The 32-byte shared secret in `ciphertext`; implicit rejection for a wrong one.

    KemCiphertextError only when the length is not the parameter set's.
    """
    expected = private_key.spec.ciphertext_length
    if len(ciphertext) != expected:
        raise KemCiphertextError(
            f"ciphertext is {len(ciphertext)} bytes, {private_key.spec.value} needs {expected}"
        )
    try:
        return private_key._key.decapsulate(ciphertext)
    except LIBRARY_ERRORS:
        # Unreachable for a right-length ciphertext (implicit rejection); fail closed.
        raise KemCiphertextError("ciphertext was refused") from None


def _family(spec: MlKemKeySpec) -> _Family:
    family = _FAMILIES.get(spec)
    if family is None:
        raise UnsupportedKeySpecError(
            f"{spec.value} is not implemented by the installed cryptography library"
        )
    return family
