"""Tags (DESIGN §4) through boto3: Tags on CreateKey, TagResource, UntagResource, ListResourceTags
with AWS's limits and TagException, and tags as aws:ResourceTag/<key> in policies (DESIGN §5, §7).
"""

from __future__ import annotations

import base64
import functools
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.server import QkmsServer, admin_cli, kms_client, raw_call
from tests.peer_keys import peer_public_key_der

pytestmark = pytest.mark.e2e

ACCOUNT = "111122223333"
PROPAGATION_SECONDS = 1.0  # DESIGN §7
SLACK_SECONDS = 0.25


def error_of(call: Callable[[], Any], *codes: str) -> str:
    """The message of the ClientError `call` raises; fails unless its code is one of `codes`."""
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    assert response["Error"]["Code"] in codes, response["Error"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(response["Error"]["Message"])


def new_key(kms: Any, **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = kms.create_key(
        KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT", **extra
    )["KeyMetadata"]
    return metadata


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"TagKey": k, "TagValue": v} for k, v in pairs.items()]


def numbered(count: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"TagKey": f"{prefix}{i:03d}", "TagValue": f"v{i}"} for i in range(count)]


def tags_of(kms: Any, key_id: str) -> list[dict[str, str]]:
    collected: list[dict[str, str]] = []
    marker: dict[str, str] = {}
    while True:
        page = kms.list_resource_tags(KeyId=key_id, **marker)
        collected.extend(page["Tags"])
        if not page["Truncated"]:
            return collected
        marker = {"Marker": page["NextMarker"]}


def key_count(kms: Any) -> int:
    count = 0
    marker: dict[str, str] = {}
    while True:
        page = kms.list_keys(**marker)
        count += len(page["Keys"])
        if not page["Truncated"]:
            return count
        marker = {"Marker": page["NextMarker"]}


@pytest.fixture(scope="module")
def lenient_kms(server: QkmsServer) -> Any:
    """A client without boto3's own parameter checks, so the server's checks are reached."""
    return server.client(parameter_validation=False)


# --- CreateKey, TagResource, UntagResource, ListResourceTags -------------------------------------


def test_create_key_tags_are_listed_sorted_by_key(kms: Any) -> None:
    given = tags(zeta="last", Alpha="upper", alpha="lower", mid="", **{"with space": "ok"})
    key = new_key(kms, Tags=given)
    listed = kms.list_resource_tags(KeyId=key["KeyId"])
    assert listed["Tags"] == sorted(given, key=lambda t: t["TagKey"])
    assert listed["Truncated"] is False
    assert "NextMarker" not in listed
    assert kms.list_resource_tags(KeyId=key["Arn"])["Tags"] == listed["Tags"]


def test_a_key_without_tags_lists_none(kms: Any) -> None:
    key = new_key(kms)
    listed = kms.list_resource_tags(KeyId=key["KeyId"])
    assert (listed["Tags"], listed["Truncated"]) == ([], False)
    assert "NextMarker" not in listed


def test_tag_resource_adds_and_replaces(kms: Any) -> None:
    key = new_key(kms, Tags=tags(team="blue", env="dev"))
    kms.tag_resource(KeyId=key["KeyId"], Tags=tags(env="prod", owner="ops"))
    assert tags_of(kms, key["KeyId"]) == tags(env="prod", owner="ops", team="blue")
    kms.tag_resource(KeyId=key["Arn"], Tags=tags(team=""))  # an empty value is a value
    assert tags_of(kms, key["KeyId"]) == tags(env="prod", owner="ops", team="")
    # Keys are case-sensitive: "Team" is another tag.
    kms.tag_resource(KeyId=key["KeyId"], Tags=tags(Team="red"))
    assert tags_of(kms, key["KeyId"]) == tags(Team="red", env="prod", owner="ops", team="")


def test_untag_resource_removes_and_ignores_absent_keys(kms: Any) -> None:
    key = new_key(kms, Tags=tags(a="1", b="2", c="3"))
    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["b", "not-there", "A"])
    assert tags_of(kms, key["KeyId"]) == tags(a="1", c="3")
    kms.untag_resource(KeyId=key["Arn"], TagKeys=["never"])
    assert tags_of(kms, key["KeyId"]) == tags(a="1", c="3")
    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["a", "c"])
    assert tags_of(kms, key["KeyId"]) == []


def test_fifty_tags_is_the_limit_and_replacing_at_the_limit_is_fine(kms: Any) -> None:
    key = new_key(kms, Tags=numbered(50))
    assert len(tags_of(kms, key["KeyId"])) == 50
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "k007", "TagValue": "replaced"}])
    listed = {t["TagKey"]: t["TagValue"] for t in tags_of(kms, key["KeyId"])}
    assert len(listed) == 50
    assert listed["k007"] == "replaced"


def test_51_tags_in_create_key_is_a_tag_exception(kms: Any) -> None:
    before = key_count(kms)
    error_of(lambda: new_key(kms, Tags=numbered(51)), "TagException")
    assert key_count(kms) == before


def test_51_tags_in_tag_resource_is_a_tag_exception(kms: Any) -> None:
    key = new_key(kms)
    error_of(lambda: kms.tag_resource(KeyId=key["KeyId"], Tags=numbered(51)), "TagException")
    assert tags_of(kms, key["KeyId"]) == []


def test_tags_adding_up_to_51_is_a_tag_exception_and_changes_nothing(kms: Any) -> None:
    key = new_key(kms, Tags=numbered(45, "old"))
    error_of(lambda: kms.tag_resource(KeyId=key["KeyId"], Tags=numbered(6, "new")), "TagException")
    assert tags_of(kms, key["KeyId"]) == numbered(45, "old")
    kms.tag_resource(KeyId=key["KeyId"], Tags=numbered(5, "new"))
    assert len(tags_of(kms, key["KeyId"])) == 50


@pytest.mark.parametrize("tag_key", ["aws:team", "AWS:team", "Aws:x", "aws:"])
def test_reserved_aws_prefix_is_a_tag_exception(kms: Any, tag_key: str) -> None:
    before = key_count(kms)
    error_of(lambda: new_key(kms, Tags=tags(**{tag_key: "x"})), "TagException")
    assert key_count(kms) == before
    key = new_key(kms)
    error_of(
        lambda: kms.tag_resource(KeyId=key["KeyId"], Tags=tags(ok="1", **{tag_key: "x"})),
        "TagException",
    )
    assert tags_of(kms, key["KeyId"]) == []


def test_aws_elsewhere_in_a_key_is_fine(kms: Any) -> None:
    key = new_key(kms, Tags=tags(**{"my:aws:thing": "x", "awsome": "1"}))
    assert [t["TagKey"] for t in tags_of(kms, key["KeyId"])] == ["awsome", "my:aws:thing"]


def test_duplicate_tag_keys_in_one_request_are_a_tag_exception(kms: Any) -> None:
    duplicated = [{"TagKey": "team", "TagValue": "blue"}, {"TagKey": "team", "TagValue": "red"}]
    before = key_count(kms)
    error_of(lambda: new_key(kms, Tags=duplicated), "TagException")
    assert key_count(kms) == before
    key = new_key(kms, Tags=tags(team="green"))
    error_of(lambda: kms.tag_resource(KeyId=key["KeyId"], Tags=duplicated), "TagException")
    assert tags_of(kms, key["KeyId"]) == tags(team="green")


def test_tag_key_and_value_length_limits(kms: Any, lenient_kms: Any) -> None:
    key = new_key(kms)
    longest = {"TagKey": "k" * 128, "TagValue": "v" * 256}
    kms.tag_resource(KeyId=key["KeyId"], Tags=[longest])
    assert tags_of(kms, key["KeyId"]) == [longest]
    # AWS's model bounds TagKey to 1..128 and TagValue to 0..256 characters; QKMS answers a
    # longer one with TagException (AWS's tag check) or the model's ValidationException.
    for bad in ({"TagKey": "k" * 129, "TagValue": "v"}, {"TagKey": "k", "TagValue": "v" * 257}):
        error_of(
            functools.partial(lenient_kms.tag_resource, KeyId=key["KeyId"], Tags=[bad]),
            "TagException",
            "ValidationException",
        )
        create = functools.partial(
            lenient_kms.create_key, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT", Tags=[bad]
        )
        error_of(create, "TagException", "ValidationException")
    error_of(
        lambda: lenient_kms.tag_resource(
            KeyId=key["KeyId"], Tags=[{"TagKey": "", "TagValue": "v"}]
        ),
        "TagException",
        "ValidationException",
    )
    assert tags_of(kms, key["KeyId"]) == [longest]


def test_list_resource_tags_pages_with_limit(kms: Any) -> None:
    given = numbered(7)
    key = new_key(kms, Tags=list(reversed(given)))
    pages = []
    arguments: dict[str, Any] = {"KeyId": key["KeyId"], "Limit": 3}
    while True:
        page = kms.list_resource_tags(**arguments)
        pages.append(page)
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        arguments["Marker"] = page["NextMarker"]
        assert len(pages) < 10
    assert [p["Tags"] for p in pages] == [given[0:3], given[3:6], given[6:7]]
    assert [p["Truncated"] for p in pages] == [True, True, False]
    # A limit of exactly the tag count is one untruncated page.
    exact = kms.list_resource_tags(KeyId=key["KeyId"], Limit=7)
    assert (exact["Tags"], exact["Truncated"]) == (given, False)


def test_list_resource_tags_invalid_marker(kms: Any) -> None:
    key = new_key(kms, Tags=tags(a="1"))
    error_of(
        lambda: kms.list_resource_tags(KeyId=key["KeyId"], Marker="bogus-marker"),
        "InvalidMarkerException",
    )


def test_tag_operations_on_an_unknown_key_are_not_found(kms: Any) -> None:
    missing = str(uuid.uuid4())
    error_of(lambda: kms.tag_resource(KeyId=missing, Tags=tags(a="1")), "NotFoundException")
    error_of(lambda: kms.untag_resource(KeyId=missing, TagKeys=["a"]), "NotFoundException")
    error_of(lambda: kms.list_resource_tags(KeyId=missing), "NotFoundException")


def test_tag_changes_on_a_key_pending_deletion_are_invalid_state(kms: Any) -> None:
    key = new_key(kms, Tags=tags(team="blue"))
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    error_of(
        lambda: kms.tag_resource(KeyId=key["KeyId"], Tags=tags(team="red")),
        "KMSInvalidStateException",
    )
    error_of(
        lambda: kms.untag_resource(KeyId=key["KeyId"], TagKeys=["team"]),
        "KMSInvalidStateException",
    )
    # Listing still works, and shows nothing changed.
    assert tags_of(kms, key["KeyId"]) == tags(team="blue")
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    kms.tag_resource(KeyId=key["KeyId"], Tags=tags(team="red"))  # Disabled: allowed again
    assert tags_of(kms, key["KeyId"]) == tags(team="red")


# --- aws:ResourceTag/<key> in policies ------------------------------------------------------------


@pytest.fixture(scope="module")
def blue_only(two_workers: QkmsServer) -> dict[str, str]:
    """Credentials of a user who may derive only with keys tagged team=blue."""
    admin_cli(two_workers, "create-user", "--account", ACCOUNT, "--user", "bluey")
    key = admin_cli(two_workers, "create-access-key", "--account", ACCOUNT, "--user", "bluey")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "kms:DeriveSharedSecret",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}},
            }
        ],
    }
    admin_cli(
        two_workers, "put-user-policy", "--account", ACCOUNT, "--user", "bluey",
        "--policy-name", "blue", "--policy-document", json.dumps(document),
    )  # fmt: skip
    return {"access_key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def derive_outcome(server: QkmsServer, credentials: dict[str, str], key_id: str) -> str:
    """One derive as the user, on a fresh connection (any worker may answer): "ok" or the code."""
    response = raw_call(
        server.endpoint,
        "DeriveSharedSecret",
        {"KeyId": key_id, "PublicKey": base64.b64encode(peer_public_key_der()).decode()},
        **credentials,
    )
    if response.status == 200:
        return "ok"
    return str(response.json()["__type"])


def settle(server: QkmsServer, credentials: dict[str, str], key_id: str, expected: str) -> None:
    """`expected` on every answer once 1 s has passed; never the old answer after that."""
    changed = time.monotonic()
    late: list[tuple[float, str]] = []
    while (started := time.monotonic()) < changed + PROPAGATION_SECONDS + 0.5:
        outcome = derive_outcome(server, credentials, key_id)
        if outcome != expected and started > changed + PROPAGATION_SECONDS + SLACK_SECONDS:
            late.append((round(started - changed, 3), outcome))
    assert late == [], f"expected {expected} within 1 s, got {late}"
    assert {derive_outcome(server, credentials, key_id) for _ in range(20)} == {expected}


def test_resource_tag_condition_allows_blue_keys_only(
    two_workers: QkmsServer, blue_only: dict[str, str]
) -> None:
    admin = two_workers.client()
    blue = new_key(admin, Tags=tags(team="blue"))
    red = new_key(admin, Tags=tags(team="red"))
    untagged = new_key(admin)
    # The user is new: allow the 1 s for the servers' workers to learn of it.
    settle(two_workers, blue_only, blue["KeyId"], "ok")
    assert {derive_outcome(two_workers, blue_only, red["KeyId"]) for _ in range(10)} == {
        "AccessDeniedException"
    }
    assert {derive_outcome(two_workers, blue_only, untagged["KeyId"]) for _ in range(10)} == {
        "AccessDeniedException"
    }
    # Only DeriveSharedSecret is allowed, even on the blue key.
    user = kms_client(two_workers.endpoint, **blue_only)
    with pytest.raises(ClientError) as info:
        user.describe_key(KeyId=blue["KeyId"])
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"


def test_retagging_a_key_changes_access_within_one_second(
    two_workers: QkmsServer, blue_only: dict[str, str]
) -> None:
    admin = two_workers.client()
    key = new_key(admin, Tags=tags(team="blue"))
    settle(two_workers, blue_only, key["KeyId"], "ok")

    admin.tag_resource(KeyId=key["KeyId"], Tags=tags(team="red"))
    settle(two_workers, blue_only, key["KeyId"], "AccessDeniedException")

    admin.tag_resource(KeyId=key["KeyId"], Tags=tags(team="blue"))
    settle(two_workers, blue_only, key["KeyId"], "ok")

    admin.untag_resource(KeyId=key["KeyId"], TagKeys=["team"])
    settle(two_workers, blue_only, key["KeyId"], "AccessDeniedException")


def test_tag_errors_carry_aws_words(kms: Any, lenient_kms: Any) -> None:
    # The wording LocalStack's AWS-validated KMS snapshots record for these refusals.
    key = new_key(kms)
    message = error_of(
        lambda: kms.tag_resource(KeyId=key["KeyId"], Tags=tags(ok="1", **{"AwS:team": "x"})),
        "TagException",
    )
    assert message == "Tags beginning with aws: are reserved"
    too_long = [{"TagKey": "ok", "TagValue": "v"}, {"TagKey": "k" * 129, "TagValue": "v"}]
    message = error_of(
        functools.partial(lenient_kms.tag_resource, KeyId=key["KeyId"], Tags=too_long),
        "ValidationException",
    )
    assert message == (
        f"1 validation error detected: Value '{'k' * 129}' at 'tags.2.member.tagKey' failed to "
        "satisfy constraint: Member must have length less than or equal to 128"
    )
