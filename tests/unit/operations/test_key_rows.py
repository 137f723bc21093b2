"""A key survives the trip to its store row and back, field by field, for every enum value."""

from __future__ import annotations

import dataclasses
import enum

import pytest

from qkms.domain.keys import Key, KeyOrigin, KeySpec, KeyState, KeyUsage
from qkms.operations.support.key_rows import key_from_row, key_to_row

# Every field set to a value other than its default, so a field the mapping drops shows up.
FULL = Key(
    key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
    account_id="111122223333",
    description="round trip",
    key_usage=KeyUsage.DERIVE_SHARED_SECRET,
    key_spec=KeySpec.ECC_NIST_P384,
    origin=KeyOrigin.EXTERNAL,
    state=KeyState.PENDING_DELETION,
    creation_date=1_700_000_000.25,
    deletion_date=1_700_604_800.5,
    public_key_der=b"\x30\x76public",
    wrapped_material=b"\x01wrapped\x00material",
    policy='{"Version": "2012-10-17", "Statement": []}',
    tags=(("Owner", "alice"), ("Project", "q\u00e9kms")),
    expiration_model="KEY_MATERIAL_EXPIRES",
    valid_to=1_800_000_000.75,
    current_key_material_id="0f" * 32,
    region="eu-west-1",
    primary_region="us-east-1",
)

# Only the required fields: the optional ones at their defaults (None or no tags).
BARE = Key(
    key_id="bare",
    account_id="444455556666",
    description="",
    key_usage=KeyUsage.ENCRYPT_DECRYPT,
    key_spec=KeySpec.SYMMETRIC_DEFAULT,
    origin=KeyOrigin.AWS_KMS,
    state=KeyState.ENABLED,
    creation_date=0.0,
    deletion_date=None,
    public_key_der=None,
    wrapped_material=None,
)

EVERY_ENUM_VALUE: list[enum.Enum] = [*KeyUsage, *KeySpec, *KeyState, *KeyOrigin]


def with_value(key: Key, value: enum.Enum) -> Key:
    """`key` with `value` in the field of its type."""
    if isinstance(value, KeyUsage):
        return dataclasses.replace(key, key_usage=value)
    if isinstance(value, KeySpec):
        return dataclasses.replace(key, key_spec=value)
    if isinstance(value, KeyState):
        return dataclasses.replace(key, state=value)
    if isinstance(value, KeyOrigin):
        return dataclasses.replace(key, origin=value)
    raise TypeError(value)


def test_the_full_key_sets_every_field_apart_from_its_default_and_from_the_bare_key() -> None:
    for field in dataclasses.fields(Key):
        assert getattr(FULL, field.name) != field.default, field.name
        assert getattr(FULL, field.name) != getattr(BARE, field.name), field.name


@pytest.mark.parametrize("key", [FULL, BARE], ids=["full", "bare"])
def test_every_field_survives_key_to_row_to_key(key: Key) -> None:
    back = key_from_row(key_to_row(key))
    for field in dataclasses.fields(Key):
        assert getattr(back, field.name) == getattr(key, field.name), field.name


@pytest.mark.parametrize("value", EVERY_ENUM_VALUE, ids=lambda value: repr(value))
def test_each_spec_usage_state_and_origin_survives_the_round_trip(value: enum.Enum) -> None:
    key = with_value(FULL, value)
    assert key_from_row(key_to_row(key)) == key


@pytest.mark.parametrize("value", EVERY_ENUM_VALUE, ids=lambda value: repr(value))
def test_enums_are_stored_by_their_wire_string(value: enum.Enum) -> None:
    row = key_to_row(with_value(BARE, value))
    stored = {KeyUsage: row.key_usage, KeySpec: row.key_spec}
    stored |= {KeyState: row.key_state, KeyOrigin: row.origin}
    assert stored[type(value)] == value.value


def test_a_row_survives_row_to_key_to_row() -> None:
    row = key_to_row(FULL)
    assert key_to_row(key_from_row(row)) == row
