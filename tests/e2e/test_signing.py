"""Sign and Verify through boto3 against a real `qkms serve --workers 2` (DESIGN §4a).

For every SIGN_VERIFY spec and each of its algorithms: a QKMS signature verifies with local
`cryptography`, with MessageType RAW and DIGEST (RSA, ECDSA) or RAW and EXTERNAL_MU (ML-DSA).
For RSA and ECC, a signature made locally with a key imported into QKMS verifies in QKMS with
RAW and DIGEST. ML-DSA keys cannot be imported (as in AWS), so no local key signs for one;
there QKMS verifies its RAW signature given a μ computed here. Every pairing AWS refuses is
answered with AWS's error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa

from tests.e2e.server import QkmsServer
from tests.e2e.signing_support import import_material

ALGORITHMS: dict[str, list[str]] = {
    **{
        spec: [
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
        ]
        for spec in ("RSA_2048", "RSA_3072", "RSA_4096")
    },
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
    **{spec: ["ML_DSA_SHAKE_256"] for spec in ("ML_DSA_44", "ML_DSA_65", "ML_DSA_87")},
}
# botocore's SigningAlgorithmSpec: every value, the ones QKMS has no key for included.
EVERY_ALGORITHM = [
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "ECDSA_SHA_256",
    "ECDSA_SHA_384",
    "ECDSA_SHA_512",
    "SM2DSA",
    "ML_DSA_SHAKE_256",
    "ED25519_SHA_512",
    "ED25519_PH_SHA_512",
]
PAIRS = [(spec, algorithm) for spec, algorithms in ALGORITHMS.items() for algorithm in algorithms]
MESSAGE = b"QKMS signs this message"
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("qkms") / "data", workers=2).start()
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def keys(kms: Any) -> dict[str, str]:
    """One key per spec, shared by the module's tests (RSA-4096 takes about a second)."""
    return {
        spec: str(kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"])
        for spec in ALGORITHMS
    }


def public_key(kms: Any, key_id: str) -> Any:
    return serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])


def digest_of(algorithm: str, message: bytes) -> bytes:
    return hashlib.new("sha" + algorithm[-3:], message).digest()


def verify_locally(public: Any, algorithm: str, signature: bytes, message: bytes) -> None:
    """Raise InvalidSignature unless `signature` is right; `cryptography` is the referee."""
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, message, ec.ECDSA(_HASHES[algorithm[-3:]]))
    elif isinstance(public, rsa.RSAPublicKey):
        digest = _HASHES[algorithm[-3:]]
        pad: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            if "PSS" in algorithm
            else padding.PKCS1v15()
        )
        public.verify(signature, message, pad, digest)
    else:
        public.verify(signature, message)


def external_mu(public_der: bytes, message: bytes) -> bytes:
    """FIPS 204 §6.2 with the empty context: μ = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64).

    `pk` is the raw ML-DSA public key, the BIT STRING inside the SPKI.
    """
    public = serialization.load_der_public_key(public_der)
    assert isinstance(
        public, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
    )
    raw = public.public_bytes_raw()
    tr = hashlib.shake_256(raw).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


@pytest.mark.parametrize(("spec", "algorithm"), PAIRS)
def test_qkms_signatures_verify_locally_and_in_qkms(
    kms: Any, keys: dict[str, str], spec: str, algorithm: str
) -> None:
    key_id = keys[spec]
    public = public_key(kms, key_id)
    signed = kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm=algorithm)
    assert signed["KeyId"] == key_id and signed["SigningAlgorithm"] == algorithm
    verify_locally(public, algorithm, signed["Signature"], MESSAGE)
    if spec.startswith("ML_DSA"):
        other_type, other_message = (
            "EXTERNAL_MU",
            external_mu(kms.get_public_key(KeyId=key_id)["PublicKey"], MESSAGE),
        )
    else:
        other_type, other_message = "DIGEST", digest_of(algorithm, MESSAGE)
    signed_other = kms.sign(
        KeyId=key_id, Message=other_message, MessageType=other_type, SigningAlgorithm=algorithm
    )
    # Signed from the digest or μ, checked against the whole message: the same signature scheme.
    verify_locally(public, algorithm, signed_other["Signature"], MESSAGE)
    for message, message_type in ((MESSAGE, "RAW"), (other_message, other_type)):
        verified = kms.verify(
            KeyId=key_id,
            Message=message,
            MessageType=message_type,
            Signature=signed_other["Signature"],
            SigningAlgorithm=algorithm,
        )
        assert verified == {
            "KeyId": key_id,
            "SignatureValid": True,
            "SigningAlgorithm": algorithm,
            "ResponseMetadata": verified["ResponseMetadata"],
        }


def pkcs8(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


_CURVES: dict[str, ec.EllipticCurve] = {
    "ECC_NIST_P256": ec.SECP256R1(),
    "ECC_NIST_P384": ec.SECP384R1(),
    "ECC_NIST_P521": ec.SECP521R1(),
    "ECC_SECG_P256K1": ec.SECP256K1(),
}


@pytest.fixture(scope="module")
def local_keys(kms: Any) -> dict[str, tuple[str, Any]]:
    """spec -> (ARN of a key holding it, the local private key) for every importable spec.

    ML-DSA keys cannot be imported (AWS creates all of them), so no local ML-DSA key can sign
    for a KMS key: that direction is covered for ML-DSA by EXTERNAL_MU computed here instead.
    """
    made: dict[str, tuple[str, Any]] = {}
    for spec in ALGORITHMS:
        private: Any
        if spec.startswith("RSA_"):
            private = rsa.generate_private_key(public_exponent=65537, key_size=int(spec[4:]))
        elif spec in _CURVES:
            private = ec.generate_private_key(_CURVES[spec])
        else:
            continue
        made[spec] = (import_material(kms, spec, "SIGN_VERIFY", pkcs8(private)), private)
    return made


def sign_locally(private: Any, algorithm: str, message: bytes) -> bytes:
    digest = _HASHES[algorithm[-3:]]
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return private.sign(message, ec.ECDSA(digest))
    pad: padding.AsymmetricPadding = (
        padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        if "PSS" in algorithm
        else padding.PKCS1v15()
    )
    return bytes(private.sign(message, pad, digest))


@pytest.mark.parametrize(("spec", "algorithm"), [p for p in PAIRS if not p[0].startswith("ML_")])
def test_local_signatures_verify_in_qkms_for_raw_and_digest(
    kms: Any, local_keys: dict[str, tuple[str, Any]], spec: str, algorithm: str
) -> None:
    key_id, private = local_keys[spec]
    local = sign_locally(private, algorithm, MESSAGE)
    for message_type, message in (("RAW", MESSAGE), ("DIGEST", digest_of(algorithm, MESSAGE))):
        assert kms.verify(
            KeyId=key_id,
            Message=message,
            MessageType=message_type,
            Signature=local,
            SigningAlgorithm=algorithm,
        )["SignatureValid"]
    # And the other way round with the same imported key: QKMS signs, the local key's
    # public half verifies.
    signature = kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm=algorithm)["Signature"]
    verify_locally(private.public_key(), algorithm, signature, MESSAGE)
    flipped = local[:-1] + bytes([local[-1] ^ 1])
    code, _ = error_of(
        kms.verify, KeyId=key_id, Message=MESSAGE, Signature=flipped, SigningAlgorithm=algorithm
    )
    assert code == "KMSInvalidSignatureException"


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"])
def test_ml_dsa_external_mu_computed_here_verifies_and_signs(
    kms: Any, keys: dict[str, str], spec: str
) -> None:
    """μ computed here from the public key and the message (FIPS 204 §6.2): QKMS's signature of
    μ verifies as a RAW signature of the message with `cryptography`, and QKMS verifies a RAW
    signature given μ; a flipped byte is KMSInvalidSignatureException."""
    key_id = keys[spec]
    public_der = kms.get_public_key(KeyId=key_id)["PublicKey"]
    mu = external_mu(public_der, MESSAGE)
    raw_signature = kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ML_DSA_SHAKE_256")[
        "Signature"
    ]
    assert kms.verify(
        KeyId=key_id,
        Message=mu,
        MessageType="EXTERNAL_MU",
        Signature=raw_signature,
        SigningAlgorithm="ML_DSA_SHAKE_256",
    )["SignatureValid"]
    flipped = raw_signature[:-1] + bytes([raw_signature[-1] ^ 1])
    code, _ = error_of(
        kms.verify,
        KeyId=key_id,
        Message=mu,
        MessageType="EXTERNAL_MU",
        Signature=flipped,
        SigningAlgorithm="ML_DSA_SHAKE_256",
    )
    assert code == "KMSInvalidSignatureException"


def error_of(call: Any, **arguments: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**arguments)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


@pytest.mark.parametrize("spec", sorted(ALGORITHMS))
def test_every_algorithm_the_spec_does_not_offer_is_invalid_key_usage(
    kms: Any, keys: dict[str, str], spec: str
) -> None:
    refused = [a for a in EVERY_ALGORITHM if a not in ALGORITHMS[spec]]
    for algorithm in refused:
        for call, extra in ((kms.sign, {}), (kms.verify, {"Signature": b"s"})):
            code, message = error_of(
                call, KeyId=keys[spec], Message=b"m", SigningAlgorithm=algorithm, **extra
            )
            assert (code, message) == (
                "InvalidKeyUsageException",
                f"Algorithm {algorithm} is incompatible with key spec {spec}.",
            )


@pytest.mark.parametrize(
    ("spec", "usage"),
    [
        ("ECC_NIST_P256", "KEY_AGREEMENT"),
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
        ("HMAC_256", "GENERATE_VERIFY_MAC"),
    ],
)
def test_keys_of_other_usages_are_invalid_key_usage(kms: Any, spec: str, usage: str) -> None:
    arn = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["Arn"]
    code, message = error_of(kms.sign, KeyId=arn, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert (code, message) == (
        "InvalidKeyUsageException",
        f"{arn} key usage is {usage} which is not valid for Sign.",
    )


@pytest.mark.parametrize(
    ("spec", "algorithm", "message_type", "length", "expected"),
    [
        ("ECC_NIST_P256", "ECDSA_SHA_256", "DIGEST", 48, "Digest is invalid length for algorithm ECDSA_SHA_256."),
        ("RSA_2048", "RSASSA_PSS_SHA_512", "DIGEST", 32, "Digest is invalid length for algorithm RSASSA_PSS_SHA_512."),
        ("ML_DSA_44", "ML_DSA_SHAKE_256", "EXTERNAL_MU", 32, "Digest is invalid length for algorithm ML_DSA_SHAKE_256."),
        ("ML_DSA_44", "ML_DSA_SHAKE_256", "DIGEST", 32, "Message type DIGEST is incompatible with algorithm ML_DSA_SHAKE_256."),
        ("ECC_NIST_P384", "ECDSA_SHA_384", "EXTERNAL_MU", 64, "Message type EXTERNAL_MU is incompatible with algorithm ECDSA_SHA_384."),
    ],
)  # fmt: skip
def test_message_type_and_length_errors_are_validation_errors(
    kms: Any,
    keys: dict[str, str],
    spec: str,
    algorithm: str,
    message_type: str,
    length: int,
    expected: str,
) -> None:
    arguments = {
        "KeyId": keys[spec],
        "Message": bytes(length),
        "MessageType": message_type,
        "SigningAlgorithm": algorithm,
    }
    assert error_of(kms.sign, **arguments) == ("ValidationException", expected)
    assert error_of(kms.verify, Signature=b"s", **arguments) == ("ValidationException", expected)


def test_raw_messages_are_limited_to_4096_bytes(kms: Any, keys: dict[str, str]) -> None:
    key_id = keys["ECC_NIST_P256"]
    assert kms.sign(KeyId=key_id, Message=bytes(4096), SigningAlgorithm="ECDSA_SHA_256")
    code, message = error_of(
        kms.sign, KeyId=key_id, Message=bytes(4097), SigningAlgorithm="ECDSA_SHA_256"
    )
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 4096" in message


def test_key_states_disabled_and_pending_deletion(kms: Any) -> None:
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    signature = kms.sign(KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    kms.disable_key(KeyId=key_id)
    assert error_of(
        kms.verify,
        KeyId=key_id,
        Message=b"m",
        Signature=signature,
        SigningAlgorithm="ECDSA_SHA_256",
    ) == ("DisabledException", f"{key_id} is disabled.")
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert error_of(kms.sign, KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256") == (
        "KMSInvalidStateException",
        f"{key_id} is pending deletion.",
    )


def test_dry_run(kms: Any, keys: dict[str, str]) -> None:
    code, _ = error_of(
        kms.sign,
        KeyId=keys["ECC_NIST_P256"],
        Message=b"m",
        SigningAlgorithm="ECDSA_SHA_256",
        DryRun=True,
    )
    assert code == "DryRunOperationException"


def test_describe_and_get_public_key_report_aws_algorithm_lists(
    kms: Any, keys: dict[str, str]
) -> None:
    for spec, algorithms in ALGORITHMS.items():
        metadata = kms.describe_key(KeyId=keys[spec])["KeyMetadata"]
        assert metadata["SigningAlgorithms"] == algorithms
        for absent in ("EncryptionAlgorithms", "MacAlgorithms", "KeyAgreementAlgorithms"):
            assert absent not in metadata
        public = kms.get_public_key(KeyId=keys[spec])
        assert public["SigningAlgorithms"] == algorithms and public["KeyUsage"] == "SIGN_VERIFY"
        assert "EncryptionAlgorithms" not in public and "KeyAgreementAlgorithms" not in public


def test_sm2_is_refused_naming_why(kms: Any) -> None:
    code, message = error_of(kms.create_key, KeySpec="SM2", KeyUsage="SIGN_VERIFY")
    assert code == "UnsupportedOperationException" and "China" in message
