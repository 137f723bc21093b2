"""ReplicateKey (DESIGN §4a): a multi-region primary key's replica in another region.

The replica is the key's row for that region (storage/base.py): the same key id, spec, usage,
origin and material (symmetric versions are shared rows; an asymmetric private key is copied,
wrapped as it was), with its own state, description, policy and tags, as AWS gives a replica.
"""

from __future__ import annotations

from dataclasses import replace

from qkms.domain.errors import AlreadyExistsException, ValidationException
from qkms.domain.keys import KeyState
from qkms.domain.lifecycle import KeyOperation
from qkms.domain.policy import default_key_policy
from qkms.operations.keys._metadata import key_metadata
from qkms.operations.keys._multi_region import check_region, require_primary
from qkms.operations.runtime.context import OperationContext
from qkms.operations.shapes.base import Tag
from qkms.operations.shapes.keys import ReplicateKeyResponse
from qkms.operations.shapes.multi_region import ReplicateKeyRequest
from qkms.operations.support.access import authorize_account_action
from qkms.operations.support.key_policy import accept_key_policy
from qkms.operations.support.key_rows import key_to_row
from qkms.operations.support.keys import key_arn, load_cached_key
from qkms.operations.support.tags import merged_tags

__all__ = ["replicate_key"]


def replicate_key(ctx: OperationContext, request: ReplicateKeyRequest) -> ReplicateKeyResponse:
    replica_region = check_region(request.replica_region or "", "replicaRegion")
    # AWS "Condition keys": kms:ReplicaRegion limits the regions a principal may replicate into.
    primary = load_cached_key(
        ctx,
        request.key_id,
        KeyOperation.REPLICATE_KEY,
        extra_context={"kms:ReplicaRegion": replica_region},
    ).key
    primary_arn = key_arn(ctx, primary)
    require_primary(primary, primary_arn)
    if replica_region == primary.region:
        # AWS documents only that each replica is in a different Region from the primary; its
        # exact wording for this request is not known.
        raise ValidationException(
            f"{primary_arn} is already in {replica_region}: a replica must be in another Region."
        )
    # AWS: replicating creates a key in the replica Region, so kms:CreateKey must be allowed.
    authorize_account_action(ctx, "CreateKey", {"kms:MultiRegion": True})
    services = ctx.services
    replica = replace(
        primary,
        region=replica_region,
        description=request.description or "",
        # A replica starts usable; one of a key still waiting for imported material waits too.
        state=KeyState.PENDING_IMPORT
        if primary.state is KeyState.PENDING_IMPORT
        else KeyState.ENABLED,
        creation_date=services.clock(),
        deletion_date=None,
        policy=default_key_policy(primary.account_id, services.arns.partition),
        tags=(),
    )
    if request.tags:
        replica = replica.with_tags(merged_tags({}, request.tags))
    if request.policy is not None:
        accept_key_policy(
            ctx, replica, request.policy, bool(request.bypass_policy_lockout_safety_check)
        )
        replica = replica.with_policy(request.policy)
    if not services.store.insert_replica(key_to_row(replica)):
        # AWS's exact wording is not known; the code is AlreadyExistsException.
        raise AlreadyExistsException(
            f"{key_arn(ctx, replica)} already exists: {primary_arn} has a replica in "
            f"{replica_region}."
        )
    return ReplicateKeyResponse(
        replica_key_metadata=key_metadata(ctx, replica),
        replica_policy=replica.policy or "",
        replica_tags=[Tag(tag_key=k, tag_value=v) for k, v in replica.tags],
    )
