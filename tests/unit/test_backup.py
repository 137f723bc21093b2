"""qkms.admin.backup: a backup restores only whole, under its root key, into an empty dir."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from qkms.admin.backup import BackupError, make_backup, read_manifest, restore_backup
from qkms.app import bootstrap
from qkms.config import Settings
from qkms.crypto import RootKey


@pytest.fixture
def backup(tmp_path: Path) -> tuple[Path, RootKey]:
    result = bootstrap(Settings(data_dir=tmp_path / "source"), environ={})
    out = tmp_path / "b.tar"
    make_backup(tmp_path / "source" / "qkms.db", out)
    return out, result.root_key


def _rewrite_manifest(backup: Path, **changes: object) -> None:
    manifest, db = read_manifest(backup)
    fields = json.loads(manifest.to_json()) | changes
    backup.unlink()
    with tarfile.open(backup, "w") as tar:
        for name, data in (("manifest.json", json.dumps(fields).encode()), ("qkms.db", db)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_backup_restores_under_its_root_key(tmp_path: Path, backup: tuple[Path, RootKey]) -> None:
    out, root_key = backup
    manifest = restore_backup(out, tmp_path / "new", root_key)
    assert manifest.row_counts["access_keys"] == 1
    assert (tmp_path / "new" / "qkms.db").stat().st_mode & 0o777 == 0o600


def test_a_manifest_that_does_not_match_the_database_is_refused(
    tmp_path: Path, backup: tuple[Path, RootKey]
) -> None:
    out, root_key = backup
    _rewrite_manifest(out, row_counts={"keys": 5})
    with pytest.raises(BackupError, match="does not match its manifest"):
        restore_backup(out, tmp_path / "new", root_key)
    assert list((tmp_path / "new").iterdir()) == []


def test_a_backup_never_overwrites(backup: tuple[Path, RootKey], tmp_path: Path) -> None:
    out, _ = backup
    with pytest.raises(BackupError, match="never overwrites"):
        make_backup(tmp_path / "source" / "qkms.db", out)
