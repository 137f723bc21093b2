"""Only the user QKMS runs as can read its data directory: files 0600, the directory 0700.

The servers here start under umask 022, the common default, so a file created without an
explicit mode would be 0644 and fail these tests.
"""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import QkmsServer, admin_cli, kms_client

pytestmark = pytest.mark.e2e


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def modes(data_dir: Path) -> dict[str, int]:
    """The permission bits of the data directory and of everything in it, by relative name."""
    found = {".": stat.S_IMODE(data_dir.stat().st_mode)}
    for path in data_dir.rglob("*"):
        found[str(path.relative_to(data_dir))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def peer_der() -> bytes:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def use(server: QkmsServer) -> None:
    """Calls that make the store, its WAL, the audit log and one rotation of it exist.

    The server made its own admin key (no QKMS_ADMIN_*), so that the credentials file exists.
    """
    ini = configparser.ConfigParser()
    ini.read_string((server.data_dir / "credentials").read_text())
    kms = kms_client(
        server.endpoint, ini["qkms"]["aws_access_key_id"], ini["qkms"]["aws_secret_access_key"]
    )
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
        "KeyId"
    ]
    for _ in range(12):  # audit events of ~0.5-1 KiB past --audit-max-bytes 4096: a rotation
        kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer_der())
    admin_cli(server, "create-user", "--account", "111122223333", "--user", "alice")


def test_every_file_a_server_writes_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = QkmsServer(
        data_dir, workers=2, preset_admin=False, extra_args=["--audit-max-bytes", "4096"]
    )
    with umask(0o022):
        server.start()
    try:
        use(server)
        found = modes(data_dir)
    finally:
        server.stop()

    for name in ("qkms.db", "qkms.db-wal", "qkms.db-shm", "root.key", "credentials"):
        assert name in found, sorted(found)
    assert "audit.log" in found and "audit.log.1" in found
    assert found.pop(".") == 0o700
    assert {name: f"{mode:04o}" for name, mode in found.items() if mode != 0o600} == {}


def test_an_existing_data_dir_open_to_others_is_made_private(tmp_path: Path) -> None:
    # What earlier versions left behind: the directory 0755 and the store 0644.
    data_dir = tmp_path / "data"
    with umask(0o022):
        QkmsServer(data_dir).start().stop()
    data_dir.chmod(0o755)
    (data_dir / "qkms.db").chmod(0o644)
    (data_dir / "audit.log").chmod(0o644)

    server = QkmsServer(data_dir)
    with umask(0o022):
        server.start()
    try:
        server.client().list_keys()
        found = modes(data_dir)
    finally:
        server.stop()

    assert found.pop(".") == 0o700
    assert {name: f"{mode:04o}" for name, mode in found.items() if mode != 0o600} == {}
    warnings = [line for line in server.log().splitlines() if "made the data directory" in line]
    assert len(warnings) == 1 and str(data_dir) in warnings[0] and "0755" in warnings[0]


def test_a_shared_directory_holding_other_files_is_refused_not_changed(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    (data_dir / "notes.txt").write_text("someone else's file\n")

    result = subprocess.run(
        [sys.executable, "-m", "qkms", "serve", "--workers", "1", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("QKMS_")},
        check=False,
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert str(data_dir) in result.stderr and "chmod 700" in result.stderr
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o755
    assert sorted(p.name for p in data_dir.iterdir()) == ["notes.txt"]
