"""EC key pairs, peer public key validation and the raw ECDH exchange behind DeriveSharedSecret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from qkms.crypto._keys import (
    LIBRARY_ERRORS,
    CurveKey,
    GeneratedKeyPair,
    NotDer,
    key_pair_der,
    load_pkcs8_private_key,
    read_tlv,
    spki_der,
    split_spki,
)
from qkms.crypto.curves import CURVE_PARAMETERS, Curve, CurveParameters
from qkms.crypto.errors import PeerKeyError, PeerKeyProblem, PrivateKeyError

__all__ = [
    "GeneratedKeyPair",
    "PeerPublicKey",
    "PrivateKey",
    "derive_shared_secret",
    "generate_key_pair",
    "load_peer_public_key",
    "load_private_key",
]

_ECDH: Final = ec.ECDH()


class PrivateKey(CurveKey[ec.EllipticCurvePrivateKey, Curve]):
    """A loaded private key of a known curve; opaque so key material never leaves this package."""

    __slots__ = ()

    def public_key_der(self) -> bytes:
        """The public half as DER SubjectPublicKeyInfo with an uncompressed point."""
        return spki_der(self._key.public_key())


class PeerPublicKey(CurveKey[ec.EllipticCurvePublicKey, Curve]):
    """A caller's public key that passed every check of `load_peer_public_key`."""

    __slots__ = ()


def generate_key_pair(curve: Curve) -> GeneratedKeyPair:
    """A new key pair on `curve`: private key as PKCS#8 DER, public key as DER SPKI."""
    return key_pair_der(ec.generate_private_key(CURVE_PARAMETERS[curve].ec_curve))


def load_private_key(private_pkcs8_der: bytes, curve: Curve) -> PrivateKey:
    """Load an unencrypted PKCS#8 DER EC private key that must be on `curve`."""
    key = load_pkcs8_private_key(private_pkcs8_der)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PrivateKeyError("private key is not an elliptic curve key")
    if key.curve.name != CURVE_PARAMETERS[curve].ec_curve.name:
        raise PrivateKeyError(f"private key is on {key.curve.name}, expected {curve.value}")
    return PrivateKey(key, curve)


def load_peer_public_key(spki_der: bytes, curve: Curve) -> PeerPublicKey:
    """Validate a caller's DER SubjectPublicKeyInfo as a point on `curve` (STYLE §7).

    Only the one DER encoding of an id-ecPublicKey SPKI with the namedCurve OID of `curve`
    is accepted (RFC 5480): no PEM, no bare points, no explicit curve parameters, no BER,
    no trailing bytes. That encoding is a fixed header followed by the point, so the hot
    path is a prefix compare; cryptography then checks that the point lies on the curve.
    Only rejected input pays for working out which PeerKeyProblem it has.
    """
    if type(spki_der) is not bytes:
        spki_der = _as_bytes(spki_der)
    shape = _SPKI_SHAPES[curve]
    size = len(spki_der)
    if size == shape.uncompressed_size and spki_der.startswith(shape.uncompressed_prefix):
        point = spki_der[shape.point_offset_uncompressed :]
    elif (
        size == shape.compressed_size
        and spki_der.startswith(shape.compressed_header)
        and spki_der[shape.point_offset_compressed] in (0x02, 0x03)
    ):
        point = spki_der[shape.point_offset_compressed :]
    else:
        raise _diagnose_spki(spki_der, curve)
    params = CURVE_PARAMETERS[curve]
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(params.ec_curve, point)
    except LIBRARY_ERRORS:
        raise _diagnose_point(point, params) from None
    return PeerPublicKey(key, curve)


def derive_shared_secret(private_key: PrivateKey, peer: PeerPublicKey) -> bytes:
    """Raw ECDH: the x-coordinate of the shared point, as OpenSSL and AWS KMS return it."""
    if private_key.curve is not peer.curve:
        raise PeerKeyError(
            PeerKeyProblem.WRONG_CURVE,
            f"got {peer.curve.value}, expected {private_key.curve.value}",
        )
    try:
        return private_key._key.exchange(_ECDH, peer._key)
    except LIBRARY_ERRORS:
        # Unreachable for a validated key on the same curve; fail closed in crypto terms.
        raise PeerKeyError(PeerKeyProblem.INVALID_ENCODING) from None


# --- The expected SPKI encodings -------------------------------------------------------------

_EC_PUBLIC_KEY_OID_DER: Final = bytes.fromhex("06072a8648ce3d0201")  # id-ecPublicKey


@dataclass(frozen=True, slots=True)
class _SpkiShape:
    uncompressed_prefix: bytes  # everything before the coordinates, ending in the 0x04 tag
    uncompressed_size: int
    compressed_header: bytes  # everything before the 0x02/0x03 point tag
    compressed_size: int
    point_offset_uncompressed: int  # where the 0x04 tag is
    point_offset_compressed: int  # where the 0x02/0x03 tag is


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _spki_header(params: CurveParameters, point_size: int) -> bytes:
    """DER of SPKI{AlgorithmIdentifier{id-ecPublicKey, curve}, BIT STRING} up to the point."""
    algorithm = _EC_PUBLIC_KEY_OID_DER + params.oid_der
    algorithm_tlv = b"\x30" + _der_length(len(algorithm)) + algorithm
    bit_string_header = b"\x03" + _der_length(point_size + 1) + b"\x00"  # 0 unused bits
    body_size = len(algorithm_tlv) + len(bit_string_header) + point_size
    return b"\x30" + _der_length(body_size) + algorithm_tlv + bit_string_header


def _spki_shape(params: CurveParameters) -> _SpkiShape:
    uncompressed = 1 + 2 * params.field_length
    compressed = 1 + params.field_length
    uncompressed_header = _spki_header(params, uncompressed)
    compressed_header = _spki_header(params, compressed)
    return _SpkiShape(
        uncompressed_prefix=uncompressed_header + b"\x04",
        uncompressed_size=len(uncompressed_header) + uncompressed,
        compressed_header=compressed_header,
        compressed_size=len(compressed_header) + compressed,
        point_offset_uncompressed=len(uncompressed_header),
        point_offset_compressed=len(compressed_header),
    )


_SPKI_SHAPES: Final = {curve: _spki_shape(params) for curve, params in CURVE_PARAMETERS.items()}
_CURVES_BY_OID: Final = {params.oid_der: curve for curve, params in CURVE_PARAMETERS.items()}


# --- Why a peer key was refused (cold path) ---------------------------------------------------


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise PeerKeyError(PeerKeyProblem.NOT_DER_SPKI)


def _diagnose_spki(data: bytes, curve: Curve) -> PeerKeyError:
    """The PeerKeyError for an SPKI that did not match the expected encoding."""
    try:
        algorithm, bits, position = split_spki(data)
        if algorithm[:position] != _EC_PUBLIC_KEY_OID_DER:
            return PeerKeyError(PeerKeyProblem.NOT_EC_KEY)
        if position == len(algorithm):
            # RFC 5480 requires parameters; without them the curve is unknown.
            return PeerKeyError(PeerKeyProblem.UNSUPPORTED_CURVE, "no curve parameters")
        tag, _, end = read_tlv(algorithm, position)
        if end != len(algorithm):
            raise NotDer
    except NotDer:
        return PeerKeyError(PeerKeyProblem.NOT_DER_SPKI)
    parameters = algorithm[position:]
    if tag == 0x30:
        return PeerKeyError(PeerKeyProblem.UNSUPPORTED_CURVE, "explicit curve parameters")
    if parameters != CURVE_PARAMETERS[curve].oid_der:
        other = _CURVES_BY_OID.get(parameters)
        if other is None:
            return PeerKeyError(PeerKeyProblem.UNSUPPORTED_CURVE)
        return PeerKeyError(
            PeerKeyProblem.WRONG_CURVE, f"got {other.value}, expected {curve.value}"
        )
    if not bits or bits[0] != 0:
        return PeerKeyError(PeerKeyProblem.INVALID_ENCODING)  # a point is whole octets
    return _diagnose_point(bits[1:], CURVE_PARAMETERS[curve])


def _diagnose_point(point: bytes, params: CurveParameters) -> PeerKeyError:
    """The PeerKeyError for SEC 1 point bytes that cryptography refused (or never saw)."""
    size = params.field_length
    if point == b"\x00":
        return PeerKeyError(PeerKeyProblem.POINT_AT_INFINITY)  # SEC 1 §2.3.3
    coordinates: tuple[bytes, ...]
    if len(point) == 1 + 2 * size and point[0] == 0x04:
        coordinates = (point[1 : 1 + size], point[1 + size :])
    elif len(point) == 1 + size and point[0] in (0x02, 0x03):
        coordinates = (point[1:],)
    else:
        return PeerKeyError(PeerKeyProblem.INVALID_ENCODING)
    if any(int.from_bytes(c, "big") >= params.field_prime for c in coordinates):
        return PeerKeyError(PeerKeyProblem.INVALID_ENCODING)  # not a field element
    return PeerKeyError(PeerKeyProblem.POINT_NOT_ON_CURVE)
