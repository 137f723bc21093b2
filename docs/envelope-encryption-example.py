"""Envelope encryption with boto3 and QKMS: a data key per object, only its encrypted copy kept.

Needs `pip install boto3 cryptography` and a running `qkms serve`.

    export QKMS_ENDPOINT=http://127.0.0.1:4580
    export AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials AWS_PROFILE=qkms
    python envelope-encryption-example.py
"""

import os

import boto3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

kms = boto3.client(
    "kms",
    endpoint_url=os.environ["QKMS_ENDPOINT"],
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
)
# CreateKey with no arguments makes a symmetric encryption key (AES-256-GCM), as in AWS.
key_id = kms.create_key(Description="envelope example")["KeyMetadata"]["KeyId"]
context = {"tenant": "acme", "object": "invoice-42"}  # authenticated, never stored

# Encrypt: ask QKMS for a data key, encrypt locally, keep only the *encrypted* data key.
data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=context)
nonce = os.urandom(12)
sealed = AESGCM(data_key["Plaintext"]).encrypt(nonce, b"the invoice body", None)
stored = {"key": data_key["CiphertextBlob"], "nonce": nonce, "data": sealed}
del data_key  # the plaintext data key should not outlive its use

# Decrypt: QKMS finds the KMS key from the encrypted data key; the context must match.
plain_key = kms.decrypt(CiphertextBlob=stored["key"], EncryptionContext=context)["Plaintext"]
print(AESGCM(plain_key).decrypt(stored["nonce"], stored["data"], None).decode())

# Small secrets (up to 4,096 bytes) can go to QKMS directly.
blob = kms.encrypt(KeyId=key_id, Plaintext=b"db-password", EncryptionContext=context)
print(kms.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext=context)["Plaintext"])
