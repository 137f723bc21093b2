"""The AWS Encryption SDK's standard AWS KMS keyring (and a multi-keyring) against QKMS.

Needs `pip install boto3 aws-encryption-sdk aws-cryptographic-material-providers` and a server
started with `qkms serve --arn-format aws` (the keyring only accepts six-part key ARNs).

    export QKMS_ENDPOINT=http://127.0.0.1:4580
    export AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials AWS_PROFILE=qkms
    python encryption-sdk-keyring-example.py
"""

import os

import aws_encryption_sdk
import boto3
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    CreateAwsKmsKeyringInput,
    CreateMultiKeyringInput,
)
from aws_encryption_sdk import CommitmentPolicy

kms = boto3.client(
    "kms",
    endpoint_url=os.environ["QKMS_ENDPOINT"],
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
)
mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
esdk = aws_encryption_sdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
)


def keyring(key_arn):
    return mpl.create_aws_kms_keyring(
        CreateAwsKmsKeyringInput(kms_key_id=key_arn, kms_client=kms)
    )


primary = kms.create_key()["KeyMetadata"]["Arn"]
backup = kms.create_key()["KeyMetadata"]["Arn"]
context = {"purpose": "example"}

# One key: GenerateDataKey on encrypt, Decrypt on decrypt.
message, _ = esdk.encrypt(source=b"hello", keyring=keyring(primary), encryption_context=context)
plaintext, _ = esdk.decrypt(source=message, keyring=keyring(primary))
print(plaintext)

# Two keys: the generator makes the data key, the child encrypts it too; either decrypts.
both = mpl.create_multi_keyring(
    CreateMultiKeyringInput(generator=keyring(primary), child_keyrings=[keyring(backup)])
)
message, _ = esdk.encrypt(source=b"hello twice", keyring=both, encryption_context=context)
plaintext, _ = esdk.decrypt(source=message, keyring=keyring(backup))
print(plaintext)
