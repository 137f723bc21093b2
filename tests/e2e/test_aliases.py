"""Aliases (DESIGN §4) through boto3: CreateAlias, UpdateAlias, DeleteAlias, ListAliases with AWS's
validation, and alias names / alias ARNs accepted by every KeyId parameter (DESIGN §2).

A response's KeyId is always the key ARN, whatever form of KeyId the request used.
"""

from __future__ import annotations

import base64
import datetime
import functools
import http.client
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.server import (
    QkmsServer,
    RawResponse,
    admin_cli,
    kms_client,
    signed_request,
)
from tests.e2e.support import client_error_message
from tests.peer_keys import public_key_der

pytestmark = pytest.mark.e2e

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
PROPAGATION_SECONDS = 1.0  # DESIGN §7
SLACK_SECONDS = 0.25  # for the request that was already on its way when the bound passed


# --- helpers ------------------------------------------------------------------------------------


def new_key(
    kms: Any, spec: str = "ECC_NIST_P256", usage: str = "KEY_AGREEMENT", **extra: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = kms.create_key(KeySpec=spec, KeyUsage=usage, **extra)["KeyMetadata"]
    return metadata


def new_alias_name(prefix: str = "t") -> str:
    return f"alias/{prefix}-{uuid.uuid4().hex[:12]}"


def seed_alias_arn(alias_name: str, account: str = ACCOUNT) -> str:
    return f"arn:verenc:{account}:{alias_name}"


def aws_alias_arn(alias_name: str, account: str = ACCOUNT, region: str = "us-east-1") -> str:
    return f"arn:verenc:kms:{region}:{account}:{alias_name}"


ALIAS_FORMS: dict[str, Callable[[str], str]] = {
    "alias-name": lambda name: name,
    "seed-alias-arn": seed_alias_arn,
    "aws-alias-arn": aws_alias_arn,
}


class Peer:
    """A caller's EC key pair, and the secret it expects to share with one KMS key."""

    def __init__(self, curve: ec.EllipticCurve | None = None) -> None:
        self.private = ec.generate_private_key(curve or ec.SECP256R1())
        self.spki = public_key_der(self.private.public_key())

    def expected_secret(self, kms: Any, key_id: str) -> bytes:
        kms_public = serialization.load_der_public_key(
            kms.get_public_key(KeyId=key_id)["PublicKey"]
        )
        assert isinstance(kms_public, ec.EllipticCurvePublicKey)
        return self.private.exchange(ec.ECDH(), kms_public)


def derive(kms: Any, key_id: str, peer: Peer) -> dict[str, Any]:
    response: dict[str, Any] = kms.derive_shared_secret(
        KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=peer.spki
    )
    return response


def list_all_aliases(kms: Any, **arguments: Any) -> list[dict[str, Any]]:
    aliases: list[dict[str, Any]] = []
    marker: dict[str, str] = {}
    while True:
        page = kms.list_aliases(**arguments, **marker)
        aliases.extend(page["Aliases"])
        if not page["Truncated"]:
            return aliases
        marker = {"Marker": page["NextMarker"]}


@dataclass(frozen=True)
class OtherAccountUser:
    access_key_id: str
    secret: str
    client: Any


@pytest.fixture(scope="module")
def other_account(server: QkmsServer) -> OtherAccountUser:
    """A user of a second account who may do anything there (and nothing in ours)."""
    admin_cli(server, "create-user", "--account", OTHER_ACCOUNT, "--user", "bob")
    key = admin_cli(server, "create-access-key", "--account", OTHER_ACCOUNT, "--user", "bob")
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
        }
    )
    admin_cli(
        server, "put-user-policy", "--account", OTHER_ACCOUNT, "--user", "bob",
        "--policy-name", "all", "--policy-document", document,
    )  # fmt: skip
    client = kms_client(
        server.endpoint, access_key_id=key["AccessKeyId"], secret=key["SecretAccessKey"]
    )
    # The server learns of the new user within 1 s (DESIGN §7).
    deadline = time.monotonic() + 5
    while True:
        try:
            client.list_aliases(Limit=1)
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return OtherAccountUser(key["AccessKeyId"], key["SecretAccessKey"], client)


@pytest.fixture(scope="module")
def lenient_kms(server: QkmsServer) -> Any:
    """A client without boto3's own parameter checks, so the server's checks are reached."""
    return server.client(parameter_validation=False)


# --- every KeyId parameter accepts an alias ----------------------------------------------------


@pytest.mark.parametrize("form", list(ALIAS_FORMS))
def test_alias_resolves_in_every_key_id_parameter_and_answers_with_the_key_arn(
    kms: Any, form: str
) -> None:
    key = new_key(kms)
    alias_name = new_alias_name(form)
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"])
    ref = ALIAS_FORMS[form](alias_name)
    key_arn = key["Arn"]
    assert key_arn == f"arn:verenc:{ACCOUNT}:key/{key['KeyId']}"

    described = kms.describe_key(KeyId=ref)["KeyMetadata"]
    assert (described["KeyId"], described["Arn"]) == (key["KeyId"], key_arn)

    public = kms.get_public_key(KeyId=ref)
    assert public["KeyId"] == key_arn
    assert public["PublicKey"] == kms.get_public_key(KeyId=key["KeyId"])["PublicKey"]

    peer = Peer()
    derived = derive(kms, ref, peer)
    assert derived["KeyId"] == key_arn
    assert derived["SharedSecret"] == peer.expected_secret(kms, key["KeyId"])

    kms.tag_resource(KeyId=ref, Tags=[{"TagKey": "via", "TagValue": form}])
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == [
        {"TagKey": "via", "TagValue": form}
    ]
    assert kms.list_resource_tags(KeyId=ref)["Tags"] == [{"TagKey": "via", "TagValue": form}]
    kms.untag_resource(KeyId=ref, TagKeys=["via"])
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == []

    grant = kms.create_grant(
        KeyId=ref,
        GranteePrincipal=f"arn:verenc:{ACCOUNT}:root",
        Operations=["DeriveSharedSecret"],
    )
    grants = kms.list_grants(KeyId=ref)["Grants"]
    assert [(g["GrantId"], g["KeyId"]) for g in grants] == [(grant["GrantId"], key_arn)]

    listed = kms.list_aliases(KeyId=ref)["Aliases"]
    assert [(a["AliasName"], a["TargetKeyId"]) for a in listed] == [(alias_name, key["KeyId"])]
    assert listed[0]["AliasArn"] == seed_alias_arn(alias_name)

    kms.disable_key(KeyId=ref)
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    client_error_message(lambda: derive(kms, ref, peer), "DisabledException")
    kms.enable_key(KeyId=ref)
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    assert derive(kms, ref, peer)["KeyId"] == key_arn


def test_derive_via_alias_equals_derive_via_key_id_and_key_arn(kms: Any) -> None:
    key = new_key(kms)
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["Arn"])  # TargetKeyId by ARN
    peer = Peer()
    secrets = {
        ref: derive(kms, ref, peer)["SharedSecret"]
        for ref in (
            key["KeyId"],
            key["Arn"],
            alias_name,
            seed_alias_arn(alias_name),
            aws_alias_arn(alias_name),
        )
    }
    assert set(secrets.values()) == {peer.expected_secret(kms, key["KeyId"])}


@pytest.mark.parametrize(
    "ref",
    [
        pytest.param(lambda name: aws_alias_arn(name, region="eu-west-1"), id="other-region"),
        pytest.param(lambda name: seed_alias_arn(name, account="999999999999"), id="other-acct"),
        pytest.param(lambda name: f"arn:otherpartition:{ACCOUNT}:{name}", id="other-partition"),
        pytest.param(lambda name: name + "-nope", id="unknown-name"),
    ],
)
def test_alias_references_that_name_nothing_are_not_found(
    kms: Any, ref: Callable[[str], str]
) -> None:
    key = new_key(kms)
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"])
    client_error_message(lambda: kms.describe_key(KeyId=ref(alias_name)), "NotFoundException")
    client_error_message(lambda: derive(kms, ref(alias_name), Peer()), "NotFoundException")


def test_alias_with_a_colon_in_its_name_resolves_by_the_alias_arn_listaliases_reports(
    kms: Any,
) -> None:
    # AWS's AliasName pattern ^[a-zA-Z0-9:/_-]+$ allows ':' and '/' after the prefix.
    key = new_key(kms)
    alias_name = f"alias/team:blue/{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"])
    (listed,) = kms.list_aliases(KeyId=key["KeyId"])["Aliases"]
    assert listed["AliasName"] == alias_name
    for ref in (alias_name, aws_alias_arn(alias_name), listed["AliasArn"]):
        assert kms.describe_key(KeyId=ref)["KeyMetadata"]["Arn"] == key["Arn"], ref


# --- CreateAlias ---------------------------------------------------------------------------------


def test_create_alias_twice_is_already_exists(kms: Any) -> None:
    first, second = new_key(kms), new_key(kms)
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=first["KeyId"])
    for target in (first, second):
        message = client_error_message(
            functools.partial(kms.create_alias, AliasName=alias_name, TargetKeyId=target["KeyId"]),
            "AlreadyExistsException",
        )
        assert seed_alias_arn(alias_name) in message
    # The first alias is untouched.
    assert kms.describe_key(KeyId=alias_name)["KeyMetadata"]["KeyId"] == first["KeyId"]


def test_alias_names_up_to_256_characters_with_all_allowed_characters_are_accepted(
    kms: Any,
) -> None:
    key = new_key(kms)
    base = f"alias/Az09:/_-{uuid.uuid4().hex}"
    alias_name = base + "x" * (256 - len(base))
    assert len(alias_name) == 256
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"])
    assert kms.describe_key(KeyId=alias_name)["KeyMetadata"]["KeyId"] == key["KeyId"]


@pytest.mark.parametrize(
    "alias_name",
    [
        pytest.param("no-prefix", id="missing-prefix"),
        pytest.param("Alias/upper-prefix", id="wrong-case-prefix"),
        pytest.param("alias/", id="prefix-alone"),
        pytest.param("alias/has space", id="space"),
        pytest.param("alias/bang!", id="bang"),
        pytest.param("alias/dot.dot", id="dot"),
        pytest.param("alias/ümlaut", id="non-ascii"),
        pytest.param("alias/" + "x" * 251, id="257-chars"),
    ],
)
def test_invalid_alias_names_are_validation_errors(
    lenient_kms: Any, kms: Any, alias_name: str
) -> None:
    key = new_key(kms)
    client_error_message(
        lambda: lenient_kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"]),
        "ValidationException",
    )
    assert kms.list_aliases(KeyId=key["KeyId"])["Aliases"] == []


def test_alias_aws_prefix_is_reserved(kms: Any) -> None:
    key = new_key(kms)
    client_error_message(
        lambda: kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key["KeyId"]),
        "NotAuthorizedException",
    )
    assert kms.list_aliases(KeyId=key["KeyId"])["Aliases"] == []


@pytest.mark.parametrize("form", list(ALIAS_FORMS))
def test_target_key_id_may_not_be_an_alias(kms: Any, form: str) -> None:
    key = new_key(kms)
    existing = new_alias_name()
    kms.create_alias(AliasName=existing, TargetKeyId=key["KeyId"])
    alias_name = new_alias_name()
    client_error_message(
        lambda: kms.create_alias(AliasName=alias_name, TargetKeyId=ALIAS_FORMS[form](existing)),
        "ValidationException",
    )
    client_error_message(
        lambda: kms.update_alias(AliasName=existing, TargetKeyId=ALIAS_FORMS[form](existing)),
        "ValidationException",
    )
    client_error_message(lambda: kms.describe_key(KeyId=alias_name), "NotFoundException")


def test_target_key_pending_deletion_is_invalid_state(kms: Any) -> None:
    key = new_key(kms)
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    client_error_message(
        lambda: kms.create_alias(AliasName=new_alias_name(), TargetKeyId=key["KeyId"]),
        "KMSInvalidStateException",
    )
    live = new_key(kms)
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=live["KeyId"])
    client_error_message(
        lambda: kms.update_alias(AliasName=alias_name, TargetKeyId=key["KeyId"]),
        "KMSInvalidStateException",
    )
    assert kms.describe_key(KeyId=alias_name)["KeyMetadata"]["KeyId"] == live["KeyId"]


def test_alias_of_a_key_pending_deletion_stays_and_derive_through_it_is_invalid_state(
    kms: Any,
) -> None:
    key = new_key(kms)
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=alias_name, PendingWindowInDays=7)
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=key["KeyId"])["Aliases"]] == [alias_name]
    client_error_message(lambda: derive(kms, alias_name, Peer()), "KMSInvalidStateException")
    kms.cancel_key_deletion(KeyId=alias_name)
    assert kms.describe_key(KeyId=alias_name)["KeyMetadata"]["KeyState"] == "Disabled"


def test_create_alias_for_an_unknown_key_is_not_found(kms: Any) -> None:
    client_error_message(
        lambda: kms.create_alias(AliasName=new_alias_name(), TargetKeyId=str(uuid.uuid4())),
        "NotFoundException",
    )


# --- UpdateAlias ---------------------------------------------------------------------------------


def test_update_alias_moves_the_name_to_another_key(kms: Any) -> None:
    first, second = new_key(kms), new_key(kms, spec="ECC_NIST_P256")
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=first["KeyId"])
    peer = Peer()
    before = derive(kms, alias_name, peer)
    assert before["KeyId"] == first["Arn"]
    created = kms.list_aliases(KeyId=first["KeyId"])["Aliases"][0]

    kms.update_alias(AliasName=alias_name, TargetKeyId=second["Arn"])

    after = derive(kms, alias_name, peer)
    assert after["KeyId"] == second["Arn"]
    assert after["SharedSecret"] == peer.expected_secret(kms, second["KeyId"])
    assert after["SharedSecret"] != before["SharedSecret"]
    assert kms.list_aliases(KeyId=first["KeyId"])["Aliases"] == []
    (moved,) = kms.list_aliases(KeyId=second["KeyId"])["Aliases"]
    assert moved["AliasName"] == alias_name
    assert moved["TargetKeyId"] == second["KeyId"]
    assert moved["CreationDate"] == created["CreationDate"]
    assert moved["LastUpdatedDate"] >= created["LastUpdatedDate"]
    # The first key itself is untouched.
    assert derive(kms, first["KeyId"], peer)["SharedSecret"] == before["SharedSecret"]


def test_update_alias_between_key_agreement_keys_of_other_curves_and_spellings(kms: Any) -> None:
    # Same type (asymmetric) and same usage: AWS allows another key spec.
    first = new_key(kms, spec="ECC_NIST_P256", usage="KEY_AGREEMENT")
    second = new_key(kms, spec="ECC_NIST_P384", usage="DERIVE_SHARED_SECRET")
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=first["KeyId"])
    kms.update_alias(AliasName=alias_name, TargetKeyId=second["KeyId"])
    assert derive(kms, alias_name, Peer(ec.SECP384R1()))["KeyId"] == second["Arn"]


@pytest.mark.parametrize(
    ("spec", "usage"),
    [("ECC_NIST_P256", "SIGN_VERIFY"), ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")],
)
def test_update_alias_to_a_key_of_another_type_or_usage_is_refused(
    kms: Any, spec: str, usage: str
) -> None:
    first = new_key(kms)
    other = new_key(kms, spec=spec, usage=usage)
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=first["KeyId"])
    client_error_message(
        lambda: kms.update_alias(AliasName=alias_name, TargetKeyId=other["KeyId"]),
        "ValidationException",
    )
    assert kms.describe_key(KeyId=alias_name)["KeyMetadata"]["KeyId"] == first["KeyId"]


def test_update_or_delete_of_a_missing_alias_is_not_found(kms: Any) -> None:
    key = new_key(kms)
    missing = new_alias_name("missing")
    client_error_message(
        lambda: kms.update_alias(AliasName=missing, TargetKeyId=key["KeyId"]),
        "NotFoundException",
    )
    client_error_message(lambda: kms.delete_alias(AliasName=missing), "NotFoundException")
    # UpdateAlias never creates the alias.
    client_error_message(lambda: kms.describe_key(KeyId=missing), "NotFoundException")


# --- DeleteAlias ---------------------------------------------------------------------------------


def test_delete_alias_removes_the_name_and_leaves_the_key(kms: Any) -> None:
    key = new_key(kms)
    alias_name = new_alias_name()
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"])
    peer = Peer()
    derive(kms, alias_name, peer)  # resolved (and cached) once
    kms.delete_alias(AliasName=alias_name)
    client_error_message(lambda: derive(kms, alias_name, peer), "NotFoundException")
    client_error_message(
        lambda: kms.describe_key(KeyId=seed_alias_arn(alias_name)), "NotFoundException"
    )
    assert kms.list_aliases(KeyId=key["KeyId"])["Aliases"] == []
    assert derive(kms, key["KeyId"], peer)["KeyId"] == key["Arn"]
    client_error_message(lambda: kms.delete_alias(AliasName=alias_name), "NotFoundException")
    # The name is free again, for any key.
    other = new_key(kms)
    kms.create_alias(AliasName=alias_name, TargetKeyId=other["KeyId"])
    assert derive(kms, alias_name, peer)["KeyId"] == other["Arn"]


@pytest.mark.parametrize("operation", ["update", "delete"])
def test_update_and_delete_check_the_alias_name_too(kms: Any, operation: str) -> None:
    key = new_key(kms)
    calls: dict[str, Callable[[str], Any]] = {
        "update": lambda name: kms.update_alias(AliasName=name, TargetKeyId=key["KeyId"]),
        "delete": lambda name: kms.delete_alias(AliasName=name),
    }
    client_error_message(lambda: calls[operation]("no-prefix"), "ValidationException")
    client_error_message(lambda: calls[operation]("alias/aws/ebs"), "NotAuthorizedException")


# --- ListAliases ---------------------------------------------------------------------------------


def test_list_aliases_pages_by_name_with_limit_and_marker(kms: Any) -> None:
    key = new_key(kms)
    stem = f"alias/page-{uuid.uuid4().hex[:8]}"
    names = [f"{stem}-{i}" for i in range(5)]
    for name in reversed(names):
        kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])

    pages = []
    arguments: dict[str, Any] = {"KeyId": key["KeyId"], "Limit": 2}
    while True:
        page = kms.list_aliases(**arguments)
        pages.append(page)
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        assert page["NextMarker"]
        arguments["Marker"] = page["NextMarker"]
        assert len(pages) < 10
    assert [[a["AliasName"] for a in p["Aliases"]] for p in pages] == [
        names[0:2],
        names[2:4],
        names[4:5],
    ]
    assert [p["Truncated"] for p in pages] == [True, True, False]
    for alias in (a for p in pages for a in p["Aliases"]):
        assert alias["TargetKeyId"] == key["KeyId"]
        assert alias["AliasArn"] == seed_alias_arn(alias["AliasName"])
        assert isinstance(alias["CreationDate"], datetime.datetime)
        assert alias["LastUpdatedDate"] >= alias["CreationDate"]

    # Without the filter the account's listing pages the same way and holds all five.
    everything = list_all_aliases(kms, Limit=2)
    listed = [a["AliasName"] for a in everything]
    assert listed == sorted(listed)
    assert [n for n in listed if n.startswith(stem)] == names


def test_list_aliases_key_id_filter(kms: Any) -> None:
    first, second = new_key(kms), new_key(kms)
    first_names = sorted([new_alias_name("f1"), new_alias_name("f2")])
    second_name = new_alias_name("s")
    for name in first_names:
        kms.create_alias(AliasName=name, TargetKeyId=first["KeyId"])
    kms.create_alias(AliasName=second_name, TargetKeyId=second["KeyId"])
    for ref in (first["KeyId"], first["Arn"], first_names[1], aws_alias_arn(first_names[0])):
        listed = kms.list_aliases(KeyId=ref)
        assert [a["AliasName"] for a in listed["Aliases"]] == first_names, ref
        assert listed["Truncated"] is False
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=second["KeyId"])["Aliases"]] == [
        second_name
    ]
    assert kms.list_aliases(KeyId=new_key(kms)["KeyId"])["Aliases"] == []
    client_error_message(lambda: kms.list_aliases(KeyId=str(uuid.uuid4())), "NotFoundException")


@pytest.mark.parametrize(
    "marker", ["not-a-marker", base64.urlsafe_b64encode(b"key/whatever").decode(), "%%%%"]
)
def test_list_aliases_invalid_marker(kms: Any, marker: str) -> None:
    client_error_message(lambda: kms.list_aliases(Marker=marker), "InvalidMarkerException")


@pytest.mark.parametrize("limit", [0, 101])
def test_list_aliases_limit_out_of_range(lenient_kms: Any, limit: int) -> None:
    client_error_message(lambda: lenient_kms.list_aliases(Limit=limit), "ValidationException")


# --- accounts -----------------------------------------------------------------------------------


def test_alias_names_are_per_account(kms: Any, other_account: OtherAccountUser) -> None:
    mine = new_key(kms)
    theirs = new_key(other_account.client)
    assert theirs["Arn"].startswith(f"arn:verenc:{OTHER_ACCOUNT}:key/")
    shared_name = new_alias_name("same")
    only_theirs = new_alias_name("theirs")
    kms.create_alias(AliasName=shared_name, TargetKeyId=mine["KeyId"])
    other_account.client.create_alias(AliasName=shared_name, TargetKeyId=theirs["KeyId"])
    other_account.client.create_alias(AliasName=only_theirs, TargetKeyId=theirs["KeyId"])

    # The same name means each caller's own key.
    peer = Peer()
    assert derive(kms, shared_name, peer)["KeyId"] == mine["Arn"]
    assert derive(other_account.client, shared_name, peer)["KeyId"] == theirs["Arn"]

    # Another account's alias is not resolvable by name ...
    client_error_message(lambda: kms.describe_key(KeyId=only_theirs), "NotFoundException")
    client_error_message(lambda: derive(kms, only_theirs, peer), "NotFoundException")
    # ... and by ARN only where the key policy allows (the default one does not).
    for ref in (
        seed_alias_arn(only_theirs, OTHER_ACCOUNT),
        aws_alias_arn(only_theirs, OTHER_ACCOUNT),
    ):
        client_error_message(functools.partial(derive, kms, ref, peer), "NotFoundException")
    # Nor can one point an alias at another account's key, or list its aliases.
    client_error_message(
        lambda: kms.create_alias(AliasName=new_alias_name(), TargetKeyId=theirs["Arn"]),
        "NotFoundException",
    )
    listed_by_me = {a["AliasName"] for a in list_all_aliases(kms)}
    assert only_theirs not in listed_by_me
    assert all(
        a["AliasArn"].startswith(f"arn:verenc:{OTHER_ACCOUNT}:alias/")
        for a in list_all_aliases(other_account.client)
    )


def test_another_accounts_alias_arn_works_where_the_key_policy_shares_the_key(
    kms: Any, other_account: OtherAccountUser
) -> None:
    shared_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:verenc:{OTHER_ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:verenc:{ACCOUNT}:root"},
                    "Action": ["kms:DeriveSharedSecret", "kms:GetPublicKey"],
                    "Resource": "*",
                },
            ],
        }
    )
    theirs = new_key(other_account.client, Policy=shared_policy)
    alias_name = new_alias_name("shared")
    other_account.client.create_alias(AliasName=alias_name, TargetKeyId=theirs["KeyId"])
    peer = Peer()
    for ref in (
        seed_alias_arn(alias_name, OTHER_ACCOUNT),
        aws_alias_arn(alias_name, OTHER_ACCOUNT),
    ):
        derived = derive(kms, ref, peer)
        assert derived["KeyId"] == theirs["Arn"]
        assert derived["SharedSecret"] == peer.expected_secret(kms, theirs["Arn"])
    # By name it is still nothing in the caller's account.
    client_error_message(lambda: derive(kms, alias_name, peer), "NotFoundException")


# --- two workers -------------------------------------------------------------------------------
#
# A fresh connection may reach either worker, so an answer from "the server" does not prove the
# worker that did not make the change has caught up. Each check below goes through one
# keep-alive connection per worker: a connection is accepted by one process and stays there,
# /healthz on it names that process, and the socket is checked unchanged after every request
# (http.client would silently reconnect, perhaps to the other worker).


class PinnedWorker:
    """Requests on one keep-alive connection, hence to one worker process (`worker` in /healthz)."""

    def __init__(self, server: QkmsServer) -> None:
        self._endpoint = server.endpoint
        self._connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        self._connection.connect()
        self._socket = self._connection.sock
        self.worker_id = self.healthz_worker()

    def _exchange(self, method: str, body: bytes, headers: dict[str, str]) -> RawResponse:
        self._connection.request(method, "/healthz" if method == "GET" else "/", body, headers)
        response = self._connection.getresponse()
        answer = RawResponse(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
        assert self._connection.sock is self._socket, "the connection was closed and reopened"
        return answer

    def healthz_worker(self) -> str:
        response = self._exchange("GET", b"", {})
        assert response.status == 200, response.body
        return str(response.json()["worker"])

    def derive(self, key_ref: str, spki: bytes) -> RawResponse:
        request = signed_request(
            self._endpoint,
            "DeriveSharedSecret",
            {"KeyId": key_ref, "PublicKey": base64.b64encode(spki).decode()},
        )
        assert isinstance(request.body, bytes)
        return self._exchange("POST", request.body, dict(request.headers.items()))

    def derived(self, key_ref: str, spki: bytes) -> tuple[str, bytes]:
        """(KeyId, SharedSecret) of a derive this worker answered."""
        response = self.derive(key_ref, spki)
        assert response.status == 200, response.body
        body = response.json()
        return str(body["KeyId"]), base64.b64decode(body["SharedSecret"])

    def close(self) -> None:
        self._connection.close()


@pytest.fixture
def workers(two_workers: QkmsServer) -> Iterator[list[PinnedWorker]]:
    """One pinned connection to each of the two workers, found within 10 s."""
    found: dict[str, PinnedWorker] = {}
    try:
        for _ in range(200):
            worker = PinnedWorker(two_workers)
            if worker.worker_id in found:
                worker.close()
            else:
                found[worker.worker_id] = worker
            if len(found) == 2:
                break
            time.sleep(0.05)
        assert len(found) == 2, f"only reached workers {sorted(found)}"
        yield list(found.values())
        for worker in found.values():
            assert worker.healthz_worker() == worker.worker_id  # still the same two processes
    finally:
        for worker in found.values():
            worker.close()


def settle_the_feed() -> None:
    """Wait until every worker has applied the alias's creation from the change feed.

    Otherwise a worker could cache the alias and then evict it for the creation itself, and
    serve the update from the store even if the update recorded no change.
    """
    time.sleep(PROPAGATION_SECONDS + SLACK_SECONDS)


def test_update_alias_is_effective_in_every_worker_within_one_second(
    two_workers: QkmsServer, workers: list[PinnedWorker]
) -> None:
    kms = two_workers.client()
    first, second = new_key(kms), new_key(kms)
    alias_name = new_alias_name("workers")
    kms.create_alias(AliasName=alias_name, TargetKeyId=first["KeyId"])
    peer = Peer()
    old = (first["Arn"], peer.expected_secret(kms, first["KeyId"]))
    new = (second["Arn"], peer.expected_secret(kms, second["KeyId"]))
    assert old[1] != new[1]
    settle_the_feed()
    for worker in workers:  # each worker resolves (and caches) the alias to the first key
        assert worker.derived(alias_name, peer.spki) == old

    kms.update_alias(AliasName=alias_name, TargetKeyId=second["KeyId"])
    returned = time.monotonic()
    switched_after: dict[str, float] = {}
    while len(switched_after) < len(workers) and time.monotonic() < returned + 3.0:
        for worker in workers:
            if worker.worker_id in switched_after:
                continue
            started = time.monotonic()
            answer = worker.derived(alias_name, peer.spki)
            assert answer in (old, new)
            if answer == new:
                switched_after[worker.worker_id] = started - returned
    assert set(switched_after) == {w.worker_id for w in workers}, (
        f"worker(s) {sorted({w.worker_id for w in workers} - set(switched_after))} still derive with "
        "the old key 3 s after UpdateAlias returned"
    )
    late = {
        worker: s for worker, s in switched_after.items() if s > PROPAGATION_SECONDS + SLACK_SECONDS
    }
    assert late == {}, f"old key still served this many seconds after UpdateAlias: {late}"
    for worker in workers:  # and no worker goes back to the old key
        for _ in range(10):
            assert worker.derived(alias_name, peer.spki) == new


def test_delete_alias_is_effective_in_every_worker_within_one_second(
    two_workers: QkmsServer, workers: list[PinnedWorker]
) -> None:
    kms = two_workers.client()
    key = new_key(kms)
    alias_name = new_alias_name("workers-del")
    kms.create_alias(AliasName=alias_name, TargetKeyId=key["KeyId"])
    spki = Peer().spki
    settle_the_feed()
    for worker in workers:  # each worker resolves (and caches) the alias
        assert worker.derived(alias_name, spki)[0] == key["Arn"]

    kms.delete_alias(AliasName=alias_name)
    returned = time.monotonic()
    gone_after: dict[str, float] = {}
    while len(gone_after) < len(workers) and time.monotonic() < returned + 3.0:
        for worker in workers:
            if worker.worker_id in gone_after:
                continue
            started = time.monotonic()
            response = worker.derive(alias_name, spki)
            if response.status == 400:
                assert response.json()["__type"] == "NotFoundException"
                gone_after[worker.worker_id] = started - returned
            else:
                assert response.status == 200, response.body
    assert set(gone_after) == {w.worker_id for w in workers}, (
        f"worker(s) {sorted({w.worker_id for w in workers} - set(gone_after))} still resolve the "
        "alias 3 s after DeleteAlias returned"
    )
    late = {
        worker: s for worker, s in gone_after.items() if s > PROPAGATION_SECONDS + SLACK_SECONDS
    }
    assert late == {}, f"alias still resolved this many seconds after DeleteAlias: {late}"
    for worker in workers:
        for _ in range(10):
            assert worker.derive(alias_name, spki).status == 400
