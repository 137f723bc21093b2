"""Tests of qkms.crypto.mac: HMAC key specs, key lengths, and constant-time verification."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from qkms.crypto import (
    MAX_HMAC_KEY_SIZE,
    HmacKey,
    HmacKeySpec,
    KeyMaterialError,
    MacAlgorithm,
    MacVerificationError,
    generate_mac,
    verify_mac,
)

MESSAGE = b"message to authenticate"
HASHES = {
    HmacKeySpec.HMAC_224: hashlib.sha224,
    HmacKeySpec.HMAC_256: hashlib.sha256,
    HmacKeySpec.HMAC_384: hashlib.sha384,
    HmacKeySpec.HMAC_512: hashlib.sha512,
}


@pytest.mark.parametrize(
    ("spec", "algorithm", "key_size", "mac_length"),
    [
        (HmacKeySpec.HMAC_224, MacAlgorithm.HMAC_SHA_224, 28, 28),
        (HmacKeySpec.HMAC_256, MacAlgorithm.HMAC_SHA_256, 32, 32),
        (HmacKeySpec.HMAC_384, MacAlgorithm.HMAC_SHA_384, 48, 48),
        (HmacKeySpec.HMAC_512, MacAlgorithm.HMAC_SHA_512, 64, 64),
    ],
)
def test_each_spec_has_one_algorithm_and_aws_sizes(
    spec: HmacKeySpec, algorithm: MacAlgorithm, key_size: int, mac_length: int
) -> None:
    assert spec.mac_algorithm is algorithm
    assert spec.key_size == key_size
    assert algorithm.mac_length == mac_length
    key = HmacKey.generate(spec)
    assert len(key.to_bytes()) == key_size
    assert len(generate_mac(key, MESSAGE)) == mac_length


@pytest.mark.parametrize("spec", list(HmacKeySpec))
def test_mac_is_standard_hmac(spec: HmacKeySpec) -> None:
    material = bytes(range(spec.key_size))
    expected = hmac.new(material, MESSAGE, HASHES[spec]).digest()
    assert generate_mac(HmacKey(spec, material), MESSAGE) == expected


@pytest.mark.parametrize("spec", list(HmacKeySpec))
def test_import_lengths_are_spec_length_to_1024_bits(spec: HmacKeySpec) -> None:
    HmacKey(spec, bytes(spec.key_size))
    HmacKey(spec, bytes(MAX_HMAC_KEY_SIZE))
    for size in (0, spec.key_size - 1, MAX_HMAC_KEY_SIZE + 1):
        with pytest.raises(KeyMaterialError):
            HmacKey(spec, bytes(size))


def test_verify_accepts_the_right_mac() -> None:
    key = HmacKey.generate(HmacKeySpec.HMAC_256)
    verify_mac(key, MESSAGE, generate_mac(key, MESSAGE))


def test_verify_refuses_other_message_key_or_mac() -> None:
    key = HmacKey.generate(HmacKeySpec.HMAC_256)
    mac = generate_mac(key, MESSAGE)
    with pytest.raises(MacVerificationError):
        verify_mac(key, MESSAGE + b".", mac)
    with pytest.raises(MacVerificationError):
        verify_mac(HmacKey.generate(HmacKeySpec.HMAC_256), MESSAGE, mac)
    for index in range(len(mac)):
        tampered = mac[:index] + bytes([mac[index] ^ 0x01]) + mac[index + 1 :]
        with pytest.raises(MacVerificationError):
            verify_mac(key, MESSAGE, tampered)


def test_verify_refuses_truncated_and_extended_macs() -> None:
    # KMS offers no truncated MACs: a correct prefix is still a wrong MAC.
    key = HmacKey.generate(HmacKeySpec.HMAC_512)
    mac = generate_mac(key, MESSAGE)
    for length in (0, 16, 32, len(mac) - 1):
        with pytest.raises(MacVerificationError):
            verify_mac(key, MESSAGE, mac[:length])
    with pytest.raises(MacVerificationError):
        verify_mac(key, MESSAGE, mac + b"\x00")


def test_repr_does_not_show_the_key() -> None:
    key = HmacKey(HmacKeySpec.HMAC_256, bytes.fromhex("cd" * 32))
    assert "cdcd" not in repr(key)
    assert "HMAC_256" in repr(key)
    assert HmacKey(HmacKeySpec.HMAC_256, bytes(32)) != HmacKey(HmacKeySpec.HMAC_256, bytes(32))
