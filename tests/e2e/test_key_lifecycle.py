"""Key lifecycle around DeriveSharedSecret, with AWS's shapes and errors (DESIGN §4)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import QkmsServer
from tests.e2e.support import client_error_message
from tests.peer_keys import public_key_der

ACCOUNT = "111122223333"
DAY = 86400.0
CURVE_NAMES = {
    "ECC_NIST_P256": "secp256r1",
    "ECC_NIST_P384": "secp384r1",
    "ECC_NIST_P521": "secp521r1",
    "ECC_SECG_P256K1": "secp256k1",
}


def new_agreement_key(kms: Any, **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = kms.create_key(
        KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT", **extra
    )["KeyMetadata"]
    return metadata


def state_of(kms: Any, key_id: str) -> str:
    return str(kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"])


@pytest.fixture(scope="module")
def lenient_kms(server: QkmsServer) -> Any:
    """A client without boto3's own parameter checks, so the server's checks are reached."""
    return server.client(parameter_validation=False)


# --- CreateKey ------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", list(CURVE_NAMES))
def test_create_key_agreement_key_metadata_is_exactly_awss(kms: Any, spec: str) -> None:
    before = time.time()
    metadata = kms.create_key(
        KeySpec=spec, KeyUsage="KEY_AGREEMENT", Description="ecdh for the test"
    )["KeyMetadata"]
    after = time.time()

    assert set(metadata) == {
        "AWSAccountId", "KeyId", "Arn", "CreationDate", "Enabled", "Description", "KeyUsage",
        "KeyState", "Origin", "KeyManager", "CustomerMasterKeySpec", "KeySpec",
        "KeyAgreementAlgorithms", "MultiRegion",
    }  # fmt: skip
    key_id = metadata["KeyId"]
    assert str(uuid.UUID(key_id)) == key_id
    assert metadata["AWSAccountId"] == ACCOUNT
    assert metadata["Arn"] == f"arn:verenc:{ACCOUNT}:key/{key_id}"
    assert before - 2 <= metadata["CreationDate"].timestamp() <= after + 2
    assert metadata["Enabled"] is True
    assert metadata["Description"] == "ecdh for the test"
    assert metadata["KeyUsage"] == "KEY_AGREEMENT"
    assert metadata["KeyState"] == "Enabled"
    assert metadata["Origin"] == "AWS_KMS"
    assert metadata["KeyManager"] == "CUSTOMER"
    assert metadata["CustomerMasterKeySpec"] == spec
    assert metadata["KeySpec"] == spec
    assert metadata["KeyAgreementAlgorithms"] == ["ECDH"]
    assert metadata["MultiRegion"] is False

    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert described == metadata


def test_sign_verify_ecc_key_has_signing_algorithms(kms: Any) -> None:
    metadata = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert metadata["KeyUsage"] == "SIGN_VERIFY"
    assert metadata["SigningAlgorithms"] == ["ECDSA_SHA_384"]
    assert "KeyAgreementAlgorithms" not in metadata
    assert "EncryptionAlgorithms" not in metadata


def test_default_key_is_symmetric_encrypt_decrypt(kms: Any) -> None:
    metadata = kms.create_key()["KeyMetadata"]
    assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert metadata["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert metadata["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert metadata["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert "KeyAgreementAlgorithms" not in metadata
    assert "SigningAlgorithms" not in metadata
    assert metadata["Description"] == ""


@pytest.mark.parametrize(
    ("create", "message"),
    [
        (
            {"KeySpec": "RSA_2048", "KeyUsage": "DERIVE_SHARED_SECRET"},
            "KeyUsage DERIVE_SHARED_SECRET is not compatible with KeySpec RSA_2048",
        ),
        (
            {"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "KEY_AGREEMENT"},
            "KeyUsage KEY_AGREEMENT is not compatible with KeySpec SYMMETRIC_DEFAULT",
        ),
        (
            {"KeySpec": "ECC_NIST_P256"},
            "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ECC_NIST_P256",
        ),
    ],
    ids=["rsa-derive", "symmetric-agreement", "ecc-without-usage"],
)
def test_incompatible_usage_and_spec(kms: Any, create: dict[str, str], message: str) -> None:
    keys_before = len(kms.list_keys(Limit=1000)["Keys"])
    assert client_error_message(lambda: kms.create_key(**create), "ValidationException") == message
    assert len(kms.list_keys(Limit=1000)["Keys"]) == keys_before


@pytest.mark.parametrize(
    ("create", "member", "value"),
    [
        ({"KeySpec": "ECC_NIST_P999", "KeyUsage": "KEY_AGREEMENT"}, "keySpec", "ECC_NIST_P999"),
        ({"KeySpec": "ECC_NIST_P256", "KeyUsage": "AGREE"}, "keyUsage", "AGREE"),
    ],
)
def test_bad_enum_value_uses_aws_wording(
    kms: Any, create: dict[str, str], member: str, value: str
) -> None:
    message = client_error_message(lambda: kms.create_key(**create), "ValidationException")
    assert message.startswith(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        "constraint: Member must satisfy enum value set: ["
    )
    assert "ECC_NIST_P256" in message or "KEY_AGREEMENT" in message


# --- ListKeys -------------------------------------------------------------------------------
def test_list_keys_pages_over_every_key_once(tmp_path: Path) -> None:
    qkms = QkmsServer(tmp_path / "data").start()
    try:
        kms = qkms.client()
        created = {new_agreement_key(kms)["KeyId"] for _ in range(7)}
        seen: list[str] = []
        pages: list[dict[str, Any]] = []
        request: dict[str, Any] = {"Limit": 3}
        while True:
            page = kms.list_keys(**request)
            pages.append(page)
            for entry in page["Keys"]:
                assert entry["KeyArn"] == f"arn:verenc:{ACCOUNT}:key/{entry['KeyId']}"
                seen.append(entry["KeyId"])
            if not page["Truncated"]:
                break
            request = {"Limit": 3, "Marker": page["NextMarker"]}
            assert len(pages) < 10
    finally:
        qkms.stop()
    assert sorted(seen) == sorted(created)
    assert [len(p["Keys"]) for p in pages] == [3, 3, 1]
    assert [p["Truncated"] for p in pages] == [True, True, False]
    assert "NextMarker" not in pages[-1]


def test_list_keys_without_limit_includes_new_key(kms: Any) -> None:
    key_id = new_agreement_key(kms)["KeyId"]
    page = kms.list_keys()
    assert key_id in {k["KeyId"] for k in page["Keys"]}
    assert page["Truncated"] is False


def test_list_keys_invalid_marker(kms: Any) -> None:
    client_error_message(
        lambda: kms.list_keys(Marker="not-a-marker-we-issued"), "InvalidMarkerException"
    )


@pytest.mark.parametrize("limit", [0, 1001])
def test_list_keys_limit_out_of_range(lenient_kms: Any, limit: int) -> None:
    message = client_error_message(
        lambda: lenient_kms.list_keys(Limit=limit), "ValidationException"
    )
    assert message.startswith(f"1 validation error detected: Value '{limit}' at 'limit'")


# --- GetPublicKey ---------------------------------------------------------------------------
@pytest.mark.parametrize("spec", list(CURVE_NAMES))
def test_get_public_key(kms: Any, spec: str) -> None:
    key = kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    response = kms.get_public_key(KeyId=key["KeyId"])
    public = serialization.load_der_public_key(response["PublicKey"])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == CURVE_NAMES[spec]
    # The bytes are exactly the DER SPKI re-encoding of the key.
    assert response["PublicKey"] == public_key_der(public)
    assert response["KeyId"] == key["Arn"]
    assert response["KeySpec"] == spec
    assert response["CustomerMasterKeySpec"] == spec
    assert response["KeyUsage"] == "KEY_AGREEMENT"
    assert response["KeyAgreementAlgorithms"] == ["ECDH"]


def test_get_public_key_of_a_symmetric_key(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    client_error_message(lambda: kms.get_public_key(KeyId=key_id), "UnsupportedOperationException")


def test_get_public_key_of_a_disabled_key(kms: Any) -> None:
    key = new_agreement_key(kms)
    kms.disable_key(KeyId=key["KeyId"])
    message = client_error_message(
        lambda: kms.get_public_key(KeyId=key["KeyId"]), "DisabledException"
    )
    assert key["Arn"] in message


# --- Enable / Disable -----------------------------------------------------------------------
def test_disable_and_enable_round_trip(kms: Any) -> None:
    key_id = new_agreement_key(kms)["KeyId"]
    assert kms.disable_key(KeyId=key_id)["ResponseMetadata"]["HTTPStatusCode"] == 200
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (described["KeyState"], described["Enabled"]) == ("Disabled", False)
    kms.disable_key(KeyId=key_id)  # idempotent, as in AWS
    kms.enable_key(KeyId=key_id)
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (described["KeyState"], described["Enabled"]) == ("Enabled", True)
    kms.enable_key(KeyId=key_id)
    assert state_of(kms, key_id) == "Enabled"


def test_enable_unknown_key(kms: Any) -> None:
    client_error_message(lambda: kms.enable_key(KeyId=str(uuid.uuid4())), "NotFoundException")


# --- ScheduleKeyDeletion / CancelKeyDeletion ------------------------------------------------
@pytest.mark.parametrize("days", [None, 7, 30])
def test_schedule_key_deletion_window(kms: Any, days: int | None) -> None:
    key = new_agreement_key(kms)
    arguments = {} if days is None else {"PendingWindowInDays": days}
    now = time.time()
    response = kms.schedule_key_deletion(KeyId=key["KeyId"], **arguments)
    expected_days = days or 30
    assert response["KeyId"] == key["Arn"]
    assert response["KeyState"] == "PendingDeletion"
    assert response["PendingWindowInDays"] == expected_days
    deletion = response["DeletionDate"].timestamp()
    assert abs(deletion - (now + expected_days * DAY)) < 60

    described = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "PendingDeletion"
    assert described["Enabled"] is False
    assert abs(described["DeletionDate"].timestamp() - deletion) < 1


@pytest.mark.parametrize(("days", "bound"), [(6, "greater than or equal to 7"), (31, "less")])
def test_schedule_key_deletion_window_out_of_range(kms: Any, days: int, bound: str) -> None:
    key_id = new_agreement_key(kms)["KeyId"]
    message = client_error_message(
        lambda: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days),
        "ValidationException",
    )
    assert message.startswith(
        f"1 validation error detected: Value '{days}' at 'pendingWindowInDays'"
    )
    assert bound in message
    assert state_of(kms, key_id) == "Enabled"


def test_pending_deletion_key_refuses_state_changes(kms: Any) -> None:
    key = new_agreement_key(kms)
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    for call in (
        lambda: kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7),
        lambda: kms.enable_key(KeyId=key["KeyId"]),
        lambda: kms.disable_key(KeyId=key["KeyId"]),
        lambda: kms.get_public_key(KeyId=key["KeyId"]),
    ):
        message = client_error_message(call, "KMSInvalidStateException")
        assert message == f"{key['Arn']} is pending deletion."
    assert state_of(kms, key["KeyId"]) == "PendingDeletion"


def test_cancel_key_deletion_leaves_the_key_disabled(kms: Any) -> None:
    key = new_agreement_key(kms)
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert kms.cancel_key_deletion(KeyId=key["KeyId"])["KeyId"] == key["Arn"]
    described = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Disabled"
    assert described["Enabled"] is False
    assert "DeletionDate" not in described
    kms.enable_key(KeyId=key["KeyId"])
    assert state_of(kms, key["KeyId"]) == "Enabled"


def test_cancel_key_deletion_of_an_enabled_key(kms: Any) -> None:
    key = new_agreement_key(kms)
    message = client_error_message(
        lambda: kms.cancel_key_deletion(KeyId=key["KeyId"]), "KMSInvalidStateException"
    )
    assert message == f"{key['Arn']} is not pending deletion."


# --- UpdateKeyDescription -------------------------------------------------------------------
def test_update_key_description(kms: Any) -> None:
    key_id = new_agreement_key(kms, Description="before")["KeyId"]
    kms.update_key_description(KeyId=key_id, Description="after")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "after"
    kms.update_key_description(KeyId=key_id, Description="")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == ""


def test_update_key_description_of_a_disabled_key(kms: Any) -> None:
    key_id = new_agreement_key(kms)["KeyId"]
    kms.disable_key(KeyId=key_id)
    kms.update_key_description(KeyId=key_id, Description="still allowed")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "still allowed"


def test_update_key_description_without_description(lenient_kms: Any, kms: Any) -> None:
    key_id = new_agreement_key(kms)["KeyId"]
    message = client_error_message(
        lambda: lenient_kms.update_key_description(KeyId=key_id), "ValidationException"
    )
    assert "'description'" in message and "must not be null" in message


def test_describe_key_by_arn_and_unknown(kms: Any) -> None:
    key = new_agreement_key(kms)
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    client_error_message(lambda: kms.describe_key(KeyId=str(uuid.uuid4())), "NotFoundException")
