"""Key plumbing every recipe shares: DER encoders, the one PKCS#8 loader, strict DER reading.

Each key family (EC, X25519/X448, RSA, ML-DSA, ML-KEM) stores private keys as unencrypted
PKCS#8 DER and publishes public keys as DER SubjectPublicKeyInfo; the encoders and the loader
live here once so every family refuses a bad stored key with the same PrivateKeyError message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Final, Generic, Protocol, TypeVar

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from qkms.crypto.errors import PrivateKeyError

__all__ = [
    "LIBRARY_ERRORS",
    "CurveKey",
    "GeneratedKeyPair",
    "NotDer",
    "SpecKey",
    "key_pair_der",
    "load_pkcs8_private_key",
    "looks_like_pkcs8",
    "pkcs8_der",
    "read_tlv",
    "spki_der",
    "split_spki",
]

# What cryptography raises for input it cannot use; none of these may leave the crypto package.
LIBRARY_ERRORS: Final = (ValueError, TypeError, UnsupportedAlgorithm)


class _PublicKey(Protocol):
    def public_bytes(
        self, encoding: serialization.Encoding, format: serialization.PublicFormat, /
    ) -> bytes: ...


class _PrivateKey(Protocol):
    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
        /,
    ) -> bytes: ...

    def public_key(self) -> _PublicKey: ...


@dataclass(frozen=True, repr=False, eq=False)
class DerKeyPair:
    """A private key as PKCS#8 DER and its public key as DER SPKI; the repr shows neither.

    `eq=False`: comparing two pairs would compare private keys in variable time (STYLE §7).
    """

    private_pkcs8_der: bytes
    public_spki_der: bytes

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>, public_spki_der=<{len(self.public_spki_der)} bytes>)"


class GeneratedKeyPair(DerKeyPair):
    """A fresh key pair as bytes, ready to be wrapped and stored."""


def spki_der(key: _PublicKey) -> bytes:
    """`key` as DER SubjectPublicKeyInfo (EC points uncompressed), as GetPublicKey returns it."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pkcs8_der(key: _PrivateKey) -> bytes:
    """`key` as unencrypted PKCS#8 DER, the one form QKMS wraps and stores."""
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def key_pair_der(key: _PrivateKey) -> GeneratedKeyPair:
    """A freshly generated `key` as the bytes to wrap and store."""
    return GeneratedKeyPair(
        private_pkcs8_der=pkcs8_der(key), public_spki_der=spki_der(key.public_key())
    )


def load_pkcs8_private_key(private_pkcs8_der: bytes) -> PrivateKeyTypes:
    """Load unencrypted PKCS#8 DER of any algorithm; PrivateKeyError, one message, otherwise.

    cryptography also takes SEC1 ("traditional") and PKCS#1 DER; QKMS stores and imports only
    PKCS#8, so the header is checked first. The caller then checks the algorithm and size.
    """
    if not looks_like_pkcs8(private_pkcs8_der):
        raise PrivateKeyError("private key is not PKCS#8 DER")
    try:
        return serialization.load_der_private_key(private_pkcs8_der, password=None)
    except LIBRARY_ERRORS:
        raise PrivateKeyError("private key is not a readable unencrypted PKCS#8 key") from None


# --- Opaque key wrappers ----------------------------------------------------------------------

_K = TypeVar("_K")
_S = TypeVar("_S", bound=enum.Enum)


class _OpaqueKey(Generic[_K, _S]):
    """A library key object kept private with the parameter it was checked against.

    The wrapper is what leaves the crypto package: it names the parameter set or curve and
    nothing else, so no key material can reach a log line or an error through `repr`.
    """

    __slots__ = ("_key", "_spec")
    _PARAMETER: ClassVar[str]

    def __init__(self, key: _K, spec: _S) -> None:
        # Built by each module's loaders, which check that `key` really is of `spec`.
        self._key = key
        self._spec = spec

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._PARAMETER}={self._spec.value})"


class SpecKey(_OpaqueKey[_K, _S]):
    """An opaque key of a known key spec (ML-KEM, SIGN_VERIFY keys)."""

    __slots__ = ()
    _PARAMETER = "spec"

    @property
    def spec(self) -> _S:
        return self._spec


class CurveKey(_OpaqueKey[_K, _S]):
    """An opaque key on a known curve (ECDH, X25519/X448)."""

    __slots__ = ()
    _PARAMETER = "curve"

    @property
    def curve(self) -> _S:
        return self._spec


# --- Strict DER reading -----------------------------------------------------------------------


class NotDer(Exception):
    """Internal: input is not strict DER where DER was expected."""


def read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """One DER element at `offset`: (tag, content, offset after it). Definite, minimal lengths."""
    if offset + 2 > len(data):
        raise NotDer
    tag = data[offset]
    if tag & 0x1F == 0x1F:  # high tag numbers never occur in an SPKI or PKCS#8 header
        raise NotDer
    first = data[offset + 1]
    position = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or position + count > len(data) or data[position] == 0:
            raise NotDer  # indefinite (BER), absurdly long, or padded length
        length = int.from_bytes(data[position : position + count], "big")
        position += count
        if length < 0x80:
            raise NotDer  # long form where the short form fits: BER, not DER
    end = position + length
    if end > len(data):
        raise NotDer
    return tag, data[position:end], end


def looks_like_pkcs8(data: bytes) -> bool:
    """PrivateKeyInfo / OneAsymmetricKey (RFC 5958): SEQUENCE{INTEGER 0|1, SEQUENCE, ...}."""
    try:
        tag, body, end = read_tlv(data, 0)
        if tag != 0x30 or end != len(data):
            return False
        tag, version, position = read_tlv(body, 0)
        algorithm_tag, _, _ = read_tlv(body, position)
    except NotDer:
        return False
    return tag == 0x02 and version in (b"\x00", b"\x01") and algorithm_tag == 0x30


def split_spki(data: bytes) -> tuple[bytes, bytes, int]:
    """A strict-DER SubjectPublicKeyInfo (RFC 5280 §4.1) taken apart for diagnosis.

    Returns the AlgorithmIdentifier's content, the BIT STRING's content and where the algorithm
    OID ends inside the former; NotDer for anything that is not that SEQUENCE, to the letter.
    """
    tag, spki, end = read_tlv(data, 0)
    if tag != 0x30 or end != len(data):
        raise NotDer
    tag, algorithm, position = read_tlv(spki, 0)
    bits_tag, bits, position = read_tlv(spki, position)
    if tag != 0x30 or bits_tag != 0x03 or position != len(spki):
        raise NotDer
    oid_tag, _, oid_end = read_tlv(algorithm, 0)
    if oid_tag != 0x06:
        raise NotDer
    return algorithm, bits, oid_end
