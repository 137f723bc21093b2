"""The audit trail: which calls are fsynced, and the copy into the store's audit table."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from qkms.audit.events import ApiCall, Identity
from qkms.audit.trail import AuditTrail, is_read_only
from qkms.audit.writer import AuditFileWriter
from qkms.operations.shapes import DisableKeyRequest
from qkms.storage.base import AuditRow
from qkms.storage.sqlite import SqliteKeyStore

ACCOUNT = "111122223333"
KEY_ID = "0b2c6a1e-8f0d-4d4e-9a55-2f4c1b6f7a11"
ADMIN = Identity(ACCOUNT, f"arn:verenc:{ACCOUNT}:user/admin", "QKMSADMIN", "admin")


def key_arn(account_id: str, key_id: str) -> str:
    return f"arn:verenc:{account_id}:key/{key_id}"


def call(name: str, identity: Identity | None = ADMIN, error: str | None = None) -> ApiCall:
    return ApiCall(
        request_id=f"req-{name}",
        event_time=time.time(),
        event_name=name,
        source_ip="127.0.0.1",
        user_agent="ua",
        identity=identity,
        claimed_access_key_id=None,
        request=DisableKeyRequest(key_id=KEY_ID),
        response=None,
        error_code=error,
        error_message=error,
    )


@pytest.mark.parametrize(
    ("name", "read_only"),
    [
        ("DescribeKey", True),
        ("GetPublicKey", True),
        ("ListKeys", True),
        ("ListGrants", True),
        ("DeriveSharedSecret", True),
        ("CreateKey", False),
        ("DisableKey", False),
        ("ScheduleKeyDeletion", False),
        ("PutKeyPolicy", False),
        ("CreateAlias", False),
        ("TagResource", False),
        ("GetParametersForImport", False),
        ("ImportKeyMaterial", False),
        ("SomethingNew", False),
        ("-", False),
    ],
)
def test_read_only_operations(name: str, read_only: bool) -> None:
    assert is_read_only(name) is read_only


def test_fsync_for_authenticated_state_changes_only(tmp_path: Path) -> None:
    trail = AuditTrail(
        AuditFileWriter(tmp_path / "audit.log", 1 << 20, 1), region="r", key_arn=key_arn
    )
    assert trail.needs_fsync(call("DisableKey"))
    assert trail.needs_fsync(call("DisableKey", error="AccessDeniedException"))
    assert not trail.needs_fsync(call("DeriveSharedSecret"))
    assert not trail.needs_fsync(
        call("DisableKey", identity=None, error="InvalidSignatureException")
    )
    trail.close()


def test_record_appends_and_mirrors_into_the_store(tmp_path: Path) -> None:
    store = SqliteKeyStore(tmp_path / "qkms.db", deadline_seconds=2.0)
    store.migrate()
    trail = AuditTrail(
        AuditFileWriter(tmp_path / "audit.log", 1 << 20, 1),
        region="us-east-1",
        key_arn=key_arn,
        mirror=store,
    )
    trail.record(call("DisableKey"))
    trail.record(call("DescribeKey", error="NotFoundException"))
    trail.close()
    lines = [json.loads(x) for x in (tmp_path / "audit.log").read_bytes().splitlines()]
    assert [e["eventName"] for e in lines] == ["DisableKey", "DescribeKey"]
    assert [e["readOnly"] for e in lines] == [False, True]
    rows = store.search_audit_events(None, None, key_arn(ACCOUNT, KEY_ID), 10)
    assert [r.event_name for r in rows] == ["DisableKey", "DescribeKey"]
    assert rows[1].error_code == "NotFoundException"
    assert json.loads(rows[0].record) == lines[0]
    store.close()


class _HeldMirror:
    """The real store behind a mirror whose first write waits until the test lets it go, so
    the events recorded meanwhile are all queued when the next write starts."""

    def __init__(self, store: SqliteKeyStore) -> None:
        self.store = store
        self.release = threading.Event()
        self.writes: list[int] = []

    def append_audit_events(self, rows: list[AuditRow]) -> None:
        self.release.wait(10)
        self.writes.append(len(rows))
        self.store.append_audit_events(rows)


def test_the_mirror_copies_what_queued_up_in_one_write(tmp_path: Path) -> None:
    store = SqliteKeyStore(tmp_path / "qkms.db", deadline_seconds=2.0)
    store.migrate()
    mirror = _HeldMirror(store)
    trail = AuditTrail(
        AuditFileWriter(tmp_path / "audit.log", 1 << 22, 1),
        region="us-east-1",
        key_arn=key_arn,
        mirror=mirror,  # type: ignore[arg-type]
    )
    for _ in range(300):
        trail.record(call("DescribeKey"))
    mirror.release.set()
    trail.close()
    assert sum(mirror.writes) == 300
    assert len(mirror.writes) <= 2  # what queued while the first write waited: one INSERT
    rows = store.search_audit_events(None, None, key_arn(ACCOUNT, KEY_ID), 1000)
    assert len(rows) == 300 and len({r.event_id for r in rows}) == 300
    store.close()
