"""Crash safety of the symmetric data plane and rotation: kill -9 under Encrypt, GenerateDataKey
and RotateKeyOnDemand load (DESIGN §4a, §6), on SQLite and PostgreSQL.

Three loads run at once against `qkms serve --workers 2`, each thread on its own key: Encrypt,
GenerateDataKey and RotateKeyOnDemand. After kill -9 of the whole server and a restart on the
same store, every acknowledged rotation is listed, at most one more per rotating thread (the
request in flight), the key's current material is its newest version, and every ciphertext
acknowledged before the crash decrypts to what was sent or returned.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.e2e.crash_support import (
    KILL_AFTER_ACKS,
    THREADS,
    Load,
    Store,
    kill_9,
    store,
)
from tests.e2e.server import raw_call

__all__ = ["store"]  # the SQLite/PostgreSQL fixture, shared with test_crash

pytestmark = [pytest.mark.e2e]

ROTATIONS_PER_THREAD = 20  # under AWS's 25 on-demand rotations per key


def test_kill_9_under_encrypt_data_key_and_rotation_load_loses_nothing(store: Store) -> None:
    workers = 2
    server = store.server(workers).start()
    try:
        kms = server.client()
        keys = [str(kms.create_key()["KeyMetadata"]["KeyId"]) for _ in range(THREADS)]
        sealed: list[tuple[bytes, bytes]] = []  # (plaintext, ciphertext), appended under the GIL

        def encrypt_body(thread: int, i: int) -> dict[str, Any]:
            plain = f"{thread}-{i}".encode()
            return {"KeyId": keys[thread], "Plaintext": base64.b64encode(plain).decode()}

        def encrypt_ack(thread: int, i: int, response: dict[str, Any]) -> str:
            sealed.append((f"{thread}-{i}".encode(), base64.b64decode(response["CiphertextBlob"])))
            return f"{thread}-{i}"

        def data_key_ack(_thread: int, _i: int, response: dict[str, Any]) -> str:
            plain = base64.b64decode(response["Plaintext"])
            sealed.append((plain, base64.b64decode(response["CiphertextBlob"])))
            return str(response["KeyMaterialId"])

        encrypts = Load(server, "Encrypt", encrypt_body, encrypt_ack).start()
        data_keys = Load(
            server,
            "GenerateDataKey",
            lambda thread, _i: {"KeyId": keys[thread], "KeySpec": "AES_256"},
            data_key_ack,
        ).start()
        rotations = Load(
            server,
            "RotateKeyOnDemand",
            lambda thread, i: {"KeyId": keys[thread]} if i < ROTATIONS_PER_THREAD else None,
            lambda thread, _i, _response: keys[thread],
        ).start()
        encrypts.wait_for(KILL_AFTER_ACKS)
        data_keys.wait_for(KILL_AFTER_ACKS)
        rotations.wait_for(THREADS)
        killed = kill_9(server)
        for load in (encrypts, data_keys, rotations):
            load.join()
    finally:
        server.stop()
    for load in (encrypts, data_keys, rotations):
        assert not load.errors, load.errors[:5]
    assert len(rotations.acked) < THREADS * ROTATIONS_PER_THREAD, "rotations ended before kill"

    again = store.server(workers).start()
    try:
        kms = again.client()
        found_rotations = 0
        for key_id in keys:
            acked = rotations.acked.count(key_id)
            listed = kms.list_key_rotations(KeyId=key_id, Limit=1000)["Rotations"]
            found_rotations += len(listed)
            assert acked <= len(listed) <= acked + 1, (key_id, acked, len(listed))
            current = kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
            newest = listed[-1]["KeyMaterialId"] if listed else None
            if newest is not None:
                assert current == newest
                assert listed[-1]["KeyMaterialState"] == "CURRENT"
        undecryptable = []
        for plain, blob in sealed:
            response = raw_call(
                again.endpoint, "Decrypt", {"CiphertextBlob": base64.b64encode(blob).decode()}
            )
            if response.status != 200 or base64.b64decode(response.json()["Plaintext"]) != plain:
                undecryptable.append(response.body[:200])
        print(
            f"[{store.backend}] kill -9 of {killed} process(es): {len(encrypts.acked)} Encrypt, "
            f"{len(data_keys.acked)} GenerateDataKey, {len(rotations.acked)} RotateKeyOnDemand "
            f"acknowledged; {found_rotations} rotations listed; "
            f"{len(sealed) - len(undecryptable)}/{len(sealed)} ciphertexts decrypt"
        )
        assert not undecryptable, undecryptable[:3]
        # And the keys still rotate and encrypt after the restart.
        kms.rotate_key_on_demand(KeyId=keys[0])
        blob = kms.encrypt(KeyId=keys[0], Plaintext=b"after")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"after"
    finally:
        assert again.stop() == 0, again.log()
