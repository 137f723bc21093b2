"""The AWS CLI against QKMS, restarts, first start, root-key mismatch, and no secret at rest
(DESIGN §3, §6)."""

from __future__ import annotations

import base64
import configparser
import json
import os
import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from qkms.crypto import RootKey, unwrap
from tests.e2e.server import ADMIN_ACCESS_KEY_ID, REGION, QkmsServer
from tests.e2e.support import aws, kms_public_key
from tests.peer_keys import public_key_der

ACCOUNT = "111122223333"


# --- AWS CLI --------------------------------------------------------------------------------
def test_cli_creates_a_key_and_derives_the_right_secret(
    server: QkmsServer, kms: Any, tmp_path: Path
) -> None:
    created = aws(
        server, tmp_path, "kms", "create-key", "--key-spec", "ECC_NIST_P256",
        "--key-usage", "KEY_AGREEMENT",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    metadata = json.loads(created.stdout)["KeyMetadata"]
    assert metadata["KeyUsage"] == "KEY_AGREEMENT"
    assert metadata["KeyAgreementAlgorithms"] == ["ECDH"]
    key_id = metadata["KeyId"]

    peer = ec.generate_private_key(ec.SECP256R1())
    peer_file = tmp_path / "peer.der"
    peer_file.write_bytes(public_key_der(peer.public_key()))
    derived = aws(
        server, tmp_path, "kms", "derive-shared-secret", "--key-id", key_id,
        "--key-agreement-algorithm", "ECDH", "--public-key", f"fileb://{peer_file}",
    )  # fmt: skip
    assert derived.returncode == 0, derived.stderr
    output = json.loads(derived.stdout)
    assert output["KeyId"] == f"arn:verenc:{ACCOUNT}:key/{key_id}"
    assert output["KeyAgreementAlgorithm"] == "ECDH"
    expected = peer.exchange(ec.ECDH(), kms_public_key(kms, key_id))
    assert base64.b64decode(output["SharedSecret"], validate=True) == expected


def test_cli_error_exits_non_zero_and_names_the_code(server: QkmsServer, tmp_path: Path) -> None:
    result = aws(
        server, tmp_path, "kms", "describe-key", "--key-id", "00000000-0000-4000-8000-000000000000"
    )
    assert result.returncode != 0
    assert "NotFoundException" in result.stderr


# --- restarts -------------------------------------------------------------------------------
def test_keys_and_secrets_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    peer = ec.generate_private_key(ec.SECP384R1())
    first = QkmsServer(data_dir).start()
    try:
        kms = first.client()
        key_id = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
            "KeyId"
        ]
        disabled = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="DERIVE_SHARED_SECRET")
        kms.disable_key(KeyId=disabled["KeyMetadata"]["KeyId"])
        secret = kms.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=public_key_der(peer.public_key())
        )["SharedSecret"]
        keys_before = kms.list_keys()["Keys"]
    finally:
        code = first.stop()
    assert code == 0, first.log()

    second = QkmsServer(data_dir).start()
    try:
        kms = second.client()
        assert kms.list_keys()["Keys"] == keys_before
        again = kms.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=public_key_der(peer.public_key())
        )["SharedSecret"]
        assert again == secret
        state = kms.describe_key(KeyId=disabled["KeyMetadata"]["KeyId"])["KeyMetadata"]
        assert state["KeyState"] == "Disabled"
        assert state["KeyUsage"] == "DERIVE_SHARED_SECRET"
    finally:
        second.stop()


def test_first_start_writes_admin_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    qkms = QkmsServer(data_dir, preset_admin=False).start()
    try:
        credentials = data_dir / "credentials"
        root_key = data_dir / "root.key"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        assert stat.S_IMODE(root_key.stat().st_mode) == 0o600
        assert len(base64.b64decode(root_key.read_text().strip(), validate=True)) == 32

        ini = configparser.ConfigParser()
        ini.read_string(credentials.read_text())
        assert ini.sections() == ["qkms"]
        access_key_id = ini["qkms"]["aws_access_key_id"]
        secret = ini["qkms"]["aws_secret_access_key"]
        assert access_key_id != ADMIN_ACCESS_KEY_ID and len(secret) >= 20

        empty_config = tmp_path / "empty-config"
        empty_config.touch()
        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        ):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(empty_config))
        session = boto3.Session(profile_name="qkms", region_name=REGION)
        kms = session.client(
            "kms", endpoint_url=qkms.endpoint, config=Config(retries={"total_max_attempts": 1})
        )
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
        assert key["AWSAccountId"] == ACCOUNT
        assert [k["KeyId"] for k in kms.list_keys()["Keys"]] == [key["KeyId"]]
        # The preset test admin does not exist on this server.
        with pytest.raises(Exception, match="UnrecognizedClientException"):
            qkms.client().list_keys()

        console = qkms.log()
        assert str(credentials.resolve()) in console
        assert re.search(r"aws .*kms ", console), console
        assert secret not in console
    finally:
        qkms.stop()

    # A second start keeps the same credentials file.
    content = credentials.read_text()
    qkms = QkmsServer(data_dir, preset_admin=False).start()
    try:
        assert credentials.read_text() == content
    finally:
        qkms.stop()


def test_wrong_root_key_refuses_to_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    qkms = QkmsServer(data_dir).start()
    try:
        key_id = qkms.client().create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")[
            "KeyMetadata"
        ]["KeyId"]
    finally:
        qkms.stop()

    other_root = base64.b64encode(os.urandom(32)).decode()
    log_offset = qkms.log_path.stat().st_size
    wrong = QkmsServer(data_dir, env={"QKMS_ROOT_KEY": other_root}).start(wait=False)
    assert wrong.process is not None
    code = wrong.process.wait(timeout=30)
    assert code != 0
    log = wrong.log_path.read_bytes()[log_offset:].decode(errors="replace")
    assert re.search(r"root key", log, re.IGNORECASE), log
    assert other_root not in log
    wrong.stop()

    # Nothing was written: the right root key still works.
    qkms = QkmsServer(data_dir).start()
    try:
        assert qkms.client().describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    finally:
        qkms.stop()


# --- no secret at rest or in the log ---------------------------------------------------------
def encodings(secret: bytes) -> list[bytes]:
    return [
        secret,
        base64.b64encode(secret),
        base64.b64encode(secret).rstrip(b"="),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
        secret.hex().encode(),
        secret.hex().upper().encode(),
    ]


def test_shared_secrets_and_private_keys_are_never_written(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    qkms = QkmsServer(data_dir, extra_args=["--log-level", "debug"]).start()
    secrets: list[bytes] = []
    key_ids: list[str] = []
    try:
        kms = qkms.client()
        for spec, curve in (
            ("ECC_NIST_P256", ec.SECP256R1()),
            ("ECC_NIST_P521", ec.SECP521R1()),
            ("ECC_SECG_P256K1", ec.SECP256K1()),
        ):
            key_id = kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
            key_ids.append(key_id)
            for _ in range(3):
                peer = ec.generate_private_key(curve)
                secrets.append(
                    kms.derive_shared_secret(
                        KeyId=key_id,
                        KeyAgreementAlgorithm="ECDH",
                        PublicKey=public_key_der(peer.public_key()),
                    )["SharedSecret"]
                )
        # Error paths log too: a wrong-curve key, and a dry run.
        with pytest.raises(Exception, match="InvalidPublicKeyException"):
            kms.derive_shared_secret(
                KeyId=key_ids[0], KeyAgreementAlgorithm="ECDH", PublicKey=b"\x30\x03\x02\x01\x00"
            )
        running = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}
    finally:
        qkms.stop()
    assert len(set(secrets)) == len(secrets) == 9
    assert any(p.name.endswith("-wal") for p in running), sorted(p.name for p in running)

    files = dict(running)
    files.update({p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()})
    log = qkms.log_path.read_bytes()
    assert b"DeriveSharedSecret" in log  # the log was written, so the scan means something

    for secret in secrets:
        for form in encodings(secret):
            assert form not in log, "a shared secret is in the server log"
            for path, content in files.items():
                assert form not in content, f"a shared secret is in {path.name}"

    # The root key and the private keys never reach the log; private keys are stored wrapped.
    root_text = (data_dir / "root.key").read_text().strip()
    root = RootKey.from_base64(root_text)
    root_bytes = base64.b64decode(root_text)
    for form in [root_text.encode(), *encodings(root_bytes)]:
        assert form not in log, "the root key is in the server log"
    with sqlite3.connect(data_dir / "qkms.db") as db:
        rows = dict(db.execute("SELECT key_id, wrapped_material FROM keys").fetchall())
    db.close()
    assert set(key_ids) <= set(rows)
    for key_id in key_ids:
        pkcs8 = unwrap(root, rows[key_id], f"arn:verenc:{ACCOUNT}:key/{key_id}".encode())
        private = serialization.load_der_private_key(pkcs8, password=None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        scalar = private.private_numbers().private_value
        scalar_bytes = scalar.to_bytes((private.curve.key_size + 7) // 8, "big")
        for form in [*encodings(pkcs8), *encodings(scalar_bytes)]:
            assert form not in log, "a private key is in the server log"
            for path, content in files.items():
                assert form not in content, f"a private key is in clear in {path.name}"


# --- shutdown (last: a failure here must not hide the checks above) -----------------------
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_the_server_with_exit_code_0(tmp_path: Path, workers: int) -> None:
    qkms = QkmsServer(tmp_path / "data", workers=workers).start()
    qkms.client().list_keys()
    code = qkms.stop()
    assert code == 0, f"qkms serve exited with {code} on SIGTERM:\n{qkms.log()}"
    assert "Traceback" not in qkms.log()
