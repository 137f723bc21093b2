"""A symmetric key stored before material versions existed becomes one with a single version."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from qkms.crypto import RootKey, wrap
from qkms.domain.arns import canonical_key_arn
from qkms.operations.encryption import decrypt, encrypt
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest
from qkms.storage import SqliteKeyStore, schema
from tests.unit.support import ACCOUNT, FakeClock, context, make_services


def test_schema_4_moves_a_symmetric_keys_material_into_its_first_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, root_key, key_id = tmp_path / "q.db", RootKey.generate(), str(uuid.uuid4())
    with monkeypatch.context() as patched:
        patched.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:3])
        old = SqliteKeyStore(path)
        assert old.migrate() == 3
        old.ensure_account(ACCOUNT, 0.0)
        old.close()
    wrapped = wrap(root_key, b"\x07" * 32, canonical_key_arn(ACCOUNT, key_id).encode())
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO keys (key_id, account_id, description, key_usage, key_spec, origin, "
            "key_state, creation_date, wrapped_material) VALUES (?, ?, '', 'ENCRYPT_DECRYPT', "
            "'SYMMETRIC_DEFAULT', 'AWS_KMS', 'Enabled', 1.0, ?)",
            (key_id, ACCOUNT, wrapped),
        )

    services = make_services(path, root_key, FakeClock())  # migrates to the current schema
    row = services.store.get_key(key_id)
    material_id = key_id.replace("-", "") * 2
    assert row is not None and row.current_key_material_id == material_id
    assert row.wrapped_material is None
    [version] = services.store.list_key_materials(key_id)
    assert (version.key_material_id, version.wrapped_material) == (material_id, wrapped)
    ctx = context(services)
    blob = encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=b"old key")).ciphertext_blob
    answer = decrypt(ctx, DecryptRequest(ciphertext_blob=blob))
    assert (answer.plaintext, answer.key_material_id) == (b"old key", material_id)
    services.store.close()
