"""Tests of qkms.crypto.key_material_id: ids in AWS's 64-hex spelling, random or derived."""

from __future__ import annotations

import pytest

from qkms.crypto import imported_key_material_id, is_key_material_id, new_key_material_id

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def test_new_ids_are_64_lowercase_hex_and_fresh() -> None:
    first, second = new_key_material_id(), new_key_material_id()
    assert is_key_material_id(first) and is_key_material_id(second)
    assert first != second


def test_imported_ids_depend_on_key_and_material_only() -> None:
    material = bytes(range(32))
    identifier = imported_key_material_id(KEY_ID, material)
    assert is_key_material_id(identifier)
    assert imported_key_material_id(KEY_ID, bytes(material)) == identifier
    assert imported_key_material_id(KEY_ID, bytes(32)) != identifier
    assert imported_key_material_id("mrk-1234abcd12ab34cd56ef1234567890ab", material) != identifier
    assert material.hex() not in identifier


def test_imported_material_must_not_be_empty() -> None:
    with pytest.raises(ValueError):
        imported_key_material_id(KEY_ID, b"")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0b7fd7dd",
        "0B7FD7DDBAC6EEF27907413567CAD8C810E2883DC8A7534067A82EE1142FC1E6",
        "0b7fd7ddbac6eef27907413567cad8c810e2883dc8a7534067a82ee1142fc1e6\n",
        "g" * 64,
    ],
)
def test_other_spellings_are_not_key_material_ids(text: str) -> None:
    assert not is_key_material_id(text)
    assert is_key_material_id("0b7fd7ddbac6eef27907413567cad8c810e2883dc8a7534067a82ee1142fc1e6")
