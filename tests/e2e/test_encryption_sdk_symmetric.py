"""A real consumer of the symmetric data plane: the AWS Encryption SDK's standard AWS KMS keyring.

aws-encryption-sdk 4.x with the AWS Cryptographic Material Providers Library and a plain boto3
KMS client pointed at `qkms serve --arn-format aws` (the keyring parses key ARNs and compares
the KeyId of each answer with the ARN it was given). Encrypting calls GenerateDataKey on the
generator key and Encrypt on every other key of a multi-keyring; decrypting calls Decrypt with
the keyring's KeyId, which QKMS checks against the blob (IncorrectKeyException otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aws_encryption_sdk
import boto3
import pytest
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    CreateAwsKmsKeyringInput,
    CreateMultiKeyringInput,
)
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError
from botocore.config import Config

from tests.e2e.server import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET, REGION, QkmsServer

pytestmark = pytest.mark.e2e

CONTEXT = {"purpose": "qkms-e2e", "tenant": "example"}
MPL = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
ESDK = aws_encryption_sdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
)


@pytest.fixture(scope="module")
def qkms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    server = QkmsServer(
        tmp_path_factory.mktemp("esdk-sym") / "data", extra_args=["--arn-format", "aws"]
    ).start()
    yield server
    server.stop()


@dataclass
class Kms:
    client: Any
    sent: list[str] = field(default_factory=list)

    def create_key(self) -> str:
        arn: str = self.client.create_key()["KeyMetadata"]["Arn"]
        return arn

    def keyring(self, arn: str) -> Any:
        return MPL.create_aws_kms_keyring(
            CreateAwsKmsKeyringInput(kms_key_id=arn, kms_client=self.client)
        )


@pytest.fixture
def kms(qkms: QkmsServer) -> Kms:
    client = boto3.client(
        "kms",
        endpoint_url=qkms.endpoint,
        region_name=REGION,
        aws_access_key_id=ADMIN_ACCESS_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET,
        config=Config(retries={"total_max_attempts": 1}),
    )
    kms = Kms(client)

    def record(request: Any, **_: Any) -> None:
        target = request.headers["X-Amz-Target"].decode().removeprefix("TrentService.")
        json.loads(request.body)  # a well-formed JSON body, as every SDK call must be
        kms.sent.append(target)

    client.meta.events.register("before-send.kms", record)
    return kms


def test_standard_keyring_encrypts_and_decrypts_through_qkms(kms: Kms) -> None:
    arn = kms.create_key()
    keyring = kms.keyring(arn)
    kms.sent.clear()
    ciphertext, header = ESDK.encrypt(
        source=b"envelope encrypted", keyring=keyring, encryption_context=CONTEXT
    )
    assert kms.sent == ["GenerateDataKey"]
    [edk] = header.encrypted_data_keys
    assert edk.key_provider.provider_id == "aws-kms"
    assert edk.key_provider.key_info.decode() == arn
    plaintext, decrypt_header = ESDK.decrypt(source=ciphertext, keyring=keyring)
    assert plaintext == b"envelope encrypted"
    assert CONTEXT.items() <= decrypt_header.encryption_context.items()
    assert kms.sent == ["GenerateDataKey", "Decrypt"]


def test_multi_keyring_lets_each_key_decrypt_alone(kms: Kms) -> None:
    generator, child = kms.create_key(), kms.create_key()
    multi = MPL.create_multi_keyring(
        CreateMultiKeyringInput(
            generator=kms.keyring(generator), child_keyrings=[kms.keyring(child)]
        )
    )
    kms.sent.clear()
    ciphertext, header = ESDK.encrypt(
        source=b"for two keys", keyring=multi, encryption_context=CONTEXT
    )
    assert kms.sent == ["GenerateDataKey", "Encrypt"]
    assert len(header.encrypted_data_keys) == 2
    for arn in (generator, child):
        plaintext, _ = ESDK.decrypt(source=ciphertext, keyring=kms.keyring(arn))
        assert plaintext == b"for two keys"


def test_a_keyring_on_another_key_cannot_decrypt(kms: Kms) -> None:
    ciphertext, _ = ESDK.encrypt(
        source=b"not for you", keyring=kms.keyring(kms.create_key()), encryption_context=CONTEXT
    )
    other = kms.keyring(kms.create_key())
    # The keyring decrypts only data keys of its own key ARN: it finds none to match.
    with pytest.raises(AWSEncryptionSDKClientError, match="No Encrypted Data Keys found"):
        ESDK.decrypt(source=ciphertext, keyring=other)
