"""The KeyStore contract (STYLE §8): what every backend must do, checked on a real backend."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from qkms.storage import (
    AccessKeyRow,
    AliasRow,
    DuplicateError,
    GrantRow,
    ImportParametersRow,
    KeyMaterialRow,
    KeyRow,
    KeyStore,
    SqliteKeyStore,
    StoreTimeoutError,
    UserPolicyRow,
    UserRow,
)
from qkms.storage.schema import SCHEMA_VERSION
from tests.storage.support import ACCOUNT, key_row


@pytest.fixture
def account(store: KeyStore) -> str:
    store.ensure_account(ACCOUNT, 0.0)
    store.ensure_account("444455556666", 0.0)
    return ACCOUNT


def test_migrate_is_idempotent(store: KeyStore) -> None:
    assert store.migrate() == SCHEMA_VERSION
    assert store.migrate() == SCHEMA_VERSION


def test_insert_get_roundtrip(store: KeyStore, account: str) -> None:
    row = key_row()
    store.insert_key(row)
    assert store.get_key(row.key_id) == row
    assert store.get_key(str(uuid.uuid4())) is None


def test_duplicate_key_id(store: KeyStore, account: str) -> None:
    row = key_row()
    store.insert_key(row)
    with pytest.raises(DuplicateError):
        store.insert_key(row)


def test_update_key_applies_and_records_a_change(store: KeyStore, account: str) -> None:
    row = key_row()
    store.insert_key(row)
    before = store.latest_change()
    updated = store.update_key(row.key_id, lambda r: replace(r, key_state="Disabled"))
    assert updated is not None and updated.key_state == "Disabled"
    assert store.get_key(row.key_id) == updated
    changes = store.changes_since(before)
    assert [(c.entity, c.entity_id) for c in changes] == [("key", row.key_id)]
    assert store.latest_change() == changes[-1].seq


def test_update_key_aborts_when_the_change_raises(store: KeyStore, account: str) -> None:
    row = key_row()
    store.insert_key(row)
    before = store.latest_change()

    def refuse(_: KeyRow) -> KeyRow:
        raise RuntimeError("state check failed")

    with pytest.raises(RuntimeError):
        store.update_key(row.key_id, refuse)
    assert store.get_key(row.key_id) == row
    assert store.changes_since(before) == []


def test_update_missing_key(store: KeyStore, account: str) -> None:
    assert store.update_key(str(uuid.uuid4()), lambda r: r) is None


def test_list_keys_pages_in_key_id_order_per_account(store: KeyStore, account: str) -> None:
    mine = sorted(key_row().key_id for _ in range(5))
    for key_id in mine:
        store.insert_key(key_row(key_id=key_id))
    store.insert_key(key_row(account="444455556666"))
    assert [r.key_id for r in store.list_keys(ACCOUNT, None, 100)] == mine
    first = store.list_keys(ACCOUNT, None, 2)
    assert [r.key_id for r in first] == mine[:2]
    rest = store.list_keys(ACCOUNT, first[-1].key_id, 100)
    assert [r.key_id for r in rest] == mine[2:]


def test_list_keys_filters_by_region_with_or_without_keys_stored_before_regions(
    store: KeyStore, account: str
) -> None:
    east, west, old = (replace(key_row(), region=r) for r in ("us-east-1", "us-west-2", None))
    for row in (east, west, old):
        store.insert_key(row)
    region_of = {east.key_id: "east", west.key_id: "west", old.key_id: "old"}

    def listed(region: str | None, with_unregioned: bool = True) -> set[str]:
        rows = store.list_keys(ACCOUNT, None, 100, region, with_unregioned)
        return {region_of[r.key_id] for r in rows}

    assert listed(None) == {"east", "west", "old"}
    assert listed("us-east-1") == {"east", "old"}
    assert listed("us-west-2", with_unregioned=False) == {"west"}
    assert store.get_key(west.key_id) == west


def test_delete_keys_due(store: KeyStore, account: str) -> None:
    due = replace(key_row(state="PendingDeletion"), deletion_date=100.0)
    later = replace(key_row(state="PendingDeletion"), deletion_date=200.0)
    enabled = key_row()
    for row in (due, later, enabled):
        store.insert_key(row)
    before = store.latest_change()
    assert store.delete_keys_due(150.0) == [due.key_id]
    assert store.get_key(due.key_id) is None
    assert store.get_key(later.key_id) is not None
    assert store.get_key(enabled.key_id) is not None
    assert [c.entity_id for c in store.changes_since(before)] == [due.key_id]


def test_meta_put_if_absent(store: KeyStore) -> None:
    assert store.get_meta("x") is None
    assert store.put_meta_if_absent("x", "first") == "first"
    assert store.put_meta_if_absent("x", "second") == "first"
    assert store.get_meta("x") == "first"


def test_access_keys(store: KeyStore, account: str) -> None:
    store.ensure_user(ACCOUNT, "alice", 0.0)
    store.ensure_user(ACCOUNT, "alice", 0.0)  # idempotent
    row = AccessKeyRow("QKMSAAAAAAAAAAAAAAAA", ACCOUNT, "alice", b"wrapped", "Active", 1.0)
    before = store.latest_change()
    store.insert_access_key(row)
    assert store.get_access_key(row.access_key_id) == row
    assert store.get_access_key("QKMSNOPE") is None
    assert [c.entity for c in store.changes_since(before)] == ["access_key"]
    with pytest.raises(DuplicateError):
        store.insert_access_key(row)


def test_reprs_hide_material(store: KeyStore, account: str) -> None:
    row = key_row()
    assert "wrapped" not in repr(row)
    access = AccessKeyRow("QKMSAAAAAAAAAAAAAAAA", ACCOUNT, "alice", b"secretbytes", "Active", 1.0)
    assert "secretbytes" not in repr(access)


# --- SQLite specifics ---------------------------------------------------------------------------
def test_sqlite_is_durable_on_commit(tmp_path: Path) -> None:
    store = SqliteKeyStore(tmp_path / "q.db")
    store.migrate()
    conn = sqlite3.connect(tmp_path / "q.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    # synchronous is per connection: check the store's own connection.
    assert store._conn().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_sqlite_locked_store_times_out_within_its_deadline(tmp_path: Path) -> None:
    store = SqliteKeyStore(tmp_path / "q.db", deadline_seconds=0.3)
    store.migrate()
    store.ensure_account(ACCOUNT, 0.0)
    holder = sqlite3.connect(tmp_path / "q.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreTimeoutError, match="did not answer within"):
            store.insert_key(key_row())
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 2.0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.insert_key(key_row())  # recovers once the lock is gone
    store.close()


def test_sqlite_concurrent_writers_serialise(tmp_path: Path) -> None:
    store = SqliteKeyStore(tmp_path / "q.db", deadline_seconds=5.0)
    store.migrate()
    store.ensure_account(ACCOUNT, 0.0)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(20):
                store.insert_key(key_row())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.list_keys(ACCOUNT, None, 1000)) == 80
    store.close()


def test_sqlite_schema_version_recorded(tmp_path: Path) -> None:
    store = SqliteKeyStore(tmp_path / "q.db")
    store.migrate()
    conn = sqlite3.connect(tmp_path / "q.db")
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
    conn.close()
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    store.close()


# --- access control (users, identity policies, grants) ------------------------------------------
def grant_row(key_id: str, grant_id: str | None = None, retiring: str | None = None) -> GrantRow:
    return GrantRow(
        grant_id=grant_id or uuid.uuid4().hex,
        key_id=key_id,
        key_account_id=ACCOUNT,
        name=None,
        grantee_principal=f"arn:verenc:{ACCOUNT}:user/bob",
        retiring_principal=retiring,
        operations=("DeriveSharedSecret", "DescribeKey"),
        issuing_account=ACCOUNT,
        creation_date=time.time(),
    )


def test_key_policy_is_stored_with_the_key(store: KeyStore, account: str) -> None:
    row = replace(key_row(), policy='{"Statement": []}')
    store.insert_key(row)
    assert store.get_key(row.key_id) == row
    updated = store.update_key(row.key_id, lambda r: replace(r, policy='{"Version": "x"}'))
    assert updated is not None
    stored = store.get_key(row.key_id)
    assert stored is not None and stored.policy == '{"Version": "x"}'


def test_users_and_their_access_keys(store: KeyStore, account: str) -> None:
    store.ensure_user(ACCOUNT, "bob", 1.0)
    store.ensure_user(ACCOUNT, "alice", 2.0)
    assert [u.user_name for u in store.list_users(ACCOUNT)] == ["alice", "bob"]
    assert store.get_user(ACCOUNT, "bob") == UserRow(ACCOUNT, "bob", 1.0)
    assert store.get_user(ACCOUNT, "carol") is None
    row = AccessKeyRow("QKMSBBBBBBBBBBBBBBBB", ACCOUNT, "bob", b"w", "Active", 1.0)
    store.insert_access_key(row)
    assert store.list_access_keys(ACCOUNT, "bob") == [row]
    before = store.latest_change()
    assert store.set_access_key_status(row.access_key_id, "Inactive")
    stored = store.get_access_key(row.access_key_id)
    assert stored is not None and stored.status == "Inactive"
    assert store.delete_access_key(row.access_key_id)
    assert not store.delete_access_key(row.access_key_id)
    assert not store.set_access_key_status(row.access_key_id, "Active")
    assert store.get_access_key(row.access_key_id) is None
    assert [c.entity for c in store.changes_since(before)] == ["access_key", "access_key"]


def test_user_policies(store: KeyStore, account: str) -> None:
    store.ensure_user(ACCOUNT, "bob", 1.0)
    before = store.latest_change()
    store.put_user_policy(UserPolicyRow(ACCOUNT, "bob", "b", '{"v": 1}'), 1.0)
    store.put_user_policy(UserPolicyRow(ACCOUNT, "bob", "a", '{"v": 2}'), 1.0)
    store.put_user_policy(UserPolicyRow(ACCOUNT, "bob", "b", '{"v": 3}'), 2.0)  # replaces
    assert store.list_user_policies(ACCOUNT, "bob") == [
        UserPolicyRow(ACCOUNT, "bob", "a", '{"v": 2}'),
        UserPolicyRow(ACCOUNT, "bob", "b", '{"v": 3}'),
    ]
    assert store.delete_user_policy(ACCOUNT, "bob", "a")
    assert not store.delete_user_policy(ACCOUNT, "bob", "a")
    assert [p.policy_name for p in store.list_user_policies(ACCOUNT, "bob")] == ["b"]
    changes = store.changes_since(before)
    assert {(c.entity, c.entity_id) for c in changes} == {("user", f"{ACCOUNT}:bob")}
    assert len(changes) == 4


def test_grants(store: KeyStore, account: str) -> None:
    key = key_row()
    store.insert_key(key)
    before = store.latest_change()
    first = grant_row(key.key_id, "g1", retiring=f"arn:verenc:{ACCOUNT}:user/ops")
    second = grant_row(key.key_id, "g2")
    store.insert_grant(first)
    store.insert_grant(second)
    assert store.get_grant("g1") == first
    assert store.list_grants(key.key_id) == [first, second]
    assert store.list_grants_by_retiring_principal(f"arn:verenc:{ACCOUNT}:user/ops") == [first]
    assert store.delete_grant("g1") == first
    assert store.delete_grant("g1") is None
    assert store.list_grants(key.key_id) == [second]
    assert [(c.entity, c.entity_id) for c in store.changes_since(before)] == [
        ("grant", key.key_id)
    ] * 3
    with pytest.raises(DuplicateError):
        store.insert_grant(second)


def test_aliases_and_the_change_each_write_records(store: KeyStore, account: str) -> None:
    # Other workers drop a cached alias only when the feed names it (DESIGN §7): every write
    # that changes an alias must record exactly one change for it, and a write that changes
    # nothing records none.
    first, second = key_row(), key_row()
    store.insert_key(first)
    store.insert_key(second)
    entity_id = f"{ACCOUNT}:us-east-1:alias/app"
    here = ("us-east-1",)

    def written(write: Callable[[], object]) -> tuple[object, list[tuple[str, str]]]:
        """What the write returned, and the changes it recorded."""
        before = store.latest_change()
        result = write()
        return result, [(c.entity, c.entity_id) for c in store.changes_since(before)]

    created = AliasRow(ACCOUNT, "alias/app", first.key_id, 1.0, 1.0, "us-east-1")
    assert written(lambda: store.insert_alias(created)) == (None, [("alias", entity_id)])
    assert store.get_alias(ACCOUNT, "alias/app", here) == created
    assert store.get_alias("444455556666", "alias/app", here) is None  # names are per account
    with pytest.raises(DuplicateError):
        store.insert_alias(replace(created, key_id=second.key_id))

    updated = written(
        lambda: store.update_alias(ACCOUNT, "alias/app", second.key_id, 5.0, "us-east-1")
    )
    assert updated == (True, [("alias", entity_id)])
    assert store.get_alias(ACCOUNT, "alias/app", here) == replace(
        created, key_id=second.key_id, last_updated_date=5.0
    )
    assert store.list_aliases(ACCOUNT, first.key_id, None, 10, here) == []
    assert [a.alias_name for a in store.list_aliases(ACCOUNT, second.key_id, None, 10, here)] == [
        "alias/app"
    ]

    deleted = written(lambda: store.delete_alias(ACCOUNT, "alias/app", "us-east-1"))
    assert deleted == (True, [("alias", entity_id)])
    assert store.get_alias(ACCOUNT, "alias/app", here) is None

    # Nothing to update or delete: False, and the feed stays quiet.
    assert written(
        lambda: store.update_alias(ACCOUNT, "alias/app", first.key_id, 6.0, "us-east-1")
    ) == (False, [])
    assert written(lambda: store.delete_alias(ACCOUNT, "alias/app", "us-east-1")) == (False, [])


def test_alias_names_are_unique_per_account_and_region(store: KeyStore, account: str) -> None:
    # AWS: an alias name is unique in an account and region; the same name in two regions
    # names two keys, and each region lists and changes only its own.
    east, west = key_row(), key_row()
    store.insert_key(east)
    store.insert_key(west)
    store.insert_alias(AliasRow(ACCOUNT, "alias/app", east.key_id, 1.0, 1.0, "us-east-1"))
    store.insert_alias(AliasRow(ACCOUNT, "alias/app", west.key_id, 2.0, 2.0, "us-west-2"))
    got_east = store.get_alias(ACCOUNT, "alias/app", ("us-east-1",))
    got_west = store.get_alias(ACCOUNT, "alias/app", ("us-west-2",))
    assert got_east is not None and got_east.key_id == east.key_id
    assert got_west is not None and got_west.key_id == west.key_id
    assert store.get_alias(ACCOUNT, "alias/app", ("eu-west-1",)) is None
    assert [a.key_id for a in store.list_aliases(ACCOUNT, None, None, 10, ("us-west-2",))] == [
        west.key_id
    ]
    assert store.delete_alias(ACCOUNT, "alias/app", "us-west-2")
    assert store.get_alias(ACCOUNT, "alias/app", ("us-east-1",)) == got_east


def test_an_unregioned_alias_is_found_with_its_own_region_first(
    store: KeyStore, account: str
) -> None:
    # '' marks an alias stored before regions: the default region sees it, but a row of the
    # region itself wins.
    old, new = key_row(), key_row()
    store.insert_key(old)
    store.insert_key(new)
    store.insert_alias(AliasRow(ACCOUNT, "alias/old", old.key_id, 1.0, 1.0, ""))
    found = store.get_alias(ACCOUNT, "alias/old", ("us-east-1", ""))
    assert found is not None and found.region == ""
    store.insert_alias(AliasRow(ACCOUNT, "alias/old", new.key_id, 2.0, 2.0, "us-east-1"))
    found = store.get_alias(ACCOUNT, "alias/old", ("us-east-1", ""))
    assert found is not None and found.key_id == new.key_id
    assert store.get_alias(ACCOUNT, "alias/old", ("us-west-2",)) is None


def test_destroying_a_key_destroys_its_grants(store: KeyStore, account: str) -> None:
    key = replace(key_row(state="PendingDeletion"), deletion_date=1.0)
    store.insert_key(key)
    store.insert_grant(grant_row(key.key_id, "g9"))
    assert store.delete_keys_due(2.0) == [key.key_id]
    assert store.get_grant("g9") is None


def test_keys_with_expired_material(store: KeyStore, account: str) -> None:
    expiring = replace(key_row(), valid_to=100.0, expiration_model="KEY_MATERIAL_EXPIRES")
    later = replace(key_row(), valid_to=300.0, expiration_model="KEY_MATERIAL_EXPIRES")
    gone = replace(key_row(), valid_to=100.0, wrapped_material=None)
    for row in (expiring, later, gone, key_row()):
        store.insert_key(row)
    assert store.keys_with_expired_material(200.0) == [expiring.key_id]


def test_meta_set_and_delete(store: KeyStore) -> None:
    store.set_meta("m", "1")
    store.set_meta("m", "2")
    assert store.get_meta("m") == "2"
    store.delete_meta("m")
    assert store.get_meta("m") is None
    store.delete_meta("m")  # deleting nothing is fine


def test_listing_everything_wrapped_for_root_key_rotation(store: KeyStore, account: str) -> None:
    ids = sorted([key_row().key_id for _ in range(3)] + [key_row(account="444455556666").key_id])
    for key_id in ids[:3]:
        store.insert_key(key_row(key_id=key_id))
    store.insert_key(key_row(account="444455556666", key_id=ids[3]))
    assert store.list_key_ids(None, 2) == ids[:2]
    assert store.list_key_ids(ids[1], 10) == ids[2:]
    store.ensure_user(ACCOUNT, "bob", 1.0)
    for n in range(3):
        store.insert_access_key(AccessKeyRow(f"QKMSROT{n}", ACCOUNT, "bob", b"w", "Active", 1.0))
    assert store.list_access_key_ids(None, 2) == ["QKMSROT0", "QKMSROT1"]
    assert store.list_access_key_ids("QKMSROT1", 2) == ["QKMSROT2"]
    before = store.latest_change()
    assert store.update_access_key_secret("QKMSROT2", b"rewrapped")
    assert not store.update_access_key_secret("QKMSNOPE", b"x")
    stored = store.get_access_key("QKMSROT2")
    assert stored is not None and stored.wrapped_secret == b"rewrapped"
    assert [c.entity for c in store.changes_since(before)] == ["access_key"]
    assert store.list_import_parameter_key_ids() == []
    store.put_import_parameters(
        ImportParametersRow(ids[0], "RSA_2048", "RSAES_OAEP_SHA_256", b"w", "t", 1.0, 2.0)
    )
    assert store.list_import_parameter_key_ids() == [ids[0]]


def _symmetric_row(key_id: str, material_id: str) -> KeyRow:
    return replace(
        key_row(key_id=key_id),
        key_usage="ENCRYPT_DECRYPT",
        key_spec="SYMMETRIC_DEFAULT",
        public_key=None,
        wrapped_material=None,
        current_key_material_id=material_id,
    )


def test_a_key_is_inserted_with_its_first_material_and_names_it_current(
    store: KeyStore, account: str
) -> None:
    key_id, material_id = str(uuid.uuid4()), "ab" * 32
    material = KeyMaterialRow(key_id, material_id, b"\x01wrapped-aes", 10.0)
    store.insert_key(_symmetric_row(key_id, material_id), [material])
    stored = store.get_key(key_id)
    assert stored is not None and stored.current_key_material_id == material_id
    assert store.get_key_material(key_id, material_id) == material
    assert store.get_key_material(key_id, "cd" * 32) is None
    assert store.list_key_materials(key_id) == [material]


def test_material_versions_list_oldest_first_and_survive_key_updates(
    store: KeyStore, account: str
) -> None:
    key_id = str(uuid.uuid4())
    first = KeyMaterialRow(key_id, "11" * 32, b"\x01one", 10.0)
    second = KeyMaterialRow(key_id, "00" * 32, b"\x01two", 20.0)
    store.insert_key(_symmetric_row(key_id, second.key_material_id), [second, first])
    store.update_key(key_id, lambda row: replace(row, description="changed"))
    assert store.list_key_materials(key_id) == [first, second]
    assert store.update_key_material_wrapping(key_id, first.key_material_id, b"\x01new")
    assert not store.update_key_material_wrapping(key_id, "ff" * 32, b"\x01new")
    assert store.get_key_material(key_id, first.key_material_id) == replace(
        first, wrapped_material=b"\x01new"
    )


def test_a_failed_insert_leaves_neither_key_nor_material(store: KeyStore, account: str) -> None:
    key_id = str(uuid.uuid4())
    material = KeyMaterialRow(key_id, "ab" * 32, b"\x01x", 1.0)
    with pytest.raises(DuplicateError):
        store.insert_key(_symmetric_row(key_id, material.key_material_id), [material, material])
    assert store.get_key(key_id) is None
    assert store.list_key_materials(key_id) == []


def test_destroying_a_key_destroys_its_material_versions(store: KeyStore, account: str) -> None:
    key_id = str(uuid.uuid4())
    material = KeyMaterialRow(key_id, "ab" * 32, b"\x01x", 1.0)
    row = replace(
        _symmetric_row(key_id, material.key_material_id),
        key_state="PendingDeletion",
        deletion_date=5.0,
    )
    store.insert_key(row, [material])
    assert store.delete_keys_due(10.0) == [key_id]
    assert store.list_key_materials(key_id) == []


def test_key_counts_group_every_account_s_keys_by_state_and_spec(store: KeyStore) -> None:
    assert store.key_counts() == {}
    for account, state in (
        ("111122223333", "Enabled"),
        ("444455556666", "Enabled"),
        (ACCOUNT, "Disabled"),
    ):
        store.ensure_account(account, time.time())
        store.insert_key(key_row(account, state=state))
    assert store.key_counts() == {
        ("Enabled", "ECC_NIST_P256"): 2,
        ("Disabled", "ECC_NIST_P256"): 1,
    }
