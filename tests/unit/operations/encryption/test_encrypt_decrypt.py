"""Encrypt, Decrypt and ReEncrypt against a real SQLite store (DESIGN §4a)."""

from __future__ import annotations

import json

import pytest

from qkms.domain.errors import (
    AccessDeniedException,
    DisabledException,
    DryRunOperationException,
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    KMSInvalidStateException,
    ValidationException,
)
from qkms.operations.encryption import decrypt, encrypt, re_encrypt
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.disable_key import disable_key
from qkms.operations.keys.schedule_key_deletion import schedule_key_deletion
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CreateKeyRequest,
    DescribeKeyRequest,
    DisableKeyRequest,
    RecipientInfo,
    ScheduleKeyDeletionRequest,
)
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest, ReEncryptRequest
from qkms.storage import UserPolicyRow
from tests.unit.support import ACCOUNT

CONTEXT = {"tenant": "a", "purpose": "test"}


def _encrypt(ctx: OperationContext, key_id: str, data: bytes = b"secret", **kw: object) -> bytes:
    return encrypt(ctx, EncryptRequest(key_id=key_id, plaintext=data, **kw)).ciphertext_blob  # type: ignore[arg-type]


def test_a_round_trip_needs_no_key_id_and_names_the_current_material(
    ctx: OperationContext, key_id: str
) -> None:
    blob = _encrypt(ctx, key_id, encryption_context=CONTEXT)
    answer = decrypt(ctx, DecryptRequest(ciphertext_blob=blob, encryption_context=CONTEXT))
    metadata = describe_key(ctx, DescribeKeyRequest(key_id=key_id)).key_metadata
    assert answer.plaintext == b"secret"
    assert answer.key_id == metadata.arn
    assert answer.key_material_id == metadata.current_key_material_id
    assert answer.encryption_algorithm == "SYMMETRIC_DEFAULT"


def test_context_order_does_not_matter_but_every_pair_does(
    ctx: OperationContext, key_id: str
) -> None:
    blob = _encrypt(ctx, key_id, encryption_context=CONTEXT)
    reordered = dict(reversed(list(CONTEXT.items())))
    assert decrypt(ctx, DecryptRequest(ciphertext_blob=blob, encryption_context=reordered))
    for wrong in ({}, {"tenant": "a"}, {**CONTEXT, "extra": "x"}, {**CONTEXT, "tenant": "A"}):
        with pytest.raises(InvalidCiphertextException):
            decrypt(ctx, DecryptRequest(ciphertext_blob=blob, encryption_context=wrong))


def test_every_flipped_byte_truncation_and_extension_is_an_invalid_ciphertext(
    ctx: OperationContext, key_id: str
) -> None:
    blob = _encrypt(ctx, key_id)
    tampered = [blob[:-1], blob + b"\x00", blob[:40], b"\x01\x02\x02\x00" + blob[4:]]
    tampered += [blob[:i] + bytes([blob[i] ^ 1]) + blob[i + 1 :] for i in range(len(blob))]
    for bad in tampered:
        with pytest.raises(InvalidCiphertextException):
            decrypt(ctx, DecryptRequest(ciphertext_blob=bad))


def test_a_key_id_that_is_not_the_blobs_key_is_incorrect(
    ctx: OperationContext, key_id: str
) -> None:
    other = create_key(ctx, CreateKeyRequest()).key_metadata.key_id
    blob = _encrypt(ctx, key_id)
    with pytest.raises(IncorrectKeyException):
        decrypt(ctx, DecryptRequest(ciphertext_blob=blob, key_id=other))
    assert decrypt(ctx, DecryptRequest(ciphertext_blob=blob, key_id=key_id)).plaintext


def test_key_states_give_aws_errors(ctx: OperationContext, key_id: str) -> None:
    blob = _encrypt(ctx, key_id)
    disable_key(ctx, DisableKeyRequest(key_id=key_id))
    with pytest.raises(DisabledException):
        _encrypt(ctx, key_id)
    with pytest.raises(DisabledException):
        decrypt(ctx, DecryptRequest(ciphertext_blob=blob))
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=key_id))
    with pytest.raises(KMSInvalidStateException, match="is pending deletion"):
        decrypt(ctx, DecryptRequest(ciphertext_blob=blob))


def test_a_key_agreement_key_cannot_encrypt(ctx: OperationContext) -> None:
    ecc = create_key(
        ctx, CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    ).key_metadata
    with pytest.raises(InvalidKeyUsageException, match="which is not valid for Encrypt"):
        _encrypt(ctx, ecc.key_id)


def test_an_rsa_algorithm_is_refused_for_a_symmetric_key(
    ctx: OperationContext, key_id: str
) -> None:
    with pytest.raises(InvalidKeyUsageException, match="incompatible with key spec"):
        _encrypt(ctx, key_id, encryption_algorithm="RSAES_OAEP_SHA_256")


def test_dry_run_and_recipient(ctx: OperationContext, key_id: str) -> None:
    with pytest.raises(DryRunOperationException):
        _encrypt(ctx, key_id, dry_run=True)
    blob = _encrypt(ctx, key_id)
    with pytest.raises(DryRunOperationException):
        decrypt(ctx, DecryptRequest(ciphertext_blob=blob, dry_run=True))
    with pytest.raises(DryRunOperationException):
        decrypt(
            ctx,
            DecryptRequest(
                ciphertext_blob=b"x",
                key_id=key_id,
                dry_run=True,
                dry_run_modifiers=["IGNORE_CIPHERTEXT"],
            ),
        )
    # A Recipient without its document is refused, never answered in clear (DESIGN §3).
    with pytest.raises(ValidationException, match=r"recipient\.attestationDocument"):
        decrypt(ctx, DecryptRequest(ciphertext_blob=blob, recipient=RecipientInfo()))


def test_re_encrypt_moves_a_ciphertext_to_another_key_and_context(
    ctx: OperationContext, key_id: str
) -> None:
    other = create_key(ctx, CreateKeyRequest()).key_metadata.key_id
    blob = _encrypt(ctx, key_id, encryption_context=CONTEXT)
    for source in (None, key_id):
        moved = re_encrypt(
            ctx,
            ReEncryptRequest(
                ciphertext_blob=blob,
                source_key_id=source,
                source_encryption_context=CONTEXT,
                destination_key_id=other,
                destination_encryption_context={"new": "ctx"},
            ),
        )
        assert moved.source_key_id.endswith(key_id) and moved.key_id.endswith(other)
        out = decrypt(
            ctx,
            DecryptRequest(
                ciphertext_blob=moved.ciphertext_blob, encryption_context={"new": "ctx"}
            ),
        )
        assert out.plaintext == b"secret"
    with pytest.raises(IncorrectKeyException):
        re_encrypt(
            ctx,
            ReEncryptRequest(
                ciphertext_blob=blob,
                source_key_id=other,
                source_encryption_context=CONTEXT,
                destination_key_id=other,
            ),
        )


def test_re_encrypt_on_the_same_key_is_a_condition_fact(
    ctx: OperationContext, services: Services, key_id: str
) -> None:
    """An identity policy may deny re-encrypting onto the same key (kms:ReEncryptOnSameKey)."""
    deny_same = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "kms:ReEncrypt*",
                    "Resource": "*",
                    "Condition": {"Bool": {"kms:ReEncryptOnSameKey": "true"}},
                },
            ],
        }
    )
    services.store.put_user_policy(UserPolicyRow(ACCOUNT, "admin", "admin", deny_same), 0.0)
    services.identity_policies.evict(f"{ACCOUNT}:admin")
    other = create_key(ctx, CreateKeyRequest()).key_metadata.key_id
    blob = _encrypt(ctx, key_id)
    assert re_encrypt(ctx, ReEncryptRequest(ciphertext_blob=blob, destination_key_id=other))
    with pytest.raises(AccessDeniedException):
        re_encrypt(ctx, ReEncryptRequest(ciphertext_blob=blob, destination_key_id=key_id))
