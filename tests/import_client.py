"""What a client does to import key material: serialise its key and wrap it as AWS documents.

Shared by the unit and end-to-end import tests so both wrap exactly the same way.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from tests.peer_keys import public_key_der

__all__ = ["client_wrap", "pkcs8", "spki"]


def pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return public_key_der(key.public_key())


def client_wrap(algorithm: str, public_der: bytes, material: bytes) -> bytes:
    """Wrap key material as AWS documents for each WrappingAlgorithm."""
    public = serialization.load_der_public_key(public_der)
    assert isinstance(public, rsa.RSAPublicKey)
    digest = hashes.SHA1() if algorithm.endswith("SHA_1") else hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    if algorithm.startswith("RSA_AES_KEY_WRAP"):
        aes_key = os.urandom(32)  # ephemeral AES-256 key, then RFC 5649 key wrap with padding
        return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)
    return public.encrypt(material, oaep)
