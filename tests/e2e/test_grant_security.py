"""Grant escalations through boto3 against `qkms serve --workers 2` (AWS "Grants in AWS KMS").

The scenarios are the ones reproduced by hand: user `nopol` (no identity policy) turning a
CreateGrant-only grant into DeriveSharedSecret for itself; a user of 444455556666 retiring an
account-111122223333 grant with its token and the ARN of its own key; a token written from a
grant id alone. Then the two rules a planted bug got past: a grant is for its own key only, and
a grant to an account root needs the user's identity policy too.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

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
    policy,
)

DERIVE = ["DeriveSharedSecret"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QkmsServer]:
    qkms = QkmsServer(tmp_path_factory.mktemp("grant-security") / "data", workers=2).start()
    yield qkms
    qkms.stop()


@pytest.fixture(scope="module")
def people(server: QkmsServer) -> dict[str, Person]:
    return make_people(
        server,
        {
            "nopol": (ACCOUNT_A, None),
            "nobody": (ACCOUNT_A, None),
            "una": (ACCOUNT_A, None),
            "vic": (ACCOUNT_A, policy(allow("kms:DeriveSharedSecret"))),
            "mallory": (ACCOUNT_B, policy(allow("kms:*"))),
        },
    )


def grant_ids(kms: Any, key_id: str) -> list[str]:
    return [g["GrantId"] for g in kms.list_grants(KeyId=key_id)["Grants"]]


def test_nopol_cannot_turn_a_create_grant_grant_into_derive_for_itself(
    kms: Any, people: dict[str, Person]
) -> None:
    nopol = people["nopol"]
    key_id = create_key(kms)["KeyId"]
    parent = kms.create_grant(KeyId=key_id, GranteePrincipal=nopol.arn, Operations=["CreateGrant"])
    escalate = {"KeyId": key_id, "GranteePrincipal": nopol.arn, "Operations": DERIVE}
    for tokens in ([parent["GrantToken"]], []):  # the token, then the stored grant
        code, message = error_of(
            lambda: nopol.client.create_grant(**escalate, GrantTokens=tokens)  # noqa: B023
        )
        assert code == "AccessDeniedException"
        assert "is not authorized to perform: kms:CreateGrant on resource: " in message
    assert grant_ids(kms, key_id) == [parent["GrantId"]]
    assert error_of(lambda: derive(nopol.client, key_id))[0] == "AccessDeniedException"
    # What the parent grant holds it may hand on.
    child = nopol.client.create_grant(
        KeyId=key_id, GranteePrincipal=nopol.arn, Operations=["CreateGrant"]
    )
    assert sorted(grant_ids(kms, key_id)) == sorted([parent["GrantId"], child["GrantId"]])


def test_a_user_of_another_account_cannot_retire_a_grant_with_its_own_key_arn(
    kms: Any, people: dict[str, Person]
) -> None:
    mallory, nobody = people["mallory"], people["nobody"]
    own_arn = create_key(mallory.client)["Arn"]
    key = create_key(kms)
    made = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=nobody.arn, Operations=DERIVE)
    code, message = error_of(
        lambda: mallory.client.retire_grant(GrantToken=made["GrantToken"], KeyId=own_arn)
    )
    assert (code, message) == ("InvalidGrantTokenException", "The grant token is not valid.")
    code, message = error_of(lambda: mallory.client.retire_grant(GrantToken=made["GrantToken"]))
    assert code == "AccessDeniedException"
    assert key["KeyId"] not in message and ACCOUNT_A not in message
    assert grant_ids(kms, key["KeyId"]) == [made["GrantId"]]


def test_a_token_written_from_a_grant_id_is_refused(kms: Any, people: dict[str, Person]) -> None:
    nobody = people["nobody"]
    key_id = create_key(kms)["KeyId"]
    made = kms.create_grant(KeyId=key_id, GranteePrincipal=nobody.arn, Operations=DERIVE)
    forged = base64.urlsafe_b64encode(b"qkms-grant-token-v1:" + made["GrantId"].encode()).decode()
    assert made["GrantToken"] != forged
    assert error_of(lambda: derive(nobody.client, key_id, GrantTokens=[forged]))[0] == (
        "InvalidGrantTokenException"
    )
    assert error_of(lambda: kms.retire_grant(GrantToken=forged))[0] == (
        "InvalidGrantTokenException"
    )
    assert grant_ids(kms, key_id) == [made["GrantId"]]
    assert derive(nobody.client, key_id, GrantTokens=[made["GrantToken"]])["SharedSecret"]


def test_a_grant_on_one_key_gives_nothing_on_another_by_token_or_stored(
    kms: Any, people: dict[str, Person]
) -> None:
    nobody = people["nobody"]
    key_a, key_b = create_key(kms)["KeyId"], create_key(kms)["KeyId"]
    made = kms.create_grant(KeyId=key_a, GranteePrincipal=nobody.arn, Operations=DERIVE)
    assert derive(nobody.client, key_a, GrantTokens=[made["GrantToken"]])["SharedSecret"]
    assert error_of(lambda: derive(nobody.client, key_b, GrantTokens=[made["GrantToken"]]))[0] == (
        "AccessDeniedException"
    )
    assert derive(nobody.client, key_a)["SharedSecret"]  # the stored grant, on its own key
    assert error_of(lambda: derive(nobody.client, key_b))[0] == "AccessDeniedException"


def test_a_grant_to_the_account_root_lets_in_only_users_an_identity_policy_allows(
    kms: Any, people: dict[str, Person]
) -> None:
    una, vic = people["una"], people["vic"]
    admin_only = policy(allow("kms:*", Principal={"AWS": f"arn:verenc:{ACCOUNT_A}:user/admin"}))
    key_id = create_key(kms, Policy=admin_only)["KeyId"]
    assert error_of(lambda: derive(vic.client, key_id))[0] == "AccessDeniedException"
    made = kms.create_grant(
        KeyId=key_id, GranteePrincipal=f"arn:verenc:{ACCOUNT_A}:root", Operations=DERIVE
    )
    token = [made["GrantToken"]]
    assert error_of(lambda: derive(una.client, key_id, GrantTokens=token))[0] == (
        "AccessDeniedException"
    )
    assert derive(vic.client, key_id, GrantTokens=token)["SharedSecret"]
