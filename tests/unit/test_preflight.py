"""Start-up checks that write nothing, and the data directory made private (qkms.preflight)."""

from __future__ import annotations

import logging
import os
import socket
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from qkms.preflight import (
    StartupError,
    check_listen_address,
    check_tls_files,
    check_writable_dir,
    prepare_data_dir,
)
from tests.e2e.server import self_signed


def read_only(path: Path, mode: int) -> bool:
    """os.access as a read-only filesystem answers it, even to root."""
    return not mode & os.W_OK


def test_an_existing_directory_on_a_read_only_filesystem_is_named(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=f"--data-dir {tmp_path} is read-only"):
        check_writable_dir(tmp_path, "--data-dir", access=read_only)


def test_a_directory_that_would_be_created_on_a_read_only_filesystem_is_named(
    tmp_path: Path,
) -> None:
    target = tmp_path / "a" / "b"
    with pytest.raises(StartupError, match=f"{target} cannot be created: {tmp_path} is read-only"):
        check_writable_dir(target, "--data-dir", access=read_only)
    assert not (tmp_path / "a").exists()


def test_a_writable_place_passes_and_nothing_is_created(tmp_path: Path) -> None:
    check_writable_dir(tmp_path / "new" / "data", "--data-dir")
    assert list(tmp_path.iterdir()) == []


def test_a_new_data_dir_is_created_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    prepare_data_dir(data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_an_open_data_dir_with_only_qkms_files_is_tightened_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    for name in ("qkms.db", "qkms.db-wal", "audit.log", "audit.log.3", ".credentials.12.tmp"):
        (data_dir / name).write_text("")
        (data_dir / name).chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="qkms"):
        prepare_data_dir(data_dir)

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in data_dir.iterdir()} == {0o600}
    assert len(caplog.records) == 1
    assert "0755 -> 0700" in caplog.records[0].getMessage()
    assert "5 file(s)" in caplog.records[0].getMessage()


def test_an_open_directory_with_other_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("")
    tmp_path.chmod(0o755)
    with pytest.raises(StartupError, match=r"'notes\.txt'.*chmod 700"):
        prepare_data_dir(tmp_path)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(StartupError, match=f"127.0.0.1:{port}: the port is already in use"):
            check_listen_address("127.0.0.1", port)


def test_an_encrypted_tls_key_is_refused_without_prompting(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass"),
        )
    )
    with pytest.raises(StartupError, match=f"--tls-key {key} is encrypted"):
        check_tls_files(cert, key)


def test_a_matching_pem_pair_passes(tmp_path: Path) -> None:
    check_tls_files(*self_signed(tmp_path))
