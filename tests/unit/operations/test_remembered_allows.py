"""Remembered policy allows (operations/support/access.py): a worker skips re-deciding what its
documents always answer the same, and never what a request's own facts decide (DESIGN §5, §7)."""

from __future__ import annotations

import dataclasses
import json

from qkms.admin import accounts as admin
from qkms.domain.errors import KmsError
from qkms.operations.access.put_key_policy import put_key_policy
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.runtime.background import ChangeFollower
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import DescribeKeyRequest, PutKeyPolicyRequest
from qkms.operations.shapes.aliases import TagResourceRequest, UntagResourceRequest
from qkms.operations.shapes.base import Tag
from qkms.operations.tags.tag_resource import tag_resource
from qkms.operations.tags.untag_resource import untag_resource
from tests.unit.support import (
    ACCOUNT,
    FakeClock,
    add_user,
    allow,
    context,
    derive_outcome,
    new_key,
    policy,
    user_ctx,
)

Workers = tuple[Services, Services, ChangeFollower]


def from_ip(ctx: OperationContext, ip: str) -> OperationContext:
    return dataclasses.replace(ctx, caller=dataclasses.replace(ctx.caller, source_ip=ip))


def remembered(services: Services, key_id: str) -> int:
    """How many allows the worker remembers for the key (0 when it is not cached)."""
    cached = services.key_cache.get(key_id)
    return 0 if cached is None else len(cached.remembered_allows)


def describe_outcome(ctx: OperationContext, key_id: str) -> str:
    try:
        describe_key(ctx, DescribeKeyRequest(key_id=key_id))
    except KmsError as exc:
        return exc.code
    return "ok"


def test_an_unconditional_allow_is_remembered_per_caller_and_action(services: Services) -> None:
    add_user(services, "una", policy(allow("kms:DeriveSharedSecret")))
    key_id = new_key(services)
    una = user_ctx(services, "una")
    assert derive_outcome(una, key_id) == "ok"
    assert remembered(services, key_id) == 1
    assert derive_outcome(una, key_id) == "ok"
    # An allow for one action says nothing of another: DescribeKey is decided, and denied.
    assert describe_outcome(una, key_id) == "AccessDeniedException"
    # Nor for another caller of the same account.
    add_user(services, "otto")
    assert derive_outcome(user_ctx(services, "otto"), key_id) == "AccessDeniedException"


def test_a_source_ip_condition_is_decided_on_every_request(services: Services) -> None:
    lab_only = allow(
        "kms:DeriveSharedSecret", Condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}
    )
    add_user(services, "una", policy(lab_only))
    key_id = new_key(services)
    una = user_ctx(services, "una")
    assert derive_outcome(from_ip(una, "192.0.2.7"), key_id) == "ok"
    assert derive_outcome(from_ip(una, "198.51.100.9"), key_id) == "AccessDeniedException"
    assert remembered(services, key_id) == 0


def test_a_time_condition_is_decided_on_every_request(services: Services, clock: FakeClock) -> None:
    until = "2027-01-16T00:00:00Z"  # FakeClock starts at 2027-01-15T08:00Z
    add_user(
        services,
        "una",
        policy(
            allow("kms:DeriveSharedSecret", Condition={"DateLessThan": {"aws:CurrentTime": until}})
        ),
    )
    key_id = new_key(services)
    una = user_ctx(services, "una")
    assert derive_outcome(una, key_id) == "ok"
    clock.advance(86400.0)
    assert derive_outcome(una, key_id) == "AccessDeniedException"
    assert remembered(services, key_id) == 0


def test_a_key_tag_condition_is_remembered_and_a_changed_key_forgets(services: Services) -> None:
    tagged = allow(
        "kms:DeriveSharedSecret",
        Condition={"StringEquals": {"aws:ResourceTag/team": "lab", "kms:KeySpec": "ECC_NIST_P256"}},
    )
    add_user(services, "una", policy(tagged))
    key_id = new_key(services)
    lab = [Tag(tag_key="team", tag_value="lab")]
    tag_resource(context(services), TagResourceRequest(key_id=key_id, tags=lab))
    una = user_ctx(services, "una")
    assert derive_outcome(una, key_id) == "ok"
    assert remembered(services, key_id) == 1
    untag_resource(context(services), UntagResourceRequest(key_id=key_id, tag_keys=["team"]))
    assert derive_outcome(una, key_id) == "AccessDeniedException"


def test_an_identity_policy_change_forgets_once_the_feed_carries_it(workers: Workers) -> None:
    worker_a, worker_b, follower_b = workers
    add_user(worker_a, "una", policy(allow("kms:DeriveSharedSecret")))
    key_id = new_key(worker_a)
    follower_b.poll()  # B has seen the key and the user created: only the next change is news
    una_b = user_ctx(worker_b, "una")
    assert derive_outcome(una_b, key_id) == "ok"
    assert remembered(worker_b, key_id) == 1
    admin.delete_user_policy(worker_a, ACCOUNT, "una", "p0")
    assert derive_outcome(una_b, key_id) == "ok"  # B has not heard yet: the bound allows it
    follower_b.poll()  # the change feed: within 1 s in a server (DESIGN §7)
    assert remembered(worker_b, key_id) == 1  # the key did not change; the identity did
    assert derive_outcome(una_b, key_id) == "AccessDeniedException"


def test_a_key_policy_change_forgets_once_the_feed_carries_it(workers: Workers) -> None:
    worker_a, worker_b, follower_b = workers
    add_user(worker_a, "una", policy(allow("kms:DeriveSharedSecret")))
    key_id = new_key(worker_a)
    follower_b.poll()
    una_b = user_ctx(worker_b, "una")
    assert derive_outcome(una_b, key_id) == "ok"
    assert remembered(worker_b, key_id) == 1
    deny_una = {
        "Effect": "Deny",
        "Principal": {"AWS": f"arn:verenc:{ACCOUNT}:user/una"},
        "Action": "kms:DeriveSharedSecret",
        "Resource": "*",
    }
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:verenc:{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [root, deny_una]})
    put_key_policy(context(worker_a), PutKeyPolicyRequest(key_id=key_id, policy=document))
    follower_b.poll()
    assert derive_outcome(una_b, key_id) == "AccessDeniedException"


def test_a_denial_is_never_remembered(services: Services) -> None:
    add_user(services, "una")
    key_id = new_key(services)
    una = user_ctx(services, "una")
    assert derive_outcome(una, key_id) == "AccessDeniedException"
    assert remembered(services, key_id) == 0
    admin.put_user_policy(services, ACCOUNT, "una", "p0", policy(allow("kms:DeriveSharedSecret")))
    services.identity_policies.evict(f"{ACCOUNT}:una")  # what the feed does within 1 s
    assert derive_outcome(una, key_id) == "ok"


def test_keys_remembering_the_same_allows_share_them_and_one_more_stays_its_own(
    services: Services,
) -> None:
    add_user(services, "una", policy(allow("kms:DeriveSharedSecret", "kms:DescribeKey")))
    first, second = new_key(services), new_key(services)
    una = user_ctx(services, "una")
    assert derive_outcome(una, first) == "ok" and derive_outcome(una, second) == "ok"
    cached = [services.key_cache.get(key_id) for key_id in (first, second)]
    assert cached[0] is not None and cached[1] is not None
    # One memo for both keys, not one per key (a worker caches up to 100,000 keys).
    assert cached[0].remembered_allows is cached[1].remembered_allows
    assert describe_outcome(una, first) == "ok"
    assert (remembered(services, first), remembered(services, second)) == (2, 1)
    # The memo the first key moved on to is its own: the second key's DescribeKey is decided.
    admin.put_user_policy(services, ACCOUNT, "una", "p0", policy(allow("kms:DeriveSharedSecret")))
    services.identity_policies.evict(f"{ACCOUNT}:una")  # what the feed does within 1 s
    assert describe_outcome(una, second) == "AccessDeniedException"
    assert derive_outcome(una, second) == "ok"
