"""Tests of qkms.crypto.ecdh: key generation, peer key validation and the exchange."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import cast

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

from qkms.crypto import (
    Curve,
    GeneratedKeyPair,
    PeerKeyError,
    PeerKeyProblem,
    PrivateKey,
    PrivateKeyError,
    derive_shared_secret,
    generate_key_pair,
    load_peer_public_key,
    load_private_key,
)
from qkms.crypto.curves import CURVE_PARAMETERS
from tests.peer_keys import der_tlv

DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PKCS8 = serialization.PrivateFormat.PKCS8
EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")
SECP224R1_OID = bytes.fromhex("06052b81040021")


def _spki(point: bytes, parameters: bytes, algorithm_oid: bytes = EC_PUBLIC_KEY_OID) -> bytes:
    """A DER SPKI built by hand, for encodings cryptography will not produce."""
    algorithm = der_tlv(0x30, algorithm_oid + parameters)
    return der_tlv(0x30, algorithm + der_tlv(0x03, b"\x00" + point))


def _point(public_spki_der: bytes, compressed: bool = False) -> bytes:
    key = serialization.load_der_public_key(public_spki_der)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    form = serialization.PublicFormat.CompressedPoint if compressed else None
    return key.public_bytes(
        serialization.Encoding.X962, form or serialization.PublicFormat.UncompressedPoint
    )


@pytest.fixture(scope="module")
def p256_public() -> bytes:
    return generate_key_pair(Curve.P256).public_spki_der


# --- generate, load, derive --------------------------------------------------------------------


@pytest.mark.parametrize("curve", list(Curve), ids=lambda curve: curve.value)
def test_derive_equals_cryptography_exchange(curve: Curve) -> None:
    ours, theirs = generate_key_pair(curve), generate_key_pair(curve)
    secret = derive_shared_secret(
        load_private_key(ours.private_pkcs8_der, curve),
        load_peer_public_key(theirs.public_spki_der, curve),
    )
    private = serialization.load_der_private_key(ours.private_pkcs8_der, password=None)
    public = serialization.load_der_public_key(theirs.public_spki_der)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert secret == private.exchange(ec.ECDH(), public)
    assert len(secret) == curve.shared_secret_length


@pytest.mark.parametrize("curve", list(Curve), ids=lambda curve: curve.value)
def test_both_directions_agree(curve: Curve) -> None:
    a, b = generate_key_pair(curve), generate_key_pair(curve)
    a_side = derive_shared_secret(
        load_private_key(a.private_pkcs8_der, curve), load_peer_public_key(b.public_spki_der, curve)
    )
    b_side = derive_shared_secret(
        load_private_key(b.private_pkcs8_der, curve), load_peer_public_key(a.public_spki_der, curve)
    )
    assert a_side == b_side


@pytest.mark.parametrize("curve", list(Curve), ids=lambda curve: curve.value)
def test_generated_pair_is_pkcs8_and_uncompressed_spki(curve: Curve) -> None:
    pair = generate_key_pair(curve)
    private_key = load_private_key(pair.private_pkcs8_der, curve)
    assert private_key.curve is curve
    assert private_key.public_key_der() == pair.public_spki_der
    point = _point(pair.public_spki_der)
    assert pair.public_spki_der.endswith(point)
    assert point[0] == 0x04
    assert len(point) == 1 + 2 * curve.shared_secret_length


@pytest.mark.parametrize("curve", list(Curve), ids=lambda curve: curve.value)
def test_compressed_point_gives_the_same_secret(curve: Curve) -> None:
    ours, theirs = generate_key_pair(curve), generate_key_pair(curve)
    private_key = load_private_key(ours.private_pkcs8_der, curve)
    compressed = _spki(
        _point(theirs.public_spki_der, compressed=True), CURVE_PARAMETERS[curve].oid_der
    )
    peer = load_peer_public_key(compressed, curve)
    assert peer.curve is curve
    assert derive_shared_secret(private_key, peer) == derive_shared_secret(
        private_key, load_peer_public_key(theirs.public_spki_der, curve)
    )


def test_bytearray_input_is_accepted(p256_public: bytes) -> None:
    assert load_peer_public_key(cast(bytes, bytearray(p256_public)), Curve.P256).curve is Curve.P256


# --- wrong curve -------------------------------------------------------------------------------


def test_peer_key_on_another_supported_curve_is_wrong_curve() -> None:
    p384 = generate_key_pair(Curve.P384).public_spki_der
    with pytest.raises(PeerKeyError) as raised:
        load_peer_public_key(p384, Curve.P256)
    assert raised.value.reason is PeerKeyProblem.WRONG_CURVE
    assert "P-384" in str(raised.value) and "P-256" in str(raised.value)


def test_derive_with_handles_of_different_curves_is_wrong_curve() -> None:
    private_key = load_private_key(generate_key_pair(Curve.P256).private_pkcs8_der, Curve.P256)
    peer = load_peer_public_key(generate_key_pair(Curve.SECP256K1).public_spki_der, Curve.SECP256K1)
    with pytest.raises(PeerKeyError) as raised:
        derive_shared_secret(private_key, peer)
    assert raised.value.reason is PeerKeyProblem.WRONG_CURVE


# --- refused peer keys -------------------------------------------------------------------------


def _bad_peer_keys() -> list[tuple[str, bytes, PeerKeyProblem]]:
    pair = ec.generate_private_key(ec.SECP256R1())
    der = pair.public_key().public_bytes(DER, SPKI)
    pem = pair.public_key().public_bytes(serialization.Encoding.PEM, SPKI)
    point = pair.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    oid = CURVE_PARAMETERS[Curve.P256].oid_der
    prime = CURVE_PARAMETERS[Curve.P256].field_prime
    off_curve = point[:-1] + bytes([point[-1] ^ 0x01])
    x_too_big = b"\x04" + (int.from_bytes(point[1:33], "big") + prime).to_bytes(33, "big")[1:]
    rsa_der = rsa.generate_private_key(65537, 2048).public_key().public_bytes(DER, SPKI)
    ed_der = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(DER, SPKI)
    x_der = x25519.X25519PrivateKey.generate().public_key().public_bytes(DER, SPKI)
    long_form = b"\x30\x81\x59" + der[2:]  # same content, BER long-form length
    return [
        ("pem", pem, PeerKeyProblem.NOT_DER_SPKI),
        ("garbage", b"this is not a public key", PeerKeyProblem.NOT_DER_SPKI),
        ("empty", b"", PeerKeyProblem.NOT_DER_SPKI),
        ("raw-point", point, PeerKeyProblem.NOT_DER_SPKI),
        ("trailing-byte", der + b"\x00", PeerKeyProblem.NOT_DER_SPKI),
        ("truncated", der[:-1], PeerKeyProblem.NOT_DER_SPKI),
        ("ber-long-form-length", long_form, PeerKeyProblem.NOT_DER_SPKI),
        ("rsa", rsa_der, PeerKeyProblem.NOT_EC_KEY),
        ("ed25519", ed_der, PeerKeyProblem.NOT_EC_KEY),
        ("x25519", x_der, PeerKeyProblem.NOT_EC_KEY),
        ("unsupported-curve", _spki(point, SECP224R1_OID), PeerKeyProblem.UNSUPPORTED_CURVE),
        (
            "explicit-params",
            _spki(point, bytes.fromhex("3003020101")),
            PeerKeyProblem.UNSUPPORTED_CURVE,
        ),
        ("no-params", _spki(point, b""), PeerKeyProblem.UNSUPPORTED_CURVE),
        ("infinity", _spki(b"\x00", oid), PeerKeyProblem.POINT_AT_INFINITY),
        ("off-curve", _spki(off_curve, oid), PeerKeyProblem.POINT_NOT_ON_CURVE),
        ("zero-point", _spki(b"\x04" + bytes(64), oid), PeerKeyProblem.POINT_NOT_ON_CURVE),
        ("coordinate-not-below-p", _spki(x_too_big, oid), PeerKeyProblem.INVALID_ENCODING),
        ("hybrid-point", _spki(b"\x06" + point[1:], oid), PeerKeyProblem.INVALID_ENCODING),
        ("short-point", _spki(point[:-1], oid), PeerKeyProblem.INVALID_ENCODING),
        ("empty-point", _spki(b"", oid), PeerKeyProblem.INVALID_ENCODING),
        ("unused-bits", der[:-66] + b"\x01" + der[-65:], PeerKeyProblem.INVALID_ENCODING),
    ]


BAD_PEER_KEYS = _bad_peer_keys()


@pytest.mark.parametrize(
    ("spki_der", "reason"),
    [(der, reason) for _, der, reason in BAD_PEER_KEYS],
    ids=[name for name, _, _ in BAD_PEER_KEYS],
)
def test_bad_peer_key_is_refused_with_its_reason(spki_der: bytes, reason: PeerKeyProblem) -> None:
    with pytest.raises(PeerKeyError) as raised:
        load_peer_public_key(spki_der, Curve.P256)
    assert raised.value.reason is reason
    assert spki_der.hex() not in str(raised.value) or not spki_der


def test_non_bytes_input_is_a_peer_key_error() -> None:
    with pytest.raises(PeerKeyError) as raised:
        load_peer_public_key(cast(bytes, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"), Curve.P256)
    assert raised.value.reason is PeerKeyProblem.NOT_DER_SPKI


# --- every truncation and byte flip of a key, each with its own expected outcome -------------

# y^2 = x^3 + a*x + b: a is -3 on the NIST curves and 0 on secp256k1 (SEC 2 §2.4, §2.4.1);
# b is worked out from a known point, so the check needs no further constants.
CURVE_A = {Curve.P256: -3, Curve.P384: -3, Curve.P521: -3, Curve.SECP256K1: 0}


@dataclass(frozen=True)
class Mangled:
    label: str
    spki_der: bytes
    # The PeerKeyProblem it must be refused with, or None if it is a valid key...
    reason: PeerKeyProblem | None
    # ...in which case this is the secret it must give with the test's private key.
    secret: bytes | None = None


class Oracle:
    """What every variant of one SPKI must give, worked out from DER and the curve equation
    rather than from the code under test."""

    def __init__(self, curve: Curve, compressed: bool) -> None:
        self.curve = curve
        self.params = CURVE_PARAMETERS[curve]
        # Fixed scalars: the same variants, and outcomes, on every run.
        peer_scalar = int.from_bytes(hashlib.sha256(b"peer " + curve.value.encode()).digest()) >> 8
        own_scalar = int.from_bytes(hashlib.sha256(b"own " + curve.value.encode()).digest()) >> 8
        peer = ec.derive_private_key(peer_scalar, self.params.ec_curve).public_key()
        self.own = ec.derive_private_key(own_scalar, self.params.ec_curve)
        numbers = peer.public_numbers()
        p, a = self.params.field_prime, CURVE_A[curve]
        self.b = (numbers.y**2 - numbers.x**3 - a * numbers.x) % p
        self.point = _point(peer.public_bytes(DER, SPKI), compressed)
        self.compressed = compressed
        algorithm = EC_PUBLIC_KEY_OID + self.params.oid_der
        algorithm_tlv = der_tlv(0x30, algorithm)
        bits_tlv = der_tlv(0x03, b"\x00" + self.point)
        self.der = der_tlv(0x30, algorithm_tlv + bits_tlv)
        if not compressed:
            assert self.der == peer.public_bytes(DER, SPKI)  # our layout is cryptography's
        # Where each field of the SPKI starts, in order.
        algorithm_at = len(self.der) - len(algorithm_tlv) - len(bits_tlv)
        ec_oid_at = algorithm_at + len(algorithm_tlv) - len(algorithm)
        curve_oid_at = ec_oid_at + len(EC_PUBLIC_KEY_OID)
        bits_at = curve_oid_at + len(self.params.oid_der)
        self.curve_oid_at = curve_oid_at
        self.point_at = len(self.der) - len(self.point)
        self.unused_bits_at = self.point_at - 1
        self.fields = [
            (0, "outer tag and length"),
            (algorithm_at, "algorithm tag and length"),
            (ec_oid_at, "id-ecPublicKey tag"),
            (ec_oid_at + 1, "id-ecPublicKey length"),
            (ec_oid_at + 2, "id-ecPublicKey"),
            (curve_oid_at, "curve OID tag"),
            (curve_oid_at + 1, "curve OID length"),
            (curve_oid_at + 2, "curve OID"),
            (bits_at, "bit string tag and length"),
            (self.unused_bits_at, "unused bits"),
            (self.point_at, "point format"),
            (self.point_at + 1, "coordinates"),
        ]

    def field(self, index: int) -> str:
        return [name for start, name in self.fields if start <= index][-1]

    def variants(self) -> list[Mangled]:
        refused_as_not_der = [
            Mangled(f"cut-{cut}", self.der[:cut], PeerKeyProblem.NOT_DER_SPKI)
            for cut in range(len(self.der))
        ]
        flipped = [
            self.flipped(index, flip)
            for index in range(len(self.der))
            for flip in (0x01, 0x80, 0xFF)
        ]
        return refused_as_not_der + flipped

    def flipped(self, index: int, flip: int) -> Mangled:
        new = self.der[index] ^ flip
        der = self.der[:index] + bytes([new]) + self.der[index + 1 :]
        field = self.field(index)
        label = f"{field}@{index}^{flip:#04x}"
        match field:
            case "id-ecPublicKey":
                reason = PeerKeyProblem.NOT_EC_KEY
            case "id-ecPublicKey length":
                # A shorter short-form length reads a shorter, other OID; any other change
                # leaves bytes that are not DER.
                shorter = new < len(EC_PUBLIC_KEY_OID) - 2
                reason = PeerKeyProblem.NOT_EC_KEY if shorter else PeerKeyProblem.NOT_DER_SPKI
            case "curve OID tag":
                reason = PeerKeyProblem.UNSUPPORTED_CURVE  # parameters that are no named curve
            case "curve OID":
                oid = der[self.curve_oid_at : self.curve_oid_at + len(self.params.oid_der)]
                other = {c.oid_der: curve for curve, c in CURVE_PARAMETERS.items()}.get(oid)
                reason = (
                    PeerKeyProblem.UNSUPPORTED_CURVE
                    if other is None
                    else PeerKeyProblem.WRONG_CURVE
                )
            case "unused bits":
                reason = PeerKeyProblem.INVALID_ENCODING  # a point is whole octets
            case "point format" | "coordinates":
                return self.point_outcome(label, der, der[self.point_at :])
            case _:  # tags and lengths of the SEQUENCEs, BIT STRING and curve OID
                reason = PeerKeyProblem.NOT_DER_SPKI
        return Mangled(label, der, reason)

    def point_outcome(self, label: str, der: bytes, point: bytes) -> Mangled:
        """SEC 1 §2.3.4: the format byte, then field elements, then the curve equation."""
        size, p = self.params.field_length, self.params.field_prime
        expected_format = {0x02, 0x03} if self.compressed else {0x04}
        if point[0] not in expected_format:
            return Mangled(label, der, PeerKeyProblem.INVALID_ENCODING)
        coordinates = [int.from_bytes(point[i : i + size]) for i in range(1, len(point), size)]
        if any(c >= p for c in coordinates):
            return Mangled(label, der, PeerKeyProblem.INVALID_ENCODING)
        x = coordinates[0]
        rhs = (x**3 + CURVE_A[self.curve] * x + self.b) % p
        on_curve = (
            pow(rhs, (p - 1) // 2, p) in (0, 1)  # a square: some y solves it
            if self.compressed
            else coordinates[1] ** 2 % p == rhs
        )
        if not on_curve:
            return Mangled(label, der, PeerKeyProblem.POINT_NOT_ON_CURVE)
        peer = ec.EllipticCurvePublicKey.from_encoded_point(self.params.ec_curve, point)
        return Mangled(label, der, None, self.own.exchange(ec.ECDH(), peer))

    def own_private_key(self) -> PrivateKey:
        pkcs8 = self.own.private_bytes(DER, PKCS8, serialization.NoEncryption())
        return load_private_key(pkcs8, self.curve)


@pytest.mark.parametrize("compressed", [False, True], ids=["uncompressed", "compressed"])
@pytest.mark.parametrize("curve", list(Curve), ids=lambda curve: curve.value)
def test_every_mangled_key_gets_its_own_outcome(curve: Curve, compressed: bool) -> None:
    oracle = Oracle(curve, compressed)
    private_key = oracle.own_private_key()
    wrong: list[str] = []
    for variant in oracle.variants():
        try:
            peer = load_peer_public_key(variant.spki_der, curve)
        except PeerKeyError as error:  # any other exception fails the test as it escapes
            if error.reason is not variant.reason:
                wrong.append(f"{variant.label}: refused as {error.reason}, not {variant.reason}")
            continue
        if variant.reason is not None:
            wrong.append(f"{variant.label}: accepted, should be refused as {variant.reason}")
        elif derive_shared_secret(private_key, peer) != variant.secret:
            wrong.append(f"{variant.label}: accepted with the wrong secret")
    assert wrong == []
    accepted = [v for v in oracle.variants() if v.reason is None]
    # The compressed form's 0x02 <-> 0x03 flip is the other point with that x: still valid.
    assert any(v.label.startswith("point format") for v in accepted) == compressed


def test_every_reason_has_its_own_message() -> None:
    messages = {str(PeerKeyError(reason)) for reason in PeerKeyProblem}
    assert len(messages) == len(PeerKeyProblem)


# --- private keys ------------------------------------------------------------------------------


def test_private_key_of_another_curve_is_refused() -> None:
    pair = generate_key_pair(Curve.P384)
    with pytest.raises(PrivateKeyError, match="expected P-256"):
        load_private_key(pair.private_pkcs8_der, Curve.P256)


def _bad_private_keys() -> list[tuple[str, bytes]]:
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = key.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    sec1 = key.private_bytes(
        DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    encrypted = key.private_bytes(
        DER, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    ed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return [
        ("sec1", sec1),
        ("encrypted-pkcs8", encrypted),
        ("ed25519-pkcs8", ed),
        ("trailing-byte", pkcs8 + b"\x00"),
        ("truncated", pkcs8[:-1]),
        ("garbage", b"\x30\x03\x02\x01\x00"),
        ("empty", b""),
    ]


BAD_PRIVATE_KEYS = _bad_private_keys()


@pytest.mark.parametrize(
    "blob", [blob for _, blob in BAD_PRIVATE_KEYS], ids=[name for name, _ in BAD_PRIVATE_KEYS]
)
def test_bad_private_key_is_refused(blob: bytes) -> None:
    with pytest.raises(PrivateKeyError) as raised:
        load_private_key(blob, Curve.P256)
    assert blob.hex() not in str(raised.value) or not blob


# --- nothing secret in a repr ------------------------------------------------------------------


def test_reprs_hide_key_material() -> None:
    pair = generate_key_pair(Curve.P256)
    private_key = load_private_key(pair.private_pkcs8_der, Curve.P256)
    peer = load_peer_public_key(pair.public_spki_der, Curve.P256)
    assert repr(private_key) == "PrivateKey(curve=P-256)"
    assert repr(peer) == "PeerPublicKey(curve=P-256)"
    text = repr(pair)
    assert pair.private_pkcs8_der.hex() not in text
    assert repr(pair.private_pkcs8_der) not in text
    assert "redacted" in text


def test_generated_pairs_do_not_compare_by_value() -> None:
    pair = generate_key_pair(Curve.P256)
    twin = GeneratedKeyPair(pair.private_pkcs8_der, pair.public_spki_der)
    assert pair != twin  # equality would compare private keys in variable time
