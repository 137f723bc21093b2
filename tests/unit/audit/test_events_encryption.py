"""Audit events of the symmetric data plane carry no plaintext, data key or ciphertext."""

from __future__ import annotations

import base64
import json

from qkms.audit.events import ApiCall, Identity, build_event, encode_event
from qkms.audit.trail import is_read_only
from qkms.operations.shapes.encryption import (
    DecryptRequest,
    DecryptResponse,
    EncryptRequest,
    EncryptResponse,
    GenerateDataKeyPairResponse,
    GenerateDataKeyResponse,
    ReEncryptRequest,
    ReEncryptResponse,
)

ACCOUNT = "111122223333"
KEY_ID = "0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"
OTHER_ID = "1b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"
ARN = f"arn:verenc:{ACCOUNT}:key/{KEY_ID}"
OTHER_ARN = f"arn:verenc:{ACCOUNT}:key/{OTHER_ID}"
ADMIN = Identity(ACCOUNT, f"arn:verenc:{ACCOUNT}:user/admin", "QKMSADMIN", "admin")
PLAINTEXT = b"the plaintext nobody may log!"
CIPHERTEXT = b"QK\x01\x01" + b"\xaa" * 90
MATERIAL = "ab" * 32


def _line(name: str, request: object, response: object) -> str:
    call = ApiCall(
        request_id="req-1",
        event_time=1_700_000_000.0,
        event_name=name,
        source_ip="192.0.2.7",
        user_agent="test",
        identity=ADMIN,
        claimed_access_key_id=None,
        request=request,  # type: ignore[arg-type]
        response=response,  # type: ignore[arg-type]
        error_code=None,
        error_message=None,
    )
    event = build_event(
        call, region="us-east-1", read_only=True, key_arn=lambda a, k: f"arn:verenc:{a}:key/{k}"
    )
    return encode_event(event).decode()


def _secrets_absent(line: str, *secrets: bytes) -> None:
    for secret in secrets:
        for spelling in (secret.hex(), base64.b64encode(secret).decode(), repr(secret)):
            assert spelling not in line


def test_encrypt_records_key_and_context_but_not_plaintext_or_ciphertext() -> None:
    line = _line(
        "Encrypt",
        EncryptRequest(key_id=KEY_ID, plaintext=PLAINTEXT, encryption_context={"tenant": "a"}),
        EncryptResponse(ciphertext_blob=CIPHERTEXT, key_id=ARN, encryption_algorithm="X"),
    )
    event = json.loads(line)
    assert event["requestParameters"] == {"keyId": KEY_ID, "encryptionContext": {"tenant": "a"}}
    assert event["responseElements"] == {"keyId": ARN, "encryptionAlgorithm": "X"}
    _secrets_absent(line, PLAINTEXT, CIPHERTEXT)


def test_decrypt_and_data_keys_never_record_plaintext_or_private_keys() -> None:
    decrypt = _line(
        "Decrypt",
        DecryptRequest(ciphertext_blob=CIPHERTEXT),
        DecryptResponse(
            key_id=ARN, plaintext=PLAINTEXT, encryption_algorithm="X", key_material_id=MATERIAL
        ),
    )
    assert json.loads(decrypt)["responseElements"]["keyMaterialId"] == MATERIAL
    data_key = _line(
        "GenerateDataKey",
        None,
        GenerateDataKeyResponse(
            ciphertext_blob=CIPHERTEXT, plaintext=PLAINTEXT, key_id=ARN, key_material_id=MATERIAL
        ),
    )
    pair = _line(
        "GenerateDataKeyPair",
        None,
        GenerateDataKeyPairResponse(
            private_key_ciphertext_blob=CIPHERTEXT,
            private_key_plaintext=PLAINTEXT,
            public_key=b"public",
            key_id=ARN,
            key_pair_spec="ECC_NIST_P256",
            key_material_id=MATERIAL,
        ),
    )
    for line in (decrypt, data_key, pair):
        _secrets_absent(line, PLAINTEXT, CIPHERTEXT)


def test_re_encrypt_names_both_keys_as_resources() -> None:
    line = _line(
        "ReEncrypt",
        ReEncryptRequest(ciphertext_blob=CIPHERTEXT, destination_key_id=OTHER_ID),
        ReEncryptResponse(
            ciphertext_blob=CIPHERTEXT,
            source_key_id=ARN,
            key_id=OTHER_ARN,
            source_encryption_algorithm="X",
            destination_encryption_algorithm="X",
            source_key_material_id=MATERIAL,
            destination_key_material_id=MATERIAL,
        ),
    )
    assert {r["ARN"] for r in json.loads(line)["resources"]} == {ARN, OTHER_ARN}
    _secrets_absent(line, CIPHERTEXT)


def test_the_cryptographic_operations_are_read_only_as_in_cloudtrail() -> None:
    for name in ("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateRandom"):
        assert is_read_only(name)
