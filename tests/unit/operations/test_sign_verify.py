"""Sign and Verify against a real SQLite store: every spec, AWS's errors, states, conditions."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa

from qkms.domain.errors import (
    DisabledException,
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInvalidSignatureException,
    KMSInvalidStateException,
    UnsupportedOperationException,
    ValidationException,
)
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.disable_key import disable_key
from qkms.operations.keys.get_public_key import get_public_key
from qkms.operations.keys.schedule_key_deletion import schedule_key_deletion
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import (
    CreateKeyRequest,
    DescribeKeyRequest,
    DisableKeyRequest,
    GetPublicKeyRequest,
    ScheduleKeyDeletionRequest,
)
from qkms.operations.shapes.signing import SignRequest, VerifyRequest
from qkms.operations.signing import sign, verify

MESSAGE = b"a message to sign"
ECC = {
    "ECC_NIST_P256": "ECDSA_SHA_256",
    "ECC_NIST_P384": "ECDSA_SHA_384",
    "ECC_NIST_P521": "ECDSA_SHA_512",
    "ECC_SECG_P256K1": "ECDSA_SHA_256",
}
RSA_ALGORITHMS = [
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
]
_HASH = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def new_key(ctx: OperationContext, spec: str, usage: str = "SIGN_VERIFY") -> str:
    return create_key(ctx, CreateKeyRequest(key_spec=spec, key_usage=usage)).key_metadata.key_id


def do_sign(ctx: OperationContext, key_id: str, algorithm: str, **extra: object) -> bytes:
    extra.setdefault("message", MESSAGE)
    request = SignRequest(key_id=key_id, signing_algorithm=algorithm, **extra)  # type: ignore[arg-type]
    return sign(ctx, request).signature


def do_verify(
    ctx: OperationContext, key_id: str, algorithm: str, signature: bytes, **extra: object
) -> bool:
    extra.setdefault("message", MESSAGE)
    request = VerifyRequest(
        key_id=key_id,
        signing_algorithm=algorithm,
        signature=signature,
        **extra,  # type: ignore[arg-type]
    )
    return verify(ctx, request).signature_valid


def public_key(ctx: OperationContext, key_id: str) -> object:
    der = get_public_key(ctx, GetPublicKeyRequest(key_id=key_id)).public_key
    return serialization.load_der_public_key(der)


@pytest.mark.parametrize("spec", sorted(ECC))
def test_ecdsa_signatures_verify_locally_for_raw_and_digest(
    ctx: OperationContext, spec: str
) -> None:
    key_id = new_key(ctx, spec)
    algorithm = ECC[spec]
    digest = _HASH[algorithm[-3:]]
    public = public_key(ctx, key_id)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(do_sign(ctx, key_id, algorithm), MESSAGE, ec.ECDSA(digest))
    prehashed = hashlib.new(digest.name, MESSAGE).digest()
    signature = do_sign(ctx, key_id, algorithm, message=prehashed, message_type="DIGEST")
    public.verify(signature, MESSAGE, ec.ECDSA(digest))
    assert do_verify(ctx, key_id, algorithm, signature)
    assert do_verify(ctx, key_id, algorithm, signature, message=prehashed, message_type="DIGEST")


@pytest.mark.parametrize("algorithm", RSA_ALGORITHMS)
def test_rsa_signatures_verify_locally(ctx: OperationContext, algorithm: str) -> None:
    key_id = new_key(ctx, "RSA_2048")
    public = public_key(ctx, key_id)
    assert isinstance(public, rsa.RSAPublicKey)
    digest = _HASH[algorithm[-3:]]
    pad: padding.AsymmetricPadding = (
        padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        if "PSS" in algorithm
        else padding.PKCS1v15()
    )
    public.verify(do_sign(ctx, key_id, algorithm), MESSAGE, pad, digest)


def test_ml_dsa_raw_and_external_mu(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "ML_DSA_65")
    public = public_key(ctx, key_id)
    assert isinstance(public, mldsa.MLDSA65PublicKey)
    public.verify(do_sign(ctx, key_id, "ML_DSA_SHAKE_256"), MESSAGE)
    mu = bytes(64)
    signature = do_sign(ctx, key_id, "ML_DSA_SHAKE_256", message=mu, message_type="EXTERNAL_MU")
    assert do_verify(
        ctx, key_id, "ML_DSA_SHAKE_256", signature, message=mu, message_type="EXTERNAL_MU"
    )


def test_a_wrong_signature_is_kms_invalid_signature(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "ECC_NIST_P256")
    signature = do_sign(ctx, key_id, "ECDSA_SHA_256")
    with pytest.raises(KMSInvalidSignatureException, match="signature verification failed"):
        do_verify(ctx, key_id, "ECDSA_SHA_256", signature, message=b"another message")
    with pytest.raises(KMSInvalidSignatureException):
        do_verify(ctx, key_id, "ECDSA_SHA_256", b"\x30\x00not DER")


@pytest.mark.parametrize(
    ("spec", "usage"),
    [
        ("ECC_NIST_P256", "KEY_AGREEMENT"),
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
        ("HMAC_256", "GENERATE_VERIFY_MAC"),
    ],
)
def test_a_key_that_is_not_sign_verify_is_invalid_key_usage(
    ctx: OperationContext, spec: str, usage: str
) -> None:
    key_id = new_key(ctx, spec, usage)
    with pytest.raises(
        InvalidKeyUsageException, match=f"key usage is {usage} which is not valid for Sign\\."
    ):
        do_sign(ctx, key_id, "ECDSA_SHA_256")
    with pytest.raises(InvalidKeyUsageException, match="not valid for Verify\\."):
        do_verify(ctx, key_id, "ECDSA_SHA_256", b"sig")


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [
        ("ECC_NIST_P256", "ECDSA_SHA_384"),
        ("ECC_NIST_P384", "ECDSA_SHA_256"),
        ("ECC_NIST_P256", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "ECDSA_SHA_256"),
        ("RSA_2048", "ML_DSA_SHAKE_256"),
        ("ML_DSA_44", "ECDSA_SHA_256"),
        ("ECC_NIST_P256", "SM2DSA"),
        ("ECC_NIST_P256", "ED25519_SHA_512"),
    ],
)
def test_an_algorithm_the_spec_does_not_offer_is_invalid_key_usage(
    ctx: OperationContext, spec: str, algorithm: str
) -> None:
    key_id = new_key(ctx, spec)
    message = f"Algorithm {algorithm} is incompatible with key spec {spec}."
    with pytest.raises(InvalidKeyUsageException, match=message):
        do_sign(ctx, key_id, algorithm)
    with pytest.raises(InvalidKeyUsageException, match=message):
        do_verify(ctx, key_id, algorithm, b"sig")


def test_digest_of_the_wrong_length_is_a_validation_error(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "ECC_NIST_P256")
    with pytest.raises(
        ValidationException, match=r"Digest is invalid length for algorithm ECDSA_SHA_256\."
    ):
        do_sign(ctx, key_id, "ECDSA_SHA_256", message=bytes(31), message_type="DIGEST")
    ml_dsa = new_key(ctx, "ML_DSA_44")
    with pytest.raises(ValidationException, match="invalid length for algorithm ML_DSA_SHAKE_256"):
        do_sign(ctx, ml_dsa, "ML_DSA_SHAKE_256", message=bytes(32), message_type="EXTERNAL_MU")


@pytest.mark.parametrize(
    ("spec", "algorithm", "message_type"),
    [
        ("ECC_NIST_P256", "ECDSA_SHA_256", "EXTERNAL_MU"),
        ("RSA_2048", "RSASSA_PSS_SHA_256", "EXTERNAL_MU"),
        ("ML_DSA_44", "ML_DSA_SHAKE_256", "DIGEST"),
    ],
)
def test_a_message_type_the_algorithm_does_not_take_is_a_validation_error(
    ctx: OperationContext, spec: str, algorithm: str, message_type: str
) -> None:
    key_id = new_key(ctx, spec)
    with pytest.raises(
        ValidationException,
        match=f"Message type {message_type} is incompatible with algorithm {algorithm}.",
    ):
        do_sign(ctx, key_id, algorithm, message=bytes(64), message_type=message_type)


def test_key_states(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "ECC_NIST_P256")
    signature = do_sign(ctx, key_id, "ECDSA_SHA_256")
    disable_key(ctx, DisableKeyRequest(key_id=key_id))
    with pytest.raises(DisabledException, match="is disabled"):
        do_sign(ctx, key_id, "ECDSA_SHA_256")
    with pytest.raises(DisabledException):
        do_verify(ctx, key_id, "ECDSA_SHA_256", signature)
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    with pytest.raises(KMSInvalidStateException, match="pending deletion"):
        do_sign(ctx, key_id, "ECDSA_SHA_256")
    external = create_key(
        ctx, CreateKeyRequest(key_spec="RSA_2048", key_usage="SIGN_VERIFY", origin="EXTERNAL")
    ).key_metadata.key_id
    with pytest.raises(KMSInvalidStateException, match="pending import"):
        do_verify(ctx, external, "RSASSA_PSS_SHA_256", signature)


def test_dry_run_checks_everything_then_refuses(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "ECC_NIST_P256")
    with pytest.raises(DryRunOperationException):
        do_sign(ctx, key_id, "ECDSA_SHA_256", dry_run=True)
    with pytest.raises(DryRunOperationException):
        do_verify(ctx, key_id, "ECDSA_SHA_256", b"not even a signature", dry_run=True)
    with pytest.raises(InvalidKeyUsageException):
        do_sign(ctx, key_id, "ECDSA_SHA_512", dry_run=True)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("RSA_3072", RSA_ALGORITHMS),
        ("ECC_NIST_P521", ["ECDSA_SHA_512"]),
        ("ECC_SECG_P256K1", ["ECDSA_SHA_256"]),
        ("ML_DSA_87", ["ML_DSA_SHAKE_256"]),
    ],
)
def test_metadata_lists_only_signing_algorithms(
    ctx: OperationContext, spec: str, expected: list[str]
) -> None:
    key_id = new_key(ctx, spec)
    metadata = describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata
    assert metadata.signing_algorithms == expected
    assert metadata.encryption_algorithms is None
    assert metadata.mac_algorithms is None and metadata.key_agreement_algorithms is None
    public = get_public_key(ctx, GetPublicKeyRequest(key_id=key_id))
    assert public.signing_algorithms == expected and public.encryption_algorithms is None


def test_sm2_is_refused_naming_the_china_regions(ctx: OperationContext) -> None:
    with pytest.raises(UnsupportedOperationException, match="China"):
        new_key(ctx, "SM2")
