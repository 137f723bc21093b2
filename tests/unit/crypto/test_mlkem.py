"""Tests of qkms.crypto.mlkem: key pairs, Encapsulate/Decapsulate, implicit rejection."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from qkms.crypto import (
    KemCiphertextError,
    MlKemKeySpec,
    MlKemPrivateKey,
    PrivateKeyError,
    PublicKeyError,
    UnsupportedKeySpecError,
    decapsulate,
    encapsulate,
    generate_mlkem_key_pair,
    is_mlkem_supported,
    load_encapsulation_key,
    load_mlkem_private_key,
    mlkem_private_key_from_seed,
)
from tests.peer_keys import public_key_der

SUPPORTED = [MlKemKeySpec.ML_KEM_768, MlKemKeySpec.ML_KEM_1024]
# SPKI header up to the raw key: SEQUENCE, AlgorithmIdentifier{id-alg-ml-kem-*}, BIT STRING.
SPKI_HEADERS = {
    MlKemKeySpec.ML_KEM_768: bytes.fromhex("308204b2300b0609608648016503040402038204a100"),
    MlKemKeySpec.ML_KEM_1024: bytes.fromhex("30820632300b06096086480165030404030382062100"),
}


def _key(spec: MlKemKeySpec) -> MlKemPrivateKey:
    return load_mlkem_private_key(generate_mlkem_key_pair(spec).private_pkcs8_der, spec)


@pytest.mark.parametrize("spec", SUPPORTED, ids=lambda s: s.value)
def test_generated_keys_are_seed_pkcs8_and_spki_with_the_ml_kem_oid(spec: MlKemKeySpec) -> None:
    pair = generate_mlkem_key_pair(spec)
    assert pair.public_spki_der.startswith(SPKI_HEADERS[spec])
    assert len(pair.public_spki_der) == len(SPKI_HEADERS[spec]) + spec.encapsulation_key_length
    # OneAsymmetricKey{0, alg, OCTET STRING{[0] IMPLICIT 64-byte seed}}: 86 bytes, seed last.
    assert len(pair.private_pkcs8_der) == 86
    assert pair.private_pkcs8_der[-66:-64] == b"\x80\x40"
    key = load_mlkem_private_key(pair.private_pkcs8_der, spec)
    assert key.private_pkcs8_der() == pair.private_pkcs8_der
    assert key.public_key_der() == pair.public_spki_der
    assert mlkem_private_key_from_seed(pair.private_pkcs8_der[-64:], spec).public_key_der() == (
        pair.public_spki_der
    )


@pytest.mark.parametrize("spec", SUPPORTED, ids=lambda s: s.value)
def test_a_local_encapsulation_decapsulates_here(spec: MlKemKeySpec) -> None:
    key = _key(spec)
    public = serialization.load_der_public_key(key.public_key_der())
    assert isinstance(public, mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey)
    secret, ciphertext = public.encapsulate()
    assert decapsulate(key, ciphertext) == secret


@pytest.mark.parametrize("spec", SUPPORTED, ids=lambda s: s.value)
def test_encapsulate_then_decapsulate_gives_the_same_secret(spec: MlKemKeySpec) -> None:
    key = _key(spec)
    encapsulation = encapsulate(load_encapsulation_key(key.public_key_der(), spec))
    assert len(encapsulation.shared_secret) == 32
    assert len(encapsulation.ciphertext) == spec.ciphertext_length
    assert decapsulate(key, encapsulation.ciphertext) == encapsulation.shared_secret
    assert "redacted" in repr(encapsulation)
    assert encapsulation.shared_secret.hex() not in repr(encapsulation)


@pytest.mark.parametrize("spec", SUPPORTED, ids=lambda s: s.value)
def test_an_altered_ciphertext_gives_another_32_byte_secret_without_error(
    spec: MlKemKeySpec,
) -> None:
    key = _key(spec)
    encapsulation = encapsulate(key.public_key())
    altered = bytearray(encapsulation.ciphertext)
    altered[len(altered) // 2] ^= 0x01
    rejected = decapsulate(key, bytes(altered))
    assert len(rejected) == 32
    assert rejected != encapsulation.shared_secret
    # Implicit rejection is a function of the key and ciphertext: the same every time.
    assert decapsulate(key, bytes(altered)) == rejected


@pytest.mark.parametrize("spec", SUPPORTED, ids=lambda s: s.value)
def test_a_ciphertext_for_another_key_gives_another_secret(spec: MlKemKeySpec) -> None:
    encapsulation = encapsulate(_key(spec).public_key())
    assert decapsulate(_key(spec), encapsulation.ciphertext) != encapsulation.shared_secret


@pytest.mark.parametrize("spec", SUPPORTED, ids=lambda s: s.value)
@pytest.mark.parametrize("delta", [-1, 1, -100])
def test_a_ciphertext_of_the_wrong_length_is_refused(spec: MlKemKeySpec, delta: int) -> None:
    with pytest.raises(KemCiphertextError):
        decapsulate(_key(spec), bytes(spec.ciphertext_length + delta))


def test_empty_and_other_parameter_set_ciphertexts_are_refused() -> None:
    key = _key(MlKemKeySpec.ML_KEM_768)
    with pytest.raises(KemCiphertextError):
        decapsulate(key, b"")
    other = encapsulate(_key(MlKemKeySpec.ML_KEM_1024).public_key())
    with pytest.raises(KemCiphertextError):
        decapsulate(key, other.ciphertext)


def test_ml_kem_512_is_an_unsupported_spec() -> None:
    spec = MlKemKeySpec.ML_KEM_512
    assert not is_mlkem_supported(spec)
    assert all(is_mlkem_supported(s) for s in SUPPORTED)
    pair = generate_mlkem_key_pair(MlKemKeySpec.ML_KEM_768)
    with pytest.raises(UnsupportedKeySpecError, match="ML_KEM_512"):
        generate_mlkem_key_pair(spec)
    with pytest.raises(UnsupportedKeySpecError):
        load_mlkem_private_key(pair.private_pkcs8_der, spec)
    with pytest.raises(UnsupportedKeySpecError):
        load_encapsulation_key(pair.public_spki_der, spec)
    with pytest.raises(UnsupportedKeySpecError):
        mlkem_private_key_from_seed(bytes(64), spec)


def test_keys_of_the_other_parameter_set_or_algorithm_are_refused() -> None:
    pair_1024 = generate_mlkem_key_pair(MlKemKeySpec.ML_KEM_1024)
    x25519_key = x25519.X25519PrivateKey.generate()
    x25519_pkcs8 = x25519_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    x25519_spki = public_key_der(x25519_key.public_key())
    for blob in (pair_1024.private_pkcs8_der, x25519_pkcs8, b"", b"\x30\x00"):
        with pytest.raises(PrivateKeyError):
            load_mlkem_private_key(blob, MlKemKeySpec.ML_KEM_768)
    for blob in (pair_1024.public_spki_der, x25519_spki, b"", bytes(1184)):
        with pytest.raises(PublicKeyError):
            load_encapsulation_key(blob, MlKemKeySpec.ML_KEM_768)


@pytest.mark.parametrize("length", [0, 32, 63, 65])
def test_a_seed_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(PrivateKeyError):
        mlkem_private_key_from_seed(bytes(length), MlKemKeySpec.ML_KEM_768)
