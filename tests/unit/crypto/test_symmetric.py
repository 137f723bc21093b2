"""Tests of qkms.crypto.symmetric: the AES-256-GCM key type and its encrypt/decrypt."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qkms.crypto import (
    CiphertextError,
    KeyMaterialError,
    SymmetricKey,
    aes_gcm_decrypt,
    aes_gcm_encrypt,
)

AAD = b"associated"


def test_round_trip_with_associated_data() -> None:
    key = SymmetricKey.generate()
    nonce, sealed = aes_gcm_encrypt(key, b"secret", AAD)
    assert aes_gcm_decrypt(key, nonce, sealed, AAD) == b"secret"


def test_output_is_standard_aes_256_gcm() -> None:
    material = bytes(range(32))
    nonce, sealed = aes_gcm_encrypt(SymmetricKey(material), b"interop", AAD)
    assert len(nonce) == 12
    assert AESGCM(material).decrypt(nonce, sealed, AAD) == b"interop"


def test_every_encryption_uses_a_fresh_nonce() -> None:
    key = SymmetricKey.generate()
    nonces = {aes_gcm_encrypt(key, b"x", AAD)[0] for _ in range(64)}
    assert len(nonces) == 64


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_material_must_be_32_bytes(size: int) -> None:
    with pytest.raises(KeyMaterialError):
        SymmetricKey(bytes(size))


def test_repr_and_str_do_not_show_the_key() -> None:
    material = bytes.fromhex("ab" * 32)
    key = SymmetricKey(material)
    for text in (repr(key), str(key), f"{key!r}"):
        assert "ab" * 4 not in text
        assert "redacted" in text


def test_keys_are_never_equal_even_with_the_same_material() -> None:
    # Equality would compare key material in variable time (STYLE §7).
    assert SymmetricKey(bytes(32)) != SymmetricKey(bytes(32))


def test_wrong_key_wrong_aad_and_tampering_all_give_the_one_error() -> None:
    key = SymmetricKey.generate()
    nonce, sealed = aes_gcm_encrypt(key, b"secret", AAD)
    with pytest.raises(CiphertextError):
        aes_gcm_decrypt(SymmetricKey.generate(), nonce, sealed, AAD)
    with pytest.raises(CiphertextError):
        aes_gcm_decrypt(key, nonce, sealed, AAD + b"!")
    with pytest.raises(CiphertextError):
        aes_gcm_decrypt(key, nonce, sealed[:-1] + bytes([sealed[-1] ^ 1]), AAD)
    with pytest.raises(CiphertextError):
        aes_gcm_decrypt(key, nonce[:-1], sealed, AAD)
    with pytest.raises(CiphertextError):
        aes_gcm_decrypt(key, nonce, sealed[:15], AAD)
