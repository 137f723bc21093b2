"""The KeyStore contract for rotation (DESIGN §4a), run against SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace

from qkms.storage import KeyMaterialRow, KeyRow, KeyStore
from tests.storage.support import ACCOUNT, key_row


def _symmetric_key(store: KeyStore) -> tuple[str, KeyMaterialRow]:
    store.ensure_account(ACCOUNT, 0.0)
    key_id = str(uuid.uuid4())
    first = KeyMaterialRow(key_id, "11" * 32, b"\x01one", 10.0)
    row: KeyRow = replace(
        key_row(key_id=key_id),
        key_usage="ENCRYPT_DECRYPT",
        key_spec="SYMMETRIC_DEFAULT",
        public_key=None,
        wrapped_material=None,
        current_key_material_id=first.key_material_id,
    )
    store.insert_key(row, [first])
    return key_id, first


def test_an_on_demand_rotation_adds_a_version_and_makes_it_current(store: KeyStore) -> None:
    key_id, first = _symmetric_key(store)
    second = KeyMaterialRow(key_id, "22" * 32, b"\x01two", 5.0, "ON_DEMAND")
    assert store.add_key_material(second, None)
    current = store.get_key(key_id)
    assert current is not None and current.current_key_material_id == second.key_material_id
    # Created "earlier" by the clock, still listed after the version it replaced.
    listed = store.list_key_materials(key_id)
    assert [m.key_material_id for m in listed] == [first.key_material_id, second.key_material_id]
    assert listed[1].rotation_type == "ON_DEMAND" and listed[1].created_at > first.created_at
    assert not store.add_key_material(replace(second, key_id=str(uuid.uuid4())), None)


def test_an_automatic_rotation_happens_once_per_due_date(store: KeyStore) -> None:
    key_id, _ = _symmetric_key(store)
    store.set_rotation_schedule(key_id, 90, 100.0)
    assert store.get_rotation_schedule(key_id) == (90, 100.0)
    assert key_id not in store.keys_due_for_rotation(99.0)
    assert key_id in store.keys_due_for_rotation(100.0)
    early = KeyMaterialRow(key_id, "33" * 32, b"\x01three", 50.0, "AUTOMATIC")
    assert not store.add_key_material(early, 200.0)  # not yet due at 50
    due = replace(early, created_at=150.0)
    assert store.add_key_material(due, 300.0)
    assert store.get_rotation_schedule(key_id) == (90, 300.0)
    again = KeyMaterialRow(key_id, "44" * 32, b"\x01four", 150.0, "AUTOMATIC")
    assert not store.add_key_material(again, 400.0)  # a second sweeper finds the date moved
    assert len(store.list_key_materials(key_id)) == 2
    store.delete_rotation_schedule(key_id)
    assert store.get_rotation_schedule(key_id) is None
    assert key_id not in store.keys_due_for_rotation(1e12)


def test_destroying_a_key_destroys_its_schedule(store: KeyStore) -> None:
    key_id, _ = _symmetric_key(store)
    store.set_rotation_schedule(key_id, 90, 100.0)
    store.update_key(key_id, lambda r: replace(r, key_state="PendingDeletion", deletion_date=5.0))
    assert key_id in store.delete_keys_due(10.0)
    assert store.get_rotation_schedule(key_id) is None
