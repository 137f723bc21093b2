"""Access control across accounts: reach another account's key only by ARN, only where both sides allow,
and learn nothing about a key one may not see (DESIGN §2, §5)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer
from tests.e2e.support import (
    ACCOUNT_A,
    ACCOUNT_B,
    Person,
    allow,
    create_key,
    derive,
    error_of,
    make_people,
    make_person,
    policy,
    put_user_policy,
    root_statement,
    until,
)


@pytest.fixture(scope="module")
def people(server: QkmsServer) -> dict[str, Person]:
    return make_people(
        server,
        {
            "erin": (ACCOUNT_B, policy(allow("kms:*"))),  # may do anything, in B and beyond
            "frank": (ACCOUNT_B, None),
            "gus": (ACCOUNT_B, policy(allow("kms:DescribeKey"))),
        },
    )


def share_with_b(*actions: str) -> str:
    """A key policy for an A key: A's root keeps kms:*, B's root gets `actions`."""
    return policy(
        root_statement(),
        {
            "Sid": "AccountB",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:verenc:{ACCOUNT_B}:root"},
            "Action": list(actions),
            "Resource": "*",
        },
    )


@pytest.fixture(scope="module")
def keys(kms: Any, people: dict[str, Person]) -> dict[str, dict[str, Any]]:
    """A's keys: one shared with account B, one not. Values are KeyMetadata."""
    return {
        "shared": create_key(kms, Policy=share_with_b("kms:DeriveSharedSecret", "kms:DescribeKey")),
        "private": create_key(kms),
    }


def six_part(arn: str) -> str:
    """The aws shape of a seed-shape key ARN (DESIGN §2: both are accepted on input)."""
    _, partition, account, resource = arn.split(":", 3)
    return f"arn:{partition}:kms:us-east-1:{account}:{resource}"


def test_cross_account_by_arn_works_when_key_policy_and_identity_policy_both_allow(
    people: dict[str, Person], keys: dict[str, dict[str, Any]]
) -> None:
    erin = people["erin"].client
    shared = keys["shared"]
    response = derive(erin, shared["Arn"])
    assert response["KeyId"] == shared["Arn"] and response["SharedSecret"]
    assert derive(erin, six_part(shared["Arn"]))["SharedSecret"]
    metadata = erin.describe_key(KeyId=shared["Arn"])["KeyMetadata"]
    assert metadata["AWSAccountId"] == ACCOUNT_A
    # Only the actions the key policy gives account B.
    code, _ = error_of(lambda: erin.disable_key(KeyId=shared["Arn"]))
    assert code == "NotFoundException"


def test_cross_account_is_refused_when_only_one_side_allows(
    server: QkmsServer, kms: Any, people: dict[str, Person], keys: dict[str, dict[str, Any]]
) -> None:
    frank, gus, erin = people["frank"], people["gus"], people["erin"]
    shared, private = keys["shared"], keys["private"]
    # Key policy allows account B, identity policy allows nothing / not this action.
    assert error_of(lambda: derive(frank.client, shared["Arn"]))[0] == "NotFoundException"
    assert error_of(lambda: derive(gus.client, shared["Arn"]))[0] == "NotFoundException"
    assert gus.client.describe_key(KeyId=shared["Arn"])["KeyMetadata"]["Arn"] == shared["Arn"]
    # Identity policy allows everything, key policy does not name account B.
    assert error_of(lambda: derive(erin.client, private["Arn"]))[0] == "NotFoundException"
    # A key policy naming the foreign user itself still needs that user's identity policy.
    hal = make_person(server, ACCOUNT_B, "hal")
    hal_key = create_key(
        kms, Policy=policy(root_statement(), allow("kms:*", Principal={"AWS": hal.arn}))
    )
    assert error_of(lambda: derive(hal.client, hal_key["Arn"]))[0] == "NotFoundException"
    put_user_policy(server, hal, "derive", policy(allow("kms:DeriveSharedSecret")))
    until(lambda: _derives(hal, hal_key["Arn"]))


def _derives(person: Person, key_arn: str) -> bool:
    try:
        derive(person.client, key_arn)
    except ClientError:  # any refusal means "not yet"
        return False
    return True


def test_a_key_id_or_alias_name_never_resolves_across_accounts_only_an_arn_does(
    kms: Any, people: dict[str, Person], keys: dict[str, dict[str, Any]]
) -> None:
    erin = people["erin"].client
    shared = keys["shared"]
    assert error_of(lambda: derive(erin, shared["KeyId"])) == (
        "NotFoundException",
        f"Key '{shared['KeyId']}' does not exist",
    )
    assert error_of(lambda: erin.describe_key(KeyId=shared["KeyId"]))[0] == "NotFoundException"
    # An ARN naming the wrong account is no way in either.
    wrong_account = shared["Arn"].replace(ACCOUNT_A, ACCOUNT_B)
    assert error_of(lambda: erin.describe_key(KeyId=wrong_account))[0] == "NotFoundException"

    kms.create_alias(AliasName="alias/acl-shared", TargetKeyId=shared["KeyId"])
    assert error_of(lambda: derive(erin, "alias/acl-shared"))[0] == "NotFoundException"
    # The alias ARN names the account, so it reaches the key where the policies allow.
    alias_arn = f"arn:verenc:{ACCOUNT_A}:alias/acl-shared"
    assert derive(erin, alias_arn)["KeyId"] == shared["Arn"]
    # The same alias name in the caller's own account is the caller's own key.
    b_key = create_key(erin)
    erin.create_alias(AliasName="alias/acl-shared", TargetKeyId=b_key["KeyId"])
    assert derive(erin, "alias/acl-shared")["KeyId"] == b_key["Arn"]
    assert derive(kms, "alias/acl-shared")["KeyId"] == shared["Arn"]


def test_a_key_one_may_not_see_looks_exactly_like_a_nonexistent_key(
    kms: Any, people: dict[str, Person], keys: dict[str, dict[str, Any]]
) -> None:
    erin = people["erin"].client
    private = keys["private"]
    missing = f"arn:verenc:{ACCOUNT_A}:key/{uuid.uuid4()}"

    def masked(key_arn: str, call: str) -> tuple[str, str]:
        code, message = error_of(lambda: _call(erin, call, key_arn))
        return code, message.replace(key_arn, "<key>")

    for call in ("derive", "describe", "public-key", "disable", "grants", "policy"):
        assert masked(private["Arn"], call) == masked(missing, call), call
    # Not even its state leaks: a disabled or deletion-pending key is still "not found".
    disabled = create_key(kms)
    kms.disable_key(KeyId=disabled["KeyId"])
    assert masked(disabled["Arn"], "derive") == masked(missing, "derive")
    pending = create_key(kms)
    kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=7)
    assert masked(pending["Arn"], "derive") == masked(missing, "derive")
    assert masked(missing, "derive")[0] == "NotFoundException"


@pytest.mark.parametrize("call", ["derive", "describe", "disable"])
def test_neither_an_aws_shape_arn_nor_an_alias_arn_reveals_a_key_one_may_not_see(
    kms: Any, people: dict[str, Person], keys: dict[str, dict[str, Any]], call: str
) -> None:
    erin = people["erin"].client
    private = keys["private"]

    def masked(ref: str) -> tuple[str, str]:
        code, message = error_of(lambda: _call(erin, call, ref))
        return code, message.replace(ref, "<ref>")

    missing = six_part(f"arn:verenc:{ACCOUNT_A}:key/{uuid.uuid4()}")
    assert masked(six_part(private["Arn"])) == masked(missing)
    alias_name = f"alias/acl-private-{call}"
    kms.create_alias(AliasName=alias_name, TargetKeyId=private["KeyId"])
    alias_arn = f"arn:verenc:{ACCOUNT_A}:{alias_name}"
    assert masked(alias_arn) == masked(f"arn:verenc:{ACCOUNT_A}:alias/acl-nothing-{call}")
    assert private["KeyId"] not in error_of(lambda: _call(erin, call, alias_arn))[1]


def _call(client: Any, call: str, key_arn: str) -> Any:
    if call == "derive":
        return derive(client, key_arn)
    if call == "describe":
        return client.describe_key(KeyId=key_arn)
    if call == "public-key":
        return client.get_public_key(KeyId=key_arn)
    if call == "disable":
        return client.disable_key(KeyId=key_arn)
    if call == "grants":
        return client.list_grants(KeyId=key_arn)
    return client.get_key_policy(KeyId=key_arn, PolicyName="default")


def test_list_keys_never_shows_another_accounts_keys(
    kms: Any, people: dict[str, Person], keys: dict[str, dict[str, Any]]
) -> None:
    erin = people["erin"].client
    b_key = create_key(erin)
    assert b_key["AWSAccountId"] == ACCOUNT_B
    assert b_key["Arn"] == f"arn:verenc:{ACCOUNT_B}:key/{b_key['KeyId']}"

    def listed(client: Any) -> dict[str, str]:
        found: dict[str, str] = {}
        for page in client.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}):
            found.update({entry["KeyId"]: entry["KeyArn"] for entry in page["Keys"]})
        return found

    in_b, in_a = listed(erin), listed(kms)
    assert b_key["KeyId"] in in_b and b_key["KeyId"] not in in_a
    assert keys["shared"]["KeyId"] in in_a and keys["shared"]["KeyId"] not in in_b
    assert all(f":{ACCOUNT_B}:" in arn for arn in in_b.values())
    assert all(f":{ACCOUNT_A}:" in arn for arn in in_a.values())
    # Account A's admin cannot reach B's key by id, nor by ARN (B's default policy).
    assert error_of(lambda: kms.describe_key(KeyId=b_key["KeyId"]))[0] == "NotFoundException"
    assert error_of(lambda: kms.describe_key(KeyId=b_key["Arn"]))[0] == "NotFoundException"


def test_a_cross_account_grant_lets_the_grantee_derive_by_arn(
    kms: Any, people: dict[str, Person], keys: dict[str, dict[str, Any]]
) -> None:
    frank = people["frank"]  # no identity policy: a grant is a permission of its own
    key = create_key(kms)
    grant = kms.create_grant(
        KeyId=key["KeyId"], GranteePrincipal=frank.arn, Operations=["DeriveSharedSecret"]
    )
    assert derive(frank.client, key["Arn"], GrantTokens=[grant["GrantToken"]])["SharedSecret"]
    assert derive(frank.client, key["Arn"])["SharedSecret"]
    assert error_of(lambda: derive(frank.client, key["KeyId"]))[0] == "NotFoundException"
    assert error_of(lambda: frank.client.describe_key(KeyId=key["Arn"]))[0] == ("NotFoundException")


def test_retire_grant_by_key_and_grant_id_reveals_no_key_one_may_not_see(
    kms: Any, people: dict[str, Person], keys: dict[str, dict[str, Any]]
) -> None:
    erin = people["erin"].client
    private = keys["private"]
    grant_id = kms.create_grant(
        KeyId=private["KeyId"],
        GranteePrincipal=f"arn:verenc:{ACCOUNT_A}:user/admin",
        Operations=["DescribeKey"],
    )["GrantId"]
    missing = f"arn:verenc:{ACCOUNT_A}:key/{uuid.uuid4()}"

    def masked(key_arn: str) -> tuple[str, str]:
        code, message = error_of(lambda: erin.retire_grant(KeyId=key_arn, GrantId=grant_id))
        return code, message.replace(key_arn, "<key>").replace(grant_id, "<grant>")

    assert masked(private["Arn"]) == masked(missing)
    assert grant_id in [g["GrantId"] for g in kms.list_grants(KeyId=private["KeyId"])["Grants"]]


def test_list_retirable_grants_reveals_nothing_of_another_account(
    kms: Any, people: dict[str, Person]
) -> None:
    """ListRetirableGrants, "Cross-account use": you must specify a principal in your account."""
    erin, frank = people["erin"], people["frank"]
    b_key = create_key(erin.client)
    erin.client.create_grant(
        KeyId=b_key["KeyId"],
        GranteePrincipal=frank.arn,
        RetiringPrincipal=frank.arn,
        Operations=["DeriveSharedSecret"],
    )
    own = erin.client.list_retirable_grants(RetiringPrincipal=frank.arn)["Grants"]
    assert b_key["Arn"] in [g["KeyId"] for g in own]
    try:
        foreign = kms.list_retirable_grants(RetiringPrincipal=frank.arn)["Grants"]
    except ClientError as exc:  # refusing the question is as good as an empty answer
        assert exc.response["Error"]["Code"] in {"AccessDeniedException", "ValidationException"}
    else:
        assert foreign == [], "account A's admin learnt account B's key ARNs and grants"
