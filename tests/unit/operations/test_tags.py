"""Tag operations (DESIGN §4) against a real store: AWS's tag rules and TagException, paging, key
states, and tags reaching the policy evaluator as aws:ResourceTag/<key>."""

from __future__ import annotations

import json

import pytest

from qkms.domain.errors import (
    AccessDeniedException,
    InvalidMarkerException,
    KMSInvalidStateException,
    NotFoundException,
    TagException,
    ValidationException,
)
from qkms.domain.lifecycle import KeyOperation
from qkms.domain.principals import Caller
from qkms.operations.key_agreement.derive_shared_secret import derive_shared_secret
from qkms.operations.keys.create_key import create_key
from qkms.operations.keys.list_keys import list_keys
from qkms.operations.keys.schedule_key_deletion import schedule_key_deletion
from qkms.operations.runtime.context import OperationContext, Services
from qkms.operations.shapes import (
    CreateKeyRequest,
    DeriveSharedSecretRequest,
    ListKeysRequest,
    ListResourceTagsRequest,
    ScheduleKeyDeletionRequest,
    Tag,
    TagResourceRequest,
    UntagResourceRequest,
)
from qkms.operations.support.access import request_facts
from qkms.operations.support.keys import load_key
from qkms.operations.support.tags import MAX_TAGS, merged_tags
from qkms.operations.tags.list_resource_tags import list_resource_tags
from qkms.operations.tags.tag_resource import tag_resource
from qkms.operations.tags.untag_resource import untag_resource
from qkms.storage import UserPolicyRow
from tests.peer_keys import peer_public_key_der
from tests.unit.support import ACCOUNT, FakeClock


def t(key: str, value: str = "v") -> Tag:
    return Tag(tag_key=key, tag_value=value)


def numbered(count: int, prefix: str = "k") -> list[Tag]:
    return [t(f"{prefix}{i:03d}", f"v{i}") for i in range(count)]


def new_key(ctx: OperationContext, tags: list[Tag] | None = None) -> str:
    request = CreateKeyRequest(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT", tags=tags)
    return create_key(ctx, request).key_metadata.key_id


def tags_of(ctx: OperationContext, key_id: str) -> list[tuple[str, str]]:
    response = list_resource_tags(ctx, ListResourceTagsRequest(key_id=key_id))
    assert response.truncated is False
    return [(e.tag_key, e.tag_value) for e in response.tags]


def key_count(ctx: OperationContext) -> int:
    return len(list_keys(ctx, ListKeysRequest()).keys)


# --- the rules -----------------------------------------------------------------------------------


def test_merged_tags_adds_and_replaces() -> None:
    assert merged_tags({"a": "1", "b": "2"}, [t("b", "3"), t("c", "")]) == {
        "a": "1",
        "b": "3",
        "c": "",
    }


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param([t("aws:x")], id="aws-prefix"),
        pytest.param([t("AWS:x")], id="AWS-prefix"),
        pytest.param([t("aWs:x")], id="mixed-case-prefix"),
        pytest.param([t("team", "a"), t("team", "b")], id="duplicate"),
        pytest.param(numbered(MAX_TAGS + 1), id="51-tags"),
    ],
)
def test_invalid_tags_are_tag_exceptions(tags: list[Tag]) -> None:
    with pytest.raises(TagException):
        merged_tags({}, tags)


def test_the_limit_counts_existing_tags_but_not_replaced_ones() -> None:
    current = {f"old{i}": "v" for i in range(45)}
    with pytest.raises(TagException):
        merged_tags(current, numbered(6))
    assert len(merged_tags(current, numbered(5))) == 50
    full = {f"k{i:03d}": "v" for i in range(50)}
    assert merged_tags(full, [t("k000", "new")])["k000"] == "new"


def test_the_longest_key_and_value_are_fine() -> None:
    assert merged_tags({}, [t("k" * 128, "v" * 256)]) == {"k" * 128: "v" * 256}


# --- operations ----------------------------------------------------------------------------------


def test_create_key_tags_are_listed_sorted(ctx: OperationContext) -> None:
    key_id = new_key(ctx, [t("zeta", "1"), t("Alpha", "2"), t("alpha", "3"), t("mid", "")])
    assert tags_of(ctx, key_id) == [("Alpha", "2"), ("alpha", "3"), ("mid", ""), ("zeta", "1")]


@pytest.mark.parametrize(
    "tags",
    [[t("aws:x")], [t("a"), t("a")], numbered(51)],
    ids=["aws-prefix", "duplicate", "51-tags"],
)
def test_create_key_with_invalid_tags_creates_nothing(
    ctx: OperationContext, tags: list[Tag]
) -> None:
    with pytest.raises(TagException):
        new_key(ctx, tags)
    assert key_count(ctx) == 0


def test_create_key_with_a_too_long_tag_creates_nothing(ctx: OperationContext) -> None:
    with pytest.raises(ValidationException):
        new_key(ctx, [t("k" * 129)])
    assert key_count(ctx) == 0


def test_tag_and_untag(ctx: OperationContext) -> None:
    key_id = new_key(ctx, [t("team", "blue"), t("env", "dev")])
    tag_resource(ctx, TagResourceRequest(key_id=key_id, tags=[t("env", "prod"), t("owner", "x")]))
    assert tags_of(ctx, key_id) == [("env", "prod"), ("owner", "x"), ("team", "blue")]
    untag_resource(ctx, UntagResourceRequest(key_id=key_id, tag_keys=["owner", "absent", "TEAM"]))
    assert tags_of(ctx, key_id) == [("env", "prod"), ("team", "blue")]


@pytest.mark.parametrize(
    "tags",
    [[t("ok"), t("aws:x")], [t("a"), t("a", "b")], numbered(51), [t("k", "v" * 257)]],
    ids=["aws-prefix", "duplicate", "51-tags", "value-257"],
)
def test_a_refused_tag_resource_changes_nothing(ctx: OperationContext, tags: list[Tag]) -> None:
    key_id = new_key(ctx, [t("keep", "1")])
    with pytest.raises((TagException, ValidationException)):
        tag_resource(ctx, TagResourceRequest(key_id=key_id, tags=tags))
    assert tags_of(ctx, key_id) == [("keep", "1")]


def test_list_resource_tags_pages(ctx: OperationContext) -> None:
    key_id = new_key(ctx, numbered(5))
    pages = []
    marker = None
    while True:
        page = list_resource_tags(
            ctx, ListResourceTagsRequest(key_id=key_id, limit=2, marker=marker)
        )
        pages.append(page)
        if not page.truncated:
            assert page.next_marker is None
            break
        marker = page.next_marker
        assert marker is not None
    assert [[e.tag_key for e in p.tags] for p in pages] == [
        ["k000", "k001"],
        ["k002", "k003"],
        ["k004"],
    ]
    exact = list_resource_tags(ctx, ListResourceTagsRequest(key_id=key_id, limit=5))
    assert (len(exact.tags), exact.truncated, exact.next_marker) == (5, False, None)


def test_list_resource_tags_invalid_marker(ctx: OperationContext) -> None:
    key_id = new_key(ctx, numbered(3))
    with pytest.raises(InvalidMarkerException):
        list_resource_tags(ctx, ListResourceTagsRequest(key_id=key_id, marker="nonsense"))


def test_tag_changes_on_a_key_pending_deletion_are_invalid_state(
    ctx: OperationContext, clock: FakeClock
) -> None:
    key_id = new_key(ctx, [t("team", "blue")])
    schedule_key_deletion(ctx, ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7))
    with pytest.raises(KMSInvalidStateException):
        tag_resource(ctx, TagResourceRequest(key_id=key_id, tags=[t("team", "red")]))
    with pytest.raises(KMSInvalidStateException):
        untag_resource(ctx, UntagResourceRequest(key_id=key_id, tag_keys=["team"]))
    assert tags_of(ctx, key_id) == [("team", "blue")]
    clock.advance(7 * 86400.0)
    with pytest.raises(NotFoundException):
        list_resource_tags(ctx, ListResourceTagsRequest(key_id=key_id))


# --- aws:ResourceTag/<key> ----------------------------------------------------------------------

BLUE_ONLY = json.dumps(
    {
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
)


def user_context(services: Services, clock: FakeClock, name: str, policy: str) -> OperationContext:
    services.store.ensure_user(ACCOUNT, name, clock())
    services.store.put_user_policy(UserPolicyRow(ACCOUNT, name, "main", policy), clock())
    caller = Caller(
        account_id=ACCOUNT,
        user_name=name,
        access_key_id="QKMSTESTUSER",
        principal_arn=f"arn:verenc:{ACCOUNT}:user/{name}",
        source_ip="127.0.0.1",
        user_agent="pytest",
        secure_transport=False,
    )
    return OperationContext(services=services, caller=caller, request_id="req-2")


def derive(ctx: OperationContext, key_id: str) -> None:
    spki = peer_public_key_der()
    derive_shared_secret(ctx, DeriveSharedSecretRequest(key_id=key_id, public_key=spki))


def test_tags_are_in_the_policy_context(ctx: OperationContext) -> None:
    key_id = new_key(ctx, [t("team", "blue"), t("Env", "Prod")])
    key = load_key(ctx, key_id, KeyOperation.DESCRIBE_KEY)
    context = request_facts(ctx, "kms:DeriveSharedSecret", key).context
    assert context["aws:resourcetag/team"] == "blue"
    assert context["aws:resourcetag/env"] == "Prod"


def test_resource_tag_condition(
    ctx: OperationContext, services: Services, clock: FakeClock
) -> None:
    user = user_context(services, clock, "bluey", BLUE_ONLY)
    blue = new_key(ctx, [t("team", "blue")])
    red = new_key(ctx, [t("team", "red")])
    untagged = new_key(ctx)
    derive(user, blue)
    for key_id in (red, untagged):
        with pytest.raises(AccessDeniedException):
            derive(user, key_id)

    tag_resource(ctx, TagResourceRequest(key_id=blue, tags=[t("team", "red")]))
    with pytest.raises(AccessDeniedException):
        derive(user, blue)  # at once in the process that made the change
    tag_resource(ctx, TagResourceRequest(key_id=red, tags=[t("team", "blue")]))
    derive(user, red)
    untag_resource(ctx, UntagResourceRequest(key_id=red, tag_keys=["team"]))
    with pytest.raises(AccessDeniedException):
        derive(user, red)
    # Tag values compare case-sensitively under StringEquals.
    tag_resource(ctx, TagResourceRequest(key_id=red, tags=[t("team", "Blue")]))
    with pytest.raises(AccessDeniedException):
        derive(user, red)


# --- AWS's exact wording (LocalStack's AWS-validated KMS tag snapshots) ---------------------------


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        pytest.param(
            [t("ok"), t("k" * 129)],
            f"1 validation error detected: Value '{'k' * 129}' at 'tags.2.member.tagKey' failed "
            "to satisfy constraint: Member must have length less than or equal to 128",
            id="key-129",
        ),
        pytest.param(
            [t("k", "v" * 257)],
            f"1 validation error detected: Value '{'v' * 257}' at 'tags.1.member.tagValue' failed "
            "to satisfy constraint: Member must have length less than or equal to 256",
            id="value-257",
        ),
        pytest.param(
            [t("")],
            "1 validation error detected: Value '' at 'tags.1.member.tagKey' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1",
            id="empty-key",
        ),
    ],
)
def test_tag_lengths_are_validation_errors_in_aws_words(tags: list[Tag], message: str) -> None:
    with pytest.raises(ValidationException) as raised:
        merged_tags({}, tags)
    assert str(raised.value) == message


@pytest.mark.parametrize("tag_key", ["aws:x", "AWS:x", "aWs:"])
def test_the_reserved_prefix_in_any_case_has_aws_words(tag_key: str) -> None:
    with pytest.raises(TagException) as raised:
        merged_tags({}, [t(tag_key)])
    assert str(raised.value) == "Tags beginning with aws: are reserved"
