"""SIGN_VERIFY key specs: key generation, loading stored and imported private keys, public keys.

Private keys are PKCS#8 DER (RFC 5958); ML-DSA private keys in the seed-only form of
draft-ietf-lamps-dilithium-certificates (the 32-byte seed ξ), which is what `cryptography`
emits. Public keys are DER SubjectPublicKeyInfo, as GetPublicKey returns them. Every loader
checks that the key is of the spec it is loaded for: algorithm, RSA modulus size, curve or
ML-DSA parameter set.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa

from qkms.crypto._keys import (
    LIBRARY_ERRORS,
    GeneratedKeyPair,
    SpecKey,
    key_pair_der,
    load_pkcs8_private_key,
    pkcs8_der,
    spki_der,
)
from qkms.crypto.curves import CURVE_PARAMETERS, Curve
from qkms.crypto.errors import PrivateKeyError, PublicKeyError
from qkms.crypto.key_import import ImportedPrivateKey, load_imported_private_key

__all__ = [
    "SigningKeySpec",
    "SigningPrivateKey",
    "SigningPublicKey",
    "generate_signing_key_pair",
    "import_signing_private_key",
    "load_signing_private_key",
    "load_signing_public_key",
]

_RSA_PUBLIC_EXPONENT: Final = 65537

_MlDsaPrivate = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
_MlDsaPublic = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | _MlDsaPrivate
_PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | _MlDsaPublic


class SigningKeySpec(enum.Enum):
    """Key specs that can be SIGN_VERIFY keys; values are AWS's KeySpec strings (SM2 excluded)."""

    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"
    ECC_NIST_P256 = "ECC_NIST_P256"
    ECC_NIST_P384 = "ECC_NIST_P384"
    ECC_NIST_P521 = "ECC_NIST_P521"
    ECC_SECG_P256K1 = "ECC_SECG_P256K1"
    ML_DSA_44 = "ML_DSA_44"
    ML_DSA_65 = "ML_DSA_65"
    ML_DSA_87 = "ML_DSA_87"

    @property
    def rsa_bits(self) -> int | None:
        """The modulus size of an RSA spec; None for the others."""
        return int(self.value.removeprefix("RSA_")) if self.value.startswith("RSA_") else None

    @property
    def curve(self) -> Curve | None:
        """The curve of an ECC spec; None for the others."""
        return _CURVES.get(self)

    @property
    def is_ml_dsa(self) -> bool:
        return self in _ML_DSA


_CURVES: Final[Mapping[SigningKeySpec, Curve]] = MappingProxyType(
    {
        SigningKeySpec.ECC_NIST_P256: Curve.P256,
        SigningKeySpec.ECC_NIST_P384: Curve.P384,
        SigningKeySpec.ECC_NIST_P521: Curve.P521,
        SigningKeySpec.ECC_SECG_P256K1: Curve.SECP256K1,
    }
)


class _MlDsaFamily:
    """The cryptography classes of one ML-DSA parameter set."""

    def __init__(
        self,
        generate: Callable[[], _MlDsaPrivate],
        private_type: type[_MlDsaPrivate],
        public_type: type[_MlDsaPublic],
    ) -> None:
        self.generate = generate
        self.private_type = private_type
        self.public_type = public_type


_ML_DSA: Final[Mapping[SigningKeySpec, _MlDsaFamily]] = MappingProxyType(
    {
        SigningKeySpec.ML_DSA_44: _MlDsaFamily(
            mldsa.MLDSA44PrivateKey.generate, mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey
        ),
        SigningKeySpec.ML_DSA_65: _MlDsaFamily(
            mldsa.MLDSA65PrivateKey.generate, mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey
        ),
        SigningKeySpec.ML_DSA_87: _MlDsaFamily(
            mldsa.MLDSA87PrivateKey.generate, mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey
        ),
    }
)


class SigningPublicKey(SpecKey[_PublicKey, SigningKeySpec]):
    """A public key of a known SIGN_VERIFY spec that passed `load_signing_public_key`."""

    __slots__ = ()

    def public_key_der(self) -> bytes:
        return spki_der(self._key)


class SigningPrivateKey(SpecKey[_PrivateKey, SigningKeySpec]):
    """A loaded private key of a known SIGN_VERIFY spec; opaque so its material stays here."""

    __slots__ = ()

    def public_key(self) -> SigningPublicKey:
        return SigningPublicKey(self._key.public_key(), self._spec)

    def public_key_der(self) -> bytes:
        return spki_der(self._key.public_key())


def generate_signing_key_pair(spec: SigningKeySpec) -> GeneratedKeyPair:
    """A new key pair of `spec` (RSA-4096 takes about a second)."""
    key: _PrivateKey
    bits = spec.rsa_bits
    curve = spec.curve
    if bits is not None:
        key = rsa.generate_private_key(public_exponent=_RSA_PUBLIC_EXPONENT, key_size=bits)
    elif curve is not None:
        key = ec.generate_private_key(CURVE_PARAMETERS[curve].ec_curve)
    else:
        key = _ML_DSA[spec].generate()
    return key_pair_der(key)


def load_signing_private_key(private_pkcs8_der: bytes, spec: SigningKeySpec) -> SigningPrivateKey:
    """Load unencrypted PKCS#8 DER that must hold a private key of `spec`; else PrivateKeyError."""
    key = load_pkcs8_private_key(private_pkcs8_der)
    return SigningPrivateKey(_checked_private(key, spec), spec)


def import_signing_private_key(
    private_pkcs8_der: bytes, spec: SigningKeySpec
) -> ImportedPrivateKey:
    """Check imported material is a private key of `spec`; re-encode it in QKMS's one form.

    PrivateKeyError if it is not PKCS#8 DER, of another algorithm, size, curve or parameter
    set, inconsistent (RSA CRT values, an EC public key not matching its scalar), or an
    ML-DSA key without its seed.
    """
    curve = spec.curve
    if curve is not None:
        return load_imported_private_key(private_pkcs8_der, curve)
    key = load_signing_private_key(private_pkcs8_der, spec)._key
    try:
        canonical = pkcs8_der(key)
    except LIBRARY_ERRORS:
        # cryptography writes ML-DSA keys only in seed form; an expanded-only key has none.
        raise PrivateKeyError("private key cannot be re-encoded in PKCS#8 seed form") from None
    reloaded = load_signing_private_key(canonical, spec)
    public_spki_der = reloaded.public_key_der()
    if not hmac.compare_digest(public_spki_der, spki_der(key.public_key())):
        raise PrivateKeyError("the private key does not survive re-encoding unchanged")
    return ImportedPrivateKey(private_pkcs8_der=canonical, public_spki_der=public_spki_der)


def load_signing_public_key(spki_der: bytes, spec: SigningKeySpec) -> SigningPublicKey:
    """Load a DER SubjectPublicKeyInfo that must be a public key of `spec`; else PublicKeyError."""
    try:
        key = serialization.load_der_public_key(spki_der)
    except LIBRARY_ERRORS:
        raise PublicKeyError("public key is not a valid DER SubjectPublicKeyInfo") from None
    bits = spec.rsa_bits
    curve = spec.curve
    if bits is not None:
        if not isinstance(key, rsa.RSAPublicKey):
            raise PublicKeyError(f"public key is not an RSA key ({spec.value})")
        if key.key_size != bits:
            raise PublicKeyError(f"public key has {key.key_size} bits, expected {bits}")
        return SigningPublicKey(key, spec)
    if curve is not None:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise PublicKeyError(f"public key is not an elliptic curve key ({spec.value})")
        if key.curve.name != CURVE_PARAMETERS[curve].ec_curve.name:
            raise PublicKeyError(f"public key is on {key.curve.name}, expected {curve.value}")
        return SigningPublicKey(key, spec)
    if not isinstance(key, _ML_DSA[spec].public_type):
        raise PublicKeyError(f"public key is not an {spec.value} key")
    return SigningPublicKey(key, spec)


def _checked_private(key: object, spec: SigningKeySpec) -> _PrivateKey:
    bits = spec.rsa_bits
    curve = spec.curve
    if bits is not None:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise PrivateKeyError(f"private key is not an RSA key ({spec.value})")
        if key.key_size != bits:
            raise PrivateKeyError(f"private key has {key.key_size} bits, expected {bits}")
        return key
    if curve is not None:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PrivateKeyError(f"private key is not an elliptic curve key ({spec.value})")
        if key.curve.name != CURVE_PARAMETERS[curve].ec_curve.name:
            raise PrivateKeyError(f"private key is on {key.curve.name}, expected {curve.value}")
        return key
    if not isinstance(key, _ML_DSA[spec].private_type):
        raise PrivateKeyError(f"private key is not an {spec.value} key")
    return key
