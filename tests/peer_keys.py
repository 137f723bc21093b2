"""A caller's side of key agreement: its public key as DER (SubjectPublicKeyInfo), as AWS expects.

DeriveSharedSecret takes the peer's public key as DER-encoded SPKI; unit, e2e and console tests
all make one, so they make it here, one way. Tests of malformed keys build DER by hand with
`der_tlv`, for encodings `cryptography` will not produce.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

__all__ = ["der_tlv", "peer_public_key_der", "public_key_der"]


def public_key_der(public_key: PublicKeyTypes) -> bytes:
    """The SubjectPublicKeyInfo DER of a public key (an EC point uncompressed)."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def peer_public_key_der(curve: ec.EllipticCurve | None = None) -> bytes:
    """A fresh peer's public key as DER, on P-256 unless `curve` says otherwise."""
    return public_key_der(ec.generate_private_key(curve or ec.SECP256R1()).public_key())


def der_tlv(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length (short or long form), content."""
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + content
