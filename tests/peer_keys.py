"""A caller's side of key agreement: its public key as DER (SubjectPublicKeyInfo), as AWS expects.

DeriveSharedSecret takes the peer's public key as DER-encoded SPKI; unit, e2e and console tests
all make one, so they make it here, one way.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

__all__ = ["peer_public_key_der", "public_key_der"]


def public_key_der(public_key: PublicKeyTypes) -> bytes:
    """The SubjectPublicKeyInfo DER of a public key (an EC point uncompressed)."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def peer_public_key_der(curve: ec.EllipticCurve | None = None) -> bytes:
    """A fresh peer's public key as DER, on P-256 unless `curve` says otherwise."""
    return public_key_der(ec.generate_private_key(curve or ec.SECP256R1()).public_key())
