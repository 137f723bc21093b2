"""CreateKey (DESIGN §4, §4a): a new key with fresh material, wrapped under the root key;
`MultiRegion=true` makes the primary of a multi-region key."""

from __future__ import annotations

import uuid

from qkms.domain.errors import UnsupportedOperationException, ValidationException
from qkms.domain.key_material import create_material, create_symmetric_material
from qkms.domain.keys import (
    MULTI_REGION_KEY_PREFIX,
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
from qkms.storage.base import KeyMaterialRow

__all__ = ["create_key"]


def _refuse_unserved(request: CreateKeyRequest) -> None:
    """Parameters QKMS cannot honour yet are refused by name, never silently ignored."""
    if request.custom_key_store_id is not None or request.xks_key_id is not None:
        raise UnsupportedOperationException("Custom key stores are not supported by QKMS.")
    origin = KeyOrigin(request.origin or KeyOrigin.AWS_KMS.value)
    if request.multi_region and origin is KeyOrigin.EXTERNAL:
        # AWS imports the same material into each replica; QKMS does not serve that yet.
        raise UnsupportedOperationException(
            "Multi-Region keys with Origin EXTERNAL are not supported by QKMS."
        )
    if origin not in (KeyOrigin.AWS_KMS, KeyOrigin.EXTERNAL):
        raise UnsupportedOperationException(f"Origin {origin.value} is not supported yet.")


# AWS "ML-DSA keys in AWS KMS": "AWS KMS creates and protects all ML-DSA keys", so they
# cannot hold imported material; QKMS refuses EXTERNAL for them as well.
_NOT_IMPORTABLE = frozenset({KeySpec.ML_DSA_44, KeySpec.ML_DSA_65, KeySpec.ML_DSA_87})


def _origin(request: CreateKeyRequest, spec: KeySpec, usage: KeyUsage) -> KeyOrigin:
    """EXTERNAL (imported material) is served for symmetric encryption, key agreement, RSA and
    ECC signing and HMAC keys; never for ML-DSA or ML-KEM keys (as AWS)."""
    origin = KeyOrigin(request.origin or KeyOrigin.AWS_KMS.value)
    if origin is not KeyOrigin.EXTERNAL:
        return origin
    if spec in _NOT_IMPORTABLE:
        raise UnsupportedOperationException(
            f"KeySpec {spec.value} does not support Origin EXTERNAL: ML-DSA key material is "
            "created in KMS only."
        )
    if usage is KeyUsage.ENCAPSULATE_DECAPSULATE:
        # AWS documents import for symmetric, HMAC, asymmetric encryption and signing keys
        # only (ImportKeyMaterial in the KMS API reference): none for ML-KEM keys.
        raise UnsupportedOperationException(
            f"KeySpec {spec.value} does not support Origin EXTERNAL: ML-KEM key material is "
            "created in KMS only."
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
    if spec is KeySpec.SM2:
        # SM2 keys exist only in AWS's China (Beijing, Ningxia) regions.
        raise UnsupportedOperationException(
            "KeySpec SM2 is not supported: SM2 keys are available only in the AWS China "
            "Regions, and QKMS does not offer them."
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
    origin = _origin(request, spec, usage)
    services = ctx.services
    multi_region = bool(request.multi_region)
    # AWS "Condition keys": kms:MultiRegion on CreateKey is the request's MultiRegion value.
    authorize_account_action(ctx, "CreateKey", {"kms:MultiRegion": multi_region})
    account_id = ctx.caller.account_id
    # AWS gives multi-region keys "mrk-" and 32 hex digits (DESIGN §4a), other keys a UUID.
    key_id = f"{MULTI_REGION_KEY_PREFIX}{uuid.uuid4().hex}" if multi_region else str(uuid.uuid4())
    # An EXTERNAL key starts with no material and no public key, in PendingImport (AWS).
    # A symmetric key's material is its first material version (DESIGN §4a), not on the row.
    generated = origin is KeyOrigin.AWS_KMS
    versions: list[KeyMaterialRow] = []
    material = None
    if generated and spec.is_symmetric:
        first = create_symmetric_material(services.root_key, account_id, key_id)
        versions.append(
            KeyMaterialRow(key_id, first.key_material_id, first.wrapped_material, services.clock())
        )
    elif generated:
        material = create_material(services.root_key, spec, account_id, key_id)
    default_policy = default_key_policy(account_id, services.arns.partition)
    key = Key(
        key_id=key_id,
        account_id=account_id,
        description=request.description or "",
        key_usage=usage,
        key_spec=spec,
        origin=origin,
        state=KeyState.ENABLED if generated else KeyState.PENDING_IMPORT,
        creation_date=services.clock(),
        deletion_date=None,
        public_key_der=material.public_key_der if material is not None else None,
        wrapped_material=material.wrapped_material if material is not None else None,
        policy=default_policy,
        current_key_material_id=versions[0].key_material_id if versions else None,
        # The key belongs to the region of the request that created it (DESIGN §4a).
        region=ctx.region,
        primary_region=ctx.region if multi_region else None,
    )
    if request.tags:
        key = key.with_tags(merged_tags({}, request.tags))
    if request.policy is not None:
        accept_key_policy(
            ctx, key, request.policy, bool(request.bypass_policy_lockout_safety_check)
        )
        key = key.with_policy(request.policy)
    services.store.insert_key(key_to_row(key), versions)
    return CreateKeyResponse(key_metadata=key_metadata(ctx, key))
