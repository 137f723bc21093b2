"""Sign and verify with an ECDSA P-256 key and make and check an HMAC, through QKMS.

The code of docs/signing.md, runnable as it stands:

    QKMS_ENDPOINT=http://127.0.0.1:4580 AWS_PROFILE=qkms python docs/signing-example.py
"""

from __future__ import annotations

import hashlib
import hmac
import os

import boto3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

kms = boto3.client(
    "kms",
    endpoint_url=os.environ.get("QKMS_ENDPOINT", "http://127.0.0.1:4580"),
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
)

# An ECDSA P-256 signing key: QKMS signs, anyone with the public key verifies.
key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
message = b"release v1.2.3"
signature = kms.sign(KeyId=key_id, Message=message, SigningAlgorithm="ECDSA_SHA_256")["Signature"]

public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
assert isinstance(public_key, ec.EllipticCurvePublicKey)
public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))  # raises if wrong

# Or let QKMS verify; a digest works as well as the message itself.
digest = hashlib.sha256(message).digest()
result = kms.verify(
    KeyId=key_id,
    Message=digest,
    MessageType="DIGEST",
    Signature=signature,
    SigningAlgorithm="ECDSA_SHA_256",
)
print("signature valid:", result["SignatureValid"])
try:
    kms.verify(
        KeyId=key_id, Message=b"tampered", Signature=signature, SigningAlgorithm="ECDSA_SHA_256"
    )
except kms.exceptions.KMSInvalidSignatureException:
    print("tampered message refused")

# An HMAC key: the MAC is checked by QKMS; the key never leaves it.
mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
mac = kms.generate_mac(KeyId=mac_key, Message=message, MacAlgorithm="HMAC_SHA_256")["Mac"]
valid = kms.verify_mac(KeyId=mac_key, Message=message, MacAlgorithm="HMAC_SHA_256", Mac=mac)
print("MAC valid:", valid["MacValid"], "length:", len(mac))
assert not hmac.compare_digest(mac, bytes(32))
