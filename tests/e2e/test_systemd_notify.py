"""`qkms serve` under a `Type=notify` unit: READY=1 from the main process once it really serves."""

from __future__ import annotations

import socket
import struct
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.server import QkmsServer, self_signed


def _receive_with_sender_pid(sock: socket.socket) -> tuple[str, int]:
    """One datagram and the PID the kernel vouches sent it (SCM_CREDENTIALS, as systemd reads it)."""
    message, ancillary, _flags, _address = sock.recvmsg(4096, socket.CMSG_SPACE(12))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, _uid, _gid = struct.unpack("iII", data[:12])
            return message.decode(), pid
    raise AssertionError("the datagram came without sender credentials")


@pytest.mark.parametrize("workers", [1, 2])
def test_ready_comes_from_the_main_pid_when_readyz_answers(tmp_path: Path, workers: int) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        address = str(tmp_path / "notify")
        sock.bind(address)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        sock.settimeout(30)
        server = QkmsServer(tmp_path / "data", workers=workers, env={"NOTIFY_SOCKET": address})
        server.start(wait=False)
        try:
            message, pid = _receive_with_sender_pid(sock)
            # systemd accepts it from the main PID only (NotifyAccess=main, the default).
            assert server.process is not None and pid == server.process.pid
            lines = message.splitlines()
            assert lines[0] == "READY=1"
            assert lines[1] == f"STATUS=serving on http://127.0.0.1:{server.port}"
            # Ready means ready: the API side answers at once, with no retry.
            with urllib.request.urlopen(f"{server.endpoint}/readyz", timeout=5) as response:
                assert response.status == 200
            sock.settimeout(1)
            with pytest.raises(TimeoutError):  # exactly one READY=1, not one per worker
                sock.recv(4096)
        finally:
            assert server.stop() == 0


def test_ready_is_sent_for_an_https_listener_too(tmp_path: Path) -> None:
    # The probe reaches its own HTTPS listener by address, whatever name the certificate is for.
    cert, key = self_signed(tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        address = str(tmp_path / "notify")
        sock.bind(address)
        sock.settimeout(30)
        server = QkmsServer(
            tmp_path / "data",
            extra_args=["--tls-cert", str(cert), "--tls-key", str(key)],
            env={"NOTIFY_SOCKET": address},
        )
        server.start(wait=False)
        try:
            message = sock.recv(4096).decode()
        finally:
            assert server.stop() == 0
    assert message.splitlines() == ["READY=1", f"STATUS=serving on https://127.0.0.1:{server.port}"]
