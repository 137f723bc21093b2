"""X25519 and X448 key agreement (RFC 7748): key pairs, peer key validation, the exchange.

AWS KMS has no such keys; QKMS offers them for DeriveSharedSecret beside ECDH (DESIGN §4a).
Public keys are DER SubjectPublicKeyInfo (RFC 8410: id-X25519 1.3.101.110, id-X448
1.3.101.111, no parameters, the raw u-coordinate in the BIT STRING); private keys PKCS#8.
Peer keys are refused with the PeerKeyProblem of ecdh.py, so DeriveSharedSecret has one error
table for every curve. Any u-coordinate of the right length is a valid input to RFC 7748's
function (non-canonical values and twist points included), except the small-order points
whose shared secret is all zeros (RFC 7748 §6.1), which are SMALL_ORDER_POINT.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from cryptography.hazmat.primitives.asymmetric import x448, x25519

from qkms.crypto._keys import (
    LIBRARY_ERRORS,
    CurveKey,
    GeneratedKeyPair,
    NotDer,
    key_pair_der,
    load_pkcs8_private_key,
    pkcs8_der,
    spki_der,
    split_spki,
)
from qkms.crypto.errors import PeerKeyError, PeerKeyProblem, PrivateKeyError
from qkms.crypto.key_import import ImportedPrivateKey

__all__ = [
    "XdhCurve",
    "XdhPeerPublicKey",
    "XdhPrivateKey",
    "derive_xdh_shared_secret",
    "generate_xdh_key_pair",
    "import_xdh_private_key",
    "load_xdh_peer_public_key",
    "load_xdh_private_key",
]


_Private = x25519.X25519PrivateKey | x448.X448PrivateKey
_Public = x25519.X25519PublicKey | x448.X448PublicKey


class XdhCurve(enum.Enum):
    """A Montgomery curve for RFC 7748 key agreement; values are RFC 7748's function names."""

    X25519 = "X25519"
    X448 = "X448"

    @property
    def key_length(self) -> int:
        """Bytes in a public key, a private key and a shared secret on this curve."""
        return _PARAMETERS[self].key_length


@dataclass(frozen=True, slots=True)
class _Parameters:
    key_length: int
    oid_der: bytes  # the AlgorithmIdentifier's OID, DER with tag and length (RFC 8410 §3)
    generate: Callable[[], _Private]
    public_from_bytes: Callable[[bytes], _Public]
    private_type: type[_Private]

    @property
    def spki_prefix(self) -> bytes:
        """Everything of the one valid SPKI encoding before the u-coordinate."""
        algorithm = b"\x30" + bytes([len(self.oid_der)]) + self.oid_der
        bit_string = b"\x03" + bytes([self.key_length + 1]) + b"\x00"
        body_length = len(algorithm) + len(bit_string) + self.key_length
        return b"\x30" + bytes([body_length]) + algorithm + bit_string


_PARAMETERS: Final[Mapping[XdhCurve, _Parameters]] = MappingProxyType(
    {
        XdhCurve.X25519: _Parameters(
            key_length=32,
            oid_der=bytes.fromhex("06032b656e"),  # 1.3.101.110
            generate=x25519.X25519PrivateKey.generate,
            public_from_bytes=x25519.X25519PublicKey.from_public_bytes,
            private_type=x25519.X25519PrivateKey,
        ),
        XdhCurve.X448: _Parameters(
            key_length=56,
            oid_der=bytes.fromhex("06032b656f"),  # 1.3.101.111
            generate=x448.X448PrivateKey.generate,
            public_from_bytes=x448.X448PublicKey.from_public_bytes,
            private_type=x448.X448PrivateKey,
        ),
    }
)
_SPKI_PREFIXES: Final = {curve: params.spki_prefix for curve, params in _PARAMETERS.items()}
_CURVES_BY_OID: Final = {params.oid_der: curve for curve, params in _PARAMETERS.items()}
# Key types that are curves, only not this one: id-ecPublicKey, Ed25519, Ed448 (RFC 5480, 8410).
_OTHER_CURVE_OIDS: Final = frozenset(
    {bytes.fromhex("06072a8648ce3d0201"), bytes.fromhex("06032b6570"), bytes.fromhex("06032b6571")}
)


class XdhPrivateKey(CurveKey[_Private, XdhCurve]):
    """A loaded X25519/X448 private key; opaque so key material never leaves this package."""

    __slots__ = ()

    def public_key_der(self) -> bytes:
        return spki_der(self._key.public_key())


class XdhPeerPublicKey(CurveKey[_Public, XdhCurve]):
    """A caller's public key that passed every check of `load_xdh_peer_public_key`."""

    __slots__ = ()


def generate_xdh_key_pair(curve: XdhCurve) -> GeneratedKeyPair:
    """A new key pair on `curve`: private key as PKCS#8 DER, public key as DER SPKI."""
    key = _PARAMETERS[curve].generate()
    return key_pair_der(key)


def load_xdh_private_key(private_pkcs8_der: bytes, curve: XdhCurve) -> XdhPrivateKey:
    """Load unencrypted PKCS#8 DER of a private key on `curve`; else PrivateKeyError."""
    key = load_pkcs8_private_key(private_pkcs8_der)
    if not isinstance(key, _PARAMETERS[curve].private_type):
        raise PrivateKeyError(f"private key is not an {curve.value} key")
    return XdhPrivateKey(key, curve)


def import_xdh_private_key(private_pkcs8_der: bytes, curve: XdhCurve) -> ImportedPrivateKey:
    """Check imported material is a private key on `curve`; re-encode it canonically.

    Re-encoding keeps only the private key: no attributes or caller-chosen extras survive.
    """
    key = load_xdh_private_key(private_pkcs8_der, curve)._key
    return ImportedPrivateKey(
        private_pkcs8_der=pkcs8_der(key), public_spki_der=spki_der(key.public_key())
    )


def load_xdh_peer_public_key(spki_der: bytes, curve: XdhCurve) -> XdhPeerPublicKey:
    """Validate a caller's DER SubjectPublicKeyInfo as a public key on `curve`.

    The one DER encoding of RFC 8410 is a fixed prefix and the u-coordinate, so the hot path
    is a prefix and length compare; only refused input pays for finding its PeerKeyProblem.
    """
    if type(spki_der) is not bytes:
        if not isinstance(spki_der, bytearray | memoryview):
            raise PeerKeyError(PeerKeyProblem.NOT_DER_SPKI)
        spki_der = bytes(spki_der)
    params = _PARAMETERS[curve]
    prefix = _SPKI_PREFIXES[curve]
    if len(spki_der) != len(prefix) + params.key_length or not spki_der.startswith(prefix):
        raise _diagnose(spki_der, curve)
    try:
        key = params.public_from_bytes(spki_der[len(prefix) :])
    except LIBRARY_ERRORS:
        raise PeerKeyError(PeerKeyProblem.INVALID_ENCODING) from None
    return XdhPeerPublicKey(key, curve)


def derive_xdh_shared_secret(private_key: XdhPrivateKey, peer: XdhPeerPublicKey) -> bytes:
    """RFC 7748 X25519/X448; a small-order peer (all-zero secret) is PeerKeyError."""
    if private_key.curve is not peer.curve:
        raise PeerKeyError(
            PeerKeyProblem.WRONG_CURVE,
            f"got {peer.curve.value}, expected {private_key.curve.value}",
        )
    own = private_key._key
    try:
        if isinstance(own, x25519.X25519PrivateKey) and isinstance(
            peer._key, x25519.X25519PublicKey
        ):
            secret = own.exchange(peer._key)
        elif isinstance(own, x448.X448PrivateKey) and isinstance(peer._key, x448.X448PublicKey):
            secret = own.exchange(peer._key)
        else:  # unreachable: the curves were compared above
            raise PeerKeyError(PeerKeyProblem.WRONG_CURVE)
    except LIBRARY_ERRORS:
        # OpenSSL refuses an all-zero result itself (RFC 7748 §6.1's check).
        raise PeerKeyError(PeerKeyProblem.SMALL_ORDER_POINT) from None
    if hmac.compare_digest(secret, bytes(len(secret))):
        raise PeerKeyError(PeerKeyProblem.SMALL_ORDER_POINT)
    return secret


def _diagnose(data: bytes, curve: XdhCurve) -> PeerKeyError:
    """The PeerKeyError for an SPKI that is not the expected encoding (cold path)."""
    try:
        algorithm, _, oid_end = split_spki(data)
    except NotDer:
        return PeerKeyError(PeerKeyProblem.NOT_DER_SPKI)
    oid = algorithm[:oid_end]
    other = _CURVES_BY_OID.get(oid)
    if other is not None and other is not curve:
        return PeerKeyError(
            PeerKeyProblem.WRONG_CURVE, f"got {other.value}, expected {curve.value}"
        )
    if other is None:
        if oid in _OTHER_CURVE_OIDS:
            return PeerKeyError(PeerKeyProblem.WRONG_CURVE, f"expected {curve.value}")
        return PeerKeyError(PeerKeyProblem.NOT_EC_KEY)
    if oid_end != len(algorithm):
        # RFC 8410 §3: the parameters MUST be absent.
        return PeerKeyError(PeerKeyProblem.INVALID_ENCODING, "unexpected algorithm parameters")
    # Right OID: the BIT STRING is not one whole u-coordinate of the right length.
    return PeerKeyError(PeerKeyProblem.INVALID_ENCODING)
