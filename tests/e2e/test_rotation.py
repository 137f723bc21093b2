"""Key rotation through boto3 against a real `qkms serve --workers 2` (DESIGN §4a).

On-demand rotation, ListKeyRotations paging, the refusals, and automatic rotation by moving the
server's clock: the server restarts with its clock 91 days ahead and the sweeper's first round
at startup rotates the key whose 90-day period has passed.
"""

from __future__ import annotations

import base64
import datetime
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer, raw_call

pytestmark = [pytest.mark.e2e]

DAY = 86400


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def message(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Message"])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path / "data", workers=2).start()
    yield qkms
    qkms.stop()


def current_material(kms: Any, key_id: str) -> str:
    return str(kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"])


def test_on_demand_rotation_changes_the_current_material_and_old_ciphertexts_decrypt(
    server: QkmsServer,
) -> None:
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    first = current_material(kms, key_id)
    old = kms.encrypt(KeyId=key_id, Plaintext=b"before")["CiphertextBlob"]
    answer = kms.rotate_key_on_demand(KeyId=key_id)
    assert answer["KeyId"].endswith(key_id)
    second = current_material(kms, key_id)
    assert second != first
    new = kms.encrypt(KeyId=key_id, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before"
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"after"
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert data_key["KeyMaterialId"] == second
    rotations = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [(r["KeyMaterialId"], r["RotationType"]) for r in rotations] == [(second, "ON_DEMAND")]
    assert rotations[0]["KeyMaterialState"] == "CURRENT"


def test_list_key_rotations_pages_with_limit_and_marker(server: QkmsServer) -> None:
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    made = []
    for _ in range(5):
        kms.rotate_key_on_demand(KeyId=key_id)
        made.append(current_material(kms, key_id))
    seen: list[str] = []
    kwargs: dict[str, Any] = {"KeyId": key_id, "Limit": 2}
    pages = 0
    while True:
        page = kms.list_key_rotations(**kwargs)
        pages += 1
        seen.extend(r["KeyMaterialId"] for r in page["Rotations"])
        if not page["Truncated"]:
            break
        kwargs["Marker"] = page["NextMarker"]
    assert seen == made and pages == 3
    everything = kms.list_key_rotations(KeyId=key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert len(everything["Rotations"]) == 6
    with pytest.raises(ClientError) as bad:
        kms.list_key_rotations(KeyId=key_id, Marker="bm90LWEtbWFya2Vy")
    assert code(bad) == "InvalidMarkerException"


def test_rotation_status_and_its_limits(server: QkmsServer) -> None:
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is False and "NextRotationDate" not in status
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 180
    now = datetime.datetime.now(datetime.UTC)
    expected = now + datetime.timedelta(days=180)
    assert abs((status["NextRotationDate"] - expected).total_seconds()) < 60
    assert "OnDemandRotationStartDate" not in status
    # boto3 checks the range itself; the raw wire shows the server's own answer.
    for days, bound in ((89, "greater than or equal to 90"), (2561, "less than or equal to 2560")):
        response = raw_call(
            server.endpoint, "EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": days}
        )
        assert response.json()["__type"] == "ValidationException"
        assert f"Value '{days}' at 'rotationPeriodInDays'" in response.json()["message"]
        assert bound in response.json()["message"]
    kms.disable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


@pytest.mark.parametrize(
    "create",
    [
        {"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"},
        {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"},
        {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
    ],
)
def test_keys_aws_does_not_rotate_are_refused(server: QkmsServer, create: dict[str, str]) -> None:
    kms = server.client()
    metadata = kms.create_key(**create)["KeyMetadata"]
    for call in (kms.enable_key_rotation, kms.rotate_key_on_demand):
        with pytest.raises(ClientError) as refused:
            call(KeyId=metadata["KeyId"])
        assert code(refused) == "UnsupportedOperationException"
        assert message(refused) == f"{metadata['Arn']} is not a symmetric encryption KMS key."


def test_twenty_five_on_demand_rotations_then_limit_exceeded(server: QkmsServer) -> None:
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(25):
        kms.rotate_key_on_demand(KeyId=key_id)
    with pytest.raises(ClientError) as refused:
        kms.rotate_key_on_demand(KeyId=key_id)
    assert code(refused) == "LimitExceededException"


_CLOCK_SHIFT = textwrap.dedent(
    """
    import os, time
    _offset = float(os.environ.get("QKMS_TEST_CLOCK_OFFSET", "0"))
    if _offset:
        _time = time.time
        time.time = lambda: _time() + _offset
    """
)


def test_automatic_rotation_happens_when_the_clock_passes_the_period(
    server: QkmsServer, tmp_path: Path
) -> None:
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    first = current_material(kms, key_id)
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"written before")["CiphertextBlob"]
    server.stop()

    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(_CLOCK_SHIFT)
    offset = 91 * DAY
    # The shim first, then this tree's sources, so the restarted server runs this code.
    path = os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH", "")) if p)
    server.env.update({"PYTHONPATH": path, "QKMS_TEST_CLOCK_OFFSET": str(offset)})
    server.start()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)

    def call(operation: str, body: dict[str, Any]) -> dict[str, Any]:
        response = raw_call(server.endpoint, operation, body, timestamp=later)
        assert response.status == 200, response.body
        result: dict[str, Any] = response.json()
        return result

    deadline = time.monotonic() + 20
    while call("DescribeKey", {"KeyId": key_id})["KeyMetadata"]["CurrentKeyMaterialId"] == first:
        assert time.monotonic() < deadline, "the sweeper did not rotate the due key"
        time.sleep(0.2)
    rotations = call("ListKeyRotations", {"KeyId": key_id})["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    status = call("GetKeyRotationStatus", {"KeyId": key_id})
    assert status["NextRotationDate"] > later.timestamp() + 89 * DAY
    plain = call("Decrypt", {"CiphertextBlob": base64.b64encode(blob).decode()})["Plaintext"]
    assert base64.b64decode(plain) == b"written before"
