"""`qkms serve --database-url postgresql://...`: one node, and two nodes sharing the database.

Each test uses its own schema (`?schema=qkms_test_<hex>`) on the CI server (127.0.0.1:5432,
database test), dropped afterwards. Every node gets the same root key (QKMS_ROOT_KEY); the
data directory still holds the credentials file.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer
from tests.peer_keys import peer_public_key_der
from tests.storage.postgres_support import drop_schema, new_schema_name, require_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PROPAGATION_SECONDS = 1.0


@pytest.fixture
def database_url() -> Iterator[str]:
    url = require_postgres()
    schema = new_schema_name()
    yield f"{url}{'&' if '?' in url else '?'}schema={schema}"
    drop_schema(schema)


@pytest.fixture
def root_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def node(data_dir: Path, database_url: str, root_key: str) -> QkmsServer:
    return QkmsServer(
        data_dir, extra_args=["--database-url", database_url], env={"QKMS_ROOT_KEY": root_key}
    )


def derive(kms: Any, key_id: str, peer: bytes) -> bytes:
    response = kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer)
    return bytes(response["SharedSecret"])


def new_key(kms: Any) -> str:
    return str(
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    )


def test_serve_on_postgresql(tmp_path: Path, database_url: str, root_key: str) -> None:
    data = tmp_path / "data"
    server = node(data, database_url, root_key).start()
    try:
        kms = server.client()
        key_id = new_key(kms)
        peer = peer_public_key_der()
        secret = derive(kms, key_id, peer)
        assert len(secret) == 32
        assert "PostgreSQL store 127.0.0.1:5432/test" in server.log()
    finally:
        assert server.stop() == 0
    assert not (data / "qkms.db").exists()  # nothing went to SQLite
    assert not (data / "root.key").exists()  # the environment's key is not copied to disk
    again = node(tmp_path / "elsewhere", database_url, root_key).start()
    try:  # state lives in PostgreSQL: another data directory sees the same key
        assert derive(again.client(), key_id, peer) == secret
    finally:
        again.stop()


def test_a_node_with_another_root_key_refuses_to_start(
    tmp_path: Path, database_url: str, root_key: str
) -> None:
    first = node(tmp_path / "a", database_url, root_key).start()
    first.stop()
    other = node(tmp_path / "b", database_url, base64.b64encode(os.urandom(32)).decode())
    other.start(wait=False)
    assert other.process is not None
    assert other.process.wait(60) == 2
    assert "root key" in other.log()


def test_two_nodes_share_keys_and_state_changes(
    tmp_path: Path, database_url: str, root_key: str
) -> None:
    a = node(tmp_path / "a", database_url, root_key).start()
    b = node(tmp_path / "b", database_url, root_key).start()
    try:
        kms_a, kms_b = a.client(), b.client()
        key_id = new_key(kms_a)
        peer = peer_public_key_der()
        # Created on A, usable on B at once.
        assert derive(kms_b, key_id, peer) == derive(kms_a, key_id, peer)
        kms_a.disable_key(KeyId=key_id)
        disabled_at = time.monotonic()
        refused_after: float | None = None
        while time.monotonic() - disabled_at < PROPAGATION_SECONDS + 1.0:
            try:
                derive(kms_b, key_id, peer)
                assert refused_after is None, "B derived again after refusing"
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "DisabledException"
                if refused_after is None:
                    refused_after = time.monotonic() - disabled_at
            time.sleep(0.02)
        assert refused_after is not None and refused_after < PROPAGATION_SECONDS
        # And back: enabled on B, A derives again within the same bound.
        kms_b.enable_key(KeyId=key_id)
        enabled_at = time.monotonic()
        while True:
            try:
                derive(kms_a, key_id, peer)
                break
            except ClientError:
                assert time.monotonic() - enabled_at < PROPAGATION_SECONDS
                time.sleep(0.02)
    finally:
        a.stop()
        b.stop()
