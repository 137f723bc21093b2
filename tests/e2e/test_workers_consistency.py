"""`qkms serve --workers 2`: a key-state change reaches every worker within 1 s (DESIGN §7)."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import QkmsServer, raw_call
from tests.peer_keys import public_key_der

ROUNDS = 40
PROPAGATION_SECONDS = 1.0


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("workers") / "data", workers=2).start()
    # /readyz answers as soon as one worker is up; give the other one time to start too.
    worker_ids(qkms, tries=200, pause=0.05)
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def admin(two_workers: QkmsServer) -> Any:
    return two_workers.client()


def healthz_worker(server: QkmsServer) -> str:
    # urllib opens a fresh connection per call (Connection: close).
    with urllib.request.urlopen(f"{server.endpoint}/healthz", timeout=5) as response:
        assert response.status == 200
        return str(json.loads(response.read())["worker"])


def worker_ids(server: QkmsServer, tries: int, pause: float = 0.0) -> set[str]:
    """Distinct worker ids answering /healthz on fresh connections, stopping at two."""
    seen: set[str] = set()
    for _ in range(tries):
        seen.add(healthz_worker(server))
        if len(seen) == 2:
            break
        time.sleep(pause)
    return seen


class Peer:
    def __init__(self, kms: Any, key_id: str) -> None:
        private = ec.generate_private_key(ec.SECP256R1())
        der = public_key_der(private.public_key())
        self.body = {"KeyId": key_id, "PublicKey": base64.b64encode(der).decode()}
        kms_public = serialization.load_der_public_key(
            kms.get_public_key(KeyId=key_id)["PublicKey"]
        )
        assert isinstance(kms_public, ec.EllipticCurvePublicKey)
        self.secret = private.exchange(ec.ECDH(), kms_public)


def derive_outcome(server: QkmsServer, peer: Peer) -> str:
    """One derive on a fresh connection: "ok" (with the right secret) or the error code."""
    response = raw_call(server.endpoint, "DeriveSharedSecret", peer.body)
    if response.status == 200:
        assert base64.b64decode(response.json()["SharedSecret"]) == peer.secret
        return "ok"
    return str(response.json()["__type"])


def outcomes(server: QkmsServer, peer: Peer, rounds: int = ROUNDS) -> set[str]:
    return {derive_outcome(server, peer) for _ in range(rounds)}


def test_both_workers_serve_requests(two_workers: QkmsServer) -> None:
    seen = worker_ids(two_workers, tries=200)
    assert len(seen) == 2, f"only saw workers {seen}"


def test_disable_schedule_and_enable_reach_every_worker(
    two_workers: QkmsServer, admin: Any
) -> None:
    key_id = admin.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
        "KeyId"
    ]
    peer = Peer(admin, key_id)
    # Warm both workers' key caches.
    assert outcomes(two_workers, peer) == {"ok"}

    admin.disable_key(KeyId=key_id)
    time.sleep(PROPAGATION_SECONDS)
    assert outcomes(two_workers, peer) == {"DisabledException"}

    # A fresh client each time, too: no connection reuse anywhere.
    admin.enable_key(KeyId=key_id)
    time.sleep(PROPAGATION_SECONDS)
    assert outcomes(two_workers, peer) == {"ok"}
    for _ in range(5):
        client = two_workers.client()
        response = client.derive_shared_secret(
            KeyId=key_id,
            KeyAgreementAlgorithm="ECDH",
            PublicKey=base64.b64decode(peer.body["PublicKey"]),
        )
        assert response["SharedSecret"] == peer.secret
        client.close()

    admin.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    time.sleep(PROPAGATION_SECONDS)
    assert outcomes(two_workers, peer) == {"KMSInvalidStateException"}

    admin.cancel_key_deletion(KeyId=key_id)
    time.sleep(PROPAGATION_SECONDS)
    assert outcomes(two_workers, peer) == {"DisabledException"}

    admin.enable_key(KeyId=key_id)
    time.sleep(PROPAGATION_SECONDS)
    assert outcomes(two_workers, peer) == {"ok"}


def test_no_successful_derive_more_than_1s_after_disable_returned(
    two_workers: QkmsServer, admin: Any
) -> None:
    """Derives run continuously on fresh connections while the key is disabled."""
    key_id = admin.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"][
        "KeyId"
    ]
    peer = Peer(admin, key_id)
    assert outcomes(two_workers, peer, 10) == {"ok"}
    results: list[tuple[float, str]] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def hammer() -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                results.append((started, derive_outcome(two_workers, peer)))
        except BaseException as exc:  # surfaced in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)
        admin.disable_key(KeyId=key_id)
        disabled_at = time.monotonic()
        time.sleep(PROPAGATION_SECONDS + 0.8)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
    assert not failures, failures

    before = [outcome for started, outcome in results if started < disabled_at - 0.05]
    late = [outcome for started, outcome in results if started > disabled_at + PROPAGATION_SECONDS]
    assert before and set(before) == {"ok"}
    assert len(late) >= 10, f"only {len(late)} derives after the propagation bound"
    assert set(late) == {"DisabledException"}, late
    assert set(outcome for _, outcome in results) <= {"ok", "DisabledException"}


def test_readyz_and_healthz_answer(two_workers: QkmsServer) -> None:
    with urllib.request.urlopen(f"{two_workers.endpoint}/readyz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ready"
    assert healthz_worker(two_workers)
