"""The grant lifecycle through boto3 (DESIGN §5): create, list, use, retire, revoke, tokens, DryRun.

Follows AWS KMS "Grants in AWS KMS" and the CreateGrant / RetireGrant / RevokeGrant / ListGrants /
ListRetirableGrants API pages for shapes and error codes.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.e2e.server import QkmsServer
from tests.e2e.support import (
    ACCOUNT_A,
    Person,
    allow,
    create_key,
    derive,
    error_of,
    make_people,
    policy,
)

DERIVE = ["DeriveSharedSecret"]


@pytest.fixture(scope="module")
def people(server: QkmsServer) -> dict[str, Person]:
    # None of them has an identity policy: whatever they may do, a grant lets them.
    return make_people(
        server,
        {
            "grace": (ACCOUNT_A, None),
            "rita": (ACCOUNT_A, None),
            "ollie": (ACCOUNT_A, None),
            "nobody": (ACCOUNT_A, None),
            "lister": (ACCOUNT_A, policy(allow("kms:ListRetirableGrants"))),
        },
    )


@pytest.fixture
def key_id(kms: Any) -> str:
    """A fresh key per test, so grants of one test never show in another's listing."""
    return str(create_key(kms)["KeyId"])


def grant_ids(kms: Any, key_id: str, **filters: Any) -> list[str]:
    return [g["GrantId"] for g in kms.list_grants(KeyId=key_id, **filters)["Grants"]]


def test_create_list_use_and_retire_a_grant(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grace, rita = people["grace"], people["rita"]
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    created = kms.create_grant(
        KeyId=key_id,
        GranteePrincipal=grace.arn,
        RetiringPrincipal=rita.arn,
        Operations=["GetPublicKey", "DeriveSharedSecret"],
        Name="lifecycle",
    )
    assert len(created["GrantId"]) >= 1 and created["GrantToken"]

    (entry,) = kms.list_grants(KeyId=key_id)["Grants"]
    assert entry["KeyId"] == arn
    assert entry["GrantId"] == created["GrantId"]
    assert entry["Name"] == "lifecycle"
    assert entry["GranteePrincipal"] == grace.arn
    assert entry["RetiringPrincipal"] == rita.arn
    assert entry["IssuingAccount"] == f"arn:verenc:{ACCOUNT_A}:root"
    assert sorted(entry["Operations"]) == ["DeriveSharedSecret", "GetPublicKey"]
    assert before <= entry["CreationDate"] <= before + datetime.timedelta(minutes=1)
    assert grant_ids(kms, key_id, GrantId=created["GrantId"]) == [created["GrantId"]]
    assert grant_ids(kms, key_id, GranteePrincipal=grace.arn) == [created["GrantId"]]
    assert grant_ids(kms, key_id, GranteePrincipal=grace.iam_arn) == [created["GrantId"]]
    assert grant_ids(kms, key_id, GranteePrincipal=rita.arn) == []

    # Usable at once with its token, for exactly its operations.
    token = created["GrantToken"]
    assert derive(grace.client, key_id, GrantTokens=[token])["KeyId"] == arn
    assert grace.client.get_public_key(KeyId=key_id, GrantTokens=[token])["PublicKey"]
    assert error_of(lambda: grace.client.describe_key(KeyId=key_id, GrantTokens=[token]))[0] == (
        "AccessDeniedException"
    )

    rita.client.retire_grant(GrantToken=token)  # the retiring principal, by token
    assert grant_ids(kms, key_id) == []
    assert error_of(lambda: derive(grace.client, key_id))[0] == "AccessDeniedException"


def test_list_grants_pages_with_limit_and_marker(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    made = {
        kms.create_grant(KeyId=key_id, GranteePrincipal=people["grace"].arn, Operations=ops)[
            "GrantId"
        ]
        for ops in (DERIVE, ["GetPublicKey"], ["DescribeKey"])
    }
    first = kms.list_grants(KeyId=key_id, Limit=2)
    assert first["Truncated"] is True and len(first["Grants"]) == 2
    second = kms.list_grants(KeyId=key_id, Limit=2, Marker=first["NextMarker"])
    assert second["Truncated"] is False
    assert {g["GrantId"] for g in first["Grants"] + second["Grants"]} == made
    code, _ = error_of(lambda: kms.list_grants(KeyId=key_id, Marker="bm90LWEtZ3JhbnQ="))
    assert code == "InvalidMarkerException"


def test_create_grant_with_the_same_name_and_parameters_returns_the_same_grant(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grace = people["grace"].arn
    first = kms.create_grant(KeyId=key_id, GranteePrincipal=grace, Operations=DERIVE, Name="n")
    again = kms.create_grant(KeyId=key_id, GranteePrincipal=grace, Operations=DERIVE, Name="n")
    assert again["GrantId"] == first["GrantId"]
    assert grant_ids(kms, key_id) == [first["GrantId"]]
    # Same name, other parameters: a new grant (AWS CreateGrant, "Name").
    other = kms.create_grant(
        KeyId=key_id, GranteePrincipal=grace, Operations=["GetPublicKey"], Name="n"
    )
    assert other["GrantId"] != first["GrantId"]
    assert sorted(grant_ids(kms, key_id)) == sorted([first["GrantId"], other["GrantId"]])
    # No name: every call is a new grant.
    unnamed = {
        kms.create_grant(KeyId=key_id, GranteePrincipal=grace, Operations=DERIVE)["GrantId"]
        for _ in range(2)
    }
    assert len(unnamed) == 2


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"Operations": ["Encrypt"]}, "Encrypt"),
        ({"Operations": ["Sign", "DeriveSharedSecret"]}, "Sign"),
        ({"Operations": ["GenerateMac"]}, "GenerateMac"),
        ({"Operations": ["Dance"]}, "Dance"),
        ({"Operations": ["RevokeGrant"]}, "RevokeGrant"),
        ({"Constraints": {"EncryptionContextSubset": {"purpose": "test"}}}, "onstraints"),
        ({"Constraints": {"EncryptionContextEquals": {"purpose": "test"}}}, "onstraints"),
        ({"GranteePrincipal": "not-an-arn"}, "not-an-arn"),
        ({"GranteePrincipal": f"arn:verenc:{ACCOUNT_A}:user/no-such-user"}, "no-such-user"),
        ({"RetiringPrincipal": "arn:aws:iam::111122223333:user/x"}, "arn:aws"),
    ],
    ids=[
        "encrypt",
        "sign",
        "mac",
        "unknown-op",
        "revoke-op",
        "subset",
        "equals",
        "grantee",
        "no-user",
        "partition",
    ],
)
def test_grants_the_key_cannot_serve_are_refused(
    kms: Any, people: dict[str, Person], key_id: str, extra: dict[str, Any], says: str
) -> None:
    request = {"KeyId": key_id, "GranteePrincipal": people["grace"].arn, "Operations": DERIVE}
    code, message = error_of(lambda: kms.create_grant(**(request | extra)))
    assert code == "ValidationException"
    assert says in message
    assert grant_ids(kms, key_id) == []


def test_unknown_grant_ids_and_malformed_tokens_are_named_as_such(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grace = people["grace"]
    unknown = "0" * 64
    assert error_of(lambda: kms.revoke_grant(KeyId=key_id, GrantId=unknown))[0] == (
        "InvalidGrantIdException"
    )
    assert error_of(lambda: kms.retire_grant(KeyId=key_id, GrantId=unknown))[0] == (
        "InvalidGrantIdException"
    )
    # A real grant id, but of another key.
    other_key = create_key(kms)["KeyId"]
    grant_id = kms.create_grant(KeyId=other_key, GranteePrincipal=grace.arn, Operations=DERIVE)[
        "GrantId"
    ]
    assert error_of(lambda: kms.revoke_grant(KeyId=key_id, GrantId=grant_id))[0] == (
        "InvalidGrantIdException"
    )
    assert error_of(lambda: kms.retire_grant(KeyId=key_id, GrantId=grant_id))[0] == (
        "InvalidGrantIdException"
    )
    for token in ("garbage", "bm90IGEgdG9rZW4="):
        assert error_of(lambda: kms.retire_grant(GrantToken=token))[0] == (  # noqa: B023
            "InvalidGrantTokenException"
        )
        assert error_of(lambda: derive(kms, key_id, GrantTokens=[token]))[0] == (  # noqa: B023
            "InvalidGrantTokenException"
        )


def test_retire_by_retiring_principal_by_key_and_grant_id(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grace, rita = people["grace"], people["rita"]
    grant_id = kms.create_grant(
        KeyId=key_id, GranteePrincipal=grace.arn, RetiringPrincipal=rita.iam_arn, Operations=DERIVE
    )["GrantId"]
    rita.client.retire_grant(KeyId=key_id, GrantId=grant_id)  # either ARN shape matches
    assert grant_ids(kms, key_id) == []


def test_only_someone_entitled_may_retire_a_grant(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grace, ollie, nobody = people["grace"], people["ollie"], people["nobody"]
    plain = kms.create_grant(KeyId=key_id, GranteePrincipal=grace.arn, Operations=DERIVE)
    # The grantee without the RetireGrant operation, and a stranger, may not.
    for person in (grace, nobody):
        code, _ = error_of(lambda: person.client.retire_grant(GrantToken=plain["GrantToken"]))  # noqa: B023
        assert code == "AccessDeniedException", person.name
    assert grant_ids(kms, key_id) == [plain["GrantId"]]
    # A principal the key policy allows kms:RetireGrant (the admin) may.
    kms.retire_grant(KeyId=key_id, GrantId=plain["GrantId"])
    # The grantee of a grant that includes RetireGrant may retire it itself.
    own = kms.create_grant(
        KeyId=key_id, GranteePrincipal=ollie.arn, Operations=["DeriveSharedSecret", "RetireGrant"]
    )
    ollie.client.retire_grant(GrantToken=own["GrantToken"])
    assert grant_ids(kms, key_id) == []


def test_revoke_by_a_user_without_permission_is_denied(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grace, nobody = people["grace"], people["nobody"]
    grant = kms.create_grant(KeyId=key_id, GranteePrincipal=grace.arn, Operations=DERIVE)
    code, _ = error_of(lambda: nobody.client.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"]))
    assert code == "AccessDeniedException"
    code, _ = error_of(lambda: grace.client.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"]))
    assert code == "AccessDeniedException"
    assert derive(grace.client, key_id)["SharedSecret"]
    kms.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
    assert grant_ids(kms, key_id) == []
    assert error_of(lambda: derive(grace.client, key_id))[0] == "AccessDeniedException"
    assert error_of(lambda: derive(grace.client, key_id, GrantTokens=[grant["GrantToken"]]))[0] == (
        "AccessDeniedException"
    )


def test_dry_run_on_grant_operations_changes_nothing(
    kms: Any, people: dict[str, Person], key_id: str
) -> None:
    grace, nobody = people["grace"], people["nobody"]
    create = {"KeyId": key_id, "GranteePrincipal": grace.arn, "Operations": DERIVE}
    assert error_of(lambda: kms.create_grant(**create, DryRun=True))[0] == (
        "DryRunOperationException"
    )
    assert grant_ids(kms, key_id) == []
    # The real error when the call would fail.
    assert error_of(lambda: nobody.client.create_grant(**create, DryRun=True))[0] == (
        "AccessDeniedException"
    )
    bad = create | {"Operations": ["Encrypt"]}
    assert error_of(lambda: kms.create_grant(**bad, DryRun=True))[0] == "ValidationException"

    grant = kms.create_grant(**create)
    gid, token = grant["GrantId"], grant["GrantToken"]
    for call in (
        lambda: kms.retire_grant(GrantToken=token, DryRun=True),
        lambda: kms.retire_grant(KeyId=key_id, GrantId=gid, DryRun=True),
        lambda: kms.revoke_grant(KeyId=key_id, GrantId=gid, DryRun=True),
    ):
        assert error_of(call)[0] == "DryRunOperationException"
    assert grant_ids(kms, key_id) == [gid]
    assert derive(grace.client, key_id)["SharedSecret"]
    assert error_of(lambda: nobody.client.retire_grant(GrantToken=token, DryRun=True))[0] == (
        "AccessDeniedException"
    )
    assert error_of(lambda: kms.revoke_grant(KeyId=key_id, GrantId="0" * 64, DryRun=True))[0] == (
        "InvalidGrantIdException"
    )
    assert error_of(lambda: kms.retire_grant(GrantToken="garbage", DryRun=True))[0] == (
        "InvalidGrantTokenException"
    )


def test_list_retirable_grants_lists_the_grants_a_principal_may_retire(
    kms: Any, people: dict[str, Person]
) -> None:
    grace, ollie, lister, nobody = (
        people["grace"],
        people["ollie"],
        people["lister"],
        people["nobody"],
    )
    key_a, key_b = create_key(kms)["KeyId"], create_key(kms)["KeyId"]
    made = {
        kms.create_grant(
            KeyId=key, GranteePrincipal=grace.arn, RetiringPrincipal=retiring, Operations=DERIVE
        )["GrantId"]
        for key, retiring in ((key_a, ollie.arn), (key_b, ollie.iam_arn))
    }
    kms.create_grant(
        KeyId=key_a, GranteePrincipal=grace.arn, RetiringPrincipal=grace.arn, Operations=DERIVE
    )
    listed = lister.client.list_retirable_grants(RetiringPrincipal=ollie.arn)
    assert {g["GrantId"] for g in listed["Grants"]} == made
    assert {g["RetiringPrincipal"] for g in listed["Grants"]} == {ollie.arn, ollie.iam_arn}
    assert all(g["KeyId"].startswith(f"arn:verenc:{ACCOUNT_A}:key/") for g in listed["Grants"])
    code, _ = error_of(lambda: nobody.client.list_retirable_grants(RetiringPrincipal=ollie.arn))
    assert code == "AccessDeniedException"
