"""The KeyStore contract for multi-region keys (storage/base.py): one row per region under
"<mrk id>@<region>", material versions shared under the bare id, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace

from qkms.storage import AliasRow, KeyMaterialRow, KeyRow, KeyStore
from qkms.storage.base import key_row_id, split_key_row_id
from tests.storage.support import ACCOUNT, key_row


def _multi_region(store: KeyStore) -> tuple[str, KeyRow]:
    store.ensure_account(ACCOUNT, 0.0)
    key_id = f"mrk-{uuid.uuid4().hex}"
    primary = replace(
        key_row(key_id=key_row_id(key_id, "us-east-1")),
        key_spec="SYMMETRIC_DEFAULT",
        key_usage="ENCRYPT_DECRYPT",
        region="us-east-1",
        primary_region="us-east-1",
        current_key_material_id="a" * 64,
    )
    store.insert_key(primary, [KeyMaterialRow(key_id, "a" * 64, b"\x01m", 1.0)])
    return key_id, primary


def test_row_ids_name_a_region_only_for_multi_region_keys() -> None:
    plain = str(uuid.uuid4())
    assert key_row_id(plain, "us-west-2") == plain
    assert split_key_row_id(plain) == (plain, None)
    mrk = f"mrk-{'1' * 32}"
    assert split_key_row_id(key_row_id(mrk, "us-west-2")) == (mrk, "us-west-2")


def test_a_replica_is_a_second_row_and_each_region_has_at_most_one(store: KeyStore) -> None:
    key_id, primary = _multi_region(store)
    other = _multi_region(store)[0]  # a second key: never among the first one's rows
    replica = replace(primary, key_id=key_row_id(key_id, "us-west-2"), region="us-west-2")
    before = store.latest_change()
    assert store.insert_replica(replica)
    # Every region's row changed (its ReplicaKeys did): the feed names each.
    assert sorted(c.entity_id for c in store.changes_since(before)) == [
        primary.key_id,
        replica.key_id,
    ]
    assert not store.insert_replica(replica)
    assert [r.key_id for r in store.region_rows(key_id)] == [primary.key_id, replica.key_id]
    assert store.get_key(key_row_id(key_id, "us-west-2")) == replica
    assert store.get_key(key_id) is None  # the bare id names no row
    assert [r.region for r in store.region_rows(other)] == ["us-east-1"]


def test_a_rotation_moves_every_regions_current_material(store: KeyStore) -> None:
    key_id, primary = _multi_region(store)
    replica = replace(primary, key_id=key_row_id(key_id, "us-west-2"), region="us-west-2")
    store.insert_replica(replica)
    assert store.add_key_material(KeyMaterialRow(key_id, "b" * 64, b"\x01n", 2.0), None)
    for row in store.region_rows(key_id):
        assert row.current_key_material_id == "b" * 64
    assert [m.key_material_id for m in store.list_key_materials(key_id)] == ["a" * 64, "b" * 64]


def test_set_primary_region_changes_every_row_or_none(store: KeyStore) -> None:
    key_id, primary = _multi_region(store)
    store.insert_replica(
        replace(primary, key_id=key_row_id(key_id, "us-west-2"), region="us-west-2")
    )
    assert store.set_primary_region(key_id, "eu-west-1") == []  # no replica there
    changed = store.set_primary_region(key_id, "us-west-2")
    assert sorted(changed) == sorted(r.key_id for r in store.region_rows(key_id))
    assert {r.primary_region for r in store.region_rows(key_id)} == {"us-west-2"}


def test_shared_material_goes_with_the_last_regions_row(store: KeyStore) -> None:
    key_id, primary = _multi_region(store)
    doomed = replace(primary, key_state="PendingDeletion", deletion_date=1.0)
    store.update_key(primary.key_id, lambda _row: doomed)
    replica = replace(primary, key_id=key_row_id(key_id, "us-west-2"), region="us-west-2")
    store.insert_replica(replica)
    for region in ("us-east-1", "us-west-2"):
        store.insert_alias(AliasRow(ACCOUNT, "alias/m", key_id, 1.0, 1.0, region))
    assert store.delete_keys_due(2.0) == [primary.key_id]
    # The destroyed region's alias goes with its key; the other region's stays.
    assert store.get_alias(ACCOUNT, "alias/m", ("us-east-1",)) is None
    assert store.get_alias(ACCOUNT, "alias/m", ("us-west-2",)) is not None
    assert len(store.list_key_materials(key_id)) == 1  # the replica still decrypts
    store.update_key(
        replica.key_id,
        lambda _row: replace(replica, key_state="PendingDeletion", deletion_date=1.0),
    )
    assert store.delete_keys_due(2.0) == [replica.key_id]
    assert store.list_key_materials(key_id) == []
