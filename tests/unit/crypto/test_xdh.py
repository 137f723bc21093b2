"""Tests of qkms.crypto.xdh: X25519/X448 key pairs, peer key validation and the exchange."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x448, x25519

from qkms.crypto import (
    PeerKeyError,
    PeerKeyProblem,
    PrivateKeyError,
    XdhCurve,
    derive_xdh_shared_secret,
    generate_xdh_key_pair,
    import_xdh_private_key,
    load_xdh_peer_public_key,
    load_xdh_private_key,
)

DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PKCS8 = serialization.PrivateFormat.PKCS8
NO_ENCRYPTION = serialization.NoEncryption()
PREFIXES = {
    XdhCurve.X25519: bytes.fromhex("302a300506032b656e032100"),
    XdhCurve.X448: bytes.fromhex("3042300506032b656f033900"),
}
OTHER = {XdhCurve.X25519: XdhCurve.X448, XdhCurve.X448: XdhCurve.X25519}
CURVES = list(XdhCurve)


def _spki(key: object) -> bytes:
    assert isinstance(
        key,
        x25519.X25519PublicKey
        | x448.X448PublicKey
        | ec.EllipticCurvePublicKey
        | rsa.RSAPublicKey
        | ed25519.Ed25519PublicKey,
    )
    return key.public_bytes(DER, SPKI)


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.value)
def test_generated_keys_are_rfc_8410_der(curve: XdhCurve) -> None:
    pair = generate_xdh_key_pair(curve)
    assert pair.public_spki_der.startswith(PREFIXES[curve])
    assert len(pair.public_spki_der) == len(PREFIXES[curve]) + curve.key_length
    key = load_xdh_private_key(pair.private_pkcs8_der, curve)
    assert key.public_key_der() == pair.public_spki_der
    assert repr(key) == f"XdhPrivateKey(curve={curve.value})"


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.value)
def test_both_directions_agree_and_match_the_library(curve: XdhCurve) -> None:
    alice, bob = generate_xdh_key_pair(curve), generate_xdh_key_pair(curve)
    a = load_xdh_private_key(alice.private_pkcs8_der, curve)
    b = load_xdh_private_key(bob.private_pkcs8_der, curve)
    ab = derive_xdh_shared_secret(a, load_xdh_peer_public_key(bob.public_spki_der, curve))
    ba = derive_xdh_shared_secret(b, load_xdh_peer_public_key(alice.public_spki_der, curve))
    assert ab == ba and len(ab) == curve.key_length
    local = serialization.load_der_private_key(alice.private_pkcs8_der, None)
    peer = serialization.load_der_public_key(bob.public_spki_der)
    if isinstance(local, x25519.X25519PrivateKey) and isinstance(peer, x25519.X25519PublicKey):
        assert local.exchange(peer) == ab
    else:
        assert isinstance(local, x448.X448PrivateKey) and isinstance(peer, x448.X448PublicKey)
        assert local.exchange(peer) == ab


def _peer_problem(spki_der: bytes, curve: XdhCurve) -> PeerKeyProblem:
    with pytest.raises(PeerKeyError) as raised:
        load_xdh_peer_public_key(spki_der, curve)
    return raised.value.reason


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.value)
def test_each_kind_of_wrong_peer_key_has_its_problem(curve: XdhCurve) -> None:
    good = generate_xdh_key_pair(curve).public_spki_der
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    cases = {
        b"": PeerKeyProblem.NOT_DER_SPKI,
        b"\x04" + bytes(32): PeerKeyProblem.NOT_DER_SPKI,
        good[len(PREFIXES[curve]) :]: PeerKeyProblem.NOT_DER_SPKI,  # a bare u-coordinate
        good + b"\x00": PeerKeyProblem.NOT_DER_SPKI,  # trailing bytes
        _spki(rsa_key): PeerKeyProblem.NOT_EC_KEY,
        _spki(p256): PeerKeyProblem.WRONG_CURVE,
        _spki(ed): PeerKeyProblem.WRONG_CURVE,
        generate_xdh_key_pair(OTHER[curve]).public_spki_der: PeerKeyProblem.WRONG_CURVE,
        # Right OID, a u-coordinate one byte short (lengths fixed up): invalid encoding.
        _reframe(good[len(PREFIXES[curve]) : -1], curve): PeerKeyProblem.INVALID_ENCODING,
        # Right OID with parameters, which RFC 8410 forbids.
        _reframe(good[len(PREFIXES[curve]) :], curve, b"\x05\x00"): (
            PeerKeyProblem.INVALID_ENCODING
        ),
    }
    for spki_der, problem in cases.items():
        assert _peer_problem(spki_der, curve) is problem, spki_der.hex()


def _reframe(u: bytes, curve: XdhCurve, parameters: bytes = b"") -> bytes:
    oid = PREFIXES[curve][4:9]
    algorithm = b"\x30" + bytes([len(oid) + len(parameters)]) + oid + parameters
    bits = b"\x03" + bytes([len(u) + 1]) + b"\x00" + u
    return b"\x30" + bytes([len(algorithm) + len(bits)]) + algorithm + bits


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.value)
@pytest.mark.parametrize("u", [0, 1], ids=["u=0", "u=1"])
def test_small_order_points_give_no_all_zero_secret(curve: XdhCurve, u: int) -> None:
    key = load_xdh_private_key(generate_xdh_key_pair(curve).private_pkcs8_der, curve)
    peer = load_xdh_peer_public_key(PREFIXES[curve] + u.to_bytes(curve.key_length, "little"), curve)
    with pytest.raises(PeerKeyError) as raised:
        derive_xdh_shared_secret(key, peer)
    assert raised.value.reason is PeerKeyProblem.SMALL_ORDER_POINT


def test_a_peer_of_another_curve_is_refused_at_derive() -> None:
    key = load_xdh_private_key(
        generate_xdh_key_pair(XdhCurve.X25519).private_pkcs8_der, XdhCurve.X25519
    )
    peer = load_xdh_peer_public_key(
        generate_xdh_key_pair(XdhCurve.X448).public_spki_der, XdhCurve.X448
    )
    with pytest.raises(PeerKeyError) as raised:
        derive_xdh_shared_secret(key, peer)
    assert raised.value.reason is PeerKeyProblem.WRONG_CURVE


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.value)
def test_private_keys_of_another_curve_or_kind_are_refused(curve: XdhCurve) -> None:
    other = generate_xdh_key_pair(OTHER[curve]).private_pkcs8_der
    p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(DER, PKCS8, NO_ENCRYPTION)
    for blob in (other, p256, b"", b"\x30\x00", bytes(32)):
        with pytest.raises(PrivateKeyError):
            load_xdh_private_key(blob, curve)
        with pytest.raises(PrivateKeyError):
            import_xdh_private_key(blob, curve)


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.value)
def test_import_keeps_the_key_and_drops_extras(curve: XdhCurve) -> None:
    pair = generate_xdh_key_pair(curve)
    imported = import_xdh_private_key(pair.private_pkcs8_der, curve)
    assert imported.private_pkcs8_der == pair.private_pkcs8_der
    assert imported.public_spki_der == pair.public_spki_der
