"""Online backup of the SQLite store and its restore into an empty data directory.

A backup is one tar file (mode 0600) holding `qkms.db`, a consistent copy made while servers
keep writing (qkms.storage.sqlite_backup), and `manifest.json`: schema version, the root key's check
value, row counts per table, when and by which version it was made. The root key is never in
it: a backup is useless without the root key kept elsewhere (docs/operations.md).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from qkms import __version__
from qkms.crypto import RootKey
from qkms.storage.base import StoreError
from qkms.storage.sqlite_backup import StoreContents, copy_online, describe

__all__ = ["BackupError", "Manifest", "make_backup", "read_manifest", "restore_backup"]

_DB_NAME = "qkms.db"
_MANIFEST_NAME = "manifest.json"
_FORMAT = 1


class BackupError(Exception):
    """A backup or restore was refused or failed; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Manifest:
    format: int
    qkms_version: str
    created_at: float
    schema_version: int
    root_key_check_value: str | None
    row_counts: dict[str, int]

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"


def _manifest(contents: StoreContents, created_at: float) -> Manifest:
    return Manifest(
        format=_FORMAT,
        qkms_version=__version__,
        created_at=created_at,
        schema_version=contents.schema_version,
        root_key_check_value=contents.root_key_check_value,
        row_counts=contents.row_counts,
    )


def _private_tar_add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def make_backup(database: Path, out: Path) -> Manifest:
    """Snapshot `database` (which servers may be writing) into the tar file `out`."""
    if not database.is_file():
        raise BackupError(f"there is no SQLite store at {database}.")
    if out.exists():
        raise BackupError(f"{out} exists; give a new file name (a backup never overwrites).")
    with tempfile.TemporaryDirectory(prefix="qkms-backup-") as scratch:
        copy_path = Path(scratch) / _DB_NAME
        try:
            copy_online(database, copy_path)
            contents = describe(copy_path)
        except StoreError as exc:
            raise BackupError(str(exc)) from None
        if contents.intact != "ok":
            raise BackupError(f"the copy is damaged ({contents.intact}); the store needs repair.")
        manifest = _manifest(contents, time.time())
        if manifest.schema_version == 0:
            raise BackupError(f"{database} is not a QKMS store (no schema version).")
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w") as tar:
                _private_tar_add(tar, _MANIFEST_NAME, manifest.to_json())
                _private_tar_add(tar, _DB_NAME, copy_path.read_bytes())
            handle.flush()
            os.fsync(handle.fileno())
    return manifest


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BackupError(f"the backup has no {name}: not a qkms backup file.") from None
    extracted = tar.extractfile(member) if member.isfile() else None
    if extracted is None:
        raise BackupError(f"the backup's {name} is not a regular file.")
    return extracted.read()


def read_manifest(backup: Path) -> tuple[Manifest, bytes]:
    """The backup's manifest and database bytes; BackupError if it is not a readable backup."""
    try:
        with tarfile.open(backup, mode="r:") as tar:
            manifest_data, db = _member(tar, _MANIFEST_NAME), _member(tar, _DB_NAME)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{backup} cannot be read as a qkms backup: {exc}") from None
    try:
        fields = json.loads(manifest_data)
        manifest = Manifest(**fields)
    except (ValueError, TypeError) as exc:
        raise BackupError(f"the backup's manifest is malformed: {exc}") from None
    if manifest.format != _FORMAT:
        raise BackupError(f"backup format {manifest.format} is not one this qkms reads.")
    return manifest, db


def restore_backup(backup: Path, data_dir: Path, root_key: RootKey) -> Manifest:
    """Write the backup's store into the empty `data_dir`, if `root_key` is the one it needs."""
    manifest, db = read_manifest(backup)
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty; restore only into a new or empty directory.")
    expected = manifest.root_key_check_value
    if expected is not None and root_key.key_check_value != expected:
        raise BackupError(
            f"the root key given (check value {root_key.key_check_value}) is not the root key "
            f"this backup was made under (check value {expected}); nothing was restored."
        )
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = data_dir / _DB_NAME
    partial = data_dir / f".{_DB_NAME}.restoring"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(db)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        _verify(partial, manifest)
    except BackupError:
        partial.unlink()
        raise
    os.replace(partial, target)
    return manifest


def _verify(path: Path, manifest: Manifest) -> None:
    """The restored file is intact and holds what the manifest says it does."""
    try:
        found = describe(path)
    except StoreError as exc:
        raise BackupError(f"the backup's database is not readable: {exc}") from None
    if found.intact != "ok":
        raise BackupError(f"the backup's database is damaged: {found.intact}")
    if found.row_counts != manifest.row_counts or found.schema_version != manifest.schema_version:
        raise BackupError("the backup's database does not match its manifest; not restored.")
    if found.root_key_check_value != manifest.root_key_check_value:
        raise BackupError("the backup's root key check value does not match its manifest.")
