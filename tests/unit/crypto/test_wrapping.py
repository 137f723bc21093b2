"""Tests of qkms.crypto.wrapping: AES-256-GCM wrapping of key material under the root key."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from qkms.crypto import (
    CryptoError,
    RootKey,
    RootKeyError,
    UnwrapError,
    unwrap,
    wrap,
    wrapped_key_check_value,
)

ARN = b"arn:verenc:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PLAINTEXT = bytes(range(48))


@pytest.fixture
def root() -> RootKey:
    return RootKey.generate()


def test_round_trip(root: RootKey) -> None:
    assert unwrap(root, wrap(root, PLAINTEXT, ARN), ARN) == PLAINTEXT


def test_empty_plaintext_round_trips(root: RootKey) -> None:
    assert unwrap(root, wrap(root, b"", ARN), ARN) == b""


def test_blob_layout(root: RootKey) -> None:
    blob = wrap(root, PLAINTEXT, ARN)
    assert blob[0] == 0x01
    assert blob[1:9].hex() == root.key_check_value
    assert len(blob) == 1 + 8 + 12 + len(PLAINTEXT) + 16
    assert wrapped_key_check_value(blob) == root.key_check_value


def test_each_wrap_uses_a_fresh_nonce(root: RootKey) -> None:
    first, second = wrap(root, PLAINTEXT, ARN), wrap(root, PLAINTEXT, ARN)
    assert first[9:21] != second[9:21]
    assert first != second


def test_tampering_with_any_byte_is_detected(root: RootKey) -> None:
    blob = wrap(root, PLAINTEXT, ARN)
    for index in range(len(blob)):
        tampered = blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]
        with pytest.raises(UnwrapError):
            unwrap(root, tampered, ARN)


def test_truncated_blob_is_refused(root: RootKey) -> None:
    blob = wrap(root, PLAINTEXT, ARN)
    for cut in (0, 1, 9, 21, 36, len(blob) - 1):
        with pytest.raises(UnwrapError):
            unwrap(root, blob[:cut], ARN)


def test_other_associated_data_is_refused(root: RootKey) -> None:
    blob = wrap(root, PLAINTEXT, ARN)
    with pytest.raises(UnwrapError, match="associated data"):
        unwrap(root, blob, ARN + b"x")
    with pytest.raises(UnwrapError):
        unwrap(root, blob, b"")


def test_other_root_key_is_named_as_such(root: RootKey) -> None:
    other = RootKey.generate()
    blob = wrap(other, PLAINTEXT, ARN)
    with pytest.raises(UnwrapError, match="another root key") as raised:
        unwrap(root, blob, ARN)
    assert other.key_check_value in str(raised.value)


def test_unknown_version_is_refused(root: RootKey) -> None:
    blob = wrap(root, PLAINTEXT, ARN)
    with pytest.raises(UnwrapError, match="version 2"):
        unwrap(root, b"\x02" + blob[1:], ARN)
    with pytest.raises(UnwrapError, match="version"):
        wrapped_key_check_value(b"\x02" + blob[1:])


def test_check_value_is_hmac_of_the_label() -> None:
    key = bytes(range(32))
    expected = hmac.new(key, b"QKMS root key check value v1", hashlib.sha256).digest()[:8]
    assert RootKey(key).key_check_value == expected.hex()
    assert RootKey(key).key_check_value == RootKey(bytes(key)).key_check_value


def test_check_values_differ_between_keys() -> None:
    assert RootKey(bytes(32)).key_check_value != RootKey(b"\x01" * 32).key_check_value


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_root_key_of_wrong_length_is_refused(size: int) -> None:
    with pytest.raises(RootKeyError, match="32 bytes"):
        RootKey(bytes(size))
    assert issubclass(RootKeyError, CryptoError)


def test_base64_round_trip(root: RootKey) -> None:
    text = root.to_base64()
    assert len(base64.b64decode(text)) == 32
    assert RootKey.from_base64(text).key_check_value == root.key_check_value
    assert RootKey.from_base64(text + "\n").key_check_value == root.key_check_value


@pytest.mark.parametrize("text", ["not base64!", "", base64.b64encode(bytes(31)).decode()])
def test_bad_base64_root_key_is_refused(text: str) -> None:
    with pytest.raises(RootKeyError):
        RootKey.from_base64(text)


def test_repr_shows_only_the_check_value(root: RootKey) -> None:
    text = repr(root)
    assert text == f"RootKey(key_check_value={root.key_check_value!r})"
    assert root.to_base64() not in text


def test_messages_never_contain_key_material(root: RootKey) -> None:
    other = RootKey.generate()
    with pytest.raises(UnwrapError) as raised:
        unwrap(root, wrap(other, PLAINTEXT, ARN), ARN)
    message = str(raised.value)
    for secret in (root.to_base64(), other.to_base64(), PLAINTEXT.hex()):
        assert secret not in message


def test_a_key_with_previous_keys_unwraps_theirs_and_wraps_with_its_own() -> None:
    old, new = RootKey.generate(), RootKey.generate()
    ring = new.with_previous(old)
    under_old = wrap(old, b"material", b"aad")
    assert unwrap(ring, under_old, b"aad") == b"material"
    rewrapped = wrap(ring, b"material", b"aad")
    assert wrapped_key_check_value(rewrapped) == new.key_check_value
    assert unwrap(new, rewrapped, b"aad") == b"material"
    assert ring.key_check_value == new.key_check_value
    assert ring.previous_check_values == (old.key_check_value,)
    with pytest.raises(UnwrapError, match="another root key"):
        unwrap(new, under_old, b"aad")  # without the ring, the old blob is refused
    with pytest.raises(UnwrapError):
        unwrap(ring, under_old, b"other aad")
