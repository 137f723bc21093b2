"""Imported symmetric material and GetKeyLastUsage through boto3 against `qkms serve --workers 2`.

The client wraps a raw 256-bit AES key under GetParametersForImport's public key as AWS
documents (tests/import_client.py); QKMS's ciphertext format is its own, so what is checked is
that QKMS encrypts and decrypts with the imported material across reimports, rotations and
expiry, on either worker.
"""

from __future__ import annotations

import base64
import datetime
import os
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from qkms.audit import iter_events
from tests.e2e.server import QkmsServer, raw_call
from tests.e2e.support import get_parameters
from tests.import_client import client_wrap

NO_EXPIRY = {"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}
ALGORITHMS = ("RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256")
# runtime/key_usage.py flushes every 2 s; the deadline leaves room for a loaded machine.
USAGE_DEADLINE_SECONDS = 15.0


def settle() -> None:
    """DESIGN §7: a change made on one worker is effective on the other within 1 s."""
    time.sleep(1.2)


def code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def create(kms: Any) -> str:
    metadata = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT" and metadata["KeyState"] == "PendingImport"
    return str(metadata["KeyId"])


def import_material(
    kms: Any, key_id: str, material: bytes, algorithm: str = "RSAES_OAEP_SHA_256", **extra: Any
) -> dict[str, Any]:
    params = get_parameters(kms, key_id, algorithm)
    result: dict[str, Any] = kms.import_key_material(
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=client_wrap(algorithm, params["PublicKey"], material),
        **{**NO_EXPIRY, **extra},
    )
    return result


def current(kms: Any, key_id: str) -> str:
    return str(kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"])


@pytest.fixture(scope="module")
def kms(two_workers: QkmsServer) -> Any:
    return two_workers.client()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_import_then_round_trip(kms: Any, algorithm: str) -> None:
    key_id = create(kms)
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert code(raised) == "KMSInvalidStateException"
    answer = import_material(kms, key_id, os.urandom(32), algorithm)
    assert len(answer["KeyMaterialId"]) == 64
    assert current(kms, key_id) == answer["KeyMaterialId"]
    settle()
    for _ in range(4):  # both workers
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret", EncryptionContext={"a": "b"})
        plain = kms.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"a": "b"})
        assert plain["Plaintext"] == b"secret" and plain["KeyId"].endswith(key_id)
        data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
        again = kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"]
        assert again == data_key["Plaintext"]


def test_wrong_size_and_reimports(kms: Any) -> None:
    key_id = create(kms)
    with pytest.raises(ClientError) as raised:
        import_material(kms, key_id, os.urandom(16))
    assert code(raised) == "IncorrectKeyMaterialException"
    material = os.urandom(32)
    first = import_material(kms, key_id, material)["KeyMaterialId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"before")["CiphertextBlob"]
    same = import_material(kms, key_id, material, ImportType="EXISTING_KEY_MATERIAL")
    assert same["KeyMaterialId"] == first
    with pytest.raises(ClientError) as raised:
        import_material(kms, key_id, os.urandom(32))
    assert code(raised) == "IncorrectKeyMaterialException"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before"


def test_delete_and_reimport(kms: Any) -> None:
    key_id = create(kms)
    material = os.urandom(32)
    import_material(kms, key_id, material)
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"kept")["CiphertextBlob"]
    kms.delete_imported_key_material(KeyId=key_id)
    settle()
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingImport"
    for _ in range(4):  # no worker still decrypts from a cached material
        with pytest.raises(ClientError) as raised:
            kms.decrypt(CiphertextBlob=blob)
        assert code(raised) == "KMSInvalidStateException"
    import_material(kms, key_id, material)
    settle()
    for _ in range(4):
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"


def test_new_key_material_and_rotate_on_demand(kms: Any) -> None:
    key_id = create(kms)
    first = import_material(kms, key_id, os.urandom(32))["KeyMaterialId"]
    old = kms.encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    second = import_material(
        kms,
        key_id,
        os.urandom(32),
        ImportType="NEW_KEY_MATERIAL",
        KeyMaterialDescription="second version",
    )["KeyMaterialId"]
    assert current(kms, key_id) == first
    states = {
        r["KeyMaterialId"]: r["KeyMaterialState"]
        for r in kms.list_key_rotations(KeyId=key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")[
            "Rotations"
        ]
    }
    assert states == {first: "CURRENT", second: "PENDING_ROTATION"}
    kms.rotate_key_on_demand(KeyId=key_id)
    settle()
    assert current(kms, key_id) == second
    new = kms.encrypt(KeyId=key_id, Plaintext=b"new")["CiphertextBlob"]
    for _ in range(4):
        assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"
        assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"new"
    with pytest.raises(ClientError) as raised:
        kms.enable_key_rotation(KeyId=key_id)
    assert code(raised) == "UnsupportedOperationException"


def test_get_key_last_usage_follows_decrypt_within_the_lag(
    kms: Any, two_workers: QkmsServer
) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    empty = kms.get_key_last_usage(KeyId=key_id)
    assert empty["KeyLastUsage"] == {}
    assert empty["KeyCreationDate"] <= empty["TrackingStartDate"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    decrypted = kms.decrypt(CiphertextBlob=blob)
    request_id = decrypted["ResponseMetadata"]["RequestId"]
    deadline = time.monotonic() + USAGE_DEADLINE_SECONDS
    while True:
        usage = kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]
        if usage.get("KmsRequestId") == request_id:
            break
        assert time.monotonic() < deadline, f"usage not recorded in time: {usage}"
        time.sleep(0.3)
    assert usage["Operation"] == "Decrypt"
    # CloudTrailEventId is the eventID of that Decrypt's audit event.
    audited = [
        e for e in iter_events(two_workers.data_dir / "audit.log") if e["requestID"] == request_id
    ]
    assert [e["eventID"] for e in audited] == [usage["CloudTrailEventId"]]
    assert isinstance(usage["Timestamp"], datetime.datetime)
    # A failed call is not a use.
    with pytest.raises(ClientError):
        kms.decrypt(CiphertextBlob=blob[:-1])
    time.sleep(2 * 2.0 + 1)
    # A fresh client: the server closes a connection idle for 5 s (--keepalive-timeout), just
    # what this wait is, so the old client's pooled connection may be closed under its request
    # (ConnectionClosedError, and these clients do not retry).
    again = two_workers.client().get_key_last_usage(KeyId=key_id)["KeyLastUsage"]
    assert again["KmsRequestId"] == request_id


def test_get_key_last_usage_of_unknown_key(kms: Any) -> None:
    with pytest.raises(ClientError) as raised:
        kms.get_key_last_usage(KeyId="11111111-2222-3333-4444-555555555555")
    assert code(raised) == "NotFoundException"


_CLOCK_SHIFT = textwrap.dedent(
    """
    import os, time
    _offset = float(os.environ.get("QKMS_TEST_CLOCK_OFFSET", "0"))
    if _offset:
        _time = time.time
        time.time = lambda: _time() + _offset
    """
)


def test_valid_to_expiry_then_reimport(tmp_path: Path) -> None:
    server = QkmsServer(tmp_path / "data", workers=2).start()
    try:
        kms = server.client()
        key_id = create(kms)
        material = os.urandom(32)
        valid_to = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        import_material(
            kms, key_id, material, ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to
        )
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"dated")["CiphertextBlob"]
        server.stop()

        shim = tmp_path / "shim"
        shim.mkdir()
        (shim / "sitecustomize.py").write_text(_CLOCK_SHIFT)
        offset = 2 * 3600
        path = os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH", "")) if p)
        server.env.update({"PYTHONPATH": path, "QKMS_TEST_CLOCK_OFFSET": str(offset)})
        server.start()
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)

        def call(operation: str, body: dict[str, Any]) -> Any:
            return raw_call(server.endpoint, operation, body, timestamp=later)

        described = call("DescribeKey", {"KeyId": key_id}).json()["KeyMetadata"]
        assert described["KeyState"] == "PendingImport"
        refused = call("Decrypt", {"CiphertextBlob": base64.b64encode(blob).decode()})
        assert refused.json()["__type"] == "KMSInvalidStateException"
        params = call(
            "GetParametersForImport",
            {
                "KeyId": key_id,
                "WrappingAlgorithm": "RSAES_OAEP_SHA_256",
                "WrappingKeySpec": "RSA_2048",
            },
        ).json()
        wrapped = client_wrap("RSAES_OAEP_SHA_256", base64.b64decode(params["PublicKey"]), material)
        answer = call(
            "ImportKeyMaterial",
            {
                "KeyId": key_id,
                "ImportToken": params["ImportToken"],
                "EncryptedKeyMaterial": base64.b64encode(wrapped).decode(),
                **NO_EXPIRY,
            },
        )
        assert answer.status == 200, answer.body
        settle()
        for _ in range(4):
            plain = call("Decrypt", {"CiphertextBlob": base64.b64encode(blob).decode()})
            assert plain.status == 200, plain.body
            assert base64.b64decode(plain.json()["Plaintext"]) == b"dated"
    finally:
        server.stop()
