"""`qkms root-key rotate` online: servers keep serving, secrets stay the same (DESIGN §6)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.server import QkmsServer
from tests.e2e.server import run_qkms as qkms
from tests.peer_keys import peer_public_key_der


def test_rotation_while_serving(tmp_path: Path) -> None:
    data = tmp_path / "data"
    peer = peer_public_key_der()
    first = QkmsServer(data).start()
    try:
        kms = first.client()
        key_ids = [
            kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
                "KeyId"
            ]
            for _ in range(10)
        ]
        secrets = [
            kms.derive_shared_secret(KeyId=k, KeyAgreementAlgorithm="ECDH", PublicKey=peer)[
                "SharedSecret"
            ]
            for k in key_ids
        ]
    finally:
        assert first.stop() == 0

    old_key = tmp_path / "old.key"
    old_key.write_text((data / "root.key").read_text())
    generated = qkms("root-key", "generate")
    assert generated.returncode == 0
    new_key = tmp_path / "new.key"
    new_key.write_text(generated.stdout)

    # 1. servers restart with the new key, still able to read the old one
    during = QkmsServer(
        data, extra_args=["--root-key-file", str(new_key), "--previous-root-key-file", str(old_key)]
    ).start()
    try:
        kms = during.client()
        created_during = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")[
            "KeyMetadata"
        ]["KeyId"]
        # 2. the rotation, online
        rotated = qkms(
            "root-key", "rotate", "--data-dir", str(data), "--root-key-file", str(old_key),
            "--new-root-key-file", str(new_key),
        )  # fmt: skip
        assert rotated.returncode == 0, rotated.stderr
        assert "10 key(s)" in rotated.stderr  # the one created during the rotation was already new
        assert "keys [" in rotated.stderr  # the progress bar
        for key_id, secret in zip(key_ids, secrets, strict=True):
            again = kms.derive_shared_secret(
                KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer
            )
            assert again["SharedSecret"] == secret
    finally:
        assert during.stop() == 0

    # 3. the old key is no longer needed, and no longer accepted
    after = QkmsServer(data, extra_args=["--root-key-file", str(new_key)]).start()
    try:
        kms = after.client()
        for key_id, secret in zip(key_ids, secrets, strict=True):
            again = kms.derive_shared_secret(
                KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer
            )
            assert again["SharedSecret"] == secret
        assert kms.describe_key(KeyId=created_during)["KeyMetadata"]["KeyState"] == "Enabled"
    finally:
        after.stop()
    refused = qkms("serve", "--data-dir", str(data), "--port", "1", "--root-key-file", str(old_key))
    assert refused.returncode != 0
    assert "root key" in refused.stderr
