"""The KeyStore contract for imported symmetric material and key usage, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace

from qkms.storage import KeyMaterialRow, KeyRow, KeyStore
from qkms.storage.base import KeyUsageRow
from tests.storage.support import ACCOUNT, key_row


def _imported_key(store: KeyStore) -> tuple[str, KeyMaterialRow]:
    store.ensure_account(ACCOUNT, 0.0)
    key_id = str(uuid.uuid4())
    first = KeyMaterialRow(key_id, "11" * 32, b"\x01one", 10.0)
    row: KeyRow = replace(
        key_row(key_id=key_id),
        key_usage="ENCRYPT_DECRYPT",
        key_spec="SYMMETRIC_DEFAULT",
        origin="EXTERNAL",
        public_key=None,
        wrapped_material=first.wrapped_material,
        current_key_material_id=first.key_material_id,
    )
    store.insert_key(row, [first])
    return key_id, first


def _held(store: KeyStore, key_id: str) -> dict[str, bytes | None]:
    return {m.key_material_id: m.wrapped_material for m in store.list_key_materials(key_id)}


def test_destroy_happens_only_while_the_key_row_holds_no_material(store: KeyStore) -> None:
    key_id, first = _imported_key(store)
    store.destroy_key_materials(key_id)  # the key row still holds material: a reimport won
    assert _held(store, key_id) == {first.key_material_id: b"\x01one"}
    store.update_key(key_id, lambda row: replace(row, wrapped_material=None))
    store.destroy_key_materials(key_id)
    assert _held(store, key_id) == {first.key_material_id: None}
    store.put_imported_key_material(replace(first, wrapped_material=b"\x01back"))
    assert _held(store, key_id) == {first.key_material_id: b"\x01back"}


def test_a_pending_version_becomes_current_and_is_forgotten_on_destroy(store: KeyStore) -> None:
    key_id, first = _imported_key(store)
    assert store.promote_pending_material(key_id, 20.0) is None
    pending = KeyMaterialRow(key_id, "22" * 32, b"\x01two", 11.0, None, "PENDING_ROTATION", "d")
    store.put_imported_key_material(pending)
    listed = store.list_key_materials(key_id)
    assert [(m.material_state, m.description) for m in listed] == [
        (None, None),
        ("PENDING_ROTATION", "d"),
    ]
    assert store.promote_pending_material(key_id, 5.0) == pending.key_material_id
    row = store.get_key(key_id)
    assert row is not None and row.current_key_material_id == pending.key_material_id
    assert row.wrapped_material == b"\x01two"
    second = store.list_key_materials(key_id)[-1]
    assert (second.rotation_type, second.material_state) == ("ON_DEMAND", None)
    assert second.created_at > first.created_at
    # Another pending one, then the material goes: the pending version is forgotten.
    store.put_imported_key_material(
        KeyMaterialRow(key_id, "33" * 32, b"\x01three", 30.0, None, "PENDING_ROTATION")
    )
    store.update_key(key_id, lambda r: replace(r, wrapped_material=None))
    store.destroy_key_materials(key_id)
    assert _held(store, key_id) == {"11" * 32: None, "22" * 32: None}


def test_key_usage_keeps_the_latest(store: KeyStore) -> None:
    key_id, _ = _imported_key(store)
    assert store.get_key_usage(key_id) is None
    store.record_key_usage([KeyUsageRow(key_id, "Encrypt", 20.0, "r2", "e2")])
    store.record_key_usage([KeyUsageRow(key_id, "Decrypt", 10.0, "r1", "e1")])
    assert store.get_key_usage(key_id) == KeyUsageRow(key_id, "Encrypt", 20.0, "r2", "e2")
    store.record_key_usage([KeyUsageRow(key_id, "Sign", 30.0, "r3", "e3")])
    assert store.get_key_usage(key_id) == KeyUsageRow(key_id, "Sign", 30.0, "r3", "e3")


def test_key_usage_of_many_keys_goes_in_at_once_and_a_repeated_key_keeps_its_latest(
    store: KeyStore,
) -> None:
    """A worker's flush under uniform use: more keys than one statement carries, one of them
    named twice in the batch (PostgreSQL refuses to update a row twice in one statement)."""
    rows = [KeyUsageRow(f"k{i:04d}", "Encrypt", float(i), f"r{i}", f"e{i}") for i in range(1200)]
    rows.append(KeyUsageRow("k0007", "Sign", 5000.0, "late", "late-e"))
    rows.append(KeyUsageRow("k0008", "Sign", 1.0, "early", "early-e"))
    store.record_key_usage(rows)
    assert store.get_key_usage("k1199") == KeyUsageRow("k1199", "Encrypt", 1199.0, "r1199", "e1199")
    assert store.get_key_usage("k0007") == KeyUsageRow("k0007", "Sign", 5000.0, "late", "late-e")
    assert store.get_key_usage("k0008") == KeyUsageRow("k0008", "Encrypt", 8.0, "r8", "e8")
    store.record_key_usage([KeyUsageRow("k0500", "Decrypt", 1.0, "old", "old-e")])
    assert store.get_key_usage("k0500") == KeyUsageRow("k0500", "Encrypt", 500.0, "r500", "e500")
