"""The one explicit table of operations: wire name -> (request shape, handler) (STYLE §2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qkms.operations.access.create_grant import create_grant
from qkms.operations.access.get_key_policy import get_key_policy
from qkms.operations.access.list_grants import list_grants
from qkms.operations.access.list_key_policies import list_key_policies
from qkms.operations.access.list_retirable_grants import list_retirable_grants
from qkms.operations.access.put_key_policy import put_key_policy
from qkms.operations.access.retire_grant import retire_grant
from qkms.operations.access.revoke_grant import revoke_grant
from qkms.operations.aliases.create_alias import create_alias
from qkms.operations.aliases.delete_alias import delete_alias
from qkms.operations.aliases.list_aliases import list_aliases
from qkms.operations.aliases.update_alias import update_alias
from qkms.operations.encryption.decrypt import decrypt
from qkms.operations.encryption.encrypt import encrypt
from qkms.operations.encryption.generate_data_key import generate_data_key
from qkms.operations.encryption.generate_data_key_pair import generate_data_key_pair
from qkms.operations.encryption.generate_data_key_pair_without_plaintext import (
    generate_data_key_pair_without_plaintext,
)
from qkms.operations.encryption.generate_data_key_without_plaintext import (
    generate_data_key_without_plaintext,
)
from qkms.operations.encryption.generate_random import generate_random
from qkms.operations.encryption.re_encrypt import re_encrypt
from qkms.operations.key_agreement.decapsulate import decapsulate
from qkms.operations.key_agreement.derive_shared_secret import derive_shared_secret
from qkms.operations.key_agreement.encapsulate import encapsulate
from qkms.operations.key_import.delete_imported_key_material import delete_imported_key_material
from qkms.operations.key_import.get_parameters_for_import import get_parameters_for_import
from qkms.operations.key_import.import_key_material import import_key_material
from qkms.operations.keys.cancel_key_deletion import cancel_key_deletion
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.keys.disable_key import disable_key
from qkms.operations.keys.enable_key import enable_key
from qkms.operations.keys.get_key_last_usage import get_key_last_usage
from qkms.operations.keys.get_public_key import get_public_key
from qkms.operations.keys.list_keys import list_keys
from qkms.operations.keys.replicate_key import replicate_key
from qkms.operations.keys.schedule_key_deletion import schedule_key_deletion
from qkms.operations.keys.update_key_description import update_key_description
from qkms.operations.keys.update_primary_region import update_primary_region
from qkms.operations.mac.generate_mac import generate_mac
from qkms.operations.mac.verify_mac import verify_mac
from qkms.operations.rotation.disable_key_rotation import disable_key_rotation
from qkms.operations.rotation.enable_key_rotation import enable_key_rotation
from qkms.operations.rotation.get_key_rotation_status import get_key_rotation_status
from qkms.operations.rotation.list_key_rotations import list_key_rotations
from qkms.operations.rotation.rotate_key_on_demand import rotate_key_on_demand
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes import (
    CancelKeyDeletionRequest,
    CreateAliasRequest,
    CreateGrantRequest,
    CreateKeyRequest,
    DeleteAliasRequest,
    DeriveSharedSecretRequest,
    DescribeKeyRequest,
    DisableKeyRequest,
    EnableKeyRequest,
    GetKeyPolicyRequest,
    GetPublicKeyRequest,
    ListAliasesRequest,
    ListGrantsRequest,
    ListKeyPoliciesRequest,
    ListKeysRequest,
    ListResourceTagsRequest,
    ListRetirableGrantsRequest,
    PutKeyPolicyRequest,
    Request,
    Response,
    RetireGrantRequest,
    RevokeGrantRequest,
    ScheduleKeyDeletionRequest,
    TagResourceRequest,
    UntagResourceRequest,
    UpdateAliasRequest,
    UpdateKeyDescriptionRequest,
)
from qkms.operations.shapes.encryption import (
    DecryptRequest,
    EncryptRequest,
    GenerateDataKeyPairRequest,
    GenerateDataKeyPairWithoutPlaintextRequest,
    GenerateDataKeyRequest,
    GenerateDataKeyWithoutPlaintextRequest,
    GenerateRandomRequest,
    ReEncryptRequest,
)
from qkms.operations.shapes.key_agreement import DecapsulateRequest, EncapsulateRequest
from qkms.operations.shapes.key_import import (
    DeleteImportedKeyMaterialRequest,
    GetParametersForImportRequest,
    ImportKeyMaterialRequest,
)
from qkms.operations.shapes.key_usage import GetKeyLastUsageRequest
from qkms.operations.shapes.mac import GenerateMacRequest, VerifyMacRequest
from qkms.operations.shapes.multi_region import ReplicateKeyRequest, UpdatePrimaryRegionRequest
from qkms.operations.shapes.rotation import (
    DisableKeyRotationRequest,
    EnableKeyRotationRequest,
    GetKeyRotationStatusRequest,
    ListKeyRotationsRequest,
    RotateKeyOnDemandRequest,
)
from qkms.operations.shapes.signing import SignRequest, VerifyRequest
from qkms.operations.signing.sign import sign
from qkms.operations.signing.verify import verify
from qkms.operations.tags.list_resource_tags import list_resource_tags
from qkms.operations.tags.tag_resource import tag_resource
from qkms.operations.tags.untag_resource import untag_resource

__all__ = ["OPERATIONS", "Operation"]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    request_type: type[Request]
    # Handlers share one calling convention (STYLE §3); `Any` stays inside this table because
    # each handler takes its own request subtype.
    handler: Callable[[OperationContext, Any], Response]
    # Run on the event loop instead of a worker thread: the hot path, whose common case is
    # served from memory (cached key, cached credentials) and costs less than a thread hop.
    inline: bool = False


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("CreateKey", CreateKeyRequest, create_key),
        # A single-region key's metadata is all in the cached key; a multi-region key's
        # replicas are read from the store, so that DescribeKey moves to a thread (WouldBlock).
        Operation("DescribeKey", DescribeKeyRequest, describe_key, inline=True),
        Operation("ListKeys", ListKeysRequest, list_keys),
        Operation("ReplicateKey", ReplicateKeyRequest, replicate_key),
        Operation("UpdatePrimaryRegion", UpdatePrimaryRegionRequest, update_primary_region),
        Operation("GetPublicKey", GetPublicKeyRequest, get_public_key),
        Operation("EnableKey", EnableKeyRequest, enable_key),
        Operation("DisableKey", DisableKeyRequest, disable_key),
        Operation("ScheduleKeyDeletion", ScheduleKeyDeletionRequest, schedule_key_deletion),
        Operation("CancelKeyDeletion", CancelKeyDeletionRequest, cancel_key_deletion),
        Operation("UpdateKeyDescription", UpdateKeyDescriptionRequest, update_key_description),
        Operation(
            "DeriveSharedSecret", DeriveSharedSecretRequest, derive_shared_secret, inline=True
        ),
        Operation("Sign", SignRequest, sign),
        Operation("Verify", VerifyRequest, verify),
        Operation("GenerateMac", GenerateMacRequest, generate_mac, inline=True),
        Operation("VerifyMac", VerifyMacRequest, verify_mac, inline=True),
        Operation("Encapsulate", EncapsulateRequest, encapsulate),
        Operation("Decapsulate", DecapsulateRequest, decapsulate),
        Operation("GetKeyPolicy", GetKeyPolicyRequest, get_key_policy),
        Operation("PutKeyPolicy", PutKeyPolicyRequest, put_key_policy),
        Operation("ListKeyPolicies", ListKeyPoliciesRequest, list_key_policies),
        Operation("CreateGrant", CreateGrantRequest, create_grant),
        Operation("ListGrants", ListGrantsRequest, list_grants),
        Operation("ListRetirableGrants", ListRetirableGrantsRequest, list_retirable_grants),
        Operation("RetireGrant", RetireGrantRequest, retire_grant),
        Operation("RevokeGrant", RevokeGrantRequest, revoke_grant),
        Operation("CreateAlias", CreateAliasRequest, create_alias),
        Operation("UpdateAlias", UpdateAliasRequest, update_alias),
        Operation("DeleteAlias", DeleteAliasRequest, delete_alias),
        Operation("ListAliases", ListAliasesRequest, list_aliases),
        Operation("TagResource", TagResourceRequest, tag_resource),
        Operation("UntagResource", UntagResourceRequest, untag_resource),
        Operation("ListResourceTags", ListResourceTagsRequest, list_resource_tags),
        Operation(
            "GetParametersForImport", GetParametersForImportRequest, get_parameters_for_import
        ),
        Operation("ImportKeyMaterial", ImportKeyMaterialRequest, import_key_material),
        Operation(
            "DeleteImportedKeyMaterial",
            DeleteImportedKeyMaterialRequest,
            delete_imported_key_material,
        ),
        # The symmetric data plane (DESIGN §4a).
        Operation("Encrypt", EncryptRequest, encrypt),
        Operation("Decrypt", DecryptRequest, decrypt),
        Operation("ReEncrypt", ReEncryptRequest, re_encrypt),
        Operation("GenerateDataKey", GenerateDataKeyRequest, generate_data_key),
        Operation(
            "GenerateDataKeyWithoutPlaintext",
            GenerateDataKeyWithoutPlaintextRequest,
            generate_data_key_without_plaintext,
        ),
        Operation("GenerateDataKeyPair", GenerateDataKeyPairRequest, generate_data_key_pair),
        Operation(
            "GenerateDataKeyPairWithoutPlaintext",
            GenerateDataKeyPairWithoutPlaintextRequest,
            generate_data_key_pair_without_plaintext,
        ),
        Operation("GenerateRandom", GenerateRandomRequest, generate_random),
        # Rotation (DESIGN §4a).
        Operation("EnableKeyRotation", EnableKeyRotationRequest, enable_key_rotation),
        Operation("DisableKeyRotation", DisableKeyRotationRequest, disable_key_rotation),
        Operation("GetKeyRotationStatus", GetKeyRotationStatusRequest, get_key_rotation_status),
        Operation("RotateKeyOnDemand", RotateKeyOnDemandRequest, rotate_key_on_demand),
        Operation("ListKeyRotations", ListKeyRotationsRequest, list_key_rotations),
        # Usage recorded in memory, flushed by the background loop (runtime/key_usage.py).
        Operation("GetKeyLastUsage", GetKeyLastUsageRequest, get_key_last_usage),
    )
}
