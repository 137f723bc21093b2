"""Encrypt to a recipient's public key with the AWS Encryption SDK, using QKMS for ECDH.

Needs `pip install boto3 aws-encryption-sdk aws-cryptographic-material-providers` and a server
started with `qkms serve --arn-format aws` (the SDK only accepts six-part key ARNs). Both keys
must be created with `--key-usage KEY_AGREEMENT` (the SDK checks that spelling) on one curve:
ECC_NIST_P256, ECC_NIST_P384 or ECC_NIST_P521.

    export QKMS_ENDPOINT=http://127.0.0.1:4580
    export AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials AWS_PROFILE=qkms
    python encryption-sdk-example.py <sender-key-arn> <recipient-key-arn>
"""

import os
import sys

import aws_encryption_sdk
import boto3
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
from aws_cryptographic_material_providers.mpl.models import (
    CreateAwsKmsEcdhKeyringInput,
    KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey,
    KmsEcdhStaticConfigurationsKmsPublicKeyDiscovery,
    KmsPrivateKeyToStaticPublicKeyInput,
    KmsPublicKeyDiscoveryInput,
)
from aws_encryption_sdk import CommitmentPolicy

sender_arn, recipient_arn = sys.argv[1], sys.argv[2]
# An ordinary boto3 KMS client: only the endpoint says "QKMS". Credentials come from the
# usual places (environment, AWS_PROFILE); QKMS accepts any region name.
kms = boto3.client(
    "kms",
    endpoint_url=os.environ["QKMS_ENDPOINT"],
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
)
mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
esdk = aws_encryption_sdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
)

# The sender needs only the recipient's public key (DER), which anyone may be given.
recipient = kms.get_public_key(KeyId=recipient_arn)
curve = recipient["KeySpec"]

# Sender: ECDH between the sender's QKMS private key and the recipient's public key.
sender_keyring = mpl.create_aws_kms_ecdh_keyring(
    CreateAwsKmsEcdhKeyringInput(
        kms_client=kms,
        curve_spec=curve,
        key_agreement_scheme=KmsEcdhStaticConfigurationsKmsPrivateKeyToStaticPublicKey(
            KmsPrivateKeyToStaticPublicKeyInput(
                sender_kms_identifier=sender_arn,
                recipient_public_key=recipient["PublicKey"],
            )
        ),
    )
)
context = {"purpose": "qkms-example"}  # authenticated, stored in the message in clear
ciphertext, _ = esdk.encrypt(
    source=b"hello from the sender", keyring=sender_keyring, encryption_context=context
)
print(f"encrypted {len(ciphertext)} bytes on {curve}")

# Recipient: a decrypt-only keyring on its own QKMS key; the sender's public key is read from
# the message, and QKMS derives the same shared secret with the recipient's private key.
recipient_keyring = mpl.create_aws_kms_ecdh_keyring(
    CreateAwsKmsEcdhKeyringInput(
        kms_client=kms,
        curve_spec=curve,
        key_agreement_scheme=KmsEcdhStaticConfigurationsKmsPublicKeyDiscovery(
            KmsPublicKeyDiscoveryInput(recipient_kms_identifier=recipient_arn)
        ),
    )
)
plaintext, header = esdk.decrypt(source=ciphertext, keyring=recipient_keyring)
assert header.encryption_context["purpose"] == context["purpose"]
print("recipient decrypted:", plaintext.decode())
