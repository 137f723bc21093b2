"""Two real nodes on one PostgreSQL database (DESIGN §6, §7).

Both nodes get the same `--database-url` (a private schema on the shared test server,
127.0.0.1:5432 database test) and the same QKMS_ROOT_KEY, with separate data directories.
Propagation is measured with a fresh connection per call, so no keep-alive connection can pin
the poll to one worker; DESIGN §7 allows 1 s, the polls allow 1.5 s for their own overhead.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from psycopg import sql

from qkms.operations.runtime.key_usage import FLUSH_INTERVAL_SECONDS
from tests.e2e.server import QkmsServer, raw_call
from tests.e2e.support import until
from tests.peer_keys import public_key_der
from tests.storage.postgres_support import drop_schema, new_schema_name, require_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ACCOUNT = "111122223333"
PROPAGATION_SECONDS = 1.0
POLL_DEADLINE = 1.5


@dataclass(frozen=True)
class Shared:
    url: str  # with ?schema=
    schema: str
    root_key: str


@dataclass(frozen=True)
class User:
    name: str
    access_key_id: str
    secret: str

    @property
    def arn(self) -> str:
        return f"arn:verenc:{ACCOUNT}:user/{self.name}"


@pytest.fixture(scope="module")
def shared() -> Iterator[Shared]:
    base = require_postgres()
    schema = new_schema_name()
    url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    yield Shared(url, schema, base64.b64encode(os.urandom(32)).decode())
    drop_schema(schema)


def node(data_dir: Path, shared: Shared, root_key: str | None = None) -> QkmsServer:
    return QkmsServer(
        data_dir,
        extra_args=["--database-url", shared.url],
        env={"QKMS_ROOT_KEY": root_key or shared.root_key},
    )


@pytest.fixture(scope="module")
def nodes(
    tmp_path_factory: pytest.TempPathFactory, shared: Shared
) -> Iterator[tuple[QkmsServer, QkmsServer]]:
    base = tmp_path_factory.mktemp("multinode")
    a = node(base / "a", shared).start()
    b = node(base / "b", shared).start()
    try:
        yield a, b
    finally:
        code_a, code_b = a.stop(), b.stop()
        assert (code_a, code_b) == (0, 0), f"A:\n{a.log()}\nB:\n{b.log()}"


def admin_cli(data_dir: Path, shared: Shared, *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QKMS_")}
    env["QKMS_ROOT_KEY"] = shared.root_key
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "qkms",
            "admin",
            "--data-dir",
            str(data_dir),
            "--database-url",
            shared.url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, f"qkms admin {' '.join(args)} failed: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else None


# --- calls on fresh connections ----------------------------------------------------------------
def call(
    server: QkmsServer, operation: str, body: dict[str, Any], user: User | None = None
) -> tuple[int, dict[str, Any]]:
    signing = {}
    if user is not None:
        signing = {"access_key_id": user.access_key_id, "secret": user.secret}
    response = raw_call(server.endpoint, operation, body, **signing)
    payload = response.json() if response.body else {}
    return response.status, payload


def ok(server: QkmsServer, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    status, payload = call(server, operation, body)
    assert status == 200, f"{operation} answered {status}: {payload}"
    return payload


class Peer:
    """A caller's EC key pair; `expected(kms_public)` is the secret both sides must reach."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.der = public_key_der(self.private.public_key())

    def body(self, key_id: str) -> dict[str, Any]:
        return {
            "KeyId": key_id,
            "KeyAgreementAlgorithm": "ECDH",
            "PublicKey": base64.b64encode(self.der).decode(),
        }

    def expected(self, kms_public_der: bytes) -> bytes:
        public = serialization.load_der_public_key(kms_public_der)
        assert isinstance(public, ec.EllipticCurvePublicKey)
        return self.private.exchange(ec.ECDH(), public)


def derive_outcome(server: QkmsServer, key_id: str, peer: Peer, user: User | None = None) -> str:
    status, payload = call(server, "DeriveSharedSecret", peer.body(key_id), user)
    if status == 200:
        return "ok"
    assert status < 500, f"derive answered {status}: {payload}"
    return str(payload["__type"])


def new_key(server: QkmsServer) -> str:
    created = ok(server, "CreateKey", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"})
    return str(created["KeyMetadata"]["KeyId"])


def stays(check: Callable[[], bool], seconds: float) -> None:
    """`check` holds on every poll for `seconds` (no flapping back)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert check()
        time.sleep(0.05)


# --- tests -------------------------------------------------------------------------------------
def test_created_on_a_derives_on_b_at_once(nodes: tuple[QkmsServer, QkmsServer]) -> None:
    a, b = nodes
    key_id = new_key(a)
    peer = Peer()
    public = base64.b64decode(ok(b, "GetPublicKey", {"KeyId": key_id})["PublicKey"])
    on_b = ok(b, "DeriveSharedSecret", peer.body(key_id))  # at once: no wait, no retry
    on_a = ok(a, "DeriveSharedSecret", peer.body(key_id))
    assert base64.b64decode(on_b["SharedSecret"]) == peer.expected(public)
    assert on_b["SharedSecret"] == on_a["SharedSecret"]
    assert ok(b, "DescribeKey", {"KeyId": key_id})["KeyMetadata"]["KeyState"] == "Enabled"


def test_disable_on_a_is_refused_on_b_within_1s(nodes: tuple[QkmsServer, QkmsServer]) -> None:
    a, b = nodes
    key_id = new_key(a)
    peer = Peer()
    for _ in range(5):  # B caches the key
        assert derive_outcome(b, key_id, peer) == "ok"
    ok(a, "DisableKey", {"KeyId": key_id})
    refused = until(lambda: derive_outcome(b, key_id, peer) == "DisabledException", POLL_DEADLINE)
    print(f"B refused a key disabled on A after {refused:.3f} s")
    assert refused < POLL_DEADLINE
    stays(lambda: derive_outcome(b, key_id, peer) == "DisabledException", 0.5)
    # And back: enabled on B, A derives again within the bound.
    ok(b, "EnableKey", {"KeyId": key_id})
    until(lambda: derive_outcome(a, key_id, peer) == "ok", POLL_DEADLINE)


@pytest.fixture(scope="module")
def bob(nodes: tuple[QkmsServer, QkmsServer], shared: Shared) -> User:
    """A user with no identity policy: only a key policy or a grant lets him derive."""
    a, _ = nodes
    admin_cli(a.data_dir, shared, "create-user", "--account", ACCOUNT, "--user", "bob")
    key = admin_cli(a.data_dir, shared, "create-access-key", "--account", ACCOUNT, "--user", "bob")
    return User("bob", key["AccessKeyId"], key["SecretAccessKey"])


def key_policy(*extra: dict[str, Any]) -> str:
    root = {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:verenc:{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *extra]})


def test_grant_created_and_revoked_on_a_is_effective_on_b_within_1s(
    nodes: tuple[QkmsServer, QkmsServer], bob: User
) -> None:
    a, b = nodes
    key_id = new_key(a)
    peer = Peer()
    assert derive_outcome(b, key_id, peer, bob) == "AccessDeniedException"  # B caches "no grant"
    grant = ok(
        a,
        "CreateGrant",
        {"KeyId": key_id, "GranteePrincipal": bob.arn, "Operations": ["DeriveSharedSecret"]},
    )
    allowed = until(lambda: derive_outcome(b, key_id, peer, bob) == "ok", POLL_DEADLINE)
    for _ in range(5):
        assert derive_outcome(b, key_id, peer, bob) == "ok"  # B caches the grant
    ok(a, "RevokeGrant", {"KeyId": key_id, "GrantId": grant["GrantId"]})
    denied = until(
        lambda: derive_outcome(b, key_id, peer, bob) == "AccessDeniedException", POLL_DEADLINE
    )
    print(f"grant on A effective on B after {allowed:.3f} s, revocation after {denied:.3f} s")
    stays(lambda: derive_outcome(b, key_id, peer, bob) == "AccessDeniedException", 0.5)


def test_key_policy_change_on_a_is_effective_on_b_within_1s(
    nodes: tuple[QkmsServer, QkmsServer], bob: User
) -> None:
    a, b = nodes
    key_id = new_key(a)
    peer = Peer()
    assert derive_outcome(b, key_id, peer, bob) == "AccessDeniedException"
    let_bob = {
        "Sid": "bob derives",
        "Effect": "Allow",
        "Principal": {"AWS": bob.arn},
        "Action": "kms:DeriveSharedSecret",
        "Resource": "*",
    }
    ok(a, "PutKeyPolicy", {"KeyId": key_id, "PolicyName": "default", "Policy": key_policy(let_bob)})
    allowed = until(lambda: derive_outcome(b, key_id, peer, bob) == "ok", POLL_DEADLINE)
    for _ in range(5):
        assert derive_outcome(b, key_id, peer, bob) == "ok"
    ok(a, "PutKeyPolicy", {"KeyId": key_id, "PolicyName": "default", "Policy": key_policy()})
    denied = until(
        lambda: derive_outcome(b, key_id, peer, bob) == "AccessDeniedException", POLL_DEADLINE
    )
    print(f"key policy on A effective on B after {allowed:.3f} s, removal after {denied:.3f} s")
    stays(lambda: derive_outcome(b, key_id, peer, bob) == "AccessDeniedException", 0.5)


def row_counts(shared: Shared) -> dict[str, int]:
    with psycopg.connect(require_postgres(), autocommit=True) as conn:
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
                (shared.schema,),
            ).fetchall()
        ]
        counts: dict[str, int] = {}
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(shared.schema), sql.Identifier(table)
                )
            ).fetchone()
            assert row is not None
            counts[table] = int(row[0])
        return counts


def settled_row_counts(shared: Shared) -> dict[str, int]:
    """Row counts once the nodes' background writes have drained: unchanged for longer than the
    slowest background writer's period (the audit mirror, and GetKeyLastUsage's batch write
    every FLUSH_INTERVAL_SECONDS)."""
    quiet_for = FLUSH_INTERVAL_SECONDS + 0.5
    previous, since = row_counts(shared), time.monotonic()
    deadline = since + 30
    while time.monotonic() < deadline:
        time.sleep(0.25)
        current = row_counts(shared)
        if current != previous:
            previous, since = current, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return current
    raise AssertionError("the schema kept changing with no request in flight")


def test_a_node_with_another_root_key_refuses_to_start_and_writes_nothing(
    nodes: tuple[QkmsServer, QkmsServer], shared: Shared, tmp_path: Path
) -> None:
    a, _ = nodes
    new_key(a)  # the store holds a key wrapped under the right root key
    before = settled_row_counts(shared)
    assert before["keys"] >= 1 and before["meta"] >= 1
    stranger = node(tmp_path / "stranger", shared, base64.b64encode(os.urandom(32)).decode())
    stranger.start(wait=False)
    assert stranger.process is not None
    code = stranger.process.wait(60)
    log = stranger.log()
    stranger.process = None
    assert code != 0, log
    assert code == 2, log  # a startup refusal, not a crash
    assert "root key" in log, log
    assert "Traceback" not in log, log
    assert row_counts(shared) == before
    # Nor did it leave its credentials or a root key file behind as if it had started.
    assert not (tmp_path / "stranger" / "root.key").exists()
    assert not (tmp_path / "stranger" / "credentials").exists()
    # The rightful nodes are unaffected.
    assert derive_outcome(a, new_key(a), Peer()) == "ok"
