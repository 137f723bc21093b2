"""`qkms admin` changes land in the server's audit log, attributed to the OS user, without secrets."""

from __future__ import annotations

import base64
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import QkmsServer, admin_cli

pytestmark = pytest.mark.e2e

ACCOUNT = "444455556666"
MARKER = "SidOnlyInThePolicyText"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": MARKER, "Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
    }
)


def events(server: QkmsServer) -> list[dict[str, Any]]:
    lines = (server.data_dir / "audit.log").read_text().splitlines()
    return [json.loads(line) for line in lines]


def operator_events(server: QkmsServer) -> list[dict[str, Any]]:
    return [e for e in events(server) if e["userIdentity"]["type"] == "LocalOperator"]


def test_each_admin_change_is_one_audit_event_of_the_local_operator(tmp_path: Path) -> None:
    server = QkmsServer(tmp_path / "data").start()
    try:
        server.client().list_keys()  # the server's own event, in the same file
        user = ["--account", ACCOUNT, "--user", "alice"]
        admin_cli(server, "create-user", *user)
        key = admin_cli(server, "create-access-key", *user)
        admin_cli(
            server, "put-user-policy", *user, "--policy-name", "p1", "--policy-document", POLICY
        )
        admin_cli(server, "delete-user-policy", *user, "--policy-name", "p1")
        key_id = ["--access-key-id", key["AccessKeyId"]]
        admin_cli(server, "disable-access-key", *key_id)
        admin_cli(server, "enable-access-key", *key_id)
        admin_cli(server, "delete-access-key", *key_id)
        admin_cli(server, "list-users", "--account", ACCOUNT)  # reads are not recorded
    finally:
        server.stop()

    recorded = operator_events(server)
    assert [e["eventName"] for e in recorded] == [
        "CreateUser",
        "CreateAccessKey",
        "PutUserPolicy",
        "DeleteUserPolicy",
        "UpdateAccessKey",
        "UpdateAccessKey",
        "DeleteAccessKey",
    ]
    assert "ListKeys" in [e["eventName"] for e in events(server)]
    os_user = pwd.getpwuid(os.getuid()).pw_name
    for event in recorded:
        assert event["userIdentity"]["userName"] == os_user
        assert event["eventSource"] == "iam.qkms"
        assert event["recipientAccountId"] == ACCOUNT
        assert event["readOnly"] is False and "errorCode" not in event
        assert event["requestParameters"]["userName"] == "alice"
    assert recorded[1]["responseElements"]["accessKey"]["accessKeyId"] == key["AccessKeyId"]
    assert [e["requestParameters"].get("status") for e in recorded[4:6]] == ["Inactive", "Active"]
    assert recorded[2]["requestParameters"]["policyName"] == "p1"
    text = (server.data_dir / "audit.log").read_text()
    assert key["SecretAccessKey"] not in text
    assert MARKER not in text


def test_a_refused_admin_change_is_recorded_with_its_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = QkmsServer(data_dir).start()
    server.stop()
    result = subprocess.run(
        [sys.executable, "-m", "qkms", "admin", "--data-dir", str(data_dir),
         "delete-user-policy", "--account", ACCOUNT, "--user", "nobody", "--policy-name", "p"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("QKMS_")},
        check=False,
    )  # fmt: skip

    assert result.returncode == 1
    assert "no user 'nobody'" in result.stderr
    [event] = operator_events(server)
    assert event["eventName"] == "DeleteUserPolicy"
    assert event["errorCode"] == "NoSuchEntity"
    assert "nobody" in event["errorMessage"]


def test_a_root_key_rotation_is_recorded_without_either_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = QkmsServer(data_dir).start()
    server.client().create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    server.stop()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QKMS_")}
    old_key = (data_dir / "root.key").read_text().strip()
    new_key = base64.b64encode(os.urandom(32)).decode()
    result = subprocess.run(
        [sys.executable, "-m", "qkms", "root-key", "rotate", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "QKMS_NEW_ROOT_KEY": new_key},
        check=False,
    )
    assert result.returncode == 0, result.stderr

    [event] = operator_events(server)
    assert event["eventName"] == "RotateRootKey" and event["eventSource"] == "kms.qkms"
    assert event["responseElements"]["keysRewrapped"] == 1
    assert event["userAgent"] == "qkms root-key rotate"
    text = (data_dir / "audit.log").read_text()
    assert old_key not in text and new_key not in text
