"""The symmetric data plane through boto3 and the AWS CLI against `qkms serve --workers 2`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.e2e.server import QkmsServer, raw_call
from tests.e2e.support import aws

pytestmark = pytest.mark.e2e

CONTEXT = {"tenant": "acme", "purpose": "e2e"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("sym") / "data", workers=2).start()
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def key_id(kms: Any) -> str:
    # CreateKey with no arguments is a symmetric encryption key, as in AWS.
    metadata = kms.create_key()["KeyMetadata"]
    assert (metadata["KeySpec"], metadata["KeyUsage"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    assert len(metadata["CurrentKeyMaterialId"]) == 64
    key: str = metadata["KeyId"]
    return key


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_round_trips_with_and_without_context(kms: Any, key_id: str) -> None:
    for context in ({}, CONTEXT):
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"hello", EncryptionContext=context)
        assert blob["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
        answer = kms.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext=context)
        assert answer["Plaintext"] == b"hello"
        assert answer["KeyId"] == blob["KeyId"]
        described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert answer["KeyMaterialId"] == described["CurrentKeyMaterialId"]


def test_every_tamper_is_an_invalid_ciphertext(kms: Any, key_id: str) -> None:
    blob: bytes = kms.encrypt(KeyId=key_id, Plaintext=b"x" * 20, EncryptionContext=CONTEXT)[
        "CiphertextBlob"
    ]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    other_blob = kms.encrypt(KeyId=other, Plaintext=b"x" * 20)["CiphertextBlob"]
    # One flip in each region: magic, version, id form, key id, material id, nonce, body, tag.
    regions = [0, 2, 3, 10, 30, 55, 70, len(blob) - 1]
    bad = [blob[:i] + bytes([blob[i] ^ 0x40]) + blob[i + 1 :] for i in regions]
    bad += [blob[:-1], blob[:60], blob + b"\x00", blob[:4] + other_blob[4:52] + blob[52:]]
    for ciphertext in bad:
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=ciphertext, EncryptionContext=CONTEXT)
        assert code(exc) == "InvalidCiphertextException", ciphertext.hex()
    for context in ({}, {"tenant": "acme"}, {**CONTEXT, "tenant": "ACME"}):
        with pytest.raises(ClientError) as exc:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
        assert code(exc) == "InvalidCiphertextException"
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=other_blob, KeyId=key_id)
    assert code(exc) == "IncorrectKeyException"


def test_plaintext_over_4096_bytes_is_a_validation_error(kms: Any, key_id: str) -> None:
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4097)
    assert code(exc) == "ValidationException"
    assert "Value at 'plaintext' failed to satisfy constraint" in str(exc.value)
    assert len(kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4096)["CiphertextBlob"]) == 4176


def test_re_encrypt_with_and_without_source_key_id(kms: Any, key_id: str) -> None:
    destination = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"move me", EncryptionContext=CONTEXT)
    for source in ({}, {"SourceKeyId": key_id}):
        moved = kms.re_encrypt(
            CiphertextBlob=blob["CiphertextBlob"],
            SourceEncryptionContext=CONTEXT,
            DestinationKeyId=destination,
            DestinationEncryptionContext={"new": "home"},
            **source,
        )
        assert moved["SourceKeyId"] == blob["KeyId"]
        answer = kms.decrypt(
            CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"new": "home"}
        )
        assert answer["Plaintext"] == b"move me"
        assert answer["KeyId"].endswith(destination)


def test_data_keys_work_as_local_aes_gcm_keys(kms: Any, key_id: str) -> None:
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=CONTEXT)
    local = AESGCM(data_key["Plaintext"])
    sealed = local.encrypt(b"\x00" * 12, b"bulk data", None)
    # Later, with only the encrypted data key kept beside the data:
    recovered = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext=CONTEXT)
    assert AESGCM(recovered["Plaintext"]).decrypt(b"\x00" * 12, sealed, None) == b"bulk data"
    assert len(kms.generate_data_key(KeyId=key_id, KeySpec="AES_128")["Plaintext"]) == 16
    blind = kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=24)
    assert "Plaintext" not in blind
    assert len(kms.decrypt(CiphertextBlob=blind["CiphertextBlob"])["Plaintext"]) == 24
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key(KeyId=key_id)
    assert code(exc) == "ValidationException"


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_NIST_P521", "ECC_SECG_P256K1", "RSA_2048"])
def test_data_key_pairs_private_key_matches_public_key(kms: Any, key_id: str, spec: str) -> None:
    pair = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec=spec, EncryptionContext=CONTEXT)
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], None)
    spki = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert spki == pair["PublicKey"]
    opened = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext=CONTEXT)
    assert opened["Plaintext"] == pair["PrivateKeyPlaintext"]
    blind = kms.generate_data_key_pair_without_plaintext(KeyId=key_id, KeyPairSpec=spec)
    assert "PrivateKeyPlaintext" not in blind


def test_generate_random_lengths(server: QkmsServer, kms: Any) -> None:
    for size in (1, 32, 1024):
        assert len(kms.generate_random(NumberOfBytes=size)["Plaintext"]) == size
    # boto3 refuses these before sending; a raw call shows the server does too.
    for size in (0, 1025):
        response = raw_call(server.endpoint, "GenerateRandom", {"NumberOfBytes": size})
        assert response.json()["__type"] == "ValidationException"
        assert (
            f"Value '{size}' at 'numberOfBytes' failed to satisfy constraint"
            in (response.json()["message"])
        )
    with pytest.raises(ClientError) as exc:
        kms.generate_random(NumberOfBytes=8, CustomKeyStoreId="cks-1234567890abcdef0")
    assert code(exc) == "CustomKeyStoreNotFoundException"


def test_key_states_give_aws_errors(kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"state")["CiphertextBlob"]
    kms.disable_key(KeyId=key)
    calls: list[tuple[Any, dict[str, Any]]] = [
        (kms.encrypt, {"KeyId": key, "Plaintext": b"x"}),
        (kms.decrypt, {"CiphertextBlob": blob}),
        (kms.generate_data_key, {"KeyId": key, "NumberOfBytes": 8}),
    ]
    for call, arguments in calls:
        with pytest.raises(ClientError) as exc:
            call(**arguments)
        assert code(exc) == "DisabledException"
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        kms.decrypt(CiphertextBlob=blob)
    assert code(exc) == "KMSInvalidStateException"


def test_wrong_usage_and_algorithm(kms: Any, key_id: str) -> None:
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=ecc["KeyId"], Plaintext=b"x")
    assert code(exc) == "InvalidKeyUsageException"
    assert str(exc.value).endswith(
        f"{ecc['Arn']} key usage is KEY_AGREEMENT which is not valid for Encrypt."
    )
    assert "CurrentKeyMaterialId" not in ecc  # AWS: symmetric encryption keys only
    with pytest.raises(ClientError) as exc:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert code(exc) == "InvalidKeyUsageException"


def test_responses_are_not_cached(server: QkmsServer, key_id: str) -> None:
    body = {"KeyId": key_id, "Plaintext": base64.b64encode(b"x").decode()}
    response = raw_call(server.endpoint, "Encrypt", body)
    assert response.status == 200
    assert response.headers.get("cache-control") == "no-store"


def test_aws_cli_encrypts_and_decrypts_files(
    server: QkmsServer, key_id: str, tmp_path: Path
) -> None:
    source = tmp_path / "plain.bin"
    source.write_bytes(bytes(range(256)) * 4)
    done = aws(
        server, tmp_path, "kms", "encrypt", "--key-id", key_id,
        "--plaintext", f"fileb://{source}",
        "--encryption-context", "tenant=acme",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    blob_file = tmp_path / "blob.bin"
    blob_file.write_bytes(base64.b64decode(json.loads(done.stdout)["CiphertextBlob"]))
    done = aws(
        server, tmp_path, "kms", "decrypt",
        "--ciphertext-blob", f"fileb://{blob_file}",
        "--encryption-context", "tenant=acme",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert base64.b64decode(json.loads(done.stdout)["Plaintext"]) == source.read_bytes()
