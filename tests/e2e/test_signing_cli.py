"""The AWS CLI's `kms sign` / `kms verify` with fileb:// against QKMS, and OpenSSL accepting a
P-256 signature from QKMS (`openssl dgst -sha256 -verify pub.pem -signature sig.der msg`)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.e2e.server import QkmsServer
from tests.e2e.support import aws


def test_cli_sign_and_verify_with_fileb(server: QkmsServer, kms: Any, tmp_path: Path) -> None:
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    message = tmp_path / "message.bin"
    message.write_bytes(b"signed by the AWS CLI through QKMS\n")
    signed = aws(
        server, tmp_path, "kms", "sign", "--key-id", key_id,
        "--message", f"fileb://{message}", "--message-type", "RAW",
        "--signing-algorithm", "ECDSA_SHA_256", "--query", "Signature", "--output", "text",
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    signature = tmp_path / "signature.der"
    signature.write_bytes(base64.b64decode(signed.stdout.strip()))
    verified = aws(
        server, tmp_path, "kms", "verify", "--key-id", key_id,
        "--message", f"fileb://{message}", "--message-type", "RAW",
        "--signing-algorithm", "ECDSA_SHA_256", "--signature", f"fileb://{signature}",
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["SignatureValid"] is True
    other = tmp_path / "other.bin"
    other.write_bytes(b"not what was signed\n")
    refused = aws(
        server, tmp_path, "kms", "verify", "--key-id", key_id,
        "--message", f"fileb://{other}", "--message-type", "RAW",
        "--signing-algorithm", "ECDSA_SHA_256", "--signature", f"fileb://{signature}",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "KMSInvalidSignatureException" in refused.stderr


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_a_p256_signature_from_qkms(kms: Any, tmp_path: Path) -> None:
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    message = tmp_path / "msg"
    message.write_bytes(b"OpenSSL checks what QKMS signed")
    signature = kms.sign(
        KeyId=key_id, Message=message.read_bytes(), SigningAlgorithm="ECDSA_SHA_256"
    )["Signature"]
    (tmp_path / "sig.der").write_bytes(signature)
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    (tmp_path / "pub.pem").write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    command = ["openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "msg"]
    accepted = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert accepted.returncode == 0 and "Verified OK" in accepted.stdout, accepted.stderr
    message.write_bytes(b"OpenSSL checks what QKMS did not sign")
    refused = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
