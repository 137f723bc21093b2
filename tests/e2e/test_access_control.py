"""Access control through boto3: identity policies, key policies, grants and admin changes (DESIGN §5, §7).

Users are made with `qkms admin` against the running server's data directory, as an operator
would; every "within 1 s" promise is checked by polling with a 1.5 s deadline, never by a sleep.
Cross-account rules live in test_access_control_cross_account.py.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import (
    ADMIN_ACCESS_KEY_ID,
    ADMIN_SECRET,
    QkmsServer,
    admin_cli,
    kms_client,
    raw_call,
)
from tests.e2e.support import (
    ACCOUNT_A,
    Person,
    allow,
    create_key,
    derive,
    error_of,
    make_people,
    make_person,
    outcome,
    policy,
    put_user_policy,
    root_statement,
    until,
)
from tests.peer_keys import peer_public_key_der

# --- fixtures ----------------------------------------------------------------------------------

DERIVE_CONDITIONED = policy(
    allow("kms:DescribeKey"),
    allow(
        "kms:DeriveSharedSecret",
        Condition={
            "StringEquals": {"kms:KeySpec": "ECC_NIST_P384", "kms:KeyAgreementAlgorithm": "ECDH"}
        },
    ),
)


@pytest.fixture(scope="module")
def people(server: QkmsServer) -> dict[str, Person]:
    return make_people(
        server,
        {
            "alice": (ACCOUNT_A, None),
            "bob": (ACCOUNT_A, policy(allow("kms:DescribeKey", "kms:GetPublicKey"))),
            "carol": (ACCOUNT_A, policy(allow("kms:*"))),
            "dave": (ACCOUNT_A, None),
            "gina": (ACCOUNT_A, DERIVE_CONDITIONED),
            "hank": (
                ACCOUNT_A,
                policy(
                    allow(
                        "kms:DeriveSharedSecret",
                        Condition={"StringEquals": {"kms:KeyAgreementAlgorithm": "NOT_ECDH"}},
                    )
                ),
            ),
        },
    )


@pytest.fixture(scope="module")
def keys(kms: Any, people: dict[str, Person]) -> dict[str, str]:
    carol, dave = people["carol"], people["dave"]
    deny_carol = policy(
        root_statement(),
        {
            "Sid": "NoDeriveForCarol",
            "Effect": "Deny",
            "Principal": {"AWS": carol.arn},
            "Action": "kms:DeriveSharedSecret",
            "Resource": "*",
        },
    )
    names_dave = policy(
        root_statement(),
        {
            "Sid": "Dave",
            "Effect": "Allow",
            "Principal": {"AWS": dave.iam_arn},  # the aws shape of a principal ARN (DESIGN §2)
            "Action": ["kms:DeriveSharedSecret", "kms:DescribeKey"],
            "Resource": "*",
        },
    )
    return {
        "plain": create_key(kms)["KeyId"],
        "p384": create_key(kms, "ECC_NIST_P384")["KeyId"],
        "deny_carol": create_key(kms, Policy=deny_carol)["KeyId"],
        "names_dave": create_key(kms, Policy=names_dave)["KeyId"],
    }


# --- identity and key policies -----------------------------------------------------------------


def test_a_user_without_identity_policy_is_denied_under_the_default_key_policy(
    people: dict[str, Person], keys: dict[str, str]
) -> None:
    alice = people["alice"].client
    code, message = error_of(lambda: alice.describe_key(KeyId=keys["plain"]))
    assert code == "AccessDeniedException"
    assert people["alice"].arn in message and "kms:DescribeKey" in message
    assert error_of(lambda: derive(alice, keys["plain"]))[0] == "AccessDeniedException"
    assert error_of(lambda: alice.get_public_key(KeyId=keys["plain"]))[0] == (
        "AccessDeniedException"
    )
    assert error_of(lambda: create_key(alice))[0] == "AccessDeniedException"
    assert error_of(lambda: alice.list_keys())[0] == "AccessDeniedException"


def test_an_identity_policy_allows_exactly_its_actions(
    people: dict[str, Person], keys: dict[str, str]
) -> None:
    bob = people["bob"].client
    assert bob.describe_key(KeyId=keys["plain"])["KeyMetadata"]["KeyId"] == keys["plain"]
    assert bob.get_public_key(KeyId=keys["plain"])["PublicKey"]
    refused = {
        "derive": lambda: derive(bob, keys["plain"]),
        "disable": lambda: bob.disable_key(KeyId=keys["plain"]),
        "describe-update": lambda: bob.update_key_description(KeyId=keys["plain"], Description="x"),
        "create": lambda: create_key(bob),
        "list": lambda: bob.list_keys(),
        "policy": lambda: bob.get_key_policy(KeyId=keys["plain"], PolicyName="default"),
    }
    assert {name: outcome(call) for name, call in refused.items()} == dict.fromkeys(
        refused, "AccessDeniedException"
    )


def test_an_identity_policy_scoped_to_one_key_arn_allows_only_that_key(
    server: QkmsServer, kms: Any, keys: dict[str, str]
) -> None:
    arn = kms.describe_key(KeyId=keys["plain"])["KeyMetadata"]["Arn"]
    ivy = make_person(server, ACCOUNT_A, "ivy", policy(allow("kms:DescribeKey", resource=arn)))
    assert ivy.client.describe_key(KeyId=keys["plain"])["KeyMetadata"]["Arn"] == arn
    assert error_of(lambda: ivy.client.describe_key(KeyId=keys["p384"]))[0] == (
        "AccessDeniedException"
    )


def test_an_explicit_deny_in_the_key_policy_wins_over_an_identity_allow_and_a_grant(
    kms: Any, people: dict[str, Person], keys: dict[str, str]
) -> None:
    carol = people["carol"]
    key_id = keys["deny_carol"]
    assert carol.client.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
    assert error_of(lambda: derive(carol.client, key_id))[0] == "AccessDeniedException"
    token = kms.create_grant(
        KeyId=key_id, GranteePrincipal=carol.arn, Operations=["DeriveSharedSecret"]
    )["GrantToken"]
    assert error_of(lambda: derive(carol.client, key_id, GrantTokens=[token]))[0] == (
        "AccessDeniedException"
    )
    assert derive(kms, key_id)["SharedSecret"]  # the admin is not named by the Deny


def test_a_key_policy_naming_a_user_allows_it_without_identity_policy(
    people: dict[str, Person], keys: dict[str, str]
) -> None:
    dave = people["dave"].client
    assert derive(dave, keys["names_dave"])["SharedSecret"]
    assert dave.describe_key(KeyId=keys["names_dave"])["KeyMetadata"]["KeyId"]
    # Only the named actions, and only on that key.
    assert error_of(lambda: dave.disable_key(KeyId=keys["names_dave"]))[0] == (
        "AccessDeniedException"
    )
    assert error_of(lambda: derive(dave, keys["plain"]))[0] == "AccessDeniedException"


def test_conditions_on_key_spec_and_key_agreement_algorithm_are_enforced(
    server: QkmsServer, people: dict[str, Person], keys: dict[str, str]
) -> None:
    gina, hank = people["gina"], people["hank"]
    assert derive(gina.client, keys["p384"], "ECC_NIST_P384")["SharedSecret"]
    # Without KeyAgreementAlgorithm the request still means ECDH, and the condition holds.
    body = {
        "KeyId": keys["p384"],
        "PublicKey": base64.b64encode(peer_public_key_der(ec.SECP384R1())).decode(),
    }
    response = raw_call(
        server.endpoint,
        "DeriveSharedSecret",
        body,
        access_key_id=gina.access_key_id,
        secret=gina.secret,
    )
    assert response.status == 200, response.body
    # kms:KeySpec: a P-256 key is not ECC_NIST_P384.
    assert error_of(lambda: derive(gina.client, keys["plain"]))[0] == "AccessDeniedException"
    # kms:KeyAgreementAlgorithm: the request's ECDH is not the required value.
    assert error_of(lambda: derive(hank.client, keys["p384"], "ECC_NIST_P384"))[0] == (
        "AccessDeniedException"
    )


# --- DryRun ------------------------------------------------------------------------------------


def test_dry_run_derive_says_it_would_succeed_or_gives_the_real_error(
    kms: Any, people: dict[str, Person], keys: dict[str, str]
) -> None:
    assert error_of(lambda: derive(kms, keys["plain"], DryRun=True))[0] == (
        "DryRunOperationException"
    )
    alice = people["alice"].client
    assert error_of(lambda: derive(alice, keys["plain"], DryRun=True))[0] == (
        "AccessDeniedException"
    )
    wrong_curve = lambda: derive(kms, keys["plain"], "ECC_NIST_P384", DryRun=True)  # noqa: E731
    assert error_of(wrong_curve)[0] == "InvalidPublicKeyException"
    disabled = create_key(kms)["KeyId"]
    kms.disable_key(KeyId=disabled)
    assert error_of(lambda: derive(kms, disabled, DryRun=True))[0] == "DisabledException"


# --- key policies: get, put, list, malformed, lockout ------------------------------------------


def test_get_list_and_put_key_policy_use_the_one_policy_named_default(kms: Any) -> None:
    key_id = create_key(kms)["KeyId"]
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    default = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert default["Statement"][0]["Principal"] == {"AWS": f"arn:verenc:{ACCOUNT_A}:root"}
    assert default["Statement"][0]["Action"] == "kms:*"
    text = policy(root_statement(), allow("kms:DescribeKey", Principal={"AWS": ACCOUNT_A}))
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=text)
    got = kms.get_key_policy(KeyId=key_id, PolicyName="default")
    assert (got["Policy"], got["PolicyName"]) == (text, "default")  # verbatim
    assert error_of(lambda: kms.get_key_policy(KeyId=key_id, PolicyName="other"))[0] == (
        "NotFoundException"
    )
    assert (
        error_of(lambda: kms.put_key_policy(KeyId=key_id, PolicyName="other", Policy=text))[0]
        == "NotFoundException"
    )


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ("{not json", "not valid JSON"),
        (policy({"Effect": "Maybe", "Principal": "*", "Action": "kms:*", "Resource": "*"}), "Effect"),
        (policy({"Effect": "Allow", "Principal": "*", "Resource": "*"}), "Action"),
        (
            policy({"Effect": "Allow", "Principal": {"AWS": "nobody"}, "Action": "kms:*", "Resource": "*"}),
            "nobody",
        ),
        (
            policy(
                root_statement(),
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:verenc:{ACCOUNT_A}:user/no-such-user"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
            ),
            "invalid principals",
        ),
        (
            policy(
                allow(
                    "kms:*",
                    Principal={"AWS": ACCOUNT_A},
                    Condition={"StringFancy": {"kms:KeySpec": "x"}},
                )
            ),
            "StringFancy",
        ),
    ],
    ids=["json", "effect", "no-action", "principal", "unknown-user", "operator"],
)  # fmt: skip
def test_a_malformed_key_policy_is_refused_saying_what_is_wrong(
    kms: Any, keys: dict[str, str], document: str, says: str
) -> None:
    put = lambda: kms.put_key_policy(KeyId=keys["p384"], PolicyName="default", Policy=document)  # noqa: E731
    code, message = error_of(put)
    assert code == "MalformedPolicyDocumentException"
    assert says in message
    code, message = error_of(lambda: create_key(kms, Policy=document))
    assert code == "MalformedPolicyDocumentException"
    assert says in message


def test_the_lockout_safety_check_refuses_a_policy_that_locks_the_caller_out(
    kms: Any, people: dict[str, Person]
) -> None:
    key_id = create_key(kms)["KeyId"]
    only_dave = policy(allow("kms:*", Principal={"AWS": people["dave"].arn}))
    code, message = error_of(
        lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=only_dave)
    )
    assert code == "MalformedPolicyDocumentException"
    assert "will not allow you to update the key policy" in message
    assert error_of(lambda: create_key(kms, Policy=only_dave))[0] == (
        "MalformedPolicyDocumentException"
    )
    # The policy is unchanged, and the admin still manages the key.
    assert "root" in kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]

    kms.put_key_policy(
        KeyId=key_id, PolicyName="default", Policy=only_dave, BypassPolicyLockoutSafetyCheck=True
    )
    assert error_of(lambda: kms.get_key_policy(KeyId=key_id, PolicyName="default"))[0] == (
        "AccessDeniedException"
    )
    assert derive(people["dave"].client, key_id)["SharedSecret"]
    locked = create_key(kms, Policy=only_dave, BypassPolicyLockoutSafetyCheck=True)["KeyId"]
    assert error_of(lambda: kms.describe_key(KeyId=locked))[0] == "AccessDeniedException"


def test_a_key_policy_change_is_effective_before_the_call_returns(
    kms: Any, people: dict[str, Person]
) -> None:
    key_id = create_key(kms)["KeyId"]
    bob = people["bob"]
    assert bob.client.describe_key(KeyId=key_id)  # delegated by the default policy
    deny_bob = policy(
        root_statement(),
        {"Effect": "Deny", "Principal": {"AWS": bob.arn}, "Action": "kms:*", "Resource": "*"},
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=deny_bob)
    assert error_of(lambda: bob.client.describe_key(KeyId=key_id))[0] == "AccessDeniedException"


# --- admin CLI changes reach the running server within 1 s -------------------------------------


def test_identity_policy_put_and_delete_are_seen_within_one_second(
    server: QkmsServer, keys: dict[str, str]
) -> None:
    jack = make_person(server, ACCOUNT_A, "jack")
    describe = lambda: jack.client.describe_key(KeyId=keys["plain"])  # noqa: E731
    assert outcome(describe) == "AccessDeniedException"  # and now cached as "no policies"

    put_user_policy(server, jack, "describe", policy(allow("kms:DescribeKey")))
    until(lambda: outcome(describe) == "ok")

    admin_cli(
        server, "delete-user-policy", "--account", ACCOUNT_A, "--user", "jack",
        "--policy-name", "describe",
    )  # fmt: skip
    until(lambda: outcome(describe) == "AccessDeniedException")


def test_a_disabled_access_key_is_unrecognized_within_one_second(
    server: QkmsServer, keys: dict[str, str]
) -> None:
    kate = make_person(server, ACCOUNT_A, "kate", policy(allow("kms:DescribeKey")))
    describe = lambda: kate.client.describe_key(KeyId=keys["plain"])  # noqa: E731
    assert outcome(describe) == "ok"  # the credential is now cached

    admin_cli(server, "disable-access-key", "--access-key-id", kate.access_key_id)
    until(lambda: outcome(describe) == "UnrecognizedClientException")
    admin_cli(server, "enable-access-key", "--access-key-id", kate.access_key_id)
    until(lambda: outcome(describe) == "ok")
    admin_cli(server, "delete-access-key", "--access-key-id", kate.access_key_id)
    until(lambda: outcome(describe) == "UnrecognizedClientException")


# --- grants: usable at once with the token, revoked within 1 s, on two workers -----------------


def fresh_derive(server: QkmsServer, person: Person, key_id: str, *tokens: str) -> str:
    """One derive on a fresh connection (so either worker may answer): "ok" or the error code."""
    body: dict[str, Any] = {
        "KeyId": key_id,
        "PublicKey": base64.b64encode(peer_public_key_der()).decode(),
    }
    if tokens:
        body["GrantTokens"] = list(tokens)
    response = raw_call(
        server.endpoint,
        "DeriveSharedSecret",
        body,
        access_key_id=person.access_key_id,
        secret=person.secret,
    )
    return "ok" if response.status == 200 else str(response.json()["__type"])


def all_fresh(server: QkmsServer, person: Person, key_id: str, *tokens: str) -> set[str]:
    return {fresh_derive(server, person, key_id, *tokens) for _ in range(8)}


@pytest.fixture(scope="module")
def grantee(two_workers: QkmsServer) -> Person:
    return make_person(two_workers, ACCOUNT_A, "grantee")  # no identity policy at all


def test_a_grant_allows_derive_and_a_revoke_takes_effect_within_one_second(
    server: QkmsServer, kms: Any, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    key_id = create_key(kms)["KeyId"]
    assert fresh_derive(server, alice, key_id) == "AccessDeniedException"
    grant = kms.create_grant(
        KeyId=key_id, GranteePrincipal=alice.arn, Operations=["DeriveSharedSecret"]
    )
    assert fresh_derive(server, alice, key_id, grant["GrantToken"]) == "ok"
    until(lambda: fresh_derive(server, alice, key_id) == "ok")
    # The grant allows exactly its operations.
    assert error_of(lambda: alice.client.describe_key(KeyId=key_id))[0] == ("AccessDeniedException")

    kms.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
    assert fresh_derive(server, alice, key_id) == "AccessDeniedException"  # same worker: at once
    # A revoked grant's token allows nothing either.
    assert fresh_derive(server, alice, key_id, grant["GrantToken"]) == "AccessDeniedException"


def test_on_two_workers_a_token_works_at_once_and_a_revoke_within_one_second(
    two_workers: QkmsServer, grantee: Person
) -> None:
    admin = kms_client(two_workers.endpoint, ADMIN_ACCESS_KEY_ID, ADMIN_SECRET)
    key_id = create_key(admin)["KeyId"]
    # Both workers have looked the key's grants up (none) and cached that.
    assert all_fresh(two_workers, grantee, key_id) == {"AccessDeniedException"}

    grant = admin.create_grant(
        KeyId=key_id, GranteePrincipal=grantee.arn, Operations=["DeriveSharedSecret"]
    )
    assert all_fresh(two_workers, grantee, key_id, grant["GrantToken"]) == {"ok"}
    until(lambda: all_fresh(two_workers, grantee, key_id) == {"ok"})

    admin.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
    until(lambda: all_fresh(two_workers, grantee, key_id) == {"AccessDeniedException"})
    assert all_fresh(two_workers, grantee, key_id, grant["GrantToken"]) == {"AccessDeniedException"}
