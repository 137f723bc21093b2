"""CreateKey (DESIGN §4): a new key with fresh material, wrapped under the root key."""

from __future__ import annotations

import uuid

from qkms.domain.errors import UnsupportedOperationException, ValidationException
from qkms.domain.key_material import create_material
from qkms.domain.keys import (
    Key,
    KeyOrigin,
    KeySpec,
    KeyState,
    KeyUsage,
    is_supported_pair,
    is_valid_aws_pair,
)
from qkms.domain.policy import default_key_policy
from qkms.operations.keys._metadata import key_metadata
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import CreateKeyRequest, CreateKeyResponse
from qkms.operations.support.access import authorize_account_action
from qkms.operations.support.key_policy import accept_key_policy
from qkms.operations.support.key_rows import key_to_row
from qkms.operations.support.tags import merged_tags

__all__ = ["create_key"]


def _refuse_unserved(request: CreateKeyRequest) -> None:
    """Parameters QKMS cannot honour yet are refused by name, never silently ignored."""
    if request.custom_key_store_id is not None or request.xks_key_id is not None:
        raise UnsupportedOperationException("Custom key stores are not supported by QKMS.")
    if request.multi_region:
        raise UnsupportedOperationException("Multi-Region keys are not supported by QKMS.")
    origin = KeyOrigin(request.origin or KeyOrigin.AWS_KMS.value)
    if origin not in (KeyOrigin.AWS_KMS, KeyOrigin.EXTERNAL):
        raise UnsupportedOperationException(f"Origin {origin.value} is not supported yet.")


def _origin(request: CreateKeyRequest, usage: KeyUsage) -> KeyOrigin:
    """EXTERNAL (imported material, issue #4) is served for key agreement keys only."""
    origin = KeyOrigin(request.origin or KeyOrigin.AWS_KMS.value)
    if origin is KeyOrigin.EXTERNAL and not usage.is_key_agreement:
        raise UnsupportedOperationException(
            f"Origin EXTERNAL with KeyUsage {usage.value} is not supported by QKMS."
        )
    return origin


def _spec_and_usage(request: CreateKeyRequest) -> tuple[KeySpec, KeyUsage]:
    if request.key_spec is not None and request.customer_master_key_spec is not None:
        raise ValidationException(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
            "CustomerMasterKeySpec is deprecated."
        )
    spec = KeySpec(request.key_spec or request.customer_master_key_spec or "SYMMETRIC_DEFAULT")
    # AWS's default usage is ENCRYPT_DECRYPT whatever the spec, so an ECC key without a usage
    # is refused as incompatible, exactly as AWS does.
    usage = KeyUsage(request.key_usage or "ENCRYPT_DECRYPT")
    if not is_valid_aws_pair(spec, usage):
        raise ValidationException(
            f"KeyUsage {usage.value} is not compatible with KeySpec {spec.value}"
        )
    if spec is KeySpec.ML_KEM_512:
        raise UnsupportedOperationException(
            "KeySpec ML_KEM_512 is not supported by QKMS: the installed cryptography library "
            "does not implement ML-KEM-512."
        )
    if not is_supported_pair(spec, usage):
        raise UnsupportedOperationException(
            f"KeySpec {spec.value} with KeyUsage {usage.value} is not supported by QKMS."
        )
    return spec, usage


def create_key(ctx: OperationContext, request: CreateKeyRequest) -> CreateKeyResponse:
    _refuse_unserved(request)
    spec, usage = _spec_and_usage(request)
    origin = _origin(request, usage)
    services = ctx.services
    authorize_account_action(ctx, "CreateKey")
    account_id = ctx.caller.account_id
    key_id = str(uuid.uuid4())
    # An EXTERNAL key starts with no material and no public key, in PendingImport (AWS).
    material = (
        create_material(services.root_key, spec, account_id, key_id)
        if origin is KeyOrigin.AWS_KMS
        else None
    )
    default_policy = default_key_policy(account_id, services.arns.partition)
    key = Key(
        key_id=key_id,
        account_id=account_id,
        description=request.description or "",
        key_usage=usage,
        key_spec=spec,
        origin=origin,
        state=KeyState.ENABLED if material is not None else KeyState.PENDING_IMPORT,
        creation_date=services.clock(),
        deletion_date=None,
        public_key_der=material.public_key_der if material is not None else None,
        wrapped_material=material.wrapped_material if material is not None else None,
        policy=default_policy,
    )
    if request.tags:
        key = key.with_tags(merged_tags({}, request.tags))
    if request.policy is not None:
        accept_key_policy(
            ctx, key, request.policy, bool(request.bypass_policy_lockout_safety_check)
        )
        key = key.with_policy(request.policy)
    services.store.insert_key(key_to_row(key))
    return CreateKeyResponse(key_metadata=key_metadata(ctx, key))
