"""The audit trail of a real `qkms serve`: one event per call, failures, redaction, restarts,
the `qkms audit` commands, and failing closed (DESIGN §1, §3)."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from qkms.audit import iter_events
from tests.e2e.server import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET, QkmsServer, kms_client, raw_call
from tests.e2e.server import run_qkms as qkms
from tests.peer_keys import peer_public_key_der

pytestmark = pytest.mark.e2e
ACCOUNT = "111122223333"


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Callable[..., QkmsServer]]:
    servers: list[QkmsServer] = []

    def start(*extra_args: str, workers: int = 1) -> QkmsServer:
        server = QkmsServer(tmp_path / "data", workers=workers, extra_args=list(extra_args))
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


class Calls:
    """Makes calls and remembers, per request id, what the audit event must say."""

    def __init__(self) -> None:
        self.expected: dict[str, tuple[str, str | None]] = {}  # request id -> (name, error)

    def ok(self, name: str, function: Callable[..., Any], **kwargs: Any) -> Any:
        result = function(**kwargs)
        self.expected[result["ResponseMetadata"]["RequestId"]] = (name, None)
        return result

    def fails(self, name: str, code: str, function: Callable[..., Any], **kwargs: Any) -> None:
        with pytest.raises(ClientError) as info:
            function(**kwargs)
        assert info.value.response["Error"]["Code"] == code
        self.expected[info.value.response["ResponseMetadata"]["RequestId"]] = (name, code)

    def raw(self, server: QkmsServer, target: str, body: bytes | dict[str, Any], code: str) -> None:
        response = raw_call(server.endpoint, target, body)
        assert response.json()["__type"] == code
        self.expected[response.headers["x-amzn-requestid"]] = (target, code)


def events(server: QkmsServer) -> list[dict[str, Any]]:
    return list(iter_events(server.data_dir / "audit.log"))


def create_key(calls: Calls, kms: Any) -> str:
    created = calls.ok(
        "CreateKey", kms.create_key, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT"
    )
    return str(created["KeyMetadata"]["Arn"])


def test_every_call_successful_or_not_gives_exactly_one_event(
    started: Callable[..., QkmsServer],
) -> None:
    server = started()
    kms, calls = server.client(), Calls()
    key_arn = create_key(calls, kms)
    key_id = key_arn.rsplit("/", 1)[-1]
    calls.ok("DescribeKey", kms.describe_key, KeyId=key_id)
    calls.ok(
        "DeriveSharedSecret",
        kms.derive_shared_secret,
        KeyId=key_id,
        KeyAgreementAlgorithm="ECDH",
        PublicKey=peer_public_key_der(),
    )
    calls.fails("DescribeKey", "NotFoundException", kms.describe_key, KeyId="alias/none")
    calls.fails(
        "DeriveSharedSecret", "InvalidPublicKeyException", kms.derive_shared_secret,
        KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=b"not a public key",
    )  # fmt: skip
    calls.ok("DisableKey", kms.disable_key, KeyId=key_id)
    calls.fails(
        "DeriveSharedSecret", "DisabledException", kms.derive_shared_secret,
        KeyId=key_arn, KeyAgreementAlgorithm="ECDH", PublicKey=peer_public_key_der(),
    )  # fmt: skip
    wrong_secret = kms_client(server.endpoint, secret=ADMIN_SECRET + "x")
    calls.fails("DescribeKey", "InvalidSignatureException", wrong_secret.describe_key, KeyId=key_id)
    unknown = kms_client(server.endpoint, access_key_id="QKMSNOSUCHKEY0000000")
    calls.fails("ListKeys", "UnrecognizedClientException", unknown.list_keys)
    calls.raw(server, "DescribeKey", b"{not json", "SerializationException")
    calls.raw(server, "NoSuchOperation", {}, "UnknownOperationException")

    found = events(server)
    assert len(found) == len(calls.expected)
    by_id = {event["requestID"]: event for event in found}
    assert len(by_id) == len(found)
    server.stop()  # the request log line follows the response: read it once all are out
    server_log = server.log()
    for request_id, (name, code) in calls.expected.items():
        event = by_id[request_id]
        assert event["eventName"] == name
        assert event.get("errorCode") == code
        assert request_id in server_log  # DESIGN §1: the same id in the log and the audit event
        assert event["sourceIPAddress"] == "127.0.0.1"
        assert event["eventTime"].endswith("Z")
    derive = next(
        e for e in found if e["eventName"] == "DeriveSharedSecret" and "errorCode" not in e
    )
    assert derive["resources"] == [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key_arn}]
    assert derive["userIdentity"]["arn"] == f"arn:verenc:{ACCOUNT}:user/admin"
    assert derive["userIdentity"]["accessKeyId"] == ADMIN_ACCESS_KEY_ID
    assert set(derive["requestParameters"]) == {"keyId", "publicKeySha256", "keyAgreementAlgorithm"}
    disabled = next(e for e in found if e.get("errorCode") == "DisabledException")
    assert disabled["resources"][0]["ARN"] == key_arn
    forged = next(e for e in found if e.get("errorCode") == "InvalidSignatureException")
    assert forged["userIdentity"] == {"type": "Unknown", "accessKeyId": ADMIN_ACCESS_KEY_ID}
    assert forged["requestParameters"] is None
    nobody = next(e for e in found if e.get("errorCode") == "UnrecognizedClientException")
    assert nobody["userIdentity"] == {"type": "Unknown", "accessKeyId": "QKMSNOSUCHKEY0000000"}
    assert next(e for e in found if e["eventName"] == "CreateKey")["readOnly"] is False
    assert (server.data_dir / "audit.log").stat().st_mode & 0o077 == 0


def encodings(secret: bytes) -> list[bytes]:
    return [
        secret,
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
        secret.hex().encode(),
        secret.hex().upper().encode(),
    ]


def test_no_shared_secret_or_private_material_in_any_event(
    started: Callable[..., QkmsServer],
) -> None:
    server = started()
    kms, calls = server.client(), Calls()
    key_arn = create_key(calls, kms)
    secrets = [
        kms.derive_shared_secret(
            KeyId=key_arn, KeyAgreementAlgorithm="ECDH", PublicKey=peer_public_key_der()
        )["SharedSecret"]
        for _ in range(25)
    ]
    server.stop()
    audit = (server.data_dir / "audit.log").read_bytes()
    assert audit.count(b"\n") == 26
    forbidden = [s for secret in secrets for s in encodings(secret)]
    forbidden += [ADMIN_SECRET.encode(), b"PRIVATE KEY", b'"SharedSecret"', b'"sharedSecret"']
    forbidden += [(server.data_dir / "root.key").read_text().strip().encode()]
    for text in forbidden:
        assert text not in audit


def test_events_survive_a_restart_and_rotation(started: Callable[..., QkmsServer]) -> None:
    options = ("--audit-max-bytes", "4096", "--audit-backups", "20")
    server = started(*options)
    kms, calls = server.client(), Calls()
    key_arn = create_key(calls, kms)
    for _ in range(5):
        calls.ok("DescribeKey", kms.describe_key, KeyId=key_arn)
    assert server.stop() == 0
    before = [e["requestID"] for e in events(server)]
    assert before == list(calls.expected)

    server = started(*options)
    kms = server.client()
    for _ in range(5):
        calls.ok("DisableKey", kms.disable_key, KeyId=key_arn)
        calls.ok("EnableKey", kms.enable_key, KeyId=key_arn)
    after = [e["requestID"] for e in events(server)]
    assert after == list(calls.expected)  # old events kept, new ones appended in order
    assert (server.data_dir / "audit.log.1").exists()  # ~1.2 KiB an event: it rotated


def lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_audit_tail_and_search_commands(started: Callable[..., QkmsServer]) -> None:
    server = started()
    kms, calls = server.client(), Calls()
    key_arn = create_key(calls, kms)
    other_arn = create_key(calls, kms)
    for arn in (key_arn, key_arn, other_arn):
        calls.ok(
            "DeriveSharedSecret",
            kms.derive_shared_secret,
            KeyId=arn,
            KeyAgreementAlgorithm="ECDH",
            PublicKey=peer_public_key_der(),
        )
    calls.fails("DescribeKey", "NotFoundException", kms.describe_key, KeyId="alias/none")
    ids = list(calls.expected)
    data_dir = str(server.data_dir)

    tail = lines(qkms("audit", "--data-dir", data_dir, "tail", "-n", "2"))
    assert [e["requestID"] for e in tail] == ids[-2:]
    tail = lines(qkms("audit", "tail", "--data-dir", data_dir, "-n", "100"))
    assert [e["requestID"] for e in tail] == ids
    log = str(server.data_dir / "audit.log")
    derives = lines(
        qkms(
            "audit", "search", "--audit-log", log, "--key", key_arn, "--event", "DeriveSharedSecret"
        )
    )
    assert [e["requestID"] for e in derives] == ids[2:4]
    key_id = other_arn.rsplit("/", 1)[-1]
    assert len(lines(qkms("audit", "search", "--data-dir", data_dir, "--key", key_id))) == 2
    errors = lines(qkms("audit", "search", "--data-dir", data_dir, "--errors-only"))
    assert [e["errorCode"] for e in errors] == ["NotFoundException"]
    assert lines(qkms("audit", "search", "--data-dir", data_dir, "--since", "2999-01-01")) == []
    assert len(lines(qkms("audit", "search", "--data-dir", data_dir, "--since", "0"))) == len(ids)
    bad = qkms("audit", "search", "--data-dir", data_dir, "--since", "yesterday")
    assert bad.returncode == 2 and "qkms audit:" in bad.stderr


def test_a_call_whose_event_cannot_be_written_fails_closed(
    started: Callable[..., QkmsServer],
) -> None:
    server = started()
    kms = server.client()
    key_arn = create_key(Calls(), kms)
    log = server.data_dir / "audit.log"
    log.rename(log.with_name("audit.log.saved"))
    log.mkdir()  # the log can no longer be opened for appending
    calls: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (kms.disable_key, {"KeyId": key_arn}),
        (
            kms.derive_shared_secret,
            {"KeyId": key_arn, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peer_public_key_der()},
        ),
    ]
    for function, kwargs in calls:
        with pytest.raises(ClientError) as info:
            function(**kwargs)
        assert info.value.response["Error"]["Code"] == "KMSInternalException"
        assert "SharedSecret" not in info.value.response
    assert "AUDIT EVENT NOT WRITTEN" in server.log()
    log.rmdir()
    result = kms.describe_key(KeyId=key_arn)
    assert [e["requestID"] for e in events(server)] == [result["ResponseMetadata"]["RequestId"]]


def test_serve_refuses_to_start_without_a_writable_audit_log(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    server = QkmsServer(tmp_path / "data", extra_args=["--audit-log", str(blocked)])
    server.start(wait=False)
    assert server.process is not None
    assert server.process.wait(timeout=30) == 2
    assert "cannot write the audit log" in server.log()


def test_workers_share_one_log_of_whole_lines(started: Callable[..., QkmsServer]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server = started(workers=3)
    key_arn = create_key(Calls(), server.client())

    def derive_many(_: int) -> list[str]:
        kms = server.client()
        return [
            kms.derive_shared_secret(
                KeyId=key_arn, KeyAgreementAlgorithm="ECDH", PublicKey=peer_public_key_der()
            )["ResponseMetadata"]["RequestId"]
            for _ in range(40)
        ]

    with ThreadPoolExecutor(6) as pool:
        request_ids = [rid for batch in pool.map(derive_many, range(6)) for rid in batch]
    raw = (server.data_dir / "audit.log").read_bytes().splitlines()
    parsed = [json.loads(line) for line in raw]  # every line whole
    assert len(parsed) == 1 + len(request_ids)
    assert {e["requestID"] for e in parsed} >= set(request_ids)
