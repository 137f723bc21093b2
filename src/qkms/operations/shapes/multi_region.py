"""Shapes of multi-region keys (DESIGN §4a): ReplicateKey, UpdatePrimaryRegion and the
MultiRegionConfiguration of KeyMetadata, as botocore's kms model spells them."""

from __future__ import annotations

import msgspec

from qkms.operations.shapes.base import KEY_ID, Member, Request, Tag

__all__ = [
    "MultiRegionConfiguration",
    "MultiRegionKey",
    "ReplicateKeyRequest",
    "UpdatePrimaryRegionRequest",
]


class ReplicateKeyRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    replica_region: str | None = None
    policy: str | None = None
    bypass_policy_lockout_safety_check: bool | None = None
    description: str | None = None
    tags: list[Tag] | None = None

    constraints = (
        KEY_ID,
        # botocore's RegionType: 1-32 characters; its pattern is checked by the operations.
        Member("ReplicaRegion", required=True, min_length=1, max_length=32),
        Member("Policy", min_length=1, max_length=32768),
        Member("Description", min_length=0, max_length=8192),
    )


class UpdatePrimaryRegionRequest(Request, frozen=True, kw_only=True):
    key_id: str | None = None
    primary_region: str | None = None

    constraints = (KEY_ID, Member("PrimaryRegion", required=True, min_length=1, max_length=32))


class MultiRegionKey(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    arn: str
    region: str


class MultiRegionConfiguration(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    multi_region_key_type: str  # PRIMARY | REPLICA
    primary_key: MultiRegionKey
    replica_keys: list[MultiRegionKey]
