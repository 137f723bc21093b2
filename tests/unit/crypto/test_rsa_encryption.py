"""Tests of qkms.crypto.rsa_encryption: RSA-OAEP with KMS's algorithms and plaintext limits."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from qkms.crypto import (
    CiphertextError,
    GeneratedKeyPair,
    KeyMaterialError,
    PlaintextTooLongError,
    PrivateKeyError,
    RsaEncryptionAlgorithm,
    generate_rsa_key_pair,
    load_rsa_private_key,
    load_rsa_public_key,
    max_rsa_plaintext_length,
    rsa_oaep_decrypt,
    rsa_oaep_encrypt,
)
from tests.peer_keys import public_key_der

SHA_1 = RsaEncryptionAlgorithm.RSAES_OAEP_SHA_1
SHA_256 = RsaEncryptionAlgorithm.RSAES_OAEP_SHA_256


@pytest.fixture(scope="module")
def pair_2048() -> GeneratedKeyPair:
    return generate_rsa_key_pair(2048)


@pytest.mark.parametrize(
    ("key_size", "algorithm", "limit"),
    # AWS KMS Developer Guide, "RSA key specs for encryption and decryption".
    [
        (2048, SHA_1, 214),
        (2048, SHA_256, 190),
        (3072, SHA_1, 342),
        (3072, SHA_256, 318),
        (4096, SHA_1, 470),
        (4096, SHA_256, 446),
    ],
)
def test_plaintext_limits_are_aws_table(
    key_size: int, algorithm: RsaEncryptionAlgorithm, limit: int
) -> None:
    assert max_rsa_plaintext_length(key_size, algorithm) == limit


@pytest.mark.parametrize("algorithm", list(RsaEncryptionAlgorithm))
def test_round_trip_at_the_limit_and_refusal_past_it(
    pair_2048: GeneratedKeyPair, algorithm: RsaEncryptionAlgorithm
) -> None:
    private = load_rsa_private_key(pair_2048.private_pkcs8_der)
    public = load_rsa_public_key(pair_2048.public_spki_der)
    limit = max_rsa_plaintext_length(2048, algorithm)
    for plaintext in (b"", b"x", bytes(range(256))[:limit]):
        ciphertext = rsa_oaep_encrypt(public, algorithm, plaintext)
        assert len(ciphertext) == 256
        assert rsa_oaep_decrypt(private, algorithm, ciphertext) == plaintext
    with pytest.raises(PlaintextTooLongError):
        rsa_oaep_encrypt(public, algorithm, bytes(limit + 1))


@pytest.mark.parametrize(
    ("algorithm", "digest"), [(SHA_1, hashes.SHA1()), (SHA_256, hashes.SHA256())]
)
def test_local_oaep_with_the_same_hash_for_mgf1_and_an_empty_label_decrypts(
    pair_2048: GeneratedKeyPair, algorithm: RsaEncryptionAlgorithm, digest: hashes.HashAlgorithm
) -> None:
    # What a caller does with GetPublicKey's key outside KMS.
    local = serialization.load_der_public_key(pair_2048.public_spki_der)
    assert isinstance(local, rsa.RSAPublicKey)
    ciphertext = local.encrypt(
        b"made locally", padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    )
    private = load_rsa_private_key(pair_2048.private_pkcs8_der)
    assert rsa_oaep_decrypt(private, algorithm, ciphertext) == b"made locally"


def test_the_other_algorithm_a_label_tampering_or_a_wrong_length_give_one_error(
    pair_2048: GeneratedKeyPair,
) -> None:
    private = load_rsa_private_key(pair_2048.private_pkcs8_der)
    public = private.public_key()
    ciphertext = rsa_oaep_encrypt(public, SHA_256, b"secret")
    local = serialization.load_der_public_key(pair_2048.public_spki_der)
    assert isinstance(local, rsa.RSAPublicKey)
    labelled = local.encrypt(
        b"secret",
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"l"),
    )
    for bad, algorithm in (
        (ciphertext, SHA_1),
        (labelled, SHA_256),
        (ciphertext[:-1] + bytes([ciphertext[-1] ^ 1]), SHA_256),
        (ciphertext[:-1], SHA_256),
        (ciphertext + b"\x00", SHA_256),
        (b"", SHA_256),
        (b"\xff" * 256, SHA_256),  # not below the modulus
    ):
        with pytest.raises(CiphertextError):
            rsa_oaep_decrypt(private, algorithm, bad)


def test_loading_refuses_what_kms_cannot_hold() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    small_der = small.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ec_der = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    traditional_der = small.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    for der in (small_der, ec_der, traditional_der, b"", b"\x30\x00", b"garbage"):
        with pytest.raises(PrivateKeyError):
            load_rsa_private_key(der)
    small_public = public_key_der(small.public_key())
    for der in (small_public, b"", b"garbage"):
        with pytest.raises(KeyMaterialError):
            load_rsa_public_key(der)


def test_repr_names_only_the_size(pair_2048: GeneratedKeyPair) -> None:
    private = load_rsa_private_key(pair_2048.private_pkcs8_der)
    assert repr(private) == "RsaPrivateKey(key_size=2048)"
    assert repr(private.public_key()) == "RsaPublicKey(key_size=2048)"
    assert private.public_key().public_key_der() == pair_2048.public_spki_der
