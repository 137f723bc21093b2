"""Every Wycheproof RSA-OAEP vector through Decrypt, on imported RSA ENCRYPT_DECRYPT keys.

Each file's private key (PKCS#8) is imported into an EXTERNAL key of its size with
GetParametersForImport / ImportKeyMaterial (RSA_AES_KEY_WRAP_SHA_256: an RSA private key is
too large for OAEP alone), then every vector runs through Decrypt: valid -> exactly the
message, invalid -> InvalidCiphertextException, acceptable -> either. KMS cannot express a
label (its OAEP label is always empty) nor an empty ciphertext (ValidationException, as AWS's
model has a minimum length of 1) nor a key size other than 2048/3072/4096 bits: those
vectors are skipped by rule and counted, and each test asserts how many ran.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer
from tests.e2e.support import get_parameters
from tests.import_client import client_wrap
from tests.vectors.wycheproof import RSA_OAEP_FILES, RsaOaepVector, load_rsa_oaep_vectors

pytestmark = pytest.mark.e2e

_KMS_SIZES = (2048, 3072, 4096)
_VECTORS = {name: load_rsa_oaep_vectors(name) for name in RSA_OAEP_FILES}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    # Import parameters generate an RSA wrapping key: a longer deadline on a loaded machine.
    qkms = QkmsServer(
        tmp_path_factory.mktemp("oaep") / "data", env={"QKMS_STORE_TIMEOUT": "10"}
    ).start()
    yield qkms
    qkms.stop()


def _import(kms: Any, key_size: int, private_pkcs8_der: bytes) -> str:
    created = kms.create_key(
        KeySpec=f"RSA_{key_size}", KeyUsage="ENCRYPT_DECRYPT", Origin="EXTERNAL"
    )
    key_id = str(created["KeyMetadata"]["KeyId"])
    algorithm = "RSA_AES_KEY_WRAP_SHA_256"
    params = get_parameters(kms, key_id, algorithm, "RSA_2048")
    kms.import_key_material(
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=client_wrap(algorithm, params["PublicKey"], private_pkcs8_der),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    return key_id


def _outcome(kms: Any, key_id: str, vector: RsaOaepVector) -> bytes | str:
    try:
        answer = kms.decrypt(
            KeyId=key_id,
            CiphertextBlob=vector.ciphertext,
            EncryptionAlgorithm=vector.algorithm.value,
        )
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return bytes(answer["Plaintext"])


@pytest.mark.parametrize(
    "file_name", list(_VECTORS), ids=[f"{n}: {len(v)} vectors" for n, v in _VECTORS.items()]
)
def test_every_vector_through_decrypt(kms: Any, file_name: str) -> None:
    by_key: dict[bytes, list[RsaOaepVector]] = defaultdict(list)
    for vector in _VECTORS[file_name]:
        by_key[vector.private_pkcs8_der].append(vector)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for private_der, group in by_key.items():
        if group[0].key_size not in _KMS_SIZES:
            counts["skipped: key size KMS does not offer"] += len(group)
            continue
        key_id = _import(kms, group[0].key_size, private_der)
        for vector in group:
            if vector.label:
                counts["skipped: OAEP label (KMS's label is always empty)"] += 1
                continue
            outcome = _outcome(kms, key_id, vector)
            counts[vector.result] += 1
            if not vector.ciphertext:
                # CiphertextBlob has a minimum length of 1 in AWS's model: refused before
                # any decryption, as AWS refuses it.
                if outcome != "ValidationException":
                    failures.append(f"{vector.id}: empty ciphertext, got {outcome!r:.60}")
                continue
            if vector.result == "valid" and outcome != vector.message:
                failures.append(f"{vector.id}: valid, got {outcome!r:.60}")
            if vector.result == "invalid" and outcome != "InvalidCiphertextException":
                failures.append(f"{vector.id}: invalid, got {outcome!r:.60}")
            if vector.result == "acceptable" and not (
                outcome == vector.message or outcome == "InvalidCiphertextException"
            ):
                failures.append(f"{vector.id}: acceptable, got {outcome!r:.60}")
    assert failures == []
    assert sum(counts.values()) == len(_VECTORS[file_name]), counts
    ran = counts["valid"] + counts["invalid"] + counts["acceptable"]
    assert ran > 0, counts
    print(f"{file_name}: {dict(counts)}")
