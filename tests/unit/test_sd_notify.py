"""systemd readiness: the datagram on a real AF_UNIX socket, sent only once /readyz answers 200."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from qkms.sd_notify import notify, notify_ready_when_serving


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket bound where systemd would put NOTIFY_SOCKET, and that address."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(10)
        yield sock, str(path)


def test_notify_sends_one_datagram_to_a_path_socket(listener: tuple[socket.socket, str]) -> None:
    sock, address = listener
    assert notify("READY=1", {"NOTIFY_SOCKET": address}) is True
    assert sock.recv(4096) == b"READY=1"


def test_notify_reaches_an_abstract_socket() -> None:
    name = f"qkms-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(10)
        assert notify("STOPPING=1", {"NOTIFY_SOCKET": "@" + name}) is True
        assert sock.recv(4096) == b"STOPPING=1"


@pytest.mark.parametrize("value", ["", "relative/path", "vsock:2:1234"])
def test_notify_without_a_usable_socket_sends_nothing(value: str) -> None:
    assert notify("READY=1", {"NOTIFY_SOCKET": value} if value else {}) is False


def test_no_probe_starts_outside_systemd() -> None:
    assert notify_ready_when_serving("127.0.0.1", 1, tls=False, environ={}) is None


class _Readyz(BaseHTTPRequestHandler):
    """Answers /readyz with 503 for the first `not_ready` probes, then 200."""

    not_ready = 3
    probes: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        assert self.path == "/readyz"
        status = 503 if len(self.probes) < self.not_ready else 200
        self.probes.append(status)
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_ready_is_sent_after_the_first_200_from_readyz(
    listener: tuple[socket.socket, str],
) -> None:
    sock, address = listener
    _Readyz.probes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Readyz)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        # A wildcard listen address is probed through loopback.
        probe = notify_ready_when_serving(
            "0.0.0.0",
            server.server_address[1],
            tls=False,
            environ={"NOTIFY_SOCKET": address},
        )
        assert probe is not None
        message = sock.recv(4096).decode()
        probe.join(timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert message.splitlines() == [
        "READY=1",
        f"STATUS=serving on http://127.0.0.1:{server.server_address[1]}",
    ]
    assert _Readyz.probes == [503, 503, 503, 200]
    assert not probe.is_alive()
