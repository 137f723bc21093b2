"""`qkms backup` and `qkms restore`: an online snapshot of the SQLite store, and its restore.

Both are recorded in the audit log as operator events, like `qkms admin` changes (check values
and counts only, never a key). PostgreSQL stores are backed up with pg_dump (docs/operations.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qkms.admin.backup import BackupError, Manifest, make_backup, restore_backup
from qkms.audit import (
    AuditFileWriter,
    AuditWriteError,
    OperatorAction,
    build_operator_event,
    encode_event,
    operator_identity,
)
from qkms.config import ConfigError, Settings
from qkms.crypto import CryptoError, RootKey

__all__ = ["add_backup_commands", "run_backup", "run_restore"]


def add_backup_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser(
        "backup",
        help="snapshot the SQLite store while servers run",
        description="Writes a tar file (mode 0600) with a consistent copy of <data-dir>/qkms.db "
        "and a manifest (schema version, root key check value, row counts). The root key is "
        "not in it: keep it apart. For PostgreSQL use pg_dump (docs/operations.md).",
    )
    backup.add_argument("--out", type=Path, required=True, help="the backup file to create")
    restore = commands.add_parser(
        "restore",
        help="restore a backup into an empty data directory",
        description="Refuses a non-empty --data-dir and a root key (QKMS_ROOT_KEY or "
        "--root-key-file) other than the one the backup was made under.",
    )
    restore.add_argument(
        "--from", dest="source", type=Path, required=True, help="the backup file to restore"
    )


def _manifest_summary(manifest: Manifest) -> dict[str, Any]:
    return {
        "schemaVersion": manifest.schema_version,
        "rootKeyCheckValue": manifest.root_key_check_value,
        "rowCounts": manifest.row_counts,
        "createdAt": manifest.created_at,
        "qkmsVersion": manifest.qkms_version,
    }


def _record(
    settings: Settings,
    name: str,
    request: dict[str, Any],
    response: dict[str, Any] | None,
    error: tuple[str, str] | None,
) -> None:
    writer = AuditFileWriter(
        settings.audit_log_path, settings.audit_max_bytes, settings.audit_backups
    )
    action = OperatorAction(
        event_name=name,
        event_time=time.time(),
        account_id=None,
        request=request,
        command=f"qkms {name.removesuffix('Store').lower()}",
        event_source="kms.qkms",
        response=response,
        error_code=error[0] if error else None,
        error_message=error[1] if error else None,
    )
    event = build_operator_event(action, region=settings.region, identity=operator_identity())
    try:
        writer.append(encode_event(event), durable=True)
    finally:
        writer.close()


def run_backup(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is not None:
        print("qkms backup: the store is PostgreSQL; back it up with pg_dump.", file=sys.stderr)
        return 2
    request = {"dataDir": str(settings.data_dir.resolve()), "out": str(args.out.resolve())}
    try:
        AuditFileWriter(
            settings.audit_log_path, settings.audit_max_bytes, settings.audit_backups
        ).check()
    except AuditWriteError as exc:
        print(f"qkms backup: {exc}; no backup was made.", file=sys.stderr)
        return 2
    try:
        manifest = make_backup(settings.sqlite_path, args.out)
    except (BackupError, OSError) as exc:
        _audit_or_warn(settings, "BackupStore", request, None, ("BackupFailed", str(exc)))
        print(f"qkms backup: {exc}", file=sys.stderr)
        return 1
    summary = _manifest_summary(manifest)
    if not _audit_or_warn(settings, "BackupStore", request, summary, None):
        return 1
    print(json.dumps({"Backup": str(args.out), **summary}, indent=2))
    return 0


def _root_key(settings: Settings, environ: Mapping[str, str]) -> RootKey:
    if text := environ.get("QKMS_ROOT_KEY"):
        return RootKey.from_base64(text.strip())
    if settings.root_key_file is not None:
        return RootKey.from_base64(settings.root_key_file.read_text().strip())
    raise ConfigError(
        "give the root key the backup was made under: QKMS_ROOT_KEY or --root-key-file "
        "(a restore never creates a new root key)."
    )


def run_restore(args: argparse.Namespace, settings: Settings, environ: Mapping[str, str]) -> int:
    if settings.database_url is not None:
        print("qkms restore: the store is PostgreSQL; restore with pg_restore.", file=sys.stderr)
        return 2
    try:
        root_key = _root_key(settings, environ)
    except (ConfigError, CryptoError, OSError) as exc:
        print(f"qkms restore: {exc}", file=sys.stderr)
        return 2
    request = {
        "from": str(args.source.resolve()),
        "dataDir": str(settings.data_dir.resolve()),
        "rootKeyCheckValue": root_key.key_check_value,
    }
    try:
        manifest = restore_backup(args.source, settings.data_dir, root_key)
    except (BackupError, OSError) as exc:
        # The audit log is in the data dir, which must stay empty: record only when elsewhere.
        if settings.audit_log is not None:
            _audit_or_warn(settings, "RestoreStore", request, None, ("RestoreRefused", str(exc)))
        print(f"qkms restore: {exc}", file=sys.stderr)
        return 1
    summary = _manifest_summary(manifest)
    if not _audit_or_warn(settings, "RestoreStore", request, summary, None):
        return 1
    print(json.dumps({"RestoredInto": str(settings.data_dir), **summary}, indent=2))
    return 0


def _audit_or_warn(
    settings: Settings,
    name: str,
    request: dict[str, Any],
    response: dict[str, Any] | None,
    error: tuple[str, str] | None,
) -> bool:
    try:
        _record(settings, name, request, response, error)
    except AuditWriteError as exc:
        print(f"qkms: the audit event of {name} was not recorded: {exc}", file=sys.stderr)
        return False
    return True
