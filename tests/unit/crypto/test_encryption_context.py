"""Tests of qkms.crypto.encryption_context: the canonical bytes a context is authenticated as."""

from __future__ import annotations

import struct

import pytest

from qkms.crypto import EncryptionContextError, canonical_encryption_context


def test_key_order_does_not_matter() -> None:
    first = canonical_encryption_context({"purpose": "backup", "tenant": "a", "b": "2"})
    second = canonical_encryption_context({"tenant": "a", "b": "2", "purpose": "backup"})
    assert first == second


def test_moving_characters_between_key_and_value_changes_the_encoding() -> None:
    assert canonical_encryption_context({"a": "bc"}) != canonical_encryption_context({"ab": "c"})


def test_moving_characters_between_pairs_changes_the_encoding() -> None:
    assert canonical_encryption_context({"a": "b", "c": "d"}) != canonical_encryption_context(
        {"a": "bc", "": "d"}
    )


def test_empty_and_missing_context_are_the_same() -> None:
    assert canonical_encryption_context(None) == canonical_encryption_context({})
    assert canonical_encryption_context({}) == b"\x00\x00\x00\x00"


def test_layout_is_count_then_length_prefixed_utf8_pairs_sorted_by_key_bytes() -> None:
    encoded = canonical_encryption_context({"é": "v", "z": "ü"})
    # "z" (0x7a) sorts before "é" (0xc3 0xa9) by UTF-8 bytes.
    expected = (
        struct.pack(">I", 2)
        + struct.pack(">I", 1)
        + b"z"
        + struct.pack(">I", 2)
        + "ü".encode()
        + struct.pack(">I", 2)
        + "é".encode()
        + struct.pack(">I", 1)
        + b"v"
    )
    assert encoded == expected


def test_values_are_case_and_byte_exact() -> None:
    assert canonical_encryption_context({"k": "V"}) != canonical_encryption_context({"k": "v"})
    # NFC and NFD spellings of "é" are different strings to KMS as well.
    assert canonical_encryption_context({"k": "\u00e9"}) != canonical_encryption_context(
        {"k": "e\u0301"}
    )


@pytest.mark.parametrize("context", [{"\ud800": "v"}, {"k": "\udfff"}])
def test_lone_surrogates_are_refused(context: dict[str, str]) -> None:
    with pytest.raises(EncryptionContextError):
        canonical_encryption_context(context)
