"""The first things a user can get wrong at `qkms serve`: one clear line each, nothing written.

Each case runs the real command and checks four things: a non-zero exit, a single line on
stderr without a traceback, that the line names the file, port or variable at fault, and that
the data directory was not created (or, when it existed, was left as it was).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import free_port, self_signed
from tests.storage.postgres_support import require_postgres

pytestmark = pytest.mark.e2e


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QKMS_")}
    return subprocess.run(
        [sys.executable, "-m", "qkms", "serve", "--workers", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **(env or {})},
        check=False,
    )


def refused_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a refused start printed (asserting it refused, briefly)."""
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Try it" not in lines[0]
    return lines[0]


@pytest.mark.parametrize("broken", ["cert missing", "key missing", "cert not PEM", "key not PEM"])
def test_a_tls_file_missing_or_not_pem_is_named(tmp_path: Path, broken: str) -> None:
    cert, key = self_signed(tmp_path)
    bad = cert if broken.startswith("cert") else key
    if broken.endswith("missing"):
        bad.unlink()
    else:
        bad.write_text("this is not a PEM file\n")
    data_dir = tmp_path / "data"

    line = refused_line(
        serve("--data-dir", str(data_dir), "--tls-cert", str(cert), "--tls-key", str(key))
    )

    assert str(bad) in line
    assert ("--tls-cert" if bad == cert else "--tls-key") in line
    assert not data_dir.exists()


def test_a_tls_key_that_does_not_match_the_certificate_is_refused(tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, other_key = self_signed(other)
    data_dir = tmp_path / "data"

    line = refused_line(
        serve("--data-dir", str(data_dir), "--tls-cert", str(cert), "--tls-key", str(other_key))
    )

    assert str(other_key) in line and str(cert) in line
    assert not data_dir.exists()


def test_a_data_dir_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    data_dir = blocker / "data"

    line = refused_line(serve("--data-dir", str(data_dir)))

    assert str(data_dir) in line
    assert "cannot be created" in line
    assert blocker.read_text() == "not a directory\n"


def _can_mount_read_only() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o ro,size=64k tmpfs /mnt"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.parametrize("where", ["the mount itself", "a new directory under it"])
def test_a_read_only_data_dir_is_named(tmp_path: Path, where: str) -> None:
    # Tests run as root, for whom chmod does not stop writes: a read-only filesystem does. The
    # mount lives in a private mount namespace, so it vanishes with the process.
    if not _can_mount_read_only():
        pytest.skip("cannot mount a read-only filesystem here (needs unshare --mount)")
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    data_dir = mount_point if where == "the mount itself" else mount_point / "data"
    script = 'mount -t tmpfs -o ro,size=64k tmpfs "$1" && shift && exec "$@"'
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QKMS_")}
    result = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, "sh", str(mount_point), sys.executable,
         "-m", "qkms", "serve", "--workers", "1", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean,
        check=False,
    )  # fmt: skip

    line = refused_line(result)

    assert str(data_dir) in line
    assert "read-only" in line


def test_a_port_in_use_is_named_before_anything_is_written(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()

        line = refused_line(serve("--data-dir", str(data_dir), "--port", str(port)))

    assert f"127.0.0.1:{port}" in line
    assert "in use" in line
    assert not data_dir.exists()


def test_a_malformed_port_variable_is_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    line = refused_line(serve("--data-dir", str(data_dir), env={"QKMS_PORT": "abc"}))

    assert "QKMS_PORT" in line and "abc" in line
    assert not data_dir.exists()


@pytest.mark.postgres
def test_a_postgresql_role_the_server_rejects_shows_the_servers_reason(tmp_path: Path) -> None:
    require_postgres()
    data_dir = tmp_path / "data"
    url = "postgresql://qkms_no_such_role@127.0.0.1:5432/test"

    line = refused_line(
        serve("--data-dir", str(data_dir), "--database-url", url, "--store-timeout", "5")
    )

    assert 'role "qkms_no_such_role" does not exist' in line
    assert "did not answer" not in line
    assert not data_dir.exists()
