"""The authorization hook (operations/_access.py) with the real SQLite store: the request facts
policies see, caches the change feed must evict, and failing closed (DESIGN §5, §7)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from qkms.admin import accounts as admin
from qkms.domain.errors import AccessDeniedException, NotFoundException
from qkms.operations.access.create_grant import create_grant
from qkms.operations.access.revoke_grant import revoke_grant
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.describe_key import describe_key
from qkms.operations.runtime.background import ChangeFollower
from qkms.operations.runtime.context import CachedKey, Services
from qkms.operations.shapes import (
    CreateGrantRequest,
    CreateKeyRequest,
    DescribeKeyRequest,
    RevokeGrantRequest,
)
from qkms.operations.support.access import key_policy_document, request_facts
from qkms.operations.support.key_rows import key_from_row, key_to_row
from qkms.storage import UserPolicyRow
from tests.unit.support import (
    ACCOUNT,
    OTHER_ACCOUNT,
    add_user,
    allow,
    context,
    derive_outcome,
    new_key,
    policy,
    user_ctx,
)

# --- the request facts policies may look at ----------------------------------------------------


def many(value: object) -> set[str]:
    """A multivalued context key's values (a single string would be a bug)."""
    assert isinstance(value, tuple | list), value
    return {str(item) for item in value}


def test_request_facts_give_every_spelling_and_the_key_facts(services: Services) -> None:
    add_user(services, "una")
    key_id = new_key(services, usage="DERIVE_SHARED_SECRET")
    key = key_from_row(services.store.get_key(key_id) or pytest.fail("no key"))
    facts = request_facts(
        user_ctx(services, "una"),
        "kms:DeriveSharedSecret",
        key,
        {"kms:KeyAgreementAlgorithm": "ECDH"},
    )
    una = {f"arn:verenc:{ACCOUNT}:user/una", f"arn:verenc:iam::{ACCOUNT}:user/una"}
    assert facts.principal_arns == una
    assert many(facts.context["aws:principalarn"]) == una
    assert facts.resource == f"arn:verenc:{ACCOUNT}:key/{key_id}"
    assert facts.resources == {
        f"arn:verenc:{ACCOUNT}:key/{key_id}",
        f"arn:verenc:kms:us-east-1:{ACCOUNT}:key/{key_id}",
    }
    assert facts.context["kms:keyspec"] == "ECC_NIST_P256"
    assert many(facts.context["kms:keyusage"]) == {"DERIVE_SHARED_SECRET", "KEY_AGREEMENT"}
    assert facts.context["kms:keyagreementalgorithm"] == "ECDH"
    assert facts.context["aws:securetransport"] is False
    assert facts.context["kms:calleraccount"] == ACCOUNT
    assert facts.context["aws:username"] == "una"
    assert facts.context["aws:sourceip"] == "192.0.2.7"
    secure = request_facts(user_ctx(services, "una", secure=True), "kms:DescribeKey", key)
    assert secure.context["aws:securetransport"] is True


ARN_SEED = f"arn:verenc:{ACCOUNT}:user/una"
ARN_IAM = f"arn:verenc:iam::{ACCOUNT}:user/una"


@pytest.mark.parametrize(
    ("condition", "usage", "expected"),
    [
        ({"StringEquals": {"aws:PrincipalArn": ARN_SEED}}, "KEY_AGREEMENT", "ok"),
        ({"StringEquals": {"aws:PrincipalArn": ARN_IAM}}, "KEY_AGREEMENT", "ok"),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:verenc:iam::{ACCOUNT}:user/u*"}}, "KEY_AGREEMENT", "ok"),
        ({"StringEquals": {"aws:PrincipalArn": f"arn:verenc:{ACCOUNT}:user/other"}}, "KEY_AGREEMENT", "AccessDeniedException"),
        ({"StringNotEquals": {"aws:PrincipalArn": ARN_IAM}}, "KEY_AGREEMENT", "AccessDeniedException"),
        ({"StringEquals": {"kms:KeyUsage": "KEY_AGREEMENT"}}, "DERIVE_SHARED_SECRET", "ok"),
        ({"StringEquals": {"kms:KeyUsage": "DERIVE_SHARED_SECRET"}}, "KEY_AGREEMENT", "ok"),
        ({"StringEquals": {"kms:KeyUsage": "SIGN_VERIFY"}}, "KEY_AGREEMENT", "AccessDeniedException"),
        ({"StringNotEquals": {"kms:KeyUsage": "KEY_AGREEMENT"}}, "DERIVE_SHARED_SECRET", "AccessDeniedException"),
        ({"StringEquals": {"kms:KeySpec": "ECC_NIST_P256"}}, "KEY_AGREEMENT", "ok"),
        ({"StringEquals": {"kms:KeySpec": "ECC_NIST_P384"}}, "KEY_AGREEMENT", "AccessDeniedException"),
        ({"StringEquals": {"kms:KeyAgreementAlgorithm": "ECDH"}}, "KEY_AGREEMENT", "ok"),
        ({"StringEquals": {"kms:KeyAgreementAlgorithm": "SM2"}}, "KEY_AGREEMENT", "AccessDeniedException"),
        ({"Bool": {"aws:SecureTransport": "false"}}, "KEY_AGREEMENT", "ok"),
        ({"Bool": {"aws:SecureTransport": "true"}}, "KEY_AGREEMENT", "AccessDeniedException"),
    ],
)  # fmt: skip
def test_identity_policy_conditions_see_the_request_facts(
    services: Services, condition: dict[str, Any], usage: str, expected: str
) -> None:
    add_user(services, "una", policy(allow("kms:DeriveSharedSecret", Condition=condition)))
    key_id = new_key(services, usage=usage)
    assert derive_outcome(user_ctx(services, "una"), key_id) == expected


def test_a_request_without_an_algorithm_is_seen_as_ecdh(services: Services) -> None:
    ecdh_only = {"StringEquals": {"kms:KeyAgreementAlgorithm": "ECDH"}}
    add_user(services, "una", policy(allow("kms:DeriveSharedSecret", Condition=ecdh_only)))
    key_id = new_key(services)
    assert derive_outcome(user_ctx(services, "una"), key_id, algorithm=None) == "ok"


def test_a_deny_on_insecure_transport_applies_only_over_plain_http(services: Services) -> None:
    deny_plain = {
        "Effect": "Deny",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    add_user(services, "una", policy(allow("kms:*"), deny_plain))
    key_id = new_key(services)
    assert derive_outcome(user_ctx(services, "una"), key_id) == "AccessDeniedException"
    assert derive_outcome(user_ctx(services, "una", secure=True), key_id) == "ok"


def test_a_key_policy_may_name_a_user_in_either_arn_shape(services: Services) -> None:
    add_user(services, "una")
    add_user(services, "vic")
    key_policy = policy(
        allow("kms:*", Principal={"AWS": f"arn:verenc:{ACCOUNT}:root"}),
        allow("kms:DeriveSharedSecret", Principal={"AWS": ARN_IAM}),
        allow("kms:DeriveSharedSecret", Principal={"AWS": f"arn:verenc:{ACCOUNT}:user/vic"}),
    )
    key_id = create_key(
        context(services),
        CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT", policy=key_policy),
    ).key_metadata.key_id
    assert derive_outcome(user_ctx(services, "una"), key_id) == "ok"
    assert derive_outcome(user_ctx(services, "vic"), key_id) == "ok"
    add_user(services, "wes")
    assert derive_outcome(user_ctx(services, "wes"), key_id) == "AccessDeniedException"


# --- the change feed evicts what another worker changed -----------------------------------------


def test_identity_policy_changes_reach_another_worker_through_the_change_feed(
    workers: tuple[Services, Services, ChangeFollower],
) -> None:
    worker_a, worker_b, follower_b = workers
    add_user(worker_a, "una")
    key_id = new_key(worker_a)
    on_b = user_ctx(worker_b, "una")
    assert derive_outcome(on_b, key_id) == "AccessDeniedException"  # B caches "no policies"

    admin.put_user_policy(worker_a, ACCOUNT, "una", "derive", policy(allow("kms:*")))
    assert derive_outcome(user_ctx(worker_a, "una"), key_id) == "ok"
    assert derive_outcome(on_b, key_id) == "AccessDeniedException"  # B has not polled yet
    assert follower_b.poll() >= 1
    assert derive_outcome(on_b, key_id) == "ok"

    admin.delete_user_policy(worker_a, ACCOUNT, "una", "derive")
    assert derive_outcome(on_b, key_id) == "ok"
    follower_b.poll()
    assert derive_outcome(on_b, key_id) == "AccessDeniedException"


def test_grant_changes_reach_another_worker_through_the_change_feed(
    workers: tuple[Services, Services, ChangeFollower],
) -> None:
    worker_a, worker_b, follower_b = workers
    add_user(worker_a, "una")
    key_id = new_key(worker_a)
    on_b = user_ctx(worker_b, "una")
    assert derive_outcome(on_b, key_id) == "AccessDeniedException"  # B caches "no grants"

    grant = create_grant(
        context(worker_a),
        CreateGrantRequest(
            key_id=key_id, grantee_principal=ARN_SEED, operations=["DeriveSharedSecret"]
        ),
    )
    # With its token the grant is usable at once, even where the feed has not carried it.
    assert derive_outcome(on_b, key_id, grant_tokens=[grant.grant_token]) == "ok"
    assert derive_outcome(on_b, key_id) == "AccessDeniedException"
    assert follower_b.poll() >= 1
    assert derive_outcome(on_b, key_id) == "ok"

    revoke_grant(context(worker_a), RevokeGrantRequest(key_id=key_id, grant_id=grant.grant_id))
    assert derive_outcome(user_ctx(worker_a, "una"), key_id) == "AccessDeniedException"
    assert derive_outcome(on_b, key_id) == "ok"  # B has not polled yet
    follower_b.poll()
    assert derive_outcome(on_b, key_id) == "AccessDeniedException"
    assert derive_outcome(on_b, key_id, grant_tokens=[grant.grant_token]) == (
        "AccessDeniedException"
    )


def test_a_key_policy_change_reaches_another_worker_through_the_change_feed(
    workers: tuple[Services, Services, ChangeFollower],
) -> None:
    worker_a, worker_b, follower_b = workers
    add_user(worker_a, "una", policy(allow("kms:*")))
    key_id = new_key(worker_a)
    on_b = user_ctx(worker_b, "una")
    assert derive_outcome(on_b, key_id) == "ok"  # B caches the key and its parsed policy
    deny_una = policy(
        allow("kms:*", Principal={"AWS": f"arn:verenc:{ACCOUNT}:root"}),
        {"Effect": "Deny", "Principal": {"AWS": ARN_SEED}, "Action": "kms:*", "Resource": "*"},
    )
    worker_a.store.update_key(
        key_id, lambda row: key_to_row(key_from_row(row).with_policy(deny_una))
    )
    follower_b.poll()
    assert derive_outcome(on_b, key_id) == "AccessDeniedException"


# --- failing closed ----------------------------------------------------------------------------

# Valid JSON that no longer parses as a policy (e.g. written by an older or newer version).
UNPARSABLE_DENY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "kms:DeriveSharedSecret",
                "Resource": "*",
                "Condition": {"StringEqualsFancy": {"kms:KeySpec": "ECC_NIST_P256"}},
            }
        ],
    }
)


def store_policy_unchecked(services: Services, user: str, name: str, document: str) -> None:
    services.store.put_user_policy(UserPolicyRow(ACCOUNT, user, name, document), services.clock())


def test_an_unparsable_identity_policy_allows_nothing(services: Services) -> None:
    add_user(services, "una")
    store_policy_unchecked(services, "una", "broken", policy(allow("kms:*"))[:-3])
    key_id = new_key(services)
    assert derive_outcome(user_ctx(services, "una"), key_id) == "AccessDeniedException"


def test_an_unparsable_identity_policy_fails_closed_even_beside_an_allow(
    services: Services,
) -> None:
    """A stored policy that does not parse might have been a Deny: skipping it fails open."""
    add_user(services, "una", policy(allow("kms:*")))
    store_policy_unchecked(services, "una", "deny-derive", UNPARSABLE_DENY)
    key_id = new_key(services)
    assert derive_outcome(user_ctx(services, "una"), key_id) == "AccessDeniedException"


def test_an_unparsable_key_policy_denies_everyone_and_hides_the_key_from_others(
    services: Services,
) -> None:
    key_id = new_key(services)
    services.store.update_key(
        key_id, lambda row: key_to_row(key_from_row(row).with_policy('{"Statement": ['))
    )
    services.key_cache.evict(key_id)
    admin_ctx = context(services)
    with pytest.raises(AccessDeniedException):
        describe_key(admin_ctx, DescribeKeyRequest(key_id=key_id))
    assert derive_outcome(admin_ctx, key_id) == "AccessDeniedException"
    add_user(services, "xena", policy(allow("kms:*")), account=OTHER_ACCOUNT)
    arn = f"arn:verenc:{ACCOUNT}:key/{key_id}"
    with pytest.raises(NotFoundException):
        describe_key(user_ctx(services, "xena", OTHER_ACCOUNT), DescribeKeyRequest(key_id=arn))


def test_a_condition_that_cannot_be_evaluated_makes_a_deny_apply(services: Services) -> None:
    # aws:username is a string; NumericEquals on it cannot be decided, so the Deny applies.
    undecidable = {
        "Effect": "Deny",
        "Action": "kms:DeriveSharedSecret",
        "Resource": "*",
        "Condition": {"NumericEquals": {"aws:username": "1"}},
    }
    add_user(services, "una", policy(allow("kms:*"), undecidable))
    key_id = new_key(services)
    assert derive_outcome(user_ctx(services, "una"), key_id) == "AccessDeniedException"
    assert describe_key(user_ctx(services, "una"), DescribeKeyRequest(key_id=key_id))


def test_keys_with_one_policy_text_share_its_parse(services: Services) -> None:
    """Loading a key into the cache reuses the parse of an identical policy text (a key cache
    miss costs no policy parse for CreateKey's default policy); a changed text is parsed anew."""
    first, second = new_key(services), new_key(services)
    ctx = context(services)
    documents = []
    for key_id in (first, second):
        row = services.store.get_key(key_id) or pytest.fail("no key")
        documents.append(key_policy_document(ctx, CachedKey(key_from_row(row))))
    assert documents[0] is not None and documents[0] is documents[1]
    row = services.store.get_key(first) or pytest.fail("no key")
    other_text = json.dumps({**json.loads(documents[0].text), "Id": "another"})
    changed = dataclasses.replace(key_from_row(row), policy=other_text)
    other = key_policy_document(ctx, CachedKey(changed))
    assert other is not None and other is not documents[0] and other.policy_id == "another"
