"""RSA ENCRYPT_DECRYPT keys through boto3 against `qkms serve`: OAEP both directions, AWS's
limits and refusals, ReEncrypt across symmetric and RSA keys (DESIGN §4a)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.e2e.server import QkmsServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    # RSA-4096 key generation takes seconds on a loaded 2-core machine: a longer deadline.
    qkms = QkmsServer(
        tmp_path_factory.mktemp("rsa") / "data", env={"QKMS_STORE_TIMEOUT": "10"}
    ).start()
    yield qkms
    qkms.stop()


# AWS "RSA key specs for encryption and decryption": the most one Encrypt takes.
LIMITS = {
    ("RSA_2048", "RSAES_OAEP_SHA_1"): 214,
    ("RSA_2048", "RSAES_OAEP_SHA_256"): 190,
    ("RSA_3072", "RSAES_OAEP_SHA_1"): 342,
    ("RSA_3072", "RSAES_OAEP_SHA_256"): 318,
    ("RSA_4096", "RSAES_OAEP_SHA_1"): 470,
    ("RSA_4096", "RSAES_OAEP_SHA_256"): 446,
}
ALGORITHMS = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]


def _oaep(algorithm: str) -> padding.OAEP:
    digest: hashes.HashAlgorithm = (
        hashes.SHA1() if algorithm == "RSAES_OAEP_SHA_1" else hashes.SHA256()
    )
    return padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = exc.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


@pytest.fixture(scope="module")
def rsa_keys(kms: Any) -> dict[str, str]:
    keys = {}
    for spec in ("RSA_2048", "RSA_3072", "RSA_4096"):
        metadata = kms.create_key(KeySpec=spec, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
        assert metadata["EncryptionAlgorithms"] == ALGORITHMS
        assert "CurrentKeyMaterialId" not in metadata
        keys[spec] = str(metadata["KeyId"])
    return keys


@pytest.mark.parametrize(("spec", "algorithm"), sorted(LIMITS))
def test_oaep_both_directions_up_to_the_aws_limit(
    kms: Any, rsa_keys: dict[str, str], spec: str, algorithm: str
) -> None:
    key_id = rsa_keys[spec]
    limit = LIMITS[(spec, algorithm)]
    public = kms.get_public_key(KeyId=key_id)
    assert public["EncryptionAlgorithms"] == ALGORITHMS
    assert public["KeyUsage"] == "ENCRYPT_DECRYPT"
    public_key = serialization.load_der_public_key(public["PublicKey"])
    assert isinstance(public_key, rsa.RSAPublicKey)

    # A ciphertext made locally with GetPublicKey's key decrypts in QKMS.
    local = public_key.encrypt(b"L" * limit, _oaep(algorithm))
    answer = kms.decrypt(KeyId=key_id, CiphertextBlob=local, EncryptionAlgorithm=algorithm)
    assert answer["Plaintext"] == b"L" * limit
    assert answer["EncryptionAlgorithm"] == algorithm
    assert "KeyMaterialId" not in answer

    # QKMS's ciphertext is plain RSA-OAEP of one modulus, as AWS returns it.
    made = kms.encrypt(KeyId=key_id, Plaintext=b"Q" * limit, EncryptionAlgorithm=algorithm)
    assert made["EncryptionAlgorithm"] == algorithm
    assert len(made["CiphertextBlob"]) == public_key.key_size // 8
    again = kms.decrypt(
        KeyId=key_id, CiphertextBlob=made["CiphertextBlob"], EncryptionAlgorithm=algorithm
    )
    assert again["Plaintext"] == b"Q" * limit

    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"Q" * (limit + 1), EncryptionAlgorithm=algorithm)
    assert _error(exc) == (
        "ValidationException",
        f"Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {limit} bytes.",
    )


def test_the_algorithm_is_required_and_must_be_an_oaep_one(
    kms: Any, rsa_keys: dict[str, str]
) -> None:
    key_id = rsa_keys["RSA_2048"]
    for algorithm in (None, "SYMMETRIC_DEFAULT"):
        extra = {} if algorithm is None else {"EncryptionAlgorithm": algorithm}
        with pytest.raises(ClientError) as exc:
            kms.encrypt(KeyId=key_id, Plaintext=b"x", **extra)
        assert _error(exc) == (
            "InvalidKeyUsageException",
            "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.",
        )
    made = kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    with pytest.raises(ClientError) as exc:
        kms.decrypt(KeyId=key_id, CiphertextBlob=made["CiphertextBlob"])
    assert _error(exc)[0] == "InvalidKeyUsageException"
    # The other OAEP hash, or a wrong blob: one InvalidCiphertextException without detail.
    for algorithm, blob in (
        ("RSAES_OAEP_SHA_1", made["CiphertextBlob"]),
        ("RSAES_OAEP_SHA_256", made["CiphertextBlob"][:-1]),
    ):
        with pytest.raises(ClientError) as exc:
            kms.decrypt(KeyId=key_id, CiphertextBlob=blob, EncryptionAlgorithm=algorithm)
        assert _error(exc)[0] == "InvalidCiphertextException"


def test_decrypt_needs_the_key_id_for_an_rsa_ciphertext(kms: Any, rsa_keys: dict[str, str]) -> None:
    made = kms.encrypt(
        KeyId=rsa_keys["RSA_2048"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1"
    )
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=made["CiphertextBlob"], EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert _error(exc)[0] == "InvalidCiphertextException"


def test_an_encryption_context_is_refused(kms: Any, rsa_keys: dict[str, str]) -> None:
    with pytest.raises(ClientError) as exc:
        kms.encrypt(
            KeyId=rsa_keys["RSA_2048"],
            Plaintext=b"x",
            EncryptionAlgorithm="RSAES_OAEP_SHA_256",
            EncryptionContext={"a": "b"},
        )
    assert _error(exc)[0] == "ValidationException"


def test_re_encrypt_moves_between_symmetric_and_rsa_keys(
    kms: Any, rsa_keys: dict[str, str]
) -> None:
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    rsa_key = rsa_keys["RSA_3072"]
    sealed = kms.encrypt(KeyId=symmetric, Plaintext=b"secret")["CiphertextBlob"]
    to_rsa = kms.re_encrypt(
        CiphertextBlob=sealed,
        DestinationKeyId=rsa_key,
        DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256",
    )
    assert to_rsa["SourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert to_rsa["DestinationEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert "DestinationKeyMaterialId" not in to_rsa
    back = kms.re_encrypt(
        CiphertextBlob=to_rsa["CiphertextBlob"],
        SourceKeyId=rsa_key,
        SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256",
        DestinationKeyId=symmetric,
    )
    assert back["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert back["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert kms.decrypt(CiphertextBlob=back["CiphertextBlob"])["Plaintext"] == b"secret"
    other = rsa_keys["RSA_2048"]
    across = kms.re_encrypt(
        CiphertextBlob=to_rsa["CiphertextBlob"],
        SourceKeyId=rsa_key,
        SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256",
        DestinationKeyId=other,
        DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_1",
    )
    plain = kms.decrypt(
        KeyId=other, CiphertextBlob=across["CiphertextBlob"], EncryptionAlgorithm="RSAES_OAEP_SHA_1"
    )
    assert plain["Plaintext"] == b"secret"


def test_the_encryption_algorithm_condition_applies(kms: Any, rsa_keys: dict[str, str]) -> None:
    account = kms.describe_key(KeyId=rsa_keys["RSA_2048"])["KeyMetadata"]["AWSAccountId"]
    key_id = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    root = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    assert account in root
    policy = json.loads(root)
    policy["Statement"].append(
        {
            "Sid": "no-sha1",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "kms:Encrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}},
        }
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))
    kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert _error(exc)[0] == "AccessDeniedException"


def test_grants_on_an_rsa_key_take_its_operations_and_no_data_keys(
    kms: Any, rsa_keys: dict[str, str]
) -> None:
    account = kms.describe_key(KeyId=rsa_keys["RSA_2048"])["KeyMetadata"]["AWSAccountId"]
    grantee = f"arn:verenc:{account}:root"
    kms.create_grant(
        KeyId=rsa_keys["RSA_2048"],
        GranteePrincipal=grantee,
        Operations=["Encrypt", "Decrypt", "GetPublicKey", "ReEncryptFrom", "ReEncryptTo"],
    )
    with pytest.raises(ClientError) as exc:
        kms.create_grant(
            KeyId=rsa_keys["RSA_2048"], GranteePrincipal=grantee, Operations=["GenerateDataKey"]
        )
    assert _error(exc)[0] == "ValidationException"


def test_a_dry_run_without_ciphertext_is_allowed_on_an_rsa_key(
    kms: Any, rsa_keys: dict[str, str]
) -> None:
    with pytest.raises(ClientError) as exc:
        kms.decrypt(
            KeyId=rsa_keys["RSA_2048"],
            CiphertextBlob=b"x",
            EncryptionAlgorithm="RSAES_OAEP_SHA_1",
            DryRun=True,
            DryRunModifiers=["IGNORE_CIPHERTEXT"],
        )
    assert _error(exc)[0] == "DryRunOperationException"
