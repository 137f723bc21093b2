"""Key import crypto: client-side wraps made with `cryptography` directly, opened by QKMS."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from qkms.crypto import (
    Curve,
    ImportToken,
    ImportTokenError,
    ImportUnwrapError,
    PrivateKeyError,
    RootKey,
    WrappingAlgorithm,
    WrappingKeyPair,
    WrappingKeySpec,
    generate_wrapping_key_pair,
    load_imported_private_key,
    new_token_id,
    open_import_token,
    seal_import_token,
    unwrap_key_material,
)
from tests.peer_keys import public_key_der

EC_CURVES = {
    Curve.P256: ec.SECP256R1(),
    Curve.P384: ec.SECP384R1(),
    Curve.P521: ec.SECP521R1(),
    Curve.SECP256K1: ec.SECP256K1(),
}


@pytest.fixture(scope="module")
def pair() -> WrappingKeyPair:
    return generate_wrapping_key_pair(WrappingKeySpec.RSA_2048)


def pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def client_wrap(algorithm: WrappingAlgorithm, public_der: bytes, material: bytes) -> bytes:
    """What a client does with GetParametersForImport's PublicKey (AWS's documented formats)."""
    public = serialization.load_der_public_key(public_der)
    assert isinstance(public, rsa.RSAPublicKey)
    digest = hashes.SHA1() if algorithm.value.endswith("SHA_1") else hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    if algorithm.uses_aes_key_wrap:
        aes_key = os.urandom(32)
        return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)
    return public.encrypt(material, oaep)


@pytest.mark.parametrize("spec", list(WrappingKeySpec), ids=lambda s: s.value)
def test_wrapping_key_sizes(spec: WrappingKeySpec) -> None:
    generated = generate_wrapping_key_pair(spec)
    public = serialization.load_der_public_key(generated.public_spki_der)
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == spec.bits
    assert "bytes" in repr(generated) and "private" not in repr(generated)


@pytest.mark.parametrize("algorithm", list(WrappingAlgorithm), ids=lambda a: a.value)
def test_round_trip(algorithm: WrappingAlgorithm, pair: WrappingKeyPair) -> None:
    material = pkcs8(ec.generate_private_key(ec.SECP256R1()))
    wrapped = client_wrap(algorithm, pair.public_spki_der, material)
    assert unwrap_key_material(algorithm, pair.private_pkcs8_der, wrapped) == material


def test_p521_fits_only_the_aes_key_wrap_under_rsa_2048(pair: WrappingKeyPair) -> None:
    material = pkcs8(ec.generate_private_key(ec.SECP521R1()))
    with pytest.raises(ValueError):  # the client cannot even encrypt it with OAEP-SHA-256
        client_wrap(WrappingAlgorithm.RSAES_OAEP_SHA_256, pair.public_spki_der, material)
    algorithm = WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256
    wrapped = client_wrap(algorithm, pair.public_spki_der, material)
    assert unwrap_key_material(algorithm, pair.private_pkcs8_der, wrapped) == material


@pytest.mark.parametrize("algorithm", list(WrappingAlgorithm), ids=lambda a: a.value)
def test_another_wrapping_key_is_refused(
    algorithm: WrappingAlgorithm, pair: WrappingKeyPair
) -> None:
    other = generate_wrapping_key_pair(WrappingKeySpec.RSA_2048)
    wrapped = client_wrap(algorithm, other.public_spki_der, b"\x30" * 40)
    with pytest.raises(ImportUnwrapError):
        unwrap_key_material(algorithm, pair.private_pkcs8_der, wrapped)


@pytest.mark.parametrize("algorithm", list(WrappingAlgorithm), ids=lambda a: a.value)
def test_truncated_or_extended_is_refused(
    algorithm: WrappingAlgorithm, pair: WrappingKeyPair
) -> None:
    wrapped = client_wrap(algorithm, pair.public_spki_der, b"\x30" * 40)
    for bad in (wrapped[:-1], wrapped[:255], wrapped + b"\x00", b""):
        with pytest.raises(ImportUnwrapError):
            unwrap_key_material(algorithm, pair.private_pkcs8_der, bad)


@pytest.mark.parametrize(
    ("made_with", "opened_with"),
    [
        (WrappingAlgorithm.RSAES_OAEP_SHA_1, WrappingAlgorithm.RSAES_OAEP_SHA_256),
        (WrappingAlgorithm.RSAES_OAEP_SHA_256, WrappingAlgorithm.RSAES_OAEP_SHA_1),
        (WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1, WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256),
        (WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256, WrappingAlgorithm.RSAES_OAEP_SHA_256),
        (WrappingAlgorithm.RSAES_OAEP_SHA_256, WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256),
    ],
)
def test_another_algorithm_is_refused(
    made_with: WrappingAlgorithm, opened_with: WrappingAlgorithm, pair: WrappingKeyPair
) -> None:
    wrapped = client_wrap(made_with, pair.public_spki_der, b"\x30" * 40)
    with pytest.raises(ImportUnwrapError):
        unwrap_key_material(opened_with, pair.private_pkcs8_der, wrapped)


def test_aes_key_wrap_needs_an_aes_256_key(pair: WrappingKeyPair) -> None:
    public = serialization.load_der_public_key(pair.public_spki_der)
    assert isinstance(public, rsa.RSAPublicKey)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    aes_key = os.urandom(16)
    wrapped = public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, b"\x30" * 40)
    with pytest.raises(ImportUnwrapError):
        unwrap_key_material(
            WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256, pair.private_pkcs8_der, wrapped
        )


def test_tampered_aes_key_wrap_is_refused(pair: WrappingKeyPair) -> None:
    algorithm = WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256
    wrapped = bytearray(client_wrap(algorithm, pair.public_spki_der, b"\x30" * 40))
    wrapped[-1] ^= 1
    with pytest.raises(ImportUnwrapError):
        unwrap_key_material(algorithm, pair.private_pkcs8_der, bytes(wrapped))


# --- the imported EC key ----------------------------------------------------------------------


@pytest.mark.parametrize("curve", list(Curve), ids=lambda c: c.value)
def test_imported_key_on_its_curve(curve: Curve) -> None:
    key = ec.generate_private_key(EC_CURVES[curve])
    imported = load_imported_private_key(pkcs8(key), curve)
    expected_public = public_key_der(key.public_key())
    assert imported.public_spki_der == expected_public
    reloaded = serialization.load_der_private_key(imported.private_pkcs8_der, None)
    assert isinstance(reloaded, ec.EllipticCurvePrivateKey)
    assert reloaded.private_numbers() == key.private_numbers()
    assert "private" not in repr(imported)


@pytest.mark.parametrize("curve", list(Curve), ids=lambda c: c.value)
def test_imported_key_on_another_curve_is_refused(curve: Curve) -> None:
    other = next(c for c in Curve if c is not curve)
    with pytest.raises(PrivateKeyError):
        load_imported_private_key(pkcs8(ec.generate_private_key(EC_CURVES[other])), curve)


def test_not_pkcs8_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sec1 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    rsa_pkcs8 = rsa_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for bad in (sec1, rsa_pkcs8, b"", b"\x30\x00", pkcs8(key)[:-1], pkcs8(key) + b"\x00"):
        with pytest.raises(PrivateKeyError):
            load_imported_private_key(bad, Curve.P256)


def test_a_public_key_not_matching_the_private_key_is_refused() -> None:
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    der = pkcs8(key)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    other_point = other.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert der.count(point) == 1
    with pytest.raises(PrivateKeyError):
        load_imported_private_key(der.replace(point, other_point), Curve.P256)


# --- import tokens ----------------------------------------------------------------------------


def test_token_round_trip() -> None:
    root = RootKey.generate()
    token = ImportToken(token_id=new_token_id(), key_id="1234abcd-12ab", expires_at=1_800_086_400)
    assert open_import_token(root, seal_import_token(root, token)) == token


def test_token_tampered_anywhere_is_refused() -> None:
    root = RootKey.generate()
    blob = seal_import_token(root, ImportToken(new_token_id(), "key-1", 1_800_000_000))
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(ImportTokenError):
            open_import_token(root, bytes(tampered))
    for bad in (blob[:-1], blob + b"\x00", b"", blob[:40]):
        with pytest.raises(ImportTokenError):
            open_import_token(root, bad)


def test_token_of_another_root_key_is_refused() -> None:
    blob = seal_import_token(RootKey.generate(), ImportToken(new_token_id(), "key-1", 1))
    with pytest.raises(ImportTokenError):
        open_import_token(RootKey.generate(), blob)
