"""What the signing and MAC end-to-end tests share: importing local key material through boto3."""

from __future__ import annotations

from typing import Any

from tests.import_client import client_wrap

__all__ = ["import_material"]


def import_material(
    kms: Any,
    spec: str,
    usage: str,
    material: bytes,
    algorithm: str = "RSA_AES_KEY_WRAP_SHA_256",
) -> str:
    """Create an EXTERNAL key of `spec`, import `material` (PKCS#8 DER or HMAC key bytes) wrapped
    as AWS documents, and return the key's ARN."""
    arn = str(kms.create_key(KeySpec=spec, KeyUsage=usage, Origin="EXTERNAL")["KeyMetadata"]["Arn"])
    params = kms.get_parameters_for_import(
        KeyId=arn, WrappingAlgorithm=algorithm, WrappingKeySpec="RSA_2048"
    )
    kms.import_key_material(
        KeyId=arn,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=client_wrap(algorithm, params["PublicKey"], material),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    return arn
