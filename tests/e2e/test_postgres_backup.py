"""A PostgreSQL store backed up with pg_dump and restored with pg_restore serves the same keys.

The schema is dumped (custom format), dropped as in a disaster, restored from the dump, and a
node with the same root key started on it: every key derives the same secret and every
ciphertext decrypts, as docs/operations.md promises.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import QkmsServer
from tests.peer_keys import peer_public_key_der
from tests.storage.postgres_support import drop_schema, new_schema_name, require_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PEER = peer_public_key_der()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def test_pg_dump_and_pg_restore_keep_every_key(tmp_path: Path) -> None:
    url = require_postgres()
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    schema = new_schema_name()
    database_url = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    root_key = base64.b64encode(os.urandom(32)).decode()

    def node(name: str) -> QkmsServer:
        return QkmsServer(
            tmp_path / name,
            extra_args=["--database-url", database_url],
            env={"QKMS_ROOT_KEY": root_key},
        )

    try:
        first = node("first").start()
        try:
            kms = first.client()
            secrets: dict[str, bytes] = {}
            for _ in range(3):
                key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")[
                    "KeyMetadata"
                ]["KeyId"]
                secrets[key_id] = kms.derive_shared_secret(
                    KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=PEER
                )["SharedSecret"]
            symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
            blob = kms.encrypt(KeyId=symmetric, Plaintext=b"kept")["CiphertextBlob"]
        finally:
            first.stop()

        dump = tmp_path / "qkms.dump"
        subprocess.run(
            [pg_dump, "--format=custom", f"--schema={schema}", f"--file={dump}", url],
            check=True,
            timeout=60,
        )
        drop_schema(schema)  # the disaster
        subprocess.run(
            [pg_restore, "--no-owner", f"--dbname={url}", str(dump)], check=True, timeout=60
        )

        second = node("second").start()
        try:
            kms = second.client()
            for key_id, secret in secrets.items():
                again = kms.derive_shared_secret(
                    KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=PEER
                )
                assert again["SharedSecret"] == secret
            assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
            listed = {k["KeyId"] for k in kms.list_keys()["Keys"]}
            assert set(secrets) | {symmetric} <= listed
        finally:
            second.stop()
    finally:
        drop_schema(schema)
