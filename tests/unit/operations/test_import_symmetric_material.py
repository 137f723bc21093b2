"""Imported material of symmetric encryption keys, against a real SQLite store on a fake clock."""

from __future__ import annotations

import os
from typing import Any

import pytest

from qkms.crypto import imported_key_material_id
from qkms.domain.errors import (
    ConflictException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    KMSInvalidStateException,
    UnsupportedOperationException,
)
from qkms.operations.encryption import decrypt, encrypt
from qkms.operations.key_import.delete_imported_key_material import delete_imported_key_material
from qkms.operations.key_import.import_key_material import import_key_material
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.rotation.list_key_rotations import list_key_rotations
from qkms.operations.rotation.rotate_key_on_demand import rotate_key_on_demand
from qkms.operations.runtime.background import sweep
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import CreateKeyRequest, DescribeKeyRequest
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest
from qkms.operations.shapes.key_import import (
    DeleteImportedKeyMaterialRequest,
    ImportKeyMaterialRequest,
)
from qkms.operations.shapes.rotation import ListKeyRotationsRequest, RotateKeyOnDemandRequest
from tests.import_client import client_wrap
from tests.unit.support import DAY, FakeClock, parameters, state


def _key(ctx: OperationContext) -> str:
    request = CreateKeyRequest(origin="EXTERNAL")
    return create_key(ctx, request).key_metadata.key_id


def _import(ctx: OperationContext, key_id: str, material: bytes, **extra: Any) -> str | None:
    params = parameters(ctx, key_id, "RSAES_OAEP_SHA_256")
    extra.setdefault("expiration_model", "KEY_MATERIAL_DOES_NOT_EXPIRE")
    request = ImportKeyMaterialRequest(
        key_id=key_id,
        import_token=params.import_token,
        encrypted_key_material=client_wrap("RSAES_OAEP_SHA_256", params.public_key, material),
        **extra,
    )
    return import_key_material(ctx, request).key_material_id


def _encrypt(ctx: OperationContext, key_id: str, data: bytes) -> bytes:
    return encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=data)).ciphertext_blob


def _decrypt(ctx: OperationContext, blob: bytes) -> bytes | None:
    return decrypt(ctx, DecryptRequest(ciphertext_blob=blob)).plaintext


def _current(ctx: OperationContext, key_id: str) -> str | None:
    return describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata.current_key_material_id


def test_imported_material_encrypts_and_is_named_by_its_id(ctx: OperationContext) -> None:
    key_id = _key(ctx)
    assert state(ctx, key_id) == "PendingImport"
    with pytest.raises(KMSInvalidStateException):
        _encrypt(ctx, key_id, b"x")
    material = os.urandom(32)
    material_id = _import(ctx, key_id, material)
    assert material_id == imported_key_material_id(key_id, material)
    assert state(ctx, key_id) == "Enabled"
    assert _current(ctx, key_id) == material_id
    assert _decrypt(ctx, _encrypt(ctx, key_id, b"hello")) == b"hello"


@pytest.mark.parametrize("size", [16, 31, 33, 64])
def test_material_must_be_256_bits(ctx: OperationContext, size: int) -> None:
    key_id = _key(ctx)
    with pytest.raises(IncorrectKeyMaterialException, match="256-bit"):
        _import(ctx, key_id, os.urandom(size))
    assert state(ctx, key_id) == "PendingImport"


def test_reimport_same_material_keeps_old_ciphertexts_and_different_is_refused(
    ctx: OperationContext,
) -> None:
    key_id = _key(ctx)
    material = os.urandom(32)
    first_id = _import(ctx, key_id, material)
    blob = _encrypt(ctx, key_id, b"before")
    assert _import(ctx, key_id, material, import_type="EXISTING_KEY_MATERIAL") == first_id
    assert _decrypt(ctx, blob) == b"before"
    with pytest.raises(IncorrectKeyMaterialException, match="previously imported"):
        _import(ctx, key_id, os.urandom(32))
    assert _decrypt(ctx, blob) == b"before"


def test_delete_then_reimport_restores_decryption(
    ctx: OperationContext, services: Services
) -> None:
    key_id = _key(ctx)
    material = os.urandom(32)
    _import(ctx, key_id, material)
    blob = _encrypt(ctx, key_id, b"kept")
    delete_imported_key_material(ctx, DeleteImportedKeyMaterialRequest(key_id=key_id))
    assert state(ctx, key_id) == "PendingImport"
    versions = services.store.list_key_materials(key_id)
    assert versions and all(v.wrapped_material is None for v in versions)
    with pytest.raises(KMSInvalidStateException):
        _decrypt(ctx, blob)
    with pytest.raises(IncorrectKeyMaterialException):
        _import(ctx, key_id, os.urandom(32))
    _import(ctx, key_id, material)
    assert state(ctx, key_id) == "Enabled"
    assert _decrypt(ctx, blob) == b"kept"


def test_expiry_destroys_material_and_reimport_revives(
    ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    key_id = _key(ctx)
    material = os.urandom(32)
    _import(
        ctx,
        key_id,
        material,
        expiration_model="KEY_MATERIAL_EXPIRES",
        valid_to=clock() + DAY,
    )
    blob = _encrypt(ctx, key_id, b"dated")
    clock.advance(DAY + 1)
    assert state(ctx, key_id) == "PendingImport"
    _deleted, expired = sweep(services)
    assert expired == [key_id]
    assert all(v.wrapped_material is None for v in services.store.list_key_materials(key_id))
    _import(ctx, key_id, material)
    assert _decrypt(ctx, blob) == b"dated"


def test_new_key_material_waits_for_on_demand_rotation(ctx: OperationContext) -> None:
    key_id = _key(ctx)
    first = os.urandom(32)
    first_id = _import(ctx, key_id, first)
    old_blob = _encrypt(ctx, key_id, b"old")
    with pytest.raises(UnsupportedOperationException, match="pending rotation"):
        rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id))
    second = os.urandom(32)
    second_id = _import(
        ctx, key_id, second, import_type="NEW_KEY_MATERIAL", key_material_description="next"
    )
    assert second_id != first_id
    assert _current(ctx, key_id) == first_id  # pending, not yet current
    with pytest.raises(ConflictException):
        _import(ctx, key_id, os.urandom(32), import_type="NEW_KEY_MATERIAL")
    with pytest.raises(IncorrectKeyMaterialException):
        _import(ctx, key_id, first, import_type="NEW_KEY_MATERIAL")
    listed = list_key_rotations(
        ctx, ListKeyRotationsRequest(key_id=key_id, include_key_material="ALL_KEY_MATERIAL")
    ).rotations
    assert [
        (r.key_material_id, r.key_material_state, r.import_state, r.key_material_description)
        for r in listed
    ] == [
        (first_id, "CURRENT", "IMPORTED", None),
        (second_id, "PENDING_ROTATION", "IMPORTED", "next"),
    ]
    rotate_key_on_demand(ctx, RotateKeyOnDemandRequest(key_id=key_id))
    assert _current(ctx, key_id) == second_id
    new_blob = _encrypt(ctx, key_id, b"new")
    assert _decrypt(ctx, old_blob) == b"old"
    assert _decrypt(ctx, new_blob) == b"new"
    # Reimport of either associated material is still EXISTING_KEY_MATERIAL.
    assert _import(ctx, key_id, first) == first_id


def test_key_material_id_must_match_the_material(ctx: OperationContext) -> None:
    key_id = _key(ctx)
    with pytest.raises(IncorrectKeyMaterialException, match="KeyMaterialId"):
        _import(ctx, key_id, os.urandom(32), key_material_id="ab" * 32)


def test_a_foreign_blob_stays_invalid(ctx: OperationContext) -> None:
    one, two = _key(ctx), _key(ctx)
    material = os.urandom(32)
    _import(ctx, one, material)
    _import(ctx, two, material)
    assert _current(ctx, one) != _current(ctx, two)  # the id binds the key id too
    blob = bytearray(_encrypt(ctx, one, b"mine"))
    blob[-1] ^= 1
    with pytest.raises(InvalidCiphertextException):
        _decrypt(ctx, bytes(blob))
