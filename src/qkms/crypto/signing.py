"""Sign and Verify recipes: RSA-PSS, RSA PKCS#1 v1.5, ECDSA and ML-DSA as AWS KMS offers them.

What each key spec can sign with is one table, `SIGNING_ALGORITHMS`, taken from AWS's "Key spec
reference" (RSA key specs: all six RSASSA algorithms; ECC_NIST_P256 and ECC_SECG_P256K1:
ECDSA_SHA_256; ECC_NIST_P384: ECDSA_SHA_384; ECC_NIST_P521: ECDSA_SHA_512; ML_DSA_*:
ML_DSA_SHAKE_256). Message types follow AWS's Sign page: RAW is hashed here; DIGEST is an
already computed hash whose length must match the algorithm (RSA and ECDSA only); EXTERNAL_MU is
the 64-byte μ of FIPS 204 §6.2 (ML-DSA only), computed with the empty context as AWS's RAW
signing uses. RSA-PSS uses MGF1 with the same hash and a salt as long as the digest.

`verify` answers True or False; a malformed signature is False, never an exception. A request
the key cannot serve (algorithm, message type, digest length) is a SigningInputError.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from qkms.crypto.errors import SigningInputError, SigningProblem
from qkms.crypto.signing_keys import (
    SigningKeySpec,
    SigningPrivateKey,
    SigningPublicKey,
)

__all__ = [
    "EXTERNAL_MU_LENGTH",
    "SIGNING_ALGORITHMS",
    "MessageType",
    "SigningAlgorithm",
    "accepts_message_type",
    "can_sign_with",
    "required_message_length",
    "sign",
    "verify",
]

# FIPS 204 §6.2: μ = SHAKE256(tr || M', 64).
EXTERNAL_MU_LENGTH: Final = 64
# What cryptography raises for input it cannot use; none of these may leave this module.
_LIBRARY_ERRORS: Final = (ValueError, TypeError, UnsupportedAlgorithm)


class SigningAlgorithm(enum.Enum):
    """A signing algorithm; values are AWS's SigningAlgorithmSpec strings (SM2DSA excluded)."""

    RSASSA_PSS_SHA_256 = "RSASSA_PSS_SHA_256"
    RSASSA_PSS_SHA_384 = "RSASSA_PSS_SHA_384"
    RSASSA_PSS_SHA_512 = "RSASSA_PSS_SHA_512"
    RSASSA_PKCS1_V1_5_SHA_256 = "RSASSA_PKCS1_V1_5_SHA_256"
    RSASSA_PKCS1_V1_5_SHA_384 = "RSASSA_PKCS1_V1_5_SHA_384"
    RSASSA_PKCS1_V1_5_SHA_512 = "RSASSA_PKCS1_V1_5_SHA_512"
    ECDSA_SHA_256 = "ECDSA_SHA_256"
    ECDSA_SHA_384 = "ECDSA_SHA_384"
    ECDSA_SHA_512 = "ECDSA_SHA_512"
    ML_DSA_SHAKE_256 = "ML_DSA_SHAKE_256"

    @property
    def is_rsa_pss(self) -> bool:
        return self.value.startswith("RSASSA_PSS_")

    @property
    def is_rsa_pkcs1(self) -> bool:
        return self.value.startswith("RSASSA_PKCS1_V1_5_")

    @property
    def is_ecdsa(self) -> bool:
        return self.value.startswith("ECDSA_")

    @property
    def is_ml_dsa(self) -> bool:
        return self is SigningAlgorithm.ML_DSA_SHAKE_256


class MessageType(enum.Enum):
    """What the Message of Sign/Verify is; values are AWS's MessageType strings."""

    RAW = "RAW"
    DIGEST = "DIGEST"
    EXTERNAL_MU = "EXTERNAL_MU"


_RSA_ALGORITHMS: Final = (
    # The order DescribeKey lists them in for RSA SIGN_VERIFY keys.
    SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_256,
    SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_384,
    SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_512,
    SigningAlgorithm.RSASSA_PSS_SHA_256,
    SigningAlgorithm.RSASSA_PSS_SHA_384,
    SigningAlgorithm.RSASSA_PSS_SHA_512,
)

# AWS "Key spec reference": the signing algorithms each SIGN_VERIFY key spec supports.
SIGNING_ALGORITHMS: Final[Mapping[SigningKeySpec, tuple[SigningAlgorithm, ...]]] = MappingProxyType(
    {
        SigningKeySpec.RSA_2048: _RSA_ALGORITHMS,
        SigningKeySpec.RSA_3072: _RSA_ALGORITHMS,
        SigningKeySpec.RSA_4096: _RSA_ALGORITHMS,
        SigningKeySpec.ECC_NIST_P256: (SigningAlgorithm.ECDSA_SHA_256,),
        SigningKeySpec.ECC_NIST_P384: (SigningAlgorithm.ECDSA_SHA_384,),
        SigningKeySpec.ECC_NIST_P521: (SigningAlgorithm.ECDSA_SHA_512,),
        SigningKeySpec.ECC_SECG_P256K1: (SigningAlgorithm.ECDSA_SHA_256,),
        SigningKeySpec.ML_DSA_44: (SigningAlgorithm.ML_DSA_SHAKE_256,),
        SigningKeySpec.ML_DSA_65: (SigningAlgorithm.ML_DSA_SHAKE_256,),
        SigningKeySpec.ML_DSA_87: (SigningAlgorithm.ML_DSA_SHAKE_256,),
    }
)

_HASHES: Final[Mapping[SigningAlgorithm, hashes.HashAlgorithm]] = MappingProxyType(
    {
        SigningAlgorithm.RSASSA_PSS_SHA_256: hashes.SHA256(),
        SigningAlgorithm.RSASSA_PSS_SHA_384: hashes.SHA384(),
        SigningAlgorithm.RSASSA_PSS_SHA_512: hashes.SHA512(),
        SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_256: hashes.SHA256(),
        SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_384: hashes.SHA384(),
        SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_512: hashes.SHA512(),
        SigningAlgorithm.ECDSA_SHA_256: hashes.SHA256(),
        SigningAlgorithm.ECDSA_SHA_384: hashes.SHA384(),
        SigningAlgorithm.ECDSA_SHA_512: hashes.SHA512(),
    }
)


def can_sign_with(spec: SigningKeySpec, algorithm: SigningAlgorithm) -> bool:
    """Does AWS allow `algorithm` on a key of `spec`?"""
    return algorithm in SIGNING_ALGORITHMS[spec]


def accepts_message_type(algorithm: SigningAlgorithm, message_type: MessageType) -> bool:
    """RAW always; DIGEST for hash-then-sign algorithms; EXTERNAL_MU for ML-DSA only."""
    if message_type is MessageType.RAW:
        return True
    if message_type is MessageType.DIGEST:
        return not algorithm.is_ml_dsa
    return algorithm.is_ml_dsa


def required_message_length(algorithm: SigningAlgorithm, message_type: MessageType) -> int | None:
    """The exact Message length a DIGEST or EXTERNAL_MU must have; None when any length will do."""
    if message_type is MessageType.DIGEST and algorithm in _HASHES:
        return _HASHES[algorithm].digest_size
    if message_type is MessageType.EXTERNAL_MU:
        return EXTERNAL_MU_LENGTH
    return None


def sign(
    key: SigningPrivateKey,
    algorithm: SigningAlgorithm,
    message: bytes,
    message_type: MessageType = MessageType.RAW,
) -> bytes:
    """The signature of `message` (DER for ECDSA, as AWS returns it)."""
    _check_request(key.spec, algorithm, message_type, message)
    private = key._key
    try:
        if isinstance(private, rsa.RSAPrivateKey):
            return private.sign(
                message, _rsa_padding(algorithm), _hash_for(algorithm, message_type)
            )
        if isinstance(private, ec.EllipticCurvePrivateKey):
            return private.sign(message, ec.ECDSA(_hash_for(algorithm, message_type)))
        if message_type is MessageType.EXTERNAL_MU:
            return private.sign_mu(message)
        return private.sign(message)
    except _LIBRARY_ERRORS:
        # Unreachable after _check_request with a validated key; fail closed in crypto terms.
        raise SigningInputError(SigningProblem.WRONG_DIGEST_LENGTH) from None


def verify(
    key: SigningPublicKey,
    algorithm: SigningAlgorithm,
    message: bytes,
    signature: bytes,
    message_type: MessageType = MessageType.RAW,
) -> bool:
    """Is `signature` a valid signature of `message` under `key` with `algorithm`?"""
    _check_request(key.spec, algorithm, message_type, message)
    public = key._key
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(
                signature, message, _rsa_padding(algorithm), _hash_for(algorithm, message_type)
            )
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, message, ec.ECDSA(_hash_for(algorithm, message_type)))
        elif message_type is MessageType.EXTERNAL_MU:
            public.verify_mu(signature, message)
        else:
            public.verify(signature, message)
    except (InvalidSignature, *_LIBRARY_ERRORS):
        # A signature of the wrong length or a malformed DER SEQUENCE is simply not valid.
        return False
    return True


def _check_request(
    spec: SigningKeySpec, algorithm: SigningAlgorithm, message_type: MessageType, message: bytes
) -> None:
    if not can_sign_with(spec, algorithm):
        raise SigningInputError(
            SigningProblem.ALGORITHM_NOT_FOR_KEY, f"{algorithm.value} on {spec.value}"
        )
    if not accepts_message_type(algorithm, message_type):
        raise SigningInputError(
            SigningProblem.MESSAGE_TYPE_NOT_FOR_ALGORITHM,
            f"{message_type.value} with {algorithm.value}",
        )
    required = required_message_length(algorithm, message_type)
    if required is not None and len(message) != required:
        raise SigningInputError(
            SigningProblem.WRONG_DIGEST_LENGTH, f"{algorithm.value} needs {required} bytes"
        )


def _hash_for(
    algorithm: SigningAlgorithm, message_type: MessageType
) -> hashes.HashAlgorithm | Prehashed:
    digest = _HASHES[algorithm]
    return Prehashed(digest) if message_type is MessageType.DIGEST else digest


def _rsa_padding(algorithm: SigningAlgorithm) -> padding.AsymmetricPadding:
    if algorithm.is_rsa_pss:
        digest = _HASHES[algorithm]
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    return padding.PKCS1v15()
