"""GenerateMac and VerifyMac against a real SQLite store: Python's hmac, AWS's errors, states."""

from __future__ import annotations

import hmac

import pytest

from qkms.domain.errors import (
    DisabledException,
    DryRunOperationException,
    InvalidKeyUsageException,
    KMSInvalidMacException,
    KMSInvalidStateException,
)
from qkms.domain.key_material import unwrap_hmac_key
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.disable_key import disable_key
from qkms.operations.keys.schedule_key_deletion import schedule_key_deletion
from qkms.operations.mac import generate_mac, verify_mac
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import (
    CreateKeyRequest,
    DescribeKeyRequest,
    DisableKeyRequest,
    ScheduleKeyDeletionRequest,
)
from qkms.operations.shapes.mac import GenerateMacRequest, VerifyMacRequest
from qkms.operations.support.key_rows import key_from_row

MESSAGE = b"authenticate me"
SPECS = {"HMAC_224": "sha224", "HMAC_256": "sha256", "HMAC_384": "sha384", "HMAC_512": "sha512"}


def new_key(ctx: OperationContext, spec: str, usage: str = "GENERATE_VERIFY_MAC") -> str:
    return create_key(ctx, CreateKeyRequest(key_spec=spec, key_usage=usage)).key_metadata.key_id


def mac_of(ctx: OperationContext, key_id: str, algorithm: str, **extra: object) -> bytes:
    request = GenerateMacRequest(
        key_id=key_id,
        mac_algorithm=algorithm,
        message=MESSAGE,
        **extra,  # type: ignore[arg-type]
    )
    return generate_mac(ctx, request).mac


def check(ctx: OperationContext, key_id: str, algorithm: str, mac: bytes, **extra: object) -> bool:
    extra.setdefault("message", MESSAGE)
    request = VerifyMacRequest(key_id=key_id, mac_algorithm=algorithm, mac=mac, **extra)  # type: ignore[arg-type]
    return verify_mac(ctx, request).mac_valid


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_mac_equals_pythons_hmac_with_the_stored_key(ctx: OperationContext, spec: str) -> None:
    key_id = new_key(ctx, spec)
    algorithm = "HMAC_SHA_" + spec[5:]
    mac = mac_of(ctx, key_id, algorithm)
    row = ctx.services.store.get_key(key_id)
    assert row is not None
    material = unwrap_hmac_key(ctx.services.root_key, key_from_row(row)).to_bytes()
    assert len(material) == int(spec[5:]) // 8
    assert mac == hmac.digest(material, MESSAGE, SPECS[spec])
    assert check(ctx, key_id, algorithm, mac)
    metadata = describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata
    assert metadata.mac_algorithms == [algorithm]
    assert metadata.signing_algorithms is None and metadata.encryption_algorithms is None


def test_a_wrong_or_truncated_mac_is_kms_invalid_mac(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "HMAC_256")
    mac = mac_of(ctx, key_id, "HMAC_SHA_256")
    with pytest.raises(KMSInvalidMacException, match="HMAC verification failed"):
        check(ctx, key_id, "HMAC_SHA_256", mac[:16])
    with pytest.raises(KMSInvalidMacException):
        check(ctx, key_id, "HMAC_SHA_256", mac, message=b"another message")


def test_another_algorithm_is_invalid_key_usage(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "HMAC_384")
    message = "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_384."
    with pytest.raises(InvalidKeyUsageException, match=message):
        mac_of(ctx, key_id, "HMAC_SHA_256")
    with pytest.raises(InvalidKeyUsageException, match=message):
        check(ctx, key_id, "HMAC_SHA_256", bytes(32))


def test_a_key_that_is_not_for_macs_is_invalid_key_usage(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "ECC_NIST_P256", "SIGN_VERIFY")
    with pytest.raises(
        InvalidKeyUsageException,
        match=r"key usage is SIGN_VERIFY which is not valid for GenerateMac\.",
    ):
        mac_of(ctx, key_id, "HMAC_SHA_256")
    with pytest.raises(InvalidKeyUsageException, match=r"not valid for VerifyMac\."):
        check(ctx, key_id, "HMAC_SHA_256", bytes(32))


def test_key_states_and_dry_run(ctx: OperationContext) -> None:
    key_id = new_key(ctx, "HMAC_512")
    mac = mac_of(ctx, key_id, "HMAC_SHA_512")
    with pytest.raises(DryRunOperationException):
        mac_of(ctx, key_id, "HMAC_SHA_512", dry_run=True)
    with pytest.raises(DryRunOperationException):
        check(ctx, key_id, "HMAC_SHA_512", b"wrong", dry_run=True)
    disable_key(ctx, DisableKeyRequest(key_id=key_id))
    with pytest.raises(DisabledException):
        check(ctx, key_id, "HMAC_SHA_512", mac)
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    with pytest.raises(KMSInvalidStateException, match="pending deletion"):
        mac_of(ctx, key_id, "HMAC_SHA_512")
