"""Tests of qkms.crypto.signing: AWS's spec/algorithm table, Sign and Verify for every pairing."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from qkms.crypto import (
    SIGNING_ALGORITHMS,
    MessageType,
    SigningAlgorithm,
    SigningInputError,
    SigningKeySpec,
    SigningPrivateKey,
    SigningProblem,
    accepts_message_type,
    can_sign_with,
    generate_signing_key_pair,
    load_signing_private_key,
    required_message_length,
    sign,
    verify,
)

MESSAGE = b"the quick brown fox signs over the lazy KMS"
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}
PAIRS = [(spec, algorithm) for spec in SigningKeySpec for algorithm in SIGNING_ALGORITHMS[spec]]


def _hash(algorithm: SigningAlgorithm) -> hashes.HashAlgorithm:
    return _HASHES[algorithm.value.rsplit("_", 1)[1]]


@pytest.fixture(scope="module")
def keys() -> dict[SigningKeySpec, SigningPrivateKey]:
    return {
        spec: load_signing_private_key(generate_signing_key_pair(spec).private_pkcs8_der, spec)
        for spec in SigningKeySpec
    }


def _library_public(key: SigningPrivateKey) -> object:
    return serialization.load_der_public_key(key.public_key_der())


def _library_verify(
    key: SigningPrivateKey, algorithm: SigningAlgorithm, signature: bytes, message: bytes
) -> None:
    """Verify with cryptography directly, with the parameters AWS documents (raises if not)."""
    public = _library_public(key)
    if isinstance(public, rsa.RSAPublicKey):
        digest = _hash(algorithm)
        scheme: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            if algorithm.is_rsa_pss
            else padding.PKCS1v15()
        )
        public.verify(signature, message, scheme, digest)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, message, ec.ECDSA(_hash(algorithm)))
    else:
        assert isinstance(
            public, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
        )
        public.verify(signature, message)


def _mu(key: SigningPrivateKey, message: bytes) -> bytes:
    public = _library_public(key)
    assert isinstance(
        public, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
    )
    hasher = mldsa.MLDSAMuHasher(public)
    hasher.update(message)
    return hasher.finalize()


# --- AWS's table -----------------------------------------------------------------------------


def test_ecc_specs_pair_with_the_algorithms_aws_lists() -> None:
    assert SIGNING_ALGORITHMS[SigningKeySpec.ECC_NIST_P256] == (SigningAlgorithm.ECDSA_SHA_256,)
    assert SIGNING_ALGORITHMS[SigningKeySpec.ECC_NIST_P384] == (SigningAlgorithm.ECDSA_SHA_384,)
    assert SIGNING_ALGORITHMS[SigningKeySpec.ECC_NIST_P521] == (SigningAlgorithm.ECDSA_SHA_512,)
    assert SIGNING_ALGORITHMS[SigningKeySpec.ECC_SECG_P256K1] == (SigningAlgorithm.ECDSA_SHA_256,)


def test_rsa_specs_offer_all_six_rsassa_algorithms_and_nothing_else() -> None:
    rsa_algorithms = {a for a in SigningAlgorithm if a.is_rsa_pss or a.is_rsa_pkcs1}
    assert len(rsa_algorithms) == 6
    for spec in (SigningKeySpec.RSA_2048, SigningKeySpec.RSA_3072, SigningKeySpec.RSA_4096):
        assert set(SIGNING_ALGORITHMS[spec]) == rsa_algorithms


def test_ml_dsa_specs_offer_only_ml_dsa_shake_256() -> None:
    for spec in (SigningKeySpec.ML_DSA_44, SigningKeySpec.ML_DSA_65, SigningKeySpec.ML_DSA_87):
        assert SIGNING_ALGORITHMS[spec] == (SigningAlgorithm.ML_DSA_SHAKE_256,)


def test_enum_values_are_aws_wire_strings() -> None:
    for enum_type in (SigningAlgorithm, MessageType, SigningKeySpec):
        for member in enum_type:
            assert member.value == member.name


def test_message_types_per_algorithm() -> None:
    assert accepts_message_type(SigningAlgorithm.ECDSA_SHA_256, MessageType.DIGEST)
    assert not accepts_message_type(SigningAlgorithm.ECDSA_SHA_256, MessageType.EXTERNAL_MU)
    assert accepts_message_type(SigningAlgorithm.ML_DSA_SHAKE_256, MessageType.EXTERNAL_MU)
    assert not accepts_message_type(SigningAlgorithm.ML_DSA_SHAKE_256, MessageType.DIGEST)
    assert all(accepts_message_type(a, MessageType.RAW) for a in SigningAlgorithm)
    assert required_message_length(SigningAlgorithm.RSASSA_PSS_SHA_384, MessageType.DIGEST) == 48
    assert required_message_length(SigningAlgorithm.ECDSA_SHA_512, MessageType.DIGEST) == 64
    assert required_message_length(SigningAlgorithm.ML_DSA_SHAKE_256, MessageType.EXTERNAL_MU) == 64
    assert required_message_length(SigningAlgorithm.ECDSA_SHA_256, MessageType.RAW) is None


# --- Sign, checked by cryptography; Verify, fed by cryptography -------------------------------


@pytest.mark.parametrize(("spec", "algorithm"), PAIRS, ids=lambda v: v.value)
def test_raw_signature_verifies_with_the_library_and_here(
    keys: dict[SigningKeySpec, SigningPrivateKey],
    spec: SigningKeySpec,
    algorithm: SigningAlgorithm,
) -> None:
    key = keys[spec]
    signature = sign(key, algorithm, MESSAGE)
    _library_verify(key, algorithm, signature, MESSAGE)
    assert verify(key.public_key(), algorithm, MESSAGE, signature)
    assert not verify(key.public_key(), algorithm, MESSAGE + b"!", signature)


@pytest.mark.parametrize(
    ("spec", "algorithm"), [p for p in PAIRS if not p[1].is_ml_dsa], ids=lambda v: v.value
)
def test_digest_signature_equals_signing_the_raw_message(
    keys: dict[SigningKeySpec, SigningPrivateKey],
    spec: SigningKeySpec,
    algorithm: SigningAlgorithm,
) -> None:
    key = keys[spec]
    digest = hashlib.new(_hash(algorithm).name, MESSAGE).digest()
    signature = sign(key, algorithm, digest, MessageType.DIGEST)
    _library_verify(key, algorithm, signature, MESSAGE)
    assert verify(key.public_key(), algorithm, MESSAGE, signature, MessageType.RAW)
    assert verify(key.public_key(), algorithm, digest, signature, MessageType.DIGEST)


def test_rsa_pss_salt_is_as_long_as_the_digest(
    keys: dict[SigningKeySpec, SigningPrivateKey],
) -> None:
    key = keys[SigningKeySpec.RSA_2048]
    signature = sign(key, SigningAlgorithm.RSASSA_PSS_SHA_384, MESSAGE)
    public = _library_public(key)
    assert isinstance(public, rsa.RSAPublicKey)
    with pytest.raises(InvalidSignature):
        public.verify(
            signature,
            MESSAGE,
            padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=32),
            hashes.SHA384(),
        )


def test_ecdsa_signatures_are_der(keys: dict[SigningKeySpec, SigningPrivateKey]) -> None:
    signature = sign(keys[SigningKeySpec.ECC_NIST_P521], SigningAlgorithm.ECDSA_SHA_512, MESSAGE)
    r, s = decode_dss_signature(signature)
    assert r > 0 and s > 0


@pytest.mark.parametrize(
    "spec", [SigningKeySpec.ML_DSA_44, SigningKeySpec.ML_DSA_65, SigningKeySpec.ML_DSA_87]
)
def test_external_mu_signs_what_raw_signs(
    keys: dict[SigningKeySpec, SigningPrivateKey], spec: SigningKeySpec
) -> None:
    key = keys[spec]
    mu = _mu(key, MESSAGE)
    algorithm = SigningAlgorithm.ML_DSA_SHAKE_256
    from_mu = sign(key, algorithm, mu, MessageType.EXTERNAL_MU)
    _library_verify(key, algorithm, from_mu, MESSAGE)
    from_raw = sign(key, algorithm, MESSAGE)
    assert verify(key.public_key(), algorithm, mu, from_raw, MessageType.EXTERNAL_MU)
    assert not verify(
        key.public_key(), algorithm, _mu(key, b"other"), from_raw, MessageType.EXTERNAL_MU
    )


@pytest.mark.parametrize(
    "signature", [b"", b"\x30", b"\x00" * 4627, b"\x30\x06\x02\x01\x01\x02\x01\x01"]
)
@pytest.mark.parametrize(("spec", "algorithm"), PAIRS, ids=lambda v: v.value)
def test_malformed_signatures_are_false_not_errors(
    keys: dict[SigningKeySpec, SigningPrivateKey],
    spec: SigningKeySpec,
    algorithm: SigningAlgorithm,
    signature: bytes,
) -> None:
    assert verify(keys[spec].public_key(), algorithm, MESSAGE, signature) is False


# --- Requests the key cannot serve ------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "algorithm", "message_type", "message", "reason"),
    [
        (
            SigningKeySpec.ECC_NIST_P256,
            SigningAlgorithm.ECDSA_SHA_384,
            MessageType.RAW,
            MESSAGE,
            SigningProblem.ALGORITHM_NOT_FOR_KEY,
        ),
        (
            SigningKeySpec.ECC_SECG_P256K1,
            SigningAlgorithm.ECDSA_SHA_512,
            MessageType.RAW,
            MESSAGE,
            SigningProblem.ALGORITHM_NOT_FOR_KEY,
        ),
        (
            SigningKeySpec.RSA_2048,
            SigningAlgorithm.ECDSA_SHA_256,
            MessageType.RAW,
            MESSAGE,
            SigningProblem.ALGORITHM_NOT_FOR_KEY,
        ),
        (
            SigningKeySpec.ML_DSA_44,
            SigningAlgorithm.RSASSA_PSS_SHA_256,
            MessageType.RAW,
            MESSAGE,
            SigningProblem.ALGORITHM_NOT_FOR_KEY,
        ),
        (
            SigningKeySpec.ML_DSA_65,
            SigningAlgorithm.ML_DSA_SHAKE_256,
            MessageType.DIGEST,
            bytes(64),
            SigningProblem.MESSAGE_TYPE_NOT_FOR_ALGORITHM,
        ),
        (
            SigningKeySpec.ECC_NIST_P384,
            SigningAlgorithm.ECDSA_SHA_384,
            MessageType.EXTERNAL_MU,
            bytes(64),
            SigningProblem.MESSAGE_TYPE_NOT_FOR_ALGORITHM,
        ),
        (
            SigningKeySpec.ECC_NIST_P256,
            SigningAlgorithm.ECDSA_SHA_256,
            MessageType.DIGEST,
            bytes(31),
            SigningProblem.WRONG_DIGEST_LENGTH,
        ),
        (
            SigningKeySpec.RSA_3072,
            SigningAlgorithm.RSASSA_PKCS1_V1_5_SHA_512,
            MessageType.DIGEST,
            bytes(48),
            SigningProblem.WRONG_DIGEST_LENGTH,
        ),
        (
            SigningKeySpec.ML_DSA_87,
            SigningAlgorithm.ML_DSA_SHAKE_256,
            MessageType.EXTERNAL_MU,
            bytes(63),
            SigningProblem.WRONG_DIGEST_LENGTH,
        ),
    ],
)
def test_requests_the_key_cannot_serve_are_refused_by_sign_and_verify(
    keys: dict[SigningKeySpec, SigningPrivateKey],
    spec: SigningKeySpec,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: bytes,
    reason: SigningProblem,
) -> None:
    assert not can_sign_with(spec, algorithm) or reason is not SigningProblem.ALGORITHM_NOT_FOR_KEY
    with pytest.raises(SigningInputError) as signing:
        sign(keys[spec], algorithm, message, message_type)
    assert signing.value.reason is reason
    with pytest.raises(SigningInputError) as verifying:
        verify(keys[spec].public_key(), algorithm, message, b"\x00" * 64, message_type)
    assert verifying.value.reason is reason
