"""Grants with encryption-context constraints, enforced on the data-plane operations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qkms.domain.errors import AccessDeniedException, ValidationException
from qkms.operations.access.create_grant import create_grant
from qkms.operations.access.list_grants import list_grants
from qkms.operations.encryption import decrypt, encrypt, generate_data_key
from qkms.operations.keys.create_key import create_key
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CreateGrantRequest,
    CreateKeyRequest,
    GrantConstraints,
    ListGrantsRequest,
)
from qkms.operations.shapes.encryption import DecryptRequest, EncryptRequest, GenerateDataKeyRequest
from tests.unit.support import ACCOUNT
from tests.unit.support import context as context_for

USER = f"arn:verenc:{ACCOUNT}:user/bob"


@pytest.fixture
def bob(services: Services) -> OperationContext:
    services.store.ensure_user(ACCOUNT, "bob", 0.0)  # no identity policy: grants only
    admin = context_for(services)
    caller = replace(admin.caller, user_name="bob", principal_arn=USER)
    return OperationContext(services=services, caller=caller, request_id="req-bob")


def test_a_constrained_grant_allows_only_matching_contexts(
    ctx: OperationContext, key_id: str, bob: OperationContext
) -> None:
    grant = create_grant(
        ctx,
        CreateGrantRequest(
            key_id=key_id,
            grantee_principal=USER,
            operations=["Encrypt", "Decrypt", "GenerateDataKey"],
            constraints_=GrantConstraints(encryption_context_subset={"Tenant": "a"}),
        ),
    )
    blob = encrypt(
        bob, EncryptRequest(key_id=key_id, plaintext=b"p", encryption_context={"tenant": "a"})
    ).ciphertext_blob
    assert (
        decrypt(
            bob, DecryptRequest(ciphertext_blob=blob, encryption_context={"tenant": "a"})
        ).plaintext
        == b"p"
    )
    for wrong in ({}, {"tenant": "b"}):
        with pytest.raises(AccessDeniedException):
            encrypt(bob, EncryptRequest(key_id=key_id, plaintext=b"p", encryption_context=wrong))
        with pytest.raises(AccessDeniedException):
            generate_data_key(
                bob,
                GenerateDataKeyRequest(key_id=key_id, number_of_bytes=8, encryption_context=wrong),
            )
    [entry] = [g for g in list_grants(ctx, ListGrantsRequest(key_id=key_id)).grants]
    assert entry.grant_id == grant.grant_id
    assert entry.constraints_ == GrantConstraints(encryption_context_subset={"Tenant": "a"})


def test_constraints_are_refused_on_keys_without_an_encryption_context(
    ctx: OperationContext,
) -> None:
    ecc = create_key(
        ctx, CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    ).key_metadata.key_id
    with pytest.raises(ValidationException):
        create_grant(
            ctx,
            CreateGrantRequest(
                key_id=ecc,
                grantee_principal=USER,
                operations=["DeriveSharedSecret"],
                constraints_=GrantConstraints(encryption_context_equals={"a": "b"}),
            ),
        )
