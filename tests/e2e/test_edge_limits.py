"""The HTTP edge against a real `qkms serve`: slow clients, the connection cap, bad framing.

DESIGN §1: never a hang. A client that sends half a request and stalls is closed within the
read timeout; idle kept-alive connections are closed; while hundreds of stalled clients are
held, others are still served; one connection beyond a worker's limit is refused at once.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer, raw_call
from tests.peer_keys import peer_public_key_der

REQUEST_TIMEOUT = 1.5
KEEPALIVE_TIMEOUT = 1.0
SLACK = 1.5  # scheduling on a shared, busy machine
HELD = 200
PATIENT_LIMIT = 250


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    """Short read and idle timeouts, so stalled clients are dropped quickly."""
    qkms = QkmsServer(
        tmp_path_factory.mktemp("strict") / "data",
        extra_args=[
            "--request-timeout", str(REQUEST_TIMEOUT),
            "--keepalive-timeout", str(KEEPALIVE_TIMEOUT),
        ],
    ).start()  # fmt: skip
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    """One worker that holds stalled clients long enough to measure others beside them."""
    qkms = QkmsServer(
        tmp_path_factory.mktemp("patient") / "data",
        workers=1,
        extra_args=["--request-timeout", "8", "--max-connections", str(PATIENT_LIMIT)],
    ).start()
    yield qkms
    qkms.stop()


def connect(server: QkmsServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    received = b""
    sock.settimeout(within)
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"still open after {within} s; got {received!r}") from None
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - started


def is_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def json_error(response: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/x-amz-json-1.1" in head.lower()
    return status, json.loads(body)


HALF_A_REQUEST_LINE = b"POST / HT"
HEADERS_AND_HALF_A_BODY = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
    b"X-Amz-Target: TrentService.ListKeys\r\nContent-Length: 100\r\n\r\n" + b'{"Limit": '
)


# --- read and idle timeouts ----------------------------------------------------------------------


def test_half_a_request_line_is_closed_within_the_read_timeout(strict: QkmsServer) -> None:
    with connect(strict) as sock:
        sock.sendall(HALF_A_REQUEST_LINE)
        received, waited = read_until_closed(sock, REQUEST_TIMEOUT + SLACK)
    assert waited >= REQUEST_TIMEOUT - 0.3
    status, error = json_error(received)
    assert (status, error["__type"]) == (408, "RequestTimeoutException")


def test_headers_with_half_a_body_are_answered_408_and_closed(strict: QkmsServer) -> None:
    with connect(strict) as sock:
        sock.sendall(HEADERS_AND_HALF_A_BODY)
        received, waited = read_until_closed(sock, REQUEST_TIMEOUT + SLACK)
    assert waited >= REQUEST_TIMEOUT - 0.3
    status, error = json_error(received)
    assert (status, error["__type"]) == (408, "RequestTimeoutException")


def test_a_body_trickled_slower_than_the_timeout_is_cut_off(strict: QkmsServer) -> None:
    # Sending a byte now and then does not extend the deadline (unlike a per-read timeout).
    with connect(strict) as sock:
        sock.sendall(HEADERS_AND_HALF_A_BODY)
        started = time.monotonic()
        with contextlib.suppress(OSError):
            while time.monotonic() - started < REQUEST_TIMEOUT + SLACK:
                sock.sendall(b" ")
                time.sleep(0.2)
        received, _ = read_until_closed(sock, SLACK)
    assert b" 408 " in received.split(b"\r\n", 1)[0]


def test_a_connection_that_sends_nothing_is_closed_silently(strict: QkmsServer) -> None:
    with connect(strict) as sock:
        received, waited = read_until_closed(sock, REQUEST_TIMEOUT + SLACK)
    assert received == b""
    assert waited >= REQUEST_TIMEOUT - 0.3


def test_an_idle_kept_alive_connection_is_closed(strict: QkmsServer) -> None:
    with connect(strict) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received, waited = read_until_closed(sock, KEEPALIVE_TIMEOUT + SLACK)
    assert received.startswith(b"HTTP/1.1 200 ")
    assert waited >= KEEPALIVE_TIMEOUT - 0.3


def test_stray_bytes_between_requests_do_not_keep_a_connection_open(strict: QkmsServer) -> None:
    # A line break between requests is no request yet (the parser skips it), but it stops the
    # idle timer: the read deadline must take over.
    with connect(strict) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(0.3)
        sock.sendall(b"\r\n")
        received, _ = read_until_closed(sock, REQUEST_TIMEOUT + KEEPALIVE_TIMEOUT + SLACK)
    assert received.startswith(b"HTTP/1.1 200 ")


def test_a_complete_request_is_not_cut_off(strict: QkmsServer) -> None:
    kms = strict.client()
    assert "Keys" in kms.list_keys()
    time.sleep(REQUEST_TIMEOUT + 0.5)  # the pooled connection has been closed meanwhile
    assert "Keys" in kms.list_keys()


# --- many stalled clients, and the connection cap ----------------------------------------------


def test_a_derive_succeeds_within_a_second_while_200_stalled_clients_are_held(
    patient: QkmsServer,
) -> None:
    kms = patient.client()
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
        "KeyId"
    ]
    peer = peer_public_key_der()
    kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer)
    stalled = [connect(patient) for _ in range(HELD)]
    try:
        for n, sock in enumerate(stalled):
            sock.sendall(HALF_A_REQUEST_LINE if n % 2 else HEADERS_AND_HALF_A_BODY)
        time.sleep(0.2)  # let the worker accept them all
        started = time.monotonic()
        secret = kms.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer
        )["SharedSecret"]
        elapsed = time.monotonic() - started
        assert len(secret) == 32
        assert elapsed < 1.0, f"derive took {elapsed:.3f} s beside {HELD} stalled clients"
        assert all(is_open(sock) for sock in stalled)  # they really were held meanwhile
    finally:
        for sock in stalled:
            sock.close()


def test_one_connection_over_the_limit_is_refused_at_once_with_503(patient: QkmsServer) -> None:
    held = [connect(patient) for _ in range(PATIENT_LIMIT)]
    try:
        for sock in held:
            sock.sendall(HALF_A_REQUEST_LINE)
        time.sleep(0.3)  # let the worker accept them all
        with connect(patient) as extra:
            received, waited = read_until_closed(extra, 3.0)
        assert waited < 1.5
        status, error = json_error(received)
        assert (status, error["__type"]) == (503, "ServiceUnavailableException")
        # A boto3 client beyond the limit gets the same answer, as an error it can retry.
        with pytest.raises(ClientError) as refused:
            patient.client().list_keys()
        assert refused.value.response["Error"]["Code"] == "ServiceUnavailableException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    finally:
        for sock in held:
            sock.close()
    # Their slots come back as soon as they close.
    deadline = time.monotonic() + 5
    while True:
        try:
            assert "Keys" in patient.client().list_keys()
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert "refused a connection" in patient.log()


# --- answers in AWS's JSON shape ----------------------------------------------------------------


def test_malformed_framing_gets_a_json_error(strict: QkmsServer) -> None:
    with connect(strict) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        received, _ = read_until_closed(sock, 5)
    status, error = json_error(received)
    assert (status, error["__type"]) == (400, "SerializationException")
    assert "message" in error


@pytest.mark.parametrize("where", ["header", "url"])
def test_a_request_head_over_64_kib_is_refused_as_json(strict: QkmsServer, where: str) -> None:
    filler = b"a" * (65 * 1024)
    if where == "url":
        head = b"GET /" + filler + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    else:
        head = b"POST / HTTP/1.1\r\nHost: x\r\nX-Filler: " + filler + b"\r\n\r\n"
    with connect(strict) as sock:
        with contextlib.suppress(OSError):  # the server may close before all of it is sent
            sock.sendall(head)
        received, _ = read_until_closed(sock, 5)
    status, error = json_error(received)
    assert (status, error["__type"]) == (400, "SerializationException")
    assert "64 KiB" in error["message"]


def test_healthz_does_not_show_the_process_id(patient: QkmsServer) -> None:
    with connect(patient) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received, _ = read_until_closed(sock, 5)
    body = json.loads(received.partition(b"\r\n\r\n")[2])
    assert patient.process is not None  # one worker: uvicorn serves in this very process
    assert "pid" not in body
    assert str(patient.process.pid) not in body.values()
    assert body["status"] == "ok"


def test_a_deep_body_is_a_serialization_error_without_a_traceback(patient: QkmsServer) -> None:
    # In a member DescribeKey does not have, so the parser must descend all the way.
    body = b'{"KeyId": "alias/x", "Future": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = raw_call(patient.endpoint, "DescribeKey", body)
    assert response.status == 400
    assert response.json()["__type"] == "SerializationException"
    assert "Traceback" not in patient.log()
    assert "RecursionError" not in patient.log()


def test_environment_variables_set_the_limits_in_every_worker(tmp_path: Path) -> None:
    # Spawned workers rebuild their settings from QKMS_*; each must arm the same deadline.
    server = QkmsServer(
        tmp_path / "data", workers=2, env={"QKMS_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT)}
    ).start()
    try:
        stalled = [connect(server) for _ in range(8)]  # spread over both workers
        for sock in stalled:
            sock.sendall(HALF_A_REQUEST_LINE)
        for sock in stalled:
            received, _ = read_until_closed(sock, REQUEST_TIMEOUT + SLACK)
            assert b" 408 " in received.split(b"\r\n", 1)[0]
            sock.close()
    finally:
        server.stop()
