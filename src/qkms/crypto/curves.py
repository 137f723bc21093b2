"""The elliptic curves QKMS derives shared secrets on, and what each one is in `cryptography`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["CURVE_PARAMETERS", "Curve", "CurveParameters"]


class Curve(enum.Enum):
    """A curve for key agreement; values are the names people and specs use for it."""

    P256 = "P-256"
    P384 = "P-384"
    P521 = "P-521"
    SECP256K1 = "secp256k1"

    @property
    def shared_secret_length(self) -> int:
        """Bytes in a raw ECDH secret on this curve (the x-coordinate, left-padded)."""
        return CURVE_PARAMETERS[self].field_length


@dataclass(frozen=True, slots=True)
class CurveParameters:
    """What the crypto package needs to know about one curve."""

    # cryptography's curve class; instances are stateless, so one is shared.
    ec_curve: ec.EllipticCurve
    # The namedCurve OID of RFC 5480 / SEC 2, DER-encoded including its tag and length,
    # as it appears in the AlgorithmIdentifier of a SubjectPublicKeyInfo.
    oid_der: bytes
    # Field prime p: a coordinate >= p is an invalid encoding rather than a point off the curve.
    field_prime: int
    # Bytes per coordinate, which is also the length of the ECDH shared secret.
    field_length: int


CURVE_PARAMETERS: Final[Mapping[Curve, CurveParameters]] = MappingProxyType(
    {
        Curve.P256: CurveParameters(
            ec_curve=ec.SECP256R1(),
            oid_der=bytes.fromhex("06082a8648ce3d030107"),  # 1.2.840.10045.3.1.7
            field_prime=2**256 - 2**224 + 2**192 + 2**96 - 1,
            field_length=32,
        ),
        Curve.P384: CurveParameters(
            ec_curve=ec.SECP384R1(),
            oid_der=bytes.fromhex("06052b81040022"),  # 1.3.132.0.34
            field_prime=2**384 - 2**128 - 2**96 + 2**32 - 1,
            field_length=48,
        ),
        Curve.P521: CurveParameters(
            ec_curve=ec.SECP521R1(),
            oid_der=bytes.fromhex("06052b81040023"),  # 1.3.132.0.35
            field_prime=2**521 - 1,
            field_length=66,
        ),
        Curve.SECP256K1: CurveParameters(
            ec_curve=ec.SECP256K1(),
            oid_der=bytes.fromhex("06052b8104000a"),  # 1.3.132.0.10
            field_prime=2**256 - 2**32 - 977,
            field_length=32,
        ),
    }
)
