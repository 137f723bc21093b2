"""The shared SQL layer: dialect hooks, rows as columns, and statements that span batches."""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from qkms.storage import (
    AccessKeyRow,
    AliasRow,
    AuditRow,
    GrantRow,
    ImportParametersRow,
    KeyMaterialRow,
    KeyRow,
    KeyStore,
    SqliteKeyStore,
    UserPolicyRow,
    UserRow,
)
from qkms.storage.dialect import POSTGRESQL, SQLITE, batches, marks

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ACCOUNT = "111122223333"


def pending_deletion(deletion_date: float) -> KeyRow:
    return KeyRow(
        key_id=str(uuid.uuid4()),
        account_id=ACCOUNT,
        description="d",
        key_usage="KEY_AGREEMENT",
        key_spec="ECC_NIST_P256",
        origin="AWS_KMS",
        key_state="PendingDeletion",
        creation_date=time.time(),
        deletion_date=deletion_date,
        public_key=b"\x30public",
        wrapped_material=b"\x01wrapped",
    )


def audit_row(event_id: str, event_time: float, *resources: str) -> AuditRow:
    return AuditRow(event_id, event_time, "DescribeKey", ACCOUNT, None, resources, "{}")


# --- dialect hooks ------------------------------------------------------------------------------
def test_sqlite_reads_question_marks_and_a_doubled_percent_as_one() -> None:
    statement = "SELECT 1 FROM t WHERE a = %s AND b LIKE 'x%%' AND c IN (%s, %s)"
    assert (
        SQLITE.prepare(statement) == "SELECT 1 FROM t WHERE a = ? AND b LIKE 'x%' AND c IN (?, ?)"
    )


def test_postgresql_reads_the_statements_as_written() -> None:
    statement = "SELECT 1 FROM t WHERE a = %s AND b LIKE 'x%%'"
    assert POSTGRESQL.prepare(statement) is statement


def test_only_postgresql_locks_rows_read_for_update() -> None:
    assert POSTGRESQL.lock_rows == " FOR UPDATE"
    assert SQLITE.lock_rows == ""


def test_marks_and_batches() -> None:
    assert marks(3) == "%s, %s, %s"
    assert [len(b) for b in batches(list(range(1201)))] == [500, 500, 201]
    assert batches([]) == []


# --- rows are their tables' columns -------------------------------------------------------------
@pytest.mark.parametrize(
    ("row_type", "table"),
    [
        (KeyRow, "keys"),
        (AccessKeyRow, "access_keys"),
        (UserRow, "users"),
        (UserPolicyRow, "user_policies"),
        (GrantRow, "grants"),
        (AliasRow, "aliases"),
        (ImportParametersRow, "import_parameters"),
        (AuditRow, "audit_events"),
        (KeyMaterialRow, "key_materials"),
    ],
)
def test_every_row_field_is_a_column_of_its_table(
    tmp_path: Path, row_type: type[DataclassInstance], table: str
) -> None:
    store = SqliteKeyStore(tmp_path / "q.db")
    store.migrate()
    store.close()
    with sqlite3.connect(tmp_path / "q.db") as conn:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    assert {f.name for f in fields(row_type)} <= set(columns)


# --- statements on both stores ------------------------------------------------------------------
def test_several_audit_events_go_in_with_one_call(store: KeyStore) -> None:
    arn = "arn:aws:kms:us-east-1:111122223333:key/batch"
    store.append_audit_events([audit_row(f"b{i}", float(i), arn, "x") for i in range(700)])
    store.append_audit_events([])
    found = store.search_audit_events(None, None, arn, 1000)
    assert [r.event_id for r in found] == [f"b{i}" for i in range(700)]
    assert found[3].resources == (arn, "x") and found[3].event_time == 3.0


def test_audit_search_matches_a_whole_resource_and_limits_after_filtering(store: KeyStore) -> None:
    arn = "arn:aws:kms:us-east-1:111122223333:key/one"
    store.append_audit_event(audit_row("e1", 1.0, arn + "-longer"))
    store.append_audit_event(audit_row("e2", 2.0))
    store.append_audit_event(audit_row("e3", 3.0, "other", arn))
    store.append_audit_event(audit_row("e4", 4.0, arn))
    store.append_audit_event(audit_row("e5", 5.0, arn))
    found = store.search_audit_events(None, None, arn, 2)
    assert [r.event_id for r in found] == ["e3", "e4"]
    assert found[0].resources == ("other", arn)
    assert [r.event_id for r in store.search_audit_events(3.5, "DescribeKey", arn, 10)] == [
        "e4",
        "e5",
    ]


def test_deleting_more_due_keys_than_one_batch_deletes_and_records_them_all(
    store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qkms.storage.dialect._BATCH", 2)
    store.ensure_account(ACCOUNT, 0.0)
    due = [pending_deletion(10.0) for _ in range(5)]
    for row in due:
        store.insert_key(row)
    before = store.latest_change()
    assert store.delete_keys_due(20.0) == sorted(row.key_id for row in due)
    assert all(store.get_key(row.key_id) is None for row in due)
    changes = store.changes_since(before)
    assert sorted(c.entity_id for c in changes) == sorted(row.key_id for row in due)
    assert {c.entity for c in changes} == {"key"}
