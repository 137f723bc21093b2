"""`qkms backup` under load, then `qkms restore` into a new directory: every key still works."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from tests.e2e.server import QkmsServer
from tests.e2e.server import run_qkms as _qkms
from tests.peer_keys import peer_public_key_der

PEER = peer_public_key_der()


class _Load:
    """Creates keys and uses them until stopped, remembering what each answered."""

    def __init__(self, server: QkmsServer) -> None:
        self._client = server.client()
        self.secrets: dict[str, bytes] = {}  # agreement key id -> derived secret
        self.ciphertexts: dict[bytes, tuple[str, bytes]] = {}  # ciphertext -> key id, plaintext
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)

    def one_round(self, n: int) -> None:
        ecc = self._client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
        key_id = ecc["KeyMetadata"]["KeyId"]
        derived = self._client.derive_shared_secret(
            KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=PEER
        )
        self.secrets[key_id] = derived["SharedSecret"]
        if n % 2 == 0:
            sym = self._client.create_key()["KeyMetadata"]["KeyId"]
            plaintext = f"round {n}".encode()
            blob = self._client.encrypt(KeyId=sym, Plaintext=plaintext)["CiphertextBlob"]
            self.ciphertexts[blob] = sym, plaintext

    def _run(self) -> None:
        n = 0
        deadline = time.monotonic() + 60
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                self.one_round(n)
                n += 1
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)


def test_backup_under_load_restores_every_key(tmp_path: Path) -> None:
    source = QkmsServer(tmp_path / "source", workers=2).start()
    restored: QkmsServer | None = None
    try:
        load = _Load(source)
        for n in range(6):
            load.one_round(n)
        before = dict(load.secrets), dict(load.ciphertexts)
        load.thread.start()
        time.sleep(0.5)
        backup_file = tmp_path / "qkms.backup"
        made = _qkms("backup", "--data-dir", str(source.data_dir), "--out", str(backup_file))
        assert made.returncode == 0, made.stderr
        time.sleep(0.3)
        load.stop.set()
        load.thread.join(timeout=70)
        assert not load.errors, load.errors
        assert backup_file.stat().st_mode & 0o777 == 0o600
        manifest = json.loads(made.stdout)
        assert manifest["rowCounts"]["keys"] >= len(before[0]) + len(before[1])

        target = tmp_path / "restored"
        root_key = str(source.data_dir / "root.key")
        done = _qkms(
            "restore", "--from", str(backup_file), "--data-dir", str(target),
            "--root-key-file", root_key,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert (target / "qkms.db").stat().st_mode & 0o777 == 0o600
        restored = QkmsServer(target, workers=2, extra_args=["--root-key-file", root_key]).start()
        client = restored.client()
        # Every key acknowledged before the backup began is there and works the same; so is
        # every key created during it that the snapshot caught.
        present = {
            k["KeyId"]
            for page in client.get_paginator("list_keys").paginate()
            for k in page["Keys"]
        }
        assert set(before[0]) <= present
        assert len(present) == manifest["rowCounts"]["keys"]
        checked = 0
        for key_id, secret in load.secrets.items():
            if key_id not in present:
                continue
            again = client.derive_shared_secret(
                KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=PEER
            )
            assert again["SharedSecret"] == secret
            checked += 1
        assert checked > len(before[0])  # keys made while the backup ran were caught too
        decrypted = 0
        for blob, (key_id, plaintext) in load.ciphertexts.items():
            if key_id not in present:
                assert blob not in before[1]
                continue  # its key was created after the snapshot
            answer: Any = client.decrypt(CiphertextBlob=blob)
            assert answer["Plaintext"] == plaintext
            decrypted += 1
        assert decrypted >= len(before[1])
    finally:
        source.stop()
        if restored is not None:
            restored.stop()


def test_restore_refuses_another_root_key_and_a_non_empty_dir(tmp_path: Path) -> None:
    source = QkmsServer(tmp_path / "source").start()
    try:
        source.client().create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
        backup_file = tmp_path / "b.tar"
        assert (
            _qkms(
                "backup", "--data-dir", str(source.data_dir), "--out", str(backup_file)
            ).returncode
            == 0
        )
    finally:
        source.stop()
    other = tmp_path / "other.key"
    other.write_text(_qkms("root-key", "generate").stdout)
    target = tmp_path / "target"
    refused = _qkms(
        "restore", "--from", str(backup_file), "--data-dir", str(target),
        "--root-key-file", str(other),
    )  # fmt: skip
    assert refused.returncode == 1
    assert "is not the root key this backup was made under" in refused.stderr
    assert not target.exists() or not any(target.iterdir())

    full = tmp_path / "full"
    full.mkdir()
    (full / "something").write_text("x")
    root_key = str(source.data_dir / "root.key")
    refused = _qkms(
        "restore", "--from", str(backup_file), "--data-dir", str(full), "--root-key-file", root_key
    )
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
    assert sorted(p.name for p in full.iterdir()) == ["something"]

    # The backup itself was audited as an operator command.
    events = [json.loads(line) for line in (source.data_dir / "audit.log").read_text().splitlines()]
    backups = [e for e in events if e.get("eventName") == "BackupStore"]
    assert backups and backups[-1]["eventType"] == "QkmsOperatorCommand"
