"""Grants as a way in: what a grant, a grant token or a grant's CreateGrant permission may never
do, with the real SQLite store (AWS "Grants in AWS KMS"; DESIGN §5).

Each test names the escalation it shuts: CreateGrant beyond the parent grant, RetireGrant judged
on a key the caller names instead of the grant's own, forged grant tokens, a grant honoured on
another key, and a grant to an account root let in without an identity policy.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from qkms.crypto import RootKey
from qkms.domain.errors import KmsError
from qkms.operations.access.create_grant import create_grant
from qkms.operations.access.list_grants import list_grants
from qkms.operations.access.retire_grant import retire_grant
from qkms.operations.keys.create_key import create_key
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CreateGrantRequest,
    CreateGrantResponse,
    CreateKeyRequest,
    ListGrantsRequest,
    RetireGrantRequest,
)
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

NOPOL = f"arn:verenc:{ACCOUNT}:user/nopol"
ROOT = f"arn:verenc:{ACCOUNT}:root"


def outcome(call: Any) -> str:
    try:
        call()
    except KmsError as exc:
        return exc.code
    return "ok"


def grant(
    services: Services, key_id: str, grantee: str, *operations: str, **extra: Any
) -> CreateGrantResponse:
    request = CreateGrantRequest(
        key_id=key_id, grantee_principal=grantee, operations=list(operations), **extra
    )
    return create_grant(context(services), request)


def grant_ids(services: Services, key_id: str) -> list[str]:
    listed = list_grants(context(services), ListGrantsRequest(key_id=key_id))
    return [entry.grant_id for entry in listed.grants or []]


def create_as(ctx: OperationContext, key_id: str, *operations: str, **extra: Any) -> str:
    request = CreateGrantRequest(
        key_id=key_id, grantee_principal=NOPOL, operations=list(operations), **extra
    )
    return outcome(lambda: create_grant(ctx, request))


# --- CreateGrant through a grant: never more than the parent grant ------------------------------


def test_a_create_grant_only_grant_cannot_mint_a_grant_for_other_operations(
    services: Services,
) -> None:
    """The reported escalation: CreateGrant alone, then a DeriveSharedSecret grant for oneself."""
    add_user(services, "nopol")
    key_id = new_key(services)
    parent = grant(services, key_id, NOPOL, "CreateGrant")
    nopol = user_ctx(services, "nopol")
    token = [parent.grant_token]
    assert create_as(nopol, key_id, "DeriveSharedSecret", grant_tokens=token) == (
        "AccessDeniedException"
    )
    assert create_as(nopol, key_id, "DeriveSharedSecret") == "AccessDeniedException"  # stored
    assert create_as(nopol, key_id, "CreateGrant", "DescribeKey") == "AccessDeniedException"
    assert grant_ids(services, key_id) == [parent.grant_id]
    assert derive_outcome(nopol, key_id) == "AccessDeniedException"
    # The same operations, or a subset of them, are what the parent grant may hand on.
    assert create_as(nopol, key_id, "CreateGrant", grant_tokens=token) == "ok"


def test_a_parent_grant_hands_on_a_subset_of_its_own_operations_only(services: Services) -> None:
    add_user(services, "nopol")
    key_id = new_key(services)
    grant(services, key_id, NOPOL, "CreateGrant", "DeriveSharedSecret")
    nopol = user_ctx(services, "nopol")
    assert create_as(nopol, key_id, "DeriveSharedSecret") == "ok"
    assert create_as(nopol, key_id, "CreateGrant", "DeriveSharedSecret") == "ok"
    assert create_as(nopol, key_id, "DeriveSharedSecret", "GetPublicKey") == (
        "AccessDeniedException"
    )
    assert create_as(nopol, key_id, "RetireGrant") == "AccessDeniedException"


def test_operations_of_two_grants_are_not_pooled_to_pass_the_subset_rule(
    services: Services,
) -> None:
    """The parent is one grant: CreateGrant from one and DeriveSharedSecret from another do not
    make a grant that may hand on DeriveSharedSecret."""
    add_user(services, "nopol")
    key_id = new_key(services)
    grant(services, key_id, NOPOL, "CreateGrant")
    grant(services, key_id, NOPOL, "DeriveSharedSecret")
    nopol = user_ctx(services, "nopol")
    assert derive_outcome(nopol, key_id) == "ok"
    assert create_as(nopol, key_id, "DeriveSharedSecret") == "AccessDeniedException"


def test_a_grant_operations_deny_applies_to_create_grant_through_a_grant(
    services: Services,
) -> None:
    deny_derive_grants = {
        "Effect": "Deny",
        "Action": "kms:CreateGrant",
        "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"kms:GrantOperations": "DeriveSharedSecret"}},
    }
    add_user(services, "nopol", policy(deny_derive_grants))
    key_id = new_key(services)
    grant(services, key_id, NOPOL, "CreateGrant", "DeriveSharedSecret", "GetPublicKey")
    nopol = user_ctx(services, "nopol")
    assert create_as(nopol, key_id, "DeriveSharedSecret") == "AccessDeniedException"
    assert create_as(nopol, key_id, "GetPublicKey") == "ok"


def test_create_grant_from_a_policy_is_not_bound_by_the_subset_rule(services: Services) -> None:
    """The limit is for CreateGrant that comes from a grant; a policy's CreateGrant is whole."""
    add_user(services, "pat", policy(allow("kms:CreateGrant")))
    add_user(services, "nopol")
    key_id = new_key(services)
    grant(services, key_id, f"arn:verenc:{ACCOUNT}:user/pat", "CreateGrant")
    assert create_as(user_ctx(services, "pat"), key_id, "DeriveSharedSecret") == "ok"


# --- RetireGrant with a token: judged on the grant's own key ------------------------------------


def test_a_token_and_ones_own_key_arn_do_not_retire_another_accounts_grant(
    services: Services,
) -> None:
    """The reported cross-account retire: a token of an A grant, and B's own key as KeyId."""
    add_user(services, "grace")
    add_user(services, "xena", policy(allow("kms:*")), account=OTHER_ACCOUNT)
    xena = user_ctx(services, "xena", OTHER_ACCOUNT)
    own = create_key(xena, CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT"))
    own_arn = own.key_metadata.arn
    key_id = new_key(services)
    made = grant(services, key_id, f"arn:verenc:{ACCOUNT}:user/grace", "DeriveSharedSecret")

    with pytest.raises(KmsError) as refused:
        retire_grant(xena, RetireGrantRequest(grant_token=made.grant_token, key_id=own_arn))
    assert refused.value.code == "InvalidGrantTokenException"
    # Exactly what a token naming no grant gets, and nothing about account A's key.
    assert str(refused.value) == "The grant token is not valid."
    assert key_id not in str(refused.value) and ACCOUNT not in str(refused.value)
    assert grant_ids(services, key_id) == [made.grant_id]
    # Without a KeyId the grant's own key decides, and xena has no right on it.
    assert outcome(
        lambda: retire_grant(xena, RetireGrantRequest(grant_token=made.grant_token))
    ) == ("AccessDeniedException")
    assert grant_ids(services, key_id) == [made.grant_id]


def test_a_token_with_the_key_id_of_another_key_of_the_same_account_is_refused(
    services: Services,
) -> None:
    key_id, other_id = new_key(services), new_key(services)
    made = grant(services, key_id, f"arn:verenc:{ACCOUNT}:user/admin", "DeriveSharedSecret")
    request = RetireGrantRequest(grant_token=made.grant_token, key_id=other_id)
    assert outcome(lambda: retire_grant(context(services), request)) == (
        "InvalidGrantTokenException"
    )
    assert grant_ids(services, key_id) == [made.grant_id]
    # With the grant's own key (by id or ARN) the admin may retire it.
    own = RetireGrantRequest(grant_token=made.grant_token, key_id=key_id)
    retire_grant(context(services), own)
    assert grant_ids(services, key_id) == []


# --- grant tokens: authenticated, bound to their grant and key ----------------------------------


def old_style_token(grant_id: str) -> str:
    """The format QKMS used to issue: anyone who knows a grant id could write it."""
    return base64.urlsafe_b64encode(b"qkms-grant-token-v1:" + grant_id.encode()).decode()


def test_a_token_written_from_a_grant_id_is_refused(services: Services) -> None:
    add_user(services, "grace")
    key_id = new_key(services)
    made = grant(services, key_id, f"arn:verenc:{ACCOUNT}:user/grace", "DeriveSharedSecret")
    forged = old_style_token(made.grant_id)
    assert made.grant_token != forged
    grace = user_ctx(services, "grace")
    assert derive_outcome(grace, key_id, grant_tokens=[forged]) == "InvalidGrantTokenException"
    retire = RetireGrantRequest(grant_token=forged)
    assert outcome(lambda: retire_grant(context(services), retire)) == (
        "InvalidGrantTokenException"
    )
    assert grant_ids(services, key_id) == [made.grant_id]
    assert derive_outcome(grace, key_id, grant_tokens=[made.grant_token]) == "ok"


def test_a_token_altered_anywhere_is_refused(services: Services) -> None:
    add_user(services, "grace")
    key_id = new_key(services)
    made = grant(services, key_id, f"arn:verenc:{ACCOUNT}:user/grace", "DeriveSharedSecret")
    raw = base64.urlsafe_b64decode(made.grant_token)
    grace = user_ctx(services, "grace")
    for index in range(len(raw)):
        altered = bytearray(raw)
        altered[index] ^= 0x01
        token = base64.urlsafe_b64encode(bytes(altered)).decode()
        assert derive_outcome(grace, key_id, grant_tokens=[token]) == (
            "InvalidGrantTokenException"
        ), index
    for token in (made.grant_token[:-4], made.grant_token + "AAAA", ""):
        assert derive_outcome(grace, key_id, grant_tokens=[token]) == ("InvalidGrantTokenException")


def test_a_token_made_under_another_root_key_is_refused(services: Services) -> None:
    key_id = new_key(services)
    made = grant(services, key_id, f"arn:verenc:{ACCOUNT}:user/admin", "DeriveSharedSecret")
    elsewhere = dataclasses.replace(services, root_key=RootKey.generate())
    retire = RetireGrantRequest(grant_token=made.grant_token)
    assert outcome(lambda: retire_grant(context(elsewhere), retire)) == (
        "InvalidGrantTokenException"
    )
    assert grant_ids(services, key_id) == [made.grant_id]


# --- a grant is for its own key only ------------------------------------------------------------


def test_a_token_of_a_grant_on_one_key_gives_nothing_on_another(services: Services) -> None:
    add_user(services, "nobody")
    key_a, key_b = new_key(services), new_key(services)
    made = grant(services, key_a, f"arn:verenc:{ACCOUNT}:user/nobody", "DeriveSharedSecret")
    nobody = user_ctx(services, "nobody")
    token = [made.grant_token]
    assert derive_outcome(nobody, key_b, grant_tokens=token) == "AccessDeniedException"
    assert derive_outcome(nobody, key_a, grant_tokens=token) == "ok"


def test_a_stored_grant_on_one_key_gives_nothing_on_another(services: Services) -> None:
    add_user(services, "nobody")
    key_a, key_b = new_key(services), new_key(services)
    grant(services, key_a, f"arn:verenc:{ACCOUNT}:user/nobody", "DeriveSharedSecret")
    nobody = user_ctx(services, "nobody")
    assert derive_outcome(nobody, key_a) == "ok"  # A's grants are now cached
    assert derive_outcome(nobody, key_b) == "AccessDeniedException"


# --- a grant to an account root: the account's users still need an identity policy ---------------


def test_a_grant_to_the_account_root_needs_an_identity_policy_too(services: Services) -> None:
    """IAM "Principal" element, "AWS account principals": naming an account delegates to it;
    its users get access only where their identity policies allow it."""
    add_user(services, "una")
    add_user(services, "vic", policy(allow("kms:DeriveSharedSecret")))
    admin_only = policy(
        allow("kms:*", Principal={"AWS": f"arn:verenc:{ACCOUNT}:user/admin"}),
    )
    key_id = create_key(
        context(services),
        CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT", policy=admin_only),
    ).key_metadata.key_id
    una, vic = user_ctx(services, "una"), user_ctx(services, "vic")
    # The key policy does not delegate to the account: an identity policy alone is not enough.
    assert derive_outcome(vic, key_id) == "AccessDeniedException"

    made = grant(services, key_id, ROOT, "DeriveSharedSecret")
    token = [made.grant_token]
    assert derive_outcome(una, key_id) == "AccessDeniedException"
    assert derive_outcome(una, key_id, grant_tokens=token) == "AccessDeniedException"
    assert derive_outcome(vic, key_id) == "ok"
    assert derive_outcome(vic, key_id, grant_tokens=token) == "ok"


def test_a_grant_with_retire_grant_retires_itself_but_no_other_grant(services: Services) -> None:
    """AWS "Retiring and revoking grants": the grantee may retire *the* grant that includes
    RetireGrant; that operation is no licence over the other grants on the key."""
    add_user(services, "ollie")
    add_user(services, "grace")
    key_id = new_key(services)
    own = grant(services, key_id, f"arn:verenc:{ACCOUNT}:user/ollie", "RetireGrant")
    other = grant(services, key_id, f"arn:verenc:{ACCOUNT}:user/grace", "DeriveSharedSecret")
    ollie = user_ctx(services, "ollie")
    for request in (
        RetireGrantRequest(key_id=key_id, grant_id=other.grant_id),
        RetireGrantRequest(grant_token=other.grant_token),
    ):
        assert outcome(lambda: retire_grant(ollie, request)) == "AccessDeniedException"  # noqa: B023
    assert sorted(grant_ids(services, key_id)) == sorted([own.grant_id, other.grant_id])
    retire_grant(ollie, RetireGrantRequest(grant_token=own.grant_token))
    assert grant_ids(services, key_id) == [other.grant_id]
