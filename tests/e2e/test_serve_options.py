"""`qkms serve` options of DESIGN §6: TLS, root key sources, health endpoints, refused settings."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import (
    QkmsServer,
    kms_client,
    self_signed,
)
from tests.peer_keys import peer_public_key_der


def test_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server = QkmsServer(
        tmp_path / "data", extra_args=["--tls-cert", str(cert), "--tls-key", str(key)]
    )
    server.start(wait=False)
    try:
        context = ssl.create_default_context(cafile=str(cert))
        url = f"https://127.0.0.1:{server.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/readyz", context=context, timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        kms = kms_client(url, verify=str(cert))
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
            "KeyId"
        ]
        assert len(derive(kms, key_id, peer_public_key_der())) == 32
        # Plain HTTP on the TLS port is not served.
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=2)
    finally:
        server.stop()


def test_root_key_from_environment(tmp_path: Path) -> None:
    root = base64.b64encode(os.urandom(32)).decode()
    data = tmp_path / "data"
    peer = ec_der(ec.SECP384R1())
    server = QkmsServer(data, env={"QKMS_ROOT_KEY": root}).start()
    try:
        kms = server.client()
        key_id = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
            "KeyId"
        ]
        secret = derive(kms, key_id, peer)
    finally:
        assert server.stop() == 0
    assert not (data / "root.key").exists()  # the environment's key is not copied to disk
    again = QkmsServer(data, env={"QKMS_ROOT_KEY": root}).start()
    try:
        assert derive(again.client(), key_id, peer) == secret
    finally:
        again.stop()
    # Without the key the server refuses to start rather than make a new one.
    refused = subprocess.run(
        [sys.executable, "-m", "qkms", "serve", "--data-dir", str(data), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("QKMS_")},
    )
    assert refused.returncode != 0
    assert "root key" in refused.stderr


def derive(kms: Any, key_id: str, peer: bytes) -> bytes:
    response = kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer)
    return bytes(response["SharedSecret"])


def ec_der(curve: ec.EllipticCurve) -> bytes:
    return peer_public_key_der(curve)


def test_root_key_file_option(tmp_path: Path) -> None:
    key_file = tmp_path / "root.b64"
    key_file.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    data = tmp_path / "data"
    server = QkmsServer(data, extra_args=["--root-key-file", str(key_file)]).start()
    try:
        kms = server.client()
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
            "KeyId"
        ]
        assert len(derive(kms, key_id, peer_public_key_der())) == 32
    finally:
        server.stop()
    assert not (data / "root.key").exists()


def test_health_endpoints(tmp_path: Path) -> None:
    server = QkmsServer(tmp_path / "data").start()
    try:
        with urllib.request.urlopen(f"{server.endpoint}/healthz", timeout=5) as r:
            assert r.status == 200
            assert json.loads(r.read())["status"] == "ok"
        with urllib.request.urlopen(f"{server.endpoint}/readyz", timeout=5) as r:
            assert r.status == 200
            assert json.loads(r.read()) == {"status": "ready", "store": "ok"}
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--database-url", "mysql://127.0.0.1/test"], "--database-url"),
        (["--tls-cert", "/nonexistent.pem"], "--tls-key"),
        (["--store-timeout", "0"], "--store-timeout"),
    ],
)
def test_refused_settings_exit_with_a_message(tmp_path: Path, args: list[str], phrase: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qkms", "serve", "--data-dir", str(tmp_path / "d"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("QKMS_")},
    )
    assert result.returncode == 2
    assert phrase in result.stderr
    assert "Traceback" not in result.stderr


def test_environment_variables_configure_serve(tmp_path: Path) -> None:
    server = QkmsServer(
        tmp_path / "data",
        env={"QKMS_ARN_FORMAT": "aws", "QKMS_PARTITION": "qtest", "QKMS_REGION": "eu-west-1"},
    )
    server.start()
    try:
        # A key belongs to its creating request's region (DESIGN §4a): sign for that region;
        # the partition, which only the settings decide, shows the variables were read.
        arn = server.client(region="eu-west-1").create_key(
            KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT"
        )["KeyMetadata"]["Arn"]
        assert arn.startswith("arn:qtest:kms:eu-west-1:111122223333:key/")
    finally:
        server.stop()
