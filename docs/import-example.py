"""Import your own P-256 private key into QKMS and derive a shared secret with it.

Run against a live server, e.g.:

    QKMS_ENDPOINT=http://127.0.0.1:4580 AWS_PROFILE=qkms \
    AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials python docs/import-example.py

Needs boto3 and cryptography. Every step is what you would do against AWS KMS too.
"""

from __future__ import annotations

import datetime
import os

import boto3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

kms = boto3.client(
    "kms",
    endpoint_url=os.environ.get("QKMS_ENDPOINT", "http://127.0.0.1:4580"),
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
)

# 1. A KMS key that waits for your material (state PendingImport).
key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT", Origin="EXTERNAL")[
    "KeyMetadata"
]["KeyId"]

# 2. Your private key as unencrypted PKCS#8 DER (here a fresh one; normally your own).
my_key = ec.generate_private_key(ec.SECP256R1())
material = my_key.private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)

# 3. A wrapping public key and import token, valid for 24 hours.
params = kms.get_parameters_for_import(
    KeyId=key_id, WrappingAlgorithm="RSA_AES_KEY_WRAP_SHA_256", WrappingKeySpec="RSA_2048"
)
wrapping_key = serialization.load_der_public_key(params["PublicKey"])
assert isinstance(wrapping_key, rsa.RSAPublicKey)

# 4. Wrap: RSA-OAEP(SHA-256) of an ephemeral AES-256 key, then AES key wrap with padding
#    (RFC 5649) of the material. (RSAES_OAEP_SHA_256 alone would be
#    wrapping_key.encrypt(material, oaep); it fits P-256 and P-384 keys under RSA_2048.)
oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
aes_key = os.urandom(32)
encrypted = wrapping_key.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)

# 5. Import, here with material that expires in 30 days (or KEY_MATERIAL_DOES_NOT_EXPIRE).
kms.import_key_material(
    KeyId=key_id,
    ImportToken=params["ImportToken"],
    EncryptedKeyMaterial=encrypted,
    ExpirationModel="KEY_MATERIAL_EXPIRES",
    ValidTo=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30),
)
print("imported:", kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"])

# 6. Derive with a peer's public key; the same secret as computing it locally.
peer = ec.generate_private_key(ec.SECP256R1())
peer_public = peer.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
secret = kms.derive_shared_secret(
    KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer_public
)["SharedSecret"]
assert secret == my_key.exchange(ec.ECDH(), peer.public_key())
print("shared secret matches:", len(secret), "bytes")

# 7. Optionally remove the material again (the key goes back to PendingImport).
kms.delete_imported_key_material(KeyId=key_id)
print("after delete:", kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"])
