"""Multi-region keys (DESIGN §4a) at the operation layer: the condition keys AWS defines for
them (kms:MultiRegion, kms:MultiRegionKeyType, kms:ReplicaRegion, kms:PrimaryRegion), per-region
state and ListKeys paging over region rows."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from qkms.domain.arns import ArnFormat
from qkms.domain.errors import KmsError
from qkms.operations.encryption.encrypt import encrypt
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.list_keys import list_keys
from qkms.operations.keys.replicate_key import replicate_key
from qkms.operations.keys.update_primary_region import update_primary_region
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import CreateKeyRequest, ListKeysRequest
from qkms.operations.shapes.encryption import EncryptRequest
from qkms.operations.shapes.multi_region import ReplicateKeyRequest, UpdatePrimaryRegionRequest
from tests.unit.support import add_user, allow, context, policy, user_ctx


@pytest.fixture
def aws_services(services: Services) -> Services:
    arns = dataclasses.replace(services.arns, arn_format=ArnFormat.AWS, region="us-east-1")
    return dataclasses.replace(services, arns=arns)


def admin_in(services: Services, region: str) -> OperationContext:
    return dataclasses.replace(context(services), signed_region=region)


def user_in(services: Services, user: str, region: str) -> OperationContext:
    return dataclasses.replace(user_ctx(services, user), signed_region=region)


def outcome(call: Any, ctx: OperationContext, request: Any) -> str:
    try:
        call(ctx, request)
    except KmsError as error:
        return error.code
    return "ok"


def new_multi_region_key(services: Services, *replicas: str) -> str:
    east = admin_in(services, "us-east-1")
    key_id = create_key(east, CreateKeyRequest(multi_region=True)).key_metadata.key_id
    for region in replicas:
        replicate_key(east, ReplicateKeyRequest(key_id=key_id, replica_region=region))
    return key_id


def test_kms_multi_region_conditions_create_key_on_the_request(aws_services: Services) -> None:
    condition = {"Bool": {"kms:MultiRegion": "true"}}
    add_user(aws_services, "una", policy(allow("kms:CreateKey", Condition=condition)))
    una = user_in(aws_services, "una", "us-east-1")
    assert outcome(create_key, una, CreateKeyRequest(multi_region=True)) == "ok"
    assert outcome(create_key, una, CreateKeyRequest()) == "AccessDeniedException"


def test_kms_replica_region_limits_where_a_key_may_be_replicated(aws_services: Services) -> None:
    condition = {"StringEquals": {"kms:ReplicaRegion": "us-west-2"}}
    add_user(
        aws_services,
        "una",
        policy(allow("kms:ReplicateKey", Condition=condition), allow("kms:CreateKey")),
    )
    key_id = new_multi_region_key(aws_services)
    una = user_in(aws_services, "una", "us-east-1")
    to = ReplicateKeyRequest
    assert outcome(replicate_key, una, to(key_id=key_id, replica_region="eu-west-1")) == (
        "AccessDeniedException"
    )
    assert outcome(replicate_key, una, to(key_id=key_id, replica_region="us-west-2")) == "ok"


def test_replicating_needs_create_key_as_well(aws_services: Services) -> None:
    add_user(aws_services, "una", policy(allow("kms:ReplicateKey")))
    key_id = new_multi_region_key(aws_services)
    request = ReplicateKeyRequest(key_id=key_id, replica_region="us-west-2")
    assert outcome(replicate_key, user_in(aws_services, "una", "us-east-1"), request) == (
        "AccessDeniedException"
    )


def test_kms_multi_region_key_type_tells_primary_from_replica(aws_services: Services) -> None:
    condition = {"StringEquals": {"kms:MultiRegionKeyType": "REPLICA"}}
    add_user(aws_services, "una", policy(allow("kms:Encrypt", Condition=condition)))
    key_id = new_multi_region_key(aws_services, "us-west-2")
    request = EncryptRequest(key_id=key_id, plaintext=b"p")
    assert outcome(encrypt, user_in(aws_services, "una", "us-west-2"), request) == "ok"
    assert outcome(encrypt, user_in(aws_services, "una", "us-east-1"), request) == (
        "AccessDeniedException"
    )


def test_kms_primary_region_conditions_update_primary_region(aws_services: Services) -> None:
    condition = {"StringEquals": {"kms:PrimaryRegion": "us-west-2"}}
    add_user(aws_services, "una", policy(allow("kms:UpdatePrimaryRegion", Condition=condition)))
    key_id = new_multi_region_key(aws_services, "us-west-2", "eu-west-1")
    una = user_in(aws_services, "una", "us-east-1")
    move = UpdatePrimaryRegionRequest
    assert outcome(update_primary_region, una, move(key_id=key_id, primary_region="eu-west-1")) == (
        "AccessDeniedException"
    )
    assert outcome(update_primary_region, una, move(key_id=key_id, primary_region="us-west-2")) == (
        "ok"
    )


def test_list_keys_pages_through_multi_region_rows_without_repeating_one(
    aws_services: Services,
) -> None:
    # The marker is the last row id; a multi-region key's row id is longer than its key id, so
    # a marker made of the key id would list that key again.
    east = admin_in(aws_services, "us-east-1")
    made = {new_multi_region_key(aws_services, "us-west-2") for _ in range(3)}
    made |= {create_key(east, CreateKeyRequest()).key_metadata.key_id for _ in range(2)}
    seen: list[str] = []
    marker = None
    while True:
        page = list_keys(east, ListKeysRequest(limit=1, marker=marker))
        seen += [entry.key_id for entry in page.keys]
        if not page.truncated:
            break
        marker = page.next_marker
    assert sorted(seen) == sorted(made)
