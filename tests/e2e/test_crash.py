"""Crash safety under load: kill -9 and SIGTERM while a node writes (DESIGN §6).

A response is sent only after its write is durable, so after `kill -9` of the whole server
(the `qkms serve` parent and, with several workers, every worker) and a restart on the same
store, every change that was acknowledged with a 200 must be there, and no key may be visible
half-written: every listed key describes and derives. At most one unacknowledged change per
client connection (the request in flight at the kill) may or may not have landed.

Both stores: SQLite in the data directory, and PostgreSQL (a private schema on the shared test
server 127.0.0.1:5432, database test). The load is several threads, each looping one operation
(CreateKey, ScheduleKeyDeletion, ImportKeyMaterial) over its own keep-alive connection.
"""

from __future__ import annotations

import base64
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.crash_support import KILL_AFTER_ACKS, THREADS, Load, Store, kill_9, store
from tests.e2e.server import QkmsServer, raw_call
from tests.import_client import client_wrap, pkcs8
from tests.peer_keys import peer_public_key_der, public_key_der

__all__ = ["store"]  # the SQLite/PostgreSQL fixture, used by the tests below

pytestmark = [pytest.mark.e2e]

CREATE_BODY = {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"}


def create_load(server: QkmsServer) -> Load:
    return Load(
        server,
        "CreateKey",
        lambda _t, _i: CREATE_BODY,
        lambda _t, _i, response: str(response["KeyMetadata"]["KeyId"]),
    )


# --- checks after the restart ------------------------------------------------------------------
def all_key_ids(kms: Any) -> list[str]:
    ids: list[str] = []
    for page in kms.get_paginator("list_keys").paginate():
        ids.extend(str(k["KeyId"]) for k in page["Keys"])
    return ids


def states_of_every_key(kms: Any) -> dict[str, str]:
    """Every listed key, described; each must be whole: its metadata and its private key."""
    peer = peer_public_key_der()
    states: dict[str, str] = {}
    for key_id in all_key_ids(kms):
        try:
            metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        except ClientError as exc:
            raise AssertionError(f"listed key {key_id} does not describe: {exc}") from None
        assert metadata["KeySpec"] == "ECC_NIST_P256", metadata
        assert metadata["KeyUsage"] == "KEY_AGREEMENT", metadata
        assert metadata["Enabled"] == (metadata["KeyState"] == "Enabled"), metadata
        states[key_id] = str(metadata["KeyState"])
        if metadata["KeyState"] == "Enabled":
            try:
                kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer)
            except ClientError as exc:
                raise AssertionError(f"listed key {key_id} does not derive: {exc}") from None
    return states


def restart(store: Store, workers: int) -> QkmsServer:
    return store.server(workers).start()


# --- tests -------------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_during_create_key_loses_no_acknowledged_key(store: Store, workers: int) -> None:
    server = store.server(workers).start()
    try:
        load = create_load(server).start()
        load.wait_for(KILL_AFTER_ACKS)
        killed = kill_9(server)
        load.join()
    finally:
        server.stop()
    acked = set(load.acked)
    assert len(acked) == len(load.acked)
    assert not load.errors, load.errors[:5]

    again = restart(store, workers)
    try:
        states = states_of_every_key(again.client())
        lost = acked - states.keys()
        unacked = states.keys() - acked
        print(
            f"[{store.backend}, {workers} worker(s)] kill -9 of {killed} process(es): "
            f"{len(acked)} keys acknowledged, {len(states)} found after restart, "
            f"{len(lost)} lost, {len(unacked)} unacknowledged but committed"
        )
        assert not lost, f"acknowledged keys lost by kill -9: {sorted(lost)}"
        assert all(states[k] == "Enabled" for k in acked)
        assert len(unacked) <= THREADS  # at most the request in flight on each connection
        # And the store takes writes again.
        assert again.client().create_key(**CREATE_BODY)["KeyMetadata"]["Enabled"]
    finally:
        assert again.stop() == 0, again.log()


def test_kill_9_during_schedule_key_deletion_loses_no_acknowledged_schedule(
    store: Store,
) -> None:
    workers = 2
    server = store.server(workers).start()
    per_thread = 12
    try:
        setup = Load(
            server,
            "CreateKey",
            lambda _t, i: CREATE_BODY if i < per_thread else None,
            lambda _t, _i, response: str(response["KeyMetadata"]["KeyId"]),
        ).start()
        setup.join()
        assert setup.dropped == ["done"] * THREADS and len(setup.acked) == THREADS * per_thread
        keys = sorted(setup.acked)
        shares = [keys[n::THREADS] for n in range(THREADS)]

        def body(thread: int, i: int) -> dict[str, Any] | None:
            share = shares[thread]
            return {"KeyId": share[i], "PendingWindowInDays": 7} if i < len(share) else None

        load = Load(
            server,
            "ScheduleKeyDeletion",
            body,
            lambda thread, i, response: shares[thread][i],
        ).start()
        load.wait_for(16)
        kill_9(server)
        load.join()
    finally:
        server.stop()
    acked = set(load.acked)
    assert not load.errors, load.errors[:5]
    assert len(acked) < len(keys), "the load finished before the kill; nothing was tested"

    again = restart(store, workers)
    try:
        states = states_of_every_key(again.client())
        assert set(keys) <= states.keys()
        pending = {k for k, state in states.items() if state == "PendingDeletion"}
        print(
            f"[{store.backend}] kill -9 during ScheduleKeyDeletion: {len(acked)} acknowledged, "
            f"{len(pending)} PendingDeletion after restart"
        )
        assert acked <= pending, f"acknowledged schedules lost: {sorted(acked - pending)}"
        assert len(pending - acked) <= THREADS
        assert all(states[k] == "Enabled" for k in set(keys) - pending)
    finally:
        assert again.stop() == 0, again.log()


def ok(server: QkmsServer, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    response = raw_call(server.endpoint, operation, body)
    assert response.status == 200, f"{operation}: {response.status} {response.body!r}"
    result: dict[str, Any] = response.json()
    return result


@dataclass(frozen=True)
class Pending:
    """An EXTERNAL key waiting for its material, and the import request that brings it."""

    key_id: str
    material: ec.EllipticCurvePrivateKey
    body: dict[str, Any]


def pending_import(server: QkmsServer, _n: int) -> Pending:
    key_id = str(
        ok(server, "CreateKey", {**CREATE_BODY, "Origin": "EXTERNAL"})["KeyMetadata"]["KeyId"]
    )
    algorithm = "RSA_AES_KEY_WRAP_SHA_256"
    params = ok(
        server,
        "GetParametersForImport",
        {"KeyId": key_id, "WrappingAlgorithm": algorithm, "WrappingKeySpec": "RSA_2048"},
    )
    material = ec.generate_private_key(ec.SECP256R1())
    wrapped = client_wrap(algorithm, base64.b64decode(params["PublicKey"]), pkcs8(material))
    body = {
        "KeyId": key_id,
        "ImportToken": params["ImportToken"],
        "EncryptedKeyMaterial": base64.b64encode(wrapped).decode(),
        "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }
    return Pending(key_id, material, body)


def test_kill_9_during_import_key_material_loses_no_acknowledged_import(store: Store) -> None:
    workers = 2
    server = store.server(workers).start()
    per_thread = 5
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            pending = list(
                pool.map(lambda n: pending_import(server, n), range(THREADS * per_thread))
            )
        shares = [pending[n::THREADS] for n in range(THREADS)]
        load = Load(
            server,
            "ImportKeyMaterial",
            lambda thread, i: shares[thread][i].body if i < per_thread else None,
            lambda thread, i, response: shares[thread][i].key_id,
        ).start()
        load.wait_for(6)
        kill_9(server)
        load.join()
    finally:
        server.stop()
    acked = set(load.acked)
    assert not load.errors, load.errors[:5]
    assert len(acked) < len(pending), "the load finished before the kill; nothing was tested"

    again = restart(store, workers)
    try:
        kms = again.client()
        states = states_of_every_key(kms)  # every Enabled key derives: none is half-imported
        enabled = {k for k, state in states.items() if state == "Enabled"}
        print(
            f"[{store.backend}] kill -9 during ImportKeyMaterial: {len(acked)} acknowledged, "
            f"{len(enabled)} Enabled after restart"
        )
        assert acked <= enabled, f"acknowledged imports lost: {sorted(acked - enabled)}"
        assert len(enabled - acked) <= THREADS
        assert {states[p.key_id] for p in pending} <= {"Enabled", "PendingImport"}
        peer = ec.generate_private_key(ec.SECP256R1())
        peer_spki = public_key_der(peer.public_key())
        for item in pending:
            if item.key_id in enabled:  # the material in force is exactly the one imported
                answer = kms.derive_shared_secret(
                    KeyId=item.key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer_spki
                )
                expected = peer.exchange(ec.ECDH(), item.material.public_key())
                assert bytes(answer["SharedSecret"]) == expected
    finally:
        assert again.stop() == 0, again.log()


def test_sigterm_under_load_drains_and_exits_cleanly(store: Store) -> None:
    workers = 1 if store.backend == "sqlite" else 2
    server = store.server(workers).start()
    load = create_load(server).start()
    try:
        load.wait_for(KILL_AFTER_ACKS)
        assert server.process is not None
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(30)
        took = time.monotonic() - started
        server.process = None
        load.join()
    finally:
        server.stop()
    log = server.log()
    print(
        f"[{store.backend}, {workers} worker(s)] SIGTERM under load: exit {code} after "
        f"{took:.2f} s; {len(load.acked)} acknowledged; how the clients' loops ended: "
        f"{sorted(load.dropped)}"
    )
    assert code == 0, log
    assert not load.errors, load.errors[:5]  # no 5xx (or anything else) while draining
    assert "Traceback" not in log, log
    # Every client loop ended: none hung on the closing server.
    assert len(load.dropped) == THREADS

    again = restart(store, workers)
    try:
        states = states_of_every_key(again.client())
        lost = set(load.acked) - states.keys()
        unanswered = states.keys() - set(load.acked)
        print(
            f"[{store.backend}, {workers} worker(s)] after SIGTERM: {len(states)} keys found, "
            f"{len(lost)} acknowledged lost, {len(unanswered)} created without an answer"
        )
        assert not lost, f"acknowledged keys lost by SIGTERM: {sorted(lost)}"
        # Draining means a request the server began is answered: no key may have been
        # created whose CreateKey response never went out.
        assert not unanswered, f"created but never answered: {sorted(unanswered)}"
        # A connection may still be dropped with a request on it: one the server closed while
        # idle (the keep-alive race every HTTP client must expect), or, with several workers,
        # one the kernel accepted on the supervisor's listening socket after the workers stopped
        # accepting. Neither request was processed (checked just above); none may hang.
        assert not [d for d in load.dropped if d.startswith("TimeoutError")], load.dropped
    finally:
        assert again.stop() == 0, again.log()
